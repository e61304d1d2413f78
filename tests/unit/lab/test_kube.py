"""The lab's Kubernetes API emulator, driven by the real kubernetes client (typed and dynamic)."""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.request

import pytest
from kubernetes import client as k8s
from kubernetes import watch as k8s_watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from tests.lab import kube_defaults
from tests.lab.certs import ensure_certs
from tests.lab.kube import KubeEmulator
from tests.lab.kube_ops import ApiError, json_patch, labels_match, parse_label_selector, strategic_merge_patch

TOKEN = "lab-token-123"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return ensure_certs(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture(scope="module")
def server(certs):
    emulator = KubeEmulator(token=TOKEN)
    emulator.start(certs["cert"], certs["key"])
    yield emulator
    emulator.stop()


@pytest.fixture()
def emu(server):
    server.reset()
    return server


def _configuration(emu, certs, token=TOKEN):
    config = k8s.Configuration(host=emu.url, api_key={"authorization": f"Bearer {token}"})
    config.ssl_ca_cert = certs["ca"]
    return config


@pytest.fixture()
def api_client(emu, certs):
    with k8s.ApiClient(_configuration(emu, certs)) as api:
        yield api


@pytest.fixture()
def core(api_client):
    return k8s.CoreV1Api(api_client)


@pytest.fixture()
def dyn(api_client, tmp_path):
    return DynamicClient(api_client, cache_file=str(tmp_path / "discovery.json"))


def _status(exc: ApiException) -> dict:
    return json.loads(exc.body)


def _lab(emu, certs, method, path, body=None):
    context = ssl.create_default_context(cafile=certs["ca"])
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(emu.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=5) as response:
        return json.loads(response.read())


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def _pod(name, labels, *, ready=True, ip="10.244.5.10", ports=None):
    status = {
        "phase": "Running",
        "podIP": ip,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27", "ports": ports or [{"name": "http", "containerPort": 8080}]}]},
        "status": status,
    }


# ------------------------------------------------------------------------------------------
# Authentication, discovery, namespaces


def test_wrong_or_missing_token_is_401(emu, certs):
    with k8s.ApiClient(_configuration(emu, certs, token="wrong")) as api, pytest.raises(ApiException) as caught:
        k8s.CoreV1Api(api).list_namespace()
    assert caught.value.status == 401
    body = _status(caught.value)
    assert body["kind"] == "Status" and body["reason"] == "Unauthorized" and body["message"] == "Unauthorized" and body["code"] == 401
    config = k8s.Configuration(host=emu.url)
    config.ssl_ca_cert = certs["ca"]
    with k8s.ApiClient(config) as api, pytest.raises(ApiException) as caught:
        k8s.VersionApi(api).get_code()
    assert caught.value.status == 401


def test_discovery_and_version(dyn, api_client):
    assert k8s.VersionApi(api_client).get_code().git_version == kube_defaults.KUBERNETES_VERSION
    netpol = dyn.resources.get(api_version="networking.k8s.io/v1", kind="NetworkPolicy")
    assert netpol.namespaced and netpol.name == "networkpolicies"
    core_resources = k8s.CoreV1Api(api_client).get_api_resources()
    assert core_resources.group_version == "v1"
    by_name = {r.name: r for r in core_resources.resources}
    assert by_name["namespaces"].short_names == ["ns"] and by_name["namespaces/status"].short_names == []
    groups = {g.name: g for g in k8s.ApisApi(api_client).get_api_versions().groups}
    assert groups["autoscaling"].preferred_version.version == "v2"
    assert "discovery.k8s.io" in groups


def test_default_namespaces_and_cluster_scoped_namespace_paths(core, dyn):
    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
    listed = dyn.resources.get(api_version="v1", kind="Namespace").get()
    assert listed.kind == "NamespaceList" and listed.apiVersion == "v1" and listed.metadata.resourceVersion
    system = core.read_namespace("kube-system")
    assert system.metadata.labels["kubernetes.io/metadata.name"] == "kube-system"
    created = core.create_namespace({"metadata": {"name": "team-a"}})
    assert created.metadata.labels == {"kubernetes.io/metadata.name": "team-a"}
    assert created.status.phase == "Active" and created.metadata.uid
    assert core.read_namespaced_service_account("default", "team-a").metadata.name == "default"
    with pytest.raises(ApiException) as caught:
        core.delete_namespace("kube-system")
    assert caught.value.status == 403


def test_default_cluster_state(core, api_client):
    nodes = core.list_node().items
    assert [n.metadata.name for n in nodes] == [f"aks-system-41253874-vmss00000{i}" for i in range(3)]
    assert all(n.metadata.labels["kubernetes.io/os"] == "linux" and n.metadata.labels["agentpool"] == "system" for n in nodes)
    assert [a.address for n in nodes for a in n.status.addresses if a.type == "InternalIP"] == ["10.224.0.4", "10.224.0.5", "10.224.0.6"]
    assert all({c.type: c.status for c in n.status.conditions}["NetworkUnavailable"] == "False" for n in nodes)
    dns = core.read_namespaced_service("kube-dns", "kube-system")
    assert dns.spec.cluster_ip == "10.0.0.10" and [(p.name, p.protocol) for p in dns.spec.ports] == [("dns", "UDP"), ("dns-tcp", "TCP")]
    assert core.read_namespaced_service("kubernetes", "default").spec.cluster_ip == "10.0.0.1"
    assert core.read_namespaced_config_map("coredns-custom", "kube-system").data is None
    apps = k8s.AppsV1Api(api_client)
    for name in ("kube-proxy", "azure-cns"):
        ds = apps.read_namespaced_daemon_set(name, "kube-system")
        assert ds.status.number_ready == ds.status.desired_number_scheduled == 3
    dns_pods = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
    assert len(dns_pods) == 2
    for pod in dns_pods:
        assert pod.status.phase == "Running" and pod.status.pod_ip.startswith("10.244.") and pod.spec.node_name
        assert {c.type: c.status for c in pod.status.conditions}["Ready"] == "True"
        assert all(cs.ready for cs in pod.status.container_statuses)
    proxy = core.list_namespaced_pod("kube-system", label_selector="component=kube-proxy").items
    assert sorted(p.status.pod_ip for p in proxy) == ["10.224.0.4", "10.224.0.5", "10.224.0.6"]  # hostNetwork


# ------------------------------------------------------------------------------------------
# Lists: pagination and selectors


def test_pagination_with_continue_tokens(core):
    everything = [(p.metadata.namespace, p.metadata.name) for p in core.list_pod_for_all_namespaces().items]
    assert everything == sorted(everything) and len(everything) >= 10
    pages, token = [], None
    while True:
        page = core.list_pod_for_all_namespaces(limit=2, _continue=token)
        pages.append([(p.metadata.namespace, p.metadata.name) for p in page.items])
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == len(everything) - sum(len(p) for p in pages)
    assert all(len(p) == 2 for p in pages[:-1])
    assert [item for page in pages for item in page] == everything
    with pytest.raises(ApiException) as caught:
        core.list_pod_for_all_namespaces(limit=2, _continue="not-a-token")
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("k8s-app=kube-dns", 2),
        ("k8s-app==kube-dns", 2),
        ("k8s-app in (kube-dns, metrics-server)", 4),
        ("k8s-app notin (kube-dns),k8s-app", 8),
        ("k8s-app!=kube-dns", 11),
        ("component", 3),
        ("!k8s-app", 3),
        ("k8s-app=kube-dns,version=v20", 2),
    ],
)
def test_label_selectors(core, selector, expected):
    assert len(core.list_namespaced_pod("kube-system", label_selector=selector).items) == expected


def test_invalid_selectors_are_400(core):
    for kwargs in ({"label_selector": "a in (b"}, {"label_selector": "bad key=x"}, {"field_selector": "spec.unknown=1"}):
        with pytest.raises(ApiException) as caught:
            core.list_namespaced_pod("kube-system", **kwargs)
        assert caught.value.status == 400 and _status(caught.value)["reason"] == "BadRequest"


def test_field_selectors(core, emu):
    node = kube_defaults.node_name(0)
    on_node = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}").items
    assert on_node and all(p.spec.node_name == node for p in on_node)
    assert core.list_pod_for_all_namespaces(field_selector="status.phase!=Running").items == []
    named = core.list_namespaced_pod("kube-system", field_selector=f"metadata.name={on_node[0].metadata.name}").items
    assert [p.metadata.name for p in named] == [on_node[0].metadata.name]
    assert len(core.list_pod_for_all_namespaces(field_selector="metadata.namespace==default").items) == 0
    emu.load_objects({"kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "kube-system"}, "type": "Warning", "reason": "Unhealthy",
         "involvedObject": {"kind": "Pod", "name": "coredns-x", "namespace": "kube-system"}},
        {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e2", "namespace": "kube-system"}, "type": "Normal", "reason": "Pulled",
         "involvedObject": {"kind": "Pod", "name": "other", "namespace": "kube-system"}},
    ]})
    warnings = core.list_namespaced_event("kube-system", field_selector="type=Warning,involvedObject.name=coredns-x").items
    assert [e.metadata.name for e in warnings] == ["e1"]


# ------------------------------------------------------------------------------------------
# Writes


def test_create_get_replace_delete_with_real_status_codes(core):
    body = {"metadata": {"name": "app-config"}, "data": {"a": "1"}}
    cm, code, _unused = core.create_namespaced_config_map_with_http_info("default", body)
    assert code == 201
    assert cm.metadata.uid and cm.metadata.resource_version and cm.metadata.creation_timestamp and cm.metadata.namespace == "default"
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("default", body)
    assert caught.value.status == 409 and _status(caught.value)["reason"] == "AlreadyExists"
    assert _status(caught.value)["message"] == 'configmaps "app-config" already exists'
    got, code, _unused = core.read_namespaced_config_map_with_http_info("app-config", "default")
    assert code == 200 and got.data == {"a": "1"}
    stale = {"metadata": {"name": "app-config", "resourceVersion": "1"}, "data": {"a": "2"}}
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("app-config", "default", stale)
    assert caught.value.status == 409 and _status(caught.value)["reason"] == "Conflict"
    fresh = {"metadata": {"name": "app-config", "resourceVersion": cm.metadata.resource_version}, "data": {"a": "2"}}
    replaced, code, _unused = core.replace_namespaced_config_map_with_http_info("app-config", "default", fresh)
    assert code == 200 and replaced.data == {"a": "2"}
    assert int(replaced.metadata.resource_version) > int(cm.metadata.resource_version)
    assert replaced.metadata.uid == cm.metadata.uid
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("missing", "default", {"metadata": {"name": "missing"}})
    assert caught.value.status == 404
    _unused, code, _unused = core.delete_namespaced_config_map_with_http_info("app-config", "default")
    assert code == 200
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_config_map("app-config", "default")
    assert caught.value.status == 404 and _status(caught.value)["message"] == 'configmaps "app-config" not found'


def test_create_in_missing_namespace_and_namespace_mismatch(core):
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("nope", {"metadata": {"name": "x"}})
    assert caught.value.status == 404 and _status(caught.value)["message"] == 'namespaces "nope" not found'
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("default", {"metadata": {"name": "x", "namespace": "kube-system"}})
    assert caught.value.status == 400 and "does not match the namespace" in _status(caught.value)["message"]


def test_validation_is_422_with_causes(api_client, core):
    net = k8s.NetworkingV1Api(api_client)
    policy = {"metadata": {"name": "allow-http"}, "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80, "protocol": "HTTP"}]}]}}
    with pytest.raises(ApiException) as caught:
        net.create_namespaced_network_policy("default", policy)
    status = _status(caught.value)
    assert caught.value.status == 422 and status["reason"] == "Invalid"
    assert status["details"]["causes"][0]["field"] == "spec.ingress[0].ports[0].protocol"
    assert status["message"].startswith('NetworkPolicy.networking.k8s.io "allow-http" is invalid: spec.ingress[0].ports[0].protocol: Unsupported value: "HTTP"')
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("default", {"metadata": {"name": "Bad_Name"}})
    assert caught.value.status == 422 and _status(caught.value)["details"]["causes"][0]["field"] == "metadata.name"
    created = net.create_namespaced_network_policy("default", {"metadata": {"name": "deny"}, "spec": {"podSelector": {}}})
    assert created.spec.policy_types == ["Ingress"] and created.metadata.generation == 1


def test_dry_run_does_not_store(core):
    result, code, _unused = core.create_namespaced_config_map_with_http_info("default", {"metadata": {"name": "dry"}}, dry_run="All")
    assert code == 201 and result.metadata.uid
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("dry", "default")
    core.create_namespaced_config_map("default", {"metadata": {"name": "wet"}, "data": {"k": "v"}})
    patched = core.patch_namespaced_config_map("wet", "default", {"data": {"k": "changed"}}, dry_run="All")
    assert patched.data == {"k": "changed"}
    assert core.read_namespaced_config_map("wet", "default").data == {"k": "v"}
    core.delete_namespaced_config_map("wet", "default", dry_run="All")
    assert core.read_namespaced_config_map("wet", "default").data == {"k": "v"}


def test_patch_types(core, api_client, dyn):
    core.create_namespaced_config_map("default", {"metadata": {"name": "cm", "labels": {"a": "1", "b": "2"}}, "data": {"x": "1"}})
    merged = core.patch_namespaced_config_map("cm", "default", {"metadata": {"labels": {"a": None, "c": "3"}}},
                                              _content_type="application/merge-patch+json")
    assert merged.metadata.labels == {"b": "2", "c": "3"}
    patched = core.patch_namespaced_config_map("cm", "default", [{"op": "add", "path": "/data/y", "value": "2"},
                                                                 {"op": "replace", "path": "/data/x", "value": "9"}])
    assert patched.data == {"x": "9", "y": "2"}
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_config_map("cm", "default", [{"op": "test", "path": "/data/x", "value": "nope"}])
    assert caught.value.status == 422

    apps = k8s.AppsV1Api(api_client)
    deployment = {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "web", "image": "nginx:1.26", "ports": [{"containerPort": 80}, {"containerPort": 443}]},
                {"name": "sidecar", "image": "busybox:1.36"},
            ]}},
        },
    }
    apps.create_namespaced_deployment("default", deployment)
    strategic = {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80, "name": "http"}]}]}}}}
    result = apps.patch_namespaced_deployment("web", "default", strategic)  # the client sends a strategic merge patch
    containers = result.spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [("web", "nginx:1.27"), ("sidecar", "busybox:1.36")]
    assert [(p.container_port, p.name) for p in containers[0].ports] == [(80, "http"), (443, None)]
    assert result.metadata.generation == 2
    dyn_deploy = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    replaced = dyn_deploy.patch(name="web", namespace="default", body={"spec": {"template": {"spec": {"containers": [
        {"name": "only", "image": "nginx:1.27"}]}}}}, content_type="application/merge-patch+json")
    assert [c["name"] for c in replaced.spec.template.spec.containers] == ["only"]


def test_forbidden_kind_is_403_like_rbac(core, emu, certs):
    emu.forbid("list", "pods")
    with pytest.raises(ApiException) as caught:
        core.list_pod_for_all_namespaces()
    status = _status(caught.value)
    assert caught.value.status == 403 and status["reason"] == "Forbidden"
    assert status["message"] == 'pods is forbidden: User "lab-user" cannot list resource "pods" in API group "" at the cluster scope'
    assert core.list_namespaced_service("kube-system").items  # other kinds unaffected
    _lab(emu, certs, "POST", "/_lab/forbid", {"verb": "get", "plural": "networkpolicies", "namespace": "team"})
    with pytest.raises(ApiException) as caught:
        k8s.NetworkingV1Api(core.api_client).read_namespaced_network_policy("np", "team")
    assert _status(caught.value)["message"] == (
        'networkpolicies.networking.k8s.io "np" is forbidden: User "lab-user" cannot get resource "networkpolicies" '
        'in API group "networking.k8s.io" in the namespace "team"'
    )


def test_crd_registration_and_dynamic_client(emu, dyn, api_client):
    with pytest.raises(ResourceNotFoundError):
        dyn.resources.get(api_version="cilium.io/v2", kind="CiliumNetworkPolicy")
    emu.register_cilium_crds()
    groups = {g.name for g in k8s.ApisApi(api_client).get_api_versions().groups}
    assert "cilium.io" in groups
    cnp = dyn.resources.get(api_version="cilium.io/v2", kind="CiliumNetworkPolicy")
    body = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "allow-dns"},
            "spec": {"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchName": "example.com"}]}]}}
    created = cnp.create(body=body, namespace="default")
    assert created.metadata.uid and created.metadata.generation == 1
    listed = cnp.get(namespace="default")
    assert listed.kind == "CiliumNetworkPolicyList" and [i.metadata.name for i in listed.items] == ["allow-dns"]
    assert listed.items[0].kind == "CiliumNetworkPolicy"  # custom resources keep kind in list items
    assert emu.get_object("customresourcedefinitions", "ciliumnetworkpolicies.cilium.io", group="apiextensions.k8s.io")
    emu.reset()
    assert emu.get_object("customresourcedefinitions", "ciliumnetworkpolicies.cilium.io", group="apiextensions.k8s.io") is None


def test_unknown_resource_is_real_not_found(emu, certs):
    context = ssl.create_default_context(cafile=certs["ca"])
    request = urllib.request.Request(emu.url + "/apis/example.com/v1/widgets", headers={"Authorization": f"Bearer {TOKEN}"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, context=context, timeout=5)
    body = json.loads(caught.value.read())
    assert caught.value.code == 404 and body["reason"] == "NotFound" and body["message"] == "the server could not find the requested resource"


# ------------------------------------------------------------------------------------------
# Controllers


def test_service_endpoints_follow_pods(core):
    core.create_namespace({"metadata": {"name": "shop"}})
    core.create_namespaced_pod("shop", _pod("web-1", {"app": "web"}, ready=True, ip="10.244.5.10"))
    core.create_namespaced_pod("shop", _pod("web-2", {"app": "web"}, ready=False, ip="10.244.5.11"))
    core.create_namespaced_pod("shop", _pod("db-1", {"app": "db"}, ready=True, ip="10.244.5.12"))
    service = core.create_namespaced_service("shop", {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})
    assert service.spec.cluster_ip.startswith("10.0.") and service.spec.ports[0].protocol == "TCP"
    discovery = k8s.DiscoveryV1Api(core.api_client)
    slices = discovery.list_namespaced_endpoint_slice("shop", label_selector="kubernetes.io/service-name=web").items
    assert len(slices) == 1
    endpoints = {e.target_ref.name: (e.addresses, e.conditions.ready) for e in slices[0].endpoints}
    assert endpoints == {"web-1": (["10.244.5.10"], True), "web-2": (["10.244.5.11"], False)}
    assert [(p.name, p.port, p.protocol) for p in slices[0].ports] == [("http", 8080, "TCP")]
    legacy = core.read_namespaced_endpoints("web", "shop")
    assert [a.ip for a in legacy.subsets[0].addresses] == ["10.244.5.10"]
    assert [a.ip for a in legacy.subsets[0].not_ready_addresses] == ["10.244.5.11"]
    # A pod created without status is scheduled, then becomes Ready and joins the slice.
    fresh = _pod("web-3", {"app": "web"})
    del fresh["status"]
    created = core.create_namespaced_pod("shop", fresh)
    assert created.status.phase == "Pending"
    ready = _wait(lambda: [e for s in discovery.list_namespaced_endpoint_slice("shop").items for e in s.endpoints or []
                           if e.target_ref.name == "web-3" and e.conditions.ready])
    assert ready[0].addresses[0].startswith("10.244.")
    core.delete_namespaced_pod("web-1", "shop")
    names = {e.target_ref.name for s in discovery.list_namespaced_endpoint_slice("shop").items for e in s.endpoints}
    assert names == {"web-2", "web-3"}


def test_rollout_restart_replaces_pods(core, api_client):
    apps = k8s.AppsV1Api(api_client)
    before = {p.metadata.name for p in core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items}
    restarted_at = "2025-01-01T00:00:00Z"
    patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": restarted_at}}}}}
    result = apps.patch_namespaced_deployment("coredns", "kube-system", patch)
    assert result.metadata.generation == 2
    status = apps.read_namespaced_deployment("coredns", "kube-system").status
    assert status.updated_replicas == 2 and status.replicas == 4  # old pods stay until the new ones are ready

    def finished():
        current = apps.read_namespaced_deployment("coredns", "kube-system")
        s = current.status
        done = (s.observed_generation == current.metadata.generation and s.updated_replicas == s.replicas == s.ready_replicas == 2)
        return current if done else None

    started = time.monotonic()
    _wait(finished, timeout=5)
    assert time.monotonic() - started >= 0.3  # readiness takes the kubelet's delay
    pods = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
    assert len(pods) == 2 and not ({p.metadata.name for p in pods} & before)
    assert all(p.metadata.annotations["kubectl.kubernetes.io/restartedAt"] == restarted_at for p in pods)
    assert len({p.metadata.labels["pod-template-hash"] for p in pods}) == 1
    slice_ips = {e.addresses[0] for s in k8s.DiscoveryV1Api(api_client).list_namespaced_endpoint_slice(
        "kube-system", label_selector="kubernetes.io/service-name=kube-dns").items for e in s.endpoints}
    assert slice_ips == {p.status.pod_ip for p in pods}


def test_daemonset_restart_and_replicaset_replacement(core, api_client):
    apps = k8s.AppsV1Api(api_client)
    apps.patch_namespaced_daemon_set("kube-proxy", "kube-system",
                                     {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}})
    victim = core.list_namespaced_pod("kube-system", label_selector="k8s-app=metrics-server").items[0].metadata.name
    core.delete_namespaced_pod(victim, "kube-system")
    _wait(lambda: apps.read_namespaced_daemon_set("kube-proxy", "kube-system").status.updated_number_scheduled == 3
          and apps.read_namespaced_daemon_set("kube-proxy", "kube-system").status.number_ready == 3)
    pods = core.list_namespaced_pod("kube-system", label_selector="k8s-app=metrics-server").items
    assert len(pods) == 2 and victim not in {p.metadata.name for p in pods}


# ------------------------------------------------------------------------------------------
# Lab routes, scenario loading, watch


def test_request_log_and_lab_routes(core, emu, certs):
    core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns")
    core.create_namespaced_config_map("default", {"metadata": {"name": "logged"}})
    log = _lab(emu, certs, "GET", "/_lab/requests")
    assert {"method": "GET", "path": "/api/v1/namespaces/kube-system/pods", "query": {"labelSelector": "k8s-app=kube-dns"}, "body": None,
            "dry_run": False} in log
    post = next(e for e in log if e["method"] == "POST")
    assert post["path"] == "/api/v1/namespaces/default/configmaps" and post["body"]["metadata"]["name"] == "logged" and post["dry_run"] is False
    assert emu.requests == log
    loaded = _lab(emu, certs, "POST", "/_lab/objects", {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-scenario", "namespace": "scenario"}, "data": {"k": "v"}}]})
    assert loaded == {"loaded": 1}
    assert core.read_namespaced_config_map("from-scenario", "scenario").data == {"k": "v"}
    assert _lab(emu, certs, "POST", "/_lab/reset") == {"reset": True}
    assert _lab(emu, certs, "GET", "/_lab/requests") == []
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("logged", "default")


def test_loaded_scenario_is_kept_as_given(core, emu):
    emu.load_objects([
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "broken", "namespace": "prod"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "broken"}}, "template": {"metadata": {"labels": {"app": "broken"}},
                  "spec": {"containers": [{"name": "c", "image": "x"}]}}}, "status": {"replicas": 2, "readyReplicas": 0}},
        _pod("broken-1", {"app": "broken"}, ready=False, ip="10.244.9.9") | {"metadata": {"name": "broken-1", "namespace": "prod",
                                                                                          "labels": {"app": "broken"}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "broken", "namespace": "prod"},
         "spec": {"selector": {"app": "broken"}, "ports": [{"port": 80, "targetPort": 8080}]}},
    ])
    assert [p.metadata.name for p in core.list_namespaced_pod("prod").items] == ["broken-1"]  # no controller pods
    endpoints = core.read_namespaced_endpoints("broken", "prod")
    assert endpoints.subsets[0].addresses is None and endpoints.subsets[0].not_ready_addresses[0].ip == "10.244.9.9"
    with pytest.raises(ValueError, match="register it first"):
        emu.load_objects([{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}])


def test_watch_streams_events(core):
    events = []

    def consume():
        stream = k8s_watch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=2)
        for event in stream:
            events.append((event["type"], event["object"].metadata.name))
            if event["object"].metadata.name == "watched":
                break

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.3)
    core.create_namespaced_config_map("default", {"metadata": {"name": "watched"}})
    thread.join(5)
    assert ("ADDED", "watched") in events


# ------------------------------------------------------------------------------------------
# Pure helpers


def test_label_selector_parsing_and_matching():
    requirements = parse_label_selector("app in (web,api),tier!=db,!legacy,env")
    assert labels_match(requirements, {"app": "web", "tier": "front", "env": "prod"})
    assert not labels_match(requirements, {"app": "web", "env": "prod", "legacy": "yes"})
    assert not labels_match(requirements, {"app": "batch", "env": "prod"})
    with pytest.raises(ApiError) as caught:
        parse_label_selector("app in ()")
    assert caught.value.code == 400


def test_strategic_merge_by_keys_and_json_patch_errors():
    current = {"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Scheduled", "status": "True"}]}}
    patched = strategic_merge_patch(current, {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}, "Pod")
    assert patched["status"]["conditions"] == [{"type": "Ready", "status": "True"}, {"type": "Scheduled", "status": "True"}]
    spec = {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}]}}
    removed = strategic_merge_patch(spec, {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}, "Pod")
    assert removed["spec"]["containers"] == [{"name": "b", "image": "2"}]
    with pytest.raises(ApiError) as caught:
        json_patch({"a": {}}, [{"op": "remove", "path": "/a/missing"}])
    assert caught.value.code == 422


# --------------------------------------------------------------------------- fault injection


def _lab_call(emu, certs, method, path, body=None):
    context = ssl.create_default_context(cafile=certs["ca"])
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(emu.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_fault_answers_status_with_retry_after_then_is_used_up(emu, certs, core):
    status, fault = _lab_call(emu, certs, "POST", "/_lab/faults",
                              {"match": {"method": "GET", "resource": "configmaps", "name": "coredns*"}, "status": 500, "retry_after": 2, "count": 2})
    assert status == 201 and fault["count"] == 2
    for attempt in (1, 2):
        with pytest.raises(ApiException) as err:
            core.read_namespaced_config_map("coredns", "kube-system")
        assert err.value.status == 500 and err.value.headers["Retry-After"] == "2", f"attempt {attempt}"
        assert json.loads(err.value.body)["kind"] == "Status"
    assert core.read_namespaced_config_map("coredns", "kube-system").metadata.name == "coredns"
    assert _lab_call(emu, certs, "GET", "/_lab/faults") == (200, [])
    assert [r.get("fault") for r in emu.requests if r["path"].endswith("/configmaps/coredns")] == [fault["id"], fault["id"], None]


def test_fault_matches_create_by_body_name_and_other_requests_pass(emu, certs, core):
    _lab_call(emu, certs, "POST", "/_lab/faults", {"match": {"method": "POST", "resource": "configmaps", "name": "doomed"}, "status": 500})
    core.create_namespaced_config_map("default", {"metadata": {"name": "fine"}, "data": {}})
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("default", {"metadata": {"name": "doomed"}, "data": {}})
    assert err.value.status == 500
    assert emu.get_object("configmaps", "doomed", "default") is None


def test_fault_bad_spec_is_refused_and_reset_clears(emu, certs):
    assert _lab_call(emu, certs, "POST", "/_lab/faults", {"match": {"verb": "GET"}, "status": 500})[0] == 400
    assert _lab_call(emu, certs, "POST", "/_lab/faults", {"match": {}})[0] == 400
    _lab_call(emu, certs, "POST", "/_lab/faults", {"match": {"resource": "pods"}, "status": 500})
    emu.reset()
    assert _lab_call(emu, certs, "GET", "/_lab/faults") == (200, [])


def test_fault_reset_connection_and_delay(emu, certs, core):
    _lab_call(emu, certs, "POST", "/_lab/faults", {"match": {"resource": "services"}, "reset_connection": True})
    request = urllib.request.Request(emu.url + "/api/v1/namespaces/default/services", headers={"Authorization": f"Bearer {TOKEN}"})
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        urllib.request.urlopen(request, context=ssl.create_default_context(cafile=certs["ca"]))
    _lab_call(emu, certs, "POST", "/_lab/faults", {"match": {"resource": "services"}, "delay": 0.5})
    started = time.monotonic()
    core.list_namespaced_service("default")
    assert time.monotonic() - started >= 0.5

"""What only a real control plane can show (AKSNET_LAB_KUBE=real): the apiserver's own patch, apply, dry-run,
validation and RBAC answers, and the controllers, scheduler and kwok acting on what the modules write
(EndpointSlices, a Deployment rollout, namespace deletion, the probe's debug pod from creation to removal).

The tests talk to the API with the lab's kubeconfig (its server, token and CA) and run the modules through
ansible-playbook; they assume nothing about how the lab is built beyond ``lab.env``."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import threading
import time
import uuid

import pytest
import requests
import yaml

from .conftest import assert_playbook_ok, run_playbook

pytestmark = pytest.mark.skipif(os.environ.get("AKSNET_LAB_KUBE") != "real",
                                reason="needs the real control plane of the lab (AKSNET_LAB_KUBE=real)")

DEBUG_SELECTOR = "app.kubernetes.io/managed-by=aksnet.networking-probe"


class Api:
    """Raw HTTPS calls to the lab's Kubernetes API with the kubeconfig's credentials (or another token)."""

    def __init__(self, lab, token: str | None = None):
        with open(lab.env["K8S_AUTH_KUBECONFIG"], encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
        self.url = config["clusters"][0]["cluster"]["server"].rstrip("/")
        self.token = token or config["users"][0]["user"]["token"]
        self.ca = lab.env["AKSNET_LAB_CA"]

    def call(self, method, path, body=None, content_type="application/json", stream=False, timeout=30, **query):
        data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
        # verify= per call: a REQUESTS_CA_BUNDLE in the environment would override a session-level setting
        return requests.request(method, self.url + path, params=query, data=data, stream=stream, timeout=timeout, verify=self.ca,
                                headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type})

    def ok(self, method, path, body=None, **kwargs):
        response = self.call(method, path, body, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json()

    def wait(self, what, predicate, timeout=60.0):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}"
            time.sleep(0.5)


def in_pod_network(address, node):
    """True when ``address`` is in the node's podCIDR (or the lab's pod CIDR when the node has none, as with Azure CNI)."""
    from tests.lab.kube_defaults import POD_CIDR_PREFIX

    network = node["spec"].get("podCIDR") or POD_CIDR_PREFIX + "0.0/16"
    return ipaddress.ip_address(address) in ipaddress.ip_network(network)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def deployment(name, replicas=1, containers=None):
    containers = containers or [{"name": "app", "image": "mcr.microsoft.com/azurelinux/base/nginx:1.25",
                                 "ports": [{"name": "http", "containerPort": 8080}]}]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers}}}}


@pytest.fixture
def api(fresh_lab):
    return Api(fresh_lab)


def test_patch_types_and_server_side_apply_conflicts(api):
    name = unique("patch")
    path = f"/apis/apps/v1/namespaces/default/deployments/{name}"
    api.ok("POST", "/apis/apps/v1/namespaces/default/deployments",
           deployment(name, containers=[{"name": "a", "image": "nginx"}, {"name": "b", "image": "busybox"}]))

    # strategic merge: containers merge by name, the other container is kept
    smp = api.ok("PATCH", path, {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "busybox:2"}]}}}},
                 content_type="application/strategic-merge-patch+json")
    assert [(c["name"], c["image"]) for c in smp["spec"]["template"]["spec"]["containers"]] == [("a", "nginx"), ("b", "busybox:2")]
    # JSON merge patch: a list is replaced as a whole
    merged = api.ok("PATCH", path, {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "busybox:3"}]}}}},
                    content_type="application/merge-patch+json")
    assert [(c["name"], c["image"]) for c in merged["spec"]["template"]["spec"]["containers"]] == [("b", "busybox:3")]
    # JSON patch: a failing test operation is a 422 and changes nothing
    failed = api.call("PATCH", path, [{"op": "test", "path": "/spec/replicas", "value": 5}, {"op": "replace", "path": "/spec/replicas", "value": 9}],
                      content_type="application/json-patch+json")
    assert failed.status_code == 422 and failed.json()["reason"] == "Invalid"
    assert api.ok("GET", path)["spec"]["replicas"] == 1

    # server-side apply: a second manager setting a field another manager owns gets a 409 naming both
    cm_path = f"/api/v1/namespaces/default/configmaps/{unique('ssa')}"
    name_cm = cm_path.rsplit("/", 1)[1]
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name_cm}, "data": {"k": "one"}}
    apply = "application/apply-patch+yaml"
    created = api.call("PATCH", cm_path, manifest, content_type=apply, fieldManager="alice")
    assert created.status_code == 201
    changed = dict(manifest, data={"k": "two"})
    conflict = api.call("PATCH", cm_path, changed, content_type=apply, fieldManager="bob")
    assert conflict.status_code == 409, conflict.text
    status = conflict.json()
    assert status["reason"] == "Conflict"
    assert status["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "alice"', "field": ".data.k"}]
    assert api.ok("GET", cm_path)["data"] == {"k": "one"}
    # the same value is no conflict: both managers then share the field
    shared = api.ok("PATCH", cm_path, manifest, content_type=apply, fieldManager="carol")
    assert sorted(m["manager"] for m in shared["metadata"]["managedFields"]) == ["alice", "carol"]
    forced = api.ok("PATCH", cm_path, changed, content_type=apply, fieldManager="bob", force="true")
    assert forced["data"] == {"k": "two"}
    assert [m["manager"] for m in forced["metadata"]["managedFields"]] == ["bob"]  # force takes the field from both
    missing = api.call("PATCH", cm_path, changed, content_type=apply)
    assert missing.status_code == 422 and "fieldManager: Required value" in missing.json()["message"]


def test_dry_run_and_field_validation(api):
    name = unique("dry")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "b"}, "bogus": 1}
    collection = "/api/v1/namespaces/default/configmaps"

    dry = api.call("POST", collection, body, dryRun="All")
    assert dry.status_code == 201
    assert dry.headers.get("Warning") == '299 - "unknown field \\"bogus\\""'
    assert dry.json()["metadata"].get("uid")  # defaulted and validated like a real write ...
    assert api.call("GET", f"{collection}/{name}").status_code == 404  # ... and not stored

    strict = api.call("POST", collection, body, dryRun="All", fieldValidation="Strict")
    assert strict.status_code == 400
    assert strict.json()["message"] == 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"'
    ignored = api.call("POST", collection, body, dryRun="All", fieldValidation="Ignore")
    assert ignored.status_code == 201 and "Warning" not in ignored.headers

    bad_dry = api.call("POST", collection, body, dryRun="Some")
    assert bad_dry.status_code == 422
    assert bad_dry.json()["details"]["causes"][0]["field"] == "dryRun"
    bad_validation = api.call("POST", collection, body, fieldValidation="Loose")
    assert bad_validation.status_code == 422
    assert 'supported values: "", "Ignore", "Strict", "Warn"' in bad_validation.json()["message"]

    # a dry-run update of an existing object: validated (422), and a valid one changes nothing
    api.ok("POST", collection, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "b"}})
    invalid = api.call("PATCH", f"{collection}/{name}", {"metadata": {"labels": {"bad label": "x"}}},
                       content_type="application/merge-patch+json", dryRun="All")
    assert invalid.status_code == 422 and invalid.json()["details"]["causes"][0]["field"] == "metadata.labels"
    api.ok("PATCH", f"{collection}/{name}", {"data": {"a": "changed"}}, content_type="application/merge-patch+json", dryRun="All")
    assert api.ok("GET", f"{collection}/{name}")["data"] == {"a": "b"}


def _restricted_token(api, denied_plurals):
    """A ServiceAccount bound to a ClusterRole that may list every diagnostics kind except ``denied_plurals``;
    returns its token (TokenRequest API)."""
    from ansible_collections.aksnet.networking.plugins.module_utils._kube.kinds import DIAGNOSTIC_KINDS

    account = unique("restricted")
    groups = {"": ["secrets"]} if "secrets" not in denied_plurals else {}  # TLS secrets of Ingresses are read too (metadata only)
    for api_version, _kind, plural, *_rest in DIAGNOSTIC_KINDS:
        if plural not in denied_plurals:
            groups.setdefault(api_version.rpartition("/")[0], []).append(plural)
    rules = [{"apiGroups": [group], "resources": plurals, "verbs": ["get", "list", "watch"]} for group, plurals in groups.items()]
    api.ok("POST", "/api/v1/namespaces/default/serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}})
    api.ok("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
           {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": account}, "rules": rules})
    api.ok("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
           {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": account},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": account},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": "default"}]})
    issued = api.ok("POST", f"/api/v1/namespaces/default/serviceaccounts/{account}/token",
                    {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}})
    return account, issued["status"]["token"]


RBAC_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Snapshot with a restricted identity
      aksnet.networking.snapshot:
        dest: "{{ out }}/restricted.json"
        api_key: "{{ restricted_token }}"
      register: snap
    - name: Live diagnosis with the same identity
      aksnet.networking.diagnose:
        api_key: "{{ restricted_token }}"
      register: diag
    - name: Keep the results
      ansible.builtin.copy:
        content: "{{ {'snapshot': snap, 'diagnose': diag} | to_json }}"
        dest: "{{ out }}/results.json"
        mode: "0600"
"""


def test_rbac_403_per_kind_is_recorded_as_skipped(fresh_lab, api, tmp_path):
    account, token = _restricted_token(api, {"pods", "networkpolicies"})
    restricted = Api(fresh_lab, token=token)
    denied = restricted.call("GET", "/api/v1/pods", limit=1)
    assert denied.status_code == 403
    assert denied.json()["message"] == (f'pods is forbidden: User "system:serviceaccount:default:{account}" cannot list resource "pods" '
                                        'in API group "" at the cluster scope')
    assert restricted.call("GET", "/api/v1/services", limit=1).status_code == 200

    playbook = tmp_path / "rbac.yml"
    playbook.write_text(RBAC_PLAYBOOK)
    (tmp_path / "vars.json").write_text(json.dumps({"restricted_token": token, "out": str(tmp_path)}))
    output = assert_playbook_ok(run_playbook(fresh_lab, str(playbook), args=["-e", f"@{tmp_path / 'vars.json'}"]))
    assert token not in output
    results = json.loads((tmp_path / "results.json").read_text())
    diagnosed = results["diagnose"]["diagnostics"]
    for module, skipped in (("snapshot", results["snapshot"]["skipped_kinds"]), ("diagnose", diagnosed["facts"]["skipped_kinds"])):
        assert sorted(k for k in skipped if not k.startswith("Cilium")) == ["NetworkPolicy", "Pod"], (module, skipped)
        assert skipped["Pod"].startswith("forbidden (403): pods is forbidden: User \"system:serviceaccount:default:"), skipped["Pod"]
        assert 'cannot list resource "networkpolicies" in API group "networking.k8s.io"' in skipped["NetworkPolicy"]
    counts = results["snapshot"]["counts"]
    assert "Pod" not in counts and "NetworkPolicy" not in counts
    assert counts["Service"] >= 2 and counts["Node"] >= 1 and counts["Deployment"] >= 1
    from ansible_collections.aksnet.networking.plugins.module_utils._diag.snapshot_io import load_snapshot

    assert token not in (tmp_path / "restricted.json").read_text()
    stored = load_snapshot(str(tmp_path / "restricted.json"))
    assert {o["kind"] for o in stored["objects"]} & {"Pod", "NetworkPolicy"} == set()
    assert stored["info"]["skipped"] == results["snapshot"]["skipped_kinds"]
    # a step that needs pods says it could not look, with the server's refusal; none of them "passed"
    blind = [step for step in diagnosed["steps"] if "Pod: forbidden (403)" in (step.get("reason") or "")]
    assert blind and all(step["status"] == "skipped" for step in blind), diagnosed["steps"]


def test_view_token_of_the_lab_is_refused_nodes(fresh_lab, tmp_path):
    token = fresh_lab.env.get("AKSNET_LAB_VIEW_TOKEN")
    if not token:
        pytest.skip("the lab has no view-only token user (AKSNET_LAB_VIEW_TOKEN)")
    viewer = Api(fresh_lab, token=token)
    assert viewer.call("GET", "/api/v1/nodes", limit=1).status_code == 403  # the built-in view role has no nodes
    assert viewer.call("GET", "/api/v1/pods", limit=1).status_code == 200
    refused = viewer.call("POST", "/api/v1/namespaces/default/configmaps",
                          {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": unique("viewer")}})
    assert refused.status_code == 403
    playbook = tmp_path / "view.yml"
    playbook.write_text(RBAC_PLAYBOOK)
    (tmp_path / "vars.json").write_text(json.dumps({"restricted_token": token, "out": str(tmp_path)}))
    assert_playbook_ok(run_playbook(fresh_lab, str(playbook), args=["-e", f"@{tmp_path / 'vars.json'}"]))
    results = json.loads((tmp_path / "results.json").read_text())
    for skipped in (results["snapshot"]["skipped_kinds"], results["diagnose"]["diagnostics"]["facts"]["skipped_kinds"]):
        assert skipped["Node"].startswith("forbidden (403): nodes is forbidden"), skipped
        assert "Pod" not in skipped and "Service" not in skipped


def _ready_addresses(slices):
    return sorted(ep["addresses"][0] for s in slices for ep in s.get("endpoints") or [] if (ep.get("conditions") or {}).get("ready"))


def test_endpointslices_are_written_by_the_real_controller(api):
    name = unique("web")
    api.ok("POST", "/apis/apps/v1/namespaces/default/deployments", deployment(name, replicas=2))
    api.ok("POST", "/api/v1/namespaces/default/services",
           {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})

    def pods_running():
        pods = api.ok("GET", "/api/v1/namespaces/default/pods", labelSelector=f"app={name}")["items"]
        running = [p for p in pods if p["status"].get("phase") == "Running" and p["status"].get("podIP") and not p["metadata"].get("deletionTimestamp")]
        return running if len(running) == 2 else None

    pods = api.wait("two pods scheduled and run by kwok", pods_running)
    nodes = {n["metadata"]["name"]: n for n in api.ok("GET", "/api/v1/nodes")["items"]}
    for pod in pods:
        node = nodes[pod["spec"]["nodeName"]]  # bound by kube-scheduler to one of the lab's nodes
        assert in_pod_network(pod["status"]["podIP"], node), (pod["status"], node["spec"])

    def slices_ready():
        slices = api.ok("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", labelSelector=f"kubernetes.io/service-name={name}")["items"]
        return slices if _ready_addresses(slices) == sorted(p["status"]["podIP"] for p in pods) else None

    slices = api.wait("EndpointSlices with both pod addresses", slices_ready)
    assert {s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] for s in slices} == {"endpointslice-controller.k8s.io"}
    assert {s["metadata"]["ownerReferences"][0]["kind"] for s in slices} == {"Service"}
    assert [p["port"] for s in slices for p in s["ports"]] == [8080]  # the named targetPort resolved from the pod spec
    targets = sorted(ep["targetRef"]["name"] for s in slices for ep in s["endpoints"])
    assert targets == sorted(p["metadata"]["name"] for p in pods)

    # scaling down removes the address from the slice
    api.ok("PATCH", f"/apis/apps/v1/namespaces/default/deployments/{name}/scale", {"spec": {"replicas": 1}},
           content_type="application/merge-patch+json")
    api.wait("one address left", lambda: len(_ready_addresses(api.ok(
        "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", labelSelector=f"kubernetes.io/service-name={name}")["items"])) == 1)


COREDNS_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: A forward zone (restart and wait for the rollout)
      aksnet.networking.coredns:
        forward_zones: "{{ zones }}"
        wait_timeout: 120
      register: first
    - name: The same again
      aksnet.networking.coredns:
        forward_zones: "{{ zones }}"
      register: second
    - name: Keep the results
      ansible.builtin.copy:
        content: "{{ {'first': first, 'second': second} | to_json }}"
        dest: "{{ out }}/coredns.json"
        mode: "0600"
"""

COREDNS = "/apis/apps/v1/namespaces/kube-system/deployments/coredns"


def _coredns_pods(api):
    pods = api.ok("GET", "/api/v1/namespaces/kube-system/pods", labelSelector="k8s-app=kube-dns")["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def test_coredns_restart_is_a_real_rollout(fresh_lab, api, tmp_path):
    before = api.ok("GET", COREDNS)
    replicas = before["spec"]["replicas"]
    api.wait("CoreDNS ready before the change", lambda: (api.ok("GET", COREDNS)["status"].get("readyReplicas") or 0) == replicas)
    old_pods = {p["metadata"]["name"] for p in _coredns_pods(api)}
    old_revision = int(api.ok("GET", COREDNS)["metadata"]["annotations"]["deployment.kubernetes.io/revision"])

    playbook = tmp_path / "coredns.yml"
    playbook.write_text(COREDNS_PLAYBOOK)
    (tmp_path / "vars.json").write_text(json.dumps({"zones": {f"{unique('corp')}.example.com": ["10.10.0.4"]}, "out": str(tmp_path)}))
    assert_playbook_ok(run_playbook(fresh_lab, str(playbook), args=["-e", f"@{tmp_path / 'vars.json'}"]))
    results = json.loads((tmp_path / "coredns.json").read_text())
    assert results["first"]["changed"] and results["first"]["restarted"]
    assert results["second"]["changed"] is False and results["second"]["restarted"] is False

    after = api.ok("GET", COREDNS)
    assert int(after["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) == old_revision + 1
    assert "kubectl.kubernetes.io/restartedAt" in after["spec"]["template"]["metadata"]["annotations"]
    status = after["status"]
    assert status["observedGeneration"] == after["metadata"]["generation"]
    assert status["updatedReplicas"] == status["readyReplicas"] == replicas  # the module waited for the rollout
    sets = api.ok("GET", "/apis/apps/v1/namespaces/kube-system/replicasets", labelSelector="k8s-app=kube-dns")["items"]
    by_revision = {int(s["metadata"]["annotations"]["deployment.kubernetes.io/revision"]): s for s in sets}
    assert by_revision[old_revision + 1]["status"].get("readyReplicas") == replicas
    assert by_revision[old_revision]["spec"]["replicas"] == 0  # the old ReplicaSet scaled down by the deployment controller

    def only_new_pods():
        pods = _coredns_pods(api)
        return None if old_pods & {p["metadata"]["name"] for p in pods} else pods

    new_pods = api.wait("old CoreDNS pods gone", only_new_pods)
    assert all(p["metadata"]["annotations"].get("kubectl.kubernetes.io/restartedAt") for p in new_pods)
    assert all(p["spec"].get("nodeName") for p in new_pods)


def test_namespace_deletion_is_finished_by_the_namespace_controller(api):
    name = unique("doomed")
    api.ok("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    api.wait("the default ServiceAccount of the new namespace",
             lambda: api.call("GET", f"/api/v1/namespaces/{name}/serviceaccounts/default").status_code == 200)
    api.ok("POST", f"/api/v1/namespaces/{name}/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}})
    api.ok("POST", f"/apis/apps/v1/namespaces/{name}/deployments", deployment("app"))
    api.wait("the app's pod", lambda: api.ok("GET", f"/api/v1/namespaces/{name}/pods")["items"])

    deleted = api.ok("DELETE", f"/api/v1/namespaces/{name}")
    assert deleted["status"]["phase"] == "Terminating" and deleted["metadata"]["deletionTimestamp"]
    assert deleted["spec"]["finalizers"] == ["kubernetes"]
    refused = api.call("POST", f"/api/v1/namespaces/{name}/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}})
    if refused.status_code != 404:  # the controller may already have finished
        assert refused.status_code == 403 and "because it is being terminated" in refused.json()["message"], refused.text
        assert refused.json()["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    api.wait("the namespace gone", lambda: api.call("GET", f"/api/v1/namespaces/{name}").status_code == 404, timeout=90)
    assert api.ok("GET", "/api/v1/pods", fieldSelector=f"metadata.namespace={name}")["items"] == []
    assert api.ok("GET", "/api/v1/configmaps", fieldSelector=f"metadata.namespace={name}")["items"] == []


PROBE_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Probe CoreDNS's Service and a name
      aksnet.networking.probe:
        services: [{namespace: kube-system, name: kube-dns}]
        dns: [kubernetes.default.svc.cluster.local]
        timeout: 2
        wait_timeout: 90
      register: probe
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ probe | to_json }}"
        dest: "{{ out }}/probe.json"
        mode: "0600"
"""


@contextlib.contextmanager
def watching(api, path, **query):
    """Collect watch events of ``path`` in a thread while the block runs: short watches resumed from the last
    resourceVersion (as client-go's reflector does), so the block's end stops the reader within seconds."""
    events, stop = [], threading.Event()
    version = api.ok("GET", path, **query)["metadata"]["resourceVersion"]

    def read():
        rv = version
        while not stop.is_set():
            response = api.call("GET", path, stream=True, timeout=(10, 30), watch="true", timeoutSeconds="2", resourceVersion=rv, **query)
            assert response.status_code == 200, response.text[:300]
            with contextlib.suppress(requests.RequestException, AttributeError, ValueError):
                for line in response.iter_lines():
                    if line:
                        event = json.loads(line)
                        events.append(event)
                        rv = event["object"]["metadata"]["resourceVersion"]
            response.close()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield events
    finally:
        time.sleep(1)
        stop.set()
        reader.join(15)


def test_probe_debug_pod_is_scheduled_run_by_kwok_and_removed(fresh_lab, api, tmp_path):
    playbook = tmp_path / "probe.yml"
    playbook.write_text(PROBE_PLAYBOOK)
    nodes = {n["metadata"]["name"]: n for n in api.ok("GET", "/api/v1/nodes")["items"]}
    with watching(api, "/api/v1/pods", labelSelector=DEBUG_SELECTOR) as events:
        proc = run_playbook(fresh_lab, str(playbook), extra_vars={"out": str(tmp_path)})
    assert_playbook_ok(proc)
    result = json.loads((tmp_path / "probe.json").read_text())
    assert {r["check"] for r in result["results"]} >= {"dns", "service"}, result["results"]
    names = {e["object"]["metadata"]["name"] for e in events}
    assert len(names) == 1, [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    types = [e["type"] for e in events]
    assert types[0] == "ADDED" and types[-1] == "DELETED", types
    assert any(e["object"]["spec"].get("nodeName") in nodes for e in events)  # bound by kube-scheduler
    running = [e["object"] for e in events if e["object"]["status"].get("phase") == "Running" and e["object"]["status"].get("podIP")]
    assert running, "kwok never reported the debug pod Running"
    pod = running[0]
    assert in_pod_network(pod["status"]["podIP"], nodes[pod["spec"]["nodeName"]])
    assert api.ok("GET", "/api/v1/pods", labelSelector=DEBUG_SELECTOR)["items"] == []  # removed, not just terminating

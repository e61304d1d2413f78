"""Pod exec in the lab's Kubernetes emulator, driven by the real kubernetes client's ``stream()``."""

from __future__ import annotations

import json
import time

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from tests.lab.kube_exec import NEVER_READY_IMAGE

TOKEN = "lab-exec-token"
FACTS = {
    "apiVersion": "lab.aksnet.io/v1",
    "kind": "LabDataPlane",
    "metadata": {"name": "facts"},
    "spec": {
        "dns": {"www.example.com": "93.184.216.34"},
        "tcp": {"93.184.216.34:443": {"http_status": 200, "body": "hi"}, "10.244.9.9:8080": "blocked", "10.244.9.10:8080": "refused",
                "10.244.9.11:8080": {"http_status": 503}},
        "listening": {"shop/app": [{"port": 8080, "address": "127.0.0.1", "process": "node"}, {"port": 9090, "address": "0.0.0.0"}]},
    },
}


@pytest.fixture(scope="module")
def server(fast_kube_emulator):
    return fast_kube_emulator


@pytest.fixture()
def core(server):
    server.reset()
    server.load_objects([FACTS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": "shop"},
                                 "spec": {"nodeName": "aks-system-41253874-vmss000000", "containers": [{"name": "app", "image": "shop/app:1"}]},
                                 "status": {"phase": "Running", "podIP": "10.244.0.50",
                                            "containerStatuses": [{"name": "app", "state": {"running": {}}, "ready": True}]}}])
    config = k8s.Configuration(host=server.url, api_key={"authorization": f"Bearer {TOKEN}"})
    config.ssl_ca_cert = server.certs["ca"]
    api = k8s.CoreV1Api(k8s.ApiClient(config))
    api.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "dbg"},
                                          "spec": {"containers": [{"name": "probe", "image": "nicolaka/netshoot"}]}})
    deadline = time.monotonic() + 5
    while api.read_namespaced_pod("dbg", "default").status.phase != "Running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return api


def run(core, argv, pod="dbg", namespace="default"):
    ws = stream(core.connect_get_namespaced_pod_exec, pod, namespace, command=argv, stdout=True, stderr=True, stdin=False, tty=False,
                _preload_content=False)
    ws.run_forever(timeout=5)
    return ws.read_stdout(timeout=0) or "", ws.read_stderr(timeout=0) or "", ws.returncode


def test_preloaded_stream_returns_stdout(core):
    out = stream(core.connect_get_namespaced_pod_exec, "dbg", "default", command=["nslookup", "kube-dns.kube-system.svc.cluster.local"],
                 stdout=True, stderr=True, stdin=False, tty=False)
    assert "Address: 10.0.0.10" in out


def test_dns_answers_from_services_and_declared_names(core):
    out, _err, code = run(core, ["nslookup", "www.example.com"])
    assert code == 0 and "Non-authoritative answer" in out and "Address: 93.184.216.34" in out
    out, _err, code = run(core, ["nslookup", "nope.shop.svc.cluster.local"])
    assert code == 1 and "NXDOMAIN" in out
    out, _err, code = run(core, ["dig", "+short", "www.example.com"])
    assert (out, code) == ("93.184.216.34\n", 0)


def test_dns_server_unreachable(core, server):
    server.load_objects([{"apiVersion": "lab.aksnet.io/v1", "kind": "LabDataPlane", "metadata": {"name": "x"}, "spec": {"dns_server": "timeout"}}])
    out, _err, code = run(core, ["nslookup", "kubernetes.default.svc.cluster.local"])
    assert code == 1 and "connection timed out; no servers could be reached" in out


@pytest.mark.parametrize("ip,code,text", [
    ("10.244.9.9", 28, "Connection timed out after 3001 milliseconds"),
    ("10.244.9.10", 7, "Couldn't connect to server"),
])
def test_curl_failures_like_curl(core, ip, code, text):
    out, err, rc = run(core, ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-m", "3", f"http://{ip}:8080/"])
    assert rc == code and text in err and out == "000"


def test_curl_http_status_and_body(core):
    out, err, rc = run(core, ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-m", "3", "http://10.244.9.11:8080/"])
    assert (out, err, rc) == ("503", "", 0)
    out, _err, rc = run(core, ["curl", "-s", "https://www.example.com/"])
    assert (out, rc) == ("hi", 0)


def test_service_cluster_ip_forwards_to_its_endpoint(core, server):
    server.load_objects([
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "app", "namespace": "shop"},
         "spec": {"clusterIP": "10.0.50.50", "selector": {"app": "x"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "app-1", "namespace": "shop",
                                                                                    "labels": {"kubernetes.io/service-name": "app"}},
         "addressType": "IPv4", "endpoints": [{"addresses": ["10.244.9.10"], "conditions": {"ready": True}}], "ports": [{"name": "http", "port": 8080}]},
    ])
    _out, err, rc = run(core, ["nc", "-z", "-v", "-w", "2", "10.0.50.50", "80"])
    assert rc == 1 and "Connection refused" in err  # the declared behaviour of the endpoint, reached through the ClusterIP


def test_ss_lists_declared_sockets_and_unknown_tool_is_126(core):
    out, _err, rc = run(core, ["ss", "-tlnp"], pod="app", namespace="shop")
    assert rc == 0 and "127.0.0.1:8080" in out and '"node"' in out
    out, _err, rc = run(core, ["telnet", "x"])
    assert rc == 126 and "executable file not found" in out


def test_iptables_save_has_kube_services_rules(core):
    out, _err, rc = run(core, ["chroot", "/host", "iptables-save", "-t", "nat"])
    assert rc == 0 and "-A KUBE-SERVICES -d 10.0.0.10/32 -p udp" in out and out.rstrip().endswith("# Completed on Wed Jan  1 00:00:00 2025")


def test_cilium_endpoint_list_is_json(core, server):
    server.load_objects([{"apiVersion": "lab.aksnet.io/v1", "kind": "LabDataPlane", "metadata": {"name": "c"},
                          "spec": {"cilium": {"endpoints": {"shop/app": {"policy_enabled": "ingress"}}}}}])
    out, _err, rc = run(core, ["cilium", "endpoint", "list", "-o", "json"], pod="app", namespace="shop")  # endpoints of that node
    endpoints = json.loads(out)
    app = [e for e in endpoints if e["status"]["external-identifiers"]["pod-name"] == "shop/app"]
    assert rc == 0 and app[0]["status"]["policy"]["realized"]["policy-enabled"] == "ingress"


def test_exec_into_a_pod_that_is_not_running_fails_like_the_apiserver(core):
    core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stuck"},
                                           "spec": {"containers": [{"name": "c", "image": NEVER_READY_IMAGE}]}})
    time.sleep(0.3)
    pod = core.read_namespaced_pod("stuck", "default")
    assert pod.status.phase == "Pending" and pod.status.container_statuses[0].state.waiting.reason == "ImagePullBackOff"
    with pytest.raises(ApiException) as info:
        run(core, ["true"], pod="stuck")
    assert "400" in str(info.value) and "container not found" in str(info.value)
    with pytest.raises(ApiException) as info:
        run(core, ["true"], pod="absent")
    assert "404" in str(info.value)


def test_exec_is_forbidden_on_demand(core, server):
    server.forbid("create", "pods/exec")
    server.forbid("get", "pods/exec")
    with pytest.raises(ApiException) as info:
        run(core, ["true"])
    assert "403" in str(info.value)

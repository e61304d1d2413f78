"""What the probe tools' answers mean, and the pods the probe creates."""

from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._diag import probe_plan as plan

NSLOOKUP_OK = "Server:\t\t10.0.0.10\nAddress:\t10.0.0.10#53\n\nName:\tweb.shop.svc.cluster.local\nAddress: 10.0.12.7\n"
IPTABLES = """*nat
:KUBE-SERVICES - [0:0]
-A KUBE-SERVICES -d 10.0.12.7/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ABCDEF
COMMIT
"""


def test_debug_pod_is_unprivileged_and_labelled():
    pod = plan.debug_pod("p", "default", "run1", image_pull_secrets=["acr"], node_selector={"agentpool": "user"})
    spec = pod["spec"]
    sec = spec["containers"][0]["securityContext"]
    assert spec["hostNetwork"] is False and sec["capabilities"] == {"drop": ["ALL"]} and sec["allowPrivilegeEscalation"] is False
    assert sec["runAsNonRoot"] is True and sec["runAsUser"] == 65534
    assert pod["metadata"]["labels"][plan.MANAGED_BY_LABEL] == "aksnet.networking-probe" and pod["metadata"]["labels"][plan.RUN_LABEL] == "run1"
    assert spec["imagePullSecrets"] == [{"name": "acr"}] and spec["nodeSelector"] == {"agentpool": "user"} and spec["activeDeadlineSeconds"] > 600
    root = plan.debug_pod("p", "default", "run1", run_as_user=0)["spec"]["containers"][0]["securityContext"]
    assert "runAsNonRoot" not in root and root["capabilities"] == {"drop": ["ALL"]}


def test_node_debug_pod_is_the_only_privileged_one():
    pod = plan.node_debug_pod("n", "default", "run1", "node-a")
    assert pod["spec"]["hostNetwork"] is True and pod["spec"]["nodeName"] == "node-a"
    assert pod["spec"]["containers"][0]["securityContext"] == {"privileged": True}


@pytest.mark.parametrize("stdout,code,ok,word", [
    (NSLOOKUP_OK, 0, True, "10.0.12.7"),
    ("Server:\t\t10.0.0.10\n\n** server can't find x.shop.svc.cluster.local: NXDOMAIN\n", 1, False, "NXDOMAIN"),
    (";; connection timed out; no servers could be reached\n", 1, False, "kube-dns"),
])
def test_interpret_dns(stdout, code, ok, word):
    got, detail, _addresses = plan.interpret_dns("x", stdout, "", code)
    assert got is ok and word in detail


@pytest.mark.parametrize("stdout,stderr,code,ok,word", [
    ("200 0.0042", "", 0, True, "HTTP 200"),
    ("503 0.01", "", 0, True, "HTTP 503"),
    ("000 5.0", "curl: (28) Connection timed out after 5001 milliseconds", 28, False, "timed out"),
    ("000 0.0", "curl: (7) Failed to connect", 7, False, "refused"),
    ("000 0.0", "curl: (6) Could not resolve host: x", 6, False, "resolve"),
])
def test_interpret_http(stdout, stderr, code, ok, word):
    got, detail = plan.interpret_http(stdout, stderr, code)
    assert got is ok and word in detail


def test_interpret_tcp():
    assert plan.interpret_tcp("", "Connection to 10.0.0.1 80 port [tcp/*] succeeded!", 0)[0] is True
    assert "refused" in plan.interpret_tcp("", "nc: connect to 10.0.0.1 port 80 (tcp) failed: Connection refused", 1)[1]


def test_listening_from_ss_and_proc():
    ss = ('State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n'
          'LISTEN 0      511        127.0.0.1:8080      0.0.0.0:*    users:(("node",pid=1,fd=6))\n'
          'LISTEN 0      511             [::]:9090         [::]:*\n')
    sockets = plan.parse_ss(ss)
    assert sockets[0] == {"address": "127.0.0.1", "port": 8080, "process": "node"} and sockets[1]["address"] == "::"
    ok, detail = plan.interpret_listening(sockets, 8080)
    assert ok is False and "loopback" in detail
    assert plan.interpret_listening(sockets, 9090)[0] is True
    assert "nothing listens on port 7000" in plan.interpret_listening(sockets, 7000)[1]
    proc = "  sl  local_address ...\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1\n"
    assert plan.parse_proc_net_tcp(proc) == [{"address": "127.0.0.1", "port": 8080, "process": None}]


def test_missing_tool_detection():
    assert plan.missing_tool('OCI runtime exec failed: exec: "ss": executable file not found in $PATH', "", 126)
    assert not plan.missing_tool("", "", 1)


def test_kube_services_rule_modes():
    found, mode, line = plan.kube_services_rule(IPTABLES, "10.0.12.7", 80)
    assert (found, mode) == (True, "iptables") and line.endswith("KUBE-SVC-ABCDEF")
    assert plan.kube_services_rule(IPTABLES, "10.0.12.7", 443)[0] is False
    assert plan.kube_services_rule("*nat\nCOMMIT\n", "10.0.12.7", 80)[1] == "none"
    assert plan.kube_services_rule(":KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ",
                                   "10.0.12.7", 80)[1] == "ipvs"
    assert plan.ipvs_has("TCP  10.0.12.7:80 rr\n", "10.0.12.7", 80) and not plan.ipvs_has("TCP  10.0.12.7:80 rr\n", "10.0.12.7", 8080)


def test_cilium_parsers():
    healthy, detail = plan.parse_cilium_status("Cilium:   Ok   1.16.6\nController Status:   48/48 healthy\n", 0)
    assert healthy and "Ok" in detail
    assert plan.parse_cilium_status("Cilium:   Failure   1.16.6\n", 1)[0] is False
    endpoints = plan.parse_cilium_endpoints('[{"id": 7, "status": {"external-identifiers": {"pod-name": "shop/web-1"}, '
                                            '"policy": {"realized": {"policy-enabled": "egress"}}}}, {"id": 1, "status": {}}]')
    assert endpoints == [{"namespace": "shop", "pod": "web-1", "ip": None, "id": 7, "identity": None, "policy_enabled": "egress",
                          "ingress": False, "egress": True}]
    assert plan.parse_cilium_endpoints("not json") is None


def test_port_scheme_and_result_shape():
    assert plan.port_scheme({"name": "http", "port": 9000}) == "http"
    assert plan.port_scheme({"port": 443}) == "https" and plan.port_scheme({"port": 5432}) == "tcp"
    assert plan.port_scheme({"port": 80}, "tcp") == "tcp"
    res = plan.result("service", "10.0.12.7", ["curl", "-w", "%{http_code}", "http://x/"], False, "timed out", namespace="shop", name="web", port=80,
                      output="x" * 3000, exit_code=28, duration_ms=12.7)
    assert res["command"] == "curl -w '%{http_code}' http://x/" and len(res["output"]) < 2100 and res["duration_ms"] == 12
    assert {"check", "ok", "namespace", "name", "target", "port", "protocol", "detail"} <= set(res)

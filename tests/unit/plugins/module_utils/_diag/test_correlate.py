"""Probes against the policy analysis, data-plane truth against both."""

from __future__ import annotations

from ansible_collections.aksnet.networking.plugins.module_utils._diag import correlate
from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics
from ansible_collections.aksnet.networking.plugins.module_utils._diag.index import Index
from ansible_collections.aksnet.networking.plugins.module_utils._netpol.evaluate import PolicyEvaluator

SOURCE = {"namespace": "default", "labels": {"app.kubernetes.io/managed-by": "aksnet.networking-probe"}}


def pod(ns, name, labels, ip):
    return {"kind": "Pod", "metadata": {"namespace": ns, "name": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080}]}]}, "status": {"phase": "Running", "podIP": ip}}


DENY_WEB = {"kind": "NetworkPolicy", "metadata": {"namespace": "shop", "name": "deny-web"},
            "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}}
DENY_EGRESS = {"kind": "NetworkPolicy", "metadata": {"namespace": "default", "name": "deny-egress"},
               "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}
PODS = [pod("shop", "web-1", {"app": "web"}, "10.244.1.10"), pod("kube-system", "coredns-1", {"k8s-app": "kube-dns"}, "10.244.0.3")]


def evaluator(*policies):
    return PolicyEvaluator.from_objects(PODS + list(policies))


def probe(check, ok, **kw):
    base = {"check": check, "ok": ok, "namespace": "shop", "name": "web-1", "target": "10.244.1.10", "port": 8080, "protocol": "TCP", "detail": "d"}
    base.update(kw)
    return base


def test_failed_probe_denied_by_policy_names_the_policy():
    results = [probe("pod", False)]
    verdicts = correlate.policy_verdicts(results, evaluator(DENY_WEB), SOURCE)
    verdict = verdicts[correlate.result_key(results[0])]
    assert verdict["allowed"] is False and verdict["agrees"] is True
    findings = run_diagnostics(Index([]), steps=[3], probe_results=results)["findings"]
    correlate.annotate(findings, results, verdicts)
    assert findings[0]["code"] == "connectivity.pod_unreachable" and findings[0]["evidence"]["policy"]["allowed"] is False
    assert "shop/deny-web" in findings[0]["message"]
    assert correlate.mismatch_findings(results, verdicts, SOURCE) == []


def test_failed_probe_the_policy_allows_says_look_elsewhere():
    results = [probe("pod", False)]
    verdicts = correlate.policy_verdicts(results, evaluator(), SOURCE)
    findings = run_diagnostics(Index([]), steps=[3], probe_results=results)["findings"]
    correlate.annotate(findings, results, verdicts)
    assert "not the cause" in findings[0]["message"] and findings[0]["evidence"]["policy"]["agrees"] is False


def test_passing_probe_the_policy_denies_is_not_enforced():
    results = [probe("pod", True), probe("dns", True, namespace=None, name="x", target="x", port=None, protocol="UDP")]
    verdicts = correlate.policy_verdicts(results, evaluator(DENY_WEB, DENY_EGRESS), SOURCE)
    found = correlate.mismatch_findings(results, verdicts, SOURCE)
    assert sorted(f["code"] for f in found) == ["netpol.not_enforced", "netpol.not_enforced"]
    assert found[0]["evidence"]["probe"]["check"] in ("pod", "dns") and found[0]["evidence"]["policy"]["allowed"] is False


def test_inconclusive_probes_are_not_judged():
    assert correlate.policy_verdicts([probe("pod", None)], evaluator(DENY_WEB), SOURCE) == {}


def test_cilium_endpoint_enforcement_disabled_where_the_analysis_isolates():
    ev = evaluator(DENY_WEB)
    endpoints = [{"namespace": "shop", "pod": "web-1", "id": 7, "policy_enabled": "none", "ingress": False, "egress": False},
                 {"namespace": "kube-system", "pod": "coredns-1", "id": 8, "policy_enabled": "none", "ingress": False, "egress": False}]
    found = correlate.cilium_endpoint_findings(ev, endpoints, "node-a", "cilium-abc")
    assert [(f["code"], f["resource"]["name"], f["evidence"]["direction"]) for f in found] == [("cilium.not_enforced", "web-1", "ingress")]
    endpoints[0].update(policy_enabled="ingress", ingress=True)
    assert correlate.cilium_endpoint_findings(ev, endpoints, "node-a", "cilium-abc") == []


def test_kube_proxy_and_cilium_status_findings():
    found = correlate.kube_proxy_findings("node-a", [
        {"namespace": "shop", "name": "web", "cluster_ip": "10.0.12.7", "port": 80, "protocol": "TCP", "found": False, "mode": "iptables"},
        {"namespace": "shop", "name": "api", "cluster_ip": "10.0.12.8", "port": 80, "protocol": "TCP", "found": True, "mode": "iptables"},
        {"namespace": "shop", "name": "db", "cluster_ip": "10.0.12.9", "port": 80, "protocol": "TCP", "found": False, "mode": "none"},
    ])
    assert [(f["code"], f["resource"]["name"]) for f in found] == [("dataplane.kube_proxy_unhealthy", "web")]
    assert correlate.cilium_status_finding("n", "cilium-x", True, "ok", "") is None
    assert correlate.cilium_status_finding("n", "cilium-x", False, "Cilium: Failure", "...")["code"] == "dataplane.cni_unhealthy"


def test_merge_findings_recounts_and_fails_the_step():
    diag = run_diagnostics(Index([]), steps=[3, 7], probe_results=[])
    assert diag["summary"]["steps"]["7"] == "passed"
    extra = correlate.kube_proxy_findings("node-a", [{"namespace": "shop", "name": "web", "cluster_ip": "10.0.12.7", "port": 80, "protocol": "TCP",
                                                      "found": False, "mode": "iptables"}])
    correlate.merge_findings(diag, extra)
    assert diag["summary"]["errors"] == 1 and diag["summary"]["steps"]["7"] == "failed"
    assert [s["status"] for s in diag["steps"] if s["step"] == 7] == ["failed"]

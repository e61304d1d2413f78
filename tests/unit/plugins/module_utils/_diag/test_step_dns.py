# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 5 (DNS): each code fires on its case and stays quiet on the near miss."""

from __future__ import annotations

from diag_fixtures import codes, configmap, diagnose, event, findings_of, healthy_system, pod

from ansible_collections.aksnet.networking.plugins.module_utils._diag import step_dns


def _without_coredns(objs):
    return [o for o in objs if not (o["kind"] == "Pod" and o["metadata"]["name"].startswith("coredns"))]


def test_healthy_dns_has_no_findings():
    assert codes(healthy_system(), 5) == []


def test_coredns_missing_is_an_error():
    objs = [*_without_coredns(healthy_system()), pod("metrics-server-1", "kube-system")]
    [f] = findings_of(objs, 5, "dns.coredns_unavailable")
    assert f["severity"] == "error" and "No CoreDNS pods" in f["message"]


def test_coredns_partly_ready_warning_none_ready_error():
    objs = _without_coredns(healthy_system())
    objs += [pod("coredns-1", "kube-system", {"k8s-app": "kube-dns"}), pod("coredns-2", "kube-system", {"k8s-app": "kube-dns"}, ready=False)]
    [f] = findings_of(objs, 5, "dns.coredns_unavailable")
    assert f["severity"] == "warning" and "1 of 2" in f["message"] and "coredns-2" in f["message"]
    objs = [
        *_without_coredns(healthy_system()),
        pod("coredns-1", "kube-system", {"k8s-app": "kube-dns"}, ready=False),
        event("Pod", "kube-system", "coredns-1", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
    ]
    [f] = findings_of(objs, 5, "dns.coredns_unavailable")
    assert f["severity"] == "error" and f["evidence"]["events"][0]["reason"] == "Unhealthy"


def test_no_kube_system_data_is_noted_not_reported():
    result = diagnose([pod("web-0")], 5)
    assert findings_of([pod("web-0")], 5, "dns.coredns_unavailable") == []
    assert "CoreDNS availability not checked" in result["steps"][4]["reason"]


def test_coredns_errors_from_events_and_logs():
    objs = [*healthy_system(), event("Pod", "kube-system", "coredns-1", "BackOff",
                                     "[FATAL] plugin/loop: Loop (127.0.0.1:55953 -> :53) detected for zone \".\"")]
    [f] = findings_of(objs, 5, "dns.coredns_errors")
    assert f["severity"] == "error" and "loop" in f["message"]
    logs = {"coredns-2": '[ERROR] plugin/errors: 2 example.com. A: read udp 10.244.0.5:4451->168.63.129.16:53: i/o timeout\nnormal line'}
    [f] = findings_of(healthy_system(), 5, "dns.coredns_errors", cluster_facts={"coredns_logs": logs})
    assert f["severity"] == "warning" and f["evidence"]["sources"] == ["logs"] and f["evidence"]["count"] == 1


def test_errors_on_other_pods_or_clean_logs_are_ignored():
    objs = [*healthy_system(), pod("web-0"), event("Pod", "default", "web-0", "Failed", "SERVFAIL something")]
    assert findings_of(objs, 5, "dns.coredns_errors", cluster_facts={"coredns_logs": ["[INFO] plugin/reload: Running configuration"]}) == []


def test_custom_config_invalid_and_valid():
    bad = configmap("coredns-custom", "kube-system", {"bad.conf": "x", "broken.server": "example.com:53 {\n forward . 1.2.3.4\n"})
    [f] = findings_of([*healthy_system(), bad], 5, "dns.custom_config_invalid")
    assert f["severity"] == "error" and len(f["evidence"]["errors"]) >= 2
    good = configmap(
        "coredns-custom", "kube-system", {"example.server": "example.com:53 {\n    forward . 1.2.3.4\n}\n", "log.override": "log\n"}
    )
    assert findings_of([*healthy_system(), good], 5, "dns.custom_config_invalid") == []


def test_fallback_validator_rules():
    errors = step_dns._fallback_validate({
        "a.server": "cluster.local:53 {\n forward . 8.8.8.8\n}",
        "b.txt": "log",
        "c.server": "forward . 1.1.1.1",
    })
    text = "\n".join(errors)
    assert "cluster.local" in text and "'b.txt'" in text and "'c.server'" in text
    assert step_dns._fallback_validate({"ok.server": "corp.example:53 {\n  forward . 10.0.0.4\n}"}) == []


def test_pod_resolver_unexpected_grouped_per_owner():
    objs = [*healthy_system()]
    objs += [pod(f"legacy-{i}", labels={"app": "legacy"}, owner=("ReplicaSet", "legacy-6d"), dns_policy="Default") for i in range(3)]
    objs.append(pod("custom", dns_policy="None", dns_config={"nameservers": ["8.8.8.8"]}))
    objs.append(pod("extra", dns_config={"nameservers": ["10.1.0.4"]}))
    found = {f["resource"]["name"]: f for f in findings_of(objs, 5, "dns.pod_resolver_unexpected")}
    assert found["legacy-6d"]["severity"] == "warning" and found["legacy-6d"]["evidence"]["pod_count"] == 3
    assert found["legacy-6d"]["resource"]["kind"] == "ReplicaSet"
    assert "10.0.0.10" in found["custom"]["message"]
    assert found["extra"]["severity"] == "info"


def test_pod_resolver_near_misses():
    objs = [*healthy_system(),
            pod("ok", dns_policy="ClusterFirst"),
            pod("pinned", dns_policy="None", dns_config={"nameservers": ["10.0.0.10"], "searches": ["default.svc.cluster.local"]}),
            pod("node-agent", dns_policy="Default", host_network=True)]
    assert findings_of(objs, 5, "dns.pod_resolver_unexpected") == []
    # kube-system's own Default-policy pods (CoreDNS itself) are never reported
    assert all(f["resource"]["namespace"] != "kube-system" for f in findings_of(objs, 5, "dns.pod_resolver_unexpected"))

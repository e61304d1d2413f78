# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnostics run: result shape, step statuses, filters, skipped kinds, snapshot end to end."""

from __future__ import annotations

import os

import pytest
from diag_fixtures import daemonset, healthy_system, ingress, pod, service, web_app

from ansible_collections.aksnet.networking.plugins.module_utils._diag import engine
from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import normalize_cluster_facts, run_diagnostics
from ansible_collections.aksnet.networking.plugins.module_utils._diag.index import Index
from ansible_collections.aksnet.networking.plugins.module_utils._diag.snapshot_io import load_snapshot

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def broken_cluster():
    return [
        *healthy_system(),
        *web_app(),
        pod("api-0", labels={"app": "api"}, phase="Pending"),
        service("api", selector={"app": "apii"}),
        daemonset("azure-cns", desired=3, ready=1, unavailable=2),
        pod("cfg", labels={"app": "cfg"}, dns_config={"nameservers": ["10.1.0.4"]}),
    ]


def test_shape_and_summary_counts():
    result = run_diagnostics(broken_cluster())
    assert set(result) == {"summary", "steps", "findings", "causes", "facts"}
    assert [s["step"] for s in result["steps"]] == list(range(1, 9))
    assert [s["name"] for s in result["steps"]] == ["pods", "services", "connectivity", "policies", "dns", "ingress", "dataplane", "azure"]
    for s in result["steps"]:
        ran = {"checks", "checked_objects", "checked_objects_more"} if s["status"] != "skipped" else set()
        assert set(s) == {"step", "name", "status", "reason", "checked"} | ran
    sev = [f["severity"] for f in result["findings"]]
    assert result["summary"]["errors"] == sev.count("error") == 3
    assert result["summary"]["infos"] == sev.count("info") == 1
    assert result["summary"]["warnings"] == sev.count("warning")
    assert result["summary"]["steps"]["1"] == "failed" and result["summary"]["steps"]["6"] == "passed"
    for f in result["findings"]:
        assert set(f) == {"code", "severity", "step", "resource", "message", "remediation", "evidence"}
    assert result["facts"]["objects"]["Pod"] == 6
    assert result["facts"]["namespaces"] == ["default", "kube-system"]


def test_findings_sorted_by_severity_step_namespace_name():
    result = run_diagnostics(broken_cluster())
    keys = [({"error": 0, "warning": 1, "info": 2}[f["severity"]], f["step"], f["resource"]["namespace"] or "", f["resource"]["name"])
            for f in result["findings"]]
    assert keys == sorted(keys)
    assert result["findings"][0]["code"] == "pod.not_running"


def test_steps_3_and_8_skipped_with_reasons():
    result = run_diagnostics(healthy_system())
    by_step = {s["step"]: s for s in result["steps"]}
    assert by_step[3]["status"] == "skipped" and "active probes not requested" in by_step[3]["reason"]
    assert by_step[8]["status"] == "skipped" and "AzureNetworkFacts" in by_step[8]["reason"]


def test_step_3_reports_failed_probes():
    probes = [{"check": "dns", "namespace": "default", "name": "web", "target": "web.default.svc.cluster.local", "ok": False, "detail": "SERVFAIL"},
              {"check": "egress", "target": "https://mcr.microsoft.com", "ok": True}]
    result = run_diagnostics(healthy_system(), steps=[3], probe_results=probes)
    assert [f["code"] for f in result["findings"]] == ["connectivity.dns_failed"]
    assert result["steps"][2]["status"] == "failed" and result["steps"][2]["checked"] == 2


def test_policy_step_never_crashes_whether_or_not_its_analyzer_exists():
    result = run_diagnostics(healthy_system(), steps=["policies"])
    step4 = result["steps"][3]
    assert step4["status"] in ("passed", "failed", "skipped")
    if step4["status"] == "skipped":
        assert step4["reason"]


def test_missing_analyzer_skipped_crashing_analyzer_fails(monkeypatch):
    monkeypatch.setitem(engine.STEP_MODULES, 4, "step_does_not_exist")
    result = run_diagnostics(healthy_system(), steps=[4])
    assert result["steps"][3]["status"] == "skipped" and "step_does_not_exist" in result["steps"][3]["reason"]

    from ansible_collections.aksnet.networking.plugins.module_utils._diag import step_pods

    def boom(index, ctx):
        for obj in index.kinds("Pod"):
            obj["status"]["nope"]["x"] = 1  # KeyError while reading this pod

    monkeypatch.setattr(step_pods, "analyze", boom)
    result = run_diagnostics(healthy_system(), steps=[1, 7])
    # 13.9: a crash is an error finding naming the step and the object; the step reads failed
    assert result["steps"][0]["status"] == "failed" and "KeyError" in result["steps"][0]["reason"]
    crash = [f for f in result["findings"] if f["code"] == "diag.analyzer_failed"]
    assert len(crash) == 1 and crash[0]["severity"] == "error" and crash[0]["step"] == 1
    first_pod = healthy_system()[[o["kind"] for o in healthy_system()].index("Pod")]
    assert crash[0]["resource"] == {"kind": "Pod", "namespace": first_pod["metadata"]["namespace"], "name": first_pod["metadata"]["name"]}
    assert "step 1 (pods)" in crash[0]["message"] and result["summary"]["errors"] >= 1
    assert result["steps"][6]["status"] == "passed"


def test_malformed_service_is_a_finding_not_a_crash():
    """13.9: spec.ports "eighty" once crashed step 2 (shown skipped). Now: object.malformed, step failed."""
    bad = service("broken", "web", {"app": "web"})
    bad["spec"]["ports"] = "eighty"
    nameless = pod("x", "web")
    del nameless["metadata"]["name"]
    result = run_diagnostics([*healthy_system(), *web_app(), bad, nameless], steps=[1, 2])
    by_code = {}
    for f in result["findings"]:
        by_code.setdefault(f["code"], []).append(f)
    assert not by_code.get("diag.analyzer_failed")
    mal = {(f["step"], f["resource"]["kind"], f["resource"]["name"]) for f in by_code["object.malformed"]}
    assert mal == {(2, "Service", "broken"), (1, "Pod", None)}
    assert result["summary"]["steps"]["1"] == "failed" and result["summary"]["steps"]["2"] == "failed"
    assert not any("None/None" in f["message"] for f in result["findings"])


def test_empty_or_podless_snapshot_is_refused(tmp_path):
    from ansible_collections.aksnet.networking.plugins.module_utils._diag.snapshot_io import SnapshotError

    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(SnapshotError, match="not a cluster snapshot"):
        load_snapshot(str(empty))
    only_svc = tmp_path / "svc.json"
    only_svc.write_text('{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}}]}')
    with pytest.raises(SnapshotError, match="no Pods and no Namespaces"):
        load_snapshot(str(only_svc))


def test_namespace_filter():
    objs = [*broken_cluster(), pod("x", "team-b", phase="Pending")]
    result = run_diagnostics(objs, namespaces=["team-b"], steps=[1, 2, 7])
    assert {f["resource"]["name"] for f in result["findings"] if f["step"] in (1, 2)} == {"x"}
    # cluster-wide data plane checks still run
    assert any(f["code"] == "dataplane.cni_unhealthy" for f in result["findings"])
    assert result["facts"]["namespaces"] == ["team-b"]
    assert result["facts"]["namespaces_not_found"] == ["team-b"]


def test_step_filter_by_number_and_name():
    result = run_diagnostics(broken_cluster(), steps=[2, "dataplane"])
    statuses = result["summary"]["steps"]
    assert statuses["1"] == "skipped" and statuses["2"] == "failed" and statuses["7"] == "failed"
    assert "not requested" in result["steps"][0]["reason"]
    assert {f["step"] for f in result["findings"]} == {2, 7}
    with pytest.raises(ValueError, match="steps: 'nine' is not a diagnostics step"):
        run_diagnostics([], steps=["nine"])


def test_rbac_skipped_pods_skip_dependent_steps():
    objs = [o for o in broken_cluster() if o["kind"] != "Pod"]
    result = run_diagnostics(objs, skipped_kinds={"Pod": "pods is forbidden: User cannot list resource pods (403)"})
    by_step = {s["step"]: s for s in result["steps"]}
    for step in (1, 2, 5):
        assert by_step[step]["status"] == "skipped" and "403" in by_step[step]["reason"]
    assert by_step[7]["status"] == "failed"  # DaemonSets were listed


def test_optional_kind_forbidden_is_noted_on_a_passing_step():
    result = run_diagnostics([*healthy_system(), *web_app()], steps=[1], skipped_kinds={"Event": "events is forbidden (403)"})
    assert result["steps"][0]["status"] == "passed" and "Event not listable" in result["steps"][0]["reason"]


def test_warnings_alone_pass_the_step():
    objs = [*healthy_system(), *web_app(), ingress("web", class_name=None)]
    result = run_diagnostics(objs, steps=[6])
    assert result["summary"]["warnings"] >= 1 and result["summary"]["steps"]["6"] == "passed"


def test_cluster_facts_normalized():
    facts = normalize_cluster_facts({"network": {"networkPlugin": "Azure", "networkDataplane": "cilium", "networkPolicy": "Cilium",
                                                 "advancedNetworking": {"security": {"advancedNetworkPolicies": "FQDN"}}}})
    assert facts["plugin"] == "azure" and facts["policy"] == "cilium" and facts["dataplane"] == "cilium"
    assert facts["advanced_networking"] == {"security": {"advanced_network_policies": "FQDN"}}
    assert normalize_cluster_facts({"plugin": "kubenet", "network_plugin": "azure"})["plugin"] == "kubenet"


def test_index_passed_directly_and_events_lookup():
    objs = broken_cluster()
    index = Index(objs)
    assert run_diagnostics(index)["summary"] == run_diagnostics(objs)["summary"]
    assert index.select("Pod", "default", {"app": "web"}) and index.select("Pod", "default", {"app": "web", "x": "y"}) == []


def test_snapshot_end_to_end():
    snap = load_snapshot(os.path.join(FIXTURES, "broken-cluster.yaml"))
    result = run_diagnostics(snap["objects"], azure_facts=snap["azure"], cluster_facts={"dataplane": "azure", "policy": "none"})
    found = {(f["code"], f["resource"]["name"]) for f in result["findings"]}
    assert ("service.selector_mismatch", "api") in found
    assert ("pod.crash_looping", "worker-0") in found
    assert ("ingress.backend_service_missing", "shop") in found
    assert ("dns.custom_config_invalid", "coredns-custom") in found
    assert ("node.network_unavailable", "aks-nodepool1-2") in found
    assert ("service.no_endpoints", "web") not in found
    assert result["summary"]["steps"]["3"] == "skipped"
    assert result["summary"]["errors"] == sum(f["severity"] == "error" for f in result["findings"])

"""Fleet run of playbooks/diagnose.yml over the aksnet.networking.aks inventory (ARM simulator clusters, all
served by the lab's Kubernetes emulator), with active probes: one report per cluster, a fleet summary,
no kubeconfig and no debug pod left behind."""

from __future__ import annotations

import glob
import json
import os

import yaml

from .conftest import ROOT, assert_playbook_ok, run_playbook
from .test_inventory_aks import add

DEBUG_LABEL = "app.kubernetes.io/managed-by"


def test_fleet_diagnose_with_active_probes(fresh_lab, tmp_path):
    add(fresh_lab, "team-a", "prod-1", plugin="azure", mode="overlay", dataplane="cilium", policy="cilium")
    add(fresh_lab, "team-b", "dev-1", plugin="kubenet", policy="calico")
    inventory = tmp_path / "fleet.aks.yml"
    inventory.write_text(yaml.safe_dump({"plugin": "aksnet.networking.aks"}))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    reports = tmp_path / "reports"
    proc = run_playbook(
        fresh_lab, os.path.join(ROOT, "playbooks", "diagnose.yml"),
        extra_vars={"diagnostics_fleet_report_dir": str(reports), "diagnostics_fleet": "true"},
        env={"ANSIBLE_INVENTORY_ENABLED": "aksnet.networking.aks", "TMPDIR": str(scratch)},
        args=["-i", str(inventory), "-e", json.dumps({"diagnostics_active": True, "diagnostics_probe_wait_timeout": 30,
                                                     "diagnostics_services": [{"namespace": "kube-system", "name": "metrics-server"}]})],
    )
    assert_playbook_ok(proc)
    summary = json.loads((reports / "fleet-summary.json").read_text())
    clusters = {c["cluster"]: c for c in summary["clusters"]}
    assert sorted(clusters) == ["dev-1", "lab-aks", "prod-1"]
    for name, entry in clusters.items():
        assert entry["error"] is None, entry
        report = json.loads((reports / name / "report.json").read_text())
        assert report["summary"]["steps"]["8"] != "skipped", report["steps"][7]  # Azure facts read with the fleet's credentials
        assert report["header"]["fleet_member"] == name and report["header"]["mode"] == "live"  # the report says which fleet run
        assert "connectivity" in entry["failed_steps"]  # metrics-server answers nothing: no data-plane facts declared
    assert sorted(summary["checks"]["connectivity.service_unreachable"]) == ["dev-1", "lab-aks", "prod-1"]
    markdown = (reports / "fleet-summary.md").read_text()
    assert "| prod-1 | team-a |" in markdown and "`connectivity.service_unreachable`: dev-1, lab-aks, prod-1" in markdown
    assert glob.glob(str(scratch / "*aksnet-kube*")) == []  # every kubeconfig directory removed
    leftovers = [p for p in fresh_lab.kube.objects("pods") if DEBUG_LABEL in (p["metadata"].get("labels") or {})]
    assert leftovers == []


def _view_only(lab):
    """The identity may read everything but create no pod (what the built-in 'view' ClusterRole allows)."""
    lab.kube.forbid("create", "pods")
    lab.kube.forbid("create", "pods/exec")


def test_view_only_active_diagnose_skips_step_3_and_reports_the_rest(fresh_lab, tmp_path):
    _view_only(fresh_lab)
    report_dir = tmp_path / "report"
    playbook = tmp_path / "view_only.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "diagnose as a view-only user", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "tasks": [{"name": "Diagnose with active probes", "register": "result",
                   "aksnet.networking.diagnose": {"active": True, "report_dir": str(report_dir), "fail_on": "never", "node_debug": True,
                                                  "services": [{"namespace": "kube-system", "name": "metrics-server"}]}},
                  {"name": "Keep it", "ansible.builtin.copy": {"content": "{{ result | to_json }}", "dest": str(tmp_path / "result.json"),
                                                               "mode": "0600"}}],
    }]))
    output = assert_playbook_ok(run_playbook(fresh_lab, str(playbook)))
    result = json.loads((tmp_path / "result.json").read_text())
    steps = {s["step"]: s for s in result["diagnostics"]["steps"]}
    assert steps[3]["status"] == "skipped"
    assert "may not create pods" in steps[3]["reason"] and "view-only" in steps[3]["reason"]
    assert all(steps[n]["status"] in ("passed", "failed") for n in (1, 2, 4, 5, 6)), steps
    assert "active probes not run" in output
    report = json.loads((report_dir / "report.json").read_text())
    assert report["summary"]["steps"]["3"] == "skipped"
    assert not [p for p in fresh_lab.kube.objects("pods") if DEBUG_LABEL in (p["metadata"].get("labels") or {})]


def test_view_only_fleet_run_diagnoses_every_cluster(fresh_lab, tmp_path):
    add(fresh_lab, "team-a", "prod-1", plugin="azure", mode="overlay", dataplane="cilium", policy="cilium")
    _view_only(fresh_lab)
    inventory = tmp_path / "fleet.aks.yml"
    inventory.write_text(yaml.safe_dump({"plugin": "aksnet.networking.aks"}))
    reports = tmp_path / "reports"
    proc = run_playbook(
        fresh_lab, os.path.join(ROOT, "playbooks", "diagnose.yml"),
        extra_vars={"diagnostics_fleet_report_dir": str(reports), "diagnostics_fleet": "true"},
        env={"ANSIBLE_INVENTORY_ENABLED": "aksnet.networking.aks"},
        args=["-i", str(inventory), "-e", json.dumps({"diagnostics_active": True, "diagnostics_probe_wait_timeout": 30,
                                                     "diagnostics_services": [{"namespace": "kube-system", "name": "metrics-server"}]})],
    )
    assert_playbook_ok(proc)
    summary = json.loads((reports / "fleet-summary.json").read_text())
    clusters = {c["cluster"]: c for c in summary["clusters"]}
    assert sorted(clusters) == ["lab-aks", "prod-1"]
    for name, entry in clusters.items():
        assert entry["error"] is None, entry
        report = json.loads((reports / name / "report.json").read_text())
        assert report["summary"]["steps"]["3"] == "skipped"
        assert "may not create pods" in report["steps"][2]["reason"]

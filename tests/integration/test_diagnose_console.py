"""playbooks/diagnose.yml on one cluster: the console output is a summary that does not grow with the
number of findings (15.9), and the fleet plays are not loaded (15.12). Snapshot mode: no lab needed."""

from __future__ import annotations

import json
import re

from tests.integration.conftest import assert_playbook_ok, run_playbook


class _NoLab:
    env: dict = {}


def _snapshot(path, namespaces=12, per_ns=12):
    objs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}]
    for n in range(namespaces):
        ns = f"team-{n}"
        objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        objs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": ns, "name": "app-0", "labels": {"app": "app"}},
                     "spec": {"containers": [{"name": "c"}]},
                     "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
        for i in range(per_ns):
            objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": {"namespace": ns, "name": f"allow-frontend-with-a-rather-long-policy-name-{i:03d}"},
                         "spec": {"podSelector": {"matchLabels": {"app": f"missing-{i}", "tier": "backend-of-the-thing"}},
                                  "ingress": [{}], "policyTypes": ["Ingress"]}})
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}))
    return path


def _debug_lines(output, task):
    block = output.split(f"TASK [aksnet.networking.diagnostics : {task}]", 1)[1].split("TASK [", 1)[0]
    return [line.strip().strip('",') for line in block.splitlines() if line.startswith('        "')]


def test_single_cluster_summary_scales_and_no_fleet_plays(tmp_path):
    snap = _snapshot(tmp_path / "many.json")
    extra = {"diagnostics_snapshot": str(snap), "diagnostics_report_dir": str(tmp_path / "report")}
    steps = ("-e", '{"diagnostics_steps": [4]}')
    proc = run_playbook(_NoLab(), "playbooks/diagnose.yml", extra, args=steps)
    output = assert_playbook_ok(proc)
    # 15.12: one play, no fleet plays and no "no hosts matched"
    assert "no hosts matched" not in output
    assert re.findall(r"^PLAY \[(.*?)\]", output, re.M) == ["Diagnose an AKS cluster's networking"]
    # 15.9: 144 findings, one grouped line
    lines = _debug_lines(output, "Summary")
    assert lines and max(len(line) for line in lines if not line.startswith("report (")) <= 160
    grouped = [line for line in lines if "netpol.selects_no_pods \u00d7144 in 12 namespaces" in line]
    assert len(grouped) == 1, lines
    assert any(line.startswith("step 4 policies: ") and "144 warnings" in line for line in lines), lines
    assert any(line.startswith("report (html): ") for line in lines)
    assert "allow-frontend-with-a-rather-long-policy-name-100" not in output
    assert len(output) < 8000
    # -v prints every finding
    verbose = assert_playbook_ok(run_playbook(_NoLab(), "playbooks/diagnose.yml", extra, args=(*steps, "-v")))
    assert verbose.count("warning netpol.selects_no_pods NetworkPolicy team-") >= 144


def test_fleet_mode_loads_only_the_fleet_plays(tmp_path):
    proc = run_playbook(_NoLab(), "playbooks/diagnose.yml", {"diagnostics_fleet": "true", "diagnostics_fleet_hosts": "nothing"},
                        args=("--list-tasks",))
    output = proc.stdout + proc.stderr
    plays = re.findall(r"^\s*play #\d+ \((.*?)\): (.*?)\s", output, re.M)
    assert [p[1] for p in plays] == ["Diagnose", "Fleet"], output


def test_malformed_object_fails_the_run_under_fail_on_error(tmp_path):
    """13.9: a Service with spec.ports "eighty" once crashed step 2 into "skipped" and the run passed."""
    snap = tmp_path / "malformed.json"
    items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
             {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": "shop", "name": "web"},
              "spec": {"selector": {"app": "web"}, "ports": "eighty"}}]
    snap.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    proc = run_playbook(_NoLab(), "playbooks/diagnose.yml", {"diagnostics_snapshot": str(snap), "diagnostics_fail_on": "error"})
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert "step 2 services: failed (1 error)" in output
    assert "object.malformed Service shop/web" in output and "spec.ports must be a list" in output

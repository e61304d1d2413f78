"""The diagnose action plugin through ansible-playbook: in the controller's worker with the controller's Python,
the module with any other interpreter, and the same registered result either way (snapshot and live)."""

from __future__ import annotations

import json
import os
import sys

from .conftest import ROOT, assert_playbook_ok, run_playbook

PLAYBOOK = """
- name: Diagnose in the worker, then through the module (another path to the same Python)
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Controller Python
      aksnet.networking.diagnose:
        snapshot: "{{{{ snap | default(omit) }}}}"
        namespaces: ["{{{{ ns }}}}", nowhere]
        report_dir: "{{{{ output_dir }}}}/reports"
      register: in_process
    - name: Module Python
      aksnet.networking.diagnose:
        snapshot: "{{{{ snap | default(omit) }}}}"
        namespaces: ["{{{{ ns }}}}", nowhere]
        report_dir: "{{{{ output_dir }}}}/reports"
      vars:
        ansible_python_interpreter: {other_python}
      register: module
    - name: Keep both results
      ansible.builtin.copy:
        content: "{{{{ {{'in_process': in_process, 'module': module}} | to_json }}}}"
        dest: "{{{{ output_dir }}}}/results.json"
        mode: "0600"
"""


def _run(lab, tmp_path, namespace, snapshot=None):
    other = os.path.join(os.path.dirname(sys.executable), "python3.11" if os.path.basename(sys.executable) != "python3.11" else "python3")
    assert os.path.exists(other) and os.path.normpath(other) != os.path.normpath(sys.executable)
    book = tmp_path / "book.yml"
    book.write_text(PLAYBOOK.format(other_python=other), encoding="utf-8")
    extra = {"output_dir": str(tmp_path), "ns": namespace}
    if snapshot:
        extra["snap"] = snapshot
    proc = run_playbook(lab, str(book), extra_vars=extra, args=["-vvv"])
    assert_playbook_ok(proc)
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    return proc.stdout, results["in_process"], results["module"]


def _comparable(result):
    result = json.loads(json.dumps(result))
    result["diagnostics"]["facts"]["run"].pop("duration_seconds")
    return result


def _assert_same(out, in_process, module):
    # -vvv: the first task ran in the worker, the second built and ran the module file
    assert out.count("aksnet.networking.diagnose: runs in the controller's worker process") == 1, out[-4000:]
    assert out.count("Using module file " + os.path.join(ROOT, "plugins", "modules", "diagnose.py")) == 1 or \
        out.count("plugins/modules/diagnose.py") == 1, out[-4000:]
    assert set(in_process) == set(module)
    assert in_process["diagnostics"]["findings"] and in_process["diagnostics"]["summary"] == module["diagnostics"]["summary"]
    assert _comparable(in_process) == _comparable(module)
    # the module's AnsiballZ payload carries what the module imports only when asked (the report writer here)
    assert sorted(module["report_paths"]) == ["html", "json", "markdown"]
    assert all(os.path.isfile(path) for path in module["report_paths"].values())


def test_snapshot_in_process_and_module_give_the_same_result(lab, tmp_path):
    out, in_process, module = _run(lab, tmp_path, "shop", snapshot=os.path.join(ROOT, "tests", "release", "snapshot.yaml"))
    _assert_same(out, in_process, module)
    assert in_process["mode"] == "snapshot"


def test_live_in_process_and_module_give_the_same_result(fresh_lab, tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tests", "perf"))
    try:
        from bench_live import bench_objects
    finally:
        sys.path.pop(0)
    # a small cluster with broken Services and policies, made acceptable to a real API server too (kube-system is the
    # lab's own, pods on the lab's nodes, no owner references to ReplicaSets that do not exist, allocated ClusterIPs)
    nodes = sorted(n["metadata"]["name"] for n in fresh_lab.kube.objects("nodes", namespace=None, group=""))
    data = bench_objects(120, 40, 30, 3, nodes)
    fresh_lab.kube.load_objects([obj for kind in ("Namespace", "Service", "NetworkPolicy", "IngressClass", "Ingress", "Pod") for obj in data[kind]])
    out, in_process, module = _run(fresh_lab, tmp_path, "team-001")
    _assert_same(out, in_process, module)
    assert in_process["mode"] == "live" and in_process["api_requests"] == module["api_requests"] > 0
    assert any("'nowhere' does not exist" in str(w) for w in module.get("warnings", [])) or "'nowhere' does not exist" in out

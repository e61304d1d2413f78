"""`make demo` and `make demo-fixed` end to end: scripts/demo.sh against its own lab.

The broken demo must find every fault of demo/expected.yml on the resource it names, and the fixed
one must end without an error or a warning; in both, the snapshot diagnosed offline agrees with the
live diagnosis, the summary and the report's path are printed, and no lab process is left behind.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml

from .conftest import ROOT, DemoRun


def lab_left_running(run):
    pidfile = run.lab_dir / "lab.pid"
    if pidfile.exists():
        return f"{pidfile} still exists"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # the lab server, and on the real back end etcd, kube-apiserver, the controllers and kwok (their paths are in the lab dir)
        if str(run.lab_dir) in cmdline and int(pid) != os.getpid():
            return f"lab process {pid} still runs: {cmdline}"
    return None


def report_of(run):
    with open(run.out / "report" / "report.json", encoding="utf-8") as handle:
        return json.load(handle)


def label(resource):
    name = f"{resource['namespace']}/{resource['name']}" if resource.get("namespace") else resource["name"]
    return f"{resource['kind']} {name}"


@pytest.mark.xdist_group("demo")
def test_demo_provisions_configures_breaks_and_finds_every_fault(broken_demo):
    broken_demo.assert_ok()
    output = broken_demo.output
    for playbook in ("playbooks/provision.yml", "playbooks/configure.yml", "playbooks/diagnose.yml", "demo/break.yml"):
        assert playbook in output
    assert f"HTML report: {broken_demo.out}/report/report.html" in output
    assert "MISSED" not in output
    report = report_of(broken_demo)
    # the snapshot, diagnosed offline, holds the same findings as the live cluster
    assert f"offline (the snapshot): the same {len(report['findings'])} finding(s) as the live diagnosis" in output
    assert (broken_demo.out / "snapshot-report" / "report.html").is_file()
    found = {(f["code"], label(f["resource"])) for f in report["findings"]}
    with open(os.path.join(ROOT, "demo", "expected.yml"), encoding="utf-8") as handle:
        expected = yaml.safe_load(handle)
    assert len(expected) == 7
    for item in expected:
        assert (item["code"], item["resource"]) in found, f"{item['fault']}: {item['code']} not reported; found {sorted(found)}"
        assert f"[found] {item['fault']}" in output
    cluster = report["facts"]["cluster_facts"]
    assert (cluster["plugin"], cluster["plugin_mode"], cluster["dataplane"], cluster["policy"]) == ("azure", "overlay", "cilium", "cilium")
    summary = f"{report['summary']['errors']} error(s), {report['summary']['warnings']} warning(s)"
    assert summary in output
    assert lab_left_running(broken_demo) is None


def test_demo_fixed_is_clean(tmp_path):
    run = DemoRun(tmp_path, "fixed")
    run.assert_ok()
    report = report_of(run)
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
    assert "demo-fixed: the cluster is clean" in run.output
    assert f"offline (the snapshot): the same {len(report['findings'])} finding(s)" in run.output
    assert set(report["summary"]["steps"].values()) <= {"passed", "skipped"}
    assert "MISSED" not in run.output and "break.yml" not in run.output
    assert lab_left_running(run) is None

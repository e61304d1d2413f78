"""Print the demo's diagnostics summary and check it: every fault of demo/expected.yml found (broken),
or no error and no warning at all (fixed); with a second report (the snapshot's, diagnosed offline),
that it holds the same findings. Exit 1 when a check fails.

    python scripts/demo_summary.py REPORT_JSON EXPECTED_YML broken|fixed [OFFLINE_REPORT_JSON]
"""

from __future__ import annotations

import json
import sys

import yaml


def resource_label(resource: dict) -> str:
    name = f"{resource['namespace']}/{resource['name']}" if resource.get("namespace") else resource.get("name", "")
    return f"{resource.get('kind', '')} {name}".strip()


def findings_of(report: dict) -> set:
    return {(f["severity"], f["code"], resource_label(f["resource"])) for f in report["findings"]}


def offline_agrees(report: dict, offline_path: str) -> bool:
    with open(offline_path, encoding="utf-8") as handle:
        offline = json.load(handle)
    live, saved = findings_of(report), findings_of(offline)
    if live == saved:
        print(f"offline (the snapshot): the same {len(saved)} finding(s) as the live diagnosis")
        return True
    print("offline (the snapshot) differs from the live diagnosis:")
    for item in sorted(live - saved):
        print(f"  only live:    {' '.join(item)}")
    for item in sorted(saved - live):
        print(f"  only offline: {' '.join(item)}")
    return False


def main(report_path: str, expected_path: str, mode: str, offline_path: str | None = None) -> int:
    with open(report_path, encoding="utf-8") as handle:
        report = json.load(handle)
    summary, findings = report["summary"], report["findings"]
    print(f"{summary['errors']} error(s), {summary['warnings']} warning(s), {summary['infos']} info(s)")
    print("steps: " + ", ".join(f"{step} {status}" for step, status in sorted(summary["steps"].items(), key=lambda item: int(item[0]))))
    for finding in findings:
        print(f"  {finding['severity']:<7} {finding['code']:<38} {resource_label(finding['resource'])}")
    found = {(f["code"], resource_label(f["resource"])) for f in findings}
    if mode == "fixed":
        loud = [f for f in findings if f["severity"] in ("error", "warning")]
        print("demo-fixed: the cluster is clean" if not loud else f"demo-fixed: {len(loud)} error(s)/warning(s) on a cluster that should be clean")
        agrees = offline_agrees(report, offline_path) if offline_path else True
        return 1 if loud or not agrees else 0
    with open(expected_path, encoding="utf-8") as handle:
        expected = yaml.safe_load(handle)
    missing = 0
    print("the faults:")
    for item in expected:
        ok = (item["code"], item["resource"]) in found
        missing += not ok
        print(f"  [{'found' if ok else 'MISSED'}] {item['fault']}: {item['code']} on {item['resource']}")
    agrees = offline_agrees(report, offline_path) if offline_path else True
    return 1 if missing or not agrees else 0


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5) or sys.argv[3] not in ("broken", "fixed"):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

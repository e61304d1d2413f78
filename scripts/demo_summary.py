"""Print the demo's diagnostics summary and check it: every fault of demo/expected.yml found (broken),
or no error and no warning at all (fixed). Exit 1 when the check fails.

    python scripts/demo_summary.py REPORT_JSON EXPECTED_YML broken|fixed
"""

from __future__ import annotations

import json
import sys

import yaml


def resource_label(resource: dict) -> str:
    name = f"{resource['namespace']}/{resource['name']}" if resource.get("namespace") else resource.get("name", "")
    return f"{resource.get('kind', '')} {name}".strip()


def main(report_path: str, expected_path: str, mode: str) -> int:
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
        return 1 if loud else 0
    with open(expected_path, encoding="utf-8") as handle:
        expected = yaml.safe_load(handle)
    missing = 0
    print("the faults:")
    for item in expected:
        ok = (item["code"], item["resource"]) in found
        missing += not ok
        print(f"  [{'found' if ok else 'MISSED'}] {item['fault']}: {item['code']} on {item['resource']}")
    return 1 if missing else 0


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in ("broken", "fixed"):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

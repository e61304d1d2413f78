# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The console summary stays short however many findings there are (15.9)."""

from __future__ import annotations

from ansible_collections.aksnet.networking.plugins.module_utils._diag.console import WIDTH, summary_lines
from ansible_collections.aksnet.networking.plugins.module_utils._diag.findings import finding


def _run(findings):
    steps = [{"step": s, "name": n, "status": "failed" if any(f["step"] == s and f["severity"] == "error" for f in findings) else "passed",
              "reason": None} for s, n in ((1, "pods"), (2, "services"), (4, "policies"))]
    counts = {sev: sum(f["severity"] == sev for f in findings) for sev in ("error", "warning", "info")}
    return {"summary": {"errors": counts["error"], "warnings": counts["warning"], "infos": counts["info"]}, "steps": steps, "findings": findings}


def test_900_findings_fit_in_a_summary():
    findings = [finding("netpol.selects_no_pods", "warning", 4, "NetworkPolicy", f"ns-{i % 12}", f"p-{i}" + "x" * 200, "m" * 400, "fix")
                for i in range(140)]
    findings += [finding(f"pod.code_{i}", "error", 1, "Pod", "shop", f"pod-{i}", f"message {i} " * 40, "fix") for i in range(760)]
    lines = summary_lines(_run(findings), "live", {"html": "/tmp/r/report.html"})
    assert max(len(line) for line in lines) <= WIDTH
    assert len(lines) <= 1 + 3 + 1 + 20 + 1
    assert lines[0].startswith("diagnostics (live): 760 error(s), 140 warning(s)")
    assert "step 4 policies: passed (140 warnings)" in lines and "step 1 pods: failed (760 errors)" in lines
    top = lines[lines.index(next(x for x in lines if x.startswith("top findings"))) + 1:-1]
    assert len(top) == 20 and all(x.startswith("error pod.code_") for x in top)  # errors first
    assert lines[-1] == "report (html): /tmp/r/report.html"


def test_same_code_groups_into_one_line_with_a_count():
    findings = [finding("netpol.selects_no_pods", "warning", 4, "NetworkPolicy", f"ns-{i % 12}", f"p-{i}", "no pod", "fix") for i in range(140)]
    findings.append(finding("service.no_endpoints", "error", 2, "Service", "shop", "web", "no endpoints", "fix"))
    lines = summary_lines(_run(findings))
    assert lines[-2] == "error service.no_endpoints Service shop/web: no endpoints"
    assert lines[-1].startswith("warning netpol.selects_no_pods \u00d7140 in 12 namespaces (e.g. NetworkPolicy ns-0/p-0): no pod")

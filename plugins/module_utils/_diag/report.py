# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports of a diagnostics run: Markdown for terminals and tickets, self-contained HTML. Pure.

The HTML has no external assets (inline CSS, inline SVG, no scripts, no links to fetch) and
escapes every value taken from the cluster. ``reachability`` (optional) draws, per namespace,
which workloads may reach which::

    {namespace: {"nodes": [workload, ...], "edges": [[src, dst, allowed_bool], ...]}}

as an adjacency matrix (rows: source, columns: destination). Pairs without an edge are drawn as
"not evaluated".
"""

from __future__ import annotations

import html
import json
import os

from .._common.files import write_private
from .findings import SEVERITIES

SEVERITY_TITLES = {"error": "Errors", "warning": "Warnings", "info": "Infos"}
STATUS_MARK = {"passed": "PASSED", "failed": "FAILED", "skipped": "SKIPPED"}
MATRIX_LIMIT = 60  # workloads drawn per namespace; the rest are counted, not drawn


def _resource_text(res):
    res = res or {}
    where = f"{res.get('namespace')}/{res.get('name')}" if res.get("namespace") else str(res.get("name"))
    return f"{res.get('kind')} {where}"


def _by_severity(findings):
    groups = {s: [] for s in SEVERITIES}
    for f in findings:
        groups.setdefault(f.get("severity"), []).append(f)
    return groups


def _md_cell(text):
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def render_markdown(diagnostics):
    """The run as Markdown: summary, step table, findings grouped by severity with their fix."""
    summary = diagnostics.get("summary") or {}
    lines = [
        "# AKS network diagnostics",
        "",
        f"**{summary.get('errors', 0)} error(s), {summary.get('warnings', 0)} warning(s), {summary.get('infos', 0)} info(s)**",
        "",
    ]
    facts = diagnostics.get("facts") or {}
    if facts.get("namespaces"):
        lines += [f"Namespaces analysed: {', '.join(facts['namespaces'])}", ""]
    lines += ["## Steps", "", "| # | step | status | checked | note |", "|---|---|---|---|---|"]
    for step in diagnostics.get("steps") or []:
        lines.append(
            f"| {step.get('step')} | {_md_cell(step.get('name'))} | {STATUS_MARK.get(step.get('status'), step.get('status'))} "
            f"| {step.get('checked', 0)} | {_md_cell(step.get('reason') or '')} |"
        )
    lines.append("")
    findings = diagnostics.get("findings") or []
    if not findings:
        lines += ["## Findings", "", "No findings.", ""]
    for severity, group in _by_severity(findings).items():
        if not group:
            continue
        lines += [f"## {SEVERITY_TITLES.get(severity, severity)} ({len(group)})", ""]
        for f in group:
            lines += [
                f"### `{f.get('code')}` - {_resource_text(f.get('resource'))} (step {f.get('step')})",
                "",
                str(f.get("message") or ""),
                "",
                f"**Fix:** {f.get('remediation') or ''}",
                "",
            ]
            if f.get("evidence"):
                lines += ["```json", json.dumps(f["evidence"], sort_keys=True, default=str), "```", ""]
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#1b1f23;max-width:1200px}
h1{margin-bottom:.2em} .summary span{display:inline-block;margin-right:1em;padding:.3em .7em;border-radius:4px;font-weight:600}
.s-error{background:#fde2e1;color:#9b1c1c} .s-warning{background:#fff4d6;color:#8a5a00} .s-info{background:#e1effe;color:#1e429f}
table{border-collapse:collapse;margin:1em 0} td,th{border:1px solid #d0d7de;padding:.35em .6em;text-align:left;vertical-align:top}
.passed{color:#046c4e;font-weight:600} .failed{color:#9b1c1c;font-weight:600} .skipped{color:#6b7280;font-weight:600}
.finding{border-left:4px solid #d0d7de;padding:.4em .8em;margin:.8em 0;background:#f9fafb}
.finding.error{border-color:#e02424} .finding.warning{border-color:#e3a008} .finding.info{border-color:#3f83f8}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em} pre{white-space:pre-wrap;background:#f3f4f6;padding:.5em}
.fix{margin:.3em 0} .legend span{margin-right:1em}
"""


def _e(value):
    return html.escape("" if value is None else str(value), quote=True)


def reachability_svg(namespace, data, limit=MATRIX_LIMIT):
    """One namespace's reachability as an inline SVG adjacency matrix (rows: source, columns: destination)."""
    nodes = [str(n) for n in (data or {}).get("nodes") or []]
    hidden = max(0, len(nodes) - limit)
    nodes = nodes[:limit]
    verdict = {}
    for edge in (data or {}).get("edges") or []:
        if len(edge) >= 3:
            verdict[(str(edge[0]), str(edge[1]))] = bool(edge[2])
    cell = 16
    label_w = min(220, 8 + 7 * max((len(n) for n in nodes), default=1))
    top = label_w
    # column labels are rotated -60 degrees: the last ones reach about half their length past the grid
    width = label_w + cell * len(nodes) + 10 + label_w // 2
    height = top + cell * len(nodes) + 10
    parts = [
        f'<svg class="policy-picture" role="img" aria-label="{_e("reachability in namespace " + str(namespace))}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="11">'
    ]
    for i, name in enumerate(nodes):
        y = top + i * cell + cell - 4
        parts.append(f'<text x="{label_w - 4}" y="{y}" text-anchor="end">{_e(name)}</text>')
        x = label_w + i * cell + cell - 4
        parts.append(f'<text x="{x}" y="{top - 4}" transform="rotate(-60 {x} {top - 4})">{_e(name)}</text>')
    for i, src in enumerate(nodes):
        for j, dst in enumerate(nodes):
            allowed = verdict.get((src, dst))
            fill = "#e5e7eb" if allowed is None else ("#31c48d" if allowed else "#f05252")
            word = "not evaluated" if allowed is None else ("allowed" if allowed else "denied")
            parts.append(
                f'<rect x="{label_w + j * cell}" y="{top + i * cell}" width="{cell - 1}" height="{cell - 1}" fill="{fill}">'
                f"<title>{_e(src)} -&gt; {_e(dst)}: {word}</title></rect>"
            )
    parts.append("</svg>")
    note = f"<p>{hidden} more workload(s) not drawn.</p>" if hidden else ""
    return "".join(parts) + note


def render_html(diagnostics, reachability=None):
    """A self-contained HTML page: summary, step statuses, findings by severity, reachability pictures."""
    summary = diagnostics.get("summary") or {}
    facts = diagnostics.get("facts") or {}
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>AKS network diagnostics</title>',
        f"<style>{_CSS}</style></head><body>",
        "<h1>AKS network diagnostics</h1>",
        '<div class="summary" id="summary">',
        f'<span class="s-error">{_e(summary.get("errors", 0))} error(s)</span>',
        f'<span class="s-warning">{_e(summary.get("warnings", 0))} warning(s)</span>',
        f'<span class="s-info">{_e(summary.get("infos", 0))} info(s)</span>',
        "</div>",
    ]
    if facts.get("namespaces"):
        out.append(f"<p>Namespaces analysed: {_e(', '.join(facts['namespaces']))}</p>")
    out += ["<h2>Steps</h2>", "<table><tr><th>#</th><th>step</th><th>status</th><th>checked</th><th>note</th></tr>"]
    for step in diagnostics.get("steps") or []:
        st = step.get("status")
        out.append(
            f"<tr><td>{_e(step.get('step'))}</td><td>{_e(step.get('name'))}</td>"
            f'<td class="{_e(st)}">{_e(STATUS_MARK.get(st, st))}</td><td>{_e(step.get("checked", 0))}</td>'
            f"<td>{_e(step.get('reason') or '')}</td></tr>"
        )
    out.append("</table>")
    findings = diagnostics.get("findings") or []
    out.append("<h2>Findings</h2>")
    if not findings:
        out.append("<p>No findings.</p>")
    for severity, group in _by_severity(findings).items():
        if not group:
            continue
        out.append(f"<h3>{_e(SEVERITY_TITLES.get(severity, severity))} ({len(group)})</h3>")
        for f in group:
            out.append(
                f'<div class="finding {_e(severity)}"><div><code>{_e(f.get("code"))}</code> '
                f"<strong>{_e(_resource_text(f.get('resource')))}</strong> (step {_e(f.get('step'))})</div>"
                f"<div>{_e(f.get('message'))}</div>"
                f'<div class="fix"><strong>Fix:</strong> {_e(f.get("remediation"))}</div>'
            )
            if f.get("evidence"):
                out.append(f"<details><summary>evidence</summary><pre>{_e(json.dumps(f['evidence'], indent=2, sort_keys=True, default=str))}</pre></details>")
            out.append("</div>")
    if reachability:
        out += [
            "<h2>Reachability</h2>",
            '<p class="legend">Rows: source workload, columns: destination. '
            '<span style="color:#046c4e">&#9632; allowed</span><span style="color:#9b1c1c">&#9632; denied</span>'
            '<span style="color:#6b7280">&#9632; not evaluated</span></p>',
        ]
        for namespace in sorted(reachability, key=str):
            out.append(f"<h3>Namespace {_e(namespace)}</h3>")
            out.append(reachability_svg(namespace, reachability[namespace]))
    out.append("</body></html>")
    return "\n".join(out)


def write_reports(diagnostics, report_dir, reachability=None):
    """Write report.json, report.md and report.html into ``report_dir``; return their paths.

    The directory is created with mode 0700 when missing and files are written with mode 0600:
    reports describe the cluster's topology and may be sensitive.
    """
    os.makedirs(report_dir, mode=0o700, exist_ok=True)
    paths = {
        "json": os.path.join(report_dir, "report.json"),
        "markdown": os.path.join(report_dir, "report.md"),
        "html": os.path.join(report_dir, "report.html"),
    }
    write_private(paths["json"], json.dumps(diagnostics, indent=2, sort_keys=True, default=str) + "\n")
    write_private(paths["markdown"], render_markdown(diagnostics))
    write_private(paths["html"], render_html(diagnostics, reachability))
    return paths

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports of a diagnostics run: Markdown for terminals and tickets, self-contained HTML, JSON. Pure.

Every report opens with the run's header (:func:`run_header`: cluster, resource group,
subscription, Kubernetes version, network profile, mode, source, redaction, time taken, collection
version), then the causes to fix first (``diagnostics["causes"]``, see causes.py), the steps, what
each step checked and held (``steps[].checks``, see checks.py), and every finding.

The HTML has no external assets (inline CSS, inline SVG, no scripts, no links to fetch) and escapes
every value taken from the cluster. ``reachability`` (optional, from
``reachability.service_reachability``) draws, per namespace, which client workloads may reach
which Service port: rows are clients, columns Service ports, each cell carries its verdict as a
glyph and a word as well as a colour, and a denied cell links to the policies that decide it.
"""

from __future__ import annotations

import html
import json
import os
import re

from .._common.files import write_private
from .findings import SEVERITIES

SEVERITY_TITLES = {"error": "Errors", "warning": "Warnings", "info": "Infos"}
STATUS_MARK = {"passed": "PASSED", "failed": "FAILED", "skipped": "SKIPPED"}
CHECK_MARK = {"passed": "PASS", "failed": "FAIL", "warning": "WARN", "info": "INFO", "not_run": "NOT RUN"}
MATRIX_LIMIT = 60  # clients / Service ports drawn per picture; the rest are counted, not drawn
UNKNOWN = "unknown"

# verdict -> (glyph, word, fill colour)
VERDICTS = {
    "allowed": ("\u2713", "allowed", "#31c48d"),
    "denied": ("\u2717", "denied", "#f05252"),
    "no_backend": ("\u2205", "no backend pod", "#d1d5db"),
    "not_exposed": ("!", "port not exposed", "#fbbf24"),
}
NOT_EVALUATED = ("\u00b7", "not evaluated", "#e5e7eb")


# ------------------------------------------------------------------------------------- header


def _subscription(resource_id):
    match = re.search(r"/subscriptions/([^/]+)", str(resource_id or ""), re.IGNORECASE)
    return match.group(1) if match else None


def run_header(diagnostics):
    """What identifies the run; values that are not known are None (shown as "unknown", never guessed)."""
    facts = diagnostics.get("facts") or {}
    cluster = facts.get("cluster_facts") or {}
    source = facts.get("source")
    source = source if isinstance(source, dict) else {"mode": source}
    run = facts.get("run") or {}
    snap = facts.get("snapshot_info") if isinstance(facts.get("snapshot_info"), dict) else {}
    snap_cluster = snap.get("cluster") if isinstance(snap.get("cluster"), dict) else {}
    mode = source.get("mode") or ("snapshot" if snap else None)
    version = cluster.get("current_kubernetes_version") or cluster.get("kubernetes_version")
    kubelets = [str(v) for v in facts.get("kubelet_versions") or []]
    if not version and kubelets:
        version = f"{', '.join(kubelets)} (nodes' kubelet)"
    redacted = snap.get("redacted")
    return {
        "cluster": cluster.get("name") or snap_cluster.get("context"),
        "resource_group": cluster.get("resource_group"),
        "subscription": cluster.get("subscription_id") or _subscription(cluster.get("id")),
        "kubernetes_version": version,
        "network": {key: cluster.get(key) for key in ("plugin", "plugin_mode", "dataplane", "policy")},
        "mode": mode,
        "fleet_member": run.get("fleet_member") or None,
        "server": facts.get("server") or source.get("server") or snap_cluster.get("server"),
        "snapshot": facts.get("snapshot_path") or source.get("snapshot"),
        # a snapshot that does not say is "unknown", never "not redacted"; live data is not a snapshot
        "redacted": redacted if isinstance(redacted, bool) else None,
        "captured_at": snap.get("captured_at") or source.get("taken_at"),
        "snapshot_collection_version": snap.get("collection_version"),
        "duration_seconds": run.get("duration_seconds"),
        "collection_version": run.get("collection_version"),
        "namespaces": list(facts.get("namespaces") or []),
    }


def _text(value):
    return UNKNOWN if value in (None, "") else str(value)


def header_rows(header):
    """``[(label, text)]`` of the header, in reading order."""
    net = header.get("network") or {}
    if any(net.values()):
        plugin = _text(net.get("plugin")) + (f" ({net['plugin_mode']})" if net.get("plugin_mode") else "")
        network = f"plugin {plugin}, dataplane {_text(net.get('dataplane'))}, policy {_text(net.get('policy'))}"
    else:
        network = UNKNOWN
    mode = header.get("mode")
    mode_text = f"fleet member {header['fleet_member']} ({_text(mode)})" if header.get("fleet_member") else _text(mode)
    if mode == "snapshot":
        redacted = {True: "yes", False: "no"}.get(header.get("redacted"), "unknown (the snapshot does not say)")
        source = f"snapshot {_text(header.get('snapshot'))}, captured {_text(header.get('captured_at'))}"
        if header.get("snapshot_collection_version"):
            source += f" by aksnet.networking {header['snapshot_collection_version']}"
    elif mode == "live":
        redacted = "not a snapshot (live data, nothing redacted)"
        source = f"API server {_text(header.get('server'))}"
    else:
        redacted = UNKNOWN
        source = _text(header.get("server") or header.get("snapshot"))
    took = header.get("duration_seconds")
    return [
        ("Cluster", _text(header.get("cluster"))),
        ("Resource group", _text(header.get("resource_group"))),
        ("Subscription", _text(header.get("subscription"))),
        ("Kubernetes version", _text(header.get("kubernetes_version"))),
        ("Network profile", network),
        ("Mode", mode_text),
        ("Source", source),
        ("Snapshot redacted", redacted),
        ("Time taken", f"{took:.1f} s" if isinstance(took, (int, float)) else UNKNOWN),
        ("Collection version", f"aksnet.networking {header['collection_version']}" if header.get("collection_version") else UNKNOWN),
        ("Namespaces analysed", ", ".join(header.get("namespaces") or []) or UNKNOWN),
    ]


# ------------------------------------------------------------------------------------- findings


def _resource_text(res):
    res = res or {}
    where = f"{res.get('namespace')}/{res.get('name')}" if res.get("namespace") else str(res.get("name"))
    return f"{res.get('kind')} {where}"


def _by_severity(findings):
    groups = {s: [] for s in SEVERITIES}
    for i, f in enumerate(findings):
        groups.setdefault(f.get("severity"), []).append((i, f))
    return groups


def _scalar(value):
    return value is None or isinstance(value, (str, int, float, bool))


def _scalar_text(value):
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _said(value, message):
    """A sentence of the evidence that the message already says (names and numbers are kept)."""
    return isinstance(value, str) and " " in value.strip() and value.strip() in message


def evidence_lines(evidence, message=""):
    """``[(key, text, is_json)]``: each evidence entry once, as text where it has a text form.

    Sentences already in the message are not repeated; lists of scalars become comma lists, mappings
    of scalars ``key=value`` lists; only nested structures are shown as (compact) JSON.
    """
    lines = []
    message = str(message or "")
    for key in sorted(evidence or {}, key=str):
        value = evidence[key]
        if _said(value, message) or (isinstance(value, list) and value and all(_said(v, message) for v in value)):
            continue
        if _scalar(value):
            lines.append((str(key), _scalar_text(value), False))
        elif isinstance(value, list) and all(_scalar(v) for v in value):
            lines.append((str(key), ", ".join(_scalar_text(v) for v in value) or "none", False))
        elif isinstance(value, dict) and all(_scalar(v) for v in value.values()):
            lines.append((str(key), ", ".join(f"{k}={_scalar_text(v)}" for k, v in value.items()) or "none", False))
        else:
            lines.append((str(key), json.dumps(value, sort_keys=True, default=str), True))
    return lines


def _md_cell(text):
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def _md_code(text):
    text = str(text)
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _check_rows(step):
    return step.get("checks") or []


def render_markdown(diagnostics):
    """The run as Markdown: header, causes to fix first, steps, what held, findings with their fix."""
    summary = diagnostics.get("summary") or {}
    findings = diagnostics.get("findings") or []
    lines = ["# AKS network diagnostics", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {_md_cell(text)} |" for label, text in header_rows(run_header(diagnostics))]
    lines += [
        "",
        f"**{summary.get('errors', 0)} error(s), {summary.get('warnings', 0)} warning(s), {summary.get('infos', 0)} info(s)**",
        "",
    ]
    causes = [c for c in diagnostics.get("causes") or [] if c.get("severity") != "info" or c.get("consequences")]
    if causes:
        lines += ["## Fix these first", ""]
        for n, cause in enumerate(causes, 1):
            f = findings[cause["finding"]] if cause.get("finding") is not None and cause["finding"] < len(findings) else {}
            lines.append(f"{n}. **{cause.get('severity')}** `{cause.get('code')}` {_resource_text(cause.get('resource'))}: "
                         f"{_md_cell(f.get('remediation') or f.get('message') or '')}")
            for c in cause.get("consequences") or []:
                lines.append(f"    - then **{c.get('severity')}** `{c.get('code')}` {_resource_text(c.get('resource'))} ({_md_cell(c.get('because'))})")
        lines.append("")
    lines += ["## Steps", "", "| # | step | status | checked | note |", "|---|---|---|---|---|"]
    for step in diagnostics.get("steps") or []:
        lines.append(
            f"| {step.get('step')} | {_md_cell(step.get('name'))} | {STATUS_MARK.get(step.get('status'), step.get('status'))} "
            f"| {step.get('checked', 0)} | {_md_cell(step.get('reason') or '')} |"
        )
    lines += ["", "## What was checked", ""]
    for step in diagnostics.get("steps") or []:
        rows = _check_rows(step)
        if not rows:
            lines += ["", f"Step {step.get('step')} {step.get('name')}: not run ({_md_cell(step.get('reason') or 'no reason given')})."]
            continue
        objects = step.get("checked_objects") or []
        more = step.get("checked_objects_more") or 0
        lines += ["", f"### Step {step.get('step')} {step.get('name')} ({len(objects) + more} object(s))", "",
                  "| result | check | code | note |", "|---|---|---|---|"]
        for check in rows:
            note = check.get("reason") or (f"{check.get('findings')} finding(s)" if check.get("findings") else "")
            lines.append(f"| {CHECK_MARK.get(check.get('status'), check.get('status'))} | {_md_cell(check.get('check'))} "
                         f"| `{check.get('code')}` | {_md_cell(note)} |")
    lines.append("")
    if not findings:
        lines += ["## Findings", "", "No findings.", ""]
    for severity, group in _by_severity(findings).items():
        if not group:
            continue
        lines += [f"## {SEVERITY_TITLES.get(severity, severity)} ({len(group)})", ""]
        for _i, f in group:
            lines += [
                f"### `{f.get('code')}` - {_resource_text(f.get('resource'))} (step {f.get('step')})",
                "",
                str(f.get("message") or ""),
                "",
                f"**Fix:** {f.get('remediation') or ''}",
                "",
            ]
            ev_lines = evidence_lines(f.get("evidence"), f.get("message"))
            if ev_lines:
                lines += ["Evidence:", ""]
                lines += [f"- {key}: {_md_code(text) if is_json else _md_cell(text)}" for key, text, is_json in ev_lines]
                lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#1b1f23;max-width:1200px}
h1{margin-bottom:.2em} .summary span{display:inline-block;margin-right:1em;padding:.3em .7em;border-radius:4px;font-weight:600}
.s-error{background:#fde2e1;color:#9b1c1c} .s-warning{background:#fff4d6;color:#8a5a00} .s-info{background:#e1effe;color:#1e429f}
table{border-collapse:collapse;margin:1em 0} td,th{border:1px solid #d0d7de;padding:.35em .6em;text-align:left;vertical-align:top}
.run th{background:#f3f4f6;font-weight:600;white-space:nowrap}
td.passed,span.passed{color:#046c4e;font-weight:600} td.failed,span.failed,span.error{color:#9b1c1c;font-weight:600}
td.skipped,span.skipped,td.not_run{color:#6b7280;font-weight:600} td.warning,span.warning{color:#8a5a00;font-weight:600}
td.info,span.info{color:#1e429f;font-weight:600}
.finding{border-left:4px solid #d0d7de;padding:.4em .8em;margin:.8em 0;background:#f9fafb}
.finding.error{border-color:#e02424} .finding.warning{border-color:#e3a008} .finding.info{border-color:#3f83f8}
.cause{margin:.6em 0;padding:.3em .6em;border-left:4px solid #d0d7de} .cause.error{border-color:#e02424} .cause.warning{border-color:#e3a008}
.cause.info{border-color:#3f83f8} .consequences{margin:.2em 0 .2em 1.2em;padding:0} .consequences li{list-style:"\\2192  "}
.sev{font-size:.8em;font-weight:700;text-transform:uppercase;margin-right:.4em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em} pre{white-space:pre-wrap;background:#f3f4f6;padding:.5em}
.fix{margin:.3em 0} .legend span{margin-right:1.2em} dl.evidence{display:grid;grid-template-columns:max-content 1fr;gap:.1em .8em;margin:.3em 0}
dl.evidence dt{font-weight:600} dl.evidence dd{margin:0;overflow-wrap:anywhere}
.checks td:first-child{white-space:nowrap}
"""


def _e(value):
    return html.escape("" if value is None else str(value), quote=True)


def _slug(text):
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-") or "x"


def deny_groups(namespace, data):
    """``{policies tuple: anchor id}``: the sets of policies deciding the picture's denied cells, in first-seen order."""
    groups = {}
    for c in (data or {}).get("cells") or []:
        if c.get("verdict") == "denied":
            key = tuple(c.get("policies") or ())
            if key not in groups:
                groups[key] = f"deny-{_slug(namespace)}-{len(groups) + 1}"
    return groups


def reachability_svg(namespace, data, limit=MATRIX_LIMIT):
    """One namespace's Service reachability as an inline SVG matrix (rows: clients, columns: Service ports)."""
    clients = list((data or {}).get("clients") or [])[:limit]
    services = list((data or {}).get("services") or [])[:limit]
    cells = {(c.get("src"), c.get("dst")): c for c in (data or {}).get("cells") or []}
    cell = 22
    anchors = deny_groups(namespace, data)
    marks = {"ingress controller": " [ingress]", "named by a policy": " [policy peer]"}
    label_w = min(340, 14 + 7 * max((len(str(c.get("label")) + marks.get(c.get("role"), "")) for c in clients), default=1))
    col_h = min(220, 16 + 6 * max((len(str(s.get("label"))) for s in services), default=1))
    top = col_h
    width = label_w + cell * len(services) + 10 + col_h // 2
    height = top + cell * len(clients) + 10
    parts = [
        f'<svg class="policy-picture" role="img" aria-label="{_e("Service reachability in namespace " + str(namespace))}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="11">'
    ]
    for i, client in enumerate(clients):
        y = top + i * cell + cell - 7
        role = client.get("role")
        mark = marks.get(role, "")
        parts.append(f'<text x="{label_w - 4}" y="{y}" text-anchor="end"><title>{_e(client.get("id"))}: {_e(role)}, pod {_e(client.get("pod"))}</title>'
                     f"{_e(client.get('label'))}{_e(mark)}</text>")
    for j, svc in enumerate(services):
        x = label_w + j * cell + cell - 8
        parts.append(f'<text x="{x}" y="{top - 4}" transform="rotate(-50 {x} {top - 4})"><title>{_e(svc.get("id"))} '
                     f"(targetPort {_e(svc.get('target_port'))}, {_e(svc.get('type'))})</title>{_e(svc.get('label'))}</text>")
    for i, client in enumerate(clients):
        for j, svc in enumerate(services):
            data_cell = cells.get((client.get("id"), svc.get("id")))
            verdict = (data_cell or {}).get("verdict")
            glyph, word, fill = VERDICTS.get(verdict, NOT_EVALUATED)
            x, y = label_w + j * cell, top + i * cell
            why = (data_cell or {}).get("reason")
            title = f"{client.get('label')} -> {svc.get('label')}: {word}"
            if why:
                title += f" ({why})"
            body = (f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{fill}" data-src="{_e(client.get("id"))}" '
                    f'data-dst="{_e(svc.get("id"))}" data-verdict="{_e(verdict or "not_evaluated")}"><title>{_e(title)}</title></rect>'
                    f'<text x="{x + cell // 2}" y="{y + cell - 7}" text-anchor="middle" font-size="13" font-weight="700" '
                    f'pointer-events="none">{_e(glyph)}</text>')
            if verdict == "denied":
                anchor = anchors[tuple(data_cell.get("policies") or ())]
                body = f'<a href="#{_e(anchor)}" class="denied-link">{body}</a>'
            parts.append(body)
    parts.append("</svg>")
    hidden = max(0, len((data or {}).get("clients") or []) - len(clients)) + int((data or {}).get("hidden_clients") or 0)
    hidden_svc = max(0, len((data or {}).get("services") or []) - len(services)) + int((data or {}).get("hidden_services") or 0)
    note = ""
    if hidden or hidden_svc:
        note = f"<p>{hidden} more client(s) and {hidden_svc} more Service port(s) not drawn.</p>"
    return "".join(parts) + note


def _policy_list(namespace, data):
    """The policies deciding the picture's denied cells, with the paths they deny (each denied cell links to its entry)."""
    services = {x.get("id"): x.get("label") for x in (data or {}).get("services") or []}
    clients = {x.get("id"): x.get("label") for x in (data or {}).get("clients") or []}
    anchors = deny_groups(namespace, data)
    if not anchors:
        return ""
    paths = {key: [] for key in anchors}
    for c in (data or {}).get("cells") or []:
        if c.get("verdict") == "denied":
            paths[tuple(c.get("policies") or ())].append(c)
    out = ['<p>Denied paths, by the policies that decide them (each denied cell links to its entry):</p><ul class="policies">']
    for key, anchor in anchors.items():
        cells = paths[key]
        names = ", ".join(f"{clients.get(c.get('src'), c.get('src'))} \u2192 {services.get(c.get('dst'), c.get('dst'))}" for c in cells[:10])
        more = f" and {len(cells) - 10} more" if len(cells) > 10 else ""
        policies = ", ".join(f"<code>{_e(ref)}</code>" for ref in key) or "no policy named"
        out.append(f'<li id="{_e(anchor)}" class="deny-group">{policies}: {_e(names)}{_e(more)}'
                   f"<br><small>{_e(cells[0].get('reason') or '')}</small></li>")
    out.append("</ul>")
    return "".join(out)


def _header_html(diagnostics):
    rows = "".join(f"<tr><th>{_e(label)}</th><td>{_e(text)}</td></tr>" for label, text in header_rows(run_header(diagnostics)))
    return f'<table class="run" id="run">{rows}</table>'


def _causes_html(diagnostics, findings):
    causes = [c for c in diagnostics.get("causes") or [] if c.get("severity") != "info" or c.get("consequences")]
    out = ['<section id="causes"><h2>Fix these first</h2>']
    if not causes:
        out.append("<p>No errors or warnings.</p></section>")
        return out
    out.append("<ol>")
    for cause in causes:
        i = cause.get("finding")
        f = findings[i] if isinstance(i, int) and 0 <= i < len(findings) else {}
        sev = cause.get("severity")
        out.append(
            f'<li class="cause {_e(sev)}" data-finding="{_e(i)}"><span class="sev {_e(sev)}">{_e(sev)}</span><code>{_e(cause.get("code"))}</code> '
            f'<strong>{_e(_resource_text(cause.get("resource")))}</strong> <a href="#finding-{_e(i)}">details</a>'
            f'<div class="fix"><strong>Fix:</strong> {_e(f.get("remediation"))}</div>'
        )
        if cause.get("consequences"):
            out.append('<ul class="consequences">')
            for c in cause["consequences"]:
                out.append(f'<li class="consequence" data-finding="{_e(c.get("finding"))}"><span class="sev {_e(c.get("severity"))}">'
                           f'{_e(c.get("severity"))}</span><code>{_e(c.get("code"))}</code> {_e(_resource_text(c.get("resource")))}: '
                           f'{_e(c.get("because"))} <a href="#finding-{_e(c.get("finding"))}">details</a></li>')
            out.append("</ul>")
        out.append("</li>")
    out.append("</ol></section>")
    return out


def _checks_html(diagnostics):
    out = ['<section id="checks"><h2>What was checked</h2>']
    for step in diagnostics.get("steps") or []:
        rows = _check_rows(step)
        title = f"Step {step.get('step')} {step.get('name')}"
        if not rows:
            out.append(f'<p class="step-not-run"><strong>{_e(title)}</strong>: <span class="skipped">not run</span> - {_e(step.get("reason"))}</p>')
            continue
        objects = step.get("checked_objects") or []
        more = step.get("checked_objects_more") or 0
        out.append(f'<h3>{_e(title)} <span class="{_e(step.get("status"))}">{_e(STATUS_MARK.get(step.get("status"), step.get("status")))}</span></h3>')
        out.append(f'<table class="checks" data-step="{_e(step.get("step"))}"><tr><th>result</th><th>check</th><th>code</th><th>note</th></tr>')
        for check in rows:
            st = check.get("status")
            note = check.get("reason") or (f"{check.get('findings')} finding(s)" if check.get("findings") else "")
            out.append(f'<tr class="check" data-status="{_e(st)}"><td class="{_e(st)}">{_e(CHECK_MARK.get(st, st))}</td><td>{_e(check.get("check"))}</td>'
                       f"<td><code>{_e(check.get('code'))}</code></td><td>{_e(note)}</td></tr>")
        out.append("</table>")
        listed = "".join(f"<li>{_e(o)}</li>" for o in objects)
        extra = f"<li>and {more} more</li>" if more else ""
        out.append(f"<details><summary>{len(objects) + more} object(s) checked</summary><ul>{listed}{extra}</ul></details>")
    out.append("</section>")
    return out


def render_html(diagnostics, reachability=None):
    """A self-contained HTML page: header, causes, steps, what held, findings by severity, reachability pictures."""
    summary = diagnostics.get("summary") or {}
    findings = diagnostics.get("findings") or []
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>AKS network diagnostics</title>',
        f"<style>{_CSS}</style></head><body>",
        "<h1>AKS network diagnostics</h1>",
        _header_html(diagnostics),
        '<div class="summary" id="summary">',
        f'<span class="s-error">{_e(summary.get("errors", 0))} error(s)</span>',
        f'<span class="s-warning">{_e(summary.get("warnings", 0))} warning(s)</span>',
        f'<span class="s-info">{_e(summary.get("infos", 0))} info(s)</span>',
        "</div>",
    ]
    out += _causes_html(diagnostics, findings)
    out += ["<h2>Steps</h2>", "<table><tr><th>#</th><th>step</th><th>status</th><th>checked</th><th>note</th></tr>"]
    for step in diagnostics.get("steps") or []:
        st = step.get("status")
        out.append(
            f"<tr><td>{_e(step.get('step'))}</td><td>{_e(step.get('name'))}</td>"
            f'<td class="{_e(st)}">{_e(STATUS_MARK.get(st, st))}</td><td>{_e(step.get("checked", 0))}</td>'
            f"<td>{_e(step.get('reason') or '')}</td></tr>"
        )
    out.append("</table>")
    out += _checks_html(diagnostics)
    out.append("<h2>Findings</h2>")
    if not findings:
        out.append("<p>No findings.</p>")
    for severity, group in _by_severity(findings).items():
        if not group:
            continue
        out.append(f"<h3>{_e(SEVERITY_TITLES.get(severity, severity))} ({len(group)})</h3>")
        for i, f in group:
            out.append(
                f'<div class="finding {_e(severity)}" id="finding-{i}"><div><code>{_e(f.get("code"))}</code> '
                f"<strong>{_e(_resource_text(f.get('resource')))}</strong> (step {_e(f.get('step'))})</div>"
                f"<div>{_e(f.get('message'))}</div>"
                f'<div class="fix"><strong>Fix:</strong> {_e(f.get("remediation"))}</div>'
            )
            ev_lines = evidence_lines(f.get("evidence"), f.get("message"))
            if ev_lines:
                items = "".join(f"<dt>{_e(k)}</dt><dd>{'<code>' + _e(t) + '</code>' if is_json else _e(t)}</dd>" for k, t, is_json in ev_lines)
                out.append(f'<details><summary>evidence</summary><dl class="evidence">{items}</dl></details>')
            out.append("</div>")
    if reachability:
        legend = "".join(f'<span><b style="color:{fill}">&#9632;</b> {_e(glyph)} {_e(word)}</span>' for glyph, word, fill in VERDICTS.values())
        out += [
            '<h2 id="reachability">Reachability</h2>',
            "<p>Each Service port as its clients reach it: rows are client workloads (the namespace's own, the ingress controller "
            "when an Ingress routes to the namespace, and workloads of other namespaces that a policy names); columns are "
            "Service ports (<code>service:port\u2192targetPort</code>). The verdict is for the targetPort on the Service's backend pods.</p>",
            f'<p class="legend">{legend}<span><b style="color:{NOT_EVALUATED[2]}">&#9632;</b> {_e(NOT_EVALUATED[0])} {_e(NOT_EVALUATED[1])}</span></p>',
        ]
        for namespace in sorted(reachability, key=str):
            out.append(f"<h3>Namespace {_e(namespace)}</h3>")
            out.append(reachability_svg(namespace, reachability[namespace]))
            out.append(_policy_list(namespace, reachability[namespace]))
    out.append("</body></html>")
    return "\n".join(out)


# ------------------------------------------------------------------------------------- JSON


def _sorted(value):
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def render_json(diagnostics):
    """report.json: the run's ``header`` first, then the diagnostics (keys sorted)."""
    document = {"header": _sorted(run_header(diagnostics))}
    document.update(_sorted({k: v for k, v in diagnostics.items() if k != "header"}))
    return json.dumps(document, indent=2, default=str) + "\n"


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
    write_private(paths["json"], render_json(diagnostics))
    write_private(paths["markdown"], render_markdown(diagnostics))
    write_private(paths["html"], render_html(diagnostics, reachability))
    return paths

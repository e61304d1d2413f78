# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The console summary of a diagnostics run: short whatever the number of findings. Pure.

``summary_lines`` gives the header (counts per severity), one line per step (status and its
counts per severity), the top findings (``TOP`` lines at most, each at most ``WIDTH``
characters) and the report paths. Findings of the same code and severity -- one cause repeated
over many resources -- share one line with a count and the number of namespaces, e.g.
``warning netpol.selects_no_pods x140 in 12 namespaces (e.g. NetworkPolicy shop/p): ...``.
The registered result keeps every finding; ``finding_line`` is the one-line form used with -v.
"""

from __future__ import annotations

from .findings import SEVERITIES

TOP = 20
WIDTH = 160
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def _clip(text, width=WIDTH):
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _where(res):
    res = res or {}
    ns = res.get("namespace")
    return f"{res.get('kind')} {ns + '/' if ns else ''}{res.get('name')}"


def finding_line(f, width=None):
    """``severity code Kind ns/name: message`` (clipped to ``width`` when given)."""
    line = f"{f.get('severity')} {f.get('code')} {_where(f.get('resource'))}: {f.get('message')}"
    return _clip(line, width) if width else " ".join(line.split())


def _groups(findings):
    groups = {}
    for f in findings:
        groups.setdefault((f.get("severity"), f.get("code")), []).append(f)
    return sorted(groups.values(), key=lambda g: (_RANK.get(g[0].get("severity"), 9), -len(g), g[0].get("step") or 0, g[0].get("code") or ""))


def group_line(group):
    """One line for findings sharing code and severity: the finding itself, or a count and an example."""
    first = group[0]
    if len(group) == 1:
        return finding_line(first, WIDTH)
    namespaces = {(f.get("resource") or {}).get("namespace") for f in group} - {None}
    spread = f" in {len(namespaces)} namespace{'s' if len(namespaces) != 1 else ''}" if namespaces else ""
    return _clip(f"{first.get('severity')} {first.get('code')} \u00d7{len(group)}{spread} (e.g. {_where(first.get('resource'))}): {first.get('message')}")


def summary_lines(diagnostics, mode=None, report_paths=None, notes=(), top=TOP):
    """The default console output of a run (a list of lines, none longer than ``WIDTH``)."""
    summary = diagnostics.get("summary") or {}
    findings = diagnostics.get("findings") or []
    lines = [_clip(f"diagnostics{' (' + mode + ')' if mode else ''}: {summary.get('errors', 0)} error(s), {summary.get('warnings', 0)} "
                   f"warning(s), {summary.get('infos', 0)} info(s) in {len(findings)} finding(s)")]
    per_step = {}
    for f in findings:
        counts = per_step.setdefault(f.get("step"), dict.fromkeys(SEVERITIES, 0))
        counts[f.get("severity")] = counts.get(f.get("severity"), 0) + 1
    for s in diagnostics.get("steps") or []:
        counts = per_step.get(s.get("step"), {})
        shown = ", ".join(f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in counts.items() if n)
        detail = f" ({shown})" if shown else ""
        if s.get("status") == "skipped" and s.get("reason"):
            detail += f" - {s['reason']}"
        lines.append(_clip(f"step {s.get('step')} {s.get('name')}: {s.get('status')}{detail}"))
    groups = [g for g in _groups(findings) if g[0].get("severity") != "info"] or _groups(findings)
    if groups:
        lines.append(f"top findings ({min(top, len(groups))} of {len(groups)} line(s); all {len(findings)} with -v and in the registered result):")
        lines.extend(group_line(g) for g in groups[:top])
    lines.extend(_clip(f"note: {n}") for n in notes or ())
    for fmt, path in sorted((report_paths or {}).items()):
        lines.append(f"report ({fmt}): {path}")
    return lines

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports: Markdown and self-contained HTML with escaped values and reachability pictures; JSON with the run's header first."""

from __future__ import annotations

import json
import os
import re
import stat

from diag_fixtures import healthy_system, pod, service

from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics
from ansible_collections.aksnet.networking.plugins.module_utils._diag.findings import finding
from ansible_collections.aksnet.networking.plugins.module_utils._diag.report import header_rows, render_html, render_markdown, run_header, write_reports

EVIL = '<script>alert("x")</script>'


def diagnostics():
    objs = [*healthy_system(), pod("api-0", phase="Pending"), service("shop|front", selector={"app": EVIL})]
    return run_diagnostics(objs)


REACH = {
    "shop": {
        "clients": [{"id": "shop/frontend", "label": "frontend", "role": "namespace"}, {"id": "shop/api", "label": "api", "role": "namespace"},
                    {"id": f"shop/{EVIL}", "label": EVIL, "role": "namespace"}],
        "services": [{"id": "shop/api:80/TCP", "label": "api:80\u21928080"}, {"id": "shop/frontend:80/TCP", "label": "frontend:80"},
                     {"id": "shop/x:80/TCP", "label": "x:80"}],
        "cells": [{"src": "shop/frontend", "dst": "shop/api:80/TCP", "verdict": "allowed"},
                  {"src": "shop/api", "dst": "shop/frontend:80/TCP", "verdict": "denied", "policies": ["shop/deny"], "reason": "isolated"},
                  {"src": f"shop/{EVIL}", "dst": "shop/api:80/TCP", "verdict": "allowed"}],
    },
}


def test_markdown_summary_steps_and_findings_by_severity():
    diag = diagnostics()
    md = render_markdown(diag)
    assert md.index("error(s)") < md.index("## Steps") < md.index("## Errors")
    assert "| 3 | connectivity | SKIPPED |" in md
    assert "`pod.not_running` - Pod default/api-0 (step 1)" in md
    [not_running] = [f for f in diag["findings"] if f["code"] == "pod.not_running"]
    assert f"**Fix:** {not_running['remediation']}" in md
    assert "## Warnings" not in md  # no warnings in this run: no empty section
    steps = md[md.index("## Steps"):md.index("## What was checked")]
    assert steps.count("\n| ") == 1 + 8  # header + one row per step


def test_html_is_self_contained_and_escaped():
    page = render_html(diagnostics(), reachability=REACH)
    assert page.startswith("<!DOCTYPE html>")
    assert EVIL not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?https?:", page, re.IGNORECASE)
    assert "@import" not in page and "<link" not in page
    # header and summary first, then causes, steps, what was checked, findings, and the pictures
    assert (page.index('id="run"') < page.index('class="summary"') < page.index('id="causes"') < page.index("<h2>Steps</h2>")
            < page.index('id="checks"') < page.index("<h2>Findings</h2>") < page.index('id="reachability"'))
    assert page.count("<svg") == 1
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert svg.count("<rect") == 9
    assert ("frontend -&gt; api:80\u21928080: allowed" in svg and "api -&gt; frontend:80: denied (isolated)" in svg
            and "api -&gt; api:80\u21928080: not evaluated" in svg)


def test_html_without_findings_or_reachability():
    page = render_html(run_diagnostics(healthy_system(), steps=[7]))
    assert "No findings." in page and "<svg" not in page


def test_large_namespace_is_capped():
    clients = [{"id": f"big/w{i}", "label": f"w{i}"} for i in range(100)]
    data = {"clients": clients, "services": [{"id": "big/s:80/TCP", "label": "s:80"}], "cells": [], "hidden_clients": 5}
    page = render_html(diagnostics(), reachability={"big": data})
    assert "45 more client(s) and 0 more Service port(s) not drawn" in page
    assert page.count("<rect") == 60


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def test_write_reports(tmp_path):
    diag = diagnostics()
    target = tmp_path / "reports" / "run1"
    paths = write_reports(diag, str(target), reachability=REACH)
    assert set(paths) == {"json", "markdown", "html"}
    written = json.loads(_read(paths["json"]))
    assert next(iter(written)) == "header"  # the run is identified at the top of the file
    assert written == json.loads(json.dumps(dict(diag, header=run_header(diag))))
    assert _read(paths["markdown"]) == render_markdown(diag)
    assert "<svg" in _read(paths["html"])
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(paths["html"]).st_mode) == 0o600
    # rewriting into an existing directory works
    assert write_reports(diag, str(target)) == paths


# ------------------------------------------------------------------------------------- header

LIVE_FACTS = {
    "cluster_facts": {"name": "prod-aks", "resource_group": "prod-rg", "plugin": "azure", "plugin_mode": "overlay", "dataplane": "cilium",
                      "policy": "cilium",
                      "id": "/subscriptions/1111-2222/resourceGroups/prod-rg/providers/Microsoft.ContainerService/managedClusters/prod-aks"},
    "kubelet_versions": ["v1.32.7"],
    "namespaces": ["shop"],
    "source": "live",
    "server": "https://prod-aks.hcp.westeurope.azmk8s.io:443",
    "run": {"collection_version": "0.1.0", "duration_seconds": 2.54, "fleet_member": None},
}


def _header(facts):
    diag = dict(diagnostics(), facts=facts)
    return dict(header_rows(run_header(diag))), diag


def test_header_identifies_a_live_run_at_the_top_of_every_report():
    rows, diag = _header(LIVE_FACTS)
    assert rows["Cluster"] == "prod-aks" and rows["Resource group"] == "prod-rg" and rows["Subscription"] == "1111-2222"
    assert rows["Kubernetes version"] == "v1.32.7 (nodes' kubelet)"
    assert rows["Network profile"] == "plugin azure (overlay), dataplane cilium, policy cilium"
    assert rows["Mode"] == "live" and rows["Source"] == "API server https://prod-aks.hcp.westeurope.azmk8s.io:443"
    assert rows["Snapshot redacted"] == "not a snapshot (live data, nothing redacted)"
    assert rows["Time taken"] == "2.5 s" and rows["Collection version"] == "aksnet.networking 0.1.0"
    md, page = render_markdown(diag), render_html(diag)
    assert md.index("| Cluster | prod-aks |") < md.index("error(s)")
    assert page.index('<table class="run" id="run"><tr><th>Cluster</th><td>prod-aks</td></tr>') < page.index('id="summary"')


def test_header_of_a_snapshot_says_whether_it_was_redacted_and_never_guesses():
    facts = dict(LIVE_FACTS, source="snapshot", server=None, snapshot_path="/tmp/prod.json",
                 snapshot_info={"redacted": True, "captured_at": "2026-12-01T10:00:00Z", "collection_version": "0.1.0",
                                "cluster": {"server": "https://x", "context": "prod"}})
    rows, _diag = _header(facts)
    assert rows["Mode"] == "snapshot" and rows["Snapshot redacted"] == "yes"
    assert rows["Source"] == "snapshot /tmp/prod.json, captured 2026-12-01T10:00:00Z by aksnet.networking 0.1.0"
    facts["snapshot_info"] = {"captured_at": None}  # an older snapshot that does not say
    rows, _diag = _header(facts)
    assert rows["Snapshot redacted"] == "unknown (the snapshot does not say)"
    # the module's older shape of facts.source (a mapping) is read too
    rows, _diag = _header({"source": {"mode": "snapshot", "snapshot": "/tmp/s.yaml", "server": None, "taken_at": None}})
    assert rows["Mode"] == "snapshot" and rows["Snapshot redacted"].startswith("unknown")
    assert rows["Cluster"] == rows["Subscription"] == rows["Time taken"] == rows["Kubernetes version"] == "unknown"


def test_header_names_the_fleet_member():
    rows, _diag = _header(dict(LIVE_FACTS, run={"fleet_member": "dev-1", "duration_seconds": 1, "collection_version": "0.1.0"}))
    assert rows["Mode"] == "fleet member dev-1 (live)"


# ------------------------------------------------------------------------------------- evidence once (15.10)


def test_markdown_shows_the_explanation_once_and_evidence_as_key_value_lines():
    example = "denied - ingress (kubernetes): pod shop/api-1 is isolated for ingress by shop/api-from-web and no ingress rule admits pod shop/web-1 on TCP/8081"
    bad = finding("netpol.blocks_service_traffic", "error", 4, "Service", "shop", "api",
                  f"Service shop/api port 80/TCP (targetPort 8081): no pod may reach its backend. Example: {example}", "add a rule",
                  {"example": example, "selector": {"app": "api"}, "policies": ["shop/api-from-web"], "port": 80, "ok": False,
                   "closest_pods": [{"pod": "web-1", "differs": {"app": "web"}}]})
    diag = dict(diagnostics(), findings=[bad], causes=[])
    md = render_markdown(diag)
    assert md.count(example) == 1
    assert "```json" not in md
    section = md[md.index("Evidence:"):]
    assert "- selector: app=api" in section and "- policies: shop/api-from-web" in section and "- port: 80" in section and "- ok: no" in section
    assert '- closest_pods: `[{"differs": {"app": "web"}, "pod": "web-1"}]`' in section  # no text form: raw JSON
    page = render_html(diag)
    assert page.count(example.replace("'", "&#x27;")) == 1

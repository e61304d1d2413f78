# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each step checked: the checks that ran and held, those that found something, those that could not run."""

from __future__ import annotations

from diag_fixtures import endpoint_slice, healthy_system, pod, service

from ansible_collections.aksnet.networking.plugins.module_utils._diag.checks import CATALOGUE
from ansible_collections.aksnet.networking.plugins.module_utils._diag.correlate import merge_findings
from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics
from ansible_collections.aksnet.networking.plugins.module_utils._diag.findings import STEP_NAMES, finding
from ansible_collections.aksnet.networking.plugins.module_utils._diag.report import render_html, render_markdown


def _checks(diag, step):
    [entry] = [s for s in diag["steps"] if s["step"] == step]
    return entry, {c["code"]: c for c in entry.get("checks") or []}


def clean():
    return [*healthy_system(), pod("web-1", labels={"app": "web"}, ports=[("http", 8080, "TCP")]),
            service("web", selector={"app": "web"}, ports=((80, "http", "TCP", "http"),)), endpoint_slice("web", endpoints=(("web-1", True),))]


def test_a_clean_step_lists_every_check_that_held_and_what_it_looked_at():
    diag = run_diagnostics(clean())
    step, checks = _checks(diag, 2)
    assert step["status"] == "passed"
    assert [c["code"] for c in step["checks"]] == [code for code, _holds, _needs in CATALOGUE[2]]
    assert {c["status"] for c in step["checks"]} == {"passed"}
    assert checks["service.selector_mismatch"]["check"] == "every Service selector matches a running pod"
    assert "Service default/web" in step["checked_objects"] and step["checked_objects_more"] == 0


def test_a_check_that_found_something_says_how_bad_and_how_many():
    diag = run_diagnostics([*clean(), service("typo", selector={"app": "wbe"})])
    _step, checks = _checks(diag, 2)
    assert checks["service.selector_mismatch"]["status"] == "failed" and checks["service.selector_mismatch"]["findings"] == 1
    assert checks["service.lb_pending"]["status"] == "passed"


def test_a_check_without_its_data_is_not_run_never_passed():
    diag = run_diagnostics(clean(), skipped_kinds={"Event": "403 Forbidden"})
    _step, pods = _checks(diag, 1)
    assert pods["pod.sandbox_failed"]["status"] == "not_run" and "Event not listable (403 Forbidden)" in pods["pod.sandbox_failed"]["reason"]
    assert pods["pod.not_listening"]["status"] == "not_run" and "no active probes" in pods["pod.not_listening"]["reason"]
    assert pods["pod.not_running"]["status"] == "passed"
    _step, azure = _checks(diag, 8)
    assert azure == {}  # step 8 skipped without Azure facts: no check listed at all
    diag = run_diagnostics([p for p in clean() if p["kind"] not in ("EndpointSlice", "Endpoints")])
    _step, services = _checks(diag, 2)
    assert services["service.no_endpoints"]["status"] == "not_run"


def test_checks_follow_findings_added_later():
    diag = run_diagnostics(clean())
    merge_findings(diag, [finding("netpol.not_enforced", "error", 4, "Pod", "default", "web-1", "probe passed", "fix", {})])
    _step, checks = _checks(diag, 4)
    assert checks["netpol.not_enforced"]["status"] == "failed" and checks["netpol.not_enforced"]["findings"] == 1


def test_every_step_has_a_catalogue():
    assert sorted(CATALOGUE) == sorted(STEP_NAMES)


def test_reports_show_the_checks_that_held():
    diag = run_diagnostics([*clean(), service("typo", selector={"app": "wbe"})])
    md = render_markdown(diag)
    assert "| PASS | every LoadBalancer Service has an external address | `service.lb_pending` |  |" in md
    assert "| FAIL | every Service selector matches a running pod | `service.selector_mismatch` | 1 finding(s) |" in md
    assert "| NOT RUN | every probed pod listens on its Service's target port | `pod.not_listening` | no active probes" in md
    page = render_html(diag)
    section = page[page.index('id="checks"'):page.index("<h2>Findings</h2>")]
    assert section.count('<tr class="check" data-status="passed">') >= 20
    listed = "<li>Service default/typo</li><li>Service default/web</li><li>Service kube-system/kube-dns</li>"
    assert f"<details><summary>3 object(s) checked</summary><ul>{listed}</ul></details>" in section

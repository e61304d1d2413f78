# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 3 analyzer: each connectivity code fires on a failed probe, and a passing probe (near miss) reports nothing."""

from __future__ import annotations

import pytest
from diag_fixtures import healthy_system

from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics

CASES = [
    ("dns", "connectivity.dns_failed", {"namespace": "shop", "name": "web", "target": "web.shop.svc.cluster.local", "detail": "SERVFAIL"}),
    ("service", "connectivity.service_unreachable",
     {"namespace": "shop", "name": "web", "target": "10.0.12.7", "port": 80, "protocol": "TCP", "detail": "connection timed out"}),
    ("pod", "connectivity.pod_unreachable",
     {"namespace": "shop", "name": "web-1", "target": "10.244.1.10", "port": 8080, "protocol": "TCP", "detail": "connection refused"}),
    ("egress", "connectivity.egress_failed", {"target": "https://mcr.microsoft.com", "detail": "curl: (28) timed out"}),
]


@pytest.mark.parametrize("check,code,probe", CASES, ids=[c[1] for c in CASES])
def test_failed_probe_fires_and_passing_probe_does_not(check, code, probe):
    failed = run_diagnostics(healthy_system(), steps=[3], probe_results=[dict(probe, check=check, ok=False)])
    [f] = failed["findings"]
    assert (f["code"], f["severity"], f["step"]) == (code, "error", 3)
    assert probe["target"] in f["message"] and probe["detail"] in f["message"] and f["remediation"]
    assert f["evidence"]["check"] == check and f["evidence"]["detail"] == probe["detail"]
    assert failed["summary"]["steps"]["3"] == "failed"
    passed = run_diagnostics(healthy_system(), steps=[3], probe_results=[dict(probe, check=check, ok=True)])
    assert passed["findings"] == [] and passed["summary"]["steps"]["3"] == "passed" and passed["steps"][2]["checked"] == 1


def test_listening_results_belong_to_step_1_and_namespace_filter_applies():
    probes = [{"check": "listening", "namespace": "shop", "name": "web-1", "port": 8080, "ok": False},
              dict(CASES[2][2], check="pod", ok=False)]
    result = run_diagnostics(healthy_system(), steps=[3], probe_results=probes, namespaces=["other"])
    assert result["findings"] == [] and result["steps"][2]["checked"] == 0
    result = run_diagnostics(healthy_system(), steps=[3], probe_results=probes)
    assert [f["code"] for f in result["findings"]] == ["connectivity.pod_unreachable"]

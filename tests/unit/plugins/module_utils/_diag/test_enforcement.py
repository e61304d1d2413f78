# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One answer to "which engine enforces what" for step 4, step 7 and netpol_check (13.12)."""

from __future__ import annotations

from diag_fixtures import daemonset, healthy_system, namespace, pod

from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics
from ansible_collections.aksnet.networking.plugins.module_utils._diag.index import Index
from ansible_collections.aksnet.networking.plugins.module_utils._diag.reachability import policy_settings

CILIUM = {"plugin": "azure", "plugin_mode": "overlay", "dataplane": "cilium", "policy": "cilium"}
DENY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": "shop", "name": "deny"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


def _cluster(agent):
    objs = [*healthy_system(), namespace("shop"), pod("api-1", "shop", {"app": "api"}), DENY]  # kube-proxy still runs
    if agent:
        objs.append(daemonset("cilium"))
    return objs


def test_cilium_dataplane_without_agent_agrees_everywhere():
    objs = _cluster(agent=False)
    result = run_diagnostics(objs, steps=[4, 7], cluster_facts=CILIUM)
    step7 = [f for f in result["findings"] if f["step"] == 7]
    assert [(f["code"], f["resource"]["name"]) for f in step7] == [("dataplane.cni_unhealthy", "cilium")]
    assert step7[0]["evidence"]["policies_enforced"] is False and step7[0]["evidence"]["kube_proxy"] is True
    assert result["summary"]["steps"]["7"] == "failed"
    # step 4 and netpol_check (policy_settings) say the same: nothing enforces the policies
    assert any(f["code"] == "netpol.not_enforced" and "no Cilium agent" in f["message"] for f in result["findings"])
    settings = policy_settings(Index(objs), CILIUM)
    assert settings["enforce"] == []


def test_cilium_dataplane_with_agent_enforces_and_step7_passes():
    objs = _cluster(agent=True)
    result = run_diagnostics(objs, steps=[4, 7], cluster_facts=CILIUM)
    assert result["summary"]["steps"]["7"] == "passed"
    assert not [f for f in result["findings"] if f["code"] in ("netpol.not_enforced", "dataplane.cni_unhealthy")]
    assert policy_settings(Index(objs), CILIUM)["enforce"] == ["kubernetes", "cilium"]

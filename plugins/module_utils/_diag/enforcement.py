# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which engine enforces what: the one answer used by step 4 (policies), step 7 (data plane) and
``netpol_check`` (through ``reachability.policy_settings``). Pure.

Inputs: the normalised network profile (``step_policies.network_facts``) and what runs in
kube-system. A network profile that names Cilium (dataplane or network policy ``cilium``) while no
Cilium agent runs enforces nothing: Cilium policies and NetworkPolicies alike are then not enforced,
and step 7 reports the missing agent. An agent that cannot be seen (DaemonSets and Pods not
listable) is trusted to run.
"""

from __future__ import annotations

ENFORCING_POLICIES = ("azure", "calico", "cilium")
CILIUM_DAEMONSET = "cilium"


def cilium_agent_present(index):
    """True / False from the kube-system DaemonSets and pods, None when unknown."""
    if "DaemonSet" in index.skipped and "Pod" in index.skipped:
        return None
    for ds in index.in_namespace("DaemonSet", "kube-system"):
        if (ds.get("metadata") or {}).get("name") == CILIUM_DAEMONSET:
            return True
    for pod in index.in_namespace("Pod", "kube-system"):
        if ((pod.get("metadata") or {}).get("labels") or {}).get("k8s-app") == "cilium":
            return True
    return False if index.kinds("DaemonSet") or index.in_namespace("Pod", "kube-system") else None


def enforcement(facts, index):
    """``{kubernetes, cilium, why_not_cilium, why_not_kubernetes, cilium_expected, cilium_agent}``.

    ``kubernetes`` / ``cilium``: True, False or None (unknown: assumed to enforce). ``cilium_expected``:
    the network profile names Cilium, so an agent must run. ``cilium_agent``: True/False/None as seen.
    """
    agent = cilium_agent_present(index)
    out = {"kubernetes": None, "cilium": None, "why_not_cilium": None, "why_not_kubernetes": None,
           "cilium_expected": False, "cilium_agent": agent}
    if facts["known"]:
        expected = facts["dataplane"] == "cilium" or facts["policy"] == "cilium"
        out["cilium_expected"] = expected
        if expected and agent is False:
            why = (f"the network profile names Cilium (dataplane {facts['dataplane'] or 'azure'}, network policy {facts['policy'] or 'none'}) "
                   "but no Cilium agent (DaemonSet kube-system/cilium or k8s-app=cilium pods) runs, so nothing enforces policies")
            out.update(kubernetes=False, cilium=False, why_not_cilium=why, why_not_kubernetes=why)
            return out
        out["cilium"] = expected
        out["kubernetes"] = expected or facts["policy"] in ENFORCING_POLICIES
        if not expected:
            out["why_not_cilium"] = (
                f"the cluster's network profile has dataplane {facts['dataplane'] or 'azure'} and network policy {facts['policy'] or 'none'}: "
                "only Azure CNI powered by Cilium (network_dataplane cilium) enforces Cilium policies")
        if not out["kubernetes"]:
            out["why_not_kubernetes"] = (f"the cluster's network policy is {facts['policy'] or 'none'} and its dataplane "
                                         f"{facts['dataplane'] or 'azure'}")
        return out
    if agent is False:
        out.update(cilium=False, why_not_cilium="no Cilium agent (DaemonSet kube-system/cilium or k8s-app=cilium pods) runs in the cluster")
    return out

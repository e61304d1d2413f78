# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 7 of the field guide: are kube-proxy, the CNI agents and the nodes' networks healthy? Pure.

Cluster-wide: checked whatever the namespace filter. A missing kube-proxy is reported only when
the cluster facts say the dataplane is not Cilium (Cilium replaces kube-proxy on AKS).
"""

from __future__ import annotations

import re

from .enforcement import CILIUM_DAEMONSET, enforcement
from .findings import finding
from .helpers import condition, name_of, ns_of, owner, pod_ready, short_list, spec, status
from .step_policies import network_facts

STEP = 7
REQUIRED_KINDS = ("DaemonSet",)
OPTIONAL_KINDS = ("Node", "Pod")

KUBE_PROXY = "kube-proxy"
CNI_DAEMONSETS = re.compile(r"^(azure-cns(-win)?|azure-cni.*|azure-npm(-win)?|cilium|calico-node(-windows)?)$")


def _health(ds):
    st = status(ds)
    desired = int(st.get("desiredNumberScheduled") or 0)
    ready = int(st.get("numberReady") or 0)
    unavailable = int(st.get("numberUnavailable") or 0)
    return desired, ready, unavailable


def _unready_pods(index, ds):
    out = {}
    for pod in index.in_namespace("Pod", ns_of(ds)):
        if owner(pod) == ("DaemonSet", name_of(ds)) and not pod_ready(pod):
            out[name_of(pod)] = spec(pod).get("nodeName")
    return out


def _ds_finding(index, ds, code, what, fix):
    desired, ready, unavailable = _health(ds)
    if ready >= desired and unavailable == 0:
        return None
    pods = _unready_pods(index, ds)
    nodes = sorted({n for n in pods.values() if n})
    text = f"DaemonSet {ns_of(ds)}/{name_of(ds)} ({what}) has {ready} of {desired} pods ready"
    if unavailable:
        text += f", {unavailable} unavailable"
    if nodes:
        text += f"; affected nodes: {short_list(nodes)}"
    return finding(
        code, "error", STEP, "DaemonSet", ns_of(ds), name_of(ds), text + ".", fix,
        {"desired": desired, "ready": ready, "unavailable": unavailable, "unready_pods": pods, "nodes": nodes},
    )


def analyze(index, ctx):
    found = []
    checked = 0
    facts = ctx.cluster_facts or {}
    kube_proxy_seen = False
    for ds in index.kinds("DaemonSet"):
        name = name_of(ds)
        if name == KUBE_PROXY:
            kube_proxy_seen = True
            checked += 1
            result = _ds_finding(
                index, ds, "dataplane.kube_proxy_unhealthy", "Service routing",
                "On the affected nodes Service ClusterIPs do not route: kubectl get pods -n kube-system -l component=kube-proxy -o wide, "
                "kubectl logs -n kube-system -l component=kube-proxy --tail=30; a node image upgrade or reimage restores a broken node.",
            )
            if result:
                found.append(result)
        elif CNI_DAEMONSETS.match(name):
            checked += 1
            result = _ds_finding(
                index, ds, "dataplane.cni_unhealthy", "CNI / network policy agent",
                f"Pods on the affected nodes get no network or policy updates: kubectl get pods -n {ns_of(ds)} -o wide | grep {name}, "
                f"kubectl logs -n {ns_of(ds)} <pod> and kubectl describe pod; for Cilium also cilium status in the agent pod.",
            )
            if result:
                found.append(result)
    if not kube_proxy_seen and facts.get("dataplane") and facts.get("dataplane") != "cilium" and index.kinds("DaemonSet"):
        found.append(finding(
            "dataplane.kube_proxy_unhealthy", "warning", STEP, "DaemonSet", "kube-system", KUBE_PROXY,
            f"No kube-proxy DaemonSet in kube-system although the dataplane is {facts.get('dataplane')!r}: Services may not route.",
            "kubectl get ds -n kube-system; kube-proxy is managed by AKS: reconcile the cluster (az aks update without changes) if it is gone.",
            {"dataplane": facts.get("dataplane")},
        ))
    state = enforcement(network_facts(ctx.cluster_facts), index)
    if state["cilium_expected"] and state["cilium_agent"] is False:
        # the same answer step 4 and netpol_check use: with no agent, nothing enforces the policies
        found.append(finding(
            "dataplane.cni_unhealthy", "error", STEP, "DaemonSet", "kube-system", CILIUM_DAEMONSET,
            f"No Cilium agent runs in kube-system although {state['why_not_cilium'].split(' but ')[0]}: pod networking and every "
            "network policy (NetworkPolicy and Cilium) are unenforced"
            + (", and kube-proxy still routes Services as on a non-Cilium cluster." if kube_proxy_seen else "."),
            "kubectl get ds -n kube-system cilium; the agent is managed by AKS: reconcile the cluster (az aks update -g <rg> -n <cluster> "
            "without changes) or open a support case; step 4 and netpol_check treat the policies as not enforced until it runs.",
            {"dataplane": facts.get("dataplane"), "network_policy": facts.get("policy"), "cilium_agent": False,
             "kube_proxy": kube_proxy_seen, "policies_enforced": False},
        ))
    for node in index.kinds("Node"):
        checked += 1
        cond = condition(node, "NetworkUnavailable")
        if cond and str(cond.get("status")) == "True":
            found.append(finding(
                "node.network_unavailable", "error", STEP, "Node", None, name_of(node),
                f"Node {name_of(node)} reports NetworkUnavailable ({cond.get('reason') or 'no reason'}: {cond.get('message') or ''}).".replace(": )", ")"),
                f"The node's routes or CNI are not set up: kubectl describe node {name_of(node)}; check the CNI agent on it (this step) "
                "and, for kubenet, the route table of the node subnet (step 8).",
                {"reason": cond.get("reason"), "message": cond.get("message"), "since": cond.get("lastTransitionTime")},
            ))
    notes = []
    if not index.is_listed("Node"):
        notes.append(f"node conditions not checked: Node not listable ({index.skipped['Node']})")
    return {"checked": checked, "findings": found, "skipped": None, "notes": notes}

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy evaluation set up the way the cluster enforces it, and the per-namespace workload
reachability the HTML report draws. Pure.

Engines follow step 4 (``step_policies``): with cluster facts, Kubernetes NetworkPolicy is enforced
when the network policy is azure, calico or cilium (or the dataplane is cilium) and Cilium policies
only on a Cilium dataplane; without facts every engine is assumed to enforce, except Cilium when no
Cilium agent runs. ``combine="auto"`` means ``merged`` on a Cilium dataplane (Cilium enforces
NetworkPolicy and Cilium policies as one set: a deny of either wins, an allow of either admits) and
``separate`` elsewhere (each enforcing engine must allow).
"""

from __future__ import annotations

from .._netpol.evaluate import CILIUM, EGRESS, INGRESS, KUBERNETES, PolicyEvaluator
from .step_policies import _engines, network_facts

COMBINE_CHOICES = ("auto", "merged", "separate")
WORKLOAD_LIMIT = 30  # workloads drawn per namespace
_HASH_OWNERS = ("ReplicaSet",)


def policy_settings(index, cluster_facts=None, combine="auto"):
    """``{enforce, combine, ipblock_matches_pod_ips, notes}`` for a ``PolicyEvaluator`` of this cluster."""
    if combine not in COMBINE_CHOICES:
        raise ValueError(f"combine {combine!r} is not one of {', '.join(COMBINE_CHOICES)}")
    facts = network_facts(cluster_facts)
    k8s_on, cilium_on, cilium_why = _engines(facts, index)
    enforce = []
    notes = []
    if k8s_on is not False:
        enforce.append(KUBERNETES)
    else:
        notes.append(f"NetworkPolicy is not enforced: the cluster's network policy is {facts['policy'] or 'none'} "
                     f"and its dataplane {facts['dataplane'] or 'azure'}")
    if cilium_on is not False:
        enforce.append(CILIUM)
    elif cilium_why:
        notes.append(f"Cilium policies are not enforced: {cilium_why}")
    if not facts["known"]:
        notes.append("no cluster facts: every policy engine present is assumed to enforce (pass cluster_facts to be exact)")
    chosen = combine if combine != "auto" else ("merged" if cilium_on else "separate")
    # Azure NPM and Calico match ipBlock against pod IPs too; Cilium never does for cluster endpoints.
    ipblock = bool(facts["known"] and not cilium_on and facts["policy"] in ("azure", "calico"))
    return {"enforce": enforce, "combine": chosen, "ipblock_matches_pod_ips": ipblock, "notes": notes}


def build_evaluator(index, cluster_facts=None, combine="auto"):
    """``(PolicyEvaluator, settings)`` for an ``Index``, engines chosen by :func:`policy_settings`."""
    settings = policy_settings(index, cluster_facts, combine)
    ev = PolicyEvaluator.from_index(index, enforce=settings["enforce"], combine=settings["combine"],
                                    ipblock_matches_pod_ips=settings["ipblock_matches_pod_ips"])
    return ev, settings


def workload_of(pod):
    """A pod's workload name: its controller (Deployment name for ReplicaSet pods), else its app label, else the pod."""
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller") is False or not ref.get("name"):
            continue
        name = ref["name"]
        pth = labels.get("pod-template-hash")
        if ref.get("kind") in _HASH_OWNERS and pth and name.endswith("-" + pth):
            name = name[: -len(pth) - 1]
        return name
    for key in ("app.kubernetes.io/name", "app", "k8s-app"):
        if labels.get(key):
            return str(labels[key])
    return meta.get("name")


def _first_port(pod):
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("containerPort"):
                return int(port["containerPort"]), (port.get("protocol") or "TCP").upper()
    return None


def _ready(pod):
    status = pod.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return status.get("phase") == "Running" and conditions.get("Ready") == "True"


def workload_reachability(ev, namespaces=None, limit=WORKLOAD_LIMIT):
    """``{namespace: {nodes, edges, ports}}`` for ``report.render_html``.

    Pods are grouped into workloads (:func:`workload_of`); a ready pod represents each (first by
    name). An edge ``[src, dst, allowed]`` says whether src may open a connection to dst on the
    first container port of dst; destinations without a declared port get no edges ("not
    evaluated"). At most ``limit`` workloads per namespace (by name); ``hidden`` counts the rest.
    """
    wanted = set(namespaces) if namespaces else None
    out = {}
    for ns in sorted(ev.pods_by_ns):
        if wanted is not None and ns not in wanted:
            continue
        groups = {}
        for ep in ev.pods_by_ns[ns]:
            groups.setdefault(workload_of(ep.pod) or ep.name, []).append(ep)
        names = sorted(groups)
        shown = names[:limit]
        reps = {}
        for name in shown:
            members = sorted(groups[name], key=lambda e: (not _ready(e.pod), e.name))
            reps[name] = members[0]
        edges = []
        ports = {}
        for dst_name in shown:
            dst = reps[dst_name]
            first = _first_port(dst.pod)
            if first is None:
                continue
            port, proto = first
            ports[dst_name] = f"{port}/{proto}"
            nums = ev._nums(port, proto)
            ing_ok = ev._direction_masks(INGRESS, dst, port, proto, nums)[0]
            for src_name in shown:
                src = reps[src_name]
                allowed = bool((ing_ok >> src.index) & 1)
                if allowed:
                    eg_ok = ev._direction_masks(EGRESS, src, port, proto, nums)[0]
                    allowed = bool((eg_ok >> dst.index) & 1)
                edges.append([src_name, dst_name, allowed])
        out[ns] = {"nodes": shown, "edges": edges, "ports": ports, "hidden": len(names) - len(shown)}
    return out

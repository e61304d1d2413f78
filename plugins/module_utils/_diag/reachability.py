# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy evaluation set up the way the cluster enforces it, and the per-namespace Service
reachability the HTML report draws. Pure.

Engines follow step 4 (``step_policies``): with cluster facts, Kubernetes NetworkPolicy is enforced
when the network policy is azure, calico or cilium (or the dataplane is cilium) and Cilium policies
only on a Cilium dataplane; without facts every engine is assumed to enforce, except Cilium when no
Cilium agent runs. ``combine="auto"`` means ``merged`` on a Cilium dataplane (Cilium enforces
NetworkPolicy and Cilium policies as one set: a deny of either wins, an allow of either admits) and
``separate`` elsewhere (each enforcing engine must allow).
"""

from __future__ import annotations

from .._netpol.evaluate import CILIUM, EGRESS, INGRESS, KUBERNETES, NetpolInputError, PolicyEvaluator
from .step_ingress import KNOWN_CONTROLLERS
from .step_policies import _engines, network_facts

COMBINE_CHOICES = ("auto", "merged", "separate")
WORKLOAD_LIMIT = 30  # client workloads drawn per namespace
PORT_LIMIT = 40  # Service ports drawn per namespace
EXPLAINED_PER_COLUMN = 3  # denied cells per Service port explained in full by the evaluator (the rest name their policies)
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


def _ready(pod):
    status = pod.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return status.get("phase") == "Running" and conditions.get("Ready") == "True"


def _meta(obj):
    return obj.get("metadata") or {}


def _controller_pods(ev):
    """Endpoints of the known ingress controllers' pods (any class)."""
    out = []
    for _desc, namespace, selectors in KNOWN_CONTROLLERS.values():
        for ns in [namespace] if namespace else sorted(ev.pods_by_ns):
            for ep in ev.pods_by_ns.get(ns, ()):
                if any(all(ep.labels.get(k) == v for k, v in sel.items()) for sel in selectors) and ep not in out:
                    out.append(ep)
    return out


def _ingress_services(index, ns):
    """Names of the Services of ``ns`` an Ingress routes to."""
    names = set()
    for ing in index.in_namespace("Ingress", ns):
        spec = ing.get("spec") or {}
        backends = [spec.get("defaultBackend") or spec.get("backend")]
        for rule in spec.get("rules") or []:
            backends += [p.get("backend") for p in (rule.get("http") or {}).get("paths") or []]
        for backend in backends:
            if backend:
                names.add((backend.get("service") or {}).get("name") or backend.get("serviceName"))
    names.discard(None)
    return names


def _isolating(ev, ep):
    return [pol for engine in sorted(ev.enforce) for pol in ev.selecting(engine, INGRESS, ep) if pol.isolates[INGRESS]]


def _named_peers(ev, ep):
    """Mask of the pods the ingress rules of the policies selecting ``ep`` name (any port); rules open to all are left out."""
    mask = 0
    for engine in sorted(ev.enforce):
        for pol in ev.selecting(engine, INGRESS, ep):
            for rule in pol.rules[INGRESS]:
                if rule.peers is not None:
                    mask |= ev.rule_peer_mask(rule)
    return mask


def _deciding(answer):
    """``(policies, reason)`` that deny a denied ``check`` answer."""
    names = []
    for direction in (EGRESS, INGRESS):
        for detail in (answer.get(direction) or {}).values():
            if not detail.get("enforced") or not detail.get("applicable", True) or detail.get("allowed"):
                continue
            denied = detail.get("denied_by") or {}
            for ref in [denied.get("policy")] if denied.get("policy") else [p.get("name") for p in detail.get("policies") or []]:
                if ref and ref not in names:
                    names.append(ref)
    return names, answer.get("reason")


def _columns(index, ns, ev):
    cols = []
    for svc in sorted(index.in_namespace("Service", ns), key=lambda o: _meta(o).get("name") or ""):
        spec = svc.get("spec") or {}
        if not spec.get("selector") or spec.get("type") == "ExternalName":
            continue
        name = _meta(svc).get("name")
        selector = {str(k): str(v) for k, v in spec["selector"].items()}
        backends = ev.pods_with_labels(ns, selector)
        for sp in spec.get("ports") or []:
            proto = (sp.get("protocol") or "TCP").upper()
            target = sp.get("targetPort") if sp.get("targetPort") not in (None, "") else sp.get("port")
            if isinstance(target, str) and target.isdigit():
                target = int(target)
            label = f"{name}:{sp.get('port')}" + (f"\u2192{target}" if str(target) != str(sp.get("port")) else "")
            cols.append({"id": f"{ns}/{name}:{sp.get('port')}/{proto}", "service": name, "port": sp.get("port"), "target_port": target,
                         "protocol": proto, "label": label + ("" if proto == "TCP" else f"/{proto}"), "type": spec.get("type") or "ClusterIP",
                         "backends": [b.ref() for b in backends[:20]], "_backends": backends})
    return cols


def _short_denial(ev, client, backend, number, proto, ingress_denied, memo):
    """``(policies, reason)`` of a denial without the evaluator's full explanation (which costs a check per cell)."""
    direction, subject, peer = (INGRESS, backend, client) if ingress_denied else (EGRESS, client, backend)
    key = (direction, subject.index)
    refs = memo.get(key)
    if refs is None:
        refs = memo[key] = []
        for engine in sorted(ev.enforce):
            for pol in ev.selecting(engine, direction, subject):
                if (pol.isolates[direction] or pol.deny_rules[direction]) and pol.ref not in refs:
                    refs.append(pol.ref)
    return list(refs), (f"denied - {direction}: {subject.describe()} is isolated for {direction} by {', '.join(refs) or 'its policies'} "
                        f"and no {direction} rule admits {peer.describe()} on {proto}/{number}")


def _representatives(ev, col):
    """``[(backend, port number, declares it)]``: one backend per label set and resolved port (policies select by labels)."""
    reps, seen = [], set()
    for backend in col["_backends"]:
        number = ev._resolve(col["target_port"], col["protocol"], backend)
        if number is None:
            continue
        sig = (tuple(sorted(backend.labels.items())), number)
        if sig in seen:
            continue
        seen.add(sig)
        declared = {v for (_n, p), v in backend.ports.items() if p == col["protocol"]} | _declared_numbers(backend.pod, col["protocol"])
        reps.append((backend, number, not declared or number in declared))
    return reps


def _cell(ev, client, col, explain=True, memo=None):
    """``{verdict, policies, reason}``: may ``client`` (an Endpoint) reach the Service port ``col``? ``explain``: ask the
    evaluator for the full reason of a denial (the first ones of each column), else name the isolating policies."""
    if not col["_backends"]:
        return {"verdict": "no_backend", "policies": [], "reason": f"Service {col['service']} selects no pod"}
    target, proto = col["target_port"], col["protocol"]
    reps = col.get("_reps")
    if reps is None:
        reps = col["_reps"] = _representatives(ev, col)
    if not reps:
        return {"verdict": "not_exposed", "policies": [], "reason": f"no backend of Service {col['service']} declares port {target!r} ({proto})"}
    denied = not_exposed = None
    nums = ev._nums(target, proto)
    for backend, number, declares in reps:
        ing_ok = ev._direction_masks(INGRESS, backend, target, proto, nums)[0]
        allowed = bool((ing_ok >> client.index) & 1)
        if allowed:
            eg_ok = ev._direction_masks(EGRESS, client, target, proto, nums)[0]
            allowed = bool((eg_ok >> backend.index) & 1)
        if allowed:
            if not declares:
                not_exposed = not_exposed or {"verdict": "not_exposed", "policies": [],
                                              "reason": f"the policies allow it, but no container of {backend.describe()} declares {proto}/{number}"}
                continue
            return {"verdict": "allowed", "policies": [], "reason": None}
        if denied is None:
            if explain:
                try:
                    answer = ev.check(client, backend, number, proto)
                except NetpolInputError as exc:
                    answer = {"reason": str(exc)}
                policies, reason = _deciding(answer)
            else:
                policies, reason = _short_denial(ev, client, backend, number, proto, not (ing_ok >> client.index) & 1, memo if memo is not None else {})
            denied = {"verdict": "denied", "policies": policies, "reason": reason}
    return denied or not_exposed


def _declared_numbers(pod, proto):
    out = set()
    for container in ((pod or {}).get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("containerPort") is not None and (port.get("protocol") or "TCP").upper() == proto:
                out.add(int(port["containerPort"]))
    return out


def _add_client(groups, ep, role):
    """Group a client pod under its workload (the first role it was added with stays)."""
    groups.setdefault((ep.namespace, workload_of(ep.pod) or ep.name), {"role": role, "members": []})["members"].append(ep)


def service_reachability(ev, index, namespaces=None, limit=WORKLOAD_LIMIT, port_limit=PORT_LIMIT):
    """``{namespace: {clients, services, cells, hidden_clients, hidden_services}}`` for ``report.render_html``.

    Columns are the namespace's Service ports as clients reach them: the verdict is for the Service's
    targetPort on its backend pods (any backend admitting the client is enough). Rows are client
    workloads (:func:`workload_of`, one ready pod standing for each): the namespace's own, the
    ingress controllers when an Ingress routes to one of its Services, and workloads of other
    namespaces that an ingress rule of the backends' policies names (on any port). Each cell is::

        {"src": client id, "dst": column id, "verdict": allowed | denied | no_backend | not_exposed,
         "policies": ["ns/name", ...] (the policies that deny), "reason": "..."}

    ``no_backend``: the Service selects no pod; ``not_exposed``: the backends declare no such port.
    Namespaces named ``kube-*`` are drawn only when asked for in ``namespaces``.
    """
    wanted = set(namespaces) if namespaces else None
    controllers = _controller_pods(ev)
    out = {}
    for ns in sorted({_meta(s).get("namespace") for s in index.kinds("Service")} - {None}):
        if wanted is not None and ns not in wanted:
            continue
        if wanted is None and ns.startswith("kube-"):
            continue
        cols = _columns(index, ns, ev)
        if not cols:
            continue
        hidden_services = max(0, len(cols) - port_limit)
        cols = cols[:port_limit]
        groups = {}
        for ep in ev.pods_by_ns.get(ns, ()):
            _add_client(groups, ep, "namespace")
        if _ingress_services(index, ns) & {c["service"] for c in cols}:
            for ep in controllers:
                if ep.namespace != ns:
                    _add_client(groups, ep, "ingress controller")
        named = 0
        for col in cols:
            for backend in col["_backends"][:1]:
                if _isolating(ev, backend):
                    named |= _named_peers(ev, backend)
        while named:
            low = named & -named
            named ^= low
            ep = ev.pods[low.bit_length() - 1]
            if ep.namespace != ns and (ep.namespace, workload_of(ep.pod) or ep.name) not in groups:
                _add_client(groups, ep, "named by a policy")
            elif ep.namespace != ns:
                groups[(ep.namespace, workload_of(ep.pod) or ep.name)]["members"].append(ep)
        order = {"namespace": 0, "ingress controller": 1, "named by a policy": 2}
        keys = sorted(groups, key=lambda k: (order[groups[k]["role"]], k[0] != ns, k[0], k[1]))
        hidden_clients = max(0, len(keys) - limit)
        keys = keys[:limit]
        clients = []
        cells = []
        explained = {}
        memo = {}
        for key in keys:
            members = sorted({id(m): m for m in groups[key]["members"]}.values(), key=lambda e: (not _ready(e.pod), e.name))
            rep = members[0]
            cid = f"{key[0]}/{key[1]}"
            role = groups[key]["role"]
            label = key[1] if key[0] == ns else f"{key[0]}/{key[1]}"
            clients.append({"id": cid, "label": label, "namespace": key[0], "role": role, "pod": rep.ref()})
            for col in cols:
                cell = _cell(ev, rep, col, explain=explained.get(col["id"], 0) < EXPLAINED_PER_COLUMN, memo=memo)
                if cell["verdict"] == "denied":
                    explained[col["id"]] = explained.get(col["id"], 0) + 1
                cells.append(dict(cell, src=cid, dst=col["id"]))
        services = [{k: v for k, v in c.items() if not k.startswith("_")} for c in cols]
        out[ns] = {"clients": clients, "services": services, "cells": cells,
                   "hidden_clients": hidden_clients, "hidden_services": hidden_services}
    return out

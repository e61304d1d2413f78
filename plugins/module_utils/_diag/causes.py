# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root causes: which findings follow from which, so that a report says what to fix first. Pure.

Every finding stays in ``findings``; :func:`link_causes` only groups them::

    [{"finding": 3, "code": ..., "severity": ..., "resource": {...},
      "consequences": [{"finding": 5, "code": ..., "severity": ..., "resource": {...}, "because": "..."}]}]

``finding`` is the position in ``findings``. Each finding appears exactly once: as a cause, or as
the consequence of one cause (consequences of consequences are flattened under the root, each with
the reason it is linked). Two kinds of link, the first preferred:

* a known chain, e.g. an Ingress backend without endpoints follows from the selector mismatch of
  that backend Service; a LoadBalancer Service without an address follows from its static IP in
  the wrong resource group, a missing static IP, an NSG or a full subnet; a Service whose traffic
  the policies block follows from a targetPort no pod exposes;
* evidence naming the same object (a pod, a Service, a policy, a node), when one finding is a more
  upstream kind of fault than the other (:data:`TIER`: broken infrastructure, then wrong
  configuration, then what that makes fail, then what a user sees). Infos never cause anything.

Causes are ordered "fix this first": the worst severity in the group, then the number of
consequences, then the step (inside out), then the finding order.
"""

from __future__ import annotations

from .findings import SEVERITIES

_RANK = {s: i for i, s in enumerate(SEVERITIES)}

# 0: broken infrastructure; 1: wrong configuration; 2: what that makes fail; 3: what users see.
TIER = {
    "node.network_unavailable": 0, "dataplane.cni_unhealthy": 0, "dataplane.kube_proxy_unhealthy": 0,
    "dns.coredns_unavailable": 0, "ingress.controller_unavailable": 0, "azure.subnet_exhausted": 0, "azure.route_missing": 0,
    "netpol.not_enforced": 0, "cilium.not_enforced": 0, "cilium.l7_not_enabled": 0,
    "pod.sandbox_failed": 1, "pod.crash_looping": 1, "pod.not_running": 1, "pod.not_listening": 1,
    "service.selector_mismatch": 1, "service.target_port_mismatch": 1,
    "netpol.selects_no_pods": 1, "netpol.namespace_selector_no_match": 1, "netpol.peer_selects_no_pods": 1, "netpol.port_not_exposed": 1,
    "netpol.default_deny": 1, "cilium.selects_no_endpoints": 1, "cilium.fqdn_without_dns_rule": 1, "cilium.deny_enables_default_deny": 1,
    "dns.custom_config_invalid": 1, "dns.pod_resolver_unexpected": 1,
    "ingress.class_missing": 1, "ingress.class_not_found": 1, "ingress.backend_service_missing": 1, "ingress.backend_port_missing": 1,
    "ingress.tls_secret_missing": 1,
    "azure.static_ip_not_found": 1, "azure.static_ip_wrong_resource_group": 1, "azure.nsg_blocks_port": 1,
    "pod.not_ready": 2, "service.no_endpoints": 2, "service.not_ready_endpoints": 2, "service.lb_pending": 2,
    "netpol.isolated_without_allow": 2, "netpol.egress_blocks_dns": 2, "netpol.blocks_service_traffic": 2, "dns.coredns_errors": 2,
    "ingress.backend_no_endpoints": 3, "ingress.no_address": 3, "azure.lb_rule_missing": 3,
    "connectivity.dns_failed": 3, "connectivity.service_unreachable": 3, "connectivity.pod_unreachable": 3, "connectivity.egress_failed": 3,
}

# Known chains: consequence code -> [(cause codes, how they are linked, why)]. Links:
#   same     - both name the same resource
#   backend  - the consequence's evidence.service is the cause's Service (same namespace)
#   any      - any finding of the cause code (cluster-wide faults)
#   source   - the consequence's probe ran from a pod of the cause's namespace
CHAINS = {
    "ingress.backend_no_endpoints": [
        (("service.selector_mismatch", "service.no_endpoints", "service.not_ready_endpoints", "service.target_port_mismatch"), "backend",
         "the backend Service has no ready endpoints because of it"),
    ],
    "ingress.no_address": [
        (("ingress.class_missing", "ingress.class_not_found"), "same", "no controller admits the Ingress without a known class"),
        (("ingress.controller_unavailable",), "any", "the ingress controller is not running"),
    ],
    "service.lb_pending": [
        (("azure.static_ip_wrong_resource_group", "azure.static_ip_not_found"), "same", "the cloud provider cannot find the static public IP"),
        (("azure.nsg_blocks_port",), "same", "the load balancer cannot be set up as the Service asks"),
        (("azure.subnet_exhausted",), "any", "no free address for the load balancer"),
    ],
    "azure.lb_rule_missing": [
        (("service.lb_pending", "azure.static_ip_wrong_resource_group", "azure.static_ip_not_found"), "same",
         "the cloud provider did not finish the load balancer"),
    ],
    "netpol.blocks_service_traffic": [
        (("service.target_port_mismatch",), "same", "the Service targets a port no pod exposes, and no policy admits it"),
    ],
    "service.no_endpoints": [(("service.selector_mismatch",), "same", "the selector matches no pod")],
    "connectivity.service_unreachable": [
        (("service.selector_mismatch", "service.no_endpoints", "service.not_ready_endpoints", "service.target_port_mismatch",
          "netpol.blocks_service_traffic"), "same", "the Service has no backend that answers"),
        (("dataplane.kube_proxy_unhealthy",), "any", "Service routing is broken on the nodes"),
    ],
    "connectivity.dns_failed": [
        (("dns.coredns_unavailable", "dns.custom_config_invalid"), "any", "CoreDNS does not answer"),
        (("netpol.egress_blocks_dns",), "source", "the probe's pod may not reach kube-dns"),
    ],
    "connectivity.pod_unreachable": [
        (("pod.not_listening", "pod.not_ready", "pod.crash_looping", "pod.not_running"), "same", "the pod does not serve"),
    ],
}

# evidence keys naming objects -> kind (policies of either engine are one kind here)
_EVIDENCE_KINDS = {
    "service": "Service", "backend": "Pod", "pod": "Pod", "pods": "Pod", "pods_lacking": "Pod", "not_ready": "Pod",
    "selected_pods": "Pod", "policy": "Policy", "policies": "Policy", "node": "Node", "nodes": "Node",
}
_POLICY_KINDS = ("NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")


def _obj(kind, namespace, name):
    return ("Policy" if kind in _POLICY_KINDS else kind, namespace or None, str(name))


def _resource(f):
    res = f.get("resource") or {}
    return _obj(res.get("kind"), res.get("namespace"), res.get("name"))


def _names(value):
    if isinstance(value, dict):
        return [str(k) for k in value]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if isinstance(v, (str, int))]
    if isinstance(value, (str, int)):
        return [str(value)]
    return []


def objects_named(f):
    """The objects a finding is about: its resource and those its evidence names."""
    out = {_resource(f)}
    own_ns = (f.get("resource") or {}).get("namespace")
    evidence = f.get("evidence") if isinstance(f.get("evidence"), dict) else {}
    for key, kind in _EVIDENCE_KINDS.items():
        for text in _names(evidence.get(key)):
            ns, _sep, name = text.rpartition("/")
            out.add(_obj(kind, ns or (None if kind == "Node" else own_ns), name))
    return out


def _backend_service(f):
    evidence = f.get("evidence") or {}
    svc = evidence.get("service")
    if not isinstance(svc, str):
        return None
    ns, _sep, name = svc.rpartition("/")
    return _obj("Service", ns or (f.get("resource") or {}).get("namespace"), name)


def _source_namespace(f):
    source = (f.get("evidence") or {}).get("source")
    return source.get("namespace") if isinstance(source, dict) else None


def _chain_link(cause, consequence):
    """The reason ``cause`` explains ``consequence`` by a known chain, or None."""
    for codes, how, why in CHAINS.get(consequence.get("code"), ()):
        if cause.get("code") not in codes:
            continue
        if how == "any":
            return why
        if how == "same" and _resource(cause) == _resource(consequence):
            return why
        if how == "backend" and _backend_service(consequence) == _resource(cause):
            return why
        if how == "source":
            ns = _source_namespace(consequence)
            if ns and ns in ((cause.get("resource") or {}).get("name"), (cause.get("evidence") or {}).get("namespace")):
                return why
    return None


def _shared_link(cause, consequence, named):
    """The reason two findings are linked by an object both name (upstream tier first), or None."""
    if cause.get("severity") == "info":
        return None
    up, down = TIER.get(cause.get("code")), TIER.get(consequence.get("code"))
    if up is None or down is None or up >= down:
        return None
    shared = named[id(cause)] & named[id(consequence)]
    if not shared:
        return None
    kind, ns, name = sorted(shared, key=lambda o: (o[0] or "", o[1] or "", o[2]))[0]
    return f"both concern {kind} {ns + '/' if ns else ''}{name}"


def _ref(findings, i):
    f = findings[i]
    return {"finding": i, "code": f.get("code"), "severity": f.get("severity"), "resource": f.get("resource")}


def link_causes(findings):
    """``[{finding, code, severity, resource, consequences: [...]}]`` for ``findings`` (see the module doc)."""
    findings = list(findings or [])
    named = {id(f): objects_named(f) for f in findings}
    parent = {}
    because = {}
    by_object, by_code = {}, {}
    for i, f in enumerate(findings):
        by_code.setdefault(f.get("code"), []).append(i)
        for obj in named[id(f)]:
            by_object.setdefault(obj, []).append(i)
    for j, consequence in enumerate(findings):
        # candidates: findings naming an object this one names, and those of cluster-wide chains
        candidates = {i for obj in named[id(consequence)] for i in by_object.get(obj, ())}
        for codes, how, _why in CHAINS.get(consequence.get("code"), ()):
            if how in ("any", "source"):
                candidates.update(i for code in codes for i in by_code.get(code, ()))
        best = None
        for i in sorted(candidates):
            cause = findings[i]
            if i == j:
                continue
            why = _chain_link(cause, consequence)
            strength = 0
            if why is None:
                why = _shared_link(cause, consequence, named)
                strength = 1
            if why is None:
                continue
            key = (strength, _RANK.get(cause.get("severity"), 9), cause.get("step") or 0, i)
            if best is None or key < best[0]:
                best = (key, i, why)
        if best is not None:
            parent[j], because[j] = best[1], best[2]
    # Chains and tiers point upstream, but guard against any loop: a finding that would become its own ancestor stays a cause.
    for j in sorted(parent):
        seen, node = {j}, parent.get(j)
        while node is not None and node not in seen:
            seen.add(node)
            node = parent.get(node)
        if node is not None:
            del parent[j]

    def root(j):
        while j in parent:
            j = parent[j]
        return j

    groups = {}
    for j in range(len(findings)):
        groups.setdefault(root(j), [])
        if j in parent:
            groups[root(j)].append(j)
    causes = []
    for i, members in groups.items():
        entry = _ref(findings, i)
        entry["consequences"] = []
        for j in members:
            ref = _ref(findings, j)
            via = parent[j]
            ref["because"] = because[j] if via == i else f"{because[j]} (via {findings[via].get('code')})"
            entry["consequences"].append(ref)
        causes.append(entry)

    def order(entry):
        severities = [entry["severity"]] + [c["severity"] for c in entry["consequences"]]
        worst = min(_RANK.get(s, 9) for s in severities)
        return (worst, -len(entry["consequences"]), findings[entry["finding"]].get("step") or 0, entry["finding"])

    causes.sort(key=order)
    return causes

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shape checks for the objects the analyzers read. Pure.

A snapshot may be hand-edited or come from another tool: a Service whose ``spec.ports`` is a
string, a Pod without a name. Such an object is not analysed (it would crash the analyzers or be
reported as ``Pod None/None``); it becomes an ``object.malformed`` finding instead.

``problem(obj)`` returns why an object is malformed, or None. Only the fields the analyzers read
are checked, with cheap ``isinstance`` tests: one pass over the objects.
"""

from __future__ import annotations

CLUSTER_SCOPED = frozenset(("Namespace", "Node", "IngressClass", "CiliumClusterwideNetworkPolicy"))

# kind -> the step whose analyzer reads it (where its object.malformed finding is reported)
STEP_OF_KIND = {
    "Pod": 1, "Node": 1, "Event": 1, "Namespace": 4,
    "Service": 2, "EndpointSlice": 2, "Endpoints": 2,
    "NetworkPolicy": 4, "CiliumNetworkPolicy": 4, "CiliumClusterwideNetworkPolicy": 4,
    "ConfigMap": 5, "Deployment": 5,
    "Ingress": 6, "IngressClass": 6, "Secret": 6,
    "DaemonSet": 7,
}


def _opt(value, types):
    return value is None or isinstance(value, types)


def _list_of_dicts(value):
    if value is None:
        return True
    if not isinstance(value, list):
        return False
    # a loop, not all(<generator>): this runs several times per object of a large snapshot (a third faster)
    for x in value:  # noqa: SIM110
        if not isinstance(x, dict):
            return False
    return True


def _port_value(value):
    return value is None or (isinstance(value, (int, str)) and not isinstance(value, bool))


def _labels(value):
    if value is None:
        return True
    if not isinstance(value, dict):
        return False
    for k in value:  # noqa: SIM110  (as in _list_of_dicts)
        if not isinstance(k, str):
            return False
    return True


def _ports(ports, field, number_key):
    if not _list_of_dicts(ports):
        return f"{field} must be a list of mappings, found {type(ports).__name__} {ports!r:.40}"
    for i, port in enumerate(ports or []):
        for key in number_key:
            if not _port_value(port.get(key)):
                return f"{field}[{i}].{key} must be a number or a port name, found {port.get(key)!r:.40}"
    return None


def _pod(spec, status):
    containers = spec.get("containers")
    if not _list_of_dicts(containers):
        return f"spec.containers must be a list of mappings, found {type(containers).__name__}"
    for key in ("initContainers",):
        if not _list_of_dicts(spec.get(key)):
            return f"spec.{key} must be a list of mappings"
    for c in (containers or []) + (spec.get("initContainers") or []):
        why = _ports(c.get("ports"), f"container {c.get('name')!r} ports", ("containerPort",))
        if why:
            return why
    if not _list_of_dicts(status.get("conditions")) or not _list_of_dicts(status.get("containerStatuses")):
        return "status.conditions and status.containerStatuses must be lists of mappings"
    return None


def _service(spec, _status):
    why = _ports(spec.get("ports"), "spec.ports", ("port", "targetPort", "nodePort"))
    if why:
        return why
    if not _labels(spec.get("selector")):
        return f"spec.selector must be a mapping of labels, found {type(spec.get('selector')).__name__}"
    return None


def _selector(sel, field):
    if sel is None:
        return None
    if not isinstance(sel, dict) or not _labels(sel.get("matchLabels")) or not _list_of_dicts(sel.get("matchExpressions")):
        return f"{field} must be a label selector (matchLabels mapping, matchExpressions list)"
    return None


def _peers_rules(spec, keys):
    for key in keys:
        rules = spec.get(key)
        if not _list_of_dicts(rules):
            return f"spec.{key} must be a list of rules, found {type(rules).__name__}"
        for i, rule in enumerate(rules or []):
            for field in ("from", "to", "ports", "toPorts", "fromEndpoints", "toEndpoints"):
                if not _list_of_dicts(rule.get(field)):
                    return f"spec.{key}[{i}].{field} must be a list of mappings"
            for j, peer in enumerate((rule.get("from") or []) + (rule.get("to") or [])):
                for sel in ("podSelector", "namespaceSelector"):
                    why = _selector(peer.get(sel), f"spec.{key}[{i}] peer {j} {sel}")
                    if why:
                        return why
    return None


def _network_policy(spec, _status):
    return _selector(spec.get("podSelector"), "spec.podSelector") or _peers_rules(spec, ("ingress", "egress")) or (
        None if _opt(spec.get("policyTypes"), list) else "spec.policyTypes must be a list")


def _cilium(spec, _status):
    return _selector(spec.get("endpointSelector"), "spec.endpointSelector") or _peers_rules(
        spec, ("ingress", "egress", "ingressDeny", "egressDeny"))


def _ingress(spec, _status):
    if not _list_of_dicts(spec.get("rules")) or not _list_of_dicts(spec.get("tls")):
        return "spec.rules and spec.tls must be lists of mappings"
    for i, rule in enumerate(spec.get("rules") or []):
        http = rule.get("http")
        if not _opt(http, dict) or not _list_of_dicts((http or {}).get("paths")):
            return f"spec.rules[{i}].http.paths must be a list of mappings"
    return None


def _endpoint_slice(obj):
    if not _list_of_dicts(obj.get("endpoints")):
        return "endpoints must be a list of mappings"
    return _ports(obj.get("ports"), "ports", ("port",))


_SPEC_CHECKS = {
    "Pod": _pod,
    "Service": _service,
    "NetworkPolicy": _network_policy,
    "CiliumNetworkPolicy": _cilium,
    "CiliumClusterwideNetworkPolicy": _cilium,
    "Ingress": _ingress,
}


def problem(obj):
    """Why ``obj`` cannot be analysed, or None when its shape is what the analyzers read."""
    if not isinstance(obj, dict):
        return f"not a mapping ({type(obj).__name__})"
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kind:
        return "no kind"
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return "no metadata"
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        return "metadata.name is missing"
    namespace = meta.get("namespace")
    if kind not in CLUSTER_SCOPED and kind in STEP_OF_KIND and (not isinstance(namespace, str) or not namespace):
        return "metadata.namespace is missing"
    if not _labels(meta.get("labels")) or not _labels(meta.get("annotations")):
        return "metadata.labels and metadata.annotations must be mappings"
    spec = obj.get("spec")
    status = obj.get("status")
    if not _opt(spec, dict) or not _opt(status, dict):
        return f"spec and status must be mappings, found spec {type(spec).__name__}"
    if kind == "EndpointSlice":
        return _endpoint_slice(obj)
    check = _SPEC_CHECKS.get(kind)
    if check is not None:
        return check(spec or {}, status or {})
    return None


def describe(obj):
    """``(kind, namespace, name)`` of a possibly malformed object, with None where absent."""
    if not isinstance(obj, dict):
        return None, None, None
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else None
    ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    name = meta.get("name") if isinstance(meta.get("name"), str) else None
    return kind, ns, name

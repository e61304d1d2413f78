# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Label selectors (Kubernetes and Cilium flavours) and CIDR matching. Pure.

Kubernetes ``LabelSelector`` semantics (API reference, meta/v1):
  * an empty selector (``{}``) matches every object;
  * a null / absent selector matches no object (callers decide what "absent" means for a
    field: NetworkPolicy peers treat an absent podSelector as "not specified", see evaluate.py);
  * ``matchLabels`` and every ``matchExpressions`` requirement are ANDed;
  * operators ``In``, ``NotIn`` (also true when the key is absent), ``Exists``, ``DoesNotExist``.
    A selector with an unknown operator is invalid: it matches nothing and ``error`` says why.

Cilium endpoint selectors use the same structure with label *sources*: ``k8s:app``, ``any:app``
and ``app`` all mean the pod label ``app``. Special keys, derived for each endpoint:
``io.kubernetes.pod.namespace`` (the pod's namespace), ``io.cilium.k8s.policy.serviceaccount``,
``io.cilium.k8s.policy.cluster`` (``default``) and ``io.cilium.k8s.namespace.labels.<key>`` (the
labels of the pod's namespace). Keys with other sources (``reserved:``, ``cidr:``...) never match
a pod label, so ``In``/``Exists`` on them is false and ``NotIn``/``DoesNotExist`` true.
"""

from __future__ import annotations

import ipaddress

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
CILIUM_POD_SOURCES = ("k8s", "any", "unspec")
CILIUM_NAMESPACE_KEY = "io.kubernetes.pod.namespace"
CILIUM_SA_KEY = "io.cilium.k8s.policy.serviceaccount"
CILIUM_CLUSTER_KEY = "io.cilium.k8s.policy.cluster"
CILIUM_NS_LABEL_PREFIX = "io.cilium.k8s.namespace.labels."


def _by_first(item):
    return item[0]


def _freeze(value):
    """A hashable, order-independent form of a JSON-like value (mappings sorted by key)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return ("map", tuple(sorted([(str(k), _freeze(v)) for k, v in value.items()], key=_by_first)))
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(_freeze(v) for v in value))
    if value is None:
        return None
    if isinstance(value, (bool, int, float)):
        return (type(value).__name__, value)  # keeps True, 1 and 1.0 apart, as JSON does
    return ("obj", str(value))


def selector_key(selector):
    """A stable, hashable key for a selector (cache key): nested tuples, mappings sorted by key.

    Cheaper than serialising to JSON text; selectors with the same content get the same key
    whatever the order of their mapping keys.
    """
    return _freeze(selector)


def _cilium_key(key: str) -> str:
    """``k8s:app`` / ``any:app`` / ``app`` -> ``app``; other sources keep their prefix."""
    if ":" in key:
        source, _unused, rest = key.partition(":")
        if source in CILIUM_POD_SOURCES:
            return rest
    return key


class Selector:
    """A compiled label selector. ``matches(labels)`` is the only hot path."""

    __slots__ = ("error", "exprs", "key", "labels", "match_all", "match_none")

    def __init__(self, selector, cilium=False):
        self.key = selector_key(selector)
        self.error = None
        self.labels = ()
        self.exprs = ()
        self.match_none = selector is None
        self.match_all = False
        if selector is None:
            return
        if not isinstance(selector, dict):
            self.match_none = True
            self.error = f"selector must be a mapping with matchLabels/matchExpressions, got {selector!r}"
            return
        norm = _cilium_key if cilium else str
        labels = []
        for k, v in (selector.get("matchLabels") or {}).items():
            labels.append((norm(str(k)), "" if v is None else str(v)))
        exprs = []
        for expr in selector.get("matchExpressions") or []:
            op = (expr or {}).get("operator")
            if op not in OPERATORS:
                self.match_none = True
                self.error = f"matchExpressions operator {op!r} is not one of {', '.join(OPERATORS)}"
                return
            values = frozenset(str(v) for v in (expr.get("values") or []))
            exprs.append((norm(str(expr.get("key"))), op, values))
        self.labels = tuple(labels)
        self.exprs = tuple(exprs)
        self.match_all = not labels and not exprs

    def matches(self, labels) -> bool:
        if self.match_none:
            return False
        if self.match_all:
            return True
        for k, v in self.labels:
            if labels.get(k) != v:
                return False
        for k, op, values in self.exprs:
            present = k in labels
            if op == "In":
                if not present or labels[k] not in values:
                    return False
            elif op == "NotIn":
                if present and labels[k] in values:
                    return False
            elif op == "Exists":
                if not present:
                    return False
            elif present:  # DoesNotExist
                return False
        return True

    def label_keys(self):
        """Every label key the selector mentions."""
        return {k for k, _unused in self.labels} | {k for k, _unused, _unused in self.exprs}

    def failing(self, labels):
        """The requirements ``labels`` does not satisfy, as readable strings (for evidence)."""
        out = []
        for k, v in self.labels:
            if labels.get(k) != v:
                out.append(f"{k}={v} (has {k}={labels[k]})" if k in labels else f"{k}={v} (label missing)")
        for k, op, values in self.exprs:
            if not Selector._expr_ok(labels, k, op, values):
                out.append(f"{k} {op} {sorted(values)}" if values else f"{k} {op}")
        return out

    def failing_count(self, labels):
        """``len(self.failing(labels))`` without building the texts."""
        count = 0
        for k, v in self.labels:
            if labels.get(k) != v:
                count += 1
        for k, op, values in self.exprs:
            if not Selector._expr_ok(labels, k, op, values):
                count += 1
        return count

    @staticmethod
    def _expr_ok(labels, k, op, values):
        present = k in labels
        if op == "In":
            return present and labels[k] in values
        if op == "NotIn":
            return not (present and labels[k] in values)
        if op == "Exists":
            return present
        return not present

    def describe(self) -> str:
        if self.match_none:
            return "<matches nothing>"
        if self.match_all:
            return "{} (all)"
        parts = [f"{k}={v}" for k, v in self.labels]
        parts += [f"{k} {op} ({','.join(sorted(values))})" if values else f"{k} {op}" for k, op, values in self.exprs]
        return ",".join(parts)


_CACHE: dict = {}


def compile_selector(selector, cilium=False) -> Selector:
    """Compiled (and memoised) selector; ``None`` compiles to a selector matching nothing."""
    key = (cilium, selector_key(selector))
    compiled = _CACHE.get(key)
    if compiled is None:
        if len(_CACHE) > 20000:
            _CACHE.clear()
        compiled = _CACHE[key] = Selector(selector, cilium=cilium)
    return compiled


def selector_matches(selector, labels, cilium=False) -> bool:
    """Does a LabelSelector dict (None = match nothing, {} = match all) match ``labels``?"""
    return compile_selector(selector, cilium).matches(labels or {})


def selector_mentions_namespace(selector) -> bool:
    """True when a Cilium selector constrains the pod namespace label (any source prefix)."""
    return CILIUM_NAMESPACE_KEY in compile_selector(selector, cilium=True).label_keys()


def cilium_labels(labels, namespace, namespace_labels=None, service_account=None) -> dict:
    """The label set Cilium matches endpoint selectors against, for a pod."""
    out = {str(k): str(v) for k, v in (labels or {}).items()}
    out[CILIUM_NAMESPACE_KEY] = namespace
    out[CILIUM_SA_KEY] = service_account or "default"
    out[CILIUM_CLUSTER_KEY] = "default"
    for k, v in (namespace_labels or {}).items():
        out[CILIUM_NS_LABEL_PREFIX + str(k)] = str(v)
    return out


# ----------------------------------------------------------------------------- CIDRs


def parse_network(text, what="cidr"):
    """``ipaddress`` network from ``10.0.0.0/8`` or a bare address; ValueError names the value."""
    try:
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an IP address or CIDR (e.g. 10.0.0.0/16 or 203.0.113.7)") from None


def cidr_admits(cidr, excepts, network) -> bool:
    """True when every address of ``network`` is inside ``cidr`` and outside every ``except`` block.

    ``cidr`` and ``excepts`` are ipaddress networks (or text); a network of the other IP version
    is never admitted.
    """
    if isinstance(cidr, str):
        cidr = parse_network(cidr)
    if cidr.version != network.version or not network.subnet_of(cidr):
        return False
    for exc in excepts or ():
        if isinstance(exc, str):
            exc = parse_network(exc)
        if exc.version == network.version and network.overlaps(exc):
            return False
    return True

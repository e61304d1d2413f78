# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may talk to whom, and why: Kubernetes NetworkPolicy and Cilium policy evaluation. Pure.

Build a :class:`PolicyEvaluator` once from plain object lists, then ask :meth:`PolicyEvaluator.check`
(one source, one destination, one port) or :meth:`PolicyEvaluator.matrix` (every pod pair).

Endpoints (``source`` / ``destination``):
  ``{"namespace": NS, "pod": NAME}``     an existing pod (named ports resolve on its containers)
  ``{"namespace": NS, "labels": {...}}`` a hypothetical pod with those labels
  ``{"cidr": "203.0.113.0/24"}``         outside the cluster (optional ``fqdn`` for toFQDNs rules);
                                         a range is admitted only when every address of it is.

Kubernetes NetworkPolicy (API reference networking.k8s.io/v1):
  * ``policyTypes`` defaults to Ingress, plus Egress when ``spec.egress`` has rules;
  * a pod is isolated for a direction only when some policy of its namespace with that type selects
    it; then only the union of those policies' rules admits traffic; otherwise everything passes;
  * a connection passes when the source's egress AND the destination's ingress allow it;
  * peers: podSelector alone = pods of the policy's namespace; namespaceSelector alone = every pod
    of the matching namespaces; both in ONE peer = AND; separate peers = OR; absent/empty
    ``from``/``to`` = every peer; absent/empty ``ports`` = every port; port protocol defaults to
    TCP; named ports resolve on the destination pod; ``endPort`` makes a range.
  * ipBlock: matched against cluster-external addresses (``{cidr}`` endpoints). Whether ipBlock
    also matches pod IPs is implementation-defined; Cilium (Azure CNI powered by Cilium, the AKS
    default for new clusters) never matches cluster endpoints with CIDR rules, so by default pods
    never match an ipBlock. Azure NPM and Calico do match pod IPs: pass
    ``ipblock_matches_pod_ips=True`` to evaluate that way (the pod's ``status.podIP`` is used).

Cilium (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy; ``spec`` or ``specs``):
  * ``endpointSelector`` selects endpoints of the policy's namespace (CNP) or any namespace (CCNP);
    ``nodeSelector`` (host policies) is not evaluated and reported in ``notes``;
  * an endpoint is in default deny for a direction when a selecting policy has rules in that
    direction (allow or deny rules) unless its ``enableDefaultDeny.<direction>`` is false;
  * ``fromEndpoints``/``toEndpoints``: in a CNP a selector without the
    ``k8s:io.kubernetes.pod.namespace`` label is limited to the policy's namespace; in a CCNP it
    spans the cluster; ``fromEntities``/``toEntities``: pods are ``cluster`` and ``all``, outside
    addresses ``world`` (``world-ipv4``/``world-ipv6``) and ``all``; ``fromCIDR``/``toCIDR``/
    ``*CIDRSet`` (with ``except``) match outside addresses only; ``toFQDNs`` match an outside
    endpoint that carries a matching ``fqdn``; a rule with ``toPorts`` but no peer admits every peer
    on those ports, an empty rule ``{}`` admits nothing;
  * ``toPorts``: ``port`` (number, name or "0" = all), ``endPort``, ``protocol`` TCP/UDP/SCTP/ANY
    (default ANY); ``rules.http``/``rules.dns``/``rules.kafka`` make the verdict "allowed at L4,
    restricted to ..." (reported in ``l7``);
  * ``ingressDeny``/``egressDeny`` win over every allow.

Engines: ``kubernetes`` (NetworkPolicy) and ``cilium``. ``combine="separate"`` (default, the
public contract): every enforcing engine must allow. ``combine="merged"``: Cilium enforces both
kinds as one policy set (what a Cilium dataplane does): denies win, the endpoint is isolated when
either kind isolates it, and an allow of either kind admits.

Result of :meth:`check` (see also ``RESULT_DOC``)::

    {allowed, reason, source, destination, port: {requested, number, protocol},
     egress:  {kubernetes: DIRECTION, cilium: DIRECTION},
     ingress: {kubernetes: DIRECTION, cilium: DIRECTION},
     l7: [{engine, direction, kind, policy, rule_index, restriction}], notes: [...]}
    DIRECTION = {enforced, applicable, isolated, allowed, policies: [{kind, name}],
                 admitted_by: {kind, policy, rule_index, peer, ports} or None,
                 denied_by: {...} or None, reason}
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.aksnet.networking.plugins.module_utils._kube.names import is_port_name, port_number

from .selectors import (
    CILIUM_NAMESPACE_KEY,
    cidr_admits,
    cilium_labels,
    compile_selector,
    parse_network,
)

KUBERNETES = "kubernetes"
CILIUM = "cilium"
ENGINES = (KUBERNETES, CILIUM)
PROTOCOLS = ("TCP", "UDP", "SCTP")
INGRESS = "ingress"
EGRESS = "egress"
KIND_NP = "NetworkPolicy"
KIND_CNP = "CiliumNetworkPolicy"
KIND_CCNP = "CiliumClusterwideNetworkPolicy"
POD_ENTITIES = ("cluster", "all")

RESULT_DOC = __doc__


class NetpolInputError(ValueError):
    """A source, destination, port or protocol the evaluator cannot work with; says how to fix it."""


# ----------------------------------------------------------------------------- endpoints


class Endpoint:
    """A pod, a hypothetical pod (labels) or an outside address."""

    __slots__ = ("_clabels", "fqdn", "index", "kind", "labels", "name", "namespace", "network", "ns_labels", "pod", "ports", "sa")

    def __init__(self, kind, namespace=None, name=None, labels=None, ns_labels=None, network=None, pod=None, sa=None, fqdn=None):
        self.kind = kind  # "pod" | "labels" | "external"
        self.namespace = namespace
        self.name = name
        self.labels = {str(k): str(v) for k, v in (labels or {}).items()}
        self.ns_labels = ns_labels or {}
        self.network = network
        self.pod = pod
        self.fqdn = (fqdn or "").rstrip(".").lower() or None
        self.index = None
        self.ports = {}
        if pod is not None:
            for container in (pod.get("spec") or {}).get("containers") or []:
                for port in container.get("ports") or []:
                    if port.get("name") and port.get("containerPort") is not None:
                        proto = (port.get("protocol") or "TCP").upper()
                        self.ports.setdefault((port["name"], proto), int(port["containerPort"]))
        self.sa = sa
        self._clabels = None

    @property
    def clabels(self):
        """The labels Cilium selectors see (pod labels plus namespace, service account...); {} outside the cluster."""
        if self._clabels is None:
            self._clabels = cilium_labels(self.labels, self.namespace, self.ns_labels, self.sa) if self.kind != "external" else {}
        return self._clabels

    @property
    def in_cluster(self):
        return self.kind != "external"

    def named_port(self, name, protocol):
        return self.ports.get((name, protocol))

    def ref(self):
        if self.kind == "pod":
            return f"{self.namespace}/{self.name}"
        if self.kind == "labels":
            text = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
            return f"{self.namespace}/{{{text}}}"
        return str(self.network) + (f" ({self.fqdn})" if self.fqdn else "")

    def describe(self):
        if self.kind == "pod":
            return f"pod {self.ref()}"
        if self.kind == "labels":
            return f"a pod in {self.namespace} labelled {self.ref().split('/', 1)[1]}"
        return f"outside address {self.ref()}"

    def as_dict(self):
        if self.kind == "pod":
            return {"namespace": self.namespace, "pod": self.name, "labels": dict(self.labels)}
        if self.kind == "labels":
            return {"namespace": self.namespace, "labels": dict(self.labels)}
        return {"cidr": str(self.network), "fqdn": self.fqdn}


# ----------------------------------------------------------------------------- compiled policies


class Rule:
    __slots__ = ("deny", "direction", "index", "peers", "policy", "ports")

    def __init__(self, policy, direction, index, peers, ports, deny=False):
        self.policy = policy
        self.direction = direction
        self.index = index
        self.peers = peers  # None = every peer; list of peer tuples
        self.ports = ports  # None = every port; list of (protocol|"ANY", port|name|None, end_port|None, l7|None)
        self.deny = deny


class Policy:
    __slots__ = ("deny_rules", "engine", "isolates", "kind", "name", "namespace", "notes", "ref", "rules", "selector", "spec_index")

    def __init__(self, engine, kind, namespace, name, selector, spec_index=None):
        self.engine = engine
        self.kind = kind
        self.namespace = namespace  # None for clusterwide policies
        self.name = name
        self.ref = f"{namespace}/{name}" if namespace else name
        self.selector = selector
        self.spec_index = spec_index
        self.rules = {INGRESS: [], EGRESS: []}
        self.deny_rules = {INGRESS: [], EGRESS: []}
        self.isolates = {INGRESS: False, EGRESS: False}
        self.notes = []

    def ident(self):
        out = {"kind": self.kind, "name": self.ref}
        if self.spec_index is not None:
            out["spec_index"] = self.spec_index
        return out

    def has_direction(self, direction):
        return self.isolates[direction] or bool(self.rules[direction]) or bool(self.deny_rules[direction])


def _k8s_ports(ports):
    if not ports:
        return None
    out = []
    for entry in ports:
        entry = entry or {}
        proto = str(entry.get("protocol") or "TCP").upper()
        port = entry.get("port")
        num = port_number(port) if port is not None else None
        end = port_number(entry.get("endPort")) if entry.get("endPort") is not None else None
        out.append((proto, num if num is not None else port, end if num is not None else None, None))
    return out


def _l7_text(rules):
    if not rules:
        return None
    parts = []
    for http in rules.get("http") or []:
        method = http.get("method") or "any method"
        path = http.get("path") or "any path"
        host = f" host {http['host']}" if http.get("host") else ""
        headers = f" with headers {', '.join(str(h) for h in http.get('headers') or [])}" if http.get("headers") else ""
        parts.append(f"HTTP {method} {path}{host}{headers}")
    for dns in rules.get("dns") or []:
        parts.append(f"DNS queries for {dns.get('matchName') or dns.get('matchPattern')}")
    for kafka in rules.get("kafka") or []:
        parts.append("Kafka " + " ".join(f"{k}={v}" for k, v in sorted(kafka.items())))
    if rules.get("l7proto"):
        parts.append(f"L7 protocol {rules['l7proto']}")
    return "; ".join(parts) or None


def _cilium_ports(to_ports, deny):
    if not to_ports:
        return None
    out = []
    for port_rule in to_ports:
        port_rule = port_rule or {}
        l7 = None if deny else _l7_text(port_rule.get("rules"))
        entries = port_rule.get("ports") or []
        if not entries:
            out.append(("ANY", None, None, l7))
        for entry in entries:
            entry = entry or {}
            proto = str(entry.get("protocol") or "ANY").upper()
            port = entry.get("port")
            num = port_number(port) if port not in (None, "") else None
            if num == 0 or port in (None, ""):
                out.append((proto, None, None, l7))
                continue
            end = port_number(entry.get("endPort")) if entry.get("endPort") else None
            out.append((proto, num if num is not None else str(port), end if num is not None else None, l7))
    return out


def _cidr_peer(cidr, excepts, what):
    try:
        return ("cidr", parse_network(cidr, what), tuple(parse_network(e, what + " except") for e in excepts or ()))
    except ValueError as exc:
        return ("none", str(exc))


def _fqdn_peer(entry):
    name = (entry or {}).get("matchName")
    pattern = (entry or {}).get("matchPattern")
    if name:
        return ("fqdn", name.rstrip(".").lower(), None)
    if pattern:
        text = pattern.rstrip(".").lower()
        regex = ".*" if text == "*" else re.escape(text).replace(r"\*", "[-a-z0-9_]*")
        return ("fqdn", text, re.compile(regex))
    return ("none", "toFQDNs entry without matchName or matchPattern")


_CILIUM_PEER_KEYS = {
    INGRESS: ("fromEndpoints", "fromEntities", "fromCIDR", "fromCIDRSet", "fromRequires", "fromNodes", "fromGroups"),
    EGRESS: ("toEndpoints", "toEntities", "toCIDR", "toCIDRSet", "toFQDNs", "toServices", "toRequires", "toNodes", "toGroups"),
}


def _cilium_rule(policy, direction, index, rule, deny, clusterwide):
    rule = rule or {}
    prefix = "from" if direction == INGRESS else "to"
    peers = []
    for selector in rule.get(prefix + "Endpoints") or []:
        sel = compile_selector(selector or {}, cilium=True)
        scope = None if clusterwide or CILIUM_NAMESPACE_KEY in sel.label_keys() else policy.namespace
        peers.append(("endpoints", sel, scope))
    for entity in rule.get(prefix + "Entities") or []:
        peers.append(("entity", str(entity).lower()))
    for cidr in rule.get(prefix + "CIDR") or []:
        peers.append(_cidr_peer(cidr, (), f"{prefix}CIDR"))
    for entry in rule.get(prefix + "CIDRSet") or []:
        entry = entry or {}
        if entry.get("cidr"):
            peers.append(_cidr_peer(entry["cidr"], entry.get("except"), f"{prefix}CIDRSet cidr"))
        else:
            peers.append(("none", f"{prefix}CIDRSet entry without cidr (cidrGroupRef is not evaluated)"))
    if direction == EGRESS:
        for entry in rule.get("toFQDNs") or []:
            peers.append(_fqdn_peer(entry))
    for key in _CILIUM_PEER_KEYS[direction]:
        if key in ("fromRequires", "toRequires", "fromNodes", "toNodes", "fromGroups", "toGroups", "toServices") and rule.get(key):
            peers.append(("none", f"{key} is not evaluated"))
            policy.notes.append(f"{policy.ref}: {direction} rule {index} uses {key}, which is not evaluated (treated as matching nothing)")
    ports = _cilium_ports(rule.get("toPorts"), deny)
    if not peers:
        # L4-only rule: every peer on those ports; an empty rule {} admits nothing.
        peers = None if ports else [("none", "empty rule")]
    return Rule(policy, direction, index, peers, ports, deny=deny)


def _compile_np(obj):
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    pol = Policy(KUBERNETES, KIND_NP, meta.get("namespace") or "default", meta.get("name"), compile_selector(spec.get("podSelector") or {}))
    types = spec.get("policyTypes")
    # policyTypes defaulting: Ingress always, Egress when the policy has egress rules.
    types = {str(t).lower() for t in types} if types else {INGRESS} | ({EGRESS} if spec.get("egress") else set())
    for direction, key, peer_key in ((INGRESS, "ingress", "from"), (EGRESS, "egress", "to")):
        pol.isolates[direction] = direction in types
        if direction not in types:
            continue
        for i, rule in enumerate(spec.get(key) or []):
            rule = rule or {}
            peers = None
            if rule.get(peer_key):
                peers = []
                for peer in rule[peer_key]:
                    peer = peer or {}
                    if peer.get("ipBlock"):
                        block = peer["ipBlock"]
                        parsed = _cidr_peer(block.get("cidr"), block.get("except"), "ipBlock cidr")
                        peers.append(("ipblock", *parsed[1:]) if parsed[0] == "cidr" else parsed)
                    elif "podSelector" in peer or "namespaceSelector" in peer:
                        pod_sel = compile_selector(peer["podSelector"]) if peer.get("podSelector") is not None else None
                        ns_sel = compile_selector(peer["namespaceSelector"]) if peer.get("namespaceSelector") is not None else None
                        if pod_sel is None and ns_sel is None:
                            peers.append(("none", "peer with null selectors"))
                        else:
                            peers.append(("pods", ns_sel, pod_sel, pol.namespace))
                    else:
                        peers.append(("none", "peer without podSelector, namespaceSelector or ipBlock"))
            pol.rules[direction].append(Rule(pol, direction, i, peers, _k8s_ports(rule.get("ports"))))
    return [pol]


def _compile_cilium(obj, clusterwide):
    meta = obj.get("metadata") or {}
    kind = KIND_CCNP if clusterwide else KIND_CNP
    namespace = None if clusterwide else (meta.get("namespace") or "default")
    specs = []
    if obj.get("spec"):
        specs.append((None, obj["spec"]))
    for i, spec in enumerate(obj.get("specs") or []):
        specs.append((i, spec))
    out = []
    for spec_index, spec in specs:
        spec = spec or {}
        if spec.get("nodeSelector") is not None and spec.get("endpointSelector") is None:
            pol = Policy(CILIUM, kind, namespace, meta.get("name"), compile_selector(None), spec_index)
            pol.notes.append(f"{pol.ref}: host policy (nodeSelector) is not evaluated")
            out.append(pol)
            continue
        pol = Policy(CILIUM, kind, namespace, meta.get("name"), compile_selector(spec.get("endpointSelector") or {}, cilium=True), spec_index)
        default_deny = spec.get("enableDefaultDeny") or {}
        for direction, allow_key, deny_key in ((INGRESS, "ingress", "ingressDeny"), (EGRESS, "egress", "egressDeny")):
            allows = spec.get(allow_key) or []
            denies = spec.get(deny_key) or []
            pol.rules[direction] = [_cilium_rule(pol, direction, i, r, False, clusterwide) for i, r in enumerate(allows)]
            pol.deny_rules[direction] = [_cilium_rule(pol, direction, i, r, True, clusterwide) for i, r in enumerate(denies)]
            explicit = default_deny.get(direction)
            pol.isolates[direction] = bool(explicit) if isinstance(explicit, bool) else bool(allows or denies)
        out.append(pol)
    return out


# ----------------------------------------------------------------------------- the evaluator


def _ports_text(ports):
    if ports is None:
        return "every port"
    parts = []
    for proto, port, end, l7 in ports:
        text = f"{proto}/{'any' if port is None else port}{f'-{end}' if end else ''}"
        parts.append(text + (f" [{l7}]" if l7 else ""))
    return ", ".join(parts)


def _peer_text(peer):
    kind = peer[0]
    if kind == "pods":
        _unused, ns_sel, pod_sel, pol_ns = peer
        pods = "every pod" if pod_sel is None or pod_sel.match_all else f"pods {pod_sel.describe()}"
        if ns_sel is None:
            return f"{pods} of namespace {pol_ns}"
        return f"{pods} of namespaces {'(all)' if ns_sel.match_all else ns_sel.describe()}"
    if kind in ("ipblock", "cidr"):
        exc = f" except {', '.join(str(e) for e in peer[2])}" if peer[2] else ""
        return f"{'ipBlock' if kind == 'ipblock' else 'CIDR'} {peer[1]}{exc}"
    if kind == "endpoints":
        scope = f" in namespace {peer[2]}" if peer[2] else ""
        return f"endpoints {peer[1].describe()}{scope}"
    if kind == "entity":
        return f"entity {peer[1]}"
    if kind == "fqdn":
        return f"FQDN {peer[1]}"
    return f"nothing ({peer[1]})"


class PolicyEvaluator:
    """Answers reachability questions for one cluster state; build once, ask many times."""

    def __init__(self, namespaces=(), pods=(), network_policies=(), cilium_policies=(), cilium_clusterwide_policies=(),
                 enforce=None, combine="separate", ipblock_matches_pod_ips=False):
        if combine not in ("separate", "merged"):
            raise NetpolInputError(f"combine must be 'separate' or 'merged', got {combine!r}")
        self.combine = combine
        self.enforce = set(ENGINES if enforce is None else enforce)
        unknown = self.enforce - set(ENGINES)
        if unknown:
            raise NetpolInputError(f"enforce: unknown engine(s) {sorted(unknown)}; use {', '.join(ENGINES)}")
        self.ipblock_pod_ips = ipblock_matches_pod_ips
        self.ns_labels = {}
        for ns in namespaces or ():
            name = (ns.get("metadata") or {}).get("name")
            if name:
                labels = {str(k): str(v) for k, v in ((ns.get("metadata") or {}).get("labels") or {}).items()}
                labels.setdefault("kubernetes.io/metadata.name", name)
                self.ns_labels[name] = labels
        self.pods = []
        self.pods_by_ns = {}
        self._pod_by_key = {}
        for pod in pods or ():
            meta = pod.get("metadata") or {}
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            ns = meta.get("namespace") or "default"
            network = None
            # A pod's address only matters when ipBlock matches pod IPs (Azure NPM, Calico); parsing
            # every pod IP up front was a third of the evaluator's build time on large clusters.
            ip = (pod.get("status") or {}).get("podIP") if ipblock_matches_pod_ips else None
            if ip:
                try:
                    network = ipaddress.ip_network(ip)
                except ValueError:
                    network = None
            ep = Endpoint("pod", ns, meta.get("name"), meta.get("labels"), self._ns_labels(ns), network, pod,
                          (pod.get("spec") or {}).get("serviceAccountName"))
            ep.index = len(self.pods)
            self.pods.append(ep)
            self.pods_by_ns.setdefault(ns, []).append(ep)
            self._pod_by_key[(ns, ep.name)] = ep
        self.all_mask = (1 << len(self.pods)) - 1
        self.policies = {KUBERNETES: [], CILIUM: []}
        self._by_ns = {KUBERNETES: {}, CILIUM: {}}
        self._clusterwide = []
        for obj in network_policies or ():
            for pol in _compile_np(obj):
                self.policies[KUBERNETES].append(pol)
                self._by_ns[KUBERNETES].setdefault(pol.namespace, []).append(pol)
        for obj in cilium_policies or ():
            for pol in _compile_cilium(obj, False):
                self.policies[CILIUM].append(pol)
                self._by_ns[CILIUM].setdefault(pol.namespace, []).append(pol)
        for obj in cilium_clusterwide_policies or ():
            for pol in _compile_cilium(obj, True):
                self.policies[CILIUM].append(pol)
                self._clusterwide.append(pol)
        self._subject_cache = {}
        self._subject_misses = {}  # (engine, direction, namespace) -> uncached selecting() calls
        self._label_idx = {}  # cilium flag -> {(namespace, key, value): [pods in pod order]}
        self._sel_list_cache = {}  # (selector, cilium, namespace) -> tuple of selected pods
        self._sel_ns_cache = {}
        self._ns_sel_cache = {}  # namespace selector -> namespaces (of pods_by_ns) it matches
        self._selected_cache = {}  # policy -> pods it selects
        self._peer_mask_cache = {}
        self._port_mask_cache = {}
        self._dm_cache = {}  # (direction, pod index, port, protocol) -> (ok_mask, plain_mask)
        self._nums_cache = {}
        self._num_masks_cache = {}  # id(nums) -> (nums, {port number: mask of the pods with that number})

    @classmethod
    def from_objects(cls, objects, **kwargs):
        """Build from a flat list of Kubernetes objects (a snapshot's ``objects``)."""
        kinds = {"Namespace": [], "Pod": [], KIND_NP: [], KIND_CNP: [], KIND_CCNP: []}
        for obj in objects or ():
            bucket = kinds.get(obj.get("kind"))
            if bucket is not None:
                bucket.append(obj)
        return cls(kinds["Namespace"], kinds["Pod"], kinds[KIND_NP], kinds[KIND_CNP], kinds[KIND_CCNP], **kwargs)

    @classmethod
    def from_index(cls, index, **kwargs):
        """Build from a diagnostics ``Index``."""
        return cls(index.kinds("Namespace"), index.kinds("Pod"), index.kinds(KIND_NP), index.kinds(KIND_CNP), index.kinds(KIND_CCNP), **kwargs)

    # ------------------------------------------------------------------ lookups

    def _ns_labels(self, ns):
        labels = self.ns_labels.get(ns)
        if labels is None:
            labels = {"kubernetes.io/metadata.name": ns}
        return labels

    def namespaces(self):
        """Every namespace known from Namespace objects or pods."""
        return sorted(set(self.ns_labels) | set(self.pods_by_ns))

    def pod(self, namespace, name):
        return self._pod_by_key.get((namespace, name))

    def endpoint(self, spec, what="source"):
        """An :class:`Endpoint` from ``{namespace, pod}``, ``{namespace, labels}`` or ``{cidr[, fqdn]}``."""
        if isinstance(spec, Endpoint):
            return spec
        if not isinstance(spec, dict):
            raise NetpolInputError(f"{what} must be a mapping: {{namespace, pod}}, {{namespace, labels}} or {{cidr}}, got {spec!r}")
        if spec.get("cidr"):
            try:
                network = parse_network(spec["cidr"], f"{what}.cidr")
            except ValueError as exc:
                raise NetpolInputError(str(exc)) from None
            return Endpoint("external", network=network, fqdn=spec.get("fqdn"))
        ns = spec.get("namespace")
        if not ns:
            raise NetpolInputError(f"{what} needs namespace (with pod or labels) or cidr, got {spec!r}")
        if spec.get("pod"):
            ep = self.pod(ns, spec["pod"])
            if ep is None:
                names = [p.name for p in self.pods_by_ns.get(ns, [])][:5]
                hint = f"pods in {ns}: {', '.join(names)}" if names else f"namespace {ns} has no running pods in this data"
                raise NetpolInputError(f"{what}.pod {ns}/{spec['pod']} was not found ({hint}); give labels instead to ask about a hypothetical pod")
            return ep
        labels = spec.get("labels")
        if labels is None:
            raise NetpolInputError(f"{what} in namespace {ns} needs pod (a pod name) or labels (a mapping)")
        if not isinstance(labels, dict):
            raise NetpolInputError(f"{what}.labels must be a mapping of label key to value, got {labels!r}")
        return Endpoint("labels", ns, None, labels, self._ns_labels(ns), sa=spec.get("service_account"))

    # ------------------------------------------------------------------ selection

    def _subject_candidates(self, engine, direction, namespace):
        if engine == KUBERNETES:
            return [p for p in self._by_ns[KUBERNETES].get(namespace, ()) if p.isolates[direction]]
        return [p for p in list(self._by_ns[CILIUM].get(namespace, ())) + self._clusterwide if p.has_direction(direction)]

    def selecting(self, engine, direction, ep):
        """Policies (specs) of an engine that select ``ep`` and say something about ``direction``.

        For existing pods the answer is cached; once a namespace is asked about more than once,
        the answers for all its pods are computed together from each policy's selected pods.
        """
        if not ep.in_cluster:
            return []
        if ep.index is None:
            labels = ep.labels if engine == KUBERNETES else ep.clabels
            return [p for p in self._subject_candidates(engine, direction, ep.namespace) if p.selector.matches(labels)]
        key = (engine, direction, ep.index)
        found = self._subject_cache.get(key)
        if found is not None:
            return found
        scope = (engine, direction, ep.namespace)
        misses = self._subject_misses[scope] = self._subject_misses.get(scope, 0) + 1
        candidates = self._subject_candidates(engine, direction, ep.namespace)
        if misses == 1:
            labels = ep.labels if engine == KUBERNETES else ep.clabels
            found = self._subject_cache[key] = [p for p in candidates if p.selector.matches(labels)]
            return found
        lists = {p.index: [] for p in self.pods_by_ns.get(ep.namespace, ())}
        for pol in candidates:  # policy order is kept in every pod's list
            for p in self._select_in_ns(pol.selector, ep.namespace, engine != KUBERNETES):
                lists[p.index].append(pol)
        for index, pols in lists.items():
            self._subject_cache.setdefault((engine, direction, index), pols)
        return self._subject_cache[key]

    def selected_pods(self, policy):
        """Pods a policy (spec) selects (a new list, in pod order)."""
        found = self._selected_cache.get(policy)
        if found is None:
            if policy.engine == KUBERNETES:
                found = self._select_in_ns(policy.selector, policy.namespace)
            elif policy.namespace is not None:
                found = self._select_in_ns(policy.selector, policy.namespace, cilium=True)
            else:
                found = tuple(p for p in self.pods if policy.selector.matches(p.clabels))
            self._selected_cache[policy] = found
        return list(found)

    def _label_index(self, cilium):
        idx = self._label_idx.get(cilium)
        if idx is None:
            idx = self._label_idx[cilium] = {}
            for p in self.pods:
                ns = p.namespace
                for k, v in (p.clabels if cilium else p.labels).items():
                    idx.setdefault((ns, k, v), []).append(p)
        return idx

    def _select_in_ns(self, selector, ns, cilium=False):
        """Pods of namespace ``ns`` a selector matches (pod labels, or Cilium labels), as a tuple in pod order.

        matchLabels narrow the candidates through a (namespace, key, value) index; the selector
        itself still decides, so expressions are honoured.
        """
        key = (selector, cilium, ns)
        found = self._sel_list_cache.get(key)
        if found is not None:
            return found
        if selector.match_none:
            found = ()
        elif selector.match_all:
            found = tuple(self.pods_by_ns.get(ns, ()))
        else:
            candidates = None
            if selector.labels:
                idx = self._label_index(cilium)
                for k, v in selector.labels:
                    hit = idx.get((ns, k, v), ())
                    if candidates is None or len(hit) < len(candidates):
                        candidates = hit
                    if not hit:
                        break
            else:
                candidates = self.pods_by_ns.get(ns, ())
            matches = selector.matches
            found = tuple(p for p in candidates if matches(p.clabels if cilium else p.labels))
        self._sel_list_cache[key] = found
        return found

    def pods_with_labels(self, namespace, labels):
        """Pods of a namespace carrying every ``labels`` pair (a Service selector), in pod order."""
        wanted = {str(k): str(v) for k, v in (labels or {}).items()}
        if not wanted:
            return list(self.pods_by_ns.get(namespace, ()))
        idx = self._label_index(False)
        candidates = None
        for k, v in wanted.items():
            hit = idx.get((namespace, k, v), ())
            if candidates is None or len(hit) < len(candidates):
                candidates = hit
            if not hit:
                return []
        if len(wanted) == 1:
            return list(candidates)  # the index lookup was the whole test
        return [p for p in candidates if all(p.labels.get(k) == v for k, v in wanted.items())]

    def namespaces_matching(self, ns_selector):
        """Namespaces (with pods) whose labels a namespaceSelector matches, in pods_by_ns order."""
        found = self._ns_sel_cache.get(ns_selector)
        if found is None:
            found = self._ns_sel_cache[ns_selector] = tuple(ns for ns in self.pods_by_ns if ns_selector.matches(self._ns_labels(ns)))
        return found

    # ------------------------------------------------------------------ peer matching

    def peer_matches(self, peer, ep):
        kind = peer[0]
        if kind == "pods":
            if not ep.in_cluster:
                return False
            _unused, ns_sel, pod_sel, pol_ns = peer
            if ns_sel is None:
                if ep.namespace != pol_ns:
                    return False
            elif not ns_sel.matches(ep.ns_labels):
                return False
            return pod_sel is None or pod_sel.matches(ep.labels)
        if kind == "ipblock":
            if ep.in_cluster:
                return bool(self.ipblock_pod_ips and ep.network is not None and cidr_admits(peer[1], peer[2], ep.network))
            return cidr_admits(peer[1], peer[2], ep.network)
        if kind == "cidr":
            return not ep.in_cluster and cidr_admits(peer[1], peer[2], ep.network)
        if kind == "endpoints":
            if not ep.in_cluster or (peer[2] is not None and ep.namespace != peer[2]):
                return False
            return peer[1].matches(ep.clabels)
        if kind == "entity":
            entity = peer[1]
            if ep.in_cluster:
                return entity in POD_ENTITIES
            return entity in ("world", "all") or entity == f"world-ipv{ep.network.version}"
        if kind == "fqdn":
            if ep.in_cluster or not ep.fqdn:
                return False
            return ep.fqdn == peer[1] if peer[2] is None else bool(peer[2].fullmatch(ep.fqdn))
        return False

    def _selected_in_ns(self, selector, ns, cilium=False):
        key = (selector, cilium, ns)
        mask = self._sel_ns_cache.get(key)
        if mask is None:
            mask = 0
            for p in self._select_in_ns(selector, ns, cilium):
                mask |= 1 << p.index
            self._sel_ns_cache[key] = mask
        return mask

    def peer_mask(self, peer):
        """Bit mask (by pod index) of the pods a peer matches."""
        mask = self._peer_mask_cache.get(peer)
        if mask is not None:
            return mask
        kind = peer[0]
        if kind == "pods" and peer[1] is not None and peer[3] is not None:
            # With a namespaceSelector the policy's own namespace plays no part: policies of every namespace share the mask.
            mask = self._peer_mask_cache[peer] = self.peer_mask(("pods", peer[1], peer[2], None))
            return mask
        mask = 0
        if kind == "pods":
            _unused, ns_sel, pod_sel, pol_ns = peer
            nss = [pol_ns] if ns_sel is None else self.namespaces_matching(ns_sel)
            for ns in nss:
                if pod_sel is None:
                    for p in self.pods_by_ns.get(ns, ()):
                        mask |= 1 << p.index
                else:
                    mask |= self._selected_in_ns(pod_sel, ns)
        elif kind == "endpoints":
            nss = [peer[2]] if peer[2] is not None else list(self.pods_by_ns)
            for ns in nss:
                mask |= self._selected_in_ns(peer[1], ns, cilium=True)
        elif kind == "entity":
            mask = self.all_mask if peer[1] in POD_ENTITIES else 0
        elif kind == "ipblock" and self.ipblock_pod_ips:
            for p in self.pods:
                if self.peer_matches(peer, p):
                    mask |= 1 << p.index
        self._peer_mask_cache[peer] = mask
        return mask

    def rule_peer_mask(self, rule):
        if rule.peers is None:
            return self.all_mask
        mask = 0
        for peer in rule.peers:
            mask |= self.peer_mask(peer)
        return mask

    # ------------------------------------------------------------------ port matching

    @staticmethod
    def port_match(rule, number, protocol, dest):
        """``(matched, l7)`` of a rule's ports for traffic to ``dest`` on number/protocol.

        ``l7`` is None when some matching port entry has no L7 rules (plain L4 allow).
        """
        if rule.ports is None:
            return True, None
        matched = False
        l7s = []
        for proto, port, end, l7 in rule.ports:
            if proto not in ("ANY", protocol):
                continue
            if port is None:
                ok = True
            elif isinstance(port, int):
                ok = port <= number <= end if end else number == port
            else:
                ok = dest is not None and dest.kind == "pod" and dest.named_port(port, protocol) == number
            if ok:
                if l7 is None:
                    return True, None
                matched = True
                l7s.append(l7)
        return matched, ("; ".join(l7s) if matched else None)

    def _resolve(self, port, protocol, dest):
        """Port number for traffic to dest, or None when a named port does not resolve there."""
        if isinstance(port, int):
            return port
        if dest is None or dest.kind != "pod":
            return None
        return dest.named_port(port, protocol)

    # ------------------------------------------------------------------ one direction, one engine

    def _direction(self, engine, direction, subject, peer, number, protocol, dest):
        enforced = engine in self.enforce
        base = {"enforced": enforced, "applicable": subject.in_cluster, "isolated": False, "allowed": True,
                "policies": [], "admitted_by": None, "denied_by": None, "reason": ""}
        eng = "Kubernetes NetworkPolicy" if engine == KUBERNETES else "Cilium"
        if not subject.in_cluster:
            side = "source" if direction == EGRESS else "destination"
            base["reason"] = f"the {side} is outside the cluster: no {eng} {direction} policy applies to it"
            return base, None
        pols = self.selecting(engine, direction, subject)
        seen = []
        for p in pols:
            ident = p.ident()
            ident.pop("spec_index", None)
            if ident not in seen:
                seen.append(ident)
        base["policies"] = seen
        isolating = [p for p in pols if p.isolates[direction]]
        base["isolated"] = bool(isolating)
        who = subject.describe()
        peer_word = "from" if direction == INGRESS else "to"
        # deny rules (Cilium) win over everything
        for p in pols:
            for rule in p.deny_rules[direction]:
                if rule.peers is not None and not any(self.peer_matches(pe, peer) for pe in rule.peers):
                    continue
                ok, _unused = self.port_match(rule, number, protocol, dest)
                if ok:
                    base["allowed"] = False
                    base["denied_by"] = {"kind": p.kind, "policy": p.ref, "rule_index": rule.index, "section": f"{direction}Deny",
                                         "peers": [_peer_text(x) for x in rule.peers or ()] or ["every peer"], "ports": _ports_text(rule.ports)}
                    base["reason"] = (f"{p.kind} {p.ref} {direction}Deny rule {rule.index} denies {peer.describe()} on {protocol}/{number}; "
                                      "deny rules win over every allow")
                    return base, None
        admitted = None
        l7 = []
        near = []
        for p in pols:
            for rule in p.rules[direction]:
                peer_hit = None
                if rule.peers is None:
                    peer_ok = True
                else:
                    peer_ok = False
                    for i, pe in enumerate(rule.peers):
                        if self.peer_matches(pe, peer):
                            peer_ok, peer_hit = True, i
                            break
                port_ok, rule_l7 = self.port_match(rule, number, protocol, dest)
                if peer_ok and port_ok:
                    hit = {"kind": p.kind, "policy": p.ref, "rule_index": rule.index,
                           "peer": "every peer" if rule.peers is None else _peer_text(rule.peers[peer_hit]),
                           "peer_index": peer_hit, "ports": _ports_text(rule.ports)}
                    if rule_l7 is None:
                        admitted = hit
                        l7 = []
                        break
                    if admitted is None:
                        admitted = hit
                    l7.append({"engine": engine, "direction": direction, "kind": p.kind, "policy": p.ref,
                               "rule_index": rule.index, "restriction": rule_l7})
                elif peer_ok:
                    near.append(f"{p.kind} {p.ref} {direction} rule {rule.index} admits the peer only on {_ports_text(rule.ports)}")
                elif port_ok:
                    peers = "; ".join(_peer_text(x) for x in rule.peers or ())
                    near.append(f"{p.kind} {p.ref} {direction} rule {rule.index} admits this port only {peer_word} {peers}")
            if admitted is not None and not l7:
                break
        if not isolating:
            base["reason"] = (f"{who} is not isolated for {direction} by any {eng} policy: all {direction} allowed"
                              if not pols else
                              f"{who} is selected by {', '.join(p.ref for p in pols)} but none of them enables default deny for "
                              f"{direction} (enableDefaultDeny false): traffic not denied is allowed")
            return base, None
        if admitted is not None:
            base["admitted_by"] = admitted
            base["reason"] = (f"{admitted['kind']} {admitted['policy']} {direction} rule {admitted['rule_index']} admits "
                              f"{peer.describe()} ({admitted['peer']}, ports {admitted['ports']})")
            if l7:
                base["reason"] += " at L4, restricted to " + "; ".join(x["restriction"] for x in l7)
            return base, (l7 or None)
        base["allowed"] = False
        names = ", ".join(sorted({p.ref for p in isolating}))
        reason = f"{who} is isolated for {direction} by {names} ({eng}) and no {direction} rule admits {peer.describe()} on {protocol}/{number}"
        if not any(p.rules[direction] for p in pols):
            reason += f": none of these policies has an {direction} allow rule (default deny)"
        elif near:
            reason += ": " + "; ".join(near[:3])
        base["reason"] = reason
        return base, None

    # ------------------------------------------------------------------ public API

    def _parse_port(self, port, protocol):
        proto = str(protocol or "TCP").upper()
        if proto not in PROTOCOLS:
            raise NetpolInputError(f"protocol {protocol!r} is not supported: use one of {', '.join(PROTOCOLS)}")
        if port is None or port == "":
            raise NetpolInputError("port is required: a number (1-65535) or a named container port of the destination")
        num = port_number(port)
        if num is not None:
            if not 1 <= num <= 65535:
                raise NetpolInputError(f"port {port!r} is out of range: use 1-65535 or a named container port")
            return num, proto
        name = str(port)
        if not is_port_name(name):
            raise NetpolInputError(f"port {port!r} is neither a number nor a valid port name (IANA_SVC_NAME: lowercase letters, digits, '-', at most 15)")
        return name, proto

    def check(self, source, destination, port, protocol="TCP"):
        """May ``source`` reach ``destination`` on ``port``/``protocol``? Result shape: module docstring."""
        src = self.endpoint(source, "source")
        dst = self.endpoint(destination, "destination")
        port, proto = self._parse_port(port, protocol)
        if not src.in_cluster and not dst.in_cluster:
            raise NetpolInputError("source and destination are both outside the cluster (cidr): at least one must be a pod (namespace with pod or labels)")
        number = self._resolve(port, proto, dst)
        result = {"allowed": False, "reason": "", "source": src.as_dict(), "destination": dst.as_dict(),
                  "port": {"requested": port, "number": number, "protocol": proto},
                  "egress": {}, "ingress": {}, "l7": [], "notes": [], "combine": self.combine}
        if number is None:
            if dst.kind == "pod":
                declared = ", ".join(f"{n}/{p}={v}" for (n, p), v in sorted(dst.ports.items())) or "none"
                why = f"named port {port!r} ({proto}) is not declared by any container of {dst.describe()} (declared: {declared})"
            else:
                why = f"named port {port!r} cannot be resolved on {dst.describe()}: only an existing pod's containers name ports; give a number"
            result["reason"] = why + "; nothing can connect to it"
            result["port"]["error"] = why
            return result
        l7 = []
        for direction, subject, peer in ((EGRESS, src, dst), (INGRESS, dst, src)):
            for engine in ENGINES:
                detail, rule_l7 = self._direction(engine, direction, subject, peer, number, proto, dst)
                result[direction][engine] = detail
                if rule_l7 and engine in self.enforce:
                    l7.extend(rule_l7)
        for engine in ENGINES:
            for pol in self.selecting(engine, EGRESS, src) + self.selecting(engine, INGRESS, dst):
                for note in pol.notes:
                    if note not in result["notes"]:
                        result["notes"].append(note)
        allowed, blocking = self._combine(result)
        result["allowed"] = allowed
        if allowed:
            l7_active = [x for x in l7 if self._l7_counts(result, x)]
            result["l7"] = l7_active
            if l7_active:
                result["reason"] = "allowed at L4, restricted to " + "; ".join(f"{x['restriction']} ({x['kind']} {x['policy']})" for x in l7_active)
            else:
                parts = [f"{d}: {result[d][e]['reason']}" for d in (EGRESS, INGRESS) for e in ENGINES
                         if e in self.enforce and result[d][e]["applicable"] and (result[d][e]["isolated"] or result[d][e]["admitted_by"])]
                result["reason"] = "allowed" + (" — " + "; ".join(parts) if parts else ": no enforcing policy isolates either side")
        else:
            result["reason"] = "denied — " + "; ".join(blocking)
        return result

    def _l7_counts(self, result, entry):
        """An L7 restriction matters when its side is isolated and no plain L4 allow admits the traffic."""
        direction = entry["direction"]
        detail = result[direction][entry["engine"]]
        if self.combine == "separate":
            return detail["isolated"] and detail["admitted_by"] is not None
        dets = [result[direction][e] for e in ENGINES if e in self.enforce]
        if not any(d["isolated"] for d in dets):
            return False
        return not any(d["admitted_by"] is not None and "restricted to" not in d["reason"] for d in dets)

    def _combine(self, result):
        blocking = []
        ok = True
        for direction in (EGRESS, INGRESS):
            dets = {e: result[direction][e] for e in ENGINES if e in self.enforce}
            if self.combine == "separate":
                for e, d in dets.items():
                    if not d["allowed"]:
                        ok = False
                        blocking.append(f"{direction} ({e}): {d['reason']}")
            else:
                denied = [d for d in dets.values() if d["denied_by"]]
                isolated = any(d["isolated"] for d in dets.values())
                admitted = any(d["admitted_by"] for d in dets.values())
                if denied:
                    ok = False
                    blocking.extend(f"{direction}: {d['reason']}" for d in denied)
                elif isolated and not admitted:
                    ok = False
                    blocking.extend(f"{direction} ({e}): {d['reason']}" for e, d in dets.items() if not d["allowed"])
        return ok, blocking

    # ------------------------------------------------------------------ matrix

    def _port_mask(self, rule, port, protocol, nums):
        """(any_mask, plain_mask) of destination pods whose traffic on port matches the rule's ports."""
        key = (id(rule), port, protocol)
        hit = self._port_mask_cache.get(key)
        if hit is not None:
            return hit
        if rule.ports is None:
            hit = (self.all_mask, self.all_mask)
        elif isinstance(port, int) and all(not isinstance(p[1], str) for p in rule.ports):
            ok, l7 = self.port_match(rule, port, protocol, None)
            hit = (self.all_mask if ok else 0, self.all_mask if ok and l7 is None else 0)
        elif all(not isinstance(p[1], str) for p in rule.ports):
            # Numbered rule ports, named requested port: the verdict depends only on the number the
            # name resolves to on each destination, so it is computed once per distinct number.
            any_mask = plain = 0
            for num, mask in self._num_masks(nums).items():
                ok, l7 = self.port_match(rule, num, protocol, None)
                if ok:
                    any_mask |= mask
                    if l7 is None:
                        plain |= mask
            hit = (any_mask, plain)
        else:
            any_mask = plain = 0
            for d in self.pods:
                num = nums[d.index]
                if num is None:
                    continue
                ok, l7 = self.port_match(rule, num, protocol, d)
                if ok:
                    any_mask |= 1 << d.index
                    if l7 is None:
                        plain |= 1 << d.index
            hit = (any_mask, plain)
        self._port_mask_cache[key] = hit
        return hit

    def _masks(self, engine, direction, subject, port, protocol, nums):
        """(isolated, ok_mask, plain_mask, allow_mask, allow_plain_mask, deny_mask) over peer pods.

        For ingress the masks are over sources; for egress over destinations.
        """
        pols = self.selecting(engine, direction, subject)
        isolated = any(p.isolates[direction] for p in pols)
        allow = plain = deny = 0
        for p in pols:
            for rule in p.deny_rules[direction]:
                peers = self.rule_peer_mask(rule)
                if direction == INGRESS:
                    num = nums[subject.index]
                    if num is not None and self.port_match(rule, num, protocol, subject)[0]:
                        deny |= peers
                else:
                    deny |= peers & self._port_mask(rule, port, protocol, nums)[0]
            for rule in p.rules[direction]:
                peers = self.rule_peer_mask(rule)
                if direction == INGRESS:
                    num = nums[subject.index]
                    if num is None:
                        continue
                    ok, l7 = self.port_match(rule, num, protocol, subject)
                    if ok:
                        allow |= peers
                        if l7 is None:
                            plain |= peers
                else:
                    any_mask, plain_mask = self._port_mask(rule, port, protocol, nums)
                    allow |= peers & any_mask
                    plain |= peers & plain_mask
        full = self.all_mask
        if isolated:
            return True, allow & ~deny & full, plain & ~deny & full, allow, plain, deny
        return False, full & ~deny, full & ~deny, allow, plain, deny

    def _direction_masks(self, direction, subject, port, protocol, nums):
        key = (direction, subject.index, port, protocol)
        hit = self._dm_cache.get(key)
        if hit is None:
            hit = self._dm_cache[key] = self._direction_masks_uncached(direction, subject, port, protocol, nums)
        return hit

    def _direction_masks_uncached(self, direction, subject, port, protocol, nums):
        engines = [e for e in ENGINES if e in self.enforce]
        per = {e: self._masks(e, direction, subject, port, protocol, nums) for e in engines}
        full = self.all_mask
        if self.combine == "separate":
            ok = plain = full
            for _iso, e_ok, e_plain, *_unused in per.values():
                ok &= e_ok
                plain &= e_plain
            return ok, plain
        isolated = any(v[0] for v in per.values())
        deny = 0
        allow = allow_plain = 0
        for _iso, _ok, _plain, e_allow, e_allow_plain, e_deny in per.values():
            deny |= e_deny
            allow |= e_allow
            allow_plain |= e_allow_plain
        if not isolated:
            return full & ~deny, full & ~deny
        return allow & ~deny & full, allow_plain & ~deny & full

    def matrix(self, namespaces=None, ports=(80,), protocol="TCP"):
        """Every pod pair's verdict for each port.

        ``namespaces``: None = every namespace; else the pods of these namespaces are both the
        sources and the destinations. ``ports``: numbers or names (named ports resolve per
        destination pod; a pod that does not declare the name gets False and is listed in
        ``unresolved``). Returns::

            {pods: ["ns/name", ...], combine, engines,
             results: [{port, protocol, allowed: [[bool] * n] * n (row = source, column = destination),
                        allowed_count, restricted: [[src, dst], ...] (allowed at L4 only with L7 rules),
                        unresolved: [destination indexes]}]}
        """
        if namespaces is None:
            members = list(self.pods)
        else:
            wanted = set(namespaces)
            members = [p for p in self.pods if p.namespace in wanted]
        results = []
        for raw_port in ports:
            port, proto = self._parse_port(raw_port, protocol)
            nums = self._nums(port, proto)
            ing = {}
            for d in members:
                if nums[d.index] is None:
                    ing[d.index] = (0, 0)
                else:
                    ing[d.index] = self._direction_masks(INGRESS, d, port, proto, nums)
            rows = []
            restricted = []
            count = 0
            for si, s in enumerate(members):
                eg_ok, eg_plain = self._direction_masks(EGRESS, s, port, proto, nums)
                sbit = s.index
                row = []
                for di, d in enumerate(members):
                    i_ok, i_plain = ing[d.index]
                    dbit = d.index
                    allowed = bool((i_ok >> sbit) & 1 and (eg_ok >> dbit) & 1)
                    row.append(allowed)
                    if allowed:
                        count += 1
                        if not ((i_plain >> sbit) & 1 and (eg_plain >> dbit) & 1):
                            restricted.append([si, di])
                rows.append(row)
            results.append({"port": port, "protocol": proto, "allowed": rows, "allowed_count": count,
                            "restricted": restricted,
                            "unresolved": [di for di, d in enumerate(members) if nums[d.index] is None]})
        return {"pods": [p.ref() for p in members], "combine": self.combine,
                "engines": [e for e in ENGINES if e in self.enforce], "results": results}

    def _num_masks(self, nums):
        """``{port number: mask of the pods whose port resolves to it}`` for a ``_nums`` list."""
        entry = self._num_masks_cache.get(id(nums))
        if entry is not None and entry[0] is nums:
            return entry[1]
        hit = {}
        for i, num in enumerate(nums):
            if num is not None:
                hit[num] = hit.get(num, 0) | (1 << i)
        self._num_masks_cache[id(nums)] = (nums, hit)  # the list is kept, so its id is not reused
        return hit

    def _nums(self, port, proto):
        key = (port, proto)
        nums = self._nums_cache.get(key)
        if nums is None:
            nums = self._nums_cache[key] = [self._resolve(port, proto, d) for d in self.pods]
        return nums

    def reachable_from_pods(self, destination, port, protocol="TCP", exclude_self=True, limit=None):
        """Pods (Endpoint list) that may reach ``destination`` on port: both directions, every engine.

        ``limit``: stop after that many (``limit=1`` answers "can anyone reach it?" cheaply).
        """
        dst = self.endpoint(destination, "destination")
        port, proto = self._parse_port(port, protocol)
        nums = self._nums(port, proto)
        if dst.index is None:
            raise NetpolInputError("reachable_from_pods needs an existing destination pod ({namespace, pod})")
        if nums[dst.index] is None:
            return []
        ing_ok, _unused = self._direction_masks(INGRESS, dst, port, proto, nums)
        out = []
        mask = ing_ok
        while mask:
            low = mask & -mask
            mask ^= low
            s = self.pods[low.bit_length() - 1]
            if exclude_self and s is dst:
                continue
            eg_ok, _unused = self._direction_masks(EGRESS, s, port, proto, nums)
            if (eg_ok >> dst.index) & 1:
                out.append(s)
                if limit and len(out) >= limit:
                    break
        return out

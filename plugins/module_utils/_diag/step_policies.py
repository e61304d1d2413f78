# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 4 of the field guide: network policies (Kubernetes and Cilium). Pure.

``analyze_policies(index, ctx)`` returns ``{checked, findings, skipped}``. ``ctx`` is a dict or an
object with ``cluster_facts`` (None, or the network profile as ``cluster_info`` returns it; ARM
camelCase keys are accepted too) and ``namespaces`` (None = all, else the namespaces to check), or
an ``in_scope(namespace)`` method.

Engines: with facts, Kubernetes NetworkPolicy is enforced when ``policy`` is azure/calico/cilium
(or the dataplane is cilium) and Cilium policies only on a Cilium dataplane; there Cilium enforces
both kinds as one policy set (the evaluator's ``combine="merged"``). Without facts every policy
is assumed enforced, except Cilium policies on a cluster with no Cilium agent DaemonSet/pods.
Flow findings (default deny, isolation, DNS, Service reachability) are only reported for engines
that enforce; configuration findings (selectors, ports) always.
"""

from __future__ import annotations

from .._common.memory import gc_paused
from .._netpol.evaluate import (
    CILIUM,
    EGRESS,
    INGRESS,
    KIND_CCNP,
    KIND_CNP,
    KIND_NP,
    KUBERNETES,
    NetpolInputError,
    PolicyEvaluator,
)
from .enforcement import cilium_agent_present, enforcement
from .findings import finding
from .helpers import short_list

STEP = 4
REQUIRED_KINDS = ("NetworkPolicy", "Pod")
OPTIONAL_KINDS = ("Namespace", "Service", "DaemonSet", KIND_CNP, KIND_CCNP)

DNS_NAMESPACE = "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns"}
MAX_EVIDENCE = 20
ENFORCING_POLICIES = ("azure", "calico", "cilium")


# ----------------------------------------------------------------------------- context and facts


def _ctx_get(ctx, key):
    if ctx is None:
        return None
    if isinstance(ctx, dict):
        return ctx.get(key)
    return getattr(ctx, key, None)


def _scope(ctx):
    in_scope = getattr(ctx, "in_scope", None) if not isinstance(ctx, dict) else None
    if callable(in_scope):
        return in_scope
    namespaces = _ctx_get(ctx, "namespaces")
    if namespaces is None:
        return lambda ns: True
    wanted = set(namespaces)
    return lambda ns: ns in wanted


def _pick(data, *keys):
    for key in keys:
        if isinstance(data, dict) and data.get(key) is not None:
            return data[key]
    return None


def network_facts(facts):
    """Normalised ``{known, plugin, dataplane, policy, advanced_network_policies}`` (lowercase strings or None)."""
    if not isinstance(facts, dict) or not facts:
        return {"known": False, "plugin": None, "dataplane": None, "policy": None, "advanced_network_policies": None}
    profile = _pick(facts, "network_profile", "networkProfile", "network") or facts
    if not isinstance(profile, dict):
        profile = facts

    def low(value):
        return str(value).strip().lower() if value not in (None, "") else None

    adv = _pick(profile, "advanced_networking", "advancedNetworking") or {}
    security = _pick(adv, "security") if isinstance(adv, dict) else None
    level = _pick(adv, "advanced_network_policies", "advancedNetworkPolicies") if isinstance(adv, dict) else None
    if isinstance(security, dict):
        level = _pick(security, "advanced_network_policies", "advancedNetworkPolicies") or level
        enabled = security.get("enabled")
        if enabled is False:
            level = "none"
        elif level is None and enabled is True:
            level = "fqdn"  # AKS default level when security is enabled without a level: FQDN filtering
    elif security is False:
        level = "none"
    if isinstance(adv, dict) and adv.get("enabled") is False:
        level = "none"
    return {
        "known": True,
        "plugin": low(_pick(profile, "plugin", "network_plugin", "networkPlugin")),
        "dataplane": low(_pick(profile, "dataplane", "network_dataplane", "networkDataplane")),
        "policy": low(_pick(profile, "policy", "network_policy", "networkPolicy")),
        "advanced_network_policies": low(level),
    }


def _cilium_agent_present(index):
    """True / False from the kube-system DaemonSets and pods, None when unknown (``enforcement``)."""
    return cilium_agent_present(index)


def _engines(facts, index):
    """``(k8s_enforced, cilium_enforced, why_not_cilium)``; each True/False/None (unknown).

    The one answer of ``enforcement.enforcement``, shared with step 7 and netpol_check.
    """
    state = enforcement(facts, index)
    return state["kubernetes"], state["cilium"], state["why_not_cilium"]


# ----------------------------------------------------------------------------- small helpers


def _kubectl(kind, ns, name):
    res = {KIND_NP: "networkpolicy", KIND_CNP: "ciliumnetworkpolicy", KIND_CCNP: "ciliumclusterwidenetworkpolicy"}[kind]
    return f"kubectl get {res} {name}" + (f" -n {ns}" if ns else "") + " -o yaml"


def _closest(selector, candidates, limit=3):
    """Candidates whose labels come closest to satisfying ``selector``, with what differs.

    A candidate carries its full ``labels`` only when they tell something new: the first one, and any whose ``differs``
    is not the same as an earlier candidate's (replicas of one workload differ the same way; their labels repeat).
    """
    reqs = len(selector.labels) + len(selector.exprs)
    count = selector.failing_count
    scored = [(count(labels), name, labels) for name, labels in candidates]
    scored.sort(key=lambda x: (x[0], x[1]))
    out, seen = [], []
    for n, name, labels in scored[:limit]:
        differs = selector.failing(labels)
        entry = {"name": name}
        if differs not in seen:
            entry["labels"] = labels
            seen.append(differs)
        entry.update(differs=differs, matched=reqs - n)
        out.append(entry)
    return out


def _pod_candidates(ev, namespace, cilium=False):
    pods = ev.pods if namespace is None else ev.pods_by_ns.get(namespace, ())
    return [(p.ref(), p.clabels if cilium else p.labels) for p in pods]


def _peer_is_external(peer):
    return peer[0] in ("ipblock", "cidr", "fqdn") or (peer[0] == "entity" and peer[1] in ("world", "all", "world-ipv4", "world-ipv6"))


def _rule_admits_anything(ev, rule):
    if rule.peers is None:
        return True
    return any(_peer_is_external(peer) or ev.peer_mask(peer) for peer in rule.peers)


def _masked_pods(ev, mask):
    """The evaluator's pods whose bit is set in ``mask``, in pod order."""
    out = []
    while mask:
        low = mask & -mask
        mask ^= low
        out.append(ev.pods[low.bit_length() - 1])
    return out


def _direction_allowed(result, direction, combine):
    dets = [d for d in result[direction].values() if d["enforced"]]
    if combine == "separate":
        return all(d["allowed"] for d in dets)
    if any(d["denied_by"] for d in dets):
        return False
    return not any(d["isolated"] for d in dets) or any(d["admitted_by"] for d in dets)


# ----------------------------------------------------------------------------- the analyzer


class _Run:
    def __init__(self, index, ctx):
        self.index = index
        self.in_scope = _scope(ctx)
        self.facts = network_facts(_ctx_get(ctx, "cluster_facts"))
        state = enforcement(self.facts, index)
        self.k8s_on, self.cilium_on, self.cilium_why = state["kubernetes"], state["cilium"], state["why_not_cilium"]
        self.k8s_why = state["why_not_kubernetes"]
        enforce = [KUBERNETES] if self.k8s_on is not False else []
        if self.cilium_on is not False:
            enforce.append(CILIUM)
        self.combine = "merged" if self.cilium_on else "separate"
        self.ev = PolicyEvaluator.from_index(index, enforce=enforce, combine=self.combine)
        self.findings = []
        self.checked = 0
        self._dns = None
        self._all_ns = None
        self._ns_matches = {}  # namespace selector -> every known namespace it matches (sorted)
        self._admits = {}  # (policy, direction) -> some rule of that direction admits a peer
        self._backends = {}  # (namespace, Service selector items) -> pods it selects

    def namespaces_matching(self, ns_sel):
        """Every known namespace (Namespace objects or pods), sorted, whose labels ``ns_sel`` matches."""
        found = self._ns_matches.get(ns_sel)
        if found is None:
            if self._all_ns is None:
                self._all_ns = self.ev.namespaces()
            found = self._ns_matches[ns_sel] = [ns for ns in self._all_ns if ns_sel.matches(self.ev._ns_labels(ns))]
        return found

    def admits_anything(self, pol, direction):
        key = (pol, direction)
        found = self._admits.get(key)
        if found is None:
            found = self._admits[key] = any(_rule_admits_anything(self.ev, r) for r in pol.rules[direction])
        return found

    def add(self, code, severity, kind, ns, name, message, remediation, evidence):
        self.findings.append(finding(code, severity, STEP, kind, ns, name, message, remediation, evidence))

    def dns_endpoint(self):
        if self._dns is None:
            pods = [p for p in self.ev.pods_by_ns.get(DNS_NAMESPACE, ()) if all(p.labels.get(k) == v for k, v in DNS_LABELS.items())]
            self._dns = pods[0] if pods else self.ev.endpoint({"namespace": DNS_NAMESPACE, "labels": dict(DNS_LABELS)})
        return self._dns

    # -------------------------------------------------------------- Kubernetes NetworkPolicy

    def kubernetes(self):
        policies = [p for p in self.ev.policies[KUBERNETES] if self.in_scope(p.namespace)]
        self.checked += len(policies)
        if policies and self.k8s_on is False:
            by_ns = {}
            for p in policies:
                by_ns.setdefault(p.namespace, []).append(p.ref)
            for ns, refs in sorted(by_ns.items()):
                self.add("netpol.not_enforced", "warning", "Namespace", None, ns,
                         f"{len(refs)} NetworkPolicy object(s) in namespace {ns} ({short_list(refs)}) are not enforced: {self.k8s_why}, "
                         "so every pod accepts and sends all traffic.",
                         "Enable a policy engine: az aks update -g <rg> -n <cluster> --network-policy azure|cilium (cilium needs "
                         "--network-dataplane cilium), or set network.policy in the aksnet.networking.cluster module; or delete the unused policies.",
                         {"policies": refs, "network_policy": self.facts["policy"], "dataplane": self.facts["dataplane"]})
        for p in policies:
            self._np_selectors(p)
            self._np_ports(p)
            if self.k8s_on is not False:
                self._np_default_deny(p)
        if self.k8s_on is not False:
            self._isolated_without_allow()

    def _np_selectors(self, p):
        selected = self.ev.selected_pods(p)
        if not p.selector.match_all and not selected:
            closest = _closest(p.selector, _pod_candidates(self.ev, p.namespace))
            self.add("netpol.selects_no_pods", "warning", KIND_NP, p.namespace, p.name,
                     f"NetworkPolicy {p.ref} podSelector {p.selector.describe()} selects no pod in namespace {p.namespace}: the policy has no effect"
                     + (f"; closest pod {closest[0]['name']} differs in {', '.join(closest[0]['differs'])}" if closest else " (the namespace has no pods)"),
                     f"Fix spec.podSelector to match the workload's pod labels (kubectl get pods -n {p.namespace} --show-labels), "
                     f"or relabel the pods: kubectl label pod <pod> -n {p.namespace} <key>=<value>; {_kubectl(KIND_NP, p.namespace, p.name)}",
                     {"policy": p.ref, "pod_selector": p.selector.describe(), "closest_pods": closest})
        for direction in (INGRESS, EGRESS):
            for rule in p.rules[direction]:
                for i, peer in enumerate(rule.peers or ()):
                    if peer[0] != "pods":
                        continue
                    _unused, ns_sel, pod_sel, _pol_ns = peer
                    where = f"{direction} rule {rule.index} peer {i}"
                    if ns_sel is not None and not ns_sel.match_all and not self.namespaces_matching(ns_sel):
                        closest = _closest(ns_sel, [(ns, self.ev._ns_labels(ns)) for ns in self.ev.namespaces()])
                        hint = f"; closest namespace {closest[0]['name']} differs in {', '.join(closest[0]['differs'])}" if closest else ""
                        missing = ", ".join(f"{k}={v}" for k, v in ns_sel.labels) or "<key>=<value>"
                        self.add("netpol.namespace_selector_no_match", "warning", KIND_NP, p.namespace, p.name,
                                 f"NetworkPolicy {p.ref} {where}: namespaceSelector {ns_sel.describe()} matches no namespace, so this peer "
                                 f"admits nothing{hint}",
                                 f"Label the intended namespace (kubectl label namespace <namespace> {missing}) or select it by its "
                                 f"automatic label kubernetes.io/metadata.name=<namespace>; kubectl get namespaces --show-labels",
                                 {"policy": p.ref, "rule": where, "namespace_selector": ns_sel.describe(), "closest_namespaces": closest})
                        continue
                    if pod_sel is not None and not pod_sel.match_all and not self.ev.peer_mask(peer):
                        scope_ns = [p.namespace] if ns_sel is None else list(self.namespaces_matching(ns_sel))
                        candidates = [c for ns in scope_ns for c in _pod_candidates(self.ev, ns)]
                        closest = _closest(pod_sel, candidates)
                        self.add("netpol.peer_selects_no_pods", "warning", KIND_NP, p.namespace, p.name,
                                 f"NetworkPolicy {p.ref} {where}: podSelector {pod_sel.describe()} matches no pod in "
                                 f"{short_list(scope_ns) or 'any namespace'}, so this peer admits nothing"
                                 + (f"; closest pod {closest[0]['name']} differs in {', '.join(closest[0]['differs'])}" if closest else ""),
                                 "Fix the peer's podSelector to the client pods' labels (kubectl get pods -A --show-labels); remember that a "
                                 "podSelector without namespaceSelector only selects pods of the policy's own namespace.",
                                 {"policy": p.ref, "rule": where, "pod_selector": pod_sel.describe(), "namespaces": scope_ns, "closest_pods": closest})

    def _np_ports(self, p):
        selected = self.ev.selected_pods(p)
        for direction in (INGRESS, EGRESS):
            for rule in p.rules[direction]:
                for proto, port, end, _l7 in rule.ports or ():
                    if port is None or end:
                        continue
                    if direction == INGRESS:
                        pods = selected
                    else:
                        if not isinstance(port, str):
                            continue  # numeric egress ports may target anything outside the cluster
                        mask = self.ev.rule_peer_mask(rule)
                        pods = _masked_pods(self.ev, mask)
                    if not pods:
                        continue
                    if isinstance(port, str):
                        exposed = any(x.named_port(port, proto) is not None for x in pods)
                    else:
                        declared = [x for x in pods if x.pod is not None and any(c.get("ports") for c in (x.pod.get("spec") or {}).get("containers") or [])]
                        if not declared:
                            continue  # containerPort lists are informational; nothing to compare with
                        exposed = any(self._declares_number(x, port, proto) for x in declared)
                    if exposed:
                        continue
                    side = "selected" if direction == INGRESS else "destination"
                    sample = [{"pod": x.ref(), "ports": self._declared(x)} for x in pods[:5]]
                    self.add("netpol.port_not_exposed", "warning", KIND_NP, p.namespace, p.name,
                             f"NetworkPolicy {p.ref} {direction} rule {rule.index} allows {proto}/{port}, but none of the {len(pods)} {side} pod(s) "
                             f"declares {'a container port named ' + repr(port) if isinstance(port, str) else 'container port ' + str(port)} "
                             f"with protocol {proto}: the rule admits no real traffic",
                             f"Use the port the container listens on (kubectl get pod <pod> -n <ns> -o jsonpath='{{.spec.containers[*].ports}}') "
                             f"in spec.{direction}[{rule.index}].ports, or "
                             + (f"name the container port {port!r} in the pod template." if isinstance(port, str)
                                else f"declare containerPort {port} ({proto}) in the pod template if the app really listens there."),
                             {"policy": p.ref, "rule_index": rule.index, "direction": direction, "port": port, "protocol": proto, "pods": sample})

    @staticmethod
    def _declared(ep):
        out = []
        for c in (ep.pod or {}).get("spec", {}).get("containers") or []:
            for port in c.get("ports") or []:
                out.append(f"{port.get('name') or '-'}:{port.get('containerPort')}/{(port.get('protocol') or 'TCP').upper()}")
        return out

    @staticmethod
    def _declares_number(ep, number, proto):
        for c in (ep.pod or {}).get("spec", {}).get("containers") or []:
            for port in c.get("ports") or []:
                if port.get("containerPort") == number and (port.get("protocol") or "TCP").upper() == proto:
                    return True
        return False

    def _np_default_deny(self, p):
        if not p.selector.match_all:
            return
        for direction in (INGRESS, EGRESS):
            if not p.isolates[direction] or p.rules[direction]:
                continue
            others = [o.ref for o in self.ev._by_ns[KUBERNETES].get(p.namespace, ()) if o is not p and o.rules[direction]]
            pods = self.ev.pods_by_ns.get(p.namespace, ())
            extra = (f"only traffic that other policies allow passes ({short_list(others)})" if others
                     else f"no policy in {p.namespace} allows any {direction} traffic, so the pods {'receive' if direction == INGRESS else 'send'} nothing")
            self.add("netpol.default_deny", "info", KIND_NP, p.namespace, p.name,
                     f"NetworkPolicy {p.ref} is a default deny for {direction}: its empty podSelector with policyType "
                     f"{direction.capitalize()} and no {direction} rules isolates all {len(pods)} pod(s) of namespace {p.namespace}; {extra}",
                     f"Intended: add allow policies for the flows the workloads need (e.g. an {direction} rule per client/destination"
                     + (", and DNS to kube-dns on UDP/TCP 53" if direction == EGRESS else "")
                     + f"). Not intended: kubectl delete networkpolicy {p.name} -n {p.namespace}",
                     {"policy": p.ref, "direction": direction, "pod_count": len(pods), "allowing_policies": others})

    def isolated_pods(self, engines, direction):
        """In-scope pods some policy of ``engines`` isolates for ``direction``, in pod order.

        The union of what the isolating policies select: pods no policy selects are never visited.
        """
        found = set()
        for engine in engines:
            for pol in self.ev.policies[engine]:
                if pol.isolates[direction]:
                    found.update(p.index for p in self.ev.selected_pods(pol))
        pods = self.ev.pods
        return [pods[i] for i in sorted(found) if self.in_scope(pods[i].namespace)]

    def _isolated_without_allow(self):
        groups = {}
        for direction in (INGRESS, EGRESS):
            for ep in self.isolated_pods((KUBERNETES,), direction):
                pols = self.ev.selecting(KUBERNETES, direction, ep)
                if not pols:
                    continue
                if any(self.admits_anything(pol, direction) for pol in pols):
                    continue
                key = (ep.namespace, direction, tuple(sorted(pol.ref for pol in pols)))
                groups.setdefault(key, []).append(ep.ref())
        by_ref = {}
        for pol in self.ev.policies[KUBERNETES] if groups else ():
            by_ref.setdefault(pol.ref, []).append(pol)
        for (ns, direction, refs), pods in sorted(groups.items()):
            with_rules = [r for r in refs if any(pol.rules[direction] for pol in by_ref.get(r, ()))]
            why = ("their rules' peers select nothing" if with_rules else f"none of them has an {direction} rule")
            self.add("netpol.isolated_without_allow", "warning", "Namespace", None, ns,
                     f"{len(pods)} pod(s) in namespace {ns} ({short_list(pods)}) are isolated for {direction} by {short_list(refs)} and no rule "
                     f"admits any {direction} traffic ({why}): all their {direction} connections are dropped",
                     f"Add a NetworkPolicy in {ns} selecting these pods with an {direction} rule for the traffic they need "
                     f"({'from' if direction == INGRESS else 'to'}: podSelector/namespaceSelector/ipBlock, ports), or fix the peers of {short_list(refs)}.",
                     {"namespace": ns, "direction": direction, "policies": list(refs), "pods": pods[:MAX_EVIDENCE], "pod_count": len(pods)})

    # -------------------------------------------------------------- flows through the evaluator

    def dns_egress(self):
        dns = self.dns_endpoint()
        seen = {}
        groups = {}
        for ep in self.isolated_pods(sorted(self.ev.enforce), EGRESS):
            if ep is dns:
                continue
            sig = (ep.namespace, tuple(sorted(ep.labels.items())), ep.clabels.get("io.cilium.k8s.policy.serviceaccount"))
            verdict = seen.get(sig)
            if verdict is None:
                udp = self.ev.check(ep, dns, 53, "UDP")
                tcp = self.ev.check(ep, dns, 53, "TCP")
                verdict = seen[sig] = (_direction_allowed(udp, EGRESS, self.combine), _direction_allowed(tcp, EGRESS, self.combine), udp)
            if verdict[0]:
                continue
            groups.setdefault(ep.namespace, []).append((ep, verdict))
        for ns, items in sorted(groups.items()):
            first = items[0][1][2]
            reasons = [d["reason"] for d in first["egress"].values() if d["enforced"] and not d["allowed"]]
            pols = sorted({x["name"] for d in first["egress"].values() for x in d["policies"]})
            self.add("netpol.egress_blocks_dns", "error", "Namespace", None, ns,
                     f"{len(items)} pod(s) in namespace {ns} ({short_list([e.ref() for e, _unused in items])}) are isolated for egress and may not "
                     f"reach kube-dns ({dns.describe()}) on UDP/53{'' if items[0][1][1] else ' or TCP/53'}: name resolution fails for them. "
                     + ("; ".join(reasons[:2])),
                     f"Add an egress rule to the isolating policy/policies ({short_list(pols)}): to: [{{namespaceSelector: {{matchLabels: "
                     f"{{kubernetes.io/metadata.name: kube-system}}}}, podSelector: {{matchLabels: {{k8s-app: kube-dns}}}}}}], ports: "
                     f"[{{port: 53, protocol: UDP}}, {{port: 53, protocol: TCP}}] (aksnet.networking.network_policy intent allow_dns).",
                     {"namespace": ns, "pods": [e.ref() for e, _unused in items][:MAX_EVIDENCE], "policies": pols, "dns_endpoint": dns.ref(),
                      "udp_allowed": False, "tcp_allowed": items[0][1][1], "reasons": reasons})

    def services(self):
        for svc in self.index.kinds("Service"):
            meta = svc.get("metadata") or {}
            ns = meta.get("namespace")
            spec = svc.get("spec") or {}
            if not self.in_scope(ns) or not spec.get("selector") or spec.get("type") == "ExternalName":
                continue
            self.checked += 1
            selector = {str(k): str(v) for k, v in spec["selector"].items()}
            key = (ns, tuple(sorted(selector.items())))
            backends = self._backends.get(key)
            if backends is None:
                backends = self._backends[key] = self.ev.pods_with_labels(ns, selector)
            if not backends:
                continue  # service.selector_mismatch (step 2) reports this
            backend = backends[0]
            if not any(pol.isolates[INGRESS] for e in self.ev.enforce for pol in self.ev.selecting(e, INGRESS, backend)):
                continue
            for sp in spec.get("ports") or []:
                proto = (sp.get("protocol") or "TCP").upper()
                target = sp.get("targetPort") if sp.get("targetPort") not in (None, "") else sp.get("port")
                try:
                    reachable = self.ev.reachable_from_pods(backend, target, proto, limit=1)
                except NetpolInputError:
                    continue
                if reachable:
                    continue
                number = self.ev._resolve(target if isinstance(target, int) else (int(target) if str(target).isdigit() else str(target)), proto, backend)
                if number is None:
                    continue  # service.target_port_mismatch (step 2) reports this
                if spec.get("type") in ("LoadBalancer", "NodePort") and self._admits_outside(backend, number, proto):
                    continue
                client = self._example_client(backend, backends, ns)
                check = self.ev.check(client, backend, number, proto) if client is not None else None
                ing = [d for d in (check or self.ev.check(backend, backend, number, proto))["ingress"].values() if d["enforced"]]
                pols = sorted({x["name"] for d in ing for x in d["policies"]})
                self.add("netpol.blocks_service_traffic", "error", "Service", ns, meta.get("name"),
                         f"Service {ns}/{meta.get('name')} port {sp.get('port')}/{proto} (targetPort {target}): no pod in the cluster may reach "
                         f"its backend {backend.ref()} on {proto}/{number}; isolating policies: {short_list(pols)}"
                         + (f". Example: {check['reason']}" if check else ""),
                         f"Add an ingress rule to a policy selecting the backend pods (labels {selector}) that admits the clients: "
                         f"from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: <client-ns>}}}}, podSelector: {{...}}}}], "
                         f"ports: [{{port: {target}, protocol: {proto}}}]; and make sure the clients' egress policies allow it.",
                         {"service": f"{ns}/{meta.get('name')}", "port": sp.get("port"), "target_port": target, "protocol": proto,
                          "backend": backend.ref(), "backend_labels": backend.labels, "policies": pols,
                          "example": check["reason"] if check else None})

    def _example_client(self, backend, backends, ns):
        """The client the example shows: one the backend's policies name (on any port), so the example says why the
        intended client is denied on this port; else another workload of the namespace; a sibling backend only last."""
        named = 0
        for engine in sorted(self.ev.enforce):
            for pol in self.ev.selecting(engine, INGRESS, backend):
                for rule in pol.rules[INGRESS]:
                    if rule.peers is not None:
                        named |= self.ev.rule_peer_mask(rule)
        own = {id(b) for b in backends}
        pods = self.ev.pods

        def eligible(x):
            return id(x) not in own and x.namespace != DNS_NAMESPACE

        # the order is (named by a policy first, the backend's namespace first, pod order), found without sorting:
        # the named pods are the set bits of the mask, lowest first; a named pod of the namespace ends the search
        fallback = None
        while named:
            low = named & -named
            x = pods[low.bit_length() - 1]
            named ^= low
            if eligible(x):
                if x.namespace == ns:
                    return x
                fallback = fallback or x
        if fallback is not None:
            return fallback
        x = next((x for x in self.ev.pods_by_ns.get(ns, ()) if eligible(x)), None)
        if x is None:
            x = next((x for x in pods if eligible(x)), None)
        return x if x is not None else next((x for x in backends if x is not backend), None)

    def _admits_outside(self, backend, number, proto):
        for engine in self.ev.enforce:
            for pol in self.ev.selecting(engine, INGRESS, backend):
                for rule in pol.rules[INGRESS]:
                    if (rule.peers is None or any(_peer_is_external(x) for x in rule.peers)) and self.ev.port_match(rule, number, proto, backend)[0]:
                        return True
        return False

    # -------------------------------------------------------------- Cilium

    def cilium(self):
        policies = [p for p in self.ev.policies[CILIUM] if p.namespace is None or self.in_scope(p.namespace)]
        objects = sorted({(p.kind, p.namespace, p.name) for p in policies}, key=lambda x: (x[0], x[1] or "", x[2]))
        self.checked += len(objects)
        if not policies:
            return
        if self.cilium_on is False:
            refs = [f"{k} {ns + '/' if ns else ''}{n}" for k, ns, n in objects]
            self.add("cilium.not_enforced", "warning", objects[0][0], objects[0][1], objects[0][2],
                     f"{len(objects)} Cilium policy object(s) ({short_list(refs)}) are not enforced: {self.cilium_why}",
                     "Use Kubernetes NetworkPolicy instead (aksnet.networking.network_policy without Cilium intents), or move to Azure CNI "
                     "powered by Cilium: az aks update -g <rg> -n <cluster> --network-dataplane cilium (network.dataplane: cilium).",
                     {"policies": refs, "dataplane": self.facts["dataplane"], "network_policy": self.facts["policy"]})
        raw = {}
        for kind, key in ((KIND_CNP, KIND_CNP), (KIND_CCNP, KIND_CCNP)):
            for obj in self.index.kinds(key):
                meta = obj.get("metadata") or {}
                raw[(kind, None if kind == KIND_CCNP else meta.get("namespace") or "default", meta.get("name"))] = obj
        for p in policies:
            if not p.selector.match_all and not p.selector.match_none and not self.ev.selected_pods(p):
                closest = _closest(p.selector, _pod_candidates(self.ev, p.namespace, cilium=True))
                where = f"namespace {p.namespace}" if p.namespace else "the cluster"
                self.add("cilium.selects_no_endpoints", "warning", p.kind, p.namespace, p.name,
                         f"{p.kind} {p.ref} endpointSelector {p.selector.describe()} matches no endpoint in {where}: the policy has no effect"
                         + (f"; closest pod {closest[0]['name']} differs in {', '.join(closest[0]['differs'][:3])}" if closest else ""),
                         f"Fix spec.endpointSelector to the pods' labels (kubectl get pods {'-n ' + p.namespace if p.namespace else '-A'} --show-labels); "
                         f"{_kubectl(p.kind, p.namespace, p.name)}",
                         {"policy": p.ref, "endpoint_selector": p.selector.describe(), "closest_pods": closest})
            # What a policy's content does is reported whether or not an agent enforces it today
            # (the not-enforced finding says that separately), like the FQDN/DNS check below.
            self._deny_only(p)
        for (kind, ns, name), obj in sorted(raw.items(), key=lambda x: (x[0][0], x[0][1] or "", x[0][2])):
            if ns is not None and not self.in_scope(ns):
                continue
            specs = ([obj["spec"]] if obj.get("spec") else []) + list(obj.get("specs") or [])
            self._l7(kind, ns, name, specs)
            if any(r.get("toFQDNs") for s in specs for r in (s or {}).get("egress") or []):
                self._fqdn_dns(kind, ns, name)

    def _deny_only(self, p):
        for direction in (INGRESS, EGRESS):
            if not (p.deny_rules[direction] and not p.rules[direction] and p.isolates[direction]):
                continue
            selected = self.ev.selected_pods(p)
            self.add("cilium.deny_enables_default_deny", "warning", p.kind, p.namespace, p.name,
                     f"{p.kind} {p.ref} has only {direction}Deny rules, yet it puts the {len(selected)} endpoint(s) it selects into default deny for "
                     f"{direction}: everything not allowed by another policy is dropped, not just the denied peers",
                     f"To deny only the listed peers, add enableDefaultDeny: {{{direction}: false}} to the policy spec (Cilium >= 1.15), or add "
                     f"{direction} allow rules for the legitimate traffic; {_kubectl(p.kind, p.namespace, p.name)}",
                     {"policy": p.ref, "direction": direction, "selected_endpoints": [x.ref() for x in selected][:MAX_EVIDENCE],
                      "selected_count": len(selected)})

    def _l7(self, kind, ns, name, specs):
        if not self.facts["known"] or not self.cilium_on:
            return
        level = self.facts["advanced_network_policies"] or "none"
        fqdn = http = dns = False
        for s in specs:
            s = s or {}
            for rule in (s.get("egress") or []):
                fqdn = fqdn or bool(rule.get("toFQDNs"))
            for rule in (s.get("egress") or []) + (s.get("ingress") or []):
                for pr in rule.get("toPorts") or []:
                    rules = (pr or {}).get("rules") or {}
                    http = http or bool(rules.get("http") or rules.get("kafka") or rules.get("l7proto"))
                    dns = dns or bool(rules.get("dns"))
        needs = []
        if http and level != "l7":
            needs.append(("HTTP/L7 rules (toPorts.rules.http)", "L7"))
        if (fqdn or dns) and level not in ("fqdn", "l7"):
            needs.append(("FQDN rules (toFQDNs / rules.dns)", "FQDN"))
        for what, required in needs:
            self.add("cilium.l7_not_enabled", "error", kind, ns, name,
                     f"{kind} {ns + '/' if ns else ''}{name} uses {what}, but advanced networking security on this cluster is "
                     f"{level if level != 'none' else 'not enabled'} (advanced_network_policies {required} required): AKS does not enforce them",
                     f"Enable Advanced Container Networking Services security: az aks update -g <rg> -n <cluster> --enable-acns "
                     f"--acns-advanced-networkpolicies {required} (aksnet.networking.cluster network.advanced_networking.security."
                     f"advanced_network_policies: {required}).",
                     {"policy": f"{ns + '/' if ns else ''}{name}", "kind": kind, "advanced_network_policies": self.facts["advanced_network_policies"],
                      "required": required})

    def _fqdn_dns(self, kind, ns, name):
        pols = [p for p in self.ev.policies[CILIUM] if p.kind == kind and p.namespace == ns and p.name == name]
        dns = self.dns_endpoint()
        for p in pols:
            if not any(r.peers and any(x[0] == "fqdn" for x in r.peers) for r in p.rules[EGRESS]):
                continue
            endpoints = self.ev.selected_pods(p)
            if not endpoints:
                labels = {k: v for k, v in p.selector.labels if "." not in k or "/" in k}
                endpoints = [self.ev.endpoint({"namespace": p.namespace or "default", "labels": labels})]
            missing = []
            for ep in endpoints[:50]:
                has_dns_rule = False
                for other in self.ev.selecting(CILIUM, EGRESS, ep):
                    for rule in other.rules[EGRESS]:
                        if rule.peers is not None and not any(self.ev.peer_matches(x, dns) for x in rule.peers):
                            continue
                        ok, l7 = self.ev.port_match(rule, 53, "UDP", dns)
                        if ok and l7 and "DNS" in l7:
                            has_dns_rule = True
                if not has_dns_rule:
                    missing.append(ep)
            if not missing:
                continue
            check = self.ev.check(missing[0], dns, 53, "UDP")
            l4 = _direction_allowed(check, EGRESS, self.combine)
            detail = ("DNS to kube-dns is allowed at L4 but no rule carries toPorts.rules.dns, so Cilium's DNS proxy never sees the lookups and "
                      "the toFQDNs rule never learns an IP" if l4 else "DNS to kube-dns itself is blocked, so the names cannot even be resolved")
            self.add("cilium.fqdn_without_dns_rule", "error", kind, ns, name,
                     f"{kind} {p.ref} allows egress by FQDN (toFQDNs) for {len(missing)} endpoint(s) ({short_list([e.ref() for e in missing])}), but "
                     f"{detail}: connections to those names are dropped",
                     "Add an egress rule to the policy: toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: "
                     "kube-dns}}], toPorts: [{ports: [{port: '53', protocol: ANY}], rules: {dns: [{matchPattern: '*'}]}}] "
                     "(aksnet.networking.network_policy intents allow_dns + allow_fqdns).",
                     {"policy": p.ref, "endpoints": [e.ref() for e in missing][:MAX_EVIDENCE], "dns_endpoint": dns.ref(), "dns_allowed_at_l4": l4})


def analyze_policies(index, ctx) -> dict:
    """Run step 4 on an ``Index``; returns ``{checked, findings, skipped}`` (skipped = None or the reason)."""
    for kind in REQUIRED_KINDS:
        if kind in index.skipped:
            return {"checked": 0, "findings": [], "skipped": f"{kind} objects could not be listed: {index.skipped[kind]}"}
    with gc_paused():
        run = _Run(index, ctx)
        run.kubernetes()
        run.cilium()
        if run.ev.enforce:
            run.dns_egress()
            run.services()
    return {"checked": run.checked, "findings": run.findings, "skipped": None}


analyze = analyze_policies

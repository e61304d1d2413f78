# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network policy intents -> manifests, and the guard rails of the ``network_policy`` module. Pure.

``build_policy(params)`` turns the module's intent options into a full manifest
(``networking.k8s.io/v1`` NetworkPolicy, ``cilium.io/v2`` CiliumNetworkPolicy or
CiliumClusterwideNetworkPolicy), or wraps a raw ``spec``.

How intents combine (union of rules):

* every ``allow_from_namespace`` / ``allow_from_pods`` entry becomes its own ingress rule (its
  peer plus its ports); rules are OR-ed, so a connection is admitted when any one rule admits it;
  namespace entries come first, then pod entries, each in the order given;
* egress rules: the DNS rule first (``allow_dns``, or the one that always comes with
  ``allow_fqdns``), then one ``toFQDNs`` rule per distinct port list of ``allow_fqdns``;
* ``default_deny`` adds the direction to ``policyTypes`` (NetworkPolicy) or, for Cilium, an empty
  rule ``{}`` when the direction has no other rule (Cilium's default-deny idiom); allow intents
  in a direction isolate the selected pods in that direction anyway;
* ``http_rules`` attach to the ports of every ingress allow rule;
* with ``allow_fqdns`` the DNS rule restricts lookups to the FQDN selectors (as the field guide
  writes it); with ``allow_dns: true`` as well, lookups of any name are allowed (``matchPattern: "*"``);
* ``deny_world_egress`` adds ``egressDeny: [{toEntities: [world]}]`` and, unless ``default_deny``
  includes egress, ``enableDefaultDeny: {egress: false}`` so that only the world is denied.

``check_policy(...)`` applies the guard rails to a built or raw manifest and returns
``(manifest, errors, warnings)``.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.aksnet.networking.plugins.module_utils._kube.names import DNS1123_LABEL, DNS1123_SUBDOMAIN, is_port_name, port_number

NETWORK_POLICY = "NetworkPolicy"
CILIUM_NETWORK_POLICY = "CiliumNetworkPolicy"
CILIUM_CLUSTERWIDE_NETWORK_POLICY = "CiliumClusterwideNetworkPolicy"
API_VERSIONS = {
    NETWORK_POLICY: "networking.k8s.io/v1",
    CILIUM_NETWORK_POLICY: "cilium.io/v2",
    CILIUM_CLUSTERWIDE_NETWORK_POLICY: "cilium.io/v2",
}
CILIUM_KINDS = (CILIUM_NETWORK_POLICY, CILIUM_CLUSTERWIDE_NETWORK_POLICY)

DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
CILIUM_NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace"
CILIUM_NAMESPACE_LABELS_PREFIX = "k8s:io.cilium.k8s.namespace.labels."
# Label keys after dropping the Cilium source prefix ("k8s:", "any:")
_NS_KEY = "io.kubernetes.pod.namespace"
_NS_LABELS_KEY_PREFIX = "io.cilium.k8s.namespace.labels."

INTENT_OPTIONS = ("default_deny", "allow_from_namespace", "allow_from_pods", "allow_dns", "http_rules", "allow_fqdns", "deny_world_egress")
CILIUM_ONLY_OPTIONS = ("http_rules", "allow_fqdns", "deny_world_egress")
DIRECTIONS = ("ingress", "egress")

_NP_PROTOCOLS = ("TCP", "UDP", "SCTP")
_CILIUM_PROTOCOLS = ("TCP", "UDP", "SCTP", "ANY")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_SOURCE = re.compile(r"^[a-z0-9-]+:")
_FQDN_NAME = re.compile(r"^[A-Za-z0-9_]([-A-Za-z0-9_]*)?(\.[A-Za-z0-9_]([-A-Za-z0-9_]*)?)*\.?$")
_FQDN_PATTERN = re.compile(r"^[-A-Za-z0-9_.*]+$")

_ACNS_FQDN_HINT = (
    "enable Advanced Container Networking Services security with FQDN policies: module options "
    "network.advanced_networking.security: true and network.advanced_networking.advanced_network_policies: FQDN (ARM "
    "networkProfile.advancedNetworking.security.enabled / .advancedNetworkPolicies), or "
    "`az aks update -g <resource-group> -n <cluster> --enable-acns --acns-advanced-networkpolicies FQDN`"
)
_ACNS_L7_HINT = (
    "set advanced network policies to L7: module options network.advanced_networking.security: true and "
    "network.advanced_networking.advanced_network_policies: L7 (ARM networkProfile.advancedNetworking.security.advancedNetworkPolicies), "
    "or `az aks update -g <resource-group> -n <cluster> --enable-acns --acns-advanced-networkpolicies L7`"
)


class IntentError(ValueError):
    """Invalid intent options; ``errors`` lists every problem found (each names the option and the rule)."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


# --------------------------------------------------------------------------------------------
# build_policy
# --------------------------------------------------------------------------------------------


def _is_set(value):
    return value not in (None, False, [], {}, "")


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _labels(value, option, errors, cilium):
    """Validate a label map; returns a new dict of str -> str (None when invalid)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{option}: expected a mapping of label key to value, got {value!r}")
        return None
    out = {}
    for key, val in value.items():
        key = str(key)
        name = key
        if cilium and _LABEL_SOURCE.match(name):
            name = name.split(":", 1)[1]
        prefix, _unused, local = name.rpartition("/")
        if (prefix and not DNS1123_SUBDOMAIN.match(prefix)) or len(local) > 63 or not _LABEL_NAME.match(local):
            errors.append(
                f"{option}: label key {key!r} is not a valid Kubernetes label key (optional DNS prefix/, then up to 63 "
                "characters [A-Za-z0-9_.-] starting and ending alphanumeric)"
            )
            continue
        if isinstance(val, bool) or val is None or isinstance(val, (dict, list)):
            errors.append(f"{option}: label {key} has value {val!r}; label values are strings (quote them, e.g. '\"true\"')")
            continue
        sval = str(val)
        if sval and (len(sval) > 63 or not _LABEL_NAME.match(sval)):
            errors.append(f"{option}: label value {sval!r} of {key} is not a valid label value (up to 63 characters [A-Za-z0-9_.-])")
            continue
        out[key] = sval
    return out


def _selector(value, option, errors, cilium):
    """A LabelSelector from labels, or a LabelSelector given as such (matchLabels / matchExpressions)."""
    if isinstance(value, dict) and value and set(value) <= {"matchLabels", "matchExpressions"}:
        sel = {}
        if value.get("matchLabels"):
            labels = _labels(value["matchLabels"], option + ".matchLabels", errors, cilium)
            if labels:
                sel["matchLabels"] = labels
        if value.get("matchExpressions"):
            sel["matchExpressions"] = copy.deepcopy(value["matchExpressions"])
        return sel
    labels = _labels(value, option, errors, cilium)
    return {"matchLabels": labels} if labels else {}


def _port(entry, option, kind, errors):
    """Normalise one port entry; returns the manifest form or None."""
    cilium = kind in CILIUM_KINDS
    end_port = None
    protocol = "TCP"
    if isinstance(entry, dict):
        unknown = set(entry) - {"port", "protocol", "end_port"}
        if unknown:
            errors.append(f"{option}: unknown key(s) {', '.join(sorted(unknown))} in port {entry!r}; allowed: port, protocol, end_port")
            return None
        port = entry.get("port")
        protocol = entry.get("protocol") or "TCP"
        end_port = entry.get("end_port")
    elif isinstance(entry, str) and "/" in entry:
        port, protocol = entry.split("/", 1)
    else:
        port = entry
    protocol = str(protocol).upper()
    allowed = _CILIUM_PROTOCOLS if cilium else _NP_PROTOCOLS
    if protocol not in allowed:
        errors.append(f"{option}: protocol {protocol!r} is not valid for {kind}; use one of {', '.join(allowed)}")
        return None
    if isinstance(port, bool) or port is None:
        errors.append(f"{option}: port {port!r} must be a number 1-65535 or a named container port")
        return None
    if port_number(port) is not None:
        port = port_number(port)
        if not 1 <= port <= 65535:
            errors.append(f"{option}: port {port} is out of range; use 1-65535")
            return None
    elif not is_port_name(port):
        errors.append(
            f"{option}: port {port!r} is neither a number 1-65535 nor a valid port name (IANA service name: up to 15 "
            "lowercase letters, digits and '-', at least one letter, no '--')"
        )
        return None
    out = {"port": str(port) if cilium else port, "protocol": protocol}
    if end_port is not None:
        if not isinstance(port, int):
            errors.append(f"{option}: end_port {end_port!r} needs a numeric port, got named port {port!r}")
            return None
        try:
            end_port = int(end_port)
        except (TypeError, ValueError):
            errors.append(f"{option}: end_port {end_port!r} must be a number")
            return None
        if not port <= end_port <= 65535:
            errors.append(f"{option}: end_port {end_port} must be between port {port} and 65535")
            return None
        out["endPort"] = end_port
    return out


def _ports(value, option, kind, errors):
    out = []
    for i, entry in enumerate(_as_list(value)):
        p = _port(entry, f"{option}[{i}]", kind, errors)
        if p is not None and p not in out:
            out.append(p)
    return out


def _name_check(value, option, errors, required=True):
    if not value:
        if required:
            errors.append(f"{option} is required")
        return
    if not isinstance(value, str) or len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
        errors.append(f"{option}: {value!r} is not a valid name (lowercase DNS-1123 subdomain: a-z, 0-9, '-', '.', up to 253 characters)")


def _mapping_entry(entry, opt, allowed, expected, errors):
    """True when ``entry`` is a mapping with only the ``allowed`` keys; otherwise record why not."""
    if not isinstance(entry, dict):
        errors.append(f"{opt}: expected {expected}, got {entry!r}")
        return False
    unknown = set(entry) - set(allowed)
    if unknown:
        errors.append(f"{opt}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(allowed)}")
        return False
    return True


def _namespace_entries(value, errors):
    """allow_from_namespace -> list of {name|labels, ports}."""
    entries = []
    for i, entry in enumerate(_as_list(value)):
        opt = f"allow_from_namespace[{i}]"
        if isinstance(entry, str):
            entry = {"name": entry}
        if not _mapping_entry(entry, opt, ("name", "labels", "ports"), "a namespace name or a mapping with name or labels", errors):
            continue
        if bool(entry.get("name")) == bool(entry.get("labels")):
            errors.append(f"{opt}: set exactly one of name (matches the kubernetes.io/metadata.name label) or labels")
            continue
        if entry.get("name") and (not isinstance(entry["name"], str) or not DNS1123_LABEL.match(entry["name"])):
            errors.append(f"{opt}.name: {entry['name']!r} is not a valid namespace name (DNS-1123 label)")
            continue
        entries.append(entry)
    return entries


def _pod_entries(value, errors):
    entries = []
    for i, entry in enumerate(_as_list(value)):
        opt = f"allow_from_pods[{i}]"
        if not _mapping_entry(entry, opt, ("labels", "namespace", "ports"), "a mapping with labels (and optional namespace, ports)", errors):
            continue
        if "labels" not in entry:
            errors.append(f"{opt}: labels is required (use labels: {{}} for every pod)")
            continue
        ns = entry.get("namespace")
        if ns is not None and (not isinstance(ns, str) or not DNS1123_LABEL.match(ns)):
            errors.append(f"{opt}.namespace: {ns!r} is not a valid namespace name (DNS-1123 label)")
            continue
        entries.append(entry)
    return entries


def _fqdn_entries(value, errors):
    entries = []
    for i, entry in enumerate(_as_list(value)):
        opt = f"allow_fqdns[{i}]"
        if isinstance(entry, str):
            entry = {"match_pattern" if "*" in entry else "match_name": entry}
        if not _mapping_entry(entry, opt, ("match_name", "match_pattern", "ports"), "a mapping with match_name or match_pattern", errors):
            continue
        if bool(entry.get("match_name")) == bool(entry.get("match_pattern")):
            errors.append(f"{opt}: set exactly one of match_name (exact FQDN) or match_pattern (wildcard '*')")
            continue
        if entry.get("match_name"):
            name = entry["match_name"]
            if not isinstance(name, str) or len(name) > 255 or not _FQDN_NAME.match(name):
                errors.append(f"{opt}.match_name: {name!r} is not a valid DNS name (use match_pattern for wildcards)")
                continue
            selector = {"matchName": name}
        else:
            pattern = entry["match_pattern"]
            if not isinstance(pattern, str) or not _FQDN_PATTERN.match(pattern):
                errors.append(f"{opt}.match_pattern: {pattern!r} may only contain letters, digits, '-', '_', '.' and the wildcard '*'")
                continue
            selector = {"matchPattern": pattern}
        entries.append((selector, entry.get("ports"), opt))
    return entries


def _http_rules(value, errors):
    out = []
    for i, entry in enumerate(_as_list(value)):
        opt = f"http_rules[{i}]"
        if not _mapping_entry(entry, opt, ("method", "path", "host", "headers"), "a mapping with method and/or path", errors):
            continue
        if not entry.get("method") and not entry.get("path"):
            errors.append(f"{opt}: set method and/or path (an empty HTTP rule would allow every request)")
            continue
        rule = {}
        bad = False
        for key in ("method", "path", "host"):
            if entry.get(key) is None:
                continue
            try:
                re.compile(str(entry[key]))
            except re.error as exc:
                errors.append(f"{opt}.{key}: {entry[key]!r} is not a valid regular expression ({exc}); Cilium matches {key} as a regex")
                bad = True
                continue
            rule[key] = str(entry[key])
        if entry.get("headers"):
            rule["headers"] = [str(h) for h in _as_list(entry["headers"])]
        if not bad:
            out.append(rule)
    return out


def _np_peer_namespace(entry):
    if entry.get("name"):
        return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: entry["name"]}}}
    return {"namespaceSelector": {"matchLabels": dict(entry["labels_checked"])}}


def _cilium_peer_namespace(entry):
    if entry.get("name"):
        return {"matchLabels": {CILIUM_NAMESPACE_LABEL: entry["name"]}}
    return {"matchLabels": {CILIUM_NAMESPACE_LABELS_PREFIX + k: v for k, v in entry["labels_checked"].items()}}


def build_policy(params):
    """Build the manifest (apiVersion, kind, metadata, spec) from the module's options.

    Raises ``IntentError`` listing every invalid option. ``params`` keys: ``kind`` (default
    NetworkPolicy), ``name``, ``namespace``, ``pod_selector`` / ``endpoint_selector``, ``spec``
    (raw) or the intents ``default_deny``, ``allow_from_namespace``, ``allow_from_pods``,
    ``ports`` (default ports of the allow_from_* entries), ``allow_dns``, ``http_rules``,
    ``allow_fqdns``, ``deny_world_egress``.
    """
    errors = []
    kind = params.get("kind") or NETWORK_POLICY
    if kind not in API_VERSIONS:
        raise IntentError([f"kind: {kind!r} is not supported; use one of {', '.join(API_VERSIONS)}"])
    cilium = kind in CILIUM_KINDS
    name = params.get("name")
    namespace = params.get("namespace")
    _name_check(name, "name", errors)
    if kind == CILIUM_CLUSTERWIDE_NETWORK_POLICY:
        if namespace:
            errors.append(f"namespace: {kind} is cluster-scoped; remove namespace {namespace!r} (use CiliumNetworkPolicy for one namespace)")
    elif not namespace:
        errors.append(f"namespace is required for {kind}")
    elif not isinstance(namespace, str) or not DNS1123_LABEL.match(namespace):
        errors.append(f"namespace: {namespace!r} is not a valid namespace name (DNS-1123 label)")

    metadata = {"name": name}
    if kind != CILIUM_CLUSTERWIDE_NETWORK_POLICY and namespace:
        metadata["namespace"] = namespace
    manifest = {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": metadata}

    used = [opt for opt in INTENT_OPTIONS if _is_set(params.get(opt))]
    if params.get("spec") is not None:
        if used:
            errors.append(f"spec: a raw spec cannot be combined with intents ({', '.join(used)}); use one or the other")
        if not isinstance(params["spec"], dict):
            errors.append(f"spec: expected a mapping, got {type(params['spec']).__name__}")
        if errors:
            raise IntentError(errors)
        manifest["spec"] = copy.deepcopy(params["spec"])
        return manifest

    if not cilium:
        for opt in CILIUM_ONLY_OPTIONS:
            if _is_set(params.get(opt)):
                rule = {
                    "http_rules": "HTTP (L7) rules exist only in Cilium policies",
                    "allow_fqdns": "FQDN (toFQDNs) egress rules exist only in Cilium policies",
                    "deny_world_egress": "deny rules to the 'world' entity exist only in Cilium policies",
                }[opt]
                errors.append(f"{opt}: {rule}; kind {kind} cannot express it - use kind CiliumNetworkPolicy (or CiliumClusterwideNetworkPolicy)")
    if not used:
        errors.append("no intent given: set at least one of " + ", ".join(INTENT_OPTIONS) + ", or a raw spec")

    pod_sel = params.get("pod_selector")
    ep_sel = params.get("endpoint_selector")
    if pod_sel is not None and ep_sel is not None and pod_sel != ep_sel:
        errors.append("pod_selector and endpoint_selector are the same option (endpoint_selector is the Cilium name); set only one")
    selector_opt = "endpoint_selector" if ep_sel is not None else "pod_selector"
    selector = _selector(ep_sel if ep_sel is not None else pod_sel, selector_opt, errors, cilium)

    default_deny = []
    for d in _as_list(params.get("default_deny")):
        d_norm = str(d).lower()
        if d_norm not in DIRECTIONS:
            errors.append(f"default_deny: {d!r} is not a direction; use ingress and/or egress")
        elif d_norm not in default_deny:
            default_deny.append(d_norm)

    default_ports_opt = "ports"
    ns_entries = _namespace_entries(params.get("allow_from_namespace"), errors)
    pod_entries = _pod_entries(params.get("allow_from_pods"), errors)
    fqdn_entries = _fqdn_entries(params.get("allow_fqdns"), errors) if cilium else []
    http = _http_rules(params.get("http_rules"), errors) if cilium else []
    default_ports = _ports(params.get("ports"), default_ports_opt, kind, errors)
    allow_dns = bool(params.get("allow_dns"))
    deny_world = bool(params.get("deny_world_egress")) and cilium

    # ingress rules (namespace entries, then pod entries)
    ingress_rules = []  # (peer, ports, option)
    for i, entry in enumerate(ns_entries):
        opt = f"allow_from_namespace[{i}]"
        if entry.get("labels"):
            entry = dict(entry, labels_checked=_labels(entry["labels"], opt + ".labels", errors, False) or {})
        ports = _ports(entry["ports"], opt + ".ports", kind, errors) if entry.get("ports") is not None else default_ports
        peer = _cilium_peer_namespace(entry) if cilium else _np_peer_namespace(entry)
        ingress_rules.append((peer, ports, opt))
    for i, entry in enumerate(pod_entries):
        opt = f"allow_from_pods[{i}]"
        labels = _labels(entry["labels"], opt + ".labels", errors, cilium) or {}
        ports = _ports(entry["ports"], opt + ".ports", kind, errors) if entry.get("ports") is not None else default_ports
        ns = entry.get("namespace")
        if cilium:
            match = dict(labels)
            if ns:
                match[CILIUM_NAMESPACE_LABEL] = ns
            peer = {"matchLabels": match} if match else {}
        else:
            peer = {"podSelector": {"matchLabels": labels} if labels else {}}
            if ns:
                peer = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: ns}}, **peer}
        ingress_rules.append((peer, ports, opt))
    if http:
        if not ingress_rules:
            errors.append("http_rules: HTTP rules apply to the ports of ingress allow rules; add allow_from_pods or allow_from_namespace with ports")
        for _peer, ports, opt in ingress_rules:
            if not ports:
                errors.append(f"http_rules: rule {opt} has no ports; HTTP rules need the TCP port the HTTP server listens on (set ports)")
            for p in ports:
                if p["protocol"] not in ("TCP", "ANY"):
                    errors.append(f"http_rules: rule {opt} port {p['port']}/{p['protocol']} is not TCP; HTTP rules need TCP ports")

    fqdn_groups = []  # (ports, [selectors])
    for selector_fqdn, ports_value, opt in fqdn_entries:
        ports = _ports(ports_value, opt + ".ports", kind, errors)
        for group_ports, selectors in fqdn_groups:
            if group_ports == ports:
                if selector_fqdn not in selectors:
                    selectors.append(selector_fqdn)
                break
        else:
            fqdn_groups.append((ports, [selector_fqdn]))
    if deny_world and fqdn_groups:
        errors.append(
            "deny_world_egress: cannot be combined with allow_fqdns: Cilium deny rules win over allow rules and FQDN destinations "
            "outside the cluster belong to the 'world' entity, so they would be denied; use allow_fqdns alone (the rest of the "
            "world egress is then denied by default)"
        )

    if errors:
        raise IntentError(errors)

    spec = {}
    if cilium:
        spec["endpointSelector"] = selector
        ingress = []
        for peer, ports, _opt in ingress_rules:
            rule = {"fromEndpoints": [peer]}
            if ports:
                to_port = {"ports": [dict(p) for p in ports]}
                if http:
                    to_port["rules"] = {"http": [dict(h) for h in http]}
                rule["toPorts"] = [to_port]
            ingress.append(rule)
        egress = []
        if fqdn_groups:
            dns_selectors = [{"matchPattern": "*"}] if allow_dns else []
            if not dns_selectors:
                for _ports_g, selectors in fqdn_groups:
                    for s in selectors:
                        if s not in dns_selectors:
                            dns_selectors.append(dict(s))
            egress.append(_cilium_dns_rule(dns_selectors))
            for ports, selectors in fqdn_groups:
                rule = {"toFQDNs": [dict(s) for s in selectors]}
                if ports:
                    rule["toPorts"] = [{"ports": [dict(p) for p in ports]}]
                egress.append(rule)
        elif allow_dns:
            egress.append(
                {
                    "toEndpoints": [{"matchLabels": {CILIUM_NAMESPACE_LABEL: DNS_NAMESPACE, **DNS_POD_LABELS}}],
                    "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}]}],
                }
            )
        if "ingress" in default_deny and not ingress:
            ingress.append({})
        if "egress" in default_deny and not egress:
            egress.append({})
        if ingress:
            spec["ingress"] = ingress
        if egress:
            spec["egress"] = egress
        if deny_world:
            spec["egressDeny"] = [{"toEntities": ["world"]}]
            if "egress" not in default_deny:
                spec["enableDefaultDeny"] = {"egress": False}
    else:
        spec["podSelector"] = selector
        ingress = []
        for peer, ports, _opt in ingress_rules:
            rule = {"from": [peer]}
            if ports:
                rule["ports"] = [dict(p) for p in ports]
            ingress.append(rule)
        egress = []
        if allow_dns:
            egress.append(
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: DNS_NAMESPACE}},
                            "podSelector": {"matchLabels": dict(DNS_POD_LABELS)},
                        }
                    ],
                    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                }
            )
        types = []
        if "ingress" in default_deny or ingress:
            types.append("Ingress")
        if "egress" in default_deny or egress:
            types.append("Egress")
        spec["policyTypes"] = types
        if ingress:
            spec["ingress"] = ingress
        if egress:
            spec["egress"] = egress
    manifest["spec"] = spec
    return manifest


def _cilium_dns_rule(dns_selectors):
    """Egress to kube-dns on port 53 (any protocol) through Cilium's DNS proxy (the field guide's shape)."""
    return {
        "toEndpoints": [{"matchLabels": {CILIUM_NAMESPACE_LABEL: DNS_NAMESPACE, **DNS_POD_LABELS}}],
        "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [dict(s) for s in dns_selectors]}}],
    }


# --------------------------------------------------------------------------------------------
# cluster facts
# --------------------------------------------------------------------------------------------


def _get(d, *keys):
    for key in keys:
        if isinstance(d, dict) and d.get(key) is not None:
            return d[key]
    return None


def _enabled(value):
    """A bool, or a dict with ``enabled``; None when unknown."""
    if isinstance(value, dict):
        value = value.get("enabled")
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "enabled")
    return bool(value)


def normalize_cluster_facts(facts):
    """Snake_case or ARM camelCase network profile -> ``{plugin, plugin_mode, dataplane, policy,
    security_enabled, advanced_network_policies}`` (lowercase strings; None when unknown).

    ``advanced_network_policies`` is ``fqdn``, ``l7`` or ``none`` (AKS default: FQDN when
    security is enabled and the level is not set). Returns None when no facts are given.
    """
    if not facts or not isinstance(facts, dict):
        return None
    profile = facts
    for key in ("network_profile", "networkProfile", "network"):
        if isinstance(facts.get(key), dict):
            profile = facts[key]
            break
    if isinstance(facts.get("properties"), dict) and isinstance(facts["properties"].get("networkProfile"), dict):
        profile = facts["properties"]["networkProfile"]

    def low(v):
        return str(v).lower() if v is not None else None

    adv = _get(profile, "advanced_networking", "advancedNetworking")
    security = _get(adv, "security") if isinstance(adv, dict) else None
    adv_enabled = _enabled(adv) if isinstance(adv, dict) and "enabled" in adv else None
    security_enabled = _enabled(security)
    level = _get(security, "advanced_network_policies", "advancedNetworkPolicies") if isinstance(security, dict) else None
    if level is None and isinstance(adv, dict):
        level = _get(adv, "advanced_network_policies", "advancedNetworkPolicies")
    if adv_enabled is False:
        security_enabled = False
    if security_enabled is None:
        security_enabled = False
    level = low(level)
    if not security_enabled:
        level = "none"
    elif level is None:
        level = "fqdn"
    return {
        "plugin": low(_get(profile, "plugin", "network_plugin", "networkPlugin")),
        "plugin_mode": low(_get(profile, "plugin_mode", "network_plugin_mode", "networkPluginMode")),
        "dataplane": low(_get(profile, "dataplane", "network_dataplane", "networkDataplane")),
        "policy": low(_get(profile, "policy", "network_policy", "networkPolicy")),
        "security_enabled": security_enabled,
        "advanced_network_policies": level,
    }


# --------------------------------------------------------------------------------------------
# selectors and labels
# --------------------------------------------------------------------------------------------


def _strip_source(key):
    return key.split(":", 1)[1] if _LABEL_SOURCE.match(key) else key


def match_selector(selector, labels, cilium=False):
    """True when a LabelSelector (matchLabels / matchExpressions) selects ``labels``.

    With ``cilium`` the Cilium label source prefix (``k8s:``, ``any:``) is ignored on the selector keys.
    """
    if selector is None:
        return False
    labels = labels or {}

    def norm(k):
        return _strip_source(k) if cilium else k

    for key, val in (selector.get("matchLabels") or {}).items():
        if labels.get(norm(key)) != str(val):
            return False
    for expr in selector.get("matchExpressions") or []:
        key = norm(expr.get("key", ""))
        op = expr.get("operator")
        values = [str(v) for v in expr.get("values") or []]
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _selector_text(selector):
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for e in selector.get("matchExpressions") or []:
        parts.append(f"{e.get('key')} {e.get('operator')} {e.get('values') or ''}".strip())
    return ", ".join(parts) if parts else "{} (all)"


def _namespace_labels(ns_obj):
    meta = ns_obj.get("metadata") or {}
    labels = dict(meta.get("labels") or {})
    if meta.get("name"):
        labels.setdefault(NAMESPACE_NAME_LABEL, meta["name"])
    return labels


def _cilium_endpoint_labels(pod_labels, namespace, ns_labels=None):
    labels = dict(pod_labels or {})
    if namespace:
        labels[_NS_KEY] = namespace
    for k, v in (ns_labels or {}).items():
        labels[_NS_LABELS_KEY_PREFIX + k] = v
    return labels


def _cilium_specs(manifest):
    specs = []
    if isinstance(manifest.get("spec"), dict):
        specs.append(manifest["spec"])
    for s in manifest.get("specs") or []:
        if isinstance(s, dict):
            specs.append(s)
    return specs


def _port_text(p):
    text = f"{p.get('port')}/{p.get('protocol') or 'TCP'}"
    if p.get("endPort"):
        text = f"{p.get('port')}-{p['endPort']}/{p.get('protocol') or 'TCP'}"
    return text


# --------------------------------------------------------------------------------------------
# check_policy
# --------------------------------------------------------------------------------------------


def _is_dns_endpoint_selector(sel, policy_namespace):
    """Would this Cilium endpoint selector select the kube-dns pods in kube-system?"""
    if not isinstance(sel, dict):
        return False
    keys = {_strip_source(k) for k in (sel.get("matchLabels") or {})}
    keys |= {_strip_source(e.get("key", "")) for e in sel.get("matchExpressions") or []}
    # a namespaced policy's toEndpoints without a namespace label only select its own namespace
    ns = DNS_NAMESPACE if (_NS_KEY in keys or policy_namespace in (None, DNS_NAMESPACE)) else policy_namespace
    if ns != DNS_NAMESPACE:
        return False
    return match_selector(sel, _cilium_endpoint_labels(DNS_POD_LABELS, DNS_NAMESPACE, {NAMESPACE_NAME_LABEL: DNS_NAMESPACE}), cilium=True)


def _port_covers_53(p):
    port = str(p.get("port", "0"))
    proto = (p.get("protocol") or "ANY").upper()
    if proto not in ("UDP", "ANY", "TCP"):
        return False
    if port in ("0", "53", "dns", "dns-tcp"):
        return True
    if port.isdigit() and p.get("endPort"):
        return int(port) <= 53 <= int(p["endPort"])
    return False


def _cilium_dns_rules(spec, policy_namespace):
    """(has_any_dns_allow, has_dns_proxy_rule) for the egress rules of one Cilium spec."""
    allow = proxy = False
    for rule in spec.get("egress") or []:
        if not isinstance(rule, dict) or not rule:
            continue
        to_dns = any(_is_dns_endpoint_selector(s, policy_namespace) for s in rule.get("toEndpoints") or [])
        to_dns = to_dns or bool({"cluster", "all"} & set(rule.get("toEntities") or []))
        selectors_only_ports = not any(k in rule for k in ("toEndpoints", "toEntities", "toCIDR", "toCIDRSet", "toFQDNs", "toServices", "toGroups"))
        to_ports = rule.get("toPorts") or []
        if not (to_dns or selectors_only_ports):
            continue
        if not to_ports:
            allow = True
            continue
        for tp in to_ports:
            if any(_port_covers_53(p) for p in tp.get("ports") or [{}]):
                allow = True
                if (tp.get("rules") or {}).get("dns"):
                    proxy = True
    return allow, proxy


def _np_peer_may_be_dns(peer, policy_namespace):
    if "ipBlock" in peer:
        return True  # could be the DNS service or node-local DNS address; give it the benefit of the doubt
    ns_sel = peer.get("namespaceSelector")
    if ns_sel is None:
        if policy_namespace != DNS_NAMESPACE:
            return False
    elif not match_selector(ns_sel, {NAMESPACE_NAME_LABEL: DNS_NAMESPACE}):
        return False
    pod_sel = peer.get("podSelector")
    return pod_sel is None or match_selector(pod_sel, DNS_POD_LABELS)


def _np_allows_dns(spec, policy_namespace):
    for rule in spec.get("egress") or []:
        peers = rule.get("to") or []
        if peers and not any(_np_peer_may_be_dns(p, policy_namespace) for p in peers):
            continue
        ports = rule.get("ports") or []
        if not ports or any(_port_covers_53(dict(p, protocol=p.get("protocol") or "TCP")) for p in ports):
            return True
    return False


def _l7_kinds(spec):
    """Set of L7 rule kinds used in toPorts[].rules (``dns``, ``http``, ``kafka``, ``l7``)."""
    found = set()
    for direction in DIRECTIONS:
        for rule in spec.get(direction) or []:
            if not isinstance(rule, dict):
                continue
            for tp in rule.get("toPorts") or []:
                for key, val in (tp.get("rules") or {}).items():
                    if val:
                        found.add(key)
    return found


def _fqdn_selectors(spec):
    out = []
    for rule in spec.get("egress") or []:
        if isinstance(rule, dict):
            for s in rule.get("toFQDNs") or []:
                if s not in out:
                    out.append(s)
    return out


def check_policy(manifest, *, cluster_facts=None, cilium_crds_present=None, namespaces=None, pods=None, ensure_dns_rule=True):
    """Apply the guard rails; returns ``(manifest, errors, warnings)``.

    ``manifest`` is returned as a copy, with a DNS rule added to Cilium specs that use ``toFQDNs``
    without one when ``ensure_dns_rule`` is true. ``cluster_facts``: network profile (snake_case or
    ARM camelCase), None when unknown. ``cilium_crds_present``: whether the cilium.io CRDs exist,
    None when unknown. ``namespaces``: Namespace objects of the cluster, ``pods``: Pod objects of
    the policy's namespace (all namespaces for a clusterwide policy); None when unknown, and the
    checks that need them are skipped.
    """
    manifest = copy.deepcopy(manifest)
    errors, warnings = [], []
    kind = manifest.get("kind") or NETWORK_POLICY
    meta = manifest.get("metadata") or {}
    ref = f"{kind} {meta.get('namespace') + '/' if meta.get('namespace') else ''}{meta.get('name')}"
    namespace = meta.get("namespace")
    facts = normalize_cluster_facts(cluster_facts)
    cilium = kind in CILIUM_KINDS

    # 1. Cilium kinds need Azure CNI powered by Cilium
    if cilium:
        dataplane_not_cilium = facts is not None and facts.get("dataplane") not in (None, "cilium") and facts.get("plugin") != "none"
        if cilium_crds_present is False or (cilium_crds_present is None and dataplane_not_cilium):
            why = "the cilium.io CRDs are missing" if cilium_crds_present is False else f"its network dataplane is {facts.get('dataplane')}"
            errors.append(
                f"kind {kind}: the cluster does not run Azure CNI powered by Cilium ({why}), so it cannot store or enforce {kind}. "
                "Check with `az aks show -g <resource-group> -n <cluster> --query networkProfile.networkDataplane` (must be cilium); "
                "create or update the cluster with --network-dataplane cilium (module option network.dataplane: cilium), or use kind NetworkPolicy"
            )

    # 2. NetworkPolicy without a policy engine
    no_engine = facts is not None and facts.get("policy") in (None, "none") and facts.get("dataplane") != "cilium"
    if not cilium and no_engine and facts.get("plugin") != "none":
        warnings.append(
            f"{ref} will not be enforced: the cluster's network profile has no network policy engine (networkPolicy: "
            f"{facts.get('policy') or 'none'}). Set network.policy (az aks update --network-policy azure|calico|cilium) to enforce it"
        )

    specs = _cilium_specs(manifest) if cilium else ([manifest["spec"]] if isinstance(manifest.get("spec"), dict) else [])

    if cilium:
        for idx, spec in enumerate(specs):
            where = "spec" if idx == 0 and isinstance(manifest.get("spec"), dict) else f"specs[{idx}]"
            fqdns = _fqdn_selectors(spec)
            # 5. toFQDNs needs a DNS rule through Cilium's DNS proxy
            if fqdns:
                _allow, proxy = _cilium_dns_rules(spec, None if kind == CILIUM_CLUSTERWIDE_NETWORK_POLICY else namespace)
                if not proxy:
                    if ensure_dns_rule:
                        spec["egress"] = [_cilium_dns_rule([{"matchPattern": "*"}]), *(spec.get("egress") or [])]
                        warnings.append(
                            f"{ref} {where}: toFQDNs without an egress rule to kube-dns with rules.dns; added one (kube-system "
                            "k8s-app=kube-dns, port 53 ANY, dns matchPattern '*') because Cilium learns FQDN addresses only from "
                            "the DNS answers it proxies. Add your own DNS rule to the spec to choose what may be resolved"
                        )
                    else:
                        errors.append(
                            f"{ref} {where}: toFQDNs without an egress rule to kube-dns (kube-system, k8s-app=kube-dns, port 53) "
                            "carrying rules.dns: Cilium learns FQDN addresses only from the DNS answers it proxies, so the FQDN rules "
                            "would never match and DNS would be cut. Add the DNS rule, set allow_fqdns (which adds it), or ensure_dns_rule: true"
                        )
            # 3. FQDN / L7 need ACNS security
            l7 = _l7_kinds(spec)
            if facts is not None:
                level = facts["advanced_network_policies"]
                if (fqdns or "dns" in l7) and level not in ("fqdn", "l7"):
                    feature = "toFQDNs (allow_fqdns)" if fqdns else "DNS rules (rules.dns)"
                    errors.append(
                        f"{ref} {where}: {feature} are enforced on AKS only with advanced networking security and advanced network "
                        f"policies FQDN or L7; the cluster has {_level_text(facts)}. To fix, {_ACNS_FQDN_HINT}"
                    )
                other_l7 = sorted(k for k in l7 if k != "dns")
                if other_l7 and level != "l7":
                    rules = ", ".join(f"rules.{k}" for k in other_l7)
                    feature = "HTTP rules (http_rules / rules.http)" if other_l7 == ["http"] else f"L7 rules ({rules})"
                    errors.append(
                        f"{ref} {where}: {feature} are enforced on AKS only with advanced network policies L7; the cluster has "
                        f"{_level_text(facts)}. To fix, {_ACNS_L7_HINT}"
                    )
            # 4. deny-only specs put every selected endpoint into default deny
            edd = spec.get("enableDefaultDeny") or {}
            deny_only = set()
            for direction in DIRECTIONS:
                deny_key = direction + "Deny"
                if spec.get(deny_key) and not spec.get(direction) and edd.get(direction) is not False:
                    deny_only.add(direction)
                    scope = (
                        "every pod of the cluster"
                        if (kind == CILIUM_CLUSTERWIDE_NETWORK_POLICY and not spec.get("endpointSelector"))
                        else ("every endpoint it selects")
                    )
                    extra = " - DNS included -" if direction == "egress" else ""
                    warnings.append(
                        f"{ref} {where}: {deny_key} without {direction} allow rules and without enableDefaultDeny.{direction}: false. "
                        f"Cilium puts {scope} into default deny for {direction}, so all {direction} traffic{extra} is dropped, not only "
                        f"what {deny_key} lists. Set enableDefaultDeny: {{{direction}: false}} (deny_world_egress does) to deny only those peers"
                    )
            # 8. default-deny egress without DNS
            if "egress" not in deny_only and edd.get("egress") is not False and (spec.get("egress") or spec.get("egressDeny")):
                allow, _proxy = _cilium_dns_rules(spec, None if kind == CILIUM_CLUSTERWIDE_NETWORK_POLICY else namespace)
                if not allow:
                    warnings.append(
                        f"{ref} {where}: egress is default-deny for the selected pods and no rule allows DNS to kube-dns "
                        "(kube-system, k8s-app=kube-dns, port 53): they lose DNS resolution. Set allow_dns: true or add the rule"
                    )
    elif specs:
        spec = specs[0]
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if spec.get("egress") else ["Ingress"])
        if "Egress" in types and not _np_allows_dns(spec, namespace):
            warnings.append(
                f"{ref}: egress is default-deny for the selected pods and no rule allows DNS to kube-dns (kube-system, "
                f"k8s-app=kube-dns, UDP/TCP 53): pods in namespace {namespace} lose DNS resolution. Set allow_dns: true or add the rule"
            )

    # 6. namespace selectors no namespace matches
    if namespaces is not None:
        ns_list = [(((n.get("metadata") or {}).get("name")), _namespace_labels(n)) for n in namespaces]
        for where, sel in _namespace_selectors(manifest, kind):
            if cilium:
                if not any(match_selector(sel, _cilium_endpoint_labels({}, name, labels), cilium=True) for name, labels in ns_list):
                    warnings.append(
                        f"{ref} {where}: namespace labels {_selector_text(sel)} match no existing namespace, so the rule admits nothing; "
                        "check the namespace name or label the namespace (kubectl label namespace <name> <key>=<value>)"
                    )
            elif not any(match_selector(sel, labels) for _name, labels in ns_list):
                warnings.append(
                    f"{ref} {where}: namespaceSelector {_selector_text(sel)} matches no existing namespace (no namespace carries "
                    "these labels), so the rule admits nothing; label the namespace (kubectl label namespace <name> <key>=<value>) or fix the selector"
                )

    # 7. ports no selected pod exposes
    if pods is not None:
        _check_ports(manifest, kind, namespace, specs, pods, namespaces, ref, warnings)

    return manifest, errors, warnings


def _level_text(facts):
    if not facts.get("security_enabled"):
        return "advanced networking security disabled (advancedNetworking.security.enabled is not true)"
    level = {"fqdn": "FQDN", "l7": "L7"}.get(facts.get("advanced_network_policies"), "None")
    return f"advanced network policies {level}"


def _namespace_selectors(manifest, kind):
    """(where, selector) of the namespace-related part of every peer selector that has one."""
    out = []
    if kind in CILIUM_KINDS:
        for idx, spec in enumerate(_cilium_specs(manifest)):
            for direction, field in (("ingress", "fromEndpoints"), ("ingressDeny", "fromEndpoints"), ("egress", "toEndpoints"), ("egressDeny", "toEndpoints")):
                for r, rule in enumerate(spec.get(direction) or []):
                    if not isinstance(rule, dict):
                        continue
                    for s, sel in enumerate(rule.get(field) or []):
                        ns_part = _namespace_part(sel)
                        if ns_part:
                            prefix = "spec" if idx == 0 and isinstance(manifest.get("spec"), dict) else f"specs[{idx}]"
                            out.append((f"{prefix}.{direction}[{r}].{field}[{s}]", ns_part))
        return out
    spec = manifest.get("spec") or {}
    for direction, field in (("ingress", "from"), ("egress", "to")):
        for r, rule in enumerate(spec.get(direction) or []):
            for p, peer in enumerate(rule.get(field) or []):
                sel = peer.get("namespaceSelector")
                if sel and (sel.get("matchLabels") or sel.get("matchExpressions")):
                    out.append((f"{direction}[{r}].{field}[{p}].namespaceSelector", sel))
    return out


def _namespace_part(sel):
    if not isinstance(sel, dict):
        return None

    def is_ns_key(key):
        key = _strip_source(key)
        return key == _NS_KEY or key.startswith(_NS_LABELS_KEY_PREFIX)

    ml = {k: v for k, v in (sel.get("matchLabels") or {}).items() if is_ns_key(k)}
    me = [e for e in sel.get("matchExpressions") or [] if is_ns_key(e.get("key", ""))]
    out = {}
    if ml:
        out["matchLabels"] = ml
    if me:
        out["matchExpressions"] = me
    return out or None


def _container_ports(pod):
    out = []
    for c in ((pod.get("spec") or {}).get("containers")) or []:
        for p in c.get("ports") or []:
            out.append((p.get("containerPort"), (p.get("protocol") or "TCP").upper(), p.get("name")))
    return out


def _check_ports(manifest, kind, namespace, specs, pods, namespaces, ref, warnings):
    cilium = kind in CILIUM_KINDS
    ns_labels = {}
    for n in namespaces or []:
        ns_labels[(n.get("metadata") or {}).get("name")] = _namespace_labels(n)
    for idx, spec in enumerate(specs):
        where = "" if idx == 0 else f" specs[{idx}]"
        if cilium:
            selector = spec.get("endpointSelector")
            if selector is None:
                continue  # nodeSelector policies select nodes, not pods

            def selected(pod, selector=selector):
                meta = pod.get("metadata") or {}
                pod_ns = meta.get("namespace") or namespace
                if kind == CILIUM_NETWORK_POLICY and namespace and pod_ns != namespace:
                    return False
                return match_selector(selector, _cilium_endpoint_labels(meta.get("labels"), pod_ns, ns_labels.get(pod_ns)), cilium=True)

            port_specs = [p for rule in spec.get("ingress") or [] if isinstance(rule, dict) for tp in rule.get("toPorts") or [] for p in tp.get("ports") or []]
            sel_name = "endpointSelector"
        else:
            selector = spec.get("podSelector") or {}

            def selected(pod, selector=selector):
                meta = pod.get("metadata") or {}
                if namespace and meta.get("namespace") not in (None, namespace):
                    return False
                return match_selector(selector, meta.get("labels"))

            port_specs = [p for rule in spec.get("ingress") or [] for p in rule.get("ports") or []]
            sel_name = "podSelector"
        chosen = [p for p in pods if selected(p)]
        if not chosen:
            warnings.append(
                f"{ref}{where}: {sel_name} {_selector_text(selector)} selects no existing pod"
                + (f" in namespace {namespace}" if namespace else "")
                + "; check the labels (kubectl get pods --show-labels)"
            )
            continue
        declared = [cp for pod in chosen for cp in _container_ports(pod)]
        declared_text = ", ".join(sorted({f"{num}/{proto}" + (f" ({name})" if name else "") for num, proto, name in declared})) or "none"
        for p in port_specs:
            port = p.get("port")
            if port in (None, "0", 0):
                continue
            proto = (p.get("protocol") or "TCP").upper()
            sport = str(port)
            if sport.isdigit():
                if not declared:
                    continue  # ports need not be declared; nothing to compare with
                lo = int(sport)
                hi = int(p.get("endPort") or lo)
                ok = any(num is not None and lo <= int(num) <= hi and proto in ("ANY", cproto) for num, cproto, _n in declared)
            else:
                ok = any(name == sport and proto in ("ANY", cproto) for _num, cproto, name in declared)
            if not ok:
                kind_text = "named port" if not sport.isdigit() else "port"
                warnings.append(
                    f"{ref}{where}: ingress {kind_text} {_port_text(p)} is not exposed by any pod the policy selects "
                    f"({sel_name} {_selector_text(selector)}; their container ports: {declared_text}); traffic to the real "
                    "port stays blocked - fix the port in the policy or the containerPort of the pods"
                )

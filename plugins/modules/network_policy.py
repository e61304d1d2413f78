#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network_policy
short_description: Manage Kubernetes NetworkPolicies and Cilium network policies from intents, with AKS guard rails
version_added: 0.1.0
description:
  - Creates, updates or deletes a C(networking.k8s.io/v1) NetworkPolicy, a C(cilium.io/v2) CiliumNetworkPolicy or a
    CiliumClusterwideNetworkPolicy, built from intents (O(default_deny), O(allow_from_namespace), O(allow_from_pods),
    O(allow_dns), O(http_rules), O(allow_fqdns), O(deny_world_egress)) or given as a raw O(spec).
  - Refuses, before any write, the policies an AKS cluster would not store or enforce the way they read, and warns
    about the mistakes that silently block traffic.
  - Cilium kinds on a cluster without the Cilium CRDs (not Azure CNI powered by Cilium) fail with a message saying
    how to check the network dataplane, instead of a 404.
  - With O(cluster_facts), a NetworkPolicy on a cluster without a network policy engine (C(networkPolicy=none))
    warns that it will not be enforced; FQDN rules (O(allow_fqdns), raw C(toFQDNs)) fail unless Advanced Container
    Networking Services security is enabled with advanced network policies C(FQDN) or C(L7), and HTTP rules
    (O(http_rules), raw C(rules.http)) fail unless they are C(L7). The message names the cluster setting to change.
  - Cilium puts every endpoint a policy selects into default deny for each direction the policy has rules in, deny
    rules included. O(deny_world_egress) therefore sets C(enableDefaultDeny.egress=false) so that it denies only the
    world; a raw deny-only spec without it gets a warning explaining the effect.
  - FQDN rules always come with an egress rule to kube-dns through Cilium's DNS proxy; a raw spec using C(toFQDNs)
    without one gets it added (O(ensure_dns_rule)) or fails.
  - Warns when a C(namespaceSelector) matches no existing namespace, when an ingress port is exposed by no pod the
    policy selects, and when default-deny egress leaves the pods without DNS. Namespaces and pods are read with one
    LIST each, and only when those checks need them; Cilium CRDs with one discovery request.
  - Only the fields the policy sets are compared, so a second run reports no change. Check mode sends the write with
    the API's server-side dry run (C(dryRun=All)), so the API validates the policy and stores nothing.
author:
  - aksnet.networking contributors (@aksnet)
options:
  kind:
    description: Kind of policy.
    type: str
    choices: [NetworkPolicy, CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy]
    default: NetworkPolicy
  name:
    description: Name of the policy.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the policy. Required for NetworkPolicy and CiliumNetworkPolicy; must not be set for
        CiliumClusterwideNetworkPolicy.
    type: str
  state:
    description: Whether the policy should exist. V(absent) needs only O(kind), O(name) and O(namespace).
    type: str
    choices: [present, absent]
    default: present
  pod_selector:
    description:
      - Labels of the pods the policy applies to (C(podSelector) / C(endpointSelector)), as a mapping of label to
        value, or a LabelSelector with C(matchLabels) / C(matchExpressions). Empty or unset selects every pod of
        the namespace (every pod of the cluster for CiliumClusterwideNetworkPolicy).
    type: dict
    aliases: [endpoint_selector]
  default_deny:
    description:
      - Directions in which the selected pods are isolated (default deny), V(ingress) and/or V(egress).
      - Allow intents isolate their direction anyway; traffic they do not admit is denied.
    type: list
    elements: str
  allow_from_namespace:
    description:
      - Ingress allowed from namespaces, one rule each. A string is a namespace name (matched with the
        C(kubernetes.io/metadata.name) label); a mapping has C(name) or C(labels), and optional C(ports).
    type: list
    elements: raw
  allow_from_pods:
    description:
      - Ingress allowed from pods, one rule each. Each entry has C(labels) (use C({}) for every pod), an optional
        C(namespace) (default the policy's namespace) and optional C(ports).
    type: list
    elements: dict
  ports:
    description:
      - Default ports of the O(allow_from_namespace) and O(allow_from_pods) rules that do not set their own.
        Each entry is a number, a named container port, C(PORT/PROTOCOL), or a mapping with C(port), C(protocol)
        (TCP, UDP, SCTP; ANY for Cilium) and C(end_port).
    type: list
    elements: raw
  allow_dns:
    description:
      - Egress to kube-dns in kube-system on UDP and TCP port 53. Without it, default-deny egress cuts DNS.
    type: bool
    default: false
  http_rules:
    description:
      - Cilium only. HTTP (L7) rules applied to the ports of every ingress allow rule; each entry has C(method)
        and/or C(path) (regular expressions, as Cilium matches them), optional C(host) and C(headers).
      - AKS enforces them only with advanced network policies C(L7).
    type: list
    elements: dict
  allow_fqdns:
    description:
      - Cilium only. Egress to DNS names, each a string (a C(*) makes it a pattern) or a mapping with C(match_name)
        or C(match_pattern) and optional C(ports). An egress rule to kube-dns through Cilium's DNS proxy is always added.
      - AKS enforces them only with Advanced Container Networking Services security (advanced network policies
        C(FQDN) or C(L7)).
    type: list
    elements: raw
  deny_world_egress:
    description:
      - Cilium only. Deny egress to the C(world) entity (everything outside the cluster), with
        C(enableDefaultDeny.egress=false) so that the rest of the egress stays allowed.
    type: bool
    default: false
  spec:
    description:
      - Raw policy spec, instead of the intents. The guard rails apply to it as well.
    type: dict
  ensure_dns_rule:
    description:
      - For a raw Cilium spec using C(toFQDNs) without an egress rule to kube-dns carrying C(rules.dns), add that rule
        (V(true)) or fail (V(false)). Cilium learns FQDN addresses only from the DNS answers it proxies.
    type: bool
    default: true
  labels:
    description: Labels of the policy object. Labels other tools set are kept.
    type: dict
  cluster_facts:
    description:
      - The cluster's network profile, for example C(clusters[0].network_profile) of M(aksnet.networking.cluster_info)
        (snake_case) or the ARM C(networkProfile) (camelCase). Enables the engine and Advanced Container Networking
        Services checks; without it those checks are skipped.
    type: dict
extends_documentation_fragment:
  - aksnet.networking.kubernetes
  - aksnet.networking.attributes
attributes:
  check_mode:
    support: full
    details: The create, replace or delete is sent with C(dryRun=All) so the API validates it; nothing is stored.
  diff_mode:
    support: full
    details: The diff shows the policy's spec and labels before and after.
  idempotent:
    support: full
notes:
  - The namespace and pod checks only warn; the checks that would let a policy silently not work as written fail.
"""

EXAMPLES = r"""
- name: Deny all ingress by default in the shop namespace
  aksnet.networking.network_policy:
    name: default-deny-ingress
    namespace: shop
    default_deny: [ingress]

- name: Allow ingress to my-app from the monitoring namespace
  aksnet.networking.network_policy:
    name: allow-from-monitoring
    namespace: shop
    pod_selector: {app: my-app}
    allow_from_namespace: [monitoring]

- name: Default-deny egress but keep DNS, with the cluster facts for the engine check
  aksnet.networking.network_policy:
    name: egress-lockdown
    namespace: shop
    default_deny: [egress]
    allow_dns: true
    cluster_facts: "{{ aks.clusters[0].network_profile }}"

- name: HTTP rule (Cilium, advanced network policies L7)
  aksnet.networking.network_policy:
    kind: CiliumNetworkPolicy
    name: allow-http-from-frontend
    namespace: shop
    pod_selector: {app: my-api}
    allow_from_pods:
      - labels: {app: frontend}
        ports: [8080]
    http_rules:
      - method: GET
        path: /api/.*

- name: Egress only to *.example.com on 443 (DNS rule added)
  aksnet.networking.network_policy:
    kind: CiliumNetworkPolicy
    name: allow-egress-to-api
    namespace: shop
    pod_selector: {app: my-app}
    allow_fqdns:
      - match_pattern: "*.example.com"
        ports: [443]

- name: Deny egress to the internet for every pod, and only that
  aksnet.networking.network_policy:
    kind: CiliumClusterwideNetworkPolicy
    name: deny-external-egress
    deny_world_egress: true

- name: Remove a policy
  aksnet.networking.network_policy:
    name: allow-from-monitoring
    namespace: shop
    state: absent
"""

RETURN = r"""
policy:
  description: The manifest applied (for V(absent), the one removed), after the guard rails (e.g. an added DNS rule).
  returned: always
  type: dict
  sample:
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: default-deny-ingress, namespace: shop}
    spec: {podSelector: {}, policyTypes: [Ingress]}
policy_warnings:
  description:
    - The guard rails' warnings, also shown as Ansible warnings (the result key C(warnings) belongs to Ansible).
  returned: always
  type: list
  elements: str
action:
  description: What was done (or would be, in check mode).
  returned: always
  type: str
  sample: create
  choices: [create, replace, delete, none]
policy_effect:
  description:
    - V(deny) for a policy that locks pods down (O(default_deny), O(deny_world_egress), a direction without allow
      rules, Cilium deny rules), V(allow) otherwise; for V(absent), of the policy removed.
  returned: always
  type: str
  choices: [allow, deny]
apply_phase:
  description:
    - 0 when the change loosens (an allow policy written, a deny policy removed), 1 when it tightens. The
      network_policies role applies every phase-0 change of a run before any phase-1 change.
  returned: always
  type: int
api_requests:
  description: Number of Kubernetes API requests made.
  returned: always
  type: int
"""

import copy

from ansible_collections.aksnet.networking.plugins.module_utils._kube.apply import ensure_object
from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeApiError
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure
from ansible_collections.aksnet.networking.plugins.module_utils._netpol.effect import apply_phase, policy_effect
from ansible_collections.aksnet.networking.plugins.module_utils._netpol.intents import (
    API_VERSIONS,
    CILIUM_CLUSTERWIDE_NETWORK_POLICY,
    CILIUM_KINDS,
    IntentError,
    build_policy,
    check_policy,
)

PLURALS = {
    "NetworkPolicy": "networkpolicies",
    "CiliumNetworkPolicy": "ciliumnetworkpolicies",
    "CiliumClusterwideNetworkPolicy": "ciliumclusterwidenetworkpolicies",
}
INTENT_PARAMS = ("default_deny", "allow_from_namespace", "allow_from_pods", "ports", "allow_dns", "http_rules", "allow_fqdns", "deny_world_egress")


def _needs_cluster_reads(manifest):
    """(namespaces, pods): whether the namespace-selector and port checks have something to check."""
    cilium = manifest["kind"] in CILIUM_KINDS
    specs = [manifest.get("spec"), *(manifest.get("specs") or [])]
    ns_selectors = False
    ingress_ports = False
    for spec in specs:
        if not isinstance(spec, dict):
            continue
        for direction in ("ingress", "egress", "ingressDeny", "egressDeny"):
            for rule in spec.get(direction) or []:
                if not isinstance(rule, dict):
                    continue
                if cilium:
                    for sel in (rule.get("fromEndpoints") or []) + (rule.get("toEndpoints") or []):
                        keys = list((sel or {}).get("matchLabels") or {}) + [e.get("key", "") for e in (sel or {}).get("matchExpressions") or []]
                        if any("io.kubernetes.pod.namespace" in k or "io.cilium.k8s.namespace.labels." in k for k in keys):
                            ns_selectors = True
                    if direction == "ingress" and any(tp.get("ports") for tp in rule.get("toPorts") or []):
                        ingress_ports = True
                else:
                    for peer in (rule.get("from") or []) + (rule.get("to") or []):
                        if (peer or {}).get("namespaceSelector"):
                            ns_selectors = True
                    if direction == "ingress" and rule.get("ports"):
                        ingress_ports = True
    # Cilium's port check needs namespace labels to evaluate endpoint selectors
    return ns_selectors or (ingress_ports and cilium), ingress_ports


def _absent_manifest(params):
    kind = params["kind"]
    meta = {"name": params["name"]}
    if kind != CILIUM_CLUSTERWIDE_NETWORK_POLICY:
        if not params["namespace"]:
            raise ModuleFailure(f"namespace is required for {kind} (state absent too): give the namespace of policy {params['name']!r}.")
        meta["namespace"] = params["namespace"]
    elif params["namespace"]:
        raise ModuleFailure(f"namespace: {kind} is cluster-scoped; remove namespace {params['namespace']!r}.")
    return {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": meta}


def run(mod):
    params = mod.params
    kind = params["kind"]
    state = params["state"]

    if state == "absent":
        manifest = _absent_manifest(params)
        client = mod.kube()
        if kind in CILIUM_KINDS and not client.has_resource(API_VERSIONS[kind], PLURALS[kind]):
            return {
                "changed": False,
                "policy": manifest,
                "policy_warnings": [],
                "action": "none",
                "api_requests": client.request_count,
                "diff": {"before": {}, "after": {}},
                "policy_effect": "allow",
                "apply_phase": apply_phase("allow", "absent"),
            }
        result = ensure_object(client, manifest, state="absent", check_mode=mod.check_mode, plural=PLURALS[kind])
        effect = policy_effect(result["before"])
        return {
            "changed": result["changed"],
            "policy": result["before"] or manifest,
            "policy_warnings": [],
            "action": result["action"] or "none",
            "api_requests": client.request_count,
            "diff": result["diff"],
            "policy_effect": effect,
            "apply_phase": apply_phase(effect, "absent"),
        }

    # 1. options -> manifest, every input error before any request
    intents = {key: params[key] for key in INTENT_PARAMS}
    build_params = dict(intents, kind=kind, name=params["name"], namespace=params["namespace"], spec=params["spec"], pod_selector=params["pod_selector"])
    try:
        manifest = build_policy(build_params)
    except IntentError as exc:
        raise ModuleFailure("Invalid policy options: " + "; ".join(exc.errors), errors=exc.errors) from None
    if params["labels"]:
        bad = [k for k, v in params["labels"].items() if not isinstance(v, str)]
        if bad:
            raise ModuleFailure(f"labels: values of {', '.join(sorted(bad))} must be strings (quote them, e.g. '\"true\"').")
        manifest["metadata"]["labels"] = dict(params["labels"])

    # 2. what the guard rails need from the cluster: one request per kind of fact
    client = mod.kube()
    crds = None
    if kind in CILIUM_KINDS:
        crds = client.has_resource(API_VERSIONS[kind], PLURALS[kind])
    need_ns, need_pods = _needs_cluster_reads(manifest)
    namespaces = pods = None
    if crds is not False:
        if need_ns:
            namespaces = client.list("v1", "namespaces", "Namespace")
        if need_pods:
            pod_ns = None if kind == CILIUM_CLUSTERWIDE_NETWORK_POLICY else params["namespace"]
            pods = client.list("v1", "pods", "Pod", namespace=pod_ns)

    # 3. guard rails: errors before any write
    manifest, errors, warnings = check_policy(
        manifest,
        cluster_facts=params["cluster_facts"],
        cilium_crds_present=crds,
        namespaces=namespaces,
        pods=pods,
        ensure_dns_rule=params["ensure_dns_rule"],
    )
    for text in warnings:
        mod.warn(text)
    if errors:
        raise ModuleFailure(" ".join(errors), errors=errors, policy=manifest, policy_warnings=warnings, api_requests=client.request_count)

    # 4. apply
    try:
        result = ensure_object(client, copy.deepcopy(manifest), check_mode=mod.check_mode, plural=PLURALS[kind])
    except KubeApiError as exc:
        if exc.status == 404 and params["namespace"] and "namespace" in (exc.server_message or "").lower():
            raise ModuleFailure(
                f"namespace {params['namespace']!r} does not exist: create it before its policies (kubectl create namespace {params['namespace']}).",
                policy=manifest,
                policy_warnings=warnings,
            ) from None
        raise
    effect = policy_effect(manifest, intents)
    return {
        "changed": result["changed"],
        "policy": manifest,
        "policy_warnings": warnings,
        "action": result["action"] or "none",
        "api_requests": client.request_count,
        "diff": result["diff"],
        "policy_effect": effect,
        "apply_phase": apply_phase(effect, "present"),
    }


def main():
    mod = AksnetModule(
        {
            "kind": {"type": "str", "choices": list(PLURALS), "default": "NetworkPolicy"},
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "pod_selector": {"type": "dict", "aliases": ["endpoint_selector"]},
            "default_deny": {"type": "list", "elements": "str"},
            "allow_from_namespace": {"type": "list", "elements": "raw"},
            "allow_from_pods": {"type": "list", "elements": "dict"},
            "ports": {"type": "list", "elements": "raw"},
            "allow_dns": {"type": "bool", "default": False},
            "http_rules": {"type": "list", "elements": "dict"},
            "allow_fqdns": {"type": "list", "elements": "raw"},
            "deny_world_egress": {"type": "bool", "default": False},
            "spec": {"type": "dict"},
            "ensure_dns_rule": {"type": "bool", "default": True},
            "labels": {"type": "dict"},
            "cluster_facts": {"type": "dict"},
        },
        auth="kube",
        libraries=("kubernetes", "urllib3"),
    )
    mod.run(run, "manage a network policy")


if __name__ == "__main__":
    main()

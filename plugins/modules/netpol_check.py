#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: netpol_check
short_description: May A reach B on port P? The network policies that decide it, and why
version_added: 0.1.0
description:
  - Evaluates Kubernetes NetworkPolicy and Cilium policies (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy) for one
    connection, or for every pod pair of some namespaces (O(matrix=true)), from a live cluster or a snapshot.
  - Traffic passes only when the source's egress and the destination's ingress both allow it. For each direction and each
    engine the result names the policies that select the peer and the rule that admits the traffic, or why none does.
  - "Kubernetes semantics: C(policyTypes) defaulting, isolation per direction, C(namespaceSelector) and C(podSelector) in one
    peer (AND) or in two peers (OR), C(ipBlock) with C(except), named ports resolved on the destination pod, C(endPort) ranges,
    TCP, UDP and SCTP."
  - "Cilium semantics: C(endpointSelector), C(from/toEndpoints) with namespace labels, C(from/toEntities), C(toPorts),
    C(ingressDeny)/C(egressDeny) winning over allows, default deny for endpoints selected by a policy with rules in that
    direction unless C(enableDefaultDeny) is false, clusterwide policies; L7 rules give \"allowed at L4, restricted to ...\"."
  - Live mode lists namespaces, pods, kube-system DaemonSets and the policy kinds once each, paginated; no per-object requests.
author:
  - aksnet.networking contributors (@aksnet)
options:
  source:
    description:
      - Who opens the connection. One of C({namespace, pod}) (an existing pod), C({namespace, labels}) (a hypothetical pod
        with those labels) or C({cidr}) (an address outside the cluster). Required unless O(matrix=true).
    type: dict
    suboptions:
      namespace:
        description: Namespace of the pod.
        type: str
      pod:
        description: Name of an existing pod in O(source.namespace).
        type: str
      labels:
        description: Labels of a hypothetical pod in O(source.namespace).
        type: dict
      cidr:
        description: An IP address or CIDR outside the cluster; a range is allowed only when every address of it is.
        type: str
      fqdn:
        description: With O(source.cidr), the DNS name the address belongs to (matched by Cilium C(toFQDNs) rules).
        type: str
  destination:
    description:
      - Who accepts the connection; same forms as O(source). Named ports resolve on an existing destination pod.
        Required unless O(matrix=true).
    type: dict
    suboptions:
      namespace:
        description: Namespace of the pod.
        type: str
      pod:
        description: Name of an existing pod in O(destination.namespace).
        type: str
      labels:
        description: Labels of a hypothetical pod in O(destination.namespace).
        type: dict
      cidr:
        description: An IP address or CIDR outside the cluster.
        type: str
      fqdn:
        description: With O(destination.cidr), the DNS name of the address (for Cilium C(toFQDNs) rules).
        type: str
  port:
    description:
      - Destination port, a number (1-65535) or the name of a container port of the destination pod (e.g. V(http)).
      - Required unless O(matrix=true) with O(ports).
    type: raw
  protocol:
    description: Transport protocol.
    type: str
    choices: [TCP, UDP, SCTP]
    default: TCP
  matrix:
    description:
      - Evaluate every pod pair of O(namespaces) (sources and destinations alike) for each of O(ports) instead of one connection.
    type: bool
    default: false
  namespaces:
    description: With O(matrix=true), the namespaces whose pods are compared. Default is every namespace.
    type: list
    elements: str
  ports:
    description: With O(matrix=true), the ports to evaluate (numbers or names). Defaults to O(port).
    type: list
    elements: raw
  combine:
    description:
      - How Kubernetes NetworkPolicy and Cilium policies combine when both enforce.
      - V(separate) means each enforcing engine must allow the traffic (Azure NPM or Calico next to Cilium policies).
      - V(merged) means Cilium enforces both kinds as one policy set, which is what Azure CNI powered by Cilium does; a deny of
        either kind wins, an endpoint is isolated when either kind isolates it, and an allow of either kind admits.
      - V(auto) means V(merged) when O(cluster_facts) say the dataplane (or network policy) is Cilium, V(separate) otherwise.
    type: str
    choices: [auto, merged, separate]
    default: auto
  cluster_facts:
    description:
      - The cluster's network profile (C(network_profile) of M(aksnet.networking.cluster_info), or the whole entry), to know
        which engines enforce. Without it, every engine whose policies exist is assumed to enforce (Cilium only when a Cilium
        agent runs). With network policy V(azure) or V(calico), C(ipBlock) rules also match pod IPs, as those engines do.
    type: dict
  snapshot:
    description:
      - Path of a snapshot file to evaluate instead of a live cluster; the Kubernetes connection options are then ignored.
    type: path
  page_size:
    description: Objects per LIST page in live mode.
    type: int
    default: 500
extends_documentation_fragment:
  - aksnet.networking.kubernetes
  - aksnet.networking.attributes
  - aksnet.networking.attributes.INFO_MODULE
requirements:
  - kubernetes >= 31.0.0
seealso:
  - module: aksnet.networking.diagnose
"""

EXAMPLES = r"""
- name: May the frontend reach the API on its http port?
  aksnet.networking.netpol_check:
    source: {namespace: shop, pod: web-7d9c5-abcde}
    destination: {namespace: shop, labels: {app: api}}
    port: 8080
  register: check

- name: Explain
  ansible.builtin.debug:
    msg: "{{ check.allowed }}: {{ check.reason }}"

- name: Can the internet reach the ingress controller (named port)?
  aksnet.networking.netpol_check:
    source: {cidr: 203.0.113.7}
    destination: {namespace: ingress-nginx, pod: ingress-nginx-controller-5c8d-xyz}
    port: https
    cluster_facts: "{{ aks.clusters[0].network_profile }}"

- name: Who may talk to whom in two namespaces, offline
  aksnet.networking.netpol_check:
    snapshot: /tmp/prod-aks.snapshot.json
    matrix: true
    namespaces: [shop, payments]
    ports: [80, 443]
"""

RETURN = r"""
allowed:
  description: Whether the connection is allowed by every enforcing engine.
  returned: when O(matrix=false)
  type: bool
reason:
  description: One sentence; for a denial, the direction, engine and why.
  returned: when O(matrix=false)
  type: str
  sample: "denied - ingress (kubernetes): pod shop/db is isolated for ingress by NetworkPolicy shop/db-only-api; no rule admits shop/web"
egress:
  description:
    - Per engine (C(kubernetes), C(cilium)), the source's egress side. Each has C(enforced), C(applicable), C(isolated),
      C(allowed), C(policies) (those selecting the source), C(admitted_by) (policy, rule index, peer, ports),
      C(denied_by) and C(reason).
  returned: when O(matrix=false)
  type: dict
ingress:
  description: Per engine, the destination's ingress side, same shape as RV(egress).
  returned: when O(matrix=false)
  type: dict
l7:
  description: L7 rules (HTTP, DNS, Kafka) that restrict an allowed connection ("allowed at L4, restricted to ...").
  returned: when O(matrix=false)
  type: list
  elements: dict
port:
  description: The port asked for, the number it resolved to and the protocol.
  returned: when O(matrix=false)
  type: dict
  sample: {requested: http, number: 8080, protocol: TCP}
source:
  description: The source as evaluated (pod with labels, labels, or cidr).
  returned: when O(matrix=false)
  type: dict
destination:
  description: The destination as evaluated.
  returned: when O(matrix=false)
  type: dict
matrix:
  description:
    - C(pods) (C(namespace/name), the row and column order), C(combine), C(engines), and C(results), one per port with C(port),
      C(protocol), C(allowed) (rows are sources, columns destinations), C(allowed_count), C(restricted) (pairs allowed
      only at L4 with L7 rules) and C(unresolved) (destinations that do not declare a named port).
  returned: when O(matrix=true)
  type: dict
combine:
  description: How the engines were combined (V(merged) or V(separate)).
  returned: always
  type: str
engines:
  description: The engines evaluated as enforcing.
  returned: always
  type: list
  elements: str
notes:
  description: What was assumed or not evaluated (missing cluster facts, engines not enforcing, host policies).
  returned: always
  type: list
  elements: str
api_requests:
  description: Number of Kubernetes API requests made (live mode).
  returned: in live mode
  type: int
"""

from ansible_collections.aksnet.networking.plugins.module_utils._diag.index import Index
from ansible_collections.aksnet.networking.plugins.module_utils._diag.reachability import build_evaluator
from ansible_collections.aksnet.networking.plugins.module_utils._diag.snapshot_io import SnapshotError
from ansible_collections.aksnet.networking.plugins.module_utils._diag.source import POLICY_KINDS, gather, kinds_subset
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure
from ansible_collections.aksnet.networking.plugins.module_utils._netpol.check_inputs import (
    InputError,
    validate_endpoint,
    validate_port,
    validate_protocol,
)
from ansible_collections.aksnet.networking.plugins.module_utils._netpol.evaluate import NetpolInputError

ENDPOINT_OPTIONS = {
    "namespace": {"type": "str"},
    "pod": {"type": "str"},
    "labels": {"type": "dict"},
    "cidr": {"type": "str"},
    "fqdn": {"type": "str"},
}
REQUIRED_KINDS = ("Pod", "NetworkPolicy")


def _validate(params):
    """Everything that can be checked before a request."""
    try:
        protocol = validate_protocol(params["protocol"])
        if params["page_size"] < 1:
            raise InputError(f"page_size {params['page_size']} must be at least 1.")
        if params["matrix"]:
            raw = params["ports"] or ([params["port"]] if params["port"] not in (None, "") else [])
            if not raw:
                raise InputError("matrix=true needs ports (a list of numbers or names) or port.")
            ports = [validate_port(p, f"ports[{i}]") for i, p in enumerate(raw)]
            return {"protocol": protocol, "ports": ports}
        source = validate_endpoint(params["source"], "source")
        destination = validate_endpoint(params["destination"], "destination")
        if "cidr" in source and "cidr" in destination:
            raise InputError("source and destination are both cidr (outside the cluster): at least one must be a pod, "
                             "{namespace, pod} or {namespace, labels}.")
        port = validate_port(params["port"], "port")
        if isinstance(port, str) and "pod" not in destination:
            raise InputError(f"port {port!r} is a name, which resolves only on an existing destination pod: "
                             "give destination {namespace, pod} or a port number.")
        return {"protocol": protocol, "source": source, "destination": destination, "port": port}
    except InputError as exc:
        raise ModuleFailure(str(exc)) from None


def run(mod):
    params = mod.params
    asked = _validate(params)
    client = mod.kube_unless_snapshot(params["snapshot"])
    try:
        data = gather(
            client=client,
            snapshot=params["snapshot"],
            namespaces=None,
            page_size=params["page_size"],
            kinds=kinds_subset(POLICY_KINDS),
        )
    except SnapshotError as exc:
        raise ModuleFailure(f"snapshot: {exc}") from None
    missing = {k: v for k, v in data["skipped"].items() if k in REQUIRED_KINDS}
    if missing:
        reasons = "; ".join(f"{k}: {v}" for k, v in missing.items())
        raise ModuleFailure(f"cannot evaluate policies without {', '.join(missing)} ({reasons}).", skipped_kinds=data["skipped"])
    index = Index(data["objects"], data["skipped"])
    try:
        ev, settings = build_evaluator(index, params["cluster_facts"], params["combine"])
    except (ValueError, NetpolInputError) as exc:
        raise ModuleFailure(str(exc)) from None
    notes = list(settings["notes"])
    for kind, reason in sorted(data["skipped"].items()):
        if not reason.startswith("not served"):
            notes.append(f"{kind} could not be read ({reason}): its policies are not part of this verdict")
    result = {"changed": False, "combine": settings["combine"], "engines": settings["enforce"]}
    if data["mode"] == "live":
        result["api_requests"] = data["api_requests"]
    try:
        if params["matrix"]:
            known = set(ev.namespaces())
            for ns in params["namespaces"] or []:
                if ns not in known:
                    mod.warn(f"namespaces: {ns!r} has no pods and no Namespace object in the cluster data; it adds nothing to the matrix.")
            result["matrix"] = ev.matrix(params["namespaces"] or None, asked["ports"], asked["protocol"])
        else:
            check = ev.check(asked["source"], asked["destination"], asked["port"], asked["protocol"])
            notes.extend(n for n in check.pop("notes") if n not in notes)
            check.pop("combine", None)
            result.update(check)
    except NetpolInputError as exc:
        raise ModuleFailure(str(exc).rstrip(".") + ".", **result) from None
    result["notes"] = notes
    return result


def main():
    mod = AksnetModule(
        {
            "source": {"type": "dict", "options": dict(ENDPOINT_OPTIONS)},
            "destination": {"type": "dict", "options": dict(ENDPOINT_OPTIONS)},
            "port": {"type": "raw"},
            "protocol": {"type": "str", "choices": ["TCP", "UDP", "SCTP"], "default": "TCP"},
            "matrix": {"type": "bool", "default": False},
            "namespaces": {"type": "list", "elements": "str"},
            "ports": {"type": "list", "elements": "raw"},
            "combine": {"type": "str", "choices": ["auto", "merged", "separate"], "default": "auto"},
            "cluster_facts": {"type": "dict"},
            "snapshot": {"type": "path"},
            "page_size": {"type": "int", "default": 500},
        },
        auth="kube",
        libraries=("yaml",),
    )
    mod.run(run, "evaluate network policies")


if __name__ == "__main__":
    main()

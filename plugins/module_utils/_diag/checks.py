# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each step checked, check by check, so that a clean report proves something. Pure.

Each step that ran gets ``checks``: one entry per finding code the step can produce::

    {"code": "service.selector_mismatch", "check": "every Service selector matches a running pod",
     "status": "passed" | "failed" | "warning" | "info" | "not_run", "findings": 0, "reason": None}

``passed`` means the check ran over the step's objects and produced no finding; ``failed`` /
``warning`` / ``info`` name the worst severity it produced; ``not_run`` (with ``reason``) means the
data it needs is missing (a kind that could not be listed, no probe results, no CoreDNS logs or
events, a network plugin the check does not apply to), so it is never counted as passed.
``checked_objects`` lists what the step looked at (``Kind namespace/name``, at most
:data:`OBJECT_LIMIT`; ``checked_objects_more`` counts the rest).
"""

from __future__ import annotations

from .findings import SEVERITIES

OBJECT_LIMIT = 200
_POLICY_KINDS = ("NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")


def _kinds(*kinds, any_of=False):
    """Requirement: the kinds could be listed (``any_of``: at least one of them)."""

    def need(index, ctx):
        missing = [k for k in kinds if k in index.skipped]
        if any_of and len(missing) < len(kinds):
            return None
        if missing:
            return "; ".join(f"{k} not listable ({index.skipped[k]})" for k in missing)
        return None

    return need


def _endpoints(index, ctx):
    if "EndpointSlice" in index.skipped and "Endpoints" in index.skipped:
        return "neither EndpointSlice nor Endpoints could be listed"
    if not index.kinds("EndpointSlice") and not index.kinds("Endpoints") and index.kinds("Service"):
        return "no EndpointSlice or Endpoints objects in the data"
    return None


def _probes(*checks):
    def need(index, ctx):
        results = ctx.probe_results
        if results is None:
            return "no active probes (active: true runs them)"
        if not any(r.get("check") in checks for r in results):
            return f"no {' or '.join(checks)} probe in this run"
        return None

    return need


def _coredns_sources(index, ctx):
    if (ctx.cluster_facts or {}).get("coredns_logs"):
        return None
    if "Event" in index.skipped:
        return f"no CoreDNS logs given and Event not listable ({index.skipped['Event']})"
    return None


def _kubenet(index, ctx):
    facts = ctx.azure_facts or {}
    profile = (facts.get("cluster") or {}).get("network_profile") or ctx.cluster_facts or {}
    plugin = str(profile.get("plugin") or profile.get("network_plugin") or "").lower()
    if plugin != "kubenet":
        return f"applies to kubenet only (network plugin: {plugin or 'unknown'})"
    return None


def _azure_key(*keys):
    def need(index, ctx):
        facts = ctx.azure_facts or {}
        if not any(facts.get(k) is not None for k in keys):
            return f"the Azure facts have no {' / '.join(keys)}"
        return None

    return need


_CILIUM = _kinds("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", any_of=True)

# step -> [(code, what holds when the check passes, requirements)]
CATALOGUE = {
    1: [
        ("pod.not_running", "every pod is Running", ()),
        ("pod.not_ready", "every running pod is Ready", ()),
        ("pod.crash_looping", "no container restarts in a loop", ()),
        ("pod.sandbox_failed", "every pod got its network sandbox (no FailedCreatePodSandBox)", (_kinds("Event"),)),
        ("pod.not_listening", "every probed pod listens on its Service's target port", (_probes("listening"),)),
    ],
    2: [
        ("service.selector_mismatch", "every Service selector matches a running pod", ()),
        ("service.no_endpoints", "every Service has endpoints", (_endpoints,)),
        ("service.not_ready_endpoints", "every endpoint of every Service is ready", (_endpoints,)),
        ("service.target_port_mismatch", "every targetPort is a port the selected pods expose", ()),
        ("service.lb_pending", "every LoadBalancer Service has an external address", ()),
    ],
    3: [
        ("connectivity.dns_failed", "names resolve from the debug pod", (_probes("dns"),)),
        ("connectivity.service_unreachable", "the probed Services answer on their ClusterIP", (_probes("service"),)),
        ("connectivity.pod_unreachable", "the probed pods answer on their IP", (_probes("pod"),)),
        ("connectivity.egress_failed", "the external endpoints answer", (_probes("egress"),)),
    ],
    4: [
        ("netpol.not_enforced", "the cluster enforces the policies it has", ()),
        ("netpol.selects_no_pods", "every NetworkPolicy selects pods", ()),
        ("netpol.default_deny", "default-deny policies are listed with what they isolate", ()),
        ("netpol.isolated_without_allow", "every isolated pod has a rule admitting some traffic", ()),
        ("netpol.namespace_selector_no_match", "every namespaceSelector matches a namespace", (_kinds("Namespace"),)),
        ("netpol.peer_selects_no_pods", "every peer podSelector matches pods", ()),
        ("netpol.port_not_exposed", "every policy port is exposed by a selected pod", ()),
        ("netpol.egress_blocks_dns", "every egress-isolated pod may reach kube-dns on port 53", ()),
        ("netpol.blocks_service_traffic", "some client may reach each Service's backends on its target port", (_kinds("Service"),)),
        ("cilium.not_enforced", "Cilium policies are enforced by a Cilium dataplane", (_CILIUM,)),
        ("cilium.selects_no_endpoints", "every Cilium endpointSelector matches pods", (_CILIUM,)),
        ("cilium.fqdn_without_dns_rule", "every toFQDNs rule comes with a DNS rule to kube-dns", (_CILIUM,)),
        ("cilium.l7_not_enabled", "FQDN / HTTP rules are enforced by the cluster's advanced networking", (_CILIUM,)),
        ("cilium.deny_enables_default_deny", "no deny-only Cilium policy isolates its endpoints by surprise", (_CILIUM,)),
    ],
    5: [
        ("dns.coredns_unavailable", "CoreDNS pods are ready", ()),
        ("dns.coredns_errors", "CoreDNS reports no forwarding loop, upstream or plugin errors", (_coredns_sources,)),
        ("dns.custom_config_invalid", "the coredns-custom ConfigMap is valid", (_kinds("ConfigMap"),)),
        ("dns.pod_resolver_unexpected", "workload pods use the cluster DNS", ()),
    ],
    6: [
        ("ingress.class_missing", "every Ingress names a class (or a default exists)", (_kinds("IngressClass"),)),
        ("ingress.class_not_found", "every Ingress class exists", (_kinds("IngressClass"),)),
        ("ingress.controller_unavailable", "every used class has a ready controller", (_kinds("IngressClass", "Pod"),)),
        ("ingress.backend_service_missing", "every backend Service exists", (_kinds("Service"),)),
        ("ingress.backend_port_missing", "every backend port is a port of its Service", (_kinds("Service"),)),
        ("ingress.backend_no_endpoints", "every backend Service has ready endpoints", (_kinds("Service"), _endpoints)),
        ("ingress.tls_secret_missing", "every TLS secret exists", (_kinds("Secret"),)),
        ("ingress.no_address", "every Ingress has an address", ()),
    ],
    7: [
        ("dataplane.kube_proxy_unhealthy", "kube-proxy runs on every node", ()),
        ("dataplane.cni_unhealthy", "the CNI / policy agents run on every node", ()),
        ("node.network_unavailable", "no node reports NetworkUnavailable", (_kinds("Node"),)),
    ],
    8: [
        ("azure.lb_rule_missing", "every LoadBalancer Service port has its load-balancing rule", (_kinds("Service"), _azure_key("load_balancers"))),
        ("azure.nsg_blocks_port", "no NSG denies a LoadBalancer Service port", (_kinds("Service"), _azure_key("network_security_groups"))),
        ("azure.subnet_exhausted", "the cluster's subnets have free addresses", (_azure_key("subnets"),)),
        ("azure.route_missing", "each node has its pod CIDR route (kubenet)", (_kubenet, _kinds("Node"))),
        ("azure.static_ip_not_found", "every requested static IP exists", (_kinds("Service"), _azure_key("public_ips"))),
        ("azure.static_ip_wrong_resource_group", "every static IP is where the cloud provider looks for it", (_kinds("Service"), _azure_key("public_ips"))),
    ],
}


def _refs(index, ctx, kind, namespace=None, name=None):
    out = []
    for obj in index.kinds(kind) if namespace is None else index.in_namespace(kind, namespace):
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace")
        if name is not None and meta.get("name") != name:
            continue
        if not ctx.in_scope(ns):
            continue
        out.append(f"{kind} {ns + '/' if ns else ''}{meta.get('name')}")
    return sorted(out)


def _lb_services(index, ctx):
    out = []
    for svc in index.kinds("Service"):
        meta = svc.get("metadata") or {}
        if (svc.get("spec") or {}).get("type") == "LoadBalancer" and ctx.in_scope(meta.get("namespace")):
            out.append(f"Service {meta.get('namespace')}/{meta.get('name')}")
    return sorted(out)


def checked_objects(step, index, ctx):
    """``Kind namespace/name`` of what a step looked at."""
    if step == 1:
        return _refs(index, ctx, "Pod")
    if step == 2:
        return _refs(index, ctx, "Service")
    if step == 3:
        return sorted({f"{r.get('check')} {r.get('target') or r.get('name')}" + (f":{r['port']}" if r.get("port") else "")
                       for r in ctx.probe_results or [] if ctx.in_scope(r.get("namespace"))})
    if step == 4:
        return [ref for kind in _POLICY_KINDS for ref in _refs(index, ctx, kind)]
    if step == 5:
        return (_refs(index, ctx, "Deployment", "kube-system", "coredns") + _refs(index, ctx, "ConfigMap", "kube-system", "coredns-custom")
                + [ref for ref in _refs(index, ctx, "Pod", "kube-system") if "coredns" in ref])
    if step == 6:
        return _refs(index, ctx, "Ingress") + _refs(index, ctx, "IngressClass")
    if step == 7:
        return _refs(index, ctx, "DaemonSet", "kube-system") + _refs(index, ctx, "Node")
    if step == 8:
        facts = ctx.azure_facts or {}
        subnets = [f"Subnet {s.get('name')}" for s in facts.get("subnets") or [] if isinstance(s, dict)]
        return _lb_services(index, ctx) + sorted(subnets)
    return []


def step_checks(step, index, ctx):
    """``{checks, checked_objects, checked_objects_more}`` for one step that ran (statuses set by :func:`refresh`)."""
    checks = []
    for code, holds, needs in CATALOGUE.get(step, ()):
        reason = next((r for r in (need(index, ctx) for need in needs) if r), None)
        checks.append({"code": code, "check": holds, "status": "not_run" if reason else "passed", "findings": 0, "reason": reason})
    objects = checked_objects(step, index, ctx)
    return {"checks": checks, "checked_objects": objects[:OBJECT_LIMIT], "checked_objects_more": max(0, len(objects) - OBJECT_LIMIT)}


_STATUS_OF = {"error": "failed", "warning": "warning", "info": "info"}


def refresh(diagnostics):
    """Set each check's ``status`` and ``findings`` from ``diagnostics["findings"]`` (after findings were added)."""
    counts = {}
    for f in diagnostics.get("findings") or []:
        entry = counts.setdefault((f.get("step"), f.get("code")), {"n": 0, "worst": len(SEVERITIES)})
        entry["n"] += 1
        if f.get("severity") in SEVERITIES:
            entry["worst"] = min(entry["worst"], SEVERITIES.index(f["severity"]))
    for step in diagnostics.get("steps") or []:
        for check in step.get("checks") or []:
            found = counts.get((step.get("step"), check["code"]))
            check["findings"] = found["n"] if found else 0
            if found and found["worst"] < len(SEVERITIES):
                check["status"] = _STATUS_OF[SEVERITIES[found["worst"]]]
            elif check.get("reason"):
                check["status"] = "not_run"
            else:
                check["status"] = "passed"
    return diagnostics

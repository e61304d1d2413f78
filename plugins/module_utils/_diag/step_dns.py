# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 5 of the field guide: is cluster DNS healthy and configured sanely? Pure.

CoreDNS health is cluster-wide, so it is checked whatever the namespace filter;
``dns.pod_resolver_unexpected`` is reported for workloads in the analysed namespaces only, one
finding per controlling owner (not per pod). Pods of kube-system and host-network pods are
skipped (system components legitimately use the node's resolver).

CoreDNS log lines are read from ``cluster_facts["coredns_logs"]`` when given (a list of lines,
or a dict pod name -> text); events on the CoreDNS pods are always read.
"""

from __future__ import annotations

import re

from .findings import finding
from .helpers import (
    event_summary,
    latest_first,
    name_of,
    ns_of,
    owner,
    pod_phase,
    pod_ready,
    pod_terminal,
    pod_terminating,
    short_list,
    spec,
)

STEP = 5
REQUIRED_KINDS = ("Pod",)
OPTIONAL_KINDS = ("ConfigMap", "Event", "Service", "Deployment")

DNS_NAMESPACE = "kube-system"
DNS_LABEL = ("k8s-app", "kube-dns")
CUSTOM_CONFIGMAP = "coredns-custom"

# (pattern, label, severity)
ERROR_PATTERNS = (
    (re.compile(r"plugin/loop|loop detected|Loop \(.*\) detected", re.IGNORECASE), "forwarding loop detected", "error"),
    (re.compile(r"SERVFAIL"), "SERVFAIL answers", "warning"),
    (re.compile(r"i/o timeout", re.IGNORECASE), "upstream i/o timeout", "warning"),
    (re.compile(r"no such host|connection refused", re.IGNORECASE), "upstream unreachable", "warning"),
)


def _coredns_pods(index):
    return [p for p in index.with_label("Pod", DNS_NAMESPACE, *DNS_LABEL) if not pod_terminal(p) and not pod_terminating(p)]


def _unavailable(index, pods):
    ready = [p for p in pods if pod_ready(p)]
    if pods and len(ready) == len(pods):
        return None
    deployment = index.get("Deployment", DNS_NAMESPACE, "coredns")
    evidence = {
        "pods": {name_of(p): pod_phase(p) + ("" if pod_ready(p) else ", not ready") for p in pods},
        "ready": len(ready),
        "total": len(pods),
    }
    if deployment:
        dst = deployment.get("status") or {}
        evidence["deployment"] = {"replicas": (deployment.get("spec") or {}).get("replicas"), "readyReplicas": dst.get("readyReplicas", 0)}
    probe_events = []
    for p in pods:
        if not pod_ready(p):
            probe_events += [e for e in index.events_for("Pod", DNS_NAMESPACE, name_of(p)) if e.get("type") == "Warning"]
    if probe_events:
        evidence["events"] = [event_summary(e) for e in latest_first(probe_events)[:5]]
    if not pods:
        text = "No CoreDNS pods (k8s-app=kube-dns) exist in kube-system: in-cluster name resolution fails everywhere."
        severity = "error"
    elif not ready:
        text = f"None of the {len(pods)} CoreDNS pods is ready ({short_list(sorted(evidence['pods']))}): in-cluster name resolution fails."
        severity = "error"
    else:
        unready = sorted(name_of(p) for p in pods if not pod_ready(p))
        text = f"{len(ready)} of {len(pods)} CoreDNS pods are ready; not ready: {short_list(unready)}."
        severity = "warning"
    return finding(
        "dns.coredns_unavailable", severity, STEP, "Deployment", DNS_NAMESPACE, "coredns", text,
        "Check kubectl get pods -n kube-system -l k8s-app=kube-dns -o wide and kubectl logs -n kube-system -l k8s-app=kube-dns --tail=50; "
        "a recent coredns-custom change that broke the Corefile is a common cause (fix it, then kubectl -n kube-system rollout restart deployment coredns).",
        evidence,
    )


def _log_lines(ctx):
    logs = (ctx.cluster_facts or {}).get("coredns_logs")
    if not logs:
        return []
    if isinstance(logs, dict):
        return [(pod, line) for pod, text in logs.items() for line in str(text).splitlines()]
    return [(None, str(line)) for line in logs]


def _errors(index, ctx, pods):
    matches = {}  # label -> {severity, samples, count}
    for pod in pods:
        for event in index.events_for("Pod", DNS_NAMESPACE, name_of(pod)):
            text = event.get("message") or ""
            for pattern, label, severity in ERROR_PATTERNS:
                if pattern.search(text):
                    entry = matches.setdefault(label, {"severity": severity, "samples": [], "count": 0, "sources": set()})
                    entry["count"] += int(event.get("count") or 1)
                    entry["sources"].add("events")
                    if len(entry["samples"]) < 3:
                        entry["samples"].append(f"{name_of(pod)}: {text}")
    for pod_name, line in _log_lines(ctx):
        for pattern, label, severity in ERROR_PATTERNS:
            if pattern.search(line):
                entry = matches.setdefault(label, {"severity": severity, "samples": [], "count": 0, "sources": set()})
                entry["count"] += 1
                entry["sources"].add("logs")
                if len(entry["samples"]) < 3:
                    entry["samples"].append(f"{pod_name + ': ' if pod_name else ''}{line.strip()}")
    out = []
    for label, entry in sorted(matches.items()):
        if label == "forwarding loop detected":
            fix = ("CoreDNS forwards to itself: the node's resolv.conf or a coredns-custom forward points back at the cluster DNS; "
                   "forward to an upstream resolver (e.g. 168.63.129.16) instead and restart CoreDNS.")
        else:
            fix = ("Upstream DNS does not answer: check the forward targets in coredns-custom, the VNet's custom DNS servers, "
                   "and NSGs / firewalls on UDP and TCP 53 from the nodes (step 8).")
        out.append(finding(
            "dns.coredns_errors", entry["severity"], STEP, "Deployment", DNS_NAMESPACE, "coredns",
            f"CoreDNS reports {label} ({entry['count']}x): {entry['samples'][0]}",
            fix,
            {"pattern": label, "count": entry["count"], "samples": entry["samples"], "sources": sorted(entry["sources"])},
        ))
    return out


_KEY = re.compile(r"^[A-Za-z0-9_.-]+\.(server|override)$")


def _fallback_validate(data):
    """Minimal coredns-custom checks used when the Corefile validator (``_kube/corefile.py``) is absent."""
    errors = []
    for key, value in sorted((data or {}).items()):
        text = str(value or "")
        if not _KEY.match(key):
            errors.append(f"key {key!r}: keys of coredns-custom must end in .server (a new server block) or .override (plugins added to the default server)")
        depth = 0
        for char in text:
            depth += char == "{"
            depth -= char == "}"
            if depth < 0:
                break
        if depth != 0:
            errors.append(f"key {key!r}: unbalanced braces in the Corefile snippet")
        if key.endswith(".server") and "{" not in text:
            errors.append(f"key {key!r}: a .server entry needs a server block 'zone:53 {{ ... }}'")
        if re.search(r"(^|\s)cluster\.local(\.)?(:\d+)?\s*\{", text):
            errors.append(f"key {key!r}: must not redefine the cluster.local zone (it breaks in-cluster name resolution)")
    return errors


def _validate_entries(data):
    try:
        from .._kube.corefile import validate_entries  # optional: written with the coredns module
    except ImportError:
        return _fallback_validate(data), "built-in minimal checks"
    return list(validate_entries(data)), "coredns module validator"


def _custom_config(index):
    cm = index.get("ConfigMap", DNS_NAMESPACE, CUSTOM_CONFIGMAP)
    if cm is None:
        return None
    errors, validator = _validate_entries(cm.get("data") or {})
    if not errors:
        return None
    return finding(
        "dns.custom_config_invalid", "error", STEP, "ConfigMap", DNS_NAMESPACE, CUSTOM_CONFIGMAP,
        f"ConfigMap kube-system/coredns-custom has {len(errors)} invalid entr{'y' if len(errors) == 1 else 'ies'}: {errors[0]}",
        "Fix the entries (the aksnet.networking.coredns module validates them before applying), then "
        "kubectl -n kube-system rollout restart deployment coredns; CoreDNS ignores or fails on a broken custom config.",
        {"errors": errors, "keys": sorted((cm.get("data") or {}).keys()), "validator": validator},
    )


def cluster_dns_ip(index, ctx):
    svc = index.get("Service", DNS_NAMESPACE, "kube-dns")
    if svc and (svc.get("spec") or {}).get("clusterIP"):
        return svc["spec"]["clusterIP"]
    return (ctx.cluster_facts or {}).get("dns_service_ip")


def _resolvers(index, ctx):
    dns_ip = cluster_dns_ip(index, ctx)
    groups = {}
    for pod in index.kinds("Pod"):
        ns = ns_of(pod)
        if ns == DNS_NAMESPACE or not ctx.in_scope(ns) or pod_terminal(pod):
            continue
        sp = spec(pod)
        if sp.get("hostNetwork"):
            continue
        policy = sp.get("dnsPolicy") or "ClusterFirst"
        nameservers = list((sp.get("dnsConfig") or {}).get("nameservers") or [])
        if policy == "Default":
            problem, severity = "dnsPolicy Default: uses the node's resolver, so cluster names (*.svc.cluster.local) do not resolve", "warning"
        elif policy == "None" and (not dns_ip or dns_ip not in nameservers):
            problem = f"dnsPolicy None with nameservers {nameservers or '[]'}" + (f", not the cluster DNS {dns_ip}" if dns_ip else "")
            severity = "warning"
        elif policy in ("ClusterFirst", "ClusterFirstWithHostNet") and nameservers:
            problem, severity = f"dnsConfig adds nameservers {nameservers} after the cluster DNS", "info"
        else:
            continue
        okind, oname = owner(pod)
        key = (ns, okind or "Pod", oname or name_of(pod), policy, tuple(nameservers))
        groups.setdefault(key, {"problem": problem, "severity": severity, "pods": []})["pods"].append(name_of(pod))
    out = []
    for (ns, kind, name, policy, nameservers), entry in groups.items():
        pods = sorted(entry["pods"])
        out.append(finding(
            "dns.pod_resolver_unexpected", entry["severity"], STEP, kind, ns, name,
            f"{kind} {ns}/{name} ({len(pods)} pod(s): {short_list(pods, 3)}) resolves names unusually: {entry['problem']}.",
            "Use dnsPolicy ClusterFirst (the default) unless the workload must bypass cluster DNS; with dnsPolicy None list the cluster DNS "
            f"({dns_ip or 'the kube-dns ClusterIP'}) first in dnsConfig.nameservers. Check with kubectl exec <pod> -n {ns} -- cat /etc/resolv.conf.",
            {"dns_policy": policy, "nameservers": list(nameservers), "cluster_dns_ip": dns_ip, "pods": pods[:20], "pod_count": len(pods)},
        ))
    return out


def analyze(index, ctx):
    found = []
    notes = []
    pods = _coredns_pods(index)
    if pods or index.in_namespace("Pod", DNS_NAMESPACE):
        unavailable = _unavailable(index, pods)
        if unavailable:
            found.append(unavailable)
    else:
        notes.append("no kube-system pods in the data: CoreDNS availability not checked")
    found.extend(_errors(index, ctx, pods))
    if index.is_listed("ConfigMap"):
        custom = _custom_config(index)
        if custom:
            found.append(custom)
    else:
        notes.append(f"coredns-custom not checked: ConfigMap not listable ({index.skipped['ConfigMap']})")
    if not index.is_listed("Event"):
        notes.append(f"CoreDNS events not read ({index.skipped['Event']})")
    found.extend(_resolvers(index, ctx))
    return {"checked": len(pods) + 1, "findings": found, "skipped": None, "notes": notes}

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Active probes against the policy analysis, and data-plane truth against both. Pure.

* :func:`policy_verdicts` asks a ``PolicyEvaluator`` about every concluded probe (debug pod ->
  backend pod, debug pod -> kube-dns) and :func:`annotate` adds the verdict to the step 3 findings
  (``evidence.policy``; the message says whether the policy explains the failure). A probe that
  passes where the analysis says the traffic is denied becomes a ``netpol.not_enforced`` /
  ``cilium.not_enforced`` finding carrying the probe and the verdict (:func:`mismatch_findings`).
* :func:`cilium_endpoint_findings`: an endpoint the analysis isolates but whose Cilium agent shows
  policy enforcement disabled for that direction (``cilium.not_enforced``); an unhealthy agent
  (``dataplane.cni_unhealthy``).
* :func:`kube_proxy_findings`: a Service port without its KUBE-SERVICES rule (or IPVS virtual
  server) on a node (``dataplane.kube_proxy_unhealthy``).
* :func:`merge_findings` adds findings to a ``diagnostics`` result (counts, step status, order, causes).
"""

from __future__ import annotations

from .._netpol.evaluate import CILIUM, EGRESS, INGRESS, KUBERNETES, NetpolInputError
from .causes import link_causes
from .checks import refresh as refresh_checks
from .findings import SEVERITIES, finding

POLICY_CHECKS = ("service", "pod", "dns")
DNS_LABELS = {"k8s-app": "kube-dns"}


def result_key(res):
    return (res.get("check"), res.get("namespace"), res.get("name"), res.get("target"), res.get("port"))


def _dns_pod(ev):
    for ep in ev.pods_by_ns.get("kube-system", ()):
        if all(ep.labels.get(k) == v for k, v in DNS_LABELS.items()):
            return ep
    return None


def _destinations(ev, res):
    """(destination spec, port, protocol) the policy analysis is asked about for one probe result."""
    check = res.get("check")
    if check == "pod" and res.get("namespace") and res.get("name") and ev.pod(res["namespace"], res["name"]) is not None:
        return [({"namespace": res["namespace"], "pod": res["name"]}, res.get("port"), "TCP")]
    if check == "service":
        out = []
        for backend in res.get("backends") or []:
            if ev.pod(res.get("namespace"), backend.get("pod")) is not None:
                out.append(({"namespace": res["namespace"], "pod": backend["pod"]}, backend.get("port"), "TCP"))
        return out
    if check == "dns":
        ep = _dns_pod(ev)
        if ep is not None:
            return [({"namespace": ep.namespace, "pod": ep.name}, 53, "UDP")]
    return []


def policy_verdicts(results, ev, source):
    """{result_key: verdict} for concluded service / pod / dns probes; ``source`` is the debug pod ``{namespace, labels}``."""
    verdicts = {}
    for res in results:
        if res.get("check") not in POLICY_CHECKS or res.get("ok") is None:
            continue
        checked = []
        for dest, port, proto in _destinations(ev, res):
            if port is None:
                continue
            try:
                answer = ev.check(source, dest, port, proto)
            except NetpolInputError:
                continue
            checked.append({"destination": f"{dest['namespace']}/{dest['pod']}", "port": port, "protocol": proto,
                            "allowed": bool(answer["allowed"]), "reason": answer["reason"], "deciding": _deciding(answer)})
        if not checked:
            continue
        allowed = any(c["allowed"] for c in checked)  # a Service answers when any backend admits the traffic
        verdicts[result_key(res)] = {"allowed": allowed, "checked": checked, "agrees": allowed == bool(res.get("ok"))}
    return verdicts


def _deciding(answer):
    """The enforcing engine and policies that deny (or admit) the traffic."""
    out = []
    for direction in (EGRESS, INGRESS):
        for engine, detail in (answer.get(direction) or {}).items():
            if not detail.get("applicable", True) or not detail.get("enforced", True):
                continue
            rule = detail.get("denied_by") or detail.get("admitted_by")
            names = [p.get("name") for p in detail.get("policies") or []]
            if detail.get("isolated") or rule:
                out.append({"direction": direction, "engine": engine, "allowed": detail.get("allowed"),
                            "policies": names, "rule": rule})
    return out


def annotate(findings, results, verdicts):
    """Add ``evidence.policy`` (and a sentence) to the step 3 findings of probes that have a verdict."""
    by_target = {}
    for res in results:
        verdict = verdicts.get(result_key(res))
        if verdict is not None and res.get("ok") is False:
            by_target[(res.get("namespace"), res.get("name") or res.get("target"), res.get("target"), res.get("port"))] = verdict
    for f in findings:
        if f.get("step") != 3:
            continue
        ev = f.get("evidence") or {}
        res = f.get("resource") or {}
        verdict = by_target.get((res.get("namespace"), res.get("name"), ev.get("target"), ev.get("port")))
        if verdict is None:
            continue
        ev["policy"] = verdict
        f["evidence"] = ev
        if verdict["allowed"]:
            f["message"] += (" The policy analysis allows this traffic, so a network policy is not the cause: look at the endpoints, "
                             "the CNI and kube-proxy (steps 2 and 7) or NSGs / firewalls (step 8).")
        else:
            blocking = sorted({p for c in verdict["checked"] for d in c["deciding"] if not d["allowed"] for p in d["policies"]})
            f["message"] += f" The policy analysis denies it too ({', '.join(blocking) or 'isolated without an allow rule'}): fix that policy (step 4)."
    return findings


def mismatch_findings(results, verdicts, source):
    """Probes that passed although the policy analysis denies the traffic: the policy is not enforced."""
    out = []
    for res in results:
        verdict = verdicts.get(result_key(res))
        if verdict is None or not res.get("ok") or verdict["allowed"]:
            continue
        engines = sorted({d["engine"] for c in verdict["checked"] for d in c["deciding"] if not d["allowed"]})
        policies = sorted({p for c in verdict["checked"] for d in c["deciding"] if not d["allowed"] for p in d["policies"]})
        code = "cilium.not_enforced" if engines == [CILIUM] else "netpol.not_enforced"
        target = f"{res.get('target')}{':' + str(res['port']) if res.get('port') else ''}"
        out.append(finding(
            code, "error", 4, "Service" if res.get("check") in ("service", "dns") else "Pod", res.get("namespace"), res.get("name"),
            f"The debug pod reached {target} ({res.get('check')} probe: {res.get('detail')}) although the policy analysis denies it "
            f"({', '.join(policies) or 'default deny'}): the policy is not enforced on the data path.",
            "Check that the cluster's network policy engine runs and enforces (network policy azure/calico/cilium; for Cilium policies the "
            "Cilium dataplane): kubectl get pods -n kube-system for the agent, and the agent's endpoint list (cilium_agent: true).",
            {"probe": {k: res.get(k) for k in ("check", "target", "port", "command", "output", "exit_code", "detail")}, "policy": verdict,
             "source": source, "engines": engines},
        ))
    return out


def cilium_endpoint_findings(ev, endpoints, node, agent_pod):
    """``cilium.not_enforced`` for endpoints isolated by the analysis whose agent shows enforcement disabled."""
    out = []
    for item in endpoints or []:
        ep = ev.pod(item["namespace"], item["pod"])
        if ep is None:
            continue
        for direction in (INGRESS, EGRESS):
            policies = [p for engine in (KUBERNETES, CILIUM) if engine in ev.enforce for p in ev.selecting(engine, direction, ep)]
            if not policies or item[direction]:
                continue
            names = sorted({f"{p.kind} {p.name}" for p in policies})
            out.append(finding(
                "cilium.not_enforced", "error", 4, "Pod", item["namespace"], item["pod"],
                f"Pod {item['namespace']}/{item['pod']} is isolated for {direction} by {', '.join(names)}, but the Cilium agent on {node} shows "
                f"{direction} policy enforcement disabled for its endpoint {item.get('id')} (policy-enabled: {item['policy_enabled']}).",
                f"The agent has not applied the policies: kubectl -n kube-system exec {agent_pod} -- cilium-dbg endpoint get {item.get('id')}; "
                "check the agent's logs for policy import errors, then restart the agent pod on that node.",
                {"node": node, "agent_pod": agent_pod, "endpoint": item, "direction": direction, "policies": names},
            ))
    return out


def cilium_status_finding(node, agent_pod, healthy, detail, output):
    if healthy:
        return None
    return finding(
        "dataplane.cni_unhealthy", "error", 7, "Pod", "kube-system", agent_pod,
        f"The Cilium agent {agent_pod} on {node} reports unhealthy: {detail}.",
        f"kubectl -n kube-system logs {agent_pod}; kubectl -n kube-system exec {agent_pod} -- cilium-dbg status --verbose; "
        "restart the agent pod, and reimage the node if it stays unhealthy.",
        {"node": node, "status": output},
    )


def kube_proxy_findings(node, checks):
    """``checks``: [{namespace, name, cluster_ip, port, protocol, found, mode}] from one node's iptables/IPVS."""
    out = []
    for chk in checks:
        if chk.get("found") or chk.get("mode") == "none":
            continue
        where = "KUBE-SERVICES chain" if chk.get("mode") == "iptables" else "IPVS virtual servers"
        out.append(finding(
            "dataplane.kube_proxy_unhealthy", "error", 7, "Service", chk["namespace"], chk["name"],
            f"Node {node} has no {where} entry for Service {chk['namespace']}/{chk['name']} ({chk['cluster_ip']}:{chk['port']}/{chk['protocol']}): "
            "traffic to the ClusterIP from that node is not forwarded.",
            f"kube-proxy on {node} is not syncing: kubectl -n kube-system logs -l component=kube-proxy --tail=50 (the pod on {node}); "
            "restart that kube-proxy pod; a node reimage restores a broken node.",
            {"node": node, "cluster_ip": chk["cluster_ip"], "port": chk["port"], "protocol": chk["protocol"], "mode": chk.get("mode"),
             "command": chk.get("command")},
        ))
    return out


_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def merge_findings(diagnostics, extra):
    """Add ``extra`` findings to a ``run_diagnostics`` result: re-sorted, counted, failing steps marked failed."""
    if not extra:
        return diagnostics
    findings = list(diagnostics.get("findings") or []) + list(extra)
    findings.sort(key=lambda f: (_RANK.get(f.get("severity"), 9), f.get("step") or 0, (f.get("resource") or {}).get("namespace") or "",
                                 (f.get("resource") or {}).get("name") or "", f.get("code") or ""))
    diagnostics["findings"] = findings
    diagnostics["causes"] = link_causes(findings)  # positions changed, and new findings may follow from old ones
    summary = diagnostics.setdefault("summary", {})
    for sev, key in (("error", "errors"), ("warning", "warnings"), ("info", "infos")):
        summary[key] = sum(1 for f in findings if f.get("severity") == sev)
    failing = {f.get("step") for f in extra if f.get("severity") == "error"}
    for step in diagnostics.get("steps") or []:
        if step.get("step") in failing and step.get("status") != "failed":
            step["status"] = "failed"
            step["reason"] = (step.get("reason") + "; " if step.get("reason") else "") + "failed by active / data-plane checks"
        if step.get("step") in failing:
            summary.setdefault("steps", {})[str(step["step"])] = "failed"
    return refresh_checks(diagnostics)

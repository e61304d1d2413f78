# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 1 of the field guide: are the pods running and ready? Pure.

Per pod at most one of ``pod.sandbox_failed``, ``pod.crash_looping``, ``pod.not_running``,
``pod.not_ready`` (the most specific cause wins, in that order); ``pod.not_listening`` comes only
from active probe results (``listening`` checks, see engine.py).
"""

from __future__ import annotations

import re

from .._common.memory import gc_paused
from .findings import finding
from .helpers import (
    condition,
    container_statuses,
    containers,
    event_summary,
    latest_first,
    name_of,
    ns_of,
    owner,
    pod_phase,
    pod_ready,
    pod_terminating,
    short_list,
    spec,
    status,
)

STEP = 1
REQUIRED_KINDS = ("Pod",)
OPTIONAL_KINDS = ("Event",)

RESTART_WARN = 5  # restarts of a container that make a still-ready pod worth a warning

_IP_EXHAUSTION = re.compile(
    r"no (?:more )?(?:available )?IPs?(?: addresses)? available|OutOfIPs?|failed to allocate (?:IP|address)|"
    r"IP pool (?:is )?exhausted|subnet (?:is )?full|SubnetIsFull|no IP addresses",
    re.IGNORECASE,
)
_CNI = re.compile(r"\bCNI\b|plugin type=|networkPlugin|azure-vnet|cilium|calico|failed to set up .*network", re.IGNORECASE)


def _kubectl_describe(ns, name):
    return f"kubectl describe pod {name} -n {ns}"


def _sandbox_failure(index, pod):
    events = [e for e in index.events_for("Pod", ns_of(pod), name_of(pod)) if e.get("reason") == "FailedCreatePodSandBox"]
    if not events:
        return None
    latest = latest_first(events)[0]
    message = latest.get("message") or latest.get("note") or ""
    if _IP_EXHAUSTION.search(message):
        cause = "ip_exhaustion"
    elif _CNI.search(message):
        cause = "cni_error"
    else:
        cause = "other"
    return cause, latest, sum(int(e.get("count") or 1) for e in events)


def _waiting_or_terminated(pod):
    """The first container problem: ``(container, state, reason, detail)`` or None."""
    for cs in container_statuses(pod):
        state = cs.get("state") or {}
        if state.get("waiting"):
            w = state["waiting"]
            return cs.get("name"), "waiting", w.get("reason") or "Waiting", w.get("message") or ""
        if state.get("terminated") and (state["terminated"].get("exitCode") or 0) != 0:
            t = state["terminated"]
            return cs.get("name"), "terminated", t.get("reason") or "Error", f"exit code {t.get('exitCode')}"
    return None


def _crash_loop(pod):
    """``(container, restarts, last_reason, exit_code, backoff)`` of the worst restarting container."""
    worst = None
    for cs in container_statuses(pod):
        restarts = int(cs.get("restartCount") or 0)
        waiting = (cs.get("state") or {}).get("waiting") or {}
        backoff = waiting.get("reason") == "CrashLoopBackOff"
        if not backoff and restarts < RESTART_WARN:
            continue
        last = (cs.get("lastState") or {}).get("terminated") or {}
        item = (cs.get("name"), restarts, last.get("reason"), last.get("exitCode"), backoff, bool(cs.get("ready")))
        if worst is None or (backoff, restarts) > (worst[4], worst[1]):
            worst = item
    return worst


def _readiness_probe(pod, container_names):
    probes = {}
    for c in containers(pod):
        if c.get("name") in container_names and c.get("readinessProbe"):
            probe = c["readinessProbe"]
            kind = next((k for k in ("httpGet", "tcpSocket", "grpc", "exec") if k in probe), None)
            probes[c["name"]] = {"type": kind, **({k: v for k, v in (probe.get(kind) or {}).items() if k in ("path", "port", "scheme")} if kind else {})}
    return probes


def _pod_result(index, pod):
    ns, name = ns_of(pod), name_of(pod)
    phase = pod_phase(pod)
    owner_kind, owner_name = owner(pod)
    base_evidence = {"phase": phase, "node": spec(pod).get("nodeName"), "owner": f"{owner_kind}/{owner_name}" if owner_kind else None}

    if phase == "Succeeded":
        return None

    if phase != "Running":
        sandbox = _sandbox_failure(index, pod)
        if sandbox:
            cause, event, count = sandbox
            if cause == "ip_exhaustion":
                what = "the node's pod subnet has no free IP address"
                fix = (
                    "Free or add pod IPs: check subnet usage (az network vnet subnet show ... --query ipConfigurations), "
                    "enlarge the pod subnet or lower max_pods, or move to Azure CNI Overlay; step 8 (azure.subnet_exhausted) confirms it."
                )
            elif cause == "cni_error":
                what = "the CNI plugin failed to set up the pod network"
                fix = "Check the CNI pods on that node (kubectl -n kube-system get pods -o wide | grep -E 'azure-cns|cilium|calico') and step 7."
            else:
                what = "the pod sandbox could not be created"
                fix = f"Read the event in full ({_kubectl_describe(ns, name)}) and the kubelet log of the node."
            return finding(
                "pod.sandbox_failed", "error", STEP, "Pod", ns, name,
                f"Pod {ns}/{name} cannot start: {what} (FailedCreatePodSandBox x{count}): {event.get('message') or ''}".strip(),
                fix,
                dict(base_evidence, cause=cause, event=event_summary(event), failures=count),
            )

    crash = _crash_loop(pod)
    if crash and (crash[4] or not crash[5]):
        cname, restarts, last_reason, exit_code, backoff, _ready = crash
        last = f", last exit {last_reason or 'Error'} (code {exit_code})" if exit_code is not None else ""
        return finding(
            "pod.crash_looping", "error", STEP, "Pod", ns, name,
            f"Pod {ns}/{name} container {cname} is crash looping: {restarts} restarts{last}{' - in CrashLoopBackOff' if backoff else ''}.",
            f"Read the previous container log: kubectl logs {name} -n {ns} -c {cname} --previous; "
            "fix the crash (OOMKilled: raise the memory limit; exit code 1: application error or bad configuration).",
            dict(base_evidence, container=cname, restarts=restarts, last_termination_reason=last_reason, exit_code=exit_code, crash_loop_backoff=backoff),
        )

    if phase != "Running":
        problem = _waiting_or_terminated(pod)
        scheduled = condition(pod, "PodScheduled")
        evidence = dict(base_evidence)
        if scheduled and str(scheduled.get("status")) == "False":
            reason = scheduled.get("reason") or "Unschedulable"
            detail = scheduled.get("message") or ""
            evidence.update(reason=reason, detail=detail)
            text = f"Pod {ns}/{name} is {phase}: not scheduled ({reason}) {detail}".strip()
            fix = f"Make room or fix the constraints (node selector, taints, resources): {_kubectl_describe(ns, name)}."
        elif problem:
            cname, state, reason, detail = problem
            evidence.update(container=cname, state=state, reason=reason, detail=detail)
            text = f"Pod {ns}/{name} is {phase}: container {cname} {state} with {reason}{': ' + detail if detail else ''}."
            fix = {
                "ImagePullBackOff": "Check the image name and tag and the registry credentials (imagePullSecrets or the cluster's ACR attachment).",
                "ErrImagePull": "Check the image name and tag and the registry credentials (imagePullSecrets or the cluster's ACR attachment).",
                "CreateContainerConfigError": "A referenced ConfigMap or Secret (or a key in it) is missing: create it or fix the reference.",
            }.get(reason, f"See why the container does not start: {_kubectl_describe(ns, name)}.")
        else:
            reason = status(pod).get("reason") or phase
            evidence.update(reason=reason, detail=status(pod).get("message") or "")
            text = f"Pod {ns}/{name} is {phase}{f' ({reason})' if reason != phase else ''}{': ' + evidence['detail'] if evidence['detail'] else ''}."
            fix = f"See the pod's events and conditions: {_kubectl_describe(ns, name)}."
        severity = "warning" if phase == "Failed" and owner_kind == "Job" else "error"
        return finding("pod.not_running", severity, STEP, "Pod", ns, name, text, fix, evidence)

    if not pod_ready(pod):
        unready = [cs.get("name") for cs in container_statuses(pod, include_init=False) if not cs.get("ready")]
        events = [
            e for e in index.events_for("Pod", ns, name)
            if e.get("reason") == "Unhealthy" and "readiness" in (e.get("message") or "").lower()
        ]
        evidence = dict(base_evidence, containers_not_ready=unready, readiness_probes=_readiness_probe(pod, unready))
        text = f"Pod {ns}/{name} is Running but not Ready"
        if unready:
            text += f" (containers not ready: {short_list(unready)})"
        if events:
            latest = latest_first(events)[0]
            evidence["readiness_event"] = event_summary(latest)
            text += f": {latest.get('message')}"
            fix = "The readiness probe fails: check that the probe's port and path match what the application serves and that it is healthy; " \
                  "Services send no traffic to a pod until it is Ready."
        else:
            cond = condition(pod, "Ready") or {}
            if cond.get("reason"):
                text += f" ({cond.get('reason')})"
                evidence["ready_condition"] = {"reason": cond.get("reason"), "message": cond.get("message")}
            fix = f"Find out why it is not ready: {_kubectl_describe(ns, name)}; Services send no traffic to it until it is Ready."
        return finding("pod.not_ready", "error", STEP, "Pod", ns, name, text.rstrip(".") + ".", fix, evidence)

    if crash:
        cname, restarts, last_reason, exit_code, _backoff, _ready = crash
        return finding(
            "pod.crash_looping", "warning", STEP, "Pod", ns, name,
            f"Pod {ns}/{name} is Ready but container {cname} has restarted {restarts} times"
            f" (last exit {last_reason or 'unknown'}, code {exit_code}).",
            f"Read the previous container log: kubectl logs {name} -n {ns} -c {cname} --previous.",
            dict(base_evidence, container=cname, restarts=restarts, last_termination_reason=last_reason, exit_code=exit_code, crash_loop_backoff=False),
        )
    return None


def _listening_findings(ctx):
    """``pod.not_listening`` from probe results of check ``listening`` (see engine.py for the format)."""
    out = []
    for res in ctx.probe_results or []:
        if res.get("check") != "listening" or res.get("ok", True):
            continue
        ns, name = res.get("namespace"), res.get("name")
        if not ctx.in_scope(ns):
            continue
        port = res.get("port")
        proto = (res.get("protocol") or "TCP").upper()
        out.append(finding(
            "pod.not_listening", "error", STEP, "Pod", ns, name,
            f"Pod {ns}/{name} does not listen on {port}/{proto}{': ' + res['detail'] if res.get('detail') else ''}.",
            f"Check the application's listen address and port (kubectl exec {name} -n {ns} -- ss -tlnp); "
            "it must listen on 0.0.0.0 or the pod IP, not 127.0.0.1, on the port the Service targets.",
            {"port": port, "protocol": proto, "detail": res.get("detail"), "listening": res.get("listening")},
        ))
    return out


def _analyze(index, ctx):
    found = []
    checked = 0
    for pod in index.kinds("Pod"):
        if not ctx.in_scope(ns_of(pod)) or pod_terminating(pod):
            continue
        checked += 1
        result = _pod_result(index, pod)
        if result:
            found.append(result)
    found.extend(_listening_findings(ctx))
    return {"checked": checked, "findings": found, "skipped": None}


def analyze(index, ctx):
    """Run step 1 on an ``Index``; returns ``{checked, findings, skipped, ...}``."""
    with gc_paused():
        return _analyze(index, ctx)

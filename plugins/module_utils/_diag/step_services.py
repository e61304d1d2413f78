# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 2 of the field guide: do the Services select pods and have ready endpoints? Pure.

Endpoints come from EndpointSlices (label ``kubernetes.io/service-name``); v1 Endpoints are read
only when the data holds no EndpointSlice at all. ExternalName and headless Services are not
checked (no proxying, no endpoints to compare); Services without a selector are checked for
manually managed endpoints only. When a selector matches no pod, ``service.selector_mismatch``
is reported instead of ``service.no_endpoints`` (the cause, not the symptom).
"""

from __future__ import annotations

from .._common.memory import gc_paused
from .findings import finding
from .helpers import (
    annotations_of,
    container_ports,
    endpoint_source,
    event_summary,
    is_headless,
    labels_of,
    latest_first,
    name_of,
    ns_of,
    pod_phase,
    pod_ready,
    selected_pods,
    service_endpoints,
    short_list,
    spec,
    status,
)

STEP = 2
REQUIRED_KINDS = ("Service", "Pod")
OPTIONAL_KINDS = ("EndpointSlice", "Endpoints", "Event")

CLOSEST = 3  # pods named as closest matches of a selector that matches nothing


def closest_pods(index, namespace, selector, limit=CLOSEST):
    """Pods of the namespace sharing the most selector labels: ``[{pod, matching, differs}]``.

    Uses the label index: only pods carrying one of the selector's keys are scored.
    """
    scores = {}
    pods = {}
    for key, value in selector.items():
        for pod in index.with_label("Pod", namespace, key):
            pname = name_of(pod)
            pods[pname] = pod
            scores[pname] = scores.get(pname, 0) + (2 if labels_of(pod).get(key) == str(value) else 1)
    ranked = sorted(scores, key=lambda n: (-scores[n], n))[:limit]
    result = []
    for pname in ranked:
        labels = labels_of(pods[pname])
        differs = {k: {"selector": str(v), "pod": labels.get(k)} for k, v in selector.items() if labels.get(k) != str(v)}
        result.append({"pod": pname, "matching": len(selector) - len(differs), "differs": differs})
    return result


def _selector_text(selector):
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def _selector_mismatch(index, svc):
    ns, name = ns_of(svc), name_of(svc)
    selector = spec(svc).get("selector") or {}
    closest = closest_pods(index, ns, selector)
    terminal = [name_of(p) for p in index.select("Pod", ns, selector)]
    if closest:
        parts = []
        for c in closest:
            diff = ", ".join(f"{k}={d['pod'] if d['pod'] is not None else '<unset>'} (selector wants {d['selector']})" for k, d in sorted(c["differs"].items()))
            parts.append(f"{c['pod']}: {diff}")
        detail = "; closest pods: " + "; ".join(parts)
    else:
        detail = f"; no pod in {ns} carries any of the selector's label keys"
    if terminal:
        detail += f"; only finished pods match ({short_list(terminal)})"
    return finding(
        "service.selector_mismatch", "error", STEP, "Service", ns, name,
        f"Service {ns}/{name} selector {_selector_text(selector)} matches no running pod{detail}.",
        f"Make the selector and the pod template labels agree: compare kubectl get service {name} -n {ns} -o jsonpath='{{.spec.selector}}' "
        f"with kubectl get pods -n {ns} --show-labels, then fix the Service selector or the workload's labels.",
        {"selector": dict(selector), "closest_pods": closest, "finished_pods_matching": terminal},
    )


def _target_port_findings(svc, pods):
    ns, name = ns_of(svc), name_of(svc)
    out = []
    pod_ports = None
    for sp in spec(svc).get("ports") or []:
        target = sp.get("targetPort", sp.get("port"))
        proto = (sp.get("protocol") or "TCP").upper()
        named = isinstance(target, str) and not target.isdigit()
        lacking, undeclared, other_proto = [], 0, False
        declared_example = None
        number = None
        if pod_ports is None:
            pod_ports = [(pod, container_ports(pod)) for pod in pods]
        for pod, ports in pod_ports:
            ok = False
            if named:
                for pn, _num, pp in ports:
                    if pn == target:
                        other_proto = True  # the name is declared (with this protocol or another)
                        if pp == proto:
                            ok = True
                            break
            else:
                if not ports:
                    undeclared += 1
                    continue
                if number is None:
                    number = int(target)
                for _pn, num, pp in ports:
                    if num == number:
                        other_proto = True
                        if pp == proto:
                            ok = True
                            break
            if not ok:
                lacking.append(name_of(pod))
                if declared_example is None:
                    declared_example = [f"{pn + '=' if pn else ''}{num}/{pp}" for pn, num, pp in ports]
        if not lacking:
            continue
        port_label = f"port {sp.get('name') + ' ' if sp.get('name') else ''}{sp.get('port')}/{proto}"
        why = f"named port {target!r}" if named else f"port {target}/{proto}"
        if other_proto:
            why += f" (declared, but not with protocol {proto})"
        message = (
            f"Service {ns}/{name} {port_label} targets {why}, which {plural_pods(len(lacking), len(pods))} do not expose "
            f"({short_list(lacking)}; declared: {', '.join(declared_example or []) or 'none'})."
        )
        if named:
            severity = "error"
            fix = f"Name a container port {target!r} ({proto}) in the pod template or set the Service targetPort to the number the container listens on."
        else:
            severity = "warning"
            fix = (
                f"Set targetPort to the port the container listens on (kubectl get service {name} -n {ns} -o jsonpath='{{.spec.ports[*]}}'), "
                "or declare the port in the container spec if the application does listen on it."
            )
        out.append(finding(
            "service.target_port_mismatch", severity, STEP, "Service", ns, name, message, fix,
            {"port": sp.get("port"), "port_name": sp.get("name"), "target_port": target, "protocol": proto,
             "pods_lacking": lacking[:20], "pods_lacking_count": len(lacking), "pods_checked": len(pods),
             "pods_without_declared_ports": undeclared, "declared_ports": declared_example or []},
        ))
    return out


def plural_pods(lacking, total):
    return f"all {total} selected pods" if lacking == total else f"{lacking} of {total} selected pods"


def _endpoint_findings(svc, pods, eps):
    ns, name = ns_of(svc), name_of(svc)
    ready, not_ready = eps["ready"], eps["not_ready"]
    source = eps["source"]
    if not ready and not not_ready:
        states = {name_of(p): (pod_phase(p) + ("" if pod_ready(p) else ", not ready")) for p in pods}
        return [finding(
            "service.no_endpoints", "error", STEP, "Service", ns, name,
            f"Service {ns}/{name} has no endpoints although its selector matches {len(pods)} pod(s) "
            f"({short_list(f'{k} ({v})' for k, v in sorted(states.items()))}).",
            f"Pods get endpoints once they have an IP and are Ready: fix the pods (step 1), then check "
            f"kubectl get endpointslices -n {ns} -l kubernetes.io/service-name={name}.",
            {"source": source, "selected_pods": dict(sorted(states.items())[:20]), "selected_count": len(pods)},
        )]
    if not not_ready:
        return []
    severity = "error" if not ready else "warning"
    return [finding(
        "service.not_ready_endpoints", severity, STEP, "Service", ns, name,
        f"Service {ns}/{name} has {len(not_ready)} not-ready endpoint(s) ({short_list(sorted(not_ready))}) and {len(ready)} ready"
        + ("; it serves no traffic." if not ready else "."),
        f"Fix readiness of the listed pods (step 1: kubectl describe pod <pod> -n {ns}); traffic goes only to ready endpoints.",
        {"source": source, "ready": sorted(ready)[:20], "not_ready": sorted(not_ready)[:20], "ready_count": len(ready), "not_ready_count": len(not_ready)},
    )]


def _lb_pending(index, svc):
    ns, name = ns_of(svc), name_of(svc)
    if (status(svc).get("loadBalancer") or {}).get("ingress"):
        return None
    events = [e for e in index.events_for("Service", ns, name) if e.get("type") == "Warning"]
    azure = {k: v for k, v in annotations_of(svc).items() if k.startswith("service.beta.kubernetes.io/azure")}
    evidence = {"annotations": azure, "load_balancer_ip": spec(svc).get("loadBalancerIP"), "events": [event_summary(e) for e in latest_first(events)[:5]]}
    text = f"Service {ns}/{name} of type LoadBalancer has no external address yet"
    if events:
        latest = latest_first(events)[0]
        text += f": {latest.get('reason')}: {latest.get('message')}"
    return finding(
        "service.lb_pending", "error", STEP, "Service", ns, name, text.rstrip(".") + ".",
        f"Read the cloud provider's events (kubectl describe service {name} -n {ns}): a static IP must exist in the node resource group "
        "or in the group named by service.beta.kubernetes.io/azure-load-balancer-resource-group, with the cluster identity allowed to use it "
        "(Network Contributor); an internal LB needs free IPs in its subnet. Step 8 checks the Azure side.",
        evidence,
    )


def _analyze(index, ctx):
    found = []
    checked = 0
    source = endpoint_source(index)
    notes = []
    if source is None:
        notes.append("no EndpointSlice or Endpoints objects in the data: endpoint checks not run")
    elif source == "Endpoints":
        notes.append("no EndpointSlices in the data: v1 Endpoints used")
    for svc in index.kinds("Service"):
        ns = ns_of(svc)
        if not ctx.in_scope(ns):
            continue
        sp = spec(svc)
        stype = sp.get("type") or "ClusterIP"
        if stype == "ExternalName":
            continue
        checked += 1
        if stype == "LoadBalancer":
            pending = _lb_pending(index, svc)
            if pending:
                found.append(pending)
        if is_headless(svc):
            continue
        if not sp.get("selector"):
            if source is not None:
                eps = service_endpoints(index, ns, name_of(svc), source)
                if not eps["ready"] and not eps["not_ready"]:
                    found.append(finding(
                        "service.no_endpoints", "warning", STEP, "Service", ns, name_of(svc),
                        f"Service {ns}/{name_of(svc)} has no selector and no manually managed endpoints.",
                        f"Create an EndpointSlice labelled kubernetes.io/service-name={name_of(svc)} (or an Endpoints object) "
                        "with the backend addresses, or add a selector.",
                        {"source": source, "selector": None},
                    ))
            continue
        pods = selected_pods(index, svc)
        if not pods:
            found.append(_selector_mismatch(index, svc))
            continue
        if source is not None:
            found.extend(_endpoint_findings(svc, pods, service_endpoints(index, ns, name_of(svc), source)))
        found.extend(_target_port_findings(svc, pods))
    return {"checked": checked, "findings": found, "skipped": None, "notes": notes}


def analyze(index, ctx):
    """Run step 2 on an ``Index``; returns ``{checked, findings, skipped, ...}``."""
    with gc_paused():
        return _analyze(index, ctx)

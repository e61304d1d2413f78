# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small readers of Kubernetes objects shared by the analyzers. Pure."""

from __future__ import annotations

TERMINAL_PHASES = ("Succeeded", "Failed")
LIST_LIMIT = 5  # how many names a message lists before "and N more"


def meta(obj):
    return obj.get("metadata") or {}


def name_of(obj):
    return meta(obj).get("name")


def ns_of(obj):
    return meta(obj).get("namespace")


def labels_of(obj):
    return meta(obj).get("labels") or {}


def annotations_of(obj):
    return meta(obj).get("annotations") or {}


def spec(obj):
    return obj.get("spec") or {}


def status(obj):
    return obj.get("status") or {}


def condition(obj, ctype):
    """The status condition of that type, or None."""
    for cond in status(obj).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def pod_phase(pod):
    return status(pod).get("phase") or "Unknown"


def pod_terminal(pod):
    return pod_phase(pod) in TERMINAL_PHASES


def pod_terminating(pod):
    return bool(meta(pod).get("deletionTimestamp"))


def pod_ready(pod):
    cond = condition(pod, "Ready")
    return bool(cond) and str(cond.get("status")) == "True"


def container_statuses(pod, include_init=True):
    st = status(pod)
    result = list(st.get("containerStatuses") or [])
    if include_init:
        result = list(st.get("initContainerStatuses") or []) + result
    return result


def containers(pod):
    return list(spec(pod).get("containers") or [])


def owner(obj):
    """``(kind, name)`` of the controlling owner, or ``(None, None)``."""
    refs = meta(obj).get("ownerReferences") or []
    for ref in refs:
        if ref.get("controller"):
            return ref.get("kind"), ref.get("name")
    if refs:
        return refs[0].get("kind"), refs[0].get("name")
    return None, None


def event_time(event):
    """Sort key of an event: its latest timestamp as an ISO string ('' when none)."""
    series = event.get("series") or {}
    return (
        event.get("lastTimestamp")
        or series.get("lastObservedTime")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or meta(event).get("creationTimestamp")
        or ""
    )


def event_count(event):
    series = event.get("series") or {}
    return int(event.get("count") or series.get("count") or 1)


def event_message(event):
    return event.get("message") or event.get("note") or ""


def event_summary(event):
    return {
        "reason": event.get("reason"),
        "type": event.get("type"),
        "message": event_message(event),
        "count": event_count(event),
        "last_seen": event_time(event) or None,
    }


def latest_first(events):
    return sorted(events, key=event_time, reverse=True)


def short_list(names, limit=LIST_LIMIT):
    """'a, b, c and 4 more' for messages."""
    names = list(names)
    if len(names) <= limit:
        return ", ".join(str(n) for n in names)
    return ", ".join(str(n) for n in names[:limit]) + f" and {len(names) - limit} more"


def plural(count, word, many=None):
    return f"{count} {word if count == 1 else (many or word + 's')}"


def container_ports(pod):
    """Every declared container port of a pod: list of ``(name, number, protocol)``."""
    ports = []
    for container in containers(pod):
        for port in container.get("ports") or []:
            ports.append((port.get("name"), port.get("containerPort"), (port.get("protocol") or "TCP").upper()))
    return ports


def endpoint_source(index):
    """Which kind describes service endpoints: EndpointSlice, Endpoints (fallback) or None (no data)."""
    if index.kinds("EndpointSlice"):
        return "EndpointSlice"
    if index.kinds("Endpoints"):
        return "Endpoints"
    return None


def service_endpoints(index, namespace, name, source):
    """Endpoints of a Service: ``{source, ready: [..], not_ready: [..], ports: [..]}``.

    Entries are the target Pod names (or addresses when an endpoint has no targetRef).
    EndpointSlice endpoints with ``conditions.ready`` unset count as ready (API semantics);
    terminating endpoints are ignored.
    """
    ready, not_ready, ports = [], [], []
    if source == "EndpointSlice":
        for eps in index.endpoint_slices_for(namespace, name):
            for port in eps.get("ports") or []:
                ports.append({"name": port.get("name"), "port": port.get("port"), "protocol": port.get("protocol") or "TCP"})
            for ep in eps.get("endpoints") or []:
                cond = ep.get("conditions") or {}
                if cond.get("terminating") is True and cond.get("ready") is not True:
                    continue
                label = (ep.get("targetRef") or {}).get("name") or ",".join(ep.get("addresses") or [])
                (not_ready if cond.get("ready") is False else ready).append(label)
    elif source == "Endpoints":
        obj = index.get("Endpoints", namespace, name)
        for subset in (obj or {}).get("subsets") or []:
            for port in subset.get("ports") or []:
                ports.append({"name": port.get("name"), "port": port.get("port"), "protocol": port.get("protocol") or "TCP"})
            for addr in subset.get("addresses") or []:
                ready.append((addr.get("targetRef") or {}).get("name") or addr.get("ip"))
            for addr in subset.get("notReadyAddresses") or []:
                not_ready.append((addr.get("targetRef") or {}).get("name") or addr.get("ip"))
    return {"source": source, "ready": ready, "not_ready": not_ready, "ports": ports}


def service_selects_pods(svc):
    """True for Services whose endpoints the control plane computes from a selector."""
    sp = spec(svc)
    return bool(sp.get("selector")) and sp.get("type") != "ExternalName"


def is_headless(svc):
    return spec(svc).get("clusterIP") == "None"


def selected_pods(index, svc):
    """Non-terminal pods a Service's selector matches (what the endpoint controller considers)."""
    return [p for p in index.select("Pod", ns_of(svc), spec(svc).get("selector") or {}) if not pod_terminal(p)]

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 3 of the field guide: in-cluster connectivity, from active probe results. Pure.

The checks themselves run elsewhere (the ``probe`` module's debug pod); this step turns their
results into findings. Each probe result is a dict::

    {check: dns | service | pod | egress | listening, ok: bool,
     namespace, name,          # the probed object (Service, Pod) or the name looked up
     target, port, protocol,   # what was contacted (host:port, IP, URL)
     detail}                   # the tool's output or error, shown in the message

``listening`` results belong to step 1 (``pod.not_listening``) and are ignored here.
Without probe results the step is skipped (never passed).
"""

from __future__ import annotations

from .findings import finding

STEP = 3
REQUIRED_KINDS = ()

CODES = {
    "dns": ("connectivity.dns_failed", "Service", "Name resolution of {target} failed",
            "Check CoreDNS (step 5) and egress policies to kube-dns on UDP/TCP 53 (step 4); from the debug pod: nslookup {target}."),
    "service": ("connectivity.service_unreachable", "Service", "Service {ns}/{name} is not reachable at {target}",
                "If the pods answer directly but the Service does not, fix the Service / endpoints (step 2) or kube-proxy (step 7); "
                "otherwise check network policies (step 4)."),
    "pod": ("connectivity.pod_unreachable", "Pod", "Pod {ns}/{name} is not reachable at {target}",
            "Check the pod listens on the port (step 1), network policies (step 4) and the CNI on both nodes (step 7)."),
    "egress": ("connectivity.egress_failed", "Egress", "Egress to {target} failed",
               "Check egress network policies (step 4), the cluster's outbound type (load balancer SNAT ports, NAT gateway, UDR to a firewall) "
               "and NSG rules (step 8)."),
}


def analyze(index, ctx):
    results = ctx.probe_results
    if results is None:
        return {"checked": 0, "findings": [], "skipped": "active probes not requested (active: true runs them from a short-lived debug pod)"}
    found = []
    checked = 0
    for res in results:
        check = res.get("check")
        if check not in CODES:
            continue
        ns = res.get("namespace")
        if not ctx.in_scope(ns):
            continue
        checked += 1
        if res.get("ok", False):
            continue
        code, kind, text, fix = CODES[check]
        port = f":{res['port']}" if res.get("port") else ""
        values = {"ns": ns, "name": res.get("name"), "target": f"{res.get('target') or res.get('name')}{port}"}
        message = text.format(**values)
        if res.get("detail"):
            message += f": {res['detail']}"
        found.append(finding(
            code, "error", STEP, kind, ns, res.get("name") or res.get("target"), message + ".", fix.format(**values),
            {k: res.get(k) for k in ("check", "target", "port", "protocol", "detail", "source")},
        ))
    return {"checked": checked, "findings": found, "skipped": None}

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builders of Kubernetes objects (as a snapshot holds them) for the diagnostics tests."""

from __future__ import annotations

from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics


def namespace(name, labels=None):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(labels or {})}}


def pod(name, ns="default", labels=None, phase="Running", ready=True, ports=None, node="aks-node-0", owner=None,
        statuses=None, conditions=None, dns_policy=None, dns_config=None, host_network=False, readiness_probe=None, ip="10.244.0.10"):
    """A pod; ``ports``: list of (name, number, protocol); ``statuses``: containerStatuses to use."""
    container = {"name": "app", "image": "app:1"}
    if ports:
        container["ports"] = [dict({"containerPort": num, "protocol": proto}, **({"name": pname} if pname else {})) for pname, num, proto in ports]
    if readiness_probe:
        container["readinessProbe"] = readiness_probe
    spec = {"containers": [container], "nodeName": node}
    if dns_policy:
        spec["dnsPolicy"] = dns_policy
    if dns_config:
        spec["dnsConfig"] = dns_config
    if host_network:
        spec["hostNetwork"] = True
    meta = {"name": name, "namespace": ns, "labels": dict(labels or {})}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    if statuses is None:
        statuses = [{"name": "app", "ready": ready and phase == "Running", "restartCount": 0,
                     "state": {"running": {}} if phase == "Running" else {"waiting": {"reason": "ContainerCreating"}}}]
    if conditions is None:
        conditions = [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True" if ready and phase == "Running" else "False"}]
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
        "status": {"phase": phase, "conditions": conditions, "containerStatuses": statuses, "podIP": ip if phase == "Running" else None},
    }


def service(name, ns="default", selector=None, ports=((80, 8080, "TCP", "http"),), type_="ClusterIP", cluster_ip="10.0.0.10",
            lb_ingress=None, annotations=None):
    """A Service; ``ports``: (port, targetPort, protocol, name)."""
    spec = {"type": type_, "clusterIP": cluster_ip,
            "ports": [dict({"port": p, "targetPort": t, "protocol": proto}, **({"name": n} if n else {})) for p, t, proto, n in ports]}
    if selector is not None:
        spec["selector"] = dict(selector)
    status = {"loadBalancer": {"ingress": lb_ingress} if lb_ingress else {}}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns, "annotations": dict(annotations or {})},
            "spec": spec, "status": status}


def endpoint_slice(svc_name, ns="default", endpoints=(), port=8080, suffix="abc12"):
    """An EndpointSlice; ``endpoints``: (pod_name, ready) pairs (ready None: condition unset)."""
    eps = []
    for i, (pname, ready) in enumerate(endpoints):
        cond = {} if ready is None else {"ready": ready}
        eps.append({"addresses": [f"10.244.0.{i + 20}"], "conditions": cond, "targetRef": {"kind": "Pod", "name": pname, "namespace": ns}})
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{svc_name}-{suffix}", "namespace": ns, "labels": {"kubernetes.io/service-name": svc_name}},
            "endpoints": eps, "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}


def endpoints_v1(svc_name, ns="default", ready=(), not_ready=()):
    subset = {"ports": [{"port": 8080, "protocol": "TCP"}]}
    if ready:
        subset["addresses"] = [{"ip": f"10.244.1.{i}", "targetRef": {"kind": "Pod", "name": n}} for i, n in enumerate(ready)]
    if not_ready:
        subset["notReadyAddresses"] = [{"ip": f"10.244.2.{i}", "targetRef": {"kind": "Pod", "name": n}} for i, n in enumerate(not_ready)]
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": svc_name, "namespace": ns}, "subsets": [subset]}


def event(kind, ns, name, reason, message, type_="Warning", count=1, ts="2024-05-01T10:00:00Z"):
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": f"{name}.{reason}.{ts}", "namespace": ns},
            "involvedObject": {"kind": kind, "namespace": ns, "name": name}, "reason": reason, "message": message,
            "type": type_, "count": count, "lastTimestamp": ts}


def ingress(name, ns="default", class_name=None, annotations=None, backends=(("web", 80),), tls_secrets=(), address=True):
    paths = []
    for svc_name, port in backends:
        port_ref = {"number": port} if isinstance(port, int) else {"name": port}
        paths.append({"path": "/", "pathType": "Prefix", "backend": {"service": {"name": svc_name, "port": port_ref}}})
    spec = {"rules": [{"host": "app.example.com", "http": {"paths": paths}}]}
    if class_name:
        spec["ingressClassName"] = class_name
    if tls_secrets:
        spec["tls"] = [{"hosts": ["app.example.com"], "secretName": s} for s in tls_secrets]
    status = {"loadBalancer": {"ingress": [{"ip": "20.1.2.3"}]} if address else {}}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": ns, "annotations": dict(annotations or {})}, "spec": spec, "status": status}


def ingress_class(name, controller="k8s.io/ingress-nginx", default=False):
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": name, "annotations": annotations},
            "spec": {"controller": controller}}


def daemonset(name, ns="kube-system", desired=3, ready=3, unavailable=0):
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": ns},
            "status": {"desiredNumberScheduled": desired, "numberReady": ready, "numberUnavailable": unavailable}}


def node(name, network_unavailable=None):
    conds = [{"type": "Ready", "status": "True"}]
    if network_unavailable is not None:
        conds.append({"type": "NetworkUnavailable", "status": "True" if network_unavailable else "False",
                      "reason": "NoRouteCreated" if network_unavailable else "RouteCreated", "message": "route for node not created"})
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "status": {"conditions": conds}}


def configmap(name, ns, data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": dict(data)}


def healthy_system():
    """kube-system of a healthy cluster: CoreDNS (2 ready pods + kube-dns Service), kube-proxy, azure-cns, 2 nodes."""
    return [
        namespace("default"),
        namespace("kube-system"),
        pod("coredns-1", "kube-system", {"k8s-app": "kube-dns"}, owner=("ReplicaSet", "coredns-7d"), dns_policy="Default"),
        pod("coredns-2", "kube-system", {"k8s-app": "kube-dns"}, owner=("ReplicaSet", "coredns-7d"), dns_policy="Default"),
        service("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, ports=((53, 53, "UDP", "dns"),), cluster_ip="10.0.0.10"),
        endpoint_slice("kube-dns", "kube-system", [("coredns-1", True), ("coredns-2", True)], port=53),
        daemonset("kube-proxy"),
        daemonset("azure-cns"),
        node("aks-node-0", network_unavailable=False),
        node("aks-node-1"),
    ]


def web_app(ns="default", ready=True):
    """A Deployment-like app: 2 pods app=web exposing http=8080, Service web:80 -> http, its EndpointSlice."""
    pods = [pod(f"web-{i}", ns, {"app": "web"}, ready=ready, ports=[("http", 8080, "TCP")], owner=("ReplicaSet", "web-5f")) for i in range(2)]
    return [*pods, service("web", ns, {"app": "web"}, ports=((80, "http", "TCP", "http"),)),
            endpoint_slice("web", ns, [(p["metadata"]["name"], ready) for p in pods])]


def diagnose(objects, step=None, **kwargs):
    return run_diagnostics(objects, steps=[step] if step else None, **kwargs)


def codes(objects, step, **kwargs):
    """``[(code, severity, namespace/name)]`` of one step's findings."""
    result = diagnose(objects, step, **kwargs)
    return [(f["code"], f["severity"], f"{f['resource']['namespace']}/{f['resource']['name']}") for f in result["findings"]]


def findings_of(objects, step, code, **kwargs):
    return [f for f in diagnose(objects, step, **kwargs)["findings"] if f["code"] == code]

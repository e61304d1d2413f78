# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 6 of the field guide: does each Ingress have a class, a running controller and healthy backends? Pure.

Classes: ``spec.ingressClassName``, else the legacy ``kubernetes.io/ingress.class`` annotation,
else the IngressClass marked ``ingressclass.kubernetes.io/is-default-class: "true"`` (reported as
used, never as missing). When IngressClasses could not be listed (RBAC), class checks are noted
as "could not check", never reported as not found.

Secrets are not part of a snapshot (sensitive): TLS secret presence is checked only when Secret
objects (metadata is enough) are in the data, otherwise the step notes it as unknown.

``ingress.controller_unavailable`` is one finding per IngressClass (cluster-scoped), naming the
Ingresses that depend on it.
"""

from __future__ import annotations

from .findings import finding
from .helpers import (
    annotations_of,
    endpoint_source,
    labels_of,
    name_of,
    ns_of,
    pod_ready,
    pod_terminal,
    service_endpoints,
    short_list,
    spec,
    status,
)

STEP = 6
REQUIRED_KINDS = ("Ingress",)
OPTIONAL_KINDS = ("IngressClass", "Service", "EndpointSlice", "Endpoints", "Pod", "Secret")

DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"

# controller -> (description, namespace or None for any, list of label selectors OR'ed)
KNOWN_CONTROLLERS = {
    "k8s.io/ingress-nginx": ("ingress-nginx", None, [{"app.kubernetes.io/name": "ingress-nginx"}]),
    "webapprouting.kubernetes.azure.com/nginx": (
        "application routing add-on (managed NGINX)", "app-routing-system",
        [{"app": "nginx"}, {"app.kubernetes.io/component": "ingress-controller"}],
    ),
    "azure/application-gateway": ("Application Gateway Ingress Controller (AGIC)", "kube-system", [{"app": "ingress-appgw"}]),
}
# class names that work without an IngressClass object (legacy annotation values, add-on defaults)
LEGACY_CLASSES = {
    "nginx": "k8s.io/ingress-nginx",
    "azure/application-gateway": "azure/application-gateway",
    "webapprouting.kubernetes.azure.com": "webapprouting.kubernetes.azure.com/nginx",
}


def _controller_pods(index, controller):
    _desc, namespace, selectors = KNOWN_CONTROLLERS[controller]
    pods = index.kinds("Pod") if namespace is None else index.in_namespace("Pod", namespace)
    result = []
    for pod in pods:
        if pod_terminal(pod):
            continue
        labels = labels_of(pod)
        if any(all(labels.get(k) == v for k, v in sel.items()) for sel in selectors):
            result.append(pod)
    return result


def _backends(ing):
    """``[(service_name, port_number_or_name)]`` of an Ingress (v1 and legacy v1beta1 fields)."""
    found = []

    def add(backend):
        if not backend:
            return
        svc = backend.get("service")
        if svc:
            port = svc.get("port") or {}
            found.append((svc.get("name"), port.get("number") if port.get("number") is not None else port.get("name")))
        elif backend.get("serviceName"):
            found.append((backend["serviceName"], backend.get("servicePort")))

    sp = spec(ing)
    add(sp.get("defaultBackend") or sp.get("backend"))
    for rule in sp.get("rules") or []:
        for path in (rule.get("http") or {}).get("paths") or []:
            add(path.get("backend"))
    unique = []
    for item in found:
        if item not in unique:
            unique.append(item)
    return unique


def _port_on_service(svc, port):
    for sp in spec(svc).get("ports") or []:
        if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
            if sp.get("port") == int(port):
                return True
        elif sp.get("name") == port:
            return True
    return False


class _State:
    def __init__(self, index):
        self.index = index
        self.classes_listed = index.is_listed("IngressClass")
        self.classes = {name_of(c): c for c in index.kinds("IngressClass")}
        self.defaults = sorted(n for n, c in self.classes.items() if annotations_of(c).get(DEFAULT_CLASS_ANNOTATION) == "true")
        self.endpoint_source = endpoint_source(index)
        self.secrets_known = index.is_listed("Secret") and bool(index.kinds("Secret"))
        self.controller_users = {}  # class name -> (controller, [ingress refs])
        self.notes = set()


def _resolve_class(state, ing, out):
    """The class name and controller of an Ingress, appending class findings to ``out``."""
    ns, name = ns_of(ing), name_of(ing)
    cls = spec(ing).get("ingressClassName")
    via = "spec.ingressClassName"
    if not cls and annotations_of(ing).get(LEGACY_CLASS_ANNOTATION):
        cls, via = annotations_of(ing)[LEGACY_CLASS_ANNOTATION], "annotation kubernetes.io/ingress.class"
    if not cls:
        if not state.classes_listed:
            state.notes.add(f"default IngressClass not checked: IngressClass not listable ({state.index.skipped['IngressClass']})")
            return None, None, None
        if state.defaults:
            cls, via = state.defaults[0], "default IngressClass"
        else:
            out.append(finding(
                "ingress.class_missing", "warning", STEP, "Ingress", ns, name,
                f"Ingress {ns}/{name} names no ingress class and the cluster has no default IngressClass "
                f"(known classes: {', '.join(sorted(state.classes)) or 'none'}): most controllers ignore it.",
                f"Set spec.ingressClassName (kubectl patch ingress {name} -n {ns} --type merge -p '{{\"spec\":{{\"ingressClassName\":\"<class>\"}}}}') "
                f"or mark one IngressClass with the annotation {DEFAULT_CLASS_ANNOTATION}: \"true\".",
                {"classes": sorted(state.classes), "default_classes": []},
            ))
            return None, None, None
    if cls in state.classes:
        return cls, (spec(state.classes[cls]).get("controller")), via
    if cls in LEGACY_CLASSES and via.startswith("annotation"):
        return cls, LEGACY_CLASSES[cls], via
    if not state.classes_listed:
        state.notes.add(f"ingress classes not checked: IngressClass not listable ({state.index.skipped['IngressClass']})")
        return cls, LEGACY_CLASSES.get(cls), via
    out.append(finding(
        "ingress.class_not_found", "error" if via == "spec.ingressClassName" else "warning", STEP, "Ingress", ns, name,
        f"Ingress {ns}/{name} uses class {cls!r} ({via}) but no IngressClass of that name exists "
        f"(known: {', '.join(sorted(state.classes)) or 'none'}).",
        "Install the controller that provides the class, or set spec.ingressClassName to an existing class (kubectl get ingressclass).",
        {"class": cls, "via": via, "classes": sorted(state.classes)},
    ))
    return cls, None, via


def _ingress_findings(state, ing, cls, controller, via):
    index = state.index
    ns, name = ns_of(ing), name_of(ing)
    out = []
    for svc_name, port in _backends(ing):
        svc = index.get("Service", ns, svc_name)
        if svc is None:
            if index.is_listed("Service"):
                out.append(finding(
                    "ingress.backend_service_missing", "error", STEP, "Ingress", ns, name,
                    f"Ingress {ns}/{name} routes to Service {svc_name!r}, which does not exist in {ns}.",
                    f"Create the Service {ns}/{svc_name} or point the Ingress backend at an existing one (kubectl get services -n {ns}).",
                    {"service": svc_name, "port": port},
                ))
            continue
        if port is not None and not _port_on_service(svc, port):
            svc_ports = [f"{p.get('name') + '=' if p.get('name') else ''}{p.get('port')}" for p in spec(svc).get("ports") or []]
            out.append(finding(
                "ingress.backend_port_missing", "error", STEP, "Ingress", ns, name,
                f"Ingress {ns}/{name} routes to Service {svc_name} port {port!r}, which the Service does not define (ports: {', '.join(svc_ports) or 'none'}).",
                "Set the backend's service.port.number or .name to a port of the Service (the Service port, not the container's targetPort).",
                {"service": svc_name, "port": port, "service_ports": svc_ports},
            ))
            continue
        if spec(svc).get("type") == "ExternalName" or state.endpoint_source is None:
            continue
        eps = service_endpoints(index, ns, svc_name, state.endpoint_source)
        if not eps["ready"]:
            out.append(finding(
                "ingress.backend_no_endpoints", "error", STEP, "Ingress", ns, name,
                f"Ingress {ns}/{name} backend Service {svc_name} has no ready endpoints"
                + (f" ({len(eps['not_ready'])} not ready)" if eps["not_ready"] else "") + ": the controller answers 503.",
                f"Fix the Service's pods and selector (step 2: kubectl get endpointslices -n {ns} -l kubernetes.io/service-name={svc_name}).",
                {"service": svc_name, "port": port, "not_ready": eps["not_ready"][:20], "source": eps["source"]},
            ))
    tls_secrets = sorted({t.get("secretName") for t in spec(ing).get("tls") or [] if t.get("secretName")})
    if tls_secrets:
        if state.secrets_known:
            for secret in tls_secrets:
                found = index.get("Secret", ns, secret)
                if found is not None and found.get("type") not in (None, "kubernetes.io/tls"):
                    out.append(finding(
                        "ingress.tls_secret_missing", "error", STEP, "Ingress", ns, name,
                        f"Ingress {ns}/{name} uses TLS secret {secret!r}, which exists in {ns} but is not of type kubernetes.io/tls "
                        f"({found.get('type')}): the controller cannot load it and serves its default certificate.",
                        f"Recreate it as a TLS secret: kubectl create secret tls {secret} -n {ns} --cert=... --key=... "
                        "(type kubernetes.io/tls, keys tls.crt and tls.key).",
                        {"secret": secret, "type": found.get("type")},
                    ))
                elif found is None:
                    out.append(finding(
                        "ingress.tls_secret_missing", "error", STEP, "Ingress", ns, name,
                        f"Ingress {ns}/{name} uses TLS secret {secret!r}, which does not exist in {ns}: the controller serves its default certificate.",
                        f"Create the kubernetes.io/tls secret (kubectl create secret tls {secret} -n {ns} --cert=... --key=...) "
                        "or fix spec.tls[].secretName; with cert-manager check the Certificate's status.",
                        {"secret": secret},
                    ))
        elif not index.is_listed("Secret"):
            state.notes.add(f"TLS secrets not checked: Secret not listable ({index.skipped['Secret']})")
        else:
            state.notes.add("TLS secrets not checked: Secrets are not collected (sensitive)")
    if not (status(ing).get("loadBalancer") or {}).get("ingress"):
        out.append(finding(
            "ingress.no_address", "warning", STEP, "Ingress", ns, name,
            f"Ingress {ns}/{name} has no address in its status" + (f" (class {cls}, via {via})" if cls else "")
            + ": its controller has not admitted it or has no external IP itself.",
            "Check the controller's logs and its LoadBalancer Service (kubectl get svc -A | grep -i ingress); "
            "the class must be one the controller watches.",
            {"class": cls, "controller": controller},
        ))
    return out


def _controller_findings(state):
    out = []
    for cls, (controller, users) in sorted(state.controller_users.items()):
        if controller not in KNOWN_CONTROLLERS:
            state.notes.add(f"controller {controller or 'unknown'} of class {cls} is not a known controller: its pods were not checked")
            continue
        desc, namespace, selectors = KNOWN_CONTROLLERS[controller]
        pods = _controller_pods(state.index, controller)
        ready = [p for p in pods if pod_ready(p)]
        if ready:
            continue
        where = f"namespace {namespace}" if namespace else "any namespace"
        first_sel = ",".join(f"{k}={v}" for k, v in selectors[0].items())
        sel = " or ".join(",".join(f"{k}={v}" for k, v in s.items()) for s in selectors)
        out.append(finding(
            "ingress.controller_unavailable", "error", STEP, "IngressClass", None, cls,
            f"No ready {desc} pods for class {cls} (controller {controller}; {len(pods)} pod(s) found with {sel} in {where}); "
            f"{len(users)} Ingress(es) depend on it: {short_list(sorted(users))}.",
            f"Check the controller: kubectl get pods {'-n ' + namespace if namespace else '-A'} -l {first_sel} -o wide; "
            "install or repair it (ingress_nginx role, web_app_routing or ingress_appgw add-on).",
            {"controller": controller, "pods": {f"{ns_of(p)}/{name_of(p)}": pod_ready(p) for p in pods}, "ingresses": sorted(users)[:50]},
        ))
    return out


def analyze(index, ctx):
    state = _State(index)
    found = []
    checked = 0
    for ing in index.kinds("Ingress"):
        if not ctx.in_scope(ns_of(ing)):
            continue
        checked += 1
        cls, controller, via = _resolve_class(state, ing, found)
        if cls and controller:
            state.controller_users.setdefault(cls, (controller, []))[1].append(f"{ns_of(ing)}/{name_of(ing)}")
        found.extend(_ingress_findings(state, ing, cls, controller, via))
    if index.is_listed("Pod"):
        found.extend(_controller_findings(state))
    else:
        state.notes.add(f"ingress controller pods not checked: Pod not listable ({index.skipped['Pod']})")
    return {"checked": checked, "findings": found, "skipped": None, "notes": sorted(state.notes)}

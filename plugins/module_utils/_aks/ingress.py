# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ingress on AKS: the Ingress manifest from options and its validation, and the ingress-nginx Helm
values that are right on AKS (health-probe annotation, Linux nodes, internal / static IP). Pure.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.aksnet.networking.plugins.module_utils._aks import loadbalancer as lb
from ansible_collections.aksnet.networking.plugins.module_utils._kube.names import DNS1035_LABEL, DNS1123_LABEL, DNS1123_SUBDOMAIN, is_port_name, port_number

PATH_TYPES = ("Prefix", "Exact", "ImplementationSpecific")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")

# what AKS needs for ingress-nginx (field guide): the Azure LB probes /healthz over HTTP on Kubernetes >= 1.24
HEALTH_PROBE_PATH = "/healthz"
LINUX = {"kubernetes.io/os": "linux"}


def _host_errors(where, host):
    if not isinstance(host, str) or not host:
        return [f"{where}: {host!r} must be a DNS name such as app.example.com."]
    name = host[2:] if host.startswith("*.") else host
    if _IPV4.match(name) or ":" in name:
        return [f"{where}: {host!r} is an IP address; Ingress hosts must be DNS names (omit host to match every address)."]
    if "*" in name or len(host) > 253 or not DNS1123_SUBDOMAIN.match(name):
        return [f"{where}: {host!r} must be a lowercase DNS name; a wildcard is allowed only as the whole first label (*.example.com)."]
    return []


def _backend(where, item):
    """(backend dict, errors) from {service, port}."""
    errors = []
    service = item.get("service")
    if not isinstance(service, str) or len(service) > 63 or not DNS1035_LABEL.match(service):
        errors.append(f"{where}.service: {service!r} must be the name of a Service (a DNS-1035 label).")
    port = item.get("port")
    backend_port = {}
    if isinstance(port, bool) or port is None:
        errors.append(f"{where}.port: {port!r} must be the Service port number or its name.")
    elif port_number(port) is not None:
        number = port_number(port)
        if not 1 <= number <= 65535:
            errors.append(f"{where}.port: {port!r} must be a port number from 1 to 65535.")
        backend_port["number"] = number
    elif is_port_name(port):
        backend_port["name"] = port
    else:
        errors.append(f"{where}.port: {port!r} must be the Service port number or its name (lowercase letters, digits and '-').")
    return {"service": {"name": service, "port": backend_port}}, errors


def build_ingress(params):
    """(manifest, errors, warnings) of the Ingress the options describe."""
    errors, warnings = [], []
    name, namespace = params.get("name") or "", params.get("namespace") or ""
    if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        errors.append(f"name: {name!r} must be a lowercase DNS subdomain (letters, digits, '-' and '.').")
    if len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
        errors.append(f"namespace: {namespace!r} must be a DNS label (lowercase letters, digits and '-').")
    spec = {}
    if params.get("ingress_class"):
        spec["ingressClassName"] = params["ingress_class"]
    rules = []
    hosts = set()
    for r_index, rule in enumerate(params.get("rules") or []):
        where = f"rules[{r_index}]"
        if not isinstance(rule, dict):
            errors.append(f"{where}: must be a mapping with host and paths.")
            continue
        out = {}
        if rule.get("host"):
            errors.extend(_host_errors(f"{where}.host", rule["host"]))
            out["host"] = rule["host"]
            hosts.add(rule["host"])
        paths = []
        if not rule.get("paths"):
            errors.append(f"{where}.paths: at least one path is needed ({{path: /, service: NAME, port: 80}}).")
        for p_index, item in enumerate(rule.get("paths") or []):
            pwhere = f"{where}.paths[{p_index}]"
            if not isinstance(item, dict):
                errors.append(f"{pwhere}: must be a mapping with path, path_type, service and port.")
                continue
            path = item.get("path", "/")
            path_type = item.get("path_type") or "Prefix"
            if path_type not in PATH_TYPES:
                errors.append(f"{pwhere}.path_type: {path_type!r} must be one of {', '.join(PATH_TYPES)}.")
            if path_type in ("Prefix", "Exact") and (not isinstance(path, str) or not path.startswith("/")):
                errors.append(f"{pwhere}.path: {path!r} must be an absolute path starting with '/' for path_type {path_type}.")
            elif path_type in ("Prefix", "Exact"):
                # the API refuses these in Prefix and Exact paths (networking validation's invalid sequences and suffixes)
                bad = [s for s in ("//", "/./", "/../", "%2f", "%2F") if s in path] + [s for s in ("/..", "/.") if path.endswith(s)]
                if bad:
                    errors.append(f"{pwhere}.path: {path!r} must not contain or end with {', '.join(repr(s) for s in bad)}.")
            backend, backend_errors = _backend(pwhere, item)
            errors.extend(backend_errors)
            paths.append({"path": path, "pathType": path_type, "backend": backend})
        out["http"] = {"paths": paths}
        rules.append(out)
    if rules:
        spec["rules"] = rules
    if params.get("default_backend"):
        backend, backend_errors = _backend("default_backend", params["default_backend"])
        errors.extend(backend_errors)
        spec["defaultBackend"] = backend
    if not rules and not params.get("default_backend"):
        errors.append("rules: an Ingress needs rules (host and paths) or a default_backend.")
    tls = []
    for t_index, item in enumerate(params.get("tls") or []):
        where = f"tls[{t_index}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: must be a mapping with hosts and secret.")
            continue
        entry = {}
        if item.get("hosts"):
            entry["hosts"] = list(item["hosts"])
            for host in entry["hosts"]:
                errors.extend(_host_errors(f"{where}.hosts", host))
                if hosts and host not in hosts:
                    warnings.append(f"{where}.hosts: {host} has no rule; TLS for it is configured but no path routes its traffic.")
        secret = item.get("secret")
        if secret is not None:
            if not isinstance(secret, str) or len(secret) > 253 or not DNS1123_SUBDOMAIN.match(secret):
                errors.append(f"{where}.secret: {secret!r} must be the name of a Secret of type kubernetes.io/tls in namespace {namespace}.")
            entry["secretName"] = secret
        tls.append(entry)
    if tls:
        spec["tls"] = tls
    metadata = {"name": name, "namespace": namespace}
    if params.get("annotations"):
        bad = sorted(k for k, v in params["annotations"].items() if not isinstance(v, str))
        if bad:
            errors.append(f"annotations: the values of {', '.join(bad)} must be strings (quote true/false and numbers).")
        metadata["annotations"] = dict(params["annotations"])
    if params.get("labels"):
        metadata["labels"] = dict(params["labels"])
    manifest = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec}
    return manifest, errors, warnings


def backends(manifest):
    """[(service, port as number or name, where)] of an Ingress manifest."""
    out = []
    spec = manifest.get("spec") or {}
    if spec.get("defaultBackend"):
        svc = spec["defaultBackend"].get("service") or {}
        out.append((svc.get("name"), (svc.get("port") or {}).get("number") or (svc.get("port") or {}).get("name"), "default_backend"))
    for r_index, rule in enumerate(spec.get("rules") or []):
        for p_index, path in enumerate((rule.get("http") or {}).get("paths") or []):
            svc = (path.get("backend") or {}).get("service") or {}
            port = (svc.get("port") or {}).get("number") or (svc.get("port") or {}).get("name")
            out.append((svc.get("name"), port, f"rules[{r_index}].paths[{p_index}]"))
    return out


def service_has_port(service, port):
    """Whether a Service exposes ``port`` (number or port name)."""
    for item in (service.get("spec") or {}).get("ports") or []:
        if isinstance(port, int) and item.get("port") == port:
            return True
        if isinstance(port, str) and item.get("name") == port:
            return True
    return False


# ---------------------------------------------------------------------------------------------
# ingress-nginx Helm values
# ---------------------------------------------------------------------------------------------


def nginx_values(replicas=2, internal=False, internal_subnet=None, internal_subnet_cidr=None, static_ip=None, ip_resource_group=None,
                 keep_client_ip=False, health_probe_path=HEALTH_PROBE_PATH, ingress_class="nginx", default_class=False, extra=None):
    """(values, warnings): the ingress-nginx chart values that are right on AKS; ValueError names a bad input.

    * controller, admission-webhook patch job and default backend on Linux nodes only (a cluster with
      Windows pools would otherwise schedule them there);
    * ``service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path: /healthz`` on the
      controller Service: on Kubernetes >= 1.24 the Azure load balancer probes the HTTP path of the
      port's appProtocol, and ingress-nginx answers 404 on ``/``, so without it every probe fails;
    * internal (with its subnet) or public, the static IP (``azure-load-balancer-ipv4``, never
      ``loadBalancerIP``) and the public IP's resource group;
    * ``externalTrafficPolicy: Local`` when client IPs must be kept (no SNAT to a node address).

    ``extra`` is merged last (deeply) for anything else the chart accepts.
    """
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        raise ValueError(f"replicas: {replicas!r} must be a whole number of 1 or more (2 or more for a highly available controller).")
    params = {
        "name": "ingress-nginx-controller", "namespace": "ingress-nginx", "ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}],
        "internal": internal, "internal_subnet": internal_subnet, "internal_subnet_cidr": internal_subnet_cidr, "static_ip": static_ip,
        "ip_resource_group": ip_resource_group, "health_probe_path": health_probe_path,
    }
    errors, warnings = lb.preflight(params)
    if not isinstance(ingress_class, str) or not DNS1123_SUBDOMAIN.match(ingress_class or ""):
        errors.append(f"ingress_class: {ingress_class!r} must be a lowercase DNS name such as nginx.")
    if extra is not None and not isinstance(extra, dict):
        errors.append(f"extra: {extra!r} must be a mapping of chart values.")
    if errors:
        raise ValueError("; ".join(errors))
    if replicas < 2:
        warnings.append("replicas: 1 controller replica means an outage on every node drain or upgrade; use 2 or more.")
    service = {"annotations": lb.managed_annotations(params)}
    if keep_client_ip:
        service["externalTrafficPolicy"] = "Local"
    values = {
        "controller": {
            "replicaCount": replicas,
            "nodeSelector": dict(LINUX),
            "ingressClass": ingress_class,
            "ingressClassResource": {"name": ingress_class, "enabled": True, "default": bool(default_class),
                                     "controllerValue": "k8s.io/ingress-nginx" if ingress_class == "nginx" else f"k8s.io/ingress-nginx-{ingress_class}"},
            "admissionWebhooks": {"patch": {"nodeSelector": dict(LINUX)}},
            "service": service,
        },
        "defaultBackend": {"nodeSelector": dict(LINUX)},
    }
    if extra:
        _deep_merge(values, extra)
    return values, warnings


def _deep_merge(target, source):
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)

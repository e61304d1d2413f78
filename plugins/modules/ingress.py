#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ingress
short_description: An Ingress (class, hosts, paths, TLS, annotations) on AKS
version_added: 0.1.0
description:
  - Creates, updates or deletes a C(networking.k8s.io/v1) Ingress from options; rules, paths and TLS entries are validated before
    any request (host names, absolute paths for C(Prefix)/C(Exact), Service names and ports).
  - Warns when the IngressClass does not exist (no controller will serve the Ingress), or a backend Service is missing or does
    not expose the port. One GET each of the class and the distinct backend Services.
author:
  - aksnet.networking contributors (@aksnet)
options:
  name:
    description: Name of the Ingress.
    type: str
    required: true
  namespace:
    description: Namespace of the Ingress and of its backend Services.
    type: str
    default: default
  state:
    description: V(present) creates or updates the Ingress, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  ingress_class:
    description:
      - IngressClass that serves this Ingress (C(spec.ingressClassName)), for example V(nginx),
        V(webapprouting.kubernetes.azure.com) (AKS application routing) or V(azure-application-gateway) (AGIC).
    type: str
  rules:
    description: Host rules.
    type: list
    elements: dict
    suboptions:
      host:
        description: Host name (C(*.example.com) wildcards allowed); omit to match every host.
        type: str
      paths:
        description: Paths of the host.
        type: list
        elements: dict
        required: true
        suboptions:
          path:
            description: URL path.
            type: str
            default: /
          path_type:
            description: How the path matches.
            type: str
            choices: [Prefix, Exact, ImplementationSpecific]
            default: Prefix
          service:
            description: Backend Service name (same namespace).
            type: str
            required: true
          port:
            description: Backend Service port, a number or the port's name.
            type: raw
            required: true
  default_backend:
    description: Backend for requests no rule matches.
    type: dict
    suboptions:
      service:
        description: Backend Service name.
        type: str
        required: true
      port:
        description: Backend Service port, a number or the port's name.
        type: raw
        required: true
  tls:
    description: TLS termination.
    type: list
    elements: dict
    suboptions:
      hosts:
        description: Host names the certificate covers.
        type: list
        elements: str
      secret:
        description: Name of the C(kubernetes.io/tls) Secret in O(namespace).
        type: str
  annotations:
    description: Annotations, for example C(nginx.ingress.kubernetes.io/rewrite-target).
    type: dict
  labels:
    description: Labels of the Ingress.
    type: dict
extends_documentation_fragment:
  - aksnet.networking.kubernetes
  - aksnet.networking.attributes
attributes:
  check_mode:
    support: full
    details: Writes are sent with C(dryRun=All) (validated by the API, nothing stored).
  diff_mode:
    support: full
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: The field guide's Ingress
  aksnet.networking.ingress:
    name: my-ingress
    namespace: shop
    ingress_class: nginx
    annotations:
      nginx.ingress.kubernetes.io/rewrite-target: /
    rules:
      - host: myapp.example.com
        paths:
          - {path: /, path_type: Prefix, service: my-service, port: 80}
    tls:
      - hosts: [myapp.example.com]
        secret: myapp-tls

- name: Through AKS application routing (managed NGINX)
  aksnet.networking.ingress:
    name: web
    namespace: shop
    ingress_class: webapprouting.kubernetes.azure.com
    rules:
      - paths: [{path: /, service: web, port: http}]
"""

RETURN = r"""
ingress:
  description: The Ingress after the run (in check mode, what the API's dry run answered); null when absent.
  returned: always
  type: dict
address:
  description: The address the ingress controller published in the Ingress status, if any.
  returned: always
  type: str
warnings_found:
  description: What would keep the Ingress from serving (missing class, backend Service or port).
  returned: always
  type: list
  elements: str
api_requests:
  description: Number of Kubernetes API requests made.
  returned: always
  type: int
"""

from ansible_collections.aksnet.networking.plugins.module_utils._aks.ingress import backends, build_ingress, service_has_port
from ansible_collections.aksnet.networking.plugins.module_utils._kube.apply import ensure_object
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure


def _checks(client, manifest, namespace):
    """Warnings about the class and the backends: one GET each."""
    found = []
    ingress_class = (manifest.get("spec") or {}).get("ingressClassName")
    if ingress_class:
        if client.get("networking.k8s.io/v1", "ingressclasses", ingress_class) is None:
            found.append(
                f"IngressClass {ingress_class} does not exist: no controller serves this Ingress until it does "
                "(install ingress-nginx, enable web_app_routing or ingress_appgw with aksnet.networking.addon)."
            )
    else:
        found.append("no ingress_class: only a default IngressClass (annotation ingressclass.kubernetes.io/is-default-class) would serve it.")
    services = {}
    for service, port, where in backends(manifest):
        if service not in services:
            services[service] = client.get("v1", "services", service, namespace)
        obj = services[service]
        if obj is None:
            found.append(f"{where}: backend Service {namespace}/{service} does not exist; requests for this path fail with 503.")
        elif not service_has_port(obj, port):
            found.append(f"{where}: Service {namespace}/{service} has no port {port}; requests for this path fail with 503.")
    return found


def run(mod):
    params = mod.params
    if params["state"] == "absent":
        desired = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": params["name"], "namespace": params["namespace"]}}
        errors, warnings = [], []
    else:
        desired, errors, warnings = build_ingress(params)
    if errors:
        raise ModuleFailure("Invalid ingress options (nothing was sent): " + " ".join(errors), errors=errors)
    client = mod.kube()
    found = []
    if params["state"] == "present":
        found = _checks(client, desired, params["namespace"])
    for text in warnings + found:
        mod.warn(text)
    applied = ensure_object(client, desired, state=params["state"], check_mode=mod.check_mode)
    ingress = applied["after"]
    status = ((ingress or {}).get("status") or {}).get("loadBalancer") or {}
    address = next((i.get("ip") or i.get("hostname") for i in status.get("ingress") or [] if i.get("ip") or i.get("hostname")), None)
    return {
        "changed": applied["changed"],
        "ingress": ingress,
        "address": address,
        "warnings_found": warnings + found,
        "diff": applied["diff"],
        "api_requests": client.request_count,
    }


def main():
    backend = {"service": {"type": "str", "required": True}, "port": {"type": "raw", "required": True}}
    path_spec = {
        "path": {"type": "str", "default": "/"},
        "path_type": {"type": "str", "choices": ["Prefix", "Exact", "ImplementationSpecific"], "default": "Prefix"},
        **backend,
    }
    mod = AksnetModule(
        {
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str", "default": "default"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "ingress_class": {"type": "str"},
            "rules": {
                "type": "list",
                "elements": "dict",
                "options": {"host": {"type": "str"}, "paths": {"type": "list", "elements": "dict", "required": True, "options": path_spec}},
            },
            "default_backend": {"type": "dict", "options": backend},
            "tls": {"type": "list", "elements": "dict", "options": {"hosts": {"type": "list", "elements": "str"}, "secret": {"type": "str", "no_log": False}}},
            "annotations": {"type": "dict"},
            "labels": {"type": "dict"},
        },
        auth="kube",
        libraries=("kubernetes", "urllib3"),
    )
    mod.run(run, "manage an Ingress")


if __name__ == "__main__":
    main()

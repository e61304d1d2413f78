#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lb_service
short_description: A Service of type LoadBalancer with the AKS annotations built from options
version_added: 0.1.0
description:
  - Creates, updates or deletes a Kubernetes Service of type LoadBalancer on AKS. The Azure cloud provider's annotations come from
    options instead of being typed by hand; O(internal), O(internal_subnet), O(static_ip) (the
    C(service.beta.kubernetes.io/azure-load-balancer-ipv4) annotation, never the deprecated C(spec.loadBalancerIP)),
    O(ip_resource_group) (C(azure-load-balancer-resource-group)) and O(health_probe_path) (C(azure-load-balancer-health-probe-request-path)).
    Annotations these options own are removed again when the option is no longer set.
  - Checks before any request what would leave the Service pending, for example an internal O(static_ip) outside
    O(internal_subnet_cidr), a private address on a public load balancer, or a public O(static_ip) without O(ip_resource_group)
    (a warning - the cloud provider looks for the address in the node resource group only).
  - With O(wait), waits until the cloud provider assigned the address and returns it. When it does not, the failure quotes the
    Service's Warning events (for example C(SyncLoadBalancerFailed)), read with one LIST of events.
author:
  - aksnet.networking contributors (@aksnet)
options:
  name:
    description: Name of the Service.
    type: str
    required: true
  namespace:
    description: Namespace of the Service.
    type: str
    default: default
  state:
    description: V(present) creates or updates the Service, V(absent) deletes it (Azure then removes its frontend and rules).
    type: str
    choices: [present, absent]
    default: present
  selector:
    description: Labels of the pods that receive the traffic.
    type: dict
  ports:
    description: Ports of the load balancer. Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      port:
        description: Port of the load balancer frontend.
        type: int
        required: true
      target_port:
        description: Container port number or name; defaults to O(ports[].port).
        type: raw
      protocol:
        description: V(TCP) or V(UDP) (Azure Load Balancer does not balance SCTP).
        type: str
        default: TCP
      name:
        description: Port name; required when there is more than one port.
        type: str
      node_port:
        description: Node port (30000-32767); by default Kubernetes allocates one.
        type: int
      app_protocol:
        description: Application protocol of the port (C(appProtocol)).
        type: str
  internal:
    description: An internal load balancer (a private address of the VNet) instead of a public one.
    type: bool
    default: false
  internal_subnet:
    description: Name of the subnet (in the nodes' VNet) for the internal load balancer's address; default the node subnet.
    type: str
  internal_subnet_cidr:
    description:
      - Address prefix of the internal load balancer's subnet. Not sent anywhere; with it the module refuses an internal
        O(static_ip) outside the subnet (or one of the five addresses Azure reserves) before any request.
    type: str
  static_ip:
    description:
      - Static IPv4 address. Public (a Standard static public IP, for example from aksnet.networking.public_ip) or, with
        O(internal), a free private address of the subnet.
      - In check mode only, V((known after apply)) stands for a public IP that the same run creates (the
        load_balancer role passes it); the diff then shows the annotation with that placeholder as its value.
    type: str
  ip_resource_group:
    description:
      - Resource group of the public O(static_ip) when it is not the cluster's node resource group.
        The cluster identity needs Network Contributor there.
    type: str
  health_probe_path:
    description: HTTP path the Azure load balancer probes (needed on Kubernetes 1.24 and later for HTTP backends that answer 404 on C(/)).
    type: str
  external_traffic_policy:
    description: V(Local) keeps the client's source address (and only nodes with ready pods receive traffic); V(Cluster) spreads it.
    type: str
    choices: [Cluster, Local]
  annotations:
    description: Further annotations. The keys the options above set are refused here.
    type: dict
  labels:
    description: Labels of the Service.
    type: dict
  wait:
    description: Wait until the address is assigned (not in check mode).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the address.
    type: int
    default: 300
extends_documentation_fragment:
  - aksnet.networking.kubernetes
  - aksnet.networking.attributes
attributes:
  check_mode:
    support: full
    details: Writes are sent with C(dryRun=All) (validated by the API, nothing stored); no waiting.
  diff_mode:
    support: full
  idempotent:
    support: full
notes:
  - The address is assigned by the Azure cloud provider in the cluster; this module only needs Kubernetes credentials.
"""

EXAMPLES = r"""
- name: Public load balancer
  aksnet.networking.lb_service:
    name: web
    namespace: shop
    selector: {app: web}
    ports:
      - {port: 80, target_port: 8080}
  register: web

- name: Internal load balancer with a fixed address of the node subnet
  aksnet.networking.lb_service:
    name: api-internal
    namespace: shop
    selector: {app: api}
    ports:
      - {name: https, port: 443, target_port: 8443}
    internal: true
    static_ip: 10.224.10.50
    internal_subnet_cidr: 10.224.0.0/16

- name: A static public IP that lives in another resource group
  aksnet.networking.lb_service:
    name: web
    namespace: shop
    selector: {app: web}
    ports: [{port: 80, target_port: 8080}]
    static_ip: "{{ pip.address }}"
    ip_resource_group: network-rg
    health_probe_path: /healthz
    external_traffic_policy: Local
"""

RETURN = r"""
address:
  description: The load balancer address (IP or host name); null when not (yet) assigned or in check mode before creation.
  returned: always
  type: str
  sample: 20.61.14.8
ingress:
  description: The Service's C(status.loadBalancer.ingress).
  returned: always
  type: list
  elements: dict
service:
  description: The Service after the run (in check mode, what the API's dry run answered); null when absent.
  returned: always
  type: dict
annotations:
  description: The AKS annotations the options produced.
  returned: always
  type: dict
  sample:
    service.beta.kubernetes.io/azure-load-balancer-internal: "true"
events:
  description: The Service's Warning events (C(Reason - message)) when the address did not come.
  returned: on failure to get an address
  type: list
  elements: str
api_requests:
  description: Number of Kubernetes API requests made.
  returned: always
  type: int
"""

import copy

from ansible_collections.aksnet.networking.plugins.module_utils._aks.loadbalancer import (
    event_lines,
    ingress_address,
    managed_annotations,
    pending_message,
    preflight,
    service_manifest,
    stale_annotations,
)
from ansible_collections.aksnet.networking.plugins.module_utils._kube.apply import WaitTimeout, diff_of, ensure_object, replacement, wait_for
from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import api_path
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure


def _service_events(client, namespace, name):
    """The Service's events: one LIST with a field selector."""
    return client.list("v1", "events", "Event", namespace=namespace, field_selector=f"involvedObject.kind=Service,involvedObject.name={name}")


def run(mod):
    params = mod.params
    if params["wait_timeout"] < 1:
        raise ModuleFailure(f"wait_timeout {params['wait_timeout']} must be at least 1 second.")
    if params["state"] == "present" and not params["ports"]:
        raise ModuleFailure("ports is required with state present: a LoadBalancer Service needs at least one port ({port: 80, target_port: 8080}).")
    errors, warnings = preflight(dict(params, _check_mode=mod.check_mode))
    for text in warnings:
        mod.warn(text)
    if errors:
        raise ModuleFailure("Invalid lb_service options (nothing was sent): " + " ".join(errors), errors=errors)
    client = mod.kube()
    desired = service_manifest(params) if params["state"] == "present" else {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": params["name"], "namespace": params["namespace"]}}
    current = client.get("v1", "services", params["name"], params["namespace"])
    if current is not None and params["state"] == "present" and (current.get("spec") or {}).get("type") not in ("LoadBalancer", None):
        mod.warn(f"Service {params['namespace']}/{params['name']} is of type {current['spec'].get('type')}; it becomes a LoadBalancer.")
    legacy_ip = ((current or {}).get("spec") or {}).get("loadBalancerIP")
    if legacy_ip and params["state"] == "present":
        mod.warn(
            f"Service {params['namespace']}/{params['name']} still sets the deprecated spec.loadBalancerIP {legacy_ip}: "
            "it is kept as is; move it to static_ip (the service.beta.kubernetes.io/azure-load-balancer-ipv4 annotation) "
            "and remove spec.loadBalancerIP, which Kubernetes deprecated in 1.24."
        )
    stale = stale_annotations(params, current) if params["state"] == "present" else []
    base = current
    if stale:
        base = copy.deepcopy(current)
        for key in stale:
            base["metadata"]["annotations"].pop(key, None)
    applied = ensure_object(client, desired, state=params["state"], check_mode=mod.check_mode, current=base)
    if stale and not applied["changed"]:
        # only annotations the options no longer set: write the object without them
        path = api_path("v1", "services", params["namespace"], params["name"])
        after = client.request("PUT", path, query={"dryRun": "All"} if mod.check_mode else None, body=replacement(desired, base))
        applied = {"changed": True, "after": after}
    service = applied["after"]
    diff_desired = copy.deepcopy(desired)
    if stale:
        diff_desired.setdefault("metadata", {}).setdefault("annotations", {}).update(dict.fromkeys(stale, ""))
    diff = diff_of(current, service, diff_desired)
    result = {
        "changed": applied["changed"],
        "service": service,
        "annotations": managed_annotations(params) if params["state"] == "present" else {},
        "diff": diff,
    }
    address, ingress = ingress_address(service)
    if params["state"] == "present" and params["wait"] and not mod.check_mode and address is None:
        what = f"the load balancer address of Service {params['namespace']}/{params['name']}"

        def check():
            found = client.get("v1", "services", params["name"], params["namespace"])
            addr, _ingress = ingress_address(found)
            return addr is not None, found

        try:
            service = wait_for(check, params["wait_timeout"], what, interval=1.0)
        except WaitTimeout:
            events = _service_events(client, params["namespace"], params["name"])
            raise ModuleFailure(
                pending_message(params["name"], params["namespace"], params["wait_timeout"], events, params),
                events=event_lines(events), service=service, changed=applied["changed"], api_requests=client.request_count,
            ) from None
        result["service"] = service
        address, ingress = ingress_address(service)
    result["address"] = address
    result["ingress"] = ingress
    result["api_requests"] = client.request_count
    return result


def main():
    port_spec = {
        "port": {"type": "int", "required": True},
        "target_port": {"type": "raw"},
        "protocol": {"type": "str", "default": "TCP"},
        "name": {"type": "str"},
        "node_port": {"type": "int"},
        "app_protocol": {"type": "str"},
    }
    mod = AksnetModule(
        {
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str", "default": "default"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "selector": {"type": "dict"},
            "ports": {"type": "list", "elements": "dict", "options": port_spec},
            "internal": {"type": "bool", "default": False},
            "internal_subnet": {"type": "str"},
            "internal_subnet_cidr": {"type": "str"},
            "static_ip": {"type": "str"},
            "ip_resource_group": {"type": "str"},
            "health_probe_path": {"type": "str"},
            "external_traffic_policy": {"type": "str", "choices": ["Cluster", "Local"]},
            "annotations": {"type": "dict"},
            "labels": {"type": "dict"},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 300},
        },
        auth="kube",
        libraries=("kubernetes", "urllib3"),
    )
    mod.run(run, "manage a LoadBalancer Service")


if __name__ == "__main__":
    main()

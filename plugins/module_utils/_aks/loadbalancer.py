# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Services of type LoadBalancer on AKS: the cloud provider's annotations built from options, the
checks that catch a broken rollout before it happens, and the events that explain a pending one. Pure.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.aksnet.networking.plugins.module_utils._kube.names import DNS1035_LABEL, DNS1123_LABEL, is_port_name, port_number

ANNOTATION_PREFIX = "service.beta.kubernetes.io/"
INTERNAL = ANNOTATION_PREFIX + "azure-load-balancer-internal"
INTERNAL_SUBNET = ANNOTATION_PREFIX + "azure-load-balancer-internal-subnet"
IPV4 = ANNOTATION_PREFIX + "azure-load-balancer-ipv4"
RESOURCE_GROUP = ANNOTATION_PREFIX + "azure-load-balancer-resource-group"
PROBE_PATH = ANNOTATION_PREFIX + "azure-load-balancer-health-probe-request-path"

# annotation -> the option that sets it (the module owns these keys: it sets and removes them)
MANAGED_ANNOTATIONS = {
    INTERNAL: "internal",
    INTERNAL_SUBNET: "internal_subnet",
    IPV4: "static_ip",
    RESOURCE_GROUP: "ip_resource_group",
    PROBE_PATH: "health_probe_path",
}

# static_ip in check mode for a public IP that the same run creates: the annotation shows, its value is not known yet
ADDRESS_KNOWN_AFTER_APPLY = "(known after apply)"

# Azure reserves the network address, the next three, and the broadcast address of every subnet
AZURE_RESERVED_LOW = 4


def normalise_ports(ports):
    """(ports in Service spec shape, errors). Each input: {port, target_port, protocol, name}."""
    errors = []
    out = []
    if not ports:
        return [], ["ports: a LoadBalancer Service needs at least one port ({port: 80, target_port: 8080})."]
    names = []
    for index, item in enumerate(ports):
        where = f"ports[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: {item!r} must be a mapping with port, target_port, protocol and name.")
            continue
        unknown = sorted(set(item) - {"port", "target_port", "protocol", "name", "node_port", "app_protocol"})
        if unknown:
            errors.append(f"{where}: unknown keys {', '.join(unknown)}; use port, target_port, protocol, name, node_port, app_protocol.")
        number = port_number(item.get("port"))
        if number is None or not 1 <= number <= 65535:
            errors.append(f"{where}.port: {item.get('port')!r} must be a port number from 1 to 65535.")
            continue
        entry = {"port": number}
        protocol = str(item.get("protocol") or "TCP").upper()
        if protocol not in ("TCP", "UDP"):
            errors.append(f"{where}.protocol: {item.get('protocol')!r} is not supported by Azure Load Balancer; use TCP or UDP.")
        entry["protocol"] = protocol
        target = item.get("target_port")
        if target is None:
            target = number
        target_number = port_number(target)
        if target_number is not None:
            if not 1 <= target_number <= 65535:
                errors.append(f"{where}.target_port: {target!r} must be a port number from 1 to 65535 or a container port name.")
            entry["targetPort"] = target_number
        elif is_port_name(target):
            entry["targetPort"] = target
        else:
            errors.append(
                f"{where}.target_port: {target!r} must be a port number or a container port name "
                "(at most 15 lowercase letters, digits and '-', with a letter)."
            )
        name = item.get("name")
        if name is not None:
            if not isinstance(name, str) or len(name) > 63 or not DNS1123_LABEL.match(name):
                errors.append(f"{where}.name: {name!r} must be a DNS label (lowercase letters, digits and '-').")
            entry["name"] = name
            names.append(name)
        if item.get("node_port") is not None:
            node_port = port_number(item["node_port"])
            if node_port is None or not 30000 <= node_port <= 32767:
                errors.append(f"{where}.node_port: {item['node_port']!r} must be in the node port range 30000-32767.")
            entry["nodePort"] = node_port
        if item.get("app_protocol"):
            entry["appProtocol"] = str(item["app_protocol"])
        out.append(entry)
    if len(out) > 1 and len(names) != len(out):
        errors.append("ports: with more than one port every port needs a name (the API requires it).")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        errors.append(f"ports: the names {', '.join(duplicates)} are used more than once; port names must be unique.")
    keys = [(p["port"], p["protocol"]) for p in out]
    if len(set(keys)) != len(keys):
        errors.append("ports: the same port and protocol appear twice.")
    return out, errors


def _ip(value):
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None


def _network(value):
    try:
        return ipaddress.ip_network(str(value).strip(), strict=True)
    except ValueError:
        return None


def preflight(params):
    """(errors, warnings) for the lb_service options; nothing here needs the cluster or Azure."""
    errors, warnings = [], []
    name = params.get("name") or ""
    if len(name) > 63 or not DNS1035_LABEL.match(name):
        errors.append(f"name: {name!r} must be a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, at most 63 characters).")
    namespace = params.get("namespace") or ""
    if len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
        errors.append(f"namespace: {namespace!r} must be a DNS label (lowercase letters, digits and '-').")
    if params.get("state", "present") == "absent":
        return errors, warnings
    _ports, port_errors = normalise_ports(params.get("ports"))
    errors.extend(port_errors)
    internal = bool(params.get("internal"))
    static_ip = params.get("static_ip")
    subnet = params.get("internal_subnet")
    subnet_cidr = params.get("internal_subnet_cidr")
    if subnet and not internal:
        errors.append(f"internal_subnet: {subnet!r} applies to internal load balancers only; set internal: true or remove internal_subnet.")
    if subnet_cidr and not internal:
        errors.append("internal_subnet_cidr applies to internal load balancers only; set internal: true or remove it.")
    cidr = None
    if subnet_cidr:
        cidr = _network(subnet_cidr)
        if cidr is None:
            errors.append(f"internal_subnet_cidr: {subnet_cidr!r} is not a CIDR with the host bits zero (e.g. 10.224.0.0/16).")
    if static_ip == ADDRESS_KNOWN_AFTER_APPLY:
        if internal:
            errors.append(f"static_ip: {static_ip!r} stands for a public IP created in the same run; an internal load balancer cannot use one.")
        elif not params.get("_check_mode"):
            errors.append(
                f"static_ip: {static_ip!r} is the check-mode placeholder for a public IP that does not exist yet; outside check mode "
                "pass the address (the address returned by aksnet.networking.public_ip)."
            )
    elif static_ip:
        address = _ip(static_ip)
        if address is None or address.version != 4:
            errors.append(
                f"static_ip: {static_ip!r} must be an IPv4 address (the azure-load-balancer-ipv4 annotation); "
                "for IPv6 set the azure-load-balancer-ipv6 annotation through annotations."
            )
        elif internal:
            if address.is_global:
                errors.append(
                    f"static_ip: {static_ip} is a public address but internal is true; an internal load balancer needs a private address "
                    "of the cluster's subnet (or internal_subnet)."
                )
            elif cidr is not None:
                if address not in cidr:
                    errors.append(
                        f"static_ip: {static_ip} is outside internal_subnet_cidr {cidr}; Azure refuses it (PrivateIPAddressNotInSubnet) "
                        "and the Service would stay pending. Choose a free address inside the subnet."
                    )
                elif int(address) - int(cidr.network_address) < AZURE_RESERVED_LOW or address == cidr.broadcast_address:
                    errors.append(
                        f"static_ip: {static_ip} is one of the five addresses Azure reserves in {cidr} (the first four and the last); "
                        "choose another address of the subnet."
                    )
            else:
                warnings.append(
                    f"static_ip: {static_ip} could not be checked against the subnet: pass internal_subnet_cidr (the subnet's address prefix) "
                    "so that an address outside it fails here instead of leaving the Service pending."
                )
        else:
            if not address.is_global:
                errors.append(
                    f"static_ip: {static_ip} is a private address but internal is false; a public load balancer needs a Standard public IP "
                    "(create one with aksnet.networking.public_ip), or set internal: true for a private address."
                )
            elif not params.get("ip_resource_group"):
                warnings.append(
                    f"static_ip: {static_ip} without ip_resource_group: the cloud provider looks the address up in the cluster's node resource group "
                    "(MC_...) only. If the public IP lives in another resource group, set ip_resource_group to it (and give the cluster identity "
                    "Network Contributor there), otherwise the Service stays pending with SyncLoadBalancerFailed."
                )
    if params.get("ip_resource_group") and internal:
        errors.append("ip_resource_group names the resource group of a public IP; an internal load balancer has none. Remove it or set internal: false.")
    if params.get("ip_resource_group") and not static_ip:
        warnings.append("ip_resource_group is set without static_ip: the annotation only matters when the Service asks for a static public IP.")
    path = params.get("health_probe_path")
    if path is not None and not str(path).startswith("/"):
        errors.append(f"health_probe_path: {path!r} must be an absolute HTTP path such as /healthz.")
    for key in params.get("annotations") or {}:
        if key in MANAGED_ANNOTATIONS:
            errors.append(f"annotations: {key} is set from the option {MANAGED_ANNOTATIONS[key]}; use that option instead of the raw annotation.")
    if params.get("annotations") and not all(isinstance(v, str) for v in params["annotations"].values()):
        bad = sorted(k for k, v in params["annotations"].items() if not isinstance(v, str))
        errors.append(f"annotations: the values of {', '.join(bad)} must be strings (quote true/false and numbers).")
    return errors, warnings


def managed_annotations(params):
    """The AKS annotations the options ask for (only the keys that are set)."""
    out = {}
    if params.get("internal"):
        out[INTERNAL] = "true"
        if params.get("internal_subnet"):
            out[INTERNAL_SUBNET] = str(params["internal_subnet"])
    if params.get("static_ip"):
        out[IPV4] = str(params["static_ip"]).strip()
    if params.get("ip_resource_group") and not params.get("internal"):
        out[RESOURCE_GROUP] = str(params["ip_resource_group"])
    if params.get("health_probe_path"):
        out[PROBE_PATH] = str(params["health_probe_path"])
    return out


def service_manifest(params):
    """The Service the options describe (type LoadBalancer; never spec.loadBalancerIP)."""
    ports, _errors = normalise_ports(params.get("ports"))
    annotations = dict(params.get("annotations") or {})
    annotations.update(managed_annotations(params))
    metadata = {"name": params["name"], "namespace": params["namespace"]}
    if annotations:
        metadata["annotations"] = annotations
    if params.get("labels"):
        metadata["labels"] = dict(params["labels"])
    spec = {"type": "LoadBalancer", "ports": ports}
    if params.get("selector") is not None:
        spec["selector"] = dict(params["selector"])
    if params.get("external_traffic_policy"):
        spec["externalTrafficPolicy"] = params["external_traffic_policy"]
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def stale_annotations(params, current):
    """Managed annotation keys the current Service has but the options no longer ask for."""
    have = ((current or {}).get("metadata") or {}).get("annotations") or {}
    want = managed_annotations(params)
    return sorted(k for k in MANAGED_ANNOTATIONS if k in have and k not in want)


def ingress_address(service):
    """(address, ingress list) from a Service's status; address is the first IP or hostname, or None."""
    ingress = (((service or {}).get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    for item in ingress:
        address = item.get("ip") or item.get("hostname")
        if address:
            return address, ingress
    return None, ingress


def event_lines(events, warnings_only=True):
    """Short texts of a Service's events, newest last: ``Reason: message (xN)``."""
    chosen = [e for e in events or [] if not warnings_only or e.get("type") == "Warning"]
    chosen.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or (e.get("metadata") or {}).get("creationTimestamp") or ""))
    lines = []
    for event in chosen:
        count = int(event.get("count") or (event.get("series") or {}).get("count") or 1)
        suffix = f" (x{count})" if count > 1 else ""
        lines.append(f"{event.get('reason')}: {event.get('message')}{suffix}")
    return lines


def pending_message(service_name, namespace, timeout, events, params):
    """Why the address did not come, for the failure message: the Warning events and a hint from the options."""
    lines = event_lines(events)
    text = f"Service {namespace}/{service_name} got no load balancer address within {timeout} s."
    if lines:
        text += " The cloud provider reported: " + " | ".join(lines[-5:]) + "."
    else:
        text += " No Warning events were recorded for it (kubectl describe service shows the controller's view)."
    joined = " ".join(lines)
    if "findMatchedPIPByLoadBalancerIP" in joined or "cannot find public IP" in joined:
        text += (
            " Fix: the static IP must exist in the node resource group, or set ip_resource_group to the public IP's resource group "
            "(and give the cluster identity Network Contributor there)."
        )
    elif "PrivateIPAddressNotInSubnet" in joined or "PrivateIPAddressInUse" in joined or "PrivateIPAddressIsReserved" in joined:
        text += " Fix: choose a free private address inside the internal load balancer's subnet."
    elif "PublicIPAndLBSkuDoNotMatch" in joined:
        text += " Fix: use a Standard SKU static public IP (aksnet.networking.public_ip creates one)."
    elif params.get("static_ip") and not lines:
        text += " Check that the static IP exists and the cluster identity may use it."
    return text

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure network facts of a cluster: ARM REST JSON in, the ``network`` dict of ``network_info`` out. Pure.

The same dict travels in a snapshot's ``AzureNetworkFacts`` document and is what the step 8
analyzers (:mod:`.step_azure`) read. Every helper takes resources in the ARM REST shape (what a GET
returns, or ``model.as_dict()`` of the azure-mgmt-network models) and returns snake_case facts.
"""

from __future__ import annotations

import ipaddress

from .._aks.cidr import usable_addresses as _usable_in_network
from .nsg import normalize_rule

FACTS_VERSION = 1
VMSS_EFFECTIVE_REASON = ("virtual machine scale set instance NICs have no effective route table / effective security group "
                         "operation in the Azure API; evaluate the subnet and NIC NSGs instead (network_security_groups)")


def _props(res):
    return (res or {}).get("properties") or {}


def _id(ref):
    return (ref or {}).get("id") if isinstance(ref, dict) else None


def id_parts(resource_id):
    """``{subscription_id, resource_group, provider, types: [...], names: [...]}`` of an ARM id (case kept)."""
    parts = [p for p in str(resource_id or "").split("/") if p]
    low = [p.lower() for p in parts]
    out = {"types": [], "names": []}
    if "subscriptions" in low and low.index("subscriptions") + 1 < len(parts):
        out["subscription_id"] = parts[low.index("subscriptions") + 1]
    if "resourcegroups" in low and low.index("resourcegroups") + 1 < len(parts):
        out["resource_group"] = parts[low.index("resourcegroups") + 1]
    if "providers" in low:
        i = low.index("providers")
        out["provider"] = parts[i + 1] if i + 1 < len(parts) else None
        rest = parts[i + 2:]
        out["types"] = rest[0::2]
        out["names"] = rest[1::2]
    return out


def usable_addresses(prefix):
    """Addresses a subnet can hand out: all but the 5 Azure reserves (IPv4)."""
    try:
        net = ipaddress.ip_network(str(prefix), strict=False)
    except ValueError:
        return None
    if net.version == 6:
        return None  # IPv6 subnets are /64: never the constraint
    return _usable_in_network(net)


# ------------------------------------------------------------------------------ cluster


def pool_facts(pool):
    upgrade = pool.get("upgradeSettings") or {}
    return {
        "name": pool.get("name"), "mode": pool.get("mode"), "type": pool.get("type"), "vm_size": pool.get("vmSize"),
        "count": pool.get("count"), "min_count": pool.get("minCount"), "max_count": pool.get("maxCount"),
        "enable_auto_scaling": bool(pool.get("enableAutoScaling")), "max_pods": pool.get("maxPods"), "max_surge": upgrade.get("maxSurge"),
        "vnet_subnet_id": pool.get("vnetSubnetID"), "pod_subnet_id": pool.get("podSubnetID"),
    }


def cluster_section(cluster, facts):
    """``cluster`` of the network facts: identity, network profile (cluster_facts shape) and pools with scaling fields."""
    props = _props(cluster)
    return {
        "id": facts.get("id"), "name": facts.get("name"), "resource_group": facts.get("resource_group"), "location": facts.get("location"),
        "node_resource_group": facts.get("node_resource_group"), "network_profile": facts.get("network_profile") or {},
        "agent_pools": [pool_facts(p) for p in props.get("agentPoolProfiles") or []],
    }


# ------------------------------------------------------------------------------ load balancers


def load_balancer_facts(lb, public_ips_by_id):
    props = _props(lb)
    frontends = []
    for fe in props.get("frontendIPConfigurations") or []:
        fp = _props(fe)
        pip_id = _id(fp.get("publicIPAddress"))
        pip = public_ips_by_id.get(str(pip_id or "").lower()) or {}
        frontends.append({
            "id": fe.get("id"), "name": fe.get("name"), "private_ip_address": fp.get("privateIPAddress"),
            "public_ip_id": pip_id, "public_ip_address": pip.get("ip_address"), "subnet_id": _id(fp.get("subnet")),
        })
    rules = []
    for rule in props.get("loadBalancingRules") or []:
        rp = _props(rule)
        rules.append({
            "id": rule.get("id"), "name": rule.get("name"), "protocol": rp.get("protocol"), "frontend_port": rp.get("frontendPort"),
            "backend_port": rp.get("backendPort"), "frontend_id": _id(rp.get("frontendIPConfiguration")), "probe_id": _id(rp.get("probe")),
            "enable_floating_ip": rp.get("enableFloatingIP"), "backend_pool_ids": [_id(p) for p in rp.get("backendAddressPools") or []]
            or ([_id(rp.get("backendAddressPool"))] if rp.get("backendAddressPool") else []),
        })
    probes = [{"id": p.get("id"), "name": p.get("name"), "protocol": _props(p).get("protocol"), "port": _props(p).get("port"),
               "request_path": _props(p).get("requestPath"), "interval": _props(p).get("intervalInSeconds"),
               "number_of_probes": _props(p).get("numberOfProbes")} for p in props.get("probes") or []]
    pools = [{"id": p.get("id"), "name": p.get("name"),
              "members": len(_props(p).get("backendIPConfigurations") or []) + len(_props(p).get("loadBalancerBackendAddresses") or [])}
             for p in props.get("backendAddressPools") or []]
    internal = bool(frontends) and all(f["public_ip_id"] is None for f in frontends)
    return {
        "id": lb.get("id"), "name": lb.get("name"), "resource_group": id_parts(lb.get("id")).get("resource_group"),
        "sku": (lb.get("sku") or {}).get("name"), "internal": internal, "frontends": frontends, "rules": rules, "probes": probes,
        "backend_pools": pools, "outbound_rules": [o.get("name") for o in props.get("outboundRules") or []],
    }


# ------------------------------------------------------------------------------ NSGs, route tables, public IPs


def nsg_facts(nsg):
    props = _props(nsg)
    return {
        "id": nsg.get("id"), "name": nsg.get("name"), "resource_group": id_parts(nsg.get("id")).get("resource_group"),
        "rules": sorted((normalize_rule(r, default=False) for r in props.get("securityRules") or []), key=lambda r: (r["direction"], r["priority"])),
        "default_rules": [normalize_rule(r, default=True) for r in props.get("defaultSecurityRules") or []],
        "subnet_ids": [_id(s) for s in props.get("subnets") or []],
        "nic_ids": [_id(n) for n in props.get("networkInterfaces") or []],
    }


def route_table_facts(table):
    props = _props(table)
    return {
        "id": table.get("id"), "name": table.get("name"), "resource_group": id_parts(table.get("id")).get("resource_group"),
        "disable_bgp_route_propagation": props.get("disableBgpRoutePropagation"),
        "subnet_ids": [_id(s) for s in props.get("subnets") or []],
        "routes": [{"name": r.get("name"), "address_prefix": _props(r).get("addressPrefix"), "next_hop_type": _props(r).get("nextHopType"),
                    "next_hop_ip_address": _props(r).get("nextHopIpAddress")} for r in props.get("routes") or []],
    }


def public_ip_facts(pip):
    props = _props(pip)
    return {
        "id": pip.get("id"), "name": pip.get("name"), "resource_group": id_parts(pip.get("id")).get("resource_group"),
        "location": pip.get("location"), "ip_address": props.get("ipAddress"), "version": props.get("publicIPAddressVersion"),
        "sku": (pip.get("sku") or {}).get("name"), "allocation_method": props.get("publicIPAllocationMethod"),
        "ip_configuration_id": _id(props.get("ipConfiguration")), "tags": dict(pip.get("tags") or {}),
    }


# ------------------------------------------------------------------------------ subnets


def subnet_facts(vnet, subnet, usage, roles):
    """One subnet: size (usable addresses), used (usage API, else ipConfigurations), free, NSG, route table, pools."""
    props = _props(subnet)
    prefixes = list(props.get("addressPrefixes") or ([props["addressPrefix"]] if props.get("addressPrefix") else []))
    sizes = [usable_addresses(p) for p in prefixes]
    size = sum(s for s in sizes if s is not None) if any(s is not None for s in sizes) else None
    if usage is not None:
        used = usage.get("currentValue")
        size = usage.get("limit") if usage.get("limit") not in (None, -1) else size
    else:
        used = len(props.get("ipConfigurations") or [])
    role, pools = roles.get(str(subnet.get("id")).lower(), ("node", []))
    vparts = id_parts(vnet.get("id"))
    return {
        "id": subnet.get("id"), "name": subnet.get("name"), "vnet_name": vnet.get("name"), "vnet_id": vnet.get("id"),
        "resource_group": vparts.get("resource_group"), "address_prefixes": prefixes,
        "vnet_address_prefixes": list(((_props(vnet).get("addressSpace") or {}).get("addressPrefixes")) or []),
        "size": size, "used": used, "free": (size - used) if size is not None and used is not None else None,
        "nsg_id": _id(props.get("networkSecurityGroup")), "route_table_id": _id(props.get("routeTable")),
        "nat_gateway_id": _id(props.get("natGateway")), "delegations": [(_props(d).get("serviceName")) for d in props.get("delegations") or []],
        "role": role, "pools": pools, "ip_configuration_ids": [_id(c) for c in props.get("ipConfigurations") or []],
    }


def subnet_roles(pools, managed_subnet_ids=()):
    """subnet id (lower case) -> (role, [pool names]); pools without vnetSubnetID use the managed VNet's subnet(s)."""
    roles = {}
    for pool in pools:
        subnet_ids = [pool.get("vnet_subnet_id")] if pool.get("vnet_subnet_id") else list(managed_subnet_ids)
        for sid in subnet_ids:
            _role, names = roles.setdefault(str(sid).lower(), ("node", []))
            names.append(pool["name"])
        if pool.get("pod_subnet_id"):
            _role, names = roles.setdefault(str(pool["pod_subnet_id"]).lower(), ("pod", []))
            names.append(pool["name"])
    return roles


def nic_owners(ip_configuration_ids):
    """From subnet ipConfiguration ids: ``{"vmss": {(rg, vmss name)}, "standalone": {(rg, nic name)}}``."""
    vmss, standalone = set(), set()
    for config_id in ip_configuration_ids:
        parts = id_parts(config_id)
        types = [t.lower() for t in parts["types"]]
        rg = parts.get("resource_group")
        if types[:3] == ["virtualmachinescalesets", "virtualmachines", "networkinterfaces"]:
            vmss.add((rg, parts["names"][0]))
        elif types[:1] == ["networkinterfaces"]:
            standalone.add((rg, parts["names"][0]))
    return {"vmss": vmss, "standalone": standalone}


# ------------------------------------------------------------------------------ NICs and effective state


def nic_facts(nic, standalone):
    props = _props(nic)
    configs = sorted(props.get("ipConfigurations") or [], key=lambda c: not _props(c).get("primary"))
    parts = id_parts(nic.get("id"))
    types = [t.lower() for t in parts["types"]]
    vmss = parts["names"][0] if types[:1] == ["virtualmachinescalesets"] else None
    instance = parts["names"][1] if vmss and len(parts["names"]) > 1 else None
    facts = {
        "id": nic.get("id"), "name": nic.get("name"), "resource_group": parts.get("resource_group"), "kind": "standalone" if standalone else "vmss",
        "vmss": vmss, "instance_id": instance, "vm_id": _id(props.get("virtualMachine")),
        "private_ip_addresses": [_props(c).get("privateIPAddress") for c in configs if _props(c).get("privateIPAddress")],
        "ip_configurations": len(configs), "subnet_id": _id(_props(configs[0]).get("subnet")) if configs else None,
        "nsg_id": _id(props.get("networkSecurityGroup")), "enable_ip_forwarding": props.get("enableIPForwarding"),
        "enable_accelerated_networking": props.get("enableAcceleratedNetworking"),
        "effective": {"supported": bool(standalone), "reason": None if standalone else VMSS_EFFECTIVE_REASON,
                      "routes": None, "network_security_groups": None},
    }
    return facts


def effective_routes_facts(result):
    return [{"source": r.get("source"), "state": r.get("state"), "address_prefixes": list(r.get("addressPrefix") or []),
             "next_hop_type": r.get("nextHopType"), "next_hop_ip_addresses": list(r.get("nextHopIpAddress") or [])}
            for r in (result or {}).get("value") or []]


def effective_nsgs_facts(result):
    out = []
    for item in (result or {}).get("value") or []:
        assoc = item.get("association") or {}
        out.append({
            "nsg_id": _id(item.get("networkSecurityGroup")),
            "association": "subnet" if assoc.get("subnet") else ("network_interface" if assoc.get("networkInterface") else None),
            "rules": [{
                "name": r.get("name"), "priority": r.get("priority"), "direction": r.get("direction"), "access": r.get("access"),
                "protocol": r.get("protocol"),
                "source": list(r.get("sourceAddressPrefixes") or []) or ([r["sourceAddressPrefix"]] if r.get("sourceAddressPrefix") else []),
                "destination": list(r.get("destinationAddressPrefixes") or [])
                or ([r["destinationAddressPrefix"]] if r.get("destinationAddressPrefix") else []),
                "destination_ports": list(r.get("destinationPortRanges") or [])
                or ([r["destinationPortRange"]] if r.get("destinationPortRange") else []),
            } for r in item.get("effectiveSecurityRules") or []],
        })
    return out

"""Real-shaped Microsoft.Network resources for the ARM simulator (virtual networks, subnets, public IPs,
load balancers, network security groups). Builders only: the simulator stores and serves them."""

from __future__ import annotations

import ipaddress
from typing import Any, Optional

from .arm_common import build_id, new_etag, stable_hex, stable_uuid

NETWORK = "Microsoft.Network"
PUBLIC_IP_POOL = ipaddress.ip_network("20.0.0.0/8")


def _base(sub: str, rg: str, kind: str, name: str, location: str, tags: Optional[dict[str, str]] = None) -> dict[str, Any]:
    rid = build_id(sub, rg, NETWORK, [kind], [name])
    res: dict[str, Any] = {"id": rid, "name": name, "type": f"{NETWORK}/{kind}", "location": location, "etag": new_etag()}
    if tags:
        res["tags"] = dict(tags)
    return res


def subnet(vnet_id: str, name: str, prefix: str, **extra: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "addressPrefix": prefix,
        "delegations": [],
        "privateEndpointNetworkPolicies": "Disabled",
        "privateLinkServiceNetworkPolicies": "Enabled",
    }
    props.update(extra)
    return {"id": f"{vnet_id}/subnets/{name}", "name": name, "type": f"{NETWORK}/virtualNetworks/subnets", "etag": new_etag(), "properties": props}


def virtual_network(sub: str, rg: str, name: str, location: str, prefixes: list[str], subnets: list[tuple[str, str]]) -> dict[str, Any]:
    vnet = _base(sub, rg, "virtualNetworks", name, location)
    vnet["properties"] = {
        "provisioningState": "Succeeded",
        "resourceGuid": stable_uuid(vnet["id"]),
        "addressSpace": {"addressPrefixes": list(prefixes)},
        "subnets": [subnet(vnet["id"], sname, sprefix) for sname, sprefix in subnets],
        "virtualNetworkPeerings": [],
        "enableDdosProtection": False,
    }
    return vnet


def public_ip(sub: str, rg: str, name: str, location: str, body: dict[str, Any], address: str) -> dict[str, Any]:
    pip = _base(sub, rg, "publicIPAddresses", name, location, body.get("tags"))
    requested = body.get("properties") or {}
    pip["sku"] = {"name": (body.get("sku") or {}).get("name", "Standard"), "tier": (body.get("sku") or {}).get("tier", "Regional")}
    if body.get("zones"):
        pip["zones"] = list(body["zones"])
    props = {
        "provisioningState": "Succeeded",
        "resourceGuid": stable_uuid(pip["id"]),
        "publicIPAddressVersion": requested.get("publicIPAddressVersion", "IPv4"),
        "publicIPAllocationMethod": requested.get("publicIPAllocationMethod", "Static"),
        "idleTimeoutInMinutes": requested.get("idleTimeoutInMinutes", 4),
        "ipTags": requested.get("ipTags", []),
        "ipAddress": address,
    }
    if requested.get("dnsSettings"):
        label = requested["dnsSettings"].get("domainNameLabel")
        props["dnsSettings"] = {"domainNameLabel": label, "fqdn": f"{label}.{location}.cloudapp.azure.com"}
    pip["properties"] = props
    return pip


def allocate_public_ip(resource_id: str, taken: set[str]) -> str:
    """A stable address from 20.0.0.0/8 for ``resource_id``: the same id gets the same address."""
    size = PUBLIC_IP_POOL.num_addresses
    offset = int(stable_hex(resource_id, 12), 16) % size
    for step in range(size):
        candidate = PUBLIC_IP_POOL.network_address + (offset + step) % size
        last = int(candidate) & 0xFF
        if last in (0, 255) or str(candidate) in taken:
            continue
        return str(candidate)
    raise RuntimeError("public IP pool exhausted")


DEFAULT_SECURITY_RULES = [
    ("AllowVnetInBound", "Inbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork", "Allow inbound traffic from all VMs in VNET"),
    ("AllowAzureLoadBalancerInBound", "Inbound", 65001, "Allow", "AzureLoadBalancer", "*", "Allow inbound traffic from azure load balancer"),
    ("DenyAllInBound", "Inbound", 65500, "Deny", "*", "*", "Deny all inbound traffic"),
    ("AllowVnetOutBound", "Outbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork", "Allow outbound traffic from all VMs to all VMs in VNET"),
    ("AllowInternetOutBound", "Outbound", 65001, "Allow", "*", "Internet", "Allow outbound traffic from all VMs to Internet"),
    ("DenyAllOutBound", "Outbound", 65500, "Deny", "*", "*", "Deny all outbound traffic"),
]


def security_rule(nsg_id: str, collection: str, name: str, **props: Any) -> dict[str, Any]:
    return {
        "id": f"{nsg_id}/{collection}/{name}",
        "name": name,
        "type": f"{NETWORK}/networkSecurityGroups/{collection}",
        "etag": new_etag(),
        "properties": {"provisioningState": "Succeeded", **props},
    }


def network_security_group(sub: str, rg: str, name: str, location: str) -> dict[str, Any]:
    nsg = _base(sub, rg, "networkSecurityGroups", name, location)
    defaults = [
        security_rule(
            nsg["id"], "defaultSecurityRules", rname,
            description=desc, protocol="*", sourcePortRange="*", destinationPortRange="*", sourceAddressPrefix=src,
            destinationAddressPrefix=dst, access=access, priority=priority, direction=direction,
            sourcePortRanges=[], destinationPortRanges=[], sourceAddressPrefixes=[], destinationAddressPrefixes=[],
        )
        for rname, direction, priority, access, src, dst, desc in DEFAULT_SECURITY_RULES
    ]
    nsg["properties"] = {"provisioningState": "Succeeded", "resourceGuid": stable_uuid(nsg["id"]), "securityRules": [], "defaultSecurityRules": defaults}
    return nsg


def load_balancer(sub: str, rg: str, name: str, location: str, outbound_pip_id: Optional[str]) -> dict[str, Any]:
    """The Standard load balancer AKS creates in the node resource group (outbound rule only, until Services add rules)."""
    lb = _base(sub, rg, "loadBalancers", name, location)
    lb["sku"] = {"name": "Standard", "tier": "Regional"}
    lb_id = lb["id"]
    frontends: list[dict[str, Any]] = []
    outbound_rules: list[dict[str, Any]] = []
    pools = [
        {"id": f"{lb_id}/backendAddressPools/kubernetes", "name": "kubernetes", "etag": new_etag(),
         "type": f"{NETWORK}/loadBalancers/backendAddressPools", "properties": {"provisioningState": "Succeeded", "loadBalancerBackendAddresses": []}},
    ]
    if outbound_pip_id:
        fe_name = stable_uuid(outbound_pip_id)
        frontends.append({
            "id": f"{lb_id}/frontendIPConfigurations/{fe_name}", "name": fe_name, "etag": new_etag(),
            "type": f"{NETWORK}/loadBalancers/frontendIPConfigurations",
            "properties": {"provisioningState": "Succeeded", "privateIPAllocationMethod": "Dynamic", "publicIPAddress": {"id": outbound_pip_id},
                           "outboundRules": [{"id": f"{lb_id}/outboundRules/aksOutboundRule"}]},
        })
        pools.append({"id": f"{lb_id}/backendAddressPools/aksOutboundBackendPool", "name": "aksOutboundBackendPool", "etag": new_etag(),
                      "type": f"{NETWORK}/loadBalancers/backendAddressPools",
                      "properties": {"provisioningState": "Succeeded", "loadBalancerBackendAddresses": []}})
        outbound_rules.append({
            "id": f"{lb_id}/outboundRules/aksOutboundRule", "name": "aksOutboundRule", "etag": new_etag(),
            "type": f"{NETWORK}/loadBalancers/outboundRules",
            "properties": {"provisioningState": "Succeeded", "allocatedOutboundPorts": 0, "protocol": "All", "enableTcpReset": True,
                           "idleTimeoutInMinutes": 30, "backendAddressPool": {"id": f"{lb_id}/backendAddressPools/aksOutboundBackendPool"},
                           "frontendIPConfigurations": [{"id": frontends[0]["id"]}]},
        })
    lb["properties"] = {
        "provisioningState": "Succeeded",
        "resourceGuid": stable_uuid(lb_id),
        "frontendIPConfigurations": frontends,
        "backendAddressPools": pools,
        "loadBalancingRules": [],
        "probes": [],
        "inboundNatRules": [],
        "inboundNatPools": [],
        "outboundRules": outbound_rules,
    }
    return lb


# Child collections served under a parent (GET list and GET item), per parent type.
CHILD_COLLECTIONS = {
    "loadbalancers": ("frontendIPConfigurations", "backendAddressPools", "loadBalancingRules", "probes", "inboundNatRules", "outboundRules"),
    "networksecuritygroups": ("securityRules", "defaultSecurityRules"),
    "virtualnetworks": ("subnets", "virtualNetworkPeerings"),
}

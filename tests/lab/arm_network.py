"""Real-shaped Microsoft.Network resources for the ARM simulator (virtual networks, subnets, public IPs,
load balancers, network security groups, route tables, scale sets and NICs, effective routes / NSGs).

The builders are pure; :class:`NodeNetworkMixin` (mixed into the simulator) lays out the nodes' network
(scale sets, NICs with addresses from their subnet, kubenet route table), serves the scale-set NIC
routes and the NIC actions, and implements the generic ``/_lab/azure`` route that tests use to add,
replace, patch or delete any resource by id."""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any, Optional

from .arm_common import ArmError, bad_request, build_id, new_etag, parse_resource_id, stable_hex, stable_uuid

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


# Enum properties of publicIPAddresses (azure-rest-api-specs specification/network/resource-manager/.../publicIpAddress.json;
# azure-mgmt-network 33 generates the same lists in models/_enums.py) and the contract type the network RP deserializes each into.
PUBLIC_IP_ENUMS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("sku", "name", ("Basic", "Standard", "StandardV2"), "PublicIPAddressSkuName"),
    ("sku", "tier", ("Regional", "Global"), "PublicIPAddressSkuTier"),
    ("properties", "publicIPAllocationMethod", ("Static", "Dynamic"), "IpAllocationMethod"),
    ("properties", "publicIPAddressVersion", ("IPv4", "IPv6"), "IPVersion"),
)
_NRP_CONTRACT = "Microsoft.WindowsAzure.Networking.Nrp.Frontend.Contract.Csm.Public"


def check_public_ip_enums(body: dict[str, Any]) -> None:
    """The network RP deserializes the PUT body with Json.NET (enum names match case-insensitively); a value that is not
    one of the enum's answers 400 InvalidRequestFormat "Cannot parse the request." with an InvalidJson detail naming the
    value, the type and the property path, as recorded in hashicorp/packer builder/azure/arm/azure_error_response_test.go:
    'Error converting value "playground" to type '...Csm.Public.IpAllocationMethod'. Path 'properties.publicIPAllocationMethod',
    line 1, position 130.' (the type names of the other three enums are assumed by analogy; the line/position is left out)."""
    for section, key, allowed, type_name in PUBLIC_IP_ENUMS:
        part = body.get(section)
        if not isinstance(part, dict) or part.get(key) is None:
            continue
        value = part[key]
        if isinstance(value, str) and value.lower() in {a.lower() for a in allowed}:
            continue
        raise ArmError(400, "InvalidRequestFormat", "Cannot parse the request.", details=[{
            "code": "InvalidJson",
            "message": f"Error converting value {json.dumps(value)} to type '{_NRP_CONTRACT}.{type_name}'. Path '{section}.{key}'.",
        }])


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
CHILD_COLLECTIONS.update({
    "routetables": ("routes",),
    "networkinterfaces": ("ipConfigurations",),
})

COMPUTE = "Microsoft.Compute"
VMSS_NIC_TYPE = f"{COMPUTE}/virtualMachineScaleSets/virtualMachines/networkInterfaces"
# Address ranges Azure adds as "None" system routes (dropped), unless a VNet prefix or a user route overrides them.
_DEFAULT_NONE_ROUTES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8")


def host_address(prefix: str, offset: int) -> str:
    """The address ``offset`` hosts into ``prefix`` (Azure hands out addresses from .4 up: pass 4 + n)."""
    net = ipaddress.ip_network(prefix, strict=False)
    return str(net.network_address + offset)


def route(rt_id: str, name: str, address_prefix: str, next_hop_type: str, next_hop_ip: Optional[str] = None) -> dict[str, Any]:
    props: dict[str, Any] = {"provisioningState": "Succeeded", "addressPrefix": address_prefix, "nextHopType": next_hop_type,
                             "hasBgpOverride": False}
    if next_hop_ip:
        props["nextHopIpAddress"] = next_hop_ip
    return {"id": f"{rt_id}/routes/{name}", "name": name, "type": f"{NETWORK}/routeTables/routes", "etag": new_etag(), "properties": props}


def route_table(sub: str, rg: str, name: str, location: str, routes: Optional[list[dict[str, Any]]] = None) -> dict[str, Any]:
    rt = _base(sub, rg, "routeTables", name, location)
    rt["properties"] = {"provisioningState": "Succeeded", "resourceGuid": stable_uuid(rt["id"]), "disableBgpRoutePropagation": False,
                        "routes": list(routes or [])}
    return rt


def virtual_machine_scale_set(sub: str, rg: str, name: str, location: str, pool: dict[str, Any], subnet_id: Optional[str],
                              nsg_id: Optional[str], ip_forwarding: bool, backend_pool_ids: list[str]) -> dict[str, Any]:
    """The node pool's scale set, with the NIC configuration its instances' NICs are made from."""
    rid = build_id(sub, rg, COMPUTE, ["virtualMachineScaleSets"], [name])
    nic_config: dict[str, Any] = {
        "name": name,
        "properties": {
            "primary": True, "enableAcceleratedNetworking": True, "enableIPForwarding": ip_forwarding,
            "ipConfigurations": [{"name": "ipconfig1", "properties": {
                "primary": True, "privateIPAddressVersion": "IPv4", "subnet": {"id": subnet_id} if subnet_id else None,
                "loadBalancerBackendAddressPools": [{"id": i} for i in backend_pool_ids]}}],
        },
    }
    if nsg_id:
        nic_config["properties"]["networkSecurityGroup"] = {"id": nsg_id}
    return {
        "id": rid, "name": name, "type": f"{COMPUTE}/virtualMachineScaleSets", "location": location,
        "tags": {"aks-managed-poolName": pool["name"], "aks-managed-createOperationID": stable_uuid(rid + "/op")},
        "sku": {"name": pool.get("vmSize", "Standard_D4s_v5"), "tier": "Standard", "capacity": int(pool.get("count") or 0)},
        "properties": {
            "provisioningState": "Succeeded", "uniqueId": stable_uuid(rid), "overprovision": False, "singlePlacementGroup": False,
            "upgradePolicy": {"mode": "Manual"},
            "virtualMachineProfile": {"networkProfile": {"networkInterfaceConfigurations": [nic_config]}},
        },
    }


def network_interface(nic_id: str, name: str, location: Optional[str], ip_configs: list[tuple[str, str, bool]], subnet_id: Optional[str],
                      nsg_id: Optional[str], ip_forwarding: bool, vm_id: Optional[str], backend_pool_ids: list[str],
                      standalone: bool) -> dict[str, Any]:
    """A NIC: ``ip_configs`` are ``(name, private IP, primary)``. VMSS instance NICs come without ``type``/``location``, as the API returns them."""
    configs = []
    for cname, address, primary in ip_configs:
        cprops: dict[str, Any] = {"provisioningState": "Succeeded", "privateIPAddress": address, "privateIPAllocationMethod": "Dynamic",
                                  "privateIPAddressVersion": "IPv4", "primary": primary}
        if subnet_id:
            cprops["subnet"] = {"id": subnet_id}
        if primary and backend_pool_ids:
            cprops["loadBalancerBackendAddressPools"] = [{"id": i} for i in backend_pool_ids]
        configs.append({"id": f"{nic_id}/ipConfigurations/{cname}", "name": cname, "etag": new_etag(), "properties": cprops})
    props: dict[str, Any] = {
        "provisioningState": "Succeeded", "resourceGuid": stable_uuid(nic_id), "ipConfigurations": configs,
        "dnsSettings": {"dnsServers": [], "appliedDnsServers": []}, "macAddress": stable_hex(nic_id, 12).upper(),
        "enableAcceleratedNetworking": True, "enableIPForwarding": ip_forwarding, "primary": True,
    }
    if nsg_id:
        props["networkSecurityGroup"] = {"id": nsg_id}
    if vm_id:
        props["virtualMachine"] = {"id": vm_id}
    nic: dict[str, Any] = {"id": nic_id, "name": name, "etag": new_etag(), "properties": props}
    if standalone:
        nic["type"] = f"{NETWORK}/networkInterfaces"
        nic["location"] = location
    else:  # stored with a type for the simulator's indexes; the VMSS routes serve it without one
        nic["type"] = VMSS_NIC_TYPE
    return nic


def effective_routes(vnet_prefixes: list[str], table: Optional[dict[str, Any]]) -> list[dict[str, Any]]:
    """``effectiveRouteTable`` of a NIC in a subnet of that VNet (with that route table, if any)."""
    user = [r["properties"] for r in (table or {}).get("properties", {}).get("routes", [])]
    user_prefixes = {u.get("addressPrefix") for u in user}

    def entry(source: str, state: str, prefix: str, hop: str, hop_ip: Optional[str] = None) -> dict[str, Any]:
        return {"source": source, "state": state, "addressPrefix": [prefix], "nextHopType": hop, "nextHopIpAddress": [hop_ip] if hop_ip else [],
                "disableBgpRoutePropagation": False, "hasBgpOverride": False}

    routes = [entry("Default", "Invalid" if p in user_prefixes else "Active", p, "VnetLocal") for p in vnet_prefixes]
    routes.append(entry("Default", "Invalid" if "0.0.0.0/0" in user_prefixes else "Active", "0.0.0.0/0", "Internet"))
    routes += [entry("Default", "Invalid" if p in user_prefixes else "Active", p, "None") for p in _DEFAULT_NONE_ROUTES]
    routes += [entry("User", "Active", u.get("addressPrefix"), u.get("nextHopType"), u.get("nextHopIpAddress")) for u in user]
    return routes


def _effective_rule(rule: dict[str, Any], collection: str) -> dict[str, Any]:
    props = rule["properties"]

    def ports(single: Optional[str], many: Optional[list[str]]) -> list[str]:
        values = list(many or []) or ([single] if single else [])
        return ["0-65535" if v == "*" else (v if "-" in v else f"{v}-{v}") for v in values]

    src_ports = ports(props.get("sourcePortRange"), props.get("sourcePortRanges"))
    dst_ports = ports(props.get("destinationPortRange"), props.get("destinationPortRanges"))
    protocol = props.get("protocol", "*")
    return {
        "name": f"{collection}/{rule['name']}", "protocol": "All" if protocol == "*" else protocol,
        "sourcePortRange": src_ports[0] if len(src_ports) == 1 else None, "destinationPortRange": dst_ports[0] if len(dst_ports) == 1 else None,
        "sourcePortRanges": src_ports, "destinationPortRanges": dst_ports,
        "sourceAddressPrefix": props.get("sourceAddressPrefix"), "sourceAddressPrefixes": list(props.get("sourceAddressPrefixes") or []),
        "destinationAddressPrefix": props.get("destinationAddressPrefix"),
        "destinationAddressPrefixes": list(props.get("destinationAddressPrefixes") or []),
        "access": props.get("access"), "priority": props.get("priority"), "direction": props.get("direction"),
    }


def effective_security_groups(nic_id: str, subnet_id: Optional[str], subnet_nsg: Optional[dict[str, Any]],
                              nic_nsg: Optional[dict[str, Any]]) -> list[dict[str, Any]]:
    """``effectiveNetworkSecurityGroups`` of a NIC: one entry per NSG on the way (subnet, then NIC)."""
    result = []
    for nsg, association in ((subnet_nsg, {"subnet": {"id": subnet_id}}), (nic_nsg, {"networkInterface": {"id": nic_id}})):
        if not nsg:
            continue
        props = nsg["properties"]
        rules = [_effective_rule(r, "securityRules") for r in props.get("securityRules", [])]
        rules += [_effective_rule(r, "defaultSecurityRules") for r in props.get("defaultSecurityRules", [])]
        result.append({"networkSecurityGroup": {"id": nsg["id"]}, "association": association, "effectiveSecurityRules": rules, "tagMap": {}})
    return result


def filled_resource(sub_id_parts: tuple[str, str, str, list[str], list[str]], body: dict[str, Any], location: str) -> dict[str, Any]:
    """A resource stored through the lab route: id, name and type from its id, a few server-filled fields, NSG default rules."""
    sub, rg, namespace, types, names = sub_id_parts
    res = dict(body)
    res["id"] = build_id(sub, rg, namespace, types, names)
    res["name"] = names[-1]
    res["type"] = f"{namespace}/{'/'.join(types)}"  # VMSS instance NICs: stripped when served, as the API returns them
    if len(types) == 1:
        res.setdefault("location", location)
    props = res.setdefault("properties", {})
    props.setdefault("provisioningState", "Succeeded")
    if namespace.lower() == NETWORK.lower():
        res.setdefault("etag", new_etag())
    if [t.lower() for t in types] == ["networksecuritygroups"]:
        template = network_security_group(sub, rg, names[-1], location)
        props.setdefault("defaultSecurityRules", template["properties"]["defaultSecurityRules"])
        props.setdefault("securityRules", [])
        props["securityRules"] = [_child(res["id"], "securityRules", r) for r in props["securityRules"]]
    if [t.lower() for t in types] == ["routetables"]:
        props["routes"] = [_child(res["id"], "routes", r) for r in props.get("routes", [])]
        props.setdefault("disableBgpRoutePropagation", False)
    return res


def _child(parent_id: str, collection: str, child: dict[str, Any]) -> dict[str, Any]:
    out = dict(child)
    out["id"] = f"{parent_id}/{collection}/{child['name']}"
    out.setdefault("type", f"{parent_id.split('/providers/')[1].split('/')[0]}/{parent_id.split('/')[-2]}/{collection}")
    out.setdefault("etag", new_etag())
    out.setdefault("properties", {}).setdefault("provisioningState", "Succeeded")
    return out


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """JSON merge patch (RFC 7396): dicts merge, None deletes, anything else replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class NodeNetworkMixin:
    """The nodes' network for the simulator: needs ``_resources``, ``_ipconfigs``, ``_groups``, ``subscription_id``,
    ``_start_operation``, ``_lro_headers`` and ``_render`` from :class:`tests.lab.arm.ArmSimulator`."""

    _resources: dict[str, dict[str, Any]]
    _ipconfigs: dict[str, dict[str, list[str]]]
    _groups: dict[str, dict[str, Any]]
    subscription_id: str

    # ------------------------------------------------------------------ layout

    @staticmethod
    def _standalone_pool(pool: dict[str, Any]) -> bool:
        return str(pool.get("type") or "").lower() in ("virtualmachines", "availabilityset")

    def _find_subnet(self, subnet_id: Optional[str]) -> tuple[Optional[dict[str, Any]], Optional[dict[str, Any]]]:
        parsed = parse_resource_id(subnet_id)
        if parsed is None or len(parsed.names) != 2:
            return None, None
        vnet = self._resources.get(build_id(parsed.subscription, parsed.resource_group, parsed.namespace, parsed.types[:1], parsed.names[:1]).lower())
        if vnet is None:
            return None, None
        for sub in vnet["properties"].get("subnets", []):
            if sub["name"].lower() == parsed.names[1].lower():
                return vnet, sub
        return vnet, None

    def _subnet_addresses(self, subnet_id: str) -> dict[str, str]:
        """ipConfiguration id (lower case) -> private address, handed out from .4 up in registration order."""
        _vnet, sub = self._find_subnet(subnet_id)
        if sub is None:
            return {}
        prefix = sub["properties"].get("addressPrefix") or (sub["properties"].get("addressPrefixes") or [None])[0]
        if not prefix:
            return {}
        result = {}
        offset = 4
        for ids in self._ipconfigs.get(subnet_id.lower(), {}).values():
            for config_id in ids:
                result[config_id.lower()] = host_address(prefix, offset)
                offset += 1
        return result

    def _build_node_network(self, cluster: dict[str, Any], nsg_id: str, managed_subnet: Optional[str]) -> None:
        """Scale sets and NICs of every pool, NSG on the NICs (and on a managed subnet), kubenet route table and routes."""
        props = cluster["properties"]
        sub, node_rg, location = self.subscription_id, props["nodeResourceGroup"], cluster["location"]
        prefix = f"/subscriptions/{sub}/resourcegroups/{node_rg.lower()}/providers/"
        for key in [k for k in self._resources if k.startswith(prefix + "microsoft.compute/") or k.startswith(prefix + "microsoft.network/networkinterfaces/")]:
            del self._resources[key]
        net_profile = props["networkProfile"]
        kubenet = str(net_profile.get("networkPlugin", "")).lower() == "kubenet"
        lb = self._resources.get(build_id(sub, node_rg, NETWORK, ["loadBalancers"], ["kubernetes"]).lower())
        backend_pools = [p["id"] for p in lb["properties"]["backendAddressPools"]] if lb else []
        if managed_subnet:
            _vnet, msub = self._find_subnet(managed_subnet)
            if msub is not None:
                msub["properties"].setdefault("networkSecurityGroup", {"id": nsg_id})
        rt = None
        if kubenet:
            rt_name = f"aks-agentpool-{int(stable_hex(cluster['id']), 16) % 10**8:08d}-routetable"
            rt_key = build_id(sub, node_rg, NETWORK, ["routeTables"], [rt_name]).lower()
            rt = self._resources.get(rt_key) or route_table(sub, node_rg, rt_name, location)
            rt["properties"]["routes"] = []
            self._resources[rt_key] = rt
        pod_cidr = ipaddress.ip_network(net_profile.get("podCidr") or "10.244.0.0/16", strict=False) if kubenet else None
        node_number = 0
        for pool in props["agentPoolProfiles"]:
            vmss_name = f"aks-{pool['name']}-{int(stable_hex(cluster['id'] + pool['name']), 16) % 10**8:08d}-vmss"
            node_subnet = pool.get("vnetSubnetID") or managed_subnet
            if rt is not None and node_subnet:
                _vnet, nsub = self._find_subnet(node_subnet)
                if nsub is not None:
                    nsub["properties"].setdefault("routeTable", {"id": rt["id"]})
            addresses = self._subnet_addresses(node_subnet) if node_subnet else {}
            standalone = self._standalone_pool(pool)
            if not standalone:
                vmss = virtual_machine_scale_set(sub, node_rg, vmss_name, location, pool, node_subnet, nsg_id, kubenet, backend_pools)
                self._resources[vmss["id"].lower()] = vmss
            owner_ids = self._ipconfigs.get((node_subnet or "").lower(), {}).get(cluster["id"].lower(), [])
            for index in range(int(pool.get("count") or 0)):
                if standalone:
                    nic_name = f"{vmss_name[:-5]}-nic-{index}"
                    nic_id = build_id(sub, node_rg, NETWORK, ["networkInterfaces"], [nic_name])
                    vm_id = build_id(sub, node_rg, COMPUTE, ["virtualMachines"], [f"{vmss_name[:-5]}-{index}"])
                else:
                    nic_name = vmss_name
                    vm_id = build_id(sub, node_rg, COMPUTE, ["virtualMachineScaleSets", "virtualMachines"], [vmss_name, str(index)])
                    nic_id = f"{vm_id}/networkInterfaces/{nic_name}"
                configs = [(i.rsplit("/", 1)[1], addresses.get(i.lower(), ""), i.endswith("/ipconfig1"))
                           for i in owner_ids if i.lower().startswith(nic_id.lower() + "/")]
                nic = network_interface(nic_id, nic_name, location, configs, node_subnet, nsg_id, kubenet, vm_id, backend_pools, standalone)
                self._resources[nic_id.lower()] = nic
                if rt is not None and pod_cidr is not None and configs:
                    node_cidr = list(pod_cidr.subnets(new_prefix=24))[node_number] if pod_cidr.prefixlen <= 24 else pod_cidr
                    node_name = self._node_name(vmss_name, index, standalone)
                    rname = f"{node_name}____{str(node_cidr).replace('.', '').replace('/', '')}"
                    rt["properties"]["routes"].append(route(rt["id"], rname, str(node_cidr), "VirtualAppliance", configs[0][1]))
                node_number += 1

    @staticmethod
    def _node_name(vmss_name: str, index: int, standalone: bool) -> str:
        return f"{vmss_name[:-5]}-{index}" if standalone else f"{vmss_name}{index:06d}"

    def cluster_nodes(self, resource_group: str, name: str) -> list[dict[str, Any]]:
        """The cluster's nodes as Kubernetes would name them: ``[{name, pool, ip, pod_cidr, nic_id, subnet_id}]`` (pod_cidr: kubenet only)."""
        with self._lock:  # type: ignore[attr-defined]
            cluster = self._resources.get(self.cluster_id(resource_group, name).lower())  # type: ignore[attr-defined]
            if cluster is None:
                return []
            props = cluster["properties"]
            node_rg = props["nodeResourceGroup"]
            kubenet = str(props["networkProfile"].get("networkPlugin", "")).lower() == "kubenet"
            pod_cidr = ipaddress.ip_network(props["networkProfile"].get("podCidr") or "10.244.0.0/16", strict=False) if kubenet else None
            nodes = []
            number = 0
            for pool in props["agentPoolProfiles"]:
                vmss_name = f"aks-{pool['name']}-{int(stable_hex(cluster['id'] + pool['name']), 16) % 10**8:08d}-vmss"
                standalone = self._standalone_pool(pool)
                for index in range(int(pool.get("count") or 0)):
                    if standalone:
                        nic_id = build_id(self.subscription_id, node_rg, NETWORK, ["networkInterfaces"], [f"{vmss_name[:-5]}-nic-{index}"])
                    else:
                        nic_id = build_id(self.subscription_id, node_rg, COMPUTE, ["virtualMachineScaleSets", "virtualMachines", "networkInterfaces"],
                                          [vmss_name, str(index), vmss_name])
                    nic = self._resources.get(nic_id.lower()) or {}
                    configs = (nic.get("properties") or {}).get("ipConfigurations") or [{}]
                    primary = configs[0].get("properties") or {}
                    cidr = None
                    if pod_cidr is not None:
                        cidr = str(list(pod_cidr.subnets(new_prefix=24))[number] if pod_cidr.prefixlen <= 24 else pod_cidr)
                    nodes.append({"name": self._node_name(vmss_name, index, standalone), "pool": pool["name"], "ip": primary.get("privateIPAddress"),
                                  "pod_cidr": cidr, "nic_id": nic.get("id"), "subnet_id": (primary.get("subnet") or {}).get("id")})
                    number += 1
            return nodes

    # ------------------------------------------------------------------ serving

    def _served_nic(self, nic: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(nic)
        if out.get("type") == VMSS_NIC_TYPE:
            del out["type"]
        return out

    def _vmss_network(self, method: str, rg: str, vmss: dict[str, Any], extra: list[str], query: dict[str, str], path: str) -> Any:
        """``virtualMachineScaleSets/{vmss}/[virtualMachines/{i}/]networkInterfaces[/{nic}[/ipConfigurations[/{name}]]]``.

        Read-only, as in Azure; there is no effectiveRouteTable / effectiveNetworkSecurityGroups action on scale-set NICs.
        """
        from .arm import Response  # pylint: disable=import-outside-toplevel

        low = [e.lower() for e in extra]
        vmss_id = vmss["id"]
        if method != "GET":
            action = low[-1] if low else ""
            raise ArmError(404, "NotFound", f"The requested operation '{action}' is not available for virtual machine scale set network interfaces "
                           f"({path}); effective routes and security groups are offered for standalone network interfaces only.")
        nics = [n for k, n in self._resources.items() if n.get("type") == VMSS_NIC_TYPE and k.startswith(vmss_id.lower() + "/")]
        if low == ["networkinterfaces"]:
            return self._page(path, query, [self._served_nic(n) for n in nics])  # type: ignore[attr-defined]
        if len(low) >= 3 and low[0] == "virtualmachines" and low[2] == "networkinterfaces":
            instance = f"{vmss_id}/virtualMachines/{extra[1]}".lower()
            mine = [n for n in nics if n["id"].lower().startswith(instance + "/")]
            if len(low) == 3:
                return self._page(path, query, [self._served_nic(n) for n in mine])  # type: ignore[attr-defined]
            nic = next((n for n in mine if n["name"].lower() == low[3]), None)
            if nic is None:
                raise ArmError(404, "NotFound", f"Resource {path} not found.")
            if len(low) == 4:
                return Response(200, self._served_nic(nic))
            if low[4] == "ipconfigurations":
                configs = nic["properties"].get("ipConfigurations", [])
                if len(low) == 5:
                    return self._page(path, query, copy.deepcopy(configs))  # type: ignore[attr-defined]
                config = next((c for c in configs if c["name"].lower() == low[5]), None)
                if config is not None and len(low) == 6:
                    return Response(200, copy.deepcopy(config))
        raise ArmError(404, "NotFound", f"The requested path {path} is not served by Azure Resource Manager.")

    def _nic_action(self, method: str, nic: dict[str, Any], action: str, api_version: str) -> Any:
        """POST effectiveRouteTable / effectiveNetworkSecurityGroups on a standalone NIC: 202 + Location, then the result."""
        from .arm import Response  # pylint: disable=import-outside-toplevel

        if method != "POST":
            raise ArmError(405, "MethodNotAllowed", f"The requested method '{method}' is not allowed for this resource.")
        props = nic["properties"]
        if not props.get("virtualMachine"):
            raise bad_request("NicNotAttachedToVm" if action == "effectiveroutetable" else "NetworkInterfaceNotAttachedToVm",
                              f"Network interface {nic['id']} is not attached to a virtual machine, so its effective routes and rules are not available.")
        primary = next((c for c in props.get("ipConfigurations", []) if (c.get("properties") or {}).get("primary")), None) \
            or (props.get("ipConfigurations") or [{}])[0]
        subnet_id = ((primary.get("properties") or {}).get("subnet") or {}).get("id")
        vnet, subnet = self._find_subnet(subnet_id)
        sprops = (subnet or {}).get("properties") or {}
        if action == "effectiveroutetable":
            table = self._resources.get(str((sprops.get("routeTable") or {}).get("id", "")).lower())
            prefixes = list(((vnet or {}).get("properties") or {}).get("addressSpace", {}).get("addressPrefixes", []))
            result = {"value": effective_routes(prefixes, table)}
        else:
            subnet_nsg = self._resources.get(str((sprops.get("networkSecurityGroup") or {}).get("id", "")).lower())
            nic_nsg = self._resources.get(str((props.get("networkSecurityGroup") or {}).get("id", "")).lower())
            result = {"value": effective_security_groups(nic["id"], subnet_id, subnet_nsg, nic_nsg)}

        def noop(*_args: Any) -> None:
            return None

        op = self._start_operation(NETWORK, str(nic.get("location", "westeurope")).replace(" ", "").lower(), nic["id"].lower(),  # type: ignore[attr-defined]
                                   "action", "POST", nic["id"] + "/" + action, noop, noop)
        op.result = result
        headers = self._lro_headers(op, api_version, with_location=True)  # type: ignore[attr-defined]
        headers.pop("Azure-AsyncOperation", None)  # these actions answer with Location only
        return Response(202, None, headers)

    def _network_backrefs(self, out: dict[str, Any]) -> None:
        """What the API computes on read: an NSG's ``subnets`` / ``networkInterfaces``, a route table's ``subnets``."""
        rtype = str(out.get("type", "")).lower()
        if rtype not in ("microsoft.network/networksecuritygroups", "microsoft.network/routetables"):
            return
        key = "networkSecurityGroup" if rtype.endswith("networksecuritygroups") else "routeTable"
        own = out["id"].lower()
        subnets = [{"id": s["id"]} for r in self._resources.values() if str(r.get("type", "")).lower() == "microsoft.network/virtualnetworks"
                   for s in r["properties"].get("subnets", []) if str((s["properties"].get(key) or {}).get("id", "")).lower() == own]
        if subnets:
            out["properties"]["subnets"] = subnets
        if key == "networkSecurityGroup":
            nics = [{"id": r["id"]} for r in self._resources.values()
                    if str(r.get("type", "")).lower() in ("microsoft.network/networkinterfaces", VMSS_NIC_TYPE.lower())
                    and str((r["properties"].get("networkSecurityGroup") or {}).get("id", "")).lower() == own]
            if nics:
                out["properties"]["networkInterfaces"] = nics

    # ------------------------------------------------------------------ lab mutations (tests build broken scenarios)

    def lab_put(self, resource_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Add or replace any resource by id (top-level or child: subnet, security rule, route). Returns it as stored."""
        parsed = parse_resource_id(resource_id)
        if parsed is None or not isinstance(body, dict):
            raise ValueError(f"not an ARM resource id or no JSON object body: {resource_id!r}")
        with self._lock:  # type: ignore[attr-defined]
            group = self._groups.get(parsed.resource_group.lower())
            if group is None:
                raise ValueError(f"resource group {parsed.resource_group} does not exist (add it first)")
            parts = (self.subscription_id, group["name"], parsed.namespace, parsed.types, parsed.names)
            vmss_nic = [t.lower() for t in parsed.types] == ["virtualmachinescalesets", "virtualmachines", "networkinterfaces"]
            if len(parsed.types) == 1 or vmss_nic:
                res = filled_resource(parts, body, group["location"])
                self._resources[res["id"].lower()] = res
                return copy.deepcopy(res)
            if len(parsed.types) != 2:
                raise ValueError(f"unsupported resource id depth: {resource_id}")
            parent_key = build_id(self.subscription_id, group["name"], parsed.namespace, parsed.types[:1], parsed.names[:1]).lower()
            parent = self._resources.get(parent_key)
            if parent is None:
                raise ValueError(f"parent resource of {resource_id} does not exist")
            collection = next((c for c in CHILD_COLLECTIONS.get(parsed.types[0].lower(), ()) if c.lower() == parsed.types[1].lower()), parsed.types[1])
            child = _child(parent["id"], collection, dict(body, name=parsed.names[1]))
            items = parent.setdefault("properties", {}).setdefault(collection, [])
            items[:] = [c for c in items if c["name"].lower() != parsed.names[1].lower()] + [child]
            return copy.deepcopy(child)

    def lab_get(self, resource_id: str) -> Optional[dict[str, Any]]:
        parsed = parse_resource_id(resource_id)
        if parsed is None:
            return None
        with self._lock:  # type: ignore[attr-defined]
            res = self._resources.get(resource_id.lower())
            if res is not None:
                return copy.deepcopy(res)
            if len(parsed.types) == 2:
                parent = self._resources.get(build_id(parsed.subscription, parsed.resource_group, parsed.namespace, parsed.types[:1],
                                                      parsed.names[:1]).lower())
                for child in ((parent or {}).get("properties") or {}).get(parsed.types[1], []) if parent else []:
                    if child["name"].lower() == parsed.names[1].lower():
                        return copy.deepcopy(child)
                for key, items in ((parent or {}).get("properties") or {}).items():
                    if key.lower() == parsed.types[1].lower() and isinstance(items, list):
                        for child in items:
                            if child.get("name", "").lower() == parsed.names[1].lower():
                                return copy.deepcopy(child)
            return None

    def lab_patch(self, resource_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        """JSON merge patch of a stored resource (top-level or child)."""
        current = self.lab_get(resource_id)
        if current is None:
            raise ValueError(f"resource {resource_id} does not exist")
        _merge(current, patch)
        body = {k: v for k, v in current.items() if k not in ("id", "name")}
        return self.lab_put(resource_id, body)

    def lab_delete(self, resource_id: str) -> bool:
        parsed = parse_resource_id(resource_id)
        if parsed is None:
            return False
        with self._lock:  # type: ignore[attr-defined]
            if self._resources.pop(resource_id.lower(), None) is not None:
                return True
            if len(parsed.types) == 2:
                parent = self._resources.get(build_id(parsed.subscription, parsed.resource_group, parsed.namespace, parsed.types[:1],
                                                      parsed.names[:1]).lower())
                for key, items in ((parent or {}).get("properties") or {}).items():
                    if key.lower() == parsed.types[1].lower() and isinstance(items, list):
                        kept = [c for c in items if c.get("name", "").lower() != parsed.names[1].lower()]
                        if len(kept) != len(items):
                            items[:] = kept
                            return True
            return False

    def _lab_azure(self, method: str, query: dict[str, str], spec: Any) -> Any:
        """``/_lab/azure``: GET ?id=; POST {"id", "body"} (put), {"id", "patch"} (merge), {"id", "delete": true}."""
        from .arm import Response  # pylint: disable=import-outside-toplevel

        if method == "GET":
            found = self.lab_get(query.get("id", ""))
            return Response(200, found) if found is not None else Response(404, {"error": {"code": "NotFound", "message": f"No resource {query.get('id')}."}})
        if method != "POST" or not isinstance(spec, dict) or not spec.get("id"):
            return Response(400, {"error": {"code": "BadRequest", "message": 'POST {"id": ..., "body" | "patch" | "delete": true} is expected.'}})
        try:
            if spec.get("delete"):
                return Response(200, {"deleted": self.lab_delete(spec["id"])})
            if "patch" in spec:
                return Response(200, self.lab_patch(spec["id"], spec["patch"]))
            return Response(200, self.lab_put(spec["id"], spec.get("body") or {}))
        except ValueError as exc:
            return Response(400, {"error": {"code": "BadRequest", "message": str(exc)}})

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM REST JSON -> network_info facts: the shapes step 8 reads."""

from __future__ import annotations

from ansible_collections.aksnet.networking.plugins.module_utils._diag import azure_facts as af

SUB = "/subscriptions/0000/resourceGroups"
RG = "MC_rg_aks_westeurope"
LB = f"{SUB}/{RG}/providers/Microsoft.Network/loadBalancers/kubernetes"
VMSS_NIC = f"{SUB}/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/aks-system-1-vmss/virtualMachines/0/networkInterfaces/aks-system-1-vmss"
NIC = f"{SUB}/{RG}/providers/Microsoft.Network/networkInterfaces/aks-vm-nic-0"
SUBNET = f"{SUB}/net-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes"


def test_load_balancer_frontends_rules_probes_and_internal_flag():
    pip_id = f"{SUB}/{RG}/providers/Microsoft.Network/publicIPAddresses/pip1"
    lb = {"id": LB, "name": "kubernetes", "sku": {"name": "Standard"}, "properties": {
        "frontendIPConfigurations": [{"id": f"{LB}/frontendIPConfigurations/fe", "name": "fe", "properties": {"publicIPAddress": {"id": pip_id}}}],
        "loadBalancingRules": [{"id": f"{LB}/loadBalancingRules/r", "name": "r", "properties": {
            "protocol": "Tcp", "frontendPort": 443, "backendPort": 443, "enableFloatingIP": True,
            "frontendIPConfiguration": {"id": f"{LB}/frontendIPConfigurations/fe"}, "probe": {"id": f"{LB}/probes/p"},
            "backendAddressPool": {"id": f"{LB}/backendAddressPools/kubernetes"}}}],
        "probes": [{"id": f"{LB}/probes/p", "name": "p", "properties": {"protocol": "Http", "port": 30500, "requestPath": "/healthz"}}],
        "backendAddressPools": [{"id": f"{LB}/backendAddressPools/kubernetes", "name": "kubernetes",
                                 "properties": {"backendIPConfigurations": [{"id": "a"}, {"id": "b"}]}}],
        "outboundRules": [{"name": "aksOutboundRule"}]}}
    facts = af.load_balancer_facts(lb, {pip_id.lower(): {"ip_address": "20.1.1.1"}})
    assert facts["internal"] is False and facts["resource_group"] == RG
    assert facts["frontends"][0]["public_ip_address"] == "20.1.1.1"
    assert facts["rules"][0]["frontend_port"] == 443 and facts["rules"][0]["backend_pool_ids"] == [f"{LB}/backendAddressPools/kubernetes"]
    assert facts["probes"][0]["request_path"] == "/healthz" and facts["backend_pools"][0]["members"] == 2
    internal = {"id": LB + "-internal", "name": "kubernetes-internal", "properties": {"frontendIPConfigurations": [
        {"id": "fe", "name": "fe", "properties": {"privateIPAddress": "10.224.0.50", "subnet": {"id": SUBNET}}}]}}
    assert af.load_balancer_facts(internal, {})["internal"] is True


def test_subnet_size_usage_and_roles():
    vnet = {"id": f"{SUB}/net-rg/providers/Microsoft.Network/virtualNetworks/vnet", "name": "vnet",
            "properties": {"addressSpace": {"addressPrefixes": ["10.30.0.0/16"]}}}
    subnet = {"id": SUBNET, "name": "nodes", "properties": {
        "addressPrefix": "10.30.0.0/24", "ipConfigurations": [{"id": VMSS_NIC + "/ipConfigurations/ipconfig1"}],
        "networkSecurityGroup": {"id": "nsg"}, "routeTable": {"id": "rt"}}}
    pools = [{"name": "system", "vnet_subnet_id": SUBNET, "pod_subnet_id": None}]
    roles = af.subnet_roles(pools)
    facts = af.subnet_facts(vnet, subnet, None, roles)
    assert (facts["size"], facts["used"], facts["free"]) == (251, 1, 250)  # Azure keeps 5 addresses of every subnet
    assert facts["role"] == "node" and facts["pools"] == ["system"] and facts["nsg_id"] == "nsg" and facts["route_table_id"] == "rt"
    assert facts["vnet_address_prefixes"] == ["10.30.0.0/16"] and facts["resource_group"] == "net-rg"
    with_usage = af.subnet_facts(vnet, subnet, {"currentValue": 40, "limit": 251}, roles)
    assert (with_usage["used"], with_usage["free"]) == (40, 211)  # the usages API wins over the listed ipConfigurations
    managed = af.subnet_roles([{"name": "system", "vnet_subnet_id": None, "pod_subnet_id": "POD"}], ["MANAGED"])
    assert managed == {"managed": ("node", ["system"]), "pod": ("pod", ["system"])}


def test_nic_owners_and_nic_facts():
    owners = af.nic_owners([VMSS_NIC + "/ipConfigurations/ipconfig1", NIC + "/ipConfigurations/ipconfig1", VMSS_NIC + "/ipConfigurations/ipconfig2"])
    assert owners == {"vmss": {(RG, "aks-system-1-vmss")}, "standalone": {(RG, "aks-vm-nic-0")}}
    nic = {"id": VMSS_NIC, "name": "aks-system-1-vmss", "properties": {
        "ipConfigurations": [{"name": "ipconfig2", "properties": {"privateIPAddress": "10.30.0.5", "subnet": {"id": SUBNET}}},
                             {"name": "ipconfig1", "properties": {"privateIPAddress": "10.30.0.4", "primary": True, "subnet": {"id": SUBNET}}}],
        "networkSecurityGroup": {"id": "nsg"}, "enableIPForwarding": True}}
    facts = af.nic_facts(nic, standalone=False)
    assert facts["private_ip_addresses"] == ["10.30.0.4", "10.30.0.5"]  # primary first
    assert facts["vmss"] == "aks-system-1-vmss" and facts["instance_id"] == "0" and facts["kind"] == "vmss"
    assert facts["effective"]["supported"] is False and "scale set" in facts["effective"]["reason"]
    assert af.nic_facts(dict(nic, id=NIC), standalone=True)["effective"] == {"supported": True, "reason": None, "routes": None,
                                                                             "network_security_groups": None}


def test_nsg_route_table_and_effective_shapes():
    nsg = {"id": "nsg", "name": "n", "properties": {
        "securityRules": [{"name": "b", "properties": {"priority": 200, "direction": "Inbound", "access": "Allow", "destinationPortRange": "80"}},
                          {"name": "a", "properties": {"priority": 100, "direction": "Inbound", "access": "Deny", "destinationPortRanges": ["80", "443"]}}],
        "defaultSecurityRules": [{"name": "DenyAllInBound", "properties": {"priority": 65500, "direction": "Inbound", "access": "Deny"}}],
        "subnets": [{"id": SUBNET}]}}
    facts = af.nsg_facts(nsg)
    assert [r["name"] for r in facts["rules"]] == ["a", "b"] and facts["rules"][0]["destination_port_ranges"] == ["80", "443"]
    assert facts["default_rules"][0]["default"] is True and facts["subnet_ids"] == [SUBNET]
    table = af.route_table_facts({"id": "rt", "name": "rt", "properties": {"routes": [
        {"name": "n0", "properties": {"addressPrefix": "10.244.0.0/24", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.30.0.4"}}]}})
    assert table["routes"] == [{"name": "n0", "address_prefix": "10.244.0.0/24", "next_hop_type": "VirtualAppliance", "next_hop_ip_address": "10.30.0.4"}]
    routes = af.effective_routes_facts({"value": [{"source": "User", "state": "Active", "addressPrefix": ["10.244.0.0/24"],
                                                   "nextHopType": "VirtualAppliance", "nextHopIpAddress": ["10.30.0.4"]}]})
    assert routes[0]["next_hop_ip_addresses"] == ["10.30.0.4"]
    groups = af.effective_nsgs_facts({"value": [{"networkSecurityGroup": {"id": "nsg"}, "association": {"subnet": {"id": SUBNET}},
                                                 "effectiveSecurityRules": [{"name": "securityRules/a", "priority": 100, "access": "Deny",
                                                                             "destinationPortRanges": ["80-80"], "sourceAddressPrefix": "*"}]}]})
    assert groups[0]["association"] == "subnet" and groups[0]["rules"][0]["destination_ports"] == ["80-80"]

"""The ARM simulator's node network: scale sets and NICs, effective routes / NSGs, route tables, lab mutations."""

from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import HttpResponseError

SUB = "00000000-0000-0000-0000-000000000000"
NODE_RG = "MC_lab-rg_lab-aks_westeurope"


ARM_SIMULATOR_OPTIONS = {"lro_polls": 0}
KUBE_TOKEN = "t"


@pytest.fixture(scope="module")
def lab(arm_simulator_lab):
    return arm_simulator_lab


@pytest.fixture(autouse=True)
def fresh(lab):
    lab["sim"].reset()


def kubenet_vm_cluster(sim, count=2):
    sim.add_cluster("lab-rg", "kn", {"location": "westeurope", "properties": {
        "dnsPrefix": "kn", "agentPoolProfiles": [{"name": "vmpool", "count": count, "vmSize": "Standard_D4s_v5", "maxPods": 30, "mode": "System",
                                                 "osType": "Linux", "type": "VirtualMachines"}],
        "networkProfile": {"networkPlugin": "kubenet", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10"}}})
    return sim.cluster("lab-rg", "kn")["properties"]["nodeResourceGroup"]


def test_scale_set_nics_of_the_lab_cluster(lab):
    net, sim = lab["net"], lab["sim"]
    nodes = sim.cluster_nodes("lab-rg", "lab-aks")
    vmss = nodes[0]["nic_id"].split("/")[8]
    nics = [n.as_dict() for n in net.network_interfaces.list_virtual_machine_scale_set_network_interfaces(NODE_RG, vmss)]
    assert sorted(n["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] for n in nics) == ["10.224.0.4", "10.224.0.5", "10.224.0.6"]
    assert all("type" not in n for n in nics)  # scale-set NICs come without a type, as the API returns them
    assert {n["properties"]["networkSecurityGroup"]["id"].split("/")[-1] for n in nics} == {"aks-agentpool-nsg"}
    one = net.network_interfaces.get_virtual_machine_scale_set_network_interface(NODE_RG, vmss, "1", vmss).as_dict()
    assert one["properties"]["virtualMachine"]["id"].endswith(f"/virtualMachineScaleSets/{vmss}/virtualMachines/1")
    nsg = net.network_security_groups.get(NODE_RG, "aks-agentpool-nsg").as_dict()
    assert len(nsg["properties"]["networkInterfaces"]) == 3  # back-references computed on read


def test_scale_set_nics_have_no_effective_route_operation(lab):
    sim = lab["sim"]
    nic_id = sim.cluster_nodes("lab-rg", "lab-aks")[0]["nic_id"]
    token = lab["cred"].get_token(lab["url"] + "/.default").token
    for action in ("effectiveRouteTable", "effectiveNetworkSecurityGroups"):
        answer = requests.post(f"{lab['url']}{nic_id}/{action}?api-version=2018-10-01", headers={"Authorization": f"Bearer {token}"},
                               verify=lab["ca"], timeout=10)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "NotFound"


def test_standalone_nics_answer_effective_routes_and_rules(lab):
    net, sim = lab["net"], lab["sim"]
    node_rg = kubenet_vm_cluster(sim)
    tables = [t.as_dict() for t in net.route_tables.list(node_rg)]
    assert [r["properties"]["addressPrefix"] for r in tables[0]["properties"]["routes"]] == ["10.244.0.0/24", "10.244.1.0/24"]
    assert tables[0]["properties"]["subnets"]  # associated with the managed node subnet
    nics = [n.as_dict() for n in net.network_interfaces.list(node_rg)]
    assert [n["name"] for n in nics] == ["aks-vmpool-" + nics[0]["name"].split("-")[2] + "-nic-0", nics[1]["name"]]
    name = nics[0]["name"]
    sim.lab_put(tables[0]["id"] + "/routes/default", {"properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance",
                                                                     "nextHopIpAddress": "10.224.1.4"}})
    routes = net.network_interfaces.begin_get_effective_route_table(node_rg, name, polling_interval=0.05).result().as_dict()["value"]
    internet = next(r for r in routes if r["addressPrefix"] == ["0.0.0.0/0"] and r["source"] == "Default")
    assert internet["state"] == "Invalid"  # a user route for 0.0.0.0/0 overrides the system route
    assert any(r["source"] == "User" and r["addressPrefix"] == ["10.244.1.0/24"] and r["nextHopIpAddress"] == ["10.224.0.5"] for r in routes)
    groups = net.network_interfaces.begin_list_effective_network_security_groups(node_rg, name, polling_interval=0.05).result().as_dict()["value"]
    assert [("subnet" in g["association"], "networkInterface" in g["association"]) for g in groups] == [(True, False), (False, True)]
    assert "defaultSecurityRules/DenyAllInBound" in [r["name"] for r in groups[0]["effectiveSecurityRules"]]
    posts = [r for r in sim.requests if r["method"] == "POST"]
    assert [r["status"] for r in posts] == [202, 202]  # Location-polled actions, as in Azure


def test_lab_mutations_put_patch_delete(lab):
    net, sim = lab["net"], lab["sim"]
    nsg_id = f"/subscriptions/{SUB}/resourceGroups/lab-rg/providers/Microsoft.Network/networkSecurityGroups/byo-nsg"
    created = sim.lab_put(nsg_id, {"properties": {"securityRules": [{"name": "deny-80", "properties": {
        "priority": 100, "access": "Deny", "direction": "Inbound", "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*",
        "destinationAddressPrefix": "*", "destinationPortRange": "80"}}]}})
    assert len(created["properties"]["defaultSecurityRules"]) == 6 and created["location"] == "westeurope"
    subnet_id = f"/subscriptions/{SUB}/resourceGroups/lab-rg/providers/Microsoft.Network/virtualNetworks/lab-vnet/subnets/aks-nodes"
    sim.lab_patch(subnet_id, {"properties": {"networkSecurityGroup": {"id": nsg_id}}})
    subnet = net.subnets.get("lab-rg", "lab-vnet", "aks-nodes").as_dict()
    assert subnet["properties"]["networkSecurityGroup"]["id"] == nsg_id and subnet["properties"]["addressPrefix"] == "10.224.0.0/16"
    assert net.network_security_groups.get("lab-rg", "byo-nsg").as_dict()["properties"]["subnets"] == [{"id": subnet_id}]
    assert sim.lab_delete(nsg_id + "/securityRules/deny-80")
    assert net.network_security_groups.get("lab-rg", "byo-nsg").as_dict()["properties"]["securityRules"] == []
    with pytest.raises(ValueError, match="does not exist"):
        sim.lab_put(f"/subscriptions/{SUB}/resourceGroups/nope/providers/Microsoft.Network/routeTables/x", {})
    with pytest.raises(HttpResponseError):
        net.route_tables.get("lab-rg", "x")

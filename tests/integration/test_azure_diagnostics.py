"""Step 8 end to end: broken Azure scenarios built in the ARM simulator, read by network_info, embedded in a
snapshot and diagnosed by the diagnose module. Each broken scenario yields exactly its finding; the fixed ones none."""

from __future__ import annotations

import copy
import json
import os

import pytest

from .conftest import assert_playbook_ok, run_playbook

SUB = "00000000-0000-0000-0000-000000000000"
RG = "lab-rg"
NODE_RG = "MC_lab-rg_lab-aks_westeurope"
NET = f"/subscriptions/{SUB}/resourceGroups/{{rg}}/providers/Microsoft.Network"
WEB_IP = "20.50.0.10"
UID = "0f5a6c7e-1111-4c3b-9d7e-5c2a1b3c4d5e"
RULE_PREFIX = "a" + UID.replace("-", "")[:31]

PLAYBOOK = """---
- name: network_info -> snapshot -> diagnose (step 8)
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Azure network facts
      aksnet.networking.network_info:
        resource_group: "{{ rg }}"
        name: "{{ cluster }}"
      register: azure_net

    - name: Snapshot with the Kubernetes objects and the Azure facts
      ansible.builtin.copy:
        dest: "{{ out }}/snapshot.yaml"
        mode: "0600"
        content: |
          {{ lookup('file', out + '/objects.json') }}
          ---
          {{ {'apiVersion': 'aksnet.networking/v1', 'kind': 'AzureNetworkFacts'} | combine(azure_net.network) | to_json }}

    - name: Diagnose step 8 from the snapshot
      aksnet.networking.diagnose:
        snapshot: "{{ out }}/snapshot.yaml"
        steps: [8]
      register: diag

    - name: Keep the results
      ansible.builtin.copy:
        dest: "{{ out }}/result.json"
        mode: "0600"
        content: "{{ {'network': azure_net.network, 'diagnostics': diag.diagnostics} | to_json }}"
"""


def diagnose(lab, tmp_path, objects, cluster="lab-aks"):
    # a cluster snapshot holds Namespaces (one without Pods and Namespaces is refused)
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in ("default", "kube-system")]
    (tmp_path / "objects.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": namespaces + list(objects)}))
    playbook = tmp_path / "step8.yml"
    playbook.write_text(PLAYBOOK)
    lab.arm.clear_requests()
    proc = run_playbook(lab, str(playbook), extra_vars={"rg": RG, "cluster": cluster, "out": str(tmp_path)})
    assert_playbook_ok(proc)
    result = json.loads((tmp_path / "result.json").read_text())
    actions = ("/effectiveRouteTable", "/effectiveNetworkSecurityGroups")  # read-only POST actions
    writes = [r for r in lab.arm.requests if r["method"] != "GET" and not r["path"].endswith(actions)]
    assert writes == [], "network_info must only read"
    return result["network"], result["diagnostics"]


def codes(diagnostics):
    return sorted(f["code"] for f in diagnostics["findings"])


def step8(diagnostics):
    return next(s for s in diagnostics["steps"] if s["step"] == 8)


# ------------------------------------------------------------------ building the Azure side

def _nsg_id():
    return NET.format(rg=NODE_RG) + "/networkSecurityGroups/aks-agentpool-nsg"


def _pip(lab, rg, name, address):
    pid = NET.format(rg=rg) + f"/publicIPAddresses/{name}"
    lab.arm.lab_put(pid, {"location": "westeurope", "sku": {"name": "Standard", "tier": "Regional"},
                          "properties": {"ipAddress": address, "publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"}})
    return pid


def publish_web(lab):
    """What the cloud provider does for a healthy public Service web:80: a frontend with a public IP, a rule, a probe, an NSG allow."""
    pip_id = _pip(lab, NODE_RG, f"kubernetes-{RULE_PREFIX}", WEB_IP)
    lb_id = NET.format(rg=NODE_RG) + "/loadBalancers/kubernetes"
    lb = lab.arm.lab_get(lb_id)
    body = {k: v for k, v in copy.deepcopy(lb).items() if k not in ("id", "name")}
    props = body["properties"]
    fe_id = f"{lb_id}/frontendIPConfigurations/{RULE_PREFIX}"
    props["frontendIPConfigurations"].append({"id": fe_id, "name": RULE_PREFIX, "properties": {"publicIPAddress": {"id": pip_id}}})
    props["probes"].append({"id": f"{lb_id}/probes/{RULE_PREFIX}-TCP-80", "name": f"{RULE_PREFIX}-TCP-80",
                            "properties": {"protocol": "Tcp", "port": 31080, "intervalInSeconds": 5, "numberOfProbes": 2}})
    props["loadBalancingRules"].append({"id": f"{lb_id}/loadBalancingRules/{RULE_PREFIX}-TCP-80", "name": f"{RULE_PREFIX}-TCP-80", "properties": {
        "protocol": "Tcp", "frontendPort": 80, "backendPort": 80, "enableFloatingIP": True, "frontendIPConfiguration": {"id": fe_id},
        "backendAddressPool": {"id": f"{lb_id}/backendAddressPools/kubernetes"}, "probe": {"id": f"{lb_id}/probes/{RULE_PREFIX}-TCP-80"}}})
    lab.arm.lab_put(lb_id, body)
    nsg_rule(lab, f"{RULE_PREFIX}-TCP-80-Internet", 500, "Allow", "Internet", WEB_IP, "80")


def nsg_rule(lab, name, priority, access, source, destination, port):
    lab.arm.lab_put(f"{_nsg_id()}/securityRules/{name}", {"properties": {
        "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": port, "sourceAddressPrefix": source,
        "destinationAddressPrefix": destination, "access": access, "priority": priority, "direction": "Inbound"}})


def web_service(annotations=None, ip=WEB_IP, name="web", uid=UID):
    status = {"loadBalancer": {"ingress": [{"ip": ip}]}} if ip else {"loadBalancer": {}}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "shop", "uid": uid, "annotations": dict(annotations or {})},
            "spec": {"type": "LoadBalancer", "selector": {"app": name},
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 31080}]},
            "status": status}


def nodes_of(lab, cluster):
    return [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": n["name"]},
             "spec": {"podCIDR": n["pod_cidr"], "podCIDRs": [n["pod_cidr"]]} if n["pod_cidr"] else {},
             "status": {"addresses": [{"type": "InternalIP", "address": n["ip"]}, {"type": "Hostname", "address": n["name"]}]}}
            for n in lab.arm.cluster_nodes(RG, cluster)]


def add_kubenet_cluster(lab):
    lab.arm.add_cluster(RG, "kn-aks", {"location": "westeurope", "properties": {
        "dnsPrefix": "kn-aks",
        "agentPoolProfiles": [{"name": "vmpool", "count": 3, "vmSize": "Standard_D4s_v5", "maxPods": 110, "mode": "System", "osType": "Linux",
                               "type": "VirtualMachines"}],
        "networkProfile": {"networkPlugin": "kubenet", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10",
                           "outboundType": "loadBalancer", "loadBalancerSku": "standard"}}})


# ------------------------------------------------------------------ scenarios

def test_fixed_public_service_produces_no_finding(fresh_lab, tmp_path):
    publish_web(fresh_lab)
    _pip(fresh_lab, NODE_RG, "static-ok", "20.50.0.77")  # a static IP in the node resource group is where AKS looks
    static_ok = web_service({"service.beta.kubernetes.io/azure-load-balancer-ipv4": "20.50.0.77"}, ip=None, name="api",
                            uid="9e0f0000-0000-4000-8000-000000000001")
    nsg_rule(fresh_lab, "allow-api", 510, "Allow", "Internet", "20.50.0.77", "80")
    lb_id = NET.format(rg=NODE_RG) + "/loadBalancers/kubernetes"
    lb = fresh_lab.arm.lab_get(lb_id)
    rule = copy.deepcopy(lb["properties"]["loadBalancingRules"][0])
    rule["name"] = ("a" + "9e0f0000-0000-4000-8000-000000000001".replace("-", ""))[:32] + "-TCP-80"
    lb["properties"]["loadBalancingRules"].append(rule)  # the api Service's rule, named after its uid
    fresh_lab.arm.lab_put(lb_id, {k: v for k, v in lb.items() if k not in ("id", "name")})
    network, diag = diagnose(fresh_lab, tmp_path, [web_service(), static_ok])
    assert codes(diag) == [] and step8(diag)["status"] == "passed" and step8(diag)["checked"] >= 5
    lb = next(lb for lb in network["load_balancers"] if lb["name"] == "kubernetes")
    assert [r["frontend_port"] for r in lb["rules"]] == [80, 80] and lb["frontends"][-1]["public_ip_address"] == WEB_IP
    assert lb["probes"][0]["port"] == 31080


def test_nsg_deny_above_the_allow(fresh_lab, tmp_path):
    publish_web(fresh_lab)
    nsg_rule(fresh_lab, "deny-web-from-anywhere", 400, "Deny", "*", "*", "80")
    _network, diag = diagnose(fresh_lab, tmp_path, [web_service()])
    assert codes(diag) == ["azure.nsg_blocks_port"]
    finding = diag["findings"][0]
    assert finding["resource"] == {"kind": "Service", "namespace": "shop", "name": "web"}
    assert finding["evidence"]["rule"]["name"] == "deny-web-from-anywhere" and finding["evidence"]["rule"]["priority"] == 400
    assert finding["evidence"]["nsg"] == "aks-agentpool-nsg" and step8(diag)["status"] == "failed"
    # the same deny below the allow (higher number) decides nothing
    nsg_rule(fresh_lab, "deny-web-from-anywhere", 600, "Deny", "*", "*", "80")
    assert codes(diagnose(fresh_lab, tmp_path, [web_service()])[1]) == []


def test_static_ip_in_the_wrong_resource_group(fresh_lab, tmp_path):
    publish_web(fresh_lab)
    _pip(fresh_lab, RG, "web-static", "20.77.1.2")  # in the cluster's group, not the node resource group
    svc = web_service({"service.beta.kubernetes.io/azure-load-balancer-ipv4": "20.77.1.2"}, ip=None, name="shop-front",
                      uid="9e0f0000-0000-4000-8000-000000000002")
    network, diag = diagnose(fresh_lab, tmp_path, [web_service(), svc])
    assert codes(diag) == ["azure.static_ip_wrong_resource_group"]
    assert diag["findings"][0]["evidence"]["public_ip_resource_group"] == RG
    assert any(p["ip_address"] == "20.77.1.2" and p["resource_group"] == RG for p in network["public_ips"])
    # with the resource-group annotation it is the right place; an address nobody owns is "not found"
    fixed = web_service({"service.beta.kubernetes.io/azure-load-balancer-ipv4": "20.77.1.2",
                         "service.beta.kubernetes.io/azure-load-balancer-resource-group": RG}, ip=None, name="shop-front",
                        uid="9e0f0000-0000-4000-8000-000000000002")
    fixed_codes = codes(diagnose(fresh_lab, tmp_path, [web_service(), fixed])[1])
    assert "azure.static_ip_wrong_resource_group" not in fixed_codes and "azure.static_ip_not_found" not in fixed_codes
    unknown = web_service({"service.beta.kubernetes.io/azure-load-balancer-ipv4": "20.99.9.9"}, ip=None, name="ghost",
                          uid="9e0f0000-0000-4000-8000-000000000003")
    assert codes(diagnose(fresh_lab, tmp_path, [web_service(), unknown])[1]) == ["azure.static_ip_not_found"]


def test_subnet_too_small_for_a_scale_out(fresh_lab, tmp_path):
    fresh_lab.arm.add_virtual_network(RG, "cni-vnet", ["10.30.0.0/16"], [("nodes", "10.30.0.0/24")])
    subnet_id = NET.format(rg=RG) + "/virtualNetworks/cni-vnet/subnets/nodes"

    def cluster(max_count):
        return {"location": "westeurope", "properties": {
            "dnsPrefix": "cni-aks",
            "agentPoolProfiles": [{"name": "system", "count": 2, "minCount": 1, "maxCount": max_count, "enableAutoScaling": True, "vmSize": "Standard_D4s_v5",
                                   "maxPods": 30, "mode": "System", "osType": "Linux", "vnetSubnetID": subnet_id, "upgradeSettings": {"maxSurge": "1"}}],
            "networkProfile": {"networkPlugin": "azure", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer",
                               "loadBalancerSku": "standard"}}}

    # 2 nodes x (30 pods + 1) = 62 used of 251; growing to 8 (+1 surge) needs 7 x 31 = 217 > 189 free
    fresh_lab.arm.add_cluster(RG, "cni-aks", cluster(8))
    network, diag = diagnose(fresh_lab, tmp_path, [], cluster="cni-aks")
    subnet = next(s for s in network["subnets"] if s["name"] == "nodes")
    assert (subnet["size"], subnet["used"], subnet["free"]) == (251, 62, 189)
    assert codes(diag) == ["azure.subnet_exhausted"]
    assert diag["findings"][0]["evidence"]["needed"] == 217
    # max 7 nodes: (7 + 1 - 2) x 31 = 186 <= 189: fits
    fresh_lab.arm.add_cluster(RG, "cni-aks", cluster(7))
    assert codes(diagnose(fresh_lab, tmp_path, [], cluster="cni-aks")[1]) == []


def test_kubenet_missing_route(fresh_lab, tmp_path):
    add_kubenet_cluster(fresh_lab)
    nodes = nodes_of(fresh_lab, "kn-aks")
    network, diag = diagnose(fresh_lab, tmp_path, nodes, cluster="kn-aks")
    assert codes(diag) == []  # AKS's route table has one route per node
    table = network["route_tables"][0]
    assert sorted(r["address_prefix"] for r in table["routes"]) == sorted(n["spec"]["podCIDR"] for n in nodes)
    nic = network["network_interfaces"][0]
    assert nic["kind"] == "standalone" and nic["effective"]["supported"]
    assert any(r["source"] == "User" and r["next_hop_type"] == "VirtualAppliance" for r in nic["effective"]["routes"])
    assert [g["association"] for g in nic["effective"]["network_security_groups"]] == ["subnet", "network_interface"]

    victim = nodes[1]["metadata"]["name"]
    route = next(r for r in table["routes"] if r["address_prefix"] == nodes[1]["spec"]["podCIDR"])
    assert fresh_lab.arm.lab_delete(f"{table['id']}/routes/{route['name']}")
    _network, diag = diagnose(fresh_lab, tmp_path, nodes, cluster="kn-aks")
    assert codes(diag) == ["azure.route_missing"]
    assert diag["findings"][0]["resource"] == {"kind": "Node", "namespace": None, "name": victim}


@pytest.mark.parametrize("scenario", ["lab_route", "python"])
def test_lab_route_mutates_resources_by_id(fresh_lab, scenario):
    import requests

    rule_id = f"{_nsg_id()}/securityRules/deny-all-web"
    spec = {"id": rule_id, "body": {"properties": {"protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*", "sourceAddressPrefix": "*",
                                                   "destinationAddressPrefix": "*", "access": "Deny", "priority": 100, "direction": "Inbound"}}}
    if scenario == "lab_route":
        answer = requests.post(fresh_lab.env["AKSNET_LAB_ARM_URL"] + "/_lab/azure", json=spec, verify=fresh_lab.env["AKSNET_LAB_CA"], timeout=10)
        assert answer.status_code == 200 and answer.json()["id"] == rule_id
        got = requests.get(fresh_lab.env["AKSNET_LAB_ARM_URL"] + "/_lab/azure", params={"id": rule_id}, verify=fresh_lab.env["AKSNET_LAB_CA"], timeout=10)
        assert got.json()["properties"]["priority"] == 100
        bad = requests.post(fresh_lab.env["AKSNET_LAB_ARM_URL"] + "/_lab/azure", json={"body": {}}, verify=fresh_lab.env["AKSNET_LAB_CA"], timeout=10)
        assert bad.status_code == 400
    else:
        fresh_lab.arm.lab_put(rule_id, spec["body"])
        fresh_lab.arm.lab_patch(rule_id, {"properties": {"priority": 110}})
        assert fresh_lab.arm.lab_get(rule_id)["properties"]["priority"] == 110
    nsg = fresh_lab.arm.get_resource(_nsg_id())
    assert [r["name"] for r in nsg["properties"]["securityRules"]] == ["deny-all-web"]
    assert len(nsg["properties"]["defaultSecurityRules"]) == 6
    assert fresh_lab.arm.lab_delete(rule_id)
    assert fresh_lab.arm.get_resource(_nsg_id())["properties"]["securityRules"] == []
    assert os.path.exists(fresh_lab.env["AKSNET_LAB_CA"])

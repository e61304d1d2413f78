# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 8 analyzers: each code fires on its broken case and stays quiet on the near miss."""

from __future__ import annotations

import copy

from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics
from ansible_collections.aksnet.networking.plugins.module_utils._diag.nsg import normalize_rule
from ansible_collections.aksnet.networking.plugins.module_utils._diag.step_azure import surge_nodes

SUB = "/subscriptions/0000/resourceGroups"
NODE_RG = "MC_lab-rg_lab-aks_westeurope"
SUBNET_ID = f"{SUB}/lab-rg/providers/Microsoft.Network/virtualNetworks/lab-vnet/subnets/aks-nodes"
NSG_ID = f"{SUB}/{NODE_RG}/providers/Microsoft.Network/networkSecurityGroups/aks-agentpool-nsg"
LB_ID = f"{SUB}/{NODE_RG}/providers/Microsoft.Network/loadBalancers/kubernetes"
ILB_ID = f"{SUB}/{NODE_RG}/providers/Microsoft.Network/loadBalancers/kubernetes-internal"
RT_ID = f"{SUB}/{NODE_RG}/providers/Microsoft.Network/routeTables/aks-agentpool-rt"
UID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
PREFIX = "a" + UID.replace("-", "")[:31]
WEB_IP = "20.50.0.10"

DEFAULT_RULES = [
    ("AllowVnetInBound", "Inbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", "Inbound", 65001, "Allow", "AzureLoadBalancer", "*"),
    ("DenyAllInBound", "Inbound", 65500, "Deny", "*", "*"),
    ("AllowVnetOutBound", "Outbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", "Outbound", 65001, "Allow", "*", "Internet"),
    ("DenyAllOutBound", "Outbound", 65500, "Deny", "*", "*"),
]


def nsg_rule(name, priority, access, src, port, dst="*", protocol="Tcp"):
    return normalize_rule({"name": name, "properties": {
        "priority": priority, "access": access, "direction": "Inbound", "protocol": protocol, "sourceAddressPrefix": src,
        "sourcePortRange": "*", "destinationAddressPrefix": dst, "destinationPortRange": str(port)}}, default=False)


def facts(plugin="azure", mode="overlay", ipam="overlay", rules=None, lb_rules=None, pips=None, route_tables=None, subnet=None, pools=None,
          public_ip_scope="subscription"):
    default_rules = [normalize_rule({"name": n, "properties": {
        "priority": p, "access": a, "direction": d, "protocol": "*", "sourceAddressPrefix": s, "sourcePortRange": "*",
        "destinationAddressPrefix": t, "destinationPortRange": "*"}}, default=True) for n, d, p, a, s, t in DEFAULT_RULES]
    if rules is None:
        rules = [nsg_rule(f"{PREFIX}-TCP-80-Internet", 500, "Allow", "Internet", 80, dst=WEB_IP)]
    if lb_rules is None:
        lb_rules = [{"name": f"{PREFIX}-TCP-80", "protocol": "Tcp", "frontend_port": 80, "backend_port": 80,
                     "frontend_id": f"{LB_ID}/frontendIPConfigurations/{PREFIX}"}]
    return {
        "cluster": {
            "name": "lab-aks", "resource_group": "lab-rg", "node_resource_group": NODE_RG,
            "network_profile": {"plugin": plugin, "plugin_mode": mode, "ipam_mode": ipam},
            "agent_pools": pools or [{"name": "system", "count": 3, "max_pods": 30, "enable_auto_scaling": False, "max_count": None, "max_surge": "1"}],
        },
        "load_balancers": [
            {"id": LB_ID, "name": "kubernetes", "internal": False,
             "frontends": [{"id": f"{LB_ID}/frontendIPConfigurations/{PREFIX}", "name": PREFIX, "public_ip_address": WEB_IP}],
             "rules": lb_rules, "probes": []},
        ],
        "network_security_groups": [{"id": NSG_ID, "name": "aks-agentpool-nsg", "rules": rules, "default_rules": default_rules}],
        "subnets": [dict({
            "id": SUBNET_ID, "name": "aks-nodes", "address_prefixes": ["10.224.0.0/24"], "vnet_address_prefixes": ["10.224.0.0/12"],
            "size": 251, "used": 3, "nsg_id": None, "route_table_id": None, "role": "node", "pools": ["system"]}, **(subnet or {}))],
        "network_interfaces": [{"id": f"nic{i}", "subnet_id": SUBNET_ID, "nsg_id": NSG_ID, "private_ip_addresses": [f"10.224.0.{4 + i}"]} for i in range(3)],
        "route_tables": route_tables or [],
        "public_ips": pips if pips is not None else [{"id": "pip-web", "name": "web-ip", "resource_group": NODE_RG, "ip_address": WEB_IP}],
        "public_ip_scope": public_ip_scope,
    }


def service(name="web", ns="shop", port=80, protocol="TCP", annotations=None, ip=WEB_IP, uid=UID, source_ranges=None, legacy_ip=None):
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": ns, "uid": uid, "annotations": dict(annotations or {})},
           "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": port, "protocol": protocol, "targetPort": 8080, "nodePort": 31000}]},
           "status": {"loadBalancer": {"ingress": [{"ip": ip}] if ip else []}}}
    if source_ranges:
        svc["spec"]["loadBalancerSourceRanges"] = source_ranges
    if legacy_ip:
        svc["spec"]["loadBalancerIP"] = legacy_ip
    return svc


def node(name, ip, cidr):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}]}}


def step8(objects, azure):
    result = run_diagnostics(objects, steps=[8], azure_facts=azure)
    step = next(s for s in result["steps"] if s["step"] == 8)
    return step, result["findings"]


def codes(findings):
    return sorted(f["code"] for f in findings)


def test_healthy_public_service_produces_nothing():
    step, found = step8([service()], facts())
    assert found == [] and step["status"] == "passed" and step["checked"] >= 3


def test_without_azure_facts_step_8_is_skipped():
    result = run_diagnostics([service()], steps=[8], azure_facts=None)
    assert result["steps"][7]["status"] == "skipped" and "Azure" in result["steps"][7]["reason"]


# ------------------------------------------------------------------ azure.lb_rule_missing

def test_lb_rule_missing_fires_for_an_uncovered_port():
    step, found = step8([service(port=443)], facts(rules=[nsg_rule("allow-443", 500, "Allow", "Internet", 443)]))
    assert codes(found) == ["azure.lb_rule_missing"]
    f = found[0]
    assert f["resource"] == {"kind": "Service", "namespace": "shop", "name": "web"}
    assert f["evidence"]["load_balancer"] == "kubernetes" and f["evidence"]["port"] == 443 and step["status"] == "failed"


def test_lb_rule_matching_uses_the_frontend_ip_or_the_uid_prefix():
    assert step8([service()], facts())[1] == []
    # no address yet: the rule name prefix (a + uid without dashes) identifies the Service's rules
    assert codes(step8([service(ip=None)], facts())[1]) == []
    other = service(uid="99999999-2fa1-11d2-883f-0016d3cca427", ip=None)
    assert codes(step8([other], facts())[1]) == ["azure.lb_rule_missing"]


def test_internal_service_needs_its_rule_on_kubernetes_internal():
    internal = service(annotations={"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}, ip="10.224.0.100")
    azure = facts()
    azure["load_balancers"][0]["rules"][0]["frontend_id"] = f"{LB_ID}/frontendIPConfigurations/{PREFIX}"
    azure["load_balancers"][0]["frontends"][0]["public_ip_address"] = "10.224.0.100"  # the rule sits on the public LB
    _step, found = step8([internal], azure)
    assert codes(found) == ["azure.lb_rule_missing"]
    assert found[0]["evidence"]["load_balancer"] == "kubernetes-internal" and found[0]["evidence"]["found_on"]["load_balancer"] == "kubernetes"
    assert found[0]["evidence"]["load_balancer_exists"] is False
    azure["load_balancers"].append({"id": ILB_ID, "name": "kubernetes-internal", "internal": True,
                                    "frontends": [{"id": f"{ILB_ID}/frontendIPConfigurations/{PREFIX}", "private_ip_address": "10.224.0.100"}],
                                    "rules": [{"name": f"{PREFIX}-TCP-80", "protocol": "Tcp", "frontend_port": 80,
                                               "frontend_id": f"{ILB_ID}/frontendIPConfigurations/{PREFIX}"}]})
    assert step8([internal], azure)[1] == []


def test_services_of_another_load_balancer_class_are_not_checked():
    svc = service(port=443)
    svc["spec"]["loadBalancerClass"] = "example.com/metallb"
    assert step8([svc], facts())[1] == []


# ------------------------------------------------------------------ azure.nsg_blocks_port

def test_nsg_deny_above_the_allow_blocks_the_port_and_names_the_rule():
    rules = [nsg_rule("deny-web", 400, "Deny", "*", 80), nsg_rule(f"{PREFIX}-TCP-80-Internet", 500, "Allow", "Internet", 80, dst=WEB_IP)]
    _step, found = step8([service()], facts(rules=rules))
    assert codes(found) == ["azure.nsg_blocks_port"]
    ev = found[0]["evidence"]
    assert ev["nsg"] == "aks-agentpool-nsg" and ev["rule"]["name"] == "deny-web" and ev["rule"]["priority"] == 400
    assert "deny-web" in found[0]["message"] and ev["source"] == "Internet" and ev["port"] == 80


def test_nsg_deny_below_the_allow_is_a_near_miss():
    rules = [nsg_rule("deny-web", 600, "Deny", "*", 80), nsg_rule(f"{PREFIX}-TCP-80-Internet", 500, "Allow", "Internet", 80, dst=WEB_IP)]
    assert step8([service()], facts(rules=rules))[1] == []


def test_no_allow_rule_means_the_default_deny_decides():
    _step, found = step8([service()], facts(rules=[]))
    assert codes(found) == ["azure.nsg_blocks_port"]
    assert found[0]["evidence"]["rule"]["name"] == "DenyAllInBound" and found[0]["evidence"]["rule"]["default"]


def test_internal_services_are_evaluated_from_the_virtual_network():
    internal = service(annotations={"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}, ip="10.224.0.100")
    azure = facts(rules=[])
    azure["load_balancers"] = [{"id": ILB_ID, "name": "kubernetes-internal", "internal": True,
                                "frontends": [{"id": "fe", "private_ip_address": "10.224.0.100"}],
                                "rules": [{"name": "r", "protocol": "Tcp", "frontend_port": 80, "frontend_id": "fe"}]}]
    assert step8([internal], azure)[1] == []  # AllowVnetInBound lets it in
    azure["network_security_groups"][0]["rules"] = [nsg_rule("deny-vnet-80", 100, "Deny", "VirtualNetwork", 80)]
    found = step8([internal], azure)[1]
    assert codes(found) == ["azure.nsg_blocks_port"] and found[0]["evidence"]["source"] == "VirtualNetwork"


def test_subnet_nsg_blocks_even_when_the_nic_nsg_allows():
    azure = facts()
    defaults = copy.deepcopy(azure["network_security_groups"][0]["default_rules"])
    subnet_nsg = {"id": "subnet-nsg", "name": "byo-subnet-nsg", "rules": [], "default_rules": defaults}
    azure["network_security_groups"].append(subnet_nsg)
    azure["subnets"][0]["nsg_id"] = "subnet-nsg"
    found = step8([service()], azure)[1]
    assert codes(found) == ["azure.nsg_blocks_port"] and found[0]["evidence"]["nsg"] == "byo-subnet-nsg"
    subnet_nsg["rules"] = [nsg_rule("allow-80", 200, "Allow", "Internet", 80)]
    assert step8([service()], azure)[1] == []


def test_load_balancer_source_ranges_are_evaluated_per_range():
    rules = [nsg_rule("allow-office", 500, "Allow", "203.0.113.0/24", 80)]
    assert step8([service(source_ranges=["203.0.113.0/24"])], facts(rules=rules))[1] == []
    found = step8([service(source_ranges=["198.51.100.0/24"])], facts(rules=rules))[1]
    assert codes(found) == ["azure.nsg_blocks_port"] and found[0]["evidence"]["source"].startswith("198.51.100.0")


# ------------------------------------------------------------------ azure.subnet_exhausted

def cni_pools(count=2, max_count=5, max_pods=30, surge="1"):
    return [{"name": "system", "count": count, "max_pods": max_pods, "enable_auto_scaling": True, "max_count": max_count, "max_surge": surge}]


def test_subnet_exhausted_fires_when_scale_out_does_not_fit():
    # /24: 251 usable; 2 nodes x 31 = 62 used; scaling to 5 + 1 surge needs 4 x 31 = 124 more; 189 free -> fits
    azure = facts(ipam="node_subnet", mode=None, pools=cni_pools(), subnet={"used": 62})
    assert codes(step8([], azure)[1]) == []
    # max 8 nodes: (8 + 1 - 2) x 31 = 217 > 189 free
    azure = facts(ipam="node_subnet", mode=None, pools=cni_pools(max_count=8), subnet={"used": 62})
    _step, found = step8([], azure)
    assert codes(found) == ["azure.subnet_exhausted"]
    ev = found[0]["evidence"]
    assert ev["free"] == 189 and ev["needed"] == 217 and ev["pools"][0]["ips_per_node"] == 31
    assert found[0]["resource"] == {"kind": "Subnet", "namespace": None, "name": "aks-nodes"}


def test_subnet_exhausted_near_miss_exactly_enough():
    # (7 + 1 - 2) x 31 = 186 needed; free = 251 - 65 = 186 -> enough
    azure = facts(ipam="node_subnet", mode=None, pools=cni_pools(max_count=7), subnet={"used": 65})
    assert step8([], azure)[1] == []
    azure["subnets"][0]["used"] = 66
    assert codes(step8([], azure)[1]) == ["azure.subnet_exhausted"]


def test_overlay_needs_one_address_per_node_only():
    azure = facts(ipam="overlay", pools=cni_pools(max_count=100), subnet={"size": 251, "used": 2})
    assert step8([], azure)[1] == []
    azure["subnets"][0]["used"] = 200  # 99 + 1 more nodes > 51 free
    assert codes(step8([], azure)[1]) == ["azure.subnet_exhausted"]


def test_surge_percentages_round_up_with_at_least_one_node():
    assert surge_nodes("33%", 10) == 4 and surge_nodes("10%", 3) == 1 and surge_nodes("3", 10) == 3 and surge_nodes(None, 30) == 3


# ------------------------------------------------------------------ azure.route_missing (kubenet)

def kubenet(routes):
    table = {"id": RT_ID, "name": "aks-agentpool-rt", "subnet_ids": [SUBNET_ID], "routes": routes}
    return facts(plugin="kubenet", mode=None, ipam="kubenet", route_tables=[table], subnet={"route_table_id": RT_ID})


def test_route_missing_fires_for_a_node_without_route():
    nodes = [node("aks-system-0", "10.224.0.4", "10.244.0.0/24"), node("aks-system-1", "10.224.0.5", "10.244.1.0/24")]
    azure = kubenet([{"name": "aks-system-0", "address_prefix": "10.244.0.0/24", "next_hop_type": "VirtualAppliance", "next_hop_ip_address": "10.224.0.4"}])
    _step, found = step8(nodes, azure)
    assert codes(found) == ["azure.route_missing"]
    assert found[0]["resource"] == {"kind": "Node", "namespace": None, "name": "aks-system-1"}
    assert found[0]["evidence"]["pod_cidr"] == "10.244.1.0/24" and found[0]["evidence"]["route_tables"] == ["aks-agentpool-rt"]


def test_route_to_the_wrong_node_is_reported_and_a_correct_one_is_not():
    nodes = [node("aks-system-0", "10.224.0.4", "10.244.0.0/24")]
    wrong = kubenet([{"name": "r0", "address_prefix": "10.244.0.0/24", "next_hop_type": "VirtualAppliance", "next_hop_ip_address": "10.224.0.9"}])
    found = step8(nodes, wrong)[1]
    assert codes(found) == ["azure.route_missing"] and found[0]["evidence"]["next_hop_ip_address"] == "10.224.0.9"
    right = kubenet([{"name": "r0", "address_prefix": "10.244.0.0/24", "next_hop_type": "VirtualAppliance", "next_hop_ip_address": "10.224.0.4"}])
    assert step8(nodes, right)[1] == []


def test_route_table_not_associated_with_the_subnet():
    nodes = [node("aks-system-0", "10.224.0.4", "10.244.0.0/24")]
    azure = kubenet([{"name": "r0", "address_prefix": "10.244.0.0/24", "next_hop_type": "VirtualAppliance", "next_hop_ip_address": "10.224.0.4"}])
    azure["subnets"][0]["route_table_id"] = None
    found = step8(nodes, azure)[1]
    assert codes(found) == ["azure.route_missing"] and "no route table associated" in found[0]["message"]


def test_routes_are_not_checked_outside_kubenet():
    nodes = [node("aks-system-0", "10.224.0.4", "10.244.0.0/24")]
    assert step8(nodes, facts())[1] == []


# ------------------------------------------------------------------ static IPs

def static(ip="20.60.0.5", rg=None, legacy=False):
    ann = {} if legacy else {"service.beta.kubernetes.io/azure-load-balancer-ipv4": ip}
    if rg:
        ann["service.beta.kubernetes.io/azure-load-balancer-resource-group"] = rg
    return service(annotations=ann, ip=None, legacy_ip=ip if legacy else None)


def sfacts(pips=None):
    return facts(pips=pips, rules=[nsg_rule("allow-80", 500, "Allow", "Internet", 80)])


def test_static_ip_not_found():
    found = step8([static()], sfacts())[1]
    assert codes(found) == ["azure.static_ip_not_found"]
    assert found[0]["evidence"]["requested"] == "20.60.0.5"
    found = step8([static(legacy=True)], sfacts())[1]
    assert codes(found) == ["azure.static_ip_not_found"]  # spec.loadBalancerIP (deprecated) counts too


def test_static_ip_in_node_resource_group_is_fine():
    pips = [{"id": "p", "name": "web-ip", "resource_group": NODE_RG.lower(), "ip_address": "20.60.0.5"}]
    assert step8([static()], sfacts(pips=pips))[1] == []


def test_static_ip_wrong_resource_group_without_annotation():
    pips = [{"id": "p", "name": "web-ip", "resource_group": "lab-rg", "ip_address": "20.60.0.5"}]
    found = step8([static()], sfacts(pips=pips))[1]
    assert codes(found) == ["azure.static_ip_wrong_resource_group"]
    assert found[0]["evidence"]["public_ip_resource_group"] == "lab-rg"
    assert step8([static(rg="lab-rg")], sfacts(pips=pips))[1] == []  # the annotation names its group: fine
    found = step8([static(rg="other-rg")], sfacts(pips=pips))[1]
    assert codes(found) == ["azure.static_ip_wrong_resource_group"] and "other-rg" in found[0]["message"]


def test_a_static_ip_problem_is_reported_alone():
    # the Service has no LB rule and no NSG rule either, because of its static IP: one cause, one finding
    azure = facts(rules=[], lb_rules=[])
    assert codes(step8([static()], azure)[1]) == ["azure.static_ip_not_found"]
    azure["public_ips"].append({"id": "p", "name": "web-ip", "resource_group": NODE_RG, "ip_address": "20.60.0.5"})
    assert codes(step8([static()], azure)[1]) == ["azure.lb_rule_missing", "azure.nsg_blocks_port"]


def test_internal_service_ip_is_not_a_public_ip():
    svc = static()
    svc["metadata"]["annotations"]["service.beta.kubernetes.io/azure-load-balancer-internal"] = "true"
    assert "azure.static_ip_not_found" not in codes(step8([svc], sfacts())[1])

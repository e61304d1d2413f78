# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules: every rule with a plan it rejects and a neighbouring plan it accepts."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._aks.profile import build_desired
from ansible_collections.aksnet.networking.plugins.module_utils._aks.validation import (
    effective_options,
    immutable_changes,
    migrations,
    preflight,
    surge_nodes,
)

SUB = "/subscriptions/0000/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/"
NODES = SUB + "nodes"
PODS = SUB + "pods"


def plan(plugin="azure", mode="overlay", **network):
    """A valid plan to start from; keyword arguments override network options, pool_* the pool options."""
    pool = {"name": "system", "vm_size": "Standard_D4s_v5", "count": 3}
    for key in list(network):
        if key.startswith("pool_"):
            pool[key[5:]] = network.pop(key)
    net = {"plugin": plugin, "plugin_mode": mode, "service_cidr": "10.0.0.0/16", "dns_service_ip": "10.0.0.10"}
    if mode == "overlay" or plugin == "kubenet":
        net["pod_cidr"] = "192.168.0.0/16"
    net.update(network)
    return {"name": "aks1", "dns_prefix": "aks1", "location": "westeurope", "network": net, "system_pool": pool}


# (rule, rejected plan, accepted plan, preflight keyword arguments, fragment of the error naming option + rule)
RULES = [
    ("pod cidr text", plan(pod_cidr="192.168.0/33"), plan(), {}, "network.pod_cidr: '192.168.0/33' is not a valid CIDR"),
    ("pod cidr no prefix", plan(pod_cidr="192.168.0.0"), plan(), {}, "missing the /prefix length"),
    ("host bits", plan(service_cidr="10.0.0.5/16", dns_service_ip="10.0.0.10"), plan(), {}, "host bits are set; the network address is 10.0.0.0/16"),
    ("ipv6 service", plan(service_cidr="fd00::/108", dns_service_ip=None), plan(), {}, "network.service_cidr: 'fd00::/108' is IPv6"),
    ("dns ip text", plan(dns_service_ip="10.0.0.300"), plan(), {}, "network.dns_service_ip: '10.0.0.300' is not a valid IP address"),
    ("subnet cidr text", plan(), plan(), {"vnet_subnet_cidr": "10.240.0.0/16"}, None),
    ("avoid text", plan(), plan(), {"avoid_cidrs": ["10.50.0.0/16"]}, None),
    (
        "service larger than /12",
        plan(service_cidr="10.0.0.0/11", dns_service_ip="10.0.0.10"),
        plan(service_cidr="10.0.0.0/12", dns_service_ip="10.0.0.10"),
        {},
        "network.service_cidr: '10.0.0.0/11' is a /11; AKS accepts service ranges of /12 or smaller",
    ),
    (
        "dns outside service",
        plan(dns_service_ip="10.1.0.10"),
        plan(dns_service_ip="10.0.255.254"),
        {},
        "network.dns_service_ip: '10.1.0.10' is outside network.service_cidr 10.0.0.0/16",
    ),
    (
        "dns network address",
        plan(dns_service_ip="10.0.0.0"),
        plan(dns_service_ip="10.0.0.2"),
        {},
        "network.dns_service_ip: '10.0.0.0' is the network address of network.service_cidr",
    ),
    (
        "dns first usable address (kubernetes.default)",
        plan(dns_service_ip="10.0.0.1"),
        plan(dns_service_ip="10.0.0.2"),
        {},
        "network.dns_service_ip: '10.0.0.1' is the first usable address of network.service_cidr 10.0.0.0/16, which the API server takes",
    ),
    (
        "dns last address",
        plan(dns_service_ip="10.0.255.255"),
        plan(dns_service_ip="10.0.255.254"),
        {},
        "network.dns_service_ip: '10.0.255.255' is the last address of network.service_cidr",
    ),
    (
        "service overlaps pod",
        plan(pod_cidr="10.0.128.0/17"),
        plan(pod_cidr="10.1.0.0/16"),
        {},
        "network.service_cidr: '10.0.0.0/16' overlaps network.pod_cidr 10.0.128.0/17",
    ),
    (
        "service overlaps node subnet",
        plan(plugin="azure", mode=None),
        plan(plugin="azure", mode=None),
        {"vnet_subnet_cidr": "10.0.0.0/24"},
        "network.service_cidr: '10.0.0.0/16' overlaps the node subnet (vnet_subnet_cidr) 10.0.0.0/24",
    ),
    (
        "service overlaps avoid",
        plan(),
        plan(),
        {"avoid_cidrs": ["10.0.0.0/8"]},
        "network.service_cidr: '10.0.0.0/16' overlaps avoid_cidrs[0] 10.0.0.0/8",
    ),
    ("pod overlaps avoid", plan(), plan(), {"avoid_cidrs": ["172.16.0.0/12", "192.168.10.0/24"]}, "network.pod_cidr: '192.168.0.0/16' overlaps avoid_cidrs[1]"),
    ("pod overlaps node subnet", plan(), plan(), {"vnet_subnet_cidr": "192.168.1.0/24"}, "network.pod_cidr: '192.168.0.0/16' overlaps the node subnet"),
    (
        "service reserved",
        plan(service_cidr="172.30.0.0/16", dns_service_ip="172.30.0.10"),
        plan(),
        {},
        "network.service_cidr: '172.30.0.0/16' overlaps 172.30.0.0/16",
    ),
    ("pod reserved superset", plan(pod_cidr="172.16.0.0/12"), plan(pod_cidr="172.16.0.0/13"), {}, "network.pod_cidr: '172.16.0.0/12' overlaps 172.30.0.0/16"),
    ("pod reserved link-local", plan(pod_cidr="169.254.0.0/16"), plan(), {}, "overlaps 169.254.0.0/16, a range AKS reserves"),
    ("service reserved test-net", plan(service_cidr="192.0.2.0/24", dns_service_ip="192.0.2.10"), plan(), {}, "overlaps 192.0.2.0/24"),
    ("node subnet reserved", plan(), plan(), {"vnet_subnet_cidr": "172.31.0.0/24"}, "vnet_subnet_cidr: '172.31.0.0/24' overlaps 172.31.0.0/16"),
    (
        "overlay without azure",
        plan(plugin="kubenet", mode="overlay"),
        plan(plugin="azure", mode="overlay"),
        {},
        "network.plugin_mode: 'overlay' needs network.plugin: azure",
    ),
    (
        "cilium with kubenet",
        plan(plugin="kubenet", mode=None, dataplane="cilium", policy="cilium"),
        plan(dataplane="cilium", policy="cilium"),
        {},
        "network.dataplane: 'cilium' needs network.plugin: azure",
    ),
    (
        "cilium with calico",
        plan(dataplane="cilium", policy="calico"),
        plan(dataplane="cilium"),
        {},
        "network.policy: 'calico' cannot be used with network.dataplane: cilium",
    ),
    (
        "cilium with policy none",
        plan(dataplane="cilium", policy="none"),
        plan(dataplane="cilium", policy="cilium"),
        {},
        "network.policy: 'none' cannot be used with network.dataplane: cilium",
    ),
    ("policy cilium without dataplane", plan(policy="cilium"), plan(policy="calico"), {}, "network.policy: 'cilium' needs network.dataplane: cilium"),
    (
        "security without cilium",
        plan(advanced_networking={"security": True}),
        plan(dataplane="cilium", policy="cilium", advanced_networking={"security": True}),
        {},
        "network.advanced_networking.security: True needs network.dataplane: cilium",
    ),
    (
        "l7 policies without cilium",
        plan(advanced_networking={"advanced_network_policies": "L7"}),
        plan(advanced_networking={"observability": True, "advanced_network_policies": "None"}),
        {},
        "network.advanced_networking.advanced_network_policies: 'L7' needs network.dataplane: cilium",
    ),
    (
        "fqdn policies with security off",
        plan(dataplane="cilium", policy="cilium", advanced_networking={"security": False, "advanced_network_policies": "FQDN"}),
        plan(dataplane="cilium", policy="cilium", advanced_networking={"security": True, "advanced_network_policies": "FQDN"}),
        {},
        "advanced_network_policies: 'FQDN' needs network.advanced_networking.security: true",
    ),
    (
        "azure policy with kubenet",
        plan(plugin="kubenet", mode=None, policy="azure"),
        plan(plugin="kubenet", mode=None, policy="calico"),
        {},
        "is not supported with network.plugin: kubenet",
    ),
    ("byo cni with policy", plan(plugin="none", mode=None, policy="calico"), plan(plugin="none", mode=None), {}, "cannot be used with network.plugin: none"),
    (
        "kubenet windows",
        plan(plugin="kubenet", mode=None, pool_os_type="Windows"),
        plan(plugin="kubenet", mode=None, pool_os_type="Linux"),
        {},
        "system_pool.os_type: 'Windows' is not supported with network.plugin: kubenet",
    ),
    (
        "system pool windows",
        plan(pool_os_type="windows", pool_name="win"),
        plan(pool_os_type="linux"),
        {},
        "cannot be used for the system pool, which must run Linux",
    ),
    (
        "kubenet 400 nodes",
        plan(plugin="kubenet", mode=None, pool_count=401, pod_cidr="100.64.0.0/14"),
        plan(plugin="kubenet", mode=None, pool_count=399, pod_cidr="100.64.0.0/14"),
        {},
        "system_pool.count: 401 exceeds 400, the kubenet limit",
    ),
    (
        "nodes per pool",
        plan(pool_count=1001, pod_cidr="100.64.0.0/10"),
        plan(pool_count=1000, pod_cidr="100.64.0.0/10"),
        {},
        "system_pool.count: 1001 exceeds 1000",
    ),
    ("system pool empty", plan(pool_count=0), plan(pool_count=1, pool_max_pods=30), {}, "system_pool.count: 0 is below 1"),
    ("max pods high", plan(pool_max_pods=251), plan(pool_max_pods=250), {}, "system_pool.max_pods: 251 is outside 10-250"),
    ("max pods low", plan(pool_max_pods=9), plan(pool_max_pods=10), {}, "system_pool.max_pods: 9 is outside 10-250"),
    (
        "room for 30 pods",
        plan(pool_max_pods=10, pool_count=2),
        plan(pool_max_pods=10, pool_count=3),
        {},
        "gives room for 20 pods; AKS requires room for at least 30",
    ),
    (
        "azure cni subnet too small",
        plan(mode=None, pool_count=7, pool_max_pods=30, pool_vnet_subnet_id=NODES),
        plan(mode=None, pool_count=7, pool_max_pods=30, pool_vnet_subnet_id=NODES),
        {"vnet_subnet_cidr": "10.240.0.0/24"},
        None,
    ),
    (
        "azure cni subnet too small (8 nodes)",
        plan(mode=None, pool_count=8, pool_max_pods=30, pool_vnet_subnet_id=NODES),
        plan(mode=None, pool_count=7, pool_max_pods=30, pool_vnet_subnet_id=NODES),
        {"vnet_subnet_cidr": "10.240.0.0/24"},
        "vnet_subnet_cidr: '10.240.0.0/24' has 251 usable addresses (after Azure's 5 reserved) but Azure CNI needs (8 + 1) x (30 + 1) = 279",
    ),
    (
        "overlay subnet too small for nodes",
        plan(pool_count=3, pool_vnet_subnet_id=NODES),
        plan(pool_count=2, pool_vnet_subnet_id=NODES),
        {"vnet_subnet_cidr": "10.240.0.0/29"},
        "has 3 usable addresses (after Azure's 5 reserved) but needs 4 for 3 nodes + 1 surge",
    ),
    (
        "pod cidr too small for node /24s",
        plan(pod_cidr="192.168.0.0/23", pool_count=2),
        plan(pod_cidr="192.168.0.0/23", pool_count=1),
        {},
        "network.pod_cidr: '192.168.0.0/23' holds 2 node /24 block(s) but 2 nodes + 1 surge need 3; every node takes a /24; use a /22 pod CIDR or larger",
    ),
    (
        "bad subnet id",
        plan(pool_vnet_subnet_id="subnet-1"),
        plan(pool_vnet_subnet_id=NODES),
        {},
        "system_pool.vnet_subnet_id: 'subnet-1' is not a subnet resource id",
    ),
    (
        "pod subnet without node subnet",
        plan(mode=None, pool_pod_subnet_id=PODS),
        plan(mode=None, pool_pod_subnet_id=PODS, pool_vnet_subnet_id=NODES),
        {},
        "needs system_pool.vnet_subnet_id",
    ),
    (
        "pod subnet with overlay",
        plan(pool_pod_subnet_id=PODS, pool_vnet_subnet_id=NODES),
        plan(pool_vnet_subnet_id=NODES),
        {},
        "cannot be used with network.plugin_mode: overlay",
    ),
    (
        "pod subnet with kubenet",
        plan(plugin="kubenet", mode=None, pool_pod_subnet_id=PODS, pool_vnet_subnet_id=NODES),
        plan(plugin="kubenet", mode=None),
        {},
        "is only used by Azure CNI",
    ),
    (
        "udr without own subnet",
        plan(outbound_type="userDefinedRouting"),
        plan(outbound_type="userDefinedRouting", pool_vnet_subnet_id=NODES),
        {},
        "network.outbound_type: 'userDefinedRouting' needs your own subnet",
    ),
    (
        "managed nat with own subnet",
        plan(outbound_type="managedNATGateway", pool_vnet_subnet_id=NODES),
        plan(outbound_type="managedNATGateway"),
        {},
        "cannot be used with your own subnet",
    ),
    (
        "basic lb with outbound",
        plan(load_balancer_sku="basic", outbound_type="loadBalancer"),
        plan(load_balancer_sku="Standard", outbound_type="loadBalancer"),
        {},
        "network.load_balancer_sku: 'basic' cannot be used with network.outbound_type",
    ),
    (
        "unknown enum",
        plan(policy="antrea"),
        plan(policy="Calico"),
        {},
        "network.policy: 'antrea' is not a value AKS accepts (one of none, calico, azure, cilium)",
    ),
    ("unknown os", plan(pool_os_type="mac"), plan(), {}, "system_pool.os_type: 'mac' is not a value AKS accepts"),
    ("cluster name", dict(plan(), name="-bad-"), plan(), {}, "name: '-bad-' is not a valid AKS cluster name"),
    ("dns prefix", dict(plan(), dns_prefix="bad_prefix"), plan(), {}, "dns_prefix: 'bad_prefix' is not a valid DNS prefix"),
    ("pool name", plan(pool_name="System-Pool"), plan(pool_name="system01"), {}, "system_pool.name: 'System-Pool' is not a valid node pool name"),
    ("pool name length", plan(pool_name="systempool123"), plan(pool_name="systempool12"), {}, "at most 12 characters"),
]

# Rows whose "rejected" plan needs a different keyword set from the accepted one.
BAD_KWARGS = {
    "subnet cidr text": ({"vnet_subnet_cidr": "10.240.0.0/33"}, "vnet_subnet_cidr: '10.240.0.0/33' is not a valid CIDR"),
    "avoid text": ({"avoid_cidrs": ["10.50.0.0/16", "on-prem"]}, "avoid_cidrs[1]: 'on-prem' is not a valid CIDR"),
    "service overlaps node subnet": ({"vnet_subnet_cidr": "10.0.0.0/24"}, None),
    "service overlaps avoid": ({"avoid_cidrs": ["10.0.0.0/8"]}, None),
    "pod overlaps avoid": ({"avoid_cidrs": ["172.16.0.0/12", "192.168.10.0/24"]}, None),
    "pod overlaps node subnet": ({"vnet_subnet_cidr": "192.168.1.0/24"}, None),
    "node subnet reserved": ({"vnet_subnet_cidr": "172.31.0.0/24"}, None),
    "azure cni subnet too small": ({"vnet_subnet_cidr": "10.240.0.0/25"}, "Azure CNI needs (7 + 1) x (30 + 1) = 248"),
}
# Accepted-plan keyword arguments where the rejected one's would still fail.
GOOD_KWARGS = {
    "service overlaps node subnet": {"vnet_subnet_cidr": "10.240.0.0/24"},
    "service overlaps avoid": {"avoid_cidrs": ["10.224.0.0/12"]},
    "pod overlaps avoid": {"avoid_cidrs": ["172.16.0.0/12"]},
    "pod overlaps node subnet": {"vnet_subnet_cidr": "10.240.0.0/24"},
    "node subnet reserved": {"vnet_subnet_cidr": "10.240.0.0/24"},
}


@pytest.mark.parametrize(("rule", "bad", "good", "kwargs", "fragment"), RULES, ids=[r[0] for r in RULES])
def test_rule_rejects_and_accepts(rule, bad, good, kwargs, fragment):
    bad_kwargs, override = BAD_KWARGS.get(rule, (kwargs, None))
    fragment = override or fragment
    errors, _unused = preflight(bad, **bad_kwargs)
    assert any(fragment in e for e in errors), f"{rule}: expected {fragment!r} in {errors}"
    good_errors, _unused = preflight(good, **GOOD_KWARGS.get(rule, kwargs))
    assert good_errors == [], f"{rule}: accepted plan got {good_errors}"


def test_errors_name_option_value_rule_and_fix():
    errors, _unused = preflight(plan(service_cidr="10.0.0.0/8", dns_service_ip="10.0.0.10"))
    assert errors == ["network.service_cidr: '10.0.0.0/8' is a /8; AKS accepts service ranges of /12 or smaller; use a smaller range such as 10.0.0.0/16."]


def test_pod_cidr_only_checked_where_pods_use_it():
    # Azure CNI node subnet: pod_cidr is ignored (warning), so its overlap with the service range is not an error.
    errors, warnings = preflight(plan(mode=None, pod_cidr="10.0.0.0/16"))
    assert errors == []
    assert any("network.pod_cidr: '10.0.0.0/16' is only used by kubenet and Azure CNI Overlay" in w for w in warnings)


@pytest.mark.parametrize(
    ("params", "kwargs", "fragment"),
    [
        (plan(mode=None, dataplane="cilium", policy="cilium"), {}, "uses legacy IPAM"),
        (plan(plugin="kubenet", mode=None, pool_count=400, pod_cidr="100.64.0.0/14"), {}, "plus 1 surge node(s) exceeds the kubenet limit"),
        (plan(policy="azure", pool_count=300, pod_cidr="100.64.0.0/14"), {}, "beyond which Azure Network Policy Manager is not supported"),
        (plan(load_balancer_sku="basic"), {}, "retired Basic load balancer"),
        (plan(pod_cidr="50.0.0.0/16"), {}, "is not RFC 1918 or RFC 6598 space"),
        (plan(dns_service_ip=None), {}, "network.dns_service_ip: is not set while its partner is"),
        (plan(plugin="none", mode=None), {}, "network.pod_cidr: is not set with network.plugin: none"),
        (
            plan(mode=None, pool_vnet_subnet_id=NODES, pool_pod_subnet_id=SUB.replace("vnet", "other") + "pods"),
            {},
            "is in a different VNet from system_pool.vnet_subnet_id",
        ),
        (
            plan(mode=None, pool_vnet_subnet_id=NODES, pool_pod_subnet_id=PODS, pool_count=10, pool_max_pods=110),
            {"pod_subnet_cidr": "10.241.0.0/24"},
            "can claim 1232",
        ),
    ],
)
def test_warnings(params, kwargs, fragment):
    errors, warnings = preflight(params, **kwargs)
    assert errors == []
    assert any(fragment in w for w in warnings), warnings


def test_warnings_absent_for_a_clean_plan():
    assert preflight(plan(dataplane="cilium", policy="cilium"), vnet_subnet_cidr="10.240.0.0/24") == ([], [])


def test_unset_plugin_with_overlay_is_overlay():
    params = plan(plugin=None)
    assert preflight(params) == ([], [])


def test_effective_options_use_current_values_the_user_left_out():
    current = {
        "properties": {
            "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "192.168.0.0/16", "networkPolicy": "none"},
            "agentPoolProfiles": [{"name": "system", "mode": "System", "count": 3, "maxPods": 250}],
        }
    }
    options = effective_options({"network": {"dataplane": "cilium", "policy": None}, "system_pool": {"count": 5}}, current)
    assert options["network"]["plugin_mode"] == "overlay"
    assert options["network"]["dataplane"] == "cilium"
    assert options["system_pool"] == {**options["system_pool"], "count": 5, "max_pods": 250, "name": "system"}
    # dataplane cilium on a cluster whose policy is none (current value) is refused: cilium needs policy cilium
    errors, _unused = preflight({"network": {"dataplane": "cilium"}}, current=current)
    assert errors == ["network.policy: 'none' cannot be used with network.dataplane: cilium, which requires network policy cilium; set network.policy: cilium."]
    assert preflight({"network": {"dataplane": "cilium", "policy": "cilium"}}, current=current)[0] == []


def test_surge_nodes():
    assert surge_nodes(10, 1) == 1
    assert surge_nodes(10, "33%") == 4
    assert surge_nodes(1, "10%") == 1
    assert surge_nodes(5, None) == 1


# ------------------------------------------------------------------------------------------------
# Changes to an existing cluster
# ------------------------------------------------------------------------------------------------


def cluster(plugin="azure", mode="overlay", pod_cidr="192.168.0.0/16", policy="none", dataplane="azure", outbound="loadBalancer", subnet=None, pod_subnet=None):
    net = {
        "networkPlugin": plugin,
        "networkPolicy": policy,
        "networkDataplane": dataplane,
        "serviceCidr": "10.0.0.0/16",
        "dnsServiceIP": "10.0.0.10",
        "outboundType": outbound,
        "loadBalancerSku": "standard",
    }
    if mode:
        net["networkPluginMode"] = mode
    if pod_cidr:
        net["podCidr"] = pod_cidr
    pool = {"name": "system", "mode": "System", "count": 3, "vmSize": "Standard_D4s_v5", "maxPods": 250, "osType": "Linux"}
    if subnet:
        pool["vnetSubnetID"] = subnet
    if pod_subnet:
        pool["podSubnetID"] = pod_subnet
    return {
        "id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1",
        "location": "westeurope",
        "properties": {
            "dnsPrefix": "aks1",
            "kubernetesVersion": "1.33",
            "currentKubernetesVersion": "1.33.2",
            "networkProfile": net,
            "agentPoolProfiles": [pool],
        },
    }


def desired(**options):
    network = {k: v for k, v in options.items() if not k.startswith("pool_") and k not in ("location", "dns_prefix", "kubernetes_version")}
    pool = {k[5:]: v for k, v in options.items() if k.startswith("pool_")}
    top = {k: options[k] for k in ("location", "dns_prefix", "kubernetes_version") if k in options}
    return build_desired({**top, "network": network, "system_pool": pool})


IMMUTABLE = [
    ("azure to kubenet", cluster(mode=None, pod_cidr=None), desired(plugin="kubenet"), "network.plugin: cannot change 'Azure CNI (node subnet)' to 'kubenet'"),
    ("overlay to node subnet", cluster(), desired(plugin_mode=None, plugin="kubenet"), "cannot change 'Azure CNI Overlay' to 'kubenet'"),
    ("kubenet to azure node subnet", cluster(plugin="kubenet", mode=None), desired(plugin="azure"), "cannot change 'kubenet' to 'Azure CNI (node subnet)'"),
    (
        "pod subnet to overlay",
        cluster(mode=None, pod_cidr=None, subnet=NODES, pod_subnet=PODS),
        desired(plugin_mode="overlay", pod_cidr="192.168.0.0/16"),
        "cannot change 'Azure CNI (pod subnet)' to 'Azure CNI Overlay'",
    ),
    ("service cidr", cluster(), desired(service_cidr="10.1.0.0/16"), "network.service_cidr: cannot change '10.0.0.0/16' to '10.1.0.0/16'"),
    ("dns ip", cluster(), desired(dns_service_ip="10.0.0.11"), "network.dns_service_ip: cannot change '10.0.0.10' to '10.0.0.11'"),
    ("lb sku", cluster(), desired(load_balancer_sku="basic"), "network.load_balancer_sku: cannot change 'standard' to 'basic'"),
    (
        "kubenet pod cidr",
        cluster(plugin="kubenet", mode=None, pod_cidr="10.244.0.0/16"),
        desired(pod_cidr="10.245.0.0/16"),
        "a kubenet pod CIDR is fixed at creation",
    ),
    ("overlay pod cidr shrink", cluster(), desired(pod_cidr="192.168.0.0/17"), "can only be expanded to a larger range that contains the current one"),
    ("overlay pod cidr move", cluster(), desired(pod_cidr="100.64.0.0/16"), "can only be expanded"),
    (
        "outbound managed vnet udr",
        cluster(),
        desired(outbound_type="userDefinedRouting"),
        "network.outbound_type: cannot change 'loadBalancer' to 'userDefinedRouting'",
    ),
    ("outbound byo vnet managed nat", cluster(subnet=NODES), desired(outbound_type="managedNATGateway"), "on a custom VNet"),
    (
        "cilium back to azure",
        cluster(dataplane="cilium", policy="cilium"),
        desired(dataplane="azure", policy="none"),
        "network.dataplane: cannot change 'cilium' to 'azure'",
    ),
    (
        "ipam and dataplane together",
        cluster(plugin="kubenet", mode=None, pod_cidr="10.244.0.0/16"),
        desired(plugin="azure", plugin_mode="overlay", dataplane="cilium", policy="cilium"),
        "run the module twice",
    ),
    (
        "kubenet to cilium dataplane",
        cluster(plugin="kubenet", mode=None, pod_cidr="10.244.0.0/16"),
        desired(dataplane="cilium"),
        "kubenet clusters cannot use Cilium",
    ),
    ("azure to calico directly", cluster(policy="azure"), desired(policy="calico"), "AKS switches policy engines only through none"),
    (
        "node subnet to overlay without pod cidr",
        cluster(mode=None, pod_cidr=None, subnet=NODES),
        desired(plugin_mode="overlay"),
        "network.pod_cidr: is required to migrate",
    ),
    (
        "node subnet to overlay with policy",
        cluster(mode=None, pod_cidr=None, policy="azure", subnet=NODES),
        desired(plugin_mode="overlay", pod_cidr="192.168.0.0/16"),
        "only without a policy engine",
    ),
    ("vm size", cluster(), desired(pool_vm_size="Standard_D8s_v5"), "system_pool.vm_size: cannot change 'Standard_D4s_v5' to 'Standard_D8s_v5'"),
    ("max pods", cluster(), desired(pool_max_pods=110), "system_pool.max_pods: cannot change 250 to 110"),
    ("node subnet", cluster(subnet=NODES), desired(pool_vnet_subnet_id=SUB + "other"), "system_pool.vnet_subnet_id: cannot change"),
    ("os type", cluster(), desired(pool_os_type="Windows"), "system_pool.os_type: cannot change 'Linux' to 'Windows'"),
    ("pool rename", cluster(), desired(pool_name="newsys"), "system_pool.name: 'newsys' matches no node pool of the cluster (system pools: system)"),
    ("location", cluster(), desired(location="northeurope"), "location: cannot change 'westeurope' to 'northeurope'"),
    ("dns prefix", cluster(), desired(dns_prefix="other"), "dns_prefix: cannot change 'aks1' to 'other'"),
    ("k8s downgrade", cluster(), desired(kubernetes_version="1.32"), "kubernetes_version: cannot change '1.33.2' to '1.32'"),
]


@pytest.mark.parametrize(("case", "current", "wanted", "fragment"), IMMUTABLE, ids=[c[0] for c in IMMUTABLE])
def test_immutable_changes_are_refused(case, current, wanted, fragment):
    errors = immutable_changes(current, wanted)
    assert any(fragment in e for e in errors), f"{case}: {errors}"


def test_immutable_error_says_recreate():
    errors = immutable_changes(cluster(), desired(service_cidr="10.1.0.0/16"))
    assert errors == [
        "network.service_cidr: cannot change '10.0.0.0/16' to '10.1.0.0/16' on an existing cluster: serviceCidr is fixed when the cluster is created; "
        "the cluster must be recreated to change it (delete it and create it again, or create a new cluster)."
    ]


MUTABLE = [
    (
        "same values in other spelling",
        cluster(),
        desired(plugin="AZURE", plugin_mode="Overlay", service_cidr=" 10.0.0.0/16", dns_service_ip="10.0.0.10", outbound_type="loadbalancer"),
        [],
    ),
    ("count", cluster(), desired(pool_count=5), []),
    ("k8s upgrade", cluster(), desired(kubernetes_version="1.34"), []),
    ("k8s patch alias", cluster(), desired(kubernetes_version="1.33"), []),
    (
        "kubenet to overlay",
        cluster(plugin="kubenet", mode=None, pod_cidr="10.244.0.0/16"),
        desired(plugin="azure", plugin_mode="overlay"),
        ["kubenet_to_overlay"],
    ),
    (
        "kubenet calico to overlay",
        cluster(plugin="kubenet", mode=None, pod_cidr="10.244.0.0/16", policy="calico"),
        desired(plugin="azure", plugin_mode="overlay", pod_cidr="192.168.0.0/16"),
        ["kubenet_to_overlay"],
    ),
    (
        "node subnet to overlay",
        cluster(mode=None, pod_cidr=None, subnet=NODES),
        desired(plugin_mode="overlay", pod_cidr="192.168.0.0/16"),
        ["node_subnet_to_overlay"],
    ),
    ("dataplane to cilium", cluster(), desired(dataplane="cilium", policy="cilium"), ["dataplane_to_cilium"]),
    ("dataplane to cilium from npm", cluster(policy="azure"), desired(dataplane="cilium", policy="cilium"), ["dataplane_to_cilium"]),
    ("node subnet to cilium", cluster(mode=None, pod_cidr=None, subnet=NODES), desired(dataplane="cilium", policy="cilium"), ["dataplane_to_cilium"]),
    ("pod cidr expansion", cluster(pod_cidr="10.244.0.0/18"), desired(pod_cidr="10.244.0.0/16"), ["pod_cidr_expansion"]),
    ("outbound lb to nat (managed vnet)", cluster(), desired(outbound_type="managedNATGateway"), ["outbound_type_change"]),
    ("outbound lb to udr (byo vnet)", cluster(subnet=NODES), desired(outbound_type="userDefinedRouting"), ["outbound_type_change"]),
    ("install calico", cluster(), desired(policy="calico"), ["policy_engine_change"]),
    ("uninstall azure npm", cluster(policy="azure"), desired(policy="none"), ["policy_engine_change"]),
]


@pytest.mark.parametrize(("case", "current", "wanted", "names"), MUTABLE, ids=[c[0] for c in MUTABLE])
def test_supported_changes_pass_and_migrations_are_named(case, current, wanted, names):
    assert immutable_changes(current, wanted) == []
    assert [m["name"] for m in migrations(current, wanted)] == names


def test_migration_entries_describe_the_effect():
    found = migrations(cluster(plugin="kubenet", mode=None, pod_cidr="10.244.0.0/16"), desired(plugin="azure", plugin_mode="overlay"))
    assert found[0]["description"] == "kubenet to Azure CNI Overlay"
    assert "irreversible" in found[0]["notes"]


def test_nothing_to_compare():
    assert immutable_changes(None, desired(pool_count=1)) == []
    assert migrations(cluster(), {}) == []
    untouched = cluster()
    before = copy.deepcopy(untouched)
    immutable_changes(untouched, desired(plugin="kubenet"))
    assert untouched == before

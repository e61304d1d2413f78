# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Idempotence and diff: only the fields the user set decide "changed"."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._aks.compare import (
    compute_update,
    diff_paths,
    normalise,
    strip_read_only,
    versions_match,
)
from ansible_collections.aksnet.networking.plugins.module_utils._aks.profile import build_desired

NODES = "/subscriptions/0000/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes"


def server_cluster():
    """A cluster as AKS returns it: the user's fields plus server-filled defaults and read-only properties."""
    return {
        "id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1",
        "name": "aks1",
        "type": "Microsoft.ContainerService/ManagedClusters",
        "location": "westeurope",
        "tags": {"env": "dev"},
        "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
        "properties": {
            "provisioningState": "Succeeded",
            "powerState": {"code": "Running"},
            "kubernetesVersion": "1.33",
            "currentKubernetesVersion": "1.33.2",
            "dnsPrefix": "aks1",
            "fqdn": "aks1-abc.hcp.westeurope.azmk8s.io",
            "nodeResourceGroup": "MC_rg_aks1_westeurope",
            "networkProfile": {
                "networkPlugin": "azure",
                "networkPluginMode": "overlay",
                "networkPolicy": "none",
                "networkDataplane": "azure",
                "podCidr": "192.168.0.0/16",
                "serviceCidr": "10.0.0.0/16",
                "dnsServiceIP": "10.0.0.10",
                "outboundType": "loadBalancer",
                "loadBalancerSku": "Standard",
                "loadBalancerProfile": {"managedOutboundIPs": {"count": 1}, "effectiveOutboundIPs": [{"id": "pip"}]},
                "podCidrs": ["192.168.0.0/16"],
                "serviceCidrs": ["10.0.0.0/16"],
                "ipFamilies": ["IPv4"],
            },
            "agentPoolProfiles": [
                {
                    "name": "system",
                    "mode": "System",
                    "count": 3,
                    "vmSize": "Standard_D4s_v5",
                    "maxPods": 250,
                    "osType": "Linux",
                    "vnetSubnetID": NODES,
                    "provisioningState": "Succeeded",
                    "currentOrchestratorVersion": "1.33.2",
                    "eTag": "e",
                }
            ],
        },
    }


def user_options(**network):
    net = {"plugin": "azure", "plugin_mode": "overlay", "pod_cidr": "192.168.0.0/16", "service_cidr": "10.0.0.0/16", "dns_service_ip": "10.0.0.10"}
    net.update(network)
    return {
        "location": "westeurope",
        "tags": {"env": "dev"},
        "kubernetes_version": "1.33",
        "dns_prefix": "aks1",
        "system_pool": {"name": "system", "vm_size": "Standard_D4s_v5", "count": 3, "max_pods": 250, "vnet_subnet_id": NODES},
        "network": net,
    }


def test_same_input_again_is_not_a_change():
    changed, _unused, diff = compute_update(server_cluster(), build_desired(user_options()))
    assert changed is False
    assert diff == {"before": {}, "after": {}}


@pytest.mark.parametrize(
    "network",
    [
        {"plugin": "Azure", "plugin_mode": "OVERLAY"},
        {"pod_cidr": " 192.168.0.0/16 "},
        {"load_balancer_sku": "standard", "outbound_type": "LoadBalancer"},
        {"policy": "none", "dataplane": "azure"},
        {"advanced_networking": {"observability": False, "security": False}},
        {"advanced_networking": {"advanced_network_policies": "None"}},
    ],
    ids=["enum case", "cidr whitespace", "enum defaults spelled differently", "explicit defaults", "acns off = absent", "anp None = absent"],
)
def test_normalised_equal_values_are_not_a_change(network):
    changed, _unused, diff = compute_update(server_cluster(), build_desired(user_options(**network)))
    assert changed is False, diff


def test_server_defaults_absent_from_the_response_match_explicit_user_defaults():
    current = server_cluster()
    for key in ("networkPolicy", "networkDataplane", "outboundType", "loadBalancerSku"):
        del current["properties"]["networkProfile"][key]
    del current["properties"]["agentPoolProfiles"][0]["osType"]
    params = user_options(policy="none", dataplane="azure", outbound_type="loadBalancer", load_balancer_sku="standard")
    params["system_pool"]["os_type"] = "Linux"
    assert compute_update(current, build_desired(params))[0] is False


def test_fields_the_user_did_not_set_never_change():
    params = {"network": {"plugin": None, "pod_cidr": None}, "system_pool": {"name": None, "count": None}, "tags": None}
    changed, patched, _unused = compute_update(server_cluster(), build_desired(params))
    assert changed is False
    assert patched["properties"]["networkProfile"]["podCidr"] == "192.168.0.0/16"
    assert patched["tags"] == {"env": "dev"}


def test_subnet_ids_compare_case_insensitively_but_names_do_not():
    params = user_options()
    params["system_pool"]["vnet_subnet_id"] = NODES.upper() + "/"
    params["system_pool"]["vm_size"] = "standard_d4s_v5"
    assert compute_update(server_cluster(), build_desired(params))[0] is False
    params["tags"] = {"env": "Dev"}
    changed, _unused, diff = compute_update(server_cluster(), build_desired(params))
    assert changed is True
    assert diff == {"before": {"tags": {"env": "dev"}}, "after": {"tags": {"env": "Dev"}}}


def test_pool_count_change_is_a_change_with_a_readable_diff_and_a_full_body():
    params = user_options()
    params["system_pool"]["count"] = "5"
    changed, patched, diff = compute_update(server_cluster(), build_desired(params))
    assert changed is True
    assert diff == {"before": {"system_pool": {"count": 3}}, "after": {"system_pool": {"count": 5}}}
    assert diff_paths(diff) == ["system_pool.count"]
    pool = patched["properties"]["agentPoolProfiles"][0]
    assert pool["count"] == 5
    assert pool["maxPods"] == 250 and pool["vnetSubnetID"] == NODES
    # server-managed fields survive, read-only ones are gone
    assert patched["properties"]["networkProfile"]["loadBalancerProfile"] == {"managedOutboundIPs": {"count": 1}}
    assert patched["properties"]["nodeResourceGroup"] == "MC_rg_aks1_westeurope"
    for key in ("provisioningState", "powerState", "fqdn", "currentKubernetesVersion"):
        assert key not in patched["properties"]
    for key in ("id", "type"):
        assert key not in patched
    assert "provisioningState" not in pool and "eTag" not in pool
    assert patched["identity"] == {"type": "SystemAssigned"}


def test_network_diff_uses_option_names():
    changed, patched, diff = compute_update(server_cluster(), build_desired(user_options(dataplane="Cilium", policy="cilium")))
    assert changed is True
    assert diff == {
        "before": {"network": {"dataplane": "azure", "policy": "none"}},
        "after": {"network": {"dataplane": "cilium", "policy": "cilium"}},
    }
    assert diff_paths(diff) == ["network.dataplane", "network.policy"]
    assert patched["properties"]["networkProfile"]["networkDataplane"] == "cilium"


def test_advanced_networking_diff():
    changed, patched, diff = compute_update(server_cluster(), build_desired(user_options(advanced_networking={"observability": True})))
    assert changed is True
    assert diff["before"] == {"network": {"advanced_networking": {"enabled": None, "observability": None}}}
    assert diff["after"] == {"network": {"advanced_networking": {"enabled": True, "observability": True}}}
    assert patched["properties"]["networkProfile"]["advancedNetworking"] == {"enabled": True, "observability": {"enabled": True}}


def test_security_on_server_makes_fqdn_the_default_policy_level():
    current = server_cluster()
    current["properties"]["networkProfile"]["advancedNetworking"] = {"enabled": True, "security": {"enabled": True}}
    assert compute_update(current, build_desired({"network": {"advanced_networking": {"advanced_network_policies": "FQDN"}}}))[0] is False
    assert compute_update(current, build_desired({"network": {"advanced_networking": {"advanced_network_policies": "L7"}}}))[0] is True


def test_tags_compared_as_dicts_and_append_mode():
    current = server_cluster()
    assert compute_update(current, build_desired({"tags": {"env": "dev"}}))[0] is False
    changed, patched, _unused = compute_update(current, build_desired({"tags": {"team": "net"}}))
    assert changed is True and patched["tags"] == {"team": "net"}
    changed, patched, _unused = compute_update(current, build_desired({"tags": {"team": "net"}}), append_tags=True)
    assert changed is True and patched["tags"] == {"env": "dev", "team": "net"}
    assert compute_update(current, build_desired({"tags": {"env": "dev"}}), append_tags=True)[0] is False
    assert compute_update(current, build_desired({"tags": {}}))[0] is True


def test_kubernetes_version_alias_is_not_a_change_and_the_patched_body_keeps_the_server_value():
    params = {"kubernetes_version": "1.33.2", "tags": {"x": "1"}}
    changed, patched, diff = compute_update(server_cluster(), build_desired(params))
    assert diff_paths(diff) == ["tags"]
    assert patched["properties"]["kubernetesVersion"] == "1.33"
    changed, patched, diff = compute_update(server_cluster(), build_desired({"kubernetes_version": "1.34"}))
    assert changed is True
    assert diff == {"before": {"kubernetes_version": "1.33.2"}, "after": {"kubernetes_version": "1.34"}}
    assert patched["properties"]["kubernetesVersion"] == "1.34"


def test_unnamed_system_pool_matches_the_clusters_system_pool():
    _unused, patched, diff = compute_update(server_cluster(), build_desired({"system_pool": {"count": 4}}))
    assert diff == {"before": {"system_pool": {"count": 3}}, "after": {"system_pool": {"count": 4}}}
    assert len(patched["properties"]["agentPoolProfiles"]) == 1


def test_location_compared_without_case_and_spaces():
    assert compute_update(server_cluster(), build_desired({"location": "West Europe"}))[0] is False


def test_inputs_are_not_modified():
    current = server_cluster()
    desired = build_desired(user_options(pod_cidr="192.168.0.0/15"))
    snapshot = (copy.deepcopy(current), copy.deepcopy(desired))
    compute_update(current, desired)
    assert (current, desired) == snapshot


@pytest.mark.parametrize(
    ("option", "a", "b", "equal"),
    [
        ("pod_cidr", "10.244.0.0/16", " 10.244.0.0/16", True),
        ("pod_cidr", "fd00:0:0::/64", "FD00::/64", True),
        ("pod_cidr", "10.244.0.0/16", "10.244.0.0/17", False),
        ("dns_service_ip", "10.0.0.010", "10.0.0.10", False),
        ("dns_service_ip", " 10.0.0.10", "10.0.0.10", True),
        ("plugin", "Kubenet", "kubenet", True),
        ("outbound_type", "userdefinedrouting", "userDefinedRouting", True),
        ("name", "System", "system", False),
        ("count", "3", 3, True),
        ("vnet_subnet_id", NODES, NODES.lower(), True),
    ],
)
def test_normalise(option, a, b, equal):
    assert (normalise(option, a) == normalise(option, b)) is equal


def test_versions_match():
    assert versions_match("1.33", "1.33", "1.33.2")
    assert versions_match("1.33", "1.33.2", "1.33.2")
    assert not versions_match("1.33", "1.33.3", "1.33.2")
    assert not versions_match("1.33", "1.3", "1.33.2")


def test_strip_read_only_leaves_input_alone():
    current = server_cluster()
    stripped = strip_read_only(current)
    assert "id" in current and "id" not in stripped
    assert "effectiveOutboundIPs" not in stripped["properties"]["networkProfile"]["loadBalancerProfile"]

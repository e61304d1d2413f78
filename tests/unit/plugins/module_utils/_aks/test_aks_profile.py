# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PUT body the cluster module builds from its options, and the role's CNI presets."""

from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._aks.profile import (
    PRESETS,
    apply_desired,
    apply_preset,
    build_desired,
    creation_body,
    default_dns_prefix,
)
from ansible_collections.aksnet.networking.plugins.module_utils._aks.validation import preflight

SUBNET = "/subscriptions/0000/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes"

# For each preset (and the policy variants the issue names): exactly the networkProfile fields and
# values AKS must receive, and the pool fields.
PRESET_TABLE = [
    (
        "kubenet",
        {},
        {},
        {"networkPlugin": "kubenet", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10"},
        {"mode": "System", "maxPods": 110},
    ),
    (
        "kubenet",
        {"policy": "calico"},
        {},
        {"networkPlugin": "kubenet", "networkPolicy": "calico", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10"},
        {"mode": "System", "maxPods": 110},
    ),
    (
        "kubenet",
        {"policy": "none"},
        {},
        {"networkPlugin": "kubenet", "networkPolicy": "none", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10"},
        {"mode": "System", "maxPods": 110},
    ),
    (
        "azure",
        {},
        {"vnet_subnet_id": SUBNET},
        {"networkPlugin": "azure", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10"},
        {"mode": "System", "maxPods": 30, "vnetSubnetID": SUBNET},
    ),
    (
        "azure",
        {"policy": "azure"},
        {"vnet_subnet_id": SUBNET},
        {"networkPlugin": "azure", "networkPolicy": "azure", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10"},
        {"mode": "System", "maxPods": 30, "vnetSubnetID": SUBNET},
    ),
    (
        "overlay",
        {},
        {},
        {"networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "192.168.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10"},
        {"mode": "System", "maxPods": 250},
    ),
    (
        "overlay",
        {"policy": "calico"},
        {},
        {
            "networkPlugin": "azure",
            "networkPluginMode": "overlay",
            "networkPolicy": "calico",
            "podCidr": "192.168.0.0/16",
            "serviceCidr": "10.0.0.0/16",
            "dnsServiceIP": "10.0.0.10",
        },
        {"mode": "System", "maxPods": 250},
    ),
    (
        "cilium",
        {},
        {},
        {
            "networkPlugin": "azure",
            "networkPluginMode": "overlay",
            "networkDataplane": "cilium",
            "networkPolicy": "cilium",
            "podCidr": "192.168.0.0/16",
            "serviceCidr": "10.0.0.0/16",
            "dnsServiceIP": "10.0.0.10",
        },
        {"mode": "System", "maxPods": 250},
    ),
]


@pytest.mark.parametrize(("preset", "network", "pool", "expected_profile", "expected_pool"), PRESET_TABLE)
def test_preset_put_body_has_exactly_the_expected_network_profile(preset, network, pool, expected_profile, expected_pool):
    merged_network, merged_pool = apply_preset(preset, network, pool)
    params = {"name": "aks1", "location": "westeurope", "network": merged_network, "system_pool": merged_pool}
    body = creation_body(build_desired(params), "aks1")
    assert body["properties"]["networkProfile"] == expected_profile
    assert body["properties"]["agentPoolProfiles"] == [expected_pool]
    # Every preset is a plan the preflight accepts.
    errors, _unused = preflight(params, vnet_subnet_cidr="10.240.0.0/16")
    assert errors == []


def test_every_preset_is_covered_by_the_table():
    assert {row[0] for row in PRESET_TABLE} == set(PRESETS)


def test_preset_user_values_win_and_unknown_preset_is_refused():
    network, pool = apply_preset("overlay", {"pod_cidr": "100.64.0.0/16", "advanced_networking": {"observability": True}}, {"max_pods": 110, "count": 3})
    assert network["pod_cidr"] == "100.64.0.0/16"
    assert network["plugin_mode"] == "overlay"
    assert network["advanced_networking"] == {"observability": True}
    assert pool == {"max_pods": 110, "count": 3}
    with pytest.raises(ValueError, match="cluster_cni: unknown preset 'calico'"):
        apply_preset("calico")


def test_only_options_the_user_set_reach_the_body():
    body = build_desired(
        {
            "name": "aks1",
            "resource_group": "rg",
            "location": None,
            "tags": None,
            "kubernetes_version": None,
            "system_pool": {"name": None, "count": None, "vm_size": None},
            "network": {"plugin": None, "pod_cidr": None, "advanced_networking": None},
        }
    )
    assert body == {}


def test_enum_values_are_sent_in_api_spelling_and_text_is_trimmed():
    body = build_desired(
        {
            "tags": {"env": "prod", "cost": 42},
            "network": {"plugin": "Azure", "plugin_mode": "OVERLAY", "outbound_type": "loadbalancer", "pod_cidr": " 192.168.0.0/16 "},
            "system_pool": {"name": "system", "count": "3", "os_type": "linux"},
        }
    )
    assert body["properties"]["networkProfile"] == {
        "networkPlugin": "azure",
        "networkPluginMode": "overlay",
        "outboundType": "loadBalancer",
        "podCidr": "192.168.0.0/16",
    }
    assert body["properties"]["agentPoolProfiles"] == [{"name": "system", "count": 3, "osType": "Linux", "mode": "System"}]
    assert body["tags"] == {"env": "prod", "cost": "42"}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"observability": True}, {"enabled": True, "observability": {"enabled": True}}),
        ({"security": True, "advanced_network_policies": "l7"}, {"enabled": True, "security": {"enabled": True, "advancedNetworkPolicies": "L7"}}),
        ({"observability": False, "security": False}, {"enabled": False, "observability": {"enabled": False}, "security": {"enabled": False}}),
        ({"observability": False}, {"observability": {"enabled": False}}),
        ({"advanced_network_policies": "None"}, {"security": {"advancedNetworkPolicies": "None"}}),
    ],
)
def test_advanced_networking_body(options, expected):
    body = build_desired({"network": {"advanced_networking": options}})
    assert body["properties"]["networkProfile"]["advancedNetworking"] == expected


def test_creation_body_adds_identity_dns_prefix_and_keeps_user_values():
    body = creation_body(build_desired({"location": "westeurope", "system_pool": {"name": "sys", "count": 1}}), "My_Cluster.01")
    assert body["identity"] == {"type": "SystemAssigned"}
    assert body["properties"]["dnsPrefix"] == "My-Cluster-01"
    assert body["properties"]["agentPoolProfiles"][0]["mode"] == "System"
    body = creation_body(build_desired({"dns_prefix": "mine"}), "aks1")
    assert body["properties"]["dnsPrefix"] == "mine"
    assert default_dns_prefix("_x") == "x"
    assert default_dns_prefix("-" * 3) == "aks"


def test_apply_desired_matches_pools_by_name_and_keeps_server_fields():
    current = {
        "location": "westeurope",
        "tags": {"a": "1"},
        "properties": {
            "networkProfile": {"networkPlugin": "azure", "loadBalancerProfile": {"managedOutboundIPs": {"count": 1}}},
            "agentPoolProfiles": [{"name": "user1", "mode": "User", "count": 2}, {"name": "system", "mode": "System", "count": 3, "vmSize": "x"}],
        },
    }
    desired = build_desired({"tags": {"b": "2"}, "system_pool": {"count": 5}, "network": {"policy": "azure"}})
    merged = apply_desired(current, desired)
    pools = merged["properties"]["agentPoolProfiles"]
    assert pools[0] == {"name": "user1", "mode": "User", "count": 2}
    assert pools[1] == {"name": "system", "mode": "System", "count": 5, "vmSize": "x"}
    assert merged["properties"]["networkProfile"]["loadBalancerProfile"] == {"managedOutboundIPs": {"count": 1}}
    assert merged["properties"]["networkProfile"]["networkPolicy"] == "azure"
    assert merged["tags"] == {"b": "2"}
    assert apply_desired(current, {"tags": {"b": "2"}}, append_tags=True)["tags"] == {"a": "1", "b": "2"}
    # the input is not modified
    assert current["properties"]["agentPoolProfiles"][1]["count"] == 3

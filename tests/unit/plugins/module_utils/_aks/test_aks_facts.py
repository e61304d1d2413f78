# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The facts cluster, cluster_info and diagnostics return for a managed cluster."""

from __future__ import annotations

from ansible_collections.aksnet.networking.plugins.module_utils._aks.facts import cluster_facts, ipam_mode, parse_resource_id

POD_SUBNET = "/subscriptions/0000/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/pods"
NODE_SUBNET = "/subscriptions/0000/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes"

CLUSTER = {
    "id": "/subscriptions/0000/resourcegroups/Platform-RG/providers/Microsoft.ContainerService/managedClusters/aks1",
    "name": "aks1",
    "location": "westeurope",
    "tags": {"env": "prod"},
    "properties": {
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
        "kubernetesVersion": "1.33",
        "currentKubernetesVersion": "1.33.2",
        "dnsPrefix": "aks1",
        "fqdn": "aks1-abc.hcp.westeurope.azmk8s.io",
        "nodeResourceGroup": "MC_Platform-RG_aks1_westeurope",
        "addonProfiles": {"ingressApplicationGateway": {"enabled": True, "config": {"applicationGatewayName": "agw"}}, "azurepolicy": {"enabled": False}},
        "networkProfile": {
            "networkPlugin": "azure",
            "networkDataplane": "cilium",
            "networkPolicy": "cilium",
            "serviceCidr": "10.0.0.0/16",
            "dnsServiceIP": "10.0.0.10",
            "outboundType": "loadBalancer",
            "loadBalancerSku": "standard",
            "advancedNetworking": {"enabled": True, "observability": {"enabled": True}, "security": {"enabled": True, "advancedNetworkPolicies": "L7"}},
            "serviceCidrs": ["10.0.0.0/16"],
            "ipFamilies": ["IPv4"],
        },
        "agentPoolProfiles": [
            {
                "name": "system",
                "mode": "System",
                "count": 3,
                "vmSize": "Standard_D4s_v5",
                "maxPods": 110,
                "osType": "Linux",
                "vnetSubnetID": NODE_SUBNET,
                "podSubnetID": POD_SUBNET,
                "provisioningState": "Succeeded",
                "powerState": {"code": "Running"},
            }
        ],
    },
}


def test_cluster_facts_shape():
    facts = cluster_facts(CLUSTER)
    assert facts["resource_group"] == "Platform-RG"
    assert facts["subscription_id"] == "0000"
    assert facts["fqdn"] == "aks1-abc.hcp.westeurope.azmk8s.io"
    assert facts["node_resource_group"] == "MC_Platform-RG_aks1_westeurope"
    assert facts["provisioning_state"] == "Succeeded"
    assert facts["power_state"] == "Running"
    assert facts["kubernetes_version"] == "1.33"
    assert facts["current_kubernetes_version"] == "1.33.2"
    assert facts["tags"] == {"env": "prod"}
    assert facts["network_profile"] == {
        "plugin": "azure",
        "plugin_mode": None,
        "dataplane": "cilium",
        "policy": "cilium",
        "pod_cidr": None,
        "service_cidr": "10.0.0.0/16",
        "dns_service_ip": "10.0.0.10",
        "outbound_type": "loadBalancer",
        "load_balancer_sku": "standard",
        "advanced_networking": {"enabled": True, "observability": True, "security": True, "advanced_network_policies": "L7"},
        "pod_cidrs": [],
        "service_cidrs": ["10.0.0.0/16"],
        "ip_families": ["IPv4"],
        "ipam_mode": "pod_subnet",
    }
    assert facts["agent_pools"] == [
        {
            "name": "system",
            "vm_size": "Standard_D4s_v5",
            "count": 3,
            "max_pods": 110,
            "vnet_subnet_id": NODE_SUBNET,
            "pod_subnet_id": POD_SUBNET,
            "os_type": "Linux",
            "mode": "System",
            "provisioning_state": "Succeeded",
            "power_state": "Running",
        }
    ]
    assert facts["addons"] == {
        "ingressApplicationGateway": {"enabled": True, "config": {"applicationGatewayName": "agw"}},
        "azurepolicy": {"enabled": False, "config": {}},
    }


def test_cluster_facts_of_a_sparse_body():
    facts = cluster_facts({"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c", "properties": {}})
    assert facts["name"] == "c"
    assert facts["resource_group"] == "rg"
    assert facts["agent_pools"] == []
    assert facts["network_profile"]["plugin"] is None
    assert facts["network_profile"]["ipam_mode"] is None
    assert facts["network_profile"]["advanced_networking"] == {"enabled": None, "observability": None, "security": None, "advanced_network_policies": None}
    assert cluster_facts(None)["id"] is None


def test_ipam_mode():
    assert ipam_mode("kubenet") == "kubenet"
    assert ipam_mode("Azure", "Overlay") == "overlay"
    assert ipam_mode("azure", None, POD_SUBNET) == "pod_subnet"
    assert ipam_mode("azure") == "node_subnet"
    assert ipam_mode("none") == "byo_cni"
    assert ipam_mode(None) is None


def test_parse_resource_id():
    assert parse_resource_id(NODE_SUBNET) == {
        "subscription_id": "0000",
        "resource_group": "net-rg",
        "provider": "Microsoft.Network",
        "type": "virtualNetworks",
        "name": "vnet",
    }
    assert parse_resource_id("") == {}

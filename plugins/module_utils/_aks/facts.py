# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster facts returned by ``cluster``, ``cluster_info`` and used by diagnostics. Pure.

Input is a managed cluster in the ARM REST JSON shape (what a GET on
``Microsoft.ContainerService/managedClusters`` returns, or ``model.as_dict()`` of the SDK model
with REST keys). Output uses the module option names (snake_case) only; there is no second raw copy.
"""

from __future__ import annotations

from ansible_collections.aksnet.networking.plugins.module_utils._aks.profile import (
    ADVANCED_NETWORKING_FIELDS,
    NETWORK_FIELDS,
    POOL_FIELDS,
    get_path,
)


def parse_resource_id(resource_id):
    """``{subscription_id, resource_group, provider, type, name}`` of an ARM resource id (keys absent when not present).

    ARM segment names are case-insensitive (``resourceGroups`` / ``resourcegroups``).
    """
    parts = [p for p in str(resource_id or "").split("/") if p]
    result = {}
    lowered = [p.lower() for p in parts]
    if "subscriptions" in lowered:
        i = lowered.index("subscriptions")
        if i + 1 < len(parts):
            result["subscription_id"] = parts[i + 1]
    if "resourcegroups" in lowered:
        i = lowered.index("resourcegroups")
        if i + 1 < len(parts):
            result["resource_group"] = parts[i + 1]
    if "providers" in lowered:
        i = lowered.index("providers")
        if i + 3 < len(parts):
            result["provider"] = parts[i + 1]
            result["type"] = parts[i + 2]
            result["name"] = parts[i + 3]
    return result


def network_options(profile):
    """The ``network`` option dict (snake_case) that describes an ARM ``networkProfile``.

    Keys: plugin, plugin_mode, dataplane, policy, pod_cidr, service_cidr, dns_service_ip,
    outbound_type, load_balancer_sku, advanced_networking {enabled, observability, security,
    advanced_network_policies}. Missing values are None.
    """
    profile = profile or {}
    options = {option: profile.get(key) for option, key in NETWORK_FIELDS}
    advanced = profile.get("advancedNetworking") or {}
    options["advanced_networking"] = {"enabled": advanced.get("enabled")}
    for option, path in ADVANCED_NETWORKING_FIELDS:
        options["advanced_networking"][option] = get_path(advanced, path)
    return options


def pool_options(pool):
    """The ``system_pool`` option dict (snake_case) that describes an ARM ``agentPoolProfiles[]`` entry."""
    pool = pool or {}
    return {option: pool.get(key) for option, key in POOL_FIELDS}


def ipam_mode(plugin, plugin_mode=None, pod_subnet_id=None):
    """How pods get addresses: kubenet, overlay, pod_subnet, node_subnet, byo_cni, or None when unknown."""
    plugin = (plugin or "").lower()
    if plugin == "kubenet":
        return "kubenet"
    if plugin == "none":
        return "byo_cni"
    if plugin == "azure":
        if (plugin_mode or "").lower() == "overlay":
            return "overlay"
        if pod_subnet_id:
            return "pod_subnet"
        return "node_subnet"
    return None


def body_ipam_mode(body):
    """:func:`ipam_mode` of a managed-cluster body (pod subnet when any pool has ``podSubnetID``)."""
    profile = get_path(body, ("properties", "networkProfile"), {})
    pools = get_path(body, ("properties", "agentPoolProfiles"), []) or []
    pod_subnet = next((p.get("podSubnetID") for p in pools if p.get("podSubnetID")), None)
    return ipam_mode(profile.get("networkPlugin"), profile.get("networkPluginMode"), pod_subnet)


def cluster_facts(cluster):
    """Facts of one managed cluster, in this shape::

        id, name, resource_group, subscription_id, location, tags,
        fqdn, private_fqdn, node_resource_group, provisioning_state, power_state,
        dns_prefix, kubernetes_version (requested), current_kubernetes_version (running),
        network_profile: {plugin, plugin_mode, dataplane, policy, pod_cidr, service_cidr,
                          dns_service_ip, outbound_type, load_balancer_sku,
                          advanced_networking: {enabled, observability, security, advanced_network_policies},
                          pod_cidrs, service_cidrs, ip_families, ipam_mode},
        agent_pools: [{name, vm_size, count, max_pods, vnet_subnet_id, pod_subnet_id, os_type, mode,
                       provisioning_state, power_state}],
        addons: {ARM add-on name: {enabled, config}}

    Values Azure did not return are None (lists and dicts are empty). ``resource_group`` comes from
    the resource id. ``network_profile.ipam_mode`` says how pods get addresses: kubenet, overlay,
    pod_subnet, node_subnet or byo_cni.
    """
    cluster = cluster or {}
    props = cluster.get("properties") or {}
    ids = parse_resource_id(cluster.get("id"))
    profile = props.get("networkProfile") or {}
    pools = props.get("agentPoolProfiles") or []

    network = network_options(profile)
    network["pod_cidrs"] = list(profile.get("podCidrs") or [])
    network["service_cidrs"] = list(profile.get("serviceCidrs") or [])
    network["ip_families"] = list(profile.get("ipFamilies") or [])
    network["ipam_mode"] = body_ipam_mode(cluster)

    agent_pools = []
    for pool in pools:
        facts = pool_options(pool)
        facts["provisioning_state"] = pool.get("provisioningState")
        facts["power_state"] = get_path(pool, ("powerState", "code"))
        agent_pools.append(facts)

    addons = {}
    for addon, value in (props.get("addonProfiles") or {}).items():
        value = value or {}
        addons[addon] = {"enabled": bool(value.get("enabled")), "config": dict(value.get("config") or {})}

    return {
        "id": cluster.get("id"),
        "name": cluster.get("name") or ids.get("name"),
        "resource_group": ids.get("resource_group"),
        "subscription_id": ids.get("subscription_id"),
        "location": cluster.get("location"),
        "tags": dict(cluster.get("tags") or {}),
        "fqdn": props.get("fqdn"),
        "private_fqdn": props.get("privateFQDN"),
        "node_resource_group": props.get("nodeResourceGroup"),
        "provisioning_state": props.get("provisioningState"),
        "power_state": get_path(props, ("powerState", "code")),
        "dns_prefix": props.get("dnsPrefix"),
        "kubernetes_version": props.get("kubernetesVersion"),
        "current_kubernetes_version": props.get("currentKubernetesVersion"),
        "network_profile": network,
        "agent_pools": agent_pools,
        "addons": addons,
    }

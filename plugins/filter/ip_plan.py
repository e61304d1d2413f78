# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IP planning filters for AKS: ip_plan, subnet_capacity, cni_preset (docs in the .yml files beside this one)."""

from __future__ import annotations

import math

from ansible.errors import AnsibleFilterError

from ansible_collections.aksnet.networking.plugins.module_utils._aks.cidr import (
    AZURE_RESERVED_PER_SUBNET,
    parse_network,
    pod_cidr_prefix_for_nodes,
    smallest_prefix,
    usable_addresses,
)
from ansible_collections.aksnet.networking.plugins.module_utils._aks.facts import ipam_mode
from ansible_collections.aksnet.networking.plugins.module_utils._aks.profile import ENUMS, apply_preset, canonical
from ansible_collections.aksnet.networking.plugins.module_utils._aks.validation import (
    AZURE_CNI_DEFAULT_MAX_PODS,
    MAX_PODS_MAX,
    MAX_PODS_MIN,
    POD_SUBNET_BATCH,
    surge_nodes,
)


def _whole(name, value, minimum):
    if isinstance(value, bool):
        raise AnsibleFilterError(f"ip_plan: {name} must be a whole number, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError(f"ip_plan: {name} must be a whole number, got {value!r}") from None
    if number != value and not (isinstance(value, str) and value.strip().isdigit()):
        raise AnsibleFilterError(f"ip_plan: {name} must be a whole number, got {value!r}")
    if number < minimum:
        raise AnsibleFilterError(f"ip_plan: {name} must be {minimum} or more, got {number}")
    return number


def _plugin(plugin, plugin_mode):
    plugin_c = canonical("plugin", plugin)
    if plugin_c not in ENUMS["plugin"]:
        raise AnsibleFilterError(f"ip_plan: plugin {plugin!r} is not one of {', '.join(ENUMS['plugin'])}")
    mode_c = canonical("plugin_mode", plugin_mode) if plugin_mode else None
    if mode_c is not None and mode_c not in ENUMS["plugin_mode"]:
        raise AnsibleFilterError(f"ip_plan: plugin_mode {plugin_mode!r} is not 'overlay' or null")
    if mode_c == "overlay" and plugin_c != "azure":
        raise AnsibleFilterError(f"ip_plan: plugin_mode overlay needs plugin azure, got {plugin!r}")
    return plugin_c, mode_c


def ip_plan(nodes, max_surge=1, max_pods=AZURE_CNI_DEFAULT_MAX_PODS, plugin="azure", plugin_mode=None, pod_subnet=False):
    """Addresses an AKS node pool needs in its VNet subnet(s), and the smallest subnet prefix that holds them."""
    nodes = _whole("nodes", nodes, 1)
    max_pods = _whole("max_pods", max_pods, 1)
    if not MAX_PODS_MIN <= max_pods <= MAX_PODS_MAX:
        raise AnsibleFilterError(f"ip_plan: max_pods {max_pods} is outside {MAX_PODS_MIN}-{MAX_PODS_MAX}, the range AKS accepts")
    try:
        surge = surge_nodes(nodes, max_surge)
    except (TypeError, ValueError):
        raise AnsibleFilterError(f"ip_plan: max_surge must be a number of nodes or a percentage such as '33%', got {max_surge!r}") from None
    if surge < 0:
        raise AnsibleFilterError(f"ip_plan: max_surge must be 0 or more, got {max_surge!r}")
    plugin_c, mode_c = _plugin(plugin, plugin_mode)
    mode = ipam_mode(plugin_c, mode_c, bool(pod_subnet))
    node_count = nodes + surge

    if mode == "node_subnet":
        # concepts-network-ip-address-planning.md: (nodes + surge) + (nodes + surge) x max pods.
        needed = node_count * (max_pods + 1)
        formula = f"({nodes} + {surge}) x ({max_pods} + 1) = {needed:,}"
        basis = "one per node and one per pod, for every node including the surge nodes"
    else:
        needed = node_count
        formula = f"{nodes} + {surge} = {needed:,}"
        basis = "one per node including the surge nodes; pods do not take node subnet addresses"
    try:
        prefix = smallest_prefix(needed)
    except ValueError as exc:
        raise AnsibleFilterError(f"ip_plan: {exc}") from None
    size = 2 ** (32 - prefix)
    plan = {
        "nodes": nodes,
        "max_surge": surge,
        "max_pods": max_pods,
        "plugin": plugin_c,
        "plugin_mode": mode_c,
        "ipam_mode": mode,
        "node_count": node_count,
        "addresses_needed": needed,
        "reserved_per_subnet": AZURE_RESERVED_PER_SUBNET,
        "prefix_length": prefix,
        "subnet_size": size,
        "usable_addresses": size - AZURE_RESERVED_PER_SUBNET,
        "spare_addresses": size - AZURE_RESERVED_PER_SUBNET - needed,
        "formula": formula,
        "basis": basis,
        "pod_cidr_prefix_length": None,
        "pod_subnet_addresses_needed": None,
        "pod_subnet_prefix_length": None,
    }
    if mode in ("kubenet", "overlay"):
        # Each node takes a /24 of the pod CIDR (concepts-network-azure-cni-overlay.md).
        plan["pod_cidr_prefix_length"] = pod_cidr_prefix_for_nodes(node_count)
    if mode == "pod_subnet":
        # Dynamic IP allocation hands out pod IPs in batches of 16 (concepts-network-azure-cni-pod-subnet.md).
        per_node = math.ceil(max_pods / POD_SUBNET_BATCH) * POD_SUBNET_BATCH
        plan["pod_subnet_addresses_needed"] = node_count * per_node
        plan["pod_subnet_prefix_length"] = smallest_prefix(node_count * per_node)
    return plan


def subnet_capacity(cidr, max_pods=None, plugin="azure", plugin_mode=None, max_surge=1):
    """What an Azure subnet holds: usable addresses and, given the plugin, how many AKS nodes fit."""
    network, reason = parse_network(cidr)
    if network is None:
        raise AnsibleFilterError(f"subnet_capacity: {cidr!r} is not a valid CIDR: {reason}")
    if network.version != 4:
        raise AnsibleFilterError(f"subnet_capacity: {cidr!r} is IPv6; AKS node subnets are sized in IPv4")
    plugin_c, mode_c = _plugin(plugin, plugin_mode)
    mode = ipam_mode(plugin_c, mode_c)
    pods = AZURE_CNI_DEFAULT_MAX_PODS if max_pods is None else _whole("max_pods", max_pods, 1)
    usable = usable_addresses(network)
    per_node = pods + 1 if mode == "node_subnet" else 1
    fits = usable // per_node
    surge = surge_nodes(fits, max_surge)
    first = network.network_address + 4 if network.num_addresses > AZURE_RESERVED_PER_SUBNET else None
    last = network.broadcast_address - 1 if network.num_addresses > AZURE_RESERVED_PER_SUBNET else None
    return {
        "cidr": str(network),
        "total_addresses": network.num_addresses,
        "reserved": min(AZURE_RESERVED_PER_SUBNET, network.num_addresses),
        "usable_addresses": usable,
        "first_usable": str(first) if first is not None else None,
        "last_usable": str(last) if last is not None else None,
        "ipam_mode": mode,
        "addresses_per_node": per_node,
        "max_nodes": max(fits - surge, 0),
    }


def cni_preset(preset, network=None, system_pool=None):
    """The role's ``cluster_cni`` preset merged under the user's ``network`` and ``system_pool`` options."""
    try:
        merged_network, merged_pool = apply_preset(str(preset), network, system_pool)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None
    return {"network": merged_network, "system_pool": merged_pool}


class FilterModule:
    """AKS IP planning filters."""

    def filters(self):
        return {
            "ip_plan": ip_plan,
            "subnet_capacity": subnet_capacity,
            "cni_preset": cni_preset,
        }

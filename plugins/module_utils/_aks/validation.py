# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules for an AKS cluster's network plan, checked before any request. Pure.

:func:`preflight` checks the module options (snake_case) and returns ``(errors, warnings)``: lists
of sentences that name the option path, the value, the rule and the fix. :func:`immutable_changes`
and :func:`migrations` compare the current cluster body with the desired one (ARM JSON) and say
which changes Azure cannot make in place and which supported migrations a run performs.

Rules cite the AKS documentation (MicrosoftDocs/azure-aks-docs, ``articles/aks/...``) or the REST
specification (azure-rest-api-specs ``specification/containerservice``) they come from. The ARM
simulator in tests/lab answers the same plans with the AKS error codes named in the comments.
"""

from __future__ import annotations

import ipaddress
import math
import re

from ansible_collections.aksnet.networking.plugins.module_utils._aks.cidr import (
    AKS_RESERVED_RANGES,
    NODE_POD_PREFIX,
    overlaps,
    parse_address,
    parse_network,
    pod_cidr_prefix_for_nodes,
    usable_addresses,
)
from ansible_collections.aksnet.networking.plugins.module_utils._aks.compare import normalise
from ansible_collections.aksnet.networking.plugins.module_utils._aks.facts import (
    body_ipam_mode,
    ipam_mode,
    network_options,
    pool_options,
)
from ansible_collections.aksnet.networking.plugins.module_utils._aks.profile import (
    ENUMS,
    POOLS_PATH,
    apply_desired,
    canonical,
    get_path,
    match_pool,
)

# Limits. concepts-network-ip-address-planning.md "Maximum pods per node" / "Configuring maximum pods":
# 10..250 for every plugin, and 10 is allowed only when the pool has room for at least 30 pods.
MAX_PODS_MIN = 10
MAX_PODS_MAX = 250
MIN_PODS_PER_POOL = 30
# configure-kubenet.md: Azure supports at most 400 routes in a UDR, so a kubenet cluster has at most 400 nodes.
KUBENET_MAX_NODES = 400
# quotas-skus-regions.md: at most 1,000 nodes per node pool (VMSS).
MAX_NODES_PER_POOL = 1000
# use-network-policies.md: Azure NPM (Linux) is not supported beyond 250 nodes.
AZURE_NPM_MAX_NODES = 250
# concepts-network-ip-address-planning.md: the service CIDR must be smaller than /12 (prefix < 12 rejected).
SERVICE_CIDR_MIN_PREFIX = 12
# concepts-network-legacy-cni.md: without max_pods, Azure CNI node subnet pools get 30 pods per node.
AZURE_CNI_DEFAULT_MAX_PODS = 30
# concepts-network-azure-cni-pod-subnet.md: dynamic IP allocation hands pod IPs to nodes in batches of 16.
POD_SUBNET_BATCH = 16

# RFC 1918 private and RFC 6598 shared space: the pod CIDRs Microsoft supports (concepts-network-azure-cni-overlay.md).
_SUPPORTED_POD_SPACE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"))
_RESERVED = tuple(ipaddress.ip_network(n) for n in AKS_RESERVED_RANGES)

_SUBNET_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+/?$",
    re.IGNORECASE,
)
# Managed cluster name: 1-63 letters, digits, '_' and '-', starting and ending alphanumeric (REST spec resourceName pattern).
_CLUSTER_NAME = re.compile(r"^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$")
# DNS prefix: 1-54 letters, digits and '-', starting and ending alphanumeric (AKS create validation, portal rule).
_DNS_PREFIX = re.compile(r"^[a-zA-Z0-9]$|^[a-zA-Z0-9][-a-zA-Z0-9]{0,52}[a-zA-Z0-9]$")
# Agent pool name: lowercase letters and digits, starting with a letter; 12 chars on Linux, 6 on Windows
# (create-node-pools.md, "Limitations").
_POOL_NAME = re.compile(r"^[a-z][a-z0-9]*$")

RECREATE = "the cluster must be recreated to change it (delete it and create it again, or create a new cluster)"
REPLACE_POOL = "add a new node pool with the new value, move the workloads, then delete the old pool (or recreate the cluster)"


class _Report:
    def __init__(self):
        self.errors = []
        self.warnings = []

    def error(self, path, value, rule, fix=None):
        self.errors.append(_sentence(path, value, rule, fix))

    def warn(self, path, value, rule, fix=None):
        self.warnings.append(_sentence(path, value, rule, fix))


def _sentence(path, value, rule, fix):
    text = f"{path}: {value!r} {rule}" if value is not None else f"{path}: {rule}"
    if fix:
        text += f"; {fix}"
    return text + "."


def surge_nodes(count, max_surge=1):
    """Extra nodes an upgrade adds: an int, or a percentage string of ``count`` rounded up (AKS ``maxSurge``)."""
    if max_surge is None:
        return 1
    if isinstance(max_surge, str) and max_surge.strip().endswith("%"):
        percent = float(max_surge.strip()[:-1])
        return max(1, math.ceil((count or 0) * percent / 100.0))
    return int(max_surge)


def effective_options(params, current=None):
    """The options that will be in force: ``network`` and ``system_pool`` of ``params`` over the current cluster's.

    ``current`` is the cluster body (ARM JSON) or None for a new cluster. User values (not None) win.
    """
    params = params or {}
    network = {}
    pool = {}
    if current:
        network = network_options(get_path(current, ("properties", "networkProfile"), {}))
        pools = get_path(current, POOLS_PATH, []) or []
        index = match_pool(pools, params.get("system_pool") or {})
        if index is not None:
            pool = pool_options(pools[index])
    for key, value in (params.get("network") or {}).items():
        if value is None:
            continue
        if key == "advanced_networking" and isinstance(value, dict):
            merged = dict(network.get(key) or {})
            merged.update({k: v for k, v in value.items() if v is not None})
            network[key] = merged
        else:
            network[key] = value
    for key, value in (params.get("system_pool") or {}).items():
        if value is not None:
            pool[key] = value
    return {"network": network, "system_pool": pool}


def preflight(params, *, current=None, vnet_subnet_cidr=None, pod_subnet_cidr=None, avoid_cidrs=None, max_surge=1):
    """Check a cluster plan before any request. Returns ``(errors, warnings)``, lists of sentences.

    ``params``: the module options (``name``, ``dns_prefix``, ``network``, ``system_pool``, ...).
    ``current``: the existing cluster body, so the rules judge the configuration that will be in
    force (unset options keep the current values). ``vnet_subnet_cidr`` / ``pod_subnet_cidr``: the
    address prefix of the node / pod subnet when known (option or looked up). ``avoid_cidrs``: ranges
    the cluster must not overlap (peered VNets, on-premises). ``max_surge``: nodes added during upgrades.
    """
    report = _Report()
    params = params or {}
    options = effective_options(params, current)
    net = options["network"]
    pool = options["system_pool"]
    advanced = net.get("advanced_networking") or {}

    _check_names(report, params, pool)
    _check_enums(report, net, pool, advanced)

    plugin = canonical("plugin", net.get("plugin"))
    mode = canonical("plugin_mode", net.get("plugin_mode"))
    dataplane = canonical("dataplane", net.get("dataplane")) or "azure"
    policy = canonical("policy", net.get("policy"))
    # An unset plugin with plugin_mode overlay means Azure CNI Overlay: AKS no longer defaults networkPlugin to
    # kubenet (azure-rest-api-specs PR 30844) and fills azure for overlay.
    ipam = ipam_mode(plugin or ("azure" if mode == "overlay" else None), mode, pool.get("pod_subnet_id"))
    os_type = canonical("os_type", pool.get("os_type"))
    count = _int(pool.get("count"))
    max_pods = _int(pool.get("max_pods"))
    surge = surge_nodes(count, max_surge)

    nets = _parse_networks(report, net, vnet_subnet_cidr, pod_subnet_cidr, avoid_cidrs)
    _check_service_range(report, net, nets)
    _check_overlaps(report, ipam, nets)
    _check_plugin_rules(report, net, pool, advanced, plugin, mode, dataplane, policy, ipam, os_type)
    _check_pool_rules(report, pool, plugin, policy, os_type, count, max_pods, surge)
    _check_subnet_ids(report, pool, plugin, mode)
    _check_outbound(report, net, pool)
    _check_capacity(report, nets, ipam, count, max_pods, surge)
    return report.errors, report.warnings


def _int(value):
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _check_names(report, params, pool):
    name = params.get("name")
    if name is not None and not _CLUSTER_NAME.match(str(name)):
        report.error(
            "name",
            name,
            "is not a valid AKS cluster name (1-63 letters, digits, '_' or '-', starting and ending with a letter or digit)",
            "choose a name such as aks-prod-01",
        )
    dns_prefix = params.get("dns_prefix")
    if dns_prefix is not None and not _DNS_PREFIX.match(str(dns_prefix)):
        report.error(
            "dns_prefix",
            dns_prefix,
            "is not a valid DNS prefix (1-54 letters, digits or '-', starting and ending with a letter or digit)",
            "choose a prefix such as aks-prod-01",
        )
    pool_name = pool.get("name")
    if pool_name is not None:
        limit = 6 if canonical("os_type", pool.get("os_type")) == "Windows" else 12
        if not _POOL_NAME.match(str(pool_name)) or len(str(pool_name)) > limit:
            report.error(
                "system_pool.name",
                pool_name,
                f"is not a valid node pool name (lowercase letters and digits, starting with a letter, at most {limit} characters)",
                "use a name such as system",
            )


def _check_enums(report, net, pool, advanced):
    checks = [(f"network.{key}", key, net.get(key)) for key in ("plugin", "plugin_mode", "dataplane", "policy", "outbound_type", "load_balancer_sku")]
    checks.append(("system_pool.os_type", "os_type", pool.get("os_type")))
    checks.append(("network.advanced_networking.advanced_network_policies", "advanced_network_policies", advanced.get("advanced_network_policies")))
    for path, field, value in checks:
        if value is not None and canonical(field, value) not in ENUMS[field]:
            report.error(path, value, f"is not a value AKS accepts (one of {', '.join(ENUMS[field])})", "use one of those values")


def _parse_networks(report, net, vnet_subnet_cidr, pod_subnet_cidr, avoid_cidrs):
    nets = {"avoid": []}
    for key, path, value in (
        ("pod", "network.pod_cidr", net.get("pod_cidr")),
        ("service", "network.service_cidr", net.get("service_cidr")),
        ("node_subnet", "vnet_subnet_cidr", vnet_subnet_cidr),
        ("pod_subnet", "pod_subnet_cidr", pod_subnet_cidr),
    ):
        if value is None:
            continue
        network, reason = parse_network(value)
        if network is None:
            report.error(path, value, f"is not a valid CIDR: {reason}", "write a network address and prefix such as 10.0.0.0/16")
        elif key in ("pod", "service") and network.version != 4:
            report.error(path, value, "is IPv6; this single-stack field takes an IPv4 range", "use an IPv4 range such as 10.0.0.0/16")
        else:
            nets[key] = network
    for index, value in enumerate(avoid_cidrs or []):
        network, reason = parse_network(value)
        if network is None:
            report.error(f"avoid_cidrs[{index}]", value, f"is not a valid CIDR: {reason}", "write a network address and prefix such as 10.0.0.0/8")
        else:
            nets["avoid"].append((index, network))
    dns = net.get("dns_service_ip")
    if dns is not None:
        address, reason = parse_address(dns)
        if address is None:
            report.error("network.dns_service_ip", dns, f"is not a valid IP address: {reason}", "use an address inside network.service_cidr such as 10.0.0.10")
        else:
            nets["dns"] = address
    return nets


def _check_service_range(report, net, nets):
    service = nets.get("service")
    dns = nets.get("dns")
    if service is not None and service.prefixlen < SERVICE_CIDR_MIN_PREFIX:
        # concepts-network-ip-address-planning.md: "The service address CIDR must be smaller than /12."
        report.error(
            "network.service_cidr",
            net.get("service_cidr"),
            f"is a /{service.prefixlen}; AKS accepts service ranges of /{SERVICE_CIDR_MIN_PREFIX} or smaller",
            "use a smaller range such as 10.0.0.0/16",
        )
    if service is not None and dns is not None:
        # concepts-network-ip-address-planning.md: the DNS IP is inside the service range and is not its first
        # address (that one is kubernetes.default.svc).
        if dns not in service:
            report.error(
                "network.dns_service_ip",
                net.get("dns_service_ip"),
                f"is outside network.service_cidr {service}; the DNS service IP must be inside the service range",
                f"use an address such as {service.network_address + 10}",
            )
        elif dns == service.network_address:
            report.error(
                "network.dns_service_ip",
                net.get("dns_service_ip"),
                f"is the network address of network.service_cidr {service}, which no Service can have",
                f"use another address such as {service.network_address + 10}",
            )
        elif dns == service.network_address + 1:
            report.error(
                "network.dns_service_ip",
                net.get("dns_service_ip"),
                f"is the first usable address of network.service_cidr {service}, which the API server takes for kubernetes.default",
                f"use another address such as {service.network_address + 10}",
            )
        elif service.num_addresses > 2 and dns == service.broadcast_address:
            report.error(
                "network.dns_service_ip",
                net.get("dns_service_ip"),
                f"is the last address of network.service_cidr {service}, which is not allocatable",
                f"use another address such as {service.network_address + 10}",
            )
    elif (net.get("service_cidr") is None) != (net.get("dns_service_ip") is None):
        missing = "network.dns_service_ip" if net.get("dns_service_ip") is None else "network.service_cidr"
        report.warn(
            missing,
            None,
            "is not set while its partner is; AKS then fills the default (10.0.0.0/16, 10.0.0.10), which may not match",
            "set network.service_cidr and network.dns_service_ip together",
        )


def _check_overlaps(report, ipam, nets):
    service = nets.get("service")
    pod = nets.get("pod")
    pod_cidr_used = ipam in ("kubenet", "overlay", "byo_cni", None)
    labelled = [
        ("network.service_cidr", service),
        ("network.pod_cidr", pod if pod_cidr_used else None),
        ("vnet_subnet_cidr", nets.get("node_subnet")),
        ("pod_subnet_cidr", nets.get("pod_subnet")),
    ]
    # Reserved ranges: concepts-network-cni-overview.md "AKS CNI networking prerequisites".
    for path, network in labelled:
        if network is None:
            continue
        for reserved in _RESERVED:
            if overlaps(network, reserved):
                report.error(
                    path,
                    str(network),
                    f"overlaps {reserved}, a range AKS reserves for itself",
                    "choose a range outside 169.254.0.0/16, 172.30.0.0/16, 172.31.0.0/16 and 192.0.2.0/24",
                )
    # Service range vs everything else (ServiceCidrOverlapExistingSubnetsCidr); pod range vs the VNet
    # (NetworkProfileCIDROverlapVNET). concepts-network-azure-cni-overlay.md "Kubernetes service address range"
    # and "Pods": neither may overlap the cluster subnet, each other, peered or on-premises networks.
    pairs = [
        ("network.service_cidr", service, "network.pod_cidr", pod if pod_cidr_used else None),
        ("network.service_cidr", service, "the node subnet (vnet_subnet_cidr)", nets.get("node_subnet")),
        ("network.service_cidr", service, "the pod subnet (pod_subnet_cidr)", nets.get("pod_subnet")),
        ("network.pod_cidr", pod if pod_cidr_used else None, "the node subnet (vnet_subnet_cidr)", nets.get("node_subnet")),
    ]
    for index, avoid in nets["avoid"]:
        pairs.append(("network.service_cidr", service, f"avoid_cidrs[{index}]", avoid))
        pairs.append(("network.pod_cidr", pod if pod_cidr_used else None, f"avoid_cidrs[{index}]", avoid))
    for path, network, other_label, other in pairs:
        if network is not None and other is not None and overlaps(network, other):
            report.error(
                path,
                str(network),
                f"overlaps {other_label} {other}; the ranges must not share addresses",
                "choose a range that overlaps none of the VNet, pod, service, peered or on-premises ranges",
            )
    if pod is not None and pod_cidr_used and not any(pod.subnet_of(space) for space in _SUPPORTED_POD_SPACE):
        report.warn(
            "network.pod_cidr",
            str(pod),
            "is not RFC 1918 or RFC 6598 space; Microsoft supports only private or shared ranges for pods",
            "use a range such as 192.168.0.0/16",
        )


def _check_plugin_rules(report, net, pool, advanced, plugin, mode, dataplane, policy, ipam, os_type):
    if mode == "overlay" and plugin not in (None, "azure"):
        # REST spec NetworkPluginMode.overlay: "Used with networkPlugin=azure".
        report.error(
            "network.plugin_mode", net.get("plugin_mode"), f"needs network.plugin: azure (got {plugin!r})", "set network.plugin: azure, or remove plugin_mode"
        )
    if net.get("pod_cidr") is not None and ipam in ("node_subnet", "pod_subnet"):
        report.warn(
            "network.pod_cidr",
            net.get("pod_cidr"),
            "is only used by kubenet and Azure CNI Overlay; with Azure CNI on a VNet subnet pods take VNet addresses",
            "set network.plugin_mode: overlay to use it, or remove it",
        )
    if dataplane == "cilium":
        # azure-cni-powered-by-cilium.md: Azure CNI Powered by Cilium; policy engine is Cilium
        # (CiliumDataplaneRequiresNetworkPolicyCilium), Linux only.
        if plugin not in (None, "azure"):
            report.error(
                "network.dataplane",
                net.get("dataplane"),
                f"needs network.plugin: azure (got {plugin!r}); Cilium runs only with Azure CNI",
                "set network.plugin: azure and network.plugin_mode: overlay",
            )
        elif ipam == "node_subnet":
            # Older AKS releases required overlay or a pod subnet; since 2025 the docs also list the legacy
            # node subnet IPAM (azure-cni-powered-by-cilium.md "Option 3"), so this is a warning, not an error.
            report.warn(
                "network.dataplane",
                "cilium",
                "on a node subnet (no plugin_mode: overlay, no system_pool.pod_subnet_id) uses legacy IPAM",
                "prefer network.plugin_mode: overlay, or a pod subnet",
            )
        if policy not in (None, "cilium"):
            # AKS answers CiliumDataplaneRequiresNetworkPolicyCilium (bicep-registry-modules PR 3361) for any other
            # engine, "none" included: the Cilium data plane always enforces with Cilium. Unset is fine, AKS fills cilium.
            report.error(
                "network.policy",
                net.get("policy"),
                "cannot be used with network.dataplane: cilium, which requires network policy cilium",
                "set network.policy: cilium",
            )
    if policy == "cilium" and dataplane != "cilium":
        # REST spec NetworkPolicy.cilium: "This requires networkDataplane to be 'cilium'".
        report.error("network.policy", net.get("policy"), f"needs network.dataplane: cilium (got {dataplane!r})", "set network.dataplane: cilium")
    security = advanced.get("security")
    anp = canonical("advanced_network_policies", advanced.get("advanced_network_policies"))
    if (security or anp in ("FQDN", "L7")) and dataplane != "cilium":
        # advanced-container-networking-services-overview.md: Container Network Security only on Azure CNI Powered by Cilium.
        path = "network.advanced_networking.security" if security else "network.advanced_networking.advanced_network_policies"
        report.error(
            path,
            security if security else anp,
            "needs network.dataplane: cilium; Advanced Container Networking security (FQDN, L7) runs only on Cilium",
            "set network.dataplane: cilium or turn security off",
        )
    if anp in ("FQDN", "L7") and security is False:
        report.error(
            "network.advanced_networking.advanced_network_policies",
            anp,
            "needs network.advanced_networking.security: true",
            "turn security on or set advanced_network_policies: None",
        )
    if policy == "azure" and plugin == "kubenet":
        # configure-kubenet.md "Features not supported on kubenet": Azure network policies (NetworkPolicyAzureNotSupportedForKubenet).
        report.error("network.policy", net.get("policy"), "is not supported with network.plugin: kubenet", "use network.policy: calico, or Azure CNI")
    if plugin == "none" and policy not in (None, "none"):
        # use-byo-cni.md: with BYO CNI, AKS installs no CNI and no policy engine.
        report.error(
            "network.policy",
            net.get("policy"),
            "cannot be used with network.plugin: none (bring your own CNI installs no policy engine)",
            "remove network.policy and install policy enforcement with your CNI",
        )
    if plugin == "none" and net.get("pod_cidr") is None:
        report.warn(
            "network.pod_cidr",
            None,
            "is not set with network.plugin: none; AKS needs it to route control-plane traffic to pods",
            "set a pod CIDR that your CNI uses",
        )
    if plugin == "kubenet" and os_type == "Windows":
        # configure-kubenet.md: Windows Server node pools need Azure CNI (AzureCNIOnlyForWindows).
        report.error("system_pool.os_type", pool.get("os_type"), "is not supported with network.plugin: kubenet", "use Azure CNI (plugin: azure)")


def _check_pool_rules(report, pool, plugin, policy, os_type, count, max_pods, surge):
    if os_type == "Windows":
        # REST spec AgentPoolMode.System: "System agent pools osType must be Linux".
        report.error("system_pool.os_type", pool.get("os_type"), "cannot be used for the system pool, which must run Linux", "set os_type: Linux")
    if pool.get("count") is not None and count is None:
        report.error("system_pool.count", pool.get("count"), "is not a whole number", "give a node count such as 3")
    elif count is not None:
        if count < 1:
            report.error("system_pool.count", count, "is below 1; a system pool needs at least one node", "set count: 1 or more")
        elif count > MAX_NODES_PER_POOL:
            report.error(
                "system_pool.count", count, f"exceeds {MAX_NODES_PER_POOL}, the AKS limit of nodes per node pool", "split the nodes over several pools"
            )
        if plugin == "kubenet" and count > KUBENET_MAX_NODES:
            report.error(
                "system_pool.count",
                count,
                f"exceeds {KUBENET_MAX_NODES}, the kubenet limit (Azure allows 400 routes per route table)",
                "use Azure CNI Overlay for larger clusters",
            )
        elif plugin == "kubenet" and count + surge > KUBENET_MAX_NODES:
            report.warn(
                "system_pool.count",
                count,
                f"plus {surge} surge node(s) exceeds the kubenet limit of {KUBENET_MAX_NODES} nodes during upgrades",
                "keep count + max surge at 400 or less",
            )
        if policy == "azure" and count > AZURE_NPM_MAX_NODES:
            report.warn(
                "system_pool.count",
                count,
                f"exceeds {AZURE_NPM_MAX_NODES} nodes, beyond which Azure Network Policy Manager is not supported",
                "use network.dataplane: cilium with policy cilium",
            )
    if pool.get("max_pods") is not None and max_pods is None:
        report.error("system_pool.max_pods", pool.get("max_pods"), "is not a whole number", "give a value between 10 and 250")
    elif max_pods is not None:
        if not MAX_PODS_MIN <= max_pods <= MAX_PODS_MAX:
            report.error(
                "system_pool.max_pods",
                max_pods,
                f"is outside {MAX_PODS_MIN}-{MAX_PODS_MAX}, the range AKS accepts for pods per node",
                "choose a value between 10 and 250",
            )
        elif count is not None and count >= 1 and count * max_pods < MIN_PODS_PER_POOL:
            report.error(
                "system_pool.max_pods",
                max_pods,
                f"times count {count} gives room for {count * max_pods} pods; AKS requires room for at least {MIN_PODS_PER_POOL} per pool",
                "raise max_pods or count",
            )


def _check_subnet_ids(report, pool, plugin, mode):
    node_id = pool.get("vnet_subnet_id")
    pod_id = pool.get("pod_subnet_id")
    for path, value in (("system_pool.vnet_subnet_id", node_id), ("system_pool.pod_subnet_id", pod_id)):
        if value is not None and not _SUBNET_ID.match(str(value).strip()):
            report.error(
                path,
                value,
                "is not a subnet resource id",
                "use /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/VNET/subnets/SUBNET",
            )
    if pod_id is not None and node_id is None:
        # concepts-network-azure-cni-pod-subnet.md: pod subnet mode uses a node subnet and a pod subnet in the VNet.
        report.error("system_pool.pod_subnet_id", pod_id, "needs system_pool.vnet_subnet_id (the node subnet of the same VNet)", "set vnet_subnet_id")
    elif pod_id is not None and node_id is not None:
        node_vnet = str(node_id).lower().rsplit("/subnets/", 1)[0]
        pod_vnet = str(pod_id).lower().rsplit("/subnets/", 1)[0]
        if node_vnet != pod_vnet:
            report.warn(
                "system_pool.pod_subnet_id", pod_id, "is in a different VNet from system_pool.vnet_subnet_id", "put the pod subnet in the node subnet's VNet"
            )
    if pod_id is not None:
        if plugin in ("kubenet", "none"):
            report.error(
                "system_pool.pod_subnet_id",
                pod_id,
                f"is only used by Azure CNI (got network.plugin {plugin!r})",
                "remove pod_subnet_id or set network.plugin: azure",
            )
        elif mode == "overlay":
            report.error(
                "system_pool.pod_subnet_id",
                pod_id,
                "cannot be used with network.plugin_mode: overlay, whose pods take addresses from pod_cidr",
                "remove pod_subnet_id or plugin_mode",
            )


def _check_outbound(report, net, pool):
    outbound = canonical("outbound_type", net.get("outbound_type"))
    sku = canonical("load_balancer_sku", net.get("load_balancer_sku"))
    byo_vnet = pool.get("vnet_subnet_id") is not None
    if outbound in ("userDefinedRouting", "userAssignedNATGateway") and not byo_vnet:
        # egress-outboundtype.md: userDefinedRouting and userAssignedNATGateway need your own VNet and subnet.
        report.error(
            "network.outbound_type",
            net.get("outbound_type"),
            "needs your own subnet (system_pool.vnet_subnet_id) with the route table or NAT gateway",
            "set system_pool.vnet_subnet_id, or use loadBalancer / managedNATGateway",
        )
    if outbound == "managedNATGateway" and byo_vnet:
        # nat-gateway.md: "Managed NAT Gateway is incompatible with custom virtual networks".
        report.error(
            "network.outbound_type",
            net.get("outbound_type"),
            "cannot be used with your own subnet (system_pool.vnet_subnet_id)",
            "use userAssignedNATGateway with a NAT gateway on the subnet",
        )
    if sku == "basic":
        if outbound is not None:
            # egress-outboundtype.md "Limitations": setting outboundType requires the Standard load balancer.
            report.error(
                "network.load_balancer_sku", net.get("load_balancer_sku"), "cannot be used with network.outbound_type", "use load_balancer_sku: standard"
            )
        else:
            report.warn("network.load_balancer_sku", net.get("load_balancer_sku"), "is the retired Basic load balancer", "use load_balancer_sku: standard")


def _check_capacity(report, nets, ipam, count, max_pods, surge):
    node_subnet = nets.get("node_subnet")
    if count is not None and count >= 1:
        nodes = count + surge
        if node_subnet is not None:
            usable = usable_addresses(node_subnet)
            if ipam == "node_subnet":
                # concepts-network-ip-address-planning.md: (nodes + surge) + (nodes + surge) * max pods (InsufficientSubnetSize).
                pods = max_pods if max_pods is not None else AZURE_CNI_DEFAULT_MAX_PODS
                needed = nodes * (pods + 1)
                if needed > usable:
                    report.error(
                        "vnet_subnet_cidr",
                        str(node_subnet),
                        f"has {usable} usable addresses (after Azure's 5 reserved) but Azure CNI needs ({count} + {surge}) x ({pods} + 1) = {needed}",
                        "use a larger subnet, fewer max_pods, or Azure CNI Overlay",
                    )
            elif nodes > usable:
                report.error(
                    "vnet_subnet_cidr",
                    str(node_subnet),
                    f"has {usable} usable addresses (after Azure's 5 reserved) but needs {nodes} for {count} nodes + {surge} surge",
                    "use a larger subnet",
                )
        pod_subnet = nets.get("pod_subnet")
        if pod_subnet is not None and ipam == "pod_subnet":
            pods = max_pods if max_pods is not None else 110
            per_node = math.ceil(pods / POD_SUBNET_BATCH) * POD_SUBNET_BATCH
            if nodes * per_node > usable_addresses(pod_subnet):
                report.warn(
                    "pod_subnet_cidr",
                    str(pod_subnet),
                    f"has {usable_addresses(pod_subnet)} usable addresses; {nodes} nodes at {pods} pods (batches of 16) can claim {nodes * per_node}",
                    "use a larger pod subnet or fewer max_pods",
                )
        pod = nets.get("pod")
        if pod is not None and ipam in ("kubenet", "overlay"):
            # concepts-network-azure-cni-overlay.md: each node gets a /24 of the pod CIDR (kubenet likewise).
            blocks = 2 ** (NODE_POD_PREFIX - pod.prefixlen) if pod.prefixlen <= NODE_POD_PREFIX else 0
            if blocks < nodes:
                report.error(
                    "network.pod_cidr",
                    str(pod),
                    f"holds {blocks} node /24 block(s) but {count} nodes + {surge} surge need {nodes}; every node takes a /24",
                    f"use a /{pod_cidr_prefix_for_nodes(nodes)} pod CIDR or larger",
                )


# ----------------------------------------------------------------------------------------------
# Changes to an existing cluster
# ----------------------------------------------------------------------------------------------

# update-azure-cni.md "Supported migration paths": IPAM can only move to overlay, from kubenet or node subnet.
_IPAM_MIGRATIONS = {("kubenet", "overlay"), ("node_subnet", "overlay")}

# egress-outboundtype.md "Updating outboundType after cluster creation": AKS now allows some outbound
# type changes in place. The supported paths differ for AKS-managed VNets and your own (BYO) VNet.
_OUTBOUND_MANAGED_VNET = {("loadBalancer", "managedNATGateway"), ("managedNATGateway", "loadBalancer")}
_OUTBOUND_BYO_VNET = {
    ("loadBalancer", "userAssignedNATGateway"),
    ("loadBalancer", "userDefinedRouting"),
    ("userAssignedNATGateway", "loadBalancer"),
    ("userAssignedNATGateway", "userDefinedRouting"),
    ("userDefinedRouting", "loadBalancer"),
    ("userDefinedRouting", "userAssignedNATGateway"),
}

_IPAM_LABELS = {
    "kubenet": "kubenet",
    "overlay": "Azure CNI Overlay",
    "node_subnet": "Azure CNI (node subnet)",
    "pod_subnet": "Azure CNI (pod subnet)",
    "byo_cni": "bring-your-own CNI",
}


def _net(body):
    return get_path(body, ("properties", "networkProfile"), {}) or {}


def _enum(field, value, default=None):
    value = canonical(field, value)
    return default if value is None else value


def _location(value):
    return str(value or "").replace(" ", "").lower()


def _version_tuple(text):
    parts = []
    for piece in str(text or "").strip().lstrip("vV").split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def immutable_changes(current, desired):
    """Errors for the changes in ``desired`` that Azure cannot make to the ``current`` cluster in place.

    Both are managed-cluster bodies (ARM JSON); ``desired`` holds only the fields the user set (see
    :func:`profile.build_desired`). Each error names the option, the two values and what to do.
    Supported migrations (see :func:`migrations`) are not errors.
    """
    errors = []
    if not current or not desired:
        return errors
    new = apply_desired(current, desired)
    cur_net, new_net = _net(current), _net(new)

    def refuse(path, before, after, reason, fix=RECREATE):
        errors.append(f"{path}: cannot change {before!r} to {after!r} on an existing cluster: {reason}; {fix}.")

    if desired.get("location") is not None and _location(desired["location"]) != _location(current.get("location")):
        refuse("location", current.get("location"), desired["location"], "a cluster cannot move region")
    cur_prefix = get_path(current, ("properties", "dnsPrefix"))
    want_prefix = get_path(desired, ("properties", "dnsPrefix"))
    if want_prefix is not None and cur_prefix is not None and want_prefix.lower() != cur_prefix.lower():
        # REST spec dnsPrefix: "This cannot be updated once the Managed Cluster has been created."
        refuse("dns_prefix", cur_prefix, want_prefix, "the DNS prefix is fixed at creation")

    cur_ipam, new_ipam = body_ipam_mode(current), body_ipam_mode(new)
    ipam_changed = cur_ipam != new_ipam
    if ipam_changed and (cur_ipam, new_ipam) not in _IPAM_MIGRATIONS:
        refuse(
            "network.plugin",
            _IPAM_LABELS.get(cur_ipam, cur_ipam),
            _IPAM_LABELS.get(new_ipam, new_ipam),
            "AKS migrates networking in place only from kubenet or Azure CNI (node subnet) to Azure CNI Overlay (update-azure-cni.md)",
        )
    if ipam_changed and cur_ipam == "node_subnet" and new_ipam == "overlay" and not new_net.get("podCidr"):
        errors.append(
            "network.pod_cidr: is required to migrate Azure CNI (node subnet) to Azure CNI Overlay; "
            "set a pod CIDR that overlaps neither the VNet nor the service range, such as 192.168.0.0/16."
        )
    if ipam_changed and cur_ipam == "node_subnet" and new_ipam == "overlay" and _enum("policy", cur_net.get("networkPolicy"), "none") != "none":
        errors.append(
            f"network.policy: the cluster runs network policy {cur_net.get('networkPolicy')!r}; AKS migrates to Azure CNI Overlay "
            "only without a policy engine (update-azure-cni.md); run once with network.policy: none, migrate, then enable the policy again."
        )

    cur_dp = _enum("dataplane", cur_net.get("networkDataplane"), "azure")
    new_dp = _enum("dataplane", new_net.get("networkDataplane"), "azure")
    if cur_dp != new_dp:
        if cur_dp == "cilium":
            refuse("network.dataplane", cur_dp, new_dp, "a Cilium data plane cannot be turned back to the Azure data plane")
        elif ipam_changed:
            errors.append(
                f"network.dataplane: {cur_dp!r} to {new_dp!r} in the same run as the move to {_IPAM_LABELS.get(new_ipam, new_ipam)}: "
                "AKS updates the IPAM mode and the data plane in separate operations (update-azure-cni.md); "
                "run the module twice, first without the dataplane change."
            )
        elif cur_ipam == "kubenet":
            refuse(
                "network.dataplane",
                cur_dp,
                new_dp,
                "kubenet clusters cannot use Cilium",
                "migrate to Azure CNI Overlay first (plugin: azure, plugin_mode: overlay), then change the data plane",
            )

    cur_policy = _enum("policy", cur_net.get("networkPolicy"), "none")
    new_policy = _enum("policy", new_net.get("networkPolicy"), "none")
    if cur_policy != new_policy and {cur_policy, new_policy} == {"azure", "calico"}:
        # use-network-policies.md "Change cluster network policy": change to none first, then to the new engine.
        refuse(
            "network.policy",
            cur_policy,
            new_policy,
            "AKS switches policy engines only through none",
            "run once with network.policy: none, then again with the new engine",
        )

    for option, key in (("service_cidr", "serviceCidr"), ("dns_service_ip", "dnsServiceIP"), ("load_balancer_sku", "loadBalancerSku")):
        before, after = cur_net.get(key), new_net.get(key)
        if before is None or after is None or _same(option, before, after):
            continue
        # serviceCidr / dnsServiceIP: configure-kubenet.md (fixed after creation; from Kubernetes 1.33 the range can be
        # extended in-cluster with the ServiceCIDR resource, not through ARM).
        refuse(f"network.{option}", before, after, f"{key} is fixed when the cluster is created")

    before, after = cur_net.get("podCidr"), new_net.get("podCidr")
    if before is not None and after is not None and not _same("pod_cidr", before, after) and not ipam_changed:
        if new_ipam == "overlay":
            old_net, _unused = parse_network(before)
            new_pod, _unused = parse_network(after)
            # azure-cni-overlay-pod-expand.md: overlay pod CIDRs can grow to a superset of the original, never shrink or move.
            if not (old_net and new_pod and old_net.version == new_pod.version and old_net.subnet_of(new_pod)):
                refuse("network.pod_cidr", before, after, "an Azure CNI Overlay pod CIDR can only be expanded to a larger range that contains the current one")
        elif new_ipam == "kubenet":
            refuse("network.pod_cidr", before, after, "a kubenet pod CIDR is fixed at creation")

    cur_out = _enum("outbound_type", cur_net.get("outboundType"), "loadBalancer")
    new_out = _enum("outbound_type", new_net.get("outboundType"), "loadBalancer")
    if cur_out != new_out:
        pools = get_path(current, POOLS_PATH, []) or []
        byo_vnet = any(p.get("vnetSubnetID") for p in pools)
        allowed = _OUTBOUND_BYO_VNET if byo_vnet else _OUTBOUND_MANAGED_VNET
        if (cur_out, new_out) not in allowed:
            paths = ", ".join(f"{a} -> {b}" for a, b in sorted(allowed))
            refuse(
                "network.outbound_type",
                cur_out,
                new_out,
                f"AKS supports only these outbound type changes on a {'custom' if byo_vnet else 'managed'} VNet: {paths} (egress-outboundtype.md)",
            )

    cur_pools = get_path(current, POOLS_PATH, []) or []
    for wanted in get_path(desired, POOLS_PATH, []) or []:
        index = match_pool(cur_pools, wanted)
        if index is None:
            name = wanted.get("name")
            existing = [p.get("name") for p in cur_pools if str(p.get("mode", "")).lower() == "system"]
            errors.append(
                f"system_pool.name: {name!r} matches no node pool of the cluster (system pools: {', '.join(map(str, existing)) or 'none'}); "
                "a pool cannot be renamed: set system_pool.name to the existing pool's name."
            )
            continue
        have = cur_pools[index]
        for option, key in (
            ("vm_size", "vmSize"),
            ("vnet_subnet_id", "vnetSubnetID"),
            ("pod_subnet_id", "podSubnetID"),
            ("os_type", "osType"),
            ("max_pods", "maxPods"),
        ):
            if wanted.get(key) is None or have.get(key) is None or _same(option, have[key], wanted[key]):
                continue
            # concepts-network-ip-address-planning.md "Existing clusters" (maxPods); subnets, OS and VM size are
            # set when a pool's nodes are created.
            refuse(f"system_pool.{option}", have[key], wanted[key], f"{key} of an existing node pool is fixed", REPLACE_POOL)

    cur_version = get_path(current, ("properties", "currentKubernetesVersion")) or get_path(current, ("properties", "kubernetesVersion"))
    want_version = get_path(desired, ("properties", "kubernetesVersion"))
    if cur_version and want_version:
        have_v, want_v = _version_tuple(cur_version), _version_tuple(want_version)
        common = min(len(have_v), len(want_v))
        if common and want_v[:common] < have_v[:common]:
            refuse("kubernetes_version", cur_version, want_version, "AKS cannot downgrade Kubernetes", "keep the current version or recreate the cluster")
    return errors


def _same(option, before, after):
    return normalise(option, before) == normalise(option, after)


def migrations(current, desired):
    """The supported in-place migrations ``desired`` performs on ``current``.

    A list of ``{name, description, notes}``; ``name`` is one of ``kubenet_to_overlay``,
    ``node_subnet_to_overlay``, ``dataplane_to_cilium``, ``pod_cidr_expansion``,
    ``outbound_type_change``, ``policy_engine_change``. ``notes`` says what the user will notice.
    """
    if not current or not desired:
        return []
    new = apply_desired(current, desired)
    cur_net, new_net = _net(current), _net(new)
    found = []
    cur_ipam, new_ipam = body_ipam_mode(current), body_ipam_mode(new)
    if (cur_ipam, new_ipam) == ("kubenet", "overlay"):
        found.append(
            {
                "name": "kubenet_to_overlay",
                "description": "kubenet to Azure CNI Overlay",
                "notes": "irreversible; all node pools are reimaged at once; the kubenet route table is detached "
                "(needs a user-assigned managed identity) (update-azure-cni.md)",
            }
        )
    elif (cur_ipam, new_ipam) == ("node_subnet", "overlay"):
        found.append(
            {
                "name": "node_subnet_to_overlay",
                "description": "Azure CNI (node subnet) to Azure CNI Overlay",
                "notes": "irreversible; all node pools are reimaged at once; pods move to the overlay pod CIDR (update-azure-cni.md)",
            }
        )
    cur_dp = _enum("dataplane", cur_net.get("networkDataplane"), "azure")
    new_dp = _enum("dataplane", new_net.get("networkDataplane"), "azure")
    if cur_dp == "azure" and new_dp == "cilium" and new_ipam in ("overlay", "node_subnet", "pod_subnet") and cur_ipam == new_ipam:
        found.append(
            {
                "name": "dataplane_to_cilium",
                "description": "Azure data plane to Azure CNI Powered by Cilium (policy cilium)",
                "notes": "irreversible; node pools are reimaged; an existing Azure NPM or Calico engine is replaced by Cilium, "
                "which enforces policies once every node is reimaged (update-azure-cni.md)",
            }
        )
    before, after = cur_net.get("podCidr"), new_net.get("podCidr")
    if cur_ipam == new_ipam == "overlay" and before and after and not _same("pod_cidr", before, after):
        old_net, _unused = parse_network(before)
        new_pod, _unused = parse_network(after)
        if old_net and new_pod and old_net.version == new_pod.version and old_net.subnet_of(new_pod):
            found.append(
                {
                    "name": "pod_cidr_expansion",
                    "description": f"expand the overlay pod CIDR {before} to {after}",
                    "notes": "Linux node pools only; check NodeNetworkConfig afterwards (azure-cni-overlay-pod-expand.md)",
                }
            )
    cur_out = _enum("outbound_type", cur_net.get("outboundType"), "loadBalancer")
    new_out = _enum("outbound_type", new_net.get("outboundType"), "loadBalancer")
    if cur_out != new_out:
        found.append(
            {
                "name": "outbound_type_change",
                "description": f"outbound type {cur_out} to {new_out}",
                "notes": "disrupts egress and changes the cluster's outbound IP addresses; update firewall rules and authorized IP ranges "
                "(egress-outboundtype.md)",
            }
        )
    cur_policy = _enum("policy", cur_net.get("networkPolicy"), "none")
    new_policy = _enum("policy", new_net.get("networkPolicy"), "none")
    if cur_policy != new_policy and new_dp == cur_dp:
        found.append(
            {
                "name": "policy_engine_change",
                "description": f"network policy {cur_policy} to {new_policy}",
                "notes": "node pools are reimaged; when uninstalling, existing NetworkPolicy objects stay but are no longer enforced (use-network-policies.md)",
            }
        )
    return found

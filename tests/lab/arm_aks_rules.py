"""What AKS does with a managed cluster PUT body: server defaults, then validation as a rule table.

Error codes, messages and targets follow what AKS really returns, as seen in public AKS error output
(GitHub issues in Azure/AKS, azure-cli, terraform-provider-azurerm, bicep-registry-modules) and the
Microsoft troubleshooting articles. Where no public AKS response was found, the rule uses AKS's
generic ``InvalidParameter`` (or ``BadRequest`` for cilium combinations, like its sibling checks) and
says so in a comment.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .arm_common import ArmError, bad_request, invalid_parameter, overlaps, parse_cidr, parse_ip, parse_resource_id, usable_addresses

# Minor versions the simulated region offers, and the patch each resolves to.
SUPPORTED_VERSIONS = {
    "1.29": "1.29.15",
    "1.30": "1.30.14",
    "1.31": "1.31.11",
    "1.32": "1.32.7",
    "1.33": "1.33.3",
    "1.34": "1.34.1",
}
DEFAULT_VERSION = "1.33.3"
DEFAULT_SERVICE_CIDR = "10.0.0.0/16"
DEFAULT_DNS_SERVICE_IP = "10.0.0.10"
DEFAULT_POD_CIDR = "10.244.0.0/16"
MAX_PODS_MIN, MAX_PODS_MAX = 10, 250


@dataclass
class SubnetView:
    """What the rules need to know about a subnet referenced by an agent pool."""

    id: str
    name: str
    address_prefix: str
    vnet_name: str
    vnet_address_prefixes: list[str]
    vnet_subnets: list[tuple[str, str]]  # (name, prefix) of every subnet of the VNet
    used_ips: int  # IP configurations already in the subnet, this cluster's own excluded


@dataclass
class RuleContext:
    desired: dict[str, Any]  # properties after defaults
    existing: Optional[dict[str, Any]]  # stored properties of the cluster on update, None on create
    resolve_subnet: Callable[[str], Optional[SubnetView]]
    subnets: dict[str, SubnetView] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)  # top-level fields of the PUT body: identity, sku

    @property
    def net(self) -> dict[str, Any]:
        return self.desired.get("networkProfile") or {}

    @property
    def old_net(self) -> dict[str, Any]:
        return (self.existing or {}).get("networkProfile") or {}

    @property
    def pools(self) -> list[dict[str, Any]]:
        return self.desired.get("agentPoolProfiles") or []

    def is_overlay(self) -> bool:
        return str(self.net.get("networkPluginMode") or "").lower() == "overlay"

    def plugin(self) -> str:
        return str(self.net.get("networkPlugin") or "").lower()


def _lower(value: Any) -> str:
    return str(value or "").lower()


def resolve_version(requested: Optional[str]) -> Optional[str]:
    """The full patch version for ``1.33`` or ``1.33.3``; None when the region does not offer it."""
    if not requested:
        return DEFAULT_VERSION
    parts = str(requested).split(".")
    minor = ".".join(parts[:2])
    if minor not in SUPPORTED_VERSIONS:
        return None
    return str(requested) if len(parts) == 3 else SUPPORTED_VERSIONS[minor]


def _minor(version: str) -> tuple[int, int]:
    try:
        major, minor = version.split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return (0, 0)


# ---------------------------------------------------------------------------------------------
# Server defaults
# ---------------------------------------------------------------------------------------------

_CARRIED_NETWORK_FIELDS = (
    "networkPlugin", "networkPluginMode", "networkPolicy", "networkDataplane", "podCidr", "serviceCidr",
    "dnsServiceIP", "outboundType", "loadBalancerSku", "advancedNetworking", "ipFamilies",
)


def apply_defaults(properties: dict[str, Any], existing: Optional[dict[str, Any]]) -> dict[str, Any]:
    """Fill what AKS fills: on update from the stored cluster, otherwise from AKS's defaults."""
    props = copy.deepcopy(properties or {})
    version = resolve_version(props.get("kubernetesVersion")) or str(props.get("kubernetesVersion"))
    if existing and not props.get("kubernetesVersion"):
        props["kubernetesVersion"] = existing.get("kubernetesVersion")
        version = existing.get("currentKubernetesVersion") or version
    props.setdefault("kubernetesVersion", version)
    props["currentKubernetesVersion"] = version

    net = props.get("networkProfile") or {}
    old_net = (existing or {}).get("networkProfile") or {}
    for key in _CARRIED_NETWORK_FIELDS:
        if key not in net and key in old_net:
            net[key] = copy.deepcopy(old_net[key])
    # AKS defaults the plugin from the Kubernetes version: kubenet below 1.30, Azure CNI Overlay from
    # 1.30 (Azure/azure-rest-api-specs PR 30844 "remove default from networkPlugin").
    if not net.get("networkPlugin"):
        if _lower(net.get("networkPluginMode")) == "overlay" or _minor(version) >= (1, 30):
            net["networkPlugin"] = "azure"
            net.setdefault("networkPluginMode", "overlay")
        else:
            net["networkPlugin"] = "kubenet"
    net.setdefault("networkDataplane", "azure")
    if not net.get("networkPolicy"):
        net["networkPolicy"] = "cilium" if _lower(net.get("networkDataplane")) == "cilium" else "none"
    net.setdefault("loadBalancerSku", "standard")
    net.setdefault("outboundType", "loadBalancer")
    if not net.get("serviceCidr") and not net.get("dnsServiceIP"):
        net["serviceCidr"], net["dnsServiceIP"] = DEFAULT_SERVICE_CIDR, DEFAULT_DNS_SERVICE_IP
    elif net.get("serviceCidr") and not net.get("dnsServiceIP"):
        cidr = parse_cidr(net["serviceCidr"])
        if cidr is not None:
            net["dnsServiceIP"] = str(cidr.network_address + 10)
    pods_from_cidr = _lower(net.get("networkPlugin")) == "kubenet" or _lower(net.get("networkPluginMode")) == "overlay"
    if pods_from_cidr and not net.get("podCidr"):
        net["podCidr"] = DEFAULT_POD_CIDR
    net.setdefault("ipFamilies", ["IPv4"])
    net["serviceCidrs"] = [net["serviceCidr"]] if net.get("serviceCidr") else []
    net["podCidrs"] = [net["podCidr"]] if net.get("podCidr") else []
    props["networkProfile"] = net

    old_pools = {_lower(p.get("name")): p for p in (existing or {}).get("agentPoolProfiles") or []}
    pools = props.get("agentPoolProfiles")
    if existing and not pools:
        pools = copy.deepcopy(list(old_pools.values()))
    pools = copy.deepcopy(pools or [])
    default_max_pods = 110 if _lower(net.get("networkPlugin")) == "kubenet" else 250 if _lower(net.get("networkPluginMode")) == "overlay" else 30
    for index, pool in enumerate(pools):
        old = old_pools.get(_lower(pool.get("name")))
        if old:
            for key, value in old.items():
                pool.setdefault(key, copy.deepcopy(value))
        pool.setdefault("count", 1)
        pool.setdefault("vmSize", "Standard_D2s_v5")
        pool.setdefault("osType", "Linux")
        pool.setdefault("osSKU", "Ubuntu")
        pool.setdefault("type", "VirtualMachineScaleSets")
        pool.setdefault("mode", "System" if index == 0 else "User")
        pool.setdefault("maxPods", default_max_pods)
        pool.setdefault("orchestratorVersion", props["kubernetesVersion"])
        pool["currentOrchestratorVersion"] = version
    props["agentPoolProfiles"] = pools
    return props


# ---------------------------------------------------------------------------------------------
# Rules: each returns an ArmError (the first one found is answered) or None
# ---------------------------------------------------------------------------------------------


def rule_kubernetes_version(ctx: RuleContext) -> Optional[ArmError]:
    requested = ctx.desired.get("kubernetesVersion")
    if resolve_version(requested) is None:
        # Azure/AKS issues: "(K8sVersionNotSupported) Version 1.20.9 is not supported in this region."
        return bad_request(
            "K8sVersionNotSupported",
            f"Version {requested} is not supported in this region. Please use [az aks get-versions] command to get the supported version list in this region.",
            "kubernetesVersion",
        )
    return None


def _missing(target: str) -> ArmError:
    # AKS's answer to a create without agent pools (Azure/ARO-HCP PR 629): code InvalidParameter,
    # "Required parameter agentPoolProfiles is missing (null)."
    return ArmError(400, "InvalidParameter", f"Required parameter {target} is missing (null).", target)


def rule_required(ctx: RuleContext) -> Optional[ArmError]:
    """Required properties: at least one agent pool (on update the stored ones are kept), and each pool's name."""
    if not ctx.pools:
        return _missing("agentPoolProfiles")
    for index, pool in enumerate(ctx.pools):
        if not pool.get("name"):
            return _missing(f"agentPoolProfiles[{index}].name")
    return None


def rule_system_pool(ctx: RuleContext) -> Optional[ArmError]:
    if not any(_lower(p.get("mode")) == "system" for p in ctx.pools):
        # AKS: "(MustDefineAtLeastOneSystemPool) Must define at least one system pool."
        return bad_request("MustDefineAtLeastOneSystemPool", "Must define at least one system pool.", "agentPoolProfiles")
    return None


# Enum values of the managedClusters API, as azure-rest-api-specs .../aks/stable/2026-08-01/managedClusters.json defines
# them (azure-mgmt-containerservice 41 generates the same lists in models/_enums.py). AKS matches them case-insensitively
# (it answers "loadBalancerSku": "Standard" itself, azure-cli issue 27990) except the agent pool mode, which it has
# matched case-sensitively since January 2025 (Azure/AKS issue 4468: "the (case-sensitive) strings User, System, Gateway").
NETWORK_ENUMS: dict[str, tuple[str, ...]] = {
    "networkPlugin": ("azure", "kubenet", "none"),
    "networkPluginMode": ("overlay",),
    "networkPolicy": ("none", "calico", "azure", "cilium"),
    "networkDataplane": ("azure", "cilium"),
    "outboundType": ("loadBalancer", "userDefinedRouting", "managedNATGateway", "userAssignedNATGateway", "none"),
    "loadBalancerSku": ("standard", "basic"),
}
IP_FAMILIES = ("IPv4", "IPv6")
POOL_ENUMS: dict[str, tuple[str, ...]] = {
    "osType": ("Linux", "Windows"),
    "osSKU": ("Ubuntu", "AzureLinux", "AzureLinux3", "CBLMariner", "Windows2019", "Windows2022", "Ubuntu2204", "Windows2025", "Ubuntu2404",
              "AzureContainerLinux"),
    "type": ("VirtualMachineScaleSets", "AvailabilitySet", "VirtualMachines"),
}
POOL_MODES = ("System", "User", "Gateway")
RESOURCE_ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("identity", "type"): ("SystemAssigned", "UserAssigned", "None"),
    ("sku", "name"): ("Base", "Automatic"),
    ("sku", "tier"): ("Premium", "Standard", "Free"),
}


def _not_one_of(target: str, value: Any, allowed: tuple[str, ...], case_sensitive: bool = False) -> Optional[ArmError]:
    """AKS's InvalidParameter naming the property when ``value`` is not one of ``allowed``."""
    if isinstance(value, str) and (value in allowed if case_sensitive else value.lower() in {a.lower() for a in allowed}):
        return None
    return invalid_parameter(target, value, f"allowed values are {', '.join(allowed)}")


def rule_enums(ctx: RuleContext) -> Optional[ArmError]:
    for key, allowed in NETWORK_ENUMS.items():
        value = ctx.net.get(key)
        if key == "networkPluginMode" and value in (None, ""):
            continue
        error = _not_one_of(f"networkProfile.{key}", value, allowed)
        if error:
            return error
    families = ctx.net.get("ipFamilies")
    if not isinstance(families, list) or not families:
        return invalid_parameter("networkProfile.ipFamilies", families, f"a list of {' and/or '.join(IP_FAMILIES)}")
    for family in families:
        error = _not_one_of("networkProfile.ipFamilies", family, IP_FAMILIES)
        if error:
            return error
    for index, pool in enumerate(ctx.pools):
        for key, allowed in POOL_ENUMS.items():
            error = _not_one_of(f"agentPoolProfiles[{index}].{key}", pool.get(key), allowed)
            if error:
                return error
        error = _not_one_of(f"agentPoolProfiles[{index}].mode", pool.get("mode"), POOL_MODES, case_sensitive=True)
        if error:
            return error
    for (section, key), allowed in RESOURCE_ENUMS.items():
        part = ctx.resource.get(section)
        if part is None:
            continue
        value = part.get(key) if isinstance(part, dict) else part
        if value is None and isinstance(part, dict):
            continue
        error = _not_one_of(f"{section}.{key}", value, allowed)
        if error:
            return error
    return None


def rule_cidr_syntax(ctx: RuleContext) -> Optional[ArmError]:
    # AKS reports unparsable CIDRs against the field (Azure/AKS issue 506 shows target "networkProfile.serviceCIDR").
    for key in ("serviceCidr", "podCidr"):
        value = ctx.net.get(key)
        if value is not None and parse_cidr(value) is None:
            return invalid_parameter(f"networkProfile.{key}", value, "not a CIDR in canonical form such as 10.0.0.0/16 (host bits must be zero)")
    value = ctx.net.get("dnsServiceIP")
    if value is not None and parse_ip(value) is None:
        return invalid_parameter("networkProfile.dnsServiceIP", value, "not an IP address")
    return None


def rule_pool_sizes(ctx: RuleContext) -> Optional[ArmError]:
    for index, pool in enumerate(ctx.pools):
        max_pods = pool.get("maxPods")
        if not isinstance(max_pods, int) or not MAX_PODS_MIN <= max_pods <= MAX_PODS_MAX:
            # Azure/AKS issue 931: "The value of parameter maxPods is invalid."
            return invalid_parameter(
                f"agentPoolProfiles[{index}].maxPods", max_pods, f"maxPods must be between {MAX_PODS_MIN} and {MAX_PODS_MAX}"
            )
        count = pool.get("count")
        low = 1 if _lower(pool.get("mode")) == "system" else 0
        if not isinstance(count, int) or not low <= count <= 1000:
            return invalid_parameter(f"agentPoolProfiles[{index}].count", count, f"count must be between {low} and 1000 for a {pool.get('mode')} pool")
    return None


_IMMUTABLE_NETWORK = ("serviceCidr", "dnsServiceIP", "loadBalancerSku")

# egress-outboundtype.md "Update outboundType after cluster creation": the changes AKS makes in place, for an
# AKS-managed VNet and for your own (BYO) VNet. Any other change is refused.
_OUTBOUND_MANAGED_VNET = {("loadbalancer", "managednatgateway"), ("managednatgateway", "loadbalancer")}
_OUTBOUND_BYO_VNET = {
    ("loadbalancer", "userassignednatgateway"), ("loadbalancer", "userdefinedrouting"),
    ("userassignednatgateway", "loadbalancer"), ("userassignednatgateway", "userdefinedrouting"),
    ("userdefinedrouting", "loadbalancer"), ("userdefinedrouting", "userassignednatgateway"),
}


def _not_allowed(target: str) -> ArmError:
    # azure-cli issue 24764 / kubernetes autoscaler issue 1051:
    # "(PropertyChangeNotAllowed) Changing property 'networkProfile.networkPlugin' is not allowed."
    return bad_request("PropertyChangeNotAllowed", f"Changing property '{target}' is not allowed.", target)


def _ipam(net: dict[str, Any], pools: list[dict[str, Any]]) -> str:
    plugin, mode = _lower(net.get("networkPlugin")), _lower(net.get("networkPluginMode"))
    if plugin == "azure" and mode == "overlay":
        return "overlay"
    if plugin == "azure":
        return "pod_subnet" if any(p.get("podSubnetID") for p in pools) else "node_subnet"
    return plugin


def rule_immutable(ctx: RuleContext) -> Optional[ArmError]:
    if ctx.existing is None:
        return None
    old, new = ctx.old_net, ctx.net
    for key in _IMMUTABLE_NETWORK:
        if _lower(old.get(key)) != _lower(new.get(key)):
            return _not_allowed(f"networkProfile.{key}")
    old_out, new_out = _lower(old.get("outboundType")) or "loadbalancer", _lower(new.get("outboundType")) or "loadbalancer"
    if old_out != new_out:
        byo_vnet = any(p.get("vnetSubnetID") for p in ctx.existing.get("agentPoolProfiles") or [])
        if (old_out, new_out) not in (_OUTBOUND_BYO_VNET if byo_vnet else _OUTBOUND_MANAGED_VNET):
            return _not_allowed("networkProfile.outboundType")
    old_plugin, new_plugin = _lower(old.get("networkPlugin")), _lower(new.get("networkPlugin"))
    old_mode, new_mode = _lower(old.get("networkPluginMode")), _lower(new.get("networkPluginMode"))
    # update-azure-cni.md "Supported migration paths": kubenet and Azure CNI on a node subnet can move to Azure CNI
    # Overlay; Azure CNI with a pod subnet (dynamic IP allocation) cannot.
    old_ipam = _ipam(old, ctx.existing.get("agentPoolProfiles") or [])
    migrating_to_overlay = new_plugin == "azure" and new_mode == "overlay" and old_ipam in {"kubenet", "node_subnet"}
    if (old_plugin, old_mode) != (new_plugin, new_mode) and not migrating_to_overlay:
        return _not_allowed("networkProfile.networkPlugin" if old_plugin != new_plugin else "networkProfile.networkPluginMode")
    old_dp, new_dp = _lower(old.get("networkDataplane")), _lower(new.get("networkDataplane"))
    if old_dp != new_dp and not (old_dp == "azure" and new_dp == "cilium"):
        return _not_allowed("networkProfile.networkDataplane")
    if old_dp != new_dp and migrating_to_overlay:
        # update-azure-cni.md: the IPAM mode and the data plane are updated in separate operations. No public AKS error
        # body was found; BadRequest like AKS's other network update checks.
        return bad_request(
            "BadRequest",
            "Updating the network plugin mode and the network dataplane in the same request is not supported; update the IPAM mode first, "
            "then the dataplane.",
            "networkProfile.networkDataplane",
        )
    old_policy, new_policy = _lower(old.get("networkPolicy")) or "none", _lower(new.get("networkPolicy")) or "none"
    if {old_policy, new_policy} == {"azure", "calico"}:
        # use-network-policies.md "Change cluster network policy": uninstall (none) first, then install the other engine.
        return bad_request(
            "BadRequest",
            f"Changing network policy from {old_policy} to {new_policy} directly is not supported; set networkPolicy to none first.",
            "networkProfile.networkPolicy",
        )
    old_pod = parse_cidr(old.get("podCidr"))
    new_pod = parse_cidr(new.get("podCidr"))
    # azure-cni-overlay-pod-expand.md: an Overlay pod CIDR can be expanded to a superset of the current range.
    expanding = old_pod is not None and new_pod is not None and old_mode == new_mode == "overlay" and old_pod.subnet_of(new_pod)
    if old_pod is not None and old_pod != new_pod and not migrating_to_overlay and not expanding:
        return _not_allowed("networkProfile.podCidr")
    old_pools = {_lower(p.get("name")): p for p in ctx.existing.get("agentPoolProfiles") or []}
    for pool in ctx.pools:
        old_pool = old_pools.get(_lower(pool.get("name")))
        if not old_pool:
            continue
        for key in ("vnetSubnetID", "podSubnetID", "maxPods", "vmSize", "osType"):
            if _lower(old_pool.get(key)) != _lower(pool.get(key)):
                return _not_allowed(f"agentPoolProfile.{key}")
    return None


def rule_plugin_mode(ctx: RuleContext) -> Optional[ArmError]:
    if ctx.is_overlay() and ctx.plugin() != "azure":
        # Azure/AKS issue 5662: "(UnsupportedNetworkPluginModeWithNetworkPlugin) NetworkPluginMode overlay is not
        # supported with NetworkPlugin kubenet." target networkProfile.networkPluginMode
        return bad_request(
            "UnsupportedNetworkPluginModeWithNetworkPlugin",
            f"NetworkPluginMode overlay is not supported with NetworkPlugin {ctx.net.get('networkPlugin')}.",
            "networkProfile.networkPluginMode",
        )
    return None


def rule_policy_plugin(ctx: RuleContext) -> Optional[ArmError]:
    if _lower(ctx.net.get("networkPolicy")) == "azure" and ctx.plugin() == "kubenet":
        # coder/docs PR 1091: "(NetworkPolicyAzureNotSupportedForKubenet) NetworkPolicy azure is not supported for
        # network plugin kubenet" target networkProfile.networkPolicy
        return bad_request(
            "NetworkPolicyAzureNotSupportedForKubenet", "NetworkPolicy azure is not supported for network plugin kubenet", "networkProfile.networkPolicy"
        )
    return None


def rule_cilium(ctx: RuleContext) -> Optional[ArmError]:
    dataplane, policy = _lower(ctx.net.get("networkDataplane")), _lower(ctx.net.get("networkPolicy"))
    if dataplane == "cilium" and ctx.plugin() != "azure":
        return bad_request("BadRequest", "Cilium dataplane requires network plugin azure.", "networkProfile.networkPlugin")
    if dataplane == "cilium" and policy != "cilium":
        # AKS returns code BadRequest with subcode CiliumDataplaneRequiresNetworkPolicyCilium (bicep-registry-modules
        # PR 3361); the simulator answers the subcode as the code so callers can tell the rules apart.
        return bad_request("CiliumDataplaneRequiresNetworkPolicyCilium", "Cilium dataplane requires network policy cilium.", "networkProfile.networkPolicy")
    if policy == "cilium" and dataplane != "cilium":
        # AKS: code NetworkPolicyNotSupported, subcode NetworkPolicyCiliumRequiresCiliumDataplane
        # (AdminTurnedDevOps/DevOps-The-Hard-Way-Azure issue 1).
        return bad_request(
            "NetworkPolicyCiliumRequiresCiliumDataplane", "Network Policy cilium requires NetworkDataplane cilium", "networkProfile.networkPolicy"
        )
    # Azure/AKS issue 3484 shows AKS once answered "Cilium dataplane requires either network plugin mode overlay or pod subnet";
    # azure-cni-powered-by-cilium.md now documents Cilium on a node subnet (legacy IPAM) too, so that plan is accepted.
    return None


def rule_advanced_networking(ctx: RuleContext) -> Optional[ArmError]:
    adv = ctx.net.get("advancedNetworking") or {}
    security = adv.get("security") or {}
    wants_security = bool(security.get("enabled")) or _lower(security.get("advancedNetworkPolicies")) in {"fqdn", "l7"}
    if wants_security and _lower(ctx.net.get("networkDataplane")) != "cilium":
        # The API reference says security "can be enabled only on cilium based clusters"; no public AKS error body
        # was found, so this uses BadRequest like AKS's other cilium combination checks.
        return bad_request(
            "BadRequest",
            "Advanced networking security (FQDN / L7 network policies) can be enabled only on clusters with networkDataplane cilium.",
            "networkProfile.advancedNetworking.security",
        )
    if wants_security and adv.get("enabled") is False:
        return bad_request(
            "BadRequest", "Advanced networking security requires advancedNetworking.enabled to be true.", "networkProfile.advancedNetworking.enabled"
        )
    return None


def rule_dns_service_ip(ctx: RuleContext) -> Optional[ArmError]:
    service = parse_cidr(ctx.net.get("serviceCidr"))
    dns_ip = parse_ip(ctx.net.get("dnsServiceIP"))
    if service is None or dns_ip is None:
        return None
    # The API reference: "It must be within the Kubernetes service address range specified in serviceCidr."
    # No public AKS error code for this was found; AKS's generic InvalidParameter is used.
    if dns_ip not in service:
        return invalid_parameter("networkProfile.dnsServiceIP", str(dns_ip), f"dnsServiceIP must be within serviceCidr {service}")
    if dns_ip == service.network_address or dns_ip == service.network_address + 1:
        # Azure/AKS issue 2579: the network address must be rejected; .1 is the kubernetes Service ClusterIP.
        return invalid_parameter("networkProfile.dnsServiceIP", str(dns_ip), f"dnsServiceIP must not be the first or second address of serviceCidr {service}")
    return None


def rule_service_pod_overlap(ctx: RuleContext) -> Optional[ArmError]:
    service, pod = parse_cidr(ctx.net.get("serviceCidr")), parse_cidr(ctx.net.get("podCidr"))
    if service is not None and pod is not None and overlaps(service, pod):
        # No public AKS error body for this was found; AKS's generic InvalidParameter is used.
        return invalid_parameter("networkProfile.podCidr", str(pod), f"podCidr {pod} overlaps serviceCidr {service}; they must be disjoint")
    return None


def rule_subnets_exist(ctx: RuleContext) -> Optional[ArmError]:
    for index, pool in enumerate(ctx.pools):
        for key in ("vnetSubnetID", "podSubnetID"):
            subnet_id = pool.get(key)
            if not subnet_id:
                continue
            parsed = parse_resource_id(subnet_id)
            if parsed is None or [t.lower() for t in parsed.types] != ["virtualnetworks", "subnets"] or parsed.namespace.lower() != "microsoft.network":
                # ARM's own check on resource id properties.
                return bad_request(
                    "LinkedInvalidPropertyId",
                    f"Property id '{subnet_id}' at path 'properties.agentPoolProfiles[{index}].{key}' is invalid. Expect fully qualified resource Id "
                    "that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.",
                    f"agentPoolProfiles[{index}].{key}",
                )
            view = ctx.resolve_subnet(subnet_id)
            if view is None:
                # sassoftware/viya4-iac-azure issue 163: "Code="SubnetNotFound" Message="Could not find subnet X in vnet Y
                # from resource group Z of subscription S.""
                return bad_request(
                    "SubnetNotFound",
                    f"Could not find subnet {parsed.names[1]} in vnet {parsed.names[0]} from resource group {parsed.resource_group} "
                    f"of subscription {parsed.subscription}.",
                    f"agentPoolProfile.{key}",
                )
            ctx.subnets[subnet_id.lower()] = view
    return None


def rule_service_cidr_vs_subnets(ctx: RuleContext) -> Optional[ArmError]:
    service = parse_cidr(ctx.net.get("serviceCidr"))
    if service is None:
        return None
    for view in ctx.subnets.values():
        for _name, prefix in view.vnet_subnets:
            cidr = parse_cidr(prefix)
            if cidr is not None and overlaps(service, cidr):
                # Microsoft troubleshooting article "ServiceCidrOverlapExistingSubnetsCidr".
                return bad_request(
                    "ServiceCidrOverlapExistingSubnetsCidr",
                    f"The specified service CIDR {service} is conflicted with an existing subnet CIDR {cidr}",
                    "networkProfile.serviceCIDR",
                )
    return None


def rule_pod_cidr_vs_vnet(ctx: RuleContext) -> Optional[ArmError]:
    pod = parse_cidr(ctx.net.get("podCidr"))
    if pod is None:
        return None
    for view in ctx.subnets.values():
        for prefix in view.vnet_address_prefixes:
            cidr = parse_cidr(prefix)
            if cidr is not None and overlaps(pod, cidr):
                # Azure/AKS-Construction issue 403: "NetworkProfileCIDROverlapVNET" target networkProfile.podCIDR
                return bad_request(
                    "NetworkProfileCIDROverlapVNET", f"NetworkProfile CIDR {pod} overlaps with reserved VNET CIDR {cidr}", "networkProfile.podCIDR"
                )
    return None


def rule_subnet_size(ctx: RuleContext) -> Optional[ArmError]:
    """IPs a pool pre-allocates, per Microsoft's InsufficientSubnetSize article (one surge node included)."""
    needed: dict[str, int] = {}
    for pool in ctx.pools:
        nodes = int(pool.get("count") or 0) + 1
        node_subnet, pod_subnet = pool.get("vnetSubnetID"), pool.get("podSubnetID")
        vnet_ips_per_node = 1
        if ctx.plugin() == "azure" and not ctx.is_overlay() and not pod_subnet:
            vnet_ips_per_node += int(pool.get("maxPods") or 0)
        if node_subnet:
            needed[node_subnet.lower()] = needed.get(node_subnet.lower(), 0) + nodes * vnet_ips_per_node
        if pod_subnet:
            needed[pod_subnet.lower()] = needed.get(pod_subnet.lower(), 0) + nodes * int(pool.get("maxPods") or 0)
    for key, count in needed.items():
        view = ctx.subnets.get(key)
        cidr = parse_cidr(view.address_prefix) if view else None
        if view is None or cidr is None:
            continue
        available = usable_addresses(cidr) - view.used_ips
        if count > available:
            # Real message, e.g. "Pre-allocated IPs 327 exceeds IPs available 250 in Subnet Cidr 10.10.1.0/24"
            return bad_request(
                "InsufficientSubnetSize",
                f"Pre-allocated IPs {count} exceeds IPs available {available} in Subnet Cidr {cidr}, Subnet Name {view.name}. "
                "http://aka.ms/aks/insufficientsubnetsize for more details.",
                "agentPoolProfile.vnetSubnetID",
            )
    return None


# concepts-network-cni-overview.md "AKS CNI networking prerequisites": ranges AKS keeps for itself.
_RESERVED_RANGES = ("169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24")
KUBENET_MAX_NODES = 400


def rule_service_cidr_size(ctx: RuleContext) -> Optional[ArmError]:
    service = parse_cidr(ctx.net.get("serviceCidr"))
    if service is not None and service.prefixlen < 12:
        # concepts-network-ip-address-planning.md: "The service address CIDR must be smaller than /12." No public AKS
        # error body was found; AKS's generic InvalidParameter is used.
        return invalid_parameter("networkProfile.serviceCidr", str(service), "the service CIDR must be /12 or smaller")
    return None


def rule_reserved_ranges(ctx: RuleContext) -> Optional[ArmError]:
    for key in ("serviceCidr", "podCidr"):
        cidr = parse_cidr(ctx.net.get(key))
        if cidr is None:
            continue
        for reserved in _RESERVED_RANGES:
            if overlaps(cidr, parse_cidr(reserved)):
                # No public AKS error body was found; AKS's generic InvalidParameter is used.
                return invalid_parameter(f"networkProfile.{key}", str(cidr), f"{key} must not overlap the reserved range {reserved}")
    return None


def rule_kubenet_limits(ctx: RuleContext) -> Optional[ArmError]:
    if ctx.plugin() != "kubenet":
        return None
    for index, pool in enumerate(ctx.pools):
        if _lower(pool.get("osType")) == "windows":
            # configure-kubenet.md: Windows Server node pools need Azure CNI. AKS answers AzureCNIOnlyForWindows.
            return bad_request(
                "AzureCNIOnlyForWindows", "Windows agent pools are only supported with network plugin azure (Azure CNI).",
                f"agentPoolProfiles[{index}].osType",
            )
    nodes = sum(int(p.get("count") or 0) for p in ctx.pools)
    if nodes > KUBENET_MAX_NODES:
        # configure-kubenet.md: a route table holds at most 400 routes, so kubenet clusters have at most 400 nodes.
        return invalid_parameter("agentPoolProfiles", nodes, f"kubenet clusters support at most {KUBENET_MAX_NODES} nodes")
    return None


# The order AKS answers in: request shape first, then immutability, then combinations, then the network.
RULES: list[tuple[str, Callable[[RuleContext], Optional[ArmError]]]] = [
    ("required properties (agent pools and their names)", rule_required),
    ("kubernetes version offered in the region", rule_kubernetes_version),
    ("enum values (network profile, agent pools, identity, sku)", rule_enums),
    ("at least one System agent pool", rule_system_pool),
    ("CIDR and IP syntax", rule_cidr_syntax),
    ("maxPods and count ranges", rule_pool_sizes),
    ("immutable fields and supported migrations", rule_immutable),
    ("service CIDR /12 or smaller", rule_service_cidr_size),
    ("service and pod CIDRs avoid the reserved ranges", rule_reserved_ranges),
    ("overlay needs plugin azure", rule_plugin_mode),
    ("kubenet: Linux pools only, at most 400 nodes", rule_kubenet_limits),
    ("policy azure not with kubenet", rule_policy_plugin),
    ("cilium dataplane/policy combinations", rule_cilium),
    ("advanced networking security needs cilium", rule_advanced_networking),
    ("dnsServiceIP inside serviceCidr", rule_dns_service_ip),
    ("serviceCidr and podCidr disjoint", rule_service_pod_overlap),
    ("referenced subnets exist", rule_subnets_exist),
    ("serviceCidr does not overlap VNet subnets", rule_service_cidr_vs_subnets),
    ("podCidr does not overlap the VNet", rule_pod_cidr_vs_vnet),
    ("subnet large enough", rule_subnet_size),
]


def validate(ctx: RuleContext) -> None:
    """Raise the first rule's ArmError, in table order."""
    for _name, rule in RULES:
        error = rule(ctx)
        if error is not None:
            raise error

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AKS managed-cluster body the ``cluster`` module sends, built from its user options. Pure.

Everything here works on plain dicts in the ARM REST JSON shape of Microsoft.ContainerService
``managedClusters`` (API 2026-08-01): camelCase keys, ``properties.networkProfile`` and
``properties.agentPoolProfiles``. Field names and enum spellings follow the REST specification
(azure-rest-api-specs ``specification/containerservice``, mirrored by azure-mgmt-containerservice 41
``models/_models.py`` / ``_enums.py``).

Only the options the user set (not ``None``) reach the body: fields the user leaves out keep
whatever Azure fills in, and never cause a change.
"""

from __future__ import annotations

import copy
import re

# Canonical (API) spelling of every enum the module exposes. The REST API treats these
# case-insensitively (the SDK enums use CaseInsensitiveEnumMeta), so user input is matched
# case-insensitively and sent in the spelling below.
ENUMS = {
    "plugin": ("azure", "kubenet", "none"),
    "plugin_mode": ("overlay",),
    "dataplane": ("azure", "cilium"),
    "policy": ("none", "calico", "azure", "cilium"),
    "outbound_type": ("loadBalancer", "userDefinedRouting", "managedNATGateway", "userAssignedNATGateway", "none"),
    "load_balancer_sku": ("standard", "basic"),
    "os_type": ("Linux", "Windows"),
    "mode": ("System", "User", "Gateway"),
    "advanced_network_policies": ("FQDN", "L7", "None"),
}

# network option -> key in properties.networkProfile
NETWORK_FIELDS = (
    ("plugin", "networkPlugin"),
    ("plugin_mode", "networkPluginMode"),
    ("dataplane", "networkDataplane"),
    ("policy", "networkPolicy"),
    ("pod_cidr", "podCidr"),
    ("service_cidr", "serviceCidr"),
    ("dns_service_ip", "dnsServiceIP"),
    ("outbound_type", "outboundType"),
    ("load_balancer_sku", "loadBalancerSku"),
)

# system_pool option -> key in properties.agentPoolProfiles[]
POOL_FIELDS = (
    ("name", "name"),
    ("vm_size", "vmSize"),
    ("count", "count"),
    ("max_pods", "maxPods"),
    ("vnet_subnet_id", "vnetSubnetID"),
    ("pod_subnet_id", "podSubnetID"),
    ("os_type", "osType"),
    ("mode", "mode"),
)

# network.advanced_networking option -> path under properties.networkProfile.advancedNetworking
ADVANCED_NETWORKING_FIELDS = (
    ("observability", ("observability", "enabled")),
    ("security", ("security", "enabled")),
    ("advanced_network_policies", ("security", "advancedNetworkPolicies")),
)

NETWORK_PROFILE_PATH = ("properties", "networkProfile")
POOLS_PATH = ("properties", "agentPoolProfiles")

# Defaults the role's ``cluster_cni`` presets fill in. Sources (AKS docs, MicrosoftDocs/azure-aks-docs):
#  - pod CIDRs: configure-kubenet.md (10.244.0.0/16), azure-cni-overlay.md / azure-cni-powered-by-cilium.md
#    (192.168.0.0/16); service CIDR 10.0.0.0/16 and DNS 10.0.0.10 are the AKS defaults (configure-azure-cni.md).
#  - max pods per node: concepts-network-ip-address-planning.md "Maximum pods per node":
#    Azure CNI Overlay 250, Azure CNI Pod Subnet 110, Azure CNI (legacy node subnet) 30, kubenet 110.
#    Azure CNI Powered by Cilium with overlay IPAM uses the overlay default, 250.
PRESETS = {
    "kubenet": {
        "network": {
            "plugin": "kubenet",
            "pod_cidr": "10.244.0.0/16",
            "service_cidr": "10.0.0.0/16",
            "dns_service_ip": "10.0.0.10",
        },
        "max_pods": 110,
    },
    "azure": {
        "network": {
            "plugin": "azure",
            "service_cidr": "10.0.0.0/16",
            "dns_service_ip": "10.0.0.10",
        },
        "max_pods": 30,
    },
    "overlay": {
        "network": {
            "plugin": "azure",
            "plugin_mode": "overlay",
            "pod_cidr": "192.168.0.0/16",
            "service_cidr": "10.0.0.0/16",
            "dns_service_ip": "10.0.0.10",
        },
        "max_pods": 250,
    },
    "cilium": {
        "network": {
            "plugin": "azure",
            "plugin_mode": "overlay",
            "dataplane": "cilium",
            "policy": "cilium",
            "pod_cidr": "192.168.0.0/16",
            "service_cidr": "10.0.0.0/16",
            "dns_service_ip": "10.0.0.10",
        },
        "max_pods": 250,
    },
}


def get_path(data, path, default=None):
    """Value at ``path`` (tuple of keys) in nested dicts, ``default`` when any level is missing or None."""
    node = data
    for key in path:
        if not isinstance(node, dict) or node.get(key) is None:
            return default
        node = node[key]
    return node


def set_path(data, path, value):
    """Set ``value`` at ``path`` in nested dicts, creating the intermediate dicts."""
    node = data
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


def canonical(field, value):
    """The API spelling of enum ``field``'s ``value`` (matched case-insensitively); other values stripped as given."""
    if value is None:
        return None
    text = str(value).strip()
    for choice in ENUMS.get(field, ()):
        if choice.lower() == text.lower():
            return choice
    return text


def _network_options(params):
    return (params or {}).get("network") or {}


def _pool_options(params):
    return (params or {}).get("system_pool") or {}


def build_network_profile(network):
    """ARM ``networkProfile`` dict from the snake_case ``network`` option; only the keys set."""
    network = network or {}
    profile = {}
    for option, key in NETWORK_FIELDS:
        value = network.get(option)
        if value is None:
            continue
        if option in ENUMS:
            value = canonical(option, value)
        elif isinstance(value, str):
            value = value.strip()
        profile[key] = value
    advanced = build_advanced_networking(network.get("advanced_networking"))
    if advanced:
        profile["advancedNetworking"] = advanced
    return profile


def build_advanced_networking(options):
    """ARM ``advancedNetworking`` from ``{observability, security, advanced_network_policies}``; only the keys set.

    ``advancedNetworking.enabled`` turns on the whole Advanced Container Networking Services suite
    (SDK docstring of AdvancedNetworking.enabled). It is sent as true when observability or security
    is requested, as false when the user turned both off, and left out otherwise.
    """
    options = options or {}
    body = {}
    for option, path in ADVANCED_NETWORKING_FIELDS:
        value = options.get(option)
        if value is None:
            continue
        value = canonical(option, value) if option == "advanced_network_policies" else bool(value)
        set_path(body, path, value)
    flags = [options.get(name) for name in ("observability", "security")]
    if any(flag is True for flag in flags):
        body["enabled"] = True
    elif all(flag is False for flag in flags):
        body["enabled"] = False
    return body


def build_agent_pool(pool, mode="System"):
    """ARM ``agentPoolProfiles[]`` entry from the snake_case ``system_pool`` option; only the keys set."""
    pool = pool or {}
    body = {}
    for option, key in POOL_FIELDS:
        value = pool.get(option)
        if option == "mode" and value is None:
            value = mode
        if value is None:
            continue
        if option in ENUMS:
            value = canonical(option, value)
        elif option in ("count", "max_pods"):
            value = int(value)
        elif isinstance(value, str):
            value = value.strip()
        body[key] = value
    return body


def build_desired(params):
    """The desired managed-cluster body from the module's options.

    ``params`` holds the module options (snake_case): ``location``, ``dns_prefix``,
    ``kubernetes_version``, ``tags``, ``system_pool`` and ``network``. Options that are ``None`` are
    left out, so the result names exactly what the user asked for; :func:`compare.compute_update`
    applies it onto the current cluster.
    """
    params = params or {}
    body = {}
    if params.get("location") is not None:
        body["location"] = str(params["location"]).strip()
    if params.get("tags") is not None:
        body["tags"] = {str(k): "" if v is None else str(v) for k, v in params["tags"].items()}
    if params.get("dns_prefix") is not None:
        set_path(body, ("properties", "dnsPrefix"), str(params["dns_prefix"]).strip())
    if params.get("kubernetes_version") is not None:
        set_path(body, ("properties", "kubernetesVersion"), str(params["kubernetes_version"]).strip())
    pool = _pool_options(params)
    if any(value is not None for value in pool.values()):
        set_path(body, POOLS_PATH, [build_agent_pool(pool)])
    profile = build_network_profile(_network_options(params))
    if profile:
        set_path(body, NETWORK_PROFILE_PATH, profile)
    return body


_DNS_PREFIX_INVALID = re.compile(r"[^a-zA-Z0-9-]")


def default_dns_prefix(name):
    """A DNS prefix derived from the cluster name, as ``az aks create`` does: letters, digits, hyphens, at most 54 chars."""
    prefix = _DNS_PREFIX_INVALID.sub("-", str(name)).strip("-")[:54].strip("-")
    if not prefix or not prefix[0].isalnum():
        prefix = f"aks{prefix}"[:54]
    return prefix


def creation_body(desired, name):
    """The PUT body for a new cluster: ``desired`` plus what creation requires and the user did not set.

    Adds a system-assigned managed identity when no identity is given, a DNS prefix derived from
    ``name`` when ``dns_prefix`` is unset, and ``mode: System`` on the first agent pool.
    """
    body = copy.deepcopy(desired)
    body.setdefault("identity", {"type": "SystemAssigned"})
    props = body.setdefault("properties", {})
    if not props.get("dnsPrefix") and not props.get("fqdnSubdomain"):
        props["dnsPrefix"] = default_dns_prefix(name)
    pools = props.get("agentPoolProfiles") or []
    if pools and not pools[0].get("mode"):
        pools[0]["mode"] = "System"
    return body


def apply_preset(preset, network=None, system_pool=None):
    """Merge a ``cluster_cni`` preset under the user's ``network`` / ``system_pool`` options.

    Returns ``(network, system_pool)``: the preset's values wherever the user's value is None;
    ``advanced_networking`` is merged key by key. Raises ValueError for an unknown preset.
    """
    if preset not in PRESETS:
        raise ValueError(f"cluster_cni: unknown preset {preset!r}; choose one of {', '.join(sorted(PRESETS))}")
    base = PRESETS[preset]
    merged_network = dict(base["network"])
    for key, value in (network or {}).items():
        if value is None:
            continue
        if key == "advanced_networking" and isinstance(value, dict):
            current = dict(merged_network.get(key) or {})
            current.update({k: v for k, v in value.items() if v is not None})
            merged_network[key] = current
        else:
            merged_network[key] = value
    merged_pool = {k: v for k, v in (system_pool or {}).items() if v is not None}
    merged_pool.setdefault("max_pods", base["max_pods"])
    return merged_network, merged_pool


def match_pool(pools, desired_pool):
    """Index in ``pools`` of the pool ``desired_pool`` addresses, or None.

    Pools are matched by name (AKS pool names are lowercase; compared case-insensitively). A desired
    pool without a name addresses the cluster's first ``System`` pool (else its first pool).
    """
    pools = pools or []
    name = (desired_pool or {}).get("name")
    if name:
        for index, pool in enumerate(pools):
            if str(pool.get("name", "")).lower() == str(name).lower():
                return index
        return None
    for index, pool in enumerate(pools):
        if str(pool.get("mode", "")).lower() == "system":
            return index
    return 0 if pools else None


def _merge(target, source):
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def apply_desired(current, desired, append_tags=False):
    """The current cluster body with every field of ``desired`` applied; fields ``desired`` lacks keep their value.

    Agent pools are matched with :func:`match_pool` and updated key by key; a desired pool that
    matches none is appended. Tags are replaced by the desired tags, or merged into the current
    ones with ``append_tags``.
    """
    body = copy.deepcopy(current or {})
    desired = desired or {}
    for key, value in desired.items():
        if key == "tags":
            body["tags"] = {**(body.get("tags") or {}), **value} if append_tags else dict(value)
        elif key == "properties":
            props = body.setdefault("properties", {})
            for prop, prop_value in value.items():
                if prop == "agentPoolProfiles":
                    pools = props.setdefault("agentPoolProfiles", [])
                    for wanted in prop_value:
                        index = match_pool(pools, wanted)
                        if index is None:
                            pools.append(copy.deepcopy(wanted))
                        else:
                            _merge(pools[index], wanted)
                elif isinstance(prop_value, dict) and isinstance(props.get(prop), dict):
                    _merge(props[prop], prop_value)
                else:
                    props[prop] = copy.deepcopy(prop_value)
        elif isinstance(value, dict) and isinstance(body.get(key), dict):
            _merge(body[key], value)
        else:
            body[key] = copy.deepcopy(value)
    return body

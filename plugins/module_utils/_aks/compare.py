# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired-versus-current comparison of a managed cluster, and the diff users see. Pure.

Only the fields the user set are compared, each normalised by its kind:

* enum fields (plugin, policy, outbound type, OS type, ...) case-insensitively, as the REST API
  treats them; names are compared as given;
* CIDRs and IP addresses by value (``10.0.0.0/16`` == `` 10.0.0.0/16``; host bits are refused earlier
  by validation), ARM resource ids (subnet ids) and locations case-insensitively;
* counts as integers, tags as dicts of strings, agent pools matched by name;
* a value the server left out compares equal to the default the server applies
  (``networkPolicy`` none, ``networkDataplane`` azure, ``outboundType`` loadBalancer, ...);
* ``kubernetes_version`` ``1.33`` matches a cluster running ``1.33.x``.
"""

from __future__ import annotations

import copy

from ansible_collections.aksnet.networking.plugins.module_utils._aks.cidr import normalise_address, normalise_cidr
from ansible_collections.aksnet.networking.plugins.module_utils._aks.profile import (
    ADVANCED_NETWORKING_FIELDS,
    ENUMS,
    NETWORK_FIELDS,
    NETWORK_PROFILE_PATH,
    POOL_FIELDS,
    POOLS_PATH,
    apply_desired,
    canonical,
    get_path,
    match_pool,
    set_path,
)

# What Azure applies when a field is absent (REST spec enum docs: NetworkPolicy "none" is the default
# when not specified; LoadBalancerSku default "standard"; OSType default Linux; OutboundType default
# loadBalancer; AdvancedNetworking / Security / Observability enabled default false). A missing
# dataplane means the Azure data plane.
SERVER_DEFAULTS = {
    "policy": "none",
    "dataplane": "azure",
    "outbound_type": "loadBalancer",
    "load_balancer_sku": "standard",
    "os_type": "Linux",
    "observability": False,
    "security": False,
    "enabled": False,
}

_CIDR_FIELDS = ("pod_cidr", "service_cidr")
_ID_FIELDS = ("vnet_subnet_id", "pod_subnet_id")
_INT_FIELDS = ("count", "max_pods")
_BOOL_FIELDS = ("observability", "security", "enabled")

# Read-only properties (visibility ["read"] in the REST spec) that must not be sent back in a PUT.
_READ_ONLY_TOP = ("id", "type", "systemData", "eTag")
_READ_ONLY_PROPERTIES = (
    "provisioningState",
    "powerState",
    "maxAgentPools",
    "currentKubernetesVersion",
    "fqdn",
    "privateFQDN",
    "azurePortalFQDN",
    "resourceUID",
)
_READ_ONLY_POOL = ("provisioningState", "currentOrchestratorVersion", "eTag")


def normalise(option, value):
    """Comparable form of ``value`` for the option named ``option`` (leaf name, e.g. ``pod_cidr``)."""
    if value is None:
        return None
    if option in ENUMS:
        return canonical(option, value).lower()
    if option in _CIDR_FIELDS:
        return normalise_cidr(value)
    if option == "dns_service_ip":
        return normalise_address(value)
    if option in _ID_FIELDS:
        # ARM resource ids are case-insensitive.
        return str(value).strip().rstrip("/").lower()
    if option == "vm_size":
        # VM size names are SKU names, matched case-insensitively by Azure.
        return str(value).strip().lower()
    if option in _INT_FIELDS:
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if option in _BOOL_FIELDS:
        return bool(value)
    if option == "location":
        return str(value).replace(" ", "").lower()
    if option == "dns_prefix":
        return str(value).strip().lower()
    if option == "tags":
        return {str(k): "" if v is None else str(v) for k, v in (value or {}).items()}
    return str(value).strip() if isinstance(value, str) else value


def _have_or_default(option, have, security_enabled=False):
    if have is not None:
        return have
    if option == "advanced_network_policies":
        # AdvancedNetworkingSecurity.advancedNetworkPolicies: "the default value is FQDN if security.enabled is set to true".
        return "FQDN" if security_enabled else "None"
    return SERVER_DEFAULTS.get(option)


def versions_match(have, want, running=None):
    """True when the requested ``want`` version is what the cluster has: equal, or a prefix (``1.33`` of ``1.33.2``)."""
    if want is None:
        return True
    want_parts = str(want).strip().split(".")
    for candidate in (have, running):
        if candidate is None:
            continue
        parts = str(candidate).strip().split(".")
        if parts[: len(want_parts)] == want_parts:
            return True
    return False


def _fields():
    """(label path, ARM path, option) for every scalar field outside the agent pools."""
    fields = [
        (("location",), ("location",), "location"),
        (("dns_prefix",), ("properties", "dnsPrefix"), "dns_prefix"),
    ]
    for option, key in NETWORK_FIELDS:
        fields.append((("network", option), (*NETWORK_PROFILE_PATH, key), option))
    advanced = (*NETWORK_PROFILE_PATH, "advancedNetworking")
    fields.append((("network", "advanced_networking", "enabled"), (*advanced, "enabled"), "enabled"))
    for option, path in ADVANCED_NETWORKING_FIELDS:
        fields.append((("network", "advanced_networking", option), (*advanced, *path), option))
    return fields


def strip_read_only(body):
    """Copy of a cluster body without the read-only properties a PUT must not carry."""
    body = copy.deepcopy(body or {})
    for key in _READ_ONLY_TOP:
        body.pop(key, None)
    identity = body.get("identity")
    if isinstance(identity, dict):
        identity.pop("principalId", None)
        identity.pop("tenantId", None)
    props = body.get("properties")
    if isinstance(props, dict):
        for key in _READ_ONLY_PROPERTIES:
            props.pop(key, None)
        for pool in props.get("agentPoolProfiles") or []:
            for key in _READ_ONLY_POOL:
                pool.pop(key, None)
        profile = props.get("networkProfile") or {}
        for sub in ("loadBalancerProfile", "natGatewayProfile"):
            if isinstance(profile.get(sub), dict):
                profile[sub].pop("effectiveOutboundIPs", None)
    return body


def compute_update(current, desired, append_tags=False):
    """Compare the user's ``desired`` fields with the ``current`` cluster.

    Returns ``(changed, patched_body, diff)``:

    * ``changed``: True when any field the user set differs after normalisation;
    * ``patched_body``: the body to PUT, i.e. the current cluster (read-only properties removed)
      with only the differing user fields applied, so everything else keeps the server's value;
    * ``diff``: ``{"before": {...}, "after": {...}}`` holding only the differing fields, nested
      by option name (``network: {pod_cidr: ...}``, ``system_pool: {count: ...}``, ``tags``).

    ``desired`` comes from :func:`profile.build_desired`. With ``append_tags`` the desired tags
    are merged into the current ones instead of replacing them.
    """
    current = current or {}
    desired = desired or {}
    delta = {}
    before = {}
    after = {}

    def record(label, arm_path, have, want):
        set_path(delta, arm_path, copy.deepcopy(want))
        set_path(before, label, copy.deepcopy(have))
        set_path(after, label, copy.deepcopy(want))

    security_enabled = bool(get_path(current, (*NETWORK_PROFILE_PATH, "advancedNetworking", "security", "enabled")))
    for label, arm_path, option in _fields():
        want = get_path(desired, arm_path)
        if want is None:
            continue
        have = get_path(current, arm_path)
        if normalise(option, _have_or_default(option, have, security_enabled)) != normalise(option, want):
            record(label, arm_path, have, want)

    want_version = get_path(desired, ("properties", "kubernetesVersion"))
    have_version = get_path(current, ("properties", "kubernetesVersion"))
    running = get_path(current, ("properties", "currentKubernetesVersion"))
    if not versions_match(have_version, want_version, running):
        record(("kubernetes_version",), ("properties", "kubernetesVersion"), running or have_version, want_version)

    if desired.get("tags") is not None:
        have_tags = normalise("tags", current.get("tags") or {})
        want_tags = normalise("tags", {**have_tags, **desired["tags"]} if append_tags else desired["tags"])
        if have_tags != want_tags:
            delta["tags"] = want_tags
            before["tags"] = have_tags
            after["tags"] = want_tags

    pools = get_path(current, POOLS_PATH, []) or []
    wanted_pools = get_path(desired, POOLS_PATH, []) or []
    delta_pools = []
    for wanted in wanted_pools:
        prefix = ("system_pool",) if len(wanted_pools) == 1 else ("agent_pools", str(wanted.get("name")))
        index = match_pool(pools, wanted)
        if index is None:
            delta_pools.append(copy.deepcopy(wanted))
            set_path(before, prefix, None)
            set_path(after, prefix, {option: wanted[key] for option, key in POOL_FIELDS if key in wanted})
            continue
        have = pools[index]
        changes = {}
        for option, key in POOL_FIELDS:
            want = wanted.get(key)
            if want is None or option == "name":
                continue
            if normalise(option, _have_or_default(option, have.get(key))) != normalise(option, want):
                changes[key] = want
                set_path(before, (*prefix, option), copy.deepcopy(have.get(key)))
                set_path(after, (*prefix, option), copy.deepcopy(want))
        if changes:
            delta_pools.append({"name": have.get("name"), **changes})
    if delta_pools:
        set_path(delta, POOLS_PATH, delta_pools)

    changed = bool(before or after)
    patched = strip_read_only(apply_desired(current, delta))
    return changed, patched, {"before": before, "after": after}


def diff_paths(diff):
    """Dotted option paths of the fields in a :func:`compute_update` diff, sorted (``network.pod_cidr``, ``tags``)."""
    paths = []

    def walk(node, prefix):
        if isinstance(node, dict) and node and prefix and prefix[0] != "tags":
            for key, value in node.items():
                walk(value, (*prefix, key))
        elif isinstance(node, dict) and node and not prefix:
            for key, value in node.items():
                walk(value, (key,))
        else:
            paths.append(".".join(prefix))

    walk((diff or {}).get("after") or {}, ())
    walk((diff or {}).get("before") or {}, ())
    return sorted(set(paths))

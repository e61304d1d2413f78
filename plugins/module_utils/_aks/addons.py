# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AKS add-ons: option names to ARM ``addonProfiles`` keys, validation of the add-on options, and the
desired-vs-current comparison and PUT body of an enable / disable. Pure.

Enabling an add-on is what ``az aks enable-addons`` does: GET the managed cluster, change its
``addonProfiles`` entry (web app routing: ``ingressProfile.webAppRouting``), PUT it back.
"""

from __future__ import annotations

import copy
import ipaddress
import re

from ansible_collections.aksnet.networking.plugins.module_utils._aks.compare import strip_read_only
from ansible_collections.aksnet.networking.plugins.module_utils._kube.names import DNS1123_LABEL

# option value -> addonProfiles key (the names az aks enable-addons takes, with '_' for '-')
ADDON_KEYS = {
    "ingress_appgw": "ingressApplicationGateway",
    "monitoring": "omsagent",
    "azure_policy": "azurepolicy",
    "azure_keyvault_secrets_provider": "azureKeyvaultSecretsProvider",
    "http_application_routing": "httpApplicationRouting",
    "open_service_mesh": "openServiceMesh",
    "confcom": "ACCSGXDevicePlugin",
    "virtual_node": "aciConnectorLinux",
    "kube_dashboard": "kubeDashboard",
}
WEB_APP_ROUTING = "web_app_routing"
# read-only fields Azure fills in an add-on's config
READ_ONLY_CONFIG = ("effectiveApplicationGatewayId",)
APPGW_OPTIONS = ("appgw_name", "appgw_subnet_cidr", "appgw_subnet_id", "appgw_id", "watch_namespace")
_ARM_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_APPGW_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/applicationGateways/[^/]+$", re.IGNORECASE)
_SUBNET_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+$", re.IGNORECASE)
_APPGW_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,78}[A-Za-z0-9_])?$")


def addon_key(addon):
    """The ARM key of ``addon`` (an option name above, or an ARM key given as is); None for web app routing."""
    if addon == WEB_APP_ROUTING:
        return None
    return ADDON_KEYS.get(addon, addon)


def _str(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def validate(params):
    """(errors, warnings) of the add-on options, before any request."""
    errors, warnings = [], []
    addon = params.get("addon") or ""
    present = params.get("state", "present") == "present"
    if addon not in ADDON_KEYS and addon != WEB_APP_ROUTING and not _ARM_KEY.match(addon):
        errors.append(
            f"addon: {addon!r} is neither a known add-on ({', '.join(sorted([*ADDON_KEYS, WEB_APP_ROUTING]))}) nor an ARM addonProfiles key "
            "(letters and digits, e.g. azureKeyvaultSecretsProvider)."
        )
    given = [o for o in APPGW_OPTIONS if params.get(o)]
    if addon != "ingress_appgw" and addon_key(addon) != "ingressApplicationGateway" and given:
        errors.append(f"{', '.join(given)}: only apply to addon ingress_appgw (got addon {addon!r}).")
    if addon == "ingress_appgw" or addon_key(addon) == "ingressApplicationGateway":
        new = [o for o in ("appgw_name", "appgw_subnet_cidr", "appgw_subnet_id") if params.get(o)]
        if params.get("appgw_id") and new:
            errors.append(
                f"appgw_id and {', '.join(new)} are mutually exclusive: appgw_id uses an existing Application Gateway, "
                "appgw_name with appgw_subnet_cidr (or appgw_subnet_id) has AKS create a new one. Pass one set."
            )
        if params.get("appgw_subnet_cidr") and params.get("appgw_subnet_id"):
            errors.append("appgw_subnet_cidr and appgw_subnet_id are mutually exclusive: a new subnet by CIDR, or an existing subnet by id.")
        if (params.get("appgw_subnet_cidr") or params.get("appgw_subnet_id")) and not params.get("appgw_name"):
            errors.append("appgw_subnet_cidr / appgw_subnet_id need appgw_name: the name of the Application Gateway AKS creates in that subnet.")
        config = params.get("config") or {}
        if present and not (params.get("appgw_id") or params.get("appgw_name") or config.get("applicationGatewayId") or config.get("applicationGatewayName")):
            errors.append(
                "addon ingress_appgw needs an Application Gateway: appgw_name + appgw_subnet_cidr (AKS creates a new one) "
                "or appgw_id (an existing one)."
            )
        if params.get("appgw_name") and not _APPGW_NAME.match(str(params["appgw_name"])):
            errors.append(
                f"appgw_name: {params['appgw_name']!r} is not a valid Application Gateway name "
                "(1-80 letters, digits, '.', '-', '_'; starts with a letter or digit, ends with a letter, digit or '_')."
            )
        if params.get("appgw_id") and not _APPGW_ID.match(str(params["appgw_id"]).strip()):
            errors.append(
                f"appgw_id: {params['appgw_id']!r} must be the resource id of an Application Gateway "
                "(/subscriptions/S/resourceGroups/R/providers/Microsoft.Network/applicationGateways/NAME)."
            )
        if params.get("appgw_subnet_id") and not _SUBNET_ID.match(str(params["appgw_subnet_id"]).strip()):
            errors.append(f"appgw_subnet_id: {params['appgw_subnet_id']!r} must be a subnet resource id (.../virtualNetworks/V/subnets/S).")
        cidr_text = params.get("appgw_subnet_cidr")
        if cidr_text:
            try:
                cidr = ipaddress.ip_network(str(cidr_text).strip(), strict=True)
            except ValueError:
                errors.append(f"appgw_subnet_cidr: {cidr_text!r} is not a CIDR with the host bits zero (for example 10.225.0.0/24).")
            else:
                if cidr.version != 4:
                    errors.append(f"appgw_subnet_cidr: {cidr_text} must be IPv4.")
                elif cidr.prefixlen > 26:
                    errors.append(
                        f"appgw_subnet_cidr: {cidr_text} is too small; an Application Gateway v2 subnet needs at least a /26 (Microsoft recommends /24)."
                    )
                elif cidr.prefixlen > 24:
                    warnings.append(f"appgw_subnet_cidr: {cidr_text} leaves little room to scale out; Microsoft recommends a /24 for Application Gateway v2.")
        for namespace in str(params.get("watch_namespace") or "").split(","):
            namespace = namespace.strip()
            if params.get("watch_namespace") and (not namespace or not DNS1123_LABEL.match(namespace) or len(namespace) > 63):
                errors.append(f"watch_namespace: {params['watch_namespace']!r} must be namespace names separated by commas (got {namespace!r}).")
                break
    return errors, warnings


def desired_config(params):
    """The add-on's ``config`` the options ask for (strings, as ARM stores them)."""
    config = {k: _str(v) for k, v in (params.get("config") or {}).items()} if params.get("addon") != WEB_APP_ROUTING else {}
    mapping = (("appgw_name", "applicationGatewayName"), ("appgw_subnet_cidr", "subnetCIDR"), ("appgw_subnet_id", "subnetId"),
               ("appgw_id", "applicationGatewayId"), ("watch_namespace", "watchNamespace"))
    for option, key in mapping:
        if params.get(option):
            config[key] = str(params[option]).strip()
    return config


def current_state(cluster, addon):
    """``{enabled, config}`` of ``addon`` on a managed cluster body (REST keys); config without read-only keys."""
    props = (cluster or {}).get("properties") or {}
    if addon == WEB_APP_ROUTING:
        routing = (props.get("ingressProfile") or {}).get("webAppRouting") or {}
        config = {k: copy.deepcopy(v) for k, v in routing.items() if k not in ("enabled", "identity")}
        return {"enabled": bool(routing.get("enabled")), "config": config}
    profiles = props.get("addonProfiles") or {}
    key = addon_key(addon)
    profile = next((v for k, v in profiles.items() if k.lower() == key.lower()), None) or {}
    return {"enabled": bool(profile.get("enabled")), "config": dict(profile.get("config") or {})}


def _config_matches(want, have):
    for key, value in want.items():
        if key not in have:
            return False
        if isinstance(value, (list, dict)):
            if value != have[key]:
                return False
        elif _str(value) != _str(have[key]):
            return False
    return True


def plan(cluster, params):
    """(changed, before, after) for the add-on on ``cluster``: before/after are ``{enabled, config}``."""
    addon = params["addon"]
    before = current_state(cluster, addon)
    enable = params.get("state", "present") == "present"
    if not enable:
        after = {"enabled": False, "config": before["config"]}
        return before["enabled"], before, after
    want = copy.deepcopy(params.get("config") or {}) if addon == WEB_APP_ROUTING else desired_config(params)
    if before["enabled"] and _config_matches(want, before["config"]):
        # an existing gateway swapped for a new one (or back) replaces the gateway keys
        return False, before, before
    config = dict(before["config"]) if before["enabled"] else {}
    if addon == "ingress_appgw" or addon_key(addon) == "ingressApplicationGateway":
        if "applicationGatewayId" in want:
            for key in ("applicationGatewayName", "subnetCIDR", "subnetId", "subnetPrefix"):
                config.pop(key, None)
        if "applicationGatewayName" in want:
            config.pop("applicationGatewayId", None)
        if "subnetCIDR" in want:
            config.pop("subnetId", None)
        if "subnetId" in want:
            config.pop("subnetCIDR", None)
    for key in READ_ONLY_CONFIG:
        config.pop(key, None)
    config.update(want)
    return True, before, {"enabled": True, "config": config}


def update_body(cluster, params, after):
    """The managed-cluster PUT body with the add-on set to ``after`` (read-only fields stripped)."""
    body = strip_read_only(cluster)
    props = body.setdefault("properties", {})
    for profile in (props.get("addonProfiles") or {}).values():
        if isinstance(profile, dict):
            profile.pop("identity", None)  # read-only: Azure fills it
            for key in READ_ONLY_CONFIG:
                (profile.get("config") or {}).pop(key, None)
    routing = (props.get("ingressProfile") or {}).get("webAppRouting")
    if isinstance(routing, dict):
        routing.pop("identity", None)
    addon = params["addon"]
    if addon == WEB_APP_ROUTING:
        routing = props.setdefault("ingressProfile", {}).setdefault("webAppRouting", {})
        for key in [k for k in routing if k != "enabled"]:
            if key not in after["config"]:
                routing.pop(key)
        routing.update(copy.deepcopy(after["config"]))
        routing["enabled"] = after["enabled"]
        return body
    profiles = props.setdefault("addonProfiles", {})
    key = addon_key(addon)
    existing = next((k for k in profiles if k.lower() == key.lower()), key)
    profile = {"enabled": after["enabled"]}
    if after["config"]:
        profile["config"] = dict(after["config"])
    profiles[existing] = profile
    return body

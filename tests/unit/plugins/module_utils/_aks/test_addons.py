# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.aksnet.networking.plugins.module_utils._aks import addons

GATEWAY = "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/applicationGateways/shared"


def cluster(addon_profiles=None, ingress_profile=None):
    props = {
        "provisioningState": "Succeeded", "fqdn": "x.hcp", "kubernetesVersion": "1.33",
        "agentPoolProfiles": [{"name": "system", "count": 3, "provisioningState": "Succeeded"}],
        "addonProfiles": addon_profiles or {},
    }
    if ingress_profile is not None:
        props["ingressProfile"] = ingress_profile
    return {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks", "location": "westeurope",
            "identity": {"type": "SystemAssigned", "principalId": "p"}, "properties": props}


def p(**over):
    base = {"addon": "ingress_appgw", "state": "present"}
    base.update(over)
    return base


def test_keys():
    assert addons.addon_key("ingress_appgw") == "ingressApplicationGateway"
    assert addons.addon_key("monitoring") == "omsagent"
    assert addons.addon_key("azure_keyvault_secrets_provider") == "azureKeyvaultSecretsProvider"
    assert addons.addon_key("azurepolicy") == "azurepolicy"


def test_validation_errors_name_the_options():
    errors, _w = addons.validate(p(appgw_id=GATEWAY, appgw_name="gw", appgw_subnet_cidr="10.225.0.1/24"))
    text = " ".join(errors)
    assert "appgw_id and appgw_name, appgw_subnet_cidr are mutually exclusive" in text
    assert "'10.225.0.1/24' is not a CIDR with the host bits zero" in text
    errors, _w = addons.validate(p())
    assert "needs an Application Gateway" in errors[0]
    errors, _w = addons.validate(p(addon="web_app_routing", watch_namespace="shop"))
    assert "watch_namespace: only apply to addon ingress_appgw" in errors[0]
    errors, _w = addons.validate(p(appgw_name="gw", appgw_subnet_cidr="10.225.0.0/28"))
    assert "at least a /26" in errors[0]
    errors, _w = addons.validate(p(appgw_id="/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v"))
    assert "must be the resource id of an Application Gateway" in errors[0]
    assert addons.validate(p(addon="no such!"))[0]


def test_enable_new_gateway_then_unchanged():
    params = p(appgw_name="gw", appgw_subnet_cidr="10.225.0.0/24")
    changed, before, after = addons.plan(cluster(), params)
    assert changed and before == {"enabled": False, "config": {}}
    assert after == {"enabled": True, "config": {"applicationGatewayName": "gw", "subnetCIDR": "10.225.0.0/24"}}
    body = addons.update_body(cluster(), params, after)
    assert body["properties"]["addonProfiles"]["ingressApplicationGateway"] == {"enabled": True, "config": after["config"]}
    assert "provisioningState" not in body["properties"] and "fqdn" not in body["properties"]
    assert "principalId" not in body["identity"]
    enabled = cluster({"ingressApplicationGateway": {"enabled": True, "identity": {"clientId": "c"},
                                                     "config": {**after["config"], "effectiveApplicationGatewayId": GATEWAY}}})
    assert addons.plan(enabled, params)[0] is False


def test_switch_to_existing_gateway_drops_the_new_gateway_keys():
    enabled = cluster({"ingressApplicationGateway": {"enabled": True, "identity": {"clientId": "c"},
                                                     "config": {"applicationGatewayName": "gw", "subnetCIDR": "10.225.0.0/24",
                                                                "effectiveApplicationGatewayId": "x"}}})
    changed, _before, after = addons.plan(enabled, p(appgw_id=GATEWAY, watch_namespace="shop"))
    assert changed
    assert after["config"] == {"applicationGatewayId": GATEWAY, "watchNamespace": "shop"}
    body = addons.update_body(enabled, p(appgw_id=GATEWAY), after)
    assert "identity" not in body["properties"]["addonProfiles"]["ingressApplicationGateway"]


def test_disable_keeps_config_and_is_idempotent():
    enabled = cluster({"azurepolicy": {"enabled": True, "config": {"version": "v2"}}})
    changed, _b, after = addons.plan(enabled, {"addon": "azure_policy", "state": "absent"})
    assert changed and after == {"enabled": False, "config": {"version": "v2"}}
    assert addons.plan(cluster(), {"addon": "azure_policy", "state": "absent"})[0] is False


def test_web_app_routing_is_the_ingress_profile():
    params = {"addon": "web_app_routing", "state": "present"}
    changed, _b, after = addons.plan(cluster(), params)
    assert changed
    body = addons.update_body(cluster(), params, after)
    assert body["properties"]["ingressProfile"] == {"webAppRouting": {"enabled": True}}
    on = cluster(ingress_profile={"webAppRouting": {"enabled": True, "identity": {"clientId": "c"}}})
    assert addons.plan(on, params)[0] is False


def test_config_values_compare_as_strings():
    on = cluster({"omsagent": {"enabled": True, "config": {"useAADAuth": "true"}}})
    assert addons.plan(on, {"addon": "monitoring", "state": "present", "config": {"useAADAuth": True}})[0] is False

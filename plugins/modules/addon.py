#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: addon
short_description: Enable or disable an add-on of an AKS cluster (AGIC, application routing, and the others)
version_added: 0.1.0
description:
  - Enables or disables one add-on of an existing AKS cluster the way C(az aks enable-addons) does - a GET of the managed cluster,
    the changed C(addonProfiles) entry (for V(web_app_routing) C(ingressProfile.webAppRouting)), a PUT of the cluster - and waits
    for the long-running operation.
  - V(ingress_appgw) (the Application Gateway Ingress Controller) takes O(appgw_name) with O(appgw_subnet_cidr) or O(appgw_subnet_id)
    for a new gateway AKS creates, or O(appgw_id) for an existing one; O(watch_namespace) limits the namespaces it watches.
  - V(web_app_routing) is the AKS-managed NGINX (application routing, IngressClass C(webapprouting.kubernetes.azure.com)).
  - Other add-ons by their option name (V(monitoring), V(azure_policy), V(azure_keyvault_secrets_provider), V(http_application_routing),
    V(open_service_mesh), V(confcom), V(virtual_node), V(kube_dashboard)) or their ARM C(addonProfiles) key as is; their settings go in O(config).
  - Only the settings given are compared; an unchanged add-on sends nothing.
author:
  - aksnet.networking contributors (@aksnet)
options:
  resource_group:
    description: Resource group of the cluster.
    type: str
    required: true
  name:
    description: Name of the cluster.
    type: str
    required: true
  addon:
    description: The add-on, by option name (see the description) or ARM C(addonProfiles) key.
    type: str
    required: true
  state:
    description: V(present) enables the add-on, V(absent) disables it.
    type: str
    choices: [present, absent]
    default: present
  appgw_name:
    description: Name of the new Application Gateway AKS creates for V(ingress_appgw).
    type: str
  appgw_subnet_cidr:
    description: CIDR of the new subnet (in the cluster's VNet) for the new gateway; at least a /26, a /24 recommended.
    type: str
  appgw_subnet_id:
    description: Resource id of an existing subnet for the new gateway.
    type: str
  appgw_id:
    description:
      - Resource id of an existing Application Gateway for V(ingress_appgw).
      - Mutually exclusive with O(appgw_name), O(appgw_subnet_cidr), O(appgw_subnet_id).
    type: str
  watch_namespace:
    description: Namespaces (comma-separated) AGIC watches; default all.
    type: str
  config:
    description:
      - Raw settings of the add-on (C(addonProfiles.<key>.config), strings), or for V(web_app_routing) fields of
        C(ingressProfile.webAppRouting) such as C(dnsZoneResourceIds).
    type: dict
  wait:
    description: Wait for Azure's long-running operation.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the operation.
    type: int
    default: 900
  wait_for_controller:
    description:
      - For V(ingress_appgw) (C(kube-system/ingress-appgw-deployment)) and V(web_app_routing) (C(app-routing-system/nginx)), wait until the
        add-on's controller Deployment in the cluster is ready (needs Kubernetes credentials, see the Kubernetes options).
      - Read-only; also when the add-on was already enabled. Not in check mode.
    type: bool
    default: false
  controller_wait_timeout:
    description: Seconds to wait for the controller.
    type: int
    default: 300
extends_documentation_fragment:
  - aksnet.networking.azure
  - aksnet.networking.kubernetes
  - aksnet.networking.attributes
attributes:
  check_mode:
    support: full
    details: Reads only; C(changed) and the diff say what would be sent.
  diff_mode:
    support: full
  idempotent:
    support: full
requirements:
  - azure-mgmt-containerservice >= 41.0.0
"""

EXAMPLES = r"""
- name: AGIC with a new Application Gateway in a new subnet
  aksnet.networking.addon:
    resource_group: platform-rg
    name: prod-aks
    addon: ingress_appgw
    appgw_name: prod-appgw
    appgw_subnet_cidr: 10.225.0.0/24

- name: AGIC with an existing gateway, watching one namespace
  aksnet.networking.addon:
    resource_group: platform-rg
    name: prod-aks
    addon: ingress_appgw
    appgw_id: /subscriptions/0000/resourceGroups/network-rg/providers/Microsoft.Network/applicationGateways/shared-appgw
    watch_namespace: shop

- name: The AKS-managed NGINX (application routing)
  aksnet.networking.addon:
    resource_group: platform-rg
    name: prod-aks
    addon: web_app_routing

- name: Disable Azure Policy
  aksnet.networking.addon:
    resource_group: platform-rg
    name: prod-aks
    addon: azure_policy
    state: absent
"""

RETURN = r"""
addon:
  description: The add-on after the run (in check mode, as it would be).
  returned: always
  type: dict
  contains:
    key:
      description: ARM key (C(addonProfiles) key, or C(ingressProfile.webAppRouting)).
      type: str
      sample: ingressApplicationGateway
    enabled:
      description: Whether the add-on is enabled.
      type: bool
    config:
      description: Its settings, including what Azure fills (for AGIC C(effectiveApplicationGatewayId)).
      type: dict
    identity:
      description: The managed identity Azure created for the add-on, when it has one.
      type: dict
cluster:
  description: Cluster facts after the run (as aksnet.networking.cluster_info returns them).
  returned: always
  type: dict
controller:
  description: The add-on's controller Deployment once ready (namespace, name, replicas, ready_replicas).
  returned: with O(wait_for_controller)
  type: dict
  sample: {namespace: kube-system, name: ingress-appgw-deployment, replicas: 1, ready_replicas: 1}
"""

from ansible_collections.aksnet.networking.plugins.module_utils._aks.addons import WEB_APP_ROUTING, addon_key, plan, update_body, validate
from ansible_collections.aksnet.networking.plugins.module_utils._aks.facts import cluster_facts
from ansible_collections.aksnet.networking.plugins.module_utils._azure.lro import wait_for
from ansible_collections.aksnet.networking.plugins.module_utils._kube.apply import wait_for as wait_until
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure

POLL_SECONDS = 15
# add-on -> (namespace, Deployment) of its controller in the cluster
CONTROLLERS = {"ingress_appgw": ("kube-system", "ingress-appgw-deployment"), WEB_APP_ROUTING: ("app-routing-system", "nginx")}
TRANSITIONAL = ("creating", "updating", "deleting", "upgrading", "scaling", "starting", "stopping")


def _addon_result(cluster, addon):
    props = (cluster or {}).get("properties") or {}
    if addon == WEB_APP_ROUTING:
        routing = (props.get("ingressProfile") or {}).get("webAppRouting") or {}
        return {"key": "ingressProfile.webAppRouting", "enabled": bool(routing.get("enabled")),
                "config": {k: v for k, v in routing.items() if k not in ("enabled", "identity")}, "identity": routing.get("identity")}
    key = addon_key(addon)
    profiles = props.get("addonProfiles") or {}
    found = next((k for k in profiles if k.lower() == key.lower()), key)
    profile = profiles.get(found) or {}
    return {"key": found, "enabled": bool(profile.get("enabled")), "config": dict(profile.get("config") or {}), "identity": profile.get("identity")}


def wait_controller(mod, addon):
    """Wait until the add-on's controller Deployment is ready; returns its replica counts."""
    namespace, name = CONTROLLERS[addon]
    client = mod.kube()

    def check():
        deployment = client.get("apps/v1", "deployments", name, namespace)
        if deployment is None:
            return False, "the Deployment does not exist yet"
        status = deployment.get("status") or {}
        wanted = int((deployment.get("spec") or {}).get("replicas", 1))
        ready = int(status.get("readyReplicas") or 0)
        state = {"namespace": namespace, "name": name, "replicas": wanted, "ready_replicas": ready}
        done = ready >= wanted
        return done, (state if done else f"{ready}/{wanted} replicas ready")

    what = f"the {addon} controller (Deployment {namespace}/{name}) to be ready"
    return wait_until(check, mod.params["controller_wait_timeout"], what, interval=1.0)


def run(mod):
    params = mod.params
    if params["wait_for_controller"] and (params["addon"] not in CONTROLLERS or params["state"] != "present"):
        raise ModuleFailure(f"wait_for_controller applies to state present of addon {' or '.join(CONTROLLERS)} (got addon {params['addon']!r}, "
                            f"state {params['state']}).")
    if params["wait_timeout"] < 1:
        raise ModuleFailure(f"wait_timeout {params['wait_timeout']} must be at least 1 second.")
    errors, warnings = validate(params)
    if errors:
        raise ModuleFailure("Invalid addon options (nothing was sent): " + " ".join(errors), errors=errors)
    for text in warnings:
        mod.warn(text)
    client = mod.azure("containerservice")
    from azure.core.exceptions import ResourceNotFoundError  # pylint: disable=import-outside-toplevel

    try:
        cluster = client.managed_clusters.get(params["resource_group"], params["name"]).as_dict()
    except ResourceNotFoundError:
        raise ModuleFailure(f"cluster {params['name']!r} was not found in resource group {params['resource_group']!r}: "
                            "create it first (aksnet.networking.cluster) or correct name / resource_group.") from None
    changed, before, after = plan(cluster, params)
    result = {"changed": changed, "diff": {"before": before, "after": after}}
    if not changed or mod.check_mode:
        current = _addon_result(cluster, params["addon"])
        if changed:
            current.update({"enabled": after["enabled"], "config": after["config"]})
        result.update({"addon": current, "cluster": cluster_facts(cluster)})
        if params["wait_for_controller"] and not mod.check_mode:
            result["controller"] = wait_controller(mod, params["addon"])
        return result
    state = str((cluster.get("properties") or {}).get("provisioningState") or "")
    if state.lower() in TRANSITIONAL:
        mod.warn(f"cluster {params['name']} is {state}; Azure refuses a new operation until it finishes (OperationNotAllowed).")
    body = update_body(cluster, params, after)
    verb = "enable" if after["enabled"] else "disable"
    what = f"{verb} add-on {params['addon']} on AKS cluster {params['name']} in {params['resource_group']}"
    kwargs = {"polling_interval": POLL_SECONDS} if params["wait"] else {"polling": False}
    poller = client.managed_clusters.begin_create_or_update(params["resource_group"], params["name"], body, **kwargs)
    if params["wait"]:
        updated = wait_for(poller, what, params["wait_timeout"])
        final = updated.as_dict() if updated is not None else client.managed_clusters.get(params["resource_group"], params["name"]).as_dict()
        state = str((final.get("properties") or {}).get("provisioningState") or "")
        if state.lower() == "failed":
            raise ModuleFailure(f"Azure's operation to {what} ended with the cluster in provisioning state Failed; see the cluster's activity log.")
    else:
        final = poller.result() if poller.done() else None
        final = final.as_dict() if final is not None else body
    result.update({"addon": _addon_result(final, params["addon"]), "cluster": cluster_facts(final)})
    if params["wait_for_controller"]:
        result["controller"] = wait_controller(mod, params["addon"])
    return result


def main():
    mod = AksnetModule(
        {
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "addon": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "appgw_name": {"type": "str"},
            "appgw_subnet_cidr": {"type": "str"},
            "appgw_subnet_id": {"type": "str"},
            "appgw_id": {"type": "str"},
            "watch_namespace": {"type": "str"},
            "config": {"type": "dict"},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 900},
            "wait_for_controller": {"type": "bool", "default": False},
            "controller_wait_timeout": {"type": "int", "default": 300},
        },
        auth="both",
        libraries=("azure.identity", "azure.mgmt.containerservice"),
    )
    mod.run(run, f"change add-on {mod.params['addon']} of AKS cluster {mod.params['name']}")


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: public_ip
short_description: A static Standard public IP for an AKS load balancer, by default in the node resource group
version_added: 0.1.0
description:
  - Creates, updates or deletes a Standard SKU public IPv4 address with static allocation, the kind an AKS load balancer accepts.
  - By default the address goes into the cluster's node resource group (O(cluster) + O(cluster_resource_group); the group is
    looked up), where the Azure cloud provider finds it without further annotations. With O(resource_group) it goes elsewhere;
    then a Service using it needs the C(azure-load-balancer-resource-group) annotation (O(aksnet.networking.lb_service#module:ip_resource_group)).
  - O(state=absent) refuses to delete an address that a load balancer frontend still uses (a Service would lose its address),
    unless O(force).
author:
  - aksnet.networking contributors (@aksnet)
options:
  name:
    description: Name of the public IP resource.
    type: str
    required: true
  resource_group:
    description: Resource group of the address. Mutually exclusive with O(cluster).
    type: str
  cluster:
    description: Name of the AKS cluster whose node resource group holds the address. Needs O(cluster_resource_group).
    type: str
  cluster_resource_group:
    description: Resource group of O(cluster).
    type: str
  location:
    description: Azure region; default the cluster's region, or the resource group's.
    type: str
  zones:
    description: Availability zones of the address (for example V(["1", "2", "3"]) for zone-redundant). Cannot change later.
    type: list
    elements: str
  tags:
    description: Tags; when given they replace the address's tags.
    type: dict
  domain_name_label:
    description: DNS label (C(LABEL.REGION.cloudapp.azure.com)).
    type: str
  state:
    description: V(present) or V(absent).
    type: str
    choices: [present, absent]
    default: present
  force:
    description: With O(state=absent), send the delete even though a load balancer frontend uses the address (Azure refuses it while attached).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for Azure's long-running operation.
    type: int
    default: 300
extends_documentation_fragment:
  - aksnet.networking.azure
  - aksnet.networking.attributes
attributes:
  check_mode:
    support: full
    details: Reads only; C(changed) and the diff say what would be done.
  diff_mode:
    support: full
  idempotent:
    support: full
requirements:
  - azure-mgmt-network >= 28.0.0
  - azure-mgmt-containerservice >= 41.0.0 (with O(cluster))
"""

EXAMPLES = r"""
- name: Static IP in the cluster's node resource group
  aksnet.networking.public_ip:
    name: web-ip
    cluster: prod-aks
    cluster_resource_group: platform-rg
  register: pip

- name: Use it for a Service
  aksnet.networking.lb_service:
    name: web
    selector: {app: web}
    ports: [{port: 80, target_port: 8080}]
    static_ip: "{{ pip.address }}"

- name: Zone-redundant address in a shared network resource group
  aksnet.networking.public_ip:
    name: ingress-ip
    resource_group: network-rg
    location: westeurope
    zones: ["1", "2", "3"]
"""

RETURN = r"""
address:
  description: The IPv4 address; null when absent (or not yet created, in check mode).
  returned: always
  type: str
  sample: 20.61.14.8
id:
  description: ARM resource id.
  returned: always
  type: str
resource_group:
  description: Resource group of the address (the node resource group with O(cluster)).
  returned: always
  type: str
used_by:
  description: Id of the load balancer frontend IP configuration using the address, if any.
  returned: always
  type: str
public_ip:
  description: The public IP resource as ARM returns it (REST keys); null when absent.
  returned: always
  type: dict
"""

from ansible_collections.aksnet.networking.plugins.module_utils._azure.lro import wait_for
from ansible_collections.aksnet.networking.plugins.module_utils._common.names import network_name_error
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure

RESOURCE_GROUP_API_VERSION = "2021-04-01"


def _resource_group_location(mod, client, group):
    from azure.core.rest import HttpRequest  # pylint: disable=import-outside-toplevel

    settings = mod.azure_settings()
    url = f"{settings['arm_endpoint'].rstrip('/')}/subscriptions/{settings['subscription_id']}/resourcegroups/{group}?api-version={RESOURCE_GROUP_API_VERSION}"
    response = client.send_request(HttpRequest("GET", url, headers={"Accept": "application/json"}))
    if response.status_code == 404:
        raise ModuleFailure(f"resource_group {group!r} does not exist: create it first or correct resource_group.")
    response.raise_for_status()
    return (response.json() or {}).get("location")


def _target(mod):
    """(resource group, default location) of the address."""
    params = mod.params
    if params["resource_group"]:
        return params["resource_group"], None
    mod.require("azure.mgmt.containerservice")
    from azure.core.exceptions import ResourceNotFoundError  # pylint: disable=import-outside-toplevel

    try:
        cluster = mod.azure("containerservice").managed_clusters.get(params["cluster_resource_group"], params["cluster"]).as_dict()
    except ResourceNotFoundError:
        raise ModuleFailure(
            f"cluster {params['cluster']!r} was not found in resource group {params['cluster_resource_group']!r}: "
            "check cluster and cluster_resource_group, or pass resource_group instead."
        ) from None
    node_rg = (cluster.get("properties") or {}).get("nodeResourceGroup")
    if not node_rg:
        raise ModuleFailure(f"cluster {params['cluster']!r} reports no node resource group yet (is it still being created?); retry when it is Succeeded.")
    return node_rg, cluster.get("location")


def _view(pip):
    props = (pip or {}).get("properties") or {}
    return {
        "sku": ((pip or {}).get("sku") or {}).get("name"),
        "allocation": props.get("publicIPAllocationMethod"),
        "zones": sorted((pip or {}).get("zones") or []),
        "tags": dict((pip or {}).get("tags") or {}),
        "domain_name_label": (props.get("dnsSettings") or {}).get("domainNameLabel"),
        "address": props.get("ipAddress"),
    }


def run(mod):
    params = mod.params
    if params["resource_group"] and (params["cluster"] or params["cluster_resource_group"]):
        raise ModuleFailure("resource_group and cluster/cluster_resource_group are mutually exclusive: name the resource group, or the cluster whose "
                            "node resource group holds the address.")
    if not params["resource_group"] and not (params["cluster"] and params["cluster_resource_group"]):
        raise ModuleFailure("Pass resource_group, or cluster together with cluster_resource_group (the address then goes into the node resource group).")
    if params["wait_timeout"] < 1:
        raise ModuleFailure(f"wait_timeout {params['wait_timeout']} must be at least 1 second.")
    name_error = network_name_error("name", params["name"])
    if name_error:
        raise ModuleFailure(name_error + " Nothing was sent to Azure.")
    for zone in params["zones"] or []:
        if zone not in ("1", "2", "3"):
            raise ModuleFailure(f"zones: {zone!r} is not an Azure availability zone; use '1', '2' and/or '3'.")
    label = params["domain_name_label"]
    if label is not None and not (3 <= len(label) <= 63 and label[0].isalpha() and label.replace("-", "").isalnum() and label == label.lower()):
        raise ModuleFailure(f"domain_name_label: {label!r} must be 3-63 lowercase letters, digits and '-', starting with a letter.")

    group, location = _target(mod)
    client = mod.azure("network")
    from azure.core.exceptions import ResourceNotFoundError  # pylint: disable=import-outside-toplevel

    try:
        current = client.public_ip_addresses.get(group, params["name"]).as_dict()
    except ResourceNotFoundError as exc:
        if getattr(exc.error, "code", None) == "ResourceGroupNotFound":
            raise ModuleFailure(f"resource group {group!r} does not exist: create it first or correct resource_group.") from None
        current = None
    before = _view(current) if current else {}
    used_by = (((current or {}).get("properties") or {}).get("ipConfiguration") or {}).get("id")
    result = {"changed": False, "resource_group": group, "id": (current or {}).get("id"), "address": before.get("address"),
              "used_by": used_by, "public_ip": current}

    if params["state"] == "absent":
        result["diff"] = {"before": before, "after": {}}
        if current is None:
            return result
        if used_by and not params["force"]:
            raise ModuleFailure(
                f"Public IP {params['name']} ({before.get('address')}) is still used by load balancer frontend {used_by}; deleting it would take the "
                "address away from the Service behind it. Delete or change that Service first (or pass force: true).",
                used_by=used_by, address=before.get("address"),
            )
        result["changed"] = True
        result["public_ip"] = None
        if not mod.check_mode:
            poller = client.public_ip_addresses.begin_delete(group, params["name"], polling_interval=1)
            wait_for(poller, f"delete public IP {params['name']} in {group}", params["wait_timeout"])
        return result

    if current is None:
        location = params["location"] or location or _resource_group_location(mod, client, group)
    else:
        location = current.get("location")
        if params["location"] and params["location"].replace(" ", "").lower() != str(location).replace(" ", "").lower():
            raise ModuleFailure(f"location: public IP {params['name']} already exists in {location}; an address cannot move to {params['location']}. "
                                "Use another name, or delete it first.")
        if before["sku"] and before["sku"].lower() != "standard":
            raise ModuleFailure(f"public IP {params['name']} is a {before['sku']} SKU address; AKS load balancers need Standard. "
                                "Upgrade it in Azure (az network public-ip update --sku Standard) or use another name.")
        if params["zones"] is not None and sorted(params["zones"]) != before["zones"]:
            raise ModuleFailure(f"zones: public IP {params['name']} has zones {before['zones'] or 'none'}; zones cannot change. "
                                "Create a new address under another name.")

    want = dict(before) if current else {"sku": "Standard", "allocation": "Static", "zones": sorted(params["zones"] or []), "tags": {},
                                         "domain_name_label": None, "address": None}
    want["sku"], want["allocation"] = "Standard", "Static"
    if params["tags"] is not None:
        want["tags"] = {k: str(v) for k, v in params["tags"].items()}
    if label is not None:
        want["domain_name_label"] = label
    changed = current is None or want != before
    result["diff"] = {"before": before, "after": want}
    if not changed:
        return result
    result["changed"] = True
    if mod.check_mode:
        return result
    body = {
        "location": location,
        "sku": {"name": "Standard", "tier": "Regional"},
        "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"},
        "tags": want["tags"],
    }
    if want["zones"]:
        body["zones"] = want["zones"]
    if want["domain_name_label"]:
        body["properties"]["dnsSettings"] = {"domainNameLabel": want["domain_name_label"]}
    if current is not None:
        for key in ("idleTimeoutInMinutes", "ipTags"):
            if key in (current.get("properties") or {}):
                body["properties"][key] = current["properties"][key]
    poller = client.public_ip_addresses.begin_create_or_update(group, params["name"], body, polling_interval=1)
    created = wait_for(poller, f"{'create' if current is None else 'update'} public IP {params['name']} in {group}", params["wait_timeout"])
    pip = created.as_dict() if created is not None else client.public_ip_addresses.get(group, params["name"]).as_dict()
    result.update({"id": pip.get("id"), "address": _view(pip)["address"], "public_ip": pip,
                   "used_by": ((pip.get("properties") or {}).get("ipConfiguration") or {}).get("id")})
    result["diff"]["after"] = _view(pip)
    return result


def main():
    mod = AksnetModule(
        {
            "name": {"type": "str", "required": True},
            "resource_group": {"type": "str"},
            "cluster": {"type": "str"},
            "cluster_resource_group": {"type": "str"},
            "location": {"type": "str"},
            "zones": {"type": "list", "elements": "str"},
            "tags": {"type": "dict"},
            "domain_name_label": {"type": "str"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "force": {"type": "bool", "default": False},
            "wait_timeout": {"type": "int", "default": 300},
        },
        auth="azure",
        libraries=("azure.identity", "azure.mgmt.network"),
    )
    mod.run(run, f"manage public IP {mod.params['name']}")


if __name__ == "__main__":
    main()

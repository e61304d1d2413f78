#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_info
short_description: Facts of AKS clusters, network profile included
version_added: 0.1.0
description:
  - Reads one AKS managed cluster by name, every cluster of a resource group, or every cluster of the subscription.
  - Returns the network profile (plugin, mode, dataplane, policy, CIDRs, outbound type, advanced networking),
    node pools, node resource group, FQDN and provisioning state, in the shape the other modules of this collection accept as O(ignore:cluster_facts).
  - One paginated LIST (or one GET) against Azure Resource Manager; imports only azure-mgmt-containerservice.
author:
  - aksnet.networking contributors (@aksnet)
options:
  resource_group:
    description:
      - Resource group of the clusters. Without it, every cluster of the subscription is listed.
    type: str
  name:
    description:
      - Name of one cluster. Requires O(resource_group).
    type: str
  tags:
    description:
      - Only clusters carrying all these tags (values compared exactly).
    type: dict
extends_documentation_fragment:
  - aksnet.networking.azure
  - aksnet.networking.attributes
  - aksnet.networking.attributes.INFO_MODULE
requirements:
  - azure-mgmt-containerservice >= 41.0.0
"""

EXAMPLES = r"""
- name: Network profile of one cluster
  aksnet.networking.cluster_info:
    resource_group: platform-rg
    name: prod-aks
  register: aks

- name: Show the CNI
  ansible.builtin.debug:
    msg: "{{ aks.clusters[0].network_profile.plugin }} / {{ aks.clusters[0].network_profile.plugin_mode }}"

- name: Every cluster of a resource group
  aksnet.networking.cluster_info:
    resource_group: platform-rg
"""

RETURN = r"""
clusters:
  description:
    - The clusters found; empty when the named cluster does not exist.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: ARM resource id.
      type: str
      sample: /subscriptions/0000/resourceGroups/platform-rg/providers/Microsoft.ContainerService/managedClusters/prod-aks
    name:
      description: Cluster name.
      type: str
    resource_group:
      description: Resource group of the cluster.
      type: str
    location:
      description: Azure region.
      type: str
    fqdn:
      description: FQDN of the API server.
      type: str
    node_resource_group:
      description: The resource group AKS manages for the nodes, load balancers and public IPs.
      type: str
    provisioning_state:
      description: ARM provisioning state (Succeeded, Creating, Updating, Failed, ...).
      type: str
    kubernetes_version:
      description: Kubernetes version.
      type: str
    network_profile:
      description: Network profile in the option names of the cluster module.
      type: dict
      sample:
        plugin: azure
        plugin_mode: overlay
        dataplane: cilium
        policy: cilium
        pod_cidr: 192.168.0.0/16
        service_cidr: 10.0.0.0/16
        dns_service_ip: 10.0.0.10
        outbound_type: loadBalancer
        load_balancer_sku: standard
    agent_pools:
      description: Node pools with size, count, max pods and subnets.
      type: list
      elements: dict
    tags:
      description: Cluster tags.
      type: dict
"""

from ansible_collections.aksnet.networking.plugins.module_utils._aks.facts import cluster_facts
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure


def _matches(cluster, tags):
    have = cluster.get("tags") or {}
    return all(have.get(key) == value for key, value in (tags or {}).items())


def run(mod):
    params = mod.params
    name, group = params["name"], params["resource_group"]
    if name and not group:
        raise ModuleFailure(f"name {name!r} needs resource_group: cluster names are unique only within a resource group.")
    client = mod.azure("containerservice")
    from azure.core.exceptions import ResourceNotFoundError  # pylint: disable=import-outside-toplevel

    if name:
        try:
            found = [client.managed_clusters.get(group, name).as_dict()]
        except ResourceNotFoundError as exc:
            if getattr(exc.error, "code", None) == "ResourceGroupNotFound":
                raise  # a wrong resource group is an error, not "no such cluster"
            found = []
    elif group:
        found = [c.as_dict() for c in client.managed_clusters.list_by_resource_group(group)]
    else:
        found = [c.as_dict() for c in client.managed_clusters.list()]
    clusters = [cluster_facts(c) for c in found if _matches(c, params["tags"])]
    return {"changed": False, "clusters": clusters}


def main():
    mod = AksnetModule(
        {"resource_group": {"type": "str"}, "name": {"type": "str"}, "tags": {"type": "dict"}},
        auth="azure",
        libraries=("azure.identity", "azure.mgmt.containerservice"),
    )
    mod.run(run, "read AKS clusters")


if __name__ == "__main__":
    main()

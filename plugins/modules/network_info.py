#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network_info
short_description: Azure-level network facts of an AKS cluster (load balancers, NSGs, routes, subnets, public IPs)
version_added: 0.1.0
description:
  - Reads, for one AKS cluster, what step 8 of the troubleshooting guide looks at on the Azure side
    - the C(kubernetes) and C(kubernetes-internal) load balancers with frontends, rules and probes;
    the network security groups of the node subnets and node NICs with their custom and default rules;
    the node (and pod) subnets with size, used and free addresses; route tables (kubenet); public IPs;
    and the node NICs, with effective routes and effective security rules where the Azure API offers them.
  - Virtual machine scale set instance NICs (the default node pool type) have no effective-route or
    effective-NSG operation in the Azure API; their C(effective) entry says so
    instead of failing. Standalone NICs (C(VirtualMachines) / C(AvailabilitySet) pools) are asked for both.
  - One paginated LIST per resource type in the node resource group (load balancers, NSGs, route tables,
    public IPs, NICs), one GET per VNet that holds a node or pod subnet plus its C(usages), and one GET per
    NSG or route table that is associated from outside the node resource group. Imports azure-mgmt-containerservice
    and azure-mgmt-network only. Never writes.
  - The result's RV(network) is what M(aksnet.networking.snapshot) embeds with O(aksnet.networking.snapshot#module:azure_facts)
    and what M(aksnet.networking.diagnose) reads for step 8.
author:
  - aksnet.networking contributors (@aksnet)
options:
  resource_group:
    description:
      - Resource group of the cluster.
    type: str
    required: true
  name:
    description:
      - Name of the cluster.
    type: str
    required: true
  public_ip_scope:
    description:
      - Where public IPs are listed.
      - V(subscription) lists every public IP of the subscription (one paginated LIST), so that a Service's static IP
        in another resource group is found and reported as being in the wrong group rather than missing.
      - V(node_resource_group) lists only the node resource group (smaller result; needs fewer permissions).
    type: str
    choices: [subscription, node_resource_group]
    default: subscription
  effective:
    description:
      - Ask Azure for the effective routes and effective security rules of standalone node NICs (long-running POST actions, one pair per NIC).
    type: bool
    default: true
  effective_max_nics:
    description:
      - At most this many standalone NICs get effective routes / rules (one per subnet first). V(0) means none.
    type: int
    default: 3
extends_documentation_fragment:
  - aksnet.networking.azure
  - aksnet.networking.attributes
  - aksnet.networking.attributes.INFO_MODULE
requirements:
  - azure-mgmt-containerservice >= 41.0.0
  - azure-mgmt-network >= 33.0.0
"""

EXAMPLES = r"""
- name: Azure network facts of a cluster
  aksnet.networking.network_info:
    resource_group: platform-rg
    name: prod-aks
  register: azure_net

- name: Free addresses of the node subnet
  ansible.builtin.debug:
    msg: "{{ azure_net.network.subnets | map(attribute='free') | list }}"

- name: Keep them with the cluster's snapshot for offline diagnostics
  aksnet.networking.snapshot:
    dest: /tmp/prod-aks.snapshot.yaml
    azure_facts: "{{ azure_net.network }}"
"""

RETURN = r"""
network:
  description:
    - Azure network facts of the cluster (the C(AzureNetworkFacts) document of a snapshot). Ids are ARM resource ids.
  returned: success
  type: dict
  contains:
    version:
      description: Version of this shape.
      type: int
      sample: 1
    cluster:
      description: The cluster, its network profile (as in M(aksnet.networking.cluster_info)) and node pools with scaling fields.
      type: dict
      contains:
        name:
          description: Cluster name.
          type: str
        resource_group:
          description: Resource group of the cluster.
          type: str
        node_resource_group:
          description: Node resource group.
          type: str
        network_profile:
          description: Network profile (plugin, plugin_mode, dataplane, policy, CIDRs, ipam_mode, ...).
          type: dict
        agent_pools:
          description: Pools with name, mode, type, count, min_count, max_count, enable_auto_scaling, max_pods, max_surge, vnet_subnet_id, pod_subnet_id.
          type: list
          elements: dict
    load_balancers:
      description:
        - Load balancers of the node resource group (C(kubernetes), C(kubernetes-internal)), each with id, name, sku, internal,
          frontends (id, name, private_ip_address, public_ip_id, public_ip_address, subnet_id),
          rules (id, name, protocol, frontend_port, backend_port, frontend_id, probe_id, enable_floating_ip, backend_pool_ids),
          probes (id, name, protocol, port, request_path, interval, number_of_probes), backend_pools (id, name, members), outbound_rules.
      type: list
      elements: dict
    network_security_groups:
      description:
        - NSGs of the node resource group and those associated with a node subnet or NIC elsewhere; each with id, name, resource_group,
          rules and default_rules (name, priority, direction, access, protocol, source_address_prefixes, source_port_ranges,
          destination_address_prefixes, destination_port_ranges, source_asgs, destination_asgs, default), subnet_ids, nic_ids.
      type: list
      elements: dict
    subnets:
      description:
        - Node and pod subnets with id, name, vnet_name, vnet_id, resource_group, address_prefixes, vnet_address_prefixes,
          size (usable addresses), used, free, nsg_id, route_table_id, nat_gateway_id, delegations, role (node or pod),
          pools (names of the pools using it), ip_configuration_ids.
      type: list
      elements: dict
    route_tables:
      description: Route tables of the node resource group or associated with a node subnet; id, name, resource_group, subnet_ids, routes.
      type: list
      elements: dict
    public_ips:
      description: Public IPs (see O(public_ip_scope)) with id, name, resource_group, location, ip_address, version, sku, allocation_method,
        ip_configuration_id, tags.
      type: list
      elements: dict
    public_ip_scope:
      description: The O(public_ip_scope) the list was taken with.
      type: str
    network_interfaces:
      description:
        - Node NICs with id, name, resource_group, kind (vmss or standalone), vmss, instance_id, vm_id, private_ip_addresses,
          ip_configurations, subnet_id, nsg_id, enable_ip_forwarding, enable_accelerated_networking, and
          effective (supported, reason, routes, network_security_groups); routes and network_security_groups are None when not asked
          or not offered, and reason says why.
      type: list
      elements: dict
    notes:
      description: What could not be read (with the reason) or was left out.
      type: list
      elements: str
"""

from ansible_collections.aksnet.networking.plugins.module_utils._aks.facts import cluster_facts
from ansible_collections.aksnet.networking.plugins.module_utils._diag import azure_facts as af
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure


def _dicts(items):
    return [item.as_dict() for item in items]


def _low(value):
    return str(value or "").lower()


class Collector:
    """Reads the cluster's Azure network resources with as few requests as the API allows."""

    def __init__(self, mod):
        self.mod = mod
        self.params = mod.params
        self.notes = []
        self.net = None

    def _try(self, what, func, *args, **kwargs):
        """Run one read; on an Azure error note it (status, code) and return None: one unreadable part must not hide the rest."""
        from azure.core.exceptions import HttpResponseError  # pylint: disable=import-outside-toplevel

        try:
            return func(*args, **kwargs)
        except HttpResponseError as exc:
            code = getattr(getattr(exc, "error", None), "code", None) or exc.reason
            self.notes.append(f"{what}: {exc.status_code} {code}")
            return None

    def run(self):
        params = self.params
        cs = self.mod.azure("containerservice")
        from azure.core.exceptions import ResourceNotFoundError  # pylint: disable=import-outside-toplevel

        try:
            cluster = cs.managed_clusters.get(params["resource_group"], params["name"]).as_dict()
        except ResourceNotFoundError as exc:
            code = getattr(getattr(exc, "error", None), "code", None)
            if code == "ResourceGroupNotFound":
                raise
            raise ModuleFailure(f"cluster {params['name']!r} does not exist in resource group {params['resource_group']!r}: check name and resource_group "
                                "(aksnet.networking.cluster_info lists the clusters).", error={"code": code or "ResourceNotFound"}) from None
        facts = cluster_facts(cluster)
        node_rg = facts.get("node_resource_group")
        if not node_rg:
            raise ModuleFailure(f"cluster {params['name']!r} has no node resource group yet (provisioning state {facts.get('provisioning_state')}): "
                                "wait for the cluster to finish provisioning.")
        self.net = self.mod.azure("network")
        cluster_part = af.cluster_section(cluster, facts)

        public_ips = self._public_ips(node_rg)
        pips_by_id = {_low(p["id"]): p for p in public_ips}
        lbs = _dicts(self._try(f"list load balancers in {node_rg}", lambda: list(self.net.load_balancers.list(node_rg))) or [])
        nsgs = {_low(n["id"]): n for n in _dicts(self._try(f"list NSGs in {node_rg}", lambda: list(self.net.network_security_groups.list(node_rg))) or [])}
        tables = {_low(t["id"]): t for t in _dicts(self._try(f"list route tables in {node_rg}", lambda: list(self.net.route_tables.list(node_rg))) or [])}

        subnets = self._subnets(cluster_part, node_rg)
        nics = self._nics(subnets, node_rg)
        for nic in nics:
            self._ensure(nsgs, nic.get("nsg_id"), "networkSecurityGroups")
        for subnet in subnets:
            self._ensure(nsgs, subnet.get("nsg_id"), "networkSecurityGroups")
            self._ensure(tables, subnet.get("route_table_id"), "routeTables")
        if params["effective"]:
            self._effective(nics)
        return {
            "version": af.FACTS_VERSION,
            "cluster": cluster_part,
            "load_balancers": [af.load_balancer_facts(lb, pips_by_id) for lb in lbs],
            "network_security_groups": [af.nsg_facts(n) for n in nsgs.values() if n],
            "subnets": subnets,
            "route_tables": [af.route_table_facts(t) for t in tables.values() if t],
            "public_ips": public_ips,
            "public_ip_scope": params["public_ip_scope"],
            "network_interfaces": nics,
            "notes": self.notes,
        }

    def _public_ips(self, node_rg):
        if self.params["public_ip_scope"] == "subscription":
            found = self._try("list public IPs of the subscription", lambda: list(self.net.public_ip_addresses.list_all()))
        else:
            found = self._try(f"list public IPs in {node_rg}", lambda: list(self.net.public_ip_addresses.list(node_rg)))
        return [af.public_ip_facts(p) for p in _dicts(found or [])]

    def _subnets(self, cluster_part, node_rg):
        pools = cluster_part["agent_pools"]
        vnets = {}  # (rg, name) lower -> (rg, name)
        for pool in pools:
            for sid in (pool.get("vnet_subnet_id"), pool.get("pod_subnet_id")):
                if sid:
                    parts = af.id_parts(sid)
                    if len(parts["names"]) >= 2:
                        vnets[(_low(parts.get("resource_group")), _low(parts["names"][0]))] = (parts.get("resource_group"), parts["names"][0])
        managed = []
        listed = {}  # the managed VNet comes with its subnets from the LIST: no second read
        if any(not p.get("vnet_subnet_id") for p in pools):
            for vnet in _dicts(self._try(f"list virtual networks in {node_rg}", lambda: list(self.net.virtual_networks.list(node_rg))) or []):
                vnets[(_low(node_rg), _low(vnet["name"]))] = (node_rg, vnet["name"])
                listed[(_low(node_rg), _low(vnet["name"]))] = vnet
                managed.extend(s["id"] for s in (vnet.get("properties") or {}).get("subnets") or [])
        roles = af.subnet_roles(pools, managed)
        result = []
        for key, (rg, name) in vnets.items():
            vnet = listed.get(key)
            if vnet is None:
                found = self._try(f"read virtual network {rg}/{name}", self.net.virtual_networks.get, rg, name)
                if found is None:
                    continue
                vnet = found.as_dict()
            usages = self._try(f"read usages of virtual network {rg}/{name}", lambda rg=rg, name=name: list(self.net.virtual_networks.list_usage(rg, name)))
            by_subnet = {_low(u.get("id")): u for u in _dicts(usages or [])}
            for subnet in (vnet.get("properties") or {}).get("subnets") or []:
                if _low(subnet.get("id")) in roles:
                    result.append(af.subnet_facts(vnet, subnet, by_subnet.get(_low(subnet.get("id"))), roles))
        return result

    def _nics(self, subnets, node_rg):
        owners = af.nic_owners([i for s in subnets if s["role"] == "node" for i in s["ip_configuration_ids"]])
        nics = []
        for rg, vmss in sorted(owners["vmss"]):
            found = self._try(f"list NICs of scale set {vmss}",
                              lambda rg=rg, vmss=vmss: list(self.net.network_interfaces.list_virtual_machine_scale_set_network_interfaces(rg, vmss)))
            nics.extend(af.nic_facts(n, standalone=False) for n in _dicts(found or []))
        groups = sorted({rg for rg, _name in owners["standalone"]})
        wanted = {(_low(rg), _low(name)) for rg, name in owners["standalone"]}
        for rg in groups:
            found = self._try(f"list NICs in {rg}", lambda rg=rg: list(self.net.network_interfaces.list(rg)))
            for nic in _dicts(found or []):
                if (_low(rg), _low(nic.get("name"))) in wanted:
                    nics.append(af.nic_facts(nic, standalone=True))
        return nics

    def _ensure(self, store, resource_id, kind):
        """GET an NSG / route table associated from outside the listed group (once per id)."""
        if not resource_id or _low(resource_id) in store:
            return
        parts = af.id_parts(resource_id)
        rg, name = parts.get("resource_group"), (parts["names"] or [None])[0]
        operations = self.net.network_security_groups if kind == "networkSecurityGroups" else self.net.route_tables
        found = self._try(f"read {kind} {rg}/{name}", operations.get, rg, name)
        store[_low(resource_id)] = found.as_dict() if found is not None else None

    def _effective(self, nics):
        limit = self.params["effective_max_nics"]
        standalone = [n for n in nics if n["kind"] == "standalone"]
        by_subnet = {}
        for nic in standalone:
            by_subnet.setdefault(_low(nic["subnet_id"]), []).append(nic)
        ordered = [group[0] for group in by_subnet.values()] + [n for group in by_subnet.values() for n in group[1:]]
        started = []
        for position, nic in enumerate(ordered):
            if position >= limit:
                nic["effective"]["reason"] = f"not asked: effective_max_nics is {limit}"
                continue
            rg, name = nic["resource_group"], nic["name"]
            # begin_* sends the POST and polls in the background: start them all, then collect
            routes = self._try(f"effective routes of NIC {name}", self.net.network_interfaces.begin_get_effective_route_table, rg, name)
            groups = self._try(f"effective security rules of NIC {name}", self.net.network_interfaces.begin_list_effective_network_security_groups, rg, name)
            started.append((nic, routes, groups))
        for nic, routes, groups in started:
            name = nic["name"]
            routes = self._try(f"effective routes of NIC {name}", routes.result) if routes is not None else None
            groups = self._try(f"effective security rules of NIC {name}", groups.result) if groups is not None else None
            if routes is not None:
                nic["effective"]["routes"] = af.effective_routes_facts(routes.as_dict())
            if groups is not None:
                nic["effective"]["network_security_groups"] = af.effective_nsgs_facts(groups.as_dict())
            if routes is None or groups is None:
                nic["effective"]["reason"] = "the effective state could not be read (see notes)"


def run(mod):
    if mod.params["effective_max_nics"] < 0:
        raise ModuleFailure(f"effective_max_nics {mod.params['effective_max_nics']} must be 0 or more: it is how many standalone NICs "
                            "get effective routes and rules (0 for none).")
    return {"changed": False, "network": Collector(mod).run()}


def main():
    mod = AksnetModule(
        {
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "public_ip_scope": {"type": "str", "choices": ["subscription", "node_resource_group"], "default": "subscription"},
            "effective": {"type": "bool", "default": True},
            "effective_max_nics": {"type": "int", "default": 3},
        },
        auth="azure",
        libraries=("azure.identity", "azure.mgmt.containerservice", "azure.mgmt.network"),
    )
    mod.run(run, f"read the Azure network of cluster {mod.params['name']}")


if __name__ == "__main__":
    main()

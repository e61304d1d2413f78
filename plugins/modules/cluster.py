#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster
short_description: Create, update and delete an AKS managed cluster with every networking option
version_added: 0.1.0
description:
  - Creates, updates or deletes an Azure Kubernetes Service managed cluster through azure-mgmt-containerservice
    (API 2026-08-01). The O(network) sub-options map one to one to the ARM network profile
    (C(networkPlugin), C(networkPluginMode), C(networkDataplane), C(networkPolicy), C(podCidr), C(serviceCidr),
    C(dnsServiceIP), C(outboundType), C(loadBalancerSku), C(advancedNetworking)).
  - B(Preflight.) With O(validate=true) (the default) the plan is checked before any request is sent, for CIDR and IP syntax,
    the service range size (/12 or smaller), O(network.dns_service_ip) inside O(network.service_cidr) and not its first address,
    overlaps between the service range, the pod range, the node subnet (O(vnet_subnet_cidr) or looked up) and O(avoid_cidrs),
    the ranges AKS reserves (169.254.0.0/16, 172.30.0.0/16, 172.31.0.0/16, 192.0.2.0/24), plugin, mode, data plane and policy
    combinations, advanced networking security (Cilium only), kubenet limits (no Windows pools, at most 400 nodes),
    O(system_pool.max_pods) between 10 and 250, and the node subnet's size for Azure CNI, C((count + surge) x (max_pods + 1)).
    Each problem is reported with the option, the value, the rule and the fix.
  - B(Idempotent.) One GET reads the cluster; only the fields you set are compared, after normalising (CIDR notation, case of
    enum values, values Azure fills in when absent). A PUT is sent only when a field differs; the PUT carries the current cluster
    with only the differing fields changed.
  - B(Changes Azure cannot make in place) (plugin azure to kubenet, service CIDR, DNS service IP, pod subnet, VM size, max pods,
    an outbound type change AKS does not support, ...) fail before any write, naming the field and saying the cluster must be recreated.
  - B(Supported migrations) are performed as updates and returned in RV(migrations), each with what you will notice
    (update-azure-cni.md), namely kubenet to Azure CNI Overlay (O(network.plugin=azure), O(network.plugin_mode=overlay));
    Azure CNI on a node subnet to Azure CNI Overlay (needs O(network.pod_cidr) and no policy engine);
    data plane azure to cilium (O(network.dataplane=cilium) with O(network.policy=cilium)), in a separate run from an IPAM migration;
    expanding an Overlay pod CIDR to a range that contains the current one; the outbound type changes AKS supports
    (egress-outboundtype.md); policy engine changes through V(none). All of them reimage the nodes and cannot be undone.
  - B(Subnet lookup.) When O(system_pool.vnet_subnet_id) is given without O(vnet_subnet_cidr), the subnet's address prefix is read with one raw
    ARM GET sent through the container service client's own pipeline (no azure-mgmt-network import), but only when a create or update
    is about to be sent, so an unchanged run still costs one GET. A subnet that does not exist fails the preflight; a subnet that cannot
    be read (no permission) only skips the size check, with a warning.
  - Long-running operations are waited for up to O(wait_timeout) seconds, polling at the interval Azure asks for with C(Retry-After).
    Throttling (429) and transient 5xx answers are retried with backoff that honours C(Retry-After) (azure-core's retry policy).
    A failed operation reports the AKS error code and message; a timeout says what it waited for and the operation's last state.
  - Imports azure-mgmt-containerservice only; never azure-mgmt-network or kubernetes.
author:
  - aksnet.networking contributors (@aksnet)
options:
  resource_group:
    description: Resource group of the cluster. It must exist.
    type: str
    required: true
  name:
    description: Name of the cluster (1-63 letters, digits, C(_) or C(-)).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the cluster; V(absent) deletes it (and AKS deletes its node resource group).
    type: str
    choices: [present, absent]
    default: present
  location:
    description:
      - Azure region. Required to create a cluster; a cluster cannot move region.
    type: str
  dns_prefix:
    description:
      - DNS prefix of the API server FQDN. Fixed at creation. When not set, one is derived from O(name) on creation.
    type: str
  kubernetes_version:
    description:
      - Kubernetes version, V(1.33) or V(1.33.3). V(1.33) matches a cluster running any 1.33 patch. Azure cannot downgrade.
    type: str
  tags:
    description:
      - Tags of the cluster resource. See O(append_tags).
    type: dict
  append_tags:
    description:
      - With V(true), O(tags) are added to the cluster's existing tags; with V(false) they replace them.
    type: bool
    default: true
  system_pool:
    description:
      - The system node pool. On an existing cluster it is matched by O(system_pool.name), or is the first V(System) pool when no name is given.
      - On creation a pool named V(nodepool1) is created when no name is given.
    type: dict
    suboptions:
      name:
        description: Node pool name (lowercase letters and digits, starting with a letter, at most 12 characters). Cannot be renamed.
        type: str
      vm_size:
        description: VM size of the nodes, for example V(Standard_D4s_v5). Fixed after creation.
        type: str
      count:
        description: Number of nodes (1-1000; at most 400 for kubenet). Can change in place.
        type: int
      max_pods:
        description:
          - Maximum pods per node, 10-250. Fixed after creation.
          - AKS defaults are 110 (kubenet), 30 (Azure CNI on a node subnet), 250 (Azure CNI Overlay), 110 (pod subnet).
        type: int
      vnet_subnet_id:
        description: Resource id of the node subnet (your own VNet). Needed for Azure CNI on a node subnet and for a pod subnet. Fixed after creation.
        type: str
      pod_subnet_id:
        description: Resource id of the pod subnet (Azure CNI with dynamic IP allocation). Same VNet as O(system_pool.vnet_subnet_id).
        type: str
      os_type:
        description: Node OS. A system pool runs Linux.
        type: str
        choices: [Linux, Windows]
  network:
    description:
      - The cluster's network profile. Only the sub-options you set are sent and compared.
    type: dict
    suboptions:
      plugin:
        description:
          - V(azure) (Azure CNI), V(kubenet), or V(none) (bring your own CNI).
        type: str
        choices: [azure, kubenet, none]
      plugin_mode:
        description: V(overlay) for Azure CNI Overlay (with O(network.plugin=azure)).
        type: str
        choices: [overlay]
      dataplane:
        description: V(cilium) for Azure CNI Powered by Cilium (needs overlay or a pod subnet, or a node subnet on current AKS, and policy cilium).
        type: str
        choices: [azure, cilium]
      policy:
        description:
          - Network policy engine. V(azure) (Azure NPM, not with kubenet), V(calico), V(cilium) (needs O(network.dataplane=cilium)), V(none).
        type: str
        choices: [none, azure, calico, cilium]
      pod_cidr:
        description: Pod range for kubenet and Azure CNI Overlay, for example V(10.244.0.0/16) or V(192.168.0.0/16).
        type: str
      service_cidr:
        description: Kubernetes service range, /12 or smaller, for example V(10.0.0.0/16). Fixed at creation.
        type: str
      dns_service_ip:
        description: Cluster DNS service address inside O(network.service_cidr), not its first address, for example V(10.0.0.10). Fixed at creation.
        type: str
      outbound_type:
        description: Egress of the cluster. Some changes are supported in place (egress-outboundtype.md); the others fail before any request.
        type: str
        choices: [loadBalancer, userDefinedRouting, managedNATGateway, userAssignedNATGateway, none]
      load_balancer_sku:
        description: Load balancer SKU. V(basic) is retired.
        type: str
        choices: [standard, basic]
      advanced_networking:
        description: Advanced Container Networking Services.
        type: dict
        suboptions:
          observability:
            description: Network observability (flow logs, metrics).
            type: bool
          security:
            description:
              - Container network security (Cilium FQDN and L7 policies). Needs O(network.dataplane=cilium).
            type: bool
          advanced_network_policies:
            description:
              - Which advanced Cilium policies AKS enforces, V(FQDN), V(L7) (FQDN and L7) or V(None). AKS uses V(FQDN) when security is on.
            type: str
            choices: [FQDN, L7, None]
  vnet_subnet_cidr:
    description:
      - Address prefix of O(system_pool.vnet_subnet_id), for the preflight's overlap and size checks. Not sent to Azure.
      - When not set and O(system_pool.vnet_subnet_id) is, the prefix is read from Azure before a create or update.
    type: str
  pod_subnet_cidr:
    description:
      - Address prefix of O(system_pool.pod_subnet_id), for the preflight. Not sent to Azure; looked up like O(vnet_subnet_cidr).
    type: str
  avoid_cidrs:
    description:
      - Ranges the pod and service ranges must not overlap, such as peered VNets and on-premises networks. Checked by the preflight only.
    type: list
    elements: str
  max_surge:
    description:
      - Extra nodes an upgrade adds (a number, or a percentage of O(system_pool.count) such as V(33%)), for the preflight's
        address planning. Not sent to Azure.
    type: str
    default: "1"
  allow_migration:
    description:
      - Allow an irreversible in-place migration (C(kubenet_to_overlay), C(node_subnet_to_overlay), C(dataplane_to_cilium)), which
        reimage every node pool and cannot be undone.
      - Without it such a change fails before any write, naming the migration and its effect; check mode and diff still show
        the planned migration (RV(migrations)).
    type: bool
    default: false
  validate:
    description:
      - Run the preflight before any request (and refuse changes Azure cannot make in place).
      - V(false) sends the plan as it is, so Azure's own error code and target are reported.
    type: bool
    default: true
  wait:
    description: Wait for the create, update or delete operation to finish.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for an operation. On timeout the module fails saying what it waited for and the operation's last state;
        the operation continues in Azure.
    type: int
    default: 1800
extends_documentation_fragment:
  - aksnet.networking.azure
  - aksnet.networking.attributes
attributes:
  check_mode:
    support: full
    details: Reads the cluster (and the subnet when needed) and reports what would change; sends no write.
  diff_mode:
    support: full
    details: Before and after of the fields that differ, by option name (for example C(network.pod_cidr), C(system_pool.count), C(tags)).
  idempotent:
    support: full
notes:
  - Creating an AKS cluster takes 5 to 15 minutes. In a playbook, run the task with C(async) and C(poll) to see progress.
  - The preflight judges the options you give before anything is read. When you set an option whose rule depends on another
    (O(network.policy=cilium) or O(network.advanced_networking.security) on O(network.dataplane=cilium)), give that option too,
    even if the cluster already has it. Once a write is about to happen, the plan is judged again against the existing cluster
    (problems the cluster already has are reported as warnings, only new ones stop the run).
  - A new cluster gets a system-assigned managed identity.
requirements:
  - azure-mgmt-containerservice >= 41.0.0
"""

EXAMPLES = r"""
- name: Azure CNI Overlay
  aksnet.networking.cluster:
    resource_group: platform-rg
    name: prod-aks
    location: westeurope
    system_pool:
      name: system
      vm_size: Standard_D4s_v5
      count: 3
    network:
      plugin: azure
      plugin_mode: overlay
      pod_cidr: 192.168.0.0/16
      service_cidr: 10.0.0.0/16
      dns_service_ip: 10.0.0.10

- name: Azure CNI Powered by Cilium with FQDN policies
  aksnet.networking.cluster:
    resource_group: platform-rg
    name: cilium-aks
    location: westeurope
    system_pool: {name: system, count: 3}
    network:
      plugin: azure
      plugin_mode: overlay
      dataplane: cilium
      policy: cilium
      pod_cidr: 192.168.0.0/16
      advanced_networking:
        observability: true
        security: true
        advanced_network_policies: FQDN

- name: Azure CNI on a VNet subnet, checked against peered ranges
  aksnet.networking.cluster:
    resource_group: platform-rg
    name: cni-aks
    location: westeurope
    system_pool:
      name: system
      count: 3
      max_pods: 30
      vnet_subnet_id: /subscriptions/0000/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/hub/subnets/aks
    network:
      plugin: azure
      policy: calico
      service_cidr: 10.0.0.0/16
      dns_service_ip: 10.0.0.10
    avoid_cidrs: [10.100.0.0/16, 172.16.0.0/12]

- name: What would change? (check mode, with --diff)
  aksnet.networking.cluster:
    resource_group: platform-rg
    name: prod-aks
    system_pool: {name: system, count: 5}
  check_mode: true
  register: plan

- name: Create in the background and show progress
  aksnet.networking.cluster:
    resource_group: platform-rg
    name: prod-aks
    location: westeurope
    network: {plugin: kubenet, pod_cidr: 10.244.0.0/16}
    wait_timeout: 1800
  async: 1860
  poll: 15

- name: Delete
  aksnet.networking.cluster:
    resource_group: platform-rg
    name: old-aks
    state: absent
"""

RETURN = r"""
cluster:
  description:
    - Facts of the cluster after the run, in the shape M(aksnet.networking.cluster_info) returns. Empty after a delete, or when
      a create runs in check mode.
  returned: always
  type: dict
  contains:
    id:
      description: ARM resource id.
      type: str
    fqdn:
      description: FQDN of the API server.
      type: str
    node_resource_group:
      description: The resource group AKS manages for the nodes.
      type: str
    provisioning_state:
      description: ARM provisioning state.
      type: str
      sample: Succeeded
    network_profile:
      description: The network profile by option name, with C(ipam_mode) (kubenet, overlay, node_subnet, pod_subnet, byo_cni).
      type: dict
    agent_pools:
      description: Node pools.
      type: list
      elements: dict
diff:
  description: Before and after of the fields that differ (all the options you set when creating).
  returned: always
  type: dict
  sample:
    before: {system_pool: {count: 3}, tags: {env: dev}}
    after: {system_pool: {count: 5}, tags: {env: prod}}
reconciled:
  description:
    - True when the cluster was found in provisioning state Failed (an earlier operation failed) and was reconciled with a
      PUT of its own configuration, which AKS accepts to recover it (would be, in check mode).
  returned: when the cluster was in provisioning state Failed
  type: bool
action:
  description:
    - What this run does (or would do in check mode) to the cluster. V(create), V(update), V(migrate) (an update that
      includes a migration in RV(migrations)), V(reconcile) (a cluster left C(Failed) is put again), V(delete) or V(none).
  returned: always
  type: str
  sample: update
migrations:
  description:
    - Supported in-place migrations this run performs (or would perform in check mode). Irreversible ones need
      O(allow_migration=true); without it they are returned with the failure.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: kubenet_to_overlay, node_subnet_to_overlay, dataplane_to_cilium, pod_cidr_expansion, outbound_type_change or policy_engine_change.
      type: str
    description:
      description: What changes.
      type: str
    notes:
      description: What you will notice (reimaging, irreversibility, egress disruption).
      type: str
errors:
  description: The preflight's problems, when it refused the plan.
  returned: failure
  type: list
  elements: str
preflight_warnings:
  description: The preflight's warnings, when it refused the plan.
  returned: failure
  type: list
  elements: str
"""

from ansible_collections.aksnet.networking.plugins.module_utils._aks.compare import compute_update
from ansible_collections.aksnet.networking.plugins.module_utils._aks.facts import cluster_facts
from ansible_collections.aksnet.networking.plugins.module_utils._aks.profile import (
    POOLS_PATH,
    build_desired,
    creation_body,
    get_path,
    match_pool,
)
from ansible_collections.aksnet.networking.plugins.module_utils._aks.validation import immutable_changes, migrations, preflight
from ansible_collections.aksnet.networking.plugins.module_utils._azure.errors import FIXES, AzureApiError
from ansible_collections.aksnet.networking.plugins.module_utils._azure.lro import wait_for
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure

# Used when Azure sends no Retry-After with a long-running operation; azure-core prefers Retry-After.
POLL_FALLBACK_SECONDS = 15
# A network API version every Azure cloud serves, for the raw subnet GET.
NETWORK_API_VERSION = "2024-05-01"
DEFAULT_POOL_NAME = "nodepool1"
LIBRARIES = ("azure.identity", "azure.mgmt.containerservice")
# migrations that reimage every node pool and cannot be undone: they run only with allow_migration
IRREVERSIBLE_MIGRATIONS = ("kubenet_to_overlay", "node_subnet_to_overlay", "dataplane_to_cilium")
TRANSITIONAL = ("creating", "updating", "deleting", "upgrading", "scaling", "migrating", "starting", "stopping")

POOL_SPEC = {
    "name": {"type": "str"},
    "vm_size": {"type": "str"},
    "count": {"type": "int"},
    "max_pods": {"type": "int"},
    "vnet_subnet_id": {"type": "str"},
    "pod_subnet_id": {"type": "str"},
    "os_type": {"type": "str", "choices": ["Linux", "Windows"]},
}
NETWORK_SPEC = {
    "plugin": {"type": "str", "choices": ["azure", "kubenet", "none"]},
    "plugin_mode": {"type": "str", "choices": ["overlay"]},
    "dataplane": {"type": "str", "choices": ["azure", "cilium"]},
    "policy": {"type": "str", "choices": ["none", "azure", "calico", "cilium"]},
    "pod_cidr": {"type": "str"},
    "service_cidr": {"type": "str"},
    "dns_service_ip": {"type": "str"},
    "outbound_type": {"type": "str", "choices": ["loadBalancer", "userDefinedRouting", "managedNATGateway", "userAssignedNATGateway", "none"]},
    "load_balancer_sku": {"type": "str", "choices": ["standard", "basic"]},
    "advanced_networking": {
        "type": "dict",
        "options": {
            "observability": {"type": "bool"},
            "security": {"type": "bool"},
            "advanced_network_policies": {"type": "str", "choices": ["FQDN", "L7", "None"]},
        },
    },
}
ARGUMENT_SPEC = {
    "resource_group": {"type": "str", "required": True},
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "location": {"type": "str"},
    "dns_prefix": {"type": "str"},
    "kubernetes_version": {"type": "str"},
    "tags": {"type": "dict"},
    "append_tags": {"type": "bool", "default": True},
    "system_pool": {"type": "dict", "options": POOL_SPEC},
    "network": {"type": "dict", "options": NETWORK_SPEC},
    "vnet_subnet_cidr": {"type": "str"},
    "pod_subnet_cidr": {"type": "str"},
    "avoid_cidrs": {"type": "list", "elements": "str"},
    "max_surge": {"type": "str", "default": "1"},
    "validate": {"type": "bool", "default": True},
    "allow_migration": {"type": "bool", "default": False},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 1800},
}


def _prune(value):
    """The options the user set: nested dicts without None values (empty dicts dropped)."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in pruned.items() if v != {}}
    return value


def _requested(params):
    keys = ("location", "dns_prefix", "kubernetes_version", "tags", "system_pool", "network")
    return _prune({key: params.get(key) for key in keys})


def _preflight_failure(errors, warnings, stage):
    count = len(errors)
    text = (
        f"Preflight refused the cluster plan ({count} problem{'s' if count != 1 else ''}; {stage}): "
        + " ".join(errors)
        + " Fix the options, or set validate: false to let Azure judge the plan."
    )
    return ModuleFailure(text, errors=errors, preflight_warnings=warnings)


class ClusterRunner:
    """One run of the cluster module: read once, decide, write at most once, wait."""

    def __init__(self, mod):
        self.mod = mod
        self.params = mod.params
        self.group = self.params["resource_group"]
        self.name = self.params["name"]
        self.warned = set()
        self._client = None

    def require_sdk(self):
        """Check (and import) the Azure libraries only once the plan passed the preflight, so refusals are fast."""
        for library in LIBRARIES:
            self.mod.require(library)

    @property
    def client(self):
        if self._client is None:
            self._client = self.mod.azure("containerservice")
        return self._client

    def warn(self, text):
        if text not in self.warned:
            self.warned.add(text)
            self.mod.warn(text)

    # reads --------------------------------------------------------------------------------
    def get_cluster(self, missing_group_is_absent=False):
        from azure.core.exceptions import ResourceNotFoundError  # pylint: disable=import-outside-toplevel

        try:
            return self.client.managed_clusters.get(self.group, self.name).as_dict()
        except ResourceNotFoundError as exc:
            if getattr(exc.error, "code", None) == "ResourceGroupNotFound" and not missing_group_is_absent:
                raise
            return None

    def subnet_prefix(self, option, subnet_id):
        """Address prefix of a subnet through a raw ARM GET on the container service client's pipeline (no network SDK).

        Returns the prefix, or None (with a warning) when it cannot be read; raises ModuleFailure when the subnet does not exist.
        """
        from azure.core.rest import HttpRequest  # pylint: disable=import-outside-toplevel

        endpoint = self.mod.azure_settings()["arm_endpoint"]
        url = f"{endpoint}{str(subnet_id).strip().rstrip('/')}?api-version={NETWORK_API_VERSION}"
        response = self.client.send_request(HttpRequest("GET", url, headers={"Accept": "application/json"}))
        if response.status_code == 404:
            raise ModuleFailure(
                f"Preflight refused the cluster plan: {option}: {subnet_id!r} does not exist (Azure answered 404 for the subnet); "
                "AKS rejects a subnet that does not exist (SubnetNotFound). Create the subnet or correct the id. Nothing was created or changed.",
                errors=[f"{option}: {subnet_id!r} does not exist"],
            )
        if response.status_code >= 400:
            self.warn(
                f"{option}: could not read the subnet's address prefix (Azure answered {response.status_code}); the preflight skipped "
                "the subnet overlap and size checks. Set vnet_subnet_cidr / pod_subnet_cidr to check them."
            )
            return None
        props = (response.json() or {}).get("properties") or {}
        prefix = props.get("addressPrefix") or next(iter(props.get("addressPrefixes") or []), None)
        return prefix

    def subnet_cidrs(self, current=None):
        """(vnet_subnet_cidr, pod_subnet_cidr) from the options or, failing that, looked up in Azure."""
        pool = _prune(self.params.get("system_pool") or {})
        if current:
            pools = get_path(current, POOLS_PATH, []) or []
            index = match_pool(pools, pool)
            if index is not None:
                pool.setdefault("vnet_subnet_id", pools[index].get("vnetSubnetID"))
                pool.setdefault("pod_subnet_id", pools[index].get("podSubnetID"))
        node_cidr, pod_cidr = self.params.get("vnet_subnet_cidr"), self.params.get("pod_subnet_cidr")
        if node_cidr is None and pool.get("vnet_subnet_id"):
            node_cidr = self.subnet_prefix("system_pool.vnet_subnet_id", pool["vnet_subnet_id"])
        if pod_cidr is None and pool.get("pod_subnet_id"):
            pod_cidr = self.subnet_prefix("system_pool.pod_subnet_id", pool["pod_subnet_id"])
        return node_cidr, pod_cidr

    def preflight(self, current=None, node_cidr=None, pod_cidr=None):
        params = self.params
        return preflight(
            params,
            current=current,
            vnet_subnet_cidr=node_cidr if node_cidr is not None else params.get("vnet_subnet_cidr"),
            pod_subnet_cidr=pod_cidr if pod_cidr is not None else params.get("pod_subnet_cidr"),
            avoid_cidrs=params.get("avoid_cidrs"),
            max_surge=params.get("max_surge"),
        )

    # writes -------------------------------------------------------------------------------
    def _lro_kwargs(self):
        if not self.params["wait"]:
            return {"polling": False}
        return {"polling_interval": POLL_FALLBACK_SECONDS}

    def _finish(self, poller, what):
        from azure.core.exceptions import HttpResponseError  # pylint: disable=import-outside-toplevel

        if not self.params["wait"]:
            return poller.result()
        try:
            return wait_for(poller, what, self.params["wait_timeout"])
        except HttpResponseError as exc:
            status = getattr(exc, "status_code", None)
            if status is not None and status >= 400:
                raise
            # The operation itself ended Failed (the status poll answered 200 with status Failed).
            error = getattr(exc, "error", None)
            code = getattr(error, "code", None) or "OperationFailed"
            message = (getattr(error, "message", None) or str(exc)).strip().rstrip(".")
            text = f"Azure's operation to {what} ended Failed with {code}: {message}."
            fix = FIXES.get(code)
            if fix:
                text += f" Fix: {fix}"
            raise AzureApiError(text, code=code, status=status, target=getattr(error, "target", None)) from None

    # state present ------------------------------------------------------------------------
    def present(self):
        params = self.params
        warnings = []
        current = None
        if params["validate"]:
            errors, warnings = self.preflight()
            if errors and not params.get("location"):
                # Without location this can only be an update (a create needs one), and only the options given are
                # compared: judge a partial update together with the profile the cluster runs. Read it (a GET,
                # nothing is changed) and judge again. A plan with location is judged as given, before any request.
                self.require_sdk()
                current = self.get_cluster()
                if current is None:
                    raise _preflight_failure(errors, warnings, "the cluster does not exist, nothing was sent to Azure")
                errors, warnings = self.preflight(current=current)
            if errors:
                raise _preflight_failure(errors, warnings, "nothing was sent to Azure" if current is None else "the cluster was read, nothing was changed")
        self.require_sdk()
        desired = build_desired(params)
        current = current or self.get_cluster()
        result = self.create(desired, warnings) if current is None else self.update(current, desired, warnings)
        for text in warnings:
            self.warn(text)
        return result

    def create(self, desired, warnings):
        params = self.params
        if not params.get("location"):
            raise ModuleFailure(
                f"location is required to create cluster {self.name!r} in {self.group} (it does not exist yet); set location, for example westeurope."
            )
        body = creation_body(desired, self.name)
        pools = get_path(body, POOLS_PATH) or []
        if not pools:
            body["properties"]["agentPoolProfiles"] = pools = [{"name": DEFAULT_POOL_NAME, "mode": "System"}]
        pools[0].setdefault("name", DEFAULT_POOL_NAME)
        if params["validate"]:
            node_cidr, pod_cidr = self.subnet_cidrs()
            if node_cidr or pod_cidr:
                errors, more = self.preflight(node_cidr=node_cidr, pod_cidr=pod_cidr)
                warnings.extend(w for w in more if w not in warnings)
                if errors:
                    raise _preflight_failure(errors, warnings, "the subnets were read, nothing was created")
        diff = {"before": {}, "after": _requested(params)}
        result = {"changed": True, "action": "create", "cluster": {}, "diff": diff, "migrations": []}
        if self.mod.check_mode:
            return result
        what = f"create AKS cluster {self.name} in {self.group}"
        poller = self.client.managed_clusters.begin_create_or_update(self.group, self.name, body, **self._lro_kwargs())
        created = self._finish(poller, what)
        result["cluster"] = cluster_facts(created.as_dict() if created is not None else self.get_cluster())
        return result

    def reconcile(self, current, body):
        """A cluster left in provisioning state Failed: PUT its own body again, which AKS accepts to recover it."""
        diff = {"before": {"provisioning_state": "Failed"}, "after": {"provisioning_state": "Succeeded"}}
        result = {"changed": True, "action": "reconcile", "cluster": cluster_facts(current), "diff": diff, "migrations": [],
                  "reconciled": True}
        self.warn(f"cluster {self.name} was in provisioning state Failed (an earlier operation failed); "
                  + ("it would be reconciled with a PUT of its current configuration." if self.mod.check_mode
                     else "reconciling it with a PUT of its current configuration, as 'az aks update' does."))
        if self.mod.check_mode:
            return result
        self._sync_cidr_lists(body)
        what = f"reconcile AKS cluster {self.name} in {self.group} (provisioning state Failed)"
        poller = self.client.managed_clusters.begin_create_or_update(self.group, self.name, body, **self._lro_kwargs())
        updated = self._finish(poller, what)
        result["cluster"] = cluster_facts(updated.as_dict() if updated is not None else self.get_cluster())
        return result

    def update(self, current, desired, warnings):
        params = self.params
        state = str(get_path(current, ("properties", "provisioningState")) or "")
        if params["validate"]:
            refused = immutable_changes(current, desired)
            if refused:
                raise ModuleFailure(
                    f"Cluster {self.name!r} cannot be changed in place as asked (nothing was sent to Azure): " + " ".join(refused),
                    errors=refused,
                )
        changed, body, diff = compute_update(current, desired, params["append_tags"])
        if not changed and state.lower() == "failed":
            return self.reconcile(current, body)
        if not changed:
            return {"changed": False, "action": "none", "cluster": cluster_facts(current), "diff": {"before": {}, "after": {}}, "migrations": []}
        if params["validate"]:
            node_cidr, pod_cidr = self.subnet_cidrs(current)
            errors, more = self.preflight(current=current, node_cidr=node_cidr, pod_cidr=pod_cidr)
            # Problems the cluster already has are not this change's fault: only new ones stop the update.
            baseline, _warn = preflight(
                {"name": params["name"]}, current=current, vnet_subnet_cidr=node_cidr, pod_subnet_cidr=pod_cidr,
                avoid_cidrs=params.get("avoid_cidrs"), max_surge=params.get("max_surge"),
            )
            new_errors = [e for e in errors if e not in baseline]
            warnings.extend(w for w in more if w not in warnings)
            warnings.extend(f"existing cluster: {e}" for e in errors if e in baseline)
            if new_errors:
                raise _preflight_failure(new_errors, warnings, "nothing was changed")
        found = migrations(current, desired)
        irreversible = [item for item in found if item["name"] in IRREVERSIBLE_MIGRATIONS]
        if irreversible and not params["allow_migration"] and not self.mod.check_mode:
            names = "; ".join(f"{item['name']} ({item['description']}; {item['notes']})" for item in irreversible)
            raise ModuleFailure(
                f"Cluster {self.name!r}: this change is an irreversible in-place migration: {names}. It reimages every node pool "
                "and cannot be undone. Nothing was sent to Azure. Set allow_migration: true (role: cluster_allow_migration) to run it; "
                "check mode and diff show the plan without it.",
                migrations=found, diff=diff,
            )
        for item in found:
            warnings.append(f"migration {item['name']}: {item['description']}; {item['notes']}")
        self._sync_cidr_lists(body)
        result = {"changed": True, "action": "migrate" if found else "update", "cluster": cluster_facts(current), "diff": diff,
                  "migrations": found}
        if self.mod.check_mode:
            return result
        if state.lower() in TRANSITIONAL:
            self.warn(f"cluster {self.name} is {state}; Azure refuses a new operation until it finishes (OperationNotAllowed).")
        what = f"update AKS cluster {self.name} in {self.group}"
        poller = self.client.managed_clusters.begin_create_or_update(self.group, self.name, body, **self._lro_kwargs())
        updated = self._finish(poller, what)
        result["cluster"] = cluster_facts(updated.as_dict() if updated is not None else self.get_cluster())
        return result

    @staticmethod
    def _sync_cidr_lists(body):
        """Keep podCidrs / serviceCidrs consistent with podCidr / serviceCidr in the PUT body (single-stack clusters)."""
        profile = get_path(body, ("properties", "networkProfile"))
        if not isinstance(profile, dict):
            return
        for single, plural in (("podCidr", "podCidrs"), ("serviceCidr", "serviceCidrs")):
            values = profile.get(plural)
            if profile.get(single) and isinstance(values, list) and len(values) <= 1:
                profile[plural] = [profile[single]]

    # state absent -------------------------------------------------------------------------
    def absent(self):
        self.require_sdk()
        current = self.get_cluster(missing_group_is_absent=True)
        if current is None:
            return {"changed": False, "action": "none", "cluster": {}, "diff": {"before": {}, "after": {}}, "migrations": []}
        result = {
            "changed": True,
            "action": "delete",
            "cluster": {},
            "diff": {"before": {"name": self.name, "state": "present"}, "after": {"name": self.name, "state": "absent"}},
            "migrations": [],
        }
        if self.mod.check_mode:
            result["cluster"] = cluster_facts(current)
            return result
        what = f"delete AKS cluster {self.name} in {self.group}"
        poller = self.client.managed_clusters.begin_delete(self.group, self.name, **self._lro_kwargs())
        self._finish(poller, what)
        return result


def run(mod):
    surge = mod.params["max_surge"]
    text = str(surge).strip()
    number = text[:-1] if text.endswith("%") else text
    if not number.isdigit():
        raise ModuleFailure(f"max_surge {surge!r} is not a number of nodes or a percentage; use for example 1 or 33%.")
    runner = ClusterRunner(mod)
    if mod.params["state"] == "absent":
        return runner.absent()
    return runner.present()


def main():
    mod = AksnetModule(ARGUMENT_SPEC, auth="azure")
    verb = "delete" if mod.params["state"] == "absent" else "create or update"
    mod.run(run, f"{verb} AKS cluster {mod.params['name']} in {mod.params['resource_group']}")


if __name__ == "__main__":
    main()

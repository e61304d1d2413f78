# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: aks
short_description: AKS clusters of one or more Azure subscriptions as inventory hosts
version_added: 0.1.0
description:
  - Lists the AKS managed clusters of one or more subscriptions (one paginated LIST per subscription, or per resource group
    with O(resource_groups)) and adds each as a host with its facts and network profile as host variables.
  - Groups every host in C(aks) and by network plugin (C(aks_plugin_azure), C(aks_plugin_kubenet), C(aks_plugin_none)),
    plugin mode (C(aks_plugin_mode_overlay), C(aks_plugin_mode_none)), dataplane (C(aks_dataplane_azure), C(aks_dataplane_cilium)),
    network policy (C(aks_policy_none), C(aks_policy_azure), C(aks_policy_calico), C(aks_policy_cilium)) and location
    (C(aks_location_westeurope)); values Azure leaves empty group under C(none). Group names are sanitised by Ansible's rules.
  - "Host name: the cluster name. When a name occurs more than once (same name in two resource groups or subscriptions),
    each of those hosts is named C(<resource group>/<name>), and C(<subscription id>/<resource group>/<name>) if that is still
    ambiguous; a warning says so. Clusters with a unique name keep the plain name, so playbooks can target them by it."
  - "Host variables: C(ansible_connection: local) (the clusters are reached through Azure and Kubernetes APIs from the controller),
    C(aks_cluster) (the facts of M(aksnet.networking.cluster_info) for this cluster, which O(aksnet.networking.diagnose#module:cluster_facts)
    accepts), and the shortcuts C(aks_name), C(aks_resource_group), C(aks_subscription_id), C(aks_location), C(aks_network_profile)."
  - Supports Ansible's inventory cache (O(cache)) and the C(constructed) features (O(compose), O(groups), O(keyed_groups)).
  - The configuration file name must end with C(aks.yml) or C(aks.yaml).
author:
  - aksnet.networking contributors (@aksnet)
requirements:
  - azure-identity >= 1.19.0
  - azure-mgmt-containerservice >= 41.0.0
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks the file as a source for this plugin.
    type: str
    required: true
    choices: [aksnet.networking.aks]
  subscriptions:
    description:
      - Subscription ids whose clusters are listed. Empty means the subscription of the authentication (O(subscription_id)).
    type: list
    elements: str
    default: []
  resource_groups:
    description:
      - Only clusters in these resource groups (names compared case-insensitively, as Azure does).
    type: list
    elements: str
    default: []
  tags:
    description:
      - Only clusters carrying all these tags with these values (values compared exactly).
    type: dict
    default: {}
  name_pattern:
    description:
      - Only clusters whose name matches. A shell-style glob (V(prod-*)), or a Python regular expression when prefixed with C(re:)
        (V(re:prod-[0-9]+), matched against the whole name).
    type: str
  auth_source:
    description:
      - Where the Azure credentials come from, as for the modules (V(auto), V(env), V(cli), V(msi)).
    type: str
    choices: [auto, env, cli, msi]
    default: auto
    env:
      - name: ANSIBLE_AZURE_AUTH_SOURCE
  subscription_id:
    description:
      - Subscription of the authentication; listed when O(subscriptions) is empty.
    type: str
    env:
      - name: AZURE_SUBSCRIPTION_ID
  client_id:
    description:
      - Service principal application (client) id, or the client id of a user-assigned managed identity.
    type: str
    env:
      - name: AZURE_CLIENT_ID
  secret:
    description:
      - Service principal secret.
    type: str
    env:
      - name: AZURE_SECRET
      - name: AZURE_CLIENT_SECRET
  tenant:
    description:
      - Microsoft Entra tenant id of the service principal.
    type: str
    env:
      - name: AZURE_TENANT
      - name: AZURE_TENANT_ID
  cloud_environment:
    description:
      - V(AzureCloud), V(AzureChinaCloud), V(AzureUSGovernment), or the C(https://) URL of a custom Resource Manager endpoint.
    type: str
    default: AzureCloud
    env:
      - name: AZURE_CLOUD_ENVIRONMENT
  arm_endpoint:
    description:
      - Resource Manager endpoint that overrides the one of O(cloud_environment).
    type: str
    env:
      - name: AZURE_ARM_ENDPOINT
  authority_host:
    description:
      - Microsoft Entra authority host that overrides the one of O(cloud_environment).
    type: str
    env:
      - name: AZURE_AUTHORITY_HOST
"""

EXAMPLES = r"""
# prod.aks.yml: every cluster of two subscriptions tagged env=prod, cached for an hour
plugin: aksnet.networking.aks
subscriptions:
  - 00000000-0000-0000-0000-000000000000
  - 11111111-1111-1111-1111-111111111111
tags:
  env: prod
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/aksnet-inventory
cache_timeout: 3600
keyed_groups:
  - key: aks_cluster.tags.team | default('none')
    prefix: team

# Then: ansible-playbook -i prod.aks.yml aksnet.networking.diagnose --limit aks_plugin_kubenet

# platform.aks.yml: clusters of one resource group whose name starts with "platform-", Cilium ones grouped
plugin: aksnet.networking.aks
resource_groups: [platform-rg]
name_pattern: platform-*
groups:
  ebpf: aks_network_profile.dataplane == 'cilium'
compose:
  kubeconfig_path: "'/tmp/kube/' ~ inventory_hostname | replace('/', '_')"
"""

import fnmatch  # noqa: E402
import re  # noqa: E402

from ansible.errors import AnsibleParserError  # noqa: E402
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable  # noqa: E402
from ansible.utils.display import Display  # noqa: E402

from ansible_collections.aksnet.networking.plugins.module_utils._aks.facts import cluster_facts  # noqa: E402
from ansible_collections.aksnet.networking.plugins.module_utils._azure.auth import AzureAuthError, build_credential, resolve_settings  # noqa: E402
from ansible_collections.aksnet.networking.plugins.module_utils._azure.errors import describe  # noqa: E402

display = Display()

AUTH_OPTIONS = ("auth_source", "subscription_id", "client_id", "secret", "tenant", "cloud_environment", "arm_endpoint", "authority_host")
GROUPED = (("plugin", "aks_plugin"), ("plugin_mode", "aks_plugin_mode"), ("dataplane", "aks_dataplane"), ("policy", "aks_policy"))


def name_matcher(pattern):
    """A predicate for ``name_pattern``: glob, or ``re:`` + regular expression (full match). Raises ValueError when invalid."""
    if not pattern:
        return lambda name: True
    if pattern.startswith("re:"):
        try:
            compiled = re.compile(pattern[3:])
        except re.error as exc:
            raise ValueError(f"name_pattern {pattern!r} is not a valid regular expression ({exc}): fix it or use a glob without the re: prefix.") from None
        return lambda name: compiled.fullmatch(name or "") is not None
    return lambda name: fnmatch.fnmatchcase(name or "", pattern)


def select(clusters, resource_groups=(), tags=None, pattern=None):
    """The clusters (cluster_facts dicts) that pass every filter."""
    groups = {g.lower() for g in resource_groups or ()}
    matches = name_matcher(pattern)
    kept = []
    for facts in clusters:
        if groups and str(facts.get("resource_group") or "").lower() not in groups:
            continue
        have = facts.get("tags") or {}
        if any(have.get(key) != str(value) for key, value in (tags or {}).items()):
            continue
        if not matches(facts.get("name")):
            continue
        kept.append(facts)
    return kept


def host_names(clusters):
    """Host name per cluster (same order): the name, or ``rg/name`` (then ``sub/rg/name``) where names collide."""
    def count(keyfunc):
        seen = {}
        for facts in clusters:
            seen[keyfunc(facts)] = seen.get(keyfunc(facts), 0) + 1
        return seen

    by_name = count(lambda f: f["name"])
    by_rg = count(lambda f: f"{f.get('resource_group')}/{f['name']}".lower())
    names = []
    for facts in clusters:
        if by_name[facts["name"]] == 1:
            names.append(facts["name"])
        elif by_rg[f"{facts.get('resource_group')}/{facts['name']}".lower()] == 1:
            names.append(f"{facts.get('resource_group')}/{facts['name']}")
        else:
            names.append(f"{facts.get('subscription_id')}/{facts.get('resource_group')}/{facts['name']}")
    return names


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "aksnet.networking.aks"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("aks.yml", "aks.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        pattern = self.get_option("name_pattern")
        try:
            name_matcher(pattern)
        except ValueError as exc:
            raise AnsibleParserError(str(exc)) from None

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        clusters = None
        if use_cache:
            try:
                clusters = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if clusters is None:
            clusters = self._fetch()
        if update_cache:
            self._cache[cache_key] = clusters
        self._populate(select(clusters, self.get_option("resource_groups"), self.get_option("tags"), pattern))

    def _settings(self):
        params = {name: self.get_option(name) for name in AUTH_OPTIONS}
        try:
            return resolve_settings(params)
        except AzureAuthError as exc:
            raise AnsibleParserError(f"aksnet.networking.aks: {exc}") from None

    def _fetch(self):
        """Cluster facts of every listed subscription (filters that the API can apply are applied there)."""
        settings = self._settings()
        try:
            from azure.mgmt.containerservice import ContainerServiceClient  # pylint: disable=import-outside-toplevel

            credential = build_credential(settings)
        except ImportError as exc:
            raise AnsibleParserError(f"aksnet.networking.aks needs azure-mgmt-containerservice and azure-identity: pip install them ({exc}).") from None
        subscriptions = self.get_option("subscriptions") or [settings["subscription_id"]]
        groups = self.get_option("resource_groups")
        found = []
        for subscription in subscriptions:
            client = ContainerServiceClient(credential, subscription, base_url=settings["arm_endpoint"], credential_scopes=[settings["scope"]],
                                            user_agent="aksnet.networking-inventory")
            try:
                if groups:
                    for group in groups:
                        found.extend(cluster_facts(c.as_dict()) for c in client.managed_clusters.list_by_resource_group(group))
                else:
                    found.extend(cluster_facts(c.as_dict()) for c in client.managed_clusters.list())
            except Exception as exc:  # pylint: disable=broad-exception-caught  # azure-core and azure-identity errors, mapped to one sentence
                if not type(exc).__module__.startswith(("azure.", "msal")):
                    raise
                raise AnsibleParserError(f"aksnet.networking.aks: {describe(exc, f'list the AKS clusters of subscription {subscription}')}") from None
        return found

    def _populate(self, clusters):
        strict = self.get_option("strict")
        names = host_names(clusters)
        if len(set(names)) != len(names) or any("/" in n for n in names):
            display.warning("aksnet.networking.aks: cluster names occur more than once; those hosts are named <resource group>/<name>.")
        self.inventory.add_group("aks")
        for facts, host in zip(clusters, names, strict=True):
            self.inventory.add_host(host, group="aks")
            profile = facts.get("network_profile") or {}
            hostvars = {
                "ansible_connection": "local",
                "aks_cluster": facts,
                "aks_name": facts.get("name"),
                "aks_resource_group": facts.get("resource_group"),
                "aks_subscription_id": facts.get("subscription_id"),
                "aks_location": facts.get("location"),
                "aks_network_profile": profile,
            }
            for key, value in hostvars.items():
                self.inventory.set_variable(host, key, value)
            for field, prefix in GROUPED:
                value = profile.get(field)
                group = self._sanitize_group_name(f"{prefix}_{str(value).lower() if value else 'none'}")
                self.inventory.add_group(group)
                self.inventory.add_child(group, host)
            location = str(facts.get("location") or "none").replace(" ", "").lower()
            group = self._sanitize_group_name(f"aks_location_{location}")
            self.inventory.add_group(group)
            self.inventory.add_child(group, host)
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)

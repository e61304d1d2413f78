#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: kubeconfig
short_description: Write an AKS cluster's user or admin kubeconfig to a file (mode 0600)
version_added: 0.1.0
description:
  - Fetches the cluster's user credentials (C(listClusterUserCredential)) or admin credentials
    (C(listClusterAdminCredential)) and writes the kubeconfig to O(dest) with mode C(0600), atomically.
  - Reports C(changed) only when the file's content or mode differs. The kubeconfig's content is never returned or logged.
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
  admin:
    description:
      - Fetch the cluster admin credentials instead of the user credentials.
      - Admin credentials are refused by clusters with local accounts disabled.
    type: bool
    default: false
  format:
    description:
      - Credential format of user credentials on Microsoft Entra ID clusters. V(exec) returns a kubeconfig that uses kubelogin.
      - Not sent when not set.
    type: str
    choices: [azure, exec]
  dest:
    description: Path of the kubeconfig file to write. Its directory must exist.
    type: path
    required: true
extends_documentation_fragment:
  - aksnet.networking.azure
  - aksnet.networking.attributes
attributes:
  check_mode:
    support: full
    details: The credentials are read (a read-only action in Azure) to tell whether the file would change; nothing is written.
  diff_mode:
    support: partial
    details: The diff says whether the file exists, its mode and whether the content changes, never the content.
  idempotent:
    support: full
notes:
  - The file holds a credential. It is always written with mode C(0600).
requirements:
  - azure-mgmt-containerservice >= 41.0.0
"""

EXAMPLES = r"""
- name: Kubeconfig for the playbook's Kubernetes tasks
  aksnet.networking.kubeconfig:
    resource_group: platform-rg
    name: prod-aks
    dest: "{{ playbook_dir }}/.kube/prod-aks.yaml"
  register: kc

- name: Use it
  aksnet.networking.snapshot:
    kubeconfig: "{{ kc.dest }}"
    dest: /tmp/prod-aks-snapshot.yaml
"""

RETURN = r"""
dest:
  description: Path of the kubeconfig file.
  returned: always
  type: str
context:
  description: The kubeconfig's current context.
  returned: always
  type: str
server:
  description: API server URL of the kubeconfig's current cluster.
  returned: always
  type: str
credential:
  description: Which credentials were written.
  returned: always
  type: str
  sample: user
"""

import os

from ansible_collections.aksnet.networking.plugins.module_utils._azure.errors import CREDENTIAL_ROLE_FIXES, describe
from ansible_collections.aksnet.networking.plugins.module_utils._common.files import PRIVATE_MODE, file_mode, write_private
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure


def _summary(content):
    """Current context and its server, read from the kubeconfig text (no secrets)."""
    import yaml  # pylint: disable=import-outside-toplevel

    try:
        doc = yaml.safe_load(content) or {}
    except yaml.YAMLError:
        return None, None
    context_name = doc.get("current-context")
    context = next((c.get("context") or {} for c in doc.get("contexts") or [] if c.get("name") == context_name), {})
    cluster = next((c.get("cluster") or {} for c in doc.get("clusters") or [] if c.get("name") == context.get("cluster")), {})
    return context_name, cluster.get("server")


def run(mod):
    params = mod.params
    dest = params["dest"]
    mod.dest_directory(fix="create it first (ansible.builtin.file state=directory mode=0700).")
    if params["admin"] and params["format"]:
        raise ModuleFailure("format applies to user credentials only: remove format or set admin: false.")
    client = mod.azure("containerservice")
    group, name = params["resource_group"], params["name"]
    kind = "admin" if params["admin"] else "user"
    try:
        if params["admin"]:
            creds = client.managed_clusters.list_cluster_admin_credentials(group, name)
        else:
            kwargs = {"format": params["format"]} if params["format"] else {}
            creds = client.managed_clusters.list_cluster_user_credentials(group, name, **kwargs)
    except Exception as exc:  # pylint: disable=broad-except
        if not type(exc).__module__.startswith(("azure.", "msal")):
            raise
        # the role that grants this credential action, not the generic one
        raise describe(exc, f"get the {kind} credentials of cluster {name}", fixes={"AuthorizationFailed": CREDENTIAL_ROLE_FIXES[kind]}) from None
    kubeconfigs = creds.kubeconfigs or []
    if not kubeconfigs or not kubeconfigs[0].value:
        raise ModuleFailure(f"Azure returned no kubeconfig for cluster {name} in {group}.")
    content = kubeconfigs[0].value
    if isinstance(content, str):
        content = content.encode("utf-8")

    mode = file_mode(dest)
    exists = mode is not None
    current = b""
    if exists:
        with open(dest, "rb") as handle:
            current = handle.read()
    content_changed = current != content
    changed = content_changed or mode != PRIVATE_MODE
    context, server = _summary(content)
    result = {
        "changed": changed,
        "dest": dest,
        "context": context,
        "server": server,
        "credential": "admin" if params["admin"] else "user",
        "diff": {
            "before": {"path": dest, "exists": exists, "mode": f"{mode:04o}" if mode is not None else None},
            "after": {"path": dest, "exists": True, "mode": f"{PRIVATE_MODE:04o}", "content": "changed" if content_changed else "unchanged"},
        },
    }
    if changed and not mod.check_mode:
        if content_changed:
            write_private(dest, content, prefix=".kubeconfig-")
        os.chmod(dest, PRIVATE_MODE)
    return result


def main():
    mod = AksnetModule(
        {
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "admin": {"type": "bool", "default": False},
            "format": {"type": "str", "choices": ["azure", "exec"]},
            "dest": {"type": "path", "required": True},
        },
        auth="azure",
        libraries=("azure.identity", "azure.mgmt.containerservice", "yaml"),
    )
    mod.run(run, f"get the credentials of cluster {mod.params['name']}")


if __name__ == "__main__":
    main()

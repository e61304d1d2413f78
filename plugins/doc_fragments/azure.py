# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure authentication options shared by the Azure modules."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  auth_source:
    description:
      - Where the Azure credentials come from.
      - V(auto) uses a service principal when O(client_id), O(secret) and O(tenant) are all set, otherwise
        azure-identity's default chain (environment, workload identity, managed identity, Azure CLI).
      - V(env) requires a service principal from the options or the E(AZURE_CLIENT_ID), E(AZURE_SECRET), E(AZURE_TENANT) variables.
      - V(cli) uses the account of C(az login); V(msi) uses the managed identity of the host.
      - Falls back to E(ANSIBLE_AZURE_AUTH_SOURCE). When not set, V(auto) is used.
    type: str
    choices: [auto, env, cli, msi]
  subscription_id:
    description:
      - Azure subscription id. Falls back to E(AZURE_SUBSCRIPTION_ID). Required for every Azure request.
    type: str
  client_id:
    description:
      - Service principal application (client) id, or the client id of a user-assigned managed identity.
        Falls back to E(AZURE_CLIENT_ID).
    type: str
  secret:
    description:
      - Service principal secret. Falls back to E(AZURE_SECRET) (or E(AZURE_CLIENT_SECRET)). Never logged.
    type: str
  tenant:
    description:
      - Microsoft Entra tenant id of the service principal. Falls back to E(AZURE_TENANT) (or E(AZURE_TENANT_ID)).
    type: str
  cloud_environment:
    description:
      - V(AzureCloud), V(AzureChinaCloud), V(AzureUSGovernment), or the C(https://) URL of a custom Resource Manager endpoint.
      - Falls back to E(AZURE_CLOUD_ENVIRONMENT).
    type: str
    default: AzureCloud
  arm_endpoint:
    description:
      - Resource Manager endpoint that overrides the one of O(cloud_environment) (sovereign or private clouds, test labs).
        Falls back to E(AZURE_ARM_ENDPOINT).
    type: str
  authority_host:
    description:
      - Microsoft Entra authority host that overrides the one of O(cloud_environment). Falls back to E(AZURE_AUTHORITY_HOST).
    type: str
requirements:
  - azure-identity >= 1.19.0
notes:
  - Requests are retried by azure-core on 429 and transient 5xx answers, honouring C(Retry-After).
"""

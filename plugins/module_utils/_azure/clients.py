# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client factory: builds only the management client a module asks for, importing only its SDK."""

from __future__ import annotations

import importlib

from .auth import build_credential

# service -> (python module, client class, pip distribution)
SERVICES = {
    "containerservice": ("azure.mgmt.containerservice", "ContainerServiceClient", "azure-mgmt-containerservice"),
    "network": ("azure.mgmt.network", "NetworkManagementClient", "azure-mgmt-network"),
}


class AzureClients:
    """One credential and one client per service for the lifetime of a module run."""

    def __init__(self, settings: dict, user_agent: str = "aksnet.networking"):
        self.settings = settings
        self.user_agent = user_agent
        self._credential = None
        self._clients: dict = {}

    @property
    def credential(self):
        if self._credential is None:
            self._credential = build_credential(self.settings)
        return self._credential

    def get(self, service: str):
        if service not in self._clients:
            module_name, class_name, _dist = SERVICES[service]
            client_class = getattr(importlib.import_module(module_name), class_name)
            self._clients[service] = client_class(
                self.credential,
                self.settings["subscription_id"],
                base_url=self.settings["arm_endpoint"],
                credential_scopes=[self.settings["scope"]],
                user_agent=self.user_agent,
            )
        return self._clients[service]

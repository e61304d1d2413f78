# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module wrapper every aksnet.networking module uses.

It merges the shared option sets (Azure and/or Kubernetes authentication), checks the libraries a
module needs one by one (``missing_required_lib`` with the import error), validates the
authentication settings before any request, builds clients lazily (one per run), and reports
every failure the same way: one sentence in ``msg``, structured ``error`` details, no traceback.
"""

from __future__ import annotations

import importlib
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ._azure.auth import AZURE_AUTH_SPEC, AzureAuthError, resolve_settings
from ._azure.errors import AzureApiError, describe
from ._azure.lro import OperationTimeout
from ._common.diff import readable_diff
from ._kube.client import KUBE_AUTH_SPEC, KubeApiError, KubeConfigError

# import name -> pip distribution, for the dependency check
LIBRARIES = {
    "azure.identity": "azure-identity",
    "azure.mgmt.containerservice": "azure-mgmt-containerservice",
    "azure.mgmt.network": "azure-mgmt-network",
    "kubernetes": "kubernetes",
    "urllib3": "urllib3",
    "yaml": "PyYAML",
}


class ModuleFailure(Exception):
    """Raised by module code to fail with a message and extra result keys."""

    def __init__(self, msg, **result):
        super().__init__(msg)
        self.msg = msg
        self.result = result


def merged_spec(argument_spec, auth=None):
    """A module's whole argument spec: the shared option sets ``auth`` names, then the module's own options."""
    spec = {}
    if auth in ("azure", "both"):
        spec.update(AZURE_AUTH_SPEC)
    if auth in ("kube", "both"):
        spec.update(KUBE_AUTH_SPEC)
    spec.update(argument_spec)
    return spec


class AksnetModule:
    """Wraps AnsibleModule (composition, not inheritance).

    ``auth``: "azure", "kube", "both" or None — which shared option sets to add.
    ``libraries``: import names checked before anything else runs.
    """

    def __init__(self, argument_spec, auth=None, libraries=(), **kwargs):
        kwargs.setdefault("supports_check_mode", True)
        self.module = AnsibleModule(argument_spec=merged_spec(argument_spec, auth), **kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.auth = auth
        self._azure = None
        self._kube = None
        self.warnings = []
        for name in libraries:
            self.require(name)

    def require(self, import_name):
        try:
            importlib.import_module(import_name)
        except ImportError:
            dist = LIBRARIES.get(import_name, import_name)
            self.module.fail_json(msg=missing_required_lib(dist), exception=traceback.format_exc())

    def dest_directory(self, option="dest", fix="create it first."):
        """The existing directory that will hold the file named by the path option ``option``.

        Fails before any request when it does not exist; ``fix`` ends the message with how to create it.
        """
        dest = self.params[option]
        directory = os.path.dirname(os.path.abspath(dest))
        if not os.path.isdir(directory):
            raise ModuleFailure(f"{option} {dest!r}: directory {directory} does not exist; {fix}")
        return directory

    # clients -------------------------------------------------------------------------------
    def azure(self, service):
        """The management client for ``service`` ("containerservice", "network")."""
        if self._azure is None:
            from ._azure.clients import AzureClients  # pylint: disable=import-outside-toplevel

            try:
                settings = resolve_settings(self.params)
            except AzureAuthError as exc:
                raise ModuleFailure(str(exc)) from None
            self._azure = AzureClients(settings)
        return self._azure.get(service)

    def azure_settings(self):
        try:
            return resolve_settings(self.params)
        except AzureAuthError as exc:
            raise ModuleFailure(str(exc)) from None

    def kube(self):
        if self._kube is None:
            from ._kube.client import KubeClient  # pylint: disable=import-outside-toplevel

            self._kube = KubeClient(self.params)
        return self._kube

    def kube_unless_snapshot(self, snapshot):
        """The Kubernetes client for a live read, or None when the data comes from ``snapshot``.

        The Kubernetes libraries are required only for a live read: reading a snapshot file needs none.
        """
        if snapshot:
            return None
        self.require("kubernetes")
        self.require("urllib3")
        return self.kube()

    # results -------------------------------------------------------------------------------
    def warn(self, text):
        self.warnings.append(text)
        self.module.warn(text)

    def _api_server_warnings(self):
        for text in getattr(self._kube, "api_warnings", None) or []:
            self.module.warn(f"Kubernetes API server: {text}")

    def exit(self, **result):
        self._api_server_warnings()
        if "diff" in result:
            result["diff"] = readable_diff(result["diff"])
        self.module.exit_json(**result)

    def fail(self, msg, **result):
        self._api_server_warnings()
        # fail_json(warnings=...) is deprecated in ansible-core 2.19 (removed in 2.23): warnings go through warn()
        for text in result.pop("warnings", None) or []:
            self.module.warn(text)
        if "diff" in result:
            result["diff"] = readable_diff(result["diff"])
        self.module.fail_json(msg=msg, **result)

    def run(self, func, action):
        """Run ``func(self)`` and exit with its result dict; map every known error to one sentence.

        ``action`` describes what the module does ("read cluster lab-aks"), for Azure error texts.
        """
        try:
            result = func(self)
        except Exception as exc:  # pylint: disable=broad-except
            failure = known_failure(exc, action)
            if failure is None:
                raise
            self.fail(failure[0], **failure[1])
        self.exit(**result)


def known_failure(exc, action):
    """``(msg, result keys)`` of an error every module reports the same way, or None for an unexpected one.

    ``action`` describes what the module does ("read cluster lab-aks"), for Azure error texts.
    """
    if isinstance(exc, ModuleFailure):
        return exc.msg, dict(exc.result)
    if isinstance(exc, AzureAuthError):
        return str(exc), {"error": {"code": "InvalidAuthSettings"}}
    if isinstance(exc, OperationTimeout):
        return str(exc), {"error": {"code": "OperationTimeout"}}
    if isinstance(exc, AzureApiError):
        return str(exc), {"error": exc.as_result()}
    if isinstance(exc, (KubeConfigError, KubeApiError)):
        return str(exc), {"error": {"status": getattr(exc, "status", None), "reason": getattr(exc, "reason", None)}}
    if type(exc).__module__.startswith(("azure.", "msal")):
        mapped = describe(exc, action)
        return str(mapped), {"error": mapped.as_result()}
    return None

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn Azure SDK exceptions into one clear sentence: ARM error code, target, message, request id, fix."""

from __future__ import annotations

# A one-line fix for ARM / AKS error codes users meet most; the service's own message always comes first.
FIXES = {
    "AuthenticationFailed": "check the credentials (auth_source, client_id/secret/tenant) and the cloud_environment.",
    "InvalidAuthenticationToken": "the token is not valid for this cloud: check cloud_environment / arm_endpoint.",
    "AuthorizationFailed": (
        "grant the identity a role that allows this action on the resource group "
        "(for example 'Azure Kubernetes Service Contributor Role' to create and update clusters)."
    ),
    "ResourceGroupNotFound": "create the resource group first or correct the resource_group option.",
    "ResourceNotFound": "check the resource name and resource_group.",
    "SubscriptionNotFound": "check subscription_id (az account list -o table).",
    "OperationNotAllowed": "another operation is running on this resource: wait for it to finish, then retry.",
    "Conflict": "another operation is running on this resource: wait for it to finish, then retry.",
    "ServiceCidrOverlapExistingSubnetsCidr": "choose a network.service_cidr that overlaps no subnet of the cluster's VNet or peered networks.",
    "NetworkProfileCIDROverlapVNET": "choose a pod/service CIDR outside the VNet's address space.",
    "InsufficientSubnetSize": "use a larger node subnet, fewer max_pods, or Azure CNI Overlay.",
    "InvalidSubnetId": "pass the full resource id of an existing subnet.",
    "PropertyChangeNotAllowed": "this field cannot change in place: recreate the cluster with the new value.",
    "QuotaExceeded": "request a quota increase for the region or choose a smaller vm_size/count.",
    "TooManyRequests": "Azure throttled the requests: retry later.",
}


# The built-in roles that grant the credential actions (Microsoft's built-in role definitions).
CREDENTIAL_ROLE_FIXES = {
    "user": "grant the identity 'Azure Kubernetes Service Cluster User Role' on the cluster "
    "(it allows Microsoft.ContainerService/managedClusters/listClusterUserCredential/action).",
    "admin": "grant the identity 'Azure Kubernetes Service Cluster Admin Role' on the cluster "
    "(it allows Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action).",
}

# Fix for a server-side error that persisted through the client's retries.
SERVER_ERROR_FIX = (
    "Azure failed on its side even after retries: run the task again later; if it keeps failing, "
    "check Azure status for the region and open a support request quoting the x-ms-request-id."
)


def credential_reasons(text: str) -> list:
    """The per-credential reasons of a DefaultAzureCredential / ChainedTokenCredential failure text.

    azure-identity lists each attempted credential on its own tab-indented line ("\tName: reason");
    the troubleshooting links that follow each reason are dropped. The reasons carry no secrets
    (azure-identity reports what was missing or refused, never a credential value).
    """
    reasons = []
    for line in (text or "").splitlines():
        if not line.startswith("\t"):
            continue
        name, sep, reason = line.strip().partition(":")
        if sep and name and " " not in name:
            reasons.append(f"{name}: {reason.strip().rstrip('.')}")
    return reasons


class AzureApiError(Exception):
    """An Azure request failed; ``str()`` is the user-facing message, ``code``/``details`` structured."""

    def __init__(self, message, code=None, status=None, target=None, request_id=None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.target = target
        self.request_id = request_id

    def as_result(self):
        return {"code": self.code, "status": self.status, "target": self.target, "request_id": self.request_id}


def _request_id(exc):
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        return headers.get("x-ms-request-id") or headers.get("x-ms-correlation-request-id")
    except AttributeError:
        return None


def describe(exc, action: str, fixes=None) -> AzureApiError:
    """Map an azure-core / azure-identity exception raised while doing ``action`` to an AzureApiError.

    ``fixes`` overrides FIXES for this action (e.g. the role that grants a credential fetch).
    """
    name = type(exc).__name__
    if (name == "ClientAuthenticationError" and getattr(exc, "status_code", None) is None) or name == "CredentialUnavailableError":
        text = str(exc).splitlines()[0].strip().rstrip(".") if str(exc) else name
        reasons = credential_reasons(str(exc))
        if reasons:
            text += " (" + "; ".join(reasons) + ")"
        return AzureApiError(
            f"Could not get an Azure token while trying to {action}: {text}. "
            "Fix: set auth_source and its credentials (service principal: client_id, secret, tenant; managed identity; or az login for auth_source cli).",
            code="CredentialUnavailable",
        )
    if name in ("ServiceRequestError", "ServiceRequestTimeoutError", "ServiceResponseError", "ServiceResponseTimeoutError"):
        text = str(exc).splitlines()[0].strip().rstrip(".") if str(exc) else name
        return AzureApiError(
            f"Could not reach Azure Resource Manager to {action}: {text}. "
            "Fix: check network access and cloud_environment / arm_endpoint (and REQUESTS_CA_BUNDLE for a custom endpoint's certificate).",
            code="ConnectionFailed",
        )
    status = getattr(exc, "status_code", None)
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None)
    target = getattr(error, "target", None)
    details = [(getattr(d, "code", None), getattr(d, "message", None)) for d in getattr(error, "details", None) or []]
    if not code:
        response = getattr(exc, "response", None)
        try:
            body = response.json() if response is not None else None
        except Exception:  # pylint: disable=broad-except  # a non-JSON body: keep the exception text
            body = None
        err = (body or {}).get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            code, message, target = err.get("code"), err.get("message"), err.get("target")
            details = [(d.get("code"), d.get("message")) for d in err.get("details") or [] if isinstance(d, dict)]
    if not message:
        message = (getattr(exc, "message", None) or str(exc) or name).splitlines()[0]
    request_id = _request_id(exc)
    parts = [f"Azure returned {status or 'an error'}"]
    if code:
        parts[0] += f" {code}"
    if target:
        parts[0] += f" (target {target})"
    text = f"{parts[0]} while trying to {action}: {message.rstrip('.')}."
    # a generic message ("Cannot parse the request.") names the property only in its details
    extra = [f"{d_code}: {d_message.rstrip('.')}" if d_code else d_message.rstrip(".") for d_code, d_message in details if d_message]
    if extra:
        text += " Details: " + "; ".join(extra) + "."
    fix = (fixes or {}).get(code or "") or FIXES.get(code or "")
    if not fix and isinstance(status, int) and status >= 500:
        fix = SERVER_ERROR_FIX
    if fix:
        text += f" Fix: {fix}"
    if request_id:
        text += f" [x-ms-request-id {request_id}]"
    return AzureApiError(text, code=code, status=status, target=target, request_id=request_id)

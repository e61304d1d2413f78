from __future__ import annotations

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

from ansible_collections.aksnet.networking.plugins.module_utils._azure.errors import describe


class _Response:
    def __init__(self, status, body, headers=None):
        self.status_code = status
        self._body = body
        self.headers = headers or {}
        self.reason = "Bad Request"
        self.request = None

    def json(self):
        return self._body

    def text(self, encoding=None):
        import json

        return json.dumps(self._body)

    def body(self):
        return self.text().encode()


def test_arm_error_has_code_target_message_request_id_and_fix():
    body = {
        "error": {"code": "ServiceCidrOverlapExistingSubnetsCidr", "message": "The specified service CIDR overlaps", "target": "networkProfile.serviceCidr"}
    }
    exc = HttpResponseError(response=_Response(400, body, {"x-ms-request-id": "req-123"}))
    mapped = describe(exc, "create cluster a")
    text = str(mapped)
    assert mapped.code == "ServiceCidrOverlapExistingSubnetsCidr"
    assert "400" in text
    assert "networkProfile.serviceCidr" in text
    assert "The specified service CIDR overlaps" in text
    assert "req-123" in text
    assert "Fix:" in text
    assert "create cluster a" in text


def test_connection_errors_name_the_endpoint_settings():
    mapped = describe(ServiceRequestError("Connection refused"), "read clusters")
    assert mapped.code == "ConnectionFailed"
    assert "cloud_environment" in str(mapped)


def test_token_errors_point_at_the_credentials():
    mapped = describe(ClientAuthenticationError("ManagedIdentityCredential authentication unavailable"), "read clusters")
    assert mapped.code == "CredentialUnavailable"
    assert "auth_source" in str(mapped)


def test_the_details_that_name_the_property_are_kept():
    body = {"error": {"code": "InvalidRequestFormat", "message": "Cannot parse the request.", "details": [
        {"code": "InvalidJson", "message": "Error converting value \"Dynamic2\" to type 'IpAllocationMethod'. Path 'properties.publicIPAllocationMethod'."}]}}
    text = str(describe(HttpResponseError(response=_Response(400, body)), "create public IP p"))
    assert "Cannot parse the request" in text
    assert "InvalidJson: Error converting value \"Dynamic2\"" in text and "properties.publicIPAllocationMethod" in text


def test_refused_credential_fetch_names_the_role_that_grants_it():
    body = {"error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action"}}
    exc = HttpResponseError(response=_Response(403, body))
    from ansible_collections.aksnet.networking.plugins.module_utils._azure.errors import CREDENTIAL_ROLE_FIXES

    user = str(describe(exc, "get the user credentials of cluster a", fixes={"AuthorizationFailed": CREDENTIAL_ROLE_FIXES["user"]}))
    admin = str(describe(exc, "get the admin credentials of cluster a", fixes={"AuthorizationFailed": CREDENTIAL_ROLE_FIXES["admin"]}))
    assert "'Azure Kubernetes Service Cluster User Role'" in user
    assert "listClusterUserCredential" in user
    assert "'Azure Kubernetes Service Cluster Admin Role'" in admin
    assert "Contributor" not in user + admin


def test_server_error_after_retries_has_a_fix():
    body = {"error": {"code": "InternalServerError", "message": "An internal error occurred."}}
    text = str(describe(HttpResponseError(response=_Response(500, body, {"x-ms-request-id": "r-9"})), "update cluster a"))
    assert "Fix:" in text
    assert "retry" in text.lower() or "again" in text
    assert text.index("Fix:") < text.index("r-9")


def test_token_failure_has_no_double_period_and_keeps_each_credentials_reason():
    message = (
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials:\n"
        "\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment variables are not fully configured.\n"
        "Visit https://aka.ms/azsdk/python/identity/environmentcredential/troubleshoot to troubleshoot this issue.\n"
        "\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable, no response from the IMDS endpoint.\n"
        "\tAzureCliCredential: Azure CLI not found on path\n"
        "To mitigate this issue, please refer to the troubleshooting guidelines here at "
        "https://aka.ms/azsdk/python/identity/defaultazurecredential/troubleshoot."
    )
    text = str(describe(ClientAuthenticationError(message=message), "read cluster a"))
    assert ".." not in text
    assert "EnvironmentCredential: EnvironmentCredential authentication unavailable" in text
    assert "ManagedIdentityCredential: ManagedIdentityCredential authentication unavailable, no response from the IMDS endpoint" in text
    assert "AzureCliCredential: Azure CLI not found on path" in text
    assert "Fix:" in text

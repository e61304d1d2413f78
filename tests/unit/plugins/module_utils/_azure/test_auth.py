from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._azure.auth import AzureAuthError, resolve_cloud, resolve_settings

SUB = "00000000-0000-0000-0000-000000000000"


def test_public_clouds_have_their_endpoints():
    assert resolve_cloud({"cloud_environment": "AzureCloud"}) == ("https://management.azure.com", "https://login.microsoftonline.com")
    assert resolve_cloud({"cloud_environment": "AzureChinaCloud"})[0] == "https://management.chinacloudapi.cn"
    assert resolve_cloud({"cloud_environment": "AzureUSGovernment"})[1] == "https://login.microsoftonline.us"


def test_custom_endpoint_by_url_and_override():
    assert resolve_cloud({"cloud_environment": "https://127.0.0.1:8443/"})[0] == "https://127.0.0.1:8443"
    arm, authority = resolve_cloud({"cloud_environment": "AzureCloud", "arm_endpoint": "https://arm.example", "authority_host": "https://login.example"})
    assert (arm, authority) == ("https://arm.example", "https://login.example")


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"cloud_environment": "AzureMoon"}, "AzureMoon"),
        ({"cloud_environment": "http://127.0.0.1:80"}, "not a known cloud"),
        ({"arm_endpoint": "http://plain"}, "https://"),
    ],
)
def test_bad_clouds_are_named(params, needle):
    with pytest.raises(AzureAuthError, match=needle):
        resolve_cloud(params)


def test_missing_subscription_says_how_to_fix():
    with pytest.raises(AzureAuthError) as exc:
        resolve_settings({"auth_source": "auto"})
    assert "subscription_id" in str(exc.value)
    assert "AZURE_SUBSCRIPTION_ID" in str(exc.value)


def test_unknown_auth_source():
    with pytest.raises(AzureAuthError, match="kerberos"):
        resolve_settings({"auth_source": "kerberos", "subscription_id": SUB})


def test_env_source_needs_a_whole_service_principal_and_never_echoes_the_secret():
    with pytest.raises(AzureAuthError) as exc:
        resolve_settings({"auth_source": "env", "subscription_id": SUB, "client_id": "c", "secret": "hunter2"})
    assert "tenant" in str(exc.value)
    assert "hunter2" not in str(exc.value)


def test_settings_carry_the_scope_of_the_cloud():
    settings = resolve_settings({"subscription_id": SUB, "cloud_environment": "https://127.0.0.1:1"})
    assert settings["scope"] == "https://127.0.0.1:1/.default"
    assert settings["source"] == "auto"


def test_service_principal_on_a_custom_authority_asks_that_authority_only(monkeypatch):
    # A private cloud's authority must not be validated through login.microsoftonline.com (MSAL instance discovery).
    import functools
    import socket

    from azure import identity
    from azure.core.exceptions import ClientAuthenticationError

    from ansible_collections.aksnet.networking.plugins.module_utils._azure.auth import build_credential

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: connections to it are refused
    params = {"subscription_id": SUB, "auth_source": "env", "client_id": "app", "secret": "s3cret-value", "tenant": "tenant-1",
              "cloud_environment": "https://127.0.0.1:1", "authority_host": f"https://127.0.0.1:{port}"}
    # the real credential, without the transport's retries and backoff (keeps the test fast)
    monkeypatch.setattr(identity, "ClientSecretCredential", functools.partial(identity.ClientSecretCredential, retry_total=0))
    credential = build_credential(resolve_settings(params))
    with pytest.raises(ClientAuthenticationError) as caught:
        credential.get_token("https://127.0.0.1:1/.default")
    assert f"127.0.0.1', port={port}" in str(caught.value)
    assert "login.microsoftonline.com" not in str(caught.value)

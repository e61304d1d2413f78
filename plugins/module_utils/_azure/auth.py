# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure authentication: option spec, cloud endpoints, and credentials from azure-identity.

Settings are resolved from the module's options with the azure.azcollection environment
variables as fallback. Nothing here imports azure-identity until a credential is built.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

AUTH_SOURCES = ("auto", "env", "cli", "msi")

# Public clouds: ARM endpoint and Microsoft Entra authority host.
CLOUDS = {
    "AzureCloud": ("https://management.azure.com", "https://login.microsoftonline.com"),
    "AzureChinaCloud": ("https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
    "AzureUSGovernment": ("https://management.usgovcloudapi.net", "https://login.microsoftonline.us"),
}

AZURE_AUTH_SPEC = {
    "auth_source": {"type": "str", "choices": list(AUTH_SOURCES), "fallback": (env_fallback, ["ANSIBLE_AZURE_AUTH_SOURCE"])},
    "subscription_id": {"type": "str", "fallback": (env_fallback, ["AZURE_SUBSCRIPTION_ID"])},
    "client_id": {"type": "str", "fallback": (env_fallback, ["AZURE_CLIENT_ID"])},
    "secret": {"type": "str", "no_log": True, "fallback": (env_fallback, ["AZURE_SECRET", "AZURE_CLIENT_SECRET"])},
    "tenant": {"type": "str", "fallback": (env_fallback, ["AZURE_TENANT", "AZURE_TENANT_ID"])},
    "cloud_environment": {"type": "str", "default": "AzureCloud", "fallback": (env_fallback, ["AZURE_CLOUD_ENVIRONMENT"])},
    "arm_endpoint": {"type": "str", "fallback": (env_fallback, ["AZURE_ARM_ENDPOINT"])},
    "authority_host": {"type": "str", "fallback": (env_fallback, ["AZURE_AUTHORITY_HOST"])},
}


class AzureAuthError(Exception):
    """Bad or missing authentication settings; the message names the option and the fix."""


def resolve_cloud(params: dict) -> tuple[str, str]:
    """``(arm_endpoint, authority_host)`` for the options, validated, without network access."""
    cloud = params.get("cloud_environment") or "AzureCloud"
    arm = params.get("arm_endpoint")
    authority = params.get("authority_host")
    if cloud in CLOUDS:
        default_arm, default_authority = CLOUDS[cloud]
    elif cloud.lower().startswith("https://"):
        # A custom cloud given by its ARM endpoint, as azure.azcollection accepts.
        default_arm, default_authority = cloud, CLOUDS["AzureCloud"][1]
    else:
        raise AzureAuthError(
            f"cloud_environment {cloud!r} is not a known cloud: use one of {', '.join(CLOUDS)} "
            "or the https:// URL of a custom Resource Manager endpoint (with arm_endpoint and authority_host for sovereign clouds)."
        )
    arm = (arm or default_arm).rstrip("/")
    authority = (authority or default_authority).rstrip("/")
    for option, value in (("arm_endpoint", arm), ("authority_host", authority)):
        if not value.lower().startswith("https://"):
            raise AzureAuthError(f"{option} {value!r} must be an https:// URL: Azure refuses bearer tokens over plain http.")
    return arm, authority


def resolve_settings(params: dict) -> dict:
    """Validate the auth options before any request; returns the settings the credential needs."""
    source = params.get("auth_source") or "auto"
    if source not in AUTH_SOURCES:
        raise AzureAuthError(f"auth_source {source!r} is not supported: use one of {', '.join(AUTH_SOURCES)}.")
    if not params.get("subscription_id"):
        raise AzureAuthError(
            "subscription_id is missing: set the subscription_id option or the AZURE_SUBSCRIPTION_ID environment variable "
            "(az account show --query id -o tsv prints the current one)."
        )
    arm, authority = resolve_cloud(params)
    secret_set = [name for name in ("client_id", "secret", "tenant") if params.get(name)]
    if source == "env" and len(secret_set) != 3:
        missing = [name for name in ("client_id", "secret", "tenant") if not params.get(name)]
        raise AzureAuthError(
            f"auth_source env needs a service principal: {', '.join(missing)} missing "
            "(options client_id, secret, tenant or AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT)."
        )
    if source == "auto" and secret_set and len(secret_set) != 3 and params.get("secret"):
        missing = [name for name in ("client_id", "secret", "tenant") if not params.get(name)]
        raise AzureAuthError(f"a service principal secret was given but {', '.join(missing)} is missing: set all of client_id, secret and tenant.")
    return {
        "source": source,
        "subscription_id": params["subscription_id"],
        "client_id": params.get("client_id"),
        "secret": params.get("secret"),
        "tenant": params.get("tenant"),
        "arm_endpoint": arm,
        "authority_host": authority,
        "scope": arm + "/.default",
    }


def build_credential(settings: dict):
    """An azure-identity credential for the resolved settings (imports azure-identity here)."""
    from azure import identity  # pylint: disable=import-outside-toplevel

    source = settings["source"]
    authority = settings["authority_host"]
    if source == "env" or (source == "auto" and settings.get("secret")):
        # MSAL validates an authority it does not know against login.microsoftonline.com (instance discovery),
        # which a private cloud (Azure Stack Hub, an isolated network) cannot reach: trust the configured one.
        known = authority.rstrip("/").lower() in {host for _arm, host in CLOUDS.values()}
        return identity.ClientSecretCredential(
            settings["tenant"], settings["client_id"], settings["secret"], authority=authority, disable_instance_discovery=not known
        )
    if source == "msi":
        return identity.ManagedIdentityCredential(client_id=settings.get("client_id"))
    if source == "cli":
        return identity.AzureCliCredential()
    return identity.DefaultAzureCredential(
        authority=authority,
        managed_identity_client_id=settings.get("client_id"),
        exclude_interactive_browser_credential=True,
        exclude_shared_token_cache_credential=True,
        exclude_visual_studio_code_credential=True,
    )

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ingress_nginx_values filter: ingress-nginx Helm chart values that are right on AKS (docs in the .yml beside this one)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aksnet.networking.plugins.module_utils._aks.ingress import nginx_values

SETTINGS = ("replicas", "internal", "internal_subnet", "internal_subnet_cidr", "static_ip", "ip_resource_group", "keep_client_ip",
            "health_probe_path", "ingress_class", "default_class", "extra")


def ingress_nginx_values(settings):
    """``{chart_values, warnings}`` for a mapping of SETTINGS."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError(f"ingress_nginx_values: the input must be a mapping of settings ({', '.join(SETTINGS)}), got {type(settings).__name__}")
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise AnsibleFilterError(f"ingress_nginx_values: unknown settings {', '.join(unknown)}; known: {', '.join(SETTINGS)}")
    given = {k: v for k, v in settings.items() if v is not None and v != ""}
    try:
        values, warnings = nginx_values(**given)
    except ValueError as exc:
        raise AnsibleFilterError(f"ingress_nginx_values: {exc}") from None
    return {"chart_values": values, "warnings": warnings}


class FilterModule:
    """ingress-nginx on AKS."""

    def filters(self):
        return {"ingress_nginx_values": ingress_nginx_values}

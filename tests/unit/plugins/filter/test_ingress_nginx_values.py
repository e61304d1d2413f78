# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aksnet.networking.plugins.filter.ingress_nginx_values import FilterModule


def run(settings):
    return FilterModule().filters()["ingress_nginx_values"](settings)


def test_empty_settings_are_ignored_like_the_role_passes_them():
    result = run({"replicas": 2, "static_ip": "", "internal_subnet": "", "ip_resource_group": "", "extra": {}})
    assert result["chart_values"]["controller"]["service"]["annotations"] == {
        "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/healthz"}
    assert result["warnings"] == []


def test_unknown_setting_and_bad_value_fail_naming_them():
    with pytest.raises(AnsibleFilterError, match="unknown settings replica"):
        run({"replica": 2})
    with pytest.raises(AnsibleFilterError, match=r"static_ip: 10\.224\.0\.50 is a private address"):
        run({"static_ip": "10.224.0.50"})

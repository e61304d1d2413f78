from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._kube.names import is_port_name


@pytest.mark.parametrize("name", ["http", "web-api", "h2c", "metrics9", "a" * 15])
def test_valid_port_names(name):
    assert is_port_name(name)


@pytest.mark.parametrize("name", ["", "8080", "HTTP", "-http", "http-", "web--api", "a" * 16, "web_api", None, 80])
def test_port_names_the_api_server_refuses(name):
    assert not is_port_name(name)

from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._kube.names import is_port_name, port_number


@pytest.mark.parametrize("name", ["http", "web-api", "h2c", "metrics9", "a" * 15])
def test_valid_port_names(name):
    assert is_port_name(name)


@pytest.mark.parametrize("name", ["", "8080", "HTTP", "-http", "http-", "web--api", "a" * 16, "web_api", None, 80])
def test_port_names_the_api_server_refuses(name):
    assert not is_port_name(name)


@pytest.mark.parametrize("value, number", [(80, 80), ("8080", 8080), (" 443 ", 443), ("-1", -1), (0, 0)])
def test_port_numbers(value, number):
    assert port_number(value) == number


@pytest.mark.parametrize("value", ["http", "80a", "", None, True, 80.0, "8 0"])
def test_not_port_numbers(value):
    assert port_number(value) is None

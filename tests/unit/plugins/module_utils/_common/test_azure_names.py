from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._common.names import network_name_error


@pytest.mark.parametrize("name", ["a", "web-ip", "pip_1", "v1.2_", "A" * 80, "0start"])
def test_valid_network_names(name):
    assert network_name_error("name", name) is None


@pytest.mark.parametrize(("name", "needle"), [
    ("bad name!", "contains ' ', '!'"),
    ("-x", "does not start with a letter or digit"),
    ("x.", "does not end with a letter, digit or '_'"),
    ("x" * 81, "81 characters long"),
    ("", "is empty"),
])
def test_invalid_network_names_say_why(name, needle):
    assert needle in network_name_error("name", name)

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netpol_check's input validation: clear errors naming the option before any request."""

from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._netpol.check_inputs import (
    InputError,
    validate_endpoint,
    validate_port,
    validate_protocol,
)


@pytest.mark.parametrize(
    ("spec", "cleaned"),
    [
        ({"namespace": "shop", "pod": "web-1", "labels": None, "cidr": None}, {"namespace": "shop", "pod": "web-1"}),
        ({"namespace": "shop", "labels": {"app": "web"}}, {"namespace": "shop", "labels": {"app": "web"}}),
        ({"cidr": "203.0.113.0/24", "fqdn": "api.example.com", "namespace": None}, {"cidr": "203.0.113.0/24", "fqdn": "api.example.com"}),
        ({"namespace": "shop", "labels": {}}, {"namespace": "shop", "labels": {}}),
    ],
)
def test_valid_endpoints(spec, cleaned):
    assert validate_endpoint(spec, "source") == cleaned


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (None, "^source is required"),
        ({"pod": "web-1"}, "no namespace and no cidr"),
        ({"namespace": "shop"}, "needs pod .* or labels"),
        ({"namespace": "shop", "pod": "a", "labels": {"x": "y"}}, "mutually exclusive"),
        ({"cidr": "10.0.0.0/8", "namespace": "shop"}, "cannot be combined with namespace"),
        ({"cidr": "10.0.0.300/8"}, r"source.cidr '10.0.0.300/8' is not an IP address"),
        ({"namespace": "shop", "labels": "app=web"}, "source.labels must be a mapping"),
    ],
)
def test_invalid_endpoints(spec, message):
    with pytest.raises(InputError, match=message):
        validate_endpoint(spec, "source")


def test_unset_labels_are_not_a_hypothetical_pod():
    # Ansible fills unset sub-options with None: that is not "a pod without labels" ({}).
    with pytest.raises(InputError, match="destination in namespace 'shop' needs pod"):
        validate_endpoint({"namespace": "shop", "pod": None, "labels": None}, "destination")


@pytest.mark.parametrize(("port", "expected"), [(80, 80), ("443", 443), ("http", "http"), ("grpc-web", "grpc-web"), (65535, 65535)])
def test_valid_ports(port, expected):
    assert validate_port(port) == expected


@pytest.mark.parametrize(
    ("port", "message"),
    [
        (0, "port 0 is out of range"),
        (70000, "out of range"),
        (None, "port is required"),
        ("", "port is required"),
        ("HTTP", "neither a number nor a valid port name"),
        ("-web", "neither a number"),
        ("a-very-long-port-name", "neither a number"),
        (True, "is not a port"),
    ],
)
def test_invalid_ports(port, message):
    with pytest.raises(InputError, match=message):
        validate_port(port)


def test_port_option_name_is_in_the_message():
    with pytest.raises(InputError, match=r"ports\[1\] 0"):
        validate_port(0, "ports[1]")


def test_protocols():
    assert validate_protocol(None) == "TCP"
    assert validate_protocol("udp") == "UDP"
    with pytest.raises(InputError, match="protocol 'ICMP' is not supported"):
        validate_protocol("ICMP")

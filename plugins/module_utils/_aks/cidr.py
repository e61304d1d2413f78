# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address arithmetic for AKS planning: parsing, overlap, subnet sizes. Pure, standard library only."""

from __future__ import annotations

import ipaddress

# Azure reserves five addresses in every VNet subnet: the network address, the first three host
# addresses (default gateway and Azure DNS) and the broadcast address.
# Source: learn.microsoft.com/azure/virtual-network/virtual-networks-faq ("Are there any restrictions on
# using IP addresses within these subnets?") and AKS concepts-network-azure-cni-overlay.md ("Azure reserves
# the first four and last IP addresses").
AZURE_RESERVED_PER_SUBNET = 5

# The smallest IPv4 subnet Azure supports is a /29 (virtual-networks-faq); the largest VNet is a /8.
AZURE_SMALLEST_SUBNET_PREFIX = 29
AZURE_LARGEST_PREFIX = 8

# Ranges AKS refuses for the service, pod and cluster VNet address ranges.
# Source: AKS docs concepts-network-cni-overview.md ("AKS CNI networking prerequisites"),
# configure-kubenet.md and concepts-network-legacy-cni.md (same list).
AKS_RESERVED_RANGES = ("169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24")

# Every node of a kubenet or Azure CNI Overlay cluster gets a /24 of the pod CIDR
# (concepts-network-azure-cni-overlay.md, "Pods").
NODE_POD_PREFIX = 24


def parse_network(text):
    """Parse CIDR text strictly (no host bits). Returns (network, None) or (None, reason)."""
    if text is None:
        return None, "no value"
    if not isinstance(text, str):
        return None, f"expected CIDR text such as 10.0.0.0/16, got {type(text).__name__}"
    value = text.strip()
    if "/" not in value:
        return None, "missing the /prefix length (write it as 10.0.0.0/16)"
    try:
        return ipaddress.ip_network(value, strict=True), None
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return None, f"not valid CIDR notation ({exc})"
        return None, f"host bits are set; the network address is {loose}"


def parse_address(text):
    """Parse an IP address. Returns (address, None) or (None, reason)."""
    if text is None:
        return None, "no value"
    if not isinstance(text, str):
        return None, f"expected an IP address such as 10.0.0.10, got {type(text).__name__}"
    try:
        return ipaddress.ip_address(text.strip()), None
    except ValueError as exc:
        return None, f"not a valid IP address ({exc})"


def normalise_cidr(text):
    """Canonical text of a CIDR (whitespace, case, IPv6 compression); the input unchanged when it does not parse."""
    if not isinstance(text, str):
        return text
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        return text.strip()


def normalise_address(text):
    """Canonical text of an IP address; the input unchanged when it does not parse."""
    if not isinstance(text, str):
        return text
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text.strip()


def overlaps(a, b):
    """True when two networks of the same IP version share any address."""
    return a.version == b.version and a.overlaps(b)


def usable_addresses(network):
    """Addresses of an Azure subnet that resources can use (size minus Azure's five reserved)."""
    return max(network.num_addresses - AZURE_RESERVED_PER_SUBNET, 0)


def smallest_prefix(addresses_needed, reserved=AZURE_RESERVED_PER_SUBNET, smallest=AZURE_SMALLEST_SUBNET_PREFIX):
    """Longest IPv4 prefix whose subnet holds ``addresses_needed`` plus ``reserved`` addresses.

    Capped at ``smallest`` (Azure's smallest subnet, /29). Raises ValueError when no IPv4 subnet
    down to /0 is large enough.
    """
    total = int(addresses_needed) + int(reserved)
    for prefix in range(smallest, -1, -1):
        if 2 ** (32 - prefix) >= total:
            return prefix
    raise ValueError(f"{addresses_needed} addresses do not fit in any IPv4 subnet")


def pod_cidr_prefix_for_nodes(nodes):
    """Longest pod CIDR prefix giving every node its /24 (kubenet and Azure CNI Overlay)."""
    nodes = max(int(nodes), 1)
    prefix = NODE_POD_PREFIX
    while 2 ** (NODE_POD_PREFIX - prefix) < nodes:
        prefix -= 1
        if prefix < 0:
            raise ValueError(f"{nodes} nodes do not fit in any IPv4 pod CIDR")
    return prefix

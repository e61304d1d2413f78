# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NSG evaluation the way Azure does it: priority order, first match, tags, ranges, default rules, two NSGs."""

from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._diag.nsg import (
    Peer,
    evaluate,
    evaluate_path,
    normalize_rule,
    port_in_ranges,
)

DEFAULTS = [
    ("AllowVnetInBound", "Inbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", "Inbound", 65001, "Allow", "AzureLoadBalancer", "*"),
    ("DenyAllInBound", "Inbound", 65500, "Deny", "*", "*"),
    ("AllowVnetOutBound", "Outbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", "Outbound", 65001, "Allow", "*", "Internet"),
    ("DenyAllOutBound", "Outbound", 65500, "Deny", "*", "*"),
]
VNET = ["10.224.0.0/12"]
FRONTEND = "20.1.2.3"


def rule(name, priority, access, src="*", dst="*", ports="*", protocol="*", direction="Inbound", **extra):
    props = {"priority": priority, "access": access, "direction": direction, "protocol": protocol, "sourcePortRange": "*"}
    props["sourceAddressPrefixes" if isinstance(src, list) else "sourceAddressPrefix"] = src
    props["destinationAddressPrefixes" if isinstance(dst, list) else "destinationAddressPrefix"] = dst
    props["destinationPortRanges" if isinstance(ports, list) else "destinationPortRange"] = ports
    props.update(extra)
    return {"id": f"/x/networkSecurityGroups/n/securityRules/{name}", "name": name, "properties": props}


def nsg(*rules, name="aks-agentpool-nsg"):
    defaults = [
        {"id": f"/x/networkSecurityGroups/{name}/defaultSecurityRules/{n}", "name": n,
         "properties": {"priority": p, "access": a, "direction": d, "protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*",
                        "sourceAddressPrefix": s, "destinationAddressPrefix": t}}
        for n, d, p, a, s, t in DEFAULTS
    ]
    return {"id": f"/x/networkSecurityGroups/{name}", "name": name, "properties": {"securityRules": list(rules), "defaultSecurityRules": defaults}}


def internet(ip=None):
    return Peer(ip=ip, tag=None if ip else "Internet", vnet_prefixes=VNET)


def dest(ip=FRONTEND):
    return Peer(ip=ip, vnet_prefixes=VNET)


def inbound(group, port=80, protocol="Tcp", source=None, destination=None):
    return evaluate(group, "Inbound", protocol, source or internet(), destination or dest(), port)


def test_default_rules_deny_internet_and_allow_vnet_and_load_balancer():
    group = nsg()
    d = inbound(group)
    assert not d["allowed"] and d["rule"]["name"] == "DenyAllInBound" and d["rule"]["default"]
    vnet = inbound(group, source=Peer(tag="VirtualNetwork", vnet_prefixes=VNET), destination=dest("10.224.0.4"))
    assert vnet["allowed"] and vnet["rule"]["name"] == "AllowVnetInBound"
    probe = inbound(group, source=Peer(ip="168.63.129.16", vnet_prefixes=VNET))
    assert probe["allowed"] and probe["rule"]["name"] == "AllowAzureLoadBalancerInBound"


def test_lowest_priority_number_wins_whatever_the_list_order():
    group = nsg(rule("allow-http", 500, "Allow", "Internet", "*", "80"), rule("deny-http", 400, "Deny", "*", "*", "80"))
    d = inbound(group)
    assert not d["allowed"]
    assert d["rule"]["name"] == "deny-http" and d["rule"]["priority"] == 400
    group = nsg(rule("allow-http", 300, "Allow", "Internet", "*", "80"), rule("deny-http", 400, "Deny", "*", "*", "80"))
    d = inbound(group)
    assert d["allowed"] and d["rule"]["name"] == "allow-http"


def test_a_deny_for_another_port_does_not_decide():
    group = nsg(rule("deny-ssh", 100, "Deny", "*", "*", "22"), rule("allow-http", 200, "Allow", "Internet", "*", "80"))
    assert inbound(group)["rule"]["name"] == "allow-http"
    assert inbound(group, port=22)["rule"]["name"] == "deny-ssh"


@pytest.mark.parametrize("ranges, port, expected", [
    (["*"], 443, True), (["80"], 80, True), (["80"], 8080, False), (["8000-8999"], 8443, True), (["8000-8999"], 9000, False),
    (["22", "80-81", "443"], 81, True), (["22", "80-81", "443"], 444, False), (["0-65535"], 1, True), (["Any"], 5, True),
])
def test_port_ranges_and_lists(ranges, port, expected):
    assert port_in_ranges(port, ranges) is expected


def test_port_lists_in_rules():
    group = nsg(rule("allow-web", 100, "Allow", "Internet", "*", ["80", "443", "8000-8100"]))
    assert inbound(group, port=8050)["allowed"]
    assert not inbound(group, port=8101)["allowed"]


def test_protocols():
    group = nsg(rule("allow-udp", 100, "Allow", "*", "*", "53", protocol="Udp"))
    assert inbound(group, port=53, protocol="Udp")["allowed"]
    tcp = inbound(group, port=53, protocol="Tcp")
    assert not tcp["allowed"] and tcp["rule"]["name"] == "DenyAllInBound"
    group = nsg(rule("deny-all-proto", 100, "Deny", "*", "*", "*", protocol="*"), rule("allow", 200, "Allow"))
    assert inbound(group, port=53, protocol="Udp")["rule"]["name"] == "deny-all-proto"


def test_service_tags_internet_versus_virtual_network():
    group = nsg(rule("allow-vnet-80", 100, "Allow", "VirtualNetwork", "*", "80"))
    assert not inbound(group)["allowed"]  # Internet is not VirtualNetwork
    assert inbound(group, source=Peer(tag="VirtualNetwork", vnet_prefixes=VNET))["allowed"]
    assert inbound(group, source=Peer(ip="10.230.1.1", vnet_prefixes=VNET))["allowed"]  # inside the VNet space
    assert not inbound(group, source=Peer(ip="10.99.0.1", vnet_prefixes=VNET))["allowed"]
    group = nsg(rule("allow-internet-80", 100, "Allow", "Internet", "*", "80"))
    assert inbound(group)["allowed"]
    assert inbound(group, source=internet("52.10.0.1"))["allowed"]
    assert inbound(group, source=Peer(tag="VirtualNetwork", vnet_prefixes=VNET), destination=dest("10.224.0.4"))["rule"]["name"] != "allow-internet-80"


def test_cidrs_and_prefix_lists_with_a_concrete_source():
    group = nsg(rule("allow-office", 100, "Allow", ["203.0.113.0/24", "198.51.100.7"], "*", "443"))
    assert inbound(group, port=443, source=internet("203.0.113.50"))["allowed"]
    assert inbound(group, port=443, source=internet("198.51.100.7"))["allowed"]
    d = inbound(group, port=443, source=internet("198.51.100.8"))
    assert not d["allowed"] and d["rule"]["name"] == "DenyAllInBound"


def test_a_cidr_covers_only_part_of_the_internet_tag():
    # allowing one office range does not open the port to "the Internet": evaluation goes on, the rule is reported as partial
    group = nsg(rule("allow-office", 100, "Allow", "203.0.113.0/24", "*", "443"))
    d = inbound(group, port=443)
    assert not d["allowed"] and d["rule"]["name"] == "DenyAllInBound"
    assert [p["name"] for p in d["partial"]] == ["allow-office"]
    # nor does a partial deny close it
    group = nsg(rule("deny-bad-range", 100, "Deny", "198.51.100.0/24", "*", "443"), rule("allow-443", 200, "Allow", "Internet", "*", "443"))
    d = inbound(group, port=443)
    assert d["allowed"] and d["rule"]["name"] == "allow-443" and d["partial"][0]["name"] == "deny-bad-range"


def test_destination_prefix_must_contain_the_frontend_ip():
    group = nsg(rule("allow-other-ip", 100, "Allow", "Internet", "20.9.9.9", "80"), rule("allow-frontend", 200, "Allow", "Internet", f"{FRONTEND}/32", "80"))
    assert inbound(group)["rule"]["name"] == "allow-frontend"
    assert not inbound(group, destination=dest("20.5.5.5"))["allowed"]


def test_outbound_rules_do_not_apply_inbound():
    group = nsg(rule("deny-out-80", 100, "Deny", "*", "*", "80", direction="Outbound"), rule("allow-in-80", 200, "Allow", "Internet", "*", "80"))
    assert inbound(group)["rule"]["name"] == "allow-in-80"
    out = evaluate(group, "Outbound", "Tcp", Peer(ip="10.224.0.4", vnet_prefixes=VNET), Peer(tag="Internet"), 80)
    assert not out["allowed"] and out["rule"]["name"] == "deny-out-80"
    out = evaluate(group, "Outbound", "Tcp", Peer(ip="10.224.0.4", vnet_prefixes=VNET), Peer(tag="Internet"), 443)
    assert out["allowed"] and out["rule"]["name"] == "AllowInternetOutBound"


def test_custom_rule_can_override_a_default_rule():
    group = nsg(rule("deny-lb-probes", 4000, "Deny", "AzureLoadBalancer", "*", "*"))
    d = inbound(group, source=Peer(ip="168.63.129.16", vnet_prefixes=VNET))
    assert not d["allowed"] and d["rule"]["name"] == "deny-lb-probes" and not d["rule"]["default"]


def test_subnet_and_nic_nsg_must_both_allow():
    subnet = nsg(rule("allow-80", 100, "Allow", "Internet", "*", "80"), name="subnet-nsg")
    nic_blocks = nsg(name="nic-nsg")
    path = evaluate_path([subnet, nic_blocks], "Inbound", "Tcp", internet(), dest(), 80)
    assert not path["allowed"]
    assert path["decided_by"]["nsg"] == "nic-nsg" and path["decided_by"]["rule"]["name"] == "DenyAllInBound"
    assert [d["allowed"] for d in path["decisions"]] == [True, False]
    nic_allows = nsg(rule("allow-80", 100, "Allow", "*", "*", "80"), name="nic-nsg")
    assert evaluate_path([subnet, nic_allows], "Inbound", "Tcp", internet(), dest(), 80)["allowed"]
    blocked_at_subnet = evaluate_path([nsg(name="subnet-nsg"), nic_allows], "Inbound", "Tcp", internet(), dest(), 80)
    assert blocked_at_subnet["decided_by"]["nsg"] == "subnet-nsg"
    assert evaluate_path([None, None], "Inbound", "Tcp", internet(), dest(), 80)["allowed"]  # no NSG: nothing filters


def test_normalized_rules_are_accepted_as_they_are():
    raw = rule("allow-80", 100, "Allow", "Internet", "*", "80")
    norm = normalize_rule(raw)
    assert norm["source_address_prefixes"] == ["Internet"] and norm["destination_port_ranges"] == ["80"] and not norm["default"]
    facts_nsg = {"id": "n", "name": "n", "rules": [norm], "default_rules": [normalize_rule(r) for r in nsg()["properties"]["defaultSecurityRules"]]}
    assert inbound(facts_nsg)["rule"]["name"] == "allow-80"
    assert inbound(facts_nsg, port=81)["rule"]["name"] == "DenyAllInBound"


def test_application_security_groups_and_source_ports_are_partial():
    group = nsg(rule("allow-asg", 100, "Allow", "*", "*", "80", sourceApplicationSecurityGroups=[{"id": "/asg/web"}]),
                rule("allow-sport", 110, "Allow", "*", "*", "80", sourcePortRange="1000-2000"))
    d = inbound(group)
    assert not d["allowed"]
    assert [p["name"] for p in d["partial"]] == ["allow-asg", "allow-sport"]

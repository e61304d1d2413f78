# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network security group evaluation, the way Azure does it. Pure.

Azure evaluates the rules of one NSG (custom ``securityRules`` and the six
``defaultSecurityRules``) for one direction by ascending priority; the first rule whose protocol,
source address, source port, destination address and destination port all match decides
(Allow or Deny). Inbound traffic to a NIC passes the subnet's NSG first, then the NIC's NSG:
both must allow it (outbound: NIC first, then subnet).

Rules are accepted in the ARM REST shape (``properties.priority``, ``sourceAddressPrefix`` /
``sourceAddressPrefixes``, ...) or in the normalized snake_case shape :func:`normalize_rule`
returns (what ``network_info`` stores).

Traffic endpoints are :class:`Peer` objects: a concrete IP address, a service tag
(``Internet``, ``VirtualNetwork``, ``AzureLoadBalancer``), or both. When the peer is only a tag, a
rule naming part of it (a CIDR inside the Internet, ``AzureCloud``...) is a *partial* match: it
decides for some addresses of the tag but not for all, so evaluation goes on and the rule is
listed in ``partial`` of the decision.
"""

from __future__ import annotations

import ipaddress

AZURE_LOAD_BALANCER_IP = "168.63.129.16"
ANY = ("*", "any")
PROTOCOLS = ("tcp", "udp", "icmp", "esp", "ah", "*")

FULL, PARTIAL, NONE = "full", "partial", "none"

# Address space that is not "Internet" for Azure: RFC 1918, shared (CGNAT), loopback, link-local, ULA.
_NON_INTERNET = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8",
    "fc00::/7", "fe80::/10", "::1/128",
)]


def is_internet(address_or_network):
    """True for public addresses (what the ``Internet`` service tag stands for, roughly)."""
    value = address_or_network
    if isinstance(value, str):
        value = ipaddress.ip_network(value, strict=False)
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return not any(value.version == n.version and value in n for n in _NON_INTERNET)
    return not any(value.version == n.version and value.subnet_of(n) for n in _NON_INTERNET)


class Peer:
    """One end of the traffic: ``ip`` (str or None) and/or ``tag`` (Internet, VirtualNetwork, AzureLoadBalancer).

    ``vnet_prefixes``: the address space of the VNet (and peerings), which is what the
    ``VirtualNetwork`` tag stands for; used to decide whether a concrete IP is in it.
    """

    def __init__(self, ip=None, tag=None, vnet_prefixes=()):
        self.ip = ipaddress.ip_address(ip) if ip else None
        self.tag = tag
        self.vnet = [ipaddress.ip_network(p, strict=False) for p in vnet_prefixes or () if _is_cidr(p)]
        if self.ip is not None and self.tag is None:
            self.tag = self._tag_of_ip()

    def _tag_of_ip(self):
        if str(self.ip) == AZURE_LOAD_BALANCER_IP:
            return "AzureLoadBalancer"
        if any(self.ip in net for net in self.vnet):
            return "VirtualNetwork"
        if is_internet(self.ip):
            return "Internet"
        if not self.vnet:
            return "VirtualNetwork"  # without the VNet's address space, a private address is taken as inside it
        return None

    def describe(self):
        if self.ip is not None and self.tag:
            return f"{self.ip} ({self.tag})"
        return str(self.ip) if self.ip is not None else (self.tag or "any")


def _is_cidr(text):
    try:
        ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        return False
    return True


def _as_list(single, many):
    values = [v for v in (many or []) if v not in (None, "")]
    if not values and single not in (None, ""):
        values = [single]
    return [str(v).strip() for v in values]


def normalize_rule(rule, default=None):
    """One security rule as ``{name, priority, direction, access, protocol, source_address_prefixes,
    source_port_ranges, destination_address_prefixes, destination_port_ranges, source_asgs,
    destination_asgs, default}`` from the ARM shape (or an already normalized rule)."""
    if "source_address_prefixes" in rule and "properties" not in rule:
        out = dict(rule)
        out.setdefault("default", bool(default))
        return out
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else rule
    rid = str(rule.get("id") or "")
    if default is None:
        default = "/defaultsecurityrules/" in rid.lower()
    return {
        "name": rule.get("name"),
        "priority": int(props.get("priority") or 0),
        "direction": props.get("direction") or "Inbound",
        "access": props.get("access") or "Deny",
        "protocol": props.get("protocol") or "*",
        "source_address_prefixes": _as_list(props.get("sourceAddressPrefix"), props.get("sourceAddressPrefixes")),
        "source_port_ranges": _as_list(props.get("sourcePortRange"), props.get("sourcePortRanges")) or ["*"],
        "destination_address_prefixes": _as_list(props.get("destinationAddressPrefix"), props.get("destinationAddressPrefixes")),
        "destination_port_ranges": _as_list(props.get("destinationPortRange"), props.get("destinationPortRanges")) or ["*"],
        "source_asgs": [a.get("id") for a in props.get("sourceApplicationSecurityGroups") or [] if isinstance(a, dict)],
        "destination_asgs": [a.get("id") for a in props.get("destinationApplicationSecurityGroups") or [] if isinstance(a, dict)],
        "default": bool(default),
    }


def normalize_nsg(nsg):
    """``{id, name, rules: [...]}`` with custom and default rules normalized (either input shape)."""
    if "rules" in nsg and "properties" not in nsg:
        return {"id": nsg.get("id"), "name": nsg.get("name"), "rules": [normalize_rule(r) for r in nsg.get("rules") or []]
                + [normalize_rule(r, default=True) for r in nsg.get("default_rules") or []]}
    props = nsg.get("properties") or {}
    rules = [normalize_rule(r, default=False) for r in props.get("securityRules") or []]
    rules += [normalize_rule(r, default=True) for r in props.get("defaultSecurityRules") or []]
    return {"id": nsg.get("id"), "name": nsg.get("name"), "rules": rules}


def port_in_ranges(port, ranges):
    """True when ``port`` is in one of ``ranges`` (``*``, ``80``, ``8000-8999``)."""
    for item in ranges or ["*"]:
        text = str(item).strip().lower()
        if text in ANY:
            return True
        low, sep, high = text.partition("-")
        try:
            if sep:
                if int(low) <= int(port) <= int(high):
                    return True
            elif int(text) == int(port):
                return True
        except ValueError:
            continue
    return False


def protocol_matches(rule_protocol, protocol):
    rule_protocol = str(rule_protocol or "*").lower()
    return rule_protocol in ANY or rule_protocol == str(protocol).lower()


def _prefix_match(prefix, peer):
    """FULL, PARTIAL or NONE: how much of ``peer`` the address prefix (CIDR, IP or service tag) covers."""
    text = str(prefix).strip()
    low = text.lower()
    if low in ANY or low == "0.0.0.0/0":
        return FULL
    if _is_cidr(text):
        net = ipaddress.ip_network(text, strict=False)
        if peer.ip is not None:
            return FULL if peer.ip.version == net.version and peer.ip in net else NONE
        if peer.tag == "Internet" and (is_internet(net) or net.prefixlen == 0):
            return PARTIAL
        if peer.tag == "VirtualNetwork" and any(net.version == v.version and net.overlaps(v) for v in peer.vnet):
            return PARTIAL
        if peer.tag == "VirtualNetwork" and not peer.vnet and not is_internet(net):
            return PARTIAL
        if peer.tag is None:
            return PARTIAL
        return NONE
    # a service tag
    tag = low.split(".", maxsplit=1)[0]  # regional tags: AzureCloud.westeurope
    if peer.tag and tag == peer.tag.lower():
        return FULL
    if tag == "internet":
        if peer.ip is not None:
            return FULL if peer.tag == "Internet" else NONE
        return PARTIAL if peer.tag is None else NONE
    if tag in ("virtualnetwork", "azureloadbalancer"):
        return PARTIAL if peer.tag is None and peer.ip is None else NONE
    # other tags (AzureCloud, Storage, AzureFrontDoor.Backend, ...) are sets of public addresses we cannot expand
    if peer.tag in ("Internet", None):
        return PARTIAL
    return NONE


def _address_match(prefixes, asgs, peer):
    if asgs:
        return PARTIAL  # membership of application security groups is not in the facts
    best = NONE
    for prefix in prefixes or ["*"]:
        result = _prefix_match(prefix, peer)
        if result == FULL:
            return FULL
        if result == PARTIAL:
            best = PARTIAL
    return best


def rule_matches(rule, direction, protocol, source, destination, port, source_port=None):
    """FULL, PARTIAL or NONE for one normalized rule and one flow."""
    if str(rule.get("direction", "")).lower() != direction.lower():
        return NONE
    if not protocol_matches(rule.get("protocol"), protocol):
        return NONE
    if not port_in_ranges(port, rule.get("destination_port_ranges")):
        return NONE
    results = [
        _address_match(rule.get("source_address_prefixes"), rule.get("source_asgs"), source),
        _address_match(rule.get("destination_address_prefixes"), rule.get("destination_asgs"), destination),
    ]
    src_ports = rule.get("source_port_ranges") or ["*"]
    if source_port is not None:
        results.append(FULL if port_in_ranges(source_port, src_ports) else NONE)
    elif not any(str(p).strip().lower() in ANY or str(p).strip() == "0-65535" for p in src_ports):
        results.append(PARTIAL)  # client ports are ephemeral: a source-port rule covers some connections only
    if NONE in results:
        return NONE
    return PARTIAL if PARTIAL in results else FULL


def evaluate(nsg, direction, protocol, source, destination, port, source_port=None):
    """The decision of one NSG for one flow::

        {nsg, allowed, access, rule: {name, priority, access, default, ...} or None, partial: [rules], evaluated}

    ``rule`` is the first fully matching rule by priority (the deciding one). ``partial`` lists
    rules before it that match part of the traffic only. With no matching rule (impossible with
    Azure's default rules in place) traffic is denied, as Azure's implicit behaviour is.
    """
    norm = normalize_nsg(nsg)
    ordered = sorted((r for r in norm["rules"] if str(r.get("direction", "")).lower() == direction.lower()),
                     key=lambda r: (int(r.get("priority") or 0), bool(r.get("default"))))
    partial = []
    for count, rule in enumerate(ordered, start=1):
        result = rule_matches(rule, direction, protocol, source, destination, port, source_port)
        if result == FULL:
            allowed = str(rule.get("access", "")).lower() == "allow"
            return {"nsg": norm["name"], "nsg_id": norm["id"], "allowed": allowed, "access": "Allow" if allowed else "Deny",
                    "rule": _rule_summary(rule), "partial": partial, "evaluated": count}
        if result == PARTIAL:
            partial.append(_rule_summary(rule))
    return {"nsg": norm["name"], "nsg_id": norm["id"], "allowed": False, "access": "Deny", "rule": None, "partial": partial,
            "evaluated": len(ordered)}


def _rule_summary(rule):
    return {
        "name": rule.get("name"), "priority": rule.get("priority"), "access": rule.get("access"), "protocol": rule.get("protocol"),
        "direction": rule.get("direction"), "default": bool(rule.get("default")),
        "source": rule.get("source_address_prefixes"), "destination": rule.get("destination_address_prefixes"),
        "destination_ports": rule.get("destination_port_ranges"),
    }


def evaluate_path(nsgs, direction, protocol, source, destination, port, source_port=None):
    """Both NSGs on the way (inbound: subnet then NIC; pass them in that order; None entries are skipped).

    Returns ``{allowed, decided_by (the first denying decision or None), decisions: [...]}``: traffic
    passes only when every NSG allows it. With no NSG at all, traffic is allowed.
    """
    decisions = [evaluate(n, direction, protocol, source, destination, port, source_port) for n in nsgs if n]
    deny = next((d for d in decisions if not d["allowed"]), None)
    return {"allowed": deny is None, "decided_by": deny, "decisions": decisions}

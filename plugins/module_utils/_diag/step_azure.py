# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 8 of the field guide: the Azure side of the cluster's networking. Pure.

Input: the Kubernetes index and ``ctx.azure_facts``, the ``network`` dict of the ``network_info``
module (also what a snapshot's ``AzureNetworkFacts`` document holds). Codes:

* ``azure.lb_rule_missing``: a LoadBalancer Service port has no load-balancing rule on the Azure
  load balancer that should carry it (``kubernetes`` for public, ``kubernetes-internal`` for
  Services annotated ``service.beta.kubernetes.io/azure-load-balancer-internal: "true"``).
* ``azure.nsg_blocks_port``: the node subnet's NSG or a node NIC's NSG does not let the Service's
  port in from the Internet (public) or the VirtualNetwork (internal); evaluated as Azure does
  (see :mod:`.nsg`), the deciding rule is reported.
* ``azure.subnet_exhausted``: free addresses of a node (or pod) subnet are fewer than the pools on
  it need to reach their maximum node count plus upgrade surge.
* ``azure.route_missing``: kubenet only: a node's pod CIDR has no route to the node's IP in the
  route table of its subnet.
* ``azure.static_ip_not_found`` / ``azure.static_ip_wrong_resource_group``: the static public IP
  a Service asks for does not exist, or lives outside the node resource group without the
  ``service.beta.kubernetes.io/azure-load-balancer-resource-group`` annotation naming its group.
"""

from __future__ import annotations

import ipaddress
import math

# the cloud provider's Service annotations the load_balancer module manages, named once there
from .._aks.loadbalancer import ANNOTATION_PREFIX as ANN
from .._aks.loadbalancer import INTERNAL as ANN_INTERNAL
from .._aks.loadbalancer import IPV4 as ANN_IPV4
from .._aks.loadbalancer import RESOURCE_GROUP as ANN_RG
from .findings import finding
from .helpers import annotations_of, name_of, ns_of, spec, status
from .nsg import Peer, evaluate_path

STEP = 8
REQUIRED_KINDS = ()
OPTIONAL_KINDS = ("Service", "Node")

ANN_IPV6 = ANN + "azure-load-balancer-ipv6"
ANN_PIP_NAME = ANN + "azure-pip-name"
ANN_NO_FLOATING_IP = ANN + "azure-disable-load-balancer-floating-ip"
ANN_SERVICE_TAGS = ANN + "azure-allowed-service-tags"
DEFAULT_MAX_SURGE = "10%"


def _low(value):
    return str(value or "").lower()


def _by_id(items):
    return {_low(i.get("id")): i for i in items or [] if i.get("id")}


def _is_true(value):
    return str(value or "").strip().lower() == "true"


def lb_services(index, ctx):
    """LoadBalancer Services handled by the Azure cloud provider (no other loadBalancerClass), in scope."""
    result = []
    for svc in index.kinds("Service"):
        sp = spec(svc)
        if sp.get("type") != "LoadBalancer" or not ctx.in_scope(ns_of(svc)):
            continue
        if sp.get("loadBalancerClass") not in (None, "", "service.k8s.io/azure"):
            continue
        result.append(svc)
    return result


def is_internal(svc):
    return _is_true(annotations_of(svc).get(ANN_INTERNAL))


def _ingress_ips(svc):
    return [i.get("ip") for i in (status(svc).get("loadBalancer") or {}).get("ingress") or [] if i.get("ip")]


def _requested_ips(svc):
    ann = annotations_of(svc)
    wanted = [ip for ip in (ann.get(ANN_IPV4), ann.get(ANN_IPV6)) if ip]
    return wanted or ([spec(svc)["loadBalancerIP"]] if spec(svc).get("loadBalancerIP") else [])


def _ports(svc):
    return [(p.get("port"), str(p.get("protocol") or "TCP").upper(), p.get("nodePort"), p.get("name")) for p in spec(svc).get("ports") or []
            if p.get("port") is not None]


def _frontend_ip(fe):
    return fe.get("public_ip_address") or fe.get("private_ip_address")


def _lb_is_internal(lb):
    if lb.get("internal") is not None:
        return bool(lb["internal"])
    return _low(lb.get("name")).endswith("-internal")


def _rule_for(lbs, port, protocol, ips, uid_prefix):
    """The first LB rule (and its LB) carrying ``protocol``/``port`` for the Service, or (None, None)."""
    for lb in lbs:
        frontends = _by_id(lb.get("frontends"))
        for rule in lb.get("rules") or []:
            rproto = _low(rule.get("protocol"))
            if rproto == "all" and int(rule.get("frontend_port") or 0) == 0:
                pass  # HA ports: every port
            elif rproto not in (protocol.lower(), "all") or int(rule.get("frontend_port") or -1) != int(port):
                continue
            fe = frontends.get(_low(rule.get("frontend_id"))) or {}
            fe_ip = _frontend_ip(fe)
            if ips:
                if fe_ip in ips:
                    return lb, rule
            elif uid_prefix and _low(rule.get("name")).startswith(uid_prefix):
                return lb, rule
    return None, None


def _check_lb_rules(svc, facts, notes):
    ns, name = ns_of(svc), name_of(svc)
    internal = is_internal(svc)
    want = "kubernetes-internal" if internal else "kubernetes"
    lbs = facts.get("load_balancers") or []
    right = [lb for lb in lbs if _lb_is_internal(lb) == internal]
    wrong = [lb for lb in lbs if _lb_is_internal(lb) != internal]
    ips = _ingress_ips(svc)
    uid = _low((svc.get("metadata") or {}).get("uid")).replace("-", "")
    uid_prefix = ("a" + uid)[:32] if uid else None
    if not ips and not uid_prefix:
        notes.append(f"Service {ns}/{name}: no address and no uid, LB rules not compared")
        return [], 0
    found = []
    checked = 0
    for port, protocol, _node_port, port_name in _ports(svc):
        checked += 1
        _lb, rule = _rule_for(right, port, protocol, ips, uid_prefix)
        if rule:
            continue
        other_lb, other_rule = _rule_for(wrong, port, protocol, ips, uid_prefix)
        evidence = {
            "load_balancer": want, "load_balancer_exists": bool(right), "internal": internal, "port": port, "protocol": protocol,
            "port_name": port_name, "service_ips": ips,
            "rules_on_port": [r.get("name") for lb_ in right for r in lb_.get("rules") or [] if int(r.get("frontend_port") or -1) == int(port)],
        }
        text = f"Service {ns}/{name} port {port}/{protocol} has no load-balancing rule on the Azure load balancer {want}"
        if not right:
            text += f" (no {want} load balancer exists in the node resource group)"
        if other_rule:
            evidence["found_on"] = {"load_balancer": other_lb.get("name"), "rule": other_rule.get("name")}
            text += f"; a rule for it exists on {other_lb.get('name')} instead"
        found.append(finding(
            "azure.lb_rule_missing", "error", STEP, "Service", ns, name, text + ".",
            "Read the Service's events (kubectl describe service): the cloud provider could not reconcile the load balancer "
            "(identity permissions, static IP, quota). Fix the cause, then re-apply the Service (or remove and re-add the port) "
            f"so the cloud provider recreates the rule on {want}.",
            evidence,
        ))
    return found, checked


# ------------------------------------------------------------------------------ NSGs


def _nsg_paths(facts, notes):
    """Distinct ``(subnet_nsg, nic_nsg, sample_nic_ip)`` on the way to the nodes."""
    nsgs = _by_id(facts.get("network_security_groups"))
    subnets = _by_id(facts.get("subnets"))
    missing = set()

    def lookup(nsg_id):
        if not nsg_id:
            return None
        found = nsgs.get(_low(nsg_id))
        if found is None:
            missing.add(nsg_id)
        return found

    paths = {}
    nics = facts.get("network_interfaces") or []
    for nic in nics:
        subnet = subnets.get(_low(nic.get("subnet_id"))) or {}
        key = (_low(subnet.get("nsg_id")), _low(nic.get("nsg_id")))
        if key not in paths:
            ips = nic.get("private_ip_addresses") or []
            paths[key] = (lookup(subnet.get("nsg_id")), lookup(nic.get("nsg_id")), ips[0] if ips else None)
    if not nics:
        notes.append("no node NICs in the Azure facts: only subnet NSGs evaluated")
        for subnet in facts.get("subnets") or []:
            if subnet.get("role", "node") == "node":
                key = (_low(subnet.get("nsg_id")), "")
                paths.setdefault(key, (lookup(subnet.get("nsg_id")), None, None))
    for nsg_id in sorted(missing):
        notes.append(f"NSG {nsg_id} is associated but not in the Azure facts: not evaluated")
    return list(paths.values())


def _vnet_prefixes(facts):
    prefixes = []
    for subnet in facts.get("subnets") or []:
        for prefix in subnet.get("vnet_address_prefixes") or []:
            if prefix not in prefixes:
                prefixes.append(prefix)
    return prefixes


def _sources(svc, internal, vnet):
    if internal:
        return [Peer(tag="VirtualNetwork", vnet_prefixes=vnet)], None
    ranges = spec(svc).get("loadBalancerSourceRanges") or []
    if ranges:
        peers = []
        for cidr in ranges:
            try:
                net = ipaddress.ip_network(str(cidr).strip(), strict=False)
            except ValueError:
                continue
            peers.append(Peer(ip=str(net.network_address), vnet_prefixes=vnet))
        return peers, None
    if annotations_of(svc).get(ANN_SERVICE_TAGS):
        return [], "source limited to service tags (azure-allowed-service-tags): not evaluated"
    return [Peer(tag="Internet", vnet_prefixes=vnet)], None


def _check_nsgs(svc, facts, paths, vnet, notes):
    ns, name = ns_of(svc), name_of(svc)
    internal = is_internal(svc)
    sources, why = _sources(svc, internal, vnet)
    if why:
        notes.append(f"Service {ns}/{name}: {why}")
        return [], 0
    no_floating = _is_true(annotations_of(svc).get(ANN_NO_FLOATING_IP))
    ips = _ingress_ips(svc) or _requested_ips(svc)
    if not ips and not no_floating:
        notes.append(f"Service {ns}/{name}: no load balancer address yet, NSG rules (which name the frontend IP) not evaluated")
        return [], 0
    found = []
    checked = 0
    for port, protocol, node_port, _port_name in _ports(svc):
        if protocol not in ("TCP", "UDP"):
            continue
        checked += 1
        blocked = []
        for source in sources:
            for subnet_nsg, nic_nsg, nic_ip in paths:
                if no_floating:  # traffic reaches the node's IP on the node port
                    dests, dport = [Peer(ip=nic_ip, vnet_prefixes=vnet) if nic_ip else Peer(vnet_prefixes=vnet)], node_port or port
                else:  # floating IP (AKS default): destination is the frontend IP, on the Service port
                    dests, dport = [Peer(ip=ip, vnet_prefixes=vnet) for ip in ips], port
                for dest in dests:
                    result = evaluate_path([subnet_nsg, nic_nsg], "Inbound", protocol.capitalize(), source, dest, dport)
                    if not result["allowed"]:
                        blocked.append((source, dest, dport, result))
        if not blocked:
            continue
        source, dest, dport, result = blocked[0]
        decision = result["decided_by"]
        rule = decision.get("rule") or {}
        where = "no rule matched (implicit deny)" if not rule else f"rule {rule.get('name')} (priority {rule.get('priority')}, {rule.get('access')})"
        text = (f"NSG {decision.get('nsg')} blocks Service {ns}/{name} port {dport}/{protocol} from {source.describe()}: {where} decides "
                "before any rule that allows it.")
        found.append(finding(
            "azure.nsg_blocks_port", "error", STEP, "Service", ns, name, text,
            f"Add an inbound Allow rule for {protocol} {dport} from {'VirtualNetwork' if internal else 'Internet (or the loadBalancerSourceRanges)'} "
            f"with a lower priority number than {rule.get('priority', 'the deny')} in NSG {decision.get('nsg')}, or remove the blocking rule. "
            "AKS manages the rules of its own NSG from the Service; rules you add to a BYO subnet NSG are yours to keep in line.",
            {
                "nsg": decision.get("nsg"), "nsg_id": decision.get("nsg_id"), "rule": rule, "port": dport, "protocol": protocol,
                "source": source.describe(), "destination": dest.describe(), "partial_rules": decision.get("partial") or [],
                "decisions": [{"nsg": d["nsg"], "access": d["access"], "rule": (d.get("rule") or {}).get("name")} for d in result["decisions"]],
                "blocked_paths": len(blocked),
            },
        ))
    return found, checked


# ------------------------------------------------------------------------------ subnets


def surge_nodes(max_surge, nodes):
    """Extra nodes an upgrade adds: ``max_surge`` is a count ("3") or a percentage ("33%") of ``nodes``; at least 1."""
    text = str(max_surge or DEFAULT_MAX_SURGE).strip()
    try:
        if text.endswith("%"):
            return max(1, math.ceil(int(nodes) * float(text[:-1]) / 100.0))
        return max(1, int(text))
    except ValueError:
        return 1


def _pool_target(pool):
    count = int(pool.get("count") or 0)
    if pool.get("enable_auto_scaling") and pool.get("max_count"):
        return max(count, int(pool["max_count"]))
    return count


def _check_subnets(facts, ipam, notes):
    pools = {p.get("name"): p for p in (facts.get("cluster") or {}).get("agent_pools") or []}
    found = []
    checked = 0
    for subnet in facts.get("subnets") or []:
        size, used = subnet.get("size"), subnet.get("used")
        if size is None or used is None:
            notes.append(f"subnet {subnet.get('name')}: size or usage unknown")
            continue
        role = subnet.get("role") or "node"
        checked += 1
        needs = []
        for pool_name in subnet.get("pools") or []:
            pool = pools.get(pool_name)
            if not pool:
                continue
            max_pods = int(pool.get("max_pods") or 0)
            per_node = max_pods if role == "pod" else 1 + (max_pods if ipam == "node_subnet" else 0)
            count = int(pool.get("count") or 0)
            target = _pool_target(pool)
            surge = surge_nodes(pool.get("max_surge"), target)
            extra_nodes = max(target + surge - count, 0)
            needs.append({"pool": pool_name, "count": count, "target": target, "surge": surge, "ips_per_node": per_node,
                          "needed": extra_nodes * per_node})
        needed = sum(n["needed"] for n in needs)
        free = int(size) - int(used)
        if not needs or free >= needed:
            continue
        text = (f"{role.capitalize()} subnet {subnet.get('name')} ({', '.join(subnet.get('address_prefixes') or [])}) has {free} free addresses "
                f"but its pools need {needed} more to scale to their maximum node count with upgrade surge.")
        found.append(finding(
            "azure.subnet_exhausted", "error", STEP, "Subnet", None, subnet.get("name"), text,
            "Enlarge the subnet (add an address prefix or move the pool to a bigger subnet), lower max_pods or the pools' max_count / max_surge, "
            "give pods their own subnet (pod_subnet_id), or migrate to Azure CNI Overlay, which takes pod IPs outside the VNet.",
            {"subnet_id": subnet.get("id"), "role": role, "size": size, "used": used, "free": free, "needed": needed, "ipam_mode": ipam, "pools": needs},
        ))
    return found, checked


# ------------------------------------------------------------------------------ routes (kubenet)


def _node_ip(node):
    for address in status(node).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return address.get("address")
    return None


def _same_net(a, b):
    try:
        return ipaddress.ip_network(str(a), strict=False) == ipaddress.ip_network(str(b), strict=False)
    except ValueError:
        return False


def _subnet_of_ip(facts, ip):
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    for subnet in facts.get("subnets") or []:
        for prefix in subnet.get("address_prefixes") or []:
            try:
                if addr in ipaddress.ip_network(prefix, strict=False):
                    return subnet
            except ValueError:
                continue
    return None


def _check_routes(index, facts, notes):
    if "Node" in index.skipped:
        notes.append(f"Node not listable ({index.skipped['Node']}): kubenet routes not checked")
        return [], 0
    tables = facts.get("route_tables") or []
    by_id = _by_id(tables)
    found = []
    checked = 0
    for node in index.kinds("Node"):
        cidrs = list(spec(node).get("podCIDRs") or ([spec(node)["podCIDR"]] if spec(node).get("podCIDR") else []))
        node_ip = _node_ip(node)
        if not cidrs or not node_ip:
            continue
        subnet = _subnet_of_ip(facts, node_ip)
        candidates = tables
        table_note = None
        if subnet is not None:
            associated = by_id.get(_low(subnet.get("route_table_id")))
            if associated is not None:
                candidates = [associated]
            else:
                table_note = f"subnet {subnet.get('name')} has no route table associated"
                candidates = []
        for cidr in cidrs:
            checked += 1
            route, table = None, None
            for candidate in candidates:
                match = next((r for r in candidate.get("routes") or [] if _same_net(r.get("address_prefix"), cidr)), None)
                if match:
                    route, table = match, candidate
                    break
            hop_ok = route is not None and _low(route.get("next_hop_type")) == "virtualappliance" and route.get("next_hop_ip_address") == node_ip
            if hop_ok:
                continue
            evidence = {"pod_cidr": cidr, "node_ip": node_ip, "subnet": (subnet or {}).get("name"),
                        "route_tables": [t.get("name") for t in candidates]}
            if route is not None:
                evidence.update({"route": route.get("name"), "route_table": table.get("name"), "next_hop_type": route.get("next_hop_type"),
                                 "next_hop_ip_address": route.get("next_hop_ip_address")})
                text = (f"Route {route.get('name')} for node {name_of(node)}'s pod CIDR {cidr} in route table {table.get('name')} sends traffic to "
                        f"{route.get('next_hop_type')} {route.get('next_hop_ip_address') or ''}".rstrip() + f", not to the node ({node_ip}).")
            else:
                where = table_note or (f"route table {', '.join(t.get('name') for t in candidates)}" if candidates else "no route table in the facts")
                text = f"No route for node {name_of(node)}'s pod CIDR {cidr} to {node_ip} ({where}): pods on other nodes cannot reach its pods."
            if table_note:
                evidence["note"] = table_note
            found.append(finding(
                "azure.route_missing", "error", STEP, "Node", None, name_of(node), text,
                "kubenet needs the AKS-managed route table associated with the node subnet, with one route per node (pod CIDR -> node IP, "
                "next hop VirtualAppliance). Re-associate the route table with the subnet; AKS re-creates missing routes on its next "
                "reconcile (az aks update or a node pool operation). Keep custom route tables in sync if you bring your own.",
                evidence,
            ))
    return found, checked


# ------------------------------------------------------------------------------ static public IPs


def _check_static_ip(svc, facts, node_rg, notes):
    ns, name = ns_of(svc), name_of(svc)
    if is_internal(svc):
        return [], 0  # internal Services take a private IP of the subnet
    ann = annotations_of(svc)
    wanted_ips = _requested_ips(svc)
    pip_name = ann.get(ANN_PIP_NAME)
    if not wanted_ips and not pip_name:
        return [], 0
    rg_ann = ann.get(ANN_RG)
    expected_rg = rg_ann or node_rg
    pips = facts.get("public_ips") or []
    scope = facts.get("public_ip_scope") or "subscription"
    wanted = [("address", ip) for ip in wanted_ips] or [("name", pip_name)]
    found = []
    for by, value in wanted:
        if by == "address":
            matches = [p for p in pips if p.get("ip_address") == value]
        else:
            matches = [p for p in pips if _low(p.get("name")) == _low(value)]
            preferred = [p for p in matches if _low(p.get("resource_group")) == _low(expected_rg)]
            matches = preferred or matches
        label = f"public IP {value}" if by == "address" else f"public IP named {value}"
        evidence = {"requested": value, "by": by, "resource_group_annotation": rg_ann, "node_resource_group": node_rg, "public_ip_scope": scope}
        if not matches:
            if scope != "subscription" and rg_ann and _low(rg_ann) != _low(node_rg):
                notes.append(f"Service {ns}/{name}: {label} is expected in {rg_ann}, outside the listed scope ({scope})")
                continue
            searched = "in the subscription" if scope == "subscription" else f"in the node resource group {node_rg}"
            found.append(finding(
                "azure.static_ip_not_found", "error", STEP, "Service", ns, name,
                f"Service {ns}/{name} asks for {label}, but no such public IP exists {searched}.",
                "Create a Standard static public IP with that address (aksnet.networking.public_ip) in the node resource group, or in another group "
                f"named by the {ANN_RG} annotation; or correct the annotation.",
                evidence,
            ))
            continue
        pip = matches[0]
        evidence.update({"public_ip": pip.get("name"), "public_ip_id": pip.get("id"), "public_ip_resource_group": pip.get("resource_group")})
        if _low(pip.get("resource_group")) == _low(expected_rg):
            continue
        if rg_ann:
            text = (f"Service {ns}/{name} asks for {label} in resource group {rg_ann} ({ANN_RG}), but it is in {pip.get('resource_group')}.")
        else:
            text = (f"Service {ns}/{name} asks for {label}, which is in resource group {pip.get('resource_group')}, outside the node resource group "
                    f"{node_rg}, and the Service has no {ANN_RG} annotation: the cloud provider looks for it in {node_rg} only.")
        found.append(finding(
            "azure.static_ip_wrong_resource_group", "error", STEP, "Service", ns, name, text,
            f"Annotate the Service with {ANN_RG}: {pip.get('resource_group')} and give the cluster identity Network Contributor on that group; "
            "or create the public IP in the node resource group.",
            evidence,
        ))
    return found, len(wanted)


# ------------------------------------------------------------------------------ entry point


def analyze(index, ctx):
    facts = ctx.azure_facts or {}
    cluster = facts.get("cluster") or {}
    profile = cluster.get("network_profile") or ctx.cluster_facts or {}
    ipam = profile.get("ipam_mode")
    plugin = _low(profile.get("plugin") or profile.get("network_plugin"))
    node_rg = cluster.get("node_resource_group")
    notes = []
    findings = []
    checked = 0

    if "Service" in index.skipped:
        notes.append(f"Service not listable ({index.skipped['Service']}): load balancer, NSG and static IP checks not run")
        services = []
    else:
        services = lb_services(index, ctx)
    vnet = _vnet_prefixes(facts)
    paths = _nsg_paths(facts, notes) if services else []
    for svc in services:
        # One cause, one finding: a static IP the cloud provider cannot use also leaves the Service without
        # LB rule and NSG rule; report the cause only.
        produced, count = _check_static_ip(svc, facts, node_rg, notes)
        findings.extend(produced)
        checked += count
        if produced:
            continue
        for check in (
            lambda s: _check_lb_rules(s, facts, notes),
            lambda s: _check_nsgs(s, facts, paths, vnet, notes),
        ):
            produced, count = check(svc)
            findings.extend(produced)
            checked += count

    produced, count = _check_subnets(facts, ipam, notes)
    findings.extend(produced)
    checked += count

    if plugin == "kubenet":
        produced, count = _check_routes(index, facts, notes)
        findings.extend(produced)
        checked += count

    return {"checked": checked, "findings": findings, "notes": notes}

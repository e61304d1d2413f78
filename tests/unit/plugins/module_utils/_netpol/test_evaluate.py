# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluator semantics against the Kubernetes network-policy docs / e2e cases and Cilium's rules."""

from __future__ import annotations

import random

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._netpol.evaluate import (
    NetpolInputError,
    PolicyEvaluator,
)
from ansible_collections.aksnet.networking.plugins.module_utils._netpol.selectors import (
    cidr_admits,
    parse_network,
    selector_matches,
)


def ns(name, **labels):
    return {"kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(namespace, name, ports=(), ip=None, **labels):
    containers = [{"name": "c", "ports": [dict(p) for p in ports]}]
    return {"kind": "Pod", "metadata": {"namespace": namespace, "name": name, "labels": labels},
            "spec": {"containers": containers}, "status": {"phase": "Running", "podIP": ip}}


def np(namespace, name, **spec):
    spec.setdefault("podSelector", {})
    return {"kind": "NetworkPolicy", "metadata": {"namespace": namespace, "name": name}, "spec": spec}


def cnp(namespace, name, **spec):
    return {"kind": "CiliumNetworkPolicy", "metadata": {"namespace": namespace, "name": name}, "spec": spec}


def ccnp(name, **spec):
    return {"kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def ev(*objects, **kw):
    return PolicyEvaluator.from_objects(list(objects), **kw)


BASE = [
    ns("default"), ns("prod", team="a"), ns("dev", team="b"),
    pod("default", "db", [{"name": "pg", "containerPort": 5432}], app="db", role="db"),
    pod("default", "web", [{"name": "http", "containerPort": 8080}], app="web", role="frontend"),
    pod("prod", "client", app="client", role="frontend"),
    pod("dev", "client", app="client", role="frontend"),
]


def allowed(e, src, dst, port, proto="TCP"):
    return e.check(src, dst, port, proto)["allowed"]


DB = {"namespace": "default", "pod": "db"}
WEB = {"namespace": "default", "pod": "web"}
PROD = {"namespace": "prod", "pod": "client"}
DEV = {"namespace": "dev", "pod": "client"}


# ---------------------------------------------------------------------------- selectors


def test_label_selector_semantics():
    labels = {"app": "db", "tier": "back"}
    assert selector_matches({}, labels)
    assert not selector_matches(None, labels)
    assert selector_matches({"matchLabels": {"app": "db"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["back"]}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]}, labels)
    assert selector_matches({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["x"]}]}, labels)
    assert selector_matches({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, labels)
    assert selector_matches({"matchLabels": {"k8s:app": "db", "any:tier": "back"}}, labels, cilium=True)
    assert not selector_matches({"matchLabels": {"reserved:host": ""}}, labels, cilium=True)


def test_cidr_admits_with_except():
    assert cidr_admits("10.0.0.0/8", ["10.1.0.0/16"], parse_network("10.2.3.4"))
    assert not cidr_admits("10.0.0.0/8", ["10.1.0.0/16"], parse_network("10.1.3.4"))
    assert not cidr_admits("10.0.0.0/8", ["10.1.0.0/16"], parse_network("10.0.0.0/8"))  # range overlapping except
    assert not cidr_admits("10.0.0.0/8", [], parse_network("2001:db8::1"))


# ---------------------------------------------------------------------------- Kubernetes NetworkPolicy


def test_no_policy_allows_everything():
    e = ev(*BASE)
    r = e.check(PROD, DB, 5432)
    assert r["allowed"] and not r["ingress"]["kubernetes"]["isolated"]


def test_default_deny_ingress_isolates_every_pod_and_egress_stays_open():
    e = ev(*BASE, np("default", "deny", policyTypes=["Ingress"]))
    r = e.check(PROD, DB, 5432)
    assert not r["allowed"]
    assert r["ingress"]["kubernetes"]["isolated"]
    assert r["ingress"]["kubernetes"]["policies"] == [{"kind": "NetworkPolicy", "name": "default/deny"}]
    assert "has an ingress allow rule (default deny)" in r["ingress"]["kubernetes"]["reason"]
    assert allowed(e, DB, PROD, 80)  # egress from default and ingress into prod unaffected


def test_default_deny_egress_blocks_outbound_only():
    e = ev(*BASE, np("default", "deny-egress", policyTypes=["Egress"]))
    assert not allowed(e, DB, PROD, 80)
    assert not allowed(e, DB, {"cidr": "8.8.8.8"}, 53, "UDP")
    assert allowed(e, PROD, DB, 5432)


def test_allow_all_ingress_rule_and_policytypes_defaulting():
    # spec.egress present without policyTypes -> Egress is in policyTypes too
    e = ev(*BASE, np("default", "allow-all", ingress=[{}]), np("default", "eg", egress=[{"ports": [{"port": 53, "protocol": "UDP"}]}]))
    assert allowed(e, PROD, DB, 5432)
    assert not allowed(e, DB, PROD, 80)
    assert allowed(e, DB, PROD, 53, "UDP")


def test_empty_egress_list_does_not_add_egress_type():
    e = ev(*BASE, np("default", "p", ingress=[{}], egress=[]))
    assert allowed(e, DB, PROD, 80)


def test_pod_and_namespace_selector_in_one_peer_is_and_two_peers_is_or():
    one = np("default", "one", podSelector={"matchLabels": {"app": "db"}},
             ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {"matchLabels": {"role": "frontend"}}}]}])
    two = np("default", "two", podSelector={"matchLabels": {"app": "db"}},
             ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}, {"podSelector": {"matchLabels": {"role": "frontend"}}}]}])
    e1 = ev(*BASE, one)
    assert allowed(e1, PROD, DB, 5432)          # team=a AND role=frontend
    assert not allowed(e1, DEV, DB, 5432)       # team=b
    assert not allowed(e1, WEB, DB, 5432)       # same namespace, but default is not team=a
    e2 = ev(*BASE, two)
    assert allowed(e2, PROD, DB, 5432)          # namespace peer
    assert allowed(e2, WEB, DB, 5432)           # pod peer (same namespace)
    assert not allowed(e2, DEV, DB, 5432)       # pod peer is only the policy's namespace
    r = e2.check(PROD, DB, 5432)
    assert r["ingress"]["kubernetes"]["admitted_by"]["rule_index"] == 0
    assert r["ingress"]["kubernetes"]["admitted_by"]["peer_index"] == 0


def test_namespace_selector_uses_automatic_name_label():
    p = np("default", "p", ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dev"}}}]}])
    e = ev(*BASE, p)
    assert allowed(e, DEV, DB, 5432) and not allowed(e, PROD, DB, 5432)


def test_multiple_policies_union():
    a = np("default", "a", ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}]}])
    b = np("default", "b", ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}}}]}])
    e = ev(*BASE, a, b)
    assert allowed(e, PROD, DB, 5432) and allowed(e, DEV, DB, 5432) and not allowed(e, WEB, DB, 5432)


def test_egress_and_ingress_both_required():
    deny_in = np("default", "in", podSelector={"matchLabels": {"app": "db"}}, ingress=[{"from": [{"podSelector": {}}]}])
    deny_out = np("default", "out", podSelector={"matchLabels": {"app": "web"}}, policyTypes=["Egress"],
                  egress=[{"to": [{"podSelector": {"matchLabels": {"app": "other"}}}]}])
    e = ev(*BASE, deny_in, deny_out)
    r = e.check(WEB, DB, 5432)
    assert not r["allowed"]
    assert r["ingress"]["kubernetes"]["allowed"] and not r["egress"]["kubernetes"]["allowed"]
    assert "egress (kubernetes)" in r["reason"]


def test_ports_named_endport_protocols():
    ports = [{"port": "pg"}, {"port": 9000, "endPort": 9010}, {"port": 53, "protocol": "UDP"}, {"port": 3868, "protocol": "SCTP"}]
    p = np("default", "p", ingress=[{"ports": ports}])
    e = ev(*BASE, p)
    assert allowed(e, PROD, DB, 5432)           # named port pg -> 5432 on db
    assert allowed(e, PROD, DB, "pg")
    assert not allowed(e, PROD, WEB, 5432)      # web does not declare pg
    assert allowed(e, PROD, DB, 9005) and not allowed(e, PROD, DB, 9011)
    assert allowed(e, PROD, DB, 53, "UDP") and not allowed(e, PROD, DB, 53, "TCP")
    assert allowed(e, PROD, DB, 3868, "SCTP") and not allowed(e, PROD, DB, 9005, "UDP")


def test_unresolvable_named_port_says_so():
    e = ev(*BASE)
    r = e.check(PROD, DB, "http")
    assert not r["allowed"] and "not declared" in r["reason"] and "pg/TCP=5432" in r["reason"]
    r = e.check(PROD, {"namespace": "default", "labels": {"app": "x"}}, "http")
    assert not r["allowed"] and "cannot be resolved" in r["reason"]


def test_ipblock_with_except_for_outside_addresses():
    p = np("default", "p", podSelector={"matchLabels": {"app": "web"}},
           ingress=[{"from": [{"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}}]}],
           egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"port": 5978}]}])
    e = ev(*BASE, p)
    assert allowed(e, {"cidr": "172.17.0.7"}, WEB, 8080)
    assert not allowed(e, {"cidr": "172.17.1.7"}, WEB, 8080)
    assert not allowed(e, {"cidr": "172.17.0.0/16"}, WEB, 8080)  # contains the except block
    assert allowed(e, WEB, {"cidr": "10.0.0.5"}, 5978)
    assert not allowed(e, WEB, {"cidr": "10.0.0.5"}, 80)
    assert not allowed(e, WEB, {"cidr": "10.0.1.5"}, 5978)


def test_ipblock_and_pod_ips_is_configurable():
    objs = [*BASE, pod("prod", "ipclient", ip="172.17.0.9", app="x"),
            np("default", "p", ingress=[{"from": [{"ipBlock": {"cidr": "172.17.0.0/16"}}]}])]
    src = {"namespace": "prod", "pod": "ipclient"}
    assert not allowed(ev(*objs), src, DB, 5432)
    assert allowed(ev(*objs, ipblock_matches_pod_ips=True), src, DB, 5432)


def test_hypothetical_pod_by_labels():
    p = np("default", "p", ingress=[{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}]}])
    e = ev(*BASE, p)
    assert allowed(e, {"namespace": "default", "labels": {"role": "frontend"}}, DB, 5432)
    assert not allowed(e, {"namespace": "default", "labels": {"role": "backend"}}, DB, 5432)


def test_input_errors_name_the_problem():
    e = ev(*BASE)
    with pytest.raises(NetpolInputError, match="was not found"):
        e.check({"namespace": "default", "pod": "nope"}, DB, 80)
    with pytest.raises(NetpolInputError, match="protocol"):
        e.check(PROD, DB, 80, "HTTP")
    with pytest.raises(NetpolInputError, match="out of range"):
        e.check(PROD, DB, 70000)
    with pytest.raises(NetpolInputError, match="cidr"):
        e.check({"cidr": "nope"}, DB, 80)


# ---------------------------------------------------------------------------- Cilium


def test_cilium_endpoints_default_namespace_and_l4_only_rule():
    p = cnp("default", "c", endpointSelector={"matchLabels": {"app": "db"}},
            ingress=[{"fromEndpoints": [{"matchLabels": {"role": "frontend"}}], "toPorts": [{"ports": [{"port": "5432", "protocol": "TCP"}]}]}])
    e = ev(*BASE, p)
    assert allowed(e, WEB, DB, 5432)
    assert not allowed(e, PROD, DB, 5432)       # CNP selector without namespace label = policy namespace
    assert not allowed(e, WEB, DB, 5433)
    r = e.check(PROD, DB, 5432)
    assert r["ingress"]["cilium"]["isolated"] and r["ingress"]["kubernetes"]["allowed"]
    p2 = cnp("default", "c2", endpointSelector={"matchLabels": {"app": "db"}},
             ingress=[{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "prod"}}]}])
    assert allowed(ev(*BASE, p2), PROD, DB, 5432) and not allowed(ev(*BASE, p2), DEV, DB, 5432)
    l4 = cnp("default", "l4", endpointSelector={}, ingress=[{"toPorts": [{"ports": [{"port": "5432"}]}]}])
    assert allowed(ev(*BASE, l4), DEV, DB, 5432) and not allowed(ev(*BASE, l4), DEV, DB, 80)
    empty = cnp("default", "empty", endpointSelector={}, ingress=[{}])
    assert not allowed(ev(*BASE, empty), DEV, DB, 5432)


def test_cilium_namespace_labels_selector():
    p = cnp("default", "c", endpointSelector={}, ingress=[{"fromEndpoints": [{"matchLabels": {
        "k8s:io.cilium.k8s.namespace.labels.team": "b", "k8s:io.kubernetes.pod.namespace": "dev"}}]}])
    e = ev(*BASE, p)
    assert allowed(e, DEV, DB, 1) and not allowed(e, PROD, DB, 1)


def test_cilium_deny_wins_over_allow():
    allow = cnp("default", "allow", endpointSelector={}, ingress=[{"fromEntities": ["cluster"]}])
    deny = cnp("default", "deny", endpointSelector={"matchLabels": {"app": "db"}},
               ingressDeny=[{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "dev"}}]}])
    e = ev(*BASE, allow, deny)
    r = e.check(DEV, DB, 5432)
    assert not r["allowed"]
    assert r["ingress"]["cilium"]["denied_by"]["policy"] == "default/deny"
    assert allowed(e, PROD, DB, 5432)


def test_deny_only_policy_enables_default_deny_unless_disabled():
    deny = cnp("default", "deny", endpointSelector={"matchLabels": {"app": "db"}},
               ingressDeny=[{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "dev"}}]}])
    assert not allowed(ev(*BASE, deny), PROD, DB, 5432)  # default deny from a deny-only policy
    deny_off = cnp("default", "deny", endpointSelector={"matchLabels": {"app": "db"}}, enableDefaultDeny={"ingress": False},
                   ingressDeny=[{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "dev"}}]}])
    e = ev(*BASE, deny_off)
    assert allowed(e, PROD, DB, 5432) and not allowed(e, DEV, DB, 5432)


def test_clusterwide_policy_and_entities():
    egress = ccnp("no-world", endpointSelector={"matchLabels": {"k8s:io.kubernetes.pod.namespace": "prod"}},
                  egress=[{"toEntities": ["cluster"]}])
    e = ev(*BASE, egress)
    assert allowed(e, PROD, DB, 5432)
    assert not allowed(e, PROD, {"cidr": "1.1.1.1"}, 443)
    assert allowed(e, DEV, {"cidr": "1.1.1.1"}, 443)        # not selected
    world = ccnp("world-in", endpointSelector={}, ingress=[{"fromEntities": ["world"]}])
    e = ev(*BASE, world)
    assert allowed(e, {"cidr": "203.0.113.0/24"}, DB, 5432)
    assert not allowed(e, PROD, DB, 5432)
    assert "CiliumClusterwideNetworkPolicy" in str(e.check(PROD, DB, 5432)["ingress"]["cilium"]["policies"])


def test_cilium_cidrset_except_and_fqdn():
    p = cnp("prod", "out", endpointSelector={}, egress=[
        {"toCIDRSet": [{"cidr": "20.0.0.0/8", "except": ["20.1.0.0/16"]}]},
        {"toFQDNs": [{"matchPattern": "*.example.com"}], "toPorts": [{"ports": [{"port": "443"}]}]},
    ])
    e = ev(*BASE, p)
    assert allowed(e, PROD, {"cidr": "20.2.0.1"}, 80)
    assert not allowed(e, PROD, {"cidr": "20.1.0.1"}, 80)
    assert allowed(e, PROD, {"cidr": "93.184.216.34", "fqdn": "api.example.com"}, 443)
    assert not allowed(e, PROD, {"cidr": "93.184.216.34", "fqdn": "example.org"}, 443)
    assert not allowed(e, PROD, {"cidr": "93.184.216.34"}, 443)


def test_l7_rules_reported_as_restriction():
    p = cnp("default", "http", endpointSelector={"matchLabels": {"app": "web"}}, ingress=[{
        "fromEndpoints": [{}], "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}], "rules": {"http": [{"method": "GET", "path": "/api/.*"}]}}]}])
    e = ev(*BASE, p)
    r = e.check(DB, WEB, 8080)
    assert r["allowed"]
    assert r["reason"].startswith("allowed at L4, restricted to HTTP GET /api/.*")
    assert r["l7"][0]["policy"] == "default/http"
    plain = cnp("default", "plain", endpointSelector={"matchLabels": {"app": "web"}}, ingress=[{"fromEndpoints": [{}]}])
    r = ev(*BASE, p, plain).check(DB, WEB, 8080)
    assert r["allowed"] and not r["l7"]


def test_both_engines_must_allow_and_merged_mode():
    k8s = np("default", "k", podSelector={"matchLabels": {"app": "db"}}, ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}]}])
    cil = cnp("default", "c", endpointSelector={"matchLabels": {"app": "db"}},
              ingress=[{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "dev"}}]}])
    e = ev(*BASE, k8s, cil)
    r = e.check(PROD, DB, 5432)
    assert not r["allowed"] and r["ingress"]["kubernetes"]["allowed"] and not r["ingress"]["cilium"]["allowed"]
    assert not allowed(e, DEV, DB, 5432)
    merged = ev(*BASE, k8s, cil, combine="merged")
    assert allowed(merged, PROD, DB, 5432) and allowed(merged, DEV, DB, 5432) and not allowed(merged, WEB, DB, 5432)
    only_k8s = ev(*BASE, k8s, cil, enforce=["kubernetes"])
    assert allowed(only_k8s, PROD, DB, 5432) and not only_k8s.check(PROD, DB, 5432)["ingress"]["cilium"]["enforced"]


# ---------------------------------------------------------------------------- matrix


def _random_cluster(seed, pods=40, policies=25):
    rnd = random.Random(seed)
    nss = ["a", "b", "c"]
    objs = [ns(n, team=n) for n in nss]
    apps = ["web", "api", "db", "cache"]
    for i in range(pods):
        objs.append(pod(rnd.choice(nss), f"p{i}", [{"name": "http", "containerPort": rnd.choice([80, 8080])}],
                        app=rnd.choice(apps), tier=rnd.choice(["x", "y"])))
    for i in range(policies):
        n = rnd.choice(nss)
        peer = rnd.choice([{"podSelector": {"matchLabels": {"app": rnd.choice(apps)}}},
                           {"namespaceSelector": {"matchLabels": {"team": rnd.choice(nss)}}},
                           {"namespaceSelector": {}, "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["x"]}]}}])
        ports = rnd.choice([None, [{"port": 80}], [{"port": "http"}], [{"port": 70, "endPort": 90}]])
        rule = {"from" if i % 2 else "to": [peer]}
        if ports:
            rule["ports"] = ports
        sel = rnd.choice([{}, {"matchLabels": {"app": rnd.choice(apps)}}])
        if i % 2:
            objs.append(np(n, f"np{i}", podSelector=sel, ingress=[rule]))
        else:
            objs.append(np(n, f"np{i}", podSelector=sel, policyTypes=["Egress"], egress=[rule]))
        if i % 5 == 0:
            objs.append(cnp(n, f"cnp{i}", endpointSelector={"matchLabels": {"app": rnd.choice(apps)}},
                            ingress=[{"fromEndpoints": [{"matchLabels": {"tier": "x"}}]}],
                            ingressDeny=[{"fromEndpoints": [{"matchLabels": {"app": "cache", "k8s:io.kubernetes.pod.namespace": "b"}}]}]))
    return objs


@pytest.mark.parametrize("combine", ["separate", "merged"])
def test_matrix_agrees_with_check(combine):
    objs = _random_cluster(7)
    e = ev(*objs, combine=combine)
    m = e.matrix(None, [80, "http"])
    refs = m["pods"]
    for res in m["results"]:
        for si, row in enumerate(refs):
            for di, dref in enumerate(refs):
                s_ns, s_name = row.split("/")
                d_ns, d_name = dref.split("/")
                expect = e.check({"namespace": s_ns, "pod": s_name}, {"namespace": d_ns, "pod": d_name}, res["port"])["allowed"]
                assert res["allowed"][si][di] == expect, (combine, res["port"], row, dref)
    assert 0 < m["results"][0]["allowed_count"] < len(refs) ** 2


def test_matrix_namespace_filter_and_unresolved():
    e = ev(*BASE)
    m = e.matrix(["default"], ["pg"])
    assert m["pods"] == ["default/db", "default/web"]
    res = m["results"][0]
    assert res["unresolved"] == [1]
    assert res["allowed"] == [[True, False], [True, False]]


def test_reachable_from_pods():
    p = np("default", "p", podSelector={"matchLabels": {"app": "db"}}, ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}}}]}])
    e = ev(*BASE, p)
    assert [x.ref() for x in e.reachable_from_pods(DB, 5432)] == ["dev/client"]

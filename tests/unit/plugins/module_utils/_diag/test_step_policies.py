# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 4 analyzer: for every finding code a snapshot case that fires and a near miss that must not."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._diag.index import Index
from ansible_collections.aksnet.networking.plugins.module_utils._diag.snapshot_io import load_snapshot, render_snapshot
from ansible_collections.aksnet.networking.plugins.module_utils._diag.step_policies import analyze_policies, network_facts

AZURE_NPM = {"plugin": "azure", "dataplane": "azure", "policy": "azure"}
CILIUM = {"plugin": "azure", "plugin_mode": "overlay", "dataplane": "cilium", "policy": "cilium",
          "advanced_networking": {"observability": False, "security": True, "advanced_network_policies": "L7"}}
NO_POLICY = {"plugin": "kubenet", "dataplane": "azure", "policy": "none"}


def ns(name, **labels):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(namespace, name, ports=(), **labels):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": namespace, "name": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "ports": [dict(p) for p in ports]}]}, "status": {"phase": "Running"}}


def np(namespace, name, **spec):
    spec.setdefault("podSelector", {})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": namespace, "name": name}, "spec": spec}


def cnp(namespace, name, **spec):
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"namespace": namespace, "name": name}, "spec": spec}


def svc(namespace, name, selector, port, target=None, stype="ClusterIP"):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": namespace, "name": name},
            "spec": {"type": stype, "selector": selector, "ports": [{"port": port, "targetPort": target or port, "protocol": "TCP"}]}}


BASE = [
    ns("kube-system"), ns("shop", team="shop"), ns("web", team="web"),
    pod("kube-system", "coredns-1", [{"name": "dns", "containerPort": 53, "protocol": "UDP"}], **{"k8s-app": "kube-dns"}),
    pod("kube-system", "cilium-abc", **{"k8s-app": "cilium"}),
    pod("shop", "api-1", [{"name": "http", "containerPort": 8080}], app="api"),
    pod("shop", "db-1", [{"name": "pg", "containerPort": 5432}], app="db"),
    pod("web", "front-1", [{"name": "http", "containerPort": 80}], app="front"),
]


def run(tmp_path, extra, facts=None, namespaces=None, base=tuple(BASE)):
    """Round-trip through a snapshot file, as diagnose does, then run the analyzer."""
    path = tmp_path / "snap.json"
    path.write_text(render_snapshot(copy.deepcopy(list(base) + list(extra))))
    snap = load_snapshot(str(path))
    return analyze_policies(Index(snap["objects"]), {"cluster_facts": facts, "namespaces": namespaces})


def codes(result, code=None):
    found = [f["code"] for f in result["findings"]]
    return found if code is None else [f for f in result["findings"] if f["code"] == code]


def one(result, code):
    hits = codes(result, code)
    assert len(hits) == 1, json.dumps(result["findings"], indent=1)[:3000]
    f = hits[0]
    assert f["step"] == 4 and f["message"] and f["remediation"] and f["evidence"]
    return f


ALLOW_DNS = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                     "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
             "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}


def test_clean_cluster_has_no_findings(tmp_path):
    good = np("shop", "db-from-api", podSelector={"matchLabels": {"app": "db"}},
              ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": "pg"}]}])
    res = run(tmp_path, [good], AZURE_NPM)
    assert res["findings"] == [] and res["skipped"] is None and res["checked"] >= 1


def test_skipped_when_networkpolicies_cannot_be_listed():
    res = analyze_policies(Index(BASE, skipped={"NetworkPolicy": "403 Forbidden"}), {"cluster_facts": None, "namespaces": None})
    assert res["skipped"] and "Forbidden" in res["skipped"] and res["findings"] == []


def test_not_enforced(tmp_path):
    p = np("shop", "deny", policyTypes=["Ingress"])
    f = one(run(tmp_path, [p], NO_POLICY), "netpol.not_enforced")
    assert "shop/deny" in f["message"] and f["evidence"]["network_policy"] == "none"
    assert not codes(run(tmp_path, [p], AZURE_NPM), "netpol.not_enforced")
    # unenforced policies produce no flow findings (nothing is dropped)
    assert not codes(run(tmp_path, [p], NO_POLICY), "netpol.isolated_without_allow")


def test_selects_no_pods(tmp_path):
    p = np("shop", "p", podSelector={"matchLabels": {"app": "dbb"}}, ingress=[{}])
    f = one(run(tmp_path, [p], AZURE_NPM), "netpol.selects_no_pods")
    assert f["evidence"]["closest_pods"][0]["differs"]
    assert "app=dbb" in f["message"]
    p["spec"]["podSelector"]["matchLabels"]["app"] = "db"
    assert not codes(run(tmp_path, [p], AZURE_NPM), "netpol.selects_no_pods")


def test_default_deny_is_reported_as_deny_never_as_allow_all(tmp_path):
    deny = np("shop", "default-deny", policyTypes=["Ingress"])
    res = run(tmp_path, [deny], AZURE_NPM)
    f = one(res, "netpol.default_deny")
    assert f["severity"] == "info" and "default deny for ingress" in f["message"] and "allows all" not in f["message"].lower()
    assert f["evidence"]["pod_count"] == 2
    allow_all = np("shop", "allow-all", ingress=[{}])
    assert not codes(run(tmp_path, [allow_all], AZURE_NPM), "netpol.default_deny")


def test_isolated_without_allow(tmp_path):
    deny = np("shop", "default-deny", policyTypes=["Ingress"])
    f = one(run(tmp_path, [deny], AZURE_NPM), "netpol.isolated_without_allow")
    assert f["evidence"]["pod_count"] == 2 and f["evidence"]["direction"] == "ingress"
    allow = np("shop", "from-web", ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "web"}}}]}])
    assert not codes(run(tmp_path, [deny, allow], AZURE_NPM), "netpol.isolated_without_allow")


def test_namespace_selector_no_match_names_the_missing_label(tmp_path):
    p = np("shop", "p", podSelector={"matchLabels": {"app": "api"}},
           ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "frontend"}}}]}])
    f = one(run(tmp_path, [p], AZURE_NPM), "netpol.namespace_selector_no_match")
    assert "kubectl label namespace" in f["remediation"] and "team=frontend" in f["remediation"]
    assert any("team=frontend (has team=" in d for c in f["evidence"]["closest_namespaces"] for d in c["differs"])
    p["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["team"] = "web"
    assert not codes(run(tmp_path, [p], AZURE_NPM), "netpol.namespace_selector_no_match")


def test_peer_selects_no_pods(tmp_path):
    p = np("shop", "p", podSelector={"matchLabels": {"app": "db"}}, ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "front"}}}]}])
    f = one(run(tmp_path, [p], AZURE_NPM), "netpol.peer_selects_no_pods")  # front lives in namespace web, not shop
    assert f["evidence"]["namespaces"] == ["shop"]
    p["spec"]["ingress"][0]["from"][0]["namespaceSelector"] = {"matchLabels": {"team": "web"}}
    assert not codes(run(tmp_path, [p], AZURE_NPM), "netpol.peer_selects_no_pods")


def test_port_not_exposed_named_and_numeric(tmp_path):
    named = np("shop", "p", podSelector={"matchLabels": {"app": "db"}}, ingress=[{"ports": [{"port": "postgres"}]}])
    f = one(run(tmp_path, [named], AZURE_NPM), "netpol.port_not_exposed")
    assert f["evidence"]["port"] == "postgres" and "pg:5432/TCP" in f["evidence"]["pods"][0]["ports"]
    numeric = np("shop", "p", podSelector={"matchLabels": {"app": "db"}}, ingress=[{"ports": [{"port": 5433}]}])
    one(run(tmp_path, [numeric], AZURE_NPM), "netpol.port_not_exposed")
    ok = np("shop", "p", podSelector={"matchLabels": {"app": "db"}}, ingress=[{"ports": [{"port": "pg"}, {"port": 5432}]}])
    assert not codes(run(tmp_path, [ok], AZURE_NPM), "netpol.port_not_exposed")


def test_egress_blocks_dns(tmp_path):
    eg = np("shop", "egress", podSelector={"matchLabels": {"app": "api"}}, policyTypes=["Egress"],
            egress=[{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}])
    f = one(run(tmp_path, [eg], AZURE_NPM), "netpol.egress_blocks_dns")
    assert f["severity"] == "error" and f["evidence"]["pods"] == ["shop/api-1"] and f["evidence"]["policies"] == ["shop/egress"]
    eg["spec"]["egress"].append(ALLOW_DNS)
    assert not codes(run(tmp_path, [eg], AZURE_NPM), "netpol.egress_blocks_dns")


def test_blocks_service_traffic(tmp_path):
    service = svc("shop", "db", {"app": "db"}, 5432)
    wrong = np("shop", "db-in", podSelector={"matchLabels": {"app": "db"}},
               ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": 5433}]}])
    f = one(run(tmp_path, [service, wrong], AZURE_NPM), "netpol.blocks_service_traffic")
    assert f["resource"] == {"kind": "Service", "namespace": "shop", "name": "db"} and f["evidence"]["policies"] == ["shop/db-in"]
    right = copy.deepcopy(wrong)
    right["spec"]["ingress"][0]["ports"] = [{"port": 5432}]
    assert not codes(run(tmp_path, [service, right], AZURE_NPM), "netpol.blocks_service_traffic")
    # client egress counts too: the only admitted client may not send to the db
    eg = np("shop", "api-out", podSelector={"matchLabels": {"app": "api"}}, policyTypes=["Egress"], egress=[ALLOW_DNS])
    one(run(tmp_path, [service, right, eg], AZURE_NPM), "netpol.blocks_service_traffic")


def test_blocks_service_traffic_example_shows_the_client_the_policy_means(tmp_path):
    # The demo's fault: api listens on 8080, its Service targets 8081, api-from-web admits web on 8080 only. The example must
    # show web (the client the policy admits, denied on this port and why), not a sibling api replica the policy never named.
    objects = [pod("shop", "api-2", [{"name": "http", "containerPort": 8080}], app="api"),
               pod("shop", "web-1", [{"name": "http", "containerPort": 8080}], app="web"),
               svc("shop", "api", {"app": "api"}, 80, 8081),
               np("shop", "api-from-web", podSelector={"matchLabels": {"app": "api"}},
                  ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 8080}]}])]
    f = one(run(tmp_path, objects, AZURE_NPM), "netpol.blocks_service_traffic")
    example = f["evidence"]["example"]
    assert example.startswith("denied")  # it illustrates the finding's verdict
    assert "admits pod shop/web-1 on TCP/8081" in example and "api-2" not in example.split("no ingress rule admits", 1)[1]
    assert "shop/api-from-web ingress rule 0 admits the peer only on TCP/8080" in example
    assert example in f["message"]


def test_closest_pods_give_labels_only_where_they_tell_something_new(tmp_path):
    # three replicas of web (same labels but the hash) fail the peer app=wbe the same way: only the first repeats its labels;
    # a pod failing it differently (no app label) keeps its labels
    replicas = [pod("shop", f"web-{i}", app="web", tier="fe", hash=f"h{i}") for i in range(3)]
    p = np("shop", "api-in", podSelector={"matchLabels": {"app": "api"}}, ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "wbe"}}}]}])
    f = one(run(tmp_path, [*replicas, p], AZURE_NPM, base=[ns("shop"), pod("shop", "api-1", app="api", tier="be", hash="a")]),
            "netpol.peer_selects_no_pods")
    closest = f["evidence"]["closest_pods"]
    assert [c["name"] for c in closest] == ["shop/api-1", "shop/web-0", "shop/web-1"]
    assert [c["differs"] for c in closest] == [["app=wbe (has app=api)"], ["app=wbe (has app=web)"], ["app=wbe (has app=web)"]]
    assert closest[0]["labels"] == {"app": "api", "tier": "be", "hash": "a"}
    assert closest[1]["labels"] == {"app": "web", "tier": "fe", "hash": "h0"}
    assert "labels" not in closest[2] and closest[2]["matched"] == 0
    assert "closest pod shop/api-1 differs in app=wbe (has app=api)" in f["message"]


def test_cilium_not_enforced(tmp_path):
    p = cnp("shop", "c", endpointSelector={"matchLabels": {"app": "api"}}, ingress=[{"fromEntities": ["cluster"]}])
    f = one(run(tmp_path, [p], AZURE_NPM), "cilium.not_enforced")
    assert "dataplane azure" in f["message"]
    assert not codes(run(tmp_path, [p], CILIUM), "cilium.not_enforced")
    # without facts: no Cilium agent in kube-system -> not enforced
    no_agent = [o for o in BASE if (o["metadata"].get("name") != "cilium-abc")]
    one(run(tmp_path, [p], None, base=no_agent), "cilium.not_enforced")
    assert not codes(run(tmp_path, [p], None), "cilium.not_enforced")


def test_cilium_selects_no_endpoints(tmp_path):
    p = cnp("shop", "c", endpointSelector={"matchLabels": {"k8s:app": "apii"}}, ingress=[{"fromEntities": ["cluster"]}])
    one(run(tmp_path, [p], CILIUM), "cilium.selects_no_endpoints")
    p["spec"]["endpointSelector"]["matchLabels"]["k8s:app"] = "api"
    assert not codes(run(tmp_path, [p], CILIUM), "cilium.selects_no_endpoints")


FQDN_RULE = {"toFQDNs": [{"matchName": "api.github.com"}], "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}
DNS_RULE = {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}}],
            "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}]}


def test_cilium_fqdn_without_dns_rule(tmp_path):
    p = cnp("shop", "out", endpointSelector={"matchLabels": {"app": "api"}}, egress=[FQDN_RULE])
    f = one(run(tmp_path, [p], CILIUM), "cilium.fqdn_without_dns_rule")
    assert f["evidence"]["dns_allowed_at_l4"] is False
    l4_only = copy.deepcopy(DNS_RULE)
    del l4_only["toPorts"][0]["rules"]
    f = one(run(tmp_path, [cnp("shop", "out", endpointSelector={"matchLabels": {"app": "api"}}, egress=[FQDN_RULE, l4_only])], CILIUM),
            "cilium.fqdn_without_dns_rule")
    assert f["evidence"]["dns_allowed_at_l4"] is True and "rules.dns" in f["message"]
    good = cnp("shop", "out", endpointSelector={"matchLabels": {"app": "api"}}, egress=[FQDN_RULE, DNS_RULE])
    assert not codes(run(tmp_path, [good], CILIUM), "cilium.fqdn_without_dns_rule")


def test_cilium_l7_not_enabled(tmp_path):
    http = cnp("shop", "h", endpointSelector={"matchLabels": {"app": "api"}},
               ingress=[{"fromEntities": ["cluster"], "toPorts": [{"ports": [{"port": "8080"}], "rules": {"http": [{"method": "GET"}]}}]}])
    fqdn_level = dict(CILIUM, advanced_networking={"security": True, "advanced_network_policies": "FQDN"})
    f = one(run(tmp_path, [http], fqdn_level), "cilium.l7_not_enabled")
    assert f["evidence"]["required"] == "L7"
    assert not codes(run(tmp_path, [http], CILIUM), "cilium.l7_not_enabled")
    fq = cnp("shop", "out", endpointSelector={"matchLabels": {"app": "api"}}, egress=[FQDN_RULE, DNS_RULE])
    camel = {"networkPlugin": "azure", "networkDataplane": "cilium", "networkPolicy": "cilium",
             "advancedNetworking": {"enabled": True, "security": {"enabled": False}}}
    one(run(tmp_path, [fq], camel), "cilium.l7_not_enabled")
    assert not codes(run(tmp_path, [fq], fqdn_level), "cilium.l7_not_enabled")


def test_cilium_deny_enables_default_deny(tmp_path):
    deny = cnp("shop", "deny-web", endpointSelector={"matchLabels": {"app": "db"}},
               ingressDeny=[{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "web"}}]}])
    f = one(run(tmp_path, [deny], CILIUM), "cilium.deny_enables_default_deny")
    assert f["evidence"]["selected_endpoints"] == ["shop/db-1"] and "enableDefaultDeny" in f["remediation"]
    deny["spec"]["enableDefaultDeny"] = {"ingress": False}
    assert not codes(run(tmp_path, [deny], CILIUM), "cilium.deny_enables_default_deny")


def test_namespace_filter(tmp_path):
    p = np("shop", "p", podSelector={"matchLabels": {"app": "nope"}}, ingress=[{}])
    assert codes(run(tmp_path, [p], AZURE_NPM, namespaces={"shop"}), "netpol.selects_no_pods")
    assert not codes(run(tmp_path, [p], AZURE_NPM, namespaces={"web"}), "netpol.selects_no_pods")


@pytest.mark.parametrize("facts, expected", [
    (None, (False, None, None, None)),
    (CILIUM, (True, "cilium", "cilium", "l7")),
    ({"networkDataplane": "cilium", "networkPolicy": "cilium", "advancedNetworking": {"security": {"advancedNetworkPolicies": "FQDN"}}},
     (True, "cilium", "cilium", "fqdn")),
])
def test_network_facts_normalisation(facts, expected):
    f = network_facts(facts)
    assert (f["known"], f["dataplane"], f["policy"], f["advanced_network_policies"]) == expected


def test_cilium_deny_only_reported_without_agent(tmp_path):
    """13.10: a clusterwide deny-only policy in a snapshot with no Cilium agent: both findings."""
    ccnp = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "deny-web"},
            "spec": {"endpointSelector": {"matchLabels": {"app": "db"}},
                     "ingressDeny": [{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "web"}}]}]}}
    no_agent = [o for o in BASE if o["metadata"].get("name") != "cilium-abc"]
    result = run(tmp_path, [ccnp], None, base=no_agent)
    one(result, "cilium.not_enforced")
    f = one(result, "cilium.deny_enables_default_deny")
    assert f["resource"]["kind"] == "CiliumClusterwideNetworkPolicy" and f["evidence"]["selected_endpoints"] == ["shop/db-1"]

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Intent -> manifest translation (against the field guide's YAML) and the network_policy guard rails."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.aksnet.networking.plugins.module_utils._netpol.intents import (
    IntentError,
    build_policy,
    check_policy,
    normalize_cluster_facts,
)

REPO_ROOT = Path(__file__).resolve().parents[5]
FIELD_GUIDE = REPO_ROOT / "tests" / "unit" / "data" / "field_guide_examples.yaml"
NS = "shop"

CILIUM_FACTS = {"plugin": "azure", "dataplane": "cilium", "policy": "cilium"}
FQDN_FACTS = {**CILIUM_FACTS, "advanced_networking": {"observability": True, "security": True, "advanced_network_policies": "FQDN"}}
L7_FACTS = {**CILIUM_FACTS, "advanced_networking": {"observability": True, "security": True, "advanced_network_policies": "L7"}}


def _field_guide_policies():
    """Every YAML example of the field guide (tests/unit/data), keyed by (kind, metadata.name), <namespace> -> NS."""
    text = FIELD_GUIDE.read_text(encoding="utf-8")
    docs = {}
    for doc in (yaml.safe_load(block.replace("<namespace>", NS)) for block in yaml.safe_load(text)["examples"]):
        if isinstance(doc, dict) and "kind" in doc:
            docs[(doc["kind"], doc["metadata"]["name"])] = doc
    return docs


@pytest.fixture(scope="module")
def guide():
    return _field_guide_policies()


def _errors_of(params):
    with pytest.raises(IntentError) as exc:
        build_policy(params)
    return exc.value.errors


# ---------------------------------------------------------------- field guide, field for field


def test_field_guide_has_the_five_examples(guide):
    for key in [
        ("NetworkPolicy", "default-deny-ingress"),
        ("NetworkPolicy", "allow-from-monitoring"),
        ("CiliumNetworkPolicy", "allow-http-from-frontend"),
        ("CiliumClusterwideNetworkPolicy", "deny-external-egress"),
        ("CiliumNetworkPolicy", "allow-egress-to-api"),
    ]:
        assert key in guide


def test_default_deny_ingress_matches_field_guide(guide):
    built = build_policy({"name": "default-deny-ingress", "namespace": NS, "default_deny": ["ingress"]})
    assert built == guide[("NetworkPolicy", "default-deny-ingress")]


def test_allow_from_monitoring_matches_field_guide(guide):
    built = build_policy({"name": "allow-from-monitoring", "namespace": NS, "pod_selector": {"app": "my-app"}, "allow_from_namespace": "monitoring"})
    assert built == guide[("NetworkPolicy", "allow-from-monitoring")]


def test_cilium_http_rule_matches_field_guide(guide):
    built = build_policy(
        {
            "kind": "CiliumNetworkPolicy",
            "name": "allow-http-from-frontend",
            "namespace": NS,
            "endpoint_selector": {"app": "my-api"},
            "allow_from_pods": [{"labels": {"app": "frontend"}, "ports": [{"port": 8080, "protocol": "TCP"}]}],
            "http_rules": [{"method": "GET", "path": "/api/.*"}],
        }
    )
    assert built == guide[("CiliumNetworkPolicy", "allow-http-from-frontend")]


def test_deny_world_egress_has_field_guide_fields_plus_enable_default_deny(guide):
    expected = guide[("CiliumClusterwideNetworkPolicy", "deny-external-egress")]
    built = build_policy({"kind": "CiliumClusterwideNetworkPolicy", "name": "deny-external-egress", "deny_world_egress": True})
    # every field of the field guide, as written
    assert {k: built[k] for k in ("apiVersion", "kind", "metadata")} == {k: expected[k] for k in ("apiVersion", "kind", "metadata")}
    for key, value in expected["spec"].items():
        assert built["spec"][key] == value
    # plus the guard rail, and nothing else
    assert built["spec"]["enableDefaultDeny"] == {"egress": False}
    assert set(built["spec"]) == set(expected["spec"]) | {"enableDefaultDeny"}


def test_fqdn_policy_matches_field_guide(guide):
    built = build_policy(
        {
            "kind": "CiliumNetworkPolicy",
            "name": "allow-egress-to-api",
            "namespace": NS,
            "endpoint_selector": {"app": "my-app"},
            "allow_fqdns": [{"match_pattern": "*.example.com", "ports": [{"port": 443, "protocol": "TCP"}]}],
        }
    )
    assert built == guide[("CiliumNetworkPolicy", "allow-egress-to-api")]


def test_field_guide_examples_pass_the_guard_rails_on_a_suitable_cluster(guide):
    for key, doc in guide.items():
        if key[0] not in ("NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
            continue
        manifest, errors, _warnings = check_policy(doc, cluster_facts=L7_FACTS, cilium_crds_present=True)
        assert errors == [], key
        assert manifest == doc, key  # the FQDN example already has its DNS rule: nothing added


def test_raw_field_guide_world_deny_warns_that_all_egress_is_cut(guide):
    raw = guide[("CiliumClusterwideNetworkPolicy", "deny-external-egress")]
    _m, errors, warnings = check_policy(raw, cluster_facts=CILIUM_FACTS, cilium_crds_present=True)
    assert errors == []
    assert len(warnings) == 1
    assert "egressDeny without egress allow rules" in warnings[0]
    assert "every pod of the cluster" in warnings[0] and "DNS included" in warnings[0]
    assert "enableDefaultDeny: {egress: false}" in warnings[0]
    built = build_policy({"kind": "CiliumClusterwideNetworkPolicy", "name": "deny-external-egress", "deny_world_egress": True})
    assert check_policy(built, cluster_facts=CILIUM_FACTS, cilium_crds_present=True)[1:] == ([], [])


# ---------------------------------------------------------------- translation and combination


def test_intents_combine_as_a_union_of_rules_in_a_fixed_order():
    built = build_policy(
        {
            "name": "web",
            "namespace": NS,
            "pod_selector": {"app": "web"},
            "default_deny": ["ingress", "egress"],
            "allow_from_pods": [{"labels": {"app": "api"}, "namespace": "backend", "ports": [{"port": 8080}]}, {"labels": {"role": "lb"}}],
            "allow_from_namespace": [{"labels": {"team": "ops"}}, "monitoring"],
            "ports": [{"port": "http"}],
            "allow_dns": True,
        }
    )
    spec = built["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [
        {"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}], "ports": [{"port": "http", "protocol": "TCP"}]},
        {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}], "ports": [{"port": "http", "protocol": "TCP"}]},
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "backend"}}, "podSelector": {"matchLabels": {"app": "api"}}}],
            "ports": [{"port": 8080, "protocol": "TCP"}],
        },
        {"from": [{"podSelector": {"matchLabels": {"role": "lb"}}}], "ports": [{"port": "http", "protocol": "TCP"}]},
    ]
    assert spec["egress"] == [
        {
            "to": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
            ],
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        }
    ]


def test_cilium_default_deny_and_namespace_peers():
    built = build_policy(
        {
            "kind": "CiliumNetworkPolicy",
            "name": "lockdown",
            "namespace": NS,
            "default_deny": ["ingress", "egress"],
            "allow_from_namespace": [{"labels": {"team": "ops"}, "ports": ["9090/TCP"]}, "monitoring"],
        }
    )
    spec = built["spec"]
    assert spec["endpointSelector"] == {}
    assert spec["ingress"] == [
        {"fromEndpoints": [{"matchLabels": {"k8s:io.cilium.k8s.namespace.labels.team": "ops"}}], "toPorts": [{"ports": [{"port": "9090", "protocol": "TCP"}]}]},
        {"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "monitoring"}}]},
    ]
    assert spec["egress"] == [{}]  # Cilium's default-deny idiom for a direction without rules


def test_cilium_allow_dns_alone_is_plain_l4_and_with_fqdns_resolves_anything():
    alone = build_policy({"kind": "CiliumNetworkPolicy", "name": "dns", "namespace": NS, "allow_dns": True})
    assert alone["spec"]["egress"] == [
        {
            "toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}}],
            "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}]}],
        }
    ]
    both = build_policy(
        {
            "kind": "CiliumNetworkPolicy",
            "name": "dns",
            "namespace": NS,
            "allow_dns": True,
            "allow_fqdns": [
                {"match_name": "api.example.com", "ports": [443]},
                {"match_pattern": "*.blob.core.windows.net", "ports": [443]},
                {"match_name": "x.org"},
            ],
        }
    )
    egress = both["spec"]["egress"]
    assert egress[0]["toPorts"][0]["rules"] == {"dns": [{"matchPattern": "*"}]}
    assert egress[1:] == [
        {
            "toFQDNs": [{"matchName": "api.example.com"}, {"matchPattern": "*.blob.core.windows.net"}],
            "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
        },
        {"toFQDNs": [{"matchName": "x.org"}]},
    ]


def test_deny_world_with_explicit_default_deny_egress_keeps_default_deny():
    built = build_policy(
        {"kind": "CiliumNetworkPolicy", "name": "w", "namespace": NS, "deny_world_egress": True, "default_deny": ["egress"], "allow_dns": True}
    )
    assert "enableDefaultDeny" not in built["spec"]
    assert built["spec"]["egressDeny"] == [{"toEntities": ["world"]}]


def test_raw_spec_is_wrapped_unchanged_and_cluster_wide_has_no_namespace():
    spec = {"endpointSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}
    built = build_policy({"kind": "CiliumClusterwideNetworkPolicy", "name": "raw", "spec": spec})
    assert built == {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "raw"}, "spec": spec}
    assert built["spec"] is not spec


@pytest.mark.parametrize(
    "params, expected",
    [
        (
            {"name": "p", "namespace": NS, "http_rules": [{"method": "GET"}], "allow_from_pods": [{"labels": {}}]},
            ["http_rules:", "kind NetworkPolicy", "CiliumNetworkPolicy"],
        ),
        ({"name": "p", "namespace": NS, "allow_fqdns": ["a.example.com"]}, ["allow_fqdns:", "only in Cilium"]),
        ({"name": "p", "namespace": NS, "deny_world_egress": True}, ["deny_world_egress:", "only in Cilium"]),
        ({"kind": "CiliumClusterwideNetworkPolicy", "name": "p", "namespace": NS, "allow_dns": True}, ["namespace:", "cluster-scoped"]),
        ({"name": "p", "allow_dns": True}, ["namespace is required"]),
        ({"name": "p", "namespace": NS, "spec": {}, "allow_dns": True}, ["spec:", "cannot be combined", "allow_dns"]),
        ({"name": "p", "namespace": NS}, ["no intent given"]),
        ({"name": "p", "namespace": NS, "default_deny": ["both"]}, ["default_deny:", "'both'", "ingress and/or egress"]),
        ({"name": "p", "namespace": NS, "allow_from_pods": [{"labels": {}, "ports": [{"port": 70000}]}]}, ["allow_from_pods[0].ports[0]", "70000", "1-65535"]),
        ({"name": "p", "namespace": NS, "allow_from_pods": [{"labels": {}, "ports": [{"port": 53, "protocol": "ANY"}]}]}, ["protocol 'ANY'", "TCP, UDP, SCTP"]),
        ({"name": "p", "namespace": NS, "allow_from_pods": [{"labels": {}, "ports": [{"port": 80, "end_port": 79}]}]}, ["end_port 79", "between port 80"]),
        ({"name": "p", "namespace": NS, "allow_from_namespace": [{"name": "a", "labels": {"x": "y"}}]}, ["allow_from_namespace[0]", "exactly one of name"]),
        ({"name": "Bad_Name", "namespace": NS, "allow_dns": True}, ["name:", "'Bad_Name'", "DNS-1123"]),
        (
            {"kind": "CiliumNetworkPolicy", "name": "p", "namespace": NS, "deny_world_egress": True, "allow_fqdns": ["a.example.com"]},
            ["deny_world_egress:", "allow_fqdns", "deny rules win"],
        ),
        (
            {"kind": "CiliumNetworkPolicy", "name": "p", "namespace": NS, "http_rules": [{"path": "/x"}], "allow_from_pods": [{"labels": {"a": "b"}}]},
            ["http_rules:", "no ports"],
        ),
        ({"kind": "CiliumNetworkPolicy", "name": "p", "namespace": NS, "http_rules": [{"path": "/x"}]}, ["http_rules:", "ingress allow rules"]),
        (
            {"kind": "CiliumNetworkPolicy", "name": "p", "namespace": NS, "http_rules": [{"path": "(/x"}], "allow_from_pods": [{"labels": {}, "ports": [80]}]},
            ["http_rules[0].path", "regular expression"],
        ),
        (
            {"kind": "CiliumNetworkPolicy", "name": "p", "namespace": NS, "allow_fqdns": [{"match_name": "*.x.com"}]},
            ["allow_fqdns[0].match_name", "match_pattern"],
        ),
        ({"name": "p", "namespace": NS, "pod_selector": {"app": True}, "allow_dns": True}, ["pod_selector:", "label values are strings"]),
    ],
)
def test_invalid_intents_name_the_option_and_the_rule(params, expected):
    message = " | ".join(_errors_of(params))
    for part in expected:
        assert part in message


def test_all_errors_are_reported_at_once():
    errors = _errors_of({"name": "p", "namespace": NS, "http_rules": [{"method": "GET"}], "allow_fqdns": ["a.com"], "default_deny": ["up"]})
    assert len(errors) == 3


# ---------------------------------------------------------------- guard rails


def _np(**kw):
    return build_policy({"name": "p", "namespace": NS, **kw})


def _cnp(**kw):
    return build_policy({"kind": "CiliumNetworkPolicy", "name": "p", "namespace": NS, **kw})


def test_cilium_kind_without_crds_fails_with_how_to_tell():
    _m, errors, _w = check_policy(_cnp(allow_dns=True), cilium_crds_present=False)
    assert len(errors) == 1
    assert "does not run Azure CNI powered by Cilium" in errors[0]
    assert "cilium.io CRDs are missing" in errors[0]
    assert "--query networkProfile.networkDataplane" in errors[0]
    # unknown CRDs but the network profile says otherwise
    _m, errors, _w = check_policy(_cnp(allow_dns=True), cluster_facts={"networkPlugin": "azure", "networkDataplane": "azure", "networkPolicy": "azure"})
    assert len(errors) == 1 and "dataplane is azure" in errors[0]
    # present -> fine; BYOCNI (plugin none) -> not our business
    assert check_policy(_cnp(allow_dns=True), cilium_crds_present=True)[1] == []
    assert check_policy(_cnp(allow_dns=True), cluster_facts={"plugin": "none"})[1] == []


@pytest.mark.parametrize(
    "facts", [{"plugin": "azure", "policy": "none"}, {"networkPlugin": "kubenet"}, {"network_profile": {"networkPlugin": "azure", "networkPolicy": "none"}}]
)
def test_network_policy_without_policy_engine_warns_not_enforced(facts):
    _m, errors, warnings = check_policy(_np(default_deny=["ingress"]), cluster_facts=facts)
    assert errors == []
    assert len(warnings) == 1
    assert "will not be enforced" in warnings[0] and "network.policy" in warnings[0] and "--network-policy" in warnings[0]


@pytest.mark.parametrize(
    "facts", [None, {}, {"plugin": "azure", "policy": "azure"}, {"networkPlugin": "azure", "networkDataplane": "cilium", "networkPolicy": "cilium"}]
)
def test_network_policy_with_engine_or_unknown_facts_does_not_warn(facts):
    assert check_policy(_np(default_deny=["ingress"]), cluster_facts=facts)[1:] == ([], [])


FQDN_POLICY = {"allow_fqdns": [{"match_pattern": "*.example.com", "ports": [443]}]}
HTTP_POLICY = {"allow_from_pods": [{"labels": {"app": "fe"}, "ports": [8080]}], "http_rules": [{"method": "GET", "path": "/api/.*"}]}


@pytest.mark.parametrize(
    "facts, intents, expected",
    [
        (
            CILIUM_FACTS,
            FQDN_POLICY,
            ["toFQDNs", "security disabled", "--enable-acns", "--acns-advanced-networkpolicies FQDN", "advanced_network_policies: FQDN"],
        ),
        (
            {**CILIUM_FACTS, "advanced_networking": {"security": True, "advanced_network_policies": "None"}},
            FQDN_POLICY,
            ["toFQDNs", "advanced network policies None", "--acns-advanced-networkpolicies FQDN"],
        ),
        (
            FQDN_FACTS,
            HTTP_POLICY,
            ["HTTP rules", "only with advanced network policies L7", "advanced network policies FQDN", "--acns-advanced-networkpolicies L7"],
        ),
        (CILIUM_FACTS, HTTP_POLICY, ["HTTP rules", "security disabled", "--acns-advanced-networkpolicies L7"]),
        (
            {
                "networkDataplane": "cilium",
                "networkPolicy": "cilium",
                "advancedNetworking": {"enabled": True, "security": {"enabled": True, "advancedNetworkPolicies": "FQDN"}},
            },
            HTTP_POLICY,
            ["HTTP rules", "advanced network policies FQDN"],
        ),
    ],
)
def test_l7_rules_need_the_cluster_setting(facts, intents, expected):
    _m, errors, _w = check_policy(_cnp(**intents), cluster_facts=facts, cilium_crds_present=True)
    assert len(errors) == 1
    for part in expected:
        assert part in errors[0]


@pytest.mark.parametrize(
    "facts, intents",
    [
        (FQDN_FACTS, FQDN_POLICY),
        (L7_FACTS, FQDN_POLICY),
        (L7_FACTS, HTTP_POLICY),
        ({**CILIUM_FACTS, "advanced_networking": {"security": True}}, FQDN_POLICY),  # AKS default level is FQDN
        ({"networkDataplane": "cilium", "advancedNetworking": {"enabled": True, "security": {"enabled": True, "advancedNetworkPolicies": "L7"}}}, HTTP_POLICY),
        (None, HTTP_POLICY),  # facts unknown: nothing to hold against the policy
    ],
)
def test_l7_rules_accepted_when_the_cluster_enforces_them(facts, intents):
    assert check_policy(_cnp(**intents), cluster_facts=facts, cilium_crds_present=True)[1] == []


def test_normalize_cluster_facts_accepts_snake_and_camel_case():
    snake = normalize_cluster_facts(
        {
            "plugin": "azure",
            "plugin_mode": "overlay",
            "dataplane": "cilium",
            "policy": "cilium",
            "advanced_networking": {"security": True, "advanced_network_policies": "L7"},
        }
    )
    camel = normalize_cluster_facts(
        {
            "properties": {
                "networkProfile": {
                    "networkPlugin": "azure",
                    "networkPluginMode": "overlay",
                    "networkDataplane": "cilium",
                    "networkPolicy": "cilium",
                    "advancedNetworking": {"enabled": True, "security": {"enabled": True, "advancedNetworkPolicies": "L7"}},
                }
            }
        }
    )
    assert (
        snake
        == camel
        == {
            "plugin": "azure",
            "plugin_mode": "overlay",
            "dataplane": "cilium",
            "policy": "cilium",
            "security_enabled": True,
            "advanced_network_policies": "l7",
        }
    )
    nested = normalize_cluster_facts(
        {
            "network": {
                "plugin": "azure",
                "plugin_mode": "overlay",
                "dataplane": "cilium",
                "policy": "cilium",
                "advanced_networking": {"enabled": True, "observability": True, "security": True, "advanced_network_policies": "L7"},
            }
        }
    )
    assert nested == snake
    off = normalize_cluster_facts({"advancedNetworking": {"enabled": False, "security": {"enabled": True, "advancedNetworkPolicies": "L7"}}})
    assert off["security_enabled"] is False and off["advanced_network_policies"] == "none"


RAW_FQDN_SPEC = {
    "endpointSelector": {"matchLabels": {"app": "a"}},
    "egress": [{"toFQDNs": [{"matchName": "api.example.com"}], "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}],
}


def test_raw_fqdn_without_dns_rule_gets_one_added_with_a_warning():
    raw = build_policy({"kind": "CiliumNetworkPolicy", "name": "p", "namespace": NS, "spec": RAW_FQDN_SPEC})
    before = copy.deepcopy(raw)
    manifest, errors, warnings = check_policy(raw, cluster_facts=FQDN_FACTS, cilium_crds_present=True)
    assert raw == before  # input untouched
    assert errors == []
    assert len(warnings) == 1 and "added one" in warnings[0] and "DNS answers it proxies" in warnings[0]
    assert manifest["spec"]["egress"][0] == {
        "toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}}],
        "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}],
    }
    assert manifest["spec"]["egress"][1:] == RAW_FQDN_SPEC["egress"]
    # the result is stable: checking it again adds nothing
    again, errors, warnings = check_policy(manifest, cluster_facts=FQDN_FACTS, cilium_crds_present=True)
    assert again == manifest and errors == [] and warnings == []


def test_raw_fqdn_with_only_an_l4_dns_rule_still_needs_the_proxy_rule():
    spec = copy.deepcopy(RAW_FQDN_SPEC)
    spec["egress"].insert(
        0,
        {
            "toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}}],
            "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}]}],
        },
    )
    raw = build_policy({"kind": "CiliumNetworkPolicy", "name": "p", "namespace": NS, "spec": spec})
    _m, errors, _w = check_policy(raw, ensure_dns_rule=False)
    assert len(errors) == 1
    assert "toFQDNs without an egress rule to kube-dns" in errors[0] and "ensure_dns_rule: true" in errors[0]


def test_default_deny_egress_without_dns_warns_about_dns():
    _m, _e, warnings = check_policy(_np(default_deny=["egress"]))
    assert len(warnings) == 1 and f"pods in namespace {NS} lose DNS" in warnings[0] and "allow_dns: true" in warnings[0]
    assert check_policy(_np(default_deny=["egress"], allow_dns=True))[2] == []
    _m, _e, warnings = check_policy(_cnp(default_deny=["egress"]))
    assert len(warnings) == 1 and "lose DNS" in warnings[0]
    assert check_policy(_cnp(default_deny=["egress"], allow_dns=True))[2] == []
    # a raw egress rule open on port 53 to any destination counts as a DNS allow
    raw = build_policy(
        {"name": "p", "namespace": NS, "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}}
    )
    assert check_policy(raw)[2] == []


NAMESPACES = [
    {"metadata": {"name": "monitoring", "labels": {"kubernetes.io/metadata.name": "monitoring"}}},
    {"metadata": {"name": "ops", "labels": {"team": "ops"}}},  # name label filled in implicitly
    {"metadata": {"name": "kube-system"}},
]


def test_namespace_selector_matching_no_namespace_warns_with_the_labels():
    _m, _e, warnings = check_policy(_np(allow_from_namespace=[{"labels": {"team": "payments"}}, "monitoring", "ops"]), namespaces=NAMESPACES)
    assert len(warnings) == 1
    assert "team=payments" in warnings[0] and "matches no existing namespace" in warnings[0] and "kubectl label namespace" in warnings[0]
    _m, _e, warnings = check_policy(_cnp(allow_from_namespace=["logging", {"labels": {"team": "ops"}}]), namespaces=NAMESPACES)
    assert len(warnings) == 1 and "io.kubernetes.pod.namespace=logging" in warnings[0]
    assert check_policy(_np(allow_from_namespace="monitoring"), namespaces=None)[2] == []


def _pod(name, labels, ports, namespace=NS):
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "containers": [{"name": "c", "ports": [dict(containerPort=n, protocol=proto, **({"name": pname} if pname else {})) for n, proto, pname in ports]}]
        },
    }


PODS = [_pod("web-1", {"app": "web"}, [(8080, "TCP", "http")]), _pod("db-1", {"app": "db"}, [(5432, "TCP", None)])]


@pytest.mark.parametrize(
    "ports, warned",
    [
        ([8080], None),
        (["http"], None),
        ([{"port": 8000, "end_port": 9000}], None),
        ([80], "port 80/TCP"),
        (["metrics"], "named port metrics/TCP"),
        ([{"port": 8080, "protocol": "UDP"}], "port 8080/UDP"),
    ],
)
def test_policy_port_no_selected_pod_exposes_warns(ports, warned):
    policy = _np(pod_selector={"app": "web"}, allow_from_pods=[{"labels": {"app": "fe"}, "ports": ports}])
    _m, _e, warnings = check_policy(policy, pods=PODS)
    if warned is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and warned in warnings[0] and "8080/TCP (http)" in warnings[0]


def test_cilium_port_check_and_selects_no_pods():
    policy = _cnp(endpoint_selector={"app": "web"}, allow_from_pods=[{"labels": {"app": "fe"}, "ports": [9090]}])
    _m, _e, warnings = check_policy(policy, pods=PODS)
    assert len(warnings) == 1 and "port 9090/TCP" in warnings[0]
    _m, _e, warnings = check_policy(_np(pod_selector={"app": "nothing"}, default_deny=["ingress"]), pods=PODS)
    assert len(warnings) == 1 and "selects no existing pod" in warnings[0] and "app=nothing" in warnings[0]

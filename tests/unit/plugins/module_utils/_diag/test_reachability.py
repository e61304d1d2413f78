# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Engine settings from cluster facts, and the workload reachability the HTML report draws."""

from __future__ import annotations

import pytest
from diag_fixtures import daemonset, namespace, pod

from ansible_collections.aksnet.networking.plugins.module_utils._diag.index import Index
from ansible_collections.aksnet.networking.plugins.module_utils._diag.reachability import (
    build_evaluator,
    policy_settings,
    workload_of,
    workload_reachability,
)
from ansible_collections.aksnet.networking.plugins.module_utils._diag.report import render_html


def np(name, ns, selector, ingress=None, egress=None, types=("Ingress",)):
    spec = {"podSelector": {"matchLabels": selector} if selector else {}, "policyTypes": list(types)}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def shop():
    return [
        namespace("shop"),
        pod("web-5d8f-aaaaa", "shop", {"app": "web", "pod-template-hash": "5d8f"}, ports=[("http", 8080, "TCP")],
            owner=("ReplicaSet", "web-5d8f"), ip="10.244.0.1"),
        pod("web-5d8f-bbbbb", "shop", {"app": "web", "pod-template-hash": "5d8f"}, ports=[("http", 8080, "TCP")],
            owner=("ReplicaSet", "web-5d8f"), ip="10.244.0.2"),
        pod("api-0", "shop", {"app": "api"}, ports=[("http", 9090, "TCP")], owner=("StatefulSet", "api"), ip="10.244.0.3"),
        pod("batch", "shop", {"app": "batch"}, ip="10.244.0.4"),
        np("api-from-web", "shop", {"app": "api"}, ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]),
    ]


# ----------------------------------------------------------------------------- engines


def test_without_facts_every_present_engine_enforces_separately():
    settings = policy_settings(Index(shop()))
    assert settings["enforce"] == ["kubernetes", "cilium"]
    assert settings["combine"] == "separate"
    assert any("no cluster facts" in n for n in settings["notes"])


def test_cilium_dataplane_merges_the_kinds():
    settings = policy_settings(Index(shop()), {"network_profile": {"plugin": "azure", "dataplane": "cilium", "policy": "cilium"}})
    assert settings == {"enforce": ["kubernetes", "cilium"], "combine": "merged", "ipblock_matches_pod_ips": False, "notes": []}


def test_policy_none_enforces_nothing_and_says_why():
    settings = policy_settings(Index(shop()), {"networkPlugin": "azure", "networkPolicy": "none"})
    assert settings["enforce"] == []
    assert any("NetworkPolicy is not enforced" in n for n in settings["notes"])
    assert any("Cilium policies are not enforced" in n for n in settings["notes"])


def test_azure_npm_matches_ipblock_against_pod_ips_and_combine_can_be_forced():
    settings = policy_settings(Index(shop()), {"plugin": "azure", "policy": "azure"}, combine="merged")
    assert settings["enforce"] == ["kubernetes"]
    assert settings["ipblock_matches_pod_ips"] is True
    assert settings["combine"] == "merged"


def test_no_cilium_agent_means_cilium_policies_are_not_enforced():
    objects = [*shop(), daemonset("kube-proxy")]
    assert policy_settings(Index(objects))["enforce"] == ["kubernetes"]


def test_unknown_combine_is_rejected():
    with pytest.raises(ValueError, match="combine 'both'"):
        policy_settings(Index([]), combine="both")


# ----------------------------------------------------------------------------- workloads


def test_workload_names():
    objs = {o["metadata"]["name"]: o for o in shop() if o["kind"] == "Pod"}
    assert workload_of(objs["web-5d8f-aaaaa"]) == "web"
    assert workload_of(objs["api-0"]) == "api"
    assert workload_of(objs["batch"]) == "batch"  # app label
    bare = pod("debug", "shop")
    assert workload_of(bare) == "debug"


def test_reachability_groups_pods_and_follows_policies():
    ev, _settings = build_evaluator(Index(shop()))
    reach = workload_reachability(ev)
    data = reach["shop"]
    assert data["nodes"] == ["api", "batch", "web"]
    edges = {(s, d): ok for s, d, ok in data["edges"]}
    assert edges[("web", "api")] is True
    assert edges[("batch", "api")] is False  # api-from-web admits only app=web
    assert edges[("api", "web")] is True  # web is not isolated
    assert not any(d == "batch" for _s, d in edges)  # batch declares no port: not evaluated
    assert data["ports"] == {"api": "9090/TCP", "web": "8080/TCP"}


def test_egress_isolation_counts_too():
    objects = [*shop(), np("deny-egress", "shop", None, types=("Egress",))]
    ev, _settings = build_evaluator(Index(objects))
    edges = {(s, d): ok for s, d, ok in workload_reachability(ev)["shop"]["edges"]}
    assert edges[("web", "api")] is False
    assert edges[("api", "web")] is False


def test_limit_and_namespace_filter():
    objects = [namespace("big"), namespace("other"), pod("x", "other", {"app": "x"}, ports=[(None, 80, "TCP")])]
    objects += [pod(f"w{i:02d}", "big", {"app": f"w{i:02d}"}, ports=[(None, 80, "TCP")], ip=f"10.1.0.{i + 1}") for i in range(40)]
    ev, _settings = build_evaluator(Index(objects))
    reach = workload_reachability(ev, namespaces=["big"], limit=30)
    assert list(reach) == ["big"]
    assert len(reach["big"]["nodes"]) == 30
    assert reach["big"]["hidden"] == 10
    assert len(reach["big"]["edges"]) == 30 * 30


def test_reachability_renders_in_the_html_report():
    ev, _settings = build_evaluator(Index(shop()))
    diag = {"summary": {"errors": 0, "warnings": 0, "infos": 0, "steps": {}}, "steps": [], "findings": [], "facts": {}}
    page = render_html(diag, workload_reachability(ev))
    assert "Namespace shop" in page
    assert "<svg" in page
    assert "web -&gt; api: allowed" in page

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Engine settings from cluster facts, and the Service reachability the HTML report draws."""

from __future__ import annotations

import pytest
from diag_fixtures import daemonset, ingress, namespace, pod, service

from ansible_collections.aksnet.networking.plugins.module_utils._diag.index import Index
from ansible_collections.aksnet.networking.plugins.module_utils._diag.reachability import (
    build_evaluator,
    policy_settings,
    service_reachability,
    workload_of,
)
from ansible_collections.aksnet.networking.plugins.module_utils._diag.report import deny_groups, render_html


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


def _cells(reach, ns):
    return {(c["src"], c["dst"]): c for c in reach[ns]["cells"]}


def shop_services():
    return [*shop(), service("web", "shop", {"app": "web"}, ports=((80, "http", "TCP", "http"),)),
            service("api", "shop", {"app": "api"}, ports=((80, 9090, "TCP", "http"),))]


def test_columns_are_service_ports_on_their_target_port_and_follow_policies():
    index = Index(shop_services())
    ev, _settings = build_evaluator(index)
    data = service_reachability(ev, index)["shop"]
    assert [c["id"] for c in data["clients"]] == ["shop/api", "shop/batch", "shop/web"]
    assert [(s["id"], s["label"], s["target_port"]) for s in data["services"]] == [
        ("shop/api:80/TCP", "api:80\u21929090", 9090), ("shop/web:80/TCP", "web:80\u2192http", "http")]
    cells = _cells({"shop": data}, "shop")
    assert cells[("shop/web", "shop/api:80/TCP")]["verdict"] == "allowed"
    denied = cells[("shop/batch", "shop/api:80/TCP")]
    assert denied["verdict"] == "denied" and denied["policies"] == ["shop/api-from-web"]
    assert "no ingress rule admits" in denied["reason"]
    assert cells[("shop/api", "shop/web:80/TCP")]["verdict"] == "allowed"  # web is not isolated


def test_the_service_target_port_decides_not_the_first_container_port():
    # api listens on 8080 (first) and 9090; the Service targets 9090, the policy admits web only on 8080.
    objects = [
        namespace("shop"),
        pod("web-0", "shop", {"app": "web"}, ports=[("http", 8080, "TCP")], ip="10.244.0.1"),
        pod("api-0", "shop", {"app": "api"}, ports=[("http", 8080, "TCP"), ("admin", 9090, "TCP")], ip="10.244.0.2"),
        service("api", "shop", {"app": "api"}, ports=((80, 9090, "TCP", "http"),)),
        np("api-from-web", "shop", {"app": "api"}, ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                                             "ports": [{"port": 8080, "protocol": "TCP"}]}]),
    ]
    index = Index(objects)
    ev, _settings = build_evaluator(index)
    cell = _cells(service_reachability(ev, index), "shop")[("shop/web", "shop/api:80/TCP")]
    assert cell["verdict"] == "denied", cell
    assert cell["policies"] == ["shop/api-from-web"]


def test_port_the_backends_do_not_declare_is_not_drawn_as_allowed():
    objects = [*shop(), service("api", "shop", {"app": "api"}, ports=((80, 8081, "TCP", "http"),)),
               np("api-all", "shop", {"app": "api"}, ingress=[{}])]
    index = Index(objects)
    ev, _settings = build_evaluator(index)
    cell = _cells(service_reachability(ev, index), "shop")[("shop/web", "shop/api:80/TCP")]
    assert cell["verdict"] == "not_exposed" and "8081" in cell["reason"]


def test_service_without_backends_has_no_allowed_cell():
    objects = [*shop(), service("typo", "shop", {"app": "wbe"})]
    index = Index(objects)
    ev, _settings = build_evaluator(index)
    cells = [c for c in service_reachability(ev, index)["shop"]["cells"] if c["dst"] == "shop/typo:80/TCP"]
    assert cells and {c["verdict"] for c in cells} == {"no_backend"}


def test_clients_from_other_namespaces_and_the_ingress_controller():
    objects = [
        *shop_services(),
        namespace("monitoring", {"team": "monitoring"}),
        pod("prometheus-0", "monitoring", {"app": "prometheus"}, ip="10.244.1.1"),
        pod("stranger-0", "monitoring", {"app": "stranger"}, ip="10.244.1.2"),
        namespace("ingress-nginx"),
        pod("ingress-nginx-controller-0", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}, ip="10.244.2.1"),
        ingress("storefront", "shop", class_name="nginx", backends=(("web", 80),)),
        np("api-from-monitoring", "shop", {"app": "api"},
           ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "monitoring"}}, "podSelector": {"matchLabels": {"app": "prometheus"}}}],
                     "ports": [{"port": 9100, "protocol": "TCP"}]}]),
    ]
    index = Index(objects)
    ev, _settings = build_evaluator(index)
    data = service_reachability(ev, index)["shop"]
    roles = {c["id"]: c["role"] for c in data["clients"]}
    assert roles["ingress-nginx/ingress-nginx"] == "ingress controller"
    assert roles["monitoring/prometheus"] == "named by a policy"
    assert "monitoring/stranger" not in roles  # no policy names it: not a path that matters
    cells = _cells({"shop": data}, "shop")
    assert cells[("ingress-nginx/ingress-nginx", "shop/web:80/TCP")]["verdict"] == "allowed"
    assert cells[("monitoring/prometheus", "shop/api:80/TCP")]["verdict"] == "denied"  # admitted on 9100 only


def test_limit_and_namespace_filter():
    objects = [namespace("big"), namespace("other"), pod("x", "other", {"app": "x"}, ports=[(None, 80, "TCP")]),
               service("x", "other", {"app": "x"}), service("svc", "big", {"app": "w00"}, ports=((80, 80, "TCP", None),))]
    objects += [pod(f"w{i:02d}", "big", {"app": f"w{i:02d}"}, ports=[(None, 80, "TCP")], ip=f"10.1.0.{i + 1}") for i in range(40)]
    index = Index(objects)
    ev, _settings = build_evaluator(index)
    reach = service_reachability(ev, index, namespaces=["big"], limit=30)
    assert list(reach) == ["big"]
    assert len(reach["big"]["clients"]) == 30
    assert reach["big"]["hidden_clients"] == 10
    assert len(reach["big"]["cells"]) == 30


def test_reachability_renders_with_glyphs_words_and_links_to_the_deciding_policies():
    index = Index(shop_services())
    ev, _settings = build_evaluator(index)
    reach = service_reachability(ev, index)
    diag = {"summary": {"errors": 0, "warnings": 0, "infos": 0, "steps": {}}, "steps": [], "findings": [], "facts": {}}
    page = render_html(diag, reach)
    assert "Namespace shop" in page and "<svg" in page
    assert 'data-src="shop/web" data-dst="shop/api:80/TCP" data-verdict="allowed"' in page
    assert "web -&gt; api:80\u21929090: allowed" in page
    assert "\u2717" in page and "\u2713" in page  # shapes, not only colours
    anchors = deny_groups("shop", reach["shop"])
    assert list(anchors) == [("shop/api-from-web",)]
    anchor = anchors[("shop/api-from-web",)]
    assert f'<a href="#{anchor}" class="denied-link">' in page
    assert f'<li id="{anchor}" class="deny-group"><code>shop/api-from-web</code>' in page


def test_no_cell_contradicts_the_findings_of_the_same_run():
    # The demo's shop: api listens on 8080, its Service targets 8081 and api-from-web admits web on 8080 (so the old
    # first-container-port picture read web -> api "allowed" next to netpol.blocks_service_traffic); web's Service has a typo.
    from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics

    objects = [
        namespace("shop"),
        pod("web-0", "shop", {"app": "web"}, ports=[("http", 8080, "TCP")], ip="10.244.0.1"),
        pod("api-0", "shop", {"app": "api"}, ports=[("http", 8080, "TCP")], ip="10.244.0.2"),
        service("api", "shop", {"app": "api"}, ports=((80, 8081, "TCP", "http"),)),
        service("web", "shop", {"app": "wbe"}, ports=((80, "http", "TCP", "http"),)),
        np("api-from-web", "shop", {"app": "api"}, ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                                             "ports": [{"port": 8080, "protocol": "TCP"}]}]),
    ]
    index = Index(objects)
    findings = run_diagnostics(index, steps=[2, 4])["findings"]
    flagged = {(f["code"], f["resource"]["name"]) for f in findings}
    assert {("netpol.blocks_service_traffic", "api"), ("service.selector_mismatch", "web")} <= flagged
    ev, _settings = build_evaluator(index)
    cells = service_reachability(ev, index)["shop"]["cells"]
    columns = {"shop/api:80/TCP", "shop/web:80/TCP"}
    assert {c["dst"] for c in cells} == columns
    assert [c for c in cells if c["dst"] in columns and c["verdict"] == "allowed"] == []

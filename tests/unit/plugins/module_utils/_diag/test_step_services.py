# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 2 (services): each code fires on its case and stays quiet on the near miss."""

from __future__ import annotations

from diag_fixtures import codes, endpoint_slice, endpoints_v1, event, findings_of, healthy_system, pod, service, web_app


def test_healthy_service_has_no_findings():
    assert codes([*healthy_system(), *web_app()], 2) == []


def test_selector_mismatch_names_closest_pods_and_differing_labels():
    objs = [
        pod("web-0", labels={"app": "web", "tier": "frontend"}, ports=[("http", 8080, "TCP")]),
        pod("db-0", labels={"app": "db"}),
        pod("other", labels={"team": "x"}),
        service("web", selector={"app": "web", "tier": "front"}),
        endpoint_slice("web", endpoints=[]),
    ]
    result = codes(objs, 2)
    assert result == [("service.selector_mismatch", "error", "default/web")]
    [f] = findings_of(objs, 2, "service.selector_mismatch")
    closest = f["evidence"]["closest_pods"]
    assert closest[0] == {"pod": "web-0", "matching": 1, "differs": {"tier": {"selector": "front", "pod": "frontend"}}}
    assert "other" not in [c["pod"] for c in closest]
    assert "tier=frontend (selector wants front)" in f["message"]


def test_selector_in_other_namespace_is_still_a_mismatch():
    objs = [pod("web-0", "prod", {"app": "web"}), service("web", "staging", {"app": "web"}), endpoint_slice("web", "staging")]
    assert [c for c, _s, _n in codes(objs, 2)] == ["service.selector_mismatch"]


def test_no_endpoints_when_pods_selected_but_slice_empty():
    objs = [pod("web-0", labels={"app": "web"}, phase="Pending", ports=[("http", 8080, "TCP")]),
            service("web", selector={"app": "web"}, ports=((80, "http", "TCP", "http"),)), endpoint_slice("web", endpoints=[])]
    [f] = findings_of(objs, 2, "service.no_endpoints")
    assert f["severity"] == "error" and "web-0 (Pending, not ready)" in f["message"]


def test_service_without_selector_needs_manual_endpoints():
    manual = service("external-db", selector=None)
    objs = [*web_app(), manual]
    [f] = findings_of(objs, 2, "service.no_endpoints")
    assert f["resource"]["name"] == "external-db" and f["severity"] == "warning"
    objs.append(endpoint_slice("external-db", endpoints=[("", None)]))
    assert findings_of(objs, 2, "service.no_endpoints") == []


def test_headless_and_external_name_are_skipped():
    headless = service("db", selector={"app": "nothing"}, cluster_ip="None")
    ext = service("ext", selector=None, type_="ExternalName")
    assert codes([*web_app(), headless, ext], 2) == []


def test_not_ready_endpoints_error_when_none_ready_warning_when_some():
    objs = web_app(ready=False)
    [f] = findings_of(objs, 2, "service.not_ready_endpoints")
    assert f["severity"] == "error" and "serves no traffic" in f["message"]
    objs = web_app()
    objs[-1] = endpoint_slice("web", endpoints=[("web-0", True), ("web-1", False)])
    [f] = findings_of(objs, 2, "service.not_ready_endpoints")
    assert f["severity"] == "warning" and f["evidence"]["not_ready"] == ["web-1"]


def test_unset_ready_condition_counts_as_ready():
    objs = web_app()
    objs[-1] = endpoint_slice("web", endpoints=[("web-0", None), ("web-1", None)])
    assert codes(objs, 2) == []


def test_v1_endpoints_used_only_as_fallback():
    objs = [*web_app()[:3], endpoints_v1("web", not_ready=["web-0", "web-1"])]
    assert codes(objs, 2) == [("service.not_ready_endpoints", "error", "default/web")]
    # with EndpointSlices present, stale v1 Endpoints are ignored
    objs = [*web_app(), endpoints_v1("web", not_ready=["web-0"])]
    assert codes(objs, 2) == []


def test_target_port_named_missing_is_error_number_missing_is_warning():
    pods = [pod("web-0", labels={"app": "web"}, ports=[("web", 8080, "TCP")])]
    named = service("named", selector={"app": "web"}, ports=((80, "http", "TCP", "http"),))
    numbered = service("numbered", selector={"app": "web"}, ports=((80, 9090, "TCP", None),))
    udp = service("udp", selector={"app": "web"}, ports=((80, 8080, "UDP", None),))
    slices = [endpoint_slice(n, endpoints=[("web-0", True)], suffix=n) for n in ("named", "numbered", "udp")]
    found = {f["resource"]["name"]: f for f in findings_of([*pods, named, numbered, udp, *slices], 2, "service.target_port_mismatch")}
    assert found["named"]["severity"] == "error" and "'http'" in found["named"]["message"] and "web=8080/TCP" in found["named"]["message"]
    assert found["numbered"]["severity"] == "warning" and "9090/TCP" in found["numbered"]["message"]
    assert "not with protocol UDP" in found["udp"]["message"]


def test_target_port_matching_or_undeclared_is_fine():
    pods = [pod("web-0", labels={"app": "web"}, ports=[("http", 8080, "TCP")]), pod("web-1", labels={"app": "web"}, ports=None)]
    objs = [*pods, service("web", selector={"app": "web"}, ports=((80, 8080, "TCP", None),)),
            endpoint_slice("web", endpoints=[("web-0", True), ("web-1", True)])]
    # web-0 declares 8080/TCP; web-1 declares nothing (cannot tell): no finding
    assert findings_of(objs, 2, "service.target_port_mismatch") == []
    # a named target must exist on every selected pod: web-1 lacks it
    objs[2] = service("web", selector={"app": "web"}, ports=((80, "http", "TCP", None),))
    [f] = findings_of(objs, 2, "service.target_port_mismatch")
    assert f["evidence"]["pods_lacking"] == ["web-1"] and "1 of 2 selected pods" in f["message"]


def test_lb_pending_with_events_and_assigned_lb_is_fine():
    lb = service("public", selector={"app": "web"}, type_="LoadBalancer",
                 annotations={"service.beta.kubernetes.io/azure-pip-name": "my-pip"})
    ev = event("Service", "default", "public", "SyncLoadBalancerFailed",
               "Error syncing load balancer: PublicIPAddress my-pip not found in resource group MC_rg")
    normal = event("Service", "default", "public", "EnsuringLoadBalancer", "Ensuring load balancer", type_="Normal")
    objs = [*web_app(), lb, ev, normal, endpoint_slice("public", endpoints=[("web-0", True)], suffix="p")]
    [f] = findings_of(objs, 2, "service.lb_pending")
    assert "SyncLoadBalancerFailed" in f["message"] and "my-pip not found" in f["message"]
    assert f["evidence"]["annotations"] == {"service.beta.kubernetes.io/azure-pip-name": "my-pip"}
    assert len(f["evidence"]["events"]) == 1
    done = service("public", selector={"app": "web"}, type_="LoadBalancer", lb_ingress=[{"ip": "20.1.1.1"}])
    assert findings_of([*web_app(), done, endpoint_slice("public", endpoints=[("web-0", True)], suffix="p")], 2, "service.lb_pending") == []


def test_no_endpoint_data_is_noted_not_reported():
    objs = [pod("web-0", labels={"app": "web"}, ports=[("http", 8080, "TCP")]), service("web", selector={"app": "web"}, ports=((80, "http", "TCP", None),))]
    from diag_fixtures import diagnose

    result = diagnose(objs, 2)
    assert result["findings"] == []
    assert result["steps"][1]["status"] == "passed"
    assert "endpoint checks not run" in result["steps"][1]["reason"]

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.aksnet.networking.plugins.module_utils._aks import loadbalancer as lb


def params(**over):
    base = {"name": "web", "namespace": "default", "state": "present", "ports": [{"port": 80, "target_port": 8080}], "selector": {"app": "web"}}
    base.update(over)
    return base


def test_public_service_has_no_annotations_and_never_load_balancer_ip():
    manifest = lb.service_manifest(params(external_traffic_policy="Local"))
    assert manifest["spec"] == {"type": "LoadBalancer", "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
                                "selector": {"app": "web"}, "externalTrafficPolicy": "Local"}
    assert "annotations" not in manifest["metadata"]


def test_options_become_the_aks_annotations():
    manifest = lb.service_manifest(params(internal=True, internal_subnet="ilb", static_ip="10.224.10.50", health_probe_path="/healthz",
                                          annotations={"team": "web"}))
    assert manifest["metadata"]["annotations"] == {
        "team": "web",
        lb.INTERNAL: "true",
        lb.INTERNAL_SUBNET: "ilb",
        lb.IPV4: "10.224.10.50",
        lb.PROBE_PATH: "/healthz",
    }
    assert "loadBalancerIP" not in manifest["spec"]


def test_public_static_ip_with_resource_group():
    annotations = lb.managed_annotations(params(static_ip="20.1.2.3", ip_resource_group="net-rg"))
    assert annotations == {lb.IPV4: "20.1.2.3", lb.RESOURCE_GROUP: "net-rg"}


def test_internal_static_ip_outside_the_subnet_is_an_error():
    errors, _warnings = lb.preflight(params(internal=True, static_ip="10.50.0.7", internal_subnet_cidr="10.224.0.0/16"))
    assert len(errors) == 1
    assert "static_ip: 10.50.0.7 is outside internal_subnet_cidr 10.224.0.0/16" in errors[0]


def test_internal_static_ip_on_a_reserved_address_is_an_error():
    errors, _warnings = lb.preflight(params(internal=True, static_ip="10.224.0.3", internal_subnet_cidr="10.224.0.0/16"))
    assert "reserves" in errors[0]


def test_internal_static_ip_without_the_cidr_is_a_warning():
    errors, warnings = lb.preflight(params(internal=True, static_ip="10.224.0.50"))
    assert errors == []
    assert "internal_subnet_cidr" in warnings[0]


def test_public_static_ip_without_resource_group_warns_about_the_node_resource_group():
    errors, warnings = lb.preflight(params(static_ip="20.1.2.3"))
    assert errors == []
    assert "node resource group" in warnings[0] and "SyncLoadBalancerFailed" in warnings[0]
    errors, warnings = lb.preflight(params(static_ip="20.1.2.3", ip_resource_group="net-rg"))
    assert errors == [] and warnings == []


def test_private_ip_on_public_and_public_ip_on_internal_are_errors():
    assert "private address but internal is false" in lb.preflight(params(static_ip="10.0.0.9"))[0][0]
    assert "public address but internal is true" in lb.preflight(params(static_ip="20.1.2.3", internal=True))[0][0]


def test_raw_managed_annotation_sctp_and_unnamed_ports_are_refused():
    errors, _warnings = lb.preflight(params(
        annotations={lb.INTERNAL: "true"},
        ports=[{"port": 80, "protocol": "SCTP"}, {"port": 443}],
    ))
    text = " ".join(errors)
    assert "use that option instead" in text
    assert "SCTP" in text
    assert "every port needs a name" in text


def test_named_target_port_and_bad_values():
    ports, errors = lb.normalise_ports([{"port": 80, "target_port": "http", "name": "web"}])
    assert errors == [] and ports == [{"port": 80, "protocol": "TCP", "targetPort": "http", "name": "web"}]
    _ports, errors = lb.normalise_ports([{"port": 0}])
    assert "ports[0].port: 0" in errors[0]


def test_stale_annotations_are_the_managed_keys_no_longer_wanted():
    current = {"metadata": {"annotations": {lb.INTERNAL: "true", lb.IPV4: "10.224.0.9", "team": "web"}}}
    assert lb.stale_annotations(params(), current) == [lb.INTERNAL, lb.IPV4]
    assert lb.stale_annotations(params(internal=True), current) == [lb.IPV4]


def test_pending_message_quotes_the_warning_events_and_says_how_to_fix():
    events = [
        {"type": "Normal", "reason": "EnsuringLoadBalancer", "message": "Ensuring load balancer", "lastTimestamp": "2026-01-01T00:00:00Z"},
        {"type": "Warning", "reason": "SyncLoadBalancerFailed", "count": 3, "lastTimestamp": "2026-01-01T00:00:01Z",
         "message": "Error syncing load balancer: failed to ensure load balancer: findMatchedPIPByLoadBalancerIP: cannot find public IP with "
                    "IP address 20.1.2.3 in resource group mc_rg"},
    ]
    text = lb.pending_message("web", "default", 30, events, params(static_ip="20.1.2.3"))
    assert "SyncLoadBalancerFailed: Error syncing load balancer" in text
    assert "(x3)" in text
    assert "EnsuringLoadBalancer" not in text
    assert "set ip_resource_group" in text


def test_ingress_address():
    assert lb.ingress_address({"status": {"loadBalancer": {"ingress": [{"ip": "20.1.2.3"}]}}})[0] == "20.1.2.3"
    assert lb.ingress_address({"status": {"loadBalancer": {}}})[0] is None


def test_check_mode_placeholder_for_a_public_ip_of_the_same_run():
    pending = params(static_ip=lb.ADDRESS_KNOWN_AFTER_APPLY, ip_resource_group="MC_rg_aks_westeurope", _check_mode=True)
    errors, warnings = lb.preflight(pending)
    assert errors == [] and warnings == []
    assert lb.managed_annotations(pending) == {lb.IPV4: "(known after apply)", lb.RESOURCE_GROUP: "MC_rg_aks_westeurope"}
    errors, _w = lb.preflight(dict(pending, _check_mode=False))
    assert len(errors) == 1 and "check-mode placeholder" in errors[0]
    errors, _w = lb.preflight(dict(pending, internal=True, ip_resource_group=None))
    assert any("internal load balancer cannot use one" in e for e in errors)

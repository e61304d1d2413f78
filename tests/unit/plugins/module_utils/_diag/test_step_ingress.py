# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 6 (ingress): each code fires on its case and stays quiet on the near miss."""

from __future__ import annotations

from diag_fixtures import codes, diagnose, findings_of, ingress, ingress_class, pod, web_app


def nginx_controller(ready=True):
    return pod("ingress-nginx-controller-abc", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx",
                                                                 "app.kubernetes.io/component": "controller"}, ready=ready)


def base(ready_controller=True):
    return [*web_app(), ingress_class("nginx"), nginx_controller(ready_controller)]


def test_healthy_ingress_has_no_findings():
    assert codes([*base(), ingress("web", class_name="nginx")], 6) == []


def test_class_missing_without_default_and_default_reported_as_used():
    objs = [*base(), ingress("web")]
    [f] = findings_of(objs, 6, "ingress.class_missing")
    assert "no default IngressClass" in f["message"] and "ingressClassName" in f["remediation"]
    objs = [*web_app(), ingress_class("nginx", default=True), nginx_controller(), ingress("web", address=False)]
    assert findings_of(objs, 6, "ingress.class_missing") == []
    [addr] = findings_of(objs, 6, "ingress.no_address")
    assert addr["evidence"]["class"] == "nginx" and "default IngressClass" in addr["message"]


def test_class_not_found_and_forbidden_lookup_is_could_not_check():
    objs = [*base(), ingress("web", class_name="traefik")]
    [f] = findings_of(objs, 6, "ingress.class_not_found")
    assert f["severity"] == "error" and "'traefik'" in f["message"] and "nginx" in f["message"]
    forbidden = {"IngressClass": "403 Forbidden: cannot list ingressclasses"}
    objs = [*web_app(), nginx_controller(), ingress("web", class_name="traefik")]
    result = diagnose(objs, 6, skipped_kinds=forbidden)
    assert [f["code"] for f in result["findings"]] == []
    assert "not checked" in result["steps"][5]["reason"] and "403" in result["steps"][5]["reason"]


def test_legacy_annotation_class_without_ingressclass_is_accepted():
    objs = [*web_app(), nginx_controller(), ingress("web", annotations={"kubernetes.io/ingress.class": "nginx"})]
    assert codes(objs, 6) == []


def test_controller_unavailable_per_class():
    objs = [*base(ready_controller=False), ingress("web", class_name="nginx"), ingress("api", class_name="nginx", address=False)]
    [f] = findings_of(objs, 6, "ingress.controller_unavailable")
    assert f["resource"] == {"kind": "IngressClass", "namespace": None, "name": "nginx"}
    assert f["evidence"]["ingresses"] == ["default/api", "default/web"]
    assert "ingress-nginx/ingress-nginx-controller-abc" in f["evidence"]["pods"]


def test_app_routing_and_agic_controllers():
    objs = [*web_app(), ingress_class("webapprouting.kubernetes.azure.com", "webapprouting.kubernetes.azure.com/nginx"),
            ingress_class("azure-application-gateway", "azure/application-gateway"),
            pod("nginx-7f", "app-routing-system", {"app": "nginx"}),
            ingress("a", class_name="webapprouting.kubernetes.azure.com"), ingress("b", class_name="azure-application-gateway")]
    [f] = findings_of(objs, 6, "ingress.controller_unavailable")
    assert f["resource"]["name"] == "azure-application-gateway" and "app=ingress-appgw" in f["message"]
    objs.append(pod("ingress-appgw-deployment-1", "kube-system", {"app": "ingress-appgw"}))
    assert findings_of(objs, 6, "ingress.controller_unavailable") == []


def test_backend_service_port_and_endpoints():
    objs = [*base(), ingress("missing", class_name="nginx", backends=(("nope", 80),)),
            ingress("badport", class_name="nginx", backends=(("web", 8080),)),
            ingress("badname", class_name="nginx", backends=(("web", "https"),)),
            ingress("goodname", class_name="nginx", backends=(("web", "http"),))]
    result = {(c, n) for c, _s, n in codes(objs, 6)}
    assert result == {("ingress.backend_service_missing", "default/missing"), ("ingress.backend_port_missing", "default/badport"),
                      ("ingress.backend_port_missing", "default/badname")}
    [f] = [f for f in findings_of(objs, 6, "ingress.backend_port_missing") if f["resource"]["name"] == "badport"]
    assert f["evidence"]["service_ports"] == ["http=80"]


def test_backend_no_endpoints():
    objs = [*web_app(ready=False), ingress_class("nginx"), nginx_controller(), ingress("web", class_name="nginx")]
    [f] = findings_of(objs, 6, "ingress.backend_no_endpoints")
    assert "2 not ready" in f["message"] and "503" in f["message"]


def test_tls_secret_checked_only_when_secrets_are_known():
    objs = [*base(), ingress("web", class_name="nginx", tls_secrets=("web-tls",))]
    result = diagnose(objs, 6)
    assert result["findings"] == [] and "TLS secrets not checked" in result["steps"][5]["reason"]
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": "other-tls", "namespace": "default"}}
    [f] = findings_of([*objs, secret], 6, "ingress.tls_secret_missing")
    assert "'web-tls'" in f["message"]
    present = dict(secret, metadata={"name": "web-tls", "namespace": "default"})
    assert findings_of([*objs, secret, present], 6, "ingress.tls_secret_missing") == []


def test_no_address():
    objs = [*base(), ingress("web", class_name="nginx", address=False)]
    assert codes(objs, 6) == [("ingress.no_address", "warning", "default/web")]

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._aks import ingress
from ansible_collections.aksnet.networking.plugins.module_utils._aks import loadbalancer as lb


def test_field_guide_ingress():
    manifest, errors, warnings = ingress.build_ingress({
        "name": "my-ingress", "namespace": "default", "ingress_class": "nginx",
        "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/"},
        "rules": [{"host": "myapp.example.com", "paths": [{"path": "/", "path_type": "Prefix", "service": "my-service", "port": 80}]}],
        "tls": [{"hosts": ["myapp.example.com"], "secret": "myapp-tls"}],
    })
    assert errors == [] and warnings == []
    assert manifest["spec"] == {
        "ingressClassName": "nginx",
        "rules": [{"host": "myapp.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "my-service", "port": {"number": 80}}}}]}}],
        "tls": [{"hosts": ["myapp.example.com"], "secretName": "myapp-tls"}],
    }
    assert ingress.backends(manifest) == [("my-service", 80, "rules[0].paths[0]")]


def test_errors_name_the_field_value_and_rule():
    _m, errors, _w = ingress.build_ingress({
        "name": "x", "namespace": "default",
        "rules": [{"host": "10.0.0.1", "paths": [{"path": "api", "path_type": "Exact", "service": "Bad_Name", "port": "http"}]},
                  {"host": "a.*.example.com", "paths": [{"path": "/", "service": "s", "port": 0}]}],
    })
    text = " ".join(errors)
    assert "rules[0].host: '10.0.0.1' is an IP address" in text
    assert "rules[0].paths[0].path: 'api' must be an absolute path" in text
    assert "rules[0].paths[0].service: 'Bad_Name'" in text
    assert "wildcard is allowed only as the whole first label" in text
    assert "rules[1].paths[0].port: 0" in text


def test_tls_host_without_rule_warns_and_port_names_are_kept():
    manifest, errors, warnings = ingress.build_ingress({
        "name": "x", "namespace": "default",
        "rules": [{"host": "a.example.com", "paths": [{"path": "/", "service": "s", "port": "https"}]}],
        "tls": [{"hosts": ["b.example.com"], "secret": "tls"}],
    })
    assert errors == []
    assert "b.example.com has no rule" in warnings[0]
    assert manifest["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] == {"name": "https"}


def test_service_has_port():
    service = {"spec": {"ports": [{"name": "http", "port": 80}]}}
    assert ingress.service_has_port(service, 80) and ingress.service_has_port(service, "http")
    assert not ingress.service_has_port(service, 443)


# --- ingress-nginx values, one test per variant ---------------------------------------------------


def test_values_public_default():
    values, warnings = ingress.nginx_values()
    controller = values["controller"]
    assert controller["replicaCount"] == 2
    assert controller["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert controller["admissionWebhooks"]["patch"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert values["defaultBackend"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert controller["service"] == {"annotations": {lb.PROBE_PATH: "/healthz"}}
    assert controller["ingressClassResource"]["controllerValue"] == "k8s.io/ingress-nginx"
    assert warnings == []


def test_values_internal_with_static_ip_and_subnet():
    values, _w = ingress.nginx_values(replicas=3, internal=True, internal_subnet="ingress", internal_subnet_cidr="10.224.0.0/16",
                                      static_ip="10.224.30.5")
    assert values["controller"]["replicaCount"] == 3
    assert values["controller"]["service"]["annotations"] == {
        lb.INTERNAL: "true", lb.INTERNAL_SUBNET: "ingress", lb.IPV4: "10.224.30.5", lb.PROBE_PATH: "/healthz"}
    assert "loadBalancerIP" not in values["controller"]["service"]


def test_values_public_static_ip_in_another_group_keeping_client_ips():
    values, warnings = ingress.nginx_values(static_ip="20.1.2.3", ip_resource_group="net-rg", keep_client_ip=True)
    service = values["controller"]["service"]
    assert service["annotations"] == {lb.IPV4: "20.1.2.3", lb.RESOURCE_GROUP: "net-rg", lb.PROBE_PATH: "/healthz"}
    assert service["externalTrafficPolicy"] == "Local"
    assert warnings == []


def test_values_static_ip_in_node_group_warns_one_replica_warns():
    _v, warnings = ingress.nginx_values(replicas=1, static_ip="20.1.2.3")
    assert any("node resource group" in w for w in warnings)
    assert any("1 controller replica" in w for w in warnings)


def test_values_extra_merged_deeply():
    values, _w = ingress.nginx_values(extra={"controller": {"service": {"annotations": {"x": "y"}}, "metrics": {"enabled": True}}})
    assert values["controller"]["service"]["annotations"] == {lb.PROBE_PATH: "/healthz", "x": "y"}
    assert values["controller"]["metrics"] == {"enabled": True}
    assert values["controller"]["replicaCount"] == 2


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"replicas": 0}, "replicas: 0"),
    ({"internal": True, "static_ip": "10.9.0.1", "internal_subnet_cidr": "10.224.0.0/16"}, "outside internal_subnet_cidr"),
    ({"internal": True, "static_ip": "20.1.2.3"}, "public address but internal is true"),
    ({"health_probe_path": "healthz"}, "health_probe_path"),
    ({"ingress_class": "Bad Class"}, "ingress_class"),
])
def test_values_refuse_bad_settings(kwargs, text):
    with pytest.raises(ValueError, match=text):
        ingress.nginx_values(**kwargs)

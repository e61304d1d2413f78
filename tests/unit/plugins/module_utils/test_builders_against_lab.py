"""What the modules' manifest builders accept, the API server accepts.

The builders check their options before any request so that users get the module's message, not
a 422 from the cluster. These tests send every manifest a builder accepts to the lab's Kubernetes
emulator (which refuses what a kube-apiserver refuses) and expect it stored; options a builder
refuses must be ones the API refuses too.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._aks.ingress import build_ingress
from ansible_collections.aksnet.networking.plugins.module_utils._aks.loadbalancer import normalise_ports
from ansible_collections.aksnet.networking.plugins.module_utils._netpol.intents import IntentError, build_policy

TOKEN = "builders-token"
NS = "builders"


@pytest.fixture()
def emu(fast_kube_emulator):
    fast_kube_emulator.reset()
    fast_kube_emulator.load_objects({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    return fast_kube_emulator


def post(emu, path, body):
    """(status, Status or object) of a create with fieldValidation=Strict (what the builders write must be known fields)."""
    request = urllib.request.Request(f"{emu.url}{path}?fieldValidation=Strict", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=emu.certs["ca"]), timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


PORT_NAMES = ["metrics", "http-alt", "web--api", "h2c", "a-b-c-d-e-f-g-h", "-http", "http-", "Metrics", "123", "web-api-gateway-x"]


@pytest.mark.parametrize("port", PORT_NAMES)
def test_network_policy_port_names(emu, port):
    try:
        manifest = build_policy({"name": "np", "namespace": NS, "allow_from_pods": [{"labels": {"app": "x"}, "ports": [{"port": port}]}]})
    except IntentError:
        manifest = None
    if manifest is not None:
        status, answer = post(emu, f"/apis/networking.k8s.io/v1/namespaces/{NS}/networkpolicies", manifest)
        assert status == 201, f"the builder accepted port {port!r} but the API refuses it: {answer.get('message')}"
    else:
        policy = {"metadata": {"name": "raw"}, "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": port}]}]}}
        status, _answer = post(emu, f"/apis/networking.k8s.io/v1/namespaces/{NS}/networkpolicies", policy)
        assert status == 422, f"the builder refused port {port!r} that the API accepts"


@pytest.mark.parametrize("port", PORT_NAMES)
def test_ingress_backend_port_names(emu, port):
    manifest, errors, _warnings = build_ingress({"name": "ing", "namespace": NS, "rules": [{"paths": [{"path": "/", "service": "web", "port": port}]}]})
    status, answer = post(emu, f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses", manifest)
    if not errors:
        assert status == 201, f"the builder accepted port {port!r} but the API refuses it: {answer.get('message')}"
    elif not port.isdigit():
        assert status == 422, f"the builder refused port {port!r} that the API accepts"


@pytest.mark.parametrize("path", ["/", "/api", "/api/v1/", "/api//v1", "/a/./b", "/a/../b", "/x%2Fy", "/api/..", "/api/."])
def test_ingress_paths(emu, path):
    manifest, errors, _warnings = build_ingress({"name": "ing", "namespace": NS, "rules": [{"paths": [{"path": path, "service": "web", "port": 80}]}]})
    status, answer = post(emu, f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses", manifest)
    assert (status == 201) == (not errors), f"builder errors {errors}, API answered {status}: {answer.get('message')}"


@pytest.mark.parametrize("target", [8080, "8080", "http", "web--api", "metrics-endpoint", "-http"])
def test_load_balancer_service_target_ports(emu, target):
    ports, errors = normalise_ports([{"port": 80, "target_port": target}])
    sent = [{"port": 80, "targetPort": target}] if errors else ports  # what the builder refused, sent as given
    service = {"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": sent}}
    status, answer = post(emu, f"/api/v1/namespaces/{NS}/services", service)
    assert (status == 201) == (not errors), f"builder errors {errors}, API answered {status}: {answer.get('message')}"

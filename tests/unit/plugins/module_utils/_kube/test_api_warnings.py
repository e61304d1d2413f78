"""The API server's Warning headers (fields it dropped, deprecations) reach the user once each."""

from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeClient, warning_text

TOKEN = "warnings-token"


@pytest.mark.parametrize("header, text", [
    ('299 - "unknown field \\"spec.podSelecter\\""', 'unknown field "spec.podSelecter"'),
    ('299 - "policy/v1beta1 PodDisruptionBudget is deprecated"', "policy/v1beta1 PodDisruptionBudget is deprecated"),
    ("not an RFC 7234 warning", "not an RFC 7234 warning"),
])
def test_warning_text(header, text):
    assert warning_text(header) == text


def test_a_dropped_field_is_reported_once_and_a_clean_write_reports_nothing(fast_kube_emulator):
    emu = fast_kube_emulator
    client = KubeClient({"host": emu.url, "api_key": TOKEN, "ca_cert": emu.certs["ca"]})
    path = "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies"
    clean = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "clean"},
             "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
    client.request("POST", path, body=clean, query={"dryRun": "All"})
    assert client.api_warnings == []
    typo = {**clean, "metadata": {"name": "typo"}, "spec": {"podSelecter": {"matchLabels": {"app": "web"}}, "podSelector": {}}}
    client.request("POST", path, body=typo, query={"dryRun": "All"})
    client.request("POST", path, body=typo, query={"dryRun": "All"})
    assert client.api_warnings == ['unknown field "spec.podSelecter"']

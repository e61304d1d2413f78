from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeClient, KubeConfigError, _explain, api_path


def test_api_paths_for_core_group_and_objects():
    assert api_path("v1", "pods") == "/api/v1/pods"
    assert api_path("v1", "pods", "shop") == "/api/v1/namespaces/shop/pods"
    assert api_path("networking.k8s.io/v1", "networkpolicies", "a", "deny all") == "/apis/networking.k8s.io/v1/namespaces/a/networkpolicies/deny%20all"


def test_missing_kubeconfig_is_one_clear_sentence(tmp_path):
    with pytest.raises(KubeConfigError) as exc:
        KubeClient({"kubeconfig": str(tmp_path / "nope.yaml")})
    assert "does not exist" in str(exc.value)
    assert "kubeconfig" in str(exc.value)


def test_host_and_token_without_kubeconfig():
    client = KubeClient({"host": "https://127.0.0.1:6443", "api_key": "abc", "validate_certs": True})
    assert client.host == "https://127.0.0.1:6443"
    assert client._headers()["Authorization"] == "Bearer abc"
    assert client.configuration.verify_ssl is True


def test_kubeconfig_insecure_flag_is_honoured_unless_overridden(tmp_path):
    path = tmp_path / "kc.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster: {server: 'https://10.0.0.1', insecure-skip-tls-verify: true}\n  name: c\n"
        "contexts:\n- context: {cluster: c, user: u}\n  name: c\ncurrent-context: c\nusers:\n- name: u\n  user: {token: t}\n"
    )
    assert KubeClient({"kubeconfig": str(path)}).configuration.verify_ssl is False
    assert KubeClient({"kubeconfig": str(path), "validate_certs": True}).configuration.verify_ssl is True


@pytest.mark.parametrize(("status", "needle"), [(401, "rejected the credentials"), (403, "RBAC"), (404, "Not found"), (503, "retry later")])
def test_status_explanations(status, needle):
    assert needle in _explain(status, "GET", "/api/v1/pods", "pods is forbidden", "https://x")

"""Which connection setting wins: explicit options (or their K8S_AUTH_* variables) over the kubeconfig, as in
kubernetes.core. Each combination is checked with real requests to the emulator, so a wrong header or host fails."""

from __future__ import annotations

import base64
import itertools

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeApiError, KubeClient, api_path
from tests.lab.lab import kubeconfig_text

TOKEN = "auth-precedence-token"
WRONG_HOST = "https://127.0.0.1:1"


@pytest.fixture(scope="module")
def emu(fast_kube_emulator):
    return fast_kube_emulator


def _kubeconfig(tmp_path, emu, server=None, token=TOKEN, name="kc.yaml", insecure=False):
    with open(emu.certs["ca"], encoding="utf-8") as handle:
        text = kubeconfig_text("lab", server or emu.url, handle.read(), token)
    if insecure:
        text = text.replace("    certificate-authority-data:", "    insecure-skip-tls-verify: true\n    x-ca:")
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _works(client):
    """One real request; the answer says whether host, token and TLS settings were right."""
    return client.request("GET", api_path("v1", "namespaces"))["kind"] == "NamespaceList"


def _call_twice(client):
    # the kubeconfig's refresh hook runs before every request: the second request shows whether it undid an option
    assert _works(client)
    assert _works(client)


def test_api_key_wins_over_the_kubeconfig_token(tmp_path, emu):
    client = KubeClient({"kubeconfig": _kubeconfig(tmp_path, emu, token="stale"), "api_key": TOKEN})
    assert client._headers()["Authorization"] == f"Bearer {TOKEN}"
    _call_twice(client)


def test_api_key_given_with_its_bearer_prefix_is_not_doubled(tmp_path, emu):
    client = KubeClient({"kubeconfig": _kubeconfig(tmp_path, emu), "api_key": f"Bearer {TOKEN}"})
    assert client._headers()["Authorization"] == f"Bearer {TOKEN}"
    _call_twice(client)


def test_host_wins_over_the_kubeconfig_server(tmp_path, emu):
    client = KubeClient({"kubeconfig": _kubeconfig(tmp_path, emu, server=WRONG_HOST), "host": emu.url})
    _call_twice(client)
    assert client.host == emu.url


def test_ca_cert_and_validate_certs_win(tmp_path, emu):
    insecure = _kubeconfig(tmp_path, emu, insecure=True)
    client = KubeClient({"kubeconfig": insecure, "ca_cert": emu.certs["ca"], "validate_certs": True})
    assert client.configuration.verify_ssl is True and client.configuration.ssl_ca_cert == emu.certs["ca"]
    _call_twice(client)


def test_context_selects_the_context(tmp_path, emu):
    good = _kubeconfig(tmp_path, emu)
    with open(good, encoding="utf-8") as handle:
        text = handle.read()
    two = text.replace("current-context: lab", "current-context: broken")
    # a second context whose user has a wrong token, made current; context: lab selects the good one
    two = two.replace("contexts:\n", "contexts:\n- context:\n    cluster: lab\n    user: nobody\n  name: broken\n", 1)
    two = two.replace("users:\n", "users:\n- name: nobody\n  user:\n    token: wrong\n", 1)
    path = tmp_path / "two.yaml"
    path.write_text(two)
    with pytest.raises(KubeApiError) as err:
        _works(KubeClient({"kubeconfig": str(path)}))
    assert err.value.status == 401
    _call_twice(KubeClient({"kubeconfig": str(path), "context": "lab"}))


def test_kubeconfig_from_the_environment_with_explicit_host_and_key(tmp_path, emu, monkeypatch):
    # K8S_AUTH_KUBECONFIG reaches the option through Ansible's env fallback; what the client sees is the same option
    stale = _kubeconfig(tmp_path, emu, server=WRONG_HOST, token="stale")
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", stale)
    _call_twice(KubeClient({"kubeconfig": stale, "host": emu.url, "api_key": TOKEN, "ca_cert": emu.certs["ca"]}))


@pytest.mark.parametrize(("with_host", "with_key", "with_ca", "validate"),
                         list(itertools.product([False, True], [False, True], [False, True], [None, True])))
def test_every_combination_over_a_stale_kubeconfig(tmp_path, emu, with_host, with_key, with_ca, validate):
    """A kubeconfig that is wrong in each field an option overrides: the request works exactly when every wrong
    field is overridden."""
    stale = _kubeconfig(tmp_path, emu, server=WRONG_HOST if with_host else None, token="stale" if with_key else TOKEN)
    params = {"kubeconfig": stale}
    if with_host:
        params["host"] = emu.url
    if with_key:
        params["api_key"] = TOKEN
    if with_ca:
        params["ca_cert"] = emu.certs["ca"]
    if validate is not None:
        params["validate_certs"] = validate
    client = KubeClient(params)
    assert client.host == emu.url
    assert client._headers()["Authorization"] == f"Bearer {TOKEN}"
    _call_twice(client)


def test_a_token_in_the_kubeconfig_never_reaches_an_error_message(tmp_path, emu):
    client = KubeClient({"kubeconfig": _kubeconfig(tmp_path, emu, token="secret-token-value")})
    with pytest.raises(KubeApiError) as err:
        _works(client)
    assert "secret-token-value" not in str(err.value)
    assert base64.b64encode(b"secret-token-value").decode() not in str(err.value)

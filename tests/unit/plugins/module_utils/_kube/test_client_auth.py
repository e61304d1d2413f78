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


def _exec_kubeconfig(tmp_path, emu, server, token=TOKEN):
    """A kubeconfig whose user runs an exec credential plugin (as kubelogin does on AKS); each run is counted."""
    import sys
    from datetime import datetime, timedelta, timezone

    runs = tmp_path / "runs"
    expiry = (datetime.now(timezone.utc) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")  # inside the refresh skew
    plugin = tmp_path / "cred.py"
    plugin.write_text(
        "import json, sys\n"
        f"open({str(runs)!r}, 'a').write('x')\n"
        "json.dump({'apiVersion': 'client.authentication.k8s.io/v1beta1', 'kind': 'ExecCredential',"
        f" 'status': {{'token': {token!r}, 'expirationTimestamp': {expiry!r}}}}}, sys.stdout)\n"
    )
    with open(emu.certs["ca"], "rb") as handle:
        ca = base64.b64encode(handle.read()).decode()
    path = tmp_path / "exec.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
        f"clusters:\n- name: lab\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n"
        "contexts:\n- name: lab\n  context:\n    cluster: lab\n    user: lab\n"
        "users:\n- name: lab\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
        f"      command: {sys.executable}\n      args: [{str(plugin)!r}]\n      interactiveMode: Never\n"
    )
    return str(path), runs


def test_an_exec_token_refresh_keeps_the_explicit_host(tmp_path, emu):
    # the token comes from the kubeconfig's exec plugin and is refreshed before each request (it expires
    # within the loader's skew); the refresh copies the kubeconfig's server back, the explicit host must stay
    kubeconfig, runs = _exec_kubeconfig(tmp_path, emu, server=WRONG_HOST)
    client = KubeClient({"kubeconfig": kubeconfig, "host": emu.url})
    _call_twice(client)
    assert client.host == emu.url
    assert len(runs.read_text()) >= 2  # the plugin ran again: the refresh really happened


def test_an_exec_token_refresh_keeps_the_explicit_api_key(tmp_path, emu):
    kubeconfig, runs = _exec_kubeconfig(tmp_path, emu, server=emu.url, token="plugin-token-stale")
    client = KubeClient({"kubeconfig": kubeconfig, "api_key": TOKEN})
    _call_twice(client)
    assert client._headers()["Authorization"] == f"Bearer {TOKEN}"
    assert len(runs.read_text()) >= 2

"""Retries of Kubernetes requests: the pure policy, and the client against the emulator with injected faults."""

from __future__ import annotations

import time

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._kube import retry
from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeApiError, KubeClient, api_path

TOKEN = "retry-token"


# ------------------------------------------------------------------ policy (pure)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, None])
def test_transient_answers_and_resets_are_retried(status):
    assert retry.retry_delay("PUT", 1, 0.0, status) == retry.BASE_DELAY


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_final_answers_are_not_retried(status):
    assert retry.retry_delay("GET", 1, 0.0, status) is None


def test_backoff_doubles_is_capped_and_bounded_in_attempts():
    delays = [retry.retry_delay("GET", attempt, 0.0, 503) for attempt in range(1, 6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, None]


def test_retry_after_is_honoured_and_capped():
    assert retry.retry_delay("GET", 1, 0.0, 429, "3") == 3.0
    assert retry.retry_delay("GET", 1, 0.0, 429, "600") == retry.MAX_RETRY_AFTER
    assert retry.retry_delay("GET", 1, 0.0, 429, "soon") == retry.BASE_DELAY


def test_the_budget_ends_retries():
    assert retry.retry_delay("GET", 2, retry.BUDGET - 0.5, 500) is None


# ------------------------------------------------------------------ client against the emulator


@pytest.fixture()
def emu(fast_kube_emulator):
    fast_kube_emulator.reset()
    return fast_kube_emulator


@pytest.fixture()
def client(emu, monkeypatch):
    monkeypatch.setattr(retry, "BASE_DELAY", 0.01)
    return KubeClient({"host": emu.url, "api_key": TOKEN, "ca_cert": emu.certs["ca"], "validate_certs": True})


def _paths(emu, method):
    return [r for r in emu.requests if r["method"] == method]


def test_a_transient_500_on_a_write_is_retried_and_succeeds(emu, client):
    emu.faults.add({"match": {"method": "PUT", "resource": "configmaps", "name": "coredns"}, "status": 500, "count": 2})
    current = client.get("v1", "configmaps", "coredns", "kube-system")
    current["data"] = {"x": "1"}
    stored = client.request("PUT", api_path("v1", "configmaps", "kube-system", "coredns"), body=current)
    assert stored["data"] == {"x": "1"}
    assert [r.get("fault") is not None for r in _paths(emu, "PUT")] == [True, True, False]
    assert client.retries == 2


def test_retry_after_is_waited_for(emu, client):
    emu.faults.add({"match": {"method": "GET", "resource": "configmaps"}, "status": 429, "retry_after": 1})
    started = time.monotonic()
    client.list("v1", "configmaps", "ConfigMap", namespace="kube-system")
    assert time.monotonic() - started >= 1.0


def test_a_reset_connection_is_retried(emu, client):
    emu.faults.add({"match": {"method": "GET", "resource": "services"}, "reset_connection": True})
    assert isinstance(client.list("v1", "services", "Service", namespace="default"), list)
    assert client.retries == 1


def test_a_create_whose_answer_was_lost_finds_its_object(emu, client):
    # the first POST is stored, but its answer is lost (a 503 from a proxy after the write, simulated by a
    # fault on the second attempt answering AlreadyExists through the real store)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "made-once", "namespace": "default"}, "data": {"a": "b"}}
    client.request("POST", api_path("v1", "configmaps", "default"), body=body)
    emu.faults.add({"match": {"method": "POST", "resource": "configmaps", "name": "made-twice"}, "status": 503})
    body["metadata"]["name"] = "made-twice"
    created = client.request("POST", api_path("v1", "configmaps", "default"), body=body)
    assert created["metadata"]["name"] == "made-twice"
    # a create retried after the object appeared (what a lost answer looks like) returns the object
    emu.faults.add({"match": {"method": "POST", "resource": "configmaps", "name": "made-once"}, "status": 500})
    body["metadata"]["name"] = "made-once"
    again = client.request("POST", api_path("v1", "configmaps", "default"), body=body)
    assert again["metadata"]["name"] == "made-once" and again["data"] == {"a": "b"}


def test_a_lasting_failure_is_reported_with_the_attempts(emu, client):
    emu.faults.add({"match": {"method": "GET", "resource": "secrets"}, "status": 500, "count": 10})
    with pytest.raises(KubeApiError) as err:
        client.list("v1", "secrets", "Secret", namespace="default")
    assert err.value.status == 500 and "after 5 attempts" in str(err.value)


def test_a_forbidden_answer_is_not_retried(emu, client):
    emu.forbid("list", "secrets")
    with pytest.raises(KubeApiError) as err:
        client.list("v1", "secrets", "Secret", namespace="default")
    assert err.value.status == 403 and client.retries == 0


# ------------------------------------------------------------------ a write whose answer was lost


def test_contains_ignores_what_the_server_added_but_not_what_differs():
    sent = {"spec": {"containers": [{"name": "a", "image": "x"}], "volumes": [{"name": "v"}]}}
    stored = {"spec": {"containers": [{"name": "a", "image": "x", "imagePullPolicy": "IfNotPresent"}],
                       "volumes": [{"name": "v"}, {"name": "kube-api-access-1"}], "nodeName": "n1"}}
    assert retry.contains(sent, stored)
    assert not retry.contains({"spec": {"containers": [{"name": "a", "image": "y"}]}}, stored)
    assert not retry.contains({"spec": {"volumes": [{"name": "w"}]}}, stored)


def test_write_already_applied_leaves_out_server_metadata_and_status():
    sent = {"kind": "ConfigMap", "metadata": {"name": "c", "resourceVersion": "7", "labels": {"a": "1"}}, "data": {"k": "v"}}
    stored = {"kind": "ConfigMap", "metadata": {"name": "c", "resourceVersion": "8", "labels": {"a": "1"}}, "data": {"k": "v"}}
    assert retry.write_already_applied(sent, stored)
    assert not retry.write_already_applied(sent, {**stored, "data": {"k": "other"}})
    assert not retry.write_already_applied(sent, None)


def _lose_first_answer(client, method):
    """The first ``method`` request reaches the server and is applied, but its answer is lost (connection reset)."""
    from ansible_collections.aksnet.networking.plugins.module_utils._kube import client as client_module

    real_send, lost = client._send, []

    def send(m, url, data, content_type, accept=None):
        response = real_send(m, url, data, content_type, accept)
        if m == method and not lost:
            lost.append(url)
            raise client_module._ConnectionReset()
        return response

    client._send = send
    return lost


def test_a_replace_whose_answer_was_lost_is_not_reported_as_a_conflict(emu, client):
    current = client.get("v1", "configmaps", "coredns", "kube-system")
    current["data"] = {"Corefile": ".:53 { forward . 1.1.1.1 }"}
    lost = _lose_first_answer(client, "PUT")
    stored = client.request("PUT", api_path("v1", "configmaps", "kube-system", "coredns"), body=current)
    assert lost and stored["data"] == current["data"]
    puts = _paths(emu, "PUT")
    assert len(puts) == 2 and client.retries == 1  # the repeat met the first write (409 Conflict) and read it back


def test_a_conflict_with_someone_elses_write_is_still_reported(emu, client):
    current = client.get("v1", "configmaps", "coredns", "kube-system")
    other = dict(current, data={"Corefile": "someone else"})
    client.request("PUT", api_path("v1", "configmaps", "kube-system", "coredns"), body=other)
    emu.faults.add({"match": {"method": "PUT", "resource": "configmaps", "name": "coredns"}, "status": 500})
    current["data"] = {"Corefile": "mine"}
    with pytest.raises(KubeApiError) as err:
        client.request("PUT", api_path("v1", "configmaps", "kube-system", "coredns"), body=current)
    assert err.value.status == 409


def test_a_create_retried_onto_a_different_object_is_reported(emu, client):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "taken", "namespace": "default"}, "data": {"a": "b"}}
    client.request("POST", api_path("v1", "configmaps", "default"), body=body)
    emu.faults.add({"match": {"method": "POST", "resource": "configmaps", "name": "taken"}, "status": 503})
    with pytest.raises(KubeApiError) as err:
        client.request("POST", api_path("v1", "configmaps", "default"), body=dict(body, data={"a": "different"}))
    assert err.value.status == 409


def test_a_pod_create_whose_answer_was_lost_returns_the_pod(emu, client):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe-x", "namespace": "default", "labels": {"app": "p"}},
           "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sleep", "60"]}]}}
    _lose_first_answer(client, "POST")
    created = client.request("POST", api_path("v1", "pods", "default"), body=pod)
    assert created["metadata"]["name"] == "probe-x"
    assert len([r for r in _paths(emu, "POST") if "/pods" in r["path"]]) == 2

from __future__ import annotations

import copy

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._kube.apply import (
    WaitTimeout,
    ensure_object,
    object_differences,
    replacement,
    resource_of,
    subset_differences,
    unset_paths,
    wait_for,
)
from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeApiError

NP_PATH = "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies"


def policy(**spec):
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow", "namespace": "shop"},
        "spec": spec or {"podSelector": {}, "policyTypes": ["Ingress"]},
    }


def stored(obj, **extra_meta):
    """What the API server would hold: server metadata and status added."""
    out = copy.deepcopy(obj)
    out["metadata"].update({"uid": "u-1", "resourceVersion": "7", "generation": 1, "creationTimestamp": "2026-01-01T00:00:00Z", **extra_meta})
    out["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    return out


class FakeClient:
    """Records requests; answers from a dict of path -> object and a normaliser for dry-run replaces."""

    def __init__(self, objects=None, server_defaults=None, conflicts=0):
        self.objects = dict(objects or {})
        self.server_defaults = server_defaults or (lambda body: body)
        self.conflicts = conflicts
        self.calls = []

    def get(self, api_version, plural, name, namespace=None):
        self.calls.append(("GET", f"/apis/{api_version}/namespaces/{namespace}/{plural}/{name}", None))
        obj = self.objects.get(name)
        return copy.deepcopy(obj) if obj is not None else None

    def request(self, method, path, query=None, body=None, content_type=None):
        self.calls.append((method, path, dict(query or {})))
        dry = (query or {}).get("dryRun") == "All"
        if method == "PUT" and self.conflicts and not dry:
            self.conflicts -= 1
            raise KubeApiError("Conflict (409)", status=409)
        if method in ("POST", "PUT"):
            result = self.server_defaults(copy.deepcopy(body))
            if not dry:
                self.objects[result["metadata"]["name"]] = result
            return result
        if method == "DELETE":
            name = path.rsplit("/", 1)[1]
            gone = self.objects.get(name)
            if not dry:
                del self.objects[name]
            return gone
        raise AssertionError(method)

    def writes(self):
        return [c for c in self.calls if c[0] != "GET" and c[2].get("dryRun") != "All"]


# ---------------------------------------------------------------------------------------------
# comparison


def test_server_filled_keys_are_ignored_and_set_fields_compared():
    want = {"ports": [{"port": 80}], "selector": {"app": "web"}}
    have = {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 31000}], "selector": {"app": "web"}, "clusterIP": "10.0.0.7"}
    assert subset_differences(want, have) == []
    assert subset_differences({"ports": [{"port": 81}]}, have) == ["ports[0].port"]


def test_lists_must_have_the_same_length():
    rule = {"from": [{"podSelector": {}}]}
    assert subset_differences({"ingress": [rule]}, {"ingress": [rule, rule]}) == ["ingress"]


def test_port_numbers_match_their_text_but_bools_do_not_match_strings():
    assert subset_differences({"port": "8080"}, {"port": 8080}) == []
    assert subset_differences({"enabled": True}, {"enabled": "true"}) == ["enabled"]
    assert subset_differences({"x": None}, {}) == []


def test_labels_are_compared_key_by_key_and_others_labels_ignored():
    want = policy()
    want["metadata"]["labels"] = {"owner": "platform"}
    have = stored(want)
    have["metadata"]["labels"] = {"owner": "platform", "team": "x"}
    assert object_differences(want, have) == []
    have["metadata"]["labels"]["owner"] = "someone"
    assert object_differences(want, have) == ["metadata.labels.owner"]


def test_configmap_data_is_compared_whole_so_removed_keys_count():
    want = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "kube-system"}, "data": {"a.server": "x"}}
    have = stored(want)
    have["data"]["b.server"] = "y"
    assert object_differences(want, have) == ["data"]
    assert object_differences(want, stored(want)) == []


def test_unset_paths_lists_what_only_the_server_holds():
    want = policy(podSelector={}, ingress=[{"ports": [{"port": 80}]}])
    have = stored(policy(podSelector={}, ingress=[{"ports": [{"port": 80, "protocol": "TCP"}]}], policyTypes=["Ingress"]))
    assert sorted(unset_paths(want, have)) == ["spec.ingress[0].ports[0].protocol", "spec.policyTypes"]


def test_replacement_keeps_other_labels_and_resource_version_and_drops_status():
    want = policy()
    want["metadata"]["labels"] = {"owner": "platform"}
    have = stored(policy(podSelector={"matchLabels": {"a": "b"}}), labels={"team": "x"})
    have["status"] = {"conditions": []}
    body = replacement(want, have)
    assert body["metadata"]["labels"] == {"team": "x", "owner": "platform"}
    assert body["metadata"]["resourceVersion"] == "7"
    assert body["spec"] == want["spec"]
    assert "status" not in body and "managedFields" not in body["metadata"]


def test_resource_of_needs_namespace_and_plural():
    assert resource_of(policy()) == ("networking.k8s.io/v1", "networkpolicies", "shop", "allow")
    with pytest.raises(ValueError, match="namespace"):
        resource_of({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    with pytest.raises(ValueError, match="plural"):
        resource_of({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "x"}})


# ---------------------------------------------------------------------------------------------
# ensure_object


def test_create_then_unchanged_with_one_get_only():
    client = FakeClient()
    first = ensure_object(client, policy())
    assert first["changed"] and first["action"] == "create"
    assert [c[0] for c in client.calls] == ["GET", "POST"]
    assert first["diff"] == {"before": {}, "after": {"spec": policy()["spec"]}}
    client.objects["allow"] = stored(client.objects["allow"])
    client.calls.clear()
    second = ensure_object(client, policy())
    assert not second["changed"] and second["action"] is None
    assert [c[0] for c in client.calls] == ["GET"]


def test_check_mode_sends_dry_runs_only():
    client = FakeClient()
    result = ensure_object(client, policy(), check_mode=True)
    assert result["changed"]
    assert client.calls[-1] == ("POST", NP_PATH, {"dryRun": "All"})
    assert client.objects == {}
    client.objects["allow"] = stored(policy(podSelector={"matchLabels": {"app": "x"}}, policyTypes=["Ingress"]))
    result = ensure_object(client, policy(), check_mode=True)
    assert result["action"] == "replace"
    assert client.writes() == []
    assert client.objects["allow"]["spec"]["podSelector"] == {"matchLabels": {"app": "x"}}


def test_check_mode_without_server_dry_run_makes_no_write_request():
    client = FakeClient()
    result = ensure_object(client, policy(), check_mode=True, server_dry_run=False)
    assert result["changed"] and result["after"]["spec"] == policy()["spec"]
    assert [c[0] for c in client.calls] == ["GET"]


def test_server_defaults_are_confirmed_by_a_dry_run_replace():
    def defaults(body):
        body["spec"].setdefault("policyTypes", ["Ingress"])
        return body

    want = policy(podSelector={})
    client = FakeClient({"allow": stored(policy(podSelector={}, policyTypes=["Ingress"]))}, server_defaults=defaults)
    result = ensure_object(client, want)
    assert not result["changed"]
    assert [(c[0], c[2]) for c in client.calls] == [("GET", None), ("PUT", {"dryRun": "All"})]


def test_a_removed_field_is_a_change():
    want = policy(podSelector={}, policyTypes=["Ingress"])
    have = stored(policy(podSelector={}, policyTypes=["Ingress"], ingress=[{"from": [{"podSelector": {}}]}]))
    client = FakeClient({"allow": have})
    result = ensure_object(client, want)
    assert result["changed"] and result["action"] == "replace"
    assert "ingress" not in client.objects["allow"]["spec"]
    assert result["diff"]["before"]["spec"]["ingress"] and "ingress" not in result["diff"]["after"]["spec"]


def test_replace_retries_once_after_a_conflict():
    client = FakeClient({"allow": stored(policy(podSelector={"matchLabels": {"a": "b"}}))}, conflicts=1)
    result = ensure_object(client, policy())
    assert result["changed"]
    assert [c[0] for c in client.calls] == ["GET", "PUT", "GET", "PUT"]


def test_delete_and_absent():
    client = FakeClient({"allow": stored(policy())})
    check = ensure_object(client, policy(), state="absent", check_mode=True)
    assert check["changed"] and "allow" in client.objects
    result = ensure_object(client, policy(), state="absent")
    assert result["changed"] and result["after"] is None and client.objects == {}
    again = ensure_object(client, policy(), state="absent")
    assert not again["changed"]


# ---------------------------------------------------------------------------------------------
# wait_for


def test_wait_for_returns_the_final_state():
    states = iter([(False, "1/2 ready"), (True, "2/2 ready")])
    assert wait_for(lambda: next(states), 10, "the rollout", interval=0, sleep=lambda s: None) == "2/2 ready"


def test_wait_for_timeout_names_what_and_the_last_state():
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(WaitTimeout) as exc:
        wait_for(lambda: (False, "1/2 ready"), 5, "the rollout of Deployment kube-system/coredns", interval=2, sleep=sleep, clock=lambda: now[0])
    text = str(exc.value)
    assert "5 s" in text and "the rollout of Deployment kube-system/coredns" in text and "1/2 ready" in text
    assert "wait_timeout" in text
    assert exc.value.last_state == "1/2 ready"
    assert now[0] == 5


def test_diffs_leave_out_server_allocations_unless_asked_for():
    from ansible_collections.aksnet.networking.plugins.module_utils._kube.apply import diff_of

    desired = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "d"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
    dry_run_answer = {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "d", "uid": "x"},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7"], "sessionAffinity": "None",
                 "ports": [{"port": 80, "protocol": "TCP", "nodePort": 31234}]},
    }  # fmt: skip
    diff = diff_of(None, dry_run_answer, desired)
    assert diff["before"] == {}
    assert diff["after"] == {"spec": {"type": "LoadBalancer", "sessionAffinity": "None", "ports": [{"port": 80, "protocol": "TCP"}]}}
    # a nodePort the user asked for is shown
    asked = {**desired, "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "nodePort": 31234}]}}
    assert diff_of(None, dry_run_answer, asked)["after"]["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "nodePort": 31234}]
    # other kinds untouched
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}, "data": {"clusterIP": "x"}}
    assert diff_of(None, cm, cm)["after"] == {"data": {"clusterIP": "x"}}

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where diagnose and netpol_check get their objects: a snapshot, or one paginated LIST per kind."""

from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._diag.snapshot_io import SnapshotError, render_snapshot
from ansible_collections.aksnet.networking.plugins.module_utils._diag.source import (
    POLICY_KINDS,
    cluster_facts_from_azure,
    gather,
    kinds_subset,
)
from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeApiError
from ansible_collections.aksnet.networking.plugins.module_utils._kube.kinds import DIAGNOSTIC_KINDS


class FakeClient:
    """Answers LISTs from a dict plural -> items; 404 for plurals in ``missing``; counts requests per page."""

    host = "https://aks.example:443"

    def __init__(self, items, missing=(), page=2):
        self.items = items
        self.missing = set(missing)
        self.page = page
        self.request_count = 0
        self.calls = []

    def list(self, api_version, plural, kind, namespace=None, page_size=500):
        self.calls.append((plural, namespace))
        found = [dict(i, kind=kind) for i in self.items.get(plural, []) if namespace in (None, i["metadata"].get("namespace"))]
        pages = max(1, -(-len(found) // page_size))
        self.request_count += pages
        if plural in self.missing:
            raise KubeApiError("not found", status=404)
        return found


def test_live_lists_each_kind_once_and_counts_pages():
    pods = [{"metadata": {"name": f"p{i}", "namespace": "shop"}} for i in range(5)]
    client = FakeClient({"pods": pods}, missing={"ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies"})
    data = gather(client=client, page_size=2, secrets=False)  # Secret metadata LISTs: test_collect_secrets.py
    assert data["mode"] == "live"
    assert [plural for plural, _ns in client.calls] == [k[2] for k in DIAGNOSTIC_KINDS]
    assert data["api_requests"] == len(DIAGNOSTIC_KINDS) - 1 + 3  # pods: 3 pages of 2
    assert sorted(data["skipped"]) == ["CiliumClusterwideNetworkPolicy", "CiliumNetworkPolicy"]
    assert len([o for o in data["objects"] if o["kind"] == "Pod"]) == 5


def test_live_policy_subset_and_namespaces():
    client = FakeClient({})
    gather(client=client, namespaces=["shop"], kinds=kinds_subset(POLICY_KINDS))
    assert client.calls == [("namespaces", None), ("pods", "shop"), ("networkpolicies", "shop"), ("daemonsets", "kube-system"),
                            ("ciliumnetworkpolicies", "shop"), ("ciliumclusterwidenetworkpolicies", None)]


def test_snapshot_mode_makes_no_request_and_keeps_skipped_kinds(tmp_path):
    path = tmp_path / "snap.json"
    objects = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "shop"}}]
    azure = {"cluster": {"name": "aks", "network_profile": {"plugin": "azure", "dataplane": "cilium"}}}
    path.write_text(render_snapshot(objects, azure, {"skipped": {"CiliumNetworkPolicy": "not served"}}))
    data = gather(snapshot=str(path))
    assert data["mode"] == "snapshot"
    assert data["api_requests"] == 0
    assert data["objects"] == objects
    assert data["skipped"] == {"CiliumNetworkPolicy": "not served"}
    assert cluster_facts_from_azure(data["azure"])["network_profile"]["dataplane"] == "cilium"


def test_kubectl_output_without_info(tmp_path):
    path = tmp_path / "kubectl.yaml"
    path.write_text("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: shop}\n")
    data = gather(snapshot=str(path))
    assert data["skipped"] == {}
    assert data["azure"] is None


def test_missing_snapshot_and_no_source():
    with pytest.raises(SnapshotError, match="does not exist"):
        gather(snapshot="/nonexistent/snap.json")
    with pytest.raises(ValueError, match="snapshot path or a Kubernetes client"):
        gather()


def test_cluster_facts_from_azure_shapes():
    assert cluster_facts_from_azure(None) is None
    assert cluster_facts_from_azure({"load_balancers": []}) is None
    assert cluster_facts_from_azure({"network_profile": {"policy": "azure"}}) == {"network_profile": {"policy": "azure"}}

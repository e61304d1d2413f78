# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 7 (data plane): each code fires on its case and stays quiet on the near miss."""

from __future__ import annotations

from diag_fixtures import codes, daemonset, diagnose, findings_of, healthy_system, node, pod


def _replace(objs, name, new):
    return [new if o["metadata"]["name"] == name and o["kind"] == new["kind"] else o for o in objs]


def test_healthy_dataplane_has_no_findings():
    assert codes(healthy_system(), 7) == []


def test_kube_proxy_unhealthy_names_nodes():
    objs = _replace(healthy_system(), "kube-proxy", daemonset("kube-proxy", desired=3, ready=2, unavailable=1))
    objs.append(pod("kube-proxy-x1", "kube-system", {"component": "kube-proxy"}, ready=False, node="aks-node-1",
                    owner=("DaemonSet", "kube-proxy")))
    [f] = findings_of(objs, 7, "dataplane.kube_proxy_unhealthy")
    assert "2 of 3" in f["message"] and "aks-node-1" in f["message"]
    assert f["evidence"]["unready_pods"] == {"kube-proxy-x1": "aks-node-1"}


def test_missing_kube_proxy_only_reported_when_dataplane_is_not_cilium():
    objs = [o for o in healthy_system() if o["metadata"]["name"] != "kube-proxy"]
    [f] = findings_of(objs, 7, "dataplane.kube_proxy_unhealthy", cluster_facts={"networkDataplane": "azure"})
    assert f["severity"] == "warning"
    assert findings_of(objs, 7, "dataplane.kube_proxy_unhealthy", cluster_facts={"network": {"dataplane": "cilium"}}) == []
    assert findings_of(objs, 7, "dataplane.kube_proxy_unhealthy") == []


def test_cni_unhealthy_for_azure_cns_cilium_calico():
    objs = [*healthy_system(), daemonset("cilium", desired=3, ready=0, unavailable=3), daemonset("calico-node", "calico-system", 2, 2, 0)]
    objs = _replace(objs, "azure-cns", daemonset("azure-cns", desired=3, ready=3, unavailable=1))
    found = sorted(f["resource"]["name"] for f in findings_of(objs, 7, "dataplane.cni_unhealthy"))
    assert found == ["azure-cns", "cilium"]


def test_unrelated_daemonset_not_ready_is_ignored():
    objs = [*healthy_system(), daemonset("cilium-operator-helper", desired=2, ready=0), daemonset("csi-azurefile-node", desired=3, ready=1)]
    assert codes(objs, 7) == []


def test_node_network_unavailable():
    objs = _replace(healthy_system(), "aks-node-1", node("aks-node-1", network_unavailable=True))
    [f] = findings_of(objs, 7, "node.network_unavailable")
    assert f["resource"] == {"kind": "Node", "namespace": None, "name": "aks-node-1"} and "NoRouteCreated" in f["message"]


def test_rbac_forbidden_daemonsets_skip_the_step():
    result = diagnose(healthy_system(), 7, skipped_kinds={"DaemonSet": "403 Forbidden: daemonsets is forbidden"})
    step = result["steps"][6]
    assert step["status"] == "skipped" and "DaemonSet" in step["reason"] and "403" in step["reason"]
    assert result["summary"]["steps"]["7"] == "skipped"

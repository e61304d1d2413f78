"""Check mode, one test per write path of every module that writes: the module still reports the change it would
make (changed: true), Azure Resource Manager sees only reads, the Kubernetes API sees only reads or writes carrying
``dryRun=All``, no local file is written, and the state of both servers is the same afterwards.

What counts as a read on ARM: GET, and the POST actions that only read. ``listClusterUserCredential`` /
``listClusterAdminCredential`` are POSTs because they return secrets (ARM actions need the ``.../action``
permission and keep secrets out of GET caches and logs), but they change nothing: ``az aks get-credentials`` sends
the same call. ``effectiveRouteTable`` / ``effectiveNetworkSecurityGroups`` compute a view of a NIC and change nothing.
"""

from __future__ import annotations

import copy
import json
import os
import time

import pytest
import requests

from .conftest import assert_playbook_ok, run_playbook

SUB = "00000000-0000-0000-0000-000000000000"
RG = "lab-rg"
CLUSTER = "lab-aks"
CLUSTER_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/managedClusters/{CLUSTER}"
PIP_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/publicIPAddresses/cm-ip"
ARM_READ_ACTIONS = ("/listclusterusercredential", "/listclusteradmincredential", "/effectiveroutetable", "/effectivenetworksecuritygroups")
KUBE_PLURALS = ("services", "ingresses", "networkpolicies", "configmaps", "deployments", "namespaces", "pods")

PLAYBOOK = """---
- name: One task in check mode
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: The module under test, check mode
      {module}: {args}
      check_mode: true
      diff: true
      register: result

    - name: Keep the result for the test
      ansible.builtin.copy:
        dest: {out}
        mode: "0600"
        content: "{{{{ result | to_json }}}}"
      check_mode: false
"""


# ------------------------------------------------------------------ what the servers saw, and their state


def arm_writes(lab):
    """ARM requests that are not reads (see the module docstring)."""
    return [(e["method"], e["path"]) for e in lab.arm.requests
            if e["method"] not in ("GET", "HEAD") and not (e["method"] == "POST" and e["path"].lower().endswith(ARM_READ_ACTIONS))]


def is_dry_run(entry):
    # the emulator's log may mark dry runs itself; until then the query string tells
    return bool(entry.get("dry_run")) or (entry.get("query") or {}).get("dryRun") == "All"


def kube_writes(lab):
    """Kubernetes requests that are neither reads (GET: get, list, watch) nor dry runs."""
    return [(e["method"], e["path"], e.get("query")) for e in lab.kube.requests if e["method"] not in ("GET", "HEAD") and not is_dry_run(e)]


def kube_dry_runs(lab):
    return [(e["method"], e["path"]) for e in lab.kube.requests if e["method"] not in ("GET", "HEAD") and is_dry_run(e)]


def arm_state(lab):
    # the whole simulated Azure: every resource and resource group (read under the simulator's lock)
    with lab.arm._lock:
        return copy.deepcopy(lab.arm._resources), copy.deepcopy(lab.arm._groups)


def kube_state(lab):
    """The objects of the kinds the modules write, without what controllers change on their own (status, resourceVersion)."""
    state = {}
    for plural in KUBE_PLURALS:
        for obj in lab.kube.objects(plural):
            meta = obj.get("metadata") or {}
            key = (plural, meta.get("namespace"), meta.get("name"))
            if plural == "pods":
                state[key] = None  # controllers schedule and ready pods; only their existence matters here
                continue
            clean = {k: v for k, v in obj.items() if k != "status"}
            clean["metadata"] = {k: v for k, v in meta.items() if k not in ("resourceVersion", "managedFields")}
            state[key] = clean
    return state


# ------------------------------------------------------------------ setting up an object to update, through the real API


def kube_api(lab, method, path, body=None):
    response = requests.request(method, lab.env["AKSNET_LAB_KUBE_URL"] + path, json=body, headers={"Authorization": f"Bearer {lab.kube.token}"},
                                verify=lab.env["AKSNET_LAB_CA"], timeout=10)
    assert response.status_code < 300, response.text
    return response.json()


def wait_until(check, what, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def settle_kube(lab):
    """Wait until the objects stop changing (controllers reacting to a reset or a setup write)."""
    previous = None
    for _attempt in range(50):
        current = kube_state(lab)
        if current == previous:
            return
        previous = current
        time.sleep(0.2)


def setup_lb_service(lab):
    kube_api(lab, "POST", "/api/v1/namespaces/default/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "cm-web", "namespace": "default"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}})
    wait_until(lambda: ((lab.kube.get_object("services", "cm-web", "default") or {}).get("status") or {}).get("loadBalancer", {}).get("ingress"),
               "the cloud provider to give Service default/cm-web an address")


def setup_ingress(lab):
    kube_api(lab, "POST", "/apis/networking.k8s.io/v1/namespaces/default/ingresses", {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "cm-ingress", "namespace": "default"},
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "cm.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "kubernetes", "port": {"number": 443}}}}]}}]}})


def setup_network_policy(lab):
    kube_api(lab, "POST", "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies", {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "cm-deny", "namespace": "default"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})


def remove_coredns_custom(lab):
    kube_api(lab, "DELETE", "/api/v1/namespaces/kube-system/configmaps/coredns-custom")


def enable_azure_policy(lab):
    cluster = lab.arm.cluster(RG, CLUSTER)
    body = {k: cluster[k] for k in ("location", "identity", "sku", "properties") if k in cluster}
    body["properties"]["addonProfiles"] = {"azurepolicy": {"enabled": True}}
    lab.arm.add_cluster(RG, CLUSTER, body)


def add_public_ip(lab):
    lab.arm.lab_put(PIP_ID, {"location": "westeurope", "sku": {"name": "Standard", "tier": "Regional"},
                             "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4", "ipAddress": "20.50.0.99"}})


# ------------------------------------------------------------------ the write paths

NETWORK = {"plugin": "azure", "plugin_mode": "overlay", "pod_cidr": "192.168.0.0/16", "service_cidr": "10.100.0.0/16", "dns_service_ip": "10.100.0.10"}
CASES = [
    # id, module, options, setup, expected "changed"
    ("cluster-create", "cluster", {"resource_group": RG, "name": "cm-new", "location": "westeurope", "system_pool": {"name": "system", "count": 1},
                                   "network": NETWORK}, None, True),
    ("cluster-update", "cluster", {"resource_group": RG, "name": CLUSTER, "system_pool": {"name": "system", "count": 5}, "tags": {"env": "cm"}},
     None, True),
    ("cluster-delete", "cluster", {"resource_group": RG, "name": CLUSTER, "state": "absent"}, None, True),
    ("addon-enable", "addon", {"resource_group": RG, "name": CLUSTER, "addon": "azure_policy"}, None, True),
    ("addon-disable", "addon", {"resource_group": RG, "name": CLUSTER, "addon": "azure_policy", "state": "absent"}, enable_azure_policy, True),
    ("public_ip-create", "public_ip", {"name": "cm-ip", "resource_group": RG}, None, True),
    ("public_ip-delete", "public_ip", {"name": "cm-ip", "resource_group": RG, "state": "absent"}, add_public_ip, True),
    ("kubeconfig", "kubeconfig", {"resource_group": RG, "name": CLUSTER}, None, True),
    ("lb_service-create", "lb_service", {"name": "cm-web", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "target_port": 8080}]},
     None, True),
    ("lb_service-update", "lb_service", {"name": "cm-web", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 81, "target_port": 8080}]},
     setup_lb_service, True),
    ("ingress-create", "ingress", {"name": "cm-ingress", "ingress_class": "nginx",
                                   "rules": [{"host": "cm.example.com", "paths": [{"path": "/", "service": "kubernetes", "port": 443}]}]}, None, True),
    ("ingress-update", "ingress", {"name": "cm-ingress", "ingress_class": "nginx",
                                   "rules": [{"host": "cm.example.com", "paths": [{"path": "/api", "service": "kubernetes", "port": 443}]}]},
     setup_ingress, True),
    ("network_policy-create", "network_policy", {"name": "cm-deny", "namespace": "default", "default_deny": ["ingress"]}, None, True),
    ("network_policy-update", "network_policy", {"name": "cm-deny", "namespace": "default", "default_deny": ["ingress", "egress"], "allow_dns": True},
     setup_network_policy, True),
    ("coredns-create", "coredns", {"forward_zones": {"corp.example.com": ["10.10.0.4"]}}, remove_coredns_custom, True),
    ("coredns-update", "coredns", {"forward_zones": {"corp.example.com": ["10.10.0.4"]}, "log": ["corp.example.com"]}, None, True),
    ("probe", "probe", {"dns": ["kubernetes.default.svc.cluster.local"]}, None, False),
]


@pytest.mark.parametrize(("module", "options", "setup", "expect_changed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check_mode_sends_no_write(fresh_lab, tmp_path, module, options, setup, expect_changed):
    lab = fresh_lab
    options = copy.deepcopy(options)
    if module == "kubeconfig":
        options["dest"] = str(tmp_path / "kubeconfig")
    if setup is not None:
        setup(lab)
    settle_kube(lab)
    arm_before, kube_before = arm_state(lab), kube_state(lab)
    lab.arm.clear_requests()
    lab.kube.clear_requests()

    out = tmp_path / "result.json"
    playbook = tmp_path / "check.yml"
    playbook.write_text(PLAYBOOK.format(module=f"aksnet.networking.{module}", args=json.dumps(options), out=json.dumps(str(out))))
    assert_playbook_ok(run_playbook(lab, str(playbook)))
    result = json.loads(out.read_text())

    assert arm_writes(lab) == [], f"{module} wrote to Azure in check mode"
    assert kube_writes(lab) == [], f"{module} wrote to Kubernetes in check mode without dryRun=All"
    assert arm_state(lab) == (arm_before[0], arm_before[1]), "the Azure state changed"
    settle_kube(lab)
    assert kube_state(lab) == kube_before, "the Kubernetes state changed"
    assert result["changed"] is expect_changed, result
    if module == "kubeconfig":
        assert not os.path.exists(options["dest"]), "check mode wrote the kubeconfig file"
        assert result["diff"]["before"]["exists"] is False and result["diff"]["after"]["exists"] is True
    if module == "probe":
        assert result.get("skipped") is True and lab.kube.requests == [], "check mode must not create the debug pod (nor read anything for it)"
    if module in ("lb_service", "ingress", "network_policy", "coredns"):
        # the would-be write went to the API server as a dry run, so its validation and defaults are in the answer
        assert kube_dry_runs(lab), f"{module} reported a change without asking the API server (dryRun=All)"
    if module in ("cluster", "addon", "public_ip"):
        assert any(e["method"] == "GET" for e in lab.arm.requests), f"{module} decided without reading Azure"

"""The ARM simulator, driven by the real Azure SDK clients the collection uses."""

from __future__ import annotations

import base64
import ipaddress
import time

import pytest
import requests
import yaml
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

SUB = "00000000-0000-0000-0000-000000000000"
KUBE_URL = "https://127.0.0.1:6443"
KUBE_TOKEN = "lab-kube-token"
POLL = {"polling_interval": 0.05}


@pytest.fixture(scope="module")
def lab(arm_simulator_lab):
    return arm_simulator_lab


@pytest.fixture(autouse=True)
def fresh(lab):
    sim = lab["sim"]
    sim.reset()
    sim.lro_polls, sim.page_size, sim.lro_complete_after = 0, 100, 5.0
    yield


def _subnet_id(rg="lab-rg", vnet="lab-vnet", name="aks-nodes"):
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{name}"


def _cluster(network=None, pool=None, version=None):
    pool_profile = {"name": "system", "count": 2, "vmSize": "Standard_D4s_v5", "mode": "System", "vnetSubnetID": _subnet_id()}
    pool_profile.update(pool or {})
    props = {"dnsPrefix": "c1", "agentPoolProfiles": [pool_profile], "networkProfile": network or {}}
    if version:
        props["kubernetesVersion"] = version
    return {"location": "westeurope", "properties": props}


def _raw(lab, method, path, token=True, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = "Bearer " + lab["cred"].get_token(lab["url"] + "/.default").token
    return requests.request(method, lab["url"] + path, headers=headers, verify=lab["ca"], timeout=10, **kwargs)


def _statuses(lab, method, fragment):
    return [e["status"] for e in lab["sim"].requests if e["method"] == method and fragment in e["path"]]


def test_default_cluster_is_overlay_with_node_resource_group(lab):
    mc = lab["aks"].managed_clusters.get("lab-rg", "lab-aks")
    netp, pool = mc.network_profile, mc.agent_pool_profiles[0]
    assert (netp.network_plugin, netp.network_plugin_mode, netp.pod_cidr, netp.service_cidr, netp.dns_service_ip) == (
        "azure", "overlay", "10.244.0.0/16", "10.0.0.0/16", "10.0.0.10")
    assert (netp.outbound_type, netp.load_balancer_sku, netp.network_policy, netp.network_dataplane) == ("loadBalancer", "standard", "none", "azure")
    assert (pool.name, pool.count, pool.max_pods, pool.mode, pool.vnet_subnet_id) == ("system", 3, 250, "System", _subnet_id())
    assert mc.provisioning_state == "Succeeded" and mc.identity.type == "SystemAssigned" and mc.fqdn.endswith(".azmk8s.io")
    node_rg = _raw(lab, "GET", f"/subscriptions/{SUB}/resourcegroups/{mc.node_resource_group}?api-version=2021-04-01")
    assert node_rg.status_code == 200 and mc.node_resource_group == "MC_lab-rg_lab-aks_westeurope"
    assert [c.name for c in lab["aks"].managed_clusters.list_by_resource_group("lab-rg")] == ["lab-aks"]


def test_subscription_list_pages_with_next_link(lab):
    sim = lab["sim"]
    for name in ("p1", "p2"):
        sim.add_cluster("lab-rg", name, _cluster(network={"serviceCidr": "10.100.0.0/16"}))
    sim.page_size = 2
    assert sorted(c.name for c in lab["aks"].managed_clusters.list()) == ["lab-aks", "p1", "p2"]
    assert any(e["query"].get("$skiptoken") == "2" for e in sim.requests)


def test_create_fills_server_defaults_then_update_answers_200(lab):
    aks, sim = lab["aks"], lab["sim"]
    body = _cluster(network={"serviceCidr": "10.100.0.0/16", "dnsServiceIP": "10.100.0.10"})
    mc = aks.managed_clusters.begin_create_or_update("lab-rg", "c1", body, **POLL).result()
    netp = mc.network_profile
    assert mc.provisioning_state == "Succeeded"
    assert (netp.network_plugin, netp.network_plugin_mode, netp.pod_cidr, netp.load_balancer_sku, netp.outbound_type) == (
        "azure", "overlay", "10.244.0.0/16", "standard", "loadBalancer")
    assert netp.ip_families == ["IPv4"] and netp.service_cidrs == ["10.100.0.0/16"] and netp.pod_cidrs == ["10.244.0.0/16"]
    assert mc.node_resource_group == "MC_lab-rg_c1_westeurope" and sim.resource_group(mc.node_resource_group)["managedBy"] == mc.id
    body["tags"] = {"team": "net"}
    updated = aks.managed_clusters.begin_create_or_update("lab-rg", "c1", body, **POLL).result()
    assert updated.tags == {"team": "net"}
    assert _statuses(lab, "PUT", "/managedClusters/c1") == [201, 200]
    tagged = aks.managed_clusters.begin_update_tags("lab-rg", "c1", {"tags": {"team": "platform"}}, **POLL).result()
    assert tagged.tags == {"team": "platform"} and _statuses(lab, "PATCH", "/managedClusters/c1") == [200]
    put = next(e for e in sim.requests if e["method"] == "PUT")
    assert put["query"]["api-version"] == "2026-08-01" and put["body"]["location"] == "westeurope"


def test_operation_in_progress_is_visible_and_blocks_a_second_put(lab):
    lab["sim"].lro_polls = 2
    path = f"/subscriptions/{SUB}/resourceGroups/lab-rg/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2026-08-01"
    accepted = _raw(lab, "PUT", path, json=_cluster(network={"serviceCidr": "10.100.0.0/16"}))
    assert accepted.status_code == 201 and accepted.json()["properties"]["provisioningState"] == "Creating"
    assert accepted.headers["Retry-After"] == "1"
    op_url = accepted.headers["Azure-AsyncOperation"]
    assert "/providers/Microsoft.ContainerService/locations/westeurope/operations/" in op_url and "api-version=2026-08-01" in op_url
    assert lab["aks"].managed_clusters.get("lab-rg", "c1").provisioning_state == "Creating"
    with pytest.raises(HttpResponseError) as err:
        lab["aks"].managed_clusters.begin_create_or_update("lab-rg", "c1", _cluster(network={"serviceCidr": "10.100.0.0/16"}), polling=False)
    assert err.value.status_code == 409 and err.value.error.code == "OperationNotAllowed"
    token = {"Authorization": "Bearer " + lab["cred"].get_token(lab["url"] + "/.default").token}
    docs = [requests.get(op_url, headers=token, verify=lab["ca"], timeout=10).json() for _unused in range(3)]
    assert [d["status"] for d in docs] == ["InProgress", "InProgress", "Succeeded"] and docs[-1]["endTime"]
    assert lab["aks"].managed_clusters.get("lab-rg", "c1").provisioning_state == "Succeeded"


@pytest.mark.parametrize(
    ("network", "pool", "code", "target"),
    [
        ({"serviceCidr": "10.0.0.0/33"}, None, "InvalidParameter", "networkProfile.serviceCidr"),
        ({"serviceCidr": "10.224.0.0/16", "dnsServiceIP": "10.224.0.10"}, None, "ServiceCidrOverlapExistingSubnetsCidr", "networkProfile.serviceCIDR"),
        ({"serviceCidr": "10.100.0.0/16", "podCidr": "10.230.0.0/16"}, None, "NetworkProfileCIDROverlapVNET", "networkProfile.podCIDR"),
        ({"serviceCidr": "10.100.0.0/16", "dnsServiceIP": "10.0.0.10"}, None, "InvalidParameter", "networkProfile.dnsServiceIP"),
        ({"serviceCidr": "10.100.0.0/16", "podCidr": "10.100.0.0/17"}, None, "InvalidParameter", "networkProfile.podCidr"),
        ({"networkPlugin": "kubenet", "networkPolicy": "azure", "serviceCidr": "10.100.0.0/16"}, None,
         "NetworkPolicyAzureNotSupportedForKubenet", "networkProfile.networkPolicy"),
        ({"networkPlugin": "azure", "networkPluginMode": "overlay", "networkDataplane": "cilium", "networkPolicy": "azure",
          "serviceCidr": "10.100.0.0/16"}, None, "CiliumDataplaneRequiresNetworkPolicyCilium", "networkProfile.networkPolicy"),
        ({"networkPlugin": "kubenet", "networkPluginMode": "overlay", "serviceCidr": "10.100.0.0/16"}, None,
         "UnsupportedNetworkPluginModeWithNetworkPlugin", "networkProfile.networkPluginMode"),
        ({"serviceCidr": "10.100.0.0/16", "advancedNetworking": {"enabled": True, "security": {"enabled": True}}}, None,
         "BadRequest", "networkProfile.advancedNetworking.security"),
        ({"serviceCidr": "10.100.0.0/16"}, {"maxPods": 300}, "InvalidParameter", "agentPoolProfiles[0].maxPods"),
        ({"serviceCidr": "10.100.0.0/16"}, {"vnetSubnetID": _subnet_id(name="nope")}, "SubnetNotFound", "agentPoolProfile.vnetSubnetID"),
        ({"serviceCidr": "10.100.0.0/16"}, {"vnetSubnetID": "aks-nodes"}, "LinkedInvalidPropertyId", "agentPoolProfiles[0].vnetSubnetID"),
        ({"networkPlugin": "azure", "serviceCidr": "10.100.0.0/16"}, {"vnetSubnetID": _subnet_id(vnet="small-vnet", name="tiny"), "maxPods": 30},
         "InsufficientSubnetSize", "agentPoolProfile.vnetSubnetID"),
    ],
)
def test_invalid_profiles_are_rejected_with_aks_codes(lab, network, pool, code, target):
    lab["sim"].add_virtual_network("lab-rg", "small-vnet", ["10.240.0.0/16"], [("tiny", "10.240.0.0/26")])
    with pytest.raises(HttpResponseError) as err:
        lab["aks"].managed_clusters.begin_create_or_update("lab-rg", "bad", _cluster(network=network, pool=pool), **POLL)
    assert (err.value.status_code, err.value.error.code, err.value.error.target) == (400, code, target)
    assert lab["sim"].cluster("lab-rg", "bad") is None


def test_subnet_size_counts_existing_ip_configurations(lab):
    sim = lab["sim"]
    sim.add_virtual_network("lab-rg", "cni-vnet", ["10.240.0.0/16"], [("nodes", "10.240.0.0/24")])
    cni = {"networkPlugin": "azure", "serviceCidr": "10.100.0.0/16"}
    # A /24 has 251 usable addresses; the first cluster's 3 nodes hold 3 * 31 of them, leaving 158 < (5 + 1) * 31 = 186.
    sim.add_cluster("lab-rg", "first", _cluster(network=cni, pool={"count": 3, "maxPods": 30, "vnetSubnetID": _subnet_id(vnet="cni-vnet", name="nodes")}))
    assert sim.subnet_used_ips(_subnet_id(vnet="cni-vnet", name="nodes")) == 3 * 31
    with pytest.raises(HttpResponseError) as err:
        lab["aks"].managed_clusters.begin_create_or_update(
            "lab-rg", "second", _cluster(network=cni, pool={"count": 5, "maxPods": 30, "vnetSubnetID": _subnet_id(vnet="cni-vnet", name="nodes")}), **POLL)
    assert err.value.error.code == "InsufficientSubnetSize" and "Pre-allocated IPs 186 exceeds IPs available 158" in err.value.error.message


def test_immutable_fields_and_supported_migrations(lab):
    aks = lab["aks"]
    current = aks.managed_clusters.get("lab-rg", "lab-aks")
    current.network_profile.service_cidr = "10.50.0.0/16"
    with pytest.raises(HttpResponseError) as err:
        aks.managed_clusters.begin_create_or_update("lab-rg", "lab-aks", current, **POLL)
    assert (err.value.error.code, err.value.error.target) == ("PropertyChangeNotAllowed", "networkProfile.serviceCidr")

    # Dataplane azure -> cilium (with policy cilium) is a supported in-place update.
    current = aks.managed_clusters.get("lab-rg", "lab-aks")
    current.network_profile.network_dataplane, current.network_profile.network_policy = "cilium", "cilium"
    assert aks.managed_clusters.begin_create_or_update("lab-rg", "lab-aks", current, **POLL).result().network_profile.network_dataplane == "cilium"

    # kubenet -> Azure CNI Overlay is supported; kubenet defaults below Kubernetes 1.30.
    lab["sim"].add_cluster("lab-rg", "old", _cluster(network={"serviceCidr": "10.100.0.0/16"}, version="1.29"))
    old = aks.managed_clusters.get("lab-rg", "old")
    assert old.network_profile.network_plugin == "kubenet" and old.agent_pool_profiles[0].max_pods == 110
    old.network_profile.network_plugin, old.network_profile.network_plugin_mode = "azure", "overlay"
    assert aks.managed_clusters.begin_create_or_update("lab-rg", "old", old, **POLL).result().network_profile.network_plugin_mode == "overlay"
    with pytest.raises(HttpResponseError) as err:
        aks.managed_clusters.begin_create_or_update("lab-rg", "old", {"location": "westeurope", "properties": {
            "networkProfile": {"networkPlugin": "kubenet"}}}, **POLL)
    assert (err.value.error.code, err.value.error.target) == ("PropertyChangeNotAllowed", "networkProfile.networkPlugin")


def test_credentials_point_at_the_kubernetes_emulator(lab):
    aks, sim = lab["aks"], lab["sim"]
    user = aks.managed_clusters.list_cluster_user_credentials("lab-rg", "lab-aks").kubeconfigs[0]
    admin = aks.managed_clusters.list_cluster_admin_credentials("lab-rg", "lab-aks").kubeconfigs[0]
    assert (user.name, admin.name) == ("clusterUser", "clusterAdmin")
    config = yaml.safe_load(user.value)  # the SDK already base64-decodes the value
    assert config["clusters"][0]["cluster"]["server"] == KUBE_URL
    assert base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode() == sim.kube_ca_pem
    assert config["users"][0]["user"]["token"] == KUBE_TOKEN and config["current-context"] == "lab-aks"
    assert yaml.safe_load(admin.value)["current-context"] == "lab-aks-admin"
    raw = _raw(lab, "POST", f"/subscriptions/{SUB}/resourceGroups/lab-rg/providers/Microsoft.ContainerService/managedClusters/lab-aks"
                            "/listClusterUserCredential?api-version=2026-08-01")
    assert yaml.safe_load(base64.b64decode(raw.json()["kubeconfigs"][0]["value"]))["clusters"][0]["name"] == "lab-aks"
    with pytest.raises(ResourceNotFoundError):
        aks.managed_clusters.list_cluster_user_credentials("lab-rg", "missing")


def test_throttling_and_server_errors_are_retried_by_azure_core(lab):
    sim, aks = lab["sim"], lab["aks"]
    lab_fault = _raw(lab, "POST", "/_lab/faults", token=False,
                     json={"match": {"method": "PUT", "path_contains": "managedClusters"}, "status": 429, "retry_after": 1, "count": 1})
    assert lab_fault.status_code == 201
    sim.inject_fault({"method": "GET", "path_contains": "/managedClusters/lab-aks"}, status=500)
    aks.managed_clusters.begin_create_or_update("lab-rg", "c1", _cluster(network={"serviceCidr": "10.100.0.0/16"}), **POLL).result()
    assert _statuses(lab, "PUT", "/managedClusters/c1") == [429, 201]
    assert aks.managed_clusters.get("lab-rg", "lab-aks").name == "lab-aks"
    assert _statuses(lab, "GET", "/managedClusters/lab-aks") == [500, 200]
    assert _raw(lab, "GET", "/_lab/faults", token=False).json() == []


def test_failed_operation_surfaces_its_error_code(lab):
    sim, aks = lab["sim"], lab["aks"]
    sim.inject_fault({"method": "PUT", "path_contains": "managedClusters/c1"},
                     operation_fails={"code": "VMExtensionProvisioningError", "message": "Node bootstrap failed."})
    poller = aks.managed_clusters.begin_create_or_update("lab-rg", "c1", _cluster(network={"serviceCidr": "10.100.0.0/16"}), **POLL)
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert err.value.error.code == "VMExtensionProvisioningError" and "bootstrap" in err.value.error.message
    assert aks.managed_clusters.get("lab-rg", "c1").provisioning_state == "Failed"


def test_delete_removes_cluster_node_group_and_subnet_ips(lab):
    sim, aks = lab["sim"], lab["aks"]
    assert sim.subnet_used_ips(_subnet_id()) == 3
    aks.managed_clusters.begin_delete("lab-rg", "lab-aks", **POLL).result()
    with pytest.raises(ResourceNotFoundError) as err:
        aks.managed_clusters.get("lab-rg", "lab-aks")
    assert err.value.error.code == "ResourceNotFound"
    assert sim.resource_group("MC_lab-rg_lab-aks_westeurope") is None and sim.subnet_used_ips(_subnet_id()) == 0
    assert _statuses(lab, "DELETE", "/managedClusters/lab-aks") == [202]
    aks.managed_clusters.begin_delete("lab-rg", "lab-aks", **POLL).result()  # deleting what is gone answers 204
    assert _statuses(lab, "DELETE", "/managedClusters/lab-aks") == [202, 204]


def test_arm_request_rules(lab):
    path = f"/subscriptions/{SUB}/resourceGroups/lab-rg/providers/Microsoft.ContainerService/managedClusters/lab-aks"
    missing = _raw(lab, "GET", path + "?api-version=2026-08-01", token=False)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "AuthenticationFailed" and missing.headers["x-ms-request-id"]
    bogus = _raw(lab, "GET", path + "?api-version=2026-08-01", token=False, headers={"Authorization": "Bearer forged"})
    assert bogus.status_code == 401 and bogus.json()["error"]["code"] == "InvalidAuthenticationToken"
    no_version = _raw(lab, "GET", path)
    assert no_version.status_code == 400 and no_version.json()["error"]["code"] == "MissingApiVersionParameter"
    no_group = _raw(lab, "GET", path.replace("lab-rg", "nope") + "?api-version=2026-08-01")
    assert no_group.status_code == 404 and no_group.json()["error"]["code"] == "ResourceGroupNotFound"
    groups = _raw(lab, "GET", f"/subscriptions/{SUB}/resourcegroups?api-version=2021-04-01").json()["value"]
    assert {g["name"] for g in groups} == {"lab-rg", "MC_lab-rg_lab-aks_westeurope"}
    metadata = _raw(lab, "GET", "/metadata/endpoints?api-version=2022-09-01", token=False).json()
    assert metadata[0]["resourceManager"] == lab["url"] + "/"


def test_identity_endpoint_checks_its_secret(lab):
    params = {"api-version": "2019-08-01", "resource": lab["url"]}
    assert _raw(lab, "GET", "/_lab/identity", token=False, params=params).status_code == 400
    assert _raw(lab, "GET", "/_lab/identity", token=False, params=params, headers={"X-IDENTITY-HEADER": "wrong"}).status_code == 401
    good = _raw(lab, "GET", "/_lab/identity", token=False, params=params, headers={"X-IDENTITY-HEADER": lab["sim"].identity_header}).json()
    assert good["token_type"] == "Bearer" and int(good["expires_on"]) > 0 and good["resource"] == lab["url"]


def test_lab_routes_log_and_reset(lab):
    lab["aks"].managed_clusters.get("lab-rg", "lab-aks")
    log = _raw(lab, "GET", "/_lab/requests", token=False).json()
    assert [(e["method"], e["query"]["api-version"], e["body"]) for e in log] == [("GET", "2026-08-01", None)]
    lab["sim"].add_cluster("lab-rg", "extra", _cluster(network={"serviceCidr": "10.100.0.0/16"}))
    assert _raw(lab, "POST", "/_lab/reset", token=False).status_code == 200
    assert lab["sim"].cluster("lab-rg", "extra") is None and lab["sim"].requests == []


def test_public_ips_load_balancer_nsg_and_subnet_usage(lab):
    network, sim = lab["net"], lab["sim"]
    node_rg = "MC_lab-rg_lab-aks_westeurope"
    body = {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}
    pip = network.public_ip_addresses.begin_create_or_update(node_rg, "ingress-ip", body, **POLL).result()
    assert ipaddress.ip_address(pip.ip_address) in ipaddress.ip_network("20.0.0.0/8") and pip.provisioning_state == "Succeeded"
    again = network.public_ip_addresses.begin_create_or_update(node_rg, "ingress-ip", body, **POLL).result()
    assert again.ip_address == pip.ip_address
    assert _statuses(lab, "PUT", "/publicIPAddresses/ingress-ip") == [201, 200]
    assert "ingress-ip" in [p.name for p in network.public_ip_addresses.list(node_rg)]
    network.public_ip_addresses.begin_delete(node_rg, "ingress-ip", **POLL).result()
    with pytest.raises(ResourceNotFoundError):
        network.public_ip_addresses.get(node_rg, "ingress-ip")

    lb = network.load_balancers.get(node_rg, "kubernetes")
    outbound_pip = lb.frontend_ip_configurations[0].public_ip_address.id
    assert lb.sku.name == "Standard" and lb.outbound_rules[0].name == "aksOutboundRule"
    with pytest.raises(HttpResponseError) as err:
        network.public_ip_addresses.begin_delete(node_rg, outbound_pip.rsplit("/", 1)[1], **POLL).result()
    assert err.value.error.code == "PublicIPAddressInUse"
    assert [r.name for r in network.load_balancer_load_balancing_rules.list(node_rg, "kubernetes")] == []

    nsg = network.network_security_groups.get(node_rg, "aks-agentpool-nsg")
    assert [r.priority for r in nsg.default_security_rules if r.direction == "Inbound"] == [65000, 65001, 65500]
    subnets = {s.name: s for s in network.subnets.list("lab-rg", "lab-vnet")}
    assert subnets["aks-pods"].address_prefix == "10.225.0.0/16" and len(subnets["aks-nodes"].ip_configurations) == 3
    usage = {u.id.rsplit("/", 1)[1]: (u.current_value, u.limit) for u in network.virtual_networks.list_usage("lab-rg", "lab-vnet")}
    assert usage["aks-nodes"] == (3, 65531)
    assert sim.get_resource(_subnet_id().rsplit("/subnets", 1)[0])["properties"]["addressSpace"]["addressPrefixes"] == ["10.224.0.0/12"]


def test_operations_finish_on_their_own_when_nobody_polls(lab):
    sim = lab["sim"]
    sim.lro_polls, sim.lro_complete_after = 100, 0.5
    lab["aks"].managed_clusters.begin_create_or_update("lab-rg", "c1", _cluster(network={"serviceCidr": "10.100.0.0/16"}), polling=False)
    assert lab["aks"].managed_clusters.get("lab-rg", "c1").provisioning_state == "Creating"
    time.sleep(0.6)
    assert lab["aks"].managed_clusters.get("lab-rg", "c1").provisioning_state == "Succeeded"


def test_other_resource_types_are_stored_as_given(lab):
    path = f"/subscriptions/{SUB}/resourceGroups/lab-rg/providers/Microsoft.Network/routeTables/rt1?api-version=2024-05-01"
    created = _raw(lab, "PUT", path, json={"location": "westeurope", "properties": {"routes": []}})
    assert created.status_code == 201 and created.json()["properties"]["provisioningState"] == "Succeeded"
    assert _raw(lab, "GET", path).json()["id"].endswith("/routeTables/rt1")
    assert _raw(lab, "DELETE", path).status_code == 200 and _raw(lab, "GET", path).status_code == 404

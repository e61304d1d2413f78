"""The ARM simulator rejects what ARM, AKS and the network RP reject for the resources the modules write
(managed clusters, public IPs), with their status, error code and the property named.

Sources of each answer are cited next to the rule in tests/lab/arm.py, arm_aks_rules.py and arm_network.py.
"""

from __future__ import annotations

import copy

import pytest
import requests
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceModifiedError

SUB = "00000000-0000-0000-0000-000000000000"
API = "2026-08-01"
NET_API = "2024-05-01"
RG = "lab-rg"
NODE_RG = "MC_lab-rg_lab-aks_westeurope"
NODES = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/lab-vnet/subnets/aks-nodes"
MC = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/managedClusters"
PIP = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/publicIPAddresses"
MISSING = object()


@pytest.fixture(scope="module")
def lab(arm_simulator_lab):
    return arm_simulator_lab


@pytest.fixture(autouse=True)
def fresh(lab):
    sim = lab["sim"]
    sim.reset()
    sim.lro_polls, sim.lro_complete_after = 0, 5.0
    yield


def call(lab, method, path, body=None, headers=None, api=API):
    sep = "&" if "?" in path else "?"
    sent = {"Authorization": "Bearer " + lab["cred"].get_token(lab["url"] + "/.default").token, **(headers or {})}
    return requests.request(method, f"{lab['url']}{path}{sep}api-version={api}", json=body, headers=sent, verify=lab["ca"], timeout=10)


def error_of(response):
    return response.json()["error"]


def cluster_body(**changes):
    """A valid create body for cluster c1; ``changes`` maps a dotted path (agentPoolProfiles.0.mode) to a value or MISSING."""
    body = {
        "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "sku": {"name": "Base", "tier": "Free"},
        "properties": {
            "dnsPrefix": "c1",
            "agentPoolProfiles": [{"name": "system", "count": 2, "vmSize": "Standard_D4s_v5", "mode": "System", "osType": "Linux",
                                   "type": "VirtualMachineScaleSets", "vnetSubnetID": NODES}],
            "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "serviceCidr": "10.100.0.0/16"},
        },
    }
    for dotted, value in changes.items():
        _set(body, dotted, value)
    return body


def pip_body(**changes):
    body = {"location": "westeurope", "sku": {"name": "Standard", "tier": "Regional"},
            "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"}}
    for dotted, value in changes.items():
        _set(body, dotted, value)
    return body


def _set(body, dotted, value):
    keys = [int(k) if k.isdigit() else k for k in dotted.split(".")]
    node = body
    for key in keys[:-1]:
        node = node[key]
    if value is MISSING:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value


# ---------------------------------------------------------------------------------------------------------------------
# 1. Unknown enum values and missing required properties
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dotted", "value", "target"), [
    ("properties.networkProfile.networkPlugin", "calico", "networkProfile.networkPlugin"),
    ("properties.networkProfile.networkPluginMode", "underlay", "networkProfile.networkPluginMode"),
    ("properties.networkProfile.networkPolicy", "weave", "networkProfile.networkPolicy"),
    ("properties.networkProfile.networkDataplane", "ebpf", "networkProfile.networkDataplane"),
    ("properties.networkProfile.outboundType", "UDR", "networkProfile.outboundType"),
    ("properties.networkProfile.loadBalancerSku", "premium", "networkProfile.loadBalancerSku"),
    ("properties.networkProfile.ipFamilies", ["IPv4", "IPv5"], "networkProfile.ipFamilies"),
    ("properties.agentPoolProfiles.0.mode", "Spot", "agentPoolProfiles[0].mode"),
    ("properties.agentPoolProfiles.0.mode", "system", "agentPoolProfiles[0].mode"),  # case-sensitive since 2025 (Azure/AKS#4468)
    ("properties.agentPoolProfiles.0.osType", "Solaris", "agentPoolProfiles[0].osType"),
    ("properties.agentPoolProfiles.0.osSKU", "Debian", "agentPoolProfiles[0].osSKU"),
    ("properties.agentPoolProfiles.0.type", "VirtualMachineScaleSet", "agentPoolProfiles[0].type"),
    ("identity.type", "ManagedIdentity", "identity.type"),
    ("sku.name", "Basic", "sku.name"),  # renamed Base in 2023
    ("sku.tier", "Paid", "sku.tier"),  # renamed Standard in 2023
])
def test_unknown_enum_values_of_a_managed_cluster_answer_invalid_parameter_naming_the_property(lab, dotted, value, target):
    answer = call(lab, "PUT", f"{MC}/c1", cluster_body(**{dotted: value}))
    assert answer.status_code == 400, answer.text
    error = error_of(answer)
    assert (error["code"], error["target"]) == ("InvalidParameter", target)
    assert f"The value of parameter {target} is invalid" in error["message"]
    assert lab["sim"].cluster(RG, "c1") is None, "a rejected PUT stores nothing"


def test_enum_values_match_case_insensitively_except_the_pool_mode(lab):
    body = cluster_body(**{"properties.networkProfile.networkPlugin": "Azure", "properties.networkProfile.outboundType": "LoadBalancer",
                           "properties.networkProfile.loadBalancerSku": "Standard", "properties.agentPoolProfiles.0.osType": "linux",
                           "identity.type": "systemassigned", "sku.tier": "free"})
    answer = call(lab, "PUT", f"{MC}/c1", body)
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(("dotted", "target"), [
    ("properties.agentPoolProfiles", "agentPoolProfiles"),
    ("properties.agentPoolProfiles.0.name", "agentPoolProfiles[0].name"),
])
def test_missing_required_properties_of_a_managed_cluster(lab, dotted, target):
    answer = call(lab, "PUT", f"{MC}/c1", cluster_body(**{dotted: MISSING}))
    assert answer.status_code == 400, answer.text
    error = error_of(answer)
    assert (error["code"], error["target"], error["message"]) == ("InvalidParameter", target, f"Required parameter {target} is missing (null).")


def test_missing_location_answers_location_required(lab):
    for path, body in ((f"{MC}/c1", cluster_body(location=MISSING)), (f"{PIP}/ip1", pip_body(location=MISSING))):
        answer = call(lab, "PUT", path, body, api=API if "managedClusters" in path else NET_API)
        assert answer.status_code == 400 and error_of(answer)["code"] == "LocationRequired", answer.text
        assert "location" in error_of(answer)["message"]


@pytest.mark.parametrize(("dotted", "value", "path", "type_name"), [
    ("sku.name", "Premium", "sku.name", "PublicIPAddressSkuName"),
    ("sku.tier", "Local", "sku.tier", "PublicIPAddressSkuTier"),
    ("properties.publicIPAllocationMethod", "Sticky", "properties.publicIPAllocationMethod", "IpAllocationMethod"),
    ("properties.publicIPAddressVersion", "IPv5", "properties.publicIPAddressVersion", "IPVersion"),
    ("properties.publicIPAllocationMethod", 1, "properties.publicIPAllocationMethod", "IpAllocationMethod"),
])
def test_unknown_enum_values_of_a_public_ip_cannot_be_deserialized(lab, dotted, value, path, type_name):
    answer = call(lab, "PUT", f"{PIP}/ip1", pip_body(**{dotted: value}), api=NET_API)
    assert answer.status_code == 400, answer.text
    error = error_of(answer)
    assert (error["code"], error["message"]) == ("InvalidRequestFormat", "Cannot parse the request.")
    detail = error["details"][0]
    assert detail["code"] == "InvalidJson"
    assert f"Path '{path}'" in detail["message"] and f"Error converting value {value!r}".replace("'", '"') in detail["message"]
    assert detail["message"].endswith(f"Csm.Public.{type_name}'. Path '{path}'.")
    assert lab["sim"].get_resource(f"{PIP}/ip1") is None


def test_public_ip_enums_match_case_insensitively(lab):
    body = pip_body(**{"sku.name": "standard", "sku.tier": "regional", "properties.publicIPAllocationMethod": "static",
                       "properties.publicIPAddressVersion": "ipv4"})
    assert call(lab, "PUT", f"{PIP}/ip1", body, api=NET_API).status_code == 201


# ---------------------------------------------------------------------------------------------------------------------
# 2. Another location than the existing resource's
# ---------------------------------------------------------------------------------------------------------------------


def test_a_cluster_cannot_move_to_another_location(lab):
    body = copy.deepcopy(lab["aks"].managed_clusters.get(RG, "lab-aks").as_dict())
    body["location"] = "eastus"
    answer = call(lab, "PUT", f"{MC}/lab-aks", body)
    assert answer.status_code == 409, answer.text
    error = error_of(answer)
    assert error["code"] == "InvalidResourceLocation"
    assert "already exists in location 'westeurope'" in error["message"] and "cannot be created in location 'eastus'" in error["message"]
    assert lab["sim"].cluster(RG, "lab-aks")["location"] == "westeurope"
    body["location"] = "West Europe"  # the display name of the same region
    assert call(lab, "PUT", f"{MC}/lab-aks", body).status_code == 200


def test_a_public_ip_cannot_move_to_another_location(lab):
    assert call(lab, "PUT", f"{PIP}/ip1", pip_body(), api=NET_API).status_code == 201
    lab["sim"].lro_complete_after = 0
    answer = call(lab, "PUT", f"{PIP}/ip1", pip_body(location="northeurope"), api=NET_API)
    assert answer.status_code == 409, answer.text
    error = error_of(answer)
    assert error["code"] == "InvalidResourceLocation" and "'westeurope'" in error["message"] and "'northeurope'" in error["message"]


# ---------------------------------------------------------------------------------------------------------------------
# 3. If-Match / If-None-Match
# ---------------------------------------------------------------------------------------------------------------------


def test_managed_clusters_and_their_pools_carry_an_etag_that_changes_on_write(lab):
    first = call(lab, "GET", f"{MC}/lab-aks").json()
    assert first["eTag"] and first["properties"]["agentPoolProfiles"][0]["eTag"]
    answer = call(lab, "PUT", f"{MC}/lab-aks", first, headers={"If-Match": f'"{first["eTag"]}"'})
    assert answer.status_code == 200, answer.text
    second = call(lab, "GET", f"{MC}/lab-aks").json()
    assert second["eTag"] != first["eTag"]
    assert second["properties"]["agentPoolProfiles"][0]["eTag"] != first["properties"]["agentPoolProfiles"][0]["eTag"]


@pytest.mark.parametrize(("method", "headers", "status", "code"), [
    ("PUT", {"If-Match": '"stale"'}, 412, "PreConditionFailed"),
    ("PUT", {"If-None-Match": "*"}, 412, "PreConditionFailed"),
    ("PUT", {"If-None-Match": '"abc"'}, 400, "BadRequest"),
    ("PUT", {"If-Match": '"stale"', "If-None-Match": "*"}, 400, "BadRequest"),
    ("PATCH", {"If-Match": '"stale"'}, 412, "PreConditionFailed"),
    ("DELETE", {"If-Match": '"stale"'}, 412, "PreConditionFailed"),
])
def test_preconditions_on_an_existing_cluster(lab, method, headers, status, code):
    current = call(lab, "GET", f"{MC}/lab-aks").json()
    body = {"tags": {"a": "b"}} if method == "PATCH" else current if method == "PUT" else None
    answer = call(lab, method, f"{MC}/lab-aks", body, headers=headers)
    assert (answer.status_code, error_of(answer)["code"]) == (status, code), answer.text
    assert ("If-Match" in error_of(answer)["message"]) or ("If-None-Match" in error_of(answer)["message"])
    after = call(lab, "GET", f"{MC}/lab-aks").json()
    assert after["eTag"] == current["eTag"] and after["properties"]["provisioningState"] == "Succeeded", "nothing was written"


def test_preconditions_on_a_missing_cluster(lab):
    assert (call(lab, "PUT", f"{MC}/c1", cluster_body(), headers={"If-Match": "*"}).status_code) == 412
    assert call(lab, "DELETE", f"{MC}/c1", headers={"If-Match": '"x"'}).status_code == 204
    assert call(lab, "PATCH", f"{MC}/c1", {"tags": {}}, headers={"If-Match": '"x"'}).status_code == 404
    assert call(lab, "PUT", f"{MC}/c1", cluster_body(), headers={"If-None-Match": "*"}).status_code == 201


def test_the_sdk_match_condition_succeeds_with_the_current_etag_only(lab):
    aks = lab["aks"]
    current = aks.managed_clusters.get(RG, "lab-aks")
    body = current.as_dict()
    done = aks.managed_clusters.begin_create_or_update(RG, "lab-aks", body, etag=current.e_tag, match_condition=MatchConditions.IfNotModified,
                                                       polling_interval=0.05).result()
    assert done.e_tag and done.e_tag != current.e_tag
    with pytest.raises((ResourceModifiedError, HttpResponseError)) as err:
        aks.managed_clusters.begin_create_or_update(RG, "lab-aks", body, etag=current.e_tag, match_condition=MatchConditions.IfNotModified,
                                                    polling=False)
    assert err.value.status_code == 412


def test_preconditions_on_a_public_ip(lab):
    created = call(lab, "PUT", f"{PIP}/ip1", pip_body(), api=NET_API).json()
    lab["sim"].lro_complete_after = 0
    etag = created["etag"]
    stale = call(lab, "PUT", f"{PIP}/ip1", pip_body(tags={"a": "b"}), headers={"If-Match": 'W/"stale"'}, api=NET_API)
    assert (stale.status_code, error_of(stale)["code"]) == (412, "PreconditionFailed"), stale.text
    assert call(lab, "PUT", f"{PIP}/ip1", pip_body(), headers={"If-None-Match": "*"}, api=NET_API).status_code == 412
    assert call(lab, "DELETE", f"{PIP}/ip1", headers={"If-Match": 'W/"stale"'}, api=NET_API).status_code == 412
    assert lab["sim"].get_resource(f"{PIP}/ip1").get("tags") is None
    matching = call(lab, "PUT", f"{PIP}/ip1", pip_body(tags={"a": "b"}), headers={"If-Match": etag}, api=NET_API)
    assert matching.status_code == 200 and matching.json()["etag"] != etag


# ---------------------------------------------------------------------------------------------------------------------
# 4. A write while a long-running operation on the same resource runs
# ---------------------------------------------------------------------------------------------------------------------


def _slow(lab):
    lab["sim"].lro_polls, lab["sim"].lro_complete_after = 1000, None


@pytest.mark.parametrize(("first", "then", "state"), [
    ("create", "PUT", "Creating"),
    ("update", "PUT", "Updating"),  # e.g. an agent pool count change while an update runs
    ("update", "PATCH", "Updating"),
    ("update", "DELETE", "Updating"),
    ("delete", "PUT", "Deleting"),
])
def test_a_cluster_write_during_a_running_operation_is_not_allowed(lab, first, then, state):
    _slow(lab)
    name = "c1" if first == "create" else "lab-aks"
    current = call(lab, "GET", f"{MC}/lab-aks").json()
    started = {
        "create": lambda: call(lab, "PUT", f"{MC}/c1", cluster_body()),
        "update": lambda: call(lab, "PUT", f"{MC}/lab-aks", current),
        "delete": lambda: call(lab, "DELETE", f"{MC}/lab-aks"),
    }[first]()
    assert started.status_code in (200, 201, 202), started.text
    body = cluster_body() if name == "c1" else copy.deepcopy(current)
    if then == "PUT" and name == "lab-aks":
        body["properties"]["agentPoolProfiles"][0]["count"] = 4
    answer = call(lab, then, f"{MC}/{name}", {"tags": {"x": "y"}} if then == "PATCH" else body if then == "PUT" else None)
    assert answer.status_code == 409, answer.text
    error = error_of(answer)
    assert error["code"] == "OperationNotAllowed"
    assert error["message"].startswith(f"Operation is not allowed: Another operation ({state}) is in progress, please wait for it to finish")
    assert "https://aka.ms/aks-pending-operation" in error["message"]


def test_a_public_ip_write_during_a_running_operation_is_throttled(lab):
    _slow(lab)
    assert call(lab, "PUT", f"{PIP}/ip1", pip_body(), api=NET_API).status_code == 201
    for method, body in (("PUT", pip_body(tags={"a": "b"})), ("DELETE", None)):
        answer = call(lab, method, f"{PIP}/ip1", body, api=NET_API)
        assert answer.status_code == 429, answer.text
        assert answer.headers["Retry-After"] == "1"
        error = error_of(answer)
        assert error["code"] == "AnotherOperationInProgress"
        assert "Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: " in error["message"]
        assert "/providers/Microsoft.Network/locations/westeurope/operations/" in error["message"]

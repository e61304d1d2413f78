# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster module's decisions, with a fake Azure client: one GET, at most one PUT, check mode, refusals, waits."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
import yaml

from ansible_collections.aksnet.networking.plugins.module_utils._aks.profile import ENUMS, NETWORK_FIELDS, POOL_FIELDS
from ansible_collections.aksnet.networking.plugins.module_utils._azure.errors import AzureApiError
from ansible_collections.aksnet.networking.plugins.module_utils._azure.lro import OperationTimeout
from ansible_collections.aksnet.networking.plugins.module_utils._module import ModuleFailure
from ansible_collections.aksnet.networking.plugins.modules import cluster

SUBNET = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes"


def server_cluster():
    return {
        "id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1",
        "name": "aks1",
        "location": "westeurope",
        "tags": {"env": "dev"},
        "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
        "properties": {
            "provisioningState": "Succeeded",
            "kubernetesVersion": "1.33",
            "currentKubernetesVersion": "1.33.3",
            "dnsPrefix": "aks1",
            "fqdn": "aks1-abc.hcp.westeurope.azmk8s.io",
            "agentPoolProfiles": [{"name": "system", "count": 3, "maxPods": 250, "vmSize": "Standard_D4s_v5", "mode": "System", "osType": "Linux"}],
            "networkProfile": {
                "networkPlugin": "azure", "networkPluginMode": "overlay", "networkPolicy": "none", "networkDataplane": "azure",
                "podCidr": "192.168.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10",
                "podCidrs": ["192.168.0.0/16"], "serviceCidrs": ["10.0.0.0/16"], "outboundType": "loadBalancer", "loadBalancerSku": "standard",
            },
        },
    }


class Poller:
    def __init__(self, result=None, done=True, error=None, status="Succeeded"):
        self._result, self._done, self._error, self._status = result, done, error, status

    def wait(self, timeout=None):
        self.waited = timeout

    def done(self):
        return self._done

    def status(self):
        return self._status

    def result(self):
        if self._error:
            raise self._error
        return self._result


class FakeClusters:
    def __init__(self, current, poller=None):
        self.current = current
        self.calls = []
        self.poller = poller

    def get(self, group, name):
        from azure.core.exceptions import ResourceNotFoundError

        self.calls.append(("GET", name))
        if self.current is None:
            raise ResourceNotFoundError(message="not found")
        return SimpleNamespace(as_dict=lambda: copy.deepcopy(self.current))

    def begin_create_or_update(self, group, name, body, **kwargs):
        self.calls.append(("PUT", name, copy.deepcopy(body), kwargs))
        if self.poller:
            return self.poller
        stored = copy.deepcopy(body)
        stored.setdefault("properties", {})["provisioningState"] = "Succeeded"
        return Poller(SimpleNamespace(as_dict=lambda: stored))

    def begin_delete(self, group, name, **kwargs):
        self.calls.append(("DELETE", name, kwargs))
        return self.poller or Poller(None)


class FakeModule:
    def __init__(self, params, current, check_mode=False, poller=None):
        self.params = params
        self.check_mode = check_mode
        self.warnings = []
        self.clusters = FakeClusters(current, poller)
        self.client = SimpleNamespace(managed_clusters=self.clusters)

    def warn(self, text):
        self.warnings.append(text)

    def azure(self, service):
        assert service == "containerservice"
        return self.client

    def azure_settings(self):
        return {"arm_endpoint": "https://management.azure.com"}

    def require(self, name):
        assert name in cluster.LIBRARIES


def params(**overrides):
    base = {key: spec.get("default") for key, spec in cluster.ARGUMENT_SPEC.items()}
    base.update({"resource_group": "rg", "name": "aks1"})
    for key in ("system_pool", "network"):
        base[key] = None
    base.update(overrides)
    return base


def net(**values):
    full = dict.fromkeys(cluster.NETWORK_SPEC)
    full.update(values)
    return full


def pool(**values):
    full = dict.fromkeys(cluster.POOL_SPEC)
    full.update(values)
    return full


def run(mod):
    return cluster.run(mod)


def test_argument_spec_covers_every_profile_field_with_the_api_choices():
    for option, _key in NETWORK_FIELDS:
        assert option in cluster.NETWORK_SPEC
        if option in ENUMS:
            assert set(cluster.NETWORK_SPEC[option]["choices"]) == set(ENUMS[option])
    for option, _key in POOL_FIELDS:
        assert option == "mode" or option in cluster.POOL_SPEC
    docs = yaml.safe_load(cluster.DOCUMENTATION)["options"]
    assert set(docs) == set(cluster.ARGUMENT_SPEC)
    assert set(docs["network"]["suboptions"]) == set(cluster.NETWORK_SPEC)


def test_unchanged_run_is_one_get_and_no_put():
    same = params(network=net(plugin="AZURE", plugin_mode="overlay", pod_cidr=" 192.168.0.0/16"), system_pool=pool(name="system", count=3), tags={"env": "dev"})
    mod = FakeModule(same, server_cluster())
    result = run(mod)
    assert result["changed"] is False
    assert result["diff"] == {"before": {}, "after": {}}
    assert result["cluster"]["network_profile"]["plugin_mode"] == "overlay"
    assert mod.clusters.calls == [("GET", "aks1")]


def test_check_mode_reports_the_diff_and_sends_no_write():
    mod = FakeModule(params(system_pool=pool(name="system", count=5)), server_cluster(), check_mode=True)
    result = run(mod)
    assert result["changed"] is True
    assert result["diff"] == {"before": {"system_pool": {"count": 3}}, "after": {"system_pool": {"count": 5}}}
    assert [c[0] for c in mod.clusters.calls] == ["GET"]


def test_update_puts_the_current_cluster_with_only_the_changed_field():
    mod = FakeModule(params(network=net(pod_cidr="192.168.0.0/15")), server_cluster())
    result = run(mod)
    put = mod.clusters.calls[1]
    profile = put[2]["properties"]["networkProfile"]
    assert (profile["podCidr"], profile["podCidrs"], profile["serviceCidr"]) == ("192.168.0.0/15", ["192.168.0.0/15"], "10.0.0.0/16")
    assert "provisioningState" not in put[2]["properties"]
    assert [m["name"] for m in result["migrations"]] == ["pod_cidr_expansion"]
    assert any("migration pod_cidr_expansion" in w for w in mod.warnings)


def test_immutable_change_fails_before_any_write():
    mod = FakeModule(params(network=net(service_cidr="10.50.0.0/16", dns_service_ip="10.50.0.10")), server_cluster())
    with pytest.raises(ModuleFailure) as err:
        run(mod)
    assert "network.service_cidr" in err.value.msg and "recreated" in err.value.msg
    assert [c[0] for c in mod.clusters.calls] == ["GET"]


def test_validate_false_leaves_the_judgement_to_azure():
    mod = FakeModule(params(validate=False, network=net(service_cidr="10.50.0.0/16", dns_service_ip="10.50.0.10")), server_cluster())
    run(mod)
    assert [c[0] for c in mod.clusters.calls] == ["GET", "PUT"]


def test_preflight_errors_stop_before_any_request():
    mod = FakeModule(params(location="westeurope", network=net(plugin="kubenet", policy="azure")), None)
    with pytest.raises(ModuleFailure) as err:
        run(mod)
    assert "network.policy: 'azure' is not supported with network.plugin: kubenet" in err.value.msg
    assert "nothing was sent to Azure" in err.value.msg
    assert mod.clusters.calls == []


def test_create_needs_a_location_and_fills_what_creation_requires():
    with pytest.raises(ModuleFailure, match="location is required"):
        run(FakeModule(params(), None))
    mod = FakeModule(params(location="westeurope", network=net(plugin="kubenet")), None)
    result = run(mod)
    body = mod.clusters.calls[1][2]
    assert body["identity"] == {"type": "SystemAssigned"}
    assert body["properties"]["dnsPrefix"] == "aks1"
    assert body["properties"]["agentPoolProfiles"] == [{"name": "nodepool1", "mode": "System"}]
    assert result["changed"] and result["diff"]["after"] == {"location": "westeurope", "network": {"plugin": "kubenet"}}


def test_timeout_names_the_operation_and_its_last_state():
    mod = FakeModule(params(location="westeurope", wait_timeout=5), None, poller=Poller(done=False, status="InProgress"))
    with pytest.raises(OperationTimeout) as err:
        run(mod)
    assert "create AKS cluster aks1 in rg" in str(err.value) and "'InProgress'" in str(err.value)


def test_a_failed_operation_reports_the_aks_code():
    from azure.core.exceptions import HttpResponseError

    failure = HttpResponseError(message="failed")
    failure.status_code = 200
    failure.error = SimpleNamespace(code="VMExtensionProvisioningError", message="vmssCSE failed.", target=None)
    mod = FakeModule(params(location="westeurope"), None, poller=Poller(error=failure, status="Failed"))
    with pytest.raises(AzureApiError) as err:
        run(mod)
    assert err.value.code == "VMExtensionProvisioningError"
    assert "ended Failed with VMExtensionProvisioningError: vmssCSE failed." in str(err.value)


def test_absent_is_idempotent_and_deletes_once():
    gone = FakeModule(params(state="absent"), None)
    assert run(gone)["changed"] is False
    present = FakeModule(params(state="absent"), server_cluster())
    assert run(present)["changed"] is True
    assert [c[0] for c in present.clusters.calls] == ["GET", "DELETE"]


def test_bad_max_surge_is_refused():
    with pytest.raises(ModuleFailure, match="max_surge 'lots'"):
        run(FakeModule(params(max_surge="lots"), None))


def test_subnet_lookup_happens_only_when_a_write_is_coming():
    current = server_cluster()
    current["properties"]["agentPoolProfiles"][0]["vnetSubnetID"] = SUBNET
    mod = FakeModule(params(system_pool=pool(name="system", count=3)), current)
    mod.client.send_request = lambda request: pytest.fail("the subnet must not be read on an unchanged run")
    assert run(mod)["changed"] is False

    looked_up = []

    def send_request(request):
        looked_up.append(request.url)
        return SimpleNamespace(status_code=200, json=lambda: {"properties": {"addressPrefix": "10.224.0.0/28"}})

    mod = FakeModule(params(system_pool=pool(name="system", count=20)), copy.deepcopy(current))
    mod.client.send_request = send_request
    with pytest.raises(ModuleFailure) as err:
        run(mod)
    assert looked_up == [f"https://management.azure.com{SUBNET}?api-version={cluster.NETWORK_API_VERSION}"]
    assert "vnet_subnet_cidr: '10.224.0.0/28'" in err.value.msg and [c[0] for c in mod.clusters.calls] == ["GET"]

"""The simulator's AKS rules agree with the documented behaviour the collection's preflight follows."""

from __future__ import annotations

import copy

import pytest

from tests.lab import arm_aks_rules as rules
from tests.lab.arm_common import ArmError

SUB = "00000000-0000-0000-0000-000000000000"
NODES = f"/subscriptions/{SUB}/resourceGroups/lab-rg/providers/Microsoft.Network/virtualNetworks/lab-vnet/subnets/aks-nodes"
PODS = NODES.rsplit("/", 1)[0] + "/aks-pods"


def _view(subnet_id):
    name = subnet_id.rsplit("/", 1)[1]
    prefix = {"aks-nodes": "10.224.0.0/16", "aks-pods": "10.225.0.0/16"}.get(name)
    if prefix is None:
        return None
    return rules.SubnetView(
        id=subnet_id, name=name, address_prefix=prefix, vnet_name="lab-vnet", vnet_address_prefixes=["10.224.0.0/12"],
        vnet_subnets=[("aks-nodes", "10.224.0.0/16"), ("aks-pods", "10.225.0.0/16")], used_ips=0,
    )


def _props(network, pool=None):
    agent = {"name": "system", "count": 2, "mode": "System", "vnetSubnetID": NODES}
    agent.update(pool or {})
    return {"kubernetesVersion": "1.33", "agentPoolProfiles": [agent], "networkProfile": dict(network)}


def _check(props, existing=None):
    """The error the simulator answers a PUT with (None when accepted); returns the stored properties too."""
    desired = rules.apply_defaults(props, existing)
    ctx = rules.RuleContext(desired=desired, existing=existing, resolve_subnet=_view)
    try:
        rules.validate(ctx)
    except ArmError as exc:
        return exc, desired
    return None, desired


def _created(network, pool=None):
    error, stored = _check(_props(network, pool))
    assert error is None, error
    return stored


def _update(existing, network, pool=None):
    body = {"networkProfile": dict(network)}
    if pool:
        body["agentPoolProfiles"] = [dict({"name": "system"}, **pool)]
    error, _stored = _check(body, copy.deepcopy(existing))
    return None if error is None else (error.code, error.target)


def test_cilium_on_a_node_subnet_is_accepted_as_the_docs_now_allow():
    error, stored = _check(_props({"networkPlugin": "azure", "networkDataplane": "cilium", "networkPolicy": "cilium"}))
    assert error is None
    assert stored["networkProfile"]["networkDataplane"] == "cilium"


@pytest.mark.parametrize(
    ("network", "pool", "code", "target"),
    [
        ({"networkPlugin": "kubenet"}, {"osType": "Windows"}, "AzureCNIOnlyForWindows", "agentPoolProfiles[0].osType"),
        ({"networkPlugin": "kubenet"}, {"count": 401}, "InvalidParameter", "agentPoolProfiles"),
        ({"serviceCidr": "10.0.0.0/8", "dnsServiceIP": "10.0.0.10"}, None, "InvalidParameter", "networkProfile.serviceCidr"),
        ({"networkPlugin": "kubenet", "podCidr": "172.31.0.0/16"}, None, "InvalidParameter", "networkProfile.podCidr"),
        ({"serviceCidr": "169.254.0.0/16", "dnsServiceIP": "169.254.0.10"}, None, "InvalidParameter", "networkProfile.serviceCidr"),
    ],
)
def test_creation_rules_shared_with_the_preflight(network, pool, code, target):
    error, _stored = _check(_props(network, pool))
    assert (error.code, error.target) == (code, target)


def test_kubenet_with_400_linux_nodes_is_accepted():
    error, _stored = _check(_props({"networkPlugin": "kubenet"}, {"count": 400}))
    assert error is None


def test_outbound_type_changes_follow_the_documented_paths():
    managed = _created({"networkPlugin": "azure", "networkPluginMode": "overlay"}, {"vnetSubnetID": None})
    assert _update(managed, {"outboundType": "managedNATGateway"}) is None
    assert _update(managed, {"outboundType": "userDefinedRouting"}) == ("PropertyChangeNotAllowed", "networkProfile.outboundType")
    byo = _created({"networkPlugin": "azure", "networkPluginMode": "overlay"})
    assert _update(byo, {"outboundType": "userDefinedRouting"}) is None
    assert _update(byo, {"outboundType": "managedNATGateway"}) == ("PropertyChangeNotAllowed", "networkProfile.outboundType")


def test_pod_subnet_clusters_cannot_migrate_to_overlay_but_node_subnet_and_kubenet_can():
    pod_subnet = _created({"networkPlugin": "azure"}, {"podSubnetID": PODS})
    assert _update(pod_subnet, {"networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "192.168.0.0/16"}) == (
        "PropertyChangeNotAllowed", "networkProfile.networkPluginMode")
    node_subnet = _created({"networkPlugin": "azure"})
    assert _update(node_subnet, {"networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "192.168.0.0/16"}) is None
    kubenet = _created({"networkPlugin": "kubenet"})
    assert _update(kubenet, {"networkPlugin": "azure", "networkPluginMode": "overlay"}) is None


def test_ipam_migration_and_dataplane_change_need_separate_requests():
    kubenet = _created({"networkPlugin": "kubenet"})
    both = {"networkPlugin": "azure", "networkPluginMode": "overlay", "networkDataplane": "cilium", "networkPolicy": "cilium"}
    assert _update(kubenet, both) == ("BadRequest", "networkProfile.networkDataplane")
    overlay = _created({"networkPlugin": "azure", "networkPluginMode": "overlay"})
    assert _update(overlay, {"networkDataplane": "cilium", "networkPolicy": "cilium"}) is None


def test_policy_engines_switch_only_through_none():
    calico = _created({"networkPlugin": "azure", "networkPluginMode": "overlay", "networkPolicy": "calico"})
    assert _update(calico, {"networkPolicy": "azure"}) == ("BadRequest", "networkProfile.networkPolicy")
    assert _update(calico, {"networkPolicy": "none"}) is None


def test_overlay_pod_cidr_can_only_grow_to_a_superset():
    overlay = _created({"networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "192.168.0.0/17"})
    assert _update(overlay, {"podCidr": "192.168.0.0/16"}) is None
    assert _update(overlay, {"podCidr": "192.168.128.0/17"}) == ("PropertyChangeNotAllowed", "networkProfile.podCidr")


UPDATES = [
    # (created with, pool, update) -- the simulator and the collection's preflight must agree on each
    ({"networkPlugin": "azure", "networkPluginMode": "overlay"}, None, {"outboundType": "userDefinedRouting"}),
    ({"networkPlugin": "azure", "networkPluginMode": "overlay"}, None, {"outboundType": "managedNATGateway"}),
    ({"networkPlugin": "azure"}, {"podSubnetID": PODS}, {"networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "192.168.0.0/16"}),
    ({"networkPlugin": "azure"}, None, {"networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "192.168.0.0/16"}),
    ({"networkPlugin": "kubenet"}, None, {"networkPlugin": "azure", "networkPluginMode": "overlay"}),
    ({"networkPlugin": "kubenet"}, None, {"networkPlugin": "azure", "networkPluginMode": "overlay", "networkDataplane": "cilium", "networkPolicy": "cilium"}),
    ({"networkPlugin": "azure", "networkPluginMode": "overlay"}, None, {"networkDataplane": "cilium", "networkPolicy": "cilium"}),
    ({"networkPlugin": "azure", "networkPluginMode": "overlay", "networkPolicy": "calico"}, None, {"networkPolicy": "azure"}),
    ({"networkPlugin": "azure", "networkPluginMode": "overlay"}, None, {"serviceCidr": "10.50.0.0/16", "dnsServiceIP": "10.50.0.10"}),
    ({"networkPlugin": "azure", "networkPluginMode": "overlay"}, None, {"networkPlugin": "kubenet"}),
    ({"networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "192.168.0.0/17"}, None, {"podCidr": "192.168.0.0/16"}),
]


@pytest.mark.parametrize(("network", "pool", "update"), UPDATES)
def test_simulator_and_preflight_agree_on_updates(network, pool, update):
    from ansible_collections.aksnet.networking.plugins.module_utils._aks.validation import immutable_changes

    stored = _created(network, pool)
    simulator_refuses = _update(stored, update) is not None
    preflight_refuses = bool(immutable_changes({"location": "westeurope", "properties": copy.deepcopy(stored)}, {"properties": {"networkProfile": update}}))
    assert simulator_refuses == preflight_refuses

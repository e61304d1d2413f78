# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IP planning filters, starting with Microsoft's worked example."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aksnet.networking.plugins.filter.ip_plan import FilterModule, cni_preset, ip_plan, subnet_capacity


def test_microsoft_worked_example_50_nodes_is_a_slash_21():
    # concepts-network-ip-address-planning.md: (51) + (51 * 30) = 1,581 -> /21 or larger
    plan = ip_plan(50, max_surge=1, max_pods=30, plugin="azure")
    assert plan["addresses_needed"] == 1581
    assert plan["prefix_length"] == 21
    assert plan["formula"] == "(50 + 1) x (30 + 1) = 1,581"
    assert plan["subnet_size"] == 2048
    assert plan["usable_addresses"] == 2043
    assert plan["spare_addresses"] == 462
    assert plan["ipam_mode"] == "node_subnet"


def test_microsoft_second_example_scale_to_60_nodes():
    # Same article: 50 nodes + 10 to scale + 1 surge -> (61) + (61 * 30) = 1,891 -> /21
    plan = ip_plan(60, max_surge=1, max_pods=30)
    assert plan["addresses_needed"] == 1891
    assert plan["prefix_length"] == 21


def test_the_five_reserved_addresses_push_to_the_next_prefix():
    # 8 nodes at 30 pods need 248 addresses: a /24 has 251 usable; 8 nodes + 1 surge (279) need a /23.
    assert ip_plan(7, max_pods=30)["prefix_length"] == 24
    assert ip_plan(8, max_pods=30)["prefix_length"] == 23
    # exactly at the boundary: 251 needed fits a /24 (256 - 5), 252 does not
    assert ip_plan(250, max_surge=1, plugin="kubenet", max_pods=110)["prefix_length"] == 24
    assert ip_plan(251, max_surge=1, plugin="kubenet", max_pods=110)["prefix_length"] == 23


@pytest.mark.parametrize(
    ("plugin", "mode", "needed", "prefix", "pod_prefix"),
    [
        ("azure", "overlay", 51, 26, 18),
        ("kubenet", None, 51, 26, 18),
        ("none", None, 51, 26, None),
    ],
)
def test_overlay_and_kubenet_only_nodes_take_subnet_addresses(plugin, mode, needed, prefix, pod_prefix):
    plan = ip_plan(50, max_surge=1, max_pods=250 if mode else 110, plugin=plugin, plugin_mode=mode)
    assert plan["addresses_needed"] == needed
    assert plan["prefix_length"] == prefix
    assert plan["pod_cidr_prefix_length"] == pod_prefix


def test_smallest_subnet_is_a_slash_29():
    assert ip_plan(1, plugin="azure", plugin_mode="overlay")["prefix_length"] == 29


def test_pod_subnet_plan_counts_batches_of_16():
    plan = ip_plan(10, max_surge=1, max_pods=30, pod_subnet=True)
    assert plan["ipam_mode"] == "pod_subnet"
    assert plan["addresses_needed"] == 11
    assert plan["pod_subnet_addresses_needed"] == 11 * 32
    assert plan["pod_subnet_prefix_length"] == 23


def test_percentage_surge():
    plan = ip_plan(10, max_surge="33%", max_pods=30)
    assert plan["max_surge"] == 4
    assert plan["addresses_needed"] == 14 * 31


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0,), {}, "nodes must be 1 or more"),
        (("many",), {}, "nodes must be a whole number"),
        ((2.5,), {}, "nodes must be a whole number"),
        ((3,), {"max_pods": 300}, "max_pods 300 is outside 10-250"),
        ((3,), {"plugin": "flannel"}, "plugin 'flannel' is not one of azure, kubenet, none"),
        ((3,), {"plugin": "kubenet", "plugin_mode": "overlay"}, "plugin_mode overlay needs plugin azure"),
        ((3,), {"max_surge": "lots"}, "max_surge must be a number of nodes or a percentage"),
    ],
)
def test_bad_input_is_explained(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        ip_plan(*args, **kwargs)


def test_subnet_capacity():
    cap = subnet_capacity("10.240.0.0/24", max_pods=30)
    assert cap["usable_addresses"] == 251
    assert cap["first_usable"] == "10.240.0.4"
    assert cap["last_usable"] == "10.240.0.254"
    assert cap["addresses_per_node"] == 31
    assert cap["max_nodes"] == 7
    assert subnet_capacity("10.240.0.0/24", plugin="azure", plugin_mode="overlay")["max_nodes"] == 250
    with pytest.raises(AnsibleFilterError, match="host bits are set"):
        subnet_capacity("10.240.0.1/24")


def test_cni_preset_filter_and_filter_module():
    preset = cni_preset("cilium", network={"pod_cidr": "100.64.0.0/16"})
    assert preset["network"]["dataplane"] == "cilium"
    assert preset["network"]["pod_cidr"] == "100.64.0.0/16"
    assert preset["system_pool"] == {"max_pods": 250}
    with pytest.raises(AnsibleFilterError, match="unknown preset"):
        cni_preset("flannel")
    assert set(FilterModule().filters()) == {"ip_plan", "subnet_capacity", "cni_preset"}


def test_overlay_plan_formula_is_arithmetic_and_the_basis_a_phrase():
    # the role's message reads "needs {formula} addresses ({basis})": no parenthesis inside the formula
    plan = ip_plan(3, max_surge=1, max_pods=250, plugin="azure", plugin_mode="overlay")
    assert plan["formula"] == "3 + 1 = 4"
    assert "pods do not take node subnet addresses" in plan["basis"]
    assert "one per pod" in ip_plan(3, max_pods=30)["basis"]

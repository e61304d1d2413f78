# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Allow or deny: the apply order of the network_policies role."""

from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._netpol.effect import apply_phase, policy_effect


def np(spec):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "n"}, "spec": spec}


def cnp(spec):
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "p", "namespace": "n"}, "spec": spec}


@pytest.mark.parametrize(
    "manifest, effect",
    [
        (np({"podSelector": {}, "policyTypes": ["Ingress"]}), "deny"),
        (np({"podSelector": {}}), "deny"),
        (np({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]}), "allow"),
        (np({"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{"from": [{"podSelector": {}}]}]}), "deny"),
        (cnp({"endpointSelector": {}, "ingress": [{}]}), "deny"),
        (cnp({"endpointSelector": {}, "egressDeny": [{"toEntities": ["world"]}]}), "deny"),
        (cnp({"endpointSelector": {}, "ingress": [{"fromEndpoints": [{}]}]}), "allow"),
        (None, "allow"),
    ],
)
def test_policy_effect_from_the_manifest(manifest, effect):
    assert policy_effect(manifest) == effect


def test_intents_win_default_deny_with_dns_is_still_a_deny():
    manifest = np({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]})
    assert policy_effect(manifest) == "allow"
    assert policy_effect(manifest, {"default_deny": ["egress"]}) == "deny"


def test_loosening_goes_first():
    assert apply_phase("allow", "present") == 0
    assert apply_phase("deny", "absent") == 0
    assert apply_phase("deny", "present") == 1
    assert apply_phase("allow", "absent") == 1

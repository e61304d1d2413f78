# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a policy allows or denies: the order in which the network_policies role applies a run.

A run is applied allow policies first and deny policies last, so that a fault halfway leaves the
selected pods with their allow rules but without the lock-down, never the other way round. A
policy counts as ``deny`` when it was asked for with ``default_deny`` or ``deny_world_egress``, or
when its manifest has a direction without any allow rule (NetworkPolicy: a policyType whose rule
list is empty; Cilium: an empty rule ``{}`` only, or ``ingressDeny`` / ``egressDeny`` rules).
Pure; no imports.
"""

from __future__ import annotations

CILIUM_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")


def _cilium_spec_denies(spec):
    if not isinstance(spec, dict):
        return False
    if spec.get("ingressDeny") or spec.get("egressDeny"):
        return True
    for direction in ("ingress", "egress"):
        rules = spec.get(direction)
        if isinstance(rules, list) and rules and all(rule in ({}, None) for rule in rules):
            return True
    return False


def _network_policy_denies(spec):
    if not isinstance(spec, dict):
        return False
    types = spec.get("policyTypes")
    if not types:
        types = ["Ingress"] + (["Egress"] if "egress" in spec else [])
    return any(not (spec.get(t.lower()) or []) for t in types if isinstance(t, str))


def policy_effect(manifest, intents=None):
    """``"deny"`` or ``"allow"`` for a policy manifest (None or without spec: ``"allow"``).

    ``intents``: the module options (``default_deny``, ``deny_world_egress``) when the manifest was
    built from them."""
    intents = intents or {}
    if intents.get("default_deny") or intents.get("deny_world_egress"):
        return "deny"
    if not isinstance(manifest, dict):
        return "allow"
    if manifest.get("kind") in CILIUM_KINDS:
        specs = [manifest.get("spec"), *(manifest.get("specs") or [])]
        return "deny" if any(_cilium_spec_denies(s) for s in specs) else "allow"
    return "deny" if _network_policy_denies(manifest.get("spec")) else "allow"


def apply_phase(effect, state):
    """0 for what loosens (a present allow, an absent deny), 1 for what tightens (a present deny, an
    absent allow): the role applies phase 0 before phase 1."""
    loosens = (effect == "allow") == (state != "absent")
    return 0 if loosens else 1

"""The Cilium CRDs the real back end installs must be structural, as kube-apiserver requires (issue 14)."""

from __future__ import annotations

from tests.lab import kube_schema
from tests.lab.real_kube import structural

FORBIDDEN_IN_ALTERNATIVES = {"type", "default", "description", "nullable", "x-kubernetes-preserve-unknown-fields",
                             "x-kubernetes-int-or-string", "additionalProperties"}


def _alternatives(schema, inside=False):
    """Every schema node, with whether it sits in a oneOf/anyOf alternative."""
    yield schema, inside
    for key in ("properties",):
        for child in (schema.get(key) or {}).values():
            yield from _alternatives(child, inside)
    if isinstance(schema.get("items"), dict):
        yield from _alternatives(schema["items"], inside)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _alternatives(schema["additionalProperties"], inside)
    for key in ("oneOf", "anyOf"):
        for child in schema.get(key) or []:
            yield from _alternatives(child, True)


def test_cilium_schema_alternatives_carry_value_checks_only():
    converted = structural(kube_schema.CILIUM_POLICY_SCHEMA)
    nodes = list(_alternatives(converted))
    inside = [node for node, alt in nodes if alt]
    assert inside, "the Cilium schema has oneOf alternatives (selectors, CIDR sets, L7 rules)"
    for node in inside:
        # kube-apiserver: "x-kubernetes-preserve-unknown-fields: Forbidden: must be false to be structural"
        assert not FORBIDDEN_IN_ALTERNATIVES & set(node), node
    assert any(node.get("required") for node in inside)  # the alternatives still require their key
    for node, alt in nodes:
        if not alt:
            assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields") or node.get("x-kubernetes-int-or-string"), node

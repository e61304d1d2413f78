# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aks inventory plugin's filters and host naming."""

from __future__ import annotations

import pytest

from ansible_collections.aksnet.networking.plugins.inventory.aks import host_names, name_matcher, select


def facts(name, rg="rg", sub="s1", tags=None):
    return {"name": name, "resource_group": rg, "subscription_id": sub, "tags": dict(tags or {})}


def test_glob_and_regex_patterns():
    assert name_matcher("prod-*")("prod-1") and not name_matcher("prod-*")("dev-1")
    assert name_matcher("re:prod-[0-9]+")("prod-12") and not name_matcher("re:prod-[0-9]+")("prod-12x")  # whole name
    assert name_matcher(None)("anything")
    with pytest.raises(ValueError, match="name_pattern 're:\\(' is not a valid regular expression"):
        name_matcher("re:(")


def test_select_filters_groups_tags_and_names():
    clusters = [facts("a", "RG-1", tags={"env": "prod", "team": "x"}), facts("b", "rg-2", tags={"env": "prod"}), facts("c", "rg-1")]
    assert [c["name"] for c in select(clusters, resource_groups=["rg-1"])] == ["a", "c"]
    assert [c["name"] for c in select(clusters, tags={"env": "prod", "team": "x"})] == ["a"]
    assert [c["name"] for c in select(clusters, pattern="[bc]")] == ["b", "c"]
    assert select(clusters, tags={"env": "dev"}) == []


def test_host_names_are_plain_unless_they_collide():
    clusters = [facts("one"), facts("dup", "rg-a"), facts("dup", "rg-b"), facts("twin", "rg", "s1"), facts("twin", "rg", "s2")]
    assert host_names(clusters) == ["one", "rg-a/dup", "rg-b/dup", "s1/rg/twin", "s2/rg/twin"]

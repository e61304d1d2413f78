# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""collect() pauses the cyclic garbage collector while the pages arrive (each automatic collection would walk every
object decoded so far) and restores its state afterwards, also when the collection fails."""

from __future__ import annotations

import gc

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeApiError
from ansible_collections.aksnet.networking.plugins.module_utils._kube.collect import collect

KINDS = (("v1", "Pod", "pods", True, None, False), ("v1", "Service", "services", True, None, False))


class _Client:
    def __init__(self, fail_on=None):
        self.gc_enabled_during = []
        self.fail_on = fail_on

    def list(self, api_version, plural, kind, namespace=None, page_size=500):
        self.gc_enabled_during.append(gc.isenabled())
        if plural == self.fail_on:
            raise KubeApiError("connection refused")
        return [{"apiVersion": api_version, "kind": kind, "metadata": {"name": f"{plural}-1", "namespace": "shop", "managedFields": []}}]


@pytest.fixture
def gc_enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_collector_paused_during_the_lists_and_enabled_after(gc_enabled):
    client = _Client()
    objects, skipped = collect(client, kinds=KINDS)
    assert client.gc_enabled_during == [False, False]
    assert gc.isenabled()
    assert [o["metadata"] for o in objects] == [{"name": "pods-1", "namespace": "shop"}, {"name": "services-1", "namespace": "shop"}]
    assert skipped == {}


def test_collector_enabled_again_when_the_collection_fails(gc_enabled):
    client = _Client(fail_on="services")
    with pytest.raises(KubeApiError):
        collect(client, kinds=KINDS)
    assert client.gc_enabled_during == [False, False]
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled():
    was = gc.isenabled()
    gc.disable()
    try:
        collect(_Client(), kinds=KINDS)
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()

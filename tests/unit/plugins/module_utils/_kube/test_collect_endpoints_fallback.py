# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""v1 Endpoints is read only in place of EndpointSlices: not at all when the EndpointSlices were read and hold
something (Endpoints is deprecated since Kubernetes 1.33, the API server warns on every read of it), and as
before when they could not be read (403) or came back empty."""

from __future__ import annotations

from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeApiError
from ansible_collections.aksnet.networking.plugins.module_utils._kube.collect import collect
from ansible_collections.aksnet.networking.plugins.module_utils._kube.kinds import DIAGNOSTIC_KINDS

SLICE = {"metadata": {"name": "web-abc", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}}, "endpoints": []}
ENDPOINTS = {"metadata": {"name": "web", "namespace": "shop"}, "subsets": []}


class _Client:
    def __init__(self, items, forbidden=()):
        self.items = items
        self.forbidden = set(forbidden)
        self.listed = []

    def list(self, api_version, plural, kind, namespace=None, page_size=500):
        self.listed.append((plural, namespace))
        if plural in self.forbidden:
            raise KubeApiError("forbidden", status=403)
        return [dict(i, kind=kind) for i in self.items.get(plural, [])]


def _plurals(client):
    return [plural for plural, _namespace in client.listed]


def test_endpoints_not_listed_when_endpointslices_were_read():
    client = _Client({"endpointslices": [SLICE], "endpoints": [ENDPOINTS]})
    objects, skipped = collect(client, kinds=DIAGNOSTIC_KINDS)
    assert "endpointslices" in _plurals(client) and "endpoints" not in _plurals(client)
    assert [o["kind"] for o in objects] == ["EndpointSlice"]
    assert "Endpoints" not in skipped  # not read is not "could not be read"


def test_endpoints_listed_when_endpointslices_are_forbidden_or_empty():
    forbidden = _Client({"endpoints": [ENDPOINTS]}, forbidden={"endpointslices"})
    objects, skipped = collect(forbidden, kinds=DIAGNOSTIC_KINDS)
    assert "endpoints" in _plurals(forbidden)
    assert [o["kind"] for o in objects] == ["Endpoints"] and "EndpointSlice" in skipped
    empty = _Client({"endpoints": [ENDPOINTS]})
    objects, _skipped = collect(empty, kinds=DIAGNOSTIC_KINDS)
    assert "endpoints" in _plurals(empty) and [o["kind"] for o in objects] == ["Endpoints"]


def test_endpointslices_of_any_asked_namespace_are_enough():
    client = _Client({"endpointslices": [SLICE]})
    collect(client, namespaces=["shop", "billing"], kinds=DIAGNOSTIC_KINDS)
    assert ("endpointslices", "shop") in client.listed and ("endpointslices", "billing") in client.listed
    assert "endpoints" not in _plurals(client)

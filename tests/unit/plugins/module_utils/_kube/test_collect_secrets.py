# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets are listed as metadata only, paginated, and only names and the TLS type are kept (13.11)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeClient
from ansible_collections.aksnet.networking.plugins.module_utils._kube.collect import (
    OTHER_SECRET_TYPE,
    PARTIAL_METADATA_ACCEPT,
    collect_secret_metadata,
)


class _Response:
    def __init__(self, payload):
        self.status = 200
        self.data = json.dumps(payload).encode()
        self.headers = {}


class _Http:
    def __init__(self, secrets):
        self.secrets = secrets
        self.calls = []

    def request(self, method, url, body=None, headers=None, timeout=None):
        self.calls.append((method, url, dict(headers)))
        query = parse_qs(urlparse(url).query)
        items = [s for s in self.secrets if "fieldSelector" not in query or query["fieldSelector"] == [f"type={s['type']}"]]
        start = int(query.get("continue", ["0"])[0])
        limit = int(query["limit"][0])
        page = items[start:start + limit]
        more = start + limit < len(items)
        # a server honouring the media type: metadata only (annotations included, which must not be kept)
        return _Response({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                          "metadata": {"continue": str(start + limit)} if more else {},
                          "items": [{"kind": "PartialObjectMetadata", "metadata": s["metadata"]} for s in page]})


def _Client(secrets):
    """A real KubeClient whose connection pool is the fake server above."""
    client = KubeClient({"host": "https://aks.example:443", "api_key": "t", "request_timeout": 5})
    client._http = _Http(secrets)
    return client


def test_secret_metadata_only():
    secrets = [{"metadata": {"namespace": "shop", "name": f"s{i}", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "DATA"}},
                "type": "kubernetes.io/tls" if i % 2 else "Opaque"} for i in range(5)]
    client = _Client(secrets)
    out = collect_secret_metadata(client, page_size=2)
    assert out == [{"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": "shop", "name": f"s{i}"},
                    "type": "kubernetes.io/tls" if i % 2 else OTHER_SECRET_TYPE} for i in range(5)]
    assert "DATA" not in json.dumps(out)
    calls = client._http.calls
    assert all(h["Accept"] == PARTIAL_METADATA_ACCEPT and h["Authorization"] == "Bearer t" for _m, _u, h in calls)
    assert all(urlparse(u).path == "/api/v1/secrets" for _m, u, _h in calls)
    assert len(calls) == client.request_count == 3 + 1  # 5 secrets in pages of 2, then 2 TLS ones in one page

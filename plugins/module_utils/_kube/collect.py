# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collect the diagnostics kinds from a live cluster: one paginated LIST per kind (per namespace when
the caller restricts namespaces), never per-object requests. Shared by ``snapshot`` and ``diagnose``."""

from __future__ import annotations

from .client import DEFAULT_PAGE_SIZE, KubeApiError
from .kinds import DIAGNOSTIC_KINDS

# Noise that makes snapshots large and diffs unstable, and is never read by the analyzers.
_DROP_METADATA = ("managedFields",)


def _clean(obj):
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for key in _DROP_METADATA:
            meta.pop(key, None)
    return obj


def _reason(exc: KubeApiError, kind: str, optional: bool) -> str:
    if exc.status == 403:
        return f"forbidden (403): {exc.server_message or 'the identity may not list ' + kind}. Grant RBAC list on this kind to include it."
    if exc.status == 404 and optional:
        return "not served by this cluster (404): its CRD is not installed; Cilium kinds exist only with Azure CNI powered by Cilium (networkDataplane cilium)."
    return str(exc)


def collect(client, namespaces=None, page_size: int = DEFAULT_PAGE_SIZE, kinds=DIAGNOSTIC_KINDS):
    """Return ``(objects, skipped)``: every object of the diagnostics kinds, and ``{kind: reason}``
    for kinds that could not be listed (403, CRD absent). Connection and authentication errors
    (401, refused, TLS) are raised: nothing can be collected then."""
    objects = []
    skipped = {}
    for api_version, kind, plural, namespaced, only_namespace, optional in kinds:
        if not namespaced:
            scopes = [None]
        elif only_namespace:
            # kube-system workloads are read even when other namespaces are asked for: the DNS and
            # data-plane checks need them.
            scopes = [only_namespace]
        else:
            scopes = list(namespaces) if namespaces else [None]
        for namespace in scopes:
            try:
                items = client.list(api_version, plural, kind, namespace=namespace, page_size=page_size)
            except KubeApiError as exc:
                if exc.status in (403, 404):
                    skipped[kind] = _reason(exc, kind, optional)
                    break
                raise
            objects.extend(_clean(item) for item in items)
    return objects, skipped

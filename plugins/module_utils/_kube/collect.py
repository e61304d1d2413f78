# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collect the diagnostics kinds from a live cluster: one paginated LIST per kind (per namespace when
the caller restricts namespaces), never per-object requests. Shared by ``snapshot`` and ``diagnose``."""

from __future__ import annotations

from .._common.memory import gc_paused
from .client import DEFAULT_PAGE_SIZE, KubeApiError, api_path
from .kinds import DIAGNOSTIC_KINDS, FALLBACK_FOR

# Secrets are listed as metadata only: the API server answers this media type with a
# PartialObjectMetadataList (apiVersion meta.k8s.io/v1), whose items hold metadata and never data.
# PartialObjectMetadata has no ``type``, so the kubernetes.io/tls Secrets are a second metadata LIST
# with the field selector ``type=kubernetes.io/tls`` (Secrets support that field).
PARTIAL_METADATA_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
TLS_SECRET_TYPE = "kubernetes.io/tls"
OTHER_SECRET_TYPE = "other (not kubernetes.io/tls)"

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


def _list_metadata(client, plural, namespace, field_selector, page_size):
    """``(namespace, name)`` of every object of a core/v1 kind, as PartialObjectMetadata: one paginated LIST.

    The request asks for the metadata media type; it is retried like every request of the client.
    """
    path = api_path("v1", plural, namespace)
    names = []
    token = None
    while True:
        query = {"limit": page_size, "continue": token, "fieldSelector": field_selector}
        page = client.request("GET", path, query=query, accept=PARTIAL_METADATA_ACCEPT)
        for item in page.get("items") or []:  # only the names are kept, whatever the server sent
            meta = item.get("metadata") or {}
            names.append((meta.get("namespace"), meta.get("name")))
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return names


def collect_secret_metadata(client, namespaces=None, page_size: int = DEFAULT_PAGE_SIZE):
    """Secrets as ``{kind: Secret, metadata: {namespace, name}, type}`` and never their data, annotations or labels.

    Two metadata-only LISTs per scope: every Secret, and the kubernetes.io/tls ones (field selector);
    a Secret of the first but not the second gets type ``OTHER_SECRET_TYPE``.
    """
    out = []
    for namespace in (list(namespaces) if namespaces else [None]):
        every = _list_metadata(client, "secrets", namespace, None, page_size)
        tls = set(_list_metadata(client, "secrets", namespace, f"type={TLS_SECRET_TYPE}", page_size))
        for ns, name in every:
            out.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": ns, "name": name},
                        "type": TLS_SECRET_TYPE if (ns, name) in tls else OTHER_SECRET_TYPE})
    return out


def collect(client, namespaces=None, page_size: int = DEFAULT_PAGE_SIZE, kinds=DIAGNOSTIC_KINDS, secrets=False):
    """Return ``(objects, skipped)``: every object of the diagnostics kinds, and ``{kind: reason}``
    for kinds that could not be listed (403, CRD absent). Connection and authentication errors
    (401, refused, TLS) are raised: nothing can be collected then."""
    with gc_paused():
        return _collect(client, namespaces, page_size, kinds, secrets)


def _collect(client, namespaces, page_size, kinds, secrets):
    objects = []
    skipped = {}
    counts = {}
    for api_version, kind, plural, namespaced, only_namespace, optional in kinds:
        preferred = FALLBACK_FOR.get(kind)
        if preferred and counts.get(preferred):
            continue  # the preferred kind was read and holds the same data
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
            counts[kind] = counts.get(kind, 0) + len(items)
    if secrets:
        try:
            objects.extend(collect_secret_metadata(client, namespaces, page_size))
        except KubeApiError as exc:
            if exc.status not in (403, 404):
                raise
            skipped["Secret"] = _reason(exc, "Secret", False)
    return objects, skipped

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and write the snapshot format (DESIGN.md, "Snapshot format"). Pure: files only, no SDK.

A snapshot is YAML or JSON: a ``kind: List`` (what ``kubectl get ... -o yaml`` prints), separate
documents, or a mix; an optional top-level document ``kind: AzureNetworkFacts`` carries Azure facts.
"""

from __future__ import annotations

import json
import os
import re

# galaxy.yml's version (a unit test keeps them equal): recorded in every snapshot's SnapshotInfo.
from .._common.version import COLLECTION_VERSION  # noqa: F401  pylint: disable=unused-import

_DOC_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)

AZURE_FACTS_KIND = "AzureNetworkFacts"
AZURE_FACTS_API_VERSION = "aksnet.networking/v1"
SNAPSHOT_META_KIND = "SnapshotInfo"

# file name ending -> format the snapshot module writes
FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


_SPECIAL_KINDS = frozenset((AZURE_FACTS_KIND, SNAPSHOT_META_KIND, "List"))


class SnapshotError(Exception):
    """The snapshot file cannot be read; the message says why and what to do."""


def _yaml_loader():
    import yaml  # PyYAML is a dependency of ansible-core

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader), yaml


def _documents(text: str, path: str) -> list:
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        # Fast path: one JSON document (what the snapshot module writes for .json), or JSON
        # documents separated by YAML's "---" lines (older snapshots). Anything else: YAML.
        try:
            doc = json.loads(text)
        except ValueError:
            pass
        else:
            return doc if isinstance(doc, list) else [doc]
        try:
            docs = [json.loads(part) for part in _DOC_SEPARATOR.split(text) if part.strip()]
        except ValueError:
            pass
        else:
            return [d for doc in docs for d in (doc if isinstance(doc, list) else [doc])]
    loader, yaml = _yaml_loader()
    try:
        return [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]
    except yaml.YAMLError as exc:
        raise SnapshotError(f"snapshot {path} is not valid YAML or JSON: {exc}. Write it with the snapshot module or kubectl get -o yaml.") from None


def _flatten(doc, objects: list, azure: list, meta: list) -> None:
    if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        # the common case, without a call per item: plain objects are appended as they are
        append = objects.append
        for item in doc["items"]:
            if isinstance(item, dict) and isinstance(item.get("kind"), str) and item["kind"] not in _SPECIAL_KINDS and "items" not in item:
                append(item)
            else:
                _flatten(item, objects, azure, meta)
        return
    if isinstance(doc, list):
        for item in doc:
            _flatten(item, objects, azure, meta)
        return
    if not isinstance(doc, dict):
        raise SnapshotError(f"snapshot documents must be mappings with a kind, found {type(doc).__name__}")
    kind = doc.get("kind")
    if kind == AZURE_FACTS_KIND:
        azure.append(doc)
    elif kind == SNAPSHOT_META_KIND:
        meta.append(doc)
    elif kind == "List" or (isinstance(kind, str) and kind.endswith("List") and "items" in doc):
        list_kind = kind[:-4] if kind != "List" else None
        for item in doc.get("items") or []:
            if list_kind and isinstance(item, dict) and "kind" not in item:
                item = dict(item, kind=list_kind, apiVersion=doc.get("apiVersion"))
            _flatten(item, objects, azure, meta)
    elif kind:
        objects.append(doc)
    else:
        raise SnapshotError("a snapshot document has no kind: each object needs apiVersion and kind")


def load_snapshot(path: str) -> dict:
    """Return ``{objects: [...], azure: {...} or None, info: {...}}`` from a snapshot file."""
    if not os.path.exists(path):
        raise SnapshotError(f"snapshot file {path} does not exist: pass the path the snapshot module wrote (option dest).")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise SnapshotError(f"cannot read snapshot {path}: {exc.strerror}") from None
    objects: list = []
    azure: list = []
    meta: list = []
    for doc in _documents(text, path):
        _flatten(doc, objects, azure, meta)
    if not any(isinstance(o, dict) and o.get("kind") in ("Pod", "Namespace") for o in objects):
        found = sorted({str(o.get("kind")) for o in objects if isinstance(o, dict)})
        raise SnapshotError(
            f"snapshot {path} is not a cluster snapshot: it holds no Pods and no Namespaces"
            + (f" (only {', '.join(found[:6])})" if found else " (no objects at all)")
            + ". Capture one with the snapshot module, or kubectl get namespaces,pods,services,... -A -o yaml.")
    facts = None
    if azure:
        facts = {k: v for k, v in azure[-1].items() if k not in ("kind", "apiVersion")}
    info = {k: v for k, v in meta[-1].items() if k not in ("kind", "apiVersion")} if meta else {}
    return {"objects": objects, "azure": facts, "info": info}


def snapshot_info(info: dict | None) -> dict:
    """The SnapshotInfo contract fields of a loaded snapshot's ``info`` (older snapshots: defaults).

    ``{redacted, captured_at, collection_version, cluster: {server, context}}``. Snapshots written
    before SnapshotInfo carried these (``taken_at``, ``server`` at the top) or by kubectl (no
    SnapshotInfo at all: not known to be redacted) still give every field, None when unknown.
    """
    info = info or {}
    cluster = info.get("cluster") if isinstance(info.get("cluster"), dict) else {}
    return {
        "redacted": bool(info.get("redacted", False)),
        "captured_at": info.get("captured_at") or info.get("taken_at"),
        "collection_version": info.get("collection_version"),
        "cluster": {"server": cluster.get("server") or info.get("server"), "context": cluster.get("context")},
    }


def snapshot_format(path: str) -> str:
    """``json`` or ``yaml`` from the file name; SnapshotError for any other ending."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise SnapshotError(f"dest {path!r}: the snapshot format follows the file name, and {ext or 'no extension'!r} is not one it writes; "
                            "name the file .json (a JSON kind: List) or .yaml / .yml (YAML documents).")
    return FORMATS[ext]


def render_snapshot(objects: list, azure_facts: dict | None = None, info: dict | None = None, fmt: str = "json") -> str:
    """The snapshot file's text in ``fmt``.

    ``json``: one JSON ``kind: List`` whose items are the Kubernetes objects followed by the
    ``SnapshotInfo`` (when, from where, redacted or not, skipped kinds) and ``AzureNetworkFacts``
    documents. ``yaml``: YAML documents, the ``kind: List`` of objects first, then those two.
    """
    extra = []
    if info:
        extra.append(dict({"apiVersion": AZURE_FACTS_API_VERSION, "kind": SNAPSHOT_META_KIND}, **info))
    if azure_facts:
        extra.append(dict({"apiVersion": AZURE_FACTS_API_VERSION, "kind": AZURE_FACTS_KIND}, **azure_facts))
    if fmt == "json":
        return json.dumps({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": [*objects, *extra]}, sort_keys=True) + "\n"
    if fmt != "yaml":
        raise ValueError(f"snapshot format {fmt!r}: json or yaml")
    import yaml  # pylint: disable=import-outside-toplevel

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    docs = [{"apiVersion": "v1", "kind": "List", "metadata": {}, "items": list(objects)}, *extra]
    return yaml.dump_all(docs, Dumper=dumper, sort_keys=True, default_flow_style=False, explicit_start=True)

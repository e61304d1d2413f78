"""The lab's Kubernetes API emulator: a kmock ``KubernetesEmulator`` that answers like a kube-apiserver.

kmock 0.8 brings the request parsing, the bundled API discovery documents (``/api``, ``/apis``,
``/apis/GROUP/VERSION``) and the aiohttp handler protocol. On top of it this module adds what real
clients rely on and kmock lacks (see TOOLCHAIN-NOTES.md): bearer-token authentication over HTTPS,
cluster-scoped Namespaces, an object store with server-filled metadata, label and field
selectors, pagination, replace, the three patch types plus server-side apply, dry runs
(``dryRun=All`` on every write, marked ``dry_run`` in the request log), the decoder's checks
against the OpenAPI schema of the emulated version (400 for wrong types; unknown fields dropped
per ``fieldValidation``, with ``Warning`` headers by default), the apiserver's validation for
the kinds the collection writes, CRD schemas (Cilium's policies), RBAC-like 403s on demand,
CRDs at run time, a basic watch, and small controllers (Endpoints and EndpointSlices from
Services and Pods, Deployments via ReplicaSets, DaemonSets, a kubelet that makes new Pods Ready
after ``ready_delay`` seconds).

Usage (tests, the benchmark, the demo)::

    emu = KubeEmulator(token="secret")
    url = emu.start(certs["cert"], certs["key"])   # https://127.0.0.1:PORT, own thread and loop
    ...                                             # any synchronous client, from any other thread
    emu.stop()

Lab routes without authentication: ``GET /_lab/requests``, ``GET /_lab/objects``,
``POST /_lab/reset``, ``POST /_lab/objects``, ``POST /_lab/forbid``, ``POST /_lab/crds``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import datetime
import hashlib
import ipaddress
import json
import random
import re
import ssl
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp.test_utils
import aiohttp.web
import attrs
import kmock
import multidict
import yaml
from kmock._internal import rendering

from tests.lab import kube_defaults, kube_exec, kube_schema
from tests.lab.kube_faults import KubeFaults
from tests.lab.kube_ops import (
    ApiError,
    Cause,
    already_exists,
    apply_conflict_error,
    apply_conflicts,
    apply_leaves,
    bad_request,
    cannot_decode,
    cause_required,
    check_write_options,
    conflict,
    fields_match,
    forbidden,
    invalid,
    json_patch,
    labels_match,
    merge_patch,
    method_not_allowed,
    not_found,
    parse_field_selector,
    parse_label_selector,
    resource_not_found,
    strategic_merge_patch,
    strict_decoding,
    unauthorized,
    unsupported_media_type,
    validate,
)

LAB_USER = "lab-user"
_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
_SLICE_CONTROLLER = "endpointslice-controller.k8s.io"
_SERVICE_NAME_LABEL = "kubernetes.io/service-name"
_PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")
_GENERATION_KINDS = {
    ("apps", "Deployment"), ("apps", "DaemonSet"), ("apps", "ReplicaSet"), ("apps", "StatefulSet"),
    ("batch", "Job"), ("batch", "CronJob"), ("networking.k8s.io", "NetworkPolicy"), ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "IngressClass"), ("policy", "PodDisruptionBudget"), ("autoscaling", "HorizontalPodAutoscaler"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
}
# Cilium's policy CRDs, for register_cilium_crds().
CILIUM_CRDS = (
    ("cilium.io", "v2", "CiliumNetworkPolicy", "ciliumnetworkpolicies", True),
    ("cilium.io", "v2", "CiliumClusterwideNetworkPolicy", "ciliumclusterwidenetworkpolicies", False),
)
LOG_ANNOTATION = "lab.aksnet.io/logs"
_SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "finalize": ["update"],
    "eviction": ["create"],
    "binding": ["create"],
    "token": ["create"],
    "approval": ["get", "patch", "update"],
    "ephemeralcontainers": ["get", "patch", "update"],
    "resize": ["get", "patch", "update"],
    "exec": ["create", "get"],
    "attach": ["create", "get"],
    "portforward": ["create", "get"],
    "proxy": ["create", "delete", "get", "patch", "update"],
    "log": ["get"],
}


def _now() -> str:
    return datetime.datetime.now(tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _version_rank(version: str) -> tuple[int, int, int]:
    """Kubernetes version priority: GA > beta > alpha, then the higher number first."""
    match = re.match(r"^v(\d+)(alpha|beta)?(\d*)$", version)
    if not match:
        return (-1, 0, 0)
    stage = {"alpha": 0, "beta": 1, None: 2}[match.group(2)]
    return (stage, int(match.group(1)), int(match.group(3) or 0))


def template_hash(template: Any) -> str:
    """A stable 10-character hash of a pod template, like ``pod-template-hash``."""
    digest = int.from_bytes(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()[:8], "big")
    chars = []
    for _ in range(10):
        digest, index = divmod(digest, len(_HASH_ALPHABET))
        chars.append(_HASH_ALPHABET[index])
    return "".join(chars)


def flatten_objects(objects: Any) -> list[dict[str, Any]]:
    """Objects from a list, a ``kind: List`` (nested too) or one object."""
    if objects is None:
        return []
    if isinstance(objects, dict):
        if objects.get("kind") == "List" or (objects.get("kind", "").endswith("List") and "items" in objects):
            return flatten_objects(objects.get("items") or [])
        return [objects]
    result: list[dict[str, Any]] = []
    for item in objects:
        result += flatten_objects(item)
    return result


@attrs.define(kw_only=True)
class LabKubernetesEmulator(kmock.KubernetesEmulator):
    """kmock's emulator with the request handling replaced by the lab's (``KubeEmulator``).

    kmock keeps parsing requests and serving API discovery; resource paths, authentication and
    the lab routes go to ``lab``.
    """

    lab: Any = None

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        body = await raw_request.read()
        try:
            request = await rendering.Request._parse(raw_request, id=len(self._requests))
        except ValueError:
            # kmock reads /api/v1/namespaces as a namespace prefix and fails on the bare collection path;
            # this emulator parses resource paths itself, so keep the HTTP facts only.
            request = rendering.Request(id=len(self._requests), raw_request=raw_request, url=raw_request.url, method=raw_request.method,
                                        params=dict(raw_request.query), headers=dict(raw_request.headers), body=body,
                                        text=body.decode("utf-8", "replace"))
        self._requests.append(request)
        try:
            return await self._handle(request)
        except Exception as exc:  # the client gets a Status 500 with the traceback, as kmock does
            return await self._render_error(exc)

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        return await self.lab._serve(request)

    async def _serve_apis(self, request: rendering.Request) -> rendering.Payload:
        document: dict[str, Any] = await super()._serve_apis(request)  # type: ignore[assignment]
        for group in document["groups"]:
            self._order_versions(group)
        document["groups"].sort(key=lambda g: g["name"])
        return document

    async def _serve_group(self, request: rendering.Request) -> rendering.Payload:
        document: dict[str, Any] = await super()._serve_group(request)  # type: ignore[assignment]
        self._order_versions(document)
        return document

    async def _serve_version(self, request: rendering.Request) -> rendering.Payload:
        document: dict[str, Any] = await super()._serve_version(request)  # type: ignore[assignment]
        document["groupVersion"] = document["groupVersion"].lstrip("/")  # kmock says "/v1" for the core group
        for resource in document["resources"]:
            if "/" in resource["name"]:  # subresources: no names of their own to match, fewer verbs
                sub = resource["name"].split("/", 1)[1]
                resource.update({"singularName": "", "shortNames": [], "categories": []})
                resource["verbs"] = _SUBRESOURCE_VERBS.get(sub, ["get"])
            else:
                resource["verbs"] = sorted(resource["verbs"])
        document["resources"].sort(key=lambda r: r["name"])
        return document

    async def _serve_server_version(self, request: rendering.Request) -> rendering.Payload:
        version = kube_defaults.KUBERNETES_VERSION
        major, minor, _ = version.lstrip("v").split(".")
        return {
            "major": major,
            "minor": minor,
            "gitVersion": version,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": "go1.23.10",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    @staticmethod
    def _order_versions(group: dict[str, Any]) -> None:
        group["versions"].sort(key=lambda v: _version_rank(v["version"]), reverse=True)
        group["preferredVersion"] = dict(group["versions"][0])


class _Route:
    """A parsed resource path."""

    def __init__(self, group: str, version: str, plural: str, namespace: str | None, name: str | None, sub: str | None) -> None:
        self.group = group
        self.version = version
        self.plural = plural
        self.namespace = namespace
        self.name = name
        self.sub = sub


def _parse_path(path: str) -> tuple[str, str, _Route | None] | None:
    """(group, version, route) for /api and /apis paths; route is None for discovery paths."""
    parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
    if not parts or parts[0] not in ("api", "apis"):
        return None
    if parts[0] == "api":
        if len(parts) < 2:
            return None
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 2:
            return None
        group, version, rest = parts[1], (parts[2] if len(parts) > 2 else ""), parts[3:]
    if not rest:
        return group, version, None
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
        namespace, rest = rest[1], rest[2:]
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    sub = "/".join(rest[2:]) or None
    return group, version, _Route(group, version, plural, namespace, name, sub)


class KubeEmulator:
    """A Kubernetes API server for the lab, on loopback over HTTPS, in its own thread."""

    def __init__(self, *, token: str, ready_delay: float = 0.5, user: str = LAB_USER,
                 defaults: Callable[[], list[dict[str, Any]]] | None = None, seed: int = 1337) -> None:
        self.token = token
        self.ready_delay = ready_delay
        self.user = user
        self.url: str | None = None
        self.lb_hook: Callable[[dict[str, Any]], list[dict[str, Any]] | None] | None = None
        # called with a deleted LoadBalancer Service (the cloud provider removes its frontend and rules)
        self.lb_delete_hook: Callable[[dict[str, Any]], None] | None = None
        # called with a written Ingress; returns its status.loadBalancer.ingress (the ingress controller's address) or None
        self.ingress_hook: Callable[[dict[str, Any]], list[dict[str, Any]] | None] | None = None
        self._defaults = defaults or kube_defaults.default_objects
        self._seed = seed
        self._lock = threading.RLock()
        self._store: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]] = {}
        # server-side apply: object uid -> field manager -> {field path: applied value} (tests/lab/kube_ops.apply_leaves)
        self._apply_owners: dict[str, dict[str, dict[tuple[str, ...], Any]]] = {}
        self._rv = 0
        self._epoch = 0
        self._requests: list[dict[str, Any]] = []
        self._forbidden: list[tuple[str, str, str | None, str | None]] = []
        self.faults = KubeFaults()  # POST /_lab/faults (tests/lab/kube_faults.py)
        self._watchers: list[dict[str, Any]] = []
        self._rng = random.Random(seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop_event: asyncio.Event | None = None
        self._handler = LabKubernetesEmulator(lab=self)
        self._crds: set[tuple[str, str, str]] = set()
        # per write request (set under the lock): the fieldValidation directive and the Warning headers to send
        self._field_validation = "Warn"
        self._warnings: list[str] = []
        self.dataplane: dict[str, Any] = {}
        self._handler.resources.load_bundled()
        self.reset()

    # ---------------------------------------------------------------------------------------
    # Life cycle

    def start(self, certfile: str, keyfile: str, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve HTTPS on ``host:port`` (0: a free port) from a daemon thread; returns the base URL."""
        if self._thread is not None:
            raise RuntimeError("the Kubernetes emulator is already running; call stop() first")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile, keyfile)
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self._main(context, host, port, ready))
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()

        self._thread = threading.Thread(target=run, name="lab-kube-emulator", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure or self.url is None:
            self._thread = None
            raise RuntimeError(f"the Kubernetes emulator did not start on {host}:{port}: {failure[0] if failure else 'timeout'}")
        return self.url

    async def _main(self, context: ssl.SSLContext, host: str, port: int, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        # aiohttp's raw test server (what kmock.Server wraps) with TLS; kmock.Server itself is not
        # used because it patches aiohttp's resolver process-wide, which breaks with servers in threads.
        server = aiohttp.test_utils.RawTestServer(self._handler, host=host, port=port or None)
        async with self._handler:
            await server.start_server(ssl=context)
            try:
                shown = f"[{host}]" if ":" in host else host
                self.url = f"https://{shown}:{server.port}"
                ready.set()
                await self._stop_event.wait()
            finally:
                with self._lock:
                    for watcher in self._watchers:
                        watcher["queue"].put_nowait(b"")  # ends open watch streams
                await server.close()

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._stop_event is not None:
            loop.call_soon_threadsafe(self._stop_event.set)
        thread.join(10)
        self._thread = None
        self._loop = None
        self.url = None

    def __enter__(self) -> KubeEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------------------------------
    # Public lab API

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every non-/_lab request: ``{method, path, query, body, dry_run}`` (a copy)."""
        with self._lock:
            return copy.deepcopy(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self._handler._requests.clear()

    def reset(self) -> None:
        """Back to the default objects: forget loaded objects, CRDs, forbidden verbs and the request log."""
        with self._lock:
            self._epoch += 1
            self._store.clear()
            self._apply_owners.clear()
            self._forbidden.clear()
            self.faults.clear()
            self._requests.clear()
            self._handler._requests.clear()
            for group, version, plural in self._crds:
                with contextlib.suppress(KeyError):
                    del self._handler.resources[kmock.resource(group, version, plural)]
            self._crds.clear()
            self.dataplane = {}  # LabDataPlane facts for pod exec (tests/lab/kube_exec.py)
            # overlay pod addresses: node N's pods get <prefix>N.4, .5, ... (a created cluster sets its podCidr's prefix)
            self.pod_cidr_prefix = kube_defaults.POD_CIDR_PREFIX
            self._rng = random.Random(self._seed)
            for obj in self._defaults():
                self._create_internal(obj, instant=True)

    def load_objects(self, objects: Any) -> list[dict[str, Any]]:
        """Store scenario objects as given (Lists flattened; an existing object is replaced).

        Server metadata (uid, resourceVersion, creationTimestamp, namespace "default") is filled
        where missing; missing namespaces are created; CustomResourceDefinitions register their
        resources. Workload controllers do not act on loaded objects (a scenario is a state, maybe a
        broken one), but Endpoints/EndpointSlices of Services with selectors are recomputed.
        ``kind: AzureNetworkFacts`` documents (snapshot format) are skipped. Returns what was stored.
        """
        stored: list[dict[str, Any]] = []
        with self._lock:
            namespaces: set[str] = set()
            for raw in flatten_objects(objects):
                if raw.get("kind") == "AzureNetworkFacts":
                    continue
                if raw.get("kind") == kube_exec.DATAPLANE_KIND:
                    self.dataplane = kube_exec.merge_dataplane(self.dataplane, raw)
                    continue
                obj = copy.deepcopy(raw)
                group, _version, plural, info = self._resolve_kind(obj)
                meta = obj.setdefault("metadata", {})
                if info.namespaced:
                    meta.setdefault("namespace", "default")
                    namespaces.add(meta["namespace"])
                    self._ensure_namespace(meta["namespace"])
                else:
                    meta.pop("namespace", None)
                old = self._get(group, plural, meta.get("namespace"), meta.get("name", ""))
                meta.setdefault("uid", old["metadata"]["uid"] if old else self._uid())
                meta.setdefault("creationTimestamp", _now())
                if info.kind == "Namespace":
                    meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
                self._put(group, plural, obj, "MODIFIED" if old else "ADDED")
                if info.kind == "CustomResourceDefinition":
                    self._register_from_crd(obj)
                stored.append(copy.deepcopy(obj))
            for namespace in namespaces:
                self._reconcile_endpoints(namespace)
        return stored

    def objects(self, plural: str | None = None, namespace: str | None = None, group: str | None = None) -> list[dict[str, Any]]:
        """Copies of the stored objects, optionally of one resource (plural) / namespace / group."""
        with self._lock:
            result = []
            for (g, p), bucket in sorted(self._store.items()):
                if (plural is not None and p != plural) or (group is not None and g != group):
                    continue
                for (ns, _name), obj in sorted(bucket.items()):
                    if namespace is None or ns == namespace:
                        result.append(copy.deepcopy(obj))
            return result

    def get_object(self, plural: str, name: str, namespace: str | None = None, group: str = "") -> dict[str, Any] | None:
        with self._lock:
            obj = self._get(group, plural, namespace, name)
            return copy.deepcopy(obj) if obj is not None else None

    def forbid(self, verb: str, plural: str, namespace: str | None = None, group: str | None = None) -> None:
        """Answer 403 Forbidden to ``verb`` (get, list, watch, create, update, patch, delete,
        deletecollection or ``*``) on ``plural`` (in ``namespace`` only, or everywhere; any group
        unless ``group`` is given), worded like RBAC's refusal."""
        with self._lock:
            self._forbidden.append((verb, plural, namespace, group))

    def register_crd(self, group: str, version: str, kind: str, plural: str, namespaced: bool, *,
                     singular: str | None = None, short_names: Iterable[str] = (), status_subresource: bool = False,
                     schema: dict[str, Any] | None = None) -> None:
        """Serve a custom resource (and its CustomResourceDefinition object) from now on.

        ``schema``: the version's openAPIV3Schema (custom resources are pruned and validated
        against it, as the apiserver does); default: anything goes (preserve unknown fields).
        """
        with self._lock:
            self._register_resource(group, version, kind, plural, namespaced, singular, short_names, status_subresource)
            crd_name = f"{plural}.{group}"
            if self._get("apiextensions.k8s.io", "customresourcedefinitions", None, crd_name) is None:
                crd = {
                    "apiVersion": "apiextensions.k8s.io/v1",
                    "kind": "CustomResourceDefinition",
                    "metadata": {"name": crd_name},
                    "spec": {
                        "group": group,
                        "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": singular or kind.lower(),
                                  "shortNames": list(short_names)},
                        "scope": "Namespaced" if namespaced else "Cluster",
                        "versions": [{"name": version, "served": True, "storage": True,
                                      "schema": {"openAPIV3Schema": copy.deepcopy(schema) if schema is not None
                                                 else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                                      "subresources": {"status": {}} if status_subresource else {}}],
                    },
                }
                self._create_internal(crd, instant=True, hooks=False)

    def register_cilium_crds(self) -> None:
        """CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (a cluster with the Cilium dataplane)."""
        for group, version, kind, plural, namespaced in CILIUM_CRDS:
            self.register_crd(group, version, kind, plural, namespaced, status_subresource=True, schema=kube_schema.CILIUM_POLICY_SCHEMA)

    # ---------------------------------------------------------------------------------------
    # Store primitives (call with the lock held)

    def _uid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _suffix(self, length: int = 5) -> str:
        return "".join(self._rng.choice(_HASH_ALPHABET) for _ in range(length))

    def _get(self, group: str, plural: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self._store.get((group, plural), {}).get((namespace or "", name))

    def _items(self, group: str, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        bucket = self._store.get((group, plural), {})
        return [obj for (ns, _n), obj in sorted(bucket.items()) if namespace is None or ns == namespace]

    def _put(self, group: str, plural: str, obj: dict[str, Any], event: str) -> dict[str, Any]:
        self._rv += 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self._rv)
        self._store.setdefault((group, plural), {})[(meta.get("namespace") or "", meta["name"])] = obj
        self._notify(group, plural, event, obj)
        return obj

    def _remove(self, group: str, plural: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self._store.get((group, plural), {}).pop((meta.get("namespace") or "", meta["name"]), None)
        self._rv += 1
        gone = copy.deepcopy(obj)
        gone["metadata"]["resourceVersion"] = str(self._rv)
        self._notify(group, plural, "DELETED", gone)

    def _info(self, group: str, version: str | None, plural: str) -> kmock.ResourceInfo | None:
        for res in list(self._handler.resources):
            if res.group == group and res.plural == plural and (version is None or res.version == version):
                return self._handler.resources[res]
        return None

    def _resolve_kind(self, obj: dict[str, Any]) -> tuple[str, str, str, kmock.ResourceInfo]:
        api_version = obj.get("apiVersion") or ""
        group, _, version = api_version.rpartition("/")
        kind = obj.get("kind")
        candidates = [(res, self._handler.resources[res]) for res in list(self._handler.resources)
                      if res.group == group and self._handler.resources[res].kind == kind]
        exact = [c for c in candidates if c[0].version == version]
        chosen = exact or candidates
        if not chosen:
            raise ValueError(
                f"cannot load {kind or '?'} {obj.get('metadata', {}).get('name', '?')!r} of apiVersion {api_version!r}: "
                "the lab serves no such resource; register it first with register_crd() or load its CustomResourceDefinition"
            )
        res, info = chosen[0]
        return res.group, version or res.version, res.plural, info

    def _ensure_namespace(self, name: str) -> None:
        if self._get("", "namespaces", None, name) is None:
            self._create_internal({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, instant=True)

    # ---------------------------------------------------------------------------------------
    # Watch

    def _notify(self, group: str, plural: str, event: str, obj: dict[str, Any]) -> None:
        if not self._watchers or self._loop is None:
            return
        for watcher in list(self._watchers):
            if watcher["key"] != (group, plural) or not self._selected(watcher, obj):
                continue
            served = self._served(obj, watcher["group"], watcher["version"], list_item=False)
            payload = json.dumps({"type": event, "object": served}).encode() + b"\n"
            self._loop.call_soon_threadsafe(watcher["queue"].put_nowait, payload)

    @staticmethod
    def _selected(query: dict[str, Any], obj: dict[str, Any]) -> bool:
        meta = obj.get("metadata", {})
        if query.get("namespace") and meta.get("namespace") != query["namespace"]:
            return False
        if query.get("name") and meta.get("name") != query["name"]:
            return False
        return labels_match(query["labels"], meta.get("labels")) and fields_match(query["fields"], obj)

    # ---------------------------------------------------------------------------------------
    # HTTP

    async def _serve(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        path = request.url.path
        try:
            if path == "/_lab" or path.startswith("/_lab/"):
                return self._serve_lab(request, path)
            body = self._decode_body(request)
            with self._lock:
                method = request.method.value if hasattr(request.method, "value") else str(request.method)
                self._requests.append({"method": method, "path": path, "query": dict(request.params), "body": body,
                                       "dry_run": "All" in _dry_run_values(request, method, body)})
            if _header(request, "Authorization") != f"Bearer {self.token}":
                raise unauthorized()
            parsed = _parse_path(path)
            if parsed is None:
                return await self._serve_discovery_root(request, path)
            group, version, route = parsed
            if route is None:
                return await self._serve_group_version(request, group, version)
            injected = await self._inject_fault(request, method, path, route, body)
            if injected is not None:
                return injected
            if route.group == "" and route.plural == "pods" and route.sub == "exec" and route.name:
                return await self._serve_exec(request, route)
            return await self._serve_resource(request, route, body)
        except ApiError as exc:
            return aiohttp.web.json_response(exc.status(), status=exc.code)

    async def _inject_fault(self, request: rendering.Request, method: str, path: str, route: _Route, body: Any) -> aiohttp.web.StreamResponse | None:
        """Apply the first pending fault (tests/lab/kube_faults.py) that matches this request, if any."""
        name = route.name
        if name is None and isinstance(body, dict):
            name = (body.get("metadata") or {}).get("name")
        resource = f"{route.plural}/{route.sub}" if route.sub else route.plural
        dry_run = "All" in _dry_run_values(request, method, body)
        fault = self.faults.take(method, path, resource, route.namespace, name, route.group, dry_run)
        if fault is None:
            return None
        with self._lock:
            if self._requests:
                self._requests[-1]["fault"] = fault.id
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.reset_connection:
            transport = request._raw_request.transport
            if transport is not None:
                transport.abort()
            return aiohttp.web.Response(status=500)
        if fault.status is None:
            return None
        return aiohttp.web.json_response(fault.status_body(), status=fault.status, headers=fault.headers())

    async def _serve_exec(self, request: rendering.Request, route: _Route) -> aiohttp.web.StreamResponse:
        """Pod exec over the websocket channel protocol, answered from the LabDataPlane facts (kube_exec.py)."""
        method = str(request.method.value if hasattr(request.method, "value") else request.method).upper()
        if method not in ("GET", "POST"):
            raise method_not_allowed()
        query = request.url.query
        with self._lock:
            self._check_forbidden("create" if method == "POST" else "get", _Route("", "v1", "pods/exec", route.namespace, route.name, None),
                                  route.namespace)
            pod = self._get("", "pods", route.namespace, route.name or "")
            _container, argv = kube_exec.check_exec(pod, route.namespace or "", route.name or "", query)
            world = kube_exec.World(copy.deepcopy(self.dataplane), copy.deepcopy(self._items("", "pods")), copy.deepcopy(self._items("", "services")),
                                    copy.deepcopy(self._items("discovery.k8s.io", "endpointslices")), kube_defaults.DNS_SERVICE_IP)
            pod = copy.deepcopy(pod)
        return await kube_exec.serve_websocket(request._raw_request, world, pod, argv, query)

    @staticmethod
    def _decode_body(request: rendering.Request) -> Any:
        if not request.body:
            return None
        try:
            return json.loads(request.body)
        except ValueError:
            pass
        content_type = _header(request, "Content-Type")
        if "yaml" in content_type:
            try:
                return yaml.safe_load(request.body)
            except yaml.YAMLError:
                pass
        return request.body.decode("utf-8", "replace")

    async def _serve_discovery_root(self, request: rendering.Request, path: str) -> aiohttp.web.StreamResponse:
        if request.method != kmock.method.GET:
            raise method_not_allowed()
        path = path.rstrip("/")
        with self._lock:
            if path == "":
                document = await self._handler._serve_root(request)
            elif path == "/version":
                document = await self._handler._serve_server_version(request)
            elif path == "/api":
                document = await self._handler._serve_api(request)
            elif path == "/apis":
                document = await self._handler._serve_apis(request)
            else:
                raise resource_not_found()
        return aiohttp.web.json_response(document)

    async def _serve_group_version(self, request: rendering.Request, group: str, version: str) -> aiohttp.web.StreamResponse:
        if request.method != kmock.method.GET:
            raise method_not_allowed()
        with self._lock:
            resources = list(self._handler.resources)
            if group == "" and version != "v1":
                raise resource_not_found()
            if group and not any(r.group == group and (not version or r.version == version) for r in resources):
                raise resource_not_found()
            if group and not version:
                document = await self._handler._serve_group(request)
            else:
                document = await self._handler._serve_version(request)
        return aiohttp.web.json_response(document)

    def _serve_lab(self, request: rendering.Request, path: str) -> aiohttp.web.StreamResponse:
        body = self._decode_body(request)
        method = str(request.method.value if hasattr(request.method, "value") else request.method).upper()
        if path == "/_lab/requests" and method == "GET":
            return aiohttp.web.json_response(self.requests)
        if path == "/_lab/objects" and method == "GET":
            query = request.params
            return aiohttp.web.json_response(self.objects(query.get("plural"), query.get("namespace"), query.get("group")))
        if path == "/_lab/reset" and method == "POST":
            self.reset()
            return aiohttp.web.json_response({"reset": True})
        if path == "/_lab/objects" and method == "POST":
            try:
                stored = self.load_objects(body)
            except ValueError as exc:
                return aiohttp.web.json_response({"error": str(exc)}, status=400)
            return aiohttp.web.json_response({"loaded": len(stored)})
        if path == "/_lab/crds" and method == "POST":
            if isinstance(body, dict) and body.get("cilium"):
                self.register_cilium_crds()
                return aiohttp.web.json_response({"registered": "cilium"})
            keys = ("group", "version", "kind", "plural")
            if not isinstance(body, dict) or not all(body.get(k) for k in keys):
                return aiohttp.web.json_response({"error": "body must be {cilium: true} or {group, version, kind, plural, namespaced}"}, status=400)
            self.register_crd(body["group"], body["version"], body["kind"], body["plural"], bool(body.get("namespaced", True)))
            return aiohttp.web.json_response({"registered": body["plural"]})
        if path == "/_lab/faults" and method == "POST":
            try:
                fault = self.faults.add(body)
            except ValueError as exc:
                return aiohttp.web.json_response({"error": str(exc)}, status=400)
            return aiohttp.web.json_response(fault.describe(), status=201)
        if path == "/_lab/faults" and method == "GET":
            return aiohttp.web.json_response(self.faults.list())
        if path == "/_lab/faults" and method == "DELETE":
            self.faults.clear()
            return aiohttp.web.json_response({"cleared": True})
        if path == "/_lab/forbid" and method == "POST":
            if not isinstance(body, dict) or not body.get("verb") or not body.get("plural"):
                return aiohttp.web.json_response({"error": "body must be {verb, plural, namespace?, group?}"}, status=400)
            self.forbid(body["verb"], body["plural"], body.get("namespace"), body.get("group"))
            return aiohttp.web.json_response({"forbidden": body})
        return aiohttp.web.json_response({"error": f"no lab route {method} {path}"}, status=404)

    def _check_forbidden(self, verb: str, route: _Route, namespace: str | None) -> None:
        for f_verb, f_plural, f_namespace, f_group in self._forbidden:
            if f_verb not in (verb, "*") or f_plural != route.plural:
                continue
            if f_group is not None and f_group != route.group:
                continue
            if f_namespace is not None and f_namespace != namespace:
                continue
            name = route.name if verb not in ("list", "watch", "create", "deletecollection") else None
            raise forbidden(verb, route.plural, route.group, namespace, name, self.user)

    async def _serve_resource(self, request: rendering.Request, route: _Route, body: Any) -> aiohttp.web.StreamResponse:
        method = str(request.method.value if hasattr(request.method, "value") else request.method).upper()
        query = dict(request.params)
        with self._lock:
            info = self._info(route.group, route.version, route.plural)
            if info is None:
                raise resource_not_found()
            # Cluster-scoped resources have no namespaced paths; namespaced ones have no named cluster paths.
            if (not info.namespaced and route.namespace is not None) or (info.namespaced and route.namespace is None and route.name):
                raise resource_not_found()
            if route.sub and route.sub not in ("status", "log"):
                raise resource_not_found()
            if route.sub == "log" and route.plural != "pods":
                raise resource_not_found()
            if route.sub == "status" and "status" not in info.subresources:
                raise resource_not_found()
            watch = query.get("watch") in ("true", "1")
            if method == "GET" and route.name is None:
                verb = "watch" if watch else "list"
            else:
                verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
                        "DELETE": "delete" if route.name else "deletecollection"}.get(method, "")
            if not verb or (verb == "create" and route.name):
                raise method_not_allowed()
            self._check_forbidden(verb, route, route.namespace)
            if verb in ("create", "update", "patch", "delete", "deletecollection"):
                dry_values = _dry_run_values(request, method, body)
                check_write_options(verb, dry_values, query.get("fieldValidation"))
                # Default Warn: unknown fields are dropped and named in Warning headers (kube-apiserver >= 1.25).
                self._field_validation = query.get("fieldValidation") or "Warn"
                self._warnings = []
                if dry_values:
                    # A dry run changes nothing: not even the random state behind names, uids and IPs.
                    rng_state = self._rng.getstate()
                    try:
                        return self._write(request, route, info, verb, body, query, dry_run=True)
                    finally:
                        self._rng.setstate(rng_state)
                return self._write(request, route, info, verb, body, query, dry_run=False)
            if verb == "list":
                listed = self._list(route, info, query)
                if _wants_partial_metadata(request):
                    listed = _partial_metadata_list(listed)
                return aiohttp.web.json_response(listed, headers=_deprecation_warning(route))
            if verb == "get":
                obj = self._get(route.group, route.plural, route.namespace, route.name or "")
                if obj is None:
                    raise not_found(route.plural, route.group, route.name or "")
                if route.sub == "log":
                    text = (obj["metadata"].get("annotations") or {}).get(LOG_ANNOTATION, "")
                    return aiohttp.web.Response(text=text, content_type="text/plain")
                return aiohttp.web.json_response(self._served(obj, route.group, route.version), headers=_deprecation_warning(route))
        return await self._watch(request, route, info, query)

    def _write(self, request: rendering.Request, route: _Route, info: kmock.ResourceInfo, verb: str, body: Any, query: dict[str, str], *,
               dry_run: bool) -> aiohttp.web.StreamResponse:
        """create, update, patch, delete, deletecollection (lock held); ``dry_run``: validate and answer, store nothing."""
        status = 200
        if verb == "create":
            result = self._served(self._create(route, info, body, dry_run), route.group, route.version)
            status = 201
        elif verb == "update":
            result = self._served(self._replace(route, info, body, dry_run), route.group, route.version)
        elif verb == "patch":
            obj, created = self._patch(route, info, body, _header(request, "Content-Type"), query, dry_run)
            result = self._served(obj, route.group, route.version)
            status = 201 if created else 200
        elif verb == "delete":
            result = self._served(self._delete(route, info, dry_run), route.group, route.version)
        else:
            result = self._list(route, info, {k: v for k, v in query.items() if k not in ("limit", "continue")})
            for item in result["items"]:
                sub_route = _Route(route.group, route.version, route.plural, item["metadata"].get("namespace"), item["metadata"]["name"], None)
                self._delete(sub_route, info, dry_run)
        headers: multidict.CIMultiDict[str] = multidict.CIMultiDict()
        for text in dict.fromkeys(self._warnings):
            # RFC 7234 warn-code 299, agent "-", quoted text: what client-go shows as "Warning: <text>"
            headers.add("Warning", "299 - " + json.dumps(text))
        headers.extend(_deprecation_warning(route))
        return aiohttp.web.json_response(result, status=status, headers=headers)

    # ---------------------------------------------------------------------------------------
    # Verbs

    def _served(self, obj: dict[str, Any], group: str, version: str, list_item: bool = False) -> dict[str, Any]:
        served = copy.deepcopy(obj)
        kind = served.get("kind")
        if list_item and not self._is_custom(group):
            served.pop("apiVersion", None)
            served.pop("kind", None)
        else:
            served["apiVersion"] = f"{group}/{version}" if group else version
            served["kind"] = kind
        return served

    def _is_custom(self, group: str) -> bool:
        return any(g == group for g, _v, _p in self._crds)

    def _list(self, route: _Route, info: kmock.ResourceInfo, query: dict[str, str]) -> dict[str, Any]:
        labels = parse_label_selector(query.get("labelSelector", ""))
        fields = parse_field_selector(query.get("fieldSelector", ""), route.plural)
        selection = {"namespace": route.namespace, "labels": labels, "fields": fields}
        items = [obj for obj in self._items(route.group, route.plural, route.namespace) if self._selected(selection, obj)]
        list_rv = str(self._rv)
        start: tuple[str, str] | None = None
        if query.get("continue"):
            try:
                token = json.loads(base64.urlsafe_b64decode(query["continue"].encode()).decode())
                start = (str(token["start"][0]), str(token["start"][1]))
                list_rv = str(token["rv"])
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                raise bad_request(f"continue key is not valid: {exc}") from exc
            items = [obj for obj in items if (obj["metadata"].get("namespace") or "", obj["metadata"]["name"]) > start]
        metadata: dict[str, Any] = {"resourceVersion": list_rv}
        limit_text = query.get("limit")
        if limit_text:
            try:
                limit = int(limit_text)
            except ValueError as exc:
                raise bad_request(f'invalid value for limit: "{limit_text}"') from exc
            if limit > 0 and len(items) > limit:
                last = items[limit - 1]["metadata"]
                token = {"rv": list_rv, "start": [last.get("namespace") or "", last["name"]]}
                metadata["continue"] = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
                metadata["remainingItemCount"] = len(items) - limit
                items = items[:limit]
        return {
            "kind": f"{info.kind}List",
            "apiVersion": f"{route.group}/{route.version}" if route.group else route.version,
            "metadata": metadata,
            "items": [self._served(obj, route.group, route.version, list_item=True) for obj in items],
        }

    def _check_body(self, route: _Route, info: kmock.ResourceInfo, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request(f"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml "
                              f"(got {type(body).__name__})")
        kind = body.get("kind")
        if kind and kind != info.kind:
            raise bad_request(f'{kind} in version "{route.version}" cannot be handled as a {info.kind}: the object kind does not match')
        api_version = body.get("apiVersion")
        expected = f"{route.group}/{route.version}" if route.group else route.version
        if api_version and api_version != expected and not (route.group and api_version.startswith(route.group + "/")):
            raise bad_request(f"the API version in the data ({api_version}) does not match the expected API version ({expected})")
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if info.namespaced:
            if meta.get("namespace") and route.namespace and meta["namespace"] != route.namespace:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            if route.namespace:
                meta["namespace"] = route.namespace
        else:
            meta.pop("namespace", None)
        obj["apiVersion"] = expected
        obj["kind"] = info.kind
        return obj

    def _create(self, route: _Route, info: kmock.ResourceInfo, body: Any, dry_run: bool, *, verb: str = "create") -> dict[str, Any]:
        obj = self._check_body(route, info, body)
        if route.sub:
            raise method_not_allowed()
        required = self._decode(route, info, obj, verb, body)
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{self._suffix()}"
        if info.namespaced:
            namespace = route.namespace or meta.get("namespace") or "default"
            meta["namespace"] = namespace
            ns_obj = self._get("", "namespaces", None, namespace)
            if ns_obj is None:
                raise not_found("namespaces", "", namespace)
            if ns_obj["metadata"].get("deletionTimestamp"):
                raise ApiError(403, "Forbidden", f'{route.plural} "{meta.get("name", "")}" is forbidden: unable to create new content in '
                                                 f'namespace {namespace} because it is being terminated', {"name": meta.get("name", ""), "kind": route.plural})
        meta.pop("resourceVersion", None)
        validate(info.kind or "", route.group, obj, extra=required)
        if self._get(route.group, route.plural, meta.get("namespace"), meta["name"]) is not None:
            raise already_exists(route.plural, route.group, meta["name"])
        return self._create_internal(obj, dry_run=dry_run, instant=False)

    def _create_internal(self, obj: dict[str, Any], *, instant: bool, dry_run: bool = False, hooks: bool = True) -> dict[str, Any]:
        """Create with server metadata and defaults, then run the controllers (not on dry run)."""
        obj = copy.deepcopy(obj)
        group, version, plural, info = self._resolve_kind(obj)
        obj["apiVersion"] = f"{group}/{version}" if group else version
        meta = obj.setdefault("metadata", {})
        if info.namespaced:
            meta.setdefault("namespace", "default")
        meta["uid"] = self._uid()
        meta["creationTimestamp"] = _now()
        meta.pop("deletionTimestamp", None)
        if (group, info.kind) in _GENERATION_KINDS or self._is_custom(group):
            meta["generation"] = 1
        self._apply_defaults(group, info.kind or "", obj, None)
        if dry_run:
            return obj
        self._put(group, plural, obj, "ADDED")
        if hooks:
            self._after_write(group, plural, obj, None, instant=instant)
        return obj

    def _replace(self, route: _Route, info: kmock.ResourceInfo, body: Any, dry_run: bool) -> dict[str, Any]:
        obj = self._check_body(route, info, body)
        meta = obj["metadata"]
        if meta.get("name") and meta["name"] != route.name:
            raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({route.name})")
        meta["name"] = route.name
        current = self._get(route.group, route.plural, route.namespace, route.name or "")
        if current is None:
            raise not_found(route.plural, route.group, route.name or "")
        return self._update(route, info, current, obj, dry_run, verb="update", sent=body)

    def _update(self, route: _Route, info: kmock.ResourceInfo, current: dict[str, Any], obj: dict[str, Any], dry_run: bool, *,
                verb: str, sent: Any) -> dict[str, Any]:
        required = self._decode(route, info, obj, verb, sent)
        meta = obj.setdefault("metadata", {})
        rv = meta.get("resourceVersion")
        if rv and rv != current["metadata"]["resourceVersion"]:
            raise conflict(route.plural, route.group, route.name or "")
        kind = info.kind or ""
        has_status = "status" in info.subresources
        if route.sub == "status":
            # The status subresource changes the status only.
            new = copy.deepcopy(current)
            new["status"] = copy.deepcopy(obj.get("status"))
            if new["status"] is None:
                new.pop("status")
            obj = new
        else:
            if has_status:
                if "status" in current:
                    obj["status"] = copy.deepcopy(current["status"])
                else:
                    obj.pop("status", None)
            for key in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"):
                if key in current["metadata"]:
                    meta[key] = current["metadata"][key]
                else:
                    meta.pop(key, None)
            if info.namespaced:
                meta["namespace"] = current["metadata"]["namespace"]
            self._apply_defaults(route.group, kind, obj, current)
            validate(kind, route.group, obj, current, extra=required)
            if "generation" in meta and _spec_part(obj) != _spec_part(current):
                meta["generation"] = int(meta["generation"]) + 1
        obj["apiVersion"] = current["apiVersion"]
        obj["kind"] = current["kind"]
        if _without_version(obj) == _without_version(current):
            # A write that changes nothing stores nothing: same resourceVersion, no watch event.
            return copy.deepcopy(current)
        if dry_run:
            obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            return obj
        # Objects marked for deletion go once their last finalizer is removed.
        if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
            self._remove(route.group, route.plural, current)
            self._after_delete(route.group, route.plural, current)
            return obj
        self._put(route.group, route.plural, obj, "MODIFIED")
        self._after_write(route.group, route.plural, obj, current, instant=False)
        return obj

    def _patch(self, route: _Route, info: kmock.ResourceInfo, body: Any, content_type: str, query: dict[str, str],
               dry_run: bool) -> tuple[dict[str, Any], bool]:
        content_type = content_type.split(";")[0].strip().lower()
        if content_type not in self._patch_types(route):
            # custom resources have no strategic merge patch (no Go struct with patch strategies)
            raise unsupported_media_type(self._patch_types(route))
        current = self._get(route.group, route.plural, route.namespace, route.name or "")
        kind = info.kind or ""
        ownership = None
        if content_type == "application/apply-patch+yaml":
            if not query.get("fieldManager"):
                raise ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
                               {"kind": "PatchOptions", "group": "meta.k8s.io", "causes": [
                                   {"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}]})
            if current is None:
                create_route = _Route(route.group, route.version, route.plural, route.namespace, None, None)
                applied = self._check_body(create_route, info, body)
                if applied["metadata"].get("name") not in (None, route.name):
                    raise bad_request(f"the name of the object ({applied['metadata']['name']}) does not match the name on the URL ({route.name})")
                applied["metadata"]["name"] = route.name
                created = self._create(create_route, info, applied, dry_run, verb="patch")
                if not dry_run:
                    self._apply_owners[created["metadata"]["uid"]] = {query["fieldManager"]: apply_leaves(applied)}
                return created, True
            applied = self._check_body(route, info, body)
            # field ownership between appliers: a field another manager applied is theirs until forced
            leaves = apply_leaves(applied)
            owners = self._apply_owners.get(current["metadata"].get("uid"), {})
            found = apply_conflicts(query["fieldManager"], leaves, current, owners)
            if found and query.get("force") != "true":
                raise apply_conflict_error(found)
            ownership = (query["fieldManager"], leaves, found)
            patched = strategic_merge_patch(current, applied, kind, api_version=current["apiVersion"])
        else:
            if current is None:
                raise not_found(route.plural, route.group, route.name or "")
            if content_type == "application/json-patch+json":
                patched = json_patch(current, body)
            elif content_type == "application/merge-patch+json":
                if not isinstance(body, dict):
                    raise bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
                patched = merge_patch(current, body)
            elif content_type == "application/strategic-merge-patch+json":
                if not isinstance(body, dict):
                    raise bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
                patched = strategic_merge_patch(current, body, kind, api_version=current["apiVersion"])
            else:
                raise unsupported_media_type(self._patch_types(route))
        if not isinstance(patched, dict):
            raise ApiError(422, "Invalid", "the patch did not produce an object", {})
        meta = patched.setdefault("metadata", {})
        if meta.get("name") != route.name:
            raise bad_request(f"the name of the object ({meta.get('name')}) does not match the name on the URL ({route.name})")
        if info.namespaced and meta.get("namespace") != route.namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        assert current is not None
        updated = self._update(route, info, current, patched, dry_run, verb="patch", sent=body)
        if ownership is not None and not dry_run:
            manager, leaves, forced = ownership
            owners = self._apply_owners.setdefault(current["metadata"].get("uid"), {})
            for other, paths in forced.items():  # force=true takes the fields from their owners
                kept = {path: value for path, value in owners.get(other, {}).items() if path not in paths}
                if kept:
                    owners[other] = kept
                else:
                    owners.pop(other, None)
            owners[manager] = leaves
        return updated, False

    def _patch_types(self, route: _Route) -> list[str]:
        """The patch content types the apiserver accepts for a resource, in its order."""
        if self._is_custom(route.group):
            return ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
        return ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"]

    def _crd_schema(self, group: str, version: str, plural: str) -> dict[str, Any] | None:
        crd = self._get("apiextensions.k8s.io", "customresourcedefinitions", None, f"{plural}.{group}")
        for entry in ((crd or {}).get("spec") or {}).get("versions") or []:
            if entry.get("name") == version:
                return (entry.get("schema") or {}).get("openAPIV3Schema")
        return None

    def _decode(self, route: _Route, info: kmock.ResourceInfo, obj: dict[str, Any], verb: str, sent: Any) -> list[Cause]:
        """What the apiserver's decoder does with a written object (in place), before validation.

        Built-in kinds: a value of the wrong JSON type is a 400 on create and update (a 422 naming
        ``patch`` on patch); unknown fields are dropped, and with ``fieldValidation=Strict`` a 400
        ``strict decoding error`` (Warn, the default: a ``Warning`` header each; Ignore: silence).
        Custom resources: unknown fields are pruned the same way, then the CRD's schema is checked
        (422). Returns the required-field causes for validate().
        """
        kind = info.kind or ""
        custom = self._is_custom(route.group)
        if custom:
            schema = self._crd_schema(route.group, route.version, route.plural)
            if schema is None:
                return []
            found = kube_schema.validate_custom(schema, obj)
            unknown, type_error, required, issues = found.unknown, None, [], found.issues
        else:
            decoded = kube_schema.decode_builtin(route.group, route.version, kind, obj)
            if decoded is None:
                return []
            unknown, type_error, required, issues = decoded.unknown, decoded.type_error, decoded.required, []
            if kind == "Secret" and route.group == "" and isinstance(obj.get("stringData"), dict):
                # stringData is write-only: merged into data (base64) by the apiserver
                if not isinstance(obj.get("data"), dict):
                    obj["data"] = {}
                data = obj["data"]
                for key, value in obj.pop("stringData").items():
                    data[key] = base64.b64encode(str(value).encode()).decode()
        if type_error is not None:
            if verb == "patch":
                shown = json.dumps(json.dumps(sent, separators=(",", ":")))
                raise ApiError(422, "Invalid", f' "" is invalid: patch: Invalid value: {shown}: {type_error}',
                               {"causes": [{"reason": "FieldValueInvalid", "message": f"Invalid value: {shown}: {type_error}", "field": "patch"}]})
            raise cannot_decode(kind, route.version, type_error)
        if unknown:
            if self._field_validation == "Strict":
                detail = strict_decoding(unknown)
                raise bad_request(detail) if verb == "patch" else cannot_decode(kind, route.version, detail)
            if self._field_validation == "Warn":
                self._warnings.extend(f'unknown field "{path}"' for path in unknown)
        if issues:
            name = (obj.get("metadata") or {}).get("name") or route.name or ""
            raise invalid(kind, route.group, name, [Cause(i.reason, i.field, i.message) for i in issues])
        return [cause_required(path) for path in required]

    def _delete(self, route: _Route, info: kmock.ResourceInfo, dry_run: bool) -> dict[str, Any]:
        obj = self._get(route.group, route.plural, route.namespace, route.name or "")
        if obj is None:
            raise not_found(route.plural, route.group, route.name or "")
        if route.plural == "namespaces" and route.group == "" and route.name in _PROTECTED_NAMESPACES:
            raise ApiError(403, "Forbidden", f'namespaces "{route.name}" is forbidden: this namespace may not be deleted',
                           {"name": route.name, "kind": "namespaces"})
        if obj["metadata"].get("finalizers") and route.plural != "namespaces":
            if not obj["metadata"].get("deletionTimestamp"):
                updated = copy.deepcopy(obj)
                updated["metadata"]["deletionTimestamp"] = _now()
                updated["metadata"]["deletionGracePeriodSeconds"] = 0
                if not dry_run:
                    self._put(route.group, route.plural, updated, "MODIFIED")
                return updated
            return copy.deepcopy(obj)
        if dry_run:
            gone = copy.deepcopy(obj)
            if route.plural == "namespaces" and route.group == "":
                gone["metadata"]["deletionTimestamp"] = _now()
                gone.setdefault("status", {})["phase"] = "Terminating"
            return gone
        self._remove(route.group, route.plural, obj)
        self._after_delete(route.group, route.plural, obj, api=True)
        gone = copy.deepcopy(obj)
        if route.plural == "namespaces" and route.group == "":
            gone["metadata"]["deletionTimestamp"] = _now()
            gone.setdefault("status", {})["phase"] = "Terminating"
        return gone

    async def _watch(self, request: rendering.Request, route: _Route, info: kmock.ResourceInfo, query: dict[str, str]) -> aiohttp.web.StreamResponse:
        with self._lock:
            labels = parse_label_selector(query.get("labelSelector", ""))
            fields = parse_field_selector(query.get("fieldSelector", ""), route.plural)
            queue: asyncio.Queue[bytes] = asyncio.Queue()
            watcher = {"key": (route.group, route.plural), "group": route.group, "version": route.version, "namespace": route.namespace,
                       "labels": labels, "fields": fields, "queue": queue}
            since = query.get("resourceVersion")
            if not since or since == "0":
                for obj in self._items(route.group, route.plural, route.namespace):
                    if self._selected(watcher, obj):
                        queue.put_nowait(json.dumps({"type": "ADDED", "object": self._served(obj, route.group, route.version)}).encode() + b"\n")
            self._watchers.append(watcher)
        timeout = min(float(query.get("timeoutSeconds") or 1800), 1800.0)
        response = aiohttp.web.StreamResponse(headers={"Content-Type": "application/json"})
        assert request._raw_request is not None
        try:
            await response.prepare(request._raw_request)
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    chunk = await asyncio.wait_for(queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
                if not chunk:
                    break
                await response.write(chunk)
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with self._lock:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)
        return response

    # ---------------------------------------------------------------------------------------
    # Defaults the apiserver fills

    def _apply_defaults(self, group: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        spec = obj.get("spec")
        meta = obj["metadata"]
        if group == "" and kind == "Namespace":
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj.setdefault("status", {}).setdefault("phase", "Active")
        elif group == "" and kind == "Service" and isinstance(spec, dict):
            self._service_defaults(obj, old)
        elif group == "" and kind == "Pod" and isinstance(spec, dict):
            _pod_spec_defaults(spec, pod=True)
        elif group == "apps" and kind in ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet") and isinstance(spec, dict):
            template_spec = (spec.get("template") or {}).get("spec")
            if isinstance(template_spec, dict):
                _pod_spec_defaults(template_spec, pod=False)
            if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
                spec.setdefault("replicas", 1)
            if kind == "Deployment":
                spec.setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
                spec.setdefault("revisionHistoryLimit", 10)
                spec.setdefault("progressDeadlineSeconds", 600)
            if kind == "DaemonSet":
                spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
                spec.setdefault("revisionHistoryLimit", 10)
        elif group == "networking.k8s.io" and kind == "NetworkPolicy" and isinstance(spec, dict):
            spec.setdefault("podSelector", {})
            if not spec.get("policyTypes"):
                spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
            for direction in ("ingress", "egress"):
                for rule in spec.get(direction) or []:
                    for port in rule.get("ports") or []:
                        port.setdefault("protocol", "TCP")

    def _service_defaults(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        spec = obj["spec"]
        old_spec = (old or {}).get("spec") or {}
        stype = spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])
        if stype == "ExternalName":
            return
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
        if not spec.get("clusterIP"):
            spec["clusterIP"] = self._allocate_cluster_ip()
        if spec["clusterIP"] != "None":
            spec["clusterIPs"] = [spec["clusterIP"]]
        else:
            spec["clusterIPs"] = ["None"]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        if stype in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
            old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in old_spec.get("ports") or []}
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    port["nodePort"] = old_ports.get((port.get("port"), port.get("protocol"))) or self._allocate_node_port()
        if stype == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
        obj.setdefault("status", {}).setdefault("loadBalancer", {})

    def _allocate_cluster_ip(self) -> str:
        used = {(s.get("spec") or {}).get("clusterIP") for s in self._items("", "services")}
        network = ipaddress.ip_network(kube_defaults.SERVICE_CIDR)
        while True:
            candidate = str(network[self._rng.randrange(11, network.num_addresses - 1)])
            if candidate not in used:
                return candidate

    def _allocate_node_port(self) -> int:
        used = {p.get("nodePort") for s in self._items("", "services") for p in (s.get("spec") or {}).get("ports") or []}
        while True:
            candidate = self._rng.randrange(30000, 32768)
            if candidate not in used:
                return candidate

    # ---------------------------------------------------------------------------------------
    # Controllers

    def _after_write(self, group: str, plural: str, obj: dict[str, Any], old: dict[str, Any] | None, *, instant: bool) -> None:
        namespace = obj["metadata"].get("namespace")
        if group == "" and plural == "namespaces" and old is None:
            name = obj["metadata"]["name"]
            if self._get("", "serviceaccounts", name, "default") is None:
                self._create_internal({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}},
                                      instant=True)
        elif group == "apiextensions.k8s.io" and plural == "customresourcedefinitions":
            self._register_from_crd(obj)
        elif group == "" and plural == "pods":
            if old is None and not obj.get("status"):
                self._schedule_pod(obj, instant)
            self._reconcile_endpoints(namespace)
            if old is not None:
                self._pod_ready(obj)
        elif group == "" and plural == "services":
            if (obj.get("spec") or {}).get("type") == "LoadBalancer" and self.lb_hook is not None:
                ingress = self.lb_hook(copy.deepcopy(obj))
                if ingress is not None and ingress != ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
                    obj.setdefault("status", {})["loadBalancer"] = {"ingress": ingress}
                    self._put(group, plural, obj, "MODIFIED")
            self._reconcile_endpoints(namespace)
        elif group == "networking.k8s.io" and plural == "ingresses" and self.ingress_hook is not None:
            ingress = self.ingress_hook(copy.deepcopy(obj))
            if ingress is not None and ingress != ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
                obj.setdefault("status", {})["loadBalancer"] = {"ingress": ingress}
                self._put(group, plural, obj, "MODIFIED")
        elif group == "apps" and plural == "deployments":
            if old is None or _spec_part(old) != _spec_part(obj):
                self._reconcile_deployment(obj, instant)
        elif group == "apps" and plural == "daemonsets":
            if old is None or _spec_part(old) != _spec_part(obj):
                self._reconcile_daemonset(obj, instant)
        elif group == "apps" and plural == "replicasets" and old is None:
            self._reconcile_replicaset(obj, instant)

    def _after_delete(self, group: str, plural: str, obj: dict[str, Any], api: bool = False) -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace")
        if group == "" and plural == "namespaces":
            for (g, p), bucket in list(self._store.items()):
                for (ns, _name), item in list(bucket.items()):
                    if ns == meta["name"]:
                        self._remove(g, p, item)
            return
        if group == "apiextensions.k8s.io" and plural == "customresourcedefinitions":
            spec = obj.get("spec") or {}
            for version in spec.get("versions") or []:
                key = (spec.get("group", ""), version.get("name", ""), (spec.get("names") or {}).get("plural", ""))
                if key in self._crds:
                    self._crds.discard(key)
                    with contextlib.suppress(KeyError):
                        del self._handler.resources[kmock.resource(*key)]
            self._store.pop((spec.get("group", ""), (spec.get("names") or {}).get("plural", "")), None)
            return
        # Garbage collection of dependents (background propagation).
        uid = meta.get("uid")
        for (g, p), bucket in list(self._store.items()):
            for item in list(bucket.values()):
                if any(ref.get("uid") == uid for ref in item["metadata"].get("ownerReferences") or []):
                    self._remove(g, p, item)
                    self._after_delete(g, p, item)
        if group == "" and plural == "services":
            if (obj.get("spec") or {}).get("type") == "LoadBalancer" and self.lb_delete_hook is not None:
                self.lb_delete_hook(copy.deepcopy(obj))
            endpoints = self._get("", "endpoints", namespace, meta["name"])
            if endpoints is not None and (obj.get("spec") or {}).get("selector"):
                self._remove("", "endpoints", endpoints)
        if group == "" and plural == "pods":
            self._reconcile_endpoints(namespace)
            if api:
                for ref in meta.get("ownerReferences") or []:
                    if ref.get("kind") == "ReplicaSet":
                        rs = self._get("apps", "replicasets", namespace, ref.get("name", ""))
                        if rs is not None:
                            self._reconcile_replicaset(rs, False)
                    elif ref.get("kind") == "DaemonSet":
                        ds = self._get("apps", "daemonsets", namespace, ref.get("name", ""))
                        if ds is not None:
                            self._reconcile_daemonset(ds, False)

    def _register_resource(self, group: str, version: str, kind: str, plural: str, namespaced: bool, singular: str | None,
                           short_names: Iterable[str], status_subresource: bool) -> None:
        self._handler.resources[kmock.resource(group, version, plural)] = kmock.ResourceInfo(
            kind=kind, namespaced=namespaced, singular=singular or kind.lower(), shortnames=set(short_names),
            verbs={"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"},
            subresources={"status"} if status_subresource else set(),
        )
        self._crds.add((group, version, plural))

    def _register_from_crd(self, crd: dict[str, Any]) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        for version in spec.get("versions") or []:
            if version.get("served", True) and spec.get("group") and names.get("plural") and names.get("kind"):
                self._register_resource(spec["group"], version["name"], names["kind"], names["plural"], spec.get("scope") == "Namespaced",
                                        names.get("singular"), names.get("shortNames") or [], "status" in (version.get("subresources") or {}))
        if not (crd.get("status") or {}).get("conditions"):
            crd["status"] = {
                "acceptedNames": {"kind": names.get("kind"), "plural": names.get("plural")},
                "conditions": [{"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "lastTransitionTime": _now()}],
                "storedVersions": [v.get("name") for v in spec.get("versions") or [] if v.get("storage")],
            }

    def _schedule(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` after ``ready_delay`` on the server's loop (at once when not serving)."""
        epoch = self._epoch

        def guarded() -> None:
            with self._lock:
                if epoch == self._epoch:
                    fn()

        loop = self._loop
        if loop is None or self.ready_delay <= 0:
            guarded()
            return
        loop.call_soon_threadsafe(loop.call_later, self.ready_delay, guarded)

    def _nodes(self) -> list[dict[str, Any]]:
        ready = []
        for node in self._items("", "nodes"):
            conditions = (node.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions) and not (node.get("spec") or {}).get("unschedulable"):
                ready.append(node)
        return ready

    @staticmethod
    def _node_ip(node: dict[str, Any]) -> str:
        for address in (node.get("status") or {}).get("addresses") or []:
            if address.get("type") == "InternalIP":
                return str(address.get("address"))
        return ""

    def _pick_node(self, pod_spec: dict[str, Any]) -> dict[str, Any] | None:
        nodes = [n for n in self._nodes() if all((n["metadata"].get("labels") or {}).get(k) == v for k, v in (pod_spec.get("nodeSelector") or {}).items())]
        if not nodes:
            return None
        counts = {n["metadata"]["name"]: 0 for n in nodes}
        for pod in self._items("", "pods"):
            node_name = (pod.get("spec") or {}).get("nodeName")
            if node_name in counts:
                counts[node_name] += 1
        return min(nodes, key=lambda n: (counts[n["metadata"]["name"]], n["metadata"]["name"]))

    def _allocate_pod_ip(self, node: dict[str, Any]) -> str:
        names = [n["metadata"]["name"] for n in self._items("", "nodes")]
        index = names.index(node["metadata"]["name"]) if node["metadata"]["name"] in names else 0
        used = {(p.get("status") or {}).get("podIP") for p in self._items("", "pods")}
        for host in range(4, 255):
            candidate = f"{self.pod_cidr_prefix}{index}.{host}"
            if candidate not in used:
                return candidate
        raise ApiError(500, "InternalError", f"no free pod IP left on node {node['metadata']['name']}", {})

    def _schedule_pod(self, pod: dict[str, Any], instant: bool) -> None:
        """Scheduler + kubelet: bind the pod to a node, Pending now, Running and Ready after the delay."""
        spec = pod["spec"]
        node = self._get("", "nodes", None, spec["nodeName"]) if spec.get("nodeName") else self._pick_node(spec)
        now = _now()
        if node is None:
            pod["status"] = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                             "message": "0/0 nodes are available: no node matches the pod.", "lastTransitionTime": now}]}
            self._put("", "pods", pod, "MODIFIED")
            return
        spec["nodeName"] = node["metadata"]["name"]
        host_ip = self._node_ip(node)
        pod["status"] = {
            "phase": "Pending",
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "qosClass": "BestEffort",
            "startTime": now,
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "False", "lastTransitionTime": now},
                {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now,
                 "message": "containers with unready status: [" + " ".join(c.get("name", "") for c in spec.get("containers") or []) + "]"},
                {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            ],
            "containerStatuses": [
                {"name": c.get("name"), "image": c.get("image"), "imageID": "", "ready": False, "started": False, "restartCount": 0,
                 "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}}
                for c in spec.get("containers") or []
            ],
        }
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"])
        if instant:
            self._start_pod(key, node)
            return
        self._put("", "pods", pod, "MODIFIED")
        self._schedule(lambda: self._start_pod(key, node, notify=True))

    def _start_pod(self, key: tuple[str, str, str], node: dict[str, Any], notify: bool = False) -> None:
        namespace, name, uid = key
        pod = self._get("", "pods", namespace, name)
        if pod is None or pod["metadata"]["uid"] != uid:
            return
        pod = copy.deepcopy(pod)
        never = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or [] if c.get("image") == kube_exec.NEVER_READY_IMAGE]
        if never:  # the image cannot be pulled: the pod stays Pending (kube_exec.NEVER_READY_IMAGE)
            for cstatus in (pod.get("status") or {}).get("containerStatuses") or []:
                if cstatus.get("name") in never:
                    cstatus["state"] = {"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{kube_exec.NEVER_READY_IMAGE}"'}}
            self._put("", "pods", pod, "MODIFIED")
            return
        pod["status"] = _running_status(pod, node, self._node_ip(node), self._pod_ip(pod, node))
        self._put("", "pods", pod, "MODIFIED")
        if notify:
            self._reconcile_endpoints(namespace)
            self._pod_ready(pod)

    def _pod_ip(self, pod: dict[str, Any], node: dict[str, Any]) -> str:
        if (pod.get("spec") or {}).get("hostNetwork"):
            return self._node_ip(node)
        return self._allocate_pod_ip(node)

    def _pod_ready(self, pod: dict[str, Any]) -> None:
        namespace = pod["metadata"]["namespace"]
        for ref in pod["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "ReplicaSet":
                rs = self._get("apps", "replicasets", namespace, ref.get("name", ""))
                if rs is None:
                    continue
                self._update_replicaset_status(rs)
                for rs_ref in rs["metadata"].get("ownerReferences") or []:
                    if rs_ref.get("kind") == "Deployment":
                        deployment = self._get("apps", "deployments", namespace, rs_ref.get("name", ""))
                        if deployment is not None:
                            self._progress_deployment(deployment)
            elif ref.get("kind") == "DaemonSet":
                ds = self._get("apps", "daemonsets", namespace, ref.get("name", ""))
                if ds is not None:
                    self._update_daemonset_status(ds)

    def _owned(self, group: str, plural: str, owner: dict[str, Any]) -> list[dict[str, Any]]:
        uid = owner["metadata"]["uid"]
        return [o for o in self._items(group, plural, owner["metadata"].get("namespace"))
                if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])]

    @staticmethod
    def _owner_ref(owner: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}

    def _new_pod(self, owner: dict[str, Any], template: dict[str, Any], name_prefix: str, extra_labels: dict[str, str],
                 node_name: str | None, instant: bool) -> None:
        tmeta = template.get("metadata") or {}
        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{name_prefix}-{self._suffix()}",
                "generateName": f"{name_prefix}-",
                "namespace": owner["metadata"]["namespace"],
                "labels": {**(tmeta.get("labels") or {}), **extra_labels},
                "ownerReferences": [self._owner_ref(owner)],
            },
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
        if tmeta.get("annotations"):
            pod["metadata"]["annotations"] = copy.deepcopy(tmeta["annotations"])
        if node_name:
            pod["spec"]["nodeName"] = node_name
        self._create_internal(pod, instant=instant)

    def _reconcile_replicaset(self, rs: dict[str, Any], instant: bool) -> None:
        pods = [p for p in self._owned("", "pods", rs) if not p["metadata"].get("deletionTimestamp")]
        wanted = int((rs.get("spec") or {}).get("replicas", 1))
        template = (rs.get("spec") or {}).get("template") or {}
        for _ in range(wanted - len(pods)):
            self._new_pod(rs, template, rs["metadata"]["name"], {}, None, instant)
        for pod in sorted(pods, key=lambda p: p["metadata"]["name"])[wanted:] if len(pods) > wanted else []:
            self._remove("", "pods", pod)
        if len(pods) > wanted:
            self._reconcile_endpoints(rs["metadata"]["namespace"])
        rs = self._get("apps", "replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"]) or rs
        self._update_replicaset_status(rs)
        for ref in rs["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "Deployment":
                deployment = self._get("apps", "deployments", rs["metadata"]["namespace"], ref.get("name", ""))
                if deployment is not None:
                    self._update_deployment_status(deployment)

    def _update_replicaset_status(self, rs: dict[str, Any]) -> None:
        pods = [p for p in self._owned("", "pods", rs) if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in pods if _pod_is_ready(p))
        status = _omit_zero({"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": ready, "availableReplicas": ready})
        status["replicas"] = len(pods)
        status["observedGeneration"] = rs["metadata"].get("generation", 1)
        if rs.get("status") != status:
            rs = copy.deepcopy(rs)
            rs["status"] = status
            self._put("apps", "replicasets", rs, "MODIFIED")

    def _reconcile_deployment(self, deployment: dict[str, Any], instant: bool) -> None:
        namespace = deployment["metadata"]["namespace"]
        spec = deployment.get("spec") or {}
        template = copy.deepcopy(spec.get("template") or {})
        pod_hash = template_hash(template)
        template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
        rs_name = f"{deployment['metadata']['name']}-{pod_hash}"
        replicas = int(spec.get("replicas", 1))
        owned = self._owned("apps", "replicasets", deployment)
        revision = 1 + max((int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")) for r in owned), default=0)
        rs = self._get("apps", "replicasets", namespace, rs_name)
        if rs is None:
            selector = copy.deepcopy(spec.get("selector") or {})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
            rs = self._create_internal({
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": rs_name,
                    "namespace": namespace,
                    "labels": dict(template["metadata"]["labels"]),
                    "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                    "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                    "deployment.kubernetes.io/revision": str(revision)},
                    "ownerReferences": [self._owner_ref(deployment)],
                },
                "spec": {"replicas": replicas, "selector": selector, "template": template},
            }, instant=instant)
        elif (rs.get("spec") or {}).get("replicas") != replicas:
            rs = copy.deepcopy(rs)
            rs["spec"]["replicas"] = replicas
            self._put("apps", "replicasets", rs, "MODIFIED")
            self._reconcile_replicaset(rs, instant)
        if instant:
            self._retire_old_replicasets(deployment, rs_name)
        self._progress_deployment(deployment)

    def _retire_old_replicasets(self, deployment: dict[str, Any], current_rs: str) -> None:
        for old in self._owned("apps", "replicasets", deployment):
            if old["metadata"]["name"] == current_rs:
                continue
            if (old.get("spec") or {}).get("replicas"):
                old = copy.deepcopy(old)
                old["spec"]["replicas"] = 0
                self._put("apps", "replicasets", old, "MODIFIED")
            for pod in self._owned("", "pods", old):
                self._remove("", "pods", pod)
            self._update_replicaset_status(old)
        self._reconcile_endpoints(deployment["metadata"]["namespace"])

    def _progress_deployment(self, deployment: dict[str, Any]) -> None:
        """Once the new ReplicaSet's pods are all ready, scale the old ones down (rolling update)."""
        deployment = self._get("apps", "deployments", deployment["metadata"]["namespace"], deployment["metadata"]["name"]) or deployment
        current = self._current_replicaset(deployment)
        if current is not None:
            pods = [p for p in self._owned("", "pods", current) if not p["metadata"].get("deletionTimestamp")]
            wanted = int((current.get("spec") or {}).get("replicas", 1))
            if len(pods) >= wanted and all(_pod_is_ready(p) for p in pods):
                self._retire_old_replicasets(deployment, current["metadata"]["name"])
        self._update_deployment_status(deployment)

    def _current_replicaset(self, deployment: dict[str, Any]) -> dict[str, Any] | None:
        template = copy.deepcopy((deployment.get("spec") or {}).get("template") or {})
        name = f"{deployment['metadata']['name']}-{template_hash(template)}"
        return self._get("apps", "replicasets", deployment["metadata"]["namespace"], name)

    def _update_deployment_status(self, deployment: dict[str, Any]) -> None:
        deployment = self._get("apps", "deployments", deployment["metadata"]["namespace"], deployment["metadata"]["name"])
        if deployment is None:
            return
        wanted = int((deployment.get("spec") or {}).get("replicas", 1))
        current = self._current_replicaset(deployment)
        total = ready = updated = 0
        for rs in self._owned("apps", "replicasets", deployment):
            pods = [p for p in self._owned("", "pods", rs) if not p["metadata"].get("deletionTimestamp")]
            total += len(pods)
            ready += sum(1 for p in pods if _pod_is_ready(p))
            if current is not None and rs["metadata"]["uid"] == current["metadata"]["uid"]:
                updated = len(pods)
        complete = updated == wanted and total == wanted and ready >= wanted
        now = _now()
        old_conditions = {c.get("type"): c for c in (deployment.get("status") or {}).get("conditions") or []}

        def condition(ctype: str, status: str, reason: str, message: str) -> dict[str, Any]:
            previous = old_conditions.get(ctype) or {}
            same = previous.get("status") == status and previous.get("reason") == reason
            return {"type": ctype, "status": status, "reason": reason, "message": message,
                    "lastUpdateTime": previous.get("lastUpdateTime", now) if same else now,
                    "lastTransitionTime": previous.get("lastTransitionTime", now) if previous.get("status") == status else now}

        rs_name = current["metadata"]["name"] if current else deployment["metadata"]["name"]
        available = ready >= wanted
        status = _omit_zero({"replicas": total, "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": ready,
                             "unavailableReplicas": max(total - ready, wanted - ready, 0)})
        status["observedGeneration"] = deployment["metadata"].get("generation", 1)
        status["conditions"] = [
            condition("Available", "True" if available else "False", "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                      "Deployment has minimum availability." if available else "Deployment does not have minimum availability."),
            condition("Progressing", "True", "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                      f'ReplicaSet "{rs_name}" has successfully progressed.' if complete else f'ReplicaSet "{rs_name}" is progressing.'),
        ]
        if deployment.get("status") != status:
            deployment = copy.deepcopy(deployment)
            deployment["status"] = status
            self._put("apps", "deployments", deployment, "MODIFIED")

    def _reconcile_daemonset(self, ds: dict[str, Any], instant: bool) -> None:
        spec = ds.get("spec") or {}
        template = spec.get("template") or {}
        revision_hash = template_hash(template)
        node_selector = (template.get("spec") or {}).get("nodeSelector") or {}
        nodes = [n for n in self._nodes() if all((n["metadata"].get("labels") or {}).get(k) == v for k, v in node_selector.items())]
        pods = self._owned("", "pods", ds)
        for node in nodes:
            node_name = node["metadata"]["name"]
            on_node = [p for p in pods if (p.get("spec") or {}).get("nodeName") == node_name]
            if any((p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision_hash for p in on_node):
                continue
            for pod in on_node:
                self._remove("", "pods", pod)
            self._new_pod(ds, template, ds["metadata"]["name"], {"controller-revision-hash": revision_hash, "pod-template-generation":
                          str(ds["metadata"].get("generation", 1))}, node_name, instant)
        node_names = {n["metadata"]["name"] for n in nodes}
        for pod in pods:
            if (pod.get("spec") or {}).get("nodeName") not in node_names and self._get("", "pods", pod["metadata"]["namespace"], pod["metadata"]["name"]):
                self._remove("", "pods", pod)
        self._reconcile_endpoints(ds["metadata"]["namespace"])
        self._update_daemonset_status(ds)

    def _update_daemonset_status(self, ds: dict[str, Any]) -> None:
        ds = self._get("apps", "daemonsets", ds["metadata"]["namespace"], ds["metadata"]["name"])
        if ds is None:
            return
        template = (ds.get("spec") or {}).get("template") or {}
        revision_hash = template_hash(template)
        node_selector = (template.get("spec") or {}).get("nodeSelector") or {}
        desired = len([n for n in self._nodes() if all((n["metadata"].get("labels") or {}).get(k) == v for k, v in node_selector.items())])
        pods = self._owned("", "pods", ds)
        ready = sum(1 for p in pods if _pod_is_ready(p))
        updated = sum(1 for p in pods if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision_hash)
        status = {
            "currentNumberScheduled": len(pods),
            "desiredNumberScheduled": desired,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
        }
        status.update(_omit_zero({"updatedNumberScheduled": updated, "numberAvailable": ready, "numberUnavailable": max(desired - ready, 0)}))
        if ds.get("status") != status:
            ds = copy.deepcopy(ds)
            ds["status"] = status
            self._put("apps", "daemonsets", ds, "MODIFIED")

    def _reconcile_endpoints(self, namespace: str | None) -> None:
        """Endpoints and EndpointSlices of every Service with a selector in ``namespace``."""
        if not namespace:
            return
        pods = self._items("", "pods", namespace)
        for service in self._items("", "services", namespace):
            spec = service.get("spec") or {}
            selector = spec.get("selector")
            if not selector or spec.get("type") == "ExternalName":
                continue
            groups: dict[tuple[tuple[str, int, str], ...], list[dict[str, Any]]] = {}
            for pod in pods:
                labels = pod["metadata"].get("labels") or {}
                status = pod.get("status") or {}
                if any(labels.get(k) != v for k, v in selector.items()) or not status.get("podIP"):
                    continue
                if status.get("phase") in ("Succeeded", "Failed"):
                    continue
                ports = []
                for port in spec.get("ports") or []:
                    number = _resolve_target_port(port, pod)
                    if number is not None:
                        ports.append((port.get("name") or "", number, port.get("protocol", "TCP")))
                groups.setdefault(tuple(ports), []).append(pod)
            self._write_endpoint_slices(service, groups)
            self._write_endpoints(service, groups)

    def _write_endpoint_slices(self, service: dict[str, Any], groups: dict[tuple[tuple[str, int, str], ...], list[dict[str, Any]]]) -> None:
        namespace = service["metadata"]["namespace"]
        name = service["metadata"]["name"]
        existing = [s for s in self._items("discovery.k8s.io", "endpointslices", namespace)
                    if (s["metadata"].get("labels") or {}).get(_SERVICE_NAME_LABEL) == name
                    and (s["metadata"].get("labels") or {}).get(_MANAGED_BY) == _SLICE_CONTROLLER]
        wanted: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = []
        for ports, pods in sorted(groups.items()):
            endpoints = [self._slice_endpoint(p) for p in sorted(pods, key=lambda p: p["metadata"]["name"])]
            wanted.append(([{"name": pname, "port": number, "protocol": proto} for pname, number, proto in ports], endpoints))
        if not wanted:
            wanted.append(([], []))
        labels = {**(service["metadata"].get("labels") or {}), _SERVICE_NAME_LABEL: name, _MANAGED_BY: _SLICE_CONTROLLER}
        for index, (ports, endpoints) in enumerate(wanted):
            if index < len(existing):
                current = existing[index]
                if current.get("endpoints") == endpoints and current.get("ports") == ports and current["metadata"].get("labels") == labels:
                    continue
                updated = copy.deepcopy(current)
                updated.update({"endpoints": endpoints, "ports": ports})
                updated["metadata"]["labels"] = labels
                self._put("discovery.k8s.io", "endpointslices", updated, "MODIFIED")
            else:
                self._create_internal({
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": {"name": f"{name}-{self._suffix()}", "generateName": f"{name}-", "namespace": namespace, "labels": labels,
                                 "ownerReferences": [self._owner_ref(service)]},
                    "addressType": "IPv4",
                    "endpoints": endpoints,
                    "ports": ports,
                }, instant=True, hooks=False)
        for extra in existing[len(wanted):]:
            self._remove("discovery.k8s.io", "endpointslices", extra)

    def _slice_endpoint(self, pod: dict[str, Any]) -> dict[str, Any]:
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        ready = _pod_is_ready(pod) and not terminating
        endpoint: dict[str, Any] = {
            "addresses": [pod["status"]["podIP"]],
            "conditions": {"ready": ready, "serving": _pod_is_ready(pod), "terminating": terminating},
            "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"], "uid": pod["metadata"]["uid"]},
        }
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name:
            endpoint["nodeName"] = node_name
            node = self._get("", "nodes", None, node_name)
            zone = ((node or {}).get("metadata", {}).get("labels") or {}).get("topology.kubernetes.io/zone")
            if zone:
                endpoint["zone"] = zone
        return endpoint

    def _write_endpoints(self, service: dict[str, Any], groups: dict[tuple[tuple[str, int, str], ...], list[dict[str, Any]]]) -> None:
        namespace = service["metadata"]["namespace"]
        name = service["metadata"]["name"]
        subsets = []
        for ports, pods in sorted(groups.items()):
            ready, not_ready = [], []
            for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
                address: dict[str, Any] = {"ip": pod["status"]["podIP"],
                                           "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": namespace,
                                                         "uid": pod["metadata"]["uid"]}}
                if (pod.get("spec") or {}).get("nodeName"):
                    address["nodeName"] = pod["spec"]["nodeName"]
                (ready if _pod_is_ready(pod) and not pod["metadata"].get("deletionTimestamp") else not_ready).append(address)
            subset: dict[str, Any] = {}
            if ready:
                subset["addresses"] = ready
            if not_ready:
                subset["notReadyAddresses"] = not_ready
            subset["ports"] = [{**({"name": pname} if pname else {}), "port": number, "protocol": proto} for pname, number, proto in ports]
            subsets.append(subset)
        current = self._get("", "endpoints", namespace, name)
        labels = dict(service["metadata"].get("labels") or {})
        if current is None:
            obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": namespace, "labels": labels}}
            if subsets:
                obj["subsets"] = subsets
            self._create_internal(obj, instant=True, hooks=False)
            return
        if (current.get("subsets") or []) == subsets and (current["metadata"].get("labels") or {}) == labels:
            return
        updated = copy.deepcopy(current)
        updated["metadata"]["labels"] = labels
        if subsets:
            updated["subsets"] = subsets
        else:
            updated.pop("subsets", None)
        self._put("", "endpoints", updated, "MODIFIED")


def _dry_run_values(request: rendering.Request, method: str, body: Any) -> list[str]:
    """The ``dryRun`` values of a write: query parameters, or a DELETE's DeleteOptions body."""
    try:
        values = [str(v) for v in request.url.query.getall("dryRun", [])]
    except AttributeError:
        values = [str(request.params["dryRun"])] if "dryRun" in request.params else []
    if not values and str(method).upper() == "DELETE" and isinstance(body, dict) and isinstance(body.get("dryRun"), list):
        values = [str(v) for v in body["dryRun"]]
    return values


def _without_version(obj: dict[str, Any]) -> dict[str, Any]:
    """An object without metadata.resourceVersion, to tell a no-op write."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
    return {**obj, "metadata": meta}


# Deprecated API versions kube-apiserver answers with a Warning header on every request (v1.36's text)
DEPRECATED_KINDS = {("", "v1", "endpoints"): "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"}


def _deprecation_warning(route: Any) -> multidict.CIMultiDict[str]:
    headers: multidict.CIMultiDict[str] = multidict.CIMultiDict()
    text = DEPRECATED_KINDS.get((route.group, route.version, route.plural))
    if text:
        headers.add("Warning", "299 - " + json.dumps(text))
    return headers


def _header(request: rendering.Request, name: str) -> str:
    wanted = name.lower()
    for key, value in request.headers.items():
        if key.lower() == wanted:
            return str(value)
    return ""


def _spec_part(obj: dict[str, Any] | None) -> dict[str, Any]:
    """What counts for ``metadata.generation``: everything but metadata and status."""
    return {k: v for k, v in (obj or {}).items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _omit_zero(values: dict[str, int]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v}


def _pod_is_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _resolve_target_port(port: dict[str, Any], pod: dict[str, Any]) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for cport in container.get("ports") or []:
            if cport.get("name") == target and cport.get("protocol", "TCP") == port.get("protocol", "TCP"):
                return int(cport["containerPort"])
    return None


def _pod_spec_defaults(spec: dict[str, Any], *, pod: bool) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(container, dict):
            continue
        image = str(container.get("image", ""))
        tag = image.rsplit("/", 1)[-1]
        latest = ":" not in tag or tag.endswith(":latest")
        container.setdefault("imagePullPolicy", "Always" if latest and "@" not in image else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        for probe_key in ("livenessProbe", "readinessProbe", "startupProbe"):
            probe = container.get(probe_key)
            if isinstance(probe, dict):
                for key, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
                    probe.setdefault(key, value)
        for port in container.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
    if pod:
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 2000001000 if spec.get("priorityClassName") == "system-node-critical"
                        else 2000000000 if spec.get("priorityClassName") == "system-cluster-critical" else 0)
        tolerations = spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if not any(t.get("key") == key for t in tolerations):
                tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})


def _running_status(pod: dict[str, Any], node: dict[str, Any], host_ip: str, pod_ip: str) -> dict[str, Any]:
    now = _now()
    started = (pod.get("status") or {}).get("startTime", now)
    containers = (pod.get("spec") or {}).get("containers") or []
    return {
        "phase": "Running",
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "qosClass": "BestEffort",
        "startTime": started,
        "conditions": [
            {"type": ctype, "status": "True", "lastTransitionTime": now}
            for ctype in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
        ],
        "containerStatuses": [
            {
                "name": c.get("name"),
                "image": c.get("image"),
                "imageID": f"{str(c.get('image', '')).split(':')[0]}@sha256:{hashlib.sha256(str(c.get('image')).encode()).hexdigest()}",
                "containerID": f"containerd://{hashlib.sha256((pod['metadata']['uid'] + str(c.get('name'))).encode()).hexdigest()}",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
                "lastState": {},
            }
            for c in containers
        ],
    }


def _wants_partial_metadata(request) -> bool:
    """Whether a LIST asked for metadata only (``Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1``)."""
    accept = next((v for k, v in (request.headers or {}).items() if k.lower() == "accept"), "")
    return "as=PartialObjectMetadataList" in accept.replace(" ", "") and "g=meta.k8s.io" in accept


def _partial_metadata_list(listed: dict[str, Any]) -> dict[str, Any]:
    """A list as the API server serves it in that media type: items with metadata only, no spec, data or type."""
    return {
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": listed.get("metadata") or {},
        "items": [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": copy.deepcopy(item.get("metadata") or {})}
                  for item in listed.get("items") or []],
    }

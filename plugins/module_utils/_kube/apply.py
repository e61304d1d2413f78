# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ensure a Kubernetes object is in a desired state: create, replace or delete it, with check mode
through the API's server-side dry run, and a waiter with a clear timeout message.

How "changed" is decided (:func:`object_differences`):

* only the fields the desired manifest sets are compared: ``metadata.labels`` and
  ``metadata.annotations`` key by key (labels other tools add are kept and ignored), and every
  top-level field other than apiVersion, kind, metadata and status (``spec``, ``data``, ...);
* inside those fields a mapping matches when every key the desired mapping sets matches (keys the
  server fills, such as a Service's ``clusterIP`` or a port's default ``protocol``, are ignored);
  lists match element by element and must have the same length; scalars match by value (a port
  given as ``"8080"`` matches 8080; nothing else is coerced);
* fields in ``exact_fields`` (default ``data`` and ``binaryData``, which no server fills) must be
  equal as a whole, so a key that is no longer wanted counts as a change.

A field the user removed from the manifest (e.g. one ingress rule key) is invisible to that subset
comparison, and indistinguishable from a field the server filled. When the current object holds
fields the desired one does not set, :func:`ensure_object` asks the server with a dry-run replace
what it would store for the desired object and compares that with the current object: equal means
unchanged (the extra fields were server defaults), different means a real change. That dry run
stores nothing and costs one request only for objects with server-filled fields.

Writes: POST (create), PUT with the current ``resourceVersion`` (replace; labels and annotations
not in the manifest are kept; one retry on 409 Conflict), DELETE. In check mode the same request
is sent with ``dryRun=All``, so the API validates (and admission runs) without storing anything.
"""

from __future__ import annotations

import copy
import time

from .client import KubeApiError, api_path

# (apiVersion, kind) -> (plural, namespaced) of the kinds the collection writes
KINDS = {
    ("v1", "ConfigMap"): ("configmaps", True),
    ("v1", "Service"): ("services", True),
    ("v1", "Secret"): ("secrets", True),
    ("v1", "Namespace"): ("namespaces", False),
    ("v1", "Pod"): ("pods", True),
    ("apps/v1", "Deployment"): ("deployments", True),
    ("networking.k8s.io/v1", "NetworkPolicy"): ("networkpolicies", True),
    ("networking.k8s.io/v1", "Ingress"): ("ingresses", True),
    ("networking.k8s.io/v1", "IngressClass"): ("ingressclasses", False),
    ("cilium.io/v2", "CiliumNetworkPolicy"): ("ciliumnetworkpolicies", True),
    ("cilium.io/v2", "CiliumClusterwideNetworkPolicy"): ("ciliumclusterwidenetworkpolicies", False),
}

SKIPPED_TOP_LEVEL = ("apiVersion", "kind", "metadata", "status")
METADATA_MAPS = ("labels", "annotations")
DEFAULT_EXACT_FIELDS = ("data", "binaryData")
_MISSING = object()


class WaitTimeout(KubeApiError):
    """A wait gave up; ``str()`` names what was awaited and the last state seen."""

    def __init__(self, message, last_state=None):
        super().__init__(message, status=None, reason="Timeout")
        self.last_state = last_state


# --------------------------------------------------------------------------------------------
# comparison (pure)
# --------------------------------------------------------------------------------------------


def _scalar_equal(want, have):
    if isinstance(want, bool) or isinstance(have, bool):
        return isinstance(want, bool) and isinstance(have, bool) and want == have
    if isinstance(want, (int, str)) and isinstance(have, (int, str)) and type(want) is not type(have):
        # "8080" vs 8080 (ports, intstr fields): equal when the text is the number
        return str(want) == str(have)
    return want == have


def subset_differences(want, have, path=""):
    """Paths (``spec.ingress[0].ports``) where ``have`` does not match what ``want`` sets.

    Mappings: every key of ``want`` must match in ``have`` (extra keys in ``have`` are ignored).
    Lists: same length, element by element. Scalars: equal (see module docstring).
    """
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [path or "."]
        out = []
        for key, value in want.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in have:
                if value is None:
                    continue  # "not set" matches absent
                out.append(sub)
                continue
            out.extend(subset_differences(value, have[key], sub))
        return out
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return [path or "."]
        out = []
        for i, (w, h) in enumerate(zip(want, have, strict=False)):
            out.extend(subset_differences(w, h, f"{path}[{i}]"))
        return out
    return [] if _scalar_equal(want, have) else [path or "."]


def extra_paths(want, have, path=""):
    """Paths set in ``have`` that ``want`` does not set (server defaults or fields the user removed)."""
    if isinstance(want, dict) and isinstance(have, dict):
        out = []
        for key, value in have.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in want:
                if value not in (None, {}, []):
                    out.append(sub)
                continue
            out.extend(extra_paths(want[key], value, sub))
        return out
    if isinstance(want, list) and isinstance(have, list):
        out = []
        for i, (w, h) in enumerate(zip(want, have, strict=False)):
            out.extend(extra_paths(w, h, f"{path}[{i}]"))
        return out
    return []


def compared_fields(desired):
    """Top-level fields of ``desired`` that are compared (everything but apiVersion/kind/metadata/status)."""
    return [key for key in desired if key not in SKIPPED_TOP_LEVEL]


def project(obj, desired):
    """The part of ``obj`` that ``desired`` is compared on (for diffs): the compared top-level fields
    and the labels/annotations keys the desired manifest sets."""
    if obj is None:
        return {}
    out = {}
    want_meta = desired.get("metadata") or {}
    have_meta = obj.get("metadata") or {}
    meta = {}
    for key in METADATA_MAPS:
        if want_meta.get(key):
            have = have_meta.get(key) or {}
            meta[key] = {k: have[k] for k in want_meta[key] if k in have}
    if meta:
        out["metadata"] = meta
    for key in compared_fields(desired):
        if key in obj:
            out[key] = copy.deepcopy(obj[key])
    return out


# Values the API server allocates per object (not defaults): a dry run answers with a made-up
# allocation that the real write would not keep (two dry-run Services can show the same clusterIP).
# Diffs leave them out unless the manifest sets them; "*" walks every element of a list.
ALLOCATED_PATHS = {
    "Service": (
        ("spec", "clusterIP"),
        ("spec", "clusterIPs"),
        ("spec", "healthCheckNodePort"),
        ("spec", "ports", "*", "nodePort"),
    ),
}


def _drop_path(obj, want, path):
    if not path or not isinstance(obj, (dict, list)):
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(obj, list):
            wants = want if isinstance(want, list) else []
            for i, item in enumerate(obj):
                _drop_path(item, wants[i] if i < len(wants) else None, rest)
        return
    if not isinstance(obj, dict) or head not in obj:
        return
    sub_want = want.get(head) if isinstance(want, dict) else None
    if not rest:
        if sub_want is None:  # the user did not ask for it: an allocation, not a wish
            obj.pop(head)
        return
    _drop_path(obj[head], sub_want, rest)


def without_allocations(projected, desired):
    """``projected`` (a :func:`project` result) without the values the server allocates (see
    ALLOCATED_PATHS) that ``desired`` does not set; defaults that persist (a port's protocol,
    sessionAffinity) stay."""
    out = copy.deepcopy(projected)
    for path in ALLOCATED_PATHS.get(desired.get("kind"), ()):
        _drop_path(out, desired, path)
    return out


def diff_of(before, after, desired):
    """The ``{before, after}`` diff of a write: the compared parts of both objects, without
    server allocations the user did not ask for."""
    return {"before": without_allocations(project(before, desired), desired), "after": without_allocations(project(after, desired), desired)}


def object_differences(desired, current, exact_fields=DEFAULT_EXACT_FIELDS):
    """Paths where ``current`` differs from what ``desired`` asks for ([] when it matches)."""
    out = []
    want_meta = desired.get("metadata") or {}
    have_meta = current.get("metadata") or {}
    for key in METADATA_MAPS:
        if want_meta.get(key):
            out.extend(subset_differences(want_meta[key], have_meta.get(key) or {}, f"metadata.{key}"))
    for key in compared_fields(desired):
        want = desired[key]
        have = current.get(key, _MISSING)
        if key in exact_fields:
            if (want or {}) != (have if have is not _MISSING and have is not None else {}):
                out.append(key)
            continue
        if have is _MISSING:
            if want not in (None, {}, []):
                out.append(key)
            continue
        out.extend(subset_differences(want, have, key))
    return out


def unset_paths(desired, current, exact_fields=DEFAULT_EXACT_FIELDS):
    """Paths inside the compared fields that ``current`` sets and ``desired`` does not."""
    out = []
    for key in compared_fields(desired):
        if key in exact_fields or key not in current:
            continue
        out.extend(extra_paths(desired[key], current[key], key))
    return out


def replacement(desired, current):
    """The body of a PUT: the current object with the desired fields, labels and annotations merged
    (others' labels kept), the current resourceVersion, without status and managedFields."""
    body = copy.deepcopy(current)
    body.pop("status", None)
    meta = body.setdefault("metadata", {})
    meta.pop("managedFields", None)
    want_meta = desired.get("metadata") or {}
    for key in METADATA_MAPS:
        if want_meta.get(key):
            merged = dict(meta.get(key) or {})
            merged.update(want_meta[key])
            meta[key] = merged
    for key in compared_fields(desired):
        body[key] = copy.deepcopy(desired[key])
    body["apiVersion"] = desired.get("apiVersion", body.get("apiVersion"))
    body["kind"] = desired.get("kind", body.get("kind"))
    return body


def predicted(desired, current):
    """What the object would look like after the write, without asking the server (check mode
    without server dry run)."""
    if current is None:
        return copy.deepcopy(desired)
    return replacement(desired, current)


# --------------------------------------------------------------------------------------------
# requests
# --------------------------------------------------------------------------------------------


def resource_of(manifest, plural=None):
    """(api_version, plural, namespace, name) of a manifest; ``plural`` is needed for kinds not in KINDS."""
    api_version = manifest.get("apiVersion")
    kind = manifest.get("kind")
    meta = manifest.get("metadata") or {}
    known = KINDS.get((api_version, kind))
    if plural is None:
        if known is None:
            raise ValueError(f"unknown kind {kind} ({api_version}): pass its plural resource name")
        plural = known[0]
    namespaced = known[1] if known else bool(meta.get("namespace"))
    namespace = meta.get("namespace") if namespaced else None
    if namespaced and not namespace:
        raise ValueError(f"{kind} {meta.get('name')!r} is namespaced: metadata.namespace is required")
    if not meta.get("name"):
        raise ValueError(f"{kind}: metadata.name is required")
    return api_version, plural, namespace, meta["name"]


def describe(manifest):
    meta = manifest.get("metadata") or {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{manifest.get('kind')} {ns}{meta.get('name')}"


def ensure_object(client, desired, *, state="present", check_mode=False, server_dry_run=True, plural=None, exact_fields=DEFAULT_EXACT_FIELDS, current=_MISSING):
    """Make the object ``desired`` describes present (created or replaced) or absent.

    ``client``: a KubeClient. ``current``: the object as already read (saves the GET), or None
    when known absent. In check mode the write is sent with ``dryRun=All`` (``server_dry_run``)
    or not at all. Returns ``{changed, action (create|replace|delete|None), before, after,
    diff: {before, after}, result}`` where ``before``/``after`` are whole objects (None when
    absent), ``diff`` holds their compared parts, and ``result`` is what the API answered.
    """
    api_version, plural, namespace, name = resource_of(desired, plural)
    path = api_path(api_version, plural, namespace, name)
    if current is _MISSING:
        current = client.get(api_version, plural, name, namespace)
    dry = {"dryRun": "All"} if check_mode else None
    send = not check_mode or server_dry_run

    def outcome(action, after, result=None):
        return {
            "changed": action is not None,
            "action": action,
            "before": current,
            "after": after,
            "diff": diff_of(current, after, desired),
            "result": result if result is not None else after,
        }

    if state == "absent":
        if current is None:
            return outcome(None, None)
        if send:
            client.request("DELETE", path, query=dry)
        return outcome("delete", None, current)

    if current is None:
        created = client.request("POST", api_path(api_version, plural, namespace), query=dry, body=desired) if send else predicted(desired, None)
        return outcome("create", created)

    changed = bool(object_differences(desired, current, exact_fields))
    normalized = None
    if not changed and unset_paths(desired, current, exact_fields):
        # server defaults or a removed field? ask the server what it would store
        normalized = client.request("PUT", path, query={"dryRun": "All"}, body=replacement(desired, current))
        want = {k: normalized.get(k) for k in compared_fields(desired)}
        have = {k: current.get(k) for k in compared_fields(desired)}
        changed = want != have
    if not changed:
        return outcome(None, current)
    if check_mode:
        after = normalized
        if after is None:
            after = client.request("PUT", path, query=dry, body=replacement(desired, current)) if send else predicted(desired, current)
        return outcome("replace", after)
    try:
        after = client.request("PUT", path, body=replacement(desired, current))
    except KubeApiError as exc:
        if exc.status != 409:
            raise
        fresh = client.get(api_version, plural, name, namespace)
        if fresh is None:
            after = client.request("POST", api_path(api_version, plural, namespace), body=desired)
            return outcome("create", after)
        after = client.request("PUT", path, body=replacement(desired, fresh))
    return outcome("replace", after)


# --------------------------------------------------------------------------------------------
# waiting
# --------------------------------------------------------------------------------------------


def wait_for(check, timeout, what, interval=1.0, sleep=time.sleep, clock=time.monotonic):
    """Call ``check()`` until it returns ``(True, state)``; returns that state.

    ``check`` returns ``(done, state)`` where ``state`` is a short text (or any value) describing
    what it saw. Raises :class:`WaitTimeout` after ``timeout`` seconds, naming ``what`` (e.g.
    "the rollout of Deployment kube-system/coredns (new pods ready)") and the last state seen.
    """
    deadline = clock() + max(float(timeout), 0.0)
    while True:
        done, state = check()
        if done:
            return state
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(
                f"Timed out after {timeout:g} s waiting for {what}; last state seen: {state}. "
                "Raise wait_timeout if the cluster is just slow, or inspect the objects (kubectl describe / events) for the cause.",
                last_state=state,
            )
        sleep(min(interval, remaining))

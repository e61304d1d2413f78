"""Pure helpers of the lab's Kubernetes API emulator: API errors, selectors, patches, validation.

Everything here works on plain JSON-like dicts and knows nothing about HTTP or threads, so the
rules can be read (and unit tested) apart from the server in ``tests/lab/kube.py``.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from typing import Any

from tests.lab import kube_schema

# --------------------------------------------------------------------------------------------
# Errors: the apiserver's Status objects


class ApiError(Exception):
    """An error the emulator answers with a ``kind: Status`` body, as the apiserver does."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def qualified(plural: str, group: str) -> str:
    """``pods`` / ``deployments.apps``: how the apiserver names a resource in messages."""
    return f"{plural}.{group}" if group else plural


def _details(plural: str, group: str, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = plural
    return details


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(plural, group)} "{name}" not found', _details(plural, group, name))


def resource_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(plural, group)} "{name}" already exists', _details(plural, group, name))


def apply_leaves(obj: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """The fields a server-side apply sets, as ``{path: value}``: map keys are walked, lists and scalars are
    leaves (the lab's simplification of structured-merge-diff's field sets). The object's identity
    (apiVersion, kind, metadata.name, metadata.namespace) is nobody's to own."""
    if not isinstance(obj, dict) or (path and not obj):
        return {path: obj}
    leaves: dict[tuple[str, ...], Any] = {}
    for key, value in obj.items():
        if (not path and key in ("apiVersion", "kind", "status")) or (path == ("metadata",) and key in ("name", "namespace")):
            continue
        leaves.update(apply_leaves(value, (*path, key)))
    return leaves


def value_at(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def apply_conflicts(manager: str, applied: dict[tuple[str, ...], Any], current: Any,
                    owners: dict[str, dict[tuple[str, ...], Any]]) -> dict[str, list[tuple[str, ...]]]:
    """Fields another applier owns that this apply would change: ``{other manager: [paths]}``.
    Setting a field to the value it already has is no conflict (both managers then own it)."""
    found: dict[str, list[tuple[str, ...]]] = {}
    for other, fields in sorted(owners.items()):
        if other == manager:
            continue
        for path in sorted(set(fields) & set(applied)):
            if value_at(current, path) != applied[path]:
                found.setdefault(other, []).append(path)
    return found


def apply_conflict_error(found: dict[str, list[tuple[str, ...]]]) -> ApiError:
    """409 like kube-apiserver's: ``Apply failed with 1 conflict: conflict with "alice": .data.k``."""
    pairs = [(manager, "." + ".".join(path)) for manager, paths in found.items() for path in paths]
    count = len(pairs)
    if count == 1:
        message = f'Apply failed with 1 conflict: conflict with "{pairs[0][0]}": {pairs[0][1]}'
    else:
        lines = []
        for manager, paths in found.items():
            lines.append(f'conflicts with "{manager}":' + "".join(f"\n- .{'.'.join(path)}" for path in paths))
        message = f"Apply failed with {count} conflicts: " + "\n".join(lines)
    causes = [{"reason": "FieldManagerConflict", "message": f'conflict with "{manager}"', "field": field} for manager, field in pairs]
    return ApiError(409, "Conflict", message, {"causes": causes})


def conflict(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        _details(plural, group, name),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message, {})


def forbidden(verb: str, plural: str, group: str, namespace: str | None, name: str | None, user: str) -> ApiError:
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    subject = f'{qualified(plural, group)} "{name}"' if name else qualified(plural, group)
    message = f'{subject} is forbidden: User "{user}" cannot {verb} resource "{plural}" in API group "{group}" {scope}'
    return ApiError(403, "Forbidden", message, _details(plural, group, name))


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


class Cause:
    """One field error of a 422 Invalid answer (``details.causes[]``)."""

    def __init__(self, reason: str, field: str, message: str) -> None:
        self.reason = reason
        self.field = field
        self.message = message

    def text(self) -> str:
        return f"{self.field}: {self.message}"


def cause_invalid(field: str, value: Any, detail: str) -> Cause:
    return Cause("FieldValueInvalid", field, f"Invalid value: {_go_repr(value)}: {detail}")


def cause_unsupported(field: str, value: Any, supported: list[str]) -> Cause:
    listed = ", ".join(f'"{s}"' for s in supported)
    return Cause("FieldValueNotSupported", field, f"Unsupported value: {_go_repr(value)}: supported values: {listed}")


def cause_required(field: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))


def cause_duplicate(field: str, value: Any) -> Cause:
    return Cause("FieldValueDuplicate", field, f"Duplicate value: {_go_repr(value)}")


def cause_forbidden(field: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", field, f"Forbidden: {detail}")


def _go_repr(value: Any) -> str:
    """A value as the apiserver quotes it in a message (Go's %q / %v)."""
    return kube_schema.go_value(value)


def invalid(kind: str, group: str, name: str, causes: list[Cause]) -> ApiError:
    qualified_kind = f"{kind}.{group}" if group else kind
    texts = list(dict.fromkeys(c.text() for c in causes))  # the aggregate drops repeated messages
    text = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind} if name else {"kind": kind}
    if group:
        details["group"] = group
    details["causes"] = [{"reason": c.reason, "message": c.message, "field": c.field} for c in causes]
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {text}', details)


# The options object each verb's query parameters decode into (for 422s about dryRun, fieldValidation).
OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions", "delete": "DeleteOptions",
                "deletecollection": "DeleteOptions"}
FIELD_VALIDATION = ("Ignore", "Strict", "Warn")


def check_write_options(verb: str, dry_run: list[str], field_validation: str | None) -> None:
    """422 Invalid for a dryRun other than All or an unknown fieldValidation, as the apiserver validates its options."""
    causes = []
    if any(value != "All" for value in dry_run):
        causes.append(Cause("FieldValueNotSupported", "dryRun", f'Unsupported value: {json.dumps(dry_run)}: supported values: "All"'))
    if field_validation is not None and verb != "delete" and verb != "deletecollection" and field_validation not in ("", *FIELD_VALIDATION):
        causes.append(cause_unsupported("fieldValidation", field_validation, ["", *FIELD_VALIDATION]))
    if causes:
        raise invalid(OPTIONS_KIND[verb], "meta.k8s.io", "", causes)


def cannot_decode(kind: str, version: str, detail: str) -> ApiError:
    """400 BadRequest of the decoder (a value of the wrong type, unknown fields with fieldValidation=Strict)."""
    return bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: {detail}')


def strict_decoding(unknown: list[str]) -> str:
    return "strict decoding error: " + ", ".join(f'unknown field "{path}"' for path in unknown)


def unsupported_media_type(accepted: list[str]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: " + ", ".join(accepted))


# --------------------------------------------------------------------------------------------
# Label and field selectors

_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_SET_TERM = re.compile(r"^(?P<key>[^\s!=()]+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")


def _check_label_key(key: str, selector: str) -> None:
    prefix, _, name = key.rpartition("/")
    ok = bool(name) and len(name) <= 63 and _LABEL_NAME.match(name) is not None
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        ok = False
    if not ok:
        raise bad_request(
            f'unable to parse requirement: invalid label key "{key}" in selector "{selector}": name part must consist of '
            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )


def _check_label_value(value: str, selector: str) -> None:
    if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
        raise bad_request(
            f'unable to parse requirement: invalid label value "{value}" in selector "{selector}": a valid label must be '
            "an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character"
        )


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def parse_label_selector(text: str) -> list[tuple[str, str, frozenset[str]]]:
    """Parse a ``labelSelector`` query value into (key, operator, values) requirements.

    Operators: ``=`` (also ``==``), ``!=``, ``in``, ``notin``, ``exists``, ``!`` (does not exist).
    Raises ApiError 400 (as the apiserver does) for a selector it cannot parse.
    """
    requirements: list[tuple[str, str, frozenset[str]]] = []
    if not text.strip():
        return requirements
    for raw in _split_top_level(text):
        term = raw.strip()
        if not term:
            raise bad_request(f'unable to parse requirement: found \'\', expected: identifier in selector "{text}"')
        match = _SET_TERM.match(term)
        if match:
            key = match.group("key")
            values = frozenset(v.strip() for v in match.group("values").split(",") if v.strip())
            if not values:
                raise bad_request(f'unable to parse requirement: for \'{match.group("op")}\' operator, values set can\'t be empty')
            _check_label_key(key, text)
            for value in values:
                _check_label_value(value, text)
            requirements.append((key, match.group("op"), values))
            continue
        if term.startswith("!"):
            key = term[1:].strip()
            if not key or any(c in key for c in "=!()"):
                raise bad_request(f'unable to parse requirement: invalid selector term "{term}" in "{text}"')
            _check_label_key(key, text)
            requirements.append((key, "!", frozenset()))
            continue
        for op in ("!=", "==", "="):
            if op in term:
                key, _, value = term.partition(op)
                key = key.strip()
                value = value.strip()
                if not key or any(c in value for c in "=!()") or " " in key:
                    raise bad_request(f'unable to parse requirement: invalid selector term "{term}" in "{text}"')
                _check_label_key(key, text)
                _check_label_value(value, text)
                requirements.append((key, "!=" if op == "!=" else "=", frozenset([value])))
                break
        else:
            if any(c in term for c in " ()<>"):
                raise bad_request(f'unable to parse requirement: invalid selector term "{term}" in "{text}"')
            _check_label_key(term, text)
            requirements.append((term, "exists", frozenset()))
    return requirements


def labels_match(requirements: list[tuple[str, str, frozenset[str]]], labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    for key, op, values in requirements:
        present = key in labels
        value = labels.get(key)
        if op == "=" and not (present and value in values):
            return False
        if op == "!=" and present and value in values:
            return False
        if op == "in" and not (present and value in values):
            return False
        if op == "notin" and present and value in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!" and present:
            return False
    return True


def selector_object_matches(selector: dict[str, Any] | None, labels: dict[str, str] | None) -> bool:
    """Match a LabelSelector object (matchLabels + matchExpressions); an empty selector matches all."""
    selector = selector or {}
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


COMMON_FIELDS = ("metadata.name", "metadata.namespace")
FIELDS_BY_PLURAL: dict[str, tuple[str, ...]] = {
    "pods": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "events": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "nodes": ("spec.unschedulable",),
    "namespaces": ("status.phase",),
    "secrets": ("type",),
    "replicasets": ("status.replicas",),
    "jobs": ("status.successful",),
}


def parse_field_selector(text: str, plural: str) -> list[tuple[str, str, str]]:
    """Parse a ``fieldSelector`` into (field, op, value) with op ``=`` or ``!=``; 400 for unknown fields."""
    result: list[tuple[str, str, str]] = []
    if not text.strip():
        return result
    allowed = COMMON_FIELDS + FIELDS_BY_PLURAL.get(plural, ())
    for raw in text.split(","):
        term = raw.strip()
        for op in ("!=", "==", "="):
            if op in term:
                field, _, value = term.partition(op)
                field = field.strip()
                break
        else:
            raise bad_request(f'invalid selector: \'{term}\'; can\'t understand \'{term}\'')
        if field not in allowed:
            raise bad_request(f'field label not supported: {field}')
        result.append((field, "!=" if op == "!=" else "=", value.strip()))
    return result


def field_value(obj: dict[str, Any], field: str) -> str:
    if field == "source" and "source" in obj:
        return str((obj.get("source") or {}).get("component", ""))
    current: Any = obj
    for part in field.split("."):
        current = current.get(part) if isinstance(current, dict) else None
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def fields_match(requirements: list[tuple[str, str, str]], obj: dict[str, Any]) -> bool:
    for field, op, value in requirements:
        actual = field_value(obj, field)
        if (op == "=") != (actual == value):
            return False
    return True


# --------------------------------------------------------------------------------------------
# Patches

# Patch merge keys of the lists the collection writes (k8s.io/api struct tags).
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "hostAliases": "ip",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "secrets": "name",
    "addresses": "type",
    "taints": "key",
}


def _merge_key(field: str, kind: str, path: tuple[str, ...], items: list[Any]) -> str | None:
    if field == "ports":
        if kind == "Service" and path == ("spec",):
            return "port"
        if any(isinstance(i, dict) and "containerPort" in i for i in items):
            return "containerPort"
        if path and path[-1] in ("containers", "initContainers", "ephemeralContainers"):
            return "containerPort"
        return None
    if field == "addresses" and kind != "Node":
        return None
    return _MERGE_KEYS.get(field)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (``null`` deletes, lists replace)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any, kind: str, path: tuple[str, ...] = (), *, api_version: str | None = None) -> Any:
    """Strategic merge patch: a merge patch whose lists follow the kind's patch strategies.

    The strategies come from the OpenAPI schema of the built-in kind (``x-kubernetes-patch-strategy``
    and ``x-kubernetes-patch-merge-key``: containers and volumes merge by name, container ports by
    containerPort, Service ports by port, volumeMounts by mountPath, finalizers as a set; lists
    without a strategy, such as every NetworkPolicy list and tolerations, are replaced whole).
    Kinds without a schema fall back to the table of merge keys above. Directives: ``$patch:
    delete|replace|merge`` in maps and list items, ``$retainKeys``, ``$setElementOrder/<list>``
    and ``$deleteFromPrimitiveList/<list>``.
    """
    if api_version is not None:
        group, _, version = api_version.rpartition("/")
        schema = kube_schema.root_schema(group, version, kind)
    else:
        schema = kube_schema.kind_schema(kind)
    for key in path:
        schema = kube_schema.child_schema(schema, key)
    return _smp_map(target, patch, kind, path, schema, schema is not None)


def _smp_map(target: Any, patch: Any, kind: str, path: tuple[str, ...], schema: dict[str, Any] | None, typed: bool) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if directive == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
            continue
        field_schema = kube_schema.child_schema(schema, key) if typed else None
        if isinstance(value, list):
            result[key] = _smp_list(result.get(key), value, kind, (*path, key), field_schema, typed)
            continue
        merged = _smp_map(result.get(key), value, kind, (*path, key), field_schema, typed)
        if merged is None:
            result.pop(key, None)
        else:
            result[key] = merged
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/") and isinstance(result.get(key.split("/", 1)[1]), list):
            field = key.split("/", 1)[1]
            result[field] = [item for item in result[field] if item not in (value or [])]
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") and isinstance(result.get(key.split("/", 1)[1]), list):
            field = key.split("/", 1)[1]
            result[field] = _set_element_order(result[field], value or [], kube_schema.child_schema(schema, field) if typed else None, kind, (*path, field))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _list_strategy(current: Any, patch: list[Any], kind: str, path: tuple[str, ...], schema: dict[str, Any] | None,
                   typed: bool) -> tuple[bool, str | None]:
    """(merge?, merge key) of a list field."""
    if typed:
        strategies, key = kube_schema.patch_strategy(schema)
        return "merge" in strategies, key
    key = _merge_key(path[-1], kind, path[:-1], patch + list(current or []))
    return key is not None, key


def _smp_list(current: Any, patch: list[Any], kind: str, path: tuple[str, ...], schema: dict[str, Any] | None, typed: bool) -> list[Any]:
    if any(isinstance(item, dict) and item.get("$patch") == "replace" and len(item) == 1 for item in patch):
        return [_strip_directives(item) for item in patch if not (isinstance(item, dict) and item.get("$patch") == "replace")]
    merge, key = _list_strategy(current, patch, kind, path, schema, typed)
    if not merge or not isinstance(current, list):
        return [_strip_directives(item) for item in patch if not (isinstance(item, dict) and item.get("$patch") == "delete")]
    if key is None:  # a set of primitives (metadata.finalizers): union, in order
        result = copy.deepcopy(current)
        result += [item for item in patch if item not in result]
        return result
    item_schema = kube_schema.item_schema(schema) if typed else None
    result = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict):
            result.append(copy.deepcopy(item))
            continue
        if key not in item:
            shown = " ".join(f"{k}:{_go_repr(v).strip(chr(34))}" for k, v in sorted(item.items()))
            raise ApiError(500, "InternalError", f"Internal error occurred: map: map[{shown}] does not contain declared merge key: {key}", {})
        index = next((i for i, c in enumerate(result) if isinstance(c, dict) and c.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = _smp_map(result[index], item, kind, path, item_schema, typed)
    return result


def _set_element_order(items: list[Any], order: list[Any], schema: dict[str, Any] | None, kind: str, path: tuple[str, ...]) -> list[Any]:
    key = kube_schema.patch_strategy(schema)[1] if schema is not None else _merge_key(path[-1], kind, path[:-1], items)

    def identity(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [identity(entry) for entry in order]
    listed = sorted((i for i in items if identity(i) in wanted), key=lambda i: wanted.index(identity(i)))
    return listed + [i for i in items if identity(i) not in wanted]


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return copy.deepcopy(value)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", f'the server rejected our request due to an error in our request: invalid JSON pointer "{path}"', {})
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve_parent(doc: Any, parts: list[str], path: str) -> tuple[Any, str]:
    current = doc
    for part in parts[:-1]:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: doc is missing path: \"{path}\"", {})
    return current, parts[-1]


def json_patch(doc: Any, operations: Any) -> Any:
    """RFC 6902 JSON patch: add, remove, replace, move, copy, test."""
    if not isinstance(operations, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request("the server rejected our request due to an error in our request: invalid JSON patch operation")
        kind = op["op"]
        if kind in ("move", "copy"):
            source = _get_pointer(doc, op.get("from", ""))
            if kind == "move":
                doc = _apply_op(doc, "remove", op.get("from", ""), None)
            doc = _apply_op(doc, "add", op["path"], copy.deepcopy(source))
        elif kind == "test":
            if _get_pointer(doc, op["path"]) != op.get("value"):
                # kube-apiserver v1.36 names neither the operation nor the path here
                raise ApiError(422, "Invalid", "the server rejected our request due to an error in our request", {})
        elif kind in ("add", "remove", "replace"):
            doc = _apply_op(doc, kind, op["path"], copy.deepcopy(op.get("value")))
        else:
            raise bad_request(f'the server rejected our request due to an error in our request: unexpected kind: "{kind}"')
    return doc


def _get_pointer(doc: Any, path: str) -> Any:
    current = doc
    for part in _pointer(path):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise ApiError(422, "Invalid", f'the server rejected our request due to an error in our request: doc is missing path: "{path}"', {})
    return current


def _apply_op(doc: Any, kind: str, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value if kind != "remove" else None
    parent, last = _resolve_parent(doc, parts, path)
    missing = ApiError(422, "Invalid", f'the server rejected our request due to an error in our request: doc is missing key: "{path}"', {})
    if isinstance(parent, dict):
        if kind in ("remove", "replace") and last not in parent:
            raise missing
        if kind == "remove":
            del parent[last]
        else:
            parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and kind == "add":
            parent.append(value)
            return doc
        if not last.isdigit():
            raise missing
        index = int(last)
        if kind == "add":
            if index > len(parent):
                raise missing
            parent.insert(index, value)
        elif index >= len(parent):
            raise missing
        elif kind == "remove":
            del parent[index]
        else:
            parent[index] = value
    else:
        raise missing
    return doc


# --------------------------------------------------------------------------------------------
# Validation: the apiserver's Go validation (pkg/apis/*/validation) for the kinds the collection
# writes, with its field paths and messages. Structure and JSON types are the decoder's job
# (kube_schema.decode_builtin, run first); these are the rules a schema cannot say.

_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME = re.compile(f"^{_QUALIFIED_NAME_FMT}$")
_LABEL_VALUE = re.compile(f"^({_QUALIFIED_NAME_FMT})?$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_PORT_NAME_CHARS = re.compile(r"^[-a-z0-9]+$")
_PORT_NAME_LETTER = re.compile(r"[a-z]")
PROTOCOLS = ["SCTP", "TCP", "UDP"]
_CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
_IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


def _regex_error(message: str, fmt: str, *examples: str) -> str:
    """validation.RegexError: the message, examples and the regex, as the apiserver words it."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{fmt}')"


_SUBDOMAIN_MSG = _regex_error("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and "
                              "end with an alphanumeric character", "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", "example.com")
_LABEL_MSG = _regex_error("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an "
                          "alphanumeric character", "[a-z0-9]([-a-z0-9]*[a-z0-9])?", "my-name", "123-abc")
_DNS1035_MSG = _regex_error("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and "
                            "end with an alphanumeric character", "[a-z]([-a-z0-9]*[a-z0-9])?", "my-name", "abc-123")
_QUALIFIED_MSG = _regex_error("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                              _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
_LABEL_VALUE_MSG = _regex_error("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and "
                                "end with an alphanumeric character", f"({_QUALIFIED_NAME_FMT})?", "MyValue", "my_value", "12345")
_CONFIG_KEY_MSG = _regex_error("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", "[-._a-zA-Z0-9]+",
                               "key.name", "KEY_NAME", "key-name")


def _max_len(limit: int) -> str:
    return f"must be no more than {limit} characters"


def is_dns1123_subdomain(value: str) -> list[str]:
    errors = [_max_len(253)] if len(value) > 253 else []
    if not _DNS_SUBDOMAIN.match(value):
        errors.append(_SUBDOMAIN_MSG)
    return errors


def is_dns1123_label(value: str) -> list[str]:
    errors = [_max_len(63)] if len(value) > 63 else []
    if not _DNS_LABEL.match(value):
        errors.append("must not contain dots" if _DNS_SUBDOMAIN.match(value) else _LABEL_MSG)
    return errors


def is_dns1035_label(value: str) -> list[str]:
    errors = [_max_len(63)] if len(value) > 63 else []
    if not _DNS_1035.match(value):
        errors.append(_DNS1035_MSG)
    return errors


def is_qualified_name(value: str) -> list[str]:
    """validation.IsQualifiedName: label keys, annotation keys, finalizers."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) > 2:
        return ["a qualified name " + _QUALIFIED_MSG + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    name = parts[-1]
    if len(parts) == 2:
        if not parts[0]:
            errors.append("prefix part must be non-empty")
        else:
            errors += ["prefix part " + msg for msg in is_dns1123_subdomain(parts[0])]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part " + _max_len(63))
    if not _QUALIFIED_NAME.match(name):
        errors.append("name part " + _QUALIFIED_MSG)
    return errors


def is_valid_label_value(value: str) -> list[str]:
    errors = [_max_len(63)] if len(value) > 63 else []
    if not _LABEL_VALUE.match(value):
        errors.append(_LABEL_VALUE_MSG)
    return errors


def is_valid_port_num(value: Any) -> list[str]:
    return [] if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536 else ["must be between 1 and 65535, inclusive"]


def is_valid_port_name(value: str) -> list[str]:
    """validation.IsValidPortName: an IANA_SVC_NAME (named ports, Service targetPort names)."""
    errors = [_max_len(15)] if len(value) > 15 else []
    if not _PORT_NAME_CHARS.match(value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER.search(value):
        errors.append("must contain at least one letter (a-z)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value and (value[0] == "-" or value[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def is_config_map_key(value: str) -> list[str]:
    errors = [_max_len(253)] if len(value) > 253 else []
    if not _CONFIG_KEY.match(value):
        errors.append(_CONFIG_KEY_MSG)
    if value == ".":
        errors.append("must not be '.'")
    elif value == "..":
        errors.append("must not be '..'")
    elif value.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def _each(causes: list[Cause], field: str, value: Any, messages: list[str]) -> None:
    causes.extend(cause_invalid(field, value, msg) for msg in messages)


def _valid_cidr(value: Any) -> bool:
    try:
        ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        return False
    return "/" in str(value)


def _valid_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def validate_name(kind: str, name: str) -> list[Cause]:
    """metadata.name: a DNS-1123 label for Namespaces, a DNS-1035 label for Services, a DNS-1123 subdomain otherwise."""
    if not name:
        return [cause_required("metadata.name", "name or generateName is required")]
    check = is_dns1123_label if kind == "Namespace" else is_dns1035_label if kind == "Service" else is_dns1123_subdomain
    causes: list[Cause] = []
    _each(causes, "metadata.name", name, check(name))
    return causes


def _validate_metadata(kind: str, meta: dict[str, Any], causes: list[Cause]) -> None:
    causes.extend(validate_name(kind, meta.get("name") or ""))
    labels = meta.get("labels") or {}
    _validate_labels(labels, "metadata.labels", causes)
    for key in meta.get("annotations") or {}:
        _each(causes, "metadata.annotations", key, is_qualified_name(key.lower()))
    for index, finalizer in enumerate(meta.get("finalizers") or []):
        if isinstance(finalizer, str):
            _each(causes, f"metadata.finalizers[{index}]", finalizer, is_qualified_name(finalizer))
    # kube-apiserver's owner reference rules (found when a test loaded uid-less owner references into the real one)
    for ref in meta.get("ownerReferences") or []:
        if not isinstance(ref, dict):
            continue
        for key, detail in (("apiVersion", "version must not be empty"), ("kind", "must not be empty"), ("name", "must not be empty"),
                            ("uid", "must not be empty")):
            if not ref.get(key):
                causes.append(cause_invalid(f"metadata.ownerReferences.{key}", ref.get(key) or "", detail))


def _validate_labels(labels: Any, field: str, causes: list[Cause]) -> None:
    for key, value in (labels or {}).items():
        _each(causes, field, key, is_qualified_name(key))
        if isinstance(value, str):
            _each(causes, field, value, is_valid_label_value(value))


def _validate_label_selector(selector: Any, field: str, causes: list[Cause]) -> None:
    if not isinstance(selector, dict):
        return
    _validate_labels(selector.get("matchLabels"), f"{field}.matchLabels", causes)
    for index, expr in enumerate(selector.get("matchExpressions") or []):
        efield = f"{field}.matchExpressions[{index}]"
        operator, values = expr.get("operator") or "", expr.get("values") or []
        if operator in ("In", "NotIn"):
            if not values:
                causes.append(cause_required(f"{efield}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                causes.append(cause_forbidden(f"{efield}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            causes.append(cause_invalid(f"{efield}.operator", operator, "not a valid selector operator"))
        _each(causes, f"{efield}.key", expr.get("key") or "", is_qualified_name(expr.get("key") or ""))
        for vindex, value in enumerate(values):
            _each(causes, f"{efield}.values[{vindex}]", value, is_valid_label_value(value))


def _validate_pod_spec(spec: Any, field: str, causes: list[Cause], *, template: bool = False) -> None:
    if not isinstance(spec, dict):
        causes.append(cause_required(f"{field}.containers"))
        return
    volumes: set[str] = set()
    for index, volume in enumerate(spec.get("volumes") or []):
        vfield = f"{field}.volumes[{index}]"
        name = volume.get("name") or ""
        if not name:
            causes.append(cause_required(f"{vfield}.name"))
        elif name in volumes:
            causes.append(cause_duplicate(f"{vfield}.name", name))
        else:
            _each(causes, f"{vfield}.name", name, is_dns1123_label(name))
        volumes.add(name)
    containers = spec.get("containers") or []
    if not containers:
        causes.append(cause_required(f"{field}.containers"))
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(key) or []):
            _validate_container(container, f"{field}.{key}[{index}]", seen, volumes, causes)
    if template and spec.get("restartPolicy", "Always") != "Always":
        causes.append(cause_unsupported(f"{field}.restartPolicy", spec.get("restartPolicy"), ["Always"]))


def _validate_container(container: dict[str, Any], cfield: str, seen: set[str], volumes: set[str], causes: list[Cause]) -> None:
    name = container.get("name") or ""
    if not name:
        causes.append(cause_required(f"{cfield}.name"))
    elif name in seen:
        causes.append(cause_duplicate(f"{cfield}.name", name))
    else:
        _each(causes, f"{cfield}.name", name, is_dns1123_label(name))
    seen.add(name)
    if not container.get("image"):
        causes.append(cause_required(f"{cfield}.image"))
    port_names: set[str] = set()
    for pindex, port in enumerate(container.get("ports") or []):
        pfield = f"{cfield}.ports[{pindex}]"
        pname = port.get("name") or ""
        if pname:
            messages = is_valid_port_name(pname)
            if messages:
                _each(causes, f"{pfield}.name", pname, messages)
            elif pname in port_names:
                causes.append(cause_duplicate(f"{pfield}.name", pname))
            port_names.add(pname)
        number = port.get("containerPort")
        if not number:
            causes.append(cause_required(f"{pfield}.containerPort"))
        else:
            _each(causes, f"{pfield}.containerPort", number, is_valid_port_num(number))
        if port.get("hostPort"):
            _each(causes, f"{pfield}.hostPort", port["hostPort"], is_valid_port_num(port["hostPort"]))
        protocol = port.get("protocol", "TCP")
        if protocol not in PROTOCOLS:
            causes.append(cause_unsupported(f"{pfield}.protocol", protocol, PROTOCOLS))
    for eindex, env in enumerate(container.get("env") or []):
        if not env.get("name"):
            causes.append(cause_required(f"{cfield}.env[{eindex}].name"))
    for mindex, mount in enumerate(container.get("volumeMounts") or []):
        mfield = f"{cfield}.volumeMounts[{mindex}]"
        if not mount.get("name"):
            causes.append(cause_required(f"{mfield}.name"))
        elif mount["name"] not in volumes:
            causes.append(Cause("FieldValueNotFound", f"{mfield}.name", f"Not found: {_go_repr(mount['name'])}"))
        if not mount.get("mountPath"):
            causes.append(cause_required(f"{mfield}.mountPath"))


def _validate_netpol_port(port: dict[str, Any], pfield: str, causes: list[Cause]) -> None:
    protocol = port.get("protocol", "TCP")
    if protocol not in ("TCP", "UDP", "SCTP"):
        causes.append(cause_unsupported(f"{pfield}.protocol", protocol, ["TCP", "UDP", "SCTP"]))
    number, end = port.get("port"), port.get("endPort")
    if number is None:
        if end is not None:
            causes.append(cause_invalid(f"{pfield}.endPort", end, "may not be specified when `port` is not specified"))
    elif isinstance(number, int):
        _each(causes, f"{pfield}.port", number, is_valid_port_num(number))
        if end is not None:
            if end < number:
                # the apiserver names `port`'s value here, not endPort's
                causes.append(cause_invalid(f"{pfield}.endPort", number, "must be greater than or equal to `port`"))
            _each(causes, f"{pfield}.endPort", end, is_valid_port_num(end))
    else:
        if end is not None:
            causes.append(cause_invalid(f"{pfield}.endPort", end, "may not be specified when `port` is non-numeric"))
        _each(causes, f"{pfield}.port", number, is_valid_port_name(str(number)))


def _validate_netpol_peer(peer: dict[str, Any], field: str, causes: list[Cause]) -> None:
    peers = 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            peers += 1
            _validate_label_selector(peer[key], f"{field}.{key}", causes)
    block = peer.get("ipBlock")
    if block is not None:
        peers += 1
        bfield = f"{field}.ipBlock"
        cidr = block.get("cidr") or ""
        if not cidr:
            causes.append(cause_required(f"{bfield}.cidr"))
        elif not _valid_cidr(cidr):
            causes.append(cause_invalid(f"{bfield}.cidr", cidr, _CIDR_MSG))
        else:
            outer = ipaddress.ip_network(cidr, strict=False)
            for eindex, exc in enumerate(block.get("except") or []):
                efield = f"{bfield}.except[{eindex}]"
                if not _valid_cidr(exc):
                    causes.append(cause_invalid(efield, exc, _CIDR_MSG))
                    continue
                inner = ipaddress.ip_network(exc, strict=False)
                if inner.version != outer.version or inner.network_address not in outer or outer.prefixlen >= inner.prefixlen:
                    causes.append(cause_invalid(efield, exc, "must be a strict subset of `cidr`"))
    if peers == 0:
        causes.append(cause_required(field, "must specify a peer"))
    elif peers > 1 and block is not None:
        causes.append(cause_forbidden(field, "may not specify both ipBlock and another peer"))


def _validate_netpol(spec: dict[str, Any], causes: list[Cause]) -> None:
    _validate_label_selector(spec.get("podSelector"), "spec.podSelector", causes)
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for rindex, rule in enumerate(spec.get(direction) or []):
            rfield = f"spec.{direction}[{rindex}]"
            for pindex, port in enumerate(rule.get("ports") or []):
                _validate_netpol_port(port, f"{rfield}.ports[{pindex}]", causes)
            for peer_index, peer in enumerate(rule.get(peers_key) or []):
                _validate_netpol_peer(peer, f"{rfield}.{peers_key}[{peer_index}]", causes)
    types = spec.get("policyTypes") or []
    if len(types) > 2:
        causes.append(cause_invalid("spec.policyTypes", types, "may not specify more than two policyTypes"))
        return
    for index, ptype in enumerate(types):
        if ptype not in ("Ingress", "Egress"):
            causes.append(cause_unsupported(f"spec.policyTypes[{index}]", ptype, ["Ingress", "Egress"]))


SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
NODE_PORT_RANGE = (30000, 32767)


def _validate_service(spec: dict[str, Any], old: dict[str, Any] | None, causes: list[Cause]) -> None:
    stype = spec.get("type", "ClusterIP")
    if stype not in SERVICE_TYPES:
        causes.append(cause_unsupported("spec.type", stype, SERVICE_TYPES))
    if stype == "ExternalName":
        name = spec.get("externalName") or ""
        if not name:
            causes.append(cause_required("spec.externalName"))
        else:
            _each(causes, "spec.externalName", name, is_dns1123_subdomain(name.rstrip(".")))
    ports = spec.get("ports") or []
    if not ports and stype != "ExternalName" and spec.get("clusterIP") != "None":
        causes.append(cause_required("spec.ports"))
    names: set[str] = set()
    for index, port in enumerate(ports):
        pfield = f"spec.ports[{index}]"
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            causes.append(cause_required(f"{pfield}.name"))
        elif name:
            _each(causes, f"{pfield}.name", name, is_dns1123_label(name))
            if name in names:
                causes.append(cause_duplicate(f"{pfield}.name", name))
            names.add(name)
        number = port.get("port") or 0
        _each(causes, f"{pfield}.port", number, is_valid_port_num(number))
        protocol = port.get("protocol", "TCP")
        if protocol not in PROTOCOLS:
            causes.append(cause_unsupported(f"{pfield}.protocol", protocol, PROTOCOLS))
        target = port.get("targetPort")
        if isinstance(target, str):
            _each(causes, f"{pfield}.targetPort", target, is_valid_port_name(target))
        elif target is not None:
            _each(causes, f"{pfield}.targetPort", target, is_valid_port_num(target))
        node_port = port.get("nodePort")
        if node_port:
            if stype in ("ClusterIP", "ExternalName"):
                causes.append(cause_forbidden(f"{pfield}.nodePort", f"may not be used when `type` is '{stype}'"))
            elif not NODE_PORT_RANGE[0] <= node_port <= NODE_PORT_RANGE[1]:
                causes.append(cause_invalid(f"{pfield}.nodePort", node_port, "provided port is not in the valid range. The range of valid ports is "
                                                                              f"{NODE_PORT_RANGE[0]}-{NODE_PORT_RANGE[1]}"))
    seen_ports: set[tuple[Any, Any]] = set()
    for index, port in enumerate(ports):
        key = (port.get("protocol", "TCP"), port.get("port") or 0)
        if key in seen_ports:
            causes.append(Cause("FieldValueDuplicate", f"spec.ports[{index}]",
                                f'Duplicate value: core.ServicePort{{Name:"", Protocol:"{key[0]}", AppProtocol:(*string)(nil), Port:{key[1]}, '
                                'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'))
        seen_ports.add(key)
    affinity = spec.get("sessionAffinity")
    if affinity is not None and affinity not in ("ClientIP", "None"):
        causes.append(cause_unsupported("spec.sessionAffinity", affinity, ["ClientIP", "None"]))
    policy = spec.get("externalTrafficPolicy")
    if policy:
        if stype not in ("NodePort", "LoadBalancer"):
            causes.append(cause_invalid("spec.externalTrafficPolicy", policy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
        elif policy not in ("Cluster", "Local"):
            causes.append(cause_unsupported("spec.externalTrafficPolicy", policy, ["Cluster", "Local"]))
    ranges = spec.get("loadBalancerSourceRanges") or []
    if ranges and stype != "LoadBalancer":
        causes.append(cause_forbidden("spec.loadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'"))
    for index, value in enumerate(ranges):
        if not _valid_cidr(value):
            causes.append(cause_invalid(f"spec.loadBalancerSourceRanges[{index}]", value, _CIDR_MSG))
    cluster_ip = spec.get("clusterIP")
    if cluster_ip and cluster_ip != "None" and not _valid_ip(cluster_ip):
        causes.append(cause_invalid("spec.clusterIPs[0]", cluster_ip, _IP_MSG))
    if old is not None:
        old_ip = (old.get("spec") or {}).get("clusterIP")
        if cluster_ip and old_ip and cluster_ip != old_ip and stype != "ExternalName":
            causes.append(cause_invalid("spec.clusterIPs[0]", spec.get("clusterIPs") or [cluster_ip], "may not change once set"))


_INGRESS_PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"]


def _validate_ingress_backend(backend: Any, bfield: str, causes: list[Cause]) -> None:
    if not isinstance(backend, dict):
        return
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        causes.append(cause_invalid(bfield, "", "cannot set both resource and service backends"))
    elif service is not None:
        name = service.get("name") or ""
        if not name:
            causes.append(cause_required(f"{bfield}.service.name"))
        else:
            _each(causes, f"{bfield}.service.name", name, is_dns1035_label(name))
        port = service.get("port") or {}
        port_name, number = port.get("name") or "", port.get("number") or 0
        if port_name and number:
            causes.append(cause_invalid(bfield, "", "cannot set both port name & port number"))
        elif port_name:
            _each(causes, f"{bfield}.service.port.name", port_name, is_valid_port_name(port_name))
        elif number:
            _each(causes, f"{bfield}.service.port.number", number, is_valid_port_num(number))
        else:
            causes.append(cause_required(bfield, "port name or number is required"))
    elif resource is None:
        causes.append(cause_invalid(bfield, "", "resource or service backend is required"))


def _validate_ingress(spec: dict[str, Any], causes: list[Cause]) -> None:
    rules = spec.get("rules") or []
    if not rules and spec.get("defaultBackend") is None:
        causes.append(cause_invalid("spec", rules, "either `defaultBackend` or `rules` must be specified"))
    if spec.get("defaultBackend") is not None:
        _validate_ingress_backend(spec["defaultBackend"], "spec.defaultBackend", causes)
    class_name = spec.get("ingressClassName")
    if class_name:
        _each(causes, "spec.ingressClassName", class_name, is_dns1123_subdomain(class_name))
    for rindex, rule in enumerate(rules):
        rfield = f"spec.rules[{rindex}]"
        host = rule.get("host") or ""
        if host:
            if _valid_ip(host):
                causes.append(cause_invalid(f"{rfield}.host", host, "must be a DNS name, not an IP address"))
            else:
                _each(causes, f"{rfield}.host", host, is_dns1123_subdomain(host[2:] if host.startswith("*.") else host))
        http = rule.get("http")
        if http is None:
            continue
        paths = http.get("paths") or []
        if not paths:
            causes.append(cause_required(f"{rfield}.http.paths"))
        for pindex, path in enumerate(paths):
            pfield = f"{rfield}.http.paths[{pindex}]"
            ptype, value = path.get("pathType"), path.get("path") or ""
            if not ptype:
                causes.append(cause_required(f"{pfield}.pathType", "pathType must be specified"))
            elif ptype in ("Exact", "Prefix"):
                if not value.startswith("/"):
                    causes.append(cause_invalid(f"{pfield}.path", value, "must be an absolute path"))
                for sequence in ("//", "/./", "/../", "%2f", "%2F"):
                    if sequence in value:
                        causes.append(cause_invalid(f"{pfield}.path", value, f"must not contain '{sequence}'"))
                for suffix in ("/..", "/."):
                    if value.endswith(suffix):
                        causes.append(cause_invalid(f"{pfield}.path", value, f"cannot end with '{suffix}'"))
            elif ptype == "ImplementationSpecific":
                if value and not value.startswith("/"):
                    causes.append(cause_invalid(f"{pfield}.path", value, "must be an absolute path"))
            else:
                causes.append(cause_unsupported(f"{pfield}.pathType", ptype, _INGRESS_PATH_TYPES))
            if ptype:
                _validate_ingress_backend(path.get("backend"), f"{pfield}.backend", causes)


def _validate_workload(kind: str, obj: dict[str, Any], old: dict[str, Any] | None, causes: list[Cause]) -> None:
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if selector is None:
        causes.append(cause_required("spec.selector"))
    else:
        _validate_label_selector(selector, "spec.selector", causes)
        if not (selector.get("matchLabels") or selector.get("matchExpressions")):
            causes.append(cause_invalid("spec.selector", selector, f"empty selector is invalid for {kind.lower()}"))
        elif not selector_object_matches(selector, labels):
            causes.append(cause_invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"))
    if old is not None and selector and (old.get("spec") or {}).get("selector") != selector:
        causes.append(cause_invalid("spec.selector", selector, "field is immutable"))
    _validate_labels(labels, "spec.template.metadata.labels", causes)
    replicas = spec.get("replicas")
    if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
        causes.append(cause_invalid("spec.replicas", replicas, "must be greater than or equal to 0"))
    _validate_pod_spec(template.get("spec"), "spec.template.spec", causes, template=True)


def _validate_data_keys(obj: dict[str, Any], causes: list[Cause]) -> None:
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    for field, values in (("data", data), ("binaryData", binary)):
        for key in values:
            _each(causes, f"{field}[{key}]", key, is_config_map_key(key))
    for key in binary:
        if key in data:
            causes.append(cause_invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))


def validate(kind: str, group: str, obj: dict[str, Any], old: dict[str, Any] | None = None, extra: list[Cause] | None = None) -> None:
    """Raise a 422 Invalid ApiError when ``obj`` breaks the apiserver's rules checked here.

    ``extra``: causes found before (required fields the decoder saw missing); a cause for a
    field these rules already name is not repeated.
    """
    metadata = obj.get("metadata") or {}
    name = metadata.get("name") or ""
    causes: list[Cause] = []
    _validate_metadata(kind, metadata, causes)
    spec = obj.get("spec") or {}
    if kind == "NetworkPolicy" and group == "networking.k8s.io":
        _validate_netpol(spec, causes)
    elif kind == "Service" and group == "":
        _validate_service(spec, old, causes)
    elif kind == "Pod" and group == "":
        _validate_pod_spec(spec, "spec", causes)
    elif kind in ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet") and group == "apps":
        _validate_workload(kind, obj, old, causes)
    elif kind == "Ingress" and group == "networking.k8s.io":
        _validate_ingress(spec, causes)
    elif kind == "IngressClass" and group == "networking.k8s.io":
        if not spec.get("controller"):
            causes.append(cause_required("spec.controller"))
    elif kind == "ConfigMap" and group == "":
        _validate_data_keys(obj, causes)
    elif kind == "Secret" and group == "":
        _validate_data_keys(obj, causes)
        if obj.get("type") == "kubernetes.io/tls":
            for key in ("tls.crt", "tls.key"):
                if key not in (obj.get("data") or {}):
                    causes.append(cause_required(f"data[{key}]"))
    named = {c.field for c in causes}
    for cause in extra or []:
        # ownerReferences[i].uid missing: kube-apiserver names it once, without the index (metadata.ownerReferences.uid)
        if cause.field not in named and re.sub(r"\[\d+\]", "", cause.field) not in named:
            causes.append(cause)
    if causes:
        raise invalid(kind, group, name, causes)

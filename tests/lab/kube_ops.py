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


def _go_repr(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def invalid(kind: str, group: str, name: str, causes: list[Cause]) -> ApiError:
    qualified_kind = f"{kind}.{group}" if group else kind
    text = causes[0].text() if len(causes) == 1 else "[" + ", ".join(c.text() for c in causes) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    details["causes"] = [{"reason": c.reason, "message": c.message, "field": c.field} for c in causes]
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {text}', details)


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


def strategic_merge_patch(target: Any, patch: Any, kind: str, path: tuple[str, ...] = ()) -> Any:
    """Strategic merge patch: a merge patch whose object lists merge by their patch merge key.

    Supports ``$patch: delete`` / ``$patch: replace`` in maps and list items, ignores
    ``$setElementOrder/...`` and ``$retainKeys`` directives, replaces primitive lists.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
            continue
        if isinstance(value, list):
            merge_key = _merge_key(key, kind, path, value + list(result.get(key) or []))
            if merge_key and isinstance(result.get(key), list):
                result[key] = _merge_list(result[key], value, merge_key, kind, (*path, key))
            else:
                result[key] = [_strip_directives(v) for v in value if not (isinstance(v, dict) and v.get("$patch") == "delete")]
            continue
        merged = strategic_merge_patch(result.get(key), value, kind, (*path, key))
        if merged is None:
            result.pop(key, None)
        else:
            result[key] = merged
    return result


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return copy.deepcopy(value)


def _merge_list(current: list[Any], patch: list[Any], key: str, kind: str, path: tuple[str, ...]) -> list[Any]:
    result = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            result.append(_strip_directives(item))
            continue
        index = next((i for i, c in enumerate(result) if isinstance(c, dict) and c.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = strategic_merge_patch(result[index], item, kind, path)
    return result


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
                raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: testing value {op['path']} failed", {})
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
# Validation (the part of the apiserver's rules for the kinds the collection writes)

_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with "
    "an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and "
    "end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
PROTOCOLS = ["SCTP", "TCP", "UDP"]


def validate_name(kind: str, name: str) -> list[Cause]:
    if not name:
        return [cause_required("metadata.name", "name or generateName is required")]
    if kind == "Namespace":
        ok, msg, limit = _DNS_LABEL.match(name), _LABEL_MSG, 63
    elif kind == "Service":
        ok, msg, limit = _DNS_1035.match(name), _DNS1035_MSG, 63
    else:
        ok, msg, limit = _DNS_SUBDOMAIN.match(name), _SUBDOMAIN_MSG, 253
    if len(name) > limit:
        return [cause_invalid("metadata.name", name, f"must be no more than {limit} characters")]
    if not ok:
        return [cause_invalid("metadata.name", name, msg)]
    return []


def _validate_ports_protocol(ports: Any, field: str, causes: list[Cause]) -> None:
    for index, port in enumerate(ports or []):
        if not isinstance(port, dict):
            continue
        protocol = port.get("protocol", "TCP")
        if protocol not in PROTOCOLS:
            causes.append(cause_unsupported(f"{field}[{index}].protocol", protocol, PROTOCOLS))


def _validate_pod_spec(spec: Any, field: str, causes: list[Cause]) -> None:
    if not isinstance(spec, dict):
        causes.append(cause_required(f"{field}.containers"))
        return
    containers = spec.get("containers") or []
    if not containers:
        causes.append(cause_required(f"{field}.containers"))
    seen: set[str] = set()
    for index, container in enumerate(containers):
        cfield = f"{field}.containers[{index}]"
        name = container.get("name") or ""
        if not name:
            causes.append(cause_required(f"{cfield}.name"))
        elif not _DNS_LABEL.match(name):
            causes.append(cause_invalid(f"{cfield}.name", name, _LABEL_MSG))
        elif name in seen:
            causes.append(cause_duplicate(f"{cfield}.name", name))
        seen.add(name)
        if not container.get("image"):
            causes.append(cause_required(f"{cfield}.image"))
        _validate_ports_protocol(container.get("ports"), f"{cfield}.ports", causes)
        for pindex, port in enumerate(container.get("ports") or []):
            number = port.get("containerPort")
            if not isinstance(number, int) or not 0 < number < 65536:
                causes.append(cause_invalid(f"{cfield}.ports[{pindex}].containerPort", number, "must be between 1 and 65535, inclusive"))


def _valid_cidr(value: Any) -> bool:
    try:
        ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return False
    return "/" in str(value)


def _validate_netpol(spec: dict[str, Any], causes: list[Cause]) -> None:
    for index, ptype in enumerate(spec.get("policyTypes") or []):
        if ptype not in ("Ingress", "Egress"):
            causes.append(cause_unsupported(f"spec.policyTypes[{index}]", ptype, ["Egress", "Ingress"]))
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for rindex, rule in enumerate(spec.get(direction) or []):
            rfield = f"spec.{direction}[{rindex}]"
            _validate_ports_protocol(rule.get("ports"), f"{rfield}.ports", causes)
            for pindex, port in enumerate(rule.get("ports") or []):
                number, end = port.get("port"), port.get("endPort")
                if isinstance(number, int) and not 0 < number < 65536:
                    causes.append(cause_invalid(f"{rfield}.ports[{pindex}].port", number, "must be between 1 and 65535, inclusive"))
                if end is not None and (not isinstance(number, int) or end < number):
                    causes.append(cause_invalid(f"{rfield}.ports[{pindex}].endPort", end, "must be greater than or equal to `port`"))
            for peer_index, peer in enumerate(rule.get(peers_key) or []):
                block = peer.get("ipBlock")
                if block is None:
                    continue
                bfield = f"{rfield}.{peers_key}[{peer_index}].ipBlock"
                cidr = block.get("cidr")
                if not cidr:
                    causes.append(cause_required(f"{bfield}.cidr"))
                elif not _valid_cidr(cidr):
                    causes.append(cause_invalid(f"{bfield}.cidr", cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
                for eindex, exc in enumerate(block.get("except") or []):
                    if not _valid_cidr(exc):
                        causes.append(cause_invalid(f"{bfield}.except[{eindex}]", exc, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
                    elif cidr and _valid_cidr(cidr):
                        inner, outer = ipaddress.ip_network(exc, strict=False), ipaddress.ip_network(cidr, strict=False)
                        if inner.version != outer.version or not inner.subnet_of(outer):  # type: ignore[arg-type]
                            causes.append(cause_invalid(f"{bfield}.except[{eindex}]", exc, "must be a strict subset of `cidr`"))


SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def _validate_service(spec: dict[str, Any], causes: list[Cause]) -> None:
    stype = spec.get("type", "ClusterIP")
    if stype not in SERVICE_TYPES:
        causes.append(cause_unsupported("spec.type", stype, SERVICE_TYPES))
    ports = spec.get("ports") or []
    if not ports and stype != "ExternalName":
        causes.append(cause_required("spec.ports"))
    _validate_ports_protocol(ports, "spec.ports", causes)
    names: set[str] = set()
    for index, port in enumerate(ports):
        number = port.get("port")
        if not isinstance(number, int) or not 0 < number < 65536:
            causes.append(cause_invalid(f"spec.ports[{index}].port", number, "must be between 1 and 65535, inclusive"))
        name = port.get("name")
        if len(ports) > 1 and not name:
            causes.append(cause_required(f"spec.ports[{index}].name"))
        elif name and name in names:
            causes.append(cause_duplicate(f"spec.ports[{index}].name", name))
        if name:
            names.add(name)
        target = port.get("targetPort")
        if isinstance(target, int) and not 0 < target < 65536:
            causes.append(cause_invalid(f"spec.ports[{index}].targetPort", target, "must be between 1 and 65535, inclusive"))


def _validate_ingress(spec: dict[str, Any], causes: list[Cause]) -> None:
    for rindex, rule in enumerate(spec.get("rules") or []):
        for pindex, path in enumerate((rule.get("http") or {}).get("paths") or []):
            pfield = f"spec.rules[{rindex}].http.paths[{pindex}]"
            ptype = path.get("pathType")
            if not ptype:
                causes.append(cause_required(f"{pfield}.pathType", "pathType must be specified"))
            elif ptype not in ("Exact", "ImplementationSpecific", "Prefix"):
                causes.append(cause_unsupported(f"{pfield}.pathType", ptype, ["Exact", "ImplementationSpecific", "Prefix"]))
            if ptype in ("Exact", "Prefix") and not str(path.get("path", "")).startswith("/"):
                causes.append(cause_invalid(f"{pfield}.path", path.get("path", ""), "must be an absolute path"))


def _validate_workload(kind: str, obj: dict[str, Any], old: dict[str, Any] | None, causes: list[Cause]) -> None:
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not selector:
        causes.append(cause_required("spec.selector"))
    elif not selector_object_matches(selector, labels):
        causes.append(cause_invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"))
    if old is not None and selector and (old.get("spec") or {}).get("selector") != selector:
        causes.append(cause_invalid("spec.selector", selector, "field is immutable"))
    replicas = spec.get("replicas")
    if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
        causes.append(cause_invalid("spec.replicas", replicas, "must be greater than or equal to 0"))
    _validate_pod_spec(template.get("spec"), "spec.template.spec", causes)


def validate(kind: str, group: str, obj: dict[str, Any], old: dict[str, Any] | None = None) -> None:
    """Raise a 422 Invalid ApiError when ``obj`` breaks the apiserver's rules checked here."""
    metadata = obj.get("metadata") or {}
    name = metadata.get("name") or ""
    causes = validate_name(kind, name)
    for key, value in (metadata.get("labels") or {}).items():
        prefix, _, label_name = key.rpartition("/")
        if not _LABEL_NAME.match(label_name) or len(label_name) > 63 or (prefix and not _DNS_SUBDOMAIN.match(prefix)):
            causes.append(cause_invalid("metadata.labels", key, "name part must consist of alphanumeric characters, '-', '_' or '.'"))
        elif not isinstance(value, str) or (value and (len(value) > 63 or not _LABEL_NAME.match(value))):
            causes.append(cause_invalid("metadata.labels", value, "a valid label must be an empty string or consist of alphanumeric characters"))
    spec = obj.get("spec") or {}
    if kind == "NetworkPolicy" and group == "networking.k8s.io":
        _validate_netpol(spec, causes)
    elif kind == "Service" and group == "":
        _validate_service(spec, causes)
        if old is not None:
            old_ip = (old.get("spec") or {}).get("clusterIP")
            new_ip = spec.get("clusterIP")
            if new_ip and old_ip and new_ip != old_ip:
                causes.append(cause_invalid("spec.clusterIP", new_ip, "field is immutable"))
    elif kind == "Pod" and group == "":
        _validate_pod_spec(spec, "spec", causes)
    elif kind in ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet") and group == "apps":
        _validate_workload(kind, obj, old, causes)
    elif kind == "Ingress" and group == "networking.k8s.io":
        _validate_ingress(spec, causes)
    elif kind == "ConfigMap" and group == "":
        for key, value in (obj.get("data") or {}).items():
            if not isinstance(value, str):
                causes.append(cause_invalid(f"data[{key}]", value, "must be a string"))
    if causes:
        raise invalid(kind, group, name, causes)

"""OpenAPI schemas behind the lab's Kubernetes emulator.

Three jobs, each answered the way a kube-apiserver answers it:

* **Decoding built-in kinds** (:func:`decode_builtin`). The apiserver decodes a request body into
  the kind's Go struct before anything else: a value of the wrong JSON type is a 400 BadRequest
  (``json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type
  int32``), a field the struct lacks is an *unknown field* (dropped, then a ``Warning`` header,
  a silent drop or a 400 ``strict decoding error`` depending on ``fieldValidation``). The
  structs are read from the strict OpenAPI schema of the emulated version as shipped by the
  ``kubernetes-validate`` package; fields the schema marks required are reported as
  ``FieldValueRequired`` causes (422) where the apiserver's Go validation requires them too.
* **CRD structural schemas** (:func:`validate_custom`): unknown fields are pruned (same
  ``fieldValidation`` handling), everything else the schema rejects is a 422 Invalid cause with
  the apiextensions wording (``spec.x in body must be of type integer: "string"``,
  ``Unsupported value``, ``should match '...'``). :data:`CILIUM_POLICY_SCHEMA` is the
  CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy schema of the Cilium release the lab's
  cluster runs (kube_defaults: Cilium 1.17).
* **Patch strategies** (:func:`patch_strategy`): ``x-kubernetes-patch-strategy`` and
  ``x-kubernetes-patch-merge-key`` of a field, for strategic merge patch.

Each kind's decoder is compiled once and cached (the test suites write thousands of objects).
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import ipaddress
import json
import os
import re
import threading
from typing import Any

from tests.lab import kube_defaults

# --------------------------------------------------------------------------------------------
# Which schema: the emulated cluster's minor version


def _minor(version: str) -> tuple[int, int]:
    major, minor = re.match(r"^v?(\d+)\.(\d+)", version).groups()  # type: ignore[union-attr]
    return int(major), int(minor)


def schema_directory(version: str = kube_defaults.KUBERNETES_VERSION) -> tuple[str, str]:
    """(directory, shipped version) of the strict schemas for ``version``.

    kubernetes-validate ships one directory per minor version (``v1.32.0-local-strict`` ...); a
    minor's API does not change between patch releases, so v1.32.7 is checked against v1.32.0.
    When the package does not ship the emulated minor, the newest shipped minor that is not
    newer is used (an older schema refuses fields added later, never accepts ones removed).
    """
    spec = importlib.util.find_spec("kubernetes_validate")  # the data only: importing the package would load jsonschema
    if spec is None or spec.origin is None:
        raise RuntimeError("the lab needs the kubernetes-validate package (tests/requirements.txt) for the Kubernetes OpenAPI schemas")
    root = os.path.join(os.path.dirname(spec.origin), "kubernetes-json-schema")
    wanted = _minor(version)
    shipped = sorted((_minor(name), name) for name in os.listdir(root) if name.endswith("-local-strict") and re.match(r"^v\d+\.\d+", name))
    usable = [entry for entry in shipped if entry[0] <= wanted]
    if not usable:
        raise RuntimeError(f"kubernetes-validate ships no schema for Kubernetes {version} or older")
    _minor_version, name = usable[-1]
    return os.path.join(root, name), name.split("-", 1)[0]


@functools.lru_cache(maxsize=1)
def _definitions() -> dict[str, Any]:
    directory, _shipped = schema_directory()
    with open(os.path.join(directory, "_definitions.json"), encoding="utf-8") as handle:
        return json.load(handle)["$defs"]


@functools.lru_cache(maxsize=1)
def _kinds() -> dict[tuple[str, str, str], str]:
    """(group, version, kind) -> definition name."""
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in _definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            index.setdefault((gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")), name)
    return index


def definition_of(group: str, version: str, kind: str) -> str | None:
    return _kinds().get((group, version, kind))


def _resolve(schema: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    ref = schema.get("$ref")
    if not ref:
        return None, schema
    name = ref.rsplit("/", 1)[-1]
    return name, _definitions()[name]


# --------------------------------------------------------------------------------------------
# Built-in kinds: the decoder


class DecodeResult:
    """What decoding found: the first type error (400), unknown fields, required-field causes."""

    def __init__(self) -> None:
        self.type_error: str | None = None
        self.unknown: list[str] = []
        self.required: list[str] = []

    def mismatch(self, value: Any, struct: str, gopath: str, go_type: str) -> None:
        if self.type_error is None:
            where = f"Go struct field {struct}.{gopath}" if struct and gopath else "Go value"
            self.type_error = f"json: cannot unmarshal {_json_kind(value)} into {where} of type {go_type}"

    def value_error(self, message: str) -> None:
        if self.type_error is None:
            self.type_error = message


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return json.dumps(value)


_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1), "int": (-(2**63), 2**63 - 1)}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_B64 = re.compile(r"[A-Za-z0-9+/=]")

# Fields the OpenAPI schema lists as required that the apiserver's Go validation does not require
# (the zero value is accepted or refused by another rule with another message): an absent
# NetworkPolicy podSelector selects every pod; absent port numbers are 0 and refused by the range
# rule ("must be between 1 and 65535, inclusive").
_NOT_REQUIRED = {
    ("io.k8s.api.networking.v1.NetworkPolicySpec", "podSelector"),
    ("io.k8s.api.core.v1.ServicePort", "port"),
    ("io.k8s.api.core.v1.ContainerPort", "containerPort"),
    ("io.k8s.api.core.v1.HTTPGetAction", "port"),
    ("io.k8s.api.core.v1.TCPSocketAction", "port"),
    ("io.k8s.api.core.v1.GRPCAction", "port"),
}


class _Node:
    go_type = "interface {}"

    def check(self, value: Any, result: DecodeResult, path: str, gopath: str, struct: str) -> None:
        """Check ``value`` (not None); unknown fields are removed from it in place."""


class _Any(_Node):
    pass


class _Scalar(_Node):
    def __init__(self, json_type: str, fmt: str | None) -> None:
        self.json_type = json_type
        self.fmt = fmt
        if json_type == "integer":
            self.go_type = fmt if fmt in ("int32", "int64") else "int"
        elif json_type == "number":
            self.go_type = "float64"
        elif json_type == "boolean":
            self.go_type = "bool"
        else:
            self.go_type = "[]uint8" if fmt == "byte" else "string"

    def check(self, value: Any, result: DecodeResult, path: str, gopath: str, struct: str) -> None:
        if self.json_type == "string":
            if not isinstance(value, str):
                result.mismatch(value, struct, gopath, self.go_type)
            elif self.fmt == "byte":
                _check_base64(value, result)
        elif self.json_type == "boolean":
            if not isinstance(value, bool):
                result.mismatch(value, struct, gopath, self.go_type)
        elif self.json_type == "integer":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                result.mismatch(value, struct, gopath, self.go_type)
            else:
                low, high = _INT_RANGES[self.go_type]
                if isinstance(value, float) or not low <= value <= high:
                    where = f"Go struct field {struct}.{gopath}" if struct and gopath else "Go value"
                    result.value_error(f"json: cannot unmarshal number {_number_text(value)} into {where} of type {self.go_type}")
        elif self.json_type == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            result.mismatch(value, struct, gopath, self.go_type)


def _check_base64(text: str, result: DecodeResult) -> None:
    for index, char in enumerate(text):
        if not _B64.match(char) or (char == "=" and text[index:].strip("=")):
            result.value_error(f"illegal base64 data at input byte {index}")
            return
    if len(text) % 4:
        result.value_error(f"illegal base64 data at input byte {len(text) - len(text) % 4}")
        return
    try:
        base64.b64decode(text, validate=True)
    except ValueError:
        result.value_error(f"illegal base64 data at input byte {max(len(text) - 1, 0)}")


class _IntOrString(_Node):
    go_type = "intstr.IntOrString"

    def check(self, value: Any, result: DecodeResult, path: str, gopath: str, struct: str) -> None:
        if isinstance(value, str):
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            result.value_error(f"json: cannot unmarshal {_json_kind(value)} into Go value of type int32")
        elif isinstance(value, float) or not -(2**31) <= value < 2**31:
            result.value_error(f"json: cannot unmarshal number {_number_text(value)} into Go value of type int32")


class _Quantity(_Node):
    go_type = "resource.Quantity"

    def check(self, value: Any, result: DecodeResult, path: str, gopath: str, struct: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or (isinstance(value, str) and not _QUANTITY.match(value.strip())):
            result.value_error(_QUANTITY_ERROR)


class _Time(_Node):
    go_type = "v1.Time"

    def check(self, value: Any, result: DecodeResult, path: str, gopath: str, struct: str) -> None:
        if not isinstance(value, str):
            result.value_error(f"json: cannot unmarshal {_json_kind(value)} into Go value of type string")


class _Array(_Node):
    def __init__(self, item: _Node) -> None:
        self.item = item

    @property
    def go_type(self) -> str:  # type: ignore[override]
        return "[]" + self.item.go_type

    def check(self, value: Any, result: DecodeResult, path: str, gopath: str, struct: str) -> None:
        if not isinstance(value, list):
            result.mismatch(value, struct, gopath, self.go_type)
            return
        item = self.item
        for index, element in enumerate(value):
            if element is not None:
                item.check(element, result, f"{path}[{index}]", gopath, struct)


class _Map(_Node):
    def __init__(self, item: _Node) -> None:
        self.item = item

    @property
    def go_type(self) -> str:  # type: ignore[override]
        return "map[string]" + self.item.go_type

    def check(self, value: Any, result: DecodeResult, path: str, gopath: str, struct: str) -> None:
        if not isinstance(value, dict):
            result.mismatch(value, struct, gopath, self.go_type)
            return
        item = self.item
        for key, element in value.items():
            if element is not None:
                item.check(element, result, f"{path}[{key}]", gopath, struct)


class _Ref(_Node):
    """A reference to a definition, compiled on first use (definitions can be recursive)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._node: _Node | None = None

    @property
    def node(self) -> _Node:
        if self._node is None:
            self._node = _compile_definition(self.name)
        return self._node

    @property
    def go_type(self) -> str:  # type: ignore[override]
        return self.node.go_type

    def check(self, value: Any, result: DecodeResult, path: str, gopath: str, struct: str) -> None:
        self.node.check(value, result, path, gopath, struct)


class _Struct(_Node):
    def __init__(self, name: str, schema: dict[str, Any]) -> None:
        self.name = name
        parts = name.split(".")
        self.short = parts[-1]
        self.go_type = f"{parts[-2]}.{parts[-1]}" if len(parts) > 1 else parts[-1]
        self.strict = schema.get("additionalProperties") is False
        # references to other definitions stay lazy (_Ref), so compiling a struct never recurses
        self.properties: dict[str, _Node] = {key: _compile(prop) for key, prop in (schema.get("properties") or {}).items()}
        self.required = tuple(r for r in schema.get("required") or [] if (name, r) not in _NOT_REQUIRED)

    def check(self, value: Any, result: DecodeResult, path: str, gopath: str, struct: str) -> None:
        if not isinstance(value, dict):
            result.mismatch(value, struct, gopath, self.go_type)
            return
        properties = self.properties
        unknown = []
        for key, element in value.items():
            node = properties.get(key)
            child = f"{path}.{key}" if path else key
            if node is None:
                if self.strict:
                    unknown.append(key)
                    result.unknown.append(child)
                continue
            if element is not None:
                node.check(element, result, child, f"{gopath}.{key}" if gopath else key, self.short)
        for key in unknown:
            del value[key]
        for key in self.required:
            if value.get(key) is None or value.get(key) == "":
                result.required.append(f"{path}.{key}" if path else key)


_SPECIAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": _IntOrString,
    "io.k8s.apimachinery.pkg.api.resource.Quantity": _Quantity,
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": _Time,
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": _Time,
}
_COMPILED: dict[str, _Node] = {}
_COMPILE_LOCK = threading.Lock()  # several emulators (threads) may share this process


def _compile_definition(name: str) -> _Node:
    """The decoder of one definition, compiled once per process (complete before it is shared)."""
    node = _COMPILED.get(name)
    if node is not None:
        return node
    with _COMPILE_LOCK:
        node = _COMPILED.get(name)
        if node is None:
            special = _SPECIAL.get(name)
            schema = _definitions()[name]
            node = special() if special is not None else _Struct(name, schema) if "properties" in schema else _compile(schema)
            _COMPILED[name] = node
        return node


def _compile(schema: dict[str, Any]) -> _Node:
    if "$ref" in schema:
        return _Ref(schema["$ref"].rsplit("/", 1)[-1])
    types = schema.get("type")
    types = [t for t in (types if isinstance(types, list) else [types]) if t and t != "null"]
    if not types:
        return _Any()
    json_type = types[0]
    if json_type == "array":
        return _Array(_compile(schema.get("items") or {}))
    if json_type == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return _Map(_compile(extra))
        return _Any()  # free-form objects (RawExtension, FieldsV1)
    return _Scalar(json_type, schema.get("format"))


@functools.cache
def _root(group: str, version: str, kind: str) -> _Node | None:
    name = definition_of(group, version, kind)
    return _compile_definition(name) if name else None


def decode_builtin(group: str, version: str, kind: str, obj: dict[str, Any]) -> DecodeResult | None:
    """Decode ``obj`` (in place: unknown fields are removed) as the apiserver's strict decoder would.

    None when the schema has no such kind (not a built-in kind of the emulated version).
    """
    root = _root(group, version, kind)
    if root is None:
        return None
    result = DecodeResult()
    root.check(obj, result, "", "", kind)
    return result


def decode_object_meta(meta: Any, path: str = "metadata") -> DecodeResult:
    """Decode a custom resource's ``metadata`` (always an ObjectMeta)."""
    result = DecodeResult()
    if meta is not None:
        _compile_definition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").check(meta, result, path, path, "ObjectMeta")
    return result


# --------------------------------------------------------------------------------------------
# Patch strategies (strategic merge patch)


def root_schema(group: str, version: str, kind: str) -> dict[str, Any] | None:
    name = definition_of(group, version, kind)
    return _definitions()[name] if name else None


def kind_schema(kind: str) -> dict[str, Any] | None:
    """The schema of a built-in kind known by name only (core, apps, networking first)."""
    for group in ("", "apps", "networking.k8s.io", "batch", "policy", "discovery.k8s.io", "rbac.authorization.k8s.io"):
        for version in ("v1",):
            schema = root_schema(group, version, kind)
            if schema is not None:
                return schema
    for (group, version, known), _name in _kinds().items():
        if known == kind:
            return root_schema(group, version, kind)
    return None


def child_schema(schema: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    """The schema of field ``key`` of an object schema, or of a map's values; None when unknown."""
    if schema is None:
        return None
    _name, schema = _resolve(schema)
    properties = schema.get("properties")
    if properties is not None:
        return properties.get(key)
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def item_schema(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    if schema is None:
        return None
    _name, schema = _resolve(schema)
    return schema.get("items")


def patch_strategy(schema: dict[str, Any] | None) -> tuple[list[str], str | None]:
    """(strategies, merge key) of a field schema: (["merge"], "name") for containers, ([], None) for atomic lists."""
    if schema is None:
        return [], None
    strategy = schema.get("x-kubernetes-patch-strategy") or ""
    return [s for s in strategy.split(",") if s], schema.get("x-kubernetes-patch-merge-key")


def is_primitive(schema: dict[str, Any] | None) -> bool:
    if schema is None:
        return False
    _name, schema = _resolve(schema)
    types = schema.get("type")
    types = [t for t in (types if isinstance(types, list) else [types]) if t and t != "null"]
    return bool(types) and types[0] not in ("object", "array")


# --------------------------------------------------------------------------------------------
# Custom resources: CRD structural schemas (apiextensions-apiserver's wording)


class CrdIssue:
    """One 422 cause of a custom resource: reason, field, message (``Cause`` fields)."""

    def __init__(self, reason: str, field: str, message: str) -> None:
        self.reason = reason
        self.field = field
        self.message = message


class CustomResult:
    def __init__(self) -> None:
        self.unknown: list[str] = []
        self.issues: list[CrdIssue] = []


def go_value(value: Any) -> str:
    """A value as the apiserver quotes it in a message (Go's %q / %v)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return _number_text(value) if isinstance(value, float) else str(value)
    return json.dumps(value, separators=(",", ":"))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@functools.lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _matches_type(expected: str, value: Any) -> bool:
    actual = _type_name(value)
    if expected == "number":
        return actual in ("integer", "number")
    return actual == expected


def _format_ok(fmt: str, value: str) -> bool:
    try:
        if fmt == "cidr":
            ipaddress.ip_network(value, strict=False)
            return "/" in value
        if fmt in ("ipv4", "ipv6", "ip"):
            address = ipaddress.ip_address(value)
            return fmt == "ip" or address.version == int(fmt[-1])
    except ValueError:
        return False
    return True


def validate_custom(schema: dict[str, Any], obj: dict[str, Any]) -> CustomResult:
    """Prune and validate a custom resource against its CRD's openAPIV3Schema.

    ``metadata`` is decoded as an ObjectMeta (its unknown fields are reported too); apiVersion
    and kind are checked by the server before. Unknown fields are removed from ``obj``.
    """
    result = CustomResult()
    meta = decode_object_meta(obj.get("metadata"))
    result.unknown.extend(meta.unknown)
    properties = schema.get("properties") or {}
    top = {k: v for k, v in schema.items() if k != "properties"}
    top["properties"] = {k: v for k, v in properties.items() if k not in ("metadata", "apiVersion", "kind")}
    top["required"] = [k for k in schema.get("required") or [] if k not in ("metadata", "apiVersion", "kind")]
    body = {k: v for k, v in obj.items() if k not in ("metadata", "apiVersion", "kind")}
    _validate_node(top, body, "", result)
    for key in [k for k in obj if k not in ("metadata", "apiVersion", "kind") and k not in body]:
        del obj[key]
    for key, value in body.items():
        obj[key] = value
    return result


def _validate_node(schema: dict[str, Any], value: Any, path: str, result: CustomResult) -> None:
    label = path or "<root>"
    if value is None:
        if schema.get("nullable") or (not schema.get("type") and schema.get("x-kubernetes-preserve-unknown-fields")):
            return
        if schema.get("type") or schema.get("x-kubernetes-int-or-string"):
            expected = schema.get("type") or "integer"
            result.issues.append(CrdIssue("FieldValueTypeInvalid", label, f'Invalid value: "null": {label} in body must be of type {expected}: "null"'))
        return
    if schema.get("x-kubernetes-int-or-string"):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            result.issues.append(CrdIssue("FieldValueTypeInvalid", label,
                                          f'Invalid value: "{_type_name(value)}": {label} in body must be of type integer,string: "{_type_name(value)}"'))
            return
    elif schema.get("type") and not _matches_type(schema["type"], value):
        actual = _type_name(value)
        expected = schema["type"]
        result.issues.append(CrdIssue("FieldValueTypeInvalid", label, f'Invalid value: "{actual}": {label} in body must be of type {expected}: "{actual}"'))
        return
    if isinstance(value, dict):
        _validate_object(schema, value, path, result)
    elif isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            result.issues.append(CrdIssue("FieldValueTooMany", label, f"Too many: {len(value)}: must have at most {schema['maxItems']} items"))
        if "minItems" in schema and len(value) < schema["minItems"]:
            result.issues.append(CrdIssue("FieldValueInvalid", label,
                                          f"Invalid value: {len(value)}: {label} in body should have at least {schema['minItems']} items"))
        items = schema.get("items")
        if isinstance(items, dict):
            for index, element in enumerate(value):
                _validate_node(items, element, f"{path}[{index}]", result)
    else:
        _validate_scalar(schema, value, label, result)
    for keyword, needed in (("oneOf", "one"), ("anyOf", "any")):
        options = schema.get(keyword)
        if not options:
            continue
        matched = sum(1 for option in options if _option_matches(option, value))
        if needed == "one" and matched != 1:
            result.issues.append(CrdIssue("FieldValueInvalid", label,
                                          f'Invalid value: "{_type_name(value)}": {label} in body must validate one and only one schema (oneOf)'))
        if needed == "any" and matched == 0:
            result.issues.append(CrdIssue("FieldValueInvalid", label,
                                          f'Invalid value: "{_type_name(value)}": {label} in body must validate at least one schema (anyOf)'))


def _option_matches(option: dict[str, Any], value: Any) -> bool:
    """oneOf/anyOf alternatives in structural schemas only add ``required`` (and value checks)."""
    if not isinstance(value, dict):
        return not option.get("required")
    if any(value.get(key) is None for key in option.get("required") or []):
        return False
    probe = CustomResult()
    for key, sub in (option.get("properties") or {}).items():
        if key in value and sub:
            _validate_node(sub, value[key], key, probe)
    return not probe.issues


def _validate_object(schema: dict[str, Any], value: dict[str, Any], path: str, result: CustomResult) -> None:
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields")
    for key in list(value):
        child = f"{path}.{key}" if path else key
        if properties is not None and key in properties:
            _validate_node(properties[key], value[key], child, result)
        elif isinstance(extra, dict):
            _validate_node(extra, value[key], child, result)
        elif preserve or extra is True or (properties is None and extra is None and not schema.get("type")):
            continue
        else:
            result.unknown.append(child)
            del value[key]
    for key in schema.get("required") or []:
        if key not in value:
            result.issues.append(CrdIssue("FieldValueRequired", f"{path}.{key}" if path else key, "Required value"))


def _validate_scalar(schema: dict[str, Any], value: Any, label: str, result: CustomResult) -> None:
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        listed = ", ".join(json.dumps(v) if not isinstance(v, str) else f'"{v}"' for v in enum)
        result.issues.append(CrdIssue("FieldValueNotSupported", label, f"Unsupported value: {go_value(value)}: supported values: {listed}"))
        return
    if isinstance(value, str):
        if "maxLength" in schema and len(value.encode()) > schema["maxLength"]:
            result.issues.append(CrdIssue("FieldValueTooLong", label, f"Too long: may not be more than {schema['maxLength']} bytes"))
        if "minLength" in schema and len(value) < schema["minLength"]:
            result.issues.append(CrdIssue("FieldValueInvalid", label,
                                          f"Invalid value: {go_value(value)}: {label} in body should be at least {schema['minLength']} chars long"))
        if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
            result.issues.append(CrdIssue("FieldValueInvalid", label, f"Invalid value: {go_value(value)}: {label} in body should match '{schema['pattern']}'"))
        if "format" in schema and not _format_ok(schema["format"], value):
            result.issues.append(CrdIssue("FieldValueInvalid", label,
                                          f"Invalid value: {go_value(value)}: {label} in body must be of type {schema['format']}: {go_value(value)}"))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            result.issues.append(CrdIssue("FieldValueInvalid", label,
                                          f"Invalid value: {go_value(value)}: {label} in body should be greater than or equal to {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            result.issues.append(CrdIssue("FieldValueInvalid", label,
                                          f"Invalid value: {go_value(value)}: {label} in body should be less than or equal to {schema['maximum']}"))


# --------------------------------------------------------------------------------------------
# Cilium's policy CRDs (cilium.io/v2), as of Cilium 1.17 (the lab's Cilium image)
#
# Written from the CRD manifests Cilium ships (pkg/k8s/apis/cilium.io/client/crds/v2/
# ciliumnetworkpolicies.yaml) and the kubebuilder markers of pkg/policy/api: protocols
# TCP/UDP/SCTP/ANY (ICMP has its own ``icmps`` field; VRRP and IGMP came in later releases),
# ports as strings matching the CRD's pattern (numbers 0-65535 or IANA-style names), the
# entity enum, selectors, CIDRs (format cidr), FQDN selectors and L7 rules. Descriptions are
# left out; subtrees the collection never writes keep only their field names and types.

_STR: dict[str, Any] = {"type": "string"}
_BOOL: dict[str, Any] = {"type": "boolean"}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    return schema


def _arr(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


CILIUM_PORT_PATTERN = r"^(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})|([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*$"
CILIUM_PROTOCOLS = ["TCP", "UDP", "SCTP", "ANY"]
CILIUM_ENTITIES = ["all", "world", "cluster", "host", "init", "ingress", "unmanaged", "remote-node", "health", "none", "kube-apiserver"]
_LABEL_VALUE = {"type": "string", "maxLength": 63, "pattern": r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"}
_SELECTOR = _obj({
    "matchExpressions": _arr(_obj({"key": _STR, "operator": {"type": "string", "enum": ["In", "NotIn", "Exists", "DoesNotExist"]}, "values": _arr(_STR)},
                                  ("key", "operator"))),
    "matchLabels": {"type": "object", "additionalProperties": _LABEL_VALUE},
})
_CIDR = {"type": "string", "format": "cidr"}
_CIDR_RULE = _obj(
    {"cidr": _CIDR, "cidrGroupRef": {"type": "string", "maxLength": 253, "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"},
     "cidrGroupSelector": _SELECTOR, "except": _arr(_CIDR)},
    oneOf=[{"properties": {"cidr": {}}, "required": ["cidr"]}, {"properties": {"cidrGroupRef": {}}, "required": ["cidrGroupRef"]},
           {"properties": {"cidrGroupSelector": {}}, "required": ["cidrGroupSelector"]}],
)
_ENTITY = {"type": "string", "enum": CILIUM_ENTITIES}
_PORT_PROTOCOL = _obj({
    "endPort": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 65535},
    "port": {"type": "string", "pattern": CILIUM_PORT_PATTERN},
    "protocol": {"type": "string", "enum": CILIUM_PROTOCOLS},
})
_ICMP_TYPE_PATTERN = (
    r"^([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5]|EchoReply|DestinationUnreachable|Redirect|Echo|RouterAdvertisement|RouterSelection|"
    r"TimeExceeded|ParameterProblem|Timestamp|TimestampReply|Photuris|ExtendedEchoRequest|ExtendedEcho Reply|PacketTooBig|ParameterProblem|"
    r"EchoRequest|MulticastListenerQuery|MulticastListenerReport|MulticastListenerDone|RouterSolicitation|RouterAdvertisement|"
    r"NeighborSolicitation|NeighborAdvertisement|RedirectMessage|RouterRenumbering|ICMPNodeInformationQuery|ICMPNodeInformationResponse|"
    r"InverseNeighborDiscoverySolicitation|InverseNeighborDiscoveryAdvertisement|HomeAgentAddressDiscoveryRequest|"
    r"HomeAgentAddressDiscoveryReply|MobilePrefixSolicitation|MobilePrefixAdvertisement|DuplicateAddressRequestCodeSuffix|"
    r"DuplicateAddressConfirmationCodeSuffix)$"
)
_ICMPS = _arr(_obj({"fields": _arr(_obj({"family": {"type": "string", "enum": ["IPv4", "IPv6"]},
                                         "type": {"x-kubernetes-int-or-string": True, "pattern": _ICMP_TYPE_PATTERN}}, ("type",)), maxItems=40)}))
_FQDN = _obj(
    {"matchName": {"type": "string", "maxLength": 255, "pattern": r"^([-a-zA-Z0-9_]+[.]?)+$"},
     "matchPattern": {"type": "string", "maxLength": 255, "pattern": r"^([-a-zA-Z0-9_*]+[.]?)+$"}},
    oneOf=[{"properties": {"matchName": {}}, "required": ["matchName"]}, {"properties": {"matchPattern": {}}, "required": ["matchPattern"]}],
)
_SECRET = _obj({"name": _STR, "namespace": _STR}, ("name",))
_TLS = _obj({"certificate": _STR, "privateKey": _STR, "secret": _SECRET, "trustedCA": _STR}, ("secret",))
_HTTP_RULE = _obj({
    "headerMatches": _arr(_obj({"mismatch": {"type": "string", "enum": ["LOG", "ADD", "DELETE", "REPLACE"]}, "name": {"type": "string", "minLength": 1},
                                "secret": _SECRET, "value": _STR}, ("name",))),
    "headers": _arr(_STR), "host": _STR, "method": _STR, "path": _STR,
})
_L7_RULES = _obj(
    {"dns": _arr(_FQDN), "http": _arr(_HTTP_RULE),
     "kafka": _arr({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
     "l7": _arr({"type": "object", "additionalProperties": _STR}), "l7proto": _STR},
    oneOf=[{"properties": {key: {}}, "required": [key]} for key in ("http", "kafka", "dns", "l7proto")],
)
_PORT_RULE = _obj({
    "listener": _obj({"envoyConfig": _obj({"kind": {"type": "string", "enum": ["CiliumEnvoyConfig", "CiliumClusterwideEnvoyConfig"]},
                                           "name": {"type": "string", "minLength": 1}}, ("name",)),
                      "name": {"type": "string", "minLength": 1}, "priority": {"type": "integer", "minimum": 1, "maximum": 100}},
                     ("envoyConfig", "name")),
    "originatingTLS": _TLS,
    "ports": _arr(_PORT_PROTOCOL, maxItems=40),
    "rules": _L7_RULES,
    "serverNames": _arr(_STR),
    "terminatingTLS": _TLS,
})
_DENY_PORT_RULE = _obj({"ports": _arr(_PORT_PROTOCOL)})
_AUTHENTICATION = _obj({"mode": {"type": "string", "enum": ["disabled", "required", "test-always-fail"]}}, ("mode",))
_GROUPS = _obj({"aws": _obj({"labels": {"type": "object", "additionalProperties": _STR}, "region": _STR, "securityGroupsIds": _arr(_STR),
                             "securityGroupsNames": _arr(_STR)})})
_SERVICE = _obj({"k8sService": _obj({"namespace": _STR, "serviceName": _STR}),
                 "k8sServiceSelector": _obj({"namespace": _STR, "selector": _SELECTOR}, ("selector",))})
_INGRESS_PEERS = {
    "fromCIDR": _arr(_CIDR), "fromCIDRSet": _arr(_CIDR_RULE), "fromEndpoints": _arr(_SELECTOR), "fromEntities": _arr(_ENTITY),
    "fromGroups": _arr(_GROUPS), "fromNodes": _arr(_SELECTOR), "fromRequires": _arr(_SELECTOR), "icmps": _ICMPS,
}
_EGRESS_PEERS = {
    "icmps": _ICMPS, "toCIDR": _arr(_CIDR), "toCIDRSet": _arr(_CIDR_RULE), "toEndpoints": _arr(_SELECTOR), "toEntities": _arr(_ENTITY),
    "toGroups": _arr(_GROUPS), "toNodes": _arr(_SELECTOR), "toRequires": _arr(_SELECTOR), "toServices": _arr(_SERVICE),
}
_RULE = _obj(
    {
        "description": _STR,
        "egress": _arr(_obj({**_EGRESS_PEERS, "authentication": _AUTHENTICATION, "toFQDNs": _arr(_FQDN), "toPorts": _arr(_PORT_RULE)})),
        "egressDeny": _arr(_obj({**_EGRESS_PEERS, "toPorts": _arr(_DENY_PORT_RULE)})),
        "enableDefaultDeny": _obj({"egress": _BOOL, "ingress": _BOOL}),
        "endpointSelector": _SELECTOR,
        "ingress": _arr(_obj({**_INGRESS_PEERS, "authentication": _AUTHENTICATION, "toPorts": _arr(_PORT_RULE)})),
        "ingressDeny": _arr(_obj({**_INGRESS_PEERS, "toPorts": _arr(_DENY_PORT_RULE)})),
        "labels": _arr(_obj({"key": _STR, "source": _STR, "value": _STR}, ("key",))),
        "nodeSelector": _SELECTOR,
    },
    oneOf=[{"properties": {"endpointSelector": {}}, "required": ["endpointSelector"]}, {"properties": {"nodeSelector": {}}, "required": ["nodeSelector"]}],
)
CILIUM_POLICY_SCHEMA: dict[str, Any] = _obj(
    {
        "apiVersion": _STR,
        "kind": _STR,
        "metadata": {"type": "object"},
        "spec": _RULE,
        "specs": _arr(_RULE),
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
    ("metadata",),
)

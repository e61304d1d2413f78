# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of ``netpol_check``'s options before any request: every message names the option,
the value and the rule, and says what to write instead. Pure."""

from __future__ import annotations

from ansible_collections.aksnet.networking.plugins.module_utils._kube.names import is_port_name, port_number

from .selectors import parse_network

PROTOCOLS = ("TCP", "UDP", "SCTP")
_FORMS = "{namespace, pod}, {namespace, labels} or {cidr}"


class InputError(ValueError):
    """An option value that cannot be evaluated."""


def validate_endpoint(spec, option):
    """Return a cleaned endpoint spec, or raise InputError naming ``option`` (source / destination)."""
    if not isinstance(spec, dict) or not spec:
        raise InputError(f"{option} is required in a single check: give {_FORMS}, or set matrix=true with namespaces and ports.")
    spec = {k: v for k, v in spec.items() if v is not None and v != ""}
    if spec.get("cidr"):
        extra = sorted(set(spec) & {"namespace", "pod", "labels"})
        if extra:
            raise InputError(f"{option}: cidr {spec['cidr']!r} describes an outside address and cannot be combined with {', '.join(extra)}; "
                             f"use {{cidr}} alone or {{namespace, pod}} / {{namespace, labels}}.")
        try:
            parse_network(spec["cidr"], f"{option}.cidr")
        except ValueError as exc:
            raise InputError(str(exc)) from None
        return {k: spec[k] for k in ("cidr", "fqdn") if k in spec}
    if not spec.get("namespace"):
        raise InputError(f"{option} {spec!r} has no namespace and no cidr: give {_FORMS}.")
    if spec.get("pod") and spec.get("labels"):
        raise InputError(f"{option}: pod {spec['pod']!r} and labels are mutually exclusive: "
                         "pod asks about an existing pod, labels about a hypothetical one; give one of them.")
    if not spec.get("pod") and "labels" not in spec:
        raise InputError(f"{option} in namespace {spec['namespace']!r} needs pod (an existing pod's name) or labels (a mapping).")
    if "labels" in spec and not isinstance(spec["labels"], dict):
        raise InputError(f"{option}.labels must be a mapping of label key to value, got {spec['labels']!r}.")
    return spec


def validate_port(port, option="port"):
    """A port number (1-65535) or a port name (IANA_SVC_NAME); returns int or str, raises InputError."""
    if port is None or (isinstance(port, str) and not port.strip()):
        raise InputError(f"{option} is required: a number (1-65535) or a named container port of the destination (e.g. http).")
    if isinstance(port, bool):
        raise InputError(f"{option} {port!r} is not a port: use a number (1-65535) or a port name.")
    text = str(port).strip()
    number = port_number(port)
    if number is not None:
        if not 1 <= number <= 65535:
            raise InputError(f"{option} {port!r} is out of range: a port number is 1-65535 (or give a named container port).")
        return number
    if not is_port_name(text):
        raise InputError(f"{option} {port!r} is neither a number nor a valid port name "
                         "(IANA_SVC_NAME: at most 15 lowercase letters, digits and '-', with a letter, not starting or ending with '-').")
    return text


def validate_protocol(protocol):
    proto = str(protocol or "TCP").upper()
    if proto not in PROTOCOLS:
        raise InputError(f"protocol {protocol!r} is not supported: use one of {', '.join(PROTOCOLS)}.")
    return proto

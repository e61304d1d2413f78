"""Shared pieces of the ARM simulator: the ARM error type, resource ids, CIDR helpers.

ARM error bodies follow the Azure REST API guidelines and what ARM / AKS really return:
``{"error": {"code": "...", "message": "...", "target": "...", "details": [...]}}``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

NETWORK_TYPE = ipaddress.IPv4Network | ipaddress.IPv6Network


class ArmError(Exception):
    """An ARM error response: HTTP status plus the ARM error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        target: Optional[str] = None,
        details: Optional[list[dict[str, Any]]] = None,
        headers: Optional[dict[str, str]] = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.headers = headers or {}

    def error(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            err["target"] = self.target
        if self.details:
            err["details"] = self.details
        return err

    def body(self) -> dict[str, Any]:
        return {"error": self.error()}


def bad_request(code: str, message: str, target: Optional[str] = None) -> ArmError:
    return ArmError(400, code, message, target)


def invalid_parameter(target: str, value: Any, why: str) -> ArmError:
    """AKS's generic validation error ("The value of parameter X is invalid.")."""
    return ArmError(400, "InvalidParameter", f"The value of parameter {target} is invalid. Error details: {why} (got {value!r}).", target)


def stable_hex(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.lower().encode()).hexdigest()[:length]


def stable_uuid(text: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "aksnet-lab:" + text.lower()))


def new_etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def parse_cidr(text: Any) -> Optional[NETWORK_TYPE]:
    """A CIDR in canonical form (host bits zero), or None when ``text`` is not one."""
    if not isinstance(text, str) or "/" not in text:
        return None
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        return None


def parse_ip(text: Any) -> Optional[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    if not isinstance(text, str):
        return None
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def overlaps(a: NETWORK_TYPE, b: NETWORK_TYPE) -> bool:
    return a.version == b.version and a.overlaps(b)  # type: ignore[arg-type]


def usable_addresses(cidr: NETWORK_TYPE) -> int:
    """Addresses Azure lets a subnet use: all but the 5 it reserves."""
    return max(cidr.num_addresses - 5, 0)


_SEGMENT = r"[^/]+"
_ID_RE = re.compile(
    rf"^/subscriptions/(?P<sub>{_SEGMENT})/resourcegroups/(?P<rg>{_SEGMENT})/providers/(?P<ns>{_SEGMENT})/(?P<rest>.+)$",
    re.IGNORECASE,
)


@dataclass
class ResourceId:
    """A parsed ARM resource id: subscription, resource group, provider namespace and type/name pairs."""

    subscription: str
    resource_group: str
    namespace: str
    types: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def full_type(self) -> str:
        return "/".join([self.namespace, *self.types])

    def key(self) -> str:
        return build_id(self.subscription, self.resource_group, self.namespace, self.types, self.names).lower()


def parse_resource_id(text: Any) -> Optional[ResourceId]:
    """Parse ``/subscriptions/S/resourceGroups/R/providers/NS/type/name[/type/name...]``; None when malformed."""
    if not isinstance(text, str):
        return None
    match = _ID_RE.match(text.strip())
    if not match:
        return None
    parts = match.group("rest").split("/")
    if len(parts) % 2 or not all(parts):
        return None
    return ResourceId(match.group("sub"), match.group("rg"), match.group("ns"), parts[0::2], parts[1::2])


def build_id(subscription: str, resource_group: str, namespace: str, types: list[str], names: list[str]) -> str:
    tail = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{namespace}/{tail}"


# Azure's naming rules per resource type (Microsoft.Network's common rule; AKS's for managed clusters and agent pools)
_NETWORK_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$")
_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")


def check_resource_name(full_type: str, name: str) -> None:
    """Refuse a resource name the way Azure Resource Manager does for that type (400 InvalidResourceName)."""
    full_type = full_type.lower()
    if full_type.startswith("microsoft.network/"):
        if not _NETWORK_NAME.match(name):
            raise bad_request(
                "InvalidResourceName",
                f"Resource name {name} is invalid. The name can be up to 80 characters long. It must begin with a word character, "
                "and it must end with a word character or with '_'. The name may contain word characters or '.', '-', '_'.")
    elif full_type == "microsoft.containerservice/managedclusters":
        if not _CLUSTER_NAME.match(name):
            raise bad_request(
                "InvalidResourceName",
                f"Resource name {name} is invalid. The name must be 1-63 characters long, contain only letters, digits, '-' and '_', "
                "and begin and end with a letter or digit.")
    elif full_type == "microsoft.containerservice/managedclusters/agentpools" and not _POOL_NAME.match(name):
        raise ArmError(400, "InvalidParameter", f"The value of parameter agentPoolProfile.name is invalid. Agent pool name '{name}' must start "
                       "with a lowercase letter, have max length of 12, and only have characters a-z0-9.", "agentPoolProfile.name")

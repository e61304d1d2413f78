"""Fault injection for the lab's Kubernetes side, shared by the emulator and the real control plane's
front proxy so that a test injects the same fault the same way on both back ends.

  POST   /_lab/faults   {"match": {"method", "resource", "name", "namespace", "group", "path_contains", "dry_run"},
                         "status": 409|429|500|502|503|504|403|..., "retry_after": seconds, "reason", "message",
                         "delay": seconds, "reset_connection": true, "count": N}          -> 201 {"id": ...}
  GET    /_lab/faults   the pending faults
  DELETE /_lab/faults   clear them (POST /_lab/reset does too)

``match`` keys are all optional (``dry_run``: true matches only dryRun=All writes, false only real
ones); ``resource`` is the plural (``deployments``), ``name`` an fnmatch
pattern of the object's name (``coredns*``), ``method`` an HTTP method. A fault is consumed by each
matching request until ``count`` (default 1) is used up. A fault answers with a Kubernetes ``Status``
of ``status`` (with ``Retry-After`` when given), or, with ``reset_connection``, drops the connection
without an answer; ``delay`` holds the answer back first (with no ``status``, the request then goes on
as usual: a slow server, for timeouts).
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, Optional

_REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 410: "Expired",
    422: "Invalid", 429: "TooManyRequests", 500: "InternalError", 502: "BadGateway", 503: "ServiceUnavailable",
    504: "Timeout",
}
_MESSAGES = {
    409: "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again",
    429: "storage is (re)initializing",
    500: "Internal error occurred: injected by the lab",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be processing the request",
}
_MATCH_KEYS = ("method", "resource", "name", "namespace", "group", "path_contains", "dry_run")


@dataclass
class KubeFault:
    id: str
    match: dict[str, Optional[str]]
    remaining: int
    status: Optional[int] = None
    retry_after: Optional[int] = None
    reason: Optional[str] = None
    message: Optional[str] = None
    delay: float = 0.0
    reset_connection: bool = False
    hits: int = field(default=0)

    def matches(self, method: str, path: str, resource: str, namespace: Optional[str], name: Optional[str], group: str,
                dry_run: bool = False) -> bool:
        m = self.match
        if m.get("dry_run") is not None and bool(m["dry_run"]) != bool(dry_run):
            return False
        if m.get("method") and m["method"].upper() != method.upper():
            return False
        if m.get("resource") and m["resource"] != resource:
            return False
        if m.get("namespace") and m["namespace"] != namespace:
            return False
        if m.get("group") is not None and m.get("group") != group:
            return False
        if m.get("name") and not fnmatch.fnmatchcase(name or "", m["name"]):
            return False
        return not (m.get("path_contains") and m["path_contains"] not in path)

    def status_body(self) -> dict[str, Any]:
        """The Kubernetes ``Status`` this fault answers with."""
        code = int(self.status or 500)
        reason = self.reason or _REASONS.get(code, "InternalError")
        body: dict[str, Any] = {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message or _MESSAGES.get(code, f"injected fault with status {code}"),
            "reason": reason, "code": code,
        }
        if self.retry_after is not None:
            body["details"] = {"retryAfterSeconds": int(self.retry_after)}
        return body

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(int(self.retry_after))} if self.retry_after is not None else {}

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id, "match": dict(self.match), "count": self.remaining, "status": self.status,
            "retry_after": self.retry_after, "reason": self.reason, "message": self.message, "delay": self.delay,
            "reset_connection": self.reset_connection, "hits": self.hits,
        }


class KubeFaults:
    """Thread-safe queue of pending faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[KubeFault] = []
        self._ids = itertools.count(1)

    def add(self, spec: Any) -> KubeFault:
        """Queue a fault from the JSON body of ``POST /_lab/faults``; ValueError names what is wrong."""
        if not isinstance(spec, dict):
            raise ValueError("a fault is a mapping: {match, status | delay | reset_connection, count, retry_after}")
        match = spec.get("match") or {}
        if not isinstance(match, dict) or set(match) - set(_MATCH_KEYS):
            raise ValueError(f"match takes only {', '.join(_MATCH_KEYS)}")
        status, delay, reset = spec.get("status"), float(spec.get("delay") or 0), bool(spec.get("reset_connection"))
        if status is None and not delay and not reset:
            raise ValueError("a fault needs status, delay or reset_connection")
        if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
            raise ValueError(f"status must be an HTTP error code 400-599, got {status!r}")
        count = spec.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a positive integer, got {count!r}")
        fault = KubeFault(
            id=f"kf-{next(self._ids)}", match={k: match.get(k) for k in _MATCH_KEYS if match.get(k) is not None},
            remaining=count, status=status, retry_after=spec.get("retry_after"), reason=spec.get("reason"),
            message=spec.get("message"), delay=delay, reset_connection=reset,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str, resource: str, namespace: Optional[str], name: Optional[str], group: str = "",
             dry_run: bool = False) -> Optional[KubeFault]:
        """The first pending fault matching this request, consumed once; None when there is none.
        ``dry_run``: whether the request is a dryRun=All write (match key ``dry_run``)."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, resource, namespace, name, group, dry_run):
                    fault.remaining -= 1
                    fault.hits += 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

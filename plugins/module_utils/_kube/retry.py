# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When to retry a Kubernetes API request, and how long to wait first (pure logic, no I/O).

Every request this collection sends is idempotent: GET, PUT (a full replacement, with the
resourceVersion it read), PATCH (merge and server-side apply patches state the result, not a step),
DELETE, and POST that creates a named object (a repeat finds it AlreadyExists, which the client
resolves by reading it back and comparing). So each is retried on the answers that mean "not now" rather than
"no": 429 and 500/502/503/504, and on a connection reset before an answer arrived.
"""

from __future__ import annotations

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "POST"})
MAX_ATTEMPTS = 5
BASE_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 30.0
# the sum of the waits of one request; past it the last answer is reported as it was
BUDGET = 60.0


def parse_retry_after(value) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds; an HTTP date is not sent by kube-apiserver)."""
    if value is None:
        return None
    try:
        seconds = float(str(value).strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def retry_delay(method: str, attempt: int, waited: float, status: int | None = None, retry_after=None) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None when the request must not be retried.

    ``attempt`` counts the attempts made so far (1 after the first); ``waited`` is the time already spent
    waiting for this request; ``status`` is the HTTP status, or None for a connection reset.
    """
    if method.upper() not in RETRY_METHODS or attempt >= MAX_ATTEMPTS:
        return None
    if status is not None and status not in RETRY_STATUSES:
        return None
    hinted = parse_retry_after(retry_after)
    delay = min(hinted, MAX_RETRY_AFTER) if hinted is not None else min(BASE_DELAY * 2 ** (attempt - 1), MAX_DELAY)
    if waited + delay > BUDGET:
        return None
    return delay


# fields the server owns: a repeated write cannot be judged by them
_SERVER_METADATA = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink")


def contains(sent, stored) -> bool:
    """True when every value of ``sent`` is found in ``stored`` (dicts by key, lists item by item in order).

    What the server added (defaults, status, list items admission appends such as the service account
    token volume of a pod) does not count against it; a value that differs or is missing does.
    """
    if isinstance(sent, dict):
        return isinstance(stored, dict) and all(key in stored and contains(value, stored[key]) for key, value in sent.items())
    if isinstance(sent, list):
        if not isinstance(stored, list):
            return False
        rest = iter(stored)
        return all(any(contains(item, candidate) for candidate in rest) for item in sent)
    return sent == stored


def write_already_applied(sent: dict, stored) -> bool:
    """Whether ``stored`` (read back after a retried write answered 409) already holds what ``sent`` asked for.

    A PUT or create whose answer was lost (reset, 5xx from a proxy after the write) is repeated; the repeat then
    meets its own earlier write: AlreadyExists for a create, Conflict (stale resourceVersion) for a PUT.
    The write counts as done when the object holds the sent content; server metadata and status are left out.
    """
    if not isinstance(sent, dict) or not isinstance(stored, dict):
        return False
    body = {k: v for k, v in sent.items() if k not in ("status", "metadata")}
    meta = {k: v for k, v in (sent.get("metadata") or {}).items() if k not in _SERVER_METADATA}
    return contains(body, stored) and contains(meta, stored.get("metadata") or {})

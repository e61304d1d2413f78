# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure's naming rules, checked before any request (pure logic)."""

from __future__ import annotations

import re

_NETWORK_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")


def network_name_error(option: str, value: str) -> str | None:
    """Why ``value`` cannot name a Microsoft.Network resource (public IP, load balancer, NSG, ...), or None.

    Azure's rule: 1-80 characters; letters, digits, '_', '.' and '-'; starting with a letter or digit and
    ending with a letter, digit or '_'.
    """
    if _NETWORK_NAME.match(value or ""):
        return None
    if not value:
        return f"{option} is empty: an Azure resource name has 1-80 characters."
    problems = []
    if len(value) > 80:
        problems.append(f"is {len(value)} characters long (at most 80)")
    bad = sorted({c for c in value if not (c.isalnum() or c in "_.-")})
    if bad:
        problems.append(f"contains {', '.join(repr(c) for c in bad)} (only letters, digits, '_', '.' and '-' are allowed)")
    if not value[0].isalnum():
        problems.append("does not start with a letter or digit")
    if not (value[-1].isalnum() or value[-1] == "_"):
        problems.append("does not end with a letter, digit or '_'")
    return f"{option} {value!r} is not a valid Azure resource name: it {' and '.join(problems)}."

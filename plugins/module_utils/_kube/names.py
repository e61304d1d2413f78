# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes name formats (k8s.io/apimachinery validation), written once. Pure.

The patterns check the characters only: callers add the length limit (63 for labels, 253 for
subdomains, 15 for port names) and say which option broke which rule.
"""

from __future__ import annotations

import re

# DNS-1123 label: namespaces, Service port names, most object names limited to 63 characters
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# DNS-1123 subdomain: object names up to 253 characters (Ingress, Secret, IngressClass), label prefixes
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# DNS-1035 label: Service names (must start with a letter)
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# IANA service name as Kubernetes checks a named container port: a DNS label with at least one letter
IANA_SVC_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def is_port_name(value) -> bool:
    """A valid named port (IANA_SVC_NAME, as the API server checks container, Service and policy port names):
    at most 15 lowercase letters, digits and '-', at least one letter, no leading, trailing or double '-'."""
    return isinstance(value, str) and len(value) <= 15 and bool(IANA_SVC_NAME.match(value)) and "--" not in value


def port_number(value):
    """The number of a port given as an int or a string of digits (surrounding blanks and a sign allowed),
    else None (a name, or not a port); the range is the caller's to check."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    return None

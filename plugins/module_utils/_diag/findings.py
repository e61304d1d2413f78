# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings: the public result shape of every analyzer (DESIGN.md, "Findings"). Pure."""

from __future__ import annotations

SEVERITIES = ("error", "warning", "info")

STEP_NAMES = {
    1: "pods",
    2: "services",
    3: "connectivity",
    4: "policies",
    5: "dns",
    6: "ingress",
    7: "dataplane",
    8: "azure",
}


def finding(code, severity, step, kind, namespace, name, message, remediation, evidence=None):
    """Build one finding dict: ``{code, severity, step, resource, message, remediation, evidence}``."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    if step not in STEP_NAMES:
        raise ValueError(f"step must be 1-8, got {step!r}")
    return {
        "code": code,
        "severity": severity,
        "step": step,
        "resource": {"kind": kind, "namespace": namespace, "name": name},
        "message": message,
        "remediation": remediation,
        "evidence": evidence or {},
    }


def resource_of(obj, kind=None):
    """``(kind, namespace, name)`` of a Kubernetes object."""
    meta = obj.get("metadata") or {}
    return kind or obj.get("kind"), meta.get("namespace"), meta.get("name")

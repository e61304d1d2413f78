# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redaction of a snapshot's objects (the ``snapshot`` module's ``redact: true``). Pure.

What the diagnostics never read and may carry credentials is replaced by ``<redacted>``:

* container ``env[].value`` (names and ``valueFrom`` references are kept), ``args`` and ``command``
  of every container, init container and ephemeral container, in Pods and pod templates;
* annotations whose name suggests a credential, and ``kubectl.kubernetes.io/last-applied-configuration``
  (a full copy of the object, env values included);
* ConfigMap values, except CoreDNS's own ConfigMaps (step 5 validates their content): the keys stay.

Secrets are never captured with their data in the first place (``_kube.collect``).
"""

from __future__ import annotations

import copy
import re

REDACTED = "<redacted>"

# ConfigMaps whose values the DNS step reads (kube-system/coredns and the AKS customisation).
KEPT_CONFIGMAPS = frozenset({("kube-system", "coredns"), ("kube-system", "coredns-custom")})

_CREDENTIAL_ANNOTATION = re.compile(r"(secret|token|passw|pwd|credential|api[-_.]?key|private[-_.]?key|auth|sas|connection[-_.]?string)", re.I)
_ALWAYS_REDACTED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def credential_annotation(name: str) -> bool:
    """True when an annotation's name suggests its value is a credential (or a copy of the object)."""
    return name in _ALWAYS_REDACTED_ANNOTATIONS or bool(_CREDENTIAL_ANNOTATION.search(name.rsplit("/", 1)[-1]))


def _container(c):
    if not isinstance(c, dict):
        return
    for key in ("args", "command"):
        if c.get(key):
            c[key] = [REDACTED]
    for env in c.get("env") or []:
        if isinstance(env, dict) and "value" in env:
            env["value"] = REDACTED


def _pod_spec(spec):
    if not isinstance(spec, dict):
        return
    for key in _CONTAINER_LISTS:
        for c in spec.get(key) or []:
            _container(c)


def _annotations(meta):
    if not isinstance(meta, dict) or not isinstance(meta.get("annotations"), dict):
        return
    for name in list(meta["annotations"]):
        if credential_annotation(name):
            meta["annotations"][name] = REDACTED


def redact_object(obj):
    """A redacted copy of one object (the input is not changed)."""
    if not isinstance(obj, dict):
        return obj
    out = copy.deepcopy(obj)
    meta = out.get("metadata")
    _annotations(meta)
    kind = out.get("kind")
    spec = out.get("spec")
    if kind == "Pod":
        _pod_spec(spec)
    elif isinstance(spec, dict) and isinstance(spec.get("template"), dict):  # Deployment, DaemonSet, Job...
        _annotations(spec["template"].get("metadata"))
        _pod_spec(spec["template"].get("spec"))
    elif kind == "ConfigMap":
        key = ((meta or {}).get("namespace"), (meta or {}).get("name"))
        if key not in KEPT_CONFIGMAPS:
            for field in ("data", "binaryData"):
                if isinstance(out.get(field), dict):
                    out[field] = dict.fromkeys(out[field], REDACTED)
    return out


def redact_objects(objects):
    """Redacted copies of ``objects``."""
    return [redact_object(o) for o in objects]

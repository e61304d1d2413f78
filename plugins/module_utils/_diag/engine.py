# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnostics run: the field guide's eight steps over one in-memory index. Pure.

``run_diagnostics`` returns DESIGN.md's ``diagnostics`` shape. Step status:

* ``skipped`` (with ``reason``): not requested, a required kind could not be listed (RBAC 403,
  missing CRD), no data for the step (no probe results, no Azure facts), or the analyzer is not
  available;
* ``failed``: the step produced at least one finding of severity ``error`` -- including
  ``diag.analyzer_failed`` (the analyzer raised: the finding names the step, the error and the
  object it was reading) and ``object.malformed`` (an object of a kind the step reads does not
  have the shape the analyzers read; it is left out of the analysis);
* ``passed``: otherwise, warnings and infos included (``reason`` then lists what could not be
  checked, e.g. an optional kind that was not listable, or is None).

Namespace filter: findings about namespaced objects outside ``namespaces`` are not produced;
cluster-wide checks (CoreDNS, kube-proxy, CNI, nodes, ingress classes) always run.
"""

from __future__ import annotations

import importlib
import re
import sys

from . import checks as step_checks_mod

# Ansible's module packager (AnsiballZ) ships only the module_utils it sees imported; the analyzers
# are loaded by name in _load(), so they are named here too (else every step is "not available"
# when run as a module). A missing one still degrades to a skipped step.
from . import step_connectivity, step_dataplane, step_dns, step_ingress, step_pods, step_policies, step_services  # noqa: F401  pylint: disable=unused-import
from .causes import link_causes
from .findings import SEVERITIES, STEP_NAMES, finding
from .index import Index
from .shape import STEP_OF_KIND, describe

try:
    from . import step_azure  # pylint: disable=unused-import
except ImportError:  # the Azure step may ship separately
    step_azure = None

# step -> analyzer module in this package (None: handled inline)
STEP_MODULES = {
    1: "step_pods",
    2: "step_services",
    3: "step_connectivity",
    4: "step_policies",
    5: "step_dns",
    6: "step_ingress",
    7: "step_dataplane",
    8: "step_azure",
}

NO_AZURE_FACTS = "no Azure network facts: run with Azure credentials or a snapshot that includes AzureNetworkFacts"

_FACT_ALIASES = {
    "plugin": ("plugin", "network_plugin", "networkPlugin"),
    "plugin_mode": ("plugin_mode", "network_plugin_mode", "networkPluginMode"),
    "dataplane": ("dataplane", "network_dataplane", "networkDataplane"),
    "policy": ("policy", "network_policy", "networkPolicy"),
    "advanced_networking": ("advanced_networking", "advancedNetworking"),
    "dns_service_ip": ("dns_service_ip", "dnsServiceIP", "dnsServiceIp"),
    "pod_cidr": ("pod_cidr", "podCidr"),
    "service_cidr": ("service_cidr", "serviceCidr"),
}
_LOWER = ("plugin", "plugin_mode", "dataplane", "policy")
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _snake(value):
    if isinstance(value, dict):
        return {_CAMEL.sub(r"_\1", k).lower(): _snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake(v) for v in value]
    return value


def normalize_cluster_facts(facts):
    """Snake-case network profile: plugin, plugin_mode, dataplane, policy, advanced_networking, ...

    Accepts ``cluster_info`` output (keys at the top, or under ``network`` / ``network_profile``)
    and ARM camelCase (``networkPlugin``, ``advancedNetworking``...). Unknown keys are kept.
    """
    if not facts:
        return {}
    flat = dict(facts)
    for nested in ("network", "network_profile", "networkProfile"):
        if isinstance(flat.get(nested), dict):
            flat = dict(flat[nested], **{k: v for k, v in flat.items() if k != nested})
    out = {}
    aliases = {alias: key for key, names in _FACT_ALIASES.items() for alias in names}
    for key, value in flat.items():
        target = aliases.get(key, key)
        if target in out and key != target:
            continue  # the canonical spelling wins over an alias
        if target in _LOWER and isinstance(value, str):
            value = value.lower()
        elif target == "advanced_networking":
            value = _snake(value)
        out[target] = value
    return out


class DiagContext:
    """What every analyzer gets besides the index."""

    def __init__(self, cluster_facts=None, namespaces=None, azure_facts=None, probe_results=None):
        self.cluster_facts = normalize_cluster_facts(cluster_facts)
        self.namespaces = set(namespaces) if namespaces else None
        self.azure_facts = azure_facts
        self.probe_results = probe_results

    def in_scope(self, namespace):
        """True when a namespaced object of ``namespace`` is analysed (cluster-scoped: always)."""
        return self.namespaces is None or namespace is None or namespace in self.namespaces


def parse_steps(steps):
    """Requested steps as a set of ints; accepts numbers, digit strings and names (``dns``)."""
    if not steps:
        return set(STEP_NAMES)
    by_name = {name: number for number, name in STEP_NAMES.items()}
    chosen = set()
    for item in steps:
        key = str(item).strip().lower()
        if key.isdigit() and int(key) in STEP_NAMES:
            chosen.add(int(key))
        elif key in by_name:
            chosen.add(by_name[key])
        else:
            allowed = ", ".join(f"{n} ({name})" for n, name in STEP_NAMES.items())
            raise ValueError(f"steps: {item!r} is not a diagnostics step; use step numbers or names: {allowed}")
    return chosen


def _load(step):
    module = STEP_MODULES.get(step)
    try:
        return importlib.import_module(f".{module}", __package__), None
    except ImportError as exc:
        return None, f"analyzer {module} not available ({exc})"


def _run_step(step, index, ctx):
    if step == 8 and not ctx.azure_facts:
        return {"checked": 0, "findings": [], "skipped": NO_AZURE_FACTS}
    mod, error = _load(step)
    if mod is None:
        return {"checked": 0, "findings": [], "skipped": error}
    missing = [k for k in getattr(mod, "REQUIRED_KINDS", ()) if k in index.skipped]
    if missing:
        reasons = "; ".join(f"{k}: {index.skipped[k]}" for k in missing)
        return {"checked": 0, "findings": [], "skipped": f"cannot list {', '.join(missing)} ({reasons})"}
    try:
        result = mod.analyze(index, ctx)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # one broken analyzer must not hide the others
        return {"checked": 0, "findings": [analyzer_failed(step, exc)], "skipped": None,
                "notes": [f"analyzer {STEP_MODULES[step]} failed: {type(exc).__name__}: {exc}"]}
    notes = list(result.get("notes") or [])
    for kind in getattr(mod, "OPTIONAL_KINDS", ()):
        if kind in index.skipped and not any(kind in n for n in notes):
            notes.append(f"{kind} not listable ({index.skipped[kind]})")
    result["notes"] = notes
    return result


def _object_in_traceback(tb):
    """The innermost Kubernetes object (a dict with kind and metadata) a crashed analyzer was reading."""
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        for value in frame.f_locals.values():
            if isinstance(value, dict) and isinstance(value.get("kind"), str) and isinstance(value.get("metadata"), dict):
                return value
    return None


def analyzer_failed(step, exc):
    """The ``diag.analyzer_failed`` error finding for an analyzer that raised ``exc``."""
    obj = _object_in_traceback(exc.__traceback__ or sys.exc_info()[2])
    kind, namespace, name = describe(obj) if obj is not None else ("Analyzer", None, STEP_MODULES[step])
    where = f"{kind} {namespace + '/' if namespace else ''}{name}"
    return finding(
        "diag.analyzer_failed", "error", step, kind, namespace, name,
        f"The step {step} ({STEP_NAMES[step]}) analyzer failed with {type(exc).__name__}: {exc} while reading {where}; "
        "the rest of this step was not checked, so it cannot be called passed",
        f"Check {where} for fields of an unexpected type (kubectl get {kind.lower()} {'-n ' + namespace + ' ' if namespace else ''}{name} -o yaml); "
        "if the object is valid, report this error with the object attached.",
        {"analyzer": STEP_MODULES[step], "error": f"{type(exc).__name__}: {exc}"},
    )


def malformed_findings(index, ctx, wanted):
    """One ``object.malformed`` error per object the index left out, in the step that reads its kind."""
    out = []
    for obj, why in getattr(index, "malformed", ()):
        kind, namespace, name = describe(obj)
        step = STEP_OF_KIND.get(kind, 1)
        if step not in wanted or (namespace is not None and not ctx.in_scope(namespace)):
            continue
        where = f"{kind or 'object'} {namespace + '/' if namespace else ''}{name or '(no name)'}"
        out.append(finding(
            "object.malformed", "error", step, kind or "Unknown", namespace, name,
            f"{where} is malformed ({why}); it was left out of the analysis, so what it would change is not checked",
            "Re-capture the object as the API server returns it (kubectl get -o yaml, or the snapshot module); a hand-edited "
            "snapshot must keep the Kubernetes field types.",
            {"problem": why},
        ))
    return out


_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def _sort_key(f):
    res = f.get("resource") or {}
    return (_SEVERITY_RANK.get(f.get("severity"), 9), f.get("step") or 0, res.get("namespace") or "", res.get("name") or "", f.get("code") or "")


def _namespaces(index, ctx):
    if ctx.namespaces is not None:
        return sorted(ctx.namespaces)
    names = {(ns.get("metadata") or {}).get("name") for ns in index.kinds("Namespace")}
    for kind in ("Pod", "Service", "NetworkPolicy", "Ingress"):
        names.update((o.get("metadata") or {}).get("namespace") for o in index.kinds(kind))
    names.discard(None)
    return sorted(names)


def run_diagnostics(objects, *, namespaces=None, steps=None, cluster_facts=None, azure_facts=None, skipped_kinds=None, probe_results=None):
    """Diagnose a cluster from its objects (a list, or an ``Index``); returns DESIGN.md's ``diagnostics``.

    ``skipped_kinds``: kind -> reason for kinds that could not be listed. ``probe_results``: active
    probe results (see step_connectivity.py); None skips step 3.
    """
    index = objects if isinstance(objects, Index) else Index(objects, skipped_kinds)
    if isinstance(objects, Index) and skipped_kinds:
        index.skipped.update(skipped_kinds)
    ctx = DiagContext(cluster_facts, namespaces, azure_facts, probe_results)
    wanted = parse_steps(steps)

    step_results = []
    findings = []
    malformed = {}
    for f in malformed_findings(index, ctx, wanted):
        malformed.setdefault(f["step"], []).append(f)
    for step, name in sorted(STEP_NAMES.items()):
        if step not in wanted:
            step_results.append({"step": step, "name": name, "status": "skipped",
                                 "reason": f"not requested (steps: {', '.join(str(s) for s in sorted(wanted))})", "checked": 0})
            continue
        result = _run_step(step, index, ctx)
        bad_objects = malformed.get(step, [])
        if result.get("skipped") and not bad_objects:
            step_results.append({"step": step, "name": name, "status": "skipped", "reason": result["skipped"], "checked": result.get("checked", 0)})
            continue
        if result.get("skipped"):
            result = {"checked": 0, "findings": [], "notes": [result["skipped"]]}
        produced = bad_objects + list(result.get("findings") or [])
        findings.extend(produced)
        notes = result.get("notes") or []
        status = "failed" if any(f.get("severity") == "error" for f in produced) else "passed"
        step_results.append({"step": step, "name": name, "status": status, "reason": "; ".join(notes) or None, "checked": result.get("checked", 0),
                             **step_checks_mod.step_checks(step, index, ctx)})

    findings.sort(key=_sort_key)
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    object_counts = {kind: len(objs) for kind, objs in sorted(index.by_kind.items(), key=lambda kv: str(kv[0]))}
    known_ns = {(ns.get("metadata") or {}).get("name") for ns in index.kinds("Namespace")}
    facts = {
        "objects": object_counts,
        "namespaces": _namespaces(index, ctx),
        "cluster_facts": {k: v for k, v in ctx.cluster_facts.items() if k != "coredns_logs"},
        "skipped_kinds": dict(index.skipped),
        "azure_facts": bool(azure_facts),
        # the report's header: the Kubernetes version(s) the nodes run
        "kubelet_versions": sorted({str(((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion"))
                                    for n in index.kinds("Node") if ((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion")}),
    }
    if ctx.namespaces is not None and known_ns:
        facts["namespaces_not_found"] = sorted(ctx.namespaces - known_ns)
    result = {
        "summary": {
            "errors": counts["error"],
            "warnings": counts["warning"],
            "infos": counts["info"],
            "steps": {str(s["step"]): s["status"] for s in step_results},
        },
        "steps": step_results,
        "findings": findings,
        "causes": link_causes(findings),
        "facts": facts,
    }
    return step_checks_mod.refresh(result)

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the diagnose module does, shared by the module and its action plugin.

``run(mod)`` takes any object with the module wrapper's interface (``params``, ``check_mode``, ``warn``,
``kube``, ``kube_unless_snapshot``): the module passes its AksnetModule; the action plugin of the same name
passes a stand-in when the task would run the module on the controller anyway, so that a big run skips
building and starting a module process and the JSON round trip of its result. Both validate the same
``ARGUMENT_SPEC`` (plus the Kubernetes connection options) and fail the same way.
"""

from __future__ import annotations

import os
import time

from .._common.memory import gc_paused
from .._common.version import COLLECTION_VERSION
from .._kube.client import KubeApiError
from .._module import ModuleFailure
from .console import summary_lines
from .engine import parse_steps, run_diagnostics
from .index import Index
from .snapshot_io import SnapshotError
from .source import cluster_facts_from_azure, gather

# the module's own options; the Kubernetes connection options (KUBE_AUTH_SPEC) are merged in (auth="kube")
ARGUMENT_SPEC = {
    "snapshot": {"type": "path"},
    "namespaces": {"type": "list", "elements": "str"},
    "steps": {"type": "list", "elements": "str"},
    "report_dir": {"type": "path"},
    "cluster_facts": {"type": "dict"},
    "azure_facts": {"type": "dict"},
    "fail_on": {"type": "str", "choices": ["error", "warning", "never"], "default": "never"},
    "page_size": {"type": "int", "default": 500},
    "active": {"type": "bool", "default": False},
    "services": {"type": "list", "elements": "dict", "default": [],
                 "options": {"namespace": {"type": "str", "required": True}, "name": {"type": "str", "required": True}, "port": {"type": "raw"}}},
    "probe_image": {"type": "str", "default": "nicolaka/netshoot"},
    "probe_namespace": {"type": "str", "default": "default"},
    "probe_image_pull_secrets": {"type": "list", "elements": "str", "default": [], "no_log": False},
    "probe_timeout": {"type": "int", "default": 5},
    "probe_wait_timeout": {"type": "int", "default": 120},
    "egress_urls": {"type": "list", "elements": "str", "default": []},
    "cilium_agent": {"type": "bool", "default": False},
    "node_debug": {"type": "bool", "default": False},
    "fleet_member": {"type": "str"},
}
AUTH = "kube"
LIBRARIES = ("yaml",)

FAIL_LEVELS = {"error": ("error",), "warning": ("error", "warning"), "never": ()}


def _ref(res):
    where = f"{res.get('namespace')}/{res.get('name')}" if res.get("namespace") else res.get("name")
    return f"{res.get('kind')} {where}"


def _validate(params):
    try:
        parse_steps(params["steps"])
    except ValueError as exc:
        raise ModuleFailure(str(exc)) from None
    if params["page_size"] < 1:
        raise ModuleFailure(f"page_size {params['page_size']} must be at least 1.")
    report_dir = params["report_dir"]
    if report_dir and os.path.exists(report_dir) and not os.path.isdir(report_dir):
        raise ModuleFailure(f"report_dir {report_dir!r} exists and is not a directory; give a directory path (it is created when missing).")
    for ns in params["namespaces"] or []:
        if not ns or not isinstance(ns, str):
            raise ModuleFailure(f"namespaces: {ns!r} is not a namespace name; give names such as [shop, payments].")


def _active(mod, index, cluster_facts):
    """(probe session, None) for active: true in live mode, else (None, why step 3 is skipped)."""
    params = mod.params
    if not params["active"]:
        return None, None
    if params["snapshot"]:
        raise ModuleFailure("active: true needs a live cluster; a snapshot cannot be probed. Drop snapshot or set active: false.")
    if mod.check_mode:
        return None, "check mode: the active probes (a debug pod) are not run"
    # imported when used: most runs probe nothing and write no report (each import is a cost of every run in the worker)
    from .._kube.podexec import PodExec  # pylint: disable=import-outside-toplevel
    from .probe_runner import ProbeError, ProbeRefused, active_diagnostics  # pylint: disable=import-outside-toplevel

    client = mod.kube()
    opts = {"namespace": params["probe_namespace"], "image": params["probe_image"], "image_pull_secrets": params["probe_image_pull_secrets"],
            "timeout": params["probe_timeout"], "wait_timeout": params["probe_wait_timeout"], "services": params["services"],
            "egress_urls": params["egress_urls"], "cilium_agent": params["cilium_agent"], "node_debug": params["node_debug"]}
    try:
        session = active_diagnostics(client, PodExec(client.configuration), opts, index, cluster_facts)
    except ProbeRefused as exc:  # RBAC, quota, admission: step 3 is skipped with the reason, the other steps are reported
        mod.warn(f"active probes not run: {exc}")
        return None, f"active probes not run: {exc}"
    except (ProbeError, KubeApiError) as exc:
        mod.warn(f"active probes not run: {exc}")
        return None, f"active probes failed to run: {exc}"
    if session.get("node_debug_skipped"):
        mod.warn(f"node_debug not run: {session['node_debug_skipped']}")
    return session, None


def run(mod):
    # A large snapshot is hundreds of thousands of live objects: every automatic collection of
    # the cyclic GC would walk them all (a third of a large run). The module process is short-lived;
    # reference counting frees what the run drops.
    with gc_paused():
        return _run(mod)


def _run(mod):
    params = mod.params
    started = time.monotonic()
    _validate(params)
    client = mod.kube_unless_snapshot(params["snapshot"])
    try:
        data = gather(
            client=client,
            snapshot=params["snapshot"],
            namespaces=params["namespaces"],
            page_size=params["page_size"],
        )
    except SnapshotError as exc:
        raise ModuleFailure(f"snapshot: {exc}") from None
    index = Index(data["objects"], data["skipped"])
    if params["azure_facts"]:
        data["azure"] = params["azure_facts"]
    cluster_facts = params["cluster_facts"] or cluster_facts_from_azure(data["azure"])
    probe, probe_error = _active(mod, index, cluster_facts)
    diagnostics = run_diagnostics(
        index,
        namespaces=params["namespaces"],
        steps=params["steps"],
        cluster_facts=cluster_facts,
        azure_facts=data["azure"],
        probe_results=probe["probes"] if probe else None,
    )
    if probe:
        from .probe_runner import apply_active  # pylint: disable=import-outside-toplevel

        apply_active(diagnostics, probe)
    for step in diagnostics["steps"]:
        if step["step"] == 3 and probe_error and step["status"] == "skipped":
            step["reason"] = probe_error
    diagnostics["facts"]["source"] = data["mode"]
    diagnostics["facts"]["snapshot_path"] = params["snapshot"]
    diagnostics["facts"]["server"] = data["info"].get("server") if data["mode"] == "live" else data["info"]["snapshot_info"]["cluster"]["server"]
    diagnostics["facts"]["snapshot_info"] = data["info"].get("snapshot_info")
    # the reports' header: which collection ran, how long it took, and the fleet host it ran for
    diagnostics["facts"]["run"] = {"collection_version": COLLECTION_VERSION, "duration_seconds": round(time.monotonic() - started, 1),
                                   "fleet_member": params["fleet_member"] or None}
    for ns in diagnostics["facts"].get("namespaces_not_found") or []:
        mod.warn(f"namespaces: {ns!r} does not exist in the cluster data; nothing was analysed there.")
    result = {"changed": False, "diagnostics": diagnostics, "mode": data["mode"]}
    if probe:
        result["probe"] = {k: probe[k] for k in ("run_id", "results", "debug_pod", "deleted", "stale_deleted", "cilium", "kube_proxy", "summary")}
        if probe.get("node_debug_skipped"):
            result["probe"]["node_debug_skipped"] = probe["node_debug_skipped"]
    if data["mode"] == "live":
        result["api_requests"] = data["api_requests"]
    if params["report_dir"]:
        from .reachability import build_evaluator, service_reachability  # pylint: disable=import-outside-toplevel
        from .report import write_reports  # pylint: disable=import-outside-toplevel

        ev, _settings = build_evaluator(index, cluster_facts)
        reachability = service_reachability(ev, index, params["namespaces"])
        diagnostics["facts"]["run"]["duration_seconds"] = round(time.monotonic() - started, 1)
        try:
            result["report_paths"] = write_reports(diagnostics, params["report_dir"], reachability)
        except OSError as exc:
            raise ModuleFailure(f"report_dir {params['report_dir']!r}: cannot write the reports ({exc.strerror}); "
                                "choose a writable directory.", **result) from None
    result["console"] = summary_lines(diagnostics, data["mode"], result.get("report_paths"))
    levels = FAIL_LEVELS[params["fail_on"]]
    bad = [f for f in diagnostics["findings"] if f["severity"] in levels]
    if bad:
        first = "; ".join(f"{f['code']} {_ref(f['resource'])}" for f in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        summary = diagnostics["summary"]
        raise ModuleFailure(
            f"diagnostics found {summary['errors']} error(s) and {summary['warnings']} warning(s) (fail_on={params['fail_on']}): {first}{more}. "
            "See diagnostics.findings for each remediation.",
            **result,
        )
    return result

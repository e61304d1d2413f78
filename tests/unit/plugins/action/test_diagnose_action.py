# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnose action plugin: when it runs the diagnosis in the worker, and that its result is the module's."""

from __future__ import annotations

import copy
import json
import os
import pathlib
import subprocess
import sys
from types import SimpleNamespace
from unittest import mock

import pytest

from ansible_collections.aksnet.networking.plugins.action.diagnose import ActionModule, InProcessModule
from ansible_collections.aksnet.networking.plugins.module_utils._diag import module_run

ROOT = pathlib.Path(__file__).resolve().parents[4]
MODULE = ROOT / "plugins" / "modules" / "diagnose.py"
RELEASE_SNAPSHOT = ROOT / "tests" / "release" / "snapshot.yaml"


def _action(connection="local", become=False, async_val=0, delegate_to=None, args=None, check_mode=False, remote_is_local=False):
    task = SimpleNamespace(action="aksnet.networking.diagnose", args=args or {}, async_val=async_val, check_mode=check_mode,
                           delegate_to=delegate_to, environment=[], collections=[])
    conn = SimpleNamespace(transport=connection, _load_name=f"ansible.builtin.{connection}", has_native_async=False,
                           _remote_is_local=remote_is_local, _shell=SimpleNamespace(tmpdir=None))
    templar = SimpleNamespace(template=lambda value: {"{{ venv_python }}": sys.executable}.get(value, value))
    return ActionModule(task, conn, SimpleNamespace(become=become), loader=None, templar=templar, shared_loader_obj=None)


@pytest.mark.parametrize("interpreter", [None, "auto", "auto_silent", "auto_legacy", sys.executable, "{{ venv_python }}"])
def test_local_connection_with_the_controller_python_runs_in_process(interpreter):
    task_vars = {"ansible_playbook_python": sys.executable}
    if interpreter is not None:
        task_vars["ansible_python_interpreter"] = interpreter
    assert _action().runs_in_process(task_vars) is True


def test_the_playbook_python_counts_as_the_controller_python():
    task_vars = {"ansible_playbook_python": "/opt/ansible/bin/python", "ansible_python_interpreter": "/opt/ansible/bin/python"}
    assert _action().runs_in_process(task_vars) is True


@pytest.mark.parametrize("interpreter", ["/usr/bin/python3", os.path.join(os.path.dirname(sys.executable), "python-other")])
def test_another_interpreter_runs_the_module(interpreter):
    assert _action().runs_in_process({"ansible_playbook_python": sys.executable, "ansible_python_interpreter": interpreter}) is False


def test_a_remote_connection_runs_the_module():
    assert _action(connection="ssh").runs_in_process({"ansible_playbook_python": sys.executable}) is False


def test_become_and_async_run_the_module():
    assert _action(become=True).runs_in_process({}) is False
    assert _action(async_val=60).runs_in_process({}) is False


def test_delegated_tasks_use_the_delegated_host_interpreter():
    local = {"ansible_playbook_python": sys.executable, "ansible_python_interpreter": sys.executable}
    other = {"ansible_playbook_python": sys.executable, "ansible_python_interpreter": "/usr/libexec/platform-python"}
    task_vars = {"ansible_python_interpreter": "/usr/bin/python2", "ansible_delegated_vars": {"localhost": local, "jump": other}}
    assert _action(delegate_to="localhost").runs_in_process(task_vars) is True
    assert _action(delegate_to="jump").runs_in_process(task_vars) is False


def test_run_dispatches_to_the_module_or_in_process():
    remote = _action(connection="ssh", args={"snapshot": str(RELEASE_SNAPSHOT)})
    with mock.patch.object(ActionModule, "_execute_module", return_value={"changed": False, "from": "module"}) as execute, \
            mock.patch.object(ActionModule, "_remove_tmp_path"):
        assert remote.run(task_vars={})["from"] == "module"
        execute.assert_called_once()
    local = _action(args={"snapshot": str(RELEASE_SNAPSHOT)})
    with mock.patch.object(ActionModule, "_execute_module") as execute, mock.patch.object(ActionModule, "_compute_environment_string"):
        result = local.run(task_vars={"ansible_python_interpreter": sys.executable})
    execute.assert_not_called()
    assert result["changed"] is False and result["mode"] == "snapshot" and result["diagnostics"]["findings"]


def test_the_task_environment_is_seen_by_the_run_and_undone(monkeypatch, tmp_path):
    monkeypatch.delenv("AKSNET_TEST_SNAPSHOT_DIR", raising=False)
    (tmp_path / "snap.yaml").write_text(RELEASE_SNAPSHOT.read_text(encoding="utf-8"), encoding="utf-8")
    local = _action(args={"snapshot": "$AKSNET_TEST_SNAPSHOT_DIR/snap.yaml"})

    def environment(raw_environment_out=None):
        raw_environment_out.update({"AKSNET_TEST_SNAPSHOT_DIR": str(tmp_path)})
        return ""

    with mock.patch.object(ActionModule, "_compute_environment_string", side_effect=environment):
        result = local.run(task_vars={})
    assert result.get("failed") is not True, result.get("msg")
    assert result["diagnostics"]["facts"]["snapshot_path"] == str(tmp_path / "snap.yaml")
    assert "AKSNET_TEST_SNAPSHOT_DIR" not in os.environ


# the in-process result is the module's -------------------------------------------------------


def _module_result(args, check_mode=False):
    """The module run as Ansible runs it on a host: a separate Python, arguments from a file, JSON on stdout."""
    payload = {"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check_mode, "_ansible_module_name": "aksnet.networking.diagnose"}}
    path = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"aksnet-diagnose-args-{os.getpid()}.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    try:
        proc = subprocess.run([sys.executable, str(MODULE), str(path)], capture_output=True, text=True, timeout=300, check=False)
    finally:
        path.unlink()
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _in_process_result(args, check_mode=False):
    mod = InProcessModule(copy.deepcopy(args), module_run.ARGUMENT_SPEC, auth=module_run.AUTH, check_mode=check_mode)
    return json.loads(json.dumps(mod.result_of(module_run.run, "diagnose the cluster", libraries=module_run.LIBRARIES)))


def _comparable(result):
    result = copy.deepcopy(result)
    run = (result.get("diagnostics") or {}).get("facts", {}).get("run")
    if run:
        run.pop("duration_seconds")
    # the module's JSON carries the warnings as structured events; the action gives their texts (Ansible turns both into the same warning)
    result["warnings"] = [w if isinstance(w, str) else w["event"]["msg"] for w in result.get("warnings", [])]
    return result


def _synthetic_snapshot(tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "perf"))
    try:
        from bench_diagnose import synthetic_cluster
    finally:
        sys.path.pop(0)
    from ansible_collections.aksnet.networking.plugins.module_utils._diag.snapshot_io import render_snapshot

    path = tmp_path / "mid.snapshot.json"
    path.write_text(render_snapshot(synthetic_cluster(600, 200, 80, 12), None, {"skipped": {}}), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("case", ["release", "synthetic", "report", "fail_on", "namespaces", "repeated_namespace"])
def test_in_process_result_equals_the_module_result(case, tmp_path):
    args = {"snapshot": str(RELEASE_SNAPSHOT)}
    if case == "synthetic":
        args["snapshot"] = _synthetic_snapshot(tmp_path)
    elif case == "report":
        args["report_dir"] = str(tmp_path / "reports")
    elif case == "fail_on":
        args["fail_on"] = "warning"
    elif case == "namespaces":
        args["namespaces"] = ["shop", "nowhere"]
    elif case == "repeated_namespace":
        args["namespaces"] = ["nowhere", "nowhere"]
    module, in_process = _module_result(args), _in_process_result(args)
    assert set(module) == set(in_process)
    assert _comparable(in_process) == _comparable(module)
    if case == "synthetic":
        assert len(in_process["diagnostics"]["findings"]) > 50
    if case == "fail_on":
        assert in_process["failed"] is True and in_process["msg"].startswith("diagnostics found")
    if case in ("namespaces", "repeated_namespace"):
        assert len([w for w in _comparable(in_process)["warnings"] if "'nowhere' does not exist" in w]) == 1


@pytest.mark.parametrize("args", [
    {"steps": ["bogus"]},
    {"page_size": "many"},
    {"page_size": 0},
    {"fail_on": "always"},
    {"unknown_option": 1},
    {"services": [{"namespace": "shop"}]},
    {"active": True},
    {"snapshot": "/nonexistent/snapshot.json"},
])
def test_bad_input_fails_the_same_way(args):
    args = {"snapshot": str(RELEASE_SNAPSHOT), **args}
    module, in_process = _module_result(args), _in_process_result(args)
    assert in_process["failed"] is True and in_process["msg"]
    assert _comparable(in_process) == _comparable(module)


def test_no_log_values_are_removed_like_the_module_does():
    # api_key is no_log: its value is masked wherever it appears in the result (here a namespace name in the findings)
    args = {"snapshot": str(RELEASE_SNAPSHOT), "api_key": "shop"}
    module, in_process = _module_result(args), _in_process_result(args)
    assert "shop" not in json.dumps(in_process["diagnostics"]["findings"])
    assert "********" in json.dumps(in_process["diagnostics"]["findings"])
    assert _comparable(in_process) == _comparable(module)


def test_check_mode_keeps_the_module_behaviour(tmp_path):
    args = {"snapshot": str(RELEASE_SNAPSHOT), "report_dir": str(tmp_path / "r")}
    module, in_process = _module_result(args, check_mode=True), _in_process_result(args, check_mode=True)
    assert in_process["changed"] is False and (tmp_path / "r" / "report.html").exists()
    assert _comparable(in_process) == _comparable(module)


def test_the_cyclic_gc_is_paused_during_the_run_and_restored():
    import gc

    seen = []

    def probe(mod):
        seen.append(gc.isenabled())
        return {"changed": False}

    assert gc.isenabled()
    with mock.patch.object(module_run, "_run", side_effect=probe):
        mod = InProcessModule({"snapshot": str(RELEASE_SNAPSHOT)}, module_run.ARGUMENT_SPEC, auth=module_run.AUTH)
        assert mod.result_of(module_run.run, "x")["changed"] is False
    assert seen == [False] and gc.isenabled()


def test_warnings_are_kept_once_in_the_order_aksnetmodule_gives_them():
    # AnsibleModule keeps each distinct warning once; AksnetModule.fail warns the API server's warnings, then the failure's
    def func(mod):
        mod.warn("first")
        mod.warn("first")
        mod._kube = SimpleNamespace(api_warnings=["v1 Endpoints is deprecated"])
        raise module_run.ModuleFailure("it broke", warnings=["from the failure"], changed=False)

    mod = InProcessModule({"snapshot": str(RELEASE_SNAPSHOT)}, module_run.ARGUMENT_SPEC, auth=module_run.AUTH)
    result = mod.result_of(func, "x")
    assert result["failed"] is True and result["msg"] == "it broke" and result["changed"] is False
    assert result["warnings"] == ["first", "Kubernetes API server: v1 Endpoints is deprecated", "from the failure"]

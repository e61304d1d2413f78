# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of aksnet.networking.diagnose: the diagnosis in the controller's worker when the module would run there.

A diagnose task almost always runs on the controller (``connection: local`` or ``delegate_to: localhost``) with the
controller's Python. Running the module then means building its AnsiballZ payload (a few dozen module_utils files
parsed and zipped), starting a second Python that compiles them from the zip, and a JSON round trip of a result that
is megabytes for a big cluster. In that case this plugin runs the same code (module_utils/_diag/module_run.py) in the
worker process instead: the same options validated by the same rules before any request, the same errors mapped the
same way, no_log values removed from the result the same way, the same result keys. Anywhere else (another host, another
interpreter, become, async) it runs the module unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

from ansible import constants as C
from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.aksnet.networking.plugins.module_utils._module import LIBRARIES, AksnetModule, ModuleFailure, known_failure, merged_spec

display = Display()

LOCAL_CONNECTIONS = ("local", "ansible.builtin.local", "ansible.legacy.local")
AUTO_INTERPRETERS = ("auto", "auto_legacy", "auto_silent", "auto_legacy_silent")


class InProcessModule(AksnetModule):
    """The module wrapper's interface without a module process: what ``module_run.run`` needs, validated like AnsibleModule."""

    def __init__(self, args, argument_spec, auth=None, check_mode=False, name="aksnet.networking.diagnose"):
        # pylint: disable=super-init-not-called  # AksnetModule.__init__ builds an AnsibleModule, which reads its arguments from stdin
        self.name = name
        self.auth = auth
        self.check_mode = bool(check_mode)
        self._azure = None
        self._kube = None
        self.warnings = []
        validation = ArgumentSpecValidator(merged_spec(argument_spec, auth)).validate(args)
        self.params = validation.validated_parameters
        self.no_log_values = set(validation._no_log_values)  # pylint: disable=protected-access  # what AnsibleModule uses too
        for both in validation._warnings:  # pylint: disable=protected-access
            self.warnings.append(f"Both option {both['option']} and its alias {both['alias']} are set.")
        self.error = None
        if validation.errors.errors:
            msg = validation.errors.msg
            if isinstance(validation.errors.errors[0], UnsupportedError):
                msg = f"Unsupported parameters for ({name}) module: {msg}"
            self.error = msg

    def require(self, import_name):
        try:
            __import__(import_name)
        except ImportError:
            raise ModuleFailure(missing_required_lib(LIBRARIES.get(import_name, import_name))) from None

    def warn(self, text):
        self.warnings.append(text)

    def result_of(self, func, action, libraries=()):
        """The result the module would return: ``func(self)``'s, or the failure, formatted like AnsibleModule.exit_json/fail_json."""
        if self.error:
            return self._formatted({"failed": True, "msg": self.error})
        try:
            for name in libraries:
                self.require(name)
            result = func(self)
        except Exception as exc:  # pylint: disable=broad-except
            failure = known_failure(exc, action)
            if failure is None:
                raise
            msg, result = failure
            later = result.pop("warnings", None) or []  # AksnetModule.fail warns them after the API server's
            result.update(failed=True, msg=str(msg))
            return self._formatted(result, later)
        return self._formatted(result)

    def _formatted(self, result, later_warnings=()):
        for text in getattr(self._kube, "api_warnings", None) or []:
            self.warnings.append(f"Kubernetes API server: {text}")
        self.warnings.extend(later_warnings)
        if "diff" in result:
            from ansible_collections.aksnet.networking.plugins.module_utils._common.diff import readable_diff  # pylint: disable=import-outside-toplevel

            result["diff"] = readable_diff(result["diff"])
        result.setdefault("invocation", {"module_args": self.params})
        if self.warnings:
            result["warnings"] = list(dict.fromkeys(self.warnings))  # AnsibleModule keeps each distinct warning once
        if self.no_log_values:
            preserved = {k: v for k, v in result.items() if v is None or isinstance(v, bool)}
            result = remove_values(result, self.no_log_values)
            result.update(preserved)
        return result


@contextlib.contextmanager
def _environment(values):
    """The task's ``environment:`` applied to this (forked, one-task) worker process for the block, then undone."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update({key: str(value) for key, value in values.items()})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        if self.runs_in_process(task_vars):
            display.vvv(f"{self._task.action}: runs in the controller's worker process (local connection, the controller's Python)")
            return merge_hash(result, self._run_in_process())
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def runs_in_process(self, task_vars):
        """True when the module would run on the controller, as this user, with the controller's Python."""
        connection = self._connection
        if getattr(connection, "transport", None) not in LOCAL_CONNECTIONS and getattr(connection, "_load_name", None) not in LOCAL_CONNECTIONS:
            return False
        if self._play_context.become or self._task.async_val:
            return False
        host_vars = task_vars
        if self._task.delegate_to:
            host_vars = (task_vars.get("ansible_delegated_vars") or {}).get(self._task.delegate_to) or task_vars
        controller = [p for p in (sys.executable, host_vars.get("ansible_playbook_python")) if p]
        if getattr(connection, "_remote_is_local", False):
            return True
        interpreter = host_vars.get("ansible_python_interpreter")
        if interpreter is None:
            interpreter = C.config.get_config_value("INTERPRETER_PYTHON", variables=host_vars)
        interpreter = self._templar.template(interpreter)
        if not interpreter or str(interpreter).strip() in AUTO_INTERPRETERS:
            return True
        return os.path.normpath(str(interpreter).strip()) in {os.path.normpath(p) for p in controller}

    def _run_in_process(self):
        environment = {}
        self._compute_environment_string(environment)
        # the arguments as the module receives them: plain JSON data
        args = json.loads(json.dumps(dict(self._task.args), default=str))
        # imported here: a task that runs the module does not need the analyzers in the worker
        from ansible_collections.aksnet.networking.plugins.module_utils._diag import module_run  # pylint: disable=import-outside-toplevel

        with _environment(environment):
            mod = InProcessModule(args, module_run.ARGUMENT_SPEC, auth=module_run.AUTH, check_mode=self._task.check_mode, name=self._task.action)
            return mod.result_of(module_run.run, "diagnose the cluster", libraries=module_run.LIBRARIES)

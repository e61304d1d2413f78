"""Failure results: no deprecated fail_json(warnings=...) anywhere; warnings of a failure reach module.warn."""

from __future__ import annotations

import ast
import pathlib

from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule

PLUGINS = pathlib.Path(__file__).resolve().parents[4] / "plugins"


class _FakeAnsibleModule:
    def __init__(self):
        self.warned, self.failed = [], None

    def warn(self, text):
        self.warned.append(text)

    def fail_json(self, **result):
        self.failed = result


def test_fail_routes_warnings_through_warn_not_fail_json():
    mod = AksnetModule.__new__(AksnetModule)
    mod.module, mod._kube = _FakeAnsibleModule(), None
    mod.fail("bad input", errors=["x"], warnings=["careful"])
    assert mod.module.warned == ["careful"]
    assert "warnings" not in mod.module.failed and mod.module.failed["msg"] == "bad input"


def test_no_module_raises_a_failure_with_a_warnings_key():
    offenders = []
    for path in PLUGINS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = getattr(node, "func", None)
            name = getattr(called, "id", getattr(called, "attr", ""))
            if isinstance(node, ast.Call) and name in ("ModuleFailure", "fail_json", "fail") and any(k.arg == "warnings" for k in node.keywords):
                offenders.append(f"{path.relative_to(PLUGINS)}:{node.lineno}")
    assert offenders == []

"""The layering of module_utils (DESIGN.md): _kube is a pure client layer, pure logic imports no SDK."""

from __future__ import annotations

import ast
import pathlib

import pytest

MODULE_UTILS = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "module_utils"
SDKS = ("azure", "kubernetes", "urllib3", "requests", "msrest")


def _imports(path):
    """(module name, level) of every import in a file, including imports inside functions."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            yield (node.module or ""), node.level
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0


def _targets(path):
    for name, level in _imports(path):
        if level == 0:
            yield name
        else:  # resolve the relative import against the file's package
            package = list(path.relative_to(MODULE_UTILS).parent.parts)
            base = package[: len(package) - (level - 1)] if level > 1 else package
            yield ".".join(["module_utils", *base, *([name] if name else [])])


def test_kube_layer_imports_neither_diagnostics_nor_policy_logic():
    assert len(list((MODULE_UTILS / "_kube").glob("*.py"))) > 3
    offenders = [f"{p.name} imports {t}" for p in (MODULE_UTILS / "_kube").glob("*.py") for t in _targets(p)
                 if any(part in t.split(".") for part in ("_diag", "_netpol", "_aks"))]
    assert offenders == []


@pytest.mark.parametrize("package", ["_netpol", "_aks"])
def test_pure_logic_imports_no_sdk(package):
    offenders = [f"{p.name} imports {t}" for p in (MODULE_UTILS / package).glob("*.py") for t in _targets(p)
                 if t.split(".")[0] in SDKS]
    assert offenders == []

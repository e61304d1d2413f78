"""The documentation users read through ansible-doc renders, and its examples are real.

One ansible-doc invocation per plugin type (several names at once). For every module: doc,
examples and return are non-empty, the examples parse as YAML, and every option a task of the
examples passes to a module of this collection exists (sub-options included, where documented).
The inventory plugin and the filters render too, and `ansible-doc -l aksnet.networking` lists
exactly the modules in plugins/modules. The example playbooks of the role READMEs pass
`ansible-playbook --syntax-check`. No lab needed: nothing here talks to a cluster.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
NS = "aksnet.networking"
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
FILTERS = sorted(p.stem for p in (ROOT / "plugins" / "filter").glob("*.yml"))
INVENTORY = sorted(p.stem for p in (ROOT / "plugins" / "inventory").glob("*.py") if p.stem != "__init__")
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
           ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_DEPRECATION_WARNINGS="0")


def _run(*args):
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _docs(plugin_type, names):
    return json.loads(_run("ansible-doc", "--json", "-t", plugin_type, *[f"{NS}.{n}" for n in names]))


@pytest.fixture(scope="module")
def module_docs():
    return _docs("module", MODULES)


def test_fourteen_modules():
    assert len(MODULES) == 14, MODULES


def test_ansible_doc_lists_every_module():
    listed = {line.split()[0] for line in _run("ansible-doc", "-l", NS).splitlines() if line.startswith(f"{NS}.")}
    assert listed == {f"{NS}.{m}" for m in MODULES}


@pytest.mark.parametrize("module", MODULES)
def test_module_doc_examples_and_return_render(module, module_docs):
    entry = module_docs.get(f"{NS}.{module}")
    assert entry, f"ansible-doc returned nothing for {module}"
    doc = entry["doc"]
    assert doc.get("short_description") and doc.get("description"), f"{module}: no description"
    assert doc.get("options"), f"{module}: no options"
    assert (entry.get("examples") or "").strip(), f"{module}: no EXAMPLES"
    assert entry.get("return"), f"{module}: no RETURN"
    for key, value in entry["return"].items():
        assert value.get("description") and value.get("type"), f"{module}: return value {key} lacks description or type"
    for attribute in ("check_mode", "diff_mode", "idempotent"):
        assert attribute in (doc.get("attributes") or {}), f"{module}: attribute {attribute} not documented"


def _tasks(items):
    for task in items or []:
        if not isinstance(task, dict):
            continue
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))


def _unknown_options(args, options, where):
    """Options of ``args`` that ``options`` (a documented option dict) does not have, recursing into sub-options."""
    if not isinstance(args, dict):
        return []  # free-form or templated value: nothing to check
    known = {}
    for name, spec in (options or {}).items():
        known[name] = spec
        for alias in spec.get("aliases") or []:
            known[alias] = spec
    bad = []
    for key, value in args.items():
        if key not in known:
            bad.append(f"{where}{key}")
            continue
        sub = known[key].get("suboptions")
        if not sub:
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            bad.extend(_unknown_options(item, sub, f"{where}{key}."))
    return bad


@pytest.mark.parametrize("module", MODULES)
def test_module_examples_use_only_existing_options(module, module_docs):
    examples = yaml.safe_load(module_docs[f"{NS}.{module}"]["examples"])
    assert isinstance(examples, list) and examples, f"{module}: EXAMPLES is not a list of tasks"
    uses_itself = 0
    problems = []
    for task in _tasks(examples):
        for action, args in task.items():
            if not action.startswith(f"{NS}."):
                continue
            other = action[len(NS) + 1:]
            assert other in MODULES, f"{module} EXAMPLES call {action}, which is not a module of this collection"
            uses_itself += other == module
            problems += _unknown_options(args, module_docs[action]["doc"].get("options"), f"{action}: ")
    assert uses_itself, f"{module}: no example task uses {NS}.{module}"
    assert not problems, f"{module} EXAMPLES use options that do not exist: {problems}"


@pytest.mark.parametrize(("plugin_type", "names"), [("filter", FILTERS), ("inventory", INVENTORY)])
def test_other_plugins_render(plugin_type, names):
    assert names
    docs = _docs(plugin_type, names)
    for name in names:
        entry = docs.get(f"{NS}.{name}")
        assert entry and entry["doc"].get("description"), f"{plugin_type} {name}: no documentation"
        assert (entry.get("examples") or "").strip(), f"{plugin_type} {name}: no EXAMPLES"
        yaml.safe_load(entry["examples"])
        if plugin_type == "filter":
            assert entry.get("return"), f"filter {name}: no RETURN"


def test_role_readme_examples_pass_syntax_check(tmp_path):
    plays = []
    for readme in sorted((ROOT / "roles").glob("*/README.md")):
        for block in re.findall(r"^```ya?ml\n(.*?)^```", readme.read_text(), re.M | re.S):
            data = yaml.safe_load(block)
            if isinstance(data, list) and data and isinstance(data[0], dict) and "hosts" in data[0]:
                plays.extend(data)
    assert len(plays) >= 7
    playbook = tmp_path / "readme_examples.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    _run("ansible-playbook", "--syntax-check", str(playbook))

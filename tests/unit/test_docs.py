# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation agrees with the code.

Finding codes are a public interface: every code the analyzers (plugins/module_utils/_diag) or the
modules can emit is documented in docs/findings.md and docs/troubleshooting.md, under its step, and
neither document names a code that does not exist. Every role has a README with a YAML example that
parses and uses the role, and a meta/argument_specs.yml that specs every variable of its defaults.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DIAG = ROOT / "plugins" / "module_utils" / "_diag"
MODULES = ROOT / "plugins" / "modules"
FINDINGS_MD = ROOT / "docs" / "findings.md"
TROUBLESHOOTING_MD = ROOT / "docs" / "troubleshooting.md"
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks" / "main.yml").is_file())

# The first part of every finding code (DESIGN.md "Findings"): what the finding is about.
PREFIXES = ("pod", "service", "connectivity", "netpol", "cilium", "dns", "ingress", "dataplane", "node", "azure", "diag", "object")
_ALTERNATIVES = "|".join(PREFIXES)
CODE = re.compile(rf"^(?:{_ALTERNATIVES})\.[a-z][a-z0-9_]*$")
DOC_CODE = re.compile(rf"`((?:{_ALTERNATIVES})\.[a-z][a-z0-9_]*)`")
# Assignments and keywords whose strings are not findings: docs, and Python package names.
NOT_CODE_NAMES = {"DOCUMENTATION", "EXAMPLES", "RETURN", "LIBRARIES"}
NOT_CODE_KEYWORDS = {"libraries"}


def _skipped_nodes(tree):
    skipped = set()
    for node in ast.walk(tree):
        docs = isinstance(node, ast.Assign) and any(getattr(t, "id", None) in NOT_CODE_NAMES for t in node.targets)
        libraries = isinstance(node, ast.keyword) and node.arg in NOT_CODE_KEYWORDS
        if docs or libraries:
            skipped.update(id(n) for n in ast.walk(node.value))
    return skipped


def _step_of(tree):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "STEP" for t in node.targets):
            return node.value.value
    return None


def _code_constants():
    """``{code: {paths}}`` and ``{code: step}`` (from the STEP of the step_*.py module emitting it)."""
    where, steps, first_args = {}, {}, []
    for path in sorted(DIAG.glob("*.py")) + sorted(MODULES.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        skipped = _skipped_nodes(tree)
        step = _step_of(tree) if path.name.startswith("step_") else None
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
                where.setdefault(node.value, set()).add(str(path.relative_to(ROOT)))
                if step is not None:
                    steps.setdefault(node.value, step)
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if func in ("finding", "add"):
                    first_args.append((node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return where, steps, first_args


CODES, CODE_STEPS, FINDING_CALLS = _code_constants()


def _doc_codes(path):
    return set(DOC_CODE.findall(path.read_text()))


def _codes_by_step_section(path):
    """``{step number: codes named in that '## Step N' section}``."""
    sections, step = {}, None
    for line in path.read_text().splitlines():
        heading = re.match(r"^##\s+Step\s+(\d)\b", line)
        if heading:
            step = int(heading.group(1))
            continue
        if re.match(r"^##\s", line):
            step = None
        if step is not None:
            sections.setdefault(step, set()).update(DOC_CODE.findall(line))
    return sections


def test_the_code_emits_the_designed_codes():
    # Guard for the extraction itself: every step has codes, and the total is the size of DESIGN.md's list.
    assert len(CODES) >= 49, sorted(CODES)
    assert set(CODE_STEPS.values()) == set(range(1, 9)), CODE_STEPS


def test_every_literal_finding_code_has_a_known_prefix():
    # A finding built with a new prefix would escape the extraction above; fail loudly instead.
    dotted = re.compile(r"^[a-z]+\.[a-z][a-z0-9_]*$")  # what a code looks like, whatever its prefix
    bad = [(code, where) for code, where in FINDING_CALLS if dotted.match(code) and not CODE.match(code)]
    assert not bad, f"finding codes outside the known prefixes {PREFIXES}: {bad}"


@pytest.mark.parametrize("doc", [FINDINGS_MD, TROUBLESHOOTING_MD], ids=lambda p: p.name)
def test_every_emitted_code_is_documented(doc):
    missing = {code: sorted(paths) for code, paths in CODES.items() if code not in _doc_codes(doc)}
    assert not missing, f"codes emitted but not documented in {doc.relative_to(ROOT)}: {missing}"


@pytest.mark.parametrize("doc", [FINDINGS_MD, TROUBLESHOOTING_MD], ids=lambda p: p.name)
def test_every_documented_code_exists(doc):
    unknown = sorted(_doc_codes(doc) - set(CODES))
    assert not unknown, f"{doc.relative_to(ROOT)} documents codes no analyzer emits: {unknown}"


@pytest.mark.parametrize("doc", [FINDINGS_MD, TROUBLESHOOTING_MD], ids=lambda p: p.name)
def test_each_code_is_documented_under_its_step(doc):
    sections = _codes_by_step_section(doc)
    assert sorted(sections) == list(range(1, 9)), f"{doc.name} needs one '## Step N' section per step, found {sorted(sections)}"
    misplaced = {code: step for code, step in CODE_STEPS.items() if code not in sections[step]}
    assert not misplaced, f"codes not named in their step's section of {doc.name}: {misplaced}"


# ------------------------------------------------------------------------------------------ roles


def _yaml_blocks(text):
    return re.findall(r"^```ya?ml\n(.*?)^```", text, re.M | re.S)


def _roles_used(data):
    """Role names a playbook (list of plays) uses through roles:, include_role or import_role."""
    used = set()
    for play in data or []:
        for entry in play.get("roles") or []:
            used.add(entry if isinstance(entry, str) else entry.get("role") or entry.get("name"))
        for section in ("pre_tasks", "tasks", "post_tasks"):
            for task in play.get(section) or []:
                for action in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"):
                    if action in (task or {}):
                        used.add(task[action].get("name"))
    return used


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_readme_has_a_runnable_example(role):
    readme = role / "README.md"
    assert readme.is_file(), f"{role.name} has no README.md"
    text = readme.read_text()
    blocks = _yaml_blocks(text)
    assert blocks, f"{readme.relative_to(ROOT)} has no ```yaml example block"
    playbooks = []
    for block in blocks:
        data = yaml.safe_load(block)  # every YAML block parses
        if isinstance(data, list) and data and isinstance(data[0], dict) and "hosts" in data[0]:
            playbooks.append(data)
    assert playbooks, f"{readme.relative_to(ROOT)}: no YAML block is a playbook (a list of plays with hosts)"
    fqcn = f"aksnet.networking.{role.name}"
    assert any(fqcn in _roles_used(p) for p in playbooks), f"no example playbook in {readme.name} uses {fqcn}"
    assert "meta/argument_specs.yml" in text, f"{readme.relative_to(ROOT)} should point at meta/argument_specs.yml for the full list"


def _role_invocations(data, fqcn):
    """``[variables]`` passed to ``fqcn`` by each use in a playbook: play vars, then role or task vars."""
    found = []
    for play in data or []:
        play_vars = dict(play.get("vars") or {})
        for entry in play.get("roles") or []:
            if isinstance(entry, dict) and (entry.get("role") or entry.get("name")) == fqcn:
                params = {k: v for k, v in entry.items() if k not in ("role", "name", "vars", "when", "tags")}
                found.append({**play_vars, **(entry.get("vars") or {}), **params})
            elif entry == fqcn:
                found.append(play_vars)
        for section in ("pre_tasks", "tasks", "post_tasks"):
            for task in play.get(section) or []:
                for action in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
                    if (task or {}).get(action, {}).get("name") == fqcn:
                        found.append({**play_vars, **(task.get("vars") or {})})
    return found


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_readme_examples_pass_the_argument_spec(role):
    # The variables an example gives the role exist in its spec, and every required one is given.
    options = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    required = {name for name, spec in options.items() if spec.get("required")}
    fqcn = f"aksnet.networking.{role.name}"
    uses = [v for block in _yaml_blocks((role / "README.md").read_text()) for v in _role_invocations(yaml.safe_load(block), fqcn)]
    assert uses, f"no example in {role.name}/README.md passes variables to {fqcn}"
    for given in uses:
        ours = {k for k in given if k.startswith(f"{role.name}_")}
        assert not ours - set(options), f"{role.name}/README.md example sets unknown variables {sorted(ours - set(options))}"
        assert not required - ours, f"{role.name}/README.md example lacks required variables {sorted(required - ours)}"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_readme_names_only_specced_variables(role):
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    named = set(re.findall(rf"`({re.escape(role.name)}_[a-z0-9_]+)`", (role / "README.md").read_text()))
    exported = {f"{role.name}_result", f"{role.name}_values"}
    unknown = sorted(named - set(specs) - exported)
    assert not unknown, f"{role.name}/README.md names variables its argument spec does not have: {unknown}"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_argument_specs_cover_the_defaults(role):
    specs_file = role / "meta" / "argument_specs.yml"
    assert specs_file.is_file(), f"{role.name} has no meta/argument_specs.yml"
    main = yaml.safe_load(specs_file.read_text())["argument_specs"]["main"]
    assert main.get("short_description") and main.get("description"), f"{role.name}: main entry point needs short_description and description"
    options = main.get("options") or {}
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    missing = sorted(set(defaults) - set(options))
    assert not missing, f"{role.name}: defaults/main.yml variables missing from meta/argument_specs.yml: {missing}"
    for name, value in defaults.items():
        spec = options[name]
        assert spec.get("description"), f"{role.name}: {name} has no description"
        if "default" in spec:
            assert spec["default"] == value, f"{role.name}: {name} default {spec['default']!r} in the spec, {value!r} in defaults/main.yml"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_reads_only_specced_public_variables(role):
    # Public variables carry the role's prefix; internal ones a double underscore (role__x) or are registered/set in the role.
    tasks = "\n".join(p.read_text() for p in sorted((role / "tasks").glob("*.yml")))
    options = set(yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"])
    set_here = set(re.findall(r"^\s*register:\s*(\w+)", tasks, re.M))
    set_here |= set(re.findall(rf"^\s{{4,}}({re.escape(role.name)}_\w+):", tasks, re.M))  # set_fact / vars keys
    # a module's FQCN (aksnet.networking.cluster_info) is not a variable: no "." before the name
    used = set(re.findall(rf"(?<![.\w])({re.escape(role.name)}_[a-z0-9_]+)\b", tasks))
    public = {v for v in used if not v.startswith(f"{role.name}__")}
    unspecced = sorted(public - options - set_here)
    assert not unspecced, f"{role.name}: tasks read variables that meta/argument_specs.yml does not declare: {unspecced}"


# ------------------------------------------------------------------------------------------ README


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text().splitlines()[:6]
    assert head[0].startswith("# aksnet.networking")
    assert any(line.startswith("make demo") for line in head) and any(line.startswith("make test") for line in head), head


def test_readme_variable_files_use_specced_role_variables():
    # The quick start's variable files name role variables; each must exist in that role's argument spec.
    specs = {
        role.name: set(yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"])
        for role in ROLES
    }
    checked = 0
    for block in _yaml_blocks((ROOT / "README.md").read_text()):
        data = yaml.safe_load(block)
        if not isinstance(data, dict):
            continue
        for key in data:
            owner = max((r for r in specs if key.startswith(f"{r}_")), key=len, default=None)
            if owner:
                checked += 1
                assert key in specs[owner], f"README.md names {key}, which roles/{owner}/meta/argument_specs.yml does not declare"
    assert checked >= 10


def test_readme_links_exist():
    text = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#:]+)\)", text):
        assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"

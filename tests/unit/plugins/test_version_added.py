# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import ast
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]


def _version(text):
    return tuple(int(part) for part in str(text).split("."))


def _documents():
    for path in sorted((ROOT / "plugins").glob("*/*.py")):
        if path.parent.name in ("module_utils", "doc_fragments"):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
                yield path, yaml.safe_load(node.value.value)
    for path in sorted((ROOT / "plugins").glob("*/*.yml")):
        yield path, (yaml.safe_load(path.read_text()) or {}).get("DOCUMENTATION")


DOCS = list(_documents())


def test_every_plugin_is_documented():
    assert len(DOCS) >= 15
    assert all(doc for _path, doc in DOCS)


@pytest.mark.parametrize(("path", "doc"), DOCS, ids=[str(p.relative_to(ROOT)) for p, _d in DOCS])
def test_version_added_is_a_released_or_current_version(path, doc):
    # ansible-doc shows "added in version X"; a version after the collection's own tells users the plugin does not exist yet.
    current = _version(yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"])
    assert _version(doc["version_added"]) <= current, f"{path.name}: version_added {doc['version_added']} is after the collection version"

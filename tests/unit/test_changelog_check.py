"""scripts/changelog_check.py: the release check fails on a fragment the built version's changelog omits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "changelog_check.py"


def _tree(tmp_path, version, released_fragments, fragments):
    (tmp_path / "galaxy.yml").write_text(f"namespace: aksnet\nname: networking\nversion: {version}\n")
    (tmp_path / "changelogs" / "fragments").mkdir(parents=True)
    listed = "".join(f"      - {f}\n" for f in released_fragments)
    (tmp_path / "changelogs" / "changelog.yaml").write_text(
        f"ancestor: null\nreleases:\n  0.1.0:\n    release_date: '2026-12-01'\n    fragments:\n{listed}"
    )
    for name in fragments:
        (tmp_path / "changelogs" / "fragments" / name).write_text("bugfixes:\n  - x - y.\n")
    return subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=False)


def test_released_version_with_a_fragment_missing_from_its_changelog_fails(tmp_path):
    run = _tree(tmp_path, "0.1.0", ["a.yml"], ["a.yml", "diagnostics-one-azure-read.yml"])
    assert run.returncode == 1
    assert "diagnostics-one-azure-read.yml" in run.stderr
    assert "make changelog" in run.stderr
    assert "a.yml," not in run.stderr


def test_released_version_with_every_fragment_listed_passes(tmp_path):
    run = _tree(tmp_path, "0.1.0", ["a.yml", "b.yml"], ["a.yml", "b.yml"])
    assert run.returncode == 0, run.stderr


def test_fragments_for_the_next_unreleased_version_are_reported_not_fatal(tmp_path):
    run = _tree(tmp_path, "0.2.0", ["a.yml"], ["a.yml", "new-thing.yml"])
    assert run.returncode == 0, run.stderr
    assert "next release" in run.stdout and "new-thing.yml" in run.stdout


def test_the_release_check_runs_the_fragment_check():
    text = (SCRIPT.parent / "release_check.sh").read_text()
    assert "scripts/changelog_check.py" in text

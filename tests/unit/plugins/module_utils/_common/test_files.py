# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private files: owner-only mode, atomic replacement, nothing left behind on failure."""

from __future__ import annotations

import os

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._common.files import PRIVATE_MODE, file_mode, write_private


def test_file_mode_of_missing_and_existing_file(tmp_path):
    target = tmp_path / "f"
    assert file_mode(str(target)) is None
    target.write_text("x")
    os.chmod(target, 0o640)
    assert file_mode(str(target)) == 0o640


def test_write_private_text_and_bytes_with_mode_0600(tmp_path):
    target = tmp_path / "kubeconfig"
    write_private(str(target), "apiVersion: v1\nnäme: x\n")
    assert target.read_bytes() == b"apiVersion: v1\nn\xc3\xa4me: x\n"
    assert file_mode(str(target)) == PRIVATE_MODE == 0o600
    write_private(str(target), b"\x00binary")
    assert target.read_bytes() == b"\x00binary"


def test_write_private_tightens_a_loose_existing_file(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old")
    os.chmod(target, 0o644)
    write_private(str(target), "new")
    assert target.read_text() == "new"
    assert file_mode(str(target)) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["report.md"]  # no temporary file left


def test_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "snapshot.yaml"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_private(str(target), 42)
    assert target.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["snapshot.yaml"]

"""Each playbook in targets/ is one integration test: it runs against a freshly reset lab and
asserts its own expectations (three passes: check mode, apply, apply again unchanged)."""

from __future__ import annotations

import glob
import os

import pytest

from .conftest import assert_playbook_ok, run_playbook

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = sorted(glob.glob(os.path.join(HERE, "targets", "*.yml")))


@pytest.mark.parametrize("playbook", TARGETS, ids=[os.path.basename(t)[:-4] for t in TARGETS])
def test_target(fresh_lab, playbook, tmp_path):
    proc = run_playbook(fresh_lab, playbook, extra_vars={"output_dir": str(tmp_path)})
    assert_playbook_ok(proc)

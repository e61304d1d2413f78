"""Cilium network policies against a lab that serves the Cilium CRDs.

The lab's default cluster has no Cilium CRDs (dataplane azure) and the emulator offers no lab
route to register them, so this test registers them in-process before running the playbook.
"""

from __future__ import annotations

import os

from .conftest import assert_playbook_ok, run_playbook

HERE = os.path.dirname(os.path.abspath(__file__))


def test_cilium_policies(fresh_lab, tmp_path):
    fresh_lab.kube.register_cilium_crds()
    proc = run_playbook(fresh_lab, os.path.join(HERE, "cilium", "cilium_policies.yml"), extra_vars={"output_dir": str(tmp_path)})
    assert_playbook_ok(proc)
    stored = {obj["metadata"]["name"]: obj for obj in fresh_lab.kube.objects(group="cilium.io")}
    assert set(stored) == {"allow-http-from-frontend", "allow-egress-to-api", "deny-external-egress", "raw-fqdn"}
    assert "namespace" not in stored["deny-external-egress"]["metadata"]
    assert stored["allow-http-from-frontend"]["metadata"]["namespace"] == "shop"

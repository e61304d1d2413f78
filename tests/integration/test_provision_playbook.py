"""playbooks/provision.yml as users run it: --diff shows one diff and counts one change, --check says what would
happen, and a preset's max_pods does not override an existing pool's."""

from __future__ import annotations

import json
import re

from .conftest import assert_playbook_ok, run_playbook

PLAYBOOK = "playbooks/provision.yml"
POOL_110 = {"name": "system", "vm_size": "Standard_D2s_v5", "count": 2, "max_pods": 110}
POOL = {"name": "system", "vm_size": "Standard_D2s_v5", "count": 2}
TAGS = {"team": "edge-42"}


def _provision(lab, tmp_path, flags=(), **extra):
    values = {
        "cluster_resource_group": lab.env.get("AKSNET_LAB_RG", "lab-rg"),
        "cluster_name": "prov-aks",
        "cluster_location": "westeurope",
        "cluster_cni": "overlay",
        "cluster_wait_timeout": 120,
        "cluster_async_poll": 1,
    }
    values.update(extra)
    path = tmp_path / f"vars-{len(list(tmp_path.glob('vars-*')))}.json"
    path.write_text(json.dumps(values))
    return run_playbook(lab, PLAYBOOK, args=("-e", f"@{path}", *flags))


def _recap_changed(stdout):
    return int(re.search(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)", stdout).group(1))


def _summary(stdout):
    match = re.search(r'"msg": "(prov-aks:[^"]*)"', stdout)
    assert match, stdout[-3000:]
    return match.group(1)


def test_provision_diff_check_and_preset_max_pods(fresh_lab, tmp_path):
    lab = fresh_lab
    # an overlay cluster whose pool runs 110 pods per node (the overlay preset's value is 250)
    created = _provision(lab, tmp_path, cluster_system_pool=POOL_110)
    assert_playbook_ok(created)
    assert "created" in _summary(created.stdout)

    # the preset again, the pool without max_pods, one tag added: an update, not a refused max_pods change
    kubeconfig = tmp_path / "prov.kubeconfig"
    planned = _provision(lab, tmp_path, ("--check", "--diff"), cluster_system_pool=POOL, cluster_tags=TAGS,
                         cluster_kubeconfig_dest=str(kubeconfig))
    output = assert_playbook_ok(planned)
    assert "cannot change" not in output
    summary = _summary(planned.stdout)
    assert "would be updated (tags)" in summary, summary
    assert f"kubeconfig would be written to {kubeconfig}" in summary, summary
    assert "absent" not in summary and "  " not in summary, summary
    assert not kubeconfig.exists()
    assert output.count("edge-42") == 1, output  # the planned diff, once
    # two would-be changes, each counted once: the cluster update and the new kubeconfig file
    assert _recap_changed(planned.stdout) == 2, planned.stdout[-1500:]

    applied = _provision(lab, tmp_path, ("--diff",), cluster_system_pool=POOL, cluster_tags=TAGS)
    output = assert_playbook_ok(applied)
    assert output.count("edge-42") == 1, output  # one diff, from Apply
    assert _recap_changed(applied.stdout) == 1, applied.stdout[-1500:]
    summary = _summary(applied.stdout)
    assert "updated (tags)" in summary and "Succeeded" in summary and "  " not in summary, summary
    with lab.arm._lock:
        clusters = [r for key, r in lab.arm._resources.items() if key.endswith("/managedclusters/prov-aks")]
    assert clusters[0]["properties"]["agentPoolProfiles"][0]["maxPods"] == 110

    again = _provision(lab, tmp_path, cluster_system_pool=POOL, cluster_tags=TAGS)
    assert_playbook_ok(again)
    assert _recap_changed(again.stdout) == 0, again.stdout[-1500:]
    assert "unchanged" in _summary(again.stdout)

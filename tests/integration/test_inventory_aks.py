"""The aksnet.networking.aks inventory plugin against the ARM simulator: hosts, groups, host variables,
filters, duplicate names, constructed features, and the inventory cache (a cached run makes no ARM request)."""

from __future__ import annotations

import json
import os
import subprocess

import yaml

from .conftest import BIN, ROOT

SUB = "00000000-0000-0000-0000-000000000000"


def add(lab, rg, name, plugin="azure", mode=None, dataplane=None, policy=None, tags=None, location="westeurope"):
    profile = {"networkPlugin": plugin, "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer",
               "loadBalancerSku": "standard"}
    if plugin in ("kubenet",) or mode == "overlay":
        profile["podCidr"] = "10.244.0.0/16"
    if mode:
        profile["networkPluginMode"] = mode
    if dataplane:
        profile["networkDataplane"] = dataplane
    if policy:
        profile["networkPolicy"] = policy
    if rg.lower() not in ("lab-rg",):
        lab.arm.add_resource_group(rg, location)
    body = {"location": location, "properties": {
        "dnsPrefix": name, "networkProfile": profile,
        "agentPoolProfiles": [{"name": "system", "count": 1, "vmSize": "Standard_D4s_v5", "maxPods": 30, "mode": "System", "osType": "Linux"}]}}
    if tags:
        body["tags"] = tags
    lab.arm.add_cluster(rg, name, body)


def fleet(lab):
    add(lab, "team-a", "prod-1", plugin="azure", mode="overlay", dataplane="cilium", policy="cilium", tags={"env": "prod", "team": "a"})
    add(lab, "team-a", "dev-1", plugin="kubenet", policy="calico", tags={"env": "dev", "team": "a"})
    add(lab, "team-b", "prod-2", plugin="azure", tags={"env": "prod", "team": "b"}, location="northeurope")
    add(lab, "team-b", "dev-1", plugin="azure", mode="overlay", tags={"env": "dev"})  # same name as in team-a


def inventory(lab, tmp_path, config, name="fleet.aks.yml", flush=False):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict({"plugin": "aksnet.networking.aks"}, **config)))
    env = dict(os.environ)
    env.update(lab.env)
    env.update({"ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_INVENTORY_ENABLED": "aksnet.networking.aks",
                "PATH": BIN + os.pathsep + env.get("PATH", "")})
    cmd = [os.path.join(BIN, "ansible-inventory"), "-i", str(path), "--list"]
    if flush:
        cmd.append("--flush-cache")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return plain(json.loads(proc.stdout)), proc.stderr


def plain(value):
    """ansible-inventory marks values from the plugin as untrusted ({"__ansible_unsafe": value}); compare the values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def hosts_of(data, group):
    return sorted(data.get(group, {}).get("hosts", []))


def test_hosts_groups_and_host_variables(fresh_lab, tmp_path):
    fleet(fresh_lab)
    data, stderr = inventory(fresh_lab, tmp_path, {})
    assert hosts_of(data, "aks") == ["lab-aks", "prod-1", "prod-2", "team-a/dev-1", "team-b/dev-1"]
    assert "more than once" in stderr  # the duplicate name is announced
    assert hosts_of(data, "aks_plugin_kubenet") == ["team-a/dev-1"]
    assert hosts_of(data, "aks_plugin_azure") == ["lab-aks", "prod-1", "prod-2", "team-b/dev-1"]
    assert hosts_of(data, "aks_plugin_mode_overlay") == ["lab-aks", "prod-1", "team-b/dev-1"]
    assert hosts_of(data, "aks_plugin_mode_none") == ["prod-2", "team-a/dev-1"]
    assert hosts_of(data, "aks_dataplane_cilium") == ["prod-1"]
    assert hosts_of(data, "aks_policy_calico") == ["team-a/dev-1"]
    assert hosts_of(data, "aks_policy_cilium") == ["prod-1"]
    assert hosts_of(data, "aks_location_northeurope") == ["prod-2"]
    hostvars = data["_meta"]["hostvars"]
    prod = hostvars["prod-1"]
    assert prod["ansible_connection"] == "local"
    assert prod["aks_name"] == "prod-1" and prod["aks_resource_group"] == "team-a" and prod["aks_subscription_id"] == SUB
    assert prod["aks_network_profile"]["plugin"] == "azure" and prod["aks_network_profile"]["dataplane"] == "cilium"
    assert prod["aks_cluster"]["tags"] == {"env": "prod", "team": "a"}
    assert prod["aks_cluster"]["node_resource_group"] == "MC_team-a_prod-1_westeurope"
    assert hostvars["team-b/dev-1"]["aks_resource_group"] == "team-b"


def test_filters(fresh_lab, tmp_path):
    fleet(fresh_lab)
    data, _err = inventory(fresh_lab, tmp_path, {"tags": {"env": "prod"}})
    assert hosts_of(data, "aks") == ["prod-1", "prod-2"]
    data, _err = inventory(fresh_lab, tmp_path, {"tags": {"env": "prod", "team": "b"}})
    assert hosts_of(data, "aks") == ["prod-2"]  # all tags must match
    data, _err = inventory(fresh_lab, tmp_path, {"resource_groups": ["TEAM-A"]})
    assert hosts_of(data, "aks") == ["dev-1", "prod-1"]  # one group: dev-1 is unique again
    data, _err = inventory(fresh_lab, tmp_path, {"name_pattern": "prod-*"})
    assert hosts_of(data, "aks") == ["prod-1", "prod-2"]
    data, _err = inventory(fresh_lab, tmp_path, {"name_pattern": "re:(lab|prod)-[a-z0-9]+", "resource_groups": ["lab-rg", "team-b"]})
    assert hosts_of(data, "aks") == ["lab-aks", "prod-2"]
    data, _err = inventory(fresh_lab, tmp_path, {"subscriptions": [SUB], "name_pattern": "nothing-*"})
    assert hosts_of(data, "aks") == []


def test_constructed_features(fresh_lab, tmp_path):
    fleet(fresh_lab)
    data, _err = inventory(fresh_lab, tmp_path, {
        "compose": {"cni": "aks_network_profile.plugin ~ '-' ~ (aks_network_profile.plugin_mode or 'none')"},
        "groups": {"ebpf": "aks_network_profile.dataplane == 'cilium'"},
        "keyed_groups": [{"key": "aks_cluster.tags.team | default('none')", "prefix": "team"}],
    })
    assert hosts_of(data, "ebpf") == ["prod-1"]
    assert hosts_of(data, "team_a") == ["prod-1", "team-a/dev-1"]
    assert hosts_of(data, "team_none") == ["lab-aks", "team-b/dev-1"]
    assert data["_meta"]["hostvars"]["team-a/dev-1"]["cni"] == "kubenet-none"


def test_cached_second_run_makes_no_arm_request(fresh_lab, tmp_path):
    fleet(fresh_lab)
    cache_dir = tmp_path / "cache"
    config = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(cache_dir), "cache_timeout": 600}
    fresh_lab.arm.clear_requests()
    first, _err = inventory(fresh_lab, tmp_path, config)
    listed = [r for r in fresh_lab.arm.requests if "managedClusters" in r["path"]]
    assert len(listed) == 1 and listed[0]["method"] == "GET"  # one LIST for the subscription
    fresh_lab.arm.clear_requests()
    second, _err = inventory(fresh_lab, tmp_path, config)
    assert fresh_lab.arm.requests == []
    assert second == first
    # a new cluster shows up only after the cache is flushed
    add(fresh_lab, "team-b", "prod-3", tags={"env": "prod"})
    third, _err = inventory(fresh_lab, tmp_path, config)
    assert "prod-3" not in hosts_of(third, "aks")
    flushed, _err = inventory(fresh_lab, tmp_path, config, flush=True)
    assert "prod-3" in hosts_of(flushed, "aks") and fresh_lab.arm.requests != []


def test_bad_name_pattern_and_missing_subscription_fail_with_the_option_named(fresh_lab, tmp_path):
    path = tmp_path / "bad.aks.yml"
    path.write_text(yaml.safe_dump({"plugin": "aksnet.networking.aks", "name_pattern": "re:(unclosed"}))
    env = dict(os.environ)
    env.update(fresh_lab.env)
    env.update({"ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_INVENTORY_ENABLED": "aksnet.networking.aks",
                "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"})
    fresh_lab.arm.clear_requests()
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(path), "--list"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode != 0 and "name_pattern" in proc.stderr and "regular expression" in proc.stderr
    env.pop("AZURE_SUBSCRIPTION_ID")
    path.write_text(yaml.safe_dump({"plugin": "aksnet.networking.aks"}))
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(path), "--list"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode != 0 and "subscription_id" in proc.stderr
    assert fresh_lab.arm.requests == []

"""The load_balancer role through playbooks/configure.yml: check mode with a new static public IP
shows the annotations and no false warning, Service diffs hold no dry-run allocations, one summary
line per Service, and the whole run is validated before anything is written."""

from __future__ import annotations

import json
import os
import re

from .conftest import ROOT, assert_playbook_ok, run_playbook

CONFIGURE = os.path.join(ROOT, "playbooks", "configure.yml")


SERVICES = [
    {"name": "shop", "selector": {"app": "shop"}, "ports": [{"port": 80, "target_port": 8080}], "public_ip": {"name": "shop-ip"}},
    {"name": "api", "selector": {"app": "api"}, "ports": [{"port": 443, "target_port": 8443}], "public_ip": {"name": "api-ip"}},
]


def _run(lab, tmp_path, services, check=False):
    path = tmp_path / "vars.json"
    path.write_text(json.dumps({
        "load_balancer_services": services,
        "load_balancer_wait_timeout": 30,
        "load_balancer_cluster": {"resource_group": lab.env["AKSNET_LAB_RG"], "name": lab.env["AKSNET_LAB_CLUSTER"]},
    }))
    args = ["-e", f"@{path}", "--diff"] + (["--check"] if check else [])
    return run_playbook(lab, CONFIGURE, args=args)


def test_check_mode_predicts_the_static_ip_annotation_and_hides_allocations(fresh_lab, tmp_path):
    output = assert_playbook_ok(_run(fresh_lab, tmp_path, SERVICES, check=True))
    assert "ip_resource_group is set without static_ip" not in output
    # the Service diffs name the annotation with the placeholder, and the public IP's resource group
    assert output.count('"service.beta.kubernetes.io/azure-load-balancer-ipv4": "(known after apply)"') == 2
    assert output.count('"service.beta.kubernetes.io/azure-load-balancer-resource-group": ') == 2
    # no dry-run allocation shown as final
    assert "clusterIP" not in output and "nodePort" not in output
    # one summary line per Service
    assert re.search(r"default/shop: LoadBalancer, address \(not assigned yet\), public IP \S+/shop-ip", output), output[-3000:]
    assert re.search(r"default/api: LoadBalancer, address \(not assigned yet\), public IP \S+/api-ip", output)


def test_apply_prints_one_line_per_service_with_its_address(fresh_lab, tmp_path):
    output = assert_playbook_ok(_run(fresh_lab, tmp_path, SERVICES))
    lines = re.findall(r"default/(shop|api): LoadBalancer, address (\d+\.\d+\.\d+\.\d+), public IP (\S+)/(shop-ip|api-ip)", output)
    assert sorted((name, pip) for name, _addr, _rg, pip in lines) == [("api", "api-ip"), ("shop", "shop-ip")]
    assert len({addr for _n, addr, _rg, _p in lines}) == 2


def test_duplicates_and_a_shared_address_port_are_refused_before_any_write(fresh_lab, tmp_path):
    twice = [*SERVICES, dict(SERVICES[0], ports=[{"port": 81, "target_port": 8080}])]
    proc = _run(fresh_lab, tmp_path, twice)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "Listed twice (namespace/name): default/shop" in out
    shared = [*SERVICES, {"name": "shop2", "selector": {"app": "shop"}, "ports": [{"port": 80}], "public_ip": {"name": "shop-ip"}}]
    proc = _run(fresh_lab, tmp_path, shared)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "One address and port for two Services: public IP (node resource group)/shop-ip port 80/TCP (default/shop and default/shop2)" in out
    assert [r for r in fresh_lab.kube.requests if r["method"] != "GET"] == []
    assert [r for r in fresh_lab.arm.requests if r["method"] != "GET"] == []

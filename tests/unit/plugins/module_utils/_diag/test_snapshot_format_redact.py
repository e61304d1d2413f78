# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot files: the format follows the name (15.14), redaction (15.15), the SnapshotInfo contract."""

from __future__ import annotations

import copy
import json
import pathlib

import pytest
import yaml
from diag_fixtures import configmap, healthy_system

from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics
from ansible_collections.aksnet.networking.plugins.module_utils._diag.redact import REDACTED, redact_object, redact_objects
from ansible_collections.aksnet.networking.plugins.module_utils._diag.snapshot_io import (
    COLLECTION_VERSION,
    SnapshotError,
    load_snapshot,
    render_snapshot,
    snapshot_format,
    snapshot_info,
)
from ansible_collections.aksnet.networking.plugins.module_utils._diag.source import gather

ROOT = pathlib.Path(__file__).resolve().parents[5]
SCENARIO = ROOT / "tests" / "integration" / "files" / "diagnose_scenario.yml"
INFO = {"redacted": True, "captured_at": "2026-12-04T02:00:00Z", "collection_version": COLLECTION_VERSION,
        "cluster": {"server": "https://aks.example:443", "context": "prod"}, "skipped": {}}


def test_format_follows_the_extension(tmp_path):
    objects = healthy_system()
    assert snapshot_format("a/snap.json") == "json" and snapshot_format("s.YAML") == "yaml" and snapshot_format("s.yml") == "yaml"
    for bad in ("snap.txt", "snap"):
        with pytest.raises(SnapshotError, match=r"json.*yaml"):
            snapshot_format(bad)
    text = render_snapshot(objects, {"cluster": {"name": "c"}}, INFO, "json")
    doc = json.loads(text)  # one JSON document, not "---"-separated YAML
    assert doc["kind"] == "List" and [o["kind"] for o in doc["items"]][-2:] == ["SnapshotInfo", "AzureNetworkFacts"]
    text = render_snapshot(objects, None, INFO, "yaml")
    assert not text.lstrip("-\n ").startswith("{")
    docs = list(yaml.safe_load_all(text))
    assert docs[0]["kind"] == "List" and docs[1]["kind"] == "SnapshotInfo"
    for fmt in ("json", "yaml"):
        path = tmp_path / f"s.{fmt}"
        path.write_text(render_snapshot(objects, {"cluster": {"name": "c"}}, INFO, fmt))
        snap = load_snapshot(str(path))
        assert snap["objects"] == objects and snap["azure"] == {"cluster": {"name": "c"}}
        assert snapshot_info(snap["info"]) == {k: INFO[k] for k in ("redacted", "captured_at", "collection_version", "cluster")}


def test_snapshot_info_of_old_snapshots(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"kind": "List", "items": healthy_system()}) + "\n---\n"
                   + json.dumps({"apiVersion": "aksnet.networking/v1", "kind": "SnapshotInfo", "server": "https://x", "taken_at": "T"}))
    data = gather(snapshot=str(old))
    assert data["info"]["snapshot_info"] == {"redacted": False, "captured_at": "T", "collection_version": None,
                                             "cluster": {"server": "https://x", "context": None}}
    kubectl = tmp_path / "kubectl.yaml"
    kubectl.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": healthy_system()}))
    assert gather(snapshot=str(kubectl))["info"]["snapshot_info"]["redacted"] is False


def test_collection_version_matches_galaxy():
    assert yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"] == COLLECTION_VERSION


def _pod_with_secrets(pod):
    pod = copy.deepcopy(pod)
    pod["metadata"].setdefault("annotations", {}).update({
        "example.com/api-token": "s3cr3t", "vault.hashicorp.com/agent-inject-secret-db": "path",
        "kubectl.kubernetes.io/last-applied-configuration": '{"env": "PASSWORD=hunter2"}', "prometheus.io/port": "9090"})
    for c in pod["spec"]["containers"]:
        c["env"] = [{"name": "DB_PASSWORD", "value": "hunter2"},
                    {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
        c["args"] = ["--password=hunter2"]
        c["command"] = ["/bin/app", "--token", "abc"]
    return pod


def test_redaction_rules():
    pod = _pod_with_secrets(next(o for o in healthy_system() if o["kind"] == "Pod"))
    red = redact_object(pod)
    assert pod["spec"]["containers"][0]["env"][0]["value"] == "hunter2"  # the input is untouched
    c = red["spec"]["containers"][0]
    assert c["env"][0] == {"name": "DB_PASSWORD", "value": REDACTED}
    assert c["env"][1] == {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
    assert c["args"] == [REDACTED] and c["command"] == [REDACTED]
    ann = red["metadata"]["annotations"]
    assert ann["example.com/api-token"] == REDACTED and ann["vault.hashicorp.com/agent-inject-secret-db"] == REDACTED
    assert ann["kubectl.kubernetes.io/last-applied-configuration"] == REDACTED and ann["prometheus.io/port"] == "9090"
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "kube-system"},
              "spec": {"template": {"metadata": {}, "spec": {"initContainers": [{"name": "i", "env": [{"name": "K", "value": "v"}]}]}}}}
    assert redact_object(deploy)["spec"]["template"]["spec"]["initContainers"][0]["env"][0]["value"] == REDACTED
    other = redact_object(configmap("app-settings", "kube-system", {"conn": "Server=db;Password=x", "mode": "a"}))
    assert other["data"] == {"conn": REDACTED, "mode": REDACTED}
    core = configmap("coredns-custom", "kube-system", {"shop.server": "shop.local:53 { forward . 10.0.0.4 }"})
    assert redact_object(core) == core


def _findings(objects, tmp_path, name):
    path = tmp_path / name
    path.write_text(render_snapshot(objects, None, INFO, "json"))
    result = run_diagnostics(load_snapshot(str(path))["objects"])
    return [(f["code"], f["severity"], f["step"], f["resource"], f["message"]) for f in result["findings"]], result["summary"]


def test_redacted_snapshot_gives_the_same_findings(tmp_path):
    scenario = yaml.safe_load(SCENARIO.read_text())
    objects = [
        *healthy_system(),
        configmap("coredns-custom", "kube-system", {"broken.server": "shop.local:53 { forward . }"}),
        configmap("cluster-autoscaler-status", "kube-system", {"status": "Health: Healthy"}),
    ]
    objects += [_pod_with_secrets(o) if o["kind"] == "Pod" else o for o in scenario]
    full, full_summary = _findings(objects, tmp_path, "full.json")
    redacted_objects = redact_objects(objects)
    text = json.dumps(redacted_objects)
    assert "hunter2" not in text and '"abc"' not in text
    red, red_summary = _findings(redacted_objects, tmp_path, "red.json")
    assert full and full == red and full_summary == red_summary
    assert {"service.selector_mismatch", "netpol.blocks_service_traffic"} <= {f[0] for f in full}

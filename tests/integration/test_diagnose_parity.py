"""diagnose on a snapshot and on the live cluster it was taken from gives identical findings, and
live mode makes exactly one LIST request per kind and page (no per-object requests)."""

from __future__ import annotations

import json
import math
import os

import yaml

from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import api_path
from ansible_collections.aksnet.networking.plugins.module_utils._kube.kinds import DIAGNOSTIC_KINDS, FALLBACK_FOR

from .conftest import assert_playbook_ok, run_playbook

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "files", "diagnose_scenario.yml")
PAGE_SIZE = 4

SNAPSHOT_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - aksnet.networking.snapshot:
        dest: "{{ out }}/snapshot.json"
    - aksnet.networking.diagnose:
        snapshot: "{{ out }}/snapshot.json"
      register: offline
    - ansible.builtin.copy:
        content: "{{ offline | to_json }}"
        dest: "{{ out }}/offline.json"
        mode: "0600"
"""

LIVE_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - aksnet.networking.diagnose:
        page_size: {page_size}
      register: live
    - ansible.builtin.copy:
        content: "{{{{ live | to_json }}}}"
        dest: "{{{{ out }}}}/live.json"
        mode: "0600"
"""


def _run(lab, tmp_path, name, text):
    play = tmp_path / name
    play.write_text(text)
    assert_playbook_ok(run_playbook(lab, str(play), extra_vars={"out": str(tmp_path)}))


def _expected_pages(lab):
    """(path, pages) of every LIST a live run must make: ceil(objects / page size), at least one, per kind."""
    expected = {}
    counts = {}
    for api_version, kind, plural, namespaced, only_namespace, _optional in DIAGNOSTIC_KINDS:
        if counts.get(FALLBACK_FOR.get(kind)):
            continue  # v1 Endpoints: not read when the EndpointSlices were
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
        namespace = only_namespace if namespaced else None
        counts[kind] = len(lab.kube.objects(plural, namespace=namespace, group=group))
        expected[api_path(api_version, plural, namespace)] = max(1, math.ceil(counts[kind] / PAGE_SIZE))
    assert "/api/v1/endpoints" not in expected  # the lab's cluster has EndpointSlices
    # Secrets, metadata only: every Secret, then the kubernetes.io/tls ones (field selector), same path
    every = lab.kube.objects("secrets", namespace=None, group="")
    tls = [s for s in every if s.get("type") == "kubernetes.io/tls"]
    expected["/api/v1/secrets"] = max(1, math.ceil(len(every) / PAGE_SIZE)) + max(1, math.ceil(len(tls) / PAGE_SIZE))
    return expected


def test_snapshot_and_live_give_identical_findings(fresh_lab, tmp_path):
    with open(SCENARIO, encoding="utf-8") as handle:
        fresh_lab.kube.load_objects(yaml.safe_load(handle))

    _run(fresh_lab, tmp_path, "snapshot.yml", SNAPSHOT_PLAY)
    fresh_lab.kube.clear_requests()
    _run(fresh_lab, tmp_path, "live.yml", LIVE_PLAY.format(page_size=PAGE_SIZE))

    offline = json.loads((tmp_path / "offline.json").read_text())
    live = json.loads((tmp_path / "live.json").read_text())
    assert offline["mode"] == "snapshot"
    assert live["mode"] == "live"
    assert len(live["diagnostics"]["findings"]) == 9
    assert offline["diagnostics"]["findings"] == live["diagnostics"]["findings"]
    assert offline["diagnostics"]["summary"] == live["diagnostics"]["summary"]
    assert offline["diagnostics"]["steps"] == live["diagnostics"]["steps"]
    assert offline["diagnostics"]["facts"]["objects"] == live["diagnostics"]["facts"]["objects"]
    assert offline["diagnostics"]["facts"]["skipped_kinds"] == live["diagnostics"]["facts"]["skipped_kinds"]

    requests = fresh_lab.kube.requests
    assert {r["method"] for r in requests} == {"GET"}
    per_path = {}
    for req in requests:
        assert req["query"].get("limit") == str(PAGE_SIZE), f"not a paginated LIST: {req}"
        per_path[req["path"]] = per_path.get(req["path"], 0) + 1
    expected = _expected_pages(fresh_lab)
    assert per_path == expected  # one request per kind and page; no path outside the kinds' collections
    assert live["api_requests"] == len(requests) == sum(expected.values())
    assert sum(expected.values()) > len(DIAGNOSTIC_KINDS)  # the small page size made several kinds span pages

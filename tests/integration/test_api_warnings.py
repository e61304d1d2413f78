"""A raw manifest with a field the API server does not know: the server drops it, and the user hears why."""

from __future__ import annotations

import json

from .conftest import assert_playbook_ok, run_playbook

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: A policy whose podSelector is misspelt
      aksnet.networking.network_policy:
        name: typo
        namespace: default
        spec:
          podSelecter: {matchLabels: {app: web}}
          podSelector: {}
          policyTypes: [Ingress]
      register: typo
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ typo | to_json }}"
        dest: "{{ out }}/typo.json"
        mode: "0600"
"""


def test_a_field_the_api_server_drops_is_a_warning(fresh_lab, tmp_path):
    playbook = tmp_path / "typo.yml"
    playbook.write_text(PLAYBOOK)
    output = assert_playbook_ok(run_playbook(fresh_lab, str(playbook), extra_vars={"out": str(tmp_path)}))
    assert 'Kubernetes API server: unknown field "spec.podSelecter"' in output
    result = json.loads((tmp_path / "typo.json").read_text())
    assert 'Kubernetes API server: unknown field "spec.podSelecter"' in result["warnings"]
    stored = fresh_lab.kube.get_object("networkpolicies", "typo", "default", group="networking.k8s.io")
    assert "podSelecter" not in stored["spec"]

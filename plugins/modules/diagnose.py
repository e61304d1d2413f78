#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: diagnose
short_description: Diagnose an AKS cluster's networking from inside out, live or from a snapshot
version_added: 0.1.0
description:
  - Runs the field guide's troubleshooting steps as analyzers and returns what is broken, where, why and the fix, as findings
    with stable codes (see C(docs/findings.md)). Steps are 1 pods, 2 services, 3 connectivity, 4 policies, 5 dns, 6 ingress,
    7 dataplane, 8 azure.
  - Step 3 (active probes from a debug pod) runs only with O(active=true); step 8 (Azure-level checks) runs only with Azure facts,
    from O(azure_facts) or the C(AzureNetworkFacts) document of a snapshot. A step not run is reported as C(skipped) with the
    reason. A step whose data cannot be read (RBAC 403, CRD not installed) is also reported as C(skipped) with the reason; it is
    never silently passed and never stops the run.
  - Live mode lists each kind the analyzers read once, paginated (the same requests as M(aksnet.networking.snapshot)), then
    analyses an in-memory index; it never makes per-object requests. A snapshot and a live run of the same cluster give the
    same findings.
  - The module only reads. With O(report_dir) it writes C(report.json), C(report.md) and a self-contained C(report.html) on the
    controller-side host the module runs on; this happens in check mode too, because it changes nothing in the cluster, and the
    module always reports RV(ignore:changed=false).
  - When the task would run the module on the controller with the controller's Python (the C(local) connection, or delegation
    to C(localhost); C(ansible_python_interpreter) unset, C(auto) or that Python; no C(become), no C(async)), the
    collection's action plugin of the same name runs the diagnosis in Ansible's worker process instead of starting the module;
    the options, errors and result are the same. With any other host or interpreter the module runs.
author:
  - aksnet.networking contributors (@aksnet)
options:
  snapshot:
    description:
      - Path of a snapshot file (written by M(aksnet.networking.snapshot), or C(kubectl get ... -A -o yaml) output) to analyse
        instead of a live cluster.
      - When set, no connection is made and the Kubernetes connection options (and their E(K8S_AUTH_*) variables) are ignored.
      - Kinds the snapshot could not capture are treated like kinds a live run cannot list.
    type: path
  namespaces:
    description:
      - Analyse only these namespaces (live mode lists namespaced kinds per namespace, so namespace-scoped RBAC suffices).
        Cluster-wide checks (CoreDNS, kube-proxy, CNI, nodes, ingress classes) always run.
      - Default is every namespace.
    type: list
    elements: str
  steps:
    description:
      - Steps to run, by number (V(1)-V(8)) or name (V(pods), V(services), V(connectivity), V(policies), V(dns), V(ingress),
        V(dataplane), V(azure)). The others are reported as C(skipped) (not requested). Default is every step.
    type: list
    elements: str
  report_dir:
    description:
      - Directory to write C(report.json), C(report.md) and C(report.html) into (created with mode C(0700) when missing;
        files are written with mode C(0600)). Each report opens with a header identifying the run (cluster, resource group,
        subscription, Kubernetes version, network profile, mode, source, whether a snapshot was redacted, time taken,
        collection version), then the causes to fix first, what each step checked, and every finding. The HTML report draws,
        per namespace, which client workloads (the namespace's own, the ingress controller, and workloads of other namespaces
        that a policy names) may reach each Service port, on the Service's targetPort.
    type: path
  cluster_facts:
    description:
      - The cluster's network profile, to know which engines enforce policies (NetworkPolicy needs network policy
        azure, calico or cilium; Cilium policies need the Cilium dataplane) and which advanced networking features are on.
      - Pass C(network_profile) of an entry of M(aksnet.networking.cluster_info)'s C(clusters), or the whole entry;
        ARM camelCase keys are accepted too.
      - Without it, a snapshot's C(AzureNetworkFacts) C(cluster) entry is used when present; otherwise every policy is
        assumed enforced (Cilium policies only when a Cilium agent runs).
    type: dict
  azure_facts:
    description:
      - Azure-level facts for step 8 (load balancers, NSGs, routes, subnet usage, public IPs), that is the C(network)
        result of M(aksnet.networking.network_info). Overrides the C(AzureNetworkFacts) document of a snapshot.
      - Without Azure facts, step 8 is reported as C(skipped) with the reason.
    type: dict
  fail_on:
    description:
      - Fail the task when findings of this severity or worse exist (V(error), or V(warning) for warnings and errors).
        The result still carries RV(diagnostics).
      - V(never) (the default) only reports; in the C(aksnet.networking.diagnostics) role C(diagnostics_fail_on) decides.
    type: str
    choices: [error, warning, never]
    default: never
  page_size:
    description: Objects per LIST page in live mode.
    type: int
    default: 500
  active:
    description:
      - Run step 3's active probes (as M(aksnet.networking.probe) does) from a short-lived debug pod for O(services), and
        correlate them with the policy analysis. A probe that fails where the analysis allows the traffic says so in its
        finding (with both pieces of evidence); one that passes where the analysis denies it is a C(netpol.not_enforced) /
        C(cilium.not_enforced) finding. Live mode only; in check mode the probes are not run (step 3 is C(skipped)).
      - If the debug pod cannot run, step 3 is C(skipped) with the reason; the other steps are still reported.
    type: bool
    default: false
  services:
    description: Services the active probes check (ClusterIP, backend pods, DNS name). Used with O(active=true).
    type: list
    elements: dict
    default: []
    suboptions:
      namespace:
        description: Namespace of the Service.
        type: str
        required: true
      name:
        description: Name of the Service.
        type: str
        required: true
      port:
        description: Port number or name to probe (default every port).
        type: raw
  probe_image:
    description: Image of the debug pod (see M(aksnet.networking.probe) O(aksnet.networking.probe#module:image)).
    type: str
    default: nicolaka/netshoot
  probe_namespace:
    description: Namespace of the debug pod.
    type: str
    default: default
  probe_image_pull_secrets:
    description: Secrets to pull O(probe_image) with.
    type: list
    elements: str
    default: []
  probe_timeout:
    description: Seconds each probe may take.
    type: int
    default: 5
  probe_wait_timeout:
    description: Seconds to wait for the debug pod to run.
    type: int
    default: 120
  egress_urls:
    description: URLs the active probes fetch to check egress (with O(active=true)).
    type: list
    elements: str
    default: []
  cilium_agent:
    description: With O(active=true), compare the Cilium agents' endpoint policy enforcement with the policy analysis.
    type: bool
    default: false
  node_debug:
    description: With O(active=true), check the Services' kube-proxy rules from a privileged node debug pod (removed afterwards).
    type: bool
    default: false
  fleet_member:
    description:
      - The name of the cluster in a fleet run (its inventory host), shown as the mode in the reports' header. The
        C(diagnose.yml) playbook's fleet mode sets it; leave it unset for a single cluster.
    type: str
extends_documentation_fragment:
  - aksnet.networking.kubernetes
  - aksnet.networking.attributes
attributes:
  check_mode:
    support: full
    details: The cluster is only read. Reports are written in check mode too (they are local files, not a cluster change).
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Always reports no change.
requirements:
  - kubernetes >= 31.0.0
seealso:
  - module: aksnet.networking.snapshot
  - module: aksnet.networking.netpol_check
  - module: aksnet.networking.cluster_info
"""

EXAMPLES = r"""
- name: Diagnose the cluster of the current kubeconfig context
  aksnet.networking.diagnose:
    report_dir: /tmp/aks-report
  register: diag

- name: Show what is broken
  ansible.builtin.debug:
    msg: "{{ item.code }} {{ item.resource.namespace }}/{{ item.resource.name }}: {{ item.message }} Fix: {{ item.remediation }}"
  loop: "{{ diag.diagnostics.findings | selectattr('severity', 'equalto', 'error') }}"

- name: Only the shop namespace, pods and policies, knowing the CNI
  aksnet.networking.diagnose:
    kubeconfig: ~/.kube/prod-aks.yaml
    namespaces: [shop]
    steps: [pods, policies]
    cluster_facts: "{{ aks.clusters[0].network_profile }}"

- name: Offline, from a snapshot a colleague attached to the ticket; fail on errors
  aksnet.networking.diagnose:
    snapshot: /tmp/prod-aks.snapshot.json
    fail_on: error
"""

RETURN = r"""
diagnostics:
  description: The run, as DESIGN.md's result shape.
  returned: always
  type: dict
  contains:
    summary:
      description: Counts per severity and each step's status (C(passed), C(failed), C(skipped)), keyed by step number.
      type: dict
      sample: {errors: 2, warnings: 1, infos: 0, steps: {"1": failed, "2": passed, "3": skipped, "4": passed}}
    steps:
      description:
        - One entry per step 1-8 with C(step), C(name), C(status), C(reason) (why skipped, or what could not be checked) and C(checked).
        - A step that ran also has C(checks), one per check (finding code) it can make, each C(code), C(check) (what holds when it
          passes), C(status) (C(passed), C(failed), C(warning), C(info), or C(not_run) with C(reason) naming the missing data),
          C(findings) (how many it produced), and C(checked_objects) (C(Kind namespace/name), at most 200; C(checked_objects_more)
          counts the rest).
      type: list
      elements: dict
    findings:
      description:
        - Each finding has C(code), C(severity) (error, warning, info), C(step), C(resource) (kind, namespace, name), C(message),
          C(remediation) and C(evidence). Sorted by severity, step, namespace and name.
      type: list
      elements: dict
      sample:
        - code: service.selector_mismatch
          severity: error
          step: 2
          resource: {kind: Service, namespace: shop, name: web}
          message: "Service shop/web selects app=web but no pod carries it; closest pod web-7d9 has app=webapp."
          remediation: Fix the Service selector or the pod labels.
          evidence: {selector: {app: web}}
    causes:
      description:
        - The findings grouped by root cause, in the order to fix them. Each entry is a cause, C(finding) (its position in
          RV(diagnostics.findings)), C(code), C(severity), C(resource), and C(consequences), the findings that follow from it,
          each with the same keys and C(because). Every finding is either a cause or the consequence of exactly one.
        - Findings are linked by known chains (an Ingress backend without endpoints follows from its Service's selector mismatch;
          a pending LoadBalancer from its static IP, NSG or subnet) and by evidence naming the same object.
      type: list
      elements: dict
      sample:
        - {finding: 0, code: service.selector_mismatch, severity: error, resource: {kind: Service, namespace: shop, name: web},
           consequences: [{finding: 5, code: ingress.backend_no_endpoints, severity: error, resource: {kind: Ingress, namespace: shop, name: storefront},
                           because: the backend Service has no ready endpoints because of it}]}
    facts:
      description:
        - Object counts per kind, namespaces analysed, the normalised cluster facts, kinds that could not be read,
          C(source) (C(live) or C(snapshot)), C(server), and C(snapshot_info) - for a snapshot its C(SnapshotInfo)
          (C(redacted), C(captured_at), C(collection_version), C(cluster.server), C(cluster.context)), else null.
        - C(kubelet_versions) (the nodes' Kubernetes versions) and C(run) (C(collection_version), C(duration_seconds), C(fleet_member)).
      type: dict
report_paths:
  description: Files written, by format.
  returned: when O(report_dir) is set
  type: dict
  sample: {json: /tmp/aks-report/report.json, markdown: /tmp/aks-report/report.md, html: /tmp/aks-report/report.html}
api_requests:
  description: Number of Kubernetes API requests made (one per kind and page, never per object).
  returned: in live mode
  type: int
console:
  description:
    - The run's summary for a console, whatever the number of findings - counts per severity, each step's status with
      its counts, the top 20 finding lines (findings of one code and severity over many resources grouped into one line
      with a count and the number of namespaces), and the report paths. No line is longer than 160 characters, except a report path.
      Every finding stays in RV(diagnostics.findings).
  returned: always
  type: list
  elements: str
  sample:
    - "diagnostics (snapshot): 141 error(s), 2 warning(s), 0 info(s) in 143 finding(s)"
    - "step 4 policies: failed (140 errors, 2 warnings)"
    - "error netpol.selects_no_pods \u00d7140 in 12 namespaces (e.g. NetworkPolicy shop/p): ..."
mode:
  description: Where the objects came from.
  returned: always
  type: str
  choices: [live, snapshot]
probe:
  description:
    - The active probe run (O(active=true)) - C(results) with what each check ran and got, C(debug_pod), C(deleted),
      C(stale_deleted), C(cilium), C(kube_proxy), C(node_debug_skipped) - as returned by M(aksnet.networking.probe).
    - When the cluster refuses the debug pod (a view-only identity, a used-up quota, admission), there is no C(probe);
      step 3 is C(skipped) with the reason and the other steps are reported.
  returned: when O(active=true), not in check mode, and the debug pod could run
  type: dict
"""

from ansible_collections.aksnet.networking.plugins.module_utils._diag.module_run import ARGUMENT_SPEC, AUTH, LIBRARIES, run
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule

# What the module does lives in module_utils/_diag/module_run.py, shared with the action plugin of the same
# name (plugins/action/diagnose.py), which runs it inside the controller's worker when the task would run this
# module on the controller with the controller's Python anyway; everywhere else the action runs this module.


def main():
    mod = AksnetModule(ARGUMENT_SPEC, auth=AUTH, libraries=LIBRARIES)
    mod.run(run, "diagnose the cluster")


if __name__ == "__main__":
    main()

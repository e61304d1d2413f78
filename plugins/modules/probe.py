#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: probe
short_description: Active connectivity checks from a short-lived debug pod (field guide step 3)
version_added: 0.1.0
description:
  - Starts a short-lived debug pod and, through pod exec, checks DNS resolution (C(nslookup)), TCP/HTTP to each requested
    Service's ClusterIP and port and to its backend pods' IP and target port (C(curl) or C(nc)), HTTP egress to URLs, and
    optionally which sockets a target pod listens on (C(ss -tlnp), or C(/proc/net/tcp) when the image has no C(ss)).
  - Every entry of RV(results) says what was run (C(command)), what came back (C(output), C(exit_code)), how long it took
    (C(duration_ms)) and what it means (C(ok), C(detail)). RV(probes) holds
    the concluded results in the format the diagnostics engine reads (M(aksnet.networking.diagnose) with O(ignore:active=true)
    runs this module's checks itself).
  - The debug pod runs without privilege (no host network, no privilege escalation, every capability dropped, C(runAsNonRoot)
    with O(run_as_user)), carries the label C(app.kubernetes.io/managed-by=aksnet.networking-probe) plus a run id, and is deleted
    on every path - success, failure, timeout, interrupt (Ctrl-C, SIGTERM). Debug pods of earlier runs older than O(stale_after)
    seconds are deleted first (one LIST, then one DELETE each).
  - Data-plane truth, opt-in because it needs more privilege. O(cilium_agent=true) execs C(cilium-dbg status) and
    C(cilium-dbg endpoint list -o json) (or C(cilium ...)) in the Cilium agent pod of each relevant node and reports an endpoint
    the policy analysis isolates but the agent shows with enforcement disabled (C(cilium.not_enforced)) and an unhealthy agent
    (C(dataplane.cni_unhealthy)). O(node_debug=true) starts a privileged host-network pod on each relevant node (removed afterwards)
    and checks that each Service port has its C(KUBE-SERVICES) rule (C(iptables-save -t nat), C(ipvsadm -Ln) in IPVS mode),
    reporting C(dataplane.kube_proxy_unhealthy) otherwise.
  - Needs RBAC to create, get, list and delete pods in O(namespace), C(pods/exec) there, get Services and list EndpointSlices of
    the probed namespaces, C(pods/exec) in the target pods for O(listening), and in C(kube-system) for O(cilium_agent).
author:
  - aksnet.networking contributors (@aksnet)
options:
  namespace:
    description: Namespace the debug pod runs in (policies of that namespace apply to it, as to any pod there).
    type: str
    default: default
  image:
    description:
      - Debug image with C(nslookup), C(curl), C(nc) (and C(iptables-save), C(ipvsadm) for O(node_debug)). Override it with a
        copy in a private registry when the nodes cannot pull from Docker Hub.
    type: str
    default: nicolaka/netshoot
  image_pull_secrets:
    description: Names of Secrets in O(namespace) to pull O(image) with.
    type: list
    elements: str
    default: []
  node_selector:
    description: Node labels the debug pod must run on (for example a node pool, to test from that pool).
    type: dict
  run_as_user:
    description:
      - User id the debug pod runs as, with C(runAsNonRoot=true). V(0) keeps the image's own user (root for netshoot) and drops
        C(runAsNonRoot); the checks here need no root (C(ping) would need C(NET_RAW) and is not used).
    type: int
    default: 65534
  timeout:
    description: Seconds each check may take (C(nslookup -timeout), C(curl -m), C(nc -w)).
    type: int
    default: 5
  wait_timeout:
    description: Seconds to wait for the debug pod to run before giving up (the pod is deleted then too).
    type: int
    default: 120
  stale_after:
    description: Debug pods of other runs older than this many seconds (or finished) are deleted before the run.
    type: int
    default: 300
  services:
    description: Services to probe at their ClusterIP, and at their ready backends (see O(pods)).
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
        description: Port number or name of the Service to probe. Default is every port (UDP ports are reported as not probed).
        type: raw
      scheme:
        description:
          - V(http) or V(https) sends a request with C(curl) (any HTTP answer counts as reachable); V(tcp) only connects (C(nc -z)).
          - V(auto) picks from the port's C(appProtocol), name (C(http*), C(https*)) or number (80, 8080, 8000, 443), else V(tcp).
        type: str
        choices: [auto, tcp, http, https]
        default: auto
  pods:
    description: Also probe each Service's ready backend pods directly at pod IP and target port (from its EndpointSlices).
    type: bool
    default: true
  max_backends:
    description: Backend pods probed per Service port.
    type: int
    default: 3
  dns:
    description:
      - Names to resolve from the debug pod. Default is C(<service>.<namespace>.svc.cluster.local) of each entry of O(services)
        (C(kubernetes.default.svc.cluster.local) without services) and O(external_name).
    type: list
    elements: str
  external_name:
    description: External name resolved by default (with O(dns) unset) to check upstream DNS; V("") skips it.
    type: str
    default: mcr.microsoft.com
  egress_urls:
    description: URLs fetched from the debug pod to check egress to the outside (any HTTP answer counts as success).
    type: list
    elements: str
    default: []
  listening:
    description: Pods whose listening sockets are read (C(ss -tlnp) inside them) to see whether the app listens on its port.
    type: list
    elements: dict
    default: []
    suboptions:
      namespace:
        description: Namespace of the pod.
        type: str
        required: true
      pod:
        description: Name of the pod.
        type: str
        required: true
      port:
        description: Port the application must listen on (not only on 127.0.0.1).
        type: int
        required: true
      container:
        description: Container to exec into (default the pod's only container).
        type: str
  cilium_agent:
    description: Read the Cilium agents' status and endpoint policy enforcement on the relevant nodes and compare with the policy analysis.
    type: bool
    default: false
  node_debug:
    description: Start a privileged host-network pod on each relevant node to check the Services' kube-proxy rules. Removed afterwards.
    type: bool
    default: false
  cluster_facts:
    description:
      - The cluster's network profile (as for M(aksnet.networking.diagnose)), to know which policy engines enforce when
        O(cilium_agent=true) compares the agents with the policy analysis.
    type: dict
extends_documentation_fragment:
  - aksnet.networking.kubernetes
  - aksnet.networking.attributes
attributes:
  check_mode:
    support: full
    details:
      - A probe is an action (it creates and deletes pods); in check mode nothing is created, read or deleted and the result says
        RV(skipped=true).
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Leaves nothing behind, so it reports no change, except when it deleted stale debug pods of earlier runs.
requirements:
  - kubernetes >= 31.0.0
  - websocket-client
seealso:
  - module: aksnet.networking.diagnose
  - module: aksnet.networking.netpol_check
"""

EXAMPLES = r"""
- name: Can pods reach the web Service, its pods, DNS and the internet?
  aksnet.networking.probe:
    services:
      - {namespace: shop, name: web}
    egress_urls: [https://mcr.microsoft.com/v2/]
  register: probe

- name: Show what failed and why
  ansible.builtin.debug:
    msg: "{{ item.check }} {{ item.target }}: {{ item.detail }} ({{ item.command }})"
  loop: "{{ probe.results | rejectattr('ok') }}"

- name: From a private registry, on the user pool, with the data-plane truth
  aksnet.networking.probe:
    image: myregistry.azurecr.io/tools/netshoot:v0.13
    image_pull_secrets: [acr-pull]
    node_selector: {agentpool: user}
    services: [{namespace: shop, name: api, port: http, scheme: http}]
    listening: [{namespace: shop, pod: api-7d9f6-x2x4q, port: 9090}]
    cilium_agent: true
    node_debug: true
"""

RETURN = r"""
results:
  description:
    - Every check, with C(check) (dns, service, pod, egress, listening), C(ok) (true, false, or null when it could not be
      concluded), C(namespace), C(name), C(target), C(port), C(protocol), C(detail), C(command), C(output) (trimmed),
      C(exit_code) and C(duration_ms); C(listening) checks add C(listening) (the sockets), DNS checks C(addresses).
  returned: unless in check mode
  type: list
  elements: dict
  sample:
    - check: service
      ok: false
      namespace: shop
      name: web
      target: 10.0.12.7
      port: 80
      protocol: TCP
      detail: "timed out (packets dropped: a network policy, NSG or firewall, or no route)"
      command: "curl -sS -o /dev/null -w '%{http_code} %{time_total}' -m 5 http://10.0.12.7:80/"
      output: "000 5.001000\ncurl: (28) Connection timed out after 5001 milliseconds"
      exit_code: 28
      duration_ms: 5012
probes:
  description: The concluded results (C(ok) true or false), the C(probe_results) format of the diagnostics engine.
  returned: unless in check mode
  type: list
  elements: dict
findings:
  description: Findings from the probes (C(connectivity.*), C(pod.not_listening)) and the data-plane checks, in the diagnostics finding format.
  returned: unless in check mode
  type: list
  elements: dict
summary:
  description: Counts of C(total), C(passed), C(failed) and C(inconclusive) checks.
  returned: unless in check mode
  type: dict
debug_pod:
  description: The debug pod that ran the checks (namespace, name, node, ip, image, labels); it no longer exists.
  returned: unless in check mode
  type: dict
stale_deleted:
  description: Debug pods of earlier runs that were deleted first (C(namespace/name)).
  returned: unless in check mode
  type: list
  elements: str
deleted:
  description: Pods this run created and deleted (C(namespace/name)).
  returned: unless in check mode
  type: list
  elements: str
cilium:
  description: Per node, the Cilium agent pod, its health and its endpoints with C(policy_enabled) (with O(cilium_agent)).
  returned: when O(cilium_agent=true)
  type: list
  elements: dict
kube_proxy:
  description: Per node, the node debug pod, the command, and for each Service port whether its rule exists (with O(node_debug)).
  returned: when O(node_debug=true)
  type: list
  elements: dict
dataplane_findings:
  description:
    - The findings of the data-plane checks alone (O(cilium_agent), O(node_debug)), also included in RV(findings)
      (C(cilium.not_enforced), C(netpol.not_enforced), C(dataplane.cni_unhealthy), C(dataplane.kube_proxy_unhealthy)).
  returned: unless in check mode
  type: list
  elements: dict
node_debug_skipped:
  description:
    - Why the node debug pods of O(node_debug) were not run (the cluster refused them, for example Pod Security admission);
      the other checks ran and are reported.
  returned: when O(node_debug=true) and the node debug pod was refused
  type: str
skipped:
  description: True in check mode, when nothing was run.
  returned: in check mode
  type: bool
run_id:
  description: The run id carried by the pods' C(aksnet.networking/probe-run) label.
  returned: unless in check mode
  type: str
api_requests:
  description: Kubernetes API requests made (REST requests plus exec sessions).
  returned: unless in check mode
  type: int
"""

from ansible_collections.aksnet.networking.plugins.module_utils._diag.probe_runner import ProbeError, ProbeInterrupted, run_probe_session
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure

SERVICE_SPEC = {
    "namespace": {"type": "str", "required": True},
    "name": {"type": "str", "required": True},
    "port": {"type": "raw"},
    "scheme": {"type": "str", "choices": ["auto", "tcp", "http", "https"], "default": "auto"},
}
LISTENING_SPEC = {
    "namespace": {"type": "str", "required": True},
    "pod": {"type": "str", "required": True},
    "port": {"type": "int", "required": True},
    "container": {"type": "str"},
}
ARGUMENT_SPEC = {
    "namespace": {"type": "str", "default": "default"},
    "image": {"type": "str", "default": "nicolaka/netshoot"},
    "image_pull_secrets": {"type": "list", "elements": "str", "default": [], "no_log": False},
    "node_selector": {"type": "dict"},
    "run_as_user": {"type": "int", "default": 65534},
    "timeout": {"type": "int", "default": 5},
    "wait_timeout": {"type": "int", "default": 120},
    "stale_after": {"type": "int", "default": 300},
    "services": {"type": "list", "elements": "dict", "default": [], "options": SERVICE_SPEC},
    "pods": {"type": "bool", "default": True},
    "max_backends": {"type": "int", "default": 3},
    "dns": {"type": "list", "elements": "str"},
    "external_name": {"type": "str", "default": "mcr.microsoft.com"},
    "egress_urls": {"type": "list", "elements": "str", "default": []},
    "listening": {"type": "list", "elements": "dict", "default": [], "options": LISTENING_SPEC},
    "cilium_agent": {"type": "bool", "default": False},
    "node_debug": {"type": "bool", "default": False},
    "cluster_facts": {"type": "dict"},
}


def validate(params):
    """Input rules checked before any request; ModuleFailure names the option, the value and the rule."""
    for key, low in (("timeout", 1), ("wait_timeout", 1), ("max_backends", 0), ("stale_after", 0)):
        if params[key] < low:
            raise ModuleFailure(f"{key} {params[key]} must be at least {low}.")
    if params["run_as_user"] < 0:
        raise ModuleFailure(f"run_as_user {params['run_as_user']} must be 0 (the image's user) or a positive user id.")
    if not params["image"].strip():
        raise ModuleFailure("image must name a container image, for example nicolaka/netshoot.")
    for url in params["egress_urls"]:
        if not url.startswith(("http://", "https://")):
            raise ModuleFailure(f"egress_urls: {url!r} is not an http:// or https:// URL; give full URLs such as https://mcr.microsoft.com/v2/.")
    for item in params["services"]:
        port = item.get("port")
        if port is not None and not (isinstance(port, int) or str(port).strip()):
            raise ModuleFailure(f"services: port {port!r} of {item['namespace']}/{item['name']} must be a port number or name.")
    for item in params["listening"]:
        if not 1 <= item["port"] <= 65535:
            raise ModuleFailure(f"listening: port {item['port']} of {item['namespace']}/{item['pod']} must be between 1 and 65535.")
    if not (params["services"] or params["dns"] or params["external_name"] or params["egress_urls"] or params["listening"]):
        raise ModuleFailure("nothing to probe: give services, dns, egress_urls or listening (or keep external_name).")


def run(mod):
    params = mod.params
    validate(params)
    if mod.check_mode:
        return {"changed": False, "skipped": True, "msg": "check mode: a probe is an action (it creates and deletes a debug pod); nothing was run."}
    mod.require("kubernetes")
    from ansible_collections.aksnet.networking.plugins.module_utils._kube.podexec import PodExec  # pylint: disable=import-outside-toplevel

    client = mod.kube()
    executor = PodExec(client.configuration)

    def evaluator():
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.aksnet.networking.plugins.module_utils._diag.index import Index

        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.aksnet.networking.plugins.module_utils._diag.reachability import build_evaluator

        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.aksnet.networking.plugins.module_utils._diag.source import POLICY_KINDS, gather, kinds_subset

        data = gather(client=client, kinds=kinds_subset(POLICY_KINDS))
        return build_evaluator(Index(data["objects"], data["skipped"]), params["cluster_facts"])[0]

    try:
        session = run_probe_session(client, executor, params, evaluator_factory=evaluator)
    except (ProbeError, ProbeInterrupted, KeyboardInterrupt) as exc:
        partial = getattr(exc, "session", {})
        msg = str(exc) if isinstance(exc, ProbeError) else f"the probe was interrupted ({exc or 'KeyboardInterrupt'}); the debug pods were deleted."
        raise ModuleFailure(msg, changed=bool(partial.get("stale_deleted")), results=partial.get("results", []),
                            deleted=partial.get("deleted", []), stale_deleted=partial.get("stale_deleted", []),
                            cleanup_errors=partial.get("cleanup_errors", [])) from None
    for err in session.pop("cleanup_errors", []):
        mod.warn(f"could not delete debug pod {err}; it ends by itself (activeDeadlineSeconds), or delete it with kubectl.")
    if not params["cilium_agent"]:
        session.pop("cilium", None)
    if not params["node_debug"]:
        session.pop("kube_proxy", None)
    session["changed"] = bool(session["stale_deleted"])
    session["api_requests"] = client.request_count + executor.count
    return session


def main():
    mod = AksnetModule(ARGUMENT_SPEC, auth="kube", libraries=("yaml",))
    mod.run(run, "probe the cluster")


if __name__ == "__main__":
    main()

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the active probes: stale debug pods out, a debug pod in, the checks through pod exec, the
pod out again on every path (success, failure, timeout, KeyboardInterrupt, SIGTERM).

``client`` is a ``KubeClient``; ``executor`` has ``run(namespace, pod, argv, container=None,
timeout=...)`` returning ``{stdout, stderr, exit_code, error, duration_ms}`` (``podexec.PodExec``).
What the commands are and what their output means lives in ``_diag/probe_plan.py`` (pure).
"""

from __future__ import annotations

import datetime
import secrets
import signal
import threading
import time
from urllib.parse import urlsplit

from .._kube.client import KubeApiError, api_path
from . import probe_plan as plan

PERMANENT_WAIT_REASONS = ("InvalidImageName", "CreateContainerConfigError", "ErrImageNeverPull", "CreateContainerError")


def refusal_reason(exc, namespace, name):
    """Why the cluster refused to create a probe pod, and what would let it run (RBAC, quota, admission)."""
    said = exc.server_message or str(exc)
    if exc.status == 403 and "exceeded quota" in said:
        return (f"the cluster refused the probe pod {namespace}/{name}: a ResourceQuota of namespace {namespace} is used up ({said}). "
                "Fix: choose another probe_namespace, or raise the quota.")
    admission = any(text in said for text in ("violates PodSecurity", "admission webhook", "denied the request", "ValidatingAdmissionPolicy"))
    if exc.status == 403 and not admission:
        return (f"the identity may not create pods in namespace {namespace} (403 Forbidden: {said}); a view-only identity cannot run "
                f"active probes. Fix: grant create on pods and pods/exec in {namespace} (or choose a probe_namespace where it may), "
                "or run without active probes.")
    return (f"admission refused the probe pod {namespace}/{name} ({exc.status}: {said}). Fix: choose a probe_namespace whose "
            "Pod Security level and admission policies allow it, or a probe_image that your policies admit.")


class ProbeError(Exception):
    """The probe run cannot go on (debug pod not running in time, a Service missing); the message says why and what to do."""


class ProbeRefused(ProbeError):
    """The cluster refused a probe pod (RBAC, quota, admission): the checks it would run are skipped with this reason."""


class ProbeInterrupted(BaseException):
    """SIGTERM arrived: unwinds like KeyboardInterrupt so the cleanup in ``finally`` runs."""


class ProbeRunner:  # pylint: disable=too-many-instance-attributes
    """One probe run against one cluster."""

    def __init__(self, client, executor, namespace="default", image=plan.DEFAULT_IMAGE, image_pull_secrets=(), node_selector=None,
                 run_as_user=plan.DEFAULT_RUN_AS_USER, timeout=5, wait_timeout=120, stale_after=300, run_id=None, sleep=time.sleep):
        self.client = client
        self.executor = executor
        self.namespace = namespace
        self.image = image
        self.image_pull_secrets = list(image_pull_secrets or ())
        self.node_selector = node_selector or {}
        self.run_as_user = run_as_user
        self.timeout = timeout
        self.wait_timeout = wait_timeout
        self.stale_after = stale_after
        self.run_id = run_id or datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)
        self.sleep = sleep
        self.created = []  # (namespace, name) of pods this run created and must delete
        self.deleted = []
        self.stale_deleted = []
        self.cleanup_errors = []
        self.debug = None  # the debug pod, once running

    # ---------------------------------------------------------------------------- pods
    def cleanup_stale(self):
        """Delete debug pods of earlier runs (label selector, older than ``stale_after`` seconds): one LIST + one DELETE each."""
        try:
            pods = self.client.list("v1", "pods", "Pod", label_selector=plan.selector())
        except KubeApiError as exc:
            if exc.status != 403:
                raise
            pods = self.client.list("v1", "pods", "Pod", namespace=self.namespace, label_selector=plan.selector())
        now = datetime.datetime.now(datetime.timezone.utc)
        for pod in pods:
            meta = pod.get("metadata") or {}
            if (meta.get("labels") or {}).get(plan.RUN_LABEL) == self.run_id or meta.get("deletionTimestamp"):
                continue
            created = _timestamp(meta.get("creationTimestamp"))
            phase = (pod.get("status") or {}).get("phase")
            if phase not in ("Succeeded", "Failed") and created is not None and (now - created).total_seconds() < self.stale_after:
                continue  # probably another run in progress: its own cleanup and activeDeadlineSeconds end it
            if self._delete(meta.get("namespace"), meta.get("name")):
                self.stale_deleted.append(f"{meta.get('namespace')}/{meta.get('name')}")

    def _delete(self, namespace, name):
        try:
            self.client.request("DELETE", api_path("v1", "pods", namespace, name), body={"gracePeriodSeconds": 0, "propagationPolicy": "Background"})
            return True
        except KubeApiError as exc:
            if exc.status == 404:
                return True
            self.cleanup_errors.append(f"{namespace}/{name}: {exc}")
            return False

    def create(self, manifest):
        meta = manifest["metadata"]
        self.created.append((meta["namespace"], meta["name"]))  # before the request: a timeout after the write still gets cleaned up
        try:
            return self.client.request("POST", api_path("v1", "pods", meta["namespace"]), body=manifest)
        except KubeApiError as exc:
            if exc.status not in (400, 403, 422):
                raise
            self.created.pop()  # refused: nothing was created, nothing to delete
            raise ProbeRefused(refusal_reason(exc, meta["namespace"], meta["name"])) from None

    def wait_running(self, namespace, name):
        """Poll the pod until it runs; ProbeError naming the last state after ``wait_timeout`` seconds."""
        deadline = time.monotonic() + self.wait_timeout
        last = "not created yet"
        while True:
            pod = self.client.get("v1", "pods", name, namespace)
            if pod is not None:
                status = pod.get("status") or {}
                waiting = [w for w in (((c.get("state") or {}).get("waiting") or {}) for c in status.get("containerStatuses") or []) if w]
                reasons = [w.get("reason") for w in waiting if w.get("reason")]
                if status.get("phase") == "Running" and not waiting:
                    return pod
                if status.get("phase") in ("Succeeded", "Failed"):
                    raise ProbeError(f"debug pod {namespace}/{name} ended ({status.get('phase')}) before the checks ran.")
                unscheduled = [c.get("message") for c in status.get("conditions") or [] if c.get("type") == "PodScheduled" and c.get("status") == "False"]
                last = f"phase {status.get('phase') or 'unknown'}" + (f", {', '.join(reasons)}" if reasons else "") + (
                    f", unschedulable: {unscheduled[0]}" if unscheduled else "")
                permanent = [w for w in waiting if w.get("reason") in PERMANENT_WAIT_REASONS]
                if permanent:
                    raise ProbeError(f"debug pod {namespace}/{name} cannot start: {permanent[0].get('reason')}: {permanent[0].get('message') or ''}. "
                                     "Fix the image option (or image_pull_secrets / run_as_user for its registry and user).")
            if time.monotonic() >= deadline:
                raise ProbeError(
                    f"debug pod {namespace}/{name} (image {self.image}) was not running after wait_timeout={self.wait_timeout}s ({last}). "
                    "Fix: check that the nodes can pull the image (image, image_pull_secrets for a private registry), that node_selector "
                    "matches a node, or raise wait_timeout. The pod was deleted.")
            self.sleep(0.5)

    def cleanup(self):
        for namespace, name in reversed(self.created):
            if (namespace, name) in self.deleted:
                continue
            if self._delete(namespace, name):
                self.deleted.append((namespace, name))

    # ---------------------------------------------------------------------------- exec
    def exec_check(self, check, target, argv, namespace=None, pod=None, container=None, **fields):
        """Run ``argv`` (in the debug pod unless namespace/pod are given); returns the raw outcome and a base result."""
        where_ns = namespace or self.debug["metadata"]["namespace"]
        where_pod = pod or self.debug["metadata"]["name"]
        outcome = self.executor.run(where_ns, where_pod, argv, container=container or (plan.CONTAINER if pod is None else None),
                                    timeout=self.timeout + 10)
        return outcome

    def dns(self, name, namespace=None, service=None):
        argv = plan.dns_command(name, self.timeout)
        out = self.exec_check("dns", name, argv)
        if out["error"]:
            return plan.result("dns", name, argv, None, out["error"], namespace=namespace, name=service or name, protocol="UDP",
                               duration_ms=out["duration_ms"])
        ok, detail, addresses = plan.interpret_dns(name, out["stdout"], out["stderr"], out["exit_code"])
        return plan.result("dns", name, argv, ok, detail, namespace=namespace, name=service or name, protocol="UDP", output=out["stdout"] + out["stderr"],
                           exit_code=out["exit_code"], duration_ms=out["duration_ms"], addresses=addresses)

    def connect(self, check, host, port, scheme, namespace, name, **extra):
        if scheme in ("http", "https"):
            argv = plan.http_command(plan.url_for(scheme, host, port), self.timeout, insecure=scheme == "https")
        else:
            argv = plan.tcp_command(host, port, self.timeout)
        out = self.exec_check(check, host, argv)
        if out["error"]:
            return plan.result(check, host, argv, None, out["error"], namespace=namespace, name=name, port=port, duration_ms=out["duration_ms"], **extra)
        interpret = plan.interpret_http if scheme in ("http", "https") else plan.interpret_tcp
        ok, detail = interpret(out["stdout"], out["stderr"], out["exit_code"])
        return plan.result(check, host, argv, ok, detail, namespace=namespace, name=name, port=port, output=out["stdout"] + out["stderr"],
                           exit_code=out["exit_code"], duration_ms=out["duration_ms"], scheme=scheme, **extra)

    def egress(self, url):
        argv = plan.http_command(url, self.timeout)
        out = self.exec_check("egress", url, argv)
        host = urlsplit(url).hostname or url
        if out["error"]:
            return plan.result("egress", url, argv, None, out["error"], name=host, duration_ms=out["duration_ms"])
        ok, detail = plan.interpret_http(out["stdout"], out["stderr"], out["exit_code"])
        return plan.result("egress", url, argv, ok, detail, name=host, output=out["stdout"] + out["stderr"], exit_code=out["exit_code"],
                           duration_ms=out["duration_ms"])

    def listening(self, namespace, pod, port, container=None):
        argv = ["ss", "-tlnp"]
        out = self.exec_check("listening", pod, argv, namespace=namespace, pod=pod, container=container)
        used = argv
        sockets = None
        if not out["error"] and plan.missing_tool(out["stdout"], out["stderr"], out["exit_code"]):
            used = ["cat", "/proc/net/tcp", "/proc/net/tcp6"]
            out = self.exec_check("listening", pod, used, namespace=namespace, pod=pod, container=container)
            if not out["error"] and out["exit_code"] == 0:
                sockets = plan.parse_proc_net_tcp(out["stdout"])
        elif not out["error"] and out["exit_code"] == 0:
            sockets = plan.parse_ss(out["stdout"])
        if sockets is None:
            why = out["error"] or f"{used[0]} exited {out['exit_code']}: {plan.trim(out['stdout'] + out['stderr'], 200)}"
            return plan.result("listening", f"{namespace}/{pod}", used, None, f"cannot read the pod's sockets: {why}", namespace=namespace, name=pod,
                               port=port, output=out["stdout"] + out["stderr"], exit_code=out["exit_code"], duration_ms=out["duration_ms"])
        ok, detail = plan.interpret_listening(sockets, port)
        return plan.result("listening", f"{namespace}/{pod}", used, ok, detail, namespace=namespace, name=pod, port=port,
                           output=out["stdout"], exit_code=out["exit_code"], duration_ms=out["duration_ms"], listening=sockets)

    # ---------------------------------------------------------------------------- the run
    def start_debug_pod(self):
        name = f"aksnet-probe-{self.run_id}"[:63].rstrip("-").lower()
        manifest = plan.debug_pod(name, self.namespace, self.run_id, self.image, self.image_pull_secrets, self.node_selector, self.run_as_user,
                                  lifetime=max(600, self.wait_timeout * 2))
        self.create(manifest)
        self.debug = self.wait_running(self.namespace, name)
        return self.debug

    def node_debug(self, node):
        """A privileged host-network pod on ``node`` (created and waited for; deleted by ``cleanup``)."""
        name = f"aksnet-node-{self.run_id}-{len(self.created)}"[:63].rstrip("-").lower()
        manifest = plan.node_debug_pod(name, self.namespace, self.run_id, node, self.image, self.image_pull_secrets,
                                       lifetime=max(600, self.wait_timeout * 2))
        self.create(manifest)
        return self.wait_running(self.namespace, name)


def _timestamp(text):
    if not text:
        return None
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


class SignalGuard:
    """Turns SIGTERM (and SIGHUP) into ProbeInterrupted while active, so ``finally`` blocks run; restores the handlers on exit."""

    def __init__(self):
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
                if sig is not None:
                    self._previous[sig] = signal.signal(sig, self._raise)
        return self

    @staticmethod
    def _raise(signum, _frame):
        raise ProbeInterrupted(f"interrupted by signal {signum}")

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        return False


# -------------------------------------------------------------------------------- targets
def resolve_services(client, services, max_backends=3):
    """Each requested Service (ONE GET each) with its ports and ready backends (one EndpointSlice LIST each).

    ``services``: [{namespace, name, port (number or name, optional), scheme}]. Raises ProbeError naming
    the Services that do not exist, before anything is created.
    """
    resolved = []
    missing = []
    for item in services or []:
        svc = client.get("v1", "services", item["name"], item["namespace"])
        if svc is None:
            missing.append(f"{item['namespace']}/{item['name']}")
            continue
        ports = (svc.get("spec") or {}).get("ports") or []
        wanted = item.get("port")
        if wanted not in (None, ""):
            chosen = [p for p in ports if str(p.get("port")) == str(wanted) or p.get("name") == str(wanted)]
            if not chosen:
                declared = ", ".join(f"{p.get('name') or '-'}={p.get('port')}" for p in ports) or "none"
                raise ProbeError(f"services: port {wanted!r} is not a port of Service {item['namespace']}/{item['name']} (declared: {declared}); "
                                 "give one of its port numbers or names, or omit port to probe every port.")
            ports = chosen
        slices = client.list("discovery.k8s.io/v1", "endpointslices", "EndpointSlice", namespace=item["namespace"],
                             label_selector=f"kubernetes.io/service-name={item['name']}")
        resolved.append({"namespace": item["namespace"], "name": item["name"], "scheme": item.get("scheme") or "auto", "service": svc,
                         "ports": ports, "backends": {p.get("name") or "": _backends(slices, p, max_backends) for p in ports}})
    if missing:
        raise ProbeError(f"services: {', '.join(missing)} not found (404). Check the namespace and name of each entry; nothing was created.")
    return resolved


def _backends(slices, svc_port, limit):
    out = []
    for slc in slices:
        numbers = [p.get("port") for p in slc.get("ports") or [] if (p.get("name") or "") == (svc_port.get("name") or "")]
        if not numbers or numbers[0] is None:
            continue
        for endpoint in slc.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            ref = endpoint.get("targetRef") or {}
            for address in endpoint.get("addresses") or []:
                out.append({"ip": address, "port": int(numbers[0]), "pod": ref.get("name") if ref.get("kind") == "Pod" else None,
                            "node": endpoint.get("nodeName")})
    out.sort(key=lambda b: (b["pod"] or "", b["ip"]))
    return out[:limit]


def default_dns_names(services, external_name):
    names = [(f"{s['name']}.{s['namespace']}.svc.cluster.local", s["namespace"], s["name"]) for s in services or []]
    if not names:
        names.append(("kubernetes.default.svc.cluster.local", "default", "kubernetes"))
    if external_name:
        names.append((external_name, None, None))
    return names


# -------------------------------------------------------------------------------- the whole run
def run_checks(runner, targets, dns_names, egress_urls, listening, probe_pods=True):
    """Every requested check from the running debug pod; returns the results (both shapes, see probe_plan)."""
    results = []
    for name, namespace, service in dns_names:
        results.append(runner.dns(name, namespace, service))
    for tgt in targets:
        spec = tgt["service"].get("spec") or {}
        cluster_ip = spec.get("clusterIP")
        for port in tgt["ports"]:
            proto = str(port.get("protocol") or "TCP").upper()
            scheme = plan.port_scheme(port, tgt["scheme"])
            backends = tgt["backends"].get(port.get("name") or "", [])
            base = {"namespace": tgt["namespace"], "name": tgt["name"]}
            if proto != "TCP":
                results.append(plan.result("service", cluster_ip, None, None, f"{proto} port {port.get('port')}: not probed (TCP/HTTP checks only)",
                                           port=port.get("port"), protocol=proto, **base))
                continue
            if cluster_ip and cluster_ip != "None":
                refs = [{"pod": b["pod"], "port": b["port"]} for b in backends]
                results.append(runner.connect("service", cluster_ip, int(port["port"]), scheme, backends=refs, **base))
            if probe_pods:
                for backend in backends:
                    results.append(runner.connect("pod", backend["ip"], backend["port"], scheme, tgt["namespace"], backend["pod"] or backend["ip"],
                                                  service=tgt["name"], node=backend["node"]))
    for url in egress_urls or []:
        results.append(runner.egress(url))
    for item in listening or []:
        results.append(runner.listening(item["namespace"], item["pod"], int(item["port"]), item.get("container")))
    return results


def cilium_truth(runner, client, nodes):
    """``cilium status`` and ``cilium endpoint list -o json`` in the agent pod of each node: [{node, agent_pod, healthy, ...}]."""
    agents = client.list("v1", "pods", "Pod", namespace="kube-system", label_selector="k8s-app=cilium")
    by_node = {(p.get("spec") or {}).get("nodeName"): p for p in agents if (p.get("status") or {}).get("phase") == "Running"}
    out = []
    for node in sorted(n for n in nodes if n):
        agent = by_node.get(node)
        if agent is None:
            out.append({"node": node, "agent_pod": None, "error": f"no running Cilium agent pod (kube-system, k8s-app=cilium) on {node}"})
            continue
        name = agent["metadata"]["name"]
        containers = [c.get("name") for c in (agent.get("spec") or {}).get("containers") or []]
        container = "cilium-agent" if "cilium-agent" in containers else (containers[0] if containers else None)
        entry = {"node": node, "agent_pod": name, "error": None}
        for binary in ("cilium-dbg", "cilium"):
            status = runner.executor.run("kube-system", name, [binary, "status"], container=container, timeout=runner.timeout + 10)
            if status["error"] or not plan.missing_tool(status["stdout"], status["stderr"], status["exit_code"]):
                break
        if status["error"]:
            entry["error"] = status["error"]
            out.append(entry)
            continue
        healthy, detail = plan.parse_cilium_status(status["stdout"], status["exit_code"])
        listed = runner.executor.run("kube-system", name, [binary, "endpoint", "list", "-o", "json"], container=container, timeout=runner.timeout + 10)
        endpoints = None if listed["error"] else plan.parse_cilium_endpoints(listed["stdout"])
        entry.update({"healthy": healthy, "detail": detail, "status_command": f"{binary} status", "status_output": plan.trim(status["stdout"]),
                      "endpoints_command": f"{binary} endpoint list -o json", "endpoints": endpoints,
                      "endpoints_error": listed["error"] or (None if endpoints is not None else "the endpoint list is not JSON")})
        out.append(entry)
    return out


def kube_proxy_truth(runner, nodes, targets):
    """A node debug pod per node: ``iptables-save -t nat`` (and ``ipvsadm -Ln`` in IPVS mode) against each Service port."""
    out = []
    for node in sorted(n for n in nodes if n):
        pod = runner.node_debug(node)
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        argv = ["chroot", "/host", "iptables-save", "-t", "nat"]
        saved = runner.executor.run(ns, name, argv, container=plan.CONTAINER, timeout=runner.timeout + 20)
        entry = {"node": node, "pod": name, "command": plan.command_text(argv), "error": saved["error"], "checks": []}
        ipvs = None
        if not saved["error"]:
            for tgt in targets:
                cluster_ip = (tgt["service"].get("spec") or {}).get("clusterIP")
                if not cluster_ip or cluster_ip == "None":
                    continue
                for port in tgt["ports"]:
                    proto = str(port.get("protocol") or "TCP").upper()
                    found, mode, line = plan.kube_services_rule(saved["stdout"], cluster_ip, port["port"], proto)
                    command = entry["command"]
                    if mode == "ipvs":
                        if ipvs is None:
                            ipvs = runner.executor.run(ns, name, ["chroot", "/host", "ipvsadm", "-Ln"], container=plan.CONTAINER, timeout=runner.timeout + 20)
                        found = not ipvs["error"] and plan.ipvs_has(ipvs["stdout"], cluster_ip, port["port"], proto)
                        command = "chroot /host ipvsadm -Ln"
                    # backends alone do not need a rule: a Service without ready endpoints has none in the nat table
                    has_backends = bool(tgt["backends"].get(port.get("name") or ""))
                    entry["checks"].append({"namespace": tgt["namespace"], "name": tgt["name"], "cluster_ip": cluster_ip, "port": port["port"],
                                            "protocol": proto, "found": found or not has_backends, "mode": mode, "rule": line, "command": command})
        out.append(entry)
    return out


def run_probe_session(client, executor, opts, evaluator_factory=None):
    """The whole probe run: targets resolved, stale pods removed, debug pod created, checks, data-plane truth, cleanup.

    ``opts`` holds the probe module's options (namespace, image, image_pull_secrets, node_selector,
    run_as_user, timeout, wait_timeout, stale_after, services, pods, max_backends, dns,
    external_name, egress_urls, listening, cilium_agent, node_debug). ``evaluator_factory()`` returns
    a ``PolicyEvaluator`` (needed by ``cilium_agent``). Returns ``{run_id, results, probes, findings,
    debug_pod, stale_deleted, deleted, cilium, kube_proxy, summary}``; the pods it created are deleted on
    every path, and ProbeError / ProbeInterrupted / KeyboardInterrupt propagate after the cleanup
    with ``session`` (the partial result) attached.
    """
    from . import correlate  # pylint: disable=import-outside-toplevel
    from .engine import run_diagnostics  # pylint: disable=import-outside-toplevel
    from .index import Index  # pylint: disable=import-outside-toplevel

    runner = ProbeRunner(client, executor, namespace=opts.get("namespace") or "default", image=opts.get("image") or plan.DEFAULT_IMAGE,
                         image_pull_secrets=opts.get("image_pull_secrets"), node_selector=opts.get("node_selector"),
                         run_as_user=opts.get("run_as_user", plan.DEFAULT_RUN_AS_USER), timeout=opts.get("timeout") or 5,
                         wait_timeout=opts.get("wait_timeout") or 120, stale_after=opts.get("stale_after", 300))
    session = {"run_id": runner.run_id, "results": [], "probes": [], "findings": [], "debug_pod": None, "stale_deleted": runner.stale_deleted,
               "deleted": [], "cilium": [], "kube_proxy": [], "cleanup_errors": runner.cleanup_errors}
    targets = resolve_services(client, opts.get("services"), opts.get("max_backends") or 3)
    dns = opts.get("dns")
    dns_names = [(n, None, None) for n in dns] if dns is not None else default_dns_names(opts.get("services"), opts.get("external_name"))
    try:
        with SignalGuard():
            runner.cleanup_stale()
            pod = runner.start_debug_pod()
            session["debug_pod"] = {"namespace": pod["metadata"]["namespace"], "name": pod["metadata"]["name"],
                                    "node": (pod.get("spec") or {}).get("nodeName"), "ip": (pod.get("status") or {}).get("podIP"),
                                    "image": runner.image, "labels": (pod.get("metadata") or {}).get("labels") or {}}
            session["results"] = run_checks(runner, targets, dns_names, opts.get("egress_urls"), opts.get("listening"), opts.get("pods", True))
            nodes = {session["debug_pod"]["node"]} | {b["node"] for t in targets for bs in t["backends"].values() for b in bs}
            extra = []
            if opts.get("cilium_agent"):
                session["cilium"] = cilium_truth(runner, client, nodes)
                ev = evaluator_factory() if evaluator_factory else None
                for entry in session["cilium"]:
                    if entry.get("error"):
                        continue
                    status = correlate.cilium_status_finding(entry["node"], entry["agent_pod"], entry["healthy"], entry["detail"], entry["status_output"])
                    extra += [status] if status else []
                    if ev is not None and entry.get("endpoints") is not None:
                        extra += correlate.cilium_endpoint_findings(ev, entry["endpoints"], entry["node"], entry["agent_pod"])
            if opts.get("node_debug"):
                try:
                    session["kube_proxy"] = kube_proxy_truth(runner, nodes, targets)
                except ProbeRefused as exc:  # a privileged node pod is refused where the debug pod was not: keep the checks that ran
                    session["node_debug_skipped"] = str(exc)
                for entry in session["kube_proxy"]:
                    extra += correlate.kube_proxy_findings(entry["node"], entry["checks"])
    except BaseException as exc:
        runner.cleanup()
        session["deleted"] = [f"{ns}/{name}" for ns, name in runner.deleted]
        exc.session = session
        raise
    runner.cleanup()
    session["deleted"] = [f"{ns}/{name}" for ns, name in runner.deleted]
    session["probes"] = [r for r in session["results"] if r["ok"] is not None]
    diag = run_diagnostics(Index([]), steps=[1, 3], probe_results=session["probes"])
    session["findings"] = diag["findings"] + extra
    session["dataplane_findings"] = extra
    results = session["results"]
    session["summary"] = {"total": len(results), "passed": sum(1 for r in results if r["ok"] is True),
                          "failed": sum(1 for r in results if r["ok"] is False), "inconclusive": sum(1 for r in results if r["ok"] is None)}
    return session


def active_diagnostics(client, executor, opts, index, cluster_facts=None):
    """The probe run for ``diagnose`` (active: true), with the policy verdict of each probe.

    Returns the session of :func:`run_probe_session` plus ``verdicts``; pass it to
    :func:`apply_active` after ``run_diagnostics(..., probe_results=session["probes"])``.
    """
    from .correlate import policy_verdicts  # pylint: disable=import-outside-toplevel
    from .reachability import build_evaluator  # pylint: disable=import-outside-toplevel

    ev = build_evaluator(index, cluster_facts)[0]
    session = run_probe_session(client, executor, opts, evaluator_factory=lambda: ev)
    debug = session["debug_pod"] or {}
    session["source"] = {"namespace": debug.get("namespace"), "labels": debug.get("labels") or {}}
    session["verdicts"] = policy_verdicts(session["probes"], ev, session["source"])
    return session


def apply_active(diagnostics, session):
    """Correlate: policy evidence on the step 3 findings, not-enforced mismatches, data-plane findings; recount."""
    from . import correlate  # pylint: disable=import-outside-toplevel

    correlate.annotate(diagnostics["findings"], session["probes"], session["verdicts"])
    extra = correlate.mismatch_findings(session["probes"], session["verdicts"], session["source"]) + list(session.get("dataplane_findings") or [])
    return correlate.merge_findings(diagnostics, extra)

"""The lab's real Kubernetes back end: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
kwok built from Go modules (tests/lab/real/build.sh), behind a small HTTPS front proxy.

The proxy (at the lab's Kubernetes URL) does what a test harness needs and a cluster does not offer:
the request log (``/_lab/requests``), injected faults (``/_lab/faults``, tests/lab/kube_faults.py),
refusals worded like RBAC's (``/_lab/forbid``), the lab's object routes, and pod exec, which it answers
from the scenario's declared data-plane facts (tests/lab/kube_exec.py) because there is no kubelet.
Everything else goes to kube-apiserver unchanged, watch streams included, so admission, defaulting,
validation, patches, server-side apply, RBAC, pagination and selectors are the real ones.

It offers the interface of the emulator (:class:`tests.lab.kube.KubeEmulator`) that the lab, its
controllers (tests/lab/lab_controllers.py) and the tests use, so ``Lab(kube="real")`` runs the same
integration suite. The cloud-provider-like controllers run as a poller of Services and Ingresses
against the API server and write status through it.

Users in the token file: the lab token (``system:masters``) and ``lab-viewer`` (bound to the built-in
``view`` ClusterRole) whose token is :attr:`RealKube.view_token`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import queue
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from typing import Any, Callable

import aiohttp
import aiohttp.web
import urllib3
import yaml

from tests.lab import kube_defaults, kube_exec, kube_schema
from tests.lab.kube import CILIUM_CRDS, LAB_USER, _parse_path, flatten_objects
from tests.lab.kube_faults import KubeFaults
from tests.lab.kube_ops import forbidden

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
VIEW_USER = "lab-viewer"
# kinds a test may create or change in the system namespaces, restored by reset() (controller-made objects are left alone)
RESET_KINDS = (
    ("", "v1", "configmaps"), ("", "v1", "services"), ("", "v1", "serviceaccounts"), ("", "v1", "secrets"), ("", "v1", "pods"),
    ("apps", "v1", "deployments"), ("apps", "v1", "daemonsets"), ("networking.k8s.io", "v1", "networkpolicies"),
    ("networking.k8s.io", "v1", "ingresses"), ("", "v1", "events"),
)
_SKIP_DEFAULT = {("Service", "kubernetes"), ("Endpoints", "kubernetes"), ("EndpointSlice", "kubernetes")}
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host", "upgrade"}


def binaries_dir() -> str:
    """Where tests/lab/real/build.sh puts the binaries (AKSNET_LAB_BIN overrides)."""
    if os.environ.get("AKSNET_LAB_BIN"):
        return os.environ["AKSNET_LAB_BIN"]
    out = subprocess.run(["bash", os.path.join(HERE, "real", "build.sh"), "--print-dir"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def binaries_missing() -> list[str]:
    directory = binaries_dir()
    names = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]
    return [n for n in names if not os.access(os.path.join(directory, n), os.X_OK)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RealApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body.get('message') if isinstance(body, dict) else body}")
        self.status = status
        self.body = body


class RealKube:  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """A real control plane with the emulator's lab interface."""

    def __init__(self, *, token: str, directory: str, defaults: Callable[[], list[dict[str, Any]]] | None = None,
                 user: str = LAB_USER) -> None:
        self.token = token
        self.view_token = secrets.token_urlsafe(18)
        self.user = user
        self.directory = os.path.join(os.path.abspath(directory), "real")
        self.url: str | None = None
        self.apiserver_url: str | None = None
        self.lb_hook: Callable[[dict[str, Any]], list[dict[str, Any]] | None] | None = None
        self.lb_delete_hook: Callable[[dict[str, Any]], None] | None = None
        self.ingress_hook: Callable[[dict[str, Any]], list[dict[str, Any]] | None] | None = None
        self._defaults = defaults or kube_defaults.default_objects
        self.faults = KubeFaults()
        self.dataplane: dict[str, Any] = {}
        self.pod_cidr_prefix = kube_defaults.POD_CIDR_PREFIX
        self.timings: dict[str, float] = {}
        self._procs: list[tuple[str, subprocess.Popen]] = []
        self._lock = threading.RLock()
        self._requests: list[dict[str, Any]] = []
        self._forbidden: list[tuple[str, str, str | None, str | None]] = []
        self._resources: dict[tuple[str, str], dict[str, Any]] = {}  # (apiVersion, kind) -> {group, version, plural, namespaced, subresources}
        self._plurals: dict[tuple[str, str], dict[str, Any]] = {}  # (group, plural) -> same
        self._http: urllib3.PoolManager | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: aiohttp.web.AppRunner | None = None
        self._work: queue.Queue = queue.Queue()
        self._stopping = threading.Event()
        self._seen_services: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self._seen_ingresses: dict[tuple[str, str], str] = {}
        self._paused = threading.Event()

    # ------------------------------------------------------------------------------ processes

    def start(self, certfile: str, keyfile: str, cafile: str | None = None) -> str:
        missing = binaries_missing()
        if missing:
            raise RuntimeError(f"real control plane: {', '.join(missing)} not built; run `make lab-binaries` (needs Go)")
        bindir = binaries_dir()
        cafile = cafile or os.path.join(os.path.dirname(certfile), "ca.pem")
        self.cafile = cafile
        shutil.rmtree(self.directory, ignore_errors=True)
        os.makedirs(self.directory)
        started = time.monotonic()
        self._write_keys_and_tokens()
        client_port, peer_port, secure_port = _free_port(), _free_port(), _free_port()
        self._spawn("etcd", [
            os.path.join(bindir, "etcd"), "--name=lab", f"--data-dir={self.directory}/etcd",
            f"--listen-client-urls=http://127.0.0.1:{client_port}", f"--advertise-client-urls=http://127.0.0.1:{client_port}",
            f"--listen-peer-urls=http://127.0.0.1:{peer_port}", f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-cluster=lab=http://127.0.0.1:{peer_port}", "--unsafe-no-fsync", "--log-level=warn",
            f"--listen-metrics-urls=http://127.0.0.1:{_free_port()}",
        ])
        self.apiserver_url = f"https://127.0.0.1:{secure_port}"
        self._spawn("kube-apiserver", [
            os.path.join(bindir, "kube-apiserver"), f"--etcd-servers=http://127.0.0.1:{client_port}",
            "--bind-address=127.0.0.1", f"--secure-port={secure_port}", f"--tls-cert-file={certfile}", f"--tls-private-key-file={keyfile}",
            f"--cert-dir={self.directory}/serving", f"--service-cluster-ip-range={kube_defaults.SERVICE_CIDR}", "--allow-privileged=true",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local", f"--service-account-key-file={self.directory}/sa.pub",
            f"--service-account-signing-key-file={self.directory}/sa.key", "--authorization-mode=RBAC",
            f"--token-auth-file={self.directory}/tokens.csv", "--enable-priority-and-fairness=false", "--profiling=false",
            "--disable-admission-plugins=ServiceAccount", "--endpoint-reconciler-type=none",
        ])
        self._http = urllib3.PoolManager(num_pools=4, maxsize=8, cert_reqs="CERT_REQUIRED", ca_certs=cafile, retries=False)
        self._wait_ready()
        self.timings["apiserver_ready_s"] = round(time.monotonic() - started, 2)
        kubeconfig = self._write_component_kubeconfig()
        self._spawn("kube-controller-manager", [
            os.path.join(bindir, "kube-controller-manager"), f"--kubeconfig={kubeconfig}", "--leader-elect=false", "--secure-port=0",
            "--controllers=deployment-controller,replicaset-controller,daemonset-controller,endpoints-controller,endpointslice-controller,"
            "endpointslice-mirroring-controller,namespace-controller,garbage-collector-controller,serviceaccount-controller,"
            "clusterrole-aggregation-controller,"
            "node-lifecycle-controller",
            f"--service-account-private-key-file={self.directory}/sa.key", "--use-service-account-credentials=false",
            "--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10", "--concurrent-namespace-syncs=10",
            "--kube-api-qps=500", "--kube-api-burst=1000",
        ])
        self._spawn("kube-scheduler", [os.path.join(bindir, "kube-scheduler"), f"--kubeconfig={kubeconfig}", "--leader-elect=false",
                                       "--secure-port=0", "--kube-api-qps=500", "--kube-api-burst=1000"])
        self._spawn("kwok", [
            os.path.join(bindir, "kwok"), f"--kubeconfig={kubeconfig}", "--manage-all-nodes=true", "--cidr=10.244.0.0/16",
            f"--node-ip={kube_defaults.node_ip(0)}", "--node-lease-duration-seconds=40",
            *[f"--config={path}" for path in self._kwok_stages(os.path.join(bindir, "kwok-stages"))],
        ])
        self._bootstrap_rbac()
        self._discover()
        self._start_proxy(certfile, keyfile)
        threading.Thread(target=self._worker, name="real-kube-work", daemon=True).start()
        threading.Thread(target=self._controllers, name="real-kube-controllers", daemon=True).start()
        self._load_defaults()
        self.timings["start_s"] = round(time.monotonic() - started, 2)
        return self.url

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(os.path.join(self.directory, f"{name}.log"), "ab")  # noqa: SIM115 - kept open for the process' life
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self._procs.append((name, proc))
        with open(os.path.join(self.directory, "pids"), "a", encoding="utf-8") as handle:
            handle.write(f"{proc.pid}\n")

    def _write_keys_and_tokens(self) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with open(os.path.join(self.directory, "sa.key"), "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
        with open(os.path.join(self.directory, "sa.pub"), "wb") as handle:
            handle.write(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        fd = os.open(os.path.join(self.directory, "tokens.csv"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f'{self.token},{self.user},lab-user-uid,"system:masters"\n{self.view_token},{VIEW_USER},lab-viewer-uid\n')

    def _write_component_kubeconfig(self) -> str:
        path = os.path.join(self.directory, "components.kubeconfig")
        text = (f"apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: {self.cafile}\n    server: {self.apiserver_url}\n"
                f"  name: lab\ncontexts:\n- context:\n    cluster: lab\n    user: admin\n  name: lab\ncurrent-context: lab\n"
                f"users:\n- name: admin\n  user:\n    token: {self.token}\n")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self._procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"real control plane: {name} exited ({proc.returncode}); see {self.directory}/{name}.log")
            try:
                response = self._http.request("GET", self.apiserver_url + "/readyz", timeout=2)
                if response.status == 200:
                    return
            except urllib3.exceptions.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"real control plane: kube-apiserver not ready after {timeout}s; see {self.directory}/kube-apiserver.log")

    def stop(self) -> None:
        self._stopping.set()
        try:
            if self._loop is not None and self._runner is not None:
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
                self._loop.call_soon_threadsafe(self._loop.stop)
                if self._thread is not None:
                    self._thread.join(timeout=10)
        finally:  # a proxy that does not close in time must not leave the control plane running
            self._stop_processes()

    def _stop_processes(self) -> None:
        for _name, proc in reversed(self._procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for _name, proc in reversed(self._procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self._procs.clear()
        pids = os.path.join(self.directory, "pids")
        if os.path.exists(pids):
            os.unlink(pids)

    # ------------------------------------------------------------------------------ REST (direct to kube-apiserver)

    def api(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None,
            content_type: str = "application/json", token: str | None = None) -> Any:
        url = self.apiserver_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Authorization": f"Bearer {token or self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        response = self._http.request(method, url, body=data, headers=headers, timeout=30)
        payload = json.loads(response.data or b"null") if response.data else None
        if response.status >= 300:
            raise RealApiError(response.status, payload)
        return payload

    def _discover(self) -> None:
        resources: dict[tuple[str, str], dict[str, Any]] = {}
        groups = [("", "v1")]
        for group in self.api("GET", "/apis").get("groups") or []:
            for version in group.get("versions") or []:
                groups.append((group["name"], version["version"]))
        for group, version in groups:
            path = "/api/v1" if not group else f"/apis/{group}/{version}"
            try:
                doc = self.api("GET", path)
            except (RealApiError, ValueError):
                continue  # a group whose CRD was just deleted: 404 (a plain-text body while discovery catches up)
            subs: dict[str, list[str]] = {}
            for res in doc.get("resources") or []:
                if "/" in res["name"]:
                    base, sub = res["name"].split("/", 1)
                    subs.setdefault(base, []).append(sub)
            for res in doc.get("resources") or []:
                if "/" in res["name"]:
                    continue
                api_version = f"{group}/{version}" if group else version
                info = {"group": group, "version": version, "plural": res["name"], "namespaced": res["namespaced"], "kind": res["kind"],
                        "subresources": subs.get(res["name"], []), "verbs": res.get("verbs") or []}
                resources.setdefault((api_version, res["kind"]), info)
                resources.setdefault(("*" + group, res["kind"]), info)
        with self._lock:
            self._resources = resources
            self._plurals = {(i["group"], i["plural"]): i for i in resources.values()}

    def _resolve_kind(self, obj: dict[str, Any]) -> tuple[str, str, str, Any]:
        api_version, kind = obj.get("apiVersion") or "", obj.get("kind") or ""
        for attempt in (1, 2):
            with self._lock:
                info = self._resources.get((api_version, kind)) or self._resources.get(("*" + api_version.rpartition("/")[0], kind))
            if info is not None:
                return info["group"], info["version"], info["plural"], _Info(info)
            if attempt == 1:
                self._discover()
        raise ValueError(f"cannot load {kind or '?'} {obj.get('metadata', {}).get('name', '?')!r} of apiVersion {api_version!r}: "
                         "the API server serves no such resource; install its CustomResourceDefinition first")

    def _info_of(self, group: str, plural: str) -> dict[str, Any]:
        with self._lock:
            info = self._plurals.get((group, plural))
        if info is None:
            self._discover()
            with self._lock:
                info = self._plurals.get((group, plural))
        if info is None:
            raise ValueError(f"the API server serves no resource {plural!r} in group {group!r}")
        return info

    @staticmethod
    def _path(info: dict[str, Any], namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        base = "/api/v1" if not info["group"] else f"/apis/{info['group']}/{info['version']}"
        if info["namespaced"] and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{info['plural']}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base

    # ------------------------------------------------------------------------------ emulator-compatible store primitives

    def _items(self, group: str, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        info = self._info_of(group, plural)
        items, token = [], None
        while True:
            page = self.api("GET", self._path(info, namespace), query={"limit": 500, "continue": token})
            for item in page.get("items") or []:
                item.setdefault("apiVersion", f"{info['group']}/{info['version']}" if info["group"] else info["version"])
                item.setdefault("kind", info["kind"])
                items.append(item)
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def _get(self, group: str, plural: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        try:
            return self.api("GET", self._path(self._info_of(group, plural), namespace, name))
        except RealApiError as exc:
            if exc.status == 404:
                return None
            raise

    def _create_internal(self, obj: dict[str, Any], *, instant: bool = True, dry_run: bool = False, hooks: bool = True) -> dict[str, Any]:
        """Create (or replace) ``obj`` as given, status included (through the status subresource)."""
        del instant, dry_run, hooks  # the real controllers decide timing
        obj = copy.deepcopy(obj)
        _group, _version, _plural, wrapped = self._resolve_kind(obj)
        info = wrapped.info
        if (obj.get("kind"), (obj.get("metadata") or {}).get("name")) in _SKIP_DEFAULT and (obj["metadata"].get("namespace") or "default") == "default":
            # kube-apiserver makes the kubernetes Service itself (ClusterIP 10.0.0.1 is already allocated): a cluster created
            # in an empty lab, or a loaded snapshot, keeps the apiserver's own (its endpoints are written when missing)
            try:
                return self.api("GET", self._path(info, "default", obj["metadata"]["name"]))
            except RealApiError as exc:
                if exc.status != 404:
                    raise
        meta = obj.setdefault("metadata", {})
        for key in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink"):
            meta.pop(key, None)
        if info["namespaced"]:
            meta.setdefault("namespace", "default")
            self._ensure_namespace(meta["namespace"])
        else:
            meta.pop("namespace", None)
        status = obj.pop("status", None)
        namespace = meta.get("namespace")
        try:
            stored = self.api("POST", self._path(info, namespace), obj)
        except RealApiError as exc:
            if exc.status != 409:
                raise
            current = self.api("GET", self._path(info, namespace, meta["name"]))
            obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            if info["kind"] == "Service":  # immutable, allocated fields stay as they are
                spec = obj.setdefault("spec", {})
                for key in ("clusterIP", "clusterIPs"):
                    spec.setdefault(key, current["spec"].get(key))
            stored = self.api("PUT", self._path(info, namespace, meta["name"]), obj)
        if status and "status" in info["subresources"]:
            stored = self.api("PATCH", self._path(info, namespace, meta["name"], "status"), {"status": status},
                              content_type="application/merge-patch+json")
        return stored

    def _put(self, group: str, plural: str, obj: dict[str, Any], event: str = "MODIFIED") -> dict[str, Any]:
        del event
        info = self._info_of(group, plural)
        meta = obj["metadata"]
        current = self._get(group, plural, meta.get("namespace"), meta["name"])
        if current is None:
            return self._create_internal(obj)
        body = copy.deepcopy(obj)
        for attempt in range(5):
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            try:
                stored = self.api("PUT", self._path(info, meta.get("namespace"), meta["name"]), body)
                break
            except RealApiError as exc:
                if exc.status != 409 or attempt == 4:
                    raise
                current = self._get(group, plural, meta.get("namespace"), meta["name"]) or current
        if body.get("status") is not None and "status" in info["subresources"] and body.get("status") != stored.get("status"):
            stored = self.api("PATCH", self._path(info, meta.get("namespace"), meta["name"], "status"), {"status": body["status"]},
                              content_type="application/merge-patch+json")
        return stored

    def _remove(self, group: str, plural: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        try:
            self.api("DELETE", self._path(self._info_of(group, plural), meta.get("namespace"), meta["name"]))
        except RealApiError as exc:
            if exc.status != 404:
                raise

    def _after_delete(self, group: str, plural: str, obj: dict[str, Any], api: bool = False) -> None:
        del group, plural, obj, api  # the real controllers (garbage collector) follow deletions

    def _ensure_namespace(self, name: str) -> None:
        try:
            self.api("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        except RealApiError as exc:
            if exc.status != 409:
                raise

    def _schedule(self, fn: Callable[[], None]) -> None:
        self._work.put(fn)

    def _worker(self) -> None:
        while not self._stopping.is_set():
            try:
                fn = self._work.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                fn()
            except Exception as exc:  # a controller error is logged, never fatal to the lab
                self._log_error(f"scheduled work failed: {exc!r}")
            finally:
                self._work.task_done()

    def _log_error(self, text: str) -> None:
        with open(os.path.join(self.directory, "lab-controllers.log"), "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%H:%M:%S')} {text}\n")

    # ------------------------------------------------------------------------------ public lab API

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def forbid(self, verb: str, plural: str, namespace: str | None = None, group: str | None = None) -> None:
        with self._lock:
            self._forbidden.append((verb, plural, namespace, group))

    def objects(self, plural: str | None = None, namespace: str | None = None, group: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            known = sorted(self._plurals.items())
        result = []
        for (each_group, each_plural), info in known:
            if (plural is not None and each_plural != plural) or (group is not None and each_group != group):
                continue
            if "list" not in info["verbs"] or (namespace is not None and not info["namespaced"]):
                continue
            items = self._items(each_group, each_plural, namespace)
            result += sorted(items, key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"]))
        return result

    def get_object(self, plural: str, name: str, namespace: str | None = None, group: str = "") -> dict[str, Any] | None:
        return self._get(group, plural, namespace, name)

    def load_objects(self, objects: Any) -> list[dict[str, Any]]:
        """Create or replace the scenario's objects as given (status included); LabDataPlane facts stay in the proxy."""
        stored = []
        ordered = sorted(flatten_objects(objects), key=lambda o: 0 if o.get("kind") in ("Namespace", "CustomResourceDefinition") else 1)
        for raw in ordered:
            if raw.get("kind") == "AzureNetworkFacts":
                continue
            if raw.get("kind") == kube_exec.DATAPLANE_KIND:
                with self._lock:
                    self.dataplane = kube_exec.merge_dataplane(self.dataplane, raw)
                continue
            stored.append(self._create_internal(raw))
            if raw.get("kind") == "CustomResourceDefinition":
                self._wait_crd(raw["metadata"]["name"])
        return stored

    def register_crd(self, group: str, version: str, kind: str, plural: str, namespaced: bool, *, singular: str | None = None,
                     short_names: Any = (), status_subresource: bool = False, schema: dict[str, Any] | None = None) -> None:
        crd = {
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced" if namespaced else "Cluster",
                     "names": {"kind": kind, "plural": plural, "singular": singular or kind.lower(), "listKind": f"{kind}List",
                               "shortNames": list(short_names)},
                     "versions": [{"name": version, "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": structural(schema) if schema else
                                              {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                                   "subresources": {"status": {}} if status_subresource else {}}]},
        }
        self._create_internal(crd)
        self._wait_crd(crd["metadata"]["name"])

    def register_cilium_crds(self) -> None:
        for group, version, kind, plural, namespaced in CILIUM_CRDS:
            self.register_crd(group, version, kind, plural, namespaced, status_subresource=True, schema=kube_schema.CILIUM_POLICY_SCHEMA)

    def _wait_crd(self, name: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            crd = self.api("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in (crd.get("status") or {}).get("conditions") or []):
                self._discover()
                return
            time.sleep(0.1)
        raise RuntimeError(f"CRD {name} not established after {timeout}s")

    # ------------------------------------------------------------------------------ defaults and reset

    def _kwok_stages(self, shipped: str) -> list[str]:
        """kwok's own stages (copied from its module by build.sh) and the lab's (tests/lab/real/stages), written to the lab
        directory: kwok's pod-ready stage leaves pods of the image that never runs (NEVER_READY_IMAGE) to the lab's
        pod-image-pull-backoff stage, as the emulator does."""
        directory = os.path.join(self.directory, "kwok-stages")
        os.makedirs(directory, exist_ok=True)
        sources = [os.path.join(shipped, n) for n in sorted(os.listdir(shipped))]
        sources += [os.path.join(HERE, "real", "stages", n) for n in sorted(os.listdir(os.path.join(HERE, "real", "stages")))]
        paths = []
        for source in sources:
            with open(source, encoding="utf-8") as handle:
                stage = yaml.safe_load(handle)
            if stage["metadata"]["name"] == "pod-ready":
                stage["spec"]["selector"]["matchExpressions"].append(
                    {"key": ".spec.containers.[].image", "operator": "NotIn", "values": [kube_exec.NEVER_READY_IMAGE]})
            path = os.path.join(directory, os.path.basename(source))
            with open(path, "w", encoding="utf-8") as handle:
                yaml.safe_dump(stage, handle, sort_keys=False)
            paths.append(path)
        return paths

    def _bootstrap_rbac(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                self.api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "lab-viewer-view"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": VIEW_USER}]})
                return
            except RealApiError as exc:
                if exc.status == 409:
                    return
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _default_objects(self) -> list[dict[str, Any]]:
            # the kubernetes Service is the apiserver's own; its Endpoints and EndpointSlice are the lab's, as the apiserver's
        # endpoint reconciler is off (they are created when missing, as on AKS every cluster has them)
        return [o for o in self._defaults() if (o.get("kind"), o["metadata"].get("name")) != ("Service", "kubernetes")]

    def _load_defaults(self) -> None:
        for obj in self._default_objects():
            if obj["kind"] == "Namespace":
                self._ensure_namespace(obj["metadata"]["name"])
            else:
                self._create_internal(obj)
        self.wait_settled()

    def wait_settled(self, timeout: float = 60) -> None:
        """Wait until every Deployment and DaemonSet has its pods ready (controllers, scheduler and kwok done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = [d["metadata"]["name"] for d in self._items("apps", "deployments")
                       if (d.get("status") or {}).get("readyReplicas", 0) < (d.get("spec") or {}).get("replicas", 1)]
            pending += [d["metadata"]["name"] for d in self._items("apps", "daemonsets")
                        if (d.get("status") or {}).get("numberReady", 0) < max(1, (d.get("status") or {}).get("desiredNumberScheduled", 1))]
            if not pending:
                return
            time.sleep(0.2)
        self._log_error(f"not settled after {timeout}s")

    def reset(self) -> None:
        """Back to the default cluster: extra namespaces, CRDs, nodes and system-namespace objects removed, defaults restored."""
        started = time.monotonic()
        with self._lock:
            self._forbidden.clear()
            self._requests.clear()
            self.dataplane = {}
            self.pod_cidr_prefix = kube_defaults.POD_CIDR_PREFIX
        self.faults.clear()
        self._work.join()
        self._paused.set()
        try:
            extra = [n["metadata"]["name"] for n in self._items("", "namespaces") if n["metadata"]["name"] not in SYSTEM_NAMESPACES]
            for name in extra:
                self._force_delete_pods(name)
                self._remove("", "namespaces", {"metadata": {"name": name}})
            for crd in self._items("apiextensions.k8s.io", "customresourcedefinitions"):
                self._remove("apiextensions.k8s.io", "customresourcedefinitions", crd)
            defaults = self._default_objects()
            wanted = {(o["kind"], o["metadata"].get("namespace") or "", o["metadata"]["name"]) for o in defaults}
            default_nodes = {o["metadata"]["name"] for o in defaults if o["kind"] == "Node"}
            for node in self._items("", "nodes"):
                if node["metadata"]["name"] not in default_nodes:
                    self._remove("", "nodes", node)
            # cluster-scoped objects a test may create (an IngressClass of the ingress roles or of a Helm release)
            for klass in self._items("networking.k8s.io", "ingressclasses"):
                if ("IngressClass", "", klass["metadata"]["name"]) not in wanted:
                    self._remove("networking.k8s.io", "ingressclasses", klass)
            for group, _version, plural in RESET_KINDS:
                info = self._info_of(group, plural)
                for namespace in SYSTEM_NAMESPACES:
                    for obj in self._items(group, plural, namespace):
                        meta = obj["metadata"]
                        key = (info["kind"], namespace, meta["name"])
                        if key in wanted or meta.get("ownerReferences") or _system_object(info["kind"], meta):
                            continue
                        if plural == "pods":
                            self._delete_now(info, namespace, meta["name"])
                        else:
                            self._remove(group, plural, obj)
            for obj in defaults:
                if obj["kind"] != "Namespace":
                    self._restore(obj)
            self._wait_gone(extra)
            self._discover()
        finally:
            self._paused.clear()
        self.wait_settled()
        self.timings["last_reset_s"] = round(time.monotonic() - started, 2)

    def _restore(self, obj: dict[str, Any]) -> None:
        group, _version, plural, _info = self._resolve_kind(obj)
        meta = obj["metadata"]
        current = self._get(group, plural, meta.get("namespace"), meta["name"])
        if current is None:
            self._create_internal(obj)
            return
        same = all(current.get(k) == obj.get(k) for k in ("spec", "data") if k in obj or k in current) and all(
            (current["metadata"].get(k) or {}) == (meta.get(k) or {}) for k in ("labels", "annotations"))
        if obj["kind"] == "Service":
            same = same or _service_matches(current, obj)
        if obj["kind"] in ("Deployment", "DaemonSet"):
            same = _workload_matches(current, obj)
        if not same:
            self._put(group, plural, {**copy.deepcopy(obj), "status": None})

    def _force_delete_pods(self, namespace: str) -> None:
        try:
            self.api("DELETE", f"/api/v1/namespaces/{namespace}/pods", query={"gracePeriodSeconds": 0})
        except RealApiError as exc:
            if exc.status != 404:
                raise

    def _delete_now(self, info: dict[str, Any], namespace: str, name: str) -> None:
        try:
            self.api("DELETE", self._path(info, namespace, name), {"gracePeriodSeconds": 0})
        except RealApiError as exc:
            if exc.status != 404:
                raise

    def _wait_gone(self, namespaces: list[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        pending = set(namespaces)
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                if self._get("", "namespaces", None, name) is None:
                    pending.discard(name)
            if pending:
                time.sleep(0.1)
        if pending:
            raise RuntimeError(f"namespaces {sorted(pending)} still terminating after {timeout}s")

    # ------------------------------------------------------------------------------ cloud-provider-like controllers

    def _controllers(self) -> None:
        """Poll Services and Ingresses; call the lab's hooks as the emulator does on writes, and write their status."""
        while not self._stopping.is_set():
            time.sleep(0.25)
            if self._paused.is_set() or self._http is None:
                continue
            try:
                self._sync_services()
                self._sync_ingresses()
            except Exception as exc:  # keep polling; the log says what failed
                self._log_error(f"controllers: {exc!r}")

    def _sync_services(self) -> None:
        seen = {}
        for svc in self._items("", "services"):
            meta = svc["metadata"]
            key = (meta["namespace"], meta["name"])
            is_lb = (svc.get("spec") or {}).get("type") == "LoadBalancer"
            seen[key] = (meta["resourceVersion"], svc) if is_lb else None
            previous = self._seen_services.get(key)
            if not is_lb:
                if previous and self.lb_delete_hook is not None:
                    self.lb_delete_hook(copy.deepcopy(previous[1]))
                continue
            if previous and previous[0] == meta["resourceVersion"]:
                continue
            if self.lb_hook is None:
                continue
            ingress = self.lb_hook(copy.deepcopy(svc))
            current = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress")
            wanted = ingress or None
            if wanted != current:
                body = {"status": {"loadBalancer": {"ingress": wanted} if wanted else {}}}
                try:
                    svc = self.api("PATCH", f"/api/v1/namespaces/{meta['namespace']}/services/{meta['name']}/status", body,
                                   content_type="application/merge-patch+json")
                    seen[key] = (svc["metadata"]["resourceVersion"], svc)
                except RealApiError as exc:
                    if exc.status != 404:
                        raise
        for key, previous in self._seen_services.items():
            if previous and key not in seen and self.lb_delete_hook is not None:
                self.lb_delete_hook(copy.deepcopy(previous[1]))
        self._seen_services = {k: v for k, v in seen.items() if v}

    def _sync_ingresses(self) -> None:
        if self.ingress_hook is None:
            return
        seen = {}
        for ing in self._items("networking.k8s.io", "ingresses"):
            meta = ing["metadata"]
            key = (meta["namespace"], meta["name"])
            if self._seen_ingresses.get(key) == meta["resourceVersion"]:
                seen[key] = meta["resourceVersion"]
                continue
            ingress = self.ingress_hook(copy.deepcopy(ing))
            if ingress is not None:
                # published; an Ingress without an address yet is asked again on the next poll (the controller's
                # LoadBalancer Service may get its address later, as the emulator's add-on manager then publishes it)
                seen[key] = meta["resourceVersion"]
            current = ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress")
            if ingress is not None and ingress != current:
                try:
                    stored = self.api("PATCH", f"/apis/networking.k8s.io/v1/namespaces/{meta['namespace']}/ingresses/{meta['name']}/status",
                                      {"status": {"loadBalancer": {"ingress": ingress}}}, content_type="application/merge-patch+json")
                    seen[key] = stored["metadata"]["resourceVersion"]
                except RealApiError as exc:
                    if exc.status != 404:
                        raise
        self._seen_ingresses = seen

    # ------------------------------------------------------------------------------ the front proxy

    def _start_proxy(self, certfile: str, keyfile: str) -> None:
        ready = threading.Event()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile, keyfile)
        port = _free_port()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = aiohttp.web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = aiohttp.web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = aiohttp.web.TCPSite(self._runner, "127.0.0.1", port, ssl_context=context)
            loop.run_until_complete(site.start())
            upstream_ssl = ssl.create_default_context(cafile=self.cafile)

            async def session() -> aiohttp.ClientSession:
                return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=upstream_ssl, limit=64), auto_decompress=False)

            self._session = loop.run_until_complete(session())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._session.close())
            loop.close()

        self._thread = threading.Thread(target=run, name="real-kube-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        self.url = f"https://127.0.0.1:{port}"

    async def _handle(self, request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        path = request.path
        body_bytes = await request.read()
        if path == "/_lab" or path.startswith("/_lab/"):
            return await self._serve_lab(request, path, body_bytes)
        body: Any = None
        if body_bytes:
            try:
                body = json.loads(body_bytes)
            except ValueError:
                body = body_bytes.decode("utf-8", "replace")
        method = request.method.upper()
        query = dict(request.query)
        with self._lock:
            self._requests.append({"method": method, "path": path, "query": query, "body": body,
                                   "dry_run": "All" in request.query.getall("dryRun", [])})
        parsed = _parse_path(path)
        route = parsed[2] if parsed else None
        if route is not None:
            name = route.name or ((body.get("metadata") or {}).get("name") if isinstance(body, dict) else None)
            resource = f"{route.plural}/{route.sub}" if route.sub else route.plural
            fault = self.faults.take(method, path, resource, route.namespace, name, route.group, "All" in request.query.getall("dryRun", []))
            if fault is not None:
                with self._lock:
                    self._requests[-1]["fault"] = fault.id
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.reset_connection:
                    if request.transport is not None:
                        request.transport.abort()
                    return aiohttp.web.Response(status=500)
                if fault.status is not None:
                    return aiohttp.web.json_response(fault.status_body(), status=fault.status, headers=fault.headers())
            refusal = self._refusal(method, route, query)
            if refusal is not None and request.headers.get("Authorization") == f"Bearer {self.token}":
                return aiohttp.web.json_response(refusal.status(), status=403)
            if route.group == "" and route.plural == "pods" and route.sub == "exec" and route.name:
                return await self._serve_exec(request, route)
        return await self._forward(request, body_bytes)

    def _refusal(self, method: str, route: Any, query: dict[str, str]) -> Any:
        if route.sub == "exec":
            verb, plural = ("create" if method == "POST" else "get"), "pods/exec"
        else:
            watch = query.get("watch") in ("true", "1")
            if method == "GET" and route.name is None:
                verb = "watch" if watch else "list"
            else:
                verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
                        "DELETE": "delete" if route.name else "deletecollection"}.get(method, "")
            plural = route.plural
        with self._lock:
            rules = list(self._forbidden)
        for f_verb, f_plural, f_namespace, f_group in rules:
            if f_verb not in (verb, "*") or f_plural != plural:
                continue
            if (f_group is not None and f_group != route.group) or (f_namespace is not None and f_namespace != route.namespace):
                continue
            name = route.name if verb not in ("list", "watch", "create", "deletecollection") else None
            return forbidden(verb, plural, route.group, route.namespace, name, self.user)
        return None

    async def _forward(self, request: aiohttp.web.Request, body: bytes) -> aiohttp.web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        url = self.apiserver_url + request.path_qs
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with self._session.request(request.method, url, data=body or None, headers=headers, timeout=timeout) as upstream:
            response = aiohttp.web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in _HOP_HEADERS:
                    response.headers.add(key, value)
            if upstream.headers.get("Content-Encoding"):
                response.headers["Content-Encoding"] = upstream.headers["Content-Encoding"]
            await response.prepare(request)
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            except (ConnectionResetError, aiohttp.ClientError):
                return response
            await response.write_eof()
            return response

    async def _serve_exec(self, request: aiohttp.web.Request, route: Any) -> aiohttp.web.StreamResponse:
        """Pod exec answered from the LabDataPlane facts, as the emulator answers it (no kubelet here)."""
        loop = asyncio.get_running_loop()

        def world() -> tuple[Any, Any]:
            pod = self._get("", "pods", route.namespace, route.name)
            state = kube_exec.World(copy.deepcopy(self.dataplane), self._items("", "pods"), self._items("", "services"),
                                    self._items("discovery.k8s.io", "endpointslices"), kube_defaults.DNS_SERVICE_IP)
            return pod, state

        pod, state = await loop.run_in_executor(None, world)
        try:
            _container, argv = kube_exec.check_exec(pod, route.namespace or "", route.name or "", request.query)
        except Exception as exc:  # the emulator's ApiError: answer with its Status
            status = getattr(exc, "status", None)
            if callable(status):
                return aiohttp.web.json_response(status(), status=exc.code)
            raise
        return await kube_exec.serve_websocket(request, state, pod, argv, request.query)

    async def _serve_lab(self, request: aiohttp.web.Request, path: str, raw: bytes) -> aiohttp.web.StreamResponse:
        body = json.loads(raw) if raw else None
        method = request.method.upper()
        loop = asyncio.get_running_loop()

        async def call(fn: Callable[..., Any], *args: Any) -> Any:
            return await loop.run_in_executor(None, fn, *args)

        if path == "/_lab/requests" and method == "GET":
            return aiohttp.web.json_response(self.requests)
        if path == "/_lab/objects" and method == "GET":
            query = request.query
            return aiohttp.web.json_response(await call(self.objects, query.get("plural"), query.get("namespace"), query.get("group")))
        if path == "/_lab/objects" and method == "POST":
            try:
                stored = await call(self.load_objects, body)
            except (ValueError, RealApiError) as exc:
                return aiohttp.web.json_response({"error": str(exc)}, status=400)
            return aiohttp.web.json_response({"loaded": len(stored)})
        if path == "/_lab/reset" and method == "POST":
            await call(self.reset)
            return aiohttp.web.json_response({"reset": True})
        if path == "/_lab/crds" and method == "POST":
            if isinstance(body, dict) and body.get("cilium"):
                await call(self.register_cilium_crds)
                return aiohttp.web.json_response({"registered": "cilium"})
            keys = ("group", "version", "kind", "plural")
            if not isinstance(body, dict) or not all(body.get(k) for k in keys):
                return aiohttp.web.json_response({"error": "body must be {cilium: true} or {group, version, kind, plural, namespaced}"}, status=400)
            await call(lambda: self.register_crd(body["group"], body["version"], body["kind"], body["plural"], bool(body.get("namespaced", True))))
            return aiohttp.web.json_response({"registered": body["plural"]})
        if path == "/_lab/forbid" and method == "POST":
            if not isinstance(body, dict) or not body.get("verb") or not body.get("plural"):
                return aiohttp.web.json_response({"error": "body must be {verb, plural, namespace?, group?}"}, status=400)
            self.forbid(body["verb"], body["plural"], body.get("namespace"), body.get("group"))
            return aiohttp.web.json_response({"forbidden": body})
        if path == "/_lab/faults" and method == "POST":
            try:
                fault = self.faults.add(body)
            except ValueError as exc:
                return aiohttp.web.json_response({"error": str(exc)}, status=400)
            return aiohttp.web.json_response(fault.describe(), status=201)
        if path == "/_lab/faults" and method == "GET":
            return aiohttp.web.json_response(self.faults.list())
        if path == "/_lab/faults" and method == "DELETE":
            self.faults.clear()
            return aiohttp.web.json_response({"cleared": True})
        return aiohttp.web.json_response({"error": f"no lab route {method} {path}"}, status=404)


class _Info:
    """The part of kmock.ResourceInfo that lab_controllers reads."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.kind = info["kind"]
        self.namespaced = info["namespaced"]
        self.subresources = info["subresources"]


def _system_object(kind: str, meta: dict[str, Any]) -> bool:
    """Objects the API server or controllers keep in system namespaces (never removed by reset)."""
    name = meta["name"]
    return (kind == "ConfigMap" and name in ("kube-root-ca.crt", "extension-apiserver-authentication")) or (
        kind == "ServiceAccount" and name == "default") or (kind == "Service" and name == "kubernetes")


def _service_matches(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    spec, want = current.get("spec") or {}, wanted.get("spec") or {}
    return all(spec.get(k) == v for k, v in want.items() if k != "ports") and [
        {k: p.get(k) for k in ("name", "port", "protocol", "targetPort")} for p in spec.get("ports") or []] == [
        {k: p.get(k) for k in ("name", "port", "protocol", "targetPort")} for p in want.get("ports") or []] and (
        current["metadata"].get("labels") or {}) == (wanted["metadata"].get("labels") or {}) and not (current["metadata"].get("annotations"))


def _workload_matches(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    spec, want = current.get("spec") or {}, wanted.get("spec") or {}
    template, want_template = spec.get("template") or {}, want.get("template") or {}
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    return (spec.get("replicas", want.get("replicas")) == want.get("replicas", spec.get("replicas"))
            and (template.get("metadata") or {}).get("labels") == (want_template.get("metadata") or {}).get("labels")
            and not annotations
            and [c.get("image") for c in (template.get("spec") or {}).get("containers") or []] ==
            [c.get("image") for c in (want_template.get("spec") or {}).get("containers") or []]
            and (current["metadata"].get("labels") or {}) == (wanted["metadata"].get("labels") or {}))


def structural(schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI v3 schema as a CRD needs it (structural): types everywhere, unknown keywords dropped."""
    allowed = {"type", "properties", "items", "required", "enum", "description", "format", "pattern", "minimum", "maximum",
               "minLength", "maxLength", "minItems", "maxItems", "additionalProperties", "x-kubernetes-preserve-unknown-fields",
               "x-kubernetes-int-or-string", "nullable", "default", "oneOf", "anyOf"}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in allowed:
            continue
        if key == "properties":
            out[key] = {k: structural(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = structural(value)
        elif key in ("oneOf", "anyOf"):
            out[key] = [_value_validation(v) for v in value]
        else:
            out[key] = value
    if "type" not in out and not out.get("x-kubernetes-int-or-string") and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def _value_validation(schema: dict[str, Any]) -> dict[str, Any]:
    """A oneOf/anyOf alternative of a structural schema: value checks only. kube-apiserver refuses types, defaults
    and x-kubernetes-preserve-unknown-fields there (\"must be false to be structural\")."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties",):
            out[key] = {k: _value_validation(v) for k, v in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = _value_validation(value)
        elif key in ("oneOf", "anyOf"):
            out[key] = [_value_validation(v) for v in value]
        elif key in ("required", "enum", "format", "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
            out[key] = value
    return out

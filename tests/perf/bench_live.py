# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark (not a test): live snapshot and diagnose against the lab's real control plane, loaded through kwok.

Run from the repository root:  .venv/bin/python tests/perf/bench_live.py --kube real
It starts the lab on the real back end (kube-apiserver, etcd, controller-manager, scheduler and kwok built by
``make lab-binaries``; without them it says so and exits 0), adds Nodes up to 50 and loads 10,000 Pods (bound to
the nodes with spec.nodeName; kwok makes them Running with IPs), 3,000 Services (the real EndpointSlice and
Endpoints controllers write their endpoints) and 1,000 NetworkPolicies, the same synthetic cluster as
bench_diagnose.py's large size. Then, on the same data, each in its own process (peak RSS per process):

* ``floor``: a bare paginated LIST (urllib3 + json.loads, no collection code) of exactly the requests
  collect.py makes: every diagnostic kind in its scope and the two metadata-only Secret LISTs, page size 500;
* ``snapshot``: the snapshot module's code (the module file run with its arguments, as Ansible runs it);
* ``diagnose``: the diagnose module's code, live, every step;
* ``diagnose via ansible-playbook``: the same as a user runs it (one task), for the Ansible overhead.

Requests are counted at the lab's front proxy (its request log), which every run goes through, as the modules'
kubeconfig points there. Goals: live diagnose <= 2x the floor's wall time; its requests == the floor's pages.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
HERE = os.path.dirname(os.path.abspath(__file__))
MODULES = os.path.join(ROOT, "plugins", "modules")
PAGE_SIZE = 500  # the modules' default page_size (plugins/module_utils/_kube/client.py DEFAULT_PAGE_SIZE)
PARTIAL_METADATA = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


# ---------------------------------------------------------------------------------------------- the data


def bench_objects(pods, services, policies, namespaces, node_names):
    """bench_diagnose.py's synthetic cluster, made acceptable to a real API server: kube-system is the lab's own,
    pods are bound to the lab's nodes and get their status from kwok, ClusterIPs are allocated by the apiserver,
    owner references (to ReplicaSets that do not exist) are dropped so that the garbage collector keeps the pods."""
    sys.path.insert(0, HERE)
    from bench_diagnose import synthetic_cluster

    out = {"Namespace": [], "Pod": [], "Service": [], "NetworkPolicy": [], "Ingress": [], "IngressClass": []}
    synthetic_nodes = {}
    for obj in synthetic_cluster(pods, services, policies, namespaces, endpoints=False):
        kind, meta = obj["kind"], obj["metadata"]
        if kind == "Node":
            synthetic_nodes[meta["name"]] = node_names[len(synthetic_nodes) % len(node_names)]
            continue
        if kind not in out or meta.get("namespace") == "kube-system" or meta["name"] in ("default", "kube-system"):
            continue
        obj = copy.deepcopy(obj)
        obj.pop("status", None)
        for key in ("uid", "ownerReferences"):
            obj["metadata"].pop(key, None)
        if kind == "Pod":
            obj["spec"]["nodeName"] = synthetic_nodes[obj["spec"]["nodeName"]]
            obj["spec"]["terminationGracePeriodSeconds"] = 0
        if kind == "Service":
            obj["spec"].pop("clusterIP", None)
        out[kind].append(obj)
    return out


class Loader:
    """Concurrent creates straight to kube-apiserver with the lab's admin token (bypassing the front proxy, whose
    request log is for the measured runs)."""

    def __init__(self, lab, workers=16):
        import urllib3

        self.url = lab.kube.apiserver_url
        self.headers = {"Authorization": f"Bearer {lab.kube.token}", "Content-Type": "application/json", "Accept": "application/json"}
        self.http = urllib3.PoolManager(maxsize=workers, cert_reqs="CERT_REQUIRED", ca_certs=lab.env["AKSNET_LAB_CA"], retries=False)
        self.workers = workers

    def request(self, method, path, body=None, accept=None, ok=(200, 201)):
        headers = dict(self.headers, **({"Accept": accept} if accept else {}))
        for attempt in range(20):
            response = self.http.request(method, self.url + path, body=None if body is None else json.dumps(body).encode(), headers=headers,
                                         timeout=120)
            if response.status in ok:
                return json.loads(response.data)
            if response.status in (409,) and method == "POST":
                return None  # already there (a re-run)
            if response.status in (429, 500, 503, 504) and attempt < 19:
                time.sleep(0.2 * (attempt + 1))
                continue
            raise RuntimeError(f"{method} {path}: {response.status} {response.data[:300]!r}")
        raise AssertionError("unreachable")

    def create_all(self, objects):
        def one(obj):
            from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import api_path

            ns = obj["metadata"].get("namespace")
            plural = {"Pod": "pods", "Service": "services", "NetworkPolicy": "networkpolicies", "Ingress": "ingresses",
                      "IngressClass": "ingressclasses", "Namespace": "namespaces"}[obj["kind"]]
            self.request("POST", api_path(obj["apiVersion"], plural, ns), obj)

        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            for future in concurrent.futures.as_completed([pool.submit(one, o) for o in objects]):
                future.result()

    def count(self, api_version, plural, field_selector=None, predicate=None):
        """Objects of a kind cluster-wide (metadata-only pages unless a predicate needs the objects)."""
        from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import api_path

        total, token = 0, None
        while True:
            query = f"?limit={PAGE_SIZE}" + (f"&fieldSelector={field_selector}" if field_selector else "") + (f"&continue={token}" if token else "")
            page = self.request("GET", api_path(api_version, plural) + query, accept=None if predicate else PARTIAL_METADATA)
            items = page.get("items") or []
            total += sum(1 for i in items if predicate(i)) if predicate else len(items)
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return total


def wait_for(what, fn, target, timeout, log):
    started, last, seen = time.monotonic(), -1, 0
    while True:
        seen = fn()
        if seen != last:
            log(f"  {what}: {seen}/{target} after {time.monotonic() - started:.0f} s")
            last = seen
        if seen >= target:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}: {seen}/{target}")
        time.sleep(2)


def load(lab, opts, log):
    """Nodes up to opts.nodes, then the synthetic cluster; returns the load timings."""
    from tests.lab import kube_defaults

    timings = {}
    loader = Loader(lab)
    existing = [n["metadata"]["name"] for n in loader.request("GET", "/api/v1/nodes")["items"]]
    t0 = time.monotonic()
    nodes = [kube_defaults._node(i, location="westeurope", subscription_id=lab.env["AZURE_SUBSCRIPTION_ID"],  # pylint: disable=protected-access
                                 node_resource_group="MC_lab-rg_lab-aks_westeurope") for i in range(len(existing), opts.nodes)]
    lab.kube.load_objects(nodes)
    names = sorted(existing + [n["metadata"]["name"] for n in nodes])
    data = bench_objects(opts.pods, opts.services, opts.policies, opts.namespaces, names)
    loader.create_all(data["Namespace"])
    timings["nodes_namespaces_s"] = time.monotonic() - t0
    for kind in ("Service", "NetworkPolicy", "IngressClass", "Ingress", "Pod"):
        t1 = time.monotonic()
        loader.create_all(data[kind])
        timings[f"create_{kind.lower()}s_s"] = time.monotonic() - t1
        log(f"  created {len(data[kind])} {kind} objects in {timings[f'create_{kind.lower()}s_s']:.1f} s")
    ours = {n["metadata"]["name"] for n in data["Namespace"]}

    def mine(obj):
        return obj["metadata"].get("namespace") in ours

    timings["kwok_running_s"] = wait_for(
        "pods Running with an IP (kwok)",
        lambda: loader.count("v1", "pods", predicate=lambda p: mine(p) and p["status"].get("phase") == "Running" and p["status"].get("podIP")),
        len(data["Pod"]), 1800, log)
    # every pod a Service selects is an endpoint (ready or not) once it has an IP
    selected = {(s["metadata"]["namespace"], s["spec"]["selector"]["app"]) for s in data["Service"]}
    expected = sum(1 for p in data["Pod"] if (p["metadata"]["namespace"], p["metadata"]["labels"]["app"]) in selected)

    def slice_endpoints():
        total, token = 0, None
        while True:
            page = loader.request("GET", f"/apis/discovery.k8s.io/v1/endpointslices?limit={PAGE_SIZE}" + (f"&continue={token}" if token else ""))
            total += sum(len(i.get("endpoints") or []) for i in page["items"] if mine(i))
            token = page["metadata"].get("continue")
            if not token:
                return total

    def endpoints_addresses():
        total, token = 0, None
        while True:
            page = loader.request("GET", f"/api/v1/endpoints?limit={PAGE_SIZE}" + (f"&continue={token}" if token else ""))
            total += sum(len(sub.get("addresses") or []) + len(sub.get("notReadyAddresses") or [])
                         for i in page["items"] if mine(i) for sub in i.get("subsets") or [])
            token = page["metadata"].get("continue")
            if not token:
                return total

    timings["endpointslices_s"] = wait_for("endpoints in EndpointSlices (endpointslice controller)", slice_endpoints, expected, 1800, log)
    timings["endpoints_s"] = wait_for("addresses in Endpoints (endpoints controller)", endpoints_addresses, expected, 1800, log)
    timings["total_s"] = time.monotonic() - t0
    return {k: round(v, 1) for k, v in timings.items()}


# ---------------------------------------------------------------------------------------------- the measured runs


def floor_child(kubeconfig):
    """The bare LIST: collect.py's requests (kinds, scopes, Secrets metadata twice) with urllib3 + json.loads."""
    import urllib3
    import yaml

    from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import api_path
    from ansible_collections.aksnet.networking.plugins.module_utils._kube.kinds import DIAGNOSTIC_KINDS, FALLBACK_FOR

    with open(kubeconfig, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    server = config["clusters"][0]["cluster"]["server"].rstrip("/")
    token = config["users"][0]["user"]["token"]
    http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=os.environ["AKSNET_LAB_CA"], retries=False)
    started = time.perf_counter()
    kept, pages = [], 0
    # v1 Endpoints is read only when there are no EndpointSlices (kinds.FALLBACK_FOR); the loaded cluster has them
    lists = [(api_path(v, plural, only_ns if namespaced else None), None, None) for v, kind, plural, namespaced, only_ns, _opt in DIAGNOSTIC_KINDS
             if kind not in FALLBACK_FOR]
    lists += [(api_path("v1", "secrets"), PARTIAL_METADATA, None), (api_path("v1", "secrets"), PARTIAL_METADATA, "type=kubernetes.io/tls")]
    for path, accept, selector in lists:
        cont = None
        while True:
            fields = {"limit": PAGE_SIZE, **({"continue": cont} if cont else {}), **({"fieldSelector": selector} if selector else {})}
            response = http.request("GET", server + path, fields=fields, headers={"Authorization": f"Bearer {token}",
                                                                                  "Accept": accept or "application/json"}, timeout=120)
            pages += 1
            if response.status == 404:
                break  # a CRD that is not installed: one request, as collect.py makes
            page = json.loads(response.data)
            kept.extend(page.get("items") or [])
            cont = (page.get("metadata") or {}).get("continue")
            if not cont:
                break
    return {"wall_s": time.perf_counter() - started, "pages": pages, "objects": len(kept)}


def split_child():
    """Where the diagnose module's time goes: its collection (requests, JSON decoding) against the analysis, in one process."""
    started = time.perf_counter()
    from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics
    from ansible_collections.aksnet.networking.plugins.module_utils._diag.index import Index
    from ansible_collections.aksnet.networking.plugins.module_utils._diag.source import gather
    from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeClient

    client = KubeClient({"kubeconfig": os.environ["K8S_AUTH_KUBECONFIG"], "request_timeout": 120})
    t1 = time.perf_counter()
    data = gather(client=client, page_size=PAGE_SIZE)
    t2 = time.perf_counter()
    index = Index(data["objects"], data["skipped"])
    t3 = time.perf_counter()
    run_diagnostics(index)
    t4 = time.perf_counter()
    return {"imports_client_s": t1 - started, "collect_s": t2 - t1, "index_s": t3 - t2, "analysis_s": t4 - t3, "objects": len(data["objects"])}


def timed_process(argv, env=None):
    """Run argv; wall time and the peak RSS (MB) of the process and its children (wait4)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    out = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)
    reader.start()
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed (rc {proc.returncode}): {err.decode()[-3000:]} {out[0].decode()[-3000:] if out else ''}")
    return wall, usage.ru_maxrss / 1024, out[0].decode()


PLAYBOOK = """
- name: Diagnose the live cluster, as a user runs it
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Diagnose
      aksnet.networking.diagnose: {}
      register: diag
    - name: Findings
      ansible.builtin.debug:
        msg: "BENCH {{ {'findings': diag.diagnostics.findings | length, 'api_requests': diag.api_requests} | to_json }}"
"""


def measure(lab, directory, repeats, log):
    env = dict(os.environ, **lab.env)
    results = {}

    def proxy_requests():
        reqs = lab.kube.requests
        lab.kube.clear_requests()
        lists = [r for r in reqs if r["method"] == "GET" and "limit" in r["query"]]
        return {"requests": len(reqs), "list_pages": len(lists), "other": [f"{r['method']} {r['path']}" for r in reqs if r not in lists]}

    def record(key, wall, rss, counted, extra=None):
        results.setdefault(key, []).append({"wall_s": wall, "peak_rss_mb": rss, **counted, **(extra or {})})
        log(f"  {key}: {wall:.2f} s, {counted['requests']} requests ({counted['list_pages']} LIST pages), peak RSS {rss:.0f} MB")

    for round_no in range(repeats):
        log(f" round {round_no + 1}/{repeats}")
        lab.kube.clear_requests()
        wall, rss, out = timed_process([sys.executable, os.path.abspath(__file__), "--child-floor", lab.env["K8S_AUTH_KUBECONFIG"]], env)
        child = json.loads(out.strip().splitlines()[-1])
        record("floor", child["wall_s"], rss, proxy_requests(), {"pages_made": child["pages"], "objects": child["objects"],
                                                                  "process_wall_s": wall})
        dest = os.path.join(directory, "bench.snapshot.json")
        wall, rss, out = timed_process([sys.executable, os.path.join(MODULES, "snapshot.py"), _args_file(directory, {"dest": dest})], env)
        snap = json.loads(out.strip().splitlines()[-1])
        record("snapshot", wall, rss, proxy_requests(), {"module_api_requests": snap.get("api_requests"),
                                                          "snapshot_mb": round(os.path.getsize(dest) / 1e6, 1)})
        wall, rss, out = timed_process([sys.executable, os.path.join(MODULES, "diagnose.py"), _args_file(directory, {})], env)
        diag = json.loads(out.strip().splitlines()[-1])
        summary = diag["diagnostics"]["summary"]
        record("diagnose", wall, rss, proxy_requests(), {"module_api_requests": diag.get("api_requests"),
                                                          "findings": {k: summary[k] for k in ("errors", "warnings", "infos")}})
    wall, rss, out = timed_process([sys.executable, os.path.abspath(__file__), "--child-split"], env)
    split = json.loads(out.strip().splitlines()[-1])
    record("diagnose_split", wall, rss, proxy_requests(), {"split": {k: round(v, 2) if isinstance(v, float) else v for k, v in split.items()}})
    book = os.path.join(directory, "diagnose.yml")
    with open(book, "w", encoding="utf-8") as handle:
        handle.write(PLAYBOOK)
    playbook_env = dict(env, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
                        ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    wall, rss, out = timed_process([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), book], playbook_env)
    record("diagnose_playbook", wall, rss, proxy_requests())
    return results


IMPORT_NOISE = ("importlib", "builtins.exec", "builtins.__import__", "(<module>)", "builtins.hasattr", "__getattr__", "import_module")


def profile_modules(lab, directory, top=18):
    """cProfile of the snapshot and diagnose module files on the loaded cluster: the top functions by cumulative time."""
    import io
    import pstats

    env = dict(os.environ, **lab.env)
    out = {}
    for name, args in (("snapshot", {"dest": os.path.join(directory, "profile.snapshot.json")}), ("diagnose", {})):
        stats_file = os.path.join(directory, f"{name}.prof")
        timed_process([sys.executable, "-m", "cProfile", "-o", stats_file, os.path.join(MODULES, f"{name}.py"), _args_file(directory, args)], env)
        parts = []
        for order in ("cumulative", "tottime"):
            text = io.StringIO()
            pstats.Stats(stats_file, stream=text).strip_dirs().sort_stats(order).print_stats(top * 4)
            lines = [line for line in text.getvalue().splitlines()
                     if line.strip() and not line.startswith(("   Ordered", "   List", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed", "Thu"))
                     and not any(noise in line for noise in IMPORT_NOISE)]
            parts.append(f"-- by {order}:\n" + "\n".join(lines[:top + 2]))
        out[name] = "\n".join(parts)
    lab.kube.clear_requests()
    return out


def _peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return None


def _args_file(directory, args):
    path = os.path.join(directory, f"args-{time.monotonic_ns()}.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    return path


def summarize(results):
    out = {}
    for key, runs in results.items():
        row = {"runs": len(runs), "wall_s": round(statistics.median(r["wall_s"] for r in runs), 2),
               "wall_s_each": [round(r["wall_s"], 2) for r in runs], "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
               "requests": runs[-1]["requests"], "list_pages": runs[-1]["list_pages"], "other_requests": runs[-1]["other"]}
        for extra in ("pages_made", "objects", "module_api_requests", "snapshot_mb", "findings", "split"):
            if extra in runs[-1]:
                row[extra] = runs[-1][extra]
        out[key] = row
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kube", choices=["real"], default="real", help="the lab back end (the emulator's live figures: bench_diagnose.py --live)")
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--services", type=int, default=3000)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document at the end")
    parser.add_argument("--profile", action="store_true", help="then run the snapshot and diagnose modules under cProfile and print where the time goes")
    parser.add_argument("--child-floor", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--child-split", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child_floor:
        sys.stdout.write(json.dumps(floor_child(opts.child_floor)) + "\n")
        return 0
    if opts.child_split:
        sys.stdout.write(json.dumps(split_child()) + "\n")
        return 0

    from tests.lab.real_kube import binaries_dir, binaries_missing

    missing = binaries_missing()
    if missing:
        print(f"bench_live: skipped: {', '.join(missing)} not built in {binaries_dir()} (make lab-binaries builds them; needs Go)")
        return 0
    from tests.lab.lab import Lab

    def log(text):
        print(text, flush=True)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as directory:
        lab = Lab(os.path.join(directory, "lab"), kube="real").start()
        try:
            log(f"bench_live: real control plane up in {lab.kube.timings.get('start_s')} s; loading {opts.pods} pods, {opts.services} services, "
                f"{opts.policies} policies in {opts.namespaces} namespaces on {opts.nodes} nodes")
            loaded = load(lab, opts, log)
            log(f"loaded: {loaded}")
            results = summarize(measure(lab, directory, opts.repeats, log))
            rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            control_plane = {name: _peak_rss_mb(proc.pid) for name, proc in lab.kube._procs}  # pylint: disable=protected-access
            profiles = profile_modules(lab, directory) if opts.profile else {}
        finally:
            lab.stop()
    floor, diag = results["floor"], results["diagnose"]
    goals = {
        "diagnose_vs_floor": round(diag["wall_s"] / floor["wall_s"], 2),
        "diagnose_within_2x_floor": diag["wall_s"] <= 2 * floor["wall_s"],
        "diagnose_requests_equal_pages": diag["requests"] == floor["pages_made"] == floor["requests"],
        "snapshot_requests_equal_pages": results["snapshot"]["requests"] == floor["pages_made"],
    }
    w = sys.stdout.write
    w(f"\nreal control plane, {opts.pods} pods / {opts.services} services / {opts.policies} policies / {opts.namespaces} namespaces / {opts.nodes} nodes, "
      f"page size {PAGE_SIZE}, median of {opts.repeats}\n")
    w("run               | wall s | requests (LIST pages) | peak RSS MB | notes\n")
    for key, label in (("floor", "bare LIST (floor)"), ("snapshot", "snapshot module"), ("diagnose", "diagnose module"),
                       ("diagnose_split", "diagnose, split"), ("diagnose_playbook", "diagnose playbook")):
        r = results[key]
        notes = {k: r[k] for k in ("objects", "module_api_requests", "snapshot_mb", "findings", "split") if k in r}
        if r["other_requests"]:
            notes["non_list"] = r["other_requests"][:5]
        w(f"{label:<17} | {r['wall_s']:>6} | {r['requests']:>8} ({r['list_pages']:>4})       | {r['peak_rss_mb']:>11} | {notes}\n")
    w(f"goals: diagnose {goals['diagnose_vs_floor']}x the floor (<= 2: {goals['diagnose_within_2x_floor']}); requests equal to the pages: "
      f"diagnose {goals['diagnose_requests_equal_pages']}, snapshot {goals['snapshot_requests_equal_pages']}\n")
    w(f"load (s): {loaded}\npeak RSS MB of the control plane: {control_plane}; of the bench process (the lab's front proxy): {rss_self:.0f}\n"
      f"total {time.monotonic() - started:.0f} s\n")
    for name, text in profiles.items():
        w(f"\n{name} under cProfile (cumulative, top functions):\n{text}\n")
    if opts.json:
        w(json.dumps({"load": loaded, "results": results, "goals": goals, "control_plane_peak_rss_mb": control_plane}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark (not a test): diagnostics on synthetic clusters of three sizes, live mode against the lab
emulator, and the netpol_check matrix.

Run from the repository root:  .venv/bin/python tests/perf/bench_diagnose.py
(``--size small|mid|large`` measures one size; the default run measures each in its own process so
peak memory is per size.) Targets: diagnose within 2x the snapshot parse time at every size; live
mode makes one request per kind and page; the 1,000 pods x 300 policies matrix under 10 s;
``--playbook``: the diagnose task's wall time minus a stat task's, through ansible-playbook, against a
plain ``json.load`` of the same large snapshot (goal <= 2x); once run in the worker by the action plugin
(the controller's Python) and once through the module (another path to the same Python).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics  # noqa: E402
from ansible_collections.aksnet.networking.plugins.module_utils._diag.index import Index  # noqa: E402
from ansible_collections.aksnet.networking.plugins.module_utils._diag.reachability import build_evaluator, service_reachability  # noqa: E402
from ansible_collections.aksnet.networking.plugins.module_utils._diag.snapshot_io import load_snapshot, render_snapshot  # noqa: E402

# name: (pods, services, network policies, namespaces)
SIZES = {
    "small": (1000, 300, 100, 20),
    "mid": (3000, 1000, 300, 60),
    "large": (10000, 3000, 1000, 200),
}
NODES = 50
REPEATS = 5


def _pod(name, ns, labels, node, ip, port, ready=True, owner=None):
    meta = {"name": name, "namespace": ns, "labels": labels, "uid": f"uid-{ns}-{name}"}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner, "controller": True}]
    status = {
        "phase": "Running",
        "podIP": ip,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}, {"type": "ContainersReady", "status": "True" if ready else "False"}],
        "containerStatuses": [{"name": "app", "ready": ready, "restartCount": 0 if ready else 9,
                               "state": {"running": {}} if ready else {"waiting": {"reason": "CrashLoopBackOff"}}}],
    }
    spec = {"nodeName": node, "containers": [{"name": "app", "image": "app:1", "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}]}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def synthetic_cluster(pods, services, policies, namespaces, seed=7, endpoints=True):
    """A cluster of that size: kube-system healthy, apps spread over namespaces, a few broken things."""
    rnd = random.Random(seed)
    objs = []
    nss = [f"team-{i:03d}" for i in range(namespaces)]
    for name in ["default", "kube-system", *nss]:
        objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"team": name.split("-")[-1]}}})
    nodes = [f"aks-pool-{i:04d}" for i in range(NODES)]
    for node in nodes:
        objs.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node},
                     "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "NetworkUnavailable", "status": "False"}]}})
    # kube-system
    for i in range(2):
        objs.append(_pod(f"coredns-abc12-{i}", "kube-system", {"k8s-app": "kube-dns", "pod-template-hash": "abc12"}, nodes[i],
                         f"10.244.255.{i + 1}", 53, owner="coredns-abc12"))
    objs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "namespace": "kube-system"},
                 "spec": {"clusterIP": "10.0.0.10", "selector": {"k8s-app": "kube-dns"},
                          "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}]}})
    objs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "coredns", "namespace": "kube-system"},
                 "spec": {"replicas": 2}, "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2}})
    for ds in ("kube-proxy", "azure-cns"):
        objs.append({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": ds, "namespace": "kube-system"},
                     "status": {"desiredNumberScheduled": NODES, "numberReady": NODES, "numberAvailable": NODES}})
    # apps: a Deployment = "app-<n>" with 1-5 pods, one Service per app until the service budget is used
    apps = []
    count = 0
    while count < pods:
        ns = nss[len(apps) % namespaces]
        app = f"app-{len(apps):05d}"
        replicas = min(rnd.randint(1, 5), pods - count)
        port = rnd.choice([8080, 8443, 9090])
        members = []
        for r in range(replicas):
            ip = f"10.{(count >> 16) & 255}.{(count >> 8) & 255}.{count & 255}"
            ready = rnd.random() > 0.01
            members.append((f"{app}-5d8f-{r:05d}", ip))
            objs.append(_pod(f"{app}-5d8f-{r:05d}", ns, {"app": app, "tier": rnd.choice(["fe", "be", "db"]), "pod-template-hash": "5d8f"},
                             rnd.choice(nodes), ip, port, ready=ready, owner=f"{app}-5d8f"))
            count += 1
        apps.append((ns, app, port, members))
    for i in range(min(services, len(apps))):
        ns, app, port, members = apps[i]
        selector = {"app": app} if rnd.random() > 0.01 else {"app": app + "-typo"}
        objs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": app, "namespace": ns},
                     "spec": {"clusterIP": f"10.0.{(i >> 8) & 255}.{i & 255}", "selector": selector,
                              "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}})
        if endpoints and selector["app"] == app:
            objs.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                         "metadata": {"name": f"{app}-x1", "namespace": ns, "labels": {"kubernetes.io/service-name": app}},
                         "addressType": "IPv4", "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
                         "endpoints": [{"addresses": [ip], "conditions": {"ready": True}, "targetRef": {"kind": "Pod", "name": name, "namespace": ns}}
                                       for name, ip in members]})
    for i in range(policies):
        ns, app, _port, _members = apps[rnd.randrange(len(apps))]
        other = apps[rnd.randrange(len(apps))]
        peer = rnd.choice([
            {"podSelector": {"matchLabels": {"app": other[1]}}},
            {"namespaceSelector": {"matchLabels": {"team": other[0].split("-")[-1]}}},
            {"namespaceSelector": {}, "podSelector": {"matchLabels": {"tier": "fe"}}},
        ])
        spec = {"podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [peer], "ports": [{"port": "http"}]}]}
        if i % 10 == 0:
            spec["policyTypes"].append("Egress")
            spec["egress"] = [{"to": [peer]}, {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                                               "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]
        objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": f"np-{i:05d}", "namespace": ns}, "spec": spec})
    for i in range(max(1, len(apps) // 50)):
        ns, app, _port, _members = apps[i]
        objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": app, "namespace": ns},
                     "spec": {"ingressClassName": "nginx", "rules": [{"host": f"{app}.example.com", "http": {"paths": [
                         {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": app, "port": {"number": 80}}}}]}}]},
                     "status": {"loadBalancer": {"ingress": [{"ip": "20.0.0.1"}]}}})
    objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}})
    return objs


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure_size(name, directory):
    pods, services, policies, namespaces = SIZES[name]
    objs = synthetic_cluster(pods, services, policies, namespaces)
    path = os.path.join(directory, f"{name}.snapshot.json")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_snapshot(objs, None, {"skipped": {}}))
    del objs
    size_mb = os.path.getsize(path) / 1e6
    # Median of REPEATS load+diagnose rounds: single runs of the small size (tens of ms) are
    # dominated by scheduling noise on a 2-core machine.
    parses, runs = [], []
    for _round in range(REPEATS):
        t0 = time.perf_counter()
        snap = load_snapshot(path)
        t1 = time.perf_counter()
        diag = run_diagnostics(snap["objects"], skipped_kinds=snap["info"].get("skipped"))
        t2 = time.perf_counter()
        parses.append(t1 - t0)
        runs.append(t2 - t1)
    index = Index(snap["objects"])
    ev, _settings = build_evaluator(index)
    reach = service_reachability(ev, index)
    t3 = time.perf_counter()
    parse, run = statistics.median(parses), statistics.median(runs)
    return {
        "size": name, "pods": pods, "services": services, "policies": policies, "namespaces": namespaces,
        "objects": len(snap["objects"]), "snapshot_mb": round(size_mb, 1),
        "parse_s": round(parse, 3), "diagnose_s": round(run, 3), "ratio": round(run / parse, 2),
        "report_reachability_s": round(t3 - t2, 3), "repeats": REPEATS, "reachability_namespaces": len(reach),
        "findings": {k: diag["summary"][k] for k in ("errors", "warnings", "infos")},
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def measure_live(name="mid"):
    """The lab emulator loaded with a size's objects; a live collect + diagnose through KubeClient."""
    from ansible_collections.aksnet.networking.plugins.module_utils._diag.source import gather
    from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeClient
    from ansible_collections.aksnet.networking.plugins.module_utils._kube.kinds import DIAGNOSTIC_KINDS
    from tests.lab.lab import Lab

    pods, services, policies, namespaces = SIZES[name]
    # Endpoints and EndpointSlices are computed by the emulator's controller from Services and pods.
    objs = synthetic_cluster(pods, services, policies, namespaces, endpoints=False)
    with tempfile.TemporaryDirectory() as directory:
        lab = Lab(directory).start()
        try:
            t0 = time.perf_counter()
            lab.kube.load_objects(objs)
            t1 = time.perf_counter()
            lab.kube.clear_requests()
            page_size = 500
            client = KubeClient({"kubeconfig": lab.env["K8S_AUTH_KUBECONFIG"], "request_timeout": 120})
            t2 = time.perf_counter()
            data = gather(client=client, page_size=page_size)
            t3 = time.perf_counter()
            diag = run_diagnostics(Index(data["objects"], data["skipped"]))
            t4 = time.perf_counter()
            expected = 0
            for api_version, _kind, plural, namespaced, only_ns, _optional in DIAGNOSTIC_KINDS:
                group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
                n = len(lab.kube.objects(plural, namespace=only_ns if namespaced else None, group=group))
                expected += max(1, math.ceil(n / page_size))
            per_object = [r for r in lab.kube.requests if r["method"] != "GET" or "limit" not in r["query"]]
        finally:
            lab.stop()
    return {
        "size": name, "objects": len(data["objects"]), "load_into_lab_s": round(t1 - t0, 2),
        "api_requests": data["api_requests"], "expected_list_pages": expected, "non_list_requests": len(per_object),
        "collect_s": round(t3 - t2, 3), "diagnose_s": round(t4 - t3, 3), "wall_s": round(t4 - t2, 3),
        "findings": {k: diag["summary"][k] for k in ("errors", "warnings", "infos")},
    }


def measure_matrix(pods=1000, policies=300):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_netpol import synthetic

    from ansible_collections.aksnet.networking.plugins.module_utils._netpol.evaluate import PolicyEvaluator

    objs = synthetic(pods, policies)
    t0 = time.perf_counter()
    ev = PolicyEvaluator.from_objects(objs)
    result = ev.matrix(None, [8080])
    t1 = time.perf_counter()
    return {"pods": len(result["pods"]), "policies": policies, "pairs": len(result["pods"]) ** 2,
            "allowed": result["results"][0]["allowed_count"], "matrix_s": round(t1 - t0, 3)}


PLAYBOOK = """
- name: Time the diagnose task against a stat task
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: t0
      ansible.builtin.set_fact: {t0: "{{ now().timestamp() }}"}
    - name: Stat the snapshot (the cost of any module task)
      ansible.builtin.stat: {path: "{{ snap }}"}
    - name: t1
      ansible.builtin.set_fact: {t1: "{{ now().timestamp() }}"}
    - name: Diagnose the snapshot (the controller's Python, so in the worker)
      aksnet.networking.diagnose: {snapshot: "{{ snap }}"}
      register: diag
    - name: t2
      ansible.builtin.set_fact: {t2: "{{ now().timestamp() }}"}
    - name: Diagnose the snapshot through the module (another path to the same Python)
      aksnet.networking.diagnose: {snapshot: "{{ snap }}"}
      vars:
        ansible_python_interpreter: "{{ other_python }}"
      register: diag_module
    - name: t3
      ansible.builtin.set_fact: {t3: "{{ now().timestamp() }}"}
    - name: Times
      ansible.builtin.debug:
        msg: "BENCH {{ {'stat_s': (t1 | float) - (t0 | float), 'diagnose_s': (t2 | float) - (t1 | float),
                        'module_s': (t3 | float) - (t2 | float), 'findings': diag.diagnostics.findings | length,
                        'module_findings': diag_module.diagnostics.findings | length} | to_json }}"
"""


def _other_python():
    """A path to this venv's Python that is not sys.executable: the action plugin then runs the module."""
    here = os.path.dirname(sys.executable)
    for name in ("python3", "python", f"python{sys.version_info[0]}.{sys.version_info[1]}"):
        path = os.path.join(here, name)
        if os.path.exists(path) and os.path.normpath(path) != os.path.normpath(sys.executable):
            return path
    raise SystemExit("no second path to this Python in " + here)


def measure_playbook(name="large"):
    """DIAGNOSE task wall time minus a stat task's, through ansible-playbook, against a plain json.load (15.13).

    Both paths: in the worker (the action plugin, the controller's Python) and the module (another interpreter path).
    """
    pods, services, policies, namespaces = SIZES[name]
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, f"{name}.snapshot.json")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(render_snapshot(synthetic_cluster(pods, services, policies, namespaces), None, {"skipped": {}}))
        loads = []
        for _round in range(REPEATS):
            t0 = time.perf_counter()
            with open(path, encoding="utf-8") as handle:
                json.load(handle)
            loads.append(time.perf_counter() - t0)
        book = os.path.join(directory, "bench.yml")
        with open(book, "w", encoding="utf-8") as handle:
            handle.write(PLAYBOOK)
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
        out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), book, "-e", f"snap={path}",
                              "-e", f"other_python={_other_python()}"],
                             capture_output=True, text=True, check=True, cwd=ROOT, env=env, timeout=900).stdout
        line = next(x for x in out.splitlines() if "BENCH " in x)
        timed = json.loads(line.split("BENCH ", 1)[1].rstrip('"').replace('\\"', '"'))
    load = statistics.median(loads)
    task = timed["diagnose_s"] - timed["stat_s"]
    return {"size": name, "json_load_s": round(load, 3), "stat_task_s": round(timed["stat_s"], 3), "diagnose_task_s": round(timed["diagnose_s"], 3),
            "ratio": round(task / load, 2), "findings": timed["findings"],
            "module_task_s": round(timed["module_s"], 3), "module_ratio": round((timed["module_s"] - timed["stat_s"]) / load, 2),
            "module_findings": timed["module_findings"]}


def _child(args):
    cmd = [sys.executable, os.path.abspath(__file__), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES))
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--matrix", action="store_true")
    parser.add_argument("--playbook", action="store_true", help="the diagnose task through ansible-playbook at the large size")
    opts = parser.parse_args()
    if opts.playbook:
        sys.stdout.write(json.dumps(measure_playbook()) + "\n")
        return
    if opts.size or opts.live or opts.matrix:
        with tempfile.TemporaryDirectory() as directory:
            if opts.size:
                result = measure_size(opts.size, directory)
            elif opts.live:
                result = measure_live()
            else:
                result = measure_matrix()
        sys.stdout.write(json.dumps(result) + "\n")
        return
    start = time.perf_counter()
    w = sys.stdout.write
    w(f"snapshot, median of {REPEATS} rounds:\n")
    w("size | pods svcs netpols ns | objects  MB | parse s | diagnose s | ratio | report reachability s | peak RSS MB | findings\n")
    for name in SIZES:
        r = _child(["--size", name])
        w(f"  {r['size']:<5} | {r['pods']:>5} {r['services']:>4} {r['policies']:>4} {r['namespaces']:>3} | {r['objects']:>6} {r['snapshot_mb']:>5} | "
          f"{r['parse_s']:>7} | {r['diagnose_s']:>10} | {r['ratio']:>5} | {r['report_reachability_s']:>21} | {r['peak_rss_mb']:>11} | {r['findings']}\n")
    r = _child(["--live"])
    w(f"live ({r['size']}, lab emulator): {r['objects']} objects, {r['api_requests']} API requests (expected LIST pages: {r['expected_list_pages']}, "
      f"non-LIST requests: {r['non_list_requests']}), collect {r['collect_s']} s + diagnose {r['diagnose_s']} s = {r['wall_s']} s wall "
      f"(loading the emulator took {r['load_into_lab_s']} s)\n")
    r = _child(["--matrix"])
    w(f"netpol matrix: {r['pods']} pods x {r['policies']} policies, one port: {r['pairs']} pairs in {r['matrix_s']} s "
      f"({r['allowed']} allowed; target < 10 s)\n")
    r = _child(["--playbook"])
    w(f"through ansible-playbook ({r['size']}): diagnose task {r['diagnose_task_s']} s - stat task {r['stat_task_s']} s vs json.load "
      f"{r['json_load_s']} s: ratio {r['ratio']} (target <= 2; {r['findings']} findings registered); through the module (another "
      f"interpreter path) {r['module_task_s']} s: ratio {r['module_ratio']} ({r['module_findings']} findings)\n")
    w(f"total {time.perf_counter() - start:.1f} s\n")


if __name__ == "__main__":
    main()

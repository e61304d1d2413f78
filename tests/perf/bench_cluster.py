# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark (not a test): an idempotent ``cluster`` task and a ``cluster_info`` task against the lab.

Starts the lab in-process, creates a cluster with the ``cluster`` module, then runs each task RUNS times
with ``ansible localhost -m`` and reports the median wall time and the ARM requests each run made (from
the lab's request log). Also runs the ``cluster`` module once under ``python -X importtime`` and reports
whether azure.mgmt.network or kubernetes were imported (they must not be).

Run: .venv/bin/python tests/perf/bench_cluster.py [runs]
Targets: one GET and no PUT per idempotent run; neither SDK imported.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
BIN = os.path.dirname(sys.executable)

from tests.lab.lab import Lab  # noqa: E402

CLUSTER_ARGS = {
    "resource_group": "lab-rg",
    "name": "bench-aks",
    "location": "westeurope",
    "system_pool": {"name": "system", "count": 3, "max_pods": 250},
    "network": {
        "plugin": "azure",
        "plugin_mode": "overlay",
        "dataplane": "cilium",
        "policy": "cilium",
        "pod_cidr": "192.168.0.0/16",
        "service_cidr": "10.0.0.0/16",
        "dns_service_ip": "10.0.0.10",
    },
    "tags": {"bench": "true"},
    "wait_timeout": 120,
}
INFO_ARGS = {"resource_group": "lab-rg", "name": "bench-aks"}


def _env(lab):
    env = dict(os.environ)
    env.update(lab.env)
    env.update(
        {
            "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "PATH": BIN + os.pathsep + env.get("PATH", ""),
        }
    )
    return env


def adhoc(lab, module, args):
    """One ``ansible localhost -m`` run; returns (seconds, parsed result, ARM requests made)."""
    lab.arm.clear_requests()
    cmd = [os.path.join(BIN, "ansible"), "localhost", "-m", f"aksnet.networking.{module}", "-a", json.dumps(args), "-o"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(lab), capture_output=True, text=True, timeout=300, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{module} failed (rc {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    payload = proc.stdout.split("=>", 1)[1].strip()
    return elapsed, json.loads(payload), lab.arm.requests


def imported_sdks(lab, args):
    """Run the cluster module directly under -X importtime; the heavy SDKs it imported."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
        path = handle.name
    try:
        cmd = [sys.executable, "-X", "importtime", "-m", "ansible_collections.aksnet.networking.plugins.modules.cluster", path]
        proc = subprocess.run(cmd, cwd=ROOT, env=_env(lab), capture_output=True, text=True, timeout=300, check=False)
    finally:
        os.unlink(path)
    result = json.loads(proc.stdout)
    names = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    heavy = sorted(n for n in names if n == "kubernetes" or n.startswith(("azure.mgmt.network", "kubernetes.")))
    containerservice = any(n.startswith("azure.mgmt.containerservice") for n in names)
    return result, heavy, containerservice


def describe(requests):
    return ", ".join(f"{r['method']} {r['path'].rsplit('/', 2)[-2]}/{r['path'].rsplit('/', 1)[-1]}" for r in requests) or "none"


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory(prefix="aksnet-bench-") as directory:
        lab = Lab(directory).start()
        try:
            seconds, created, _reqs = adhoc(lab, "cluster", CLUSTER_ARGS)
            assert created["changed"], created
            sys.stdout.write(f"created {created['cluster']['name']} in {seconds:.2f} s (not timed below)\n")
            rows = []
            for module, args in (("cluster", CLUSTER_ARGS), ("cluster_info", INFO_ARGS)):
                times, counts, writes, last = [], [], [], []
                for _run in range(runs):
                    seconds, result, requests = adhoc(lab, module, args)
                    assert not result["changed"], f"{module} reported a change on an idempotent run"
                    times.append(seconds)
                    counts.append(len(requests))
                    writes.append(sum(1 for r in requests if r["method"] != "GET"))
                    last = requests
                rows.append((module, statistics.median(times), min(times), max(times), counts, writes, describe(last)))
            for module, median, low, high, counts, writes, reqs in rows:
                sys.stdout.write(
                    f"{module:<13} median {median:.2f} s (min {low:.2f}, max {high:.2f}, {runs} runs); "
                    f"ARM requests per run {sorted(set(counts))}, writes {sorted(set(writes))}: {reqs}\n"
                )
            result, heavy, containerservice = imported_sdks(lab, CLUSTER_ARGS)
            assert not result.get("changed") and not result.get("failed"), result
            sys.stdout.write(
                f"cluster module imports: azure.mgmt.network / kubernetes {'NOT imported' if not heavy else 'IMPORTED: ' + ', '.join(heavy)}; "
                f"azure.mgmt.containerservice {'imported' if containerservice else 'not imported'} (python -X importtime, idempotent run)\n"
            )
        finally:
            lab.stop()


if __name__ == "__main__":
    main()

# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark (not a test): netpol matrix for 1,000 pods x 300 policies on one port.

Run: /tmp/probe-venv/bin/python tests/perf/bench_netpol.py [pods] [policies]
Target: well under 10 s on a 2-core machine.
"""

from __future__ import annotations

import random
import sys
import time

from ansible_collections.aksnet.networking.plugins.module_utils._netpol.evaluate import PolicyEvaluator


def synthetic(pods=1000, policies=300, namespaces=20, seed=1):
    rnd = random.Random(seed)
    nss = [f"ns{i}" for i in range(namespaces)]
    apps = [f"app{i}" for i in range(40)]
    objs = [{"kind": "Namespace", "metadata": {"name": n, "labels": {"team": f"t{i % 5}"}}} for i, n in enumerate(nss)]
    for i in range(pods):
        objs.append({"kind": "Pod", "metadata": {"namespace": rnd.choice(nss), "name": f"pod{i}",
                                                 "labels": {"app": rnd.choice(apps), "tier": rnd.choice(["fe", "be", "db"])}},
                     "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
                     "status": {"phase": "Running"}})
    for i in range(policies):
        ns = rnd.choice(nss)
        peers = [rnd.choice([
            {"podSelector": {"matchLabels": {"app": rnd.choice(apps)}}},
            {"namespaceSelector": {"matchLabels": {"team": f"t{rnd.randrange(5)}"}}},
            {"namespaceSelector": {}, "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]}},
            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
        ]) for _ in range(2)]
        ports = rnd.choice([[{"port": 8080}], [{"port": "http"}], [{"port": 8000, "endPort": 9000}], None])
        spec = {"podSelector": rnd.choice([{}, {"matchLabels": {"app": rnd.choice(apps)}}, {"matchLabels": {"tier": "db"}}])}
        if i % 3 == 0:
            spec["policyTypes"] = ["Ingress", "Egress"]
            spec["egress"] = [{"to": peers, **({"ports": ports} if ports else {})}, {"ports": [{"port": 53, "protocol": "UDP"}]}]
        spec["ingress"] = [{"from": peers, **({"ports": ports} if ports else {})}]
        objs.append({"kind": "NetworkPolicy", "metadata": {"namespace": ns, "name": f"np{i}"}, "spec": spec})
    return objs


def main():
    pods = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    policies = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    objs = synthetic(pods, policies)
    t0 = time.perf_counter()
    ev = PolicyEvaluator.from_objects(objs)
    t1 = time.perf_counter()
    result = ev.matrix(None, [8080])
    t2 = time.perf_counter()
    res = result["results"][0]
    total = len(result["pods"]) ** 2
    sys.stdout.write(f"pods={len(result['pods'])} policies={policies} pairs={total} allowed={res['allowed_count']}\n")
    sys.stdout.write(f"build {t1 - t0:.3f} s, matrix {t2 - t1:.3f} s, total {t2 - t0:.3f} s (target < 10 s)\n")


if __name__ == "__main__":
    main()

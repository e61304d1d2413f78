"""Run the local AKS lab.

  python -m tests.lab up --dir DIR [--scenario FILE] [--empty] [--kube emulator|real]
                                                                  start both servers in the background, write DIR/env.sh
  python -m tests.lab down --dir DIR                              stop them
  python -m tests.lab serve --dir DIR [--scenario FILE] [--empty] run in the foreground (what `up` starts)
  python -m tests.lab apply --dir DIR [--set K=V] FILE...         create or replace the objects of YAML files through
                                                                  the Kubernetes API, as `kubectl apply` would

--empty: Azure holds lab-rg and lab-vnet only; the cluster lab-aks (and the Kubernetes objects of a fresh
AKS cluster of its dataplane) appears when something creates it, e.g. playbooks/provision.yml.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time


def _pidfile(directory):
    return os.path.join(directory, "lab.pid")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def serve(args):
    from .lab import Lab

    lab = Lab(args.dir, scenario=args.scenario, cluster=not args.empty, kube=args.kube).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"lab: ARM {lab.env['AKSNET_LAB_ARM_URL']}  Kubernetes {lab.env['AKSNET_LAB_KUBE_URL']}", flush=True)
    stop.wait()
    lab.stop()
    return 0


def up(args):
    directory = os.path.abspath(args.dir)
    os.makedirs(directory, exist_ok=True)
    down(args, quiet=True)
    env_file = os.path.join(directory, "env.sh")
    if os.path.exists(env_file):
        os.unlink(env_file)
    cmd = [sys.executable, "-m", "tests.lab", "serve", "--dir", directory]
    if args.scenario:
        cmd += ["--scenario", os.path.abspath(args.scenario)]
    if args.empty:
        cmd.append("--empty")
    cmd += ["--kube", args.kube]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(directory, "lab.log"), "ab") as log:
        proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    with open(_pidfile(directory), "w", encoding="utf-8") as handle:
        handle.write(str(proc.pid))
    deadline = time.monotonic() + (180 if args.kube == "real" else 60)
    while time.monotonic() < deadline:
        if os.path.exists(env_file):
            print(f"lab: up (pid {proc.pid}); source {env_file}")
            return 0
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    print(f"lab: failed to start, see {os.path.join(directory, 'lab.log')}", file=sys.stderr)
    return 1


def down(args, quiet=False):
    pidfile = _pidfile(os.path.abspath(args.dir))
    if not os.path.exists(pidfile):
        if not quiet:
            print("lab: not running")
        return 0
    with open(pidfile, encoding="utf-8") as handle:
        pid = int(handle.read().strip() or 0)
    if pid and _alive(pid):
        os.kill(pid, signal.SIGTERM)
        for _ in range(300):
            if not _alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    os.unlink(pidfile)
    # the real control plane's components run in their own sessions: none may outlive the lab
    components = os.path.join(os.path.abspath(args.dir), "real", "pids")
    if os.path.exists(components):
        with open(components, encoding="utf-8") as handle:
            for line in handle:
                if line.strip().isdigit() and _alive(int(line)):
                    os.killpg(int(line), signal.SIGKILL)
        os.unlink(components)
    if not quiet:
        print("lab: down")
    return 0


def apply(args):
    """``kubectl apply`` for the lab: GET each object, then PUT it (with the stored resourceVersion) or POST it."""
    import base64
    import json
    import ssl
    import string
    import tempfile
    import urllib.error
    import urllib.parse
    import urllib.request

    import yaml

    with open(os.path.join(os.path.abspath(args.dir), "kubeconfig"), encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    server = config["clusters"][0]["cluster"]["server"]
    token = config["users"][0]["user"]["token"]
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as ca:
        ca.write(base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode())
    context = ssl.create_default_context(cafile=ca.name)
    os.unlink(ca.name)
    values = dict(item.split("=", 1) for item in args.set or [])

    def call(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(server + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def collection_path(obj):
        api_version, kind = obj["apiVersion"], obj["kind"]
        base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        status, resources = call("GET", base)
        if status != 200:
            raise SystemExit(f"apply: the cluster does not serve {api_version} ({status})")
        for resource in resources.get("resources", []):
            if resource.get("kind") == kind and "/" not in resource["name"]:
                namespace = (obj.get("metadata") or {}).get("namespace") or "default"
                return f"{base}/namespaces/{namespace}/{resource['name']}" if resource.get("namespaced") else f"{base}/{resource['name']}"
        raise SystemExit(f"apply: the cluster does not serve kind {kind} in {api_version}")

    failed = 0
    for path in args.files:
        with open(path, encoding="utf-8") as handle:
            text = string.Template(handle.read()).substitute(values) if values else handle.read()
        for document in yaml.safe_load_all(text):
            for obj in document if isinstance(document, list) else [document] if document else []:
                collection = collection_path(obj)
                name = obj["metadata"]["name"]
                status, current = call("GET", f"{collection}/{urllib.parse.quote(name)}")
                if status == 200:
                    obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                    status, answer = call("PUT", f"{collection}/{urllib.parse.quote(name)}", obj)
                    verb = "configured"
                else:
                    status, answer = call("POST", collection, obj)
                    verb = "created"
                label = f"{obj['kind'].lower()}/{name}"
                if status >= 400:
                    failed += 1
                    print(f"apply: {label}: {status} {answer.get('reason', '')}: {answer.get('message', '')}", file=sys.stderr)
                else:
                    print(f"{label} {verb}")
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "serve", "down", "apply"):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True, help="directory for certificates, kubeconfig, env.sh, pid and log")
        if name in ("up", "serve"):
            p.add_argument("--scenario", help="snapshot-format file of Kubernetes objects to load into the emulator")
            p.add_argument("--empty", action="store_true", help="start without the cluster lab-aks (a demo provisions it)")
            p.add_argument("--kube", choices=("emulator", "real"), default=os.environ.get("AKSNET_LAB_KUBE") or "emulator",
                           help="Kubernetes back end: the emulator (default) or the real control plane built by make lab-binaries")
        if name == "apply":
            p.add_argument("--set", action="append", metavar="KEY=VALUE", help="replace ${KEY} in the files")
            p.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    return {"up": up, "serve": serve, "down": down, "apply": apply}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

"""Run the local AKS lab.

  python -m tests.lab up --dir DIR [--scenario FILE]   start both servers in the background, write DIR/env.sh
  python -m tests.lab down --dir DIR                   stop them
  python -m tests.lab serve --dir DIR [--scenario FILE] run in the foreground (what `up` starts)
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

    lab = Lab(args.dir, scenario=args.scenario).start()
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
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(directory, "lab.log"), "ab") as log:
        proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    with open(_pidfile(directory), "w", encoding="utf-8") as handle:
        handle.write(str(proc.pid))
    deadline = time.monotonic() + 60
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
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    os.unlink(pidfile)
    if not quiet:
        print("lab: down")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "serve", "down"):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True, help="directory for certificates, kubeconfig, env.sh, pid and log")
        if name != "down":
            p.add_argument("--scenario", help="snapshot-format file of Kubernetes objects to load into the emulator")
    args = parser.parse_args(argv)
    return {"up": up, "serve": serve, "down": down}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

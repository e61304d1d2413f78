"""Integration tests: real ansible-playbook runs against the local lab started in-process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    from tests.lab.lab import Lab

    started = Lab(str(tmp_path_factory.mktemp("lab"))).start()
    yield started
    started.stop()


class DemoRun:
    """One run of scripts/demo.sh (its own lab directory and output directory)."""

    def __init__(self, root_dir, mode):
        import time

        self.lab_dir, self.out = root_dir / "lab", root_dir / "out"
        started = time.monotonic()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "K8S_AUTH_", "AKSNET_LAB_"))}
        env["LAB"] = os.environ.get("AKSNET_LAB_KUBE") or "emulator"  # the suite's back end: make demo LAB=real on the real one
        self.proc = subprocess.run(["bash", "scripts/demo.sh", str(self.lab_dir), str(self.out), mode], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=900, check=False)
        self.seconds = time.monotonic() - started
        self.output = self.proc.stdout + self.proc.stderr

    def assert_ok(self):
        assert self.proc.returncode == 0, f"scripts/demo.sh failed (rc {self.proc.returncode}):\n{self.output[-8000:]}"


@pytest.fixture(scope="session")
def broken_demo(tmp_path_factory):
    """The demo as `make demo` runs it (mark tests using it with xdist_group("demo") so that it runs once)."""
    return DemoRun(tmp_path_factory.mktemp("demo-broken"), "broken")


@pytest.fixture
def fresh_lab(lab):
    lab.reset()
    return lab


def run_playbook(lab, playbook, extra_vars=None, env=None, args=()):
    """Run ansible-playbook with the lab's environment; returns the CompletedProcess (output captured)."""
    full_env = dict(os.environ)
    full_env.update(lab.env)
    full_env.update(
        {
            "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "PATH": BIN + os.pathsep + full_env.get("PATH", ""),
        }
    )
    full_env.update(env or {})
    cmd = [os.path.join(BIN, "ansible-playbook"), playbook]  # implicit localhost: runs modules with this venv's Python
    for key, value in (extra_vars or {}).items():
        cmd += ["-e", f"{key}={value}"]
    cmd += list(args)
    return subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=600, check=False)


def assert_playbook_ok(proc):
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"ansible-playbook failed (rc {proc.returncode}):\n{output[-6000:]}"
    assert "failed=0" in proc.stdout, output[-6000:]
    return output

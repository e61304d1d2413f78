"""Provide the kubernetes.core collection (for the Helm flavour of the ingress_nginx role) in .venv/collections.

Ansible Galaxy is not reachable from every machine that runs ``make setup``, but the package index is, and
the ``ansible`` package on it bundles kubernetes.core. This downloads that wheel once (no dependencies) into
a cache outside the checkout and extracts only ``ansible_collections/kubernetes/core``. Idempotent, and
offline once the wheel is cached. kubernetes.core is optional: when the wheel cannot be had, this says so
and exits 0 (the Helm test then skips).

Usage: python scripts/kubernetes_core.py COLLECTIONS_DIR
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

# ansible 12.x is the community package built on ansible-core 2.19, the core this collection is tested with.
BUNDLE = "ansible==12.3.0"
PREFIX = "ansible_collections/kubernetes/core/"
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "aksnet-setup")
STAMP = ".aksnet-source"


def cached_wheel() -> str | None:
    name, version = BUNDLE.split("==")
    found = glob.glob(os.path.join(CACHE, f"{name}-{version}-*.whl"))
    return found[0] if found else None


def download() -> str | None:
    os.makedirs(CACHE, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:", "--dest", CACHE, BUNDLE],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"setup: kubernetes.core not installed: pip download {BUNDLE} failed ({last}); "
              "the Helm flavour of ingress_nginx and its tests need it", file=sys.stderr)
        return None
    return cached_wheel()


def extract(wheel: str, collections: str) -> str:
    target = os.path.join(collections, PREFIX)
    parent = os.path.dirname(target.rstrip("/"))
    os.makedirs(parent, exist_ok=True)
    scratch = tempfile.mkdtemp(dir=parent, prefix=".core-")
    try:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.infolist():
                if not member.filename.startswith(PREFIX) or member.is_dir():
                    continue
                relative = member.filename[len(PREFIX):]
                if relative.startswith("/") or ".." in relative.split("/"):
                    raise RuntimeError(f"{wheel}: unsafe member {member.filename}")
                dest = os.path.join(scratch, relative)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with archive.open(member) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
        if not os.path.exists(os.path.join(scratch, "MANIFEST.json")):
            raise RuntimeError(f"{wheel} holds no {PREFIX}MANIFEST.json")
        with open(os.path.join(scratch, STAMP), "w", encoding="utf-8") as handle:
            handle.write(os.path.basename(wheel) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        os.rename(scratch, target.rstrip("/"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    with open(os.path.join(target, "MANIFEST.json"), encoding="utf-8") as handle:
        return json.load(handle)["collection_info"]["version"]


def main() -> int:
    collections = os.path.abspath(sys.argv[1])
    target = os.path.join(collections, PREFIX)
    wheel = cached_wheel()
    if wheel:
        try:
            with open(os.path.join(target, STAMP), encoding="utf-8") as handle:
                if handle.read().strip() == os.path.basename(wheel):
                    return 0  # already extracted from this wheel
        except OSError:
            pass
    wheel = wheel or download()
    if not wheel:
        return 0
    version = extract(wheel, collections)
    print(f"setup: kubernetes.core {version} (from {os.path.basename(wheel)}) in {collections}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

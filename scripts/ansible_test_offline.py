"""Provide ansible-test's pip bootstrap script offline.

ansible-test creates a virtualenv per sanity test and bootstraps pip in it by running
``~/.ansible/test/cache/get_pip_<version>.py``, which it otherwise downloads from the internet.
This places the matching pip wheel (from the package index pip is configured with) next to a
stand-in script that installs pip from that wheel with the arguments ansible-test passes.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys

CACHE = os.path.expanduser("~/.ansible/test/cache")

STAND_IN = '''"""Stand-in for get-pip.py {version}: installs pip from the wheel beside this file (offline)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WHEEL = os.path.join(HERE, "{wheel}")
# get-pip.py options that are not pip install options
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.path.insert(0, WHEEL)
from pip._internal.cli.main import main  # noqa: E402

sys.exit(main(["install", "--find-links", HERE] + args))
'''


def pip_version() -> str:
    from ansible_test._internal.python_requirements import get_venv_packages

    class _Python:  # get_venv_packages only reads .version
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"

    return get_venv_packages(_Python())["pip"]


def main() -> int:
    version = pip_version()
    os.makedirs(CACHE, exist_ok=True)
    script = os.path.join(CACHE, f"get_pip_{version.replace('.', '_')}.py")
    wheels = glob.glob(os.path.join(CACHE, f"pip-{version}-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", CACHE, f"pip=={version}"],
            check=True,
        )
        wheels = glob.glob(os.path.join(CACHE, f"pip-{version}-*.whl"))
    if not wheels:
        print(f"ansible-test bootstrap: pip {version} wheel not found in {CACHE}", file=sys.stderr)
        return 1
    text = STAND_IN.format(version=version, wheel=os.path.basename(wheels[0]))
    current = None
    if os.path.exists(script):
        with open(script, encoding="utf-8") as handle:
            current = handle.read()
    if current != text:
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(text)
    print(f"ansible-test bootstrap: pip {version} available offline ({script})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

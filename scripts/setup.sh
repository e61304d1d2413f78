#!/usr/bin/env bash
# Set up a development checkout: .venv with the runtime and test requirements, the collection
# resolvable as aksnet.networking from the repo root, and ansible-test's pip bootstrap offline.
# Idempotent: a second run only checks the stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}
VENV=$ROOT/.venv
STAMP=$VENV/.aksnet-setup
want=$(cat requirements.txt tests/requirements.txt scripts/setup.sh | sha256sum | cut -c1-16)

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing requirements into .venv (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r requirements.txt -r tests/requirements.txt
fi

# The checkout is the collection: expose it as ansible_collections/aksnet/networking for
# ansible (ansible.cfg collections_path) and for Python (a .pth file, used by pytest).
mkdir -p "$VENV/collections/ansible_collections/aksnet"
ln -sfn ../../../.. "$VENV/collections/ansible_collections/aksnet/networking"
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$VENV/collections" > "$site/aksnet-collection.pth"

# ansible-test sanity bootstraps pip in its virtualenvs from a script it downloads from the
# internet. Provide it offline: the pip wheel from the package index plus a small stand-in.
"$VENV/bin/python" scripts/ansible_test_offline.py

# kubernetes.core (optional; the Helm flavour of the ingress_nginx role) from the `ansible` wheel on the package
# index, since Galaxy may be unreachable: downloaded once into ~/.cache/aksnet-setup, then offline.
"$VENV/bin/python" scripts/kubernetes_core.py "$VENV/collections"

echo "$want" > "$STAMP"
echo "setup: ready ($("$VENV/bin/ansible" --version | sed -n 1p))"

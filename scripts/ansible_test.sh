#!/usr/bin/env bash
# Run ansible-test on the collection as it ships: ansible-test needs the collection at
# ansible_collections/aksnet/networking, so the files that `ansible-galaxy collection build`
# would ship (git-tracked and new files, minus build_ignore's test infrastructure) are copied
# into .cache/ansible-test first. Usage: scripts/ansible_test.sh sanity [ansible-test args...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEST=${AKSNET_SANITY_DIR:-$ROOT/.cache/ansible-test}/ansible_collections/aksnet/networking
rm -rf "$DEST"
mkdir -p "$DEST"
git ls-files -co --exclude-standard -z \
  | grep -zvE '^(tests/lab/|tests/perf/|tests/charts/|scripts/|\.ci/|Makefile$|ansible\.cfg$|pyproject\.toml$)' \
  | xargs -0 cp --parents -t "$DEST"
cd "$DEST"
# ansible-test uses git to list the collection's files when it is in a repository.
git init -q . && git add -A >/dev/null
export PATH="$ROOT/.venv/bin:$PATH"
exec ansible-test "$@"

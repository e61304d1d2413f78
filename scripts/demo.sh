#!/usr/bin/env bash
# make demo: start the local lab (ARM simulator + Kubernetes emulator), run the demo playbook
# against it, stop the lab, and print where the results are.
set -euo pipefail
cd "$(dirname "$0")/.."
LAB_DIR=${1:-.cache/lab}
OUT=$(mkdir -p "${2:-demo-output}" && cd "${2:-demo-output}" && pwd)
# The lab cluster gets a namespace with the mistakes people make (see the scenario's header),
# so the diagnostics have something to find.
.venv/bin/python -m tests.lab up --dir "$LAB_DIR" --scenario tests/integration/files/diagnose_scenario.yml
trap '.venv/bin/python -m tests.lab down --dir "$LAB_DIR" >/dev/null' EXIT
# shellcheck disable=SC1091
source "$LAB_DIR/env.sh"
.venv/bin/ansible-playbook playbooks/demo.yml \
  -e "demo_resource_group=$AKSNET_LAB_RG" -e "demo_cluster=$AKSNET_LAB_CLUSTER" -e "demo_output_dir=$OUT"
echo
echo "demo: results in $OUT"
ls -l "$OUT"

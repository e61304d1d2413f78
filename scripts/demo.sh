#!/usr/bin/env bash
# make demo / make demo-fixed: the whole story against the local lab.
#   scripts/demo.sh [LAB_DIR] [OUT_DIR] [broken|fixed]
# 1. start the lab with an empty resource group and VNet (no cluster);
# 2. provision an AKS cluster (Azure CNI Overlay + Cilium) with playbooks/provision.yml;
# 3. deploy the team's application (demo/app.yml) and configure load balancers, NGINX ingress,
#    network policies and CoreDNS with playbooks/configure.yml;
# 4. (broken) introduce the troubleshooting guide's classic faults (demo/break.yml);
# 5. diagnose with playbooks/diagnose.yml; save a snapshot and diagnose it offline too;
# 6. print the summary and the report's path, check that every fault was found (broken) or that the
#    cluster is clean (fixed), and that the offline diagnosis agrees; the lab is always stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
LAB_DIR=$(mkdir -p "${1:-.cache/lab}" && cd "${1:-.cache/lab}" && pwd)
OUT=$(mkdir -p "${2:-demo-output}" && cd "${2:-demo-output}" && pwd)
MODE=${3:-broken}
case "$MODE" in broken|fixed) ;; *) echo "demo: mode must be broken or fixed (got $MODE)" >&2; exit 2 ;; esac
PY=.venv/bin/python
start=$(date +%s)
step() { echo; echo "==== demo [$(( $(date +%s) - start ))s] $*"; }

rm -rf "${OUT:?}/report" "$OUT/snapshot-report" "$OUT/kubeconfig" "$OUT/snapshot.json"
step "starting the lab (ARM simulator + Kubernetes emulator) with an empty resource group and VNet"
$PY -m tests.lab up --dir "$LAB_DIR" --empty --kube "${LAB:-emulator}"
trap '$PY -m tests.lab down --dir "$LAB_DIR" >/dev/null' EXIT
# shellcheck disable=SC1091
source "$LAB_DIR/env.sh"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_STDOUT_CALLBACK=${ANSIBLE_STDOUT_CALLBACK:-default} ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_DISPLAY_OK_HOSTS=${ANSIBLE_DISPLAY_OK_HOSTS:-false}
playbook() { .venv/bin/ansible-playbook "$@" -e "demo_output_dir=$OUT"; }

step "provisioning lab-rg/lab-aks: Azure CNI Overlay + Cilium (playbooks/provision.yml -e @demo/cluster.yml)"
playbook playbooks/provision.yml -e @demo/cluster.yml
export K8S_AUTH_KUBECONFIG="$OUT/kubeconfig"

step "deploying the team's application (demo/app.yml)"
$PY -m tests.lab apply --dir "$LAB_DIR" demo/app.yml

step "configuring load balancers, NGINX ingress, network policies, CoreDNS (playbooks/configure.yml -e @demo/configure.yml)"
playbook playbooks/configure.yml -e @demo/configure.yml

if [ "$MODE" = broken ]; then
  step "introducing the classic faults (demo/break.yml, demo/faults.yml)"
  playbook demo/break.yml
fi

step "diagnosing (playbooks/diagnose.yml)"
playbook playbooks/diagnose.yml -e "diagnostics_kubeconfig=$OUT/kubeconfig" -e diagnostics_report_dir="$OUT/report" \
  -e diagnostics_fail_on=never -e '{"diagnostics_cluster": {"resource_group": "lab-rg", "name": "lab-aks"}}'

step "saving a snapshot and diagnosing it offline, as on another machine (demo/snapshot.yml, diagnostics_snapshot)"
ANSIBLE_DISPLAY_OK_HOSTS=true playbook demo/snapshot.yml | grep -E '"msg"|failed=' || true
playbook playbooks/diagnose.yml -e "diagnostics_snapshot=$OUT/snapshot.json" -e diagnostics_report_dir="$OUT/snapshot-report" \
  -e diagnostics_fail_on=never > "$OUT/snapshot-diagnose.log" 2>&1 || { cat "$OUT/snapshot-diagnose.log"; exit 1; }
echo "offline report: $OUT/snapshot-report/report.html"

step "result"
$PY scripts/demo_summary.py "$OUT/report/report.json" demo/expected.yml "$MODE" "$OUT/snapshot-report/report.json"
echo "demo: HTML report: $OUT/report/report.html (also report.md and report.json); done in $(( $(date +%s) - start ))s"

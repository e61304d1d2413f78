#!/usr/bin/env bash
# Release check: does the collection work as users get it, from the tarball, with nothing of this
# checkout around? Builds the tarball into a temporary directory, checks its file list, installs it
# into a fresh virtualenv (requirements.txt from the package index) and an isolated collections path,
# then lists the modules with ansible-doc and diagnoses a snapshot with the installed collection's
# diagnose playbook. Finally lints the changelog fragments. `make release-check` runs it; so does
# `make test`. Usage: scripts/release_check.sh   (KEEP=1 keeps the temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
SNAPSHOT=$ROOT/tests/release/snapshot.yaml
# Findings the snapshot is built to produce (see the comment at the top of the snapshot).
EXPECTED_CODES="service.selector_mismatch service.target_port_mismatch netpol.egress_blocks_dns ingress.backend_service_missing azure.static_ip_wrong_resource_group"
# Nothing from this shell's Ansible or cluster settings may leak into the check.
while read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(ANSIBLE_|K8S_AUTH_|AZURE_|KUBECONFIG$|PYTHONPATH$)' || true)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/aksnet-release.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "release-check: kept $TMP"; else rm -rf "$TMP"; fi; }
trap cleanup EXIT

start=$(date +%s)
phase_start=$start
phase() {
  local now
  now=$(date +%s)
  printf 'release-check: %-52s %3ss\n' "$1" "$((now - phase_start))"
  phase_start=$now
}
fail() { echo "release-check: FAILED: $*" >&2; exit 1; }

# 1. A fresh virtualenv with the runtime requirements only (ansible-core among them).
"$PYTHON" -m venv "$TMP/venv"
if ! "$TMP/venv/bin/python" -m pip install --disable-pip-version-check -q --no-compile -r "$ROOT/requirements.txt" >"$TMP/pip.log" 2>&1; then
  grep -v 'is ignored: it is neither a file nor a directory' "$TMP/pip.log" >&2 || true
  fail "pip install -r requirements.txt into a fresh virtualenv"
fi
BIN=$TMP/venv/bin
phase "fresh venv + requirements.txt (ansible-core $("$BIN/python" -c 'from ansible.release import __version__; print(__version__)'))"

# Run from the temporary directory with an empty configuration, so this checkout's ansible.cfg
# (which points the collections path at the checkout) is never read.
cd "$TMP"
: >"$TMP/ansible.cfg"
export ANSIBLE_CONFIG=$TMP/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH=$TMP/collections
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_DEPRECATION_WARNINGS=0

# 2. Build the tarball and check what it ships.
"$BIN/ansible-galaxy" collection build --output-path "$TMP/dist" "$ROOT" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log" >&2; fail "ansible-galaxy collection build"; }
TARBALL=$(ls "$TMP"/dist/aksnet-networking-*.tar.gz)
tar -tzf "$TARBALL" | sed 's|^\./||' >"$TMP/files.txt"
forbidden='^(tests/lab|tests/perf|tests/release|tests/charts|tests/integration|tests/unit/lab|tests/output|scripts|demo|demo-output|build|lab-run)(/|$)|(^|/)(\.venv|\.cache|\.git|\.pytest_cache|\.ruff_cache|__pycache__)(/|$)|\.pyc$|^ansible\.cfg$|^Makefile$|\.tar\.gz$'
if grep -E "$forbidden" "$TMP/files.txt" >"$TMP/forbidden.txt"; then
  head -20 "$TMP/forbidden.txt" >&2
  fail "the tarball ships $(wc -l <"$TMP/forbidden.txt") file(s) it must not (lab, caches, venv, scripts, demo, test infrastructure); see galaxy.yml build_ignore"
fi
for must in MANIFEST.json FILES.json README.md CHANGELOG.rst meta/runtime.yml requirements.txt docs/findings.md docs/troubleshooting.md \
            playbooks/provision.yml playbooks/configure.yml playbooks/diagnose.yml playbooks/diagnose_cluster.yml playbooks/diagnose_fleet.yml; do
  grep -qx "$must" "$TMP/files.txt" || fail "the tarball lacks $must"
done
for role in $(grep -E '^roles/[a-z_]+/tasks/main\.yml$' "$TMP/files.txt" | cut -d/ -f2); do
  grep -qx "roles/$role/README.md" "$TMP/files.txt" || fail "the tarball lacks roles/$role/README.md"
  grep -qx "roles/$role/meta/argument_specs.yml" "$TMP/files.txt" || fail "the tarball lacks roles/$role/meta/argument_specs.yml"
done
mapfile -t MODULES < <(grep -E '^plugins/modules/[a-z_]+\.py$' "$TMP/files.txt" | sed 's|plugins/modules/||; s|\.py$||' | sort)
[ "${#MODULES[@]}" -eq 14 ] || fail "expected 14 modules in the tarball, found ${#MODULES[@]}: ${MODULES[*]}"
phase "build $(basename "$TARBALL") ($(wc -l <"$TMP/files.txt") entries, $(du -k "$TARBALL" | cut -f1) KiB)"

# 3. Install it offline into the temporary collections path.
"$BIN/ansible-galaxy" collection install --offline -p "$TMP/collections" "$TARBALL" >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log" >&2; fail "ansible-galaxy collection install"; }
INSTALLED=$TMP/collections/ansible_collections/aksnet/networking
[ -f "$INSTALLED/MANIFEST.json" ] || fail "the collection is not installed at $INSTALLED"
phase "install --offline into $TMP/collections"

# 4. ansible-doc sees the installed collection, all 14 modules, and nothing else.
"$BIN/ansible-doc" -l aksnet.networking >"$TMP/doc-list.txt" 2>"$TMP/doc-list.err" || { cat "$TMP/doc-list.err" >&2; fail "ansible-doc -l aksnet.networking"; }
for m in "${MODULES[@]}"; do
  grep -qE "^aksnet\.networking\.$m[[:space:]]" "$TMP/doc-list.txt" || fail "ansible-doc -l aksnet.networking does not list $m"
done
listed=$(grep -cE '^aksnet\.networking\.' "$TMP/doc-list.txt")
[ "$listed" -eq 14 ] || fail "ansible-doc -l aksnet.networking lists $listed modules, expected 14"
"$BIN/ansible-doc" --json -t module aksnet.networking.diagnose >"$TMP/diagnose-doc.json"
"$BIN/python" - "$TMP/diagnose-doc.json" "$INSTALLED" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))["aksnet.networking.diagnose"]["doc"]
assert doc["filename"].startswith(sys.argv[2]), f"ansible-doc read {doc['filename']}, not the installed collection"
EOF
phase "ansible-doc -l aksnet.networking: 14 modules"

# 5. Offline diagnostics with the installed collection's playbook.
if ! "$BIN/ansible-playbook" aksnet.networking.diagnose -e "diagnostics_snapshot=$SNAPSHOT" -e "diagnostics_report_dir=$TMP/report" \
     -e diagnostics_fail_on=never >"$TMP/diagnose.log" 2>&1; then
  tail -40 "$TMP/diagnose.log" >&2
  fail "ansible-playbook aksnet.networking.diagnose on $SNAPSHOT"
fi
"$BIN/python" - "$TMP/report" "$EXPECTED_CODES" <<'EOF' || { tail -40 "$TMP/diagnose.log" >&2; fail "the report lacks expected findings"; }
import json, os, sys
report_dir, expected = sys.argv[1], set(sys.argv[2].split())
for name in ("report.json", "report.md", "report.html"):
    assert os.path.getsize(os.path.join(report_dir, name)) > 0, f"{name} is empty"
report = json.load(open(os.path.join(report_dir, "report.json")))
codes = {f["code"] for f in report["findings"]}
missing = expected - codes
assert not missing, f"missing finding codes {sorted(missing)}; found {sorted(codes)}"
steps = {str(k): v for k, v in report["summary"]["steps"].items()}
for step in ("2", "4", "6", "8"):
    assert steps.get(step) == "failed", f"step {step} should fail, summary: {steps}"
print(f"release-check: report.json: {len(report['findings'])} findings, {report['summary']['errors']} errors; "
      f"expected codes present: {', '.join(sorted(expected))}")
EOF
phase "ansible-playbook aksnet.networking.diagnose (snapshot)"

# 6. Changelog fragments are valid (antsibull-changelog is a development tool: the checkout's .venv).
cd "$ROOT"
.venv/bin/antsibull-changelog lint || fail "antsibull-changelog lint"
# A fragment the tarball ships must be in the changelog of the version being built (rule in the script).
.venv/bin/python scripts/changelog_check.py "$ROOT" || fail "changelog fragments (scripts/changelog_check.py)"
phase "antsibull-changelog lint + fragments in the changelog"

echo "release-check: passed in $(($(date +%s) - start))s"

#!/usr/bin/env bash
# Build the real control plane of the lab from Go modules (no release downloads, no GitHub):
# kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok and helm.
#
#   tests/lab/real/build.sh            build what is missing into $AKSNET_LAB_BIN (default
#                                      ~/.cache/aksnet-lab/<versions>), print wall time and peak RSS
#   tests/lab/real/build.sh --regen    regenerate the wrapper go.mod/go.sum files (after a version bump)
#   tests/lab/real/build.sh --print-dir
#
# The wrapper modules (k8s/, etcd/, kwok/, helm/ next to this script) are committed: they pin every
# module by checksum. k8s/go.mod replaces each staging module of k8s.io/kubernetes with its published
# v0.X.Y tag; that list is generated from k8s.io/kubernetes' own go.mod in the module cache.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$HERE/versions.env"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -mod=mod"
BIN=${AKSNET_LAB_BIN:-$HOME/.cache/aksnet-lab/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION}

if [ "${1:-}" = "--print-dir" ]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "build.sh: no Go toolchain on PATH (needs Go >= 1.26 with the module proxy)" >&2; exit 2; }

regen_k8s() {
  local dir=$HERE/k8s scratch kmod sv
  scratch=$(mktemp -d)
  kmod=$(cd "$scratch" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\([^"]*\)".*/\1/p')
  rm -rf "$scratch"
  [ -f "$kmod" ] || { echo "build.sh: cannot read k8s.io/kubernetes@$K8S_VERSION go.mod" >&2; exit 1; }
  sv="v0.${K8S_VERSION#v1.}"
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
  go mod init aksnet.invalid/lab/k8s >/dev/null 2>&1
  for m in $(sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => \./staging/.*|\1|p' "$kmod"); do
    go mod edit "-replace=$m=$m@$sv"
  done
  for g in $(sed -n 's/^godebug \([^ (]*=[^ ]*\)$/\1/p' "$kmod"); do go mod edit "-godebug=$g"; done
  go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" \
    "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_VERSION" \
    "k8s.io/kubernetes/cmd/kube-scheduler@$K8S_VERSION"
}

regen_tool() {  # name module@version pkg
  local dir=$HERE/$1
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
  go mod init "aksnet.invalid/lab/$1" >/dev/null 2>&1
  go get -tool "$3@$2"
}

if [ "${1:-}" = "--regen" ]; then
  regen_k8s
  regen_tool etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3
  regen_tool kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
  regen_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm
  echo "build.sh: wrappers regenerated; commit tests/lab/real/*/go.mod and go.sum"
  exit 0
fi

mkdir -p "$BIN"
timed() {  # label outfile-check command...
  local label=$1; shift
  local t0 log rc=0; t0=$(date +%s); log=$(mktemp)
  if [ -x /usr/bin/time ]; then /usr/bin/time -v -o "$log" "$@" || rc=$?; else "$@" || rc=$?; fi
  local rss; rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log" 2>/dev/null)
  rm -f "$log"
  [ $rc -eq 0 ] || { echo "build.sh: $label failed (exit $rc)" >&2; exit $rc; }
  printf 'build.sh: built %-40s in %4ss, peak RSS %s MiB\n' "$label" "$(( $(date +%s) - t0 ))" "$(( ${rss:-0} / 1024 ))"
}

k8s_ld="-s -w"
minor=$(cut -d. -f2 <<<"$K8S_VERSION")
for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  k8s_ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  [ -x "$BIN/$c" ] || (cd "$HERE/k8s" && timed "$c $K8S_VERSION" go build -pgo=off -ldflags "$k8s_ld" -o "$BIN/$c" "k8s.io/kubernetes/cmd/$c")
done
[ -x "$BIN/etcd" ] || (cd "$HERE/etcd" && timed "etcd $ETCD_VERSION" go build -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" -o "$BIN/etcd" go.etcd.io/etcd/server/v3)
[ -x "$BIN/kwok" ] || (cd "$HERE/kwok" && timed "kwok $KWOK_VERSION" go build -ldflags "-s -w" -o "$BIN/kwok" sigs.k8s.io/kwok/cmd/kwok)
[ -x "$BIN/helm" ] || (cd "$HERE/helm" && timed "helm $HELM_VERSION" go build -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" -o "$BIN/helm" helm.sh/helm/v3/cmd/helm)
# kwok's stage definitions ship in its module; copy the ones the lab uses next to the binaries
if [ ! -d "$BIN/kwok-stages" ]; then
  src=$(cd "$HERE/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage
  mkdir -p "$BIN/kwok-stages.tmp"
  cp "$src/node/fast/node-initialize.yaml" "$src/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
     "$src/pod/fast/pod-ready.yaml" "$src/pod/fast/pod-complete.yaml" "$src/pod/fast/pod-delete.yaml" "$BIN/kwok-stages.tmp/"
  mv "$BIN/kwok-stages.tmp" "$BIN/kwok-stages"
fi
"$BIN/kube-apiserver" --version >/dev/null
echo "build.sh: binaries ready in $BIN"

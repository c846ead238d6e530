#!/usr/bin/env bash
# Build a local Kubernetes control plane (kube-apiserver, kube-controller-manager,
# etcd) from the Go module proxy, envtest style, without Docker.
#
# Why build from source: this project's machines reach package registries only
# (no release downloads, no container images), but the Go module proxy serves
# k8s.io/kubernetes and go.etcd.io/etcd, so we compile the binaries once and
# cache them OUTSIDE the repo.
#
# Usage:
#   hack/build-k8s.sh          # control plane: kube-apiserver, kube-controller-manager, etcd
#   hack/build-k8s.sh helm     # additionally build helm into the same bin dir
#   hack/build-k8s.sh all      # both
#
# Environment:
#   SLOGUARD_CACHE      cache root (default: $HOME/.cache/sloguard)
#   K8S_VERSION         k8s.io/kubernetes version (default: v1.34.4)
#   ETCD_VERSION        go.etcd.io/etcd/server/v3 version (default: v3.6.8)
#   HELM_VERSION        helm.sh/helm/v3 version (default: v3.19.5)
#   BUILD_JOBS          go build -p (default: 2)
#
# Output: binaries in ${SLOGUARD_CACHE}/k8s-<K8S_VERSION>/bin. The LAST line on
# stdout is that bin dir so callers can capture it with `| tail -n1`; all
# progress output goes to stderr.
#
# Idempotent: when the bin dir already holds the binaries, exits immediately.
# Builds happen in a temp dir and are moved into place with a single rename, so
# an interrupted build is never mistaken for a finished one. A flock serializes
# concurrent callers (e.g. a test session and `sloguard dev up`).
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.8}"
HELM_VERSION="${HELM_VERSION:-v3.19.5}"
BUILD_JOBS="${BUILD_JOBS:-2}"
CACHE_ROOT="${SLOGUARD_CACHE:-$HOME/.cache/sloguard}"
DEST="${CACHE_ROOT}/k8s-${K8S_VERSION}"
BIN="${DEST}/bin"

target="${1:-control-plane}"
case "$target" in
  control-plane|helm|all) ;;
  -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
  *) echo "unknown target: $target (want control-plane|helm|all)" >&2; exit 2 ;;
esac

log() { echo "build-k8s: $*" >&2; }

have_control_plane() {
  [[ -x "$BIN/kube-apiserver" && -x "$BIN/kube-controller-manager" && -x "$BIN/etcd" ]]
}
have_helm() { [[ -x "$BIN/helm" ]]; }

needed() {
  case "$target" in
    control-plane) ! have_control_plane ;;
    helm) ! have_helm ;;
    all) ! have_control_plane || ! have_helm ;;
  esac
}

# Fast path without taking the lock.
if ! needed; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { log "go is not installed"; exit 1; }
mkdir -p "$CACHE_ROOT"
exec 9>"${CACHE_ROOT}/.build-k8s.lock"
log "waiting for build lock ${CACHE_ROOT}/.build-k8s.lock"
flock 9

export CGO_ENABLED=0
export GOFLAGS="-mod=mod -buildvcs=false"
# Keep the toolchain that is installed; never try to download another one.
export GOTOOLCHAIN=local

WORK="$(mktemp -d "${CACHE_ROOT}/.build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- kubernetes
build_kubernetes() {
  local out="$1" mod="$WORK/k8s" minor major staging_ver gomod
  major="${K8S_VERSION#v}"; major="${major%%.*}"
  minor="${K8S_VERSION#v*.}"; minor="${minor%%.*}"
  # Staging modules (k8s.io/api, ...) are published as v0.<minor>.<patch>.
  staging_ver="v0.${K8S_VERSION#v*.}"
  mkdir -p "$mod"
  gomod="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "$gomod" ]] || { log "could not download k8s.io/kubernetes@${K8S_VERSION}"; return 1; }

  # `go install pkg@version` refuses modules with replace directives, and
  # kubernetes replaces every staging module with ./staging/... . A wrapper
  # module that replaces them with their published versions builds instead.
  {
    echo "module sloguard.local/k8s-build"
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes ${K8S_VERSION}"
    echo
    echo "replace ("
    awk '/^\tk8s\.io\/[^ ]+ v0\.0\.0$/ {print $1}' "$gomod" | while read -r m; do
      printf '\t%s => %s %s\n' "$m" "$m" "$staging_ver"
    done
    echo ")"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
EOF
  local date ldflags="-s -w" pkg
  date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  # /version and the apiserver's compatibility-version logic read these; an
  # unset gitVersion ("v0.0.0-master") breaks emulation-version validation.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X ${pkg}.gitVersion=${K8S_VERSION}"
    ldflags+=" -X ${pkg}.gitMajor=${major}"
    ldflags+=" -X ${pkg}.gitMinor=${minor}"
    ldflags+=" -X ${pkg}.gitTreeState=clean"
    ldflags+=" -X ${pkg}.buildDate=${date}"
  done
  log "resolving modules for k8s.io/kubernetes ${K8S_VERSION} (staging ${staging_ver})"
  (cd "$mod" && go mod tidy -e >&2)
  log "compiling kube-apiserver and kube-controller-manager (-p ${BUILD_JOBS})"
  (cd "$mod" && go build -p "$BUILD_JOBS" -trimpath -ldflags "$ldflags" -o "$out/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager >&2)
}

# ---------------------------------------------------------------------- etcd
build_etcd() {
  local out="$1" mod="$WORK/etcd"
  mkdir -p "$mod"
  # etcd's main package is the root of the go.etcd.io/etcd/server/v3 module;
  # a wrapper module sidesteps the replace directives in etcd's repo.
  cat >"$mod/go.mod" <<EOF
module sloguard.local/etcd-build

go 1.24.0

require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}
EOF
  cat >"$mod/tools.go" <<'EOF'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
EOF
  log "resolving modules for go.etcd.io/etcd/server/v3 ${ETCD_VERSION}"
  (cd "$mod" && go mod tidy -e >&2)
  log "compiling etcd"
  (cd "$mod" && go build -p "$BUILD_JOBS" -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3 >&2)
}

# Fallback only: Debian's etcd-server (3.4.x) is older than what k8s 1.34
# recommends but works with the apiserver's etcd3 storage backend.
etcd_from_debian() {
  local out="$1"
  log "falling back to Debian's etcd-server package"
  if ! command -v etcd >/dev/null; then
    apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server >&2
  fi
  cp "$(command -v etcd)" "$out/etcd"
}

build_control_plane() {
  local out="$WORK/bin" start end
  mkdir -p "$out"
  start=$(date +%s)
  build_kubernetes "$out"
  if ! build_etcd "$out"; then
    etcd_from_debian "$out"
  fi
  end=$(date +%s)
  {
    echo "kubernetes ${K8S_VERSION}"
    echo "etcd $("$out/etcd" --version 2>/dev/null | head -n1 | awk '{print $NF}')"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((end - start))s with $(go version | awk '{print $3}')"
  } >"$WORK/VERSIONS"
  # Keep an existing helm (built earlier) when rebuilding the control plane.
  if [[ -x "$BIN/helm" ]]; then cp "$BIN/helm" "$out/helm"; fi
  mkdir -p "$CACHE_ROOT"
  if [[ -d "$DEST" ]]; then mv "$DEST" "$WORK/old"; fi
  mv "$WORK/bin" "$WORK/dest-bin"
  mkdir -p "$WORK/dest"
  mv "$WORK/dest-bin" "$WORK/dest/bin"
  mv "$WORK/VERSIONS" "$WORK/dest/VERSIONS"
  mv "$WORK/dest" "$DEST"   # the atomic step
  log "control plane built in $((end - start))s"
}

build_helm() {
  local start end
  start=$(date +%s)
  mkdir -p "$WORK/helm-bin"
  log "compiling helm ${HELM_VERSION}"
  # helm's go.mod has no replace directives, so `go install` works directly.
  GOBIN="$WORK/helm-bin" GOFLAGS=-buildvcs=false go install -p "$BUILD_JOBS" -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" \
    "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >&2
  mkdir -p "$BIN"
  mv "$WORK/helm-bin/helm" "$BIN/helm.tmp" && mv "$BIN/helm.tmp" "$BIN/helm"
  end=$(date +%s)
  log "helm built in $((end - start))s"
}

case "$target" in
  control-plane) have_control_plane || build_control_plane ;;
  helm) have_helm || build_helm ;;
  all) have_control_plane || build_control_plane; have_helm || build_helm ;;
esac

echo "$BIN"

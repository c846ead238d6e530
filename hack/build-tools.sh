#!/usr/bin/env bash
# Build the metric servers the tests read from, once, from the Go module proxy, into
# ~/.cache/sloguard (never into the repo), like hack/build-k8s.sh does for the control plane.
#
# Usage:
#   hack/build-tools.sh prometheus3       prometheus + promtool (Prometheus 3, the reference)
#   hack/build-tools.sh victoriametrics   victoria-metrics single node
#   hack/build-tools.sh sloth             sloth (the peer, for import equivalence and benchmarks)
#   hack/build-tools.sh all               all of them
#
# Environment:
#   SLOGUARD_CACHE          cache root (default: $HOME/.cache/sloguard)
#   PROMETHEUS3_VERSION     github.com/prometheus/prometheus module version (default: v0.316.0 = 3.16.0)
#   VICTORIAMETRICS_VERSION github.com/VictoriaMetrics/VictoriaMetrics version (default: v1.151.0)
#   SLOTH_VERSION           github.com/slok/sloth version (default: v0.16.0)
#   BUILD_JOBS              go build -p (default: 2)
#
# Output: one bin dir per tool, ${SLOGUARD_CACHE}/<tool>-<version>/bin; the LAST line on stdout
# of a single-tool call is that bin dir. Progress goes to stderr. Idempotent and atomic (a build
# is moved into place with one rename), serialised by a flock.
set -euo pipefail

PROMETHEUS3_VERSION="${PROMETHEUS3_VERSION:-v0.316.0}"
VICTORIAMETRICS_VERSION="${VICTORIAMETRICS_VERSION:-v1.151.0}"
SLOTH_VERSION="${SLOTH_VERSION:-v0.16.0}"
BUILD_JOBS="${BUILD_JOBS:-2}"
CACHE_ROOT="${SLOGUARD_CACHE:-$HOME/.cache/sloguard}"

log() { echo "build-tools: $*" >&2; }

# tool -> "module-path@version package-path binary-name" rows
packages() {
  case "$1" in
    prometheus3)
      echo "github.com/prometheus/prometheus/cmd/prometheus@${PROMETHEUS3_VERSION} prometheus"
      echo "github.com/prometheus/prometheus/cmd/promtool@${PROMETHEUS3_VERSION} promtool" ;;
    victoriametrics)
      echo "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@${VICTORIAMETRICS_VERSION} victoria-metrics" ;;
    sloth)
      echo "github.com/slok/sloth/cmd/sloth@${SLOTH_VERSION} sloth" ;;
  esac
}

version_of() {
  case "$1" in
    prometheus3) echo "$PROMETHEUS3_VERSION" ;;
    victoriametrics) echo "$VICTORIAMETRICS_VERSION" ;;
    sloth) echo "$SLOTH_VERSION" ;;
  esac
}

built() {
  local bin="$1" tool="$2" pkg name
  while read -r pkg name; do [[ -x "$bin/$name" ]] || return 1; done < <(packages "$tool")
}

build() {
  local tool="$1" dest bin work pkg name start
  dest="${CACHE_ROOT}/${tool}-$(version_of "$tool")"
  bin="$dest/bin"
  if built "$bin" "$tool"; then echo "$bin"; return 0; fi

  command -v go >/dev/null || { log "go is not installed"; return 1; }
  mkdir -p "$CACHE_ROOT"
  exec 8>"${CACHE_ROOT}/.build-${tool}.lock"
  log "waiting for the ${tool} build lock"
  flock 8
  # Another caller may have finished the build while this one waited for the lock.
  if built "$bin" "$tool"; then exec 8>&-; echo "$bin"; return 0; fi
  work="$(mktemp -d "${CACHE_ROOT}/.build-${tool}.XXXXXX")"
  start=$(date +%s)
  mkdir -p "$work/bin"
  while read -r pkg name; do
    log "compiling ${pkg}"
    # CGO off: static binaries; GOTOOLCHAIN=local: use the installed Go, never download one.
    GOBIN="$work/bin" CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
      go install -p "$BUILD_JOBS" -trimpath -ldflags "-s -w" "$pkg" >&2
  done < <(packages "$tool")
  echo "${tool} $(version_of "$tool") built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - start ))s" >"$work/VERSIONS"
  rm -rf "$dest.old"
  if [[ -d "$dest" ]]; then mv "$dest" "$dest.old"; fi
  mv "$work" "$dest"    # the atomic step
  rm -rf "$dest.old"
  exec 8>&-
  log "${tool} built in $(( $(date +%s) - start ))s"
  echo "$bin"
}

target="${1:-all}"
case "$target" in
  prometheus3|victoriametrics|sloth) build "$target" ;;
  all) for t in prometheus3 victoriametrics sloth; do build "$t"; done ;;
  -h|--help) sed -n '2,22p' "$0" ;;
  *) echo "unknown target: $target (want prometheus3|victoriametrics|sloth|all)" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The one way sloguard gets installed: CI, developers and the container image all call this,
# so the image runs exactly what the tests ran.
#
#   hack/install.sh dev              the locked runtime dependencies, then an editable install with
#                                    the dev tools (CI, `make install`)
#   hack/install.sh wheels DIR       every runtime dependency from requirements.lock (hashes checked)
#                                    and sloguard itself as wheels into DIR (the Dockerfile's build stage)
#   hack/install.sh runtime DIR      install sloguard from the wheels in DIR only, no index
#                                    (the Dockerfile's runtime stage; no compiler needed)
#
# PYTHON selects the interpreter (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
PIP=("$PYTHON" -m pip --disable-pip-version-check --no-input)

mode="${1:-dev}"
case "$mode" in
  dev)
    "${PIP[@]}" install -q --require-hashes -r requirements.lock
    "${PIP[@]}" install -q -e '.[dev]'
    ;;
  wheels)
    out="${2:?usage: hack/install.sh wheels DIR}"
    mkdir -p "$out"
    "${PIP[@]}" wheel -q --require-hashes --wheel-dir "$out" -r requirements.lock
    "${PIP[@]}" wheel -q --no-deps --wheel-dir "$out" .
    ;;
  runtime)
    wheels="${2:?usage: hack/install.sh runtime DIR}"
    "${PIP[@]}" install -q --no-cache-dir --no-index --find-links "$wheels" sloguard
    ;;
  -h|--help)
    sed -n '2,13p' "$0"
    ;;
  *)
    echo "hack/install.sh: unknown mode '$mode' (want dev|wheels|runtime)" >&2
    exit 2
    ;;
esac

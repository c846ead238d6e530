#!/usr/bin/env bash
# Re-lock the runtime dependencies (pyproject.toml [project.dependencies]) with hashes into
# requirements.lock: every version pinned, every file's sha256 listed, markers for every platform
# and Python >= 3.11 (uv's universal resolution). The image builds from it (--require-hashes) and
# `hack/install.sh dev` installs it first, so the tests run exactly what the image ships.
#
#   hack/lock.sh             keep current pins where they still satisfy pyproject.toml
#   hack/lock.sh --upgrade   move every pin to the newest allowed version
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
"$PYTHON" -m uv --version >/dev/null 2>&1 || "$PYTHON" -m pip install -q --disable-pip-version-check uv
"$PYTHON" -m uv pip compile pyproject.toml --universal --generate-hashes --python-version 3.11 \
  --custom-compile-command "hack/lock.sh" --quiet --output-file requirements.lock "$@"
echo "requirements.lock: $(grep -c '==' requirements.lock) packages pinned with hashes"

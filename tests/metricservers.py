"""Which metric server the tests run on, and where its binaries are: one place for every suite.

``SLOGUARD_PROMETHEUS`` selects the server the integration suite reads from:

* ``3`` (the default, the reference): Prometheus 3 (``prometheus`` + ``promtool`` v0.316.0),
  built once from the Go module proxy by ``hack/build-tools.sh prometheus3`` into
  ``~/.cache/sloguard/prometheus3-<version>/bin``;
* ``2``: Debian's Prometheus 2.42 (``/usr/bin/prometheus``, ``/usr/bin/promtool``);
* ``vm``: VictoriaMetrics single-node (``hack/build-tools.sh victoriametrics``), loaded through
  its import API; its rules are still checked with Prometheus 3's ``promtool``.

The rules (promtool) and e2e suites follow ``2`` or ``3`` and use Prometheus 3 otherwise.
``PROMETHEUS_BIN`` / ``PROMTOOL_BIN`` / ``VICTORIAMETRICS_BIN`` override a binary's path.
A binary not built yet is built by the script (it waits on the build lock when a build runs).
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
KINDS = ("2", "3", "vm")
DEBIAN_BIN = Path("/usr/bin")


def kind() -> str:
    """The server selected by ``SLOGUARD_PROMETHEUS`` (``3`` when unset)."""
    value = os.environ.get("SLOGUARD_PROMETHEUS", "3").strip().lower() or "3"
    if value not in KINDS:
        raise RuntimeError(f"SLOGUARD_PROMETHEUS={value!r}: expected one of {', '.join(KINDS)}")
    return value


def prometheus_version() -> int:
    """The Prometheus major version the Prometheus-only suites (rules, e2e) run on: 2 or 3."""
    return 2 if kind() == "2" else 3


@functools.cache
def built(tool: str) -> Path:
    """The bin dir of ``tool`` from ``hack/build-tools.sh`` (the script's last stdout line)."""
    proc = subprocess.run(
        ["bash", str(REPO_ROOT / "hack" / "build-tools.sh"), tool], capture_output=True, text=True, check=False
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"hack/build-tools.sh {tool} failed:\n{proc.stderr[-3000:]}")
    return Path(lines[-1])


def prometheus_bin(version: int | None = None) -> str:
    """``prometheus`` of ``version`` (2 or 3; default: :func:`prometheus_version`)."""
    version = version or prometheus_version()
    if os.environ.get("PROMETHEUS_BIN") and version == prometheus_version():
        return os.environ["PROMETHEUS_BIN"]
    return str(DEBIAN_BIN / "prometheus") if version == 2 else str(built("prometheus3") / "prometheus")


def promtool_bin(version: int | None = None) -> str:
    """``promtool`` of ``version`` (2 or 3; default: :func:`prometheus_version`)."""
    version = version or prometheus_version()
    if os.environ.get("PROMTOOL_BIN") and version == prometheus_version():
        return os.environ["PROMTOOL_BIN"]
    return str(DEBIAN_BIN / "promtool") if version == 2 else str(built("prometheus3") / "promtool")


def victoriametrics_bin() -> str:
    return os.environ.get("VICTORIAMETRICS_BIN") or str(built("victoriametrics") / "victoria-metrics")

"""Make the equivalence helper module importable as ``equivalence``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import subprocess  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sloth_bin() -> Path:
    """Sloth v0.16.0 from the shared cache; built (or waited for) with hack/build-tools.sh like the e2e binaries."""
    proc = subprocess.run(["bash", str(REPO / "hack/build-tools.sh"), "sloth"], capture_output=True, text=True,
                          timeout=3600, check=False)
    assert proc.returncode == 0, f"building Sloth failed:\n{proc.stdout}\n{proc.stderr}"
    binary = Path(proc.stdout.strip().splitlines()[-1]) / "sloth"
    assert binary.exists(), proc.stdout
    return binary

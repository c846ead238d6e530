"""The generated reference is up to date and the install docs name files that exist."""

from __future__ import annotations

import re
import subprocess
import sys

from sloguard.api.crdgen import all_crds

from .conftest import REPO_ROOT


def test_the_reference_is_generated_from_the_current_schemas():
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "hack" / "gen-reference.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    text = (REPO_ROOT / "docs" / "reference.md").read_text()
    for crd in all_crds():
        assert f"## {crd['spec']['names']['kind']}" in text


def test_paths_named_in_the_docs_exist():
    for doc in ("install.md", "operations.md", "metrics.md", "security.md"):
        text = (REPO_ROOT / "docs" / doc).read_text()
        for path in re.findall(r"`((?:charts|manifests|argocd|hack|docs)/[\w./-]+)`", text):
            assert (REPO_ROOT / path.rstrip("/")).exists(), f"{doc} names {path}"

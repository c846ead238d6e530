"""Packaging fixtures: helm, and a control plane *without* sloguard's CRDs (the chart brings them).

The cluster is the same local control plane as tests/e2e (``sloguard_dev.cluster``), started with
only the PrometheusRule CRD that prometheus-operator would provide, so the chart installs into a
cluster as fresh as a platform team's.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..e2e.conftest import REPO_ROOT, TestCluster, pinned_k8s_version

sys.path.insert(0, str(REPO_ROOT / "hack"))

CHART = REPO_ROOT / "charts" / "sloguard"
CRDS_CHART = REPO_ROOT / "charts" / "sloguard-crds"


@pytest.fixture(scope="session")
def helm() -> str:
    """helm built from the Go module proxy by hack/build-k8s.sh (reused when already built)."""
    out = subprocess.run(["bash", str(REPO_ROOT / "hack" / "build-k8s.sh"), "helm"], check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()
    path = Path(out[-1]) / "helm"
    assert path.is_file(), f"hack/build-k8s.sh helm did not produce {path}"
    return str(path)


@pytest.fixture(scope="session")
def fresh_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCluster]:
    from sloguard_dev import cluster as devcluster

    state_dir = tmp_path_factory.mktemp("packaging-cluster")
    cluster = devcluster.up(state_dir, [REPO_ROOT / "hack" / "crds"], log=lambda msg: print(msg, file=sys.stderr))
    try:
        yield TestCluster(kubeconfig=cluster.kubeconfig, flavour="local", expected_version=pinned_k8s_version())
    finally:
        devcluster.down(state_dir)

"""End-to-end fixtures: a real Kubernetes API server for the whole test session.

By default the session runs against a local control plane (etcd,
kube-apiserver, kube-controller-manager as plain processes, see
``sloguard_dev.cluster``), because this project's machines have no container
engine. ``SLOGUARD_TEST_CLUSTER=kind`` selects a kind cluster via pytest-kind
instead, for machines that do have Docker; it is the only way these tests are
ever skipped, and then with an explicit reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

try:
    from sloguard_dev import cluster as devcluster
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(REPO_ROOT / "operator"))
    from sloguard_dev import cluster as devcluster

CRD_DIRS = [REPO_ROOT / "crds", REPO_ROOT / "hack" / "crds"]


def pinned_k8s_version() -> str:
    """The Kubernetes version hack/build-k8s.sh builds (``K8S_VERSION`` overrides)."""
    if os.environ.get("K8S_VERSION"):
        return os.environ["K8S_VERSION"]
    script = (REPO_ROOT / "hack" / "build-k8s.sh").read_text()
    match = re.search(r'K8S_VERSION="\$\{K8S_VERSION:-(v[0-9.]+)\}"', script)
    assert match, "could not find the pinned K8S_VERSION in hack/build-k8s.sh"
    return match.group(1)


@dataclass
class TestCluster:
    """What e2e tests need to know about the cluster under test."""

    __test__ = False  # not a test class, despite the name

    kubeconfig: Path
    flavour: str  # "local" or "kind"
    #: Version the cluster should report; empty when not pinned (kind).
    expected_version: str = ""

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster; ``check`` raises with stderr on failure."""
        proc = subprocess.run(
            ["kubectl", *args],
            input=input,
            env={**os.environ, "KUBECONFIG": str(self.kubeconfig)},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def exists(self, *args: str) -> bool:
        """Whether ``kubectl get ARGS`` finds anything (NotFound is not an error)."""
        proc = self.kubectl("get", *args, "--ignore-not-found", "-o", "name")
        return bool(proc.stdout.strip())

    @staticmethod
    def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, interval: float = 0.5, what: str = "") -> None:
        """Poll ``predicate`` until true (no fixed sleeps); fail the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(interval)
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what or predicate}")


def _local_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCluster]:
    state_dir = tmp_path_factory.mktemp("devcluster")
    cluster = devcluster.up(state_dir, CRD_DIRS, log=lambda msg: print(msg, file=sys.stderr))
    try:
        yield TestCluster(kubeconfig=cluster.kubeconfig, flavour="local", expected_version=pinned_k8s_version())
    finally:
        devcluster.down(state_dir)


def _kind_cluster() -> Iterator[TestCluster]:
    if not any(shutil.which(engine) for engine in ("docker", "podman")):
        pytest.skip("SLOGUARD_TEST_CLUSTER=kind needs a container engine (Docker); none on this machine")
    from pytest_kind import KindCluster  # type: ignore[import-not-found]

    kind = KindCluster("sloguard-e2e")
    kind.create()
    try:
        cluster = TestCluster(kubeconfig=Path(kind.kubeconfig_path), flavour="kind")
        for directory in CRD_DIRS:
            if directory.is_dir() and any(directory.iterdir()):
                cluster.kubectl("apply", "--server-side", "-f", str(directory))
        cluster.kubectl("wait", "--for", "condition=established", "--timeout=60s", "crd", "--all")
        yield cluster
    finally:
        kind.delete()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCluster]:
    """A real API server with the sloguard and PrometheusRule CRDs installed.

    ``KUBECONFIG`` points at it for the whole session so that subprocesses and
    clients created by tests pick it up without extra plumbing.
    """
    flavour = os.environ.get("SLOGUARD_TEST_CLUSTER", "local") or "local"
    if flavour == "local":
        source = _local_cluster(tmp_path_factory)
    elif flavour == "kind":
        source = _kind_cluster()
    else:
        raise pytest.UsageError(f"SLOGUARD_TEST_CLUSTER={flavour!r}: expected 'local' (default) or 'kind'")
    with pytest.MonkeyPatch.context() as patch:
        for test_cluster in source:
            patch.setenv("KUBECONFIG", str(test_cluster.kubeconfig))
            yield test_cluster


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real Prometheus (the selected server) over the last two days of the integration history.

    Modules that need other data define their own ``prometheus`` fixture, which takes precedence.
    """
    from tests.integration.conftest import build_history, recent_history_server

    server = recent_history_server(build_history(), tmp_path_factory.mktemp("prom"))
    server.start()
    yield server
    server.stop()


# --- status drift: what the operator writes and what the API server stores match the CRDs ------------

#: Kinds whose status the operator writes, by plural (what `kubectl get` takes).
STATUS_KINDS = {"servicelevelobjectives": "ServiceLevelObjective", "errorbudgetpolicies": "ErrorBudgetPolicy",
                "slacontracts": "SLAContract"}


@pytest.fixture(scope="session")
def status_writes() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Every status the in-process operator sends to the API server: (kind, namespace/name, status).

    Recorded where every status writer goes through (``Kube.patch_status``, ``Kube.apply_status``);
    the writes still happen, unchanged.
    """
    import copy

    from sloguard.adapters.kube import Kube

    writes: list[tuple[str, str, dict[str, Any]]] = []
    patch_status, apply_status = Kube.patch_status, Kube.apply_status

    def recording_patch(self: Kube, api_version: str, kind: str, name: str, namespace: str,
                        status: Any, *args: Any, **kwargs: Any) -> Any:
        writes.append((kind, f"{namespace}/{name}", copy.deepcopy(dict(status))))
        return patch_status(self, api_version, kind, name, namespace, status, *args, **kwargs)

    def recording_apply(self: Kube, api_version: str, kind: str, name: str, namespace: str,
                        status: Any, *args: Any, **kwargs: Any) -> Any:
        writes.append((kind, f"{namespace}/{name}", copy.deepcopy(dict(status))))
        return apply_status(self, api_version, kind, name, namespace, status, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Kube, "patch_status", recording_patch)
        mp.setattr(Kube, "apply_status", recording_apply)
        yield writes


_SERVED_STATUS_SCHEMAS: dict[str, dict[str, Any]] = {}


@pytest.fixture(autouse=True)
def status_matches_the_crd_schema(request: pytest.FixtureRequest,
                                  status_writes: list[tuple[str, str, dict[str, Any]]]) -> Iterator[None]:
    """After every test on the cluster: each status written during it, and each status stored,
    declares no field the served CRD lacks and has the declared types (tests/e2e/status_schema.py)."""
    if "cluster" not in request.fixturenames:
        yield
        return
    import json

    from .status_schema import findings, status_schema

    cluster: TestCluster = request.getfixturevalue("cluster")
    start = len(status_writes)
    yield
    if not _SERVED_STATUS_SCHEMAS:
        for plural, kind in STATUS_KINDS.items():
            crd = json.loads(cluster.kubectl("get", "crd", f"{plural}.sloguard.io", "-o", "json").stdout)
            _SERVED_STATUS_SCHEMAS[kind] = status_schema(crd)
    problems = [f"{kind} {ref} as written: {f}" for kind, ref, status in list(status_writes[start:])
                if kind in _SERVED_STATUS_SCHEMAS for f in findings(status, _SERVED_STATUS_SCHEMAS[kind])]
    stored = json.loads(cluster.kubectl("get", ",".join(STATUS_KINDS), "-A", "-o", "json").stdout)["items"]
    for item in stored:
        meta = item["metadata"]
        problems += [f"{item['kind']} {meta.get('namespace')}/{meta['name']} as stored: {f}"
                     for f in findings(item.get("status"), _SERVED_STATUS_SCHEMAS[item["kind"]])]
    assert not problems, "status and CRD schema disagree:\n" + "\n".join(problems)

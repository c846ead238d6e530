"""Nothing is retried forever that cannot succeed: a request the API server refuses as invalid (422)
is the SLO's ``Ready=False`` with the reason, and no retry is scheduled (real API server).

The operator here is given a rule label whose value Kubernetes refuses, so every PrometheusRule it
applies is refused with 422 Invalid — the same answer as for any request that cannot succeed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kopf.testing import KopfRunner

from sloguard.handlers.slo import RETRY_MAX, retry_delay

from ..support.operator import operator_runner
from .conftest import TestCluster

NS = "e2e-permanent"


@pytest.fixture(scope="module")
def operator(cluster: TestCluster) -> Iterator[KopfRunner]:
    cluster.kubectl("create", "namespace", NS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLOGUARD_WEBHOOK", "false")
        mp.setenv("SLOGUARD_NAMESPACES", NS)
        mp.setenv("SLOGUARD_RULE_LABELS", "team=not a label value!")
        with operator_runner(NS) as runner:
            yield runner
    assert runner.exception is None, runner.exception


def ready(cluster: TestCluster, name: str) -> dict:
    proc = cluster.kubectl("get", "slo", "-n", NS, name, "-o", "json", check=False)
    status = json.loads(proc.stdout).get("status", {}) if proc.returncode == 0 else {}
    return next((x for x in status.get("conditions", []) if x["type"] == "Ready"), {})


def test_an_apply_refused_as_invalid_is_reported_and_not_retried(cluster: TestCluster, operator: KopfRunner,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    body = {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
            "metadata": {"name": "refused", "namespace": NS},
            "spec": {"service": "checkout", "objective": 99.9,
                     "sli": {"ratio": {"errors": 'x{code="500"}', "total": "x"}}}}
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(body))
    cluster.wait_until(lambda: ready(cluster, "refused").get("reason") == "ApplyRejected", timeout=60,
                       what="Ready=False ApplyRejected")
    r = ready(cluster, "refused")
    assert r["status"] == "False" and "422" in r["message"] and "metadata.labels" in r["message"], r
    cluster.wait_until(lambda: any("Handler 'reconcile_slo' succeeded" in m for m in caplog.messages), timeout=30,
                       what="the handler to finish")
    # kopf logs a retry the moment a handler fails temporarily; a permanent refusal schedules none.
    assert not [m for m in caplog.messages if "reconcile_slo" in m and "failed" in m]


def test_transient_failures_back_off_up_to_five_minutes() -> None:
    assert [retry_delay(n) for n in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]
    assert RETRY_MAX == 300


def test_the_operator_refuses_to_start_without_promtool(cluster: TestCluster, tmp_path: Path) -> None:
    missing = tmp_path / "no-promtool"
    proc = subprocess.run([sys.executable, "-m", "sloguard", "run", "--standalone", "-n", NS, "--liveness=",
                           "--promtool", str(missing)], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)})
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"sloguard run: promtool not found ({str(missing)!r}): sloguard checks every generated rule with "
        "Prometheus' own validation before applying it. Install promtool (the image ships it), put it on PATH, "
        "or point SLOGUARD_PROMTOOL / --promtool at it.")


def test_kopf_run_without_promtool_fails_its_startup_too(cluster: TestCluster, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLOGUARD_WEBHOOK", "false")
        mp.setenv("SLOGUARD_NAMESPACES", NS)
        mp.setenv("SLOGUARD_PROMTOOL", str(tmp_path / "no-promtool"))
        with operator_runner(NS, timeout=60, reraise=False):
            TestCluster.wait_until(lambda: any("require_promtool' failed permanently" in m for m in caplog.messages),
                                   timeout=30, what="the startup check to fail")

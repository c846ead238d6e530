"""Two replicas with kopf peering: one works, the other stands by, and takes over when it goes.

Both run `sloguard run --peering` as real processes against the local control plane. kopf
pauses every operator when priorities tie, so `sloguard run` draws a random priority per
replica; the budget refresh (not a kopf handler) is led by whoever holds a Lease.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.conftest import build_history, recent_history_server
from tests.integration.promfixture import PrometheusServer

from .conftest import REPO_ROOT, TestCluster

NS = "e2e-peering"
PEERING = "e2e-peering"
T = datetime(2025, 3, 30, 22, 15, tzinfo=UTC)


class Replica:
    def __init__(self, name: str, cluster: TestCluster, prometheus: PrometheusServer, log: Path):
        self.name, self.log = name, log
        env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig), "POD_NAME": name, "POD_NAMESPACE": NS,
               "SLOGUARD_EVALUATE_AT": T.isoformat(), "SLOGUARD_POLICIES": "false", "SLOGUARD_SLA": "false"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sloguard", "run", "-n", NS, "--peering", PEERING, "--liveness", "",
             "--prometheus", prometheus.url, "--refresh-interval", "1"],
            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    server = recent_history_server(build_history(), tmp_path_factory.mktemp("prom-peering"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def replicas(cluster: TestCluster, prometheus: PrometheusServer,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Replica]]:
    cluster.kubectl("apply", "--server-side", "-f", str(REPO_ROOT / "hack" / "kopf" / "peering-crds.yaml"))
    cluster.kubectl("wait", "--for", "condition=established", "--timeout=60s", "crd/kopfpeerings.kopf.dev")
    cluster.kubectl("create", "namespace", NS)
    cluster.kubectl("apply", "-f", "-", input=json.dumps(
        {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": PEERING, "namespace": NS}}))
    logs = tmp_path_factory.mktemp("replicas")
    started = [Replica(f"replica-{i}", cluster, prometheus, logs / f"replica-{i}.log") for i in (1, 2)]
    try:
        yield started
    finally:
        for r in started:
            r.stop()


def slo(name: str) -> str:
    return json.dumps({
        "apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"service": "checkout", "objective": 99.9, "window": "28d",
                 "sli": {"ratio": {"errors": 'http_requests_total{service="checkout",code="500"}',
                                   "total": 'http_requests_total{service="checkout"}'}}}})


def status(cluster: TestCluster, name: str) -> dict:
    return json.loads(cluster.kubectl("get", "slo", "-n", NS, name, "-o", "json").stdout).get("status", {})


def test_one_replica_works_and_the_other_stands_by(cluster, replicas):
    cluster.wait_until(lambda: sum("Pausing operations in favour of" in r.output() for r in replicas) == 1,
                       timeout=90, interval=1, what="one replica paused in favour of the other")
    cluster.kubectl("apply", "-f", "-", input=slo("checkout"))
    cluster.wait_until(lambda: status(cluster, "checkout").get("state") == "exhausted", timeout=90, interval=1,
                       what="rules and budget in status")
    assert cluster.exists("prometheusrule", "-n", NS, "checkout-slo")
    active = [r for r in replicas if "Pausing operations" not in r.output()]
    assert len(active) == 1 and "Handler 'reconcile_slo' succeeded" in active[0].output()
    standby = [r for r in replicas if r is not active[0]][0]
    assert "Handler 'reconcile_slo'" not in standby.output()
    # exactly one replica leads the budget refresh
    assert sum("budget refresh leads" in r.output() for r in replicas) == 1


def test_the_standby_takes_over_when_the_active_replica_stops(cluster, replicas):
    active = next(r for r in replicas if "Pausing operations" not in r.output())
    standby = next(r for r in replicas if r is not active)
    active.stop()
    cluster.wait_until(lambda: "Resuming operations" in standby.output(), timeout=120, interval=1,
                       what="the standby resumes")
    cluster.kubectl("apply", "-f", "-", input=slo("checkout-2"))
    cluster.wait_until(lambda: cluster.exists("prometheusrule", "-n", NS, "checkout-2-slo"), timeout=90,
                       interval=1, what="the new active replica reconciles")
    cluster.wait_until(lambda: status(cluster, "checkout-2").get("state") == "exhausted", timeout=120,
                       interval=1, what="the budget refresh moved to the standby once the lease expired")
    assert "budget refresh leads" in standby.output()

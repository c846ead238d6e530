"""Budget by cause on the local control plane: the CRD's rules, the operator's status, -o wide.

A real Prometheus holds the last two days of the integration history (an outage at 50% errors
from 21:30, under way at ``T`` = 22:15 on 30 March 2025). The SLO declares a maintenance window
21:30-21:45; an SLAContract listing the service in ``spec.services`` declares 21:45-22:00; another
contract, not listing it, declares 22:00-22:15 (it must not count). Expected fractions come from
the history's per-minute counts, never from sloguard.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import yaml
from kopf.testing import KopfRunner

from tests.integration.conftest import build_history
from tests.integration.promfixture import PrometheusServer

from ..support import factories
from ..support.operator import operator_runner
from .conftest import TestCluster

NS = "e2e-causes"
T = datetime(2025, 3, 30, 22, 15, tzinfo=UTC)
CHECKOUT = {"errors": 'http_requests_total{service="checkout",code="500"}',
            "total": 'http_requests_total{service="checkout"}'}
SLO = factories.slo("checkout-causes", NS, service="checkout", objective=99.9, window="1d",
                    sli={"ratio": CHECKOUT},
                    workloads=[{"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"}}}],
                    maintenance={"windows": [{"start": "2025-03-30T21:30:00Z", "end": "2025-03-30T21:45:00Z",
                                              "description": "database failover drill"}]})


def contract(name: str, services: list[str], start: str, end: str) -> dict:
    return factories.resource("SLAContract", name, NS, {
        "customer": {"id": name}, "contractId": f"C-{name}", "fee": {"monthly": 100}, "services": services,
        "maintenance": {"windows": [{"start": start, "end": end}]},
        "terms": [{"name": "availability", "type": "availability", "objective": 99.9, "sli": {"ratio": CHECKOUT},
                   "credits": [{"below": 99.9, "percent": 10}]}]})


CONTRACTS = [contract("acme", ["checkout"], "2025-03-30T21:45:00Z", "2025-03-30T22:00:00Z"),
             contract("other", ["search"], "2025-03-30T22:00:00Z", "2025-03-30T22:15:00Z")]


@pytest.fixture(scope="module")
def operator(cluster: TestCluster, prometheus: PrometheusServer,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[KopfRunner]:
    cluster.kubectl("create", "namespace", NS)
    path = tmp_path_factory.mktemp("causes") / "objects.yaml"
    path.write_text(yaml.safe_dump_all([*CONTRACTS, SLO]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLOGUARD_PROMETHEUS_URL", prometheus.url)
        mp.setenv("SLOGUARD_EVALUATE_AT", T.isoformat())
        mp.setenv("SLOGUARD_REFRESH_INTERVAL", "1")
        mp.setenv("SLOGUARD_WEBHOOK", "false")
        with operator_runner() as runner:
            cluster.kubectl("apply", "-f", str(path))
            yield runner
    assert runner.exception is None, runner.exception


def status(cluster: TestCluster) -> dict:
    return json.loads(cluster.kubectl("get", "slo", "-n", NS, "checkout-causes", "-o", "json").stdout).get(
        "status", {})


def test_status_splits_the_outage_into_maintenance_and_incidents(cluster, operator):
    cluster.wait_until(lambda: (status(cluster).get("budget") or {}).get("byCause") is not None,
                       timeout=120, interval=1, what="status.budget.byCause")
    h = build_history()
    everything, total = h.checkout(T, 86400)  # the 1-day window's bad and all requests
    denominator = 0.001 * total
    at = datetime(2025, 3, 30, 22, 0, tzinfo=UTC)
    maintenance, _ = h.checkout(at, 1800)  # 21:30-22:00: the SLO's window, then the contract's
    outage_rest, _ = h.checkout(T, 900)  # 22:00-22:15: the other contract does not cover checkout
    assert everything > maintenance + outage_rest > maintenance > 0  # the day's background errors too
    got = status(cluster)["budget"]
    assert got["byCause"]["releases"] == 0  # no Deployment matches: no rollouts
    assert got["byCause"]["maintenance"] == pytest.approx(maintenance / denominator, rel=2e-3)
    assert got["byCause"]["incidents"] == pytest.approx((everything - maintenance) / denominator, rel=2e-3)
    assert got["consumed"] == pytest.approx(everything / denominator, rel=2e-3)


def test_kubectl_get_wide_shows_the_three_causes(cluster, operator):
    cluster.wait_until(lambda: (status(cluster).get("budget") or {}).get("byCause") is not None,
                       timeout=120, interval=1, what="status.budget.byCause")
    out = cluster.kubectl("get", "slo", "-n", NS, "checkout-causes", "-o", "wide").stdout
    header, row = out.splitlines()[:2]
    by_cause = status(cluster)["budget"]["byCause"]
    for cause in ("RELEASES", "MAINTENANCE", "INCIDENTS"):
        at = header.index(cause)
        assert row[at:].split()[0] == f"{by_cause[cause.lower()]:g}", (cause, header, row)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("maintenance", {"windows": [{"start": "2025-03-30T22:00:00Z", "end": "2025-03-30T21:00:00Z"}]},
     "end must be after start"),
    ("releaseSettle", "0m", "must be longer than zero"),
    ("workloads", [{"kind": "Job", "selector": {}}], "spec.workloads[0].kind"),
])
def test_the_api_server_refuses_bad_values_without_the_operator(cluster, operator, tmp_path, field, value,
                                                                 message):
    bad = factories.slo("bad-causes", NS, service="checkout", sli={"ratio": CHECKOUT}, **{field: value})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    proc = subprocess.run(["kubectl", "--kubeconfig", str(cluster.kubeconfig), "apply", "-f", str(path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr



def test_sloguard_budget_from_the_cluster_reads_the_contracts_maintenance_too(cluster, operator, prometheus):
    import sys

    cluster.wait_until(lambda: (status(cluster).get("budget") or {}).get("byCause") is not None,
                       timeout=120, interval=1, what="status.budget.byCause")
    proc = subprocess.run([sys.executable, "-m", "sloguard.cli", "budget", "--prometheus", prometheus.url, "--at",
                           T.isoformat().replace("+00:00", "Z"), "-o", "json", "--from-cluster", "-n", NS,
                           "--kubeconfig", str(cluster.kubeconfig)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    [row] = json.loads(proc.stdout)
    live = status(cluster)["budget"]["byCause"]
    # the same split as the operator's (4 significant digits there); no rollouts either way
    assert row["errorBudget"]["byCause"] == pytest.approx(live, rel=1e-3)
    # with --from-cluster the CLI reads the linked workloads' rollouts as the operator does
    assert "releases count as 0" not in proc.stderr, proc.stderr
    assert "byCause unknown" not in proc.stderr, proc.stderr

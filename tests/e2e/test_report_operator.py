"""The operator finalizes a report per SLO and calendar month into an immutable ConfigMap.

A real Prometheus (the server the suite runs on) holds synthetic history, 5-minute samples from
30 June to 1 November 2026 02:00 UTC, for one checkout service: 1,000 requests every 5 minutes,
errors only during these known incidents:

* August: 60 minutes at 100% errors on the 5th, 02:00 (12,000 bad)
* September: 50 minutes at 100% errors on the 10th, 02:00 (10,000 bad)
* October: 30 minutes at 100% errors on the 14th, 10:00 (6,000 bad) and one hour at 10% errors
  on the 20th, 14:00 (1,200 bad)

The operator runs with its clock pinned (``SLOGUARD_EVALUATE_AT``) to 1 November 02:00 UTC:
October ended two hours ago (more than the one-hour grace), so October's report is due. Expected
figures are computed here from those lists with plain arithmetic, never with sloguard's code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.integration.promfixture import server_from_lines
from tests.support.incidents import IncidentHistory

from ..support.cluster import get_json
from ..support.operator import Operator, running_operator
from .conftest import TestCluster

pytestmark = pytest.mark.e2e

NS = "e2e-report"
SLO_NAME = "checkout"
CM = f"slo-report-{SLO_NAME}-2026-10"
T = datetime(2026, 11, 1, 2, tzinfo=UTC)
START = datetime(2026, 6, 30, 22, tzinfo=UTC)
STEP = timedelta(minutes=5)
PER_STEP = 1000
OBJECTIVE = 0.999

INCIDENTS = [  # (start, minutes, error share)
    (datetime(2026, 8, 5, 2, tzinfo=UTC), 60, 1.0),
    (datetime(2026, 9, 10, 2, tzinfo=UTC), 50, 1.0),
    (datetime(2026, 10, 14, 10, tzinfo=UTC), 30, 1.0),
    (datetime(2026, 10, 20, 14, tzinfo=UTC), 60, 0.10),
]
MONTHS = {"2026-07": (datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC)),
          "2026-08": (datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)),
          "2026-09": (datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)),
          "2026-10": (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))}




DATA = IncidentHistory(START, T, tuple(INCIDENTS), PER_STEP, STEP)


def month_figures(label: str) -> tuple[float, float]:
    """(bad, total) requests of a month, from the lists above."""
    a, b = MONTHS[label]
    return DATA.bad_between(a, b), DATA.total_between(a, b)


SLO_DOC = {
    "apiVersion": "sloguard.io/v1alpha1",
    "kind": "ServiceLevelObjective",
    "metadata": {"name": SLO_NAME, "namespace": NS},
    "spec": {"service": "checkout", "objective": 99.9, "window": "month",
             "sli": {"ratio": {"errors": 'http_requests_total{job="checkout",code="500"}',
                               "total": 'http_requests_total{job="checkout"}'}}},
}


def report_maps(cluster: TestCluster) -> list[dict]:
    return get_json(cluster, "configmap", "-n", NS, "-l", f"sloguard.io/slo={SLO_NAME},sloguard.io/period")["items"]


def slo_status(cluster: TestCluster) -> dict:
    return get_json(cluster, "slo", "-n", NS, SLO_NAME).get("status") or {}


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with server_from_lines(DATA.history(), tmp_path_factory.mktemp("report-e2e-prom")) as srv:
        yield srv.url


@pytest.fixture(scope="module")
def operator(cluster: TestCluster, prometheus: str) -> Iterator[Operator]:
    cluster.kubectl("create", "namespace", NS)
    with running_operator(NS, {"SLOGUARD_PROMETHEUS_URL": prometheus, "SLOGUARD_EVALUATE_AT": T.isoformat(),
                               "SLOGUARD_REFRESH_INTERVAL": "2", "SLOGUARD_WEBHOOK": "false"}) as op:
        yield op


@pytest.fixture(scope="module")
def stored(cluster: TestCluster, operator: Operator) -> dict:
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(SLO_DOC))
    cluster.wait_until(lambda: len(report_maps(cluster)) == 1, timeout=120, what=f"ConfigMap {CM}")
    [cm] = report_maps(cluster)
    return cm


def test_octobers_report_is_stored_with_the_figures_of_the_synthetic_history(cluster, prometheus, stored,
                                                                               tmp_path: Path):
    cm = stored
    meta = cm["metadata"]
    assert meta["name"] == CM and cm["immutable"] is True
    assert meta["labels"] == {"sloguard.io/slo": SLO_NAME, "sloguard.io/period": "2026-10",
                              "app.kubernetes.io/managed-by": "sloguard"}
    assert "ownerReferences" not in meta  # reports outlive the SLO
    doc = json.loads(cm["data"]["report.json"])
    assert (doc["period"], doc["from"], doc["to"], doc["complete"]) == (
        "2026-10", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", True)
    [one] = doc["slos"]
    bad, total = month_figures("2026-10")
    assert (bad, total) == (7_200, 8_928_000)  # 31 days x 288 steps x 1,000
    assert (one["namespace"], one["name"], one["service"], one["objective"]) == (NS, SLO_NAME, "checkout", OBJECTIVE)
    assert one["totalEvents"] == pytest.approx(total) and one["goodEvents"] == pytest.approx(total - bad)
    assert one["attainment"] == pytest.approx((total - bad) / total, abs=1e-9)
    assert one["budgetConsumed"] == pytest.approx(bad / ((1 - OBJECTIVE) * total), rel=1e-6)
    assert [(h["from"], h["badEvents"]) for h in one["worstHours"]] == [
        ("2026-10-14T10:00:00Z", pytest.approx(6_000)), ("2026-10-20T14:00:00Z", pytest.approx(1_200))]
    trend = {p["period"]: p for p in one["trend"]}
    assert list(trend) == ["2026-09", "2026-08", "2026-07"]
    for label in trend:
        b, n = month_figures(label)
        assert trend[label]["budgetConsumed"] == pytest.approx(b / ((1 - OBJECTIVE) * n), rel=1e-6), label
    # Over budget in September (10,000 > 8,640) and August (12,000 > 8,928): relax or invest.
    assert any("exhausted in 2 of the last 3 periods" in h for h in one["hints"]), one["hints"]
    assert "# SLO report 2026-10" in cm["data"]["report.md"]

    # The operator stores what `sloguard report` prints for the same period and instant.
    path = tmp_path / "slo.yaml"
    path.write_text(yaml.safe_dump(SLO_DOC))
    cli = subprocess.run([sys.executable, "-m", "sloguard", "report", "--prometheus", prometheus, "--period", "2026-10",
                          "--at", T.isoformat(), "-o", "json", str(path)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert cli.returncode == 0, cli.stderr
    assert doc == json.loads(cli.stdout)


def test_the_slo_status_and_an_event_name_the_report(cluster, stored):
    cluster.wait_until(lambda: bool(slo_status(cluster).get("lastReport")), timeout=60, what="status.lastReport")
    st = slo_status(cluster)
    assert st["lastReport"] == {"period": "2026-10", "configMap": CM}
    cond = next(c for c in st["conditions"] if c["type"] == "ReportFinalized")
    assert cond["status"] == "True" and CM in cond["message"]
    events = get_json(cluster, "events", "-n", NS, "--field-selector", f"involvedObject.name={SLO_NAME}")["items"]
    assert [e["type"] for e in events if e["reason"] == "ReportFinalized"] == ["Normal"]


def test_deleting_the_slo_keeps_its_reports_and_a_recreated_slo_finds_them(cluster, operator, stored):
    version = stored["metadata"]["resourceVersion"]
    cluster.kubectl("delete", "slo", "-n", NS, SLO_NAME, "--wait=true", timeout=120)
    assert not cluster.exists("slo", "-n", NS, SLO_NAME)
    [cm] = report_maps(cluster)
    assert cm["metadata"]["resourceVersion"] == version

    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(SLO_DOC))  # no status: learns of it, writes nothing
    cluster.wait_until(lambda: (slo_status(cluster).get("lastReport") or {}).get("configMap") == CM, timeout=90,
                       what="status.lastReport of the re-created SLO")
    [cm] = report_maps(cluster)
    assert cm["metadata"]["resourceVersion"] == version


def test_a_report_missing_after_a_restart_is_created_again(cluster, operator, stored):
    operator.stop()
    cluster.kubectl("delete", "configmap", "-n", NS, CM)
    operator.start()
    cluster.wait_until(lambda: len(report_maps(cluster)) == 1, timeout=120, what=f"{CM} created again")
    [cm] = report_maps(cluster)
    assert cm["data"] == stored["data"]

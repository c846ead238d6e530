"""Live budgets on the local control plane agree with `sloguard budget` on the same history.

A real Prometheus holds two days of synthetic counters (the integration suite's history: an
outage at 50% errors is under way at ``T``). The operator evaluates at the pinned instant ``T``
(``SLOGUARD_EVALUATE_AT``: the history lies in the past, as TSDB blocks must), so its status can
be compared figure by figure with the CLI's JSON for the same instant.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from kopf.testing import KopfRunner

from tests.integration.promfixture import PrometheusServer

from ..support import factories
from ..support.cluster import condition
from ..support.operator import operator_runner
from .conftest import TestCluster

NS = "e2e-budget"
T = datetime(2025, 3, 30, 22, 15, tzinfo=UTC)
CHECKOUT = {"errors": 'http_requests_total{service="checkout",code="500"}',
            "total": 'http_requests_total{service="checkout"}'}
QUIET = {"errors": 'http_requests_total{service="quiet",code="500"}', "total": 'http_requests_total{service="quiet"}'}


def slo(name: str, objective: float, ratio: dict[str, str], window: str = "28d") -> dict:
    return factories.slo(name, NS, service=name, objective=objective, window=window, sli={"ratio": ratio})


SLOS = [slo("checkout", 99.9, CHECKOUT), slo("checkout-lenient", 90, CHECKOUT), slo("quiet", 99.9, QUIET),
        slo("checkout-weekly", 99.5, CHECKOUT, window="7d"),
        # two days of history in a 90-day window: less than 5% of it has data
        slo("checkout-quarter", 99.9, CHECKOUT, window="90d")]


@pytest.fixture(scope="module")
def slo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("slos") / "slos.yaml"
    path.write_text(yaml.safe_dump_all(SLOS))
    return path


@pytest.fixture(scope="module")
def operator(cluster: TestCluster, prometheus: PrometheusServer, slo_file: Path) -> Iterator[KopfRunner]:
    cluster.kubectl("create", "namespace", NS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLOGUARD_PROMETHEUS_URL", prometheus.url)
        mp.setenv("SLOGUARD_EVALUATE_AT", T.isoformat())
        mp.setenv("SLOGUARD_REFRESH_INTERVAL", "1")
        mp.setenv("SLOGUARD_WEBHOOK", "false")
        with operator_runner() as runner:
            cluster.kubectl("apply", "-f", str(slo_file))
            yield runner
    assert runner.exception is None, runner.exception


def statuses(cluster: TestCluster) -> dict[str, dict]:
    items = json.loads(cluster.kubectl("get", "slo", "-n", NS, "-o", "json").stdout)["items"]
    return {o["metadata"]["name"]: o.get("status", {}) for o in items}


def cli_budget(url: str, slo_file: Path) -> dict[str, dict]:
    out = subprocess.run([sys.executable, "-m", "sloguard.cli", "budget", "--prometheus", url, "--at",
                          T.isoformat().replace("+00:00", "Z"), "-o", "json", str(slo_file)],
                         capture_output=True, text=True, check=True).stdout
    return {o["name"]: o for o in json.loads(out)}


def test_every_slo_gets_the_budget_the_cli_computes_for_the_same_instant(cluster, operator, prometheus, slo_file):
    cluster.wait_until(lambda: all(s.get("lastEvaluated") for s in statuses(cluster).values())
                       and len(statuses(cluster)) == len(SLOS), timeout=120, interval=1, what="budgets in status")
    expected = cli_budget(prometheus.url, slo_file)
    for name, status in statuses(cluster).items():
        want = expected[name]
        assert status["state"] == want["state"], name
        # null in a merge patch removes the field: unknown figures are absent, never 0 or NaN
        assert status.get("healthScore") == want["healthScore"], name
        if want["sli"] is None:
            assert status.get("sli") is None and status["budget"].get("remaining") is None
            continue
        assert status["sli"] == pytest.approx(want["sli"], rel=1e-5), name
        assert status["budget"]["remaining"] == pytest.approx(want["errorBudget"]["remaining"], rel=1e-3), name
        assert status["budget"]["consumed"] == pytest.approx(want["errorBudget"]["consumed"], rel=1e-3), name
        for window, burn in want["burnRates"].items():
            assert status["burnRates"][window] == pytest.approx(burn, rel=2e-3), (name, window)
        assert status["burnRate1h"] == pytest.approx(want["burnRates"]["1h"], rel=2e-3)


def test_sloguard_budget_reads_the_live_slos_from_the_cluster_and_from_kubectl(cluster, operator, prometheus,
                                                                              slo_file):
    """`--from-cluster` and `kubectl get -o yaml | sloguard budget -` give the figures the files give."""
    at = T.isoformat().replace("+00:00", "Z")
    base = [sys.executable, "-m", "sloguard.cli", "budget", "--prometheus", prometheus.url, "--at", at, "-o", "json"]
    expected = cli_budget(prometheus.url, slo_file)
    live = subprocess.run([*base, "--from-cluster", "-n", NS, "--kubeconfig", str(cluster.kubeconfig)],
                          capture_output=True, text=True, check=False)
    assert live.returncode == 0, live.stderr
    listed = cluster.kubectl("get", "slo", "-n", NS, "-o", "yaml").stdout
    piped = subprocess.run([*base, "-"], input=listed, capture_output=True, text=True, check=False)
    assert piped.returncode == 0, piped.stderr
    for proc in (live, piped):
        got = {o["name"]: o for o in json.loads(proc.stdout)}
        assert set(got) == set(expected)
        for name, want in expected.items():
            assert got[name]["state"] == want["state"], name
            assert got[name]["errorBudget"] == want["errorBudget"], name


def test_states_reflect_the_outage_and_the_quiet_service(cluster, operator):
    s = statuses(cluster)
    assert s["checkout"]["state"] == "exhausted" and s["checkout"]["budget"]["remaining"] < 0
    assert s["checkout-lenient"]["state"] == "healthy"
    assert s["quiet"]["state"] == "unknown"
    assert condition(s["quiet"], "BudgetKnown")["status"] == "False"
    assert condition(s["checkout"], "BudgetKnown")["status"] == "True"
    assert condition(s["checkout"], "PrometheusReachable")["status"] == "True"
    # the rules part of the status is kept beside the budget part
    assert condition(s["checkout"], "Ready")["status"] == "True"


def test_kubectl_get_shows_remaining_burn_and_state(cluster, operator):
    out = cluster.kubectl("get", "slo", "-n", NS, "checkout").stdout
    header, row = out.splitlines()[:2]
    columns = ["REMAINING", "BURN", "1H", "STATE"]
    assert [h for h in header.split() if h in columns] == columns
    assert "exhausted" in row


def test_kubectl_get_shows_ready_and_wide_shows_why_and_the_budget_by_window(cluster, operator):
    header, row = cluster.kubectl("get", "slo", "-n", NS, "checkout").stdout.splitlines()[:2]
    assert header.split()[-2:] == ["READY", "AGE"] and row.split()[-2] == "True"
    out = cluster.kubectl("get", "slo", "-n", NS, "checkout", "-o", "wide").stdout
    header, row = out.splitlines()[:2]
    for name in ("READY", "AGE", "SLI", "CONSUMED", "LEFT", "BURN 5M", "BURN 6H", "BURN 1D", "BURN 3D", "ETA",
                 "SCORE", "REASON", "MESSAGE"):
        assert name in header, (name, header)
    status = statuses(cluster)["checkout"]
    at = header.index("BURN 6H")
    assert row[at:].split()[0] == f"{status['burnRates']['6h']:g}", row
    at = header.index("REASON")
    assert row[at:].split()[0] == condition(status, "Ready")["reason"], row
    assert "DATA" in header
    at = header.index("DATA")
    assert row[at:].split()[0] == f"{status['budget']['coverage']:g}", (header, row)


def test_a_window_mostly_without_data_is_marked_with_a_condition_and_one_warning(cluster, operator, prometheus,
                                                                                slo_file, caplog):
    expected = cli_budget(prometheus.url, slo_file)
    s = statuses(cluster)
    quarter = s["checkout-quarter"]
    # two days of a 90-day window, as the CLI measures it on the same history
    assert 0 < quarter["budget"]["coverage"] < 0.05
    assert quarter["budget"]["coverage"] == pytest.approx(expected["checkout-quarter"]["coverage"], rel=1e-3)
    assert quarter["state"] == "unknown" and quarter["budget"]["consumed"] > 0  # figures kept, not a state
    cond = condition(quarter, "DataCoverage")
    assert cond["status"] == "False" and cond["reason"] == "InsufficientData"
    assert cond["message"].startswith("insufficient data: only ")
    assert condition(quarter, "BudgetKnown")["reason"] == "InsufficientData"
    # 28 days: two days are 7% of the window, enough to be a fact
    assert condition(s["checkout"], "DataCoverage")["status"] == "True"
    assert s["checkout"]["budget"]["coverage"] == pytest.approx(expected["checkout"]["coverage"], rel=1e-3)

    def warnings() -> list[dict]:
        items = json.loads(cluster.kubectl("get", "events", "-n", NS, "--field-selector",
                                           "involvedObject.name=checkout-quarter", "-o", "json").stdout)["items"]
        return [e for e in items if e["reason"] == "LowDataCoverage"]

    def refreshes() -> int:
        return sum(1 for r in caplog.records if r.getMessage().startswith("budget refresh:"))

    caplog.set_level(logging.DEBUG, logger="kopf.activities.startup")
    cluster.wait_until(lambda: warnings(), timeout=30, interval=1, what="a LowDataCoverage Event")
    cluster.wait_until(lambda: refreshes() >= 3, timeout=60, interval=0.5, what="three more refresh cycles")
    [event] = warnings()  # once on the transition, not at every cycle
    assert event["type"] == "Warning" and event.get("count", 1) == 1
    assert event["message"].startswith("insufficient data: only ")


def test_prometheus_down_keeps_the_last_values_and_says_so(cluster, operator, prometheus):
    before = statuses(cluster)["checkout"]
    prometheus.stop()
    try:
        cluster.wait_until(lambda: condition(statuses(cluster)["checkout"], "PrometheusReachable").get("status")
                           == "False", timeout=60, interval=1, what="PrometheusReachable=False")
        during = statuses(cluster)["checkout"]
        assert during["budget"] == before["budget"] and during["state"] == before["state"]
        assert condition(during, "BudgetKnown")["reason"] == "Stale"
        assert "unreachable" in condition(during, "PrometheusReachable")["message"].lower() or \
            condition(during, "PrometheusReachable")["message"]
    finally:
        prometheus.start()
    cluster.wait_until(lambda: condition(statuses(cluster)["checkout"], "PrometheusReachable").get("status")
                       == "True", timeout=60, interval=1, what="PrometheusReachable=True again")
    assert condition(statuses(cluster)["checkout"], "BudgetKnown")["reason"] == "Measured"


def test_status_is_not_rewritten_when_nothing_changed(cluster, operator, caplog):
    def refresh_logs() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.getMessage().startswith("budget refresh:")]

    caplog.set_level(logging.DEBUG, logger="kopf.activities.startup")
    # Eight refresh cycles at a pinned instant: the figures cannot change, so only the heartbeat
    # (every 10th cycle) may write — at most one patch per SLO, where writing every cycle is 32.
    # (The first two cycles are skipped: they may still carry the previous test's recovery.)
    cluster.wait_until(lambda: len(refresh_logs()) >= 10, timeout=60, interval=0.5, what="ten refresh cycles")
    logs = refresh_logs()[2:10]
    # "budget refresh: N SLOs, R HTTP requests, P status patches" (N counts every namespace watched)
    counts = [(int(m.split()[2]), int(m.split(", ")[-1].split()[0])) for m in logs]
    slos = max(n for n, _ in counts)
    patches = sum(p for _, p in counts)
    assert slos >= len(SLOS) and patches <= slos, logs

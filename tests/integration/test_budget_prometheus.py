"""Budgets read from a real Prometheus agree with figures computed from the same counters.

The history (see conftest) has outages of known size; every expected figure below is computed
in Python from the per-minute increments, never from PromQL. Tolerance: 0.5% relative; for
Timeslices 2 slices per incident edge.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests import metricservers
from tests.integration.conftest import OUTAGES, RECORDED_RATIO_1H, History
from tests.integration.promfixture import MetricServer
from tests.support.cluster import free_port

from sloguard.adapters.prometheus import BudgetReader, PrometheusUnavailable
from sloguard.core.budget import BudgetStatus, burn_windows
from sloguard.core.model import Alerting, BoolGaugeSLI, LatencySLI, Objective, RatioQuerySLI, RatioSLI, Timeslice
from sloguard.core.windows import default_tiers, parse_duration, parse_window

pytestmark = pytest.mark.integration

T = datetime(2025, 3, 30, 22, 15, tzinfo=UTC)  # 45 minutes into a 50% outage
PAST = datetime(2025, 3, 12, 14, 30, tzinfo=UTC)  # half an hour into a 20% error spell
REL = 0.005

CHECKOUT = RatioSLI(
    errors='http_requests_total{service="checkout",code="500"}', total='http_requests_total{service="checkout"}'
)


def objective(
    name: str,
    sli: object = CHECKOUT,
    target: float = 0.999,
    window: str = "28d",
    method: str = "Occurrences",
    timeslice: Timeslice | None = None,
) -> Objective:
    w = parse_window(window)
    return Objective(
        namespace="shop",
        name=name,
        service="checkout",
        objective=target,
        window=w,
        sli=sli,  # type: ignore[arg-type]
        alerting=Alerting(name="ErrorBudgetBurn", tiers=default_tiers(w)),
        budgeting_method=method,  # type: ignore[arg-type]
        timeslice=timeslice,
    )


@pytest.fixture
def reader(prometheus: MetricServer) -> BudgetReader:
    return BudgetReader(prometheus.url)


def by_name(statuses: list[BudgetStatus]) -> dict[str, BudgetStatus]:
    return {s.slo.name: s for s in statuses}


def close(actual: float | None, expected: float, rel: float = REL) -> bool:
    return actual is not None and actual == pytest.approx(expected, rel=rel, abs=1e-12)


def expected_burns(h: History, o: Objective, at: datetime) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for w in burn_windows(o):
        bad, total = h.checkout(at, parse_duration(w))
        out[w] = None if total == 0 else bad / total / (1 - o.objective)
    return out


# --- Occurrences over a rolling window -------------------------------------------------------


@pytest.mark.parametrize("at", [T, PAST], ids=["during-the-last-outage", "at-a-past-instant"])
@pytest.mark.parametrize("target", [0.999, 0.995])
def test_a_rolling_ratio_slo_gets_the_budget_its_counters_imply(
    reader: BudgetReader, history: History, at: datetime, target: float
) -> None:
    o = objective("checkout", target=target)
    [s] = reader.evaluate([o], at)
    bad, total = history.checkout(at, 28 * 86400)
    budget = 1 - target
    assert close(s.sli, 1 - bad / total)
    assert close(s.consumed, bad / total / budget)
    assert close(s.remaining_seconds, (1 - bad / total / budget) * budget * 28 * 86400)
    for w, expected in expected_burns(history, o, at).items():
        assert expected is not None
        assert close(s.burn_rates[w], expected), w
    burn_1h = expected_burns(history, o, at)["1h"]
    if s.remaining is not None and s.remaining > 0 and burn_1h:
        assert close(s.time_to_exhaustion_seconds, s.remaining * 28 * 86400 / burn_1h)


@pytest.mark.parametrize("window", ["30d", "28d"])
@pytest.mark.parametrize("cached", [True, False], ids=["window-cache", "raw"])
def test_a_rolling_budget_is_exact_from_the_cache_and_from_raw_samples(
    prometheus: MetricServer, history: History, window: str, cached: bool
) -> None:
    # Issue 11: on Prometheus 3 the cache's hourly buckets once undercounted a 30-day budget by 2.8%.
    o = objective("checkout", window=window)
    [s] = BudgetReader(prometheus.url, window_cache=cached).evaluate([o], T)
    bad, total = history.checkout(T, parse_duration(window))
    assert close(s.sli, 1 - bad / total)
    assert close(s.consumed, bad / total / 0.001)
    for w, expected in expected_burns(history, o, T).items():
        assert close(s.burn_rates[w], expected or 0.0), w


@pytest.mark.parametrize("cached", [True, False], ids=["window-cache", "raw"])
def test_counters_that_restart_give_the_figures_of_their_increments(
    prometheus: MetricServer, history: History, cached: bool
) -> None:
    restarting = RatioSLI(
        errors='http_requests_total{service="restarting",code="500"}', total='http_requests_total{service="restarting"}'
    )
    o = objective("restarting", restarting, window="28d")
    [s] = BudgetReader(prometheus.url, window_cache=cached).evaluate([o], T)
    bad, total = history.checkout(T, 28 * 86400)  # the same increments as checkout
    assert close(s.sli, 1 - bad / total)
    assert close(s.consumed, bad / total / 0.001)
    # A 1d window holding the second restart (one minute after 00:00): the hour it falls in.
    at = datetime(2025, 3, 25, 12, 0, tzinfo=UTC)
    [s] = BudgetReader(prometheus.url, window_cache=cached).evaluate([objective("r-1d", restarting, window="1d")], at)
    bad, total = history.checkout(at, 86400)
    assert close(s.consumed, bad / total / 0.001)


def test_the_last_outage_burns_the_budget_fast_and_overspends_it(reader: BudgetReader, history: History) -> None:
    [s] = reader.evaluate([objective("checkout")], T)
    bad, total = history.checkout(T, 28 * 86400)
    assert bad / total > 0.001  # the three outages cost more than a 99.9% budget
    assert s.state == "exhausted" and s.remaining is not None and s.remaining < 0
    assert s.time_to_exhaustion_seconds is None
    assert s.burn_rates["5m"] is not None and s.burn_rates["5m"] > 400  # 50% errors at a 0.1% budget
    assert s.health_score == 100 - 30 - 40 - 20


def test_identical_slis_in_several_slos_are_asked_once_and_each_gets_its_own_budget(
    reader: BudgetReader, history: History
) -> None:
    strict, lenient = objective("strict", target=0.999), objective("lenient", target=0.99)
    statuses = by_name(reader.evaluate([strict, lenient], T))
    bad, total = history.checkout(T, 28 * 86400)
    assert close(statuses["strict"].consumed, bad / total / 0.001)
    assert close(statuses["lenient"].consumed, bad / total / 0.01)


# --- other SLI kinds -------------------------------------------------------------------------


def test_a_latency_slo_counts_requests_slower_than_the_threshold_from_the_histogram(
    reader: BudgetReader, history: History
) -> None:
    o = objective(
        "search-latency",
        LatencySLI(histogram='http_request_duration_seconds_bucket{service="search"}', threshold=0.25),
        target=0.99,
        window="14d",
    )
    [s] = reader.evaluate([o], T)
    slow, total = history.search(T, 14 * 86400)
    assert slow > 0 and total > 0
    assert close(s.sli, 1 - slow / total)
    assert close(s.consumed, slow / total / 0.01)


def test_a_probe_slo_counts_the_share_of_time_the_probe_was_down(reader: BudgetReader, history: History) -> None:
    o = objective("platform-probe", BoolGaugeSLI('probe_success{instance="platform"}'), target=0.999)
    [s] = reader.evaluate([o], T)
    down = history.probe_down_share(T, 28 * 86400)
    assert down == pytest.approx(40 / (28 * 1440))
    assert close(s.consumed, down / 0.001)
    assert close(s.remaining_seconds, (1 - down / 0.001) * 0.001 * 28 * 86400)


def test_timeslices_count_the_bad_slices_of_the_window(reader: BudgetReader, history: History) -> None:
    ts = Timeslice(window="5m", target=0.99)
    o = objective("checkout-slices", target=0.99, window="28d", method="Timeslices", timeslice=ts)
    [s] = reader.evaluate([o], T)
    bad, total = history.checkout_slices(T, 28 * 86400, 300, 0.99)
    assert total == 28 * 288  # every slice had traffic
    assert bad >= 3 + 12 + 9  # 15 min of full outage, an hour at 20%, 45 min at 50%
    edges = 2 * len(OUTAGES)
    assert s.bad_slices is not None and abs(s.bad_slices - bad) <= 2 * edges
    assert s.total_slices is not None and abs(s.total_slices - total) <= 2
    assert close(s.consumed, bad / (0.01 * 28 * 288), rel=2 * edges / bad)


# --- calendar windows ------------------------------------------------------------------------


def test_a_calendar_month_spends_the_whole_months_budget_so_far(reader: BudgetReader, history: History) -> None:
    at = datetime(2025, 3, 20, 12, tzinfo=UTC)
    o = objective("checkout-month", window="month")
    [s] = reader.evaluate([o], at)
    elapsed = (at - datetime(2025, 3, 1, tzinfo=UTC)).total_seconds()
    month = 31 * 86400
    bad, total = history.checkout(at, elapsed)
    projected_total = total * month / elapsed
    assert close(s.sli, 1 - bad / total)
    assert close(s.consumed, bad / (0.001 * projected_total))
    assert close(s.remaining_seconds, (1 - bad / (0.001 * projected_total)) * 0.001 * month)


# --- zero traffic, recordings, broken queries ------------------------------------------------


def test_a_service_without_traffic_has_an_unknown_budget_not_100_percent(reader: BudgetReader) -> None:
    quiet = RatioSLI(
        errors='http_requests_total{service="quiet",code="500"}', total='http_requests_total{service="quiet"}'
    )
    [s] = reader.evaluate([objective("quiet", quiet)], T)
    assert s.state == "unknown" and s.sli is None and s.consumed is None
    assert all(b is None for b in s.burn_rates.values())


def test_burn_rates_come_from_the_recorded_series_when_they_exist(reader: BudgetReader, history: History) -> None:
    o = objective("checkout-recorded")
    [s] = reader.evaluate([o], T)
    assert s.burn_rates["1h"] == pytest.approx(RECORDED_RATIO_1H / 0.001)
    assert close(s.burn_rates["6h"], expected_burns(history, o, T)["6h"] or 0.0)  # not recorded: raw


def test_one_slo_with_a_broken_query_does_not_blank_the_others(reader: BudgetReader, history: History) -> None:
    broken = objective("broken", RatioQuerySLI(total_query="sum(rate(x[{{.window}}])", error_query="vector(0)"))
    good = [objective(f"checkout-{i}", target=0.999 - i / 10000) for i in range(5)]
    statuses = by_name(reader.evaluate([*good, broken], T))
    assert statuses["broken"].state == "unknown"
    assert "refused the query" in statuses["broken"].hints[0]
    bad, total = history.checkout(T, 28 * 86400)
    for o in good:
        assert close(statuses[o.name].consumed, bad / total / (1 - o.objective))


# --- batching --------------------------------------------------------------------------------


def test_two_hundred_slos_cost_a_handful_of_http_requests(prometheus: MetricServer, history: History) -> None:
    # A generous timeout: this counts requests, and a chunk timing out on a loaded machine would be
    # bisected (more requests) without saying anything about batching.
    reader = BudgetReader(prometheus.url, timeout=300)
    slos = [
        objective(f"c{i}", RatioSLI(errors=f'{(CHECKOUT.errors or "")[:-1]},instance!="x{i}"}}', total=CHECKOUT.total))
        for i in range(200)
    ]
    before = reader.requests_sent
    statuses = reader.evaluate(slos, T)
    if metricservers.kind() == "vm":
        # VictoriaMetrics refuses queries over 16 KB (-search.maxQueryLen): the ~0.8 MB of PromQL of
        # 200 distinct SLIs needs about 60 requests; the reader learns the limit from the first
        # refusals (4 chunks) and cuts to it instead of bisecting (which took 132).
        assert reader.requests_sent - before <= 80
    else:
        assert reader.requests_sent - before <= 10
    bad, total = history.checkout(T, 28 * 86400)
    assert all(close(s.consumed, bad / total / 0.001) for s in statuses)


# --- Prometheus down and back ----------------------------------------------------------------


def test_prometheus_down_keeps_the_last_known_values_marked_stale_then_recovers(
    small_prometheus: MetricServer,
) -> None:
    at = datetime(2025, 3, 30, 22, 15, tzinfo=UTC)
    o = objective("checkout-1d", window="1d")
    reader = BudgetReader(small_prometheus.url, timeout=5)
    first = reader.refresh([o], at)
    assert first.reachable and first.statuses[o.key].state != "unknown"

    small_prometheus.stop()
    down = reader.refresh([o], at, last_known=first.statuses)
    assert not down.reachable
    assert down.message is not None and "cannot reach Prometheus at" in down.message
    kept = down.statuses[o.key]
    assert kept.stale and kept.consumed == first.statuses[o.key].consumed
    never_seen = reader.refresh([objective("new", window="1d")], at, last_known=first.statuses)
    assert never_seen.statuses["shop/new"].state == "unknown"
    with pytest.raises(PrometheusUnavailable, match="cannot reach Prometheus"):
        reader.evaluate([o], at)

    small_prometheus.start()
    back = reader.refresh([o], at, last_known=down.statuses)
    assert back.reachable and not back.statuses[o.key].stale
    assert back.statuses[o.key].consumed == first.statuses[o.key].consumed


# --- the CLI, end to end ---------------------------------------------------------------------

SLO_FILE = """\
apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
metadata: {name: checkout-availability, namespace: shop}
spec:
  service: checkout
  objective: 99.9
  window: 28d
  sli:
    ratio:
      errors: 'http_requests_total{service="checkout",code="500"}'
      total: 'http_requests_total{service="checkout"}'
---
apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
metadata: {name: checkout-slices, namespace: shop}
spec:
  service: checkout
  objective: 99
  window: 7d
  budgetingMethod: Timeslices
  timeslice: {window: 5m, target: 0.99}
  sli:
    ratio:
      errors: 'http_requests_total{service="checkout",code="500"}'
      total: 'http_requests_total{service="checkout"}'
---
apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
metadata: {name: quiet, namespace: shop}
spec:
  service: quiet
  objective: 99.9
  window: 28d
  sli:
    ratio:
      errors: 'http_requests_total{service="quiet",code="500"}'
      total: 'http_requests_total{service="quiet"}'
"""


def sloguard(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("sloguard")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "sloguard.cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})


def test_sloguard_budget_json_at_a_past_instant_matches_the_counters(
    prometheus: MetricServer, history: History, tmp_path: Path
) -> None:
    (tmp_path / "slos.yaml").write_text(SLO_FILE)
    proc = sloguard(
        "budget", "--prometheus", prometheus.url, "--at", "2025-03-30T22:15:00Z", "-o", "json", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    out = {o["name"]: o for o in json.loads(proc.stdout)}

    avail = out["checkout-availability"]
    bad, total = history.checkout(T, 28 * 86400)
    assert (avail["namespace"], avail["service"], avail["objective"], avail["window"]) == (
        "shop",
        "checkout",
        99.9,
        "28d",
    )
    assert avail["budgetingMethod"] == "Occurrences" and "slices" not in avail
    assert close(avail["errorBudget"]["consumed"], bad / total / 0.001)
    assert close(avail["burnRates"]["1h"], history.checkout(T, 3600)[0] / history.checkout(T, 3600)[1] / 0.001)
    assert avail["state"] == "exhausted" and avail["evaluatedAt"] == "2025-03-30T22:15:00Z"

    slices = out["checkout-slices"]
    sbad, stotal = history.checkout_slices(T, 7 * 86400, 300, 0.99)
    assert abs(slices["slices"]["bad"] - sbad) <= 2 and abs(slices["slices"]["total"] - stotal) <= 2
    assert close(slices["errorBudget"]["consumed"], sbad / (0.01 * 7 * 288), rel=2 / sbad)

    assert out["quiet"]["state"] == "unknown" and out["quiet"]["sli"] is None


def test_sloguard_budget_table_is_aligned_and_uncoloured_when_not_a_tty(
    prometheus: MetricServer, tmp_path: Path
) -> None:
    (tmp_path / "slos.yaml").write_text(SLO_FILE)
    proc = sloguard("budget", "--prometheus", prometheus.url, "--at", "2025-03-30T22:15:00Z", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAMESPACE", "NAME", "SERVICE"]
    assert "\x1b[" not in proc.stdout
    state_col = lines[0].index("STATE")
    states = {line.split()[1]: line[state_col:].split()[0] for line in lines[1:]}
    assert states == {"checkout-availability": "exhausted", "checkout-slices": "healthy", "quiet": "unknown"}


def test_sloguard_budget_says_clearly_when_prometheus_is_unreachable(tmp_path: Path) -> None:
    (tmp_path / "slos.yaml").write_text(SLO_FILE)
    proc = sloguard("budget", "--prometheus", f"http://127.0.0.1:{free_port()}", "-o", "json", str(tmp_path))
    assert proc.returncode == 3  # could not reach a server (docs/cli.md)
    assert "cannot reach Prometheus at" in proc.stderr and "Traceback" not in proc.stderr


def test_sloguard_budget_rejects_invalid_slo_files_with_the_loaders_messages(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        SLO_FILE.replace("objective: 99.9\n  window: 28d", "objective: 99.9\n  window: 28x", 1)
    )
    proc = sloguard("budget", "--prometheus", "http://127.0.0.1:1", str(tmp_path))
    assert proc.returncode == 1
    assert "bad.yaml" in proc.stderr and "window" in proc.stderr and "Traceback" not in proc.stderr


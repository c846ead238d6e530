"""The window cache gives the figures a cold reader gives, at every instant, for every kind.

A reader is stepped through time as the operator steps it (30-second cycles, across hour
boundaries, through a Prometheus outage); at each instant its figures are compared with a fresh
reader's (cold: everything read for the first time) and with the uncached reader's (every window
from raw samples), and with the counters' own figures where the history gives them. Tolerance:
0.5% relative; Timeslices: equal slice counts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.integration.conftest import History
from tests.integration.promfixture import MetricServer
from tests.integration.test_budget_prometheus import CHECKOUT, close, expected_burns, objective

from sloguard.adapters.prometheus import BudgetReader
from sloguard.core.budget import BudgetStatus
from sloguard.core.model import BoolGaugeSLI, LatencySLI, Objective, Timeslice

pytestmark = pytest.mark.integration

SEARCH = LatencySLI(histogram='http_request_duration_seconds_bucket{service="search"}', threshold=0.25)


def slos() -> list[Objective]:
    return [
        objective("checkout-28d"),
        objective("checkout-7d", target=0.995, window="7d"),
        objective("checkout-1d", window="1d"),
        objective("checkout-month", window="month"),
        objective("search-14d", SEARCH, target=0.99, window="14d"),
        objective("probe-28d", BoolGaugeSLI('probe_success{instance="platform"}'), target=0.999),
        objective("checkout-slices", target=0.99, window="7d", method="Timeslices", timeslice=Timeslice("5m", 0.99)),
    ]


def assert_same(cached: BudgetStatus, reference: BudgetStatus, what: str) -> None:
    name = f"{cached.slo.name} ({what}) at {cached.evaluated_at:%H:%M:%S}"
    assert cached.state == reference.state, name
    if reference.sli is None:
        assert cached.sli is None, name
    else:
        assert close(cached.sli, reference.sli), name
        assert reference.consumed is not None and close(cached.consumed, reference.consumed), name
    assert cached.bad_slices == reference.bad_slices and cached.total_slices == reference.total_slices, name
    for w, b in reference.burn_rates.items():
        if b is None:
            assert cached.burn_rates[w] is None, f"{name} burn {w}"
        else:
            assert close(cached.burn_rates[w], b), f"{name} burn {w}"


def by_key(statuses: list[BudgetStatus]) -> dict[str, BudgetStatus]:
    return {s.key: s for s in statuses}


def test_a_warm_reader_agrees_with_cold_and_raw_readers_across_an_hour_boundary(
    prometheus: MetricServer, history: History
) -> None:
    objectives = slos()
    warm = BudgetReader(prometheus.url)
    raw = BudgetReader(prometheus.url, window_cache=False)
    start = datetime(2025, 3, 30, 21, 53, 30, tzinfo=UTC)  # before the outage; 22:00 and 22:05 are crossed
    instants = [start + timedelta(seconds=30 * k) for k in range(0, 30, 3)] + [
        datetime(2025, 3, 30, 22, 15, tzinfo=UTC)
    ]
    for at in instants:
        got = by_key(warm.evaluate(objectives, at))
        cold = by_key(BudgetReader(prometheus.url).evaluate(objectives, at))
        reference = by_key(raw.evaluate(objectives, at))
        for key, status in got.items():
            assert_same(status, cold[key], "cold")
        if at.second == 0:
            # On sample times both readers are exact. Between samples each extrapolates the last
            # half-minute from the rate of a different range (the tail's, the whole window's).
            for key, status in got.items():
                assert_same(status, reference[key], "raw")
            o = objectives[0]  # and the counters agree
            bad, total = history.checkout(at, 28 * 86400)
            assert close(got[o.key].sli, 1 - bad / total)
            for w, expected in expected_burns(history, o, at).items():
                assert close(got[o.key].burn_rates[w], expected or 0.0), w


def test_the_steady_state_reads_no_window_and_only_a_few_requests(prometheus: MetricServer) -> None:
    objectives = [objective(f"c{i}", target=0.999 - i / 10000) for i in range(50)]
    reader = BudgetReader(prometheus.url)
    at = datetime(2025, 3, 30, 20, 2, tzinfo=UTC)
    first = reader.refresh(objectives, at)
    assert first.reachable
    ranges: list[tuple[int, int]] = []
    client = reader.client
    original = client.query_range

    def spy(query: str, start: float, end: float, step: float, **kwargs: Any) -> Any:
        ranges.append((start, end))
        return original(query, start, end, step, **kwargs)

    client.query_range = spy  # type: ignore[method-assign]
    for k in range(1, 12):  # 20:02:30 ... 20:07:30: the 20:00 bucket settles at 20:05
        r = reader.refresh(objectives, at + timedelta(seconds=30 * k))
        assert r.reachable and r.requests <= 3
    hour = int(datetime(2025, 3, 30, 20, tzinfo=UTC).timestamp())
    assert ranges == [(hour, hour)]  # one range query, for the one bucket that completed


def test_a_changed_slo_is_read_afresh(prometheus: MetricServer, history: History) -> None:
    reader = BudgetReader(prometheus.url)
    before = objective("changing")
    reader.evaluate([before], datetime(2025, 3, 30, 22, 0, tzinfo=UTC))
    after = objective("changing", LatencySLI(histogram=SEARCH.histogram, threshold=0.25), target=0.99, window="14d")
    at = datetime(2025, 3, 30, 22, 30, tzinfo=UTC)
    [s] = reader.evaluate([after], at)
    slow, total = history.search(at, 14 * 86400)
    assert close(s.sli, 1 - slow / total)
    assert close(s.consumed, slow / total / 0.01)


def test_going_back_in_time_gives_the_past_figures(prometheus: MetricServer, history: History) -> None:
    reader = BudgetReader(prometheus.url)
    o = objective("checkout")
    for at in (datetime(2025, 3, 30, 22, 15, tzinfo=UTC), datetime(2025, 3, 12, 14, 30, tzinfo=UTC)):
        [s] = reader.evaluate([o], at)
        bad, total = history.checkout(at, 28 * 86400)
        assert close(s.consumed, bad / total / 0.001)


def test_after_an_outage_the_cache_catches_up(small_prometheus: MetricServer, history: History) -> None:
    objectives = [objective("checkout-1d", window="1d"), objective("checkout-6h", CHECKOUT, window="6h")]
    reader = BudgetReader(small_prometheus.url, timeout=5)
    at = datetime(2025, 3, 30, 20, 40, tzinfo=UTC)
    first = reader.refresh(objectives, at)
    assert first.reachable
    small_prometheus.stop()
    down = reader.refresh(objectives, at + timedelta(minutes=30), last_known=first.statuses)
    assert not down.reachable and all(s.stale for s in down.statuses.values())
    small_prometheus.start()
    later = at + timedelta(hours=1, minutes=35)  # 22:15: two hours completed meanwhile
    back = reader.refresh(objectives, later, last_known=down.statuses)
    assert back.reachable
    cold = by_key(BudgetReader(small_prometheus.url).evaluate(objectives, later))
    for key, status in back.statuses.items():
        assert not status.stale
        assert_same(status, cold[key], "cold")
    bad, total = history.checkout(later, 86400)
    assert close(back.statuses[objectives[0].key].consumed, bad / total / 0.001)

"""Data coverage of a budget, read from a real Prometheus (or VictoriaMetrics) over synthetic counters.

Four checkout counters in a 30-day window, scraped every minute: one whose history starts 2
minutes before the evaluation instant, one with samples over the whole window, one with a 3-hour
scrape outage 10 days ago, one that starts 5 days and 7 minutes ago (mid-hour, off the 5-minute
grid). Expected coverage comes from the synthetic samples and the documented definition (a
5-minute step ``t`` has data when a sample lies in ``[t - 5m, t)``; coverage runs from the first
sample, or from the window's start when its first step has data, less 5 minutes per step without
data): 120 s of 2,592,000 s (2/43,200); the whole window; the window less 35 empty steps (the
outage's samples are missing strictly between two samples 3 hours apart: steps 10 minutes after
the last sample up to the next sample have none); 5 days 7 minutes of 30 days.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.integration.promfixture import MetricServer, server_from_lines

from sloguard.adapters.prometheus import BudgetReader
from sloguard.core.model import Alerting, Objective, RatioSLI
from sloguard.core.windows import default_tiers, parse_window

pytestmark = pytest.mark.integration

AT = datetime(2025, 3, 30, 22, 15, tzinfo=UTC)
AT_S = int(AT.timestamp())
WINDOW_S = 30 * 86400
SCRAPE_S = 60
NEW_SINCE_S = 120  # the new service's first sample: two minutes before AT
OUTAGE = (AT_S - 10 * 86400, AT_S - 10 * 86400 + 3 * 3600)  # "gap": no sample strictly between these two
LATE_SINCE_S = 5 * 86400 + 7 * 60  # "late": first sample 5 days and 7 minutes before AT
SERVICES = {"new": NEW_SINCE_S, "old": WINDOW_S + 86400, "gap": WINDOW_S + 86400, "late": LATE_SINCE_S}


def _times(svc: str) -> list[int]:
    times = range(AT_S - SERVICES[svc], AT_S + 1, SCRAPE_S)
    return [t for t in times if not (svc == "gap" and OUTAGE[0] < t < OUTAGE[1])]


def _lines() -> Iterator[str]:
    yield "# TYPE req counter\n"
    # 10 requests a minute, 1 of them failing, at the services' sample times
    for svc in SERVICES:
        for i, t in enumerate(_times(svc)):
            yield f'req_total{{svc="{svc}",code="200"}} {9 * i} {t}\n'
            yield f'req_total{{svc="{svc}",code="500"}} {i} {t}\n'
    yield "# EOF\n"


def _slo(svc: str) -> Objective:
    w = parse_window("30d")
    return Objective(
        namespace="shop",
        name=f"{svc}-availability",
        service=svc,
        objective=0.999,
        window=w,
        sli=RatioSLI(errors=f'req_total{{svc="{svc}",code="500"}}', total=f'req_total{{svc="{svc}"}}'),
        alerting=Alerting(name="ErrorBudgetBurn", tiers=default_tiers(w)),
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetricServer]:
    srv = server_from_lines(_lines(), Path(tmp_path_factory.mktemp("coverage")))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize("window_cache", [True, False], ids=["cached", "raw"])
def test_a_scrape_outage_inside_the_window_and_a_late_start_are_counted(
    server: MetricServer, window_cache: bool
) -> None:
    reader = BudgetReader(server.url, window_cache=window_cache, settle_seconds=0)
    try:
        gap, late = reader.evaluate([_slo("gap"), _slo("late")], AT)
        before = reader.requests_sent
        again = reader.evaluate([_slo("gap"), _slo("late")], AT) if window_cache else [gap, late]
        if window_cache:  # the first sample and the hours are kept: one instant batch, no follow-up
            assert reader.requests_sent - before == 1
    finally:
        reader.close()
    # the outage: samples at OUTAGE[0] and OUTAGE[1], none between; steps t with nothing in
    # [t - 5m, t): OUTAGE[0] + 10m ... OUTAGE[1], i.e. 35 steps of 300 s
    empty_steps = len(range(OUTAGE[0] + 600, OUTAGE[1] + 1, 300))
    assert empty_steps == 35
    for s in (gap, again[0]):
        assert s.coverage == pytest.approx((WINDOW_S - empty_steps * 300) / WINDOW_S, rel=1e-12), s.coverage
        assert s.state == "exhausted"  # 99.6% covered: the budget is a fact
    # the late start: every step after its first sample has data
    for s in (late, again[1]):
        assert s.coverage == pytest.approx(LATE_SINCE_S / WINDOW_S, rel=1e-12), s.coverage


@pytest.mark.parametrize("window_cache", [True, False], ids=["cached", "raw"])
def test_two_minutes_of_a_30d_window_is_flagged_and_full_history_is_not(
    server: MetricServer, window_cache: bool
) -> None:
    reader = BudgetReader(server.url, window_cache=window_cache, settle_seconds=0)
    try:
        new, old = reader.evaluate([_slo("new"), _slo("old")], AT)
        # the cache keeps the first sample: a second cycle gives the same figure without asking it
        again = reader.evaluate([_slo("new")], AT)[0] if window_cache else new
    finally:
        reader.close()
    # from the data: the first sample is 120 s before AT, the window 2,592,000 s long
    expected = NEW_SINCE_S / WINDOW_S
    for s in (new, again):
        assert s.coverage == pytest.approx(expected, rel=1e-9), s.coverage
        assert s.state == "unknown" and s.hints[0].startswith("insufficient data: only 0.0046% of the window")
        assert s.consumed is not None and s.consumed > 1  # 10% errors on 99.9%: kept, but not the state
    assert old.coverage == 1.0
    assert old.state == "exhausted" and not any(h.startswith("insufficient data") for h in old.hints)

"""Data coverage of a budget, read from a real Prometheus (or VictoriaMetrics) over synthetic counters.

Two checkout counters in a 30-day window: one whose history starts 2 minutes before the
evaluation instant, one with samples over the whole window. Expected coverage comes from when
the synthetic samples start: 120 s of 2,592,000 s (2/43,200) and the whole window.
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


def _lines() -> Iterator[str]:
    yield "# TYPE req counter\n"
    # "new": 10 requests a minute, 1 of them failing, from AT - 2m; "old": same, over 31 days.
    for svc, since in (("new", NEW_SINCE_S), ("old", WINDOW_S + 86400)):
        for i, t in enumerate(range(AT_S - since, AT_S + 1, SCRAPE_S)):
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

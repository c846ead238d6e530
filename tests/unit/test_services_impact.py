"""``sloguard impact``'s orchestration (sloguard.services.impact) against in-memory metrics.

The fake metrics stand for a service taking 1,000 requests a minute, every one of them failing
inside the outages and none outside; the probe is down (slices at 0) inside the outages.
Expected figures are worked out by hand in the comments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from sloguard.core.model import SLI, Alerting, BoolGaugeSLI, Objective, RatioSLI
from sloguard.core.sla import (
    Contract,
    CreditTier,
    MaintenancePlan,
    MaintenanceWindow,
    Measurement,
    Period,
    RequestCounts,
    Slice,
    SliceFacts,
    Term,
    assess_maintenance,
)
from sloguard.core.windows import default_tiers, parse_window
from sloguard.services.impact import measure_impact
from sloguard.services.ports import MetricsError

PER_MINUTE = 1000.0
SLICE = 300  # 5-minute slices keep the month small; every span below is whole slices


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ts(text: str) -> float:
    return utc(text).timestamp()


@dataclass(frozen=True)
class Month:
    plan: MaintenancePlan
    measurements: Mapping[str, Measurement]
    until: datetime


@dataclass
class FakeMetrics:
    outages: list[tuple[str, str]]
    fail: bool = False
    counted: list[tuple[str, float, float]] = field(default_factory=list)

    def _bad_minutes(self, start: float, end: float) -> float:
        return sum(max(min(end, ts(b)) - max(start, ts(a)), 0.0) for a, b in self.outages) / 60

    def sli_counts(self, sli: SLI, start: float, end: float, what: str) -> tuple[float, float]:
        if self.fail:
            raise MetricsError(f"Prometheus refused the query for {what}")
        self.counted.append((what, start, end))
        return self._bad_minutes(start, end) * PER_MINUTE, (end - start) / 60 * PER_MINUTE

    def worst_error_ratio(self, sli: SLI, start: float, end: float, what: str) -> float | None:
        return 1.0 if self._bad_minutes(start, end) else 0.0

    def read_contract(self, contract: Contract, period: Period, now: datetime) -> Month:
        until = min(now, period.end)
        p0, p1 = period.start.timestamp(), until.timestamp()
        plan = assess_maintenance(contract.maintenance, contract.minimum_notice_seconds, period)
        measurements: dict[str, Measurement] = {}
        for term in contract.terms:
            if term.type == "uptime":
                measurements[term.name] = SliceFacts(SLICE, {
                    s: 0.0 if self._bad_minutes(s, s + SLICE) else 1.0 for s in range(int(p0), int(p1), SLICE)})
            else:
                bad, total = self._bad_minutes(p0, p1) * PER_MINUTE, (p1 - p0) / 60 * PER_MINUTE
                ex = [(max(i.start.timestamp(), p0), min(i.end.timestamp(), p1)) for i in plan.exclusions]
                ex_bad = sum(self._bad_minutes(a, b) * PER_MINUTE for a, b in ex if b > a)
                ex_total = sum((b - a) / 60 * PER_MINUTE for a, b in ex if b > a)
                measurements[term.name] = RequestCounts(bad, total, ex_bad, ex_total)
        return Month(plan, measurements, until)


def slo(window: str) -> Objective:
    w = parse_window(window)
    return Objective(namespace="shop", name="checkout", service="checkout", objective=0.999, window=w,
                     sli=RatioSLI(total="http_requests_total", errors='http_requests_total{code=~"5.."}'),
                     alerting=Alerting(name="ErrorBudgetBurn", tiers=default_tiers(w)))


UPTIME = Term("platform-availability", "uptime", 99.9, BoolGaugeSLI('probe_success{instance="p"}'),
              (CreditTier(99.9, 10),), Slice("5m"))
API = Term("api-success", "availability", 99.95,
           RatioSLI(total="http_requests_total", errors='http_requests_total{code=~"5.."}'), (CreditTier(99.95, 10),))


def contract(*windows: MaintenanceWindow) -> Contract:
    return Contract(name="acme", contract_id="C-1", customer_id="acme", customer_name="ACME", terms=(UPTIME, API),
                    monthly_fee=10000.0, currency="USD", maintenance=windows)


INCIDENT = ("2026-11-20T10:00:00Z", "2026-11-20T10:30:00Z")  # 30 minutes, every request failing


# --- SLOs ------------------------------------------------------------------------------------------


def test_an_slo_spends_the_bad_events_over_its_windows_budget() -> None:
    # 30,000 bad; the 30-day window ending 10:30 holds 43,200 minutes x 1,000 = 43,200,000 requests,
    # a budget of 43,200 at 99.9%: 30,000 / 43,200 = 69.44% spent.
    metrics = FakeMetrics([INCIDENT])
    out = measure_impact(metrics, [slo("30d")], [], utc(INCIDENT[0]), utc(INCIDENT[1]), utc("2026-11-20T12:00:00Z"))
    [row] = out["slos"]
    assert (row["badEvents"], row["totalEvents"], row["windowEvents"]) == (30_000, 30_000, 43_200_000)
    assert row["budgetSpent"] == pytest.approx(30_000 / 43_200, rel=1e-9)
    assert row["worstErrorRatio"] == 1.0 and out["projected"] is None
    assert [w for w, _, _ in metrics.counted] == ["SLO shop/checkout", "SLO shop/checkout window"]


def test_an_ongoing_incident_is_projected_at_its_current_rate() -> None:
    # At 10:15 15 minutes are measured (15,000 bad of 15,000) and 15 projected alike; the window's
    # traffic is 43,185,000 measured + 15,000 projected = 43,200,000: 30,000 / 43,200 again.
    out = measure_impact(FakeMetrics([INCIDENT]), [slo("30d")], [], utc(INCIDENT[0]), utc(INCIDENT[1]),
                         utc("2026-11-20T10:15:00Z"))
    [row] = out["slos"]
    assert row["measured"] == {"badEvents": 15_000, "totalEvents": 15_000}
    assert row["projected"] == {"badEvents": 15_000, "totalEvents": 15_000}
    assert row["budgetSpent"] == pytest.approx(30_000 / 43_200, rel=1e-9)
    assert out["projected"] == {"from": "2026-11-20T10:15:00Z", "to": "2026-11-20T10:30:00Z"}


def test_only_the_bad_events_inside_a_calendar_window_spend_it() -> None:
    # 31 Oct 23:50 to 1 Nov 00:10, all failing: 10,000 of the 20,000 bad fall in November. Ten
    # minutes of November hold 10,000 requests, projected over 43,200 minutes: 43,200,000, a
    # budget of 43,200: 10,000 / 43,200 = 23.15%.
    span = ("2026-10-31T23:50:00Z", "2026-11-01T00:10:00Z")
    metrics = FakeMetrics([span])
    out = measure_impact(metrics, [slo("month")], [], utc(span[0]), utc(span[1]), utc("2026-11-02T00:00:00Z"))
    assert out["slos"][0]["badEvents"] == 20_000
    assert out["slos"][0]["budgetSpent"] == pytest.approx(10_000 / 43_200, rel=1e-9)
    assert ("SLO shop/checkout in window", ts("2026-11-01T00:00:00Z"), ts(span[1])) in metrics.counted


# --- SLA contracts ---------------------------------------------------------------------------------


def test_a_contract_loses_minutes_and_requests_and_moves_its_credit() -> None:
    # November to 20 Nov 12:00 is 19.5 days = 28,080 minutes. Uptime: 30 minutes lost of an
    # allowance of 0.1% x 43,200 = 43.2. Requests: 30,000 bad of an allowance of 0.05% x
    # 28,080,000 = 14,040: breached. Month to date both terms read 1 - 30 / 28,080 = 99.8932%, below
    # their credit tiers (99.9 and 99.95): 10% + 10% = 20% after, 0% before: 2,000.00 USD moved.
    out = measure_impact(FakeMetrics([INCIDENT]), [], [contract()], utc(INCIDENT[0]), utc(INCIDENT[1]),
                         utc("2026-11-20T12:00:00Z"))
    uptime, api = out["sla"]
    assert (uptime["term"], uptime["period"], uptime["minutesLost"], uptime["allowanceMinutes"]) == (
        "platform-availability", "2026-11", 30, 43.2)
    assert uptime["breached"] is False and uptime["worstErrorRatio"] == 1.0
    assert (api["badRequests"], api["allowanceRequests"], api["breached"]) == (30_000, 14_040, True)
    [moved] = out["contracts"]
    assert (moved["creditPercentBefore"], moved["creditPercentAfter"], moved["creditAmountMoved"]) == (0, 20, 2000.0)
    assert [t["actualAfter"] for t in moved["terms"]] == [round(100 * (1 - 30 / 28_080), 6)] * 2
    assert (out["minutes"], out["measured"]["to"]) == (30, INCIDENT[1])


def test_maintenance_announced_in_time_is_not_lost_twice() -> None:
    # A window 10:00-10:15 announced days ahead excuses half the incident: 15 minutes lost; its
    # 15,000 bad requests are read apart so the month (valid 28,080,000 - 15,000) is not
    # credited with them: 15,000 bad of 28,065,000 valid after, none before.
    window = MaintenanceWindow(utc("2026-11-20T10:00:00Z"), utc("2026-11-20T10:15:00Z"),
                               utc("2026-11-10T00:00:00Z"), "db upgrade")
    metrics = FakeMetrics([INCIDENT])
    out = measure_impact(metrics, [], [contract(window)], utc(INCIDENT[0]), utc(INCIDENT[1]),
                         utc("2026-11-20T12:00:00Z"))
    assert out["sla"][0]["minutesLost"] == 15
    assert ("term 'api-success' maintenance", ts(INCIDENT[0]), ts("2026-11-20T10:15:00Z")) in metrics.counted
    api = out["contracts"][0]["terms"][1]
    assert (api["actualBefore"], api["actualAfter"]) == (100.0, round(100 * (1 - 15_000 / 28_065_000), 6))


def test_an_interval_across_the_month_end_counts_only_its_part_in_the_month_it_starts() -> None:
    # 30 Nov 23:50 to 1 Dec 00:10: the November contract month holds the first 10 minutes.
    span = ("2026-11-30T23:50:00Z", "2026-12-01T00:10:00Z")
    metrics = FakeMetrics([span])
    out = measure_impact(metrics, [], [contract()], utc(span[0]), utc(span[1]), utc("2026-12-02T00:00:00Z"))
    uptime, api = out["sla"]
    assert (uptime["period"], uptime["minutesLost"], api["badRequests"]) == ("2026-11", 10, 10_000)
    assert ("term 'api-success' interval", ts(span[0]), ts("2026-12-01T00:00:00Z")) in metrics.counted


def test_a_metrics_error_reaches_the_caller() -> None:
    with pytest.raises(MetricsError, match="SLO shop/checkout"):
        measure_impact(FakeMetrics([INCIDENT], fail=True), [slo("30d")], [], utc(INCIDENT[0]), utc(INCIDENT[1]),
                       datetime(2026, 11, 21, tzinfo=UTC))

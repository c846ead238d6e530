"""Incident impact: budget share with the budget's denominator, projection, SLA credit moved.

Expected values are worked out by hand in the comments, never computed by the code under test.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from sloguard.core.impact import (
    Counts,
    RequestTermFacts,
    budget_share,
    contract_dict,
    contract_impact,
    facts_with_projection,
    project,
    report,
    slo_impact,
    split,
)
from sloguard.core.model import Alerting, BoolGaugeSLI, Objective, RatioSLI
from sloguard.core.sla import Contract, CreditTier, RequestCounts, SliceFacts, Term, month_period
from sloguard.core.windows import default_tiers, parse_window


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def slo(window: str = "30d", objective: float = 0.999) -> Objective:
    w = parse_window(window)
    return Objective(
        namespace="shop",
        name="checkout",
        service="checkout",
        objective=objective,
        window=w,
        sli=RatioSLI(total="http_requests_total", errors='http_requests_total{code=~"5.."}'),
        alerting=Alerting(name="ErrorBudgetBurn", tiers=default_tiers(w)),
    )


TIERS = (CreditTier(99.9, 10), CreditTier(99.5, 25), CreditTier(99.0, 50))
NOV = month_period("2026-11")
NOV_START = int(NOV.start.timestamp())


def contract(*terms: Term) -> Contract:
    return Contract(name="acme", contract_id="C-1", customer_id="acme", customer_name="ACME", terms=terms,
                    monthly_fee=10000.0, currency="USD")


UPTIME = Term("uptime", "uptime", 99.9, BoolGaugeSLI('probe_success{instance="p"}'), TIERS)
AVAILABILITY = Term("availability", "availability", 99.9,
                    RatioSLI(total="http_requests_total", errors='http_requests_total{code=~"5.."}'), TIERS)


def minute_facts(until: str, down: tuple[str, str] | None = None) -> SliceFacts:
    """One-minute slices of November up to ``until``, all up except ``down`` [start, end)."""
    end = int(utc(until).timestamp())
    lo, hi = (int(utc(down[0]).timestamp()), int(utc(down[1]).timestamp())) if down else (0, 0)
    return SliceFacts(60, {s: (0.0 if lo <= s < hi else 1.0) for s in range(NOV_START, end, 60)})


# --- budget share -------------------------------------------------------------------------------


def test_a_rolling_window_divides_by_the_windows_traffic() -> None:
    # 600 bad of a 30-day window of 1,000,000 at 99.9%: budget 1,000 events, 60% spent.
    share = budget_share(slo("30d"), 600, 1_000_000, utc("2026-11-20T00:00:00Z"))
    assert share == pytest.approx(0.6, rel=1e-12)


def test_a_month_divides_by_the_projected_months_traffic_not_month_to_date() -> None:
    # 1,000 requests a minute; on 20 Nov 00:00 19 days have passed: 27,360,000 requests so far.
    # November (30 days) is projected at 43,200,000 requests, a budget of 43,200 at 99.9%.
    # A 10-minute full outage (10,000 bad) spent 10,000 / 43,200 = 23.148%, not
    # 10,000 / 27,360 = 36.55% (month-to-date).
    share = budget_share(slo("month"), 10_000, 27_360_000, utc("2026-11-20T00:00:00Z"))
    assert share == pytest.approx(10_000 / 43_200, rel=1e-9)
    assert share == pytest.approx(0.231481481, rel=1e-6)


def test_the_same_outage_early_in_the_month_spends_the_same_share() -> None:
    # On 2 Nov 00:00 one day has passed: 1,440,000 requests, projected again to 43,200,000.
    share = budget_share(slo("month"), 10_000, 1_440_000, utc("2026-11-02T00:00:00Z"))
    assert share == pytest.approx(0.231481481, rel=1e-6)


def test_no_traffic_gives_no_share_rather_than_zero() -> None:
    assert budget_share(slo("month"), 0, 0, utc("2026-11-20T00:00:00Z")) is None


# --- measured and projected -----------------------------------------------------------------------


def test_an_interval_that_is_over_is_all_measured() -> None:
    span = split(utc("2026-11-20T10:00:00Z"), utc("2026-11-20T10:10:00Z"), utc("2026-11-21T00:00:00Z"))
    assert span.measured_until == utc("2026-11-20T10:10:00Z")
    assert not span.projects
    assert span.projected_seconds == 0


def test_an_interval_into_the_future_is_measured_up_to_now() -> None:
    span = split(utc("2026-11-20T10:00:00Z"), utc("2026-11-20T10:30:00Z"), utc("2026-11-20T10:10:00Z"))
    assert span.measured_until == utc("2026-11-20T10:10:00Z")
    assert (span.measured_seconds, span.projected_seconds) == (600, 1200)


def test_an_interval_starting_after_now_is_refused() -> None:
    with pytest.raises(ValueError, match="future"):
        split(utc("2026-11-20T10:00:00Z"), utc("2026-11-20T10:30:00Z"), utc("2026-11-20T09:00:00Z"))


def test_projection_continues_traffic_and_error_ratio() -> None:
    # 10 minutes: 5,000 bad of 10,000. 20 more minutes at that rate: 10,000 bad of 20,000.
    assert project(Counts(5_000, 10_000), 600, 1200) == Counts(10_000, 20_000)
    assert project(Counts(5_000, 10_000), 0, 1200) == Counts()


def test_an_ongoing_incident_is_projected_into_budget_and_window() -> None:
    # Measured 10:00-10:10: 5,000 bad of 10,000; projected 10:10-10:30: 10,000 bad of 20,000.
    # The 30-day window holds 1,000,000 measured + 20,000 projected = 1,020,000 requests, a
    # budget of 1,020 at 99.9%: 15,000 / 1,020 = 14.70588 budgets.
    span = split(utc("2026-11-20T10:00:00Z"), utc("2026-11-20T10:30:00Z"), utc("2026-11-20T10:10:00Z"))
    impact = slo_impact(slo("30d"), span, Counts(5_000, 10_000), 1_000_000, 0.5)
    assert impact.projected == Counts(10_000, 20_000)
    assert impact.counts == Counts(15_000, 30_000)
    assert impact.window_total == 1_020_000
    assert impact.budget_spent == pytest.approx(15_000 / 1_020, rel=1e-9)


# --- SLA credit moved -----------------------------------------------------------------------------


def test_an_hour_down_in_a_finished_month_moves_the_credit_to_the_first_tier() -> None:
    # November: 43,200 minutes. 60 down: 43,140 / 43,200 = 99.8611% < 99.9 -> 10% of 10,000 USD.
    # Without the interval the month is 100%: no credit. Moved: +1,000 USD.
    span = split(utc("2026-11-20T10:00:00Z"), utc("2026-11-20T11:00:00Z"), utc("2026-12-02T00:00:00Z"))
    facts = minute_facts("2026-12-01T00:00:00Z", ("2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z"))
    c = contract_impact(contract(UPTIME), NOV, span, {"uptime": facts}, utc("2026-12-02T00:00:00Z"))
    assert c.before.terms[0].actual == pytest.approx(100.0)
    assert c.after.terms[0].actual == pytest.approx(43_140 / 43_200 * 100)
    assert (c.before.credit_percent, c.after.credit_percent) == (0.0, 10.0)
    assert c.credit_amount_moved == 1000.0
    d = contract_dict(c)
    assert (d["creditPercentBefore"], d["creditPercentAfter"], d["creditAmountMoved"]) == (0.0, 10.0, 1000.0)
    assert d["projected"] is False


def test_an_ongoing_outage_is_projected_slice_by_slice() -> None:
    # Now 20 Nov 10:30, down since 10:00, --to 11:00: the 30 future minutes are projected at the
    # observed good ratio 0, so down. Evaluated to 11:00: 19 days + 11 h = 28,020 minutes, 60
    # down: 27,960 / 28,020 = 99.7859% -> below 99.9, not below 99.5: 10%. Before: 100%, 0%.
    now = utc("2026-11-20T10:30:00Z")
    span = split(utc("2026-11-20T10:00:00Z"), utc("2026-11-20T11:00:00Z"), now)
    facts = minute_facts("2026-11-20T10:30:00Z", ("2026-11-20T10:00:00Z", "2026-11-20T10:30:00Z"))
    projected = facts_with_projection(facts, span, NOV)
    future = range(int(utc("2026-11-20T10:30:00Z").timestamp()), int(utc("2026-11-20T11:00:00Z").timestamp()), 60)
    assert [projected.good[s] for s in future] == [0.0] * 30
    c = contract_impact(contract(UPTIME), NOV, span, {"uptime": facts}, now)
    assert c.after.minutes == 28_020
    assert c.after.terms[0].downtime_minutes == 60
    assert c.after.terms[0].actual == pytest.approx(27_960 / 28_020 * 100)
    assert c.before.terms[0].downtime_minutes == 0
    assert (c.before.credit_percent, c.after.credit_percent, c.credit_amount_moved) == (0.0, 10.0, 1000.0)
    assert c.projected


def test_bad_requests_of_the_interval_move_an_availability_credit() -> None:
    # Month: 2,100 bad of 1,000,000, 2,000 of them in the interval. After: 99.79% -> 10%.
    # Before (the interval's 2,000 bad counted good): 100 bad, 99.99% -> 0%.
    span = split(utc("2026-11-20T10:00:00Z"), utc("2026-11-20T11:00:00Z"), utc("2026-12-02T00:00:00Z"))
    f = RequestTermFacts(RequestCounts(2_100, 1_000_000), Counts(2_000, 60_000))
    c = contract_impact(contract(AVAILABILITY), NOV, span, {"availability": f}, utc("2026-12-02T00:00:00Z"))
    assert c.before.terms[0].actual == pytest.approx(99.99)
    assert c.after.terms[0].actual == pytest.approx(99.79)
    assert c.credit_amount_moved == 1000.0


def test_bad_requests_inside_excluded_maintenance_are_not_removed_twice() -> None:
    # 1,000 of the interval's 2,000 bad fell in excluded maintenance, already subtracted by the
    # month (excluded_bad 1,000 of excluded_total 10,000). After: (2,100 - 1,000) bad of 990,000
    # valid = 99.8889% -> 10%. Before: 2,100 - 2,000 = 100 bad, excluded 1,000 - 1,000 = 0:
    # 100 bad of 990,000 = 99.9899% -> 0%.
    span = split(utc("2026-11-20T10:00:00Z"), utc("2026-11-20T11:00:00Z"), utc("2026-12-02T00:00:00Z"))
    f = RequestTermFacts(RequestCounts(2_100, 1_000_000, 1_000, 10_000), Counts(2_000, 60_000), 1_000)
    c = contract_impact(contract(AVAILABILITY), NOV, span, {"availability": f}, utc("2026-12-02T00:00:00Z"))
    assert c.after.terms[0].actual == pytest.approx((990_000 - 1_100) / 990_000 * 100)
    assert c.before.terms[0].actual == pytest.approx((990_000 - 100) / 990_000 * 100)
    assert c.credit_amount_moved == 1000.0


def test_the_report_keeps_the_original_keys_and_says_what_is_projected() -> None:
    now = utc("2026-11-20T10:10:00Z")
    span = split(utc("2026-11-20T10:00:00Z"), utc("2026-11-20T10:30:00Z"), now)
    impact = slo_impact(slo("30d"), span, Counts(5_000, 10_000), 1_000_000, 0.5)
    out = report(span, [impact], [], [])
    assert {"from", "to", "minutes", "severity", "slos", "sla"} <= set(out)
    assert out["measured"] == {"from": "2026-11-20T10:00:00Z", "to": "2026-11-20T10:10:00Z"}
    assert out["projected"] == {"from": "2026-11-20T10:10:00Z", "to": "2026-11-20T10:30:00Z"}
    row = out["slos"][0]
    assert {"slo", "service", "badEvents", "totalEvents", "errorRatio", "worstErrorRatio", "budgetSpent"} <= set(row)
    assert row["measured"] == {"badEvents": 5_000, "totalEvents": 10_000}
    assert row["projected"] == {"badEvents": 10_000, "totalEvents": 20_000}
    # A worst 5-minute error ratio of 50% reaches severity_2's 50% (severity_1 needs 90%).
    assert out["severity"]["level"] == "severity_2"
    assert out["minutes"] == 30



def test_a_timeslices_slo_is_counted_in_events_and_says_so() -> None:
    # Same 600 bad of 1,000,000 at 99.9% as above: 60%, basis "events".
    from dataclasses import replace

    from sloguard.core.model import Timeslice

    sliced = replace(slo("30d"), budgeting_method="Timeslices", timeslice=Timeslice(window="1m", target=0.95))
    span = split(utc("2026-11-20T10:00:00Z"), utc("2026-11-20T10:10:00Z"), utc("2026-11-21T00:00:00Z"))
    impact = slo_impact(sliced, span, Counts(600, 10_000), 1_000_000)
    assert impact.budget_spent == pytest.approx(0.6, rel=1e-12)
    assert impact.basis == "events"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2026-11-20T10:00:00Z", "--to", "2026-11-20T10:30:00Z", "--now", "2026-11-20T09:00:00Z"],
         "--from is not in the past at 2026-11-20T09:00:00Z"),
        (["--from", "2026-11-20T10:00:00Z", "--to", "2026-11-20T10:30:00Z", "--now", "yesterday"],
         "--now must be a time like"),
        (["--from", "2026-11-20T10:00:00Z", "--to", "2026-11-20T09:30:00Z"], "--to must be after --from"),
    ],
)
def test_impossible_times_are_refused_in_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sloguard.cli import main

    assert main(["impact", "--prometheus", "http://127.0.0.1:9", *argv, "nowhere/"]) == 2  # usage (docs/cli.md)
    err = capsys.readouterr().err
    assert err.startswith("sloguard impact: ") and message in err and "Traceback" not in err


def test_an_interval_ending_at_midnight_on_the_1st_spends_the_month_it_ends() -> None:
    # 30 Nov 23:50 to 1 Dec 00:00, 10,000 bad; November's 43,200,000 requests are all measured:
    # budget 43,200 at 99.9%, 23.148% spent (December, with nothing elapsed, would be unknown).
    from sloguard.core.impact import budget_window

    end = utc("2026-12-01T00:00:00Z")
    start, at = budget_window(slo("month"), end)
    assert start == utc("2026-11-01T00:00:00Z") and at < end
    span = split(utc("2026-11-30T23:50:00Z"), end, utc("2026-12-02T00:00:00Z"))
    impact = slo_impact(slo("month"), span, Counts(10_000, 10_000), 43_200_000)
    assert impact.budget_spent == pytest.approx(10_000 / 43_200, rel=1e-9)


def test_only_bad_events_inside_a_calendar_window_spend_its_budget() -> None:
    # 31 Oct 23:50 to 1 Nov 00:10: 20,000 bad, 10,000 of them in November. On 1 Nov 00:10 ten
    # minutes of November have passed with 10,000 requests: projected over 43,200 minutes that is
    # 43,200,000, a budget of 43,200: 10,000 / 43,200 = 23.148%.
    span = split(utc("2026-10-31T23:50:00Z"), utc("2026-11-01T00:10:00Z"), utc("2026-11-02T00:00:00Z"))
    impact = slo_impact(slo("month"), span, Counts(20_000, 20_000), 10_000, None, bad_in_window=10_000)
    assert impact.budget_spent == pytest.approx(10_000 / 43_200, rel=1e-9)
    assert impact.counts == Counts(20_000, 20_000)

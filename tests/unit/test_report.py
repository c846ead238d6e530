"""core/report: periods, attainment, budget consumed, worst hours, trend and hints — exact values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sloguard.core.report import (
    Counts,
    HourCounts,
    PeriodError,
    hints,
    parse_period,
    period_report,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("label", "start", "end", "hours"), [
    ("2026-11", "2026-11-01T00:00", "2026-12-01T00:00", 720),
    ("2026-02", "2026-02-01T00:00", "2026-03-01T00:00", 672),
    ("2026-W47", "2026-11-16T00:00", "2026-11-23T00:00", 168),
    ("2026-W01", "2025-12-29T00:00", "2026-01-05T00:00", 168),  # ISO week 1 starts in December
    ("2026-Q4", "2026-10-01T00:00", "2027-01-01T00:00", 2208),
    ("2026-Q1", "2026-01-01T00:00", "2026-04-01T00:00", 2160),
])
def test_periods_parse_to_their_calendar_bounds(label, start, end, hours):
    p = parse_period(label)
    assert (p.label, p.start, p.end, p.hours) == (label, utc(start), utc(end), hours)


def test_a_period_in_a_timezone_starts_at_local_midnight_and_counts_real_hours():
    p = parse_period("2026-10", "Europe/Paris")  # summer time ends on 25 October: one hour more
    assert p.start == utc("2026-09-30T22:00") and p.end == utc("2026-10-31T23:00")
    assert p.hours == 31 * 24 + 1


@pytest.mark.parametrize(("label", "previous"), [("2026-01", "2025-12"), ("2026-W01", "2025-W52"),
                                                 ("2026-Q1", "2025-Q4"), ("2026-11", "2026-10")])
def test_the_previous_period_is_the_one_just_before(label, previous):
    assert parse_period(label).previous().label == previous


@pytest.mark.parametrize("bad", ["2026-13", "2026-W54", "2026-Q5", "26-11", "2026/11", "november", ""])
def test_bad_period_labels_are_refused_with_the_accepted_forms(bad):
    with pytest.raises(PeriodError, match=r"2026-11.*2026-W47.*2026-Q4"):
        parse_period(bad)


def hours_of(period_label: str, bad_at: dict[int, float], per_hour: float = 1000.0) -> list[HourCounts]:
    p = parse_period(period_label)
    return [HourCounts(p.start + timedelta(hours=i), Counts(bad_at.get(i, 0.0), per_hour)) for i in range(p.hours)]


def test_a_month_with_two_bad_hours_reports_attainment_budget_and_the_worst_hours_first():
    # 720 hours x 1,000 requests; 360 bad in hour 100, 144 in hour 5: 504 bad of 720,000
    p = parse_period("2026-11")
    r = period_report(namespace="shop", name="checkout", service="checkout", objective=0.999, period=p,
                      hours=hours_of("2026-11", {100: 360.0, 5: 144.0}), trend=[])
    assert r.counts == Counts(504.0, 720_000.0)
    assert r.attainment == pytest.approx(1 - 504 / 720_000)
    assert r.budget_consumed == pytest.approx(504 / 720)  # budget = 0.001 * 720,000 = 720 events
    assert [(h.start, h.bad) for h in r.worst_hours] == [(p.start + timedelta(hours=100), 360.0),
                                                        (p.start + timedelta(hours=5), 144.0)]
    assert r.worst_hours[0].budget_consumed == pytest.approx(0.5)
    assert r.worst_hours[0].end - r.worst_hours[0].start == timedelta(hours=1)


def test_only_the_ten_worst_hours_are_listed_ties_earliest_first():
    r = period_report(namespace="a", name="b", service="b", objective=0.99, period=parse_period("2026-W47"),
                      hours=hours_of("2026-W47", {i: 5.0 for i in range(20)} | {30: 9.0}), trend=[])
    assert len(r.worst_hours) == 10
    assert r.worst_hours[0].bad == 9.0
    assert [h.start.hour for h in r.worst_hours[1:]] == list(range(9))


def test_the_trend_carries_each_earlier_period_in_order():
    p = parse_period("2026-11")
    trend = [(p.previous(), Counts(10.0, 100_000.0)), (p.previous().previous(), Counts(0.0, 0.0))]
    r = period_report(namespace="a", name="b", service="b", objective=0.999, period=p,
                      hours=hours_of("2026-11", {}), trend=trend)
    assert [(t.period.label, t.attainment, t.budget_consumed) for t in r.trend] == [
        ("2026-10", pytest.approx(0.9999), pytest.approx(0.1)), ("2026-09", None, None)]


def test_exhausted_in_two_of_the_last_three_periods_says_relax_or_invest():
    [hint] = hints(0.999, [1.2, 0.4, 1.0])
    assert "exhausted in 2 of the last 3 periods" in hint and "99.9%" in hint


def test_under_ten_percent_in_each_of_the_last_three_periods_says_tighten():
    [hint] = hints(0.99, [0.02, 0.099, 0.0])
    assert "tightened" in hint and "99%" in hint
    assert hints(0.99, [0.02, 0.10, 0.0]) == ()  # 10% is not under 10%
    assert hints(0.99, [0.02, 0.05]) == ()  # fewer than three periods known


def test_a_period_without_traffic_says_nothing_was_measured():
    r = period_report(namespace="a", name="b", service="b", objective=0.999, period=parse_period("2026-11"),
                      hours=hours_of("2026-11", {}, per_hour=0.0), trend=[])
    assert r.attainment is None and r.budget_consumed is None and r.worst_hours == ()
    assert any("No traffic" in h for h in r.hints)

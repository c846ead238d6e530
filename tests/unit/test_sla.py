"""SLA core: months, maintenance exclusions, uptime/latency/availability terms, credits, severity.

Expected values are worked out by hand in the comments, never computed by the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sloguard.core.model import BoolGaugeSLI, LatencySLI, RatioSLI
from sloguard.core.sla import (
    Contract,
    CreditTier,
    MaintenanceWindow,
    RequestCounts,
    SLAError,
    Slice,
    SliceFacts,
    Term,
    assess_maintenance,
    classify_severity,
    evaluate_contract,
    minutes_between,
    month_period,
    period_containing,
    previous_period,
    sla_minutes_lost,
    tier_credit,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


UPTIME_TIERS = (CreditTier(99.9, 10), CreditTier(99.5, 25), CreditTier(99.0, 50))
PROBE = BoolGaugeSLI('probe_success{instance="platform"}')


def uptime_term(name: str = "platform-availability", **kw: object) -> Term:
    return Term(name, "uptime", 99.9, PROBE, UPTIME_TIERS, **kw)  # type: ignore[arg-type]


def contract(*terms: Term, **kw: object) -> Contract:
    base: dict[str, object] = {
        "name": "acme",
        "contract_id": "C-2026-001",
        "customer_id": "acme",
        "customer_name": "ACME Corp",
        "terms": terms,
        "monthly_fee": 10000.0,
        "currency": "USD",
    }
    base.update(kw)
    return Contract(**base)  # type: ignore[arg-type]


def facts_for(period_name: str, tz: str, down: list[tuple[str, str]], gaps: list[tuple[str, str]] = ()) -> SliceFacts:
    """One good ratio per minute of the month: 0 inside ``down`` intervals, absent in ``gaps``."""
    p = month_period(period_name, tz)
    start = int(p.start.timestamp())
    end = int(p.end.timestamp())
    down_s = [(int(utc(a).timestamp()), int(utc(b).timestamp())) for a, b in down]
    gap_s = [(int(utc(a).timestamp()), int(utc(b).timestamp())) for a, b in gaps]
    good: dict[int, float] = {}
    for s in range(start, end, 60):
        if any(a <= s < b for a, b in gap_s):
            continue
        good[s] = 0.0 if any(a <= s < b for a, b in down_s) else 1.0
    return SliceFacts(60, good)


# --- months ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "tz", "minutes"),
    [
        ("2026-03", "Europe/Berlin", 44_580),  # 31 days, clocks go forward on the 29th
        ("2026-10", "Europe/Berlin", 44_700),  # 31 days, clocks go back on the 25th
        ("2026-10", "UTC", 44_640),
        ("2026-02", "UTC", 40_320),
        ("2026-11", "America/New_York", 43_260),  # 30 days + the hour of 1 November
        ("2024-02", "UTC", 41_760),  # leap year
    ],
)
def test_a_month_has_the_minutes_its_timezone_gives_it(period: str, tz: str, minutes: int) -> None:
    assert month_period(period, tz).minutes == minutes


def test_a_berlin_month_starts_and_ends_at_local_midnight() -> None:
    p = month_period("2026-10", "Europe/Berlin")
    assert p.start.astimezone(UTC) == utc("2026-09-30T22:00:00Z")
    assert p.end.astimezone(UTC) == utc("2026-10-31T23:00:00Z")


def test_minutes_between_counts_real_time_not_wall_clock() -> None:
    p = month_period("2026-10", "Europe/Berlin")
    assert (p.end - p.start) == timedelta(days=31)  # Python's wall-clock subtraction
    assert minutes_between(p.start, p.end) == 44_700


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "October", "2026-00"])
def test_a_period_that_is_not_a_month_is_refused(bad: str) -> None:
    with pytest.raises(SLAError, match="not a month"):
        month_period(bad)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "A" * 300])  # too long for a file name: OSError inside
def test_an_unknown_timezone_is_refused_with_a_hint(zone: str) -> None:
    with pytest.raises(SLAError, match="IANA"):
        month_period("2026-10", zone)


def test_the_period_containing_an_instant_follows_the_timezone() -> None:
    # 22:30Z on 30 September is already 1 October in Berlin.
    assert period_containing(utc("2026-09-30T22:30:00Z"), "Europe/Berlin").name == "2026-10"
    assert period_containing(utc("2026-09-30T22:30:00Z"), "UTC").name == "2026-09"
    assert previous_period(month_period("2026-01", "UTC")).name == "2025-12"


# --- maintenance -----------------------------------------------------------------------------

OCT = month_period("2026-10", "UTC")


def test_a_window_announced_with_enough_notice_is_excluded_and_a_late_one_flagged() -> None:
    on_time = MaintenanceWindow(utc("2026-10-03T01:30:00Z"), utc("2026-10-03T03:00:00Z"),
                                utc("2026-09-30T01:00:00Z"), "storage upgrade")
    late = MaintenanceWindow(utc("2026-10-10T02:00:00Z"), utc("2026-10-10T02:30:00Z"),
                             utc("2026-10-09T12:00:00Z"), "hotfix")
    never = MaintenanceWindow(utc("2026-10-11T02:00:00Z"), utc("2026-10-11T02:30:00Z"), None, "surprise")
    plan = assess_maintenance([late, on_time, never], 48 * 3600, OCT)
    assert [w.window.description for w in plan.windows] == ["storage upgrade", "hotfix", "surprise"]
    assert [w.excluded for w in plan.windows] == [True, False, False]
    assert [w.window.description for w in plan.late] == ["hotfix", "surprise"]
    assert plan.windows[1].notice_seconds == 14 * 3600
    assert plan.windows[1].reason == "announced only 14h before its start"
    assert plan.windows[2].reason == "not announced"
    assert plan.excluded_minutes == 90


def test_exactly_the_minimum_notice_is_enough() -> None:
    w = MaintenanceWindow(utc("2026-10-03T00:00:00Z"), utc("2026-10-03T01:00:00Z"), utc("2026-10-01T00:00:00Z"))
    assert assess_maintenance([w], 48 * 3600, OCT).windows[0].excluded
    assert not assess_maintenance([w], 48 * 3600 + 1, OCT).windows[0].excluded


def test_overlapping_and_touching_windows_merge_into_one_exclusion() -> None:
    ann = utc("2026-09-01T00:00:00Z")
    ws = [
        MaintenanceWindow(utc("2026-10-05T01:00:00Z"), utc("2026-10-05T02:00:00Z"), ann),
        MaintenanceWindow(utc("2026-10-05T01:30:00Z"), utc("2026-10-05T02:30:00Z"), ann),  # overlaps
        MaintenanceWindow(utc("2026-10-05T02:30:00Z"), utc("2026-10-05T03:00:00Z"), ann),  # touches
        MaintenanceWindow(utc("2026-10-06T01:00:00Z"), utc("2026-10-06T01:10:00Z"), ann),
    ]
    plan = assess_maintenance(ws, 48 * 3600, OCT)
    assert [(i.start, i.end) for i in plan.exclusions] == [
        (utc("2026-10-05T01:00:00Z"), utc("2026-10-05T03:00:00Z")),
        (utc("2026-10-06T01:00:00Z"), utc("2026-10-06T01:10:00Z")),
    ]
    assert plan.excluded_minutes == 120 + 10  # not 60 + 60 + 30 + 10


def test_windows_are_clipped_to_the_month_and_others_ignored() -> None:
    ann = utc("2026-09-01T00:00:00Z")
    ws = [
        MaintenanceWindow(utc("2026-10-31T23:00:00Z"), utc("2026-11-01T01:00:00Z"), ann),
        MaintenanceWindow(utc("2026-11-05T00:00:00Z"), utc("2026-11-05T01:00:00Z"), ann),
    ]
    plan = assess_maintenance(ws, 48 * 3600, OCT)
    assert len(plan.windows) == 1
    assert plan.excluded_minutes == 60


def test_a_window_ending_before_it_starts_is_an_error() -> None:
    w = MaintenanceWindow(utc("2026-10-05T02:00:00Z"), utc("2026-10-05T01:00:00Z"), None, "typo")
    with pytest.raises(SLAError, match="ends before it starts"):
        assess_maintenance([w], 0, OCT)


# --- uptime ----------------------------------------------------------------------------------


def test_uptime_counts_down_minutes_outside_excluded_maintenance_only() -> None:
    # October 2026 UTC: 44,640 minutes. Maintenance 01:30-03:00 on the 3rd (announced 3 days
    # before: excluded); a late window 02:00-02:30 on the 10th (not excluded).
    # Outages: 01:00-01:40 on the 3rd (30 minutes before the window, 10 inside),
    #          02:00-02:20 on the 3rd (20 inside), 12:00-12:25 on the 7th (25 outside),
    #          02:00-02:30 on the 10th (30 in the late window: downtime).
    # Downtime = 30 + 25 + 30 = 85, excluded = 10 + 20 = 30.
    c = contract(
        uptime_term(),
        maintenance=(
            MaintenanceWindow(utc("2026-10-03T01:30:00Z"), utc("2026-10-03T03:00:00Z"),
                              utc("2026-09-30T01:00:00Z")),
            MaintenanceWindow(utc("2026-10-10T02:00:00Z"), utc("2026-10-10T02:30:00Z"),
                              utc("2026-10-09T12:00:00Z")),
        ),
    )
    facts = facts_for("2026-10", "UTC", [
        ("2026-10-03T01:00:00Z", "2026-10-03T01:40:00Z"),
        ("2026-10-03T02:00:00Z", "2026-10-03T02:20:00Z"),
        ("2026-10-07T12:00:00Z", "2026-10-07T12:25:00Z"),
        ("2026-10-10T02:00:00Z", "2026-10-10T02:30:00Z"),
    ])
    r = evaluate_contract(c, OCT, {"platform-availability": facts})
    t = r.terms[0]
    assert r.minutes == 44_640
    assert (t.downtime_minutes, t.excluded_minutes, t.no_data_minutes) == (85, 30, 0)
    assert t.actual == pytest.approx((44_640 - 85) / 44_640 * 100)  # 99.80959...
    assert not t.compliant
    assert t.credit_percent == 10  # below 99.9, not below 99.5
    assert r.credit_percent == 10 and r.credit_amount == 1000.0
    # Outage timeline: the excluded part of the first outage is its own segment.
    assert [(o.start.strftime("%d %H:%M"), o.minutes, o.excluded) for o in t.outages] == [
        ("03 01:00", 30, False),
        ("03 01:30", 10, True),
        ("03 02:00", 20, True),
        ("07 12:00", 25, False),
        ("10 02:00", 30, False),
    ]


def test_uptime_in_a_dst_month_uses_that_months_minutes() -> None:
    # Europe/Berlin October 2026 has 44,700 minutes; 45 minutes down -> 99.89933% (< 99.9).
    p = month_period("2026-10", "Europe/Berlin")
    facts = facts_for("2026-10", "Europe/Berlin", [("2026-10-25T00:30:00Z", "2026-10-25T01:15:00Z")])
    r = evaluate_contract(contract(uptime_term(), timezone="Europe/Berlin"), p, {"platform-availability": facts})
    t = r.terms[0]
    assert r.minutes == 44_700
    assert t.downtime_minutes == 45
    assert t.actual == pytest.approx(99.899328859)
    assert t.credit_percent == 10
    # 44 minutes would have been compliant: (44,700 - 44) / 44,700 = 99.90157%.
    facts44 = facts_for("2026-10", "Europe/Berlin", [("2026-10-25T00:30:00Z", "2026-10-25T01:14:00Z")])
    r44 = evaluate_contract(contract(uptime_term(), timezone="Europe/Berlin"), p, {"platform-availability": facts44})
    assert r44.terms[0].compliant and r44.credit_percent == 0


def test_daily_uptime_follows_local_days_including_the_25_hour_one() -> None:
    p = month_period("2026-10", "Europe/Berlin")
    # 00:30Z-01:15Z on 25 October is 02:30-02:15 local (the repeated hour): all on the 25th.
    facts = facts_for("2026-10", "Europe/Berlin", [("2026-10-25T00:30:00Z", "2026-10-25T01:15:00Z")])
    r = evaluate_contract(contract(uptime_term(), timezone="Europe/Berlin"), p, {"platform-availability": facts})
    days = {d.day: d for d in r.terms[0].days}
    assert len(days) == 31
    assert days["2026-10-25"].minutes == 1500
    assert days["2026-10-24"].minutes == 1440
    assert days["2026-10-25"].downtime_minutes == 45
    assert days["2026-10-25"].uptime == pytest.approx(97.0)
    assert sum(d.minutes for d in days.values()) == 44_700


def test_a_slice_target_below_one_tolerates_partial_failure() -> None:
    term = uptime_term(slice=Slice("1m", 0.99))
    good = {s: 1.0 for s in range(int(OCT.start.timestamp()), int(OCT.end.timestamp()), 60)}
    first = int(OCT.start.timestamp())
    good[first] = 0.995  # up: >= 0.99
    good[first + 60] = 0.99  # up: exactly the target
    good[first + 120] = 0.98  # down
    r = evaluate_contract(contract(term), OCT, {term.name: SliceFacts(60, good)})
    assert r.terms[0].downtime_minutes == 1


@pytest.mark.parametrize(("written", "spelled", "seconds"), [("60s", "1m", 60), ("300s", "5m", 300), ("1m", "1m", 60)])
def test_a_slice_window_has_one_spelling(written: str, spelled: str, seconds: int) -> None:
    assert (Slice(written).window, Slice(written).seconds) == (spelled, seconds)


def test_five_minute_slices_count_five_minutes_each() -> None:
    term = uptime_term(slice=Slice("5m", 1.0))
    start = int(OCT.start.timestamp())
    good = {s: 1.0 for s in range(start, int(OCT.end.timestamp()), 300)}
    good[start + 600] = 0.5
    r = evaluate_contract(contract(term), OCT, {term.name: SliceFacts(300, good)})
    assert r.terms[0].downtime_minutes == 5


def test_minutes_without_data_count_as_up_only_when_the_contract_says_so() -> None:
    facts = facts_for("2026-10", "UTC", [], gaps=[("2026-10-02T00:00:00Z", "2026-10-02T01:00:00Z")])
    t = evaluate_contract(contract(uptime_term(), no_data="uptime"), OCT, {"platform-availability": facts}).terms[0]
    assert (t.downtime_minutes, t.no_data_minutes, t.actual) == (0, 60, 100.0)


def test_minutes_without_data_are_downtime_by_default() -> None:
    # A one-hour gap on 2 October: 60 of October's 44,640 minutes down -> 44,580 / 44,640 = 99.8656%,
    # under 99.9 -> the 10% tier.
    facts = facts_for("2026-10", "UTC", [], gaps=[("2026-10-02T00:00:00Z", "2026-10-02T01:00:00Z")])
    r = evaluate_contract(contract(uptime_term()), OCT, {"platform-availability": facts})
    t = r.terms[0]
    assert (t.downtime_minutes, t.no_data_minutes) == (60, 60)
    assert t.actual == pytest.approx(44_580 * 100 / 44_640)
    assert (t.compliant, t.credit_percent) == (False, 10)
    assert r.as_dict()["noData"] == "downtime"


def test_a_probe_that_stops_on_the_fifth_is_a_breach_not_a_perfect_month() -> None:
    # The probe reports until 2026-11-05T00:00Z and then nothing: 4 days = 5,760 minutes with data of
    # November's 43,200; 37,440 without. Downtime by default: 5,760 / 43,200 = 13.33% up.
    nov = month_period("2026-11")
    facts = facts_for("2026-11", "UTC", [], gaps=[("2026-11-05T00:00:00Z", "2026-12-01T00:00:00Z")])
    r = evaluate_contract(contract(uptime_term()), nov, {"platform-availability": facts})
    t = r.terms[0]
    assert (t.no_data_minutes, t.downtime_minutes) == (37_440, 37_440)
    assert t.actual == pytest.approx(5_760 * 100 / 43_200)
    assert (r.compliant, r.credit_percent) == (False, 50)
    assert r.coverage == pytest.approx(5_760 / 43_200)
    assert r.complete and not r.coverage_ok  # the month ended, but it is not fit to be finalized


def test_excluded_no_data_measures_uptime_over_the_minutes_with_data() -> None:
    # 60 minutes without data and 30 down: (44,580 - 30) / 44,580 = 99.9327% -> met, no credit.
    facts = facts_for("2026-10", "UTC", [("2026-10-03T00:00:00Z", "2026-10-03T00:30:00Z")],
                      gaps=[("2026-10-02T00:00:00Z", "2026-10-02T01:00:00Z")])
    t = evaluate_contract(contract(uptime_term(), no_data="excluded"), OCT, {"platform-availability": facts}).terms[0]
    assert (t.downtime_minutes, t.no_data_minutes) == (30, 60)
    assert t.actual == pytest.approx(44_550 * 100 / 44_580)
    assert (t.compliant, t.credit_percent) == (True, 0)


def test_a_term_with_no_data_at_all_and_excluded_gaps_has_no_actual() -> None:
    facts = facts_for("2026-10", "UTC", [], gaps=[("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")])
    t = evaluate_contract(contract(uptime_term(), no_data="excluded"), OCT, {"platform-availability": facts}).terms[0]
    assert (t.actual, t.coverage) == (None, 0.0)


def test_no_data_inside_announced_maintenance_is_excluded_not_downtime() -> None:
    # The gap (01:00-02:00 on 3 October) lies inside a window announced a month ahead.
    w = MaintenanceWindow(utc("2026-10-03T01:00:00Z"), utc("2026-10-03T02:00:00Z"), utc("2026-09-01T00:00:00Z"))
    facts = facts_for("2026-10", "UTC", [], gaps=[("2026-10-03T01:00:00Z", "2026-10-03T02:00:00Z")])
    t = evaluate_contract(contract(uptime_term(), maintenance=(w,)), OCT, {"platform-availability": facts}).terms[0]
    assert (t.downtime_minutes, t.excluded_minutes, t.no_data_minutes, t.actual) == (0, 60, 60, 100.0)


@pytest.mark.parametrize(("gap_minutes", "minimum", "ok"), [
    (0, 99.0, True),
    (446, 99.0, True),    # 44,194 / 44,640 = 99.0009% >= 99%
    (447, 99.0, False),   # 44,193 / 44,640 = 98.9986% <  99%
    (447, 98.9, True),
    (44_640, 0.0, True),  # a contract that accepts anything
])
def test_coverage_decides_whether_a_month_may_be_finalized(gap_minutes: int, minimum: float, ok: bool) -> None:
    start = OCT.start
    gaps = [(start.isoformat(), (start + timedelta(minutes=gap_minutes)).isoformat())] if gap_minutes else []
    facts = facts_for("2026-10", "UTC", [], gaps=gaps)
    r = evaluate_contract(contract(uptime_term(), minimum_coverage=minimum), OCT, {"platform-availability": facts})
    assert r.coverage == pytest.approx((44_640 - gap_minutes) / 44_640)
    assert r.coverage_ok is ok


def test_request_terms_do_not_lower_coverage() -> None:
    term = Term("api-availability", "availability", 99.9, PROBE, UPTIME_TIERS)
    r = evaluate_contract(contract(term), OCT, {"api-availability": RequestCounts(total=1000, bad=0)})
    assert (r.terms[0].coverage, r.coverage, r.coverage_ok) == (None, 1.0, True)


def test_a_slice_only_partly_inside_maintenance_is_not_excluded() -> None:
    w = MaintenanceWindow(utc("2026-10-03T01:30:30Z"), utc("2026-10-03T01:33:00Z"), utc("2026-09-01T00:00:00Z"))
    facts = facts_for("2026-10", "UTC", [("2026-10-03T01:30:00Z", "2026-10-03T01:33:00Z")])
    t = evaluate_contract(contract(uptime_term(), maintenance=(w,)), OCT, {"platform-availability": facts}).terms[0]
    assert (t.downtime_minutes, t.excluded_minutes) == (1, 2)


def test_an_outage_across_a_month_boundary_is_split_between_the_months() -> None:
    # 23:50Z on 30 September to 00:20Z on 1 October: 10 minutes in September, 20 in October.
    sept, octo = month_period("2026-09"), month_period("2026-10")
    down = [("2026-09-30T23:50:00Z", "2026-10-01T00:20:00Z")]
    rs = evaluate_contract(contract(uptime_term()), sept, {"platform-availability": facts_for("2026-09", "UTC", down)})
    ro = evaluate_contract(contract(uptime_term()), octo, {"platform-availability": facts_for("2026-10", "UTC", down)})
    assert rs.terms[0].downtime_minutes == 10
    assert ro.terms[0].downtime_minutes == 20


def test_a_month_in_progress_is_measured_up_to_now() -> None:
    now = utc("2026-10-11T00:00:00Z")  # 10 days = 14,400 minutes
    facts = facts_for("2026-10", "UTC", [("2026-10-05T00:00:00Z", "2026-10-05T00:15:00Z")])
    r = evaluate_contract(contract(uptime_term()), OCT, {"platform-availability": facts}, now=now)
    assert (r.minutes, r.complete) == (14_400, False)
    assert r.terms[0].actual == pytest.approx((14_400 - 15) / 14_400 * 100)
    with pytest.raises(SLAError, match="has not started"):
        evaluate_contract(contract(uptime_term()), OCT, {}, now=utc("2026-09-01T00:00:00Z"))


# --- request-based terms ---------------------------------------------------------------------

LATENCY = Term("response-time", "latency", 95, LatencySLI("http_request_duration_seconds_bucket", 2, 10),
               (CreditTier(95, 5), CreditTier(90, 15)))
SUCCESS = Term("api-success", "availability", 99.95, RatioSLI("http_requests_total", errors="errs"),
               (CreditTier(99.95, 10),))


def test_latency_is_the_good_share_of_valid_requests() -> None:
    # 100,000 valid requests, 6,000 slower than 2s -> 94% -> under 95, not under 90 -> 5%.
    r = evaluate_contract(contract(LATENCY), OCT, {"response-time": RequestCounts(6_000, 100_000)})
    t = r.terms[0]
    assert t.actual == pytest.approx(94.0)
    assert t.downtime_minutes is None
    assert (t.compliant, t.credit_percent) == (False, 5)


def test_requests_in_excluded_maintenance_are_left_out_of_both_sides() -> None:
    # Month: 1,000,000 requests, 900 failed; 600 of the failures and 10,000 requests were in
    # an excluded window -> 300 / 990,000 failed -> 99.969697% >= 99.95: compliant.
    w = MaintenanceWindow(utc("2026-10-03T01:30:00Z"), utc("2026-10-03T03:00:00Z"), utc("2026-09-01T00:00:00Z"))
    counts = RequestCounts(900, 1_000_000, excluded_bad=600, excluded_total=10_000)
    r = evaluate_contract(contract(SUCCESS, maintenance=(w,)), OCT, {"api-success": counts})
    t = r.terms[0]
    assert t.actual == pytest.approx((990_000 - 300) / 990_000 * 100)
    assert t.compliant and t.excluded_minutes == 90
    without = evaluate_contract(contract(SUCCESS), OCT, {"api-success": RequestCounts(900, 1_000_000)})
    assert without.terms[0].actual == pytest.approx(99.91) and without.terms[0].credit_percent == 10


def test_a_term_without_traffic_has_no_actual_and_no_credit() -> None:
    t = evaluate_contract(contract(SUCCESS), OCT, {"api-success": RequestCounts(0, 0)}).terms[0]
    assert (t.actual, t.compliant, t.credit_percent) == (None, True, 0.0)


def test_a_missing_or_mismatched_measurement_is_an_error() -> None:
    with pytest.raises(SLAError, match="no measurement"):
        evaluate_contract(contract(SUCCESS), OCT, {})
    with pytest.raises(SLAError, match="needs per-slice facts"):
        evaluate_contract(contract(uptime_term()), OCT, {"platform-availability": RequestCounts(1, 2)})


# --- credits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "percent"),
    [(99.95, 0), (99.9, 0), (99.89, 10), (99.5, 10), (99.49, 25), (99.0, 25), (98.99, 50), (12.0, 50)],
)
def test_the_worst_tier_a_term_falls_under_gives_its_credit(actual: float, percent: float) -> None:
    assert tier_credit(actual, UPTIME_TIERS) == percent


def test_tier_order_in_the_contract_does_not_matter() -> None:
    assert tier_credit(98.0, tuple(reversed(UPTIME_TIERS))) == 50


def test_the_contract_credit_is_the_sum_capped_at_the_maximum() -> None:
    # uptime 97% -> 50; latency 80% -> 15; availability 90% -> 10: sum 75, capped at 60.
    down = [("2026-10-02T00:00:00Z", "2026-10-02T00:00:00Z")]
    facts = facts_for("2026-10", "UTC", down)
    good = dict(facts.good)
    for s in list(good)[: int(44_640 * 0.03)]:  # 1,339 minutes down -> 97.0004%
        good[s] = 0.0
    c = contract(uptime_term(), LATENCY, SUCCESS, max_credit_percent=60, monthly_fee=2500.0, currency="EUR")
    r = evaluate_contract(c, OCT, {
        "platform-availability": SliceFacts(60, good),
        "response-time": RequestCounts(20, 100),
        "api-success": RequestCounts(10, 100),
    })
    assert [t.credit_percent for t in r.terms] == [50, 15, 10]
    assert r.uncapped_credit_percent == 75
    assert r.credit_percent == 60
    assert r.credit_amount == 1500.0
    d = r.as_dict()
    assert d["creditPercent"] == 60 and d["creditAmount"] == 1500.0 and d["currency"] == "EUR"
    assert d["contract"] == "C-2026-001" and d["customer"] == "acme" and d["period"] == "2026-10"
    assert d["minutes"] == 44_640
    terms = d["terms"]
    assert isinstance(terms, list)
    assert set(terms[0]) >= {"name", "type", "objective", "actual", "compliant", "downtimeMinutes",
                             "excludedMinutes", "creditPercent"}
    assert terms[0]["downtimeMinutes"] == 1_339


def test_an_exact_boundary_is_compliant() -> None:
    # 1,000-minute partial month with 1 minute down = exactly 99.9%: meets the objective.
    now = OCT.start + timedelta(minutes=1000)
    facts = facts_for("2026-10", "UTC", [("2026-10-01T00:00:00Z", "2026-10-01T00:01:00Z")])
    t = evaluate_contract(contract(uptime_term()), OCT, {"platform-availability": facts}, now=now).terms[0]
    assert t.actual == 99.9 and t.compliant and t.credit_percent == 0


# --- incident impact -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "share", "breached", "level"),
    [
        (1.0, 0, False, "severity_1"),
        (0.95, 0, False, "severity_1"),
        (0.6, 0, False, "severity_2"),
        (0.1, 0, False, "severity_3"),
        (0.01, 0, False, "severity_4"),
        (0.01, 0.3, False, "severity_2"),  # a quarter of the budget in one incident
        (0.1, 0, True, "severity_2"),  # an SLA breach is a compliance impact
    ],
)
def test_incident_severity_follows_the_seeds_levels(ratio: float, share: float, breached: bool, level: str) -> None:
    assert classify_severity(ratio, share, breached).name == level


def test_sla_minutes_lost_in_an_interval_honour_exclusions() -> None:
    w = MaintenanceWindow(utc("2026-10-03T01:30:00Z"), utc("2026-10-03T03:00:00Z"), utc("2026-09-01T00:00:00Z"))
    plan = assess_maintenance([w], 48 * 3600, OCT)
    facts = facts_for("2026-10", "UTC", [("2026-10-03T01:00:00Z", "2026-10-03T02:00:00Z")])
    lost = sla_minutes_lost(uptime_term(), facts, utc("2026-10-03T00:00:00Z"), utc("2026-10-03T06:00:00Z"), plan)
    assert lost == 30


def test_the_allowance_of_a_999_month_is_44_64_minutes() -> None:
    from sloguard.core.sla import allowed_downtime_minutes

    assert allowed_downtime_minutes(99.9, 44_640) == pytest.approx(44.64)

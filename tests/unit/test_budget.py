"""The budget engine: exact figures from measurements, no Prometheus."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from sloguard.core.budget import (
    BudgetStatus,
    Measurements,
    Thresholds,
    burn_windows,
    compute,
    health_level,
    health_score,
    mark_stale,
    state_for,
    to_dict,
    to_json,
)
from sloguard.core.model import Alerting, Objective, RatioSLI, Timeslice
from sloguard.core.windows import BurnRateTier, default_tiers, parse_window

NOW = datetime(2025, 3, 11, 0, 0, tzinfo=UTC)
DAY = 86400


def slo(
    objective: float = 0.999,
    window: str = "30d",
    method: str = "Occurrences",
    timeslice: Timeslice | None = None,
    tiers: tuple[BurnRateTier, ...] | None = None,
) -> Objective:
    w = parse_window(window)
    return Objective(
        namespace="shop",
        name="checkout-availability",
        service="checkout",
        objective=objective,
        window=w,
        sli=RatioSLI(total="http_requests_total", errors='http_requests_total{code=~"5.."}'),
        alerting=Alerting(name="ErrorBudgetBurn", tiers=tiers if tiers is not None else default_tiers(w)),
        budgeting_method=method,  # type: ignore[arg-type]
        timeslice=timeslice,
    )


def ratios(**by_window: float | None) -> dict[str, float | None]:
    return {k.removeprefix("w"): v for k, v in by_window.items()}


def approx(x: float) -> object:
    return pytest.approx(x, rel=1e-12, abs=1e-12)


# --- rolling windows, Occurrences ------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "total", "sli", "consumed", "remaining", "remaining_seconds", "state"),
    [
        # 0.05% errors against a 0.1% budget: half spent, 21.6 of 43.2 minutes left
        (500, 1_000_000, 0.9995, 0.5, 0.5, 1296.0, "healthy"),
        # nothing bad: the whole budget, 43.2 minutes of full outage
        (0, 1_000_000, 1.0, 0.0, 1.0, 2592.0, "healthy"),
        # 0.08%: 20% left is a warning
        (800, 1_000_000, 0.9992, 0.8, 0.2, 518.4, "warning"),
        # 0.095%: 5% left is critical
        (950, 1_000_000, 0.99905, 0.95, 0.05, 129.6, "critical"),
        # exactly the budget: exhausted at 0
        (1000, 1_000_000, 0.999, 1.0, 0.0, 0.0, "exhausted"),
        # 2.5x the budget: overspend shown, not clamped
        (2500, 1_000_000, 0.9975, 2.5, -1.5, -3888.0, "exhausted"),
    ],
)
def test_a_rolling_window_budget_is_the_error_ratio_over_the_allowed_ratio(
    bad: float, total: float, sli: float, consumed: float, remaining: float, remaining_seconds: float, state: str
) -> None:
    s = compute(slo(), Measurements(bad=bad, total=total), NOW)
    assert s.sli == approx(sli)
    assert s.consumed == approx(consumed)
    assert s.remaining == approx(remaining)
    assert s.remaining_seconds == approx(remaining_seconds)
    assert s.state == state


def test_burn_rate_is_the_window_error_ratio_over_the_budget_for_every_reported_and_tier_window() -> None:
    tiers = (BurnRateTier("page", 10.0, "15m", "4h"),)
    s = compute(
        slo(tiers=tiers),
        Measurements(bad=0, total=1000, error_ratios=ratios(w5m=0.0144, w1h=0.002, w4h=0.0, w3d=None)),
        NOW,
    )
    assert list(s.burn_rates) == ["5m", "15m", "30m", "1h", "2h", "4h", "6h", "1d", "3d"]
    assert s.burn_rates["5m"] == approx(14.4)
    assert s.burn_rates["1h"] == approx(2.0)
    assert s.burn_rates["4h"] == 0.0
    assert s.burn_rates["3d"] is None
    assert s.burn_rates["15m"] is None


def test_the_default_tiers_add_no_windows_beyond_the_reported_ones() -> None:
    assert burn_windows(slo()) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]


def test_burn_windows_are_read_in_the_spelling_the_rules_record() -> None:
    # A tier written 60m / 1440m is recorded as rate1h / rate1d; the reader must ask for those.
    tiers = (BurnRateTier("page", 14.4, "300s", "60m"), BurnRateTier("ticket", 3, "2h", "1440m"))
    assert burn_windows(slo(tiers=tiers)) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    assert burn_windows(slo(window="7d")) == ["5m", "15m", "30m", "1h", "2h", "6h", "1d", "3d"]


@pytest.mark.parametrize(
    ("remaining", "burn_1h", "tte"),
    [
        # half of a 30-day budget left at 14.4x: 0.5 * 30d / 14.4 = 25 hours
        (0.5, 14.4, 90_000.0),
        # all of it at exactly 1x: the whole window
        (1.0, 1.0, 2_592_000.0),
        # not burning: no ETA
        (0.5, 0.0, None),
        (0.5, None, None),
        # already exhausted: no ETA
        (0.0, 14.4, None),
        (-0.5, 14.4, None),
    ],
)
def test_time_to_exhaustion_is_remaining_budget_at_the_current_1h_burn(
    remaining: float, burn_1h: float | None, tte: float | None
) -> None:
    bad = (1 - remaining) * 0.001 * 1_000_000
    m = Measurements(bad=bad, total=1_000_000, error_ratios=ratios(w1h=None if burn_1h is None else burn_1h * 0.001))
    s = compute(slo(), m, NOW)
    assert s.time_to_exhaustion_seconds == (None if tte is None else approx(tte))


# --- zero traffic and failures ---------------------------------------------------------------


@pytest.mark.parametrize(
    "m",
    [
        Measurements(bad=0, total=0),
        Measurements(bad=None, total=None),
        Measurements(bad=math.nan, total=math.nan),
        Measurements(bad=0.0, total=math.inf),
    ],
)
def test_no_traffic_leaves_the_sli_unknown_never_nan_and_never_100_percent(m: Measurements) -> None:
    s = compute(slo(), m, NOW)
    assert (s.sli, s.consumed, s.remaining, s.remaining_seconds) == (None, None, None, None)
    assert s.state == "unknown"
    assert s.health_score is None and s.time_to_exhaustion_seconds is None
    assert "no traffic" in s.hints[0]
    json.dumps(to_dict(s), allow_nan=False)


def test_a_failed_measurement_is_unknown_and_says_why() -> None:
    s = compute(slo(), Measurements(error="bad_data: parse error"), NOW)
    assert s.state == "unknown"
    assert s.hints == ("measurement failed: bad_data: parse error",)


def test_a_stale_status_keeps_its_figures_and_says_it_is_stale() -> None:
    fresh = compute(slo(), Measurements(bad=500, total=1_000_000), NOW)
    stale = mark_stale(fresh, "cannot reach Prometheus")
    assert stale.stale and not fresh.stale
    assert (stale.consumed, stale.state, stale.sli) == (fresh.consumed, fresh.state, fresh.sli)
    assert stale.hints[-1] == "stale: cannot reach Prometheus"


# --- calendar windows ------------------------------------------------------------------------


def test_a_calendar_month_counts_bad_events_so_far_against_the_whole_months_projected_budget() -> None:
    # March 2025 has 31 days; on the 11th at 00:00 10 days have passed. 0.01% errors so far is a
    # tenth of the allowed ratio, over 10/31 of the month's projected traffic.
    s = compute(slo(window="month"), Measurements(bad=100, total=1_000_000), NOW)
    assert s.sli == approx(0.9999)
    assert s.consumed == approx(0.1 * 10 / 31)
    assert s.remaining_seconds == approx((1 - 0.1 * 10 / 31) * 0.001 * 31 * DAY)
    assert s.state == "healthy"


def test_a_calendar_week_of_full_outage_time_is_bad_seconds_over_the_weeks_budget() -> None:
    # Time-based SLIs count seconds: 60 bad seconds out of the 2 days so far (Tue 2025-03-11 is
    # 1 day into the ISO week starting Mon 03-10); a 99% weekly budget is 6048 seconds.
    s = compute(slo(objective=0.99, window="week"), Measurements(bad=60, total=DAY), NOW)
    assert s.consumed == approx(60 / (0.01 * 7 * DAY))


def test_the_first_instant_of_a_calendar_period_is_unknown() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    assert compute(slo(window="month"), Measurements(bad=0, total=10), start).state == "unknown"


# --- Timeslices ------------------------------------------------------------------------------


def test_timeslices_count_bad_slices_against_the_slices_the_window_allows() -> None:
    # 28 days of 5-minute slices = 8064; 1% of them = 80.64 bad slices allowed.
    ts = Timeslice(window="5m", target=0.99)
    s = compute(
        slo(objective=0.99, window="28d", method="Timeslices", timeslice=ts),
        Measurements(bad_slices=20, total_slices=8000),
        NOW,
    )
    assert s.budget_slices == approx(80.64)
    assert s.sli == approx(1 - 20 / 8000)
    assert s.consumed == approx(20 / 80.64)
    assert s.remaining_seconds == approx((80.64 - 20) * 300)
    assert to_dict(s)["slices"] == {"bad": 20, "total": 8000}


def test_timeslices_run_out_one_slice_per_slice_while_the_1h_error_ratio_breaks_the_slice_target() -> None:
    ts = Timeslice(window="5m", target=0.99)
    o = slo(objective=0.99, window="28d", method="Timeslices", timeslice=ts)
    burning = compute(o, Measurements(bad_slices=20, total_slices=8000, error_ratios=ratios(w1h=0.02)), NOW)
    assert burning.time_to_exhaustion_seconds == approx((80.64 - 20) * 300)
    within = compute(o, Measurements(bad_slices=20, total_slices=8000, error_ratios=ratios(w1h=0.005)), NOW)
    assert within.time_to_exhaustion_seconds is None


def test_timeslices_with_no_slice_of_traffic_are_unknown() -> None:
    ts = Timeslice(window="5m", target=0.99)
    s = compute(slo(method="Timeslices", timeslice=ts), Measurements(bad_slices=0, total_slices=0), NOW)
    assert s.state == "unknown" and s.sli is None
    assert to_dict(s)["slices"] == {"bad": 0, "total": 0}


# --- state, score, hints ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remaining", "thresholds", "state"),
    [
        (0.50, Thresholds(), "healthy"),
        (0.25, Thresholds(), "healthy"),  # "below 25%" is strict
        (0.2499, Thresholds(), "warning"),
        (0.10, Thresholds(), "warning"),
        (0.0999, Thresholds(), "critical"),
        (0.0001, Thresholds(), "critical"),
        (0.0, Thresholds(), "exhausted"),
        (-3.0, Thresholds(), "exhausted"),
        (None, Thresholds(), "unknown"),
        (0.40, Thresholds(warning=0.5, critical=0.2), "warning"),
        (0.15, Thresholds(warning=0.5, critical=0.2), "critical"),
    ],
)
def test_state_follows_the_remaining_budget_and_overridable_thresholds(
    remaining: float | None, thresholds: Thresholds, state: str
) -> None:
    assert state_for(remaining, thresholds) == state


@pytest.mark.parametrize(
    ("compliant", "consumed", "burn_1h", "score"),
    [
        (True, 0.0, 0.0, 100),
        (True, 0.5, 2.0, 100),  # "more than": 50% and 2x cost nothing yet
        (True, 0.51, 2.1, 85),
        (True, 0.76, 5.1, 65),
        (True, 0.91, 10.1, 40),
        (False, 1.5, 14.4, 10),
        (False, 1.5, None, 30),
    ],
)
def test_health_score_starts_at_100_and_loses_the_seeds_penalties(
    compliant: bool, consumed: float, burn_1h: float | None, score: int
) -> None:
    assert health_score(compliant, consumed, burn_1h) == score


@pytest.mark.parametrize(
    ("score", "level"),
    [(100, "healthy"), (80, "healthy"), (79, "warning"), (60, "warning"), (59, "critical"), (None, "unknown")],
)
def test_health_level_is_healthy_from_80_warning_from_60_else_critical(score: int | None, level: str) -> None:
    assert health_level(score) == level


def test_a_status_scores_compliance_consumption_and_burn_together() -> None:
    s = compute(slo(), Measurements(bad=2500, total=1_000_000, error_ratios=ratios(w1h=0.006)), NOW)
    assert s.health_score == 100 - 30 - 40 - 10
    assert s.health == "critical"


def test_hints_say_when_the_budget_is_barely_used() -> None:
    s = compute(slo(), Measurements(bad=50, total=1_000_000), NOW)
    assert s.hints[0].startswith("budget barely used over the window (5.0% consumed)")


def test_hints_say_when_the_budget_is_nearly_gone_or_overspent() -> None:
    nearly = compute(slo(), Measurements(bad=950, total=1_000_000), NOW)
    assert nearly.hints[0].startswith("budget nearly gone: 95% consumed")
    over = compute(slo(), Measurements(bad=2500, total=1_000_000), NOW)
    assert over.hints[0].startswith("budget exhausted: 250% consumed")


def test_hints_point_to_a_recurring_cause_when_every_long_window_burns_at_least_1x() -> None:
    steady = ratios(w6h=0.0012, w1d=0.0011, w3d=0.001)
    s = compute(slo(), Measurements(bad=600, total=1_000_000, error_ratios=steady), NOW)
    assert any("recurring cause" in h for h in s.hints)
    one_off = ratios(w6h=0.0012, w1d=0.0011, w3d=0.0009)
    s = compute(slo(), Measurements(bad=600, total=1_000_000, error_ratios=one_off), NOW)
    assert not any("recurring cause" in h for h in s.hints)


def test_hints_give_a_fast_burn_its_eta_in_words() -> None:
    s = compute(slo(), Measurements(bad=500, total=1_000_000, error_ratios=ratios(w1h=0.0144)), NOW)
    assert "fast burn: 14.4x over the last hour; gone in 25.0h at this pace" in s.hints


# --- JSON contract ---------------------------------------------------------------------------


def test_json_has_exactly_the_contract_keys_with_objective_in_percent_and_fractions_elsewhere() -> None:
    s = compute(slo(), Measurements(bad=500, total=1_000_000, error_ratios=ratios(w1h=0.0144)), NOW)
    out = to_json([s])[0]
    assert list(out) == [
        "namespace",
        "name",
        "service",
        "objective",
        "window",
        "budgetingMethod",
        "sli",
        "errorBudget",
        "burnRates",
        "state",
        "timeToExhaustionSeconds",
        "healthScore",
        "evaluatedAt",
    ]
    assert out["namespace"] == "shop" and out["name"] == "checkout-availability" and out["service"] == "checkout"
    assert out["objective"] == 99.9 and out["window"] == "30d" and out["budgetingMethod"] == "Occurrences"
    assert out["sli"] == 0.9995
    assert out["errorBudget"] == {"consumed": 0.5, "remaining": 0.5, "remainingSeconds": 1296.0}
    assert out["burnRates"]["1h"] == 14.4 and out["burnRates"]["5m"] is None
    assert out["state"] == "healthy" and out["timeToExhaustionSeconds"] == 90000.0 and out["healthScore"] == 80
    assert out["evaluatedAt"] == "2025-03-11T00:00:00Z"
    json.dumps(out, allow_nan=False)


def test_a_status_knows_its_slo_key() -> None:
    s: BudgetStatus = compute(slo(), Measurements(bad=0, total=1), NOW)
    assert s.key == "shop/checkout-availability" and s.known


# --- the reader's window cache: cutting a window into pieces and whole hours ------------------


@pytest.mark.parametrize(
    "start, at, settle",
    [
        (0, 7 * 3600, 300),  # aligned both ends
        (1_000, 30 * 86400 + 1_000, 300),  # a rolling window between hours
        (3_599, 3 * 3600 + 200, 300),  # a tail shorter than the settle time
        (3_600 * 5 + 1800, 3_600 * 6 + 100, 300),  # shorter than an hour, across a boundary
        (100, 200, 0),  # inside one hour
        (0, 3600, 0),  # exactly one bucket, nothing to settle
        (1_800, 12 * 3600 + 1_800, 0),
    ],
)
def test_a_window_is_cut_exactly_into_a_head_whole_hours_and_a_tail(start: int, at: int, settle: int) -> None:
    from sloguard.adapters.prometheus.plan import BUCKET_SECONDS, cut

    c = cut(start, at, settle)
    spans = [(p.end - p.length, p.end) for p in c.pieces]
    if c.buckets is not None:
        lo, hi = c.buckets
        assert lo % BUCKET_SECONDS == 0 and hi % BUCKET_SECONDS == 0 and hi <= at - settle
        spans += [(e - BUCKET_SECONDS, e) for e in range(lo, hi + 1, BUCKET_SECONDS)]
    spans.sort()
    assert spans[0][0] == start and spans[-1][1] == at  # (start, at] ...
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))  # ... without gap or overlap
    assert all(p.length > 0 for p in c.pieces)
    assert all(p.end == at or p.end % BUCKET_SECONDS == 0 for p in c.pieces)  # shifted pieces end on an hour


def test_pieces_read_in_the_past_are_shifted_to_their_end_in_one_evaluation() -> None:
    from sloguard.adapters.prometheus.plan import shifted

    assert shifted("sum(x)", 7200, 7200) == "sum(x)"
    assert shifted("sum(x)", 3600, 7230) == "last_over_time((sum(x))[1s:1h] offset 1h30s)"


def test_a_calendar_month_across_a_dst_change_is_as_long_as_real_time_says() -> None:
    from sloguard.core.budget import window_span

    march = Objective(
        namespace="shop", name="berlin", service="checkout", objective=0.999,
        window=parse_window("month", "Europe/Berlin"), sli=RatioSLI(total="t", errors="e"),
        alerting=Alerting(name="ErrorBudgetBurn", tiers=()),
    )
    length, elapsed = window_span(march, datetime(2026, 3, 31, 12, tzinfo=UTC))
    assert length == 743 * 3600  # the clocks went forward an hour on 29 March
    assert elapsed == (30 * 24 + 13) * 3600  # since 1 March 00:00 CET, i.e. 23:00Z on 28 February


# --- data coverage ---------------------------------------------------------------------------

TWO_MINUTES_OF_30D = 120 / (30 * DAY)  # 2/43,200 of the window


def test_a_budget_on_two_minutes_of_a_30d_window_keeps_its_figures_but_is_not_a_state() -> None:
    # 1 bad of 2 requests on 99.9%: consumed 500 (50,000%) is what two minutes say, not a fact.
    m = Measurements(bad=1, total=2, error_ratios=ratios(w1h=0.5), coverage=TWO_MINUTES_OF_30D)
    s = compute(slo(), m, NOW)
    assert s.consumed == approx(500.0) and s.remaining == approx(-499.0)
    assert s.state == "unknown" and s.health == "unknown"
    assert s.coverage == approx(TWO_MINUTES_OF_30D)
    assert s.hints[0].startswith("insufficient data: only 0.0046% of the window has data (below 5%)")
    out = to_dict(s)
    assert out["coverage"] == pytest.approx(TWO_MINUTES_OF_30D, rel=1e-9) and out["state"] == "unknown"


def test_coverage_at_the_threshold_or_full_changes_nothing() -> None:
    base = Measurements(bad=500, total=1_000_000, error_ratios=ratios(w1h=0.0144))
    without = compute(slo(), base, NOW)
    for cov in (0.05, 0.5, 1.0):
        m = Measurements(bad=500, total=1_000_000, error_ratios=ratios(w1h=0.0144), coverage=cov)
        s = compute(slo(), m, NOW)
        assert s.state == without.state == "healthy" and s.health == without.health
        assert s.hints == without.hints and s.remaining == without.remaining
        assert to_dict(s)["coverage"] == cov
    assert without.coverage is None and "coverage" not in to_dict(without)


def test_coverage_just_below_the_threshold_is_flagged_and_out_of_range_values_are_clamped() -> None:
    m = Measurements(bad=500, total=1_000_000, coverage=0.0499)
    assert compute(slo(), m, NOW).state == "unknown"
    over = compute(slo(), Measurements(bad=500, total=1_000_000, coverage=1.0001), NOW)
    assert over.coverage == 1.0 and over.state == "healthy"
    nan = compute(slo(), Measurements(bad=500, total=1_000_000, coverage=math.nan), NOW)
    assert nan.coverage is None and nan.state == "healthy"


def test_the_budget_table_shows_the_data_coverage_before_the_state() -> None:
    from sloguard.cli.budget_cmd import table

    low = compute(slo(), Measurements(bad=1, total=2, coverage=TWO_MINUTES_OF_30D), NOW)
    full = compute(slo(), Measurements(bad=500, total=1_000_000, coverage=1.0), NOW)
    unmeasured = compute(slo(), Measurements(bad=500, total=1_000_000), NOW)
    head, *rows = table([low, full, unmeasured], colour=False).splitlines()
    assert head.split()[-2:] == ["DATA", "STATE"]
    assert [r.split()[-2:] for r in rows] == [["0.0046%", "unknown"], ["100.0%", "healthy"], ["-", "healthy"]]

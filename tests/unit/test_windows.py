"""Durations, windows, calendar periods and the burn-rate tier table: exact values, worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sloguard.api.slo import SLOSpec
from sloguard.core.windows import (
    TIER_OBJECTIVES,
    BurnRateTier,
    DurationError,
    calendar_period_bounds,
    default_tiers,
    format_duration,
    parse_duration,
    parse_window,
    sort_windows,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1d", 86400),
        ("28d", 28 * 86400),
        ("30d", 30 * 86400),
        ("1w", 7 * 86400),
        ("1y", 365 * 86400),
        ("90m", 5400),
    ],
)
def test_a_prometheus_duration_parses_to_whole_seconds(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "1.5h", "-5m", "0s", "0m0s", "5 m", "5M", "month"])
def test_a_string_that_is_not_a_positive_duration_is_rejected(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(300, "5m"), (3600, "1h"), (5400, "1h30m"), (86400, "1d"), (604800, "1w"), (10 * 86400, "10d"),
     (28 * 86400, "4w"), (30 * 86400, "30d"), (90, "1m30s")],
)
def test_seconds_format_as_the_shortest_duration_without_odd_weeks(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_sorting_windows_puts_the_shortest_first_and_keeps_each_once() -> None:
    assert sort_windows(["1d", "5m", "1h", "5m", "30m"]) == ["5m", "30m", "1h", "1d"]


@pytest.mark.parametrize(
    ("text", "seconds", "calendar"),
    [("30d", 2592000, None), ("28d", 2419200, None), ("month", 2592000, "month"), ("week", 604800, "week"),
     ("quarter", 7776000, "quarter")],
)
def test_a_window_is_rolling_or_a_calendar_period_with_a_nominal_length(
    text: str, seconds: int, calendar: str | None
) -> None:
    window = parse_window(text)
    assert (window.seconds, window.calendar, window.is_calendar) == (seconds, calendar, calendar is not None)


# Each default tier spends a fixed share of the budget within its long window:
#   factor = share x window / long window
#   30d: 0.02 x 720h / 1h = 14.4, 0.05 x 720h / 6h = 6, 0.10 x 720h / 24h = 3
#   28d: 0.02 x 672h / 1h = 13.44, 0.05 x 672h / 6h = 5.6, 0.10 x 672h / 24h = 2.8
#    7d: 0.02 x 168h / 1h = 3.36, 0.05 x 168h / 6h = 1.4, 0.10 x 168h / 24h = 0.7
@pytest.mark.parametrize(
    ("window", "factors"),
    [
        ("30d", (14.4, 6.0, 3.0)),
        ("28d", (13.44, 5.6, 2.8)),
        ("7d", (3.36, 1.4, 0.7)),
        ("month", (14.4, 6.0, 3.0)),  # calendar periods scale by their nominal length (30 days)
        ("week", (3.36, 1.4, 0.7)),
    ],
)
def test_default_tier_factors_keep_the_same_budget_share_for_every_window(
    window: str, factors: tuple[float, float, float]
) -> None:
    tiers = default_tiers(parse_window(window))
    assert tuple(t.factor for t in tiers) == factors
    assert [(t.severity, t.short_window, t.long_window) for t in tiers] == [
        ("critical", "5m", "1h"),
        ("warning", "30m", "6h"),
        ("info", "2h", "1d"),
    ]


def _spec(**extra: object) -> SLOSpec:
    return SLOSpec.model_validate({
        "service": "api",
        "objective": 99.9,
        "sli": {"ratio": {"errors": "e", "total": "t"}},
        **extra,
    })


def test_given_burn_rates_replace_the_default_tiers_entirely() -> None:
    spec = _spec(alerting={"burnRates": [{"severity": "page", "factor": 10, "shortWindow": "10m",
                                          "longWindow": "2h"}]})
    assert spec.to_core("ns", "api").alerting.tiers == (BurnRateTier("page", 10.0, "10m", "2h"),)


def test_a_28_day_slo_without_burn_rates_gets_the_scaled_default_tiers() -> None:
    tiers = _spec(window="28d").to_core("ns", "api").alerting.tiers
    assert [t.factor for t in tiers] == [13.44, 5.6, 2.8]


@pytest.mark.parametrize(
    ("tier", "objective"),
    [("tier-0", 99.99), ("tier-1", 99.95), ("tier-2", 99.9), ("tier-3", 99.5)],
)
def test_a_tier_preset_gives_the_objective_when_none_is_set(tier: str, objective: float) -> None:
    assert TIER_OBJECTIVES[tier] == objective
    spec = SLOSpec.model_validate({"service": "api", "tier": tier, "sli": {"ratio": {"errors": "e", "total": "t"}}})
    assert spec.to_core("ns", "api").objective == round(objective / 100, 12)


@pytest.mark.parametrize(
    ("period", "now", "timezone", "start", "end"),
    [
        # February 2024 is a leap month: 29 days.
        ("month", "2024-02-15T12:00:00+00:00", "UTC", "2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00"),
        # 23:30 UTC on 31 January is already 1 February in Berlin (UTC+1).
        ("month", "2024-01-31T23:30:00+00:00", "Europe/Berlin", "2024-02-01T00:00:00+01:00",
         "2024-03-01T00:00:00+01:00"),
        # ISO weeks start on Monday; 2024-03-14 is a Thursday.
        ("week", "2024-03-14T08:00:00+00:00", "UTC", "2024-03-11T00:00:00+00:00", "2024-03-18T00:00:00+00:00"),
        ("quarter", "2024-11-05T00:00:00+00:00", "UTC", "2024-10-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00"),
        ("quarter", "2024-05-05T00:00:00+00:00", "UTC", "2024-04-01T00:00:00+00:00", "2024-07-01T00:00:00+00:00"),
    ],
)
def test_calendar_period_bounds_are_local_midnights(period: str, now: str, timezone: str, start: str,
                                                    end: str) -> None:
    got = calendar_period_bounds(period, datetime.fromisoformat(now), timezone)
    assert got == (datetime.fromisoformat(start), datetime.fromisoformat(end))


def test_a_month_across_the_spring_dst_change_is_an_hour_short() -> None:
    # Europe/Berlin moved from UTC+1 to UTC+2 on 2024-03-31: March has 31 x 24 - 1 = 743 hours.
    # Python subtracts two datetimes sharing one tzinfo as wall-clock times (744h), so compare in UTC.
    start, end = calendar_period_bounds("month", datetime(2024, 3, 10, tzinfo=UTC), "Europe/Berlin")
    assert start.astimezone(UTC) == datetime(2024, 2, 29, 23, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2024, 3, 31, 22, tzinfo=UTC)
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 743 * 3600


def test_a_rolling_window_ends_now_and_starts_its_length_before() -> None:
    now = datetime(2024, 3, 10, tzinfo=UTC)
    assert parse_window("1d").bounds(now) == (datetime(2024, 3, 9, tzinfo=UTC), now)

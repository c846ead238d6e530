"""Durations, windows, calendar periods and the burn-rate tier table: exact values, worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sloguard.api.slo import SLOSpec
from sloguard.core.windows import (
    DEFAULT_TIER_RULES,
    TIER_OBJECTIVES,
    BurnRateTier,
    DurationError,
    NotAMonth,
    calendar_period_bounds,
    default_tiers,
    format_duration,
    month_bounds,
    month_label,
    normalize_duration,
    normalize_window,
    parse_duration,
    parse_window,
    sort_windows,
    tier_findings,
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


@pytest.mark.parametrize("value", ["5x", ["5m"], {"a": 1}, None, 300])
def test_parsing_is_remembered_but_a_bad_duration_is_refused_every_time(value: object) -> None:
    # Parsed durations are memoised: a refusal must not be, and what is not a string (even one
    # that cannot be a memo key) is a DurationError, not a TypeError.
    for _ in range(2):
        with pytest.raises(DurationError):
            parse_duration(value)  # type: ignore[arg-type]
    assert parse_duration("5m") == parse_duration("5m") == 300


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(300, "5m"), (3600, "1h"), (5400, "1h30m"), (86400, "1d"), (604800, "7d"), (10 * 86400, "10d"),
     (28 * 86400, "28d"), (30 * 86400, "30d"), (90, "1m30s"), (365 * 86400, "365d"), (90000, "1d1h")],
)
def test_seconds_format_largest_units_first_with_days_the_largest(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("text", "one_spelling"),
    [("60m", "1h"), ("1440m", "1d"), ("4w", "28d"), ("1w", "7d"), ("2w", "14d"), ("90m", "1h30m"),
     ("3600s", "1h"), ("1h60m", "2h"), ("24h", "1d"), ("720h", "30d"), ("1y", "365d"), ("5m", "5m"),
     ("1d0h", "1d")],
)
def test_every_duration_has_one_spelling(text: str, one_spelling: str) -> None:
    assert normalize_duration(text) == one_spelling


@pytest.mark.parametrize(("text", "one_spelling"), [("4w", "28d"), ("720h", "30d"), ("month", "month"),
                                                   ("quarter", "quarter"), ("1w", "7d")])
def test_windows_are_spelled_one_way_and_calendar_periods_stay_as_named(text: str, one_spelling: str) -> None:
    assert normalize_window(text) == one_spelling
    assert parse_window(text).text == one_spelling


@pytest.mark.parametrize("text", ["", "0m", "1.5h", "month", "5M"])
def test_normalising_a_non_duration_is_a_duration_error(text: str) -> None:
    with pytest.raises(DurationError):
        normalize_duration(text)


def test_a_tier_keeps_its_windows_in_their_one_spelling() -> None:
    tier = BurnRateTier("page", 10.0, "300s", "60m", "120s", "1440m")
    assert (tier.short_window, tier.long_window, tier.for_, tier.keep_firing_for) == ("5m", "1h", "2m", "1d")
    assert tier == BurnRateTier("page", 10.0, "5m", "1h", "2m", "1d")


def test_sorting_windows_puts_the_shortest_first_and_keeps_each_once() -> None:
    assert sort_windows(["1d", "5m", "1h", "5m", "30m"]) == ["5m", "30m", "1h", "1d"]
    assert sort_windows(["60m", "1h", "1440m", "5m", "4w"]) == ["5m", "1h", "1d", "28d"]


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


# The default tiers for a window W (core/windows.derive_tier), worked by hand from the rule:
#   long  = the 30-day long window (1h, 6h, 1d) x W / 30d, snapped to the nearest of
#           5m 10m 15m 30m 1h 2h 3h 6h 12h 1d 2d 3d 7d (log scale), at least 15m / 1h / 3h,
#           at most a quarter of W
#   short = long / 12 snapped, at least 5m
#   factor = share (2% / 5% / 10%) x W / long, at least 10 / 4 / 2
#   1d:  ideal 2m, 12m, 48m -> minimums 15m, 1h, 3h; 0.02x24h/15m = 1.92 -> 10,
#        0.05x24h/1h = 1.2 -> 4, 0.10x24h/3h = 0.8 -> 2; shorts 75s -> 5m, 5m -> 5m, 15m
#   7d:  ideal 14m -> 15m, 1.4h -> 1h, 5.6h -> 6h; 0.02x168h/0.25h = 13.44, 0.05x168h/1h = 8.4,
#        0.10x168h/6h = 2.8; shorts 5m, 5m, 30m
#   14d: ideal 28m -> 30m, 2.8h -> 3h, 11.2h -> 12h; 0.02x336h/0.5h = 13.44, 0.05x336h/3h = 5.6,
#        0.10x336h/12h = 2.8; shorts 2.5m -> 5m, 15m, 1h
#   28d: ideal 56m -> 1h, 5.6h -> 6h, 22.4h -> 1d; 13.44, 5.6, 2.8 (0.02x672h/1h ...)
#   30d and month (nominal 30 days): the seed's table, 14.4x/1h, 6x/6h, 3x/1d
#   quarter (nominal 90 days): ideal 3h, 18h -> 1d, 3d; 0.02x2160h/3h = 14.4,
#        0.05x2160h/24h = 4.5, 0.10x2160h/72h = 3; shorts 15m, 2h, 6h
_TABLES = [
    ("1d", [("critical", 10.0, "5m", "15m"), ("warning", 4.0, "5m", "1h"), ("info", 2.0, "15m", "3h")]),
    ("7d", [("critical", 13.44, "5m", "15m"), ("warning", 8.4, "5m", "1h"), ("info", 2.8, "30m", "6h")]),
    ("week", [("critical", 13.44, "5m", "15m"), ("warning", 8.4, "5m", "1h"), ("info", 2.8, "30m", "6h")]),
    ("14d", [("critical", 13.44, "5m", "30m"), ("warning", 5.6, "15m", "3h"), ("info", 2.8, "1h", "12h")]),
    ("28d", [("critical", 13.44, "5m", "1h"), ("warning", 5.6, "30m", "6h"), ("info", 2.8, "2h", "1d")]),
    ("30d", [("critical", 14.4, "5m", "1h"), ("warning", 6.0, "30m", "6h"), ("info", 3.0, "2h", "1d")]),
    ("month", [("critical", 14.4, "5m", "1h"), ("warning", 6.0, "30m", "6h"), ("info", 3.0, "2h", "1d")]),
    ("quarter", [("critical", 14.4, "15m", "3h"), ("warning", 4.5, "2h", "1d"), ("info", 3.0, "6h", "3d")]),
]


@pytest.mark.parametrize(("window", "table"), _TABLES)
def test_default_tiers_are_derived_for_every_window_from_a_day_to_a_quarter(
    window: str, table: list[tuple[str, float, str, str]]
) -> None:
    tiers = default_tiers(parse_window(window))
    assert [(t.severity, t.factor, t.short_window, t.long_window) for t in tiers] == table


@pytest.mark.parametrize(("window", "table"), _TABLES)
def test_default_tiers_never_alert_at_or_below_1x_nor_look_back_beyond_a_quarter_of_the_window(
    window: str, table: list[tuple[str, float, str, str]]
) -> None:
    w = parse_window(window)
    for severity, factor, short, long in table:
        assert factor > 1, severity
        assert parse_duration(short) < parse_duration(long) <= w.seconds / 4, severity
    # ... and a slow burn is always caught: the lowest factor is at most 3x.
    assert min(factor for _, factor, _, _ in table) <= 3
    # Nothing about them is odd, for a usual objective.
    assert tier_findings(default_tiers(w), w, 0.999) == []


@pytest.mark.parametrize(("window", "shares"), [("30d", (2.0, 5.0, 10.0)), ("28d", (2.0, 5.0, 10.0)),
                                                ("14d", (2.0, 5.0, 10.0)), ("7d", (2.0, 5.0, 10.0)),
                                                ("quarter", (2.0, 5.0, 10.0)),
                                                # minimums bind: 10x over 15m of 24h = 10.42%, 4x 1h = 16.67%
                                                ("1d", (10.42, 16.67, 25.0))])
def test_a_default_tier_catches_the_seeds_budget_share_unless_a_minimum_binds(
    window: str, shares: tuple[float, float, float]
) -> None:
    w = parse_window(window)
    got = tuple(round(t.factor * parse_duration(t.long_window) / w.seconds * 100, 2) for t in default_tiers(w))
    assert got == shares


def test_the_seed_rows_say_what_share_each_tier_catches_for_30_days() -> None:
    assert [(r.severity, r.budget_share, r.long_window) for r in DEFAULT_TIER_RULES] == [
        ("critical", 0.02, "1h"), ("warning", 0.05, "6h"), ("info", 0.10, "1d")]


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


@pytest.mark.parametrize(("label", "timezone", "start", "end"), [
    ("2026-10", "UTC", "2026-10-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00"),
    ("2024-02", "UTC", "2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00"),  # a leap February
    # Berlin: CET until the last Sunday of March, CEST until the last Sunday of October.
    ("2024-03", "Europe/Berlin", "2024-03-01T00:00:00+01:00", "2024-04-01T00:00:00+02:00"),
    ("2026-12", "Pacific/Auckland", "2026-12-01T00:00:00+13:00", "2027-01-01T00:00:00+13:00"),
])
def test_a_month_label_names_its_local_midnights(label: str, timezone: str, start: str, end: str) -> None:
    got = month_bounds(label, timezone)
    assert got == (datetime.fromisoformat(start), datetime.fromisoformat(end))
    assert month_label(got[0]) == label


@pytest.mark.parametrize("label", ["2026-13", "2026-00", "2026-1", "26-10", "2026-W40", "2026-10-01", ""])
def test_a_label_that_is_not_a_month_is_refused_before_the_timezone_is_read(label: str) -> None:
    with pytest.raises(NotAMonth, match="is not a month like 2026-10"):
        month_bounds(label, "Not/AZone")


def test_a_rolling_window_ends_now_and_starts_its_length_before() -> None:
    now = datetime(2024, 3, 10, tzinfo=UTC)
    assert parse_window("1d").bounds(now) == (datetime(2024, 3, 9, tzinfo=UTC), now)


def test_the_docs_table_of_default_tiers_is_what_the_code_derives() -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "alerting.md").read_text()
    rows = re.findall(r"^\| `(\w+)` +\|(.+)\|\s*$", doc, re.MULTILINE)
    documented = {w: [tuple(re.fullmatch(r"\s*([0-9.]+)× over (\w+) / (\w+) \(([0-9.]+)%\)\s*", cell).groups())  # type: ignore[union-attr]
                      for cell in cells.split("|")] for w, cells in rows if w in dict(_TABLES)}
    assert sorted(documented) == sorted({"1d", "7d", "14d", "28d", "30d", "month", "quarter"})
    for window, cells in documented.items():
        w = parse_window(window)
        derived = [(f"{t.factor:g}", t.long_window, t.short_window,
                    f"{t.factor * parse_duration(t.long_window) / w.seconds * 100:.3g}") for t in default_tiers(w)]
        assert cells == derived, window

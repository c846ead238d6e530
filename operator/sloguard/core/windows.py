"""Durations, SLO windows, calendar periods and the burn-rate tier table.

Prometheus durations (``5m``, ``1h30m``, ``30d``) are the unit of every window. The default
multiwindow multi-burn-rate table is *data*: each row says what share of the budget a tier
catches within its long window, and factors for windows other than 30 days are derived from
those shares so a 28-day SLO pages at the same budget spend as a 30-day one.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

_UNIT_SECONDS: Final[dict[str, int]] = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "y": 365 * 86400,
}
DURATION_PATTERN: Final = r"^([0-9]+(s|m|h|d|w|y))+$"
_PART = re.compile(r"([0-9]+)(s|m|h|d|w|y)")
_FULL = re.compile(DURATION_PATTERN)

CalendarPeriod = Literal["month", "week", "quarter"]
CALENDAR_PERIODS: Final[tuple[str, ...]] = ("month", "week", "quarter")
WINDOW_PATTERN: Final = r"^(([0-9]+(s|m|h|d|w|y))+|month|week|quarter)$"

#: Nominal length of a calendar period, used to scale alert factors (a budget per period).
_CALENDAR_NOMINAL_SECONDS: Final[dict[str, int]] = {
    "week": 7 * 86400,
    "month": 30 * 86400,
    "quarter": 90 * 86400,
}


class DurationError(ValueError):
    """A string that is not a Prometheus duration we accept."""


def parse_duration(text: str) -> int:
    """Seconds in a Prometheus duration such as ``1h30m``; whole seconds only."""
    if not isinstance(text, str) or not _FULL.match(text):
        raise DurationError(f"{text!r} is not a duration like 5m, 1h or 30d")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
    if seconds <= 0:
        raise DurationError(f"{text!r} must be longer than zero")
    return seconds


def format_duration(seconds: int) -> str:
    """The shortest Prometheus duration for ``seconds`` (``3600`` -> ``1h``, ``5400`` -> ``1h30m``)."""
    if seconds <= 0:
        raise DurationError("a duration must be positive")
    out = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if unit == "w" and seconds % size:
            continue  # "1w3d" reads worse than "10d"
        n, seconds = divmod(seconds, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


@dataclass(frozen=True)
class Window:
    """An SLO window: either rolling (``seconds``) or a calendar period in a timezone."""

    text: str
    seconds: int  # rolling length, or the nominal length of the calendar period
    calendar: CalendarPeriod | None = None
    timezone: str = "UTC"

    @property
    def is_calendar(self) -> bool:
        return self.calendar is not None

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """Start and end of the window that contains ``now`` (end is ``now`` for rolling windows)."""
        if self.calendar is None:
            return now - timedelta(seconds=self.seconds), now
        return calendar_period_bounds(self.calendar, now, self.timezone)


def parse_window(text: str, timezone: str = "UTC") -> Window:
    """A rolling duration or one of ``month | week | quarter``."""
    if text in CALENDAR_PERIODS:
        return Window(text, _CALENDAR_NOMINAL_SECONDS[text], text, timezone)  # type: ignore[arg-type]
    return Window(text, parse_duration(text), None, timezone)


def calendar_period_bounds(period: str, now: datetime, timezone: str = "UTC") -> tuple[datetime, datetime]:
    """The [start, end) of the calendar week (ISO, Monday first), month or quarter holding ``now``.

    Boundaries are local midnights in ``timezone``; the result is timezone-aware, so a month
    that crosses a DST change is an hour shorter or longer, as a customer would count it.
    """
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    if period == "week":
        start_day = local.date() - timedelta(days=local.weekday())
        start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=tz)
        end_day = start_day + timedelta(days=7)
        end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=tz)
        return start, end
    if period == "month":
        start = datetime(local.year, local.month, 1, tzinfo=tz)
        days = calendar.monthrange(local.year, local.month)[1]
        nxt = start.date() + timedelta(days=days)
        return start, datetime(nxt.year, nxt.month, 1, tzinfo=tz)
    if period == "quarter":
        first_month = 3 * ((local.month - 1) // 3) + 1
        start = datetime(local.year, first_month, 1, tzinfo=tz)
        y, m = (local.year + 1, 1) if first_month == 10 else (local.year, first_month + 3)
        return start, datetime(y, m, 1, tzinfo=tz)
    raise ValueError(f"unknown calendar period {period!r}")


@dataclass(frozen=True)
class BurnRateTier:
    """One alerting tier: page when both windows burn faster than ``factor`` x the budget rate."""

    severity: str
    factor: float
    short_window: str
    long_window: str


@dataclass(frozen=True)
class _TierShare:
    severity: str
    budget_share: float  # share of the whole window's budget spent within long_window
    short_window: str
    long_window: str


#: The seed's table for a 30-day window, kept as budget shares so other windows scale right.
#:   critical: 2% of the budget in 1 hour (14.4x), confirmed over 5 minutes -> page now
#:   warning:  5% of the budget in 6 hours (6x),   confirmed over 30 minutes -> alert the team
#:   info:    10% of the budget in 1 day (3x),     confirmed over 2 hours   -> open a ticket
DEFAULT_TIER_SHARES: Final[tuple[_TierShare, ...]] = (
    _TierShare("critical", 0.02, "5m", "1h"),
    _TierShare("warning", 0.05, "30m", "6h"),
    _TierShare("info", 0.10, "2h", "1d"),
)


def default_tiers(window: Window) -> tuple[BurnRateTier, ...]:
    """The default tiers with factors scaled to ``window`` (30d: 14.4/6/3, 28d: 13.44/5.6/2.8)."""
    return tuple(
        BurnRateTier(
            t.severity,
            round(t.budget_share * window.seconds / parse_duration(t.long_window), 6),
            t.short_window,
            t.long_window,
        )
        for t in DEFAULT_TIER_SHARES
    )


#: Windows whose burn rates are recorded and reported, whatever the tiers.
REPORTED_BURN_WINDOWS: Final[tuple[str, ...]] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")

#: Tier presets from the seed: availability objective in percent.
TIER_OBJECTIVES: Final[dict[str, float]] = {
    "tier-0": 99.99,  # mission-critical: authentication, payments, core API
    "tier-1": 99.95,  # important: user management, billing, notifications
    "tier-2": 99.9,  # standard: reporting, analytics, admin tools
    "tier-3": 99.5,  # best effort: experiments, internal tools, docs
}


def sort_windows(windows: set[str] | list[str]) -> list[str]:
    """Windows ordered shortest first, each once."""
    return sorted(set(windows), key=parse_duration)

"""Durations, SLO windows, calendar periods and the burn-rate tier tables.

Prometheus durations (``5m``, ``1h30m``, ``30d``) are the unit of every window, and each has one
spelling (:func:`normalize_duration`: ``60m`` is ``1h``, ``4w`` is ``28d``) so a window names the
same recording, status key and panel wherever it was written. The default multiwindow
multi-burn-rate tiers are *data*: each row says what share of the budget a tier catches within
its long window for a 30-day SLO, and :func:`derive_tier` states how the row becomes a tier for
any other window, from a day to a quarter (docs/alerting.md shows the resulting tables).
"""

from __future__ import annotations

import calendar
import functools
import math
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
    if not isinstance(text, str):
        raise DurationError(f"{text!r} is not a duration like 5m, 1h or 30d")
    return _parse_duration(text)


# Durations are a handful of distinct strings read thousands of times (every tier of every SLO):
# parsed and spelled once each. Errors are raised again every time (lru_cache keeps no exceptions).
@functools.lru_cache(maxsize=1024)
def _parse_duration(text: str) -> int:
    if not _FULL.match(text):
        raise DurationError(f"{text!r} is not a duration like 5m, 1h or 30d")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
    if seconds <= 0:
        raise DurationError(f"{text!r} must be longer than zero")
    return seconds


@functools.lru_cache(maxsize=1024, typed=True)  # 60 and 60.0 are one key otherwise
def format_duration(seconds: int) -> str:
    """The one spelling of ``seconds``: largest units first, days at most.

    ``3600`` -> ``1h``, ``5400`` -> ``1h30m``, ``604800`` -> ``7d``, ``28 days`` -> ``28d``. Days
    are the largest unit because SLO windows are spoken in days (7d, 28d, 30d) and because
    Prometheus' ``y`` is 365 days whatever the calendar says; weeks would only add a second
    spelling for the same window (``1w`` and ``7d``).
    """
    if seconds <= 0:
        raise DurationError("a duration must be positive")
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


def normalize_duration(text: str) -> str:
    """The one spelling of a duration: ``60m`` -> ``1h``, ``1440m`` -> ``1d``, ``4w`` -> ``28d``.

    Every window that names a series, a status key or a panel goes through here, so a tier
    written ``60m`` is recorded, read back and reported as ``1h`` (a :class:`DurationError`
    for anything that is not a positive Prometheus duration).
    """
    return format_duration(parse_duration(text))


def normalize_if_duration(text: str) -> str:
    """:func:`normalize_duration` for text that is a duration; anything else as it is.

    For comparing and looking up windows that validation reports on elsewhere (a ``0m`` window
    stays ``0m`` and simply matches nothing, rather than raising where no one reads it).
    """
    try:
        return normalize_duration(text)
    except DurationError:
        return text


def normalize_window(text: str) -> str:
    """A window's one spelling: calendar periods as they are, rolling windows as durations."""
    return text if text in CALENDAR_PERIODS else normalize_duration(text)


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
    """A rolling duration (spelled as :func:`normalize_duration` does) or ``month | week | quarter``."""
    if text in CALENDAR_PERIODS:
        return Window(text, _CALENDAR_NOMINAL_SECONDS[text], text, timezone)  # type: ignore[arg-type]
    seconds = parse_duration(text)
    return Window(format_duration(seconds), seconds, None, timezone)


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


class NotAMonth(ValueError):
    """A label that is not a calendar month ``YYYY-MM`` (months 01 to 12)."""


_MONTH_LABEL: Final = re.compile(r"^(\d{4})-(\d{2})$")


def month_bounds(label: str, timezone: str = "UTC") -> tuple[datetime, datetime]:
    """The [start, end) of the calendar month ``label`` (``YYYY-MM``) in ``timezone``, as
    :func:`calendar_period_bounds` gives them (local midnights, timezone-aware).

    A label that is not a month raises :class:`NotAMonth` before the timezone is looked up; an
    unknown timezone raises what ``ZoneInfo`` raises. Callers word both for their users.
    """
    m = _MONTH_LABEL.match(label)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise NotAMonth(f"{label!r} is not a month like 2026-10")
    # Mid-month noon lies in the month whatever the zone's DST rules do around midnight.
    inside = datetime(int(m.group(1)), int(m.group(2)), 15, 12, tzinfo=ZoneInfo(timezone))
    return calendar_period_bounds("month", inside, timezone)


def month_label(local: datetime) -> str:
    """``YYYY-MM`` of the month holding ``local`` (a time in the month's own timezone)."""
    return f"{local.year:04d}-{local.month:02d}"


@dataclass(frozen=True)
class BurnRateTier:
    """One alerting tier: fire when both windows burn faster than ``factor`` x the budget rate.

    ``for_`` makes the alert wait that long (pending) before it fires; ``keep_firing_for`` keeps
    it firing that long after the condition clears (Prometheus' ``keep_firing_for``), so a burn
    that flickers around the threshold pages once. Windows are stored in their one spelling
    (:func:`normalize_duration`), whoever built the tier.
    """

    severity: str
    factor: float
    short_window: str
    long_window: str
    for_: str | None = None
    keep_firing_for: str | None = None

    def __post_init__(self) -> None:
        for name in ("short_window", "long_window", "for_", "keep_firing_for"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, normalize_duration(value))


@dataclass(frozen=True)
class TierRule:
    """How one default tier is derived for an SLO window W (see :func:`default_tiers`)."""

    severity: str
    budget_share: float  # share of the whole window's budget the tier catches within its long window
    long_window: str  # the long window for a 30-day SLO; scaled by W / 30 days for other windows
    min_long_window: str  # never shorter: below it a 5-minute base rate is noise, and tiers would merge
    min_factor: float  # never lower: how much faster than the budget allows a burn must be to alert


#: The seed's table for a 30-day window, kept as budget shares so other windows scale right
#: (short windows are 1/12 of the long ones, as in the seed: 5m of 1h, 30m of 6h, 2h of 1d).
#:   critical: 2% of the budget in 1 hour (14.4x), confirmed over 5 minutes -> page now;
#:             never below 15 minutes, never below 10x (the budget gone within a tenth of the window)
#:   warning:  5% of the budget in 6 hours (6x),   confirmed over 30 minutes -> alert the team;
#:             never below 1 hour, never below 4x (gone within a quarter of the window)
#:   info:    10% of the budget in 1 day (3x),     confirmed over 2 hours   -> open a ticket;
#:             never below 3 hours, never below 2x (gone within half the window)
DEFAULT_TIER_RULES: Final[tuple[TierRule, ...]] = (
    TierRule("critical", 0.02, "1h", "15m", 10.0),
    TierRule("warning", 0.05, "6h", "1h", 4.0),
    TierRule("info", 0.10, "1d", "3h", 2.0),
)

#: Alert windows the defaults choose from: a scaled window snaps to the nearest of these (on a
#: log scale), so tiers read as round numbers and share recordings across windows.
ALERT_WINDOW_LADDER: Final[tuple[str, ...]] = (
    "5m", "10m", "15m", "30m", "1h", "2h", "3h", "6h", "12h", "1d", "2d", "3d", "7d",
)
#: The shortest window of all: the base recordings are 5-minute rates.
MIN_ALERT_WINDOW: Final = "5m"
#: A short (confirming) window is this fraction of its long window (the SRE workbook's 1/12).
SHORT_WINDOW_DIVISOR: Final = 12
#: A long window never exceeds this share of the SLO window: a tier that needs a quarter of the
#: window to notice a burn would report the budget gone rather than warn that it is going.
MAX_LONG_WINDOW_SHARE: Final = 0.25
_SEED_WINDOW_SECONDS: Final = 30 * 86400
_LADDER_SECONDS: Final[tuple[int, ...]] = tuple(parse_duration(w) for w in ALERT_WINDOW_LADDER)


def _snap(seconds: float) -> int:
    """The ladder window nearest ``seconds`` on a log scale (ties go to the longer)."""
    return min(_LADDER_SECONDS, key=lambda w: (abs(math.log(w / seconds)), -w))


def _snap_down(seconds: float) -> int:
    """The longest ladder window not longer than ``seconds`` (the shortest when none is)."""
    fitting = [w for w in _LADDER_SECONDS if w <= seconds]
    return max(fitting) if fitting else _LADDER_SECONDS[0]


@functools.lru_cache(maxsize=64)  # a handful of distinct windows, derived for every SLO that uses them
def derive_tier(rule: TierRule, window_seconds: int) -> BurnRateTier:
    """One default tier for an SLO window of ``window_seconds`` (calendar periods: nominal length).

    1. long window = the 30-day long window x W / 30 days, snapped to the ladder, at least the
       row's minimum and at most a quarter of W (snapped down);
    2. short window = long / 12, snapped, at least 5 minutes;
    3. factor = budget share x W / long window, at least the row's minimum factor.
    Where nothing is clamped the tier catches the seed's budget share (30d, 28d, 14d: 2% in
    the critical long window); where a minimum binds (short windows) it catches a larger share,
    because a factor at or below 1 fires while the service is on track to keep its budget.
    """
    min_long = parse_duration(rule.min_long_window)
    cap = max(_snap_down(window_seconds * MAX_LONG_WINDOW_SHARE), parse_duration(MIN_ALERT_WINDOW) * 2)
    long_s = min(max(_snap(parse_duration(rule.long_window) * window_seconds / _SEED_WINDOW_SECONDS), min_long),
                 cap)
    short_s = min(max(_snap(long_s / SHORT_WINDOW_DIVISOR), parse_duration(MIN_ALERT_WINDOW)), long_s // 2)
    factor = max(round(rule.budget_share * window_seconds / long_s, 6), rule.min_factor)
    return BurnRateTier(rule.severity, factor, format_duration(short_s), format_duration(long_s))


def default_tiers(window: Window) -> tuple[BurnRateTier, ...]:
    """The default tiers for ``window`` (30d: 14.4x/1h, 6x/6h, 3x/1d; 7d: 13.44x/15m, 8.4x/1h, 2.8x/6h).

    The table for 1d, 7d, 14d, 28d, 30d, month and quarter is in docs/alerting.md.
    """
    return tuple(derive_tier(rule, window.seconds) for rule in DEFAULT_TIER_RULES)


#: A burn this slow (the seed's info tier: the budget gone in a third of the window) must alert;
#: a table whose lowest factor is above it lets a slow burn spend the whole budget unnoticed.
SLOW_BURN_FACTOR: Final = 3.0


@dataclass(frozen=True)
class TierFinding:
    """Something odd about a tier table: a warning, not an error (the rules still work)."""

    index: int | None  # the tier's position, or None for the table as a whole
    field: str  # the tier's field in the spec's spelling (factor, longWindow, for), or ""
    message: str


def tier_findings(tiers: tuple[BurnRateTier, ...], window: Window, objective: float) -> list[TierFinding]:
    """What makes a tier table odd for ``window`` and ``objective`` (a fraction, e.g. 0.999).

    * factor <= 1: the tier fires while the service is on track to keep its budget;
    * factor >= 1 / (1 - objective): the error ratio would have to exceed 100%, it never fires;
    * a long window beyond the SLO window, or beyond a quarter of it: the tier notices a burn
      only after a large part of the window has gone;
    * factor x long window >= the SLO window: by the time it fires the whole budget is spent;
    * ``for`` not shorter than the long window: the alert waits longer than it looks back;
    * no tier at or below 3x (:data:`SLOW_BURN_FACTOR`): slow burns are never caught.
    """
    out: list[TierFinding] = []
    w = window.seconds
    budget = 1.0 - objective
    # Rounded like the objective itself (12 digits), so 99.9% reaches exactly 1000x, not 999.99...x.
    highest = round(1.0 / budget, 9) if budget > 0 else math.inf
    for i, t in enumerate(tiers):
        long_s = parse_duration(t.long_window)
        never = t.factor >= highest
        if t.factor <= 1:
            out.append(TierFinding(i, "factor", f"{t.factor:g}x is at or below 1: it fires while the service "
                                   f"spends no faster than its budget allows over {window.text}"))
        elif never:
            out.append(TierFinding(i, "factor", f"{t.factor:g}x can never fire: with an objective of "
                                   f"{round(objective * 100, 9):g}% the highest possible burn rate (every event "
                                   f"bad) is {highest:.4g}x"))
        if long_s > w:
            out.append(TierFinding(i, "longWindow", f"{t.long_window} is longer than the SLO window ({window.text})"))
        elif long_s > w * MAX_LONG_WINDOW_SHARE:
            out.append(TierFinding(i, "longWindow", f"{t.long_window} is longer than a quarter of the SLO window "
                                   f"({window.text}): the tier notices a burn only after much of the window"))
        if t.factor > 1 and not never and t.factor * long_s >= w:
            out.append(TierFinding(i, "factor", f"{t.factor:g}x over {t.long_window} fires only after the whole "
                                   f"budget of {window.text} is spent"))
        if t.for_ is not None and parse_duration(t.for_) >= long_s:
            out.append(TierFinding(i, "for", f"waits {t.for_}, not less than its long window ({t.long_window}): "
                                   "the burn that made it pending has left the window by the time it fires"))
    if tiers and min(t.factor for t in tiers) > SLOW_BURN_FACTOR:
        lowest = min(t.factor for t in tiers)
        out.append(TierFinding(None, "", f"no tier fires at or below {SLOW_BURN_FACTOR:g}x (the lowest is "
                               f"{lowest:g}x): a slow burn that spends the whole budget within "
                               f"{format_duration(int(w / lowest))} never alerts; add a tier with a lower "
                               "factor over a longer window"))
    return out


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
    """Windows in their one spelling, ordered shortest first, each once (``60m`` and ``1h`` are one)."""
    return sorted({normalize_duration(w) for w in windows}, key=parse_duration)

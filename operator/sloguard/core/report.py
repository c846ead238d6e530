"""Period reports: how an SLO did over a calendar month, ISO week or quarter.

Pure: the counts come in (per hour of the period, and per previous period), the report goes out.

Definitions (``B`` = the error budget, ``1 - objective``):

* **attainment** — good events over all events in the period (``good / total``), 0..1; for
  time-based SLIs, good seconds over measured seconds. None when the period had no traffic.
* **budget consumed** — the period's bad events over the budget the period's own traffic allowed:
  ``bad / (B * total)``. 1.0 is the whole budget; above 1 the objective was missed.
* **worst hours** — the :data:`WORST_HOURS` hours with the most bad events, each with the share of
  the period's budget it spent (``bad_hour / (B * total)``): where to look first.
* **trend** — attainment and budget consumed over the :data:`TREND_PERIODS` periods before.
* **hints** — the optimisation hints of the seed document's budget reviews, made precise:

  ============================================  ==============================================
  condition                                      hint
  ============================================  ==============================================
  budget exhausted (consumed >= 100%) in at      relax the objective, or invest in reliability
  least 2 of the last 3 periods (this one in)    before promising it
  under 10% of the budget spent in each of the   tighten the objective: users are promised less
  last 3 periods (this one included)             than they get, and the unused budget is not
                                                 spent on releases either
  no traffic in the period                       check the SLI's queries: nothing was measured
  ============================================  ==============================================

  (The seed's ``analyzeBudgetOptimization`` words the under-10% case as "too strict, consider
  relaxing"; a budget that is never spent means the objective is easy to meet, so sloguard says
  tighten, as the issue asking for these reports does.)
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from .windows import NotAMonth, calendar_period_bounds, month_bounds, month_label

PeriodKind = Literal["month", "week", "quarter"]

#: How many hours the report lists as the worst.
WORST_HOURS = 10
#: How many earlier periods the trend shows.
TREND_PERIODS = 3
#: Exhausted in at least this many of the last :data:`HINT_PERIODS` periods: relax or invest.
RELAX_WHEN_EXHAUSTED_IN = 2
#: Under this share of the budget spent in each of the last :data:`HINT_PERIODS`: tighten.
TIGHTEN_BELOW = 0.10
HINT_PERIODS = 3

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class PeriodError(ValueError):
    """A period label that is not ``YYYY-MM``, ``YYYY-Www`` or ``YYYY-Qn``."""


@dataclass(frozen=True)
class ReportPeriod:
    """A calendar period ``[start, end)`` (UTC instants) of a timezone: ``2026-11``, ``2026-W47``, ``2026-Q4``."""

    label: str
    kind: PeriodKind
    start: datetime
    end: datetime
    timezone: str = "UTC"

    @property
    def hours(self) -> int:
        """Whole hours in the period, in real time (a DST change makes a month an hour longer or shorter)."""
        return int((self.end - self.start).total_seconds() // 3600)

    def previous(self) -> ReportPeriod:
        """The period of the same kind just before this one."""
        return period_containing(self.kind, self.start - timedelta(hours=1), self.timezone)


def _label(kind: PeriodKind, start: datetime) -> str:
    if kind == "month":
        return month_label(start)
    if kind == "quarter":
        return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
    year, week, _ = start.isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_containing(kind: PeriodKind, instant: datetime, timezone: str = "UTC") -> ReportPeriod:
    """The period of ``kind`` (in ``timezone``) that holds ``instant``; bounds in UTC, so that hour
    arithmetic is real time (Python adds wall-clock time to datetimes of one zone)."""
    return _period(kind, *calendar_period_bounds(kind, instant, timezone), timezone)


def _period(kind: PeriodKind, start: datetime, end: datetime, timezone: str) -> ReportPeriod:
    """The period with local bounds ``[start, end)``, its label read from ``start``."""
    return ReportPeriod(_label(kind, start), kind, start.astimezone(UTC), end.astimezone(UTC), timezone)


def parse_period(text: str, timezone: str = "UTC") -> ReportPeriod:
    """``2026-11`` (month), ``2026-W47`` (ISO week, Monday first) or ``2026-Q4`` (quarter)."""
    tz = ZoneInfo(timezone)
    with contextlib.suppress(NotAMonth):
        return _period("month", *month_bounds(text, timezone), timezone)
    if m := _WEEK.match(text):
        year, week = int(m.group(1)), int(m.group(2))
        try:
            monday = datetime.fromisocalendar(year, week, 1)
        except ValueError:
            monday = None
        if monday is not None:
            return period_containing("week", monday.replace(hour=12, tzinfo=tz), timezone)
    elif m := _QUARTER.match(text):
        year, quarter = int(m.group(1)), int(m.group(2))
        return period_containing("quarter", datetime(year, 3 * quarter - 1, 15, 12, tzinfo=tz), timezone)
    raise PeriodError(f"period {text!r} is not a month (2026-11), an ISO week (2026-W47) or a quarter (2026-Q4)")


# --- figures -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Counts:
    """Bad and total events (or bad and measured seconds) over some span."""

    bad: float
    total: float

    @property
    def good(self) -> float:
        return self.total - self.bad


@dataclass(frozen=True)
class HourCounts:
    """One hour of the period: ``[start, start + 1h)``."""

    start: datetime
    counts: Counts


@dataclass(frozen=True)
class WorstHour:
    start: datetime
    end: datetime
    bad: float
    budget_consumed: float | None  # this hour's share of the period's budget


@dataclass(frozen=True)
class TrendPoint:
    period: ReportPeriod
    attainment: float | None
    budget_consumed: float | None


@dataclass(frozen=True)
class SLOPeriodReport:
    namespace: str
    name: str
    service: str
    objective: float  # 0..1
    period: ReportPeriod
    attainment: float | None
    budget_consumed: float | None
    counts: Counts
    worst_hours: tuple[WorstHour, ...]
    trend: tuple[TrendPoint, ...]
    hints: tuple[str, ...]
    by_cause: dict[str, float] | None = field(default=None)


def attainment(counts: Counts) -> float | None:
    return counts.good / counts.total if counts.total > 0 else None


def budget_events(counts: Counts, objective: float) -> float | None:
    """``B * total``: the bad events the span's own traffic allowed (None without traffic or budget)."""
    budget = 1.0 - objective
    if counts.total <= 0 or budget <= 0:
        return None
    return budget * counts.total


def budget_consumed(counts: Counts, objective: float) -> float | None:
    """``bad / (B * total)``: the share of the budget the span's own traffic allowed."""
    allowed = budget_events(counts, objective)
    return None if allowed is None else counts.bad / allowed


def worst_hours(hours: list[HourCounts], period_counts: Counts, objective: float,
                limit: int = WORST_HOURS) -> tuple[WorstHour, ...]:
    """The ``limit`` hours with the most bad events (ties: the earlier first); hours without any omitted."""
    budget = (1.0 - objective) * period_counts.total
    ranked = sorted((h for h in hours if h.counts.bad > 0), key=lambda h: (-h.counts.bad, h.start))[:limit]
    return tuple(WorstHour(h.start, h.start + timedelta(hours=1), h.counts.bad,
                           h.counts.bad / budget if budget > 0 else None) for h in ranked)


def hints(objective: float, consumed: list[float | None]) -> tuple[str, ...]:
    """The review's hints from budget consumed, most recent period first (see the module table)."""
    recent = consumed[:HINT_PERIODS]
    out: list[str] = []
    if recent and recent[0] is None:
        out.append("No traffic was measured in this period: check the SLI's queries and the metrics they read.")
    exhausted = sum(1 for c in recent if c is not None and c >= 1.0)
    if exhausted >= RELAX_WHEN_EXHAUSTED_IN:
        out.append(f"The error budget was exhausted in {exhausted} of the last {len(recent)} periods: relax the "
                   f"objective ({objective * 100:g}%) or invest in reliability before promising it.")
    if len(recent) == HINT_PERIODS and all(c is not None and c < TIGHTEN_BELOW for c in recent):
        out.append(f"Less than {TIGHTEN_BELOW:.0%} of the error budget was spent in each of the last "
                   f"{HINT_PERIODS} periods: the objective ({objective * 100:g}%) could be tightened.")
    return tuple(out)


def period_report(*, namespace: str, name: str, service: str, objective: float, period: ReportPeriod,
                  hours: list[HourCounts], trend: list[tuple[ReportPeriod, Counts]]) -> SLOPeriodReport:
    """The report of one SLO over ``period`` from its hourly counts and the earlier periods' counts
    (``trend``: most recent first). The period's counts are the sum of its hours."""
    counts = Counts(sum(h.counts.bad for h in hours), sum(h.counts.total for h in hours))
    points = tuple(TrendPoint(p, attainment(c), budget_consumed(c, objective)) for p, c in trend)
    consumed = budget_consumed(counts, objective)
    return SLOPeriodReport(
        namespace=namespace, name=name, service=service, objective=objective, period=period,
        attainment=attainment(counts), budget_consumed=consumed, counts=counts,
        worst_hours=worst_hours(hours, counts, objective), trend=points,
        hints=hints(objective, [consumed, *(p.budget_consumed for p in points)]))

"""SLA contracts: calendar months, maintenance exclusions, per-term compliance and credits.

Pure: the caller passes the period, the measurements (per-slice facts for ``uptime`` terms,
request counts for ``latency`` and ``availability`` terms) and, for a month in progress,
``now``. The rules, all from the seed's SLA management section:

**Months** are calendar months in the contract's timezone, so a DST month is shorter or longer:
Europe/Berlin March 2026 has 44,580 minutes, October 2026 has 44,700.

**Maintenance** windows are excluded only when announced at least ``minimumNotice`` before their
start (the seed's "announced 48+ hours in advance"); a window announced later, or never, is
*late*: it is not excluded and is flagged so the operator can raise a condition and an Event.
Excluded windows that overlap or touch are merged, so no minute is excluded twice. A window
that only partly covers a slice does not excuse that slice: only time the customer was told
about is excluded.

**Uptime** (seed formula)::

    Uptime % = (minutes in month - downtime minutes) / minutes in month * 100

A slice (default one minute) is *down* when its good ratio is below the slice target (default
1.0). Down minutes inside an excluded maintenance window are not downtime: they are reported as
``excluded_minutes`` and simply not subtracted, while the denominator stays every minute of the
month, as the seed writes it.

**Missing data is never good news.** Slices without data (no traffic, no probe, a scrape gap)
are reported as ``no_data_minutes`` and count as the contract's ``noData`` says:

- ``downtime`` (the default): down, like a failed probe — the customer does not pay for our
  monitoring gap (inside announced maintenance they are excluded, like any other down slice);
- ``excluded``: left out of numerator and denominator (uptime over the minutes measured);
- ``uptime``: up (what a report that trusts silence would say; chosen only explicitly).

The choice is printed in every report. **Coverage** is the share of the period's minutes that
had data (1.0 when nothing was missing); the operator does not finalize a month whose coverage
is below the contract's ``minimumCoverage`` (default 99%) but raises a Warning instead.

**Latency** (seed formula)::

    Response Time % = requests under threshold / valid requests * 100

with requests slower than ``validBelow`` invalid (neither good nor valid). **Availability** is
the request success ratio over the month. For both, requests inside excluded maintenance
windows are left out of numerator and denominator (the caller measures the window totals and
this module subtracts them); ``excluded_minutes`` is then the month's excluded minutes.

**Credits**: a term falls under a tier when its actual is strictly below the tier's ``below``;
the worst (lowest ``below``) such tier gives the term's percent. The contract's credit is the
sum over terms capped at ``maxCreditPercent``; amount = monthly fee x percent / 100.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .conditions import rfc3339
from .model import SLI
from .windows import NotAMonth, month_bounds, month_label, normalize_duration, parse_duration

TermType = Literal["uptime", "latency", "availability"]
TERM_TYPES: Final[tuple[str, ...]] = ("uptime", "latency", "availability")

#: The seed's notice rule: maintenance announced 48+ hours in advance is excluded.
DEFAULT_MINIMUM_NOTICE: Final = "48h"
DEFAULT_SLICE_WINDOW: Final = "1m"
DEFAULT_SLICE_TARGET: Final = 1.0

NoDataPolicy = Literal["downtime", "excluded", "uptime"]
NO_DATA_POLICIES: Final[tuple[str, ...]] = ("downtime", "excluded", "uptime")
#: How minutes without data count unless the contract says otherwise (see the module docstring).
DEFAULT_NO_DATA: Final[NoDataPolicy] = "downtime"
#: Below this share of the month's minutes with data (percent) a month is not finalized.
DEFAULT_MINIMUM_COVERAGE: Final = 99.0

#: Ratios from Prometheus are floats; two values closer than this compare equal.
_EPSILON: Final = 1e-9



class SLAError(ValueError):
    """A contract or period the SLA rules cannot work with (the message says what to fix)."""


# --- Contract model --------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditTier:
    """Credit ``percent`` of the monthly fee when the term's actual is below ``below`` (percent)."""

    below: float
    percent: float


@dataclass(frozen=True)
class Slice:
    """A slice of ``window`` is up when its good ratio is at least ``target`` (a fraction)."""

    window: str = DEFAULT_SLICE_WINDOW
    target: float = DEFAULT_SLICE_TARGET

    def __post_init__(self) -> None:
        object.__setattr__(self, "window", normalize_duration(self.window))  # "60s" is the 1m slice

    @property
    def seconds(self) -> int:
        return parse_duration(self.window)


@dataclass(frozen=True)
class Term:
    """One commitment of a contract; ``objective`` and tiers are percents (99.9, not 0.999)."""

    name: str
    type: TermType
    objective: float
    sli: SLI
    credits: tuple[CreditTier, ...] = ()
    slice: Slice = Slice()
    description: str = ""


@dataclass(frozen=True)
class MaintenanceWindow:
    """Planned work from ``start`` to ``end`` (aware datetimes), announced at ``announced_at``."""

    start: datetime
    end: datetime
    announced_at: datetime | None = None
    description: str = ""


@dataclass(frozen=True)
class Contract:
    """One SLAContract, normalised: durations parsed, datetimes aware, percents as percents."""

    name: str
    contract_id: str
    customer_id: str
    customer_name: str
    terms: tuple[Term, ...]
    namespace: str = ""
    timezone: str = "UTC"
    monthly_fee: float = 0.0
    currency: str = "USD"
    max_credit_percent: float = 100.0
    minimum_notice_seconds: int = 48 * 3600
    maintenance: tuple[MaintenanceWindow, ...] = ()
    no_data: NoDataPolicy = DEFAULT_NO_DATA
    minimum_coverage: float = DEFAULT_MINIMUM_COVERAGE  # percent

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


# --- Periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A calendar month ``[start, end)`` in a timezone; ``name`` is ``YYYY-MM``."""

    name: str
    start: datetime
    end: datetime
    timezone: str

    @property
    def minutes(self) -> int:
        """Whole minutes in the month, counted in real (UTC) time so DST changes count."""
        return minutes_between(self.start, self.end)

    def contains(self, t: datetime) -> bool:
        return _utc(self.start) <= _utc(t) < _utc(self.end)


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise SLAError(f"{t.isoformat()} has no timezone; give times with Z or an offset")
    return t.astimezone(UTC)


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from ``start`` to ``end`` in real time.

    Subtracting two aware datetimes that share a ``tzinfo`` gives wall-clock time in Python,
    which would make every DST month 44,640 minutes; converting to UTC first does not.
    """
    return int((_utc(end) - _utc(start)).total_seconds()) // 60


def _unknown_timezone(timezone: str) -> SLAError:
    return SLAError(f"unknown timezone {timezone!r}; use an IANA name such as Europe/Berlin")


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise _unknown_timezone(timezone) from e


def month_period(name: str, timezone: str = "UTC") -> Period:
    """The calendar month ``YYYY-MM`` in ``timezone``."""
    try:
        start, end = month_bounds(name, timezone)
    except NotAMonth:
        raise SLAError(f"period {name!r} is not a month like 2026-10") from None
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise _unknown_timezone(timezone) from e
    return Period(name, start, end, timezone)


def period_containing(now: datetime, timezone: str = "UTC") -> Period:
    """The month (in ``timezone``) that holds the instant ``now``."""
    return month_period(month_label(_utc(now).astimezone(_zone(timezone))), timezone)


def previous_period(period: Period) -> Period:
    """The month before ``period``, in the same timezone."""
    local = period.start.astimezone(_zone(period.timezone)) - timedelta(days=1)
    return month_period(month_label(local), period.timezone)


# --- Maintenance -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def minutes(self) -> int:
        return minutes_between(self.start, self.end)


@dataclass(frozen=True)
class WindowAssessment:
    """What the notice rule made of one maintenance window (clipped to the period)."""

    window: MaintenanceWindow
    start: datetime  # clipped to the period, UTC
    end: datetime
    notice_seconds: float | None  # None when never announced
    excluded: bool

    @property
    def late(self) -> bool:
        return not self.excluded

    @property
    def minutes(self) -> int:
        return minutes_between(self.start, self.end)

    @property
    def reason(self) -> str:
        if self.notice_seconds is None:
            return "not announced"
        hours = self.notice_seconds / 3600
        verb = "announced" if self.excluded else "announced only"
        when = f"{hours:g}h" if abs(hours) < 96 else f"{hours / 24:.1f} days"
        return f"{verb} {when} before its start"


@dataclass(frozen=True)
class MaintenancePlan:
    """Every window touching the period, judged; and the merged excluded intervals."""

    windows: tuple[WindowAssessment, ...]
    exclusions: tuple[Interval, ...]

    @property
    def late(self) -> tuple[WindowAssessment, ...]:
        return tuple(w for w in self.windows if w.late)

    @property
    def excluded_minutes(self) -> int:
        return sum(i.minutes for i in self.exclusions)


def merge_intervals(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Overlapping or touching intervals merged; sorted; empty ones dropped."""
    out: list[Interval] = []
    for iv in sorted((i for i in intervals if i.end > i.start), key=lambda i: i.start):
        if out and iv.start <= out[-1].end:
            if iv.end > out[-1].end:
                out[-1] = Interval(out[-1].start, iv.end)
        else:
            out.append(iv)
    return tuple(out)


def assess_maintenance(
    windows: Sequence[MaintenanceWindow], minimum_notice_seconds: int, period: Period
) -> MaintenancePlan:
    """Judge each window touching ``period`` by the notice rule and merge the excluded ones."""
    p_start, p_end = _utc(period.start), _utc(period.end)
    assessed: list[WindowAssessment] = []
    for w in windows:
        start, end = _utc(w.start), _utc(w.end)
        if end <= start:
            raise SLAError(f"maintenance window {w.description or start.isoformat()!r} ends before it starts")
        if end <= p_start or start >= p_end:
            continue
        notice = None if w.announced_at is None else (start - _utc(w.announced_at)).total_seconds()
        excluded = notice is not None and notice >= minimum_notice_seconds
        assessed.append(WindowAssessment(w, max(start, p_start), min(end, p_end), notice, excluded))
    assessed.sort(key=lambda a: a.start)
    exclusions = merge_intervals(Interval(a.start, a.end) for a in assessed if a.excluded)
    return MaintenancePlan(tuple(assessed), exclusions)


# --- Measurements ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SliceFacts:
    """Good ratios per slice for an uptime term.

    ``good`` maps a slice's start (Unix seconds, slices aligned to the period start) to the
    slice's good ratio in [0, 1]; a missing slice had no data.
    """

    slice_seconds: int
    good: Mapping[int, float]


@dataclass(frozen=True)
class RequestCounts:
    """Bad and total requests (or seconds, for time-based SLIs) over the period.

    ``excluded_bad`` / ``excluded_total`` are the same measured over the excluded maintenance
    intervals only; they are subtracted.
    """

    bad: float
    total: float
    excluded_bad: float = 0.0
    excluded_total: float = 0.0


Measurement = SliceFacts | RequestCounts


# --- Results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outage:
    """Consecutive down slices, and whether an excluded maintenance window covered them."""

    start: datetime
    end: datetime
    excluded: bool

    @property
    def minutes(self) -> int:
        return minutes_between(self.start, self.end)


@dataclass(frozen=True)
class DayUptime:
    """One local calendar day of an uptime term (DST days have 1,380 or 1,500 minutes)."""

    day: str  # YYYY-MM-DD in the contract's timezone
    minutes: int
    downtime_minutes: int
    excluded_minutes: int

    @property
    def uptime(self) -> float:
        return _percent(self.minutes - self.downtime_minutes, self.minutes)


@dataclass(frozen=True)
class TermResult:
    name: str
    type: TermType
    objective: float
    actual: float | None  # percent; None when nothing was measured
    compliant: bool
    credit_percent: float
    downtime_minutes: int | None = None  # uptime terms only
    excluded_minutes: int = 0
    no_data_minutes: int = 0
    good: float | None = None  # latency/availability: good requests counted
    valid: float | None = None  # latency/availability: valid requests counted
    outages: tuple[Outage, ...] = ()
    days: tuple[DayUptime, ...] = ()

    @property
    def minutes_measured(self) -> int:
        """uptime terms: minutes evaluated that had data (0 for other types)."""
        if self.type != "uptime":
            return 0
        return sum(d.minutes for d in self.days) - self.no_data_minutes

    @property
    def coverage(self) -> float | None:
        """uptime terms: share of the minutes evaluated that had data (None for request terms)."""
        if self.type != "uptime":
            return None
        minutes = sum(d.minutes for d in self.days)
        return (minutes - self.no_data_minutes) / minutes if minutes else 0.0

    @property
    def variance(self) -> float | None:
        """Actual minus objective, in percentage points (negative = short of the objective)."""
        return None if self.actual is None else self.actual - self.objective


@dataclass(frozen=True)
class ContractResult:
    contract: Contract
    period: Period
    minutes: int  # minutes evaluated: the whole month, or up to ``now`` for a month in progress
    complete: bool
    terms: tuple[TermResult, ...]
    maintenance: MaintenancePlan
    credit_percent: float
    credit_amount: float
    uncapped_credit_percent: float
    evaluated_until: datetime  # UTC

    @property
    def compliant(self) -> bool:
        return all(t.compliant for t in self.terms)

    @property
    def breached(self) -> tuple[TermResult, ...]:
        return tuple(t for t in self.terms if not t.compliant)

    @property
    def coverage(self) -> float:
        """The lowest data coverage of any uptime term (1.0 when the contract has none)."""
        covered = [t.coverage for t in self.terms if t.coverage is not None]
        return min(covered, default=1.0)

    @property
    def coverage_ok(self) -> bool:
        """Whether enough of the period had data to be finalized (``minimumCoverage``)."""
        return self.coverage * 100 + _EPSILON >= self.contract.minimum_coverage

    def as_dict(self) -> dict[str, object]:
        """The CLI's JSON contract (``sloguard sla evaluate -o json``) and status payload."""
        return {
            "contract": self.contract.contract_id,
            "customer": self.contract.customer_id,
            "period": self.period.name,
            "minutes": self.minutes,
            "complete": self.complete,
            "compliant": self.compliant,
            "noData": self.contract.no_data,
            "coverage": round(self.coverage, 6),
            "terms": [
                {
                    "name": t.name,
                    "type": t.type,
                    "objective": t.objective,
                    "actual": None if t.actual is None else round(t.actual, 6),
                    "compliant": t.compliant,
                    "downtimeMinutes": t.downtime_minutes,
                    "excludedMinutes": t.excluded_minutes,
                    "noDataMinutes": t.no_data_minutes,
                    "coverage": None if t.coverage is None else round(t.coverage, 6),
                    "creditPercent": t.credit_percent,
                }
                for t in self.terms
            ],
            "maintenance": [
                {
                    "start": rfc3339(w.start),
                    "end": rfc3339(w.end),
                    "description": w.window.description,
                    "excluded": w.excluded,
                    "reason": w.reason,
                }
                for w in self.maintenance.windows
            ],
            "creditPercent": self.credit_percent,
            "creditAmount": self.credit_amount,
            "currency": self.contract.currency,
        }


def _percent(part: float, whole: float) -> float:
    return part * 100 / whole if whole else 100.0


# --- Evaluation ------------------------------------------------------------------------------


def tier_credit(actual: float | None, tiers: Sequence[CreditTier]) -> float:
    """The percent of the worst tier ``actual`` falls under (``actual < below``), else 0."""
    if actual is None:
        return 0.0
    under = [t for t in tiers if actual < t.below - _EPSILON]
    return min(under, key=lambda t: t.below).percent if under else 0.0


def _compliant(actual: float | None, objective: float) -> bool:
    return actual is None or actual >= objective - _EPSILON


def slice_starts(period: Period, slice_seconds: int, until: datetime | None = None) -> list[int]:
    """Unix starts of the whole slices in ``period`` (ending no later than ``until``)."""
    start = int(_utc(period.start).timestamp())
    end = int(_utc(period.end).timestamp())
    if until is not None:
        end = min(end, int(_utc(until).timestamp()))
    return list(range(start, end - slice_seconds + 1, slice_seconds))


def _covered(start: int, end: int, exclusions: Sequence[tuple[int, int]]) -> bool:
    return any(a <= start and end <= b for a, b in exclusions)


def evaluate_uptime(
    term: Term,
    period: Period,
    facts: SliceFacts,
    plan: MaintenancePlan,
    until: datetime | None = None,
    no_data_policy: NoDataPolicy = DEFAULT_NO_DATA,
) -> TermResult:
    """Downtime minutes, exclusions and uptime % of one term (see the module docstring)."""
    size = facts.slice_seconds
    exclusions = [(int(i.start.timestamp()), int(i.end.timestamp())) for i in plan.exclusions]
    starts = slice_starts(period, size, until)
    tz = _zone(period.timezone)
    if size % 60:
        raise SLAError(f"term {term.name!r}: a slice must be whole minutes, not {size}s")
    slice_minutes = size // 60
    down = excluded = no_data = 0
    outages: list[Outage] = []
    days: dict[str, list[int]] = {}
    for s in starts:
        day = datetime.fromtimestamp(s, tz).strftime("%Y-%m-%d")
        bucket = days.setdefault(day, [0, 0, 0])
        bucket[0] += slice_minutes
        ratio = facts.good.get(s)
        if ratio is None:
            no_data += slice_minutes
            if no_data_policy != "downtime":
                continue
            ratio = 0.0  # an unmonitored slice is a down slice (the default, see the docstring)
        if ratio + _EPSILON >= term.slice.target:
            continue
        is_excluded = _covered(s, s + size, exclusions)
        if is_excluded:
            excluded += slice_minutes
            bucket[2] += slice_minutes
        else:
            down += slice_minutes
            bucket[1] += slice_minutes
        t0 = datetime.fromtimestamp(s, UTC)
        t1 = datetime.fromtimestamp(s + size, UTC)
        if outages and outages[-1].end == t0 and outages[-1].excluded == is_excluded:
            outages[-1] = Outage(outages[-1].start, t1, is_excluded)
        else:
            outages.append(Outage(t0, t1, is_excluded))
    minutes = len(starts) * size // 60
    if no_data_policy == "excluded":
        measured = minutes - no_data
        actual: float | None = _percent(measured - down, measured) if measured else None
    else:
        actual = _percent(minutes - down, minutes)
    return TermResult(
        name=term.name,
        type=term.type,
        objective=term.objective,
        actual=actual,
        compliant=_compliant(actual, term.objective),
        credit_percent=tier_credit(actual, term.credits),
        downtime_minutes=down,
        excluded_minutes=excluded,
        no_data_minutes=no_data,
        outages=tuple(outages),
        days=tuple(DayUptime(d, b[0], b[1], b[2]) for d, b in days.items()),
    )


def evaluate_requests(term: Term, counts: RequestCounts, plan: MaintenancePlan) -> TermResult:
    """Good share of valid requests (latency) or success ratio (availability), in percent."""
    bad = max(counts.bad - counts.excluded_bad, 0.0)
    valid = max(counts.total - counts.excluded_total, 0.0)
    bad = min(bad, valid)
    actual = _percent(valid - bad, valid) if valid > 0 else None
    return TermResult(
        name=term.name,
        type=term.type,
        objective=term.objective,
        actual=actual,
        compliant=_compliant(actual, term.objective),
        credit_percent=tier_credit(actual, term.credits),
        downtime_minutes=None,
        excluded_minutes=plan.excluded_minutes,
        good=valid - bad,
        valid=valid,
    )


def evaluate_contract(
    contract: Contract,
    period: Period,
    measurements: Mapping[str, Measurement],
    now: datetime | None = None,
) -> ContractResult:
    """Every term of ``contract`` for ``period`` (up to ``now`` when the month is in progress).

    ``measurements`` maps term names to :class:`SliceFacts` (uptime terms) or
    :class:`RequestCounts` (latency, availability). A term without a measurement is an error:
    a report must never silently leave a commitment out.
    """
    until = _utc(period.end) if now is None else min(_utc(now), _utc(period.end))
    if until <= _utc(period.start):
        raise SLAError(f"period {period.name} has not started at {rfc3339(until)}")
    plan = assess_maintenance(contract.maintenance, contract.minimum_notice_seconds, period)
    if until < _utc(period.end):
        # A month in progress: only the part of each exclusion that already happened counts.
        clipped = [Interval(i.start, min(i.end, until)) for i in plan.exclusions if i.start < until]
        plan = MaintenancePlan(plan.windows, merge_intervals(clipped))
    results: list[TermResult] = []
    for term in contract.terms:
        m = measurements.get(term.name)
        if m is None:
            raise SLAError(f"term {term.name!r} has no measurement")
        if term.type == "uptime":
            if not isinstance(m, SliceFacts):
                raise SLAError(f"uptime term {term.name!r} needs per-slice facts")
            results.append(evaluate_uptime(term, period, m, plan, until, contract.no_data))
        else:
            if not isinstance(m, RequestCounts):
                raise SLAError(f"{term.type} term {term.name!r} needs request counts")
            results.append(evaluate_requests(term, m, plan))
    uncapped = sum(t.credit_percent for t in results)
    percent = min(uncapped, contract.max_credit_percent)
    amount = round(contract.monthly_fee * percent / 100, 2)
    return ContractResult(
        contract=contract,
        period=period,
        minutes=minutes_between(period.start, until),
        complete=until >= _utc(period.end),
        terms=tuple(results),
        maintenance=plan,
        credit_percent=percent,
        credit_amount=amount,
        uncapped_credit_percent=uncapped,
        evaluated_until=until,
    )


# --- Finalization (what the operator decides, as pure functions) -----------------------------

#: How long after a month ends the operator waits for late samples before finalizing it.
DEFAULT_FINALIZE_GRACE: Final = "1h"

_REQUEST_RE = re.compile(r"^(\d{4}-\d{2})(?::([A-Za-z0-9][-A-Za-z0-9_.]{0,62}))?$")


def period_to_finalize(now: datetime, timezone: str, grace_seconds: int) -> Period | None:
    """The month before ``now`` once it ended at least ``grace_seconds`` ago, else None."""
    prev = previous_period(period_containing(now, timezone))
    return prev if _utc(now) >= _utc(prev.end) + timedelta(seconds=grace_seconds) else None


def period_finalizable(period: Period, now: datetime, grace_seconds: int) -> bool:
    """Whether ``period`` has ended (plus the grace for late samples) at ``now``."""
    return _utc(now) >= _utc(period.end) + timedelta(seconds=grace_seconds)


def unmeasured_terms(result: ContractResult) -> tuple[str, ...]:
    """Terms with no data at all: a result that would invent figures and must not be final.

    An uptime term whose every slice lacked data would read as whatever ``noData`` says; a request
    term without valid requests has no actual. Partial gaps are judged by :attr:`ContractResult.coverage`.
    """
    out = []
    for t in result.terms:
        if t.actual is None or (t.type == "uptime" and t.minutes_measured == 0):
            out.append(t.name)
    return tuple(out)


def parse_reevaluation(value: str) -> str:
    """The period a ``sloguard.io/reevaluate`` request names.

    The value is ``YYYY-MM`` or ``YYYY-MM:TAG`` (e.g. ``2026-10:ticket-42``); the whole value
    identifies the request, so the same month can be re-evaluated again with a new tag.
    """
    m = _REQUEST_RE.match(value.strip())
    if not m:
        raise SLAError(f"{value!r} is not a month like 2026-10 (optionally 2026-10:TAG to ask again)")
    month_period(m.group(1))  # validates the month
    return m.group(1)


def late_windows(contract: Contract, since: datetime) -> tuple[WindowAssessment, ...]:
    """Maintenance windows ending after ``since`` that miss the notice rule (never excluded)."""
    horizon = Period("horizon", _utc(since), _utc(since) + timedelta(days=3660), contract.timezone)
    return assess_maintenance(contract.maintenance, contract.minimum_notice_seconds, horizon).late


def window_key(w: MaintenanceWindow) -> str:
    """A stable key of a window (its UTC start and end), to remember that it was reported."""
    return f"{rfc3339(w.start)}/{rfc3339(w.end)}"


# --- Incident impact -------------------------------------------------------------------------


@dataclass(frozen=True)
class SeverityLevel:
    """One of the seed's incident severities, with the impact share that reaches it."""

    name: str
    label: str
    min_affected: float  # share of requests/time failing (a proxy for users affected)
    definition: str
    response_time: str
    escalation: str
    communication: str


#: The seed's severity classification. Its definitions speak of users affected ("all", "most",
#: "some", "minimal"); the measurable proxy is the worst error ratio of any SLO in the
#: interval. Rows are checked top-down; the first whose ``min_affected`` is reached applies.
#:   severity_1: >= 90% failing   -> "complete service outage affecting all users"
#:   severity_2: >= 50% failing   -> "major functionality impaired affecting most users"
#:   severity_3: >=  5% failing   -> "minor functionality impaired affecting some users"
#:   severity_4: anything less    -> "minimal impact on user experience"
SEVERITY_LEVELS: Final[tuple[SeverityLevel, ...]] = (
    SeverityLevel(
        "severity_1",
        "critical",
        0.90,
        "Complete service outage affecting all users",
        "Immediate (< 15 minutes)",
        "CEO, CTO, VP Engineering",
        "Status page, social media, customer emails",
    ),
    SeverityLevel(
        "severity_2",
        "high",
        0.50,
        "Major functionality impaired affecting most users",
        "< 1 hour",
        "CTO, VP Engineering, Engineering Managers",
        "Status page, customer emails",
    ),
    SeverityLevel(
        "severity_3",
        "medium",
        0.05,
        "Minor functionality impaired affecting some users",
        "< 4 hours",
        "Engineering Managers, Senior Engineers",
        "Status page updates",
    ),
    SeverityLevel(
        "severity_4",
        "low",
        0.0,
        "Minimal impact on user experience",
        "Next business day",
        "Team Lead",
        "Internal tracking only",
    ),
)

#: Spending at least this share of a window's error budget in one incident, or breaching an SLA
#: term, makes an incident at least severity_2 ("compliance impact (SLA breaches)").
BUDGET_SHARE_ESCALATION: Final = 0.25


def classify_severity(
    worst_error_ratio: float, max_budget_share: float = 0.0, sla_breached: bool = False
) -> SeverityLevel:
    """The seed's severity for an incident from what was measured during it."""
    level = next(lv for lv in SEVERITY_LEVELS if worst_error_ratio >= lv.min_affected - _EPSILON)
    if (sla_breached or max_budget_share >= BUDGET_SHARE_ESCALATION) and level.name in (
        "severity_3",
        "severity_4",
    ):
        return SEVERITY_LEVELS[1]
    return level


def sla_minutes_lost(
    term: Term, facts: SliceFacts, start: datetime, end: datetime, plan: MaintenancePlan
) -> int:
    """Downtime minutes of an uptime term between ``start`` and ``end`` (exclusions honoured)."""
    size = facts.slice_seconds
    exclusions = [(int(i.start.timestamp()), int(i.end.timestamp())) for i in plan.exclusions]
    lost = 0
    a, b = int(_utc(start).timestamp()), int(_utc(end).timestamp())
    for s, ratio in facts.good.items():
        down = ratio + _EPSILON < term.slice.target
        if down and a <= s and s + size <= b and not _covered(s, s + size, exclusions):
            lost += size
    return lost // 60


def allowed_downtime_minutes(objective: float, minutes: int) -> float:
    """Downtime an uptime term can take in ``minutes`` and still meet ``objective`` (percent)."""
    return (100.0 - objective) * minutes / 100.0

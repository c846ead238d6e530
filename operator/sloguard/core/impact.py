"""What an incident cost: error budget per SLO and SLA credit per contract, measured and projected.

Pure: the service (``sloguard.services.impact``) counts events in Prometheus, this module
turns the counts into impact. ``now`` is a parameter; nothing here reads the clock or the network.

Definitions (an interval ``[t1, t2)``, measured up to ``m = min(now, t2)``):

* **Measured and projected.** Events in ``[t1, m)`` are measured. When ``t2`` lies in the
  future (an ongoing incident), ``[m, t2)`` is projected at the current burn rate: traffic
  continues at the rate observed over ``[t1, m)`` and the same share of it fails, so
  ``projected = measured * (t2 - m) / (m - t1)`` for both bad and total events.
* **Budget spent** uses exactly the denominator of :func:`sloguard.core.budget.compute` at
  ``t2`` (it is called with the interval's bad events and the window's traffic): for a rolling
  window W, ``bad / (B * total(t2 - W, t2))``; for a calendar period P, the period's traffic is
  projected from the traffic so far, ``bad / (B * total(P start, t2) * P / elapsed)``. The window
  traffic after ``now`` is the projected traffic of the interval. So a 10-minute full outage on
  the 20th of a month reads as the same share ``sloguard budget`` shows at that instant, and the
  same outage on the 2nd is no bigger. Only bad events inside that window count (an incident
  across midnight on the 1st spends the new month's budget from midnight on); an interval
  ending exactly at a period boundary spends the period it ends. Timeslices SLOs are counted
  in events here (the interval is rarely whole slices); ``basis`` says so.
* **SLA terms** (``sla[]``): an uptime term's minutes lost in the interval (projected slices
  included) against the month's allowance; a latency/availability term's bad requests against
  ``(100 - objective)%`` of the month's requests up to ``max(now, t2)``.
* **SLA credit moved** per contract: the contract's month (the one containing ``t1``) is
  evaluated by :func:`sloguard.core.sla.evaluate_contract` up to ``max(now, t2)`` (everything
  known plus the projection; the whole month once it is over) twice: *after* with the interval
  as measured (and projected), *before* as if the interval had been healthy (its slices up, its
  bad requests good, its traffic kept). ``creditAmountMoved = after - before``. An uptime
  interval is projected slice by slice at the mean good ratio of its observed slices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .budget import Measurements, compute
from .conditions import rfc3339
from .model import Objective
from .sla import (
    Contract,
    ContractResult,
    Measurement,
    Period,
    RequestCounts,
    SliceFacts,
    Term,
    allowed_downtime_minutes,
    classify_severity,
    evaluate_contract,
    slice_starts,
)


@dataclass(frozen=True)
class Counts:
    """Bad and total events (or seconds, for time-based SLIs)."""

    bad: float = 0.0
    total: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.bad + other.bad, self.total + other.total)

    @property
    def error_ratio(self) -> float | None:
        return self.bad / self.total if self.total > 0 else None


@dataclass(frozen=True)
class Split:
    """``[start, measured_until)`` is measured, ``[measured_until, end)`` projected (maybe empty)."""

    start: datetime
    measured_until: datetime
    end: datetime

    @property
    def projects(self) -> bool:
        return self.measured_until < self.end

    @property
    def measured_seconds(self) -> float:
        return _seconds(self.start, self.measured_until)

    @property
    def projected_seconds(self) -> float:
        return _seconds(self.measured_until, self.end)


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


def _seconds(a: datetime, b: datetime) -> float:
    return max((_utc(b) - _utc(a)).total_seconds(), 0.0)


def split(start: datetime, end: datetime, now: datetime) -> Split:
    """The interval cut at ``now``: what can be measured and what must be projected."""
    if _utc(end) <= _utc(start):
        raise ValueError("the interval must end after it starts")
    if _utc(now) <= _utc(start):
        raise ValueError("the interval starts in the future: nothing to measure or project from")
    return Split(start, min(_utc(now), _utc(end)), end)


def project(measured: Counts, measured_seconds: float, projected_seconds: float) -> Counts:
    """``measured`` continued for ``projected_seconds`` at its rate and its error ratio."""
    if measured_seconds <= 0 or projected_seconds <= 0:
        return Counts()
    factor = projected_seconds / measured_seconds
    return Counts(measured.bad * factor, measured.total * factor)


def budget_share(slo: Objective, bad: float, window_total: float, at: datetime) -> float | None:
    """Share of ``slo``'s budget at ``at`` that ``bad`` events are, ``window_total`` being the traffic
    of the window ending at ``at`` (the calendar period from its start). The denominator is the one
    :func:`sloguard.core.budget.compute` uses (projected period traffic for calendar windows).
    None without traffic or budget."""
    counted = slo if slo.budgeting_method != "Timeslices" else replace(slo, budgeting_method="Occurrences")
    return compute(counted, Measurements(bad=bad, total=window_total), at).consumed


@dataclass(frozen=True)
class SLOImpact:
    slo: Objective
    measured: Counts
    projected: Counts
    window_total: float  # traffic of the window ending at the interval's end, projection included
    budget_spent: float | None
    worst_error_ratio: float | None

    @property
    def counts(self) -> Counts:
        return self.measured + self.projected

    @property
    def basis(self) -> str:
        return "events" if self.slo.budgeting_method == "Timeslices" else "budget"


def budget_window(slo: Objective, end: datetime) -> tuple[datetime, datetime]:
    """``(window start, evaluation instant)`` of the budget an interval ending at ``end`` spends.

    The window is the one :func:`sloguard.core.budget.compute` evaluates at ``end``, except that
    an interval ending exactly where a calendar period starts (``--to 2026-12-01T00:00:00Z``)
    spent the period it ends, so it is evaluated one microsecond earlier (``sloguard budget``
    has no traffic yet in the new period at that instant).
    """
    start, _ = slo.window.bounds(end)
    if slo.window.is_calendar and _utc(start) >= _utc(end):
        end = end - timedelta(microseconds=1)
        start, _ = slo.window.bounds(end)
    return start, end


def slo_impact(
    slo: Objective,
    span: Split,
    measured: Counts,
    window_measured_total: float,
    worst_error_ratio: float | None = None,
    bad_in_window: float | None = None,
) -> SLOImpact:
    """Budget ``slo`` spent in ``span``.

    ``window_measured_total``: traffic of :func:`budget_window` up to ``span.measured_until``;
    ``bad_in_window``: the measured bad events that fell inside that window, when the interval
    starts before it (a calendar period that began during the incident); by default all of them.
    """
    projected = project(measured, span.measured_seconds, span.projected_seconds)
    window_total = window_measured_total + projected.total
    bad = (measured.bad if bad_in_window is None else bad_in_window) + projected.bad
    share = budget_share(slo, bad, window_total, budget_window(slo, span.end)[1])
    return SLOImpact(slo, measured, projected, window_total, share, worst_error_ratio)


# --- SLA contracts ------------------------------------------------------------------------------


def _touched(s: int, size: int, a: float, b: float) -> bool:
    return s < b and s + size > a


def facts_with_projection(facts: SliceFacts, span: Split, period: Period) -> SliceFacts:
    """Observed slices plus the slices of ``span`` not over by ``measured_until``, at the mean good
    ratio of the interval's observed slices (none observed: no projection, the slices stay
    without data)."""
    size = facts.slice_seconds
    a, m, b = _utc(span.start).timestamp(), _utc(span.measured_until).timestamp(), _utc(span.end).timestamp()
    seen = [v for s, v in facts.good.items() if _touched(s, size, a, m) and s + size <= m]
    if not span.projects or not seen:
        return facts
    level = sum(seen) / len(seen)
    good = dict(facts.good)
    for s in slice_starts(period, size):
        if _touched(s, size, m, b) and s + size > m and s not in good:
            good[s] = level
    return SliceFacts(size, good)


def facts_without_interval(facts: SliceFacts, span: Split) -> SliceFacts:
    """The same slices with every slice touching ``span`` up (good ratio 1)."""
    size = facts.slice_seconds
    a, b = _utc(span.start).timestamp(), _utc(span.end).timestamp()
    return SliceFacts(size, {s: (1.0 if _touched(s, size, a, b) else v) for s, v in facts.good.items()})


@dataclass(frozen=True)
class RequestTermFacts:
    """A latency/availability term over the month to ``measured_until`` and over the interval.

    ``interval`` is the interval's measured part inside the month; ``interval_excluded_bad`` the
    bad requests of it that fell in excluded maintenance (already subtracted by the month's
    evaluation, so not removed twice).
    """

    month: RequestCounts
    interval: Counts
    interval_excluded_bad: float = 0.0


@dataclass(frozen=True)
class ContractImpact:
    contract: Contract
    period: Period
    before: ContractResult
    after: ContractResult
    projected: bool

    @property
    def credit_amount_moved(self) -> float:
        return round(self.after.credit_amount - self.before.credit_amount, 2)

    @property
    def credit_percent_moved(self) -> float:
        return self.after.credit_percent - self.before.credit_percent


def contract_impact(
    contract: Contract,
    period: Period,
    span: Split,
    facts: Mapping[str, SliceFacts | RequestTermFacts],
    now: datetime,
) -> ContractImpact:
    """The contract's month evaluated up to ``max(now, span.end)`` with and without the interval.

    ``facts``: per term, the month's slices (uptime) or counts (latency, availability) up to
    ``now``, as :meth:`sloguard.adapters.prometheus.SLAReader.read_contract` reads them."""
    month_end = min(_utc(span.end), _utc(period.end))
    in_month = Split(max(_utc(span.start), _utc(period.start)), min(_utc(span.measured_until), month_end), month_end)
    after: dict[str, Measurement] = {}
    before: dict[str, Measurement] = {}
    for name, f in facts.items():
        if isinstance(f, SliceFacts):
            projected = facts_with_projection(f, span, period)
            after[name] = projected
            before[name] = facts_without_interval(projected, span)
        else:
            p = project(f.interval, in_month.measured_seconds, in_month.projected_seconds)
            m = f.month
            after[name] = RequestCounts(m.bad + p.bad, m.total + p.total, m.excluded_bad, m.excluded_total)
            before[name] = RequestCounts(
                max(m.bad - f.interval.bad, 0.0),
                m.total + p.total,
                max(m.excluded_bad - f.interval_excluded_bad, 0.0),
                m.excluded_total,
            )
    until = max(_utc(now), _utc(span.end))
    return ContractImpact(
        contract,
        period,
        before=evaluate_contract(contract, period, before, until),
        after=evaluate_contract(contract, period, after, until),
        projected=span.projects,
    )


def contract_dict(c: ContractImpact) -> dict[str, Any]:
    """One contract in ``sloguard impact -o json``: ``contracts[]``."""
    return {
        "contract": c.contract.contract_id,
        "customer": c.contract.customer_id,
        "period": c.period.name,
        "creditPercentBefore": c.before.credit_percent,
        "creditPercentAfter": c.after.credit_percent,
        "creditPercentMoved": c.credit_percent_moved,
        "creditAmountBefore": c.before.credit_amount,
        "creditAmountAfter": c.after.credit_amount,
        "creditAmountMoved": c.credit_amount_moved,
        "currency": c.contract.currency,
        "terms": [
            {
                "name": b.name,
                "actualBefore": None if b.actual is None else round(b.actual, 6),
                "actualAfter": None if a.actual is None else round(a.actual, 6),
                "creditPercentBefore": b.credit_percent,
                "creditPercentAfter": a.credit_percent,
            }
            for b, a in zip(c.before.terms, c.after.terms, strict=True)
        ],
        "projected": c.projected,
    }


# --- SLA terms: minutes and requests lost against the month's allowance -------------------------


def uptime_term_row(term: Term, month: Period, minutes_lost: int, worst_error_ratio: float) -> dict[str, Any]:
    """Downtime minutes the interval cost an uptime term against the month's allowance."""
    allowance = allowed_downtime_minutes(term.objective, month.minutes)
    return {
        "minutesLost": minutes_lost,
        "allowanceMinutes": round(allowance, 3),
        "allowanceSpent": minutes_lost / allowance if allowance else None,
        "breached": minutes_lost > allowance,
        "worstErrorRatio": worst_error_ratio,
    }


def request_term_row(term: Term, bad: float, month_total: float) -> dict[str, Any]:
    """Bad requests the interval cost a latency/availability term against the month's allowance
    (``month_total``: the month's requests to the interval's end, projection included)."""
    allowance = (100.0 - term.objective) / 100.0 * month_total
    return {
        "badRequests": round(bad, 3),
        "allowanceRequests": round(allowance, 3),
        "allowanceSpent": bad / allowance if allowance else None,
        "breached": bool(allowance) and bad > allowance,
    }


# --- The report ---------------------------------------------------------------------------------


def _counts_dict(c: Counts) -> dict[str, float]:
    return {"badEvents": round(c.bad, 3), "totalEvents": round(c.total, 3)}


def slo_dict(s: SLOImpact) -> dict[str, Any]:
    """One SLO in ``sloguard impact -o json``: ``slos[]`` (keys before ``measured`` are the
    original contract)."""
    c = s.counts
    return {
        "slo": s.slo.key,
        "service": s.slo.service,
        "badEvents": round(c.bad, 3),
        "totalEvents": round(c.total, 3),
        "errorRatio": c.error_ratio,
        "worstErrorRatio": s.worst_error_ratio,
        "budgetSpent": s.budget_spent,
        "window": s.slo.window.text,
        "windowEvents": round(s.window_total, 3),
        "basis": s.basis,
        "measured": _counts_dict(s.measured),
        "projected": _counts_dict(s.projected),
    }


def report(
    span: Split,
    slos: Sequence[SLOImpact],
    terms: Sequence[dict[str, Any]],
    contracts: Sequence[ContractImpact],
) -> dict[str, Any]:
    """The whole ``sloguard impact -o json`` object, severity included."""
    slo_rows = [slo_dict(s) for s in slos]
    ratios = [s["worstErrorRatio"] for s in slo_rows if s["worstErrorRatio"] is not None]
    ratios += [t["worstErrorRatio"] for t in terms if t.get("worstErrorRatio") is not None]
    shares = [s["budgetSpent"] for s in slo_rows if s["budgetSpent"] is not None]
    level = classify_severity(max(ratios, default=0.0), max(shares, default=0.0), any(t["breached"] for t in terms))
    return {
        "from": rfc3339(span.start),
        "to": rfc3339(span.end),
        "minutes": int(_seconds(span.start, span.end) // 60),
        "measured": {"from": rfc3339(span.start), "to": rfc3339(span.measured_until)},
        "projected": {"from": rfc3339(span.measured_until), "to": rfc3339(span.end)} if span.projects else None,
        "severity": {
            "level": level.name,
            "label": level.label,
            "definition": level.definition,
            "responseTime": level.response_time,
            "escalation": level.escalation,
            "communication": level.communication,
        },
        "slos": slo_rows,
        "sla": list(terms),
        "contracts": [contract_dict(c) for c in contracts],
    }

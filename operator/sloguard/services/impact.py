"""What an incident cost: the orchestration behind ``sloguard impact``.

Only counts are read here (through the :class:`~sloguard.services.ports.ImpactMetrics` port);
every figure is computed by :mod:`sloguard.core.impact`. Nothing is read after ``now``: the rest
of the interval is projected by the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ..core.impact import (
    ContractImpact,
    Counts,
    RequestTermFacts,
    SLOImpact,
    Split,
    budget_window,
    contract_impact,
    facts_with_projection,
    project,
    report,
    request_term_row,
    slo_impact,
    split,
    uptime_term_row,
)
from ..core.model import Objective
from ..core.sla import Contract, Period, RequestCounts, SliceFacts, Term, period_containing, sla_minutes_lost
from .ports import ImpactMetrics, MonthData


def _ts(t: datetime) -> float:
    return t.astimezone(UTC).timestamp()


def measure_impact(
    metrics: ImpactMetrics,
    objectives: Sequence[Objective],
    contracts: Sequence[Contract],
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The ``sloguard impact -o json`` object for ``[start, end)``, measured up to ``now``."""
    span = split(start, end, now)
    slos = [read_slo(metrics, o, span) for o in objectives]
    terms: list[dict[str, Any]] = []
    moved: list[ContractImpact] = []
    for c in contracts:
        rows, impact = read_contract(metrics, c, span, now)
        terms += rows
        moved.append(impact)
    return report(span, slos, terms, moved)


def read_slo(metrics: ImpactMetrics, slo: Objective, span: Split) -> SLOImpact:
    """The interval's measured counts, the window's traffic up to ``measured_until``, worst ratio."""
    a, m = _ts(span.start), _ts(span.measured_until)
    bad, total = metrics.sli_counts(slo.sli, a, m, f"SLO {slo.key}")
    w_start = _ts(budget_window(slo, span.end)[0])
    _, window_total = metrics.sli_counts(slo.sli, w_start, m, f"SLO {slo.key} window")
    bad_in_window = None
    if w_start > a:  # the window began during the interval: only its part spends this budget
        bad_in_window = metrics.sli_counts(slo.sli, w_start, m, f"SLO {slo.key} in window")[0]
    worst = metrics.worst_error_ratio(slo.sli, a, m, f"SLO {slo.key} worst ratio")
    return slo_impact(slo, span, Counts(bad, total), window_total, worst, bad_in_window)


class _Month:
    """The interval clipped to the contract month it starts in, with that month's measurements."""

    def __init__(self, metrics: ImpactMetrics, contract: Contract, span: Split, now: datetime) -> None:
        self.metrics, self.span = metrics, span
        self.period: Period = period_containing(span.start, contract.timezone)
        self.data: MonthData = metrics.read_contract(contract, self.period, now)
        self.start = max(_ts(span.start), _ts(self.period.start))  # a: the interval's start in the month
        self.measured = min(_ts(span.measured_until), _ts(self.period.end))  # m: measured up to here
        self.end = min(_ts(span.end), _ts(self.period.end))  # the interval's end in the month


def read_contract(
    metrics: ImpactMetrics, contract: Contract, span: Split, now: datetime
) -> tuple[list[dict[str, Any]], ContractImpact]:
    """Per-term rows (minutes/requests lost against the month's allowance) and the credit moved."""
    month = _Month(metrics, contract, span, now)
    rows: list[dict[str, Any]] = []
    facts: dict[str, SliceFacts | RequestTermFacts] = {}
    for term in contract.terms:
        row: dict[str, Any] = {"contract": contract.contract_id, "customer": contract.customer_id,
                               "term": term.name, "type": term.type, "period": month.period.name}
        measured = month.data.measurements[term.name]
        if isinstance(measured, SliceFacts):
            row |= _uptime_row(month, term, measured)
            facts[term.name] = measured
        else:
            request_facts = _request_facts(month, term, measured)
            row |= _request_row(month, term, request_facts)
            facts[term.name] = request_facts
        rows.append(row)
    return rows, contract_impact(contract, month.period, span, facts, now)


def _uptime_row(month: _Month, term: Term, measured: SliceFacts) -> dict[str, Any]:
    """Minutes lost in the slices the interval touches (aligned as in the monthly evaluation)."""
    size = measured.slice_seconds
    m0 = _ts(month.period.start)
    s0 = m0 + ((month.start - m0) // size) * size
    s1 = s0 + -(-(month.end - s0) // size) * size
    with_projection = facts_with_projection(measured, month.span, month.period)
    lost = sla_minutes_lost(term, with_projection, datetime.fromtimestamp(s0, UTC),
                            datetime.fromtimestamp(s1, UTC), month.data.plan)
    ratios = [v for s, v in with_projection.good.items() if s0 <= s < s1]
    return uptime_term_row(term, month.period, lost, 1.0 - min(ratios, default=1.0))


def _request_facts(month: _Month, term: Term, measured: RequestCounts) -> RequestTermFacts:
    """The month's counts, the interval's measured counts and the bad events in excluded maintenance."""
    a, m = month.start, month.measured
    bad, total = month.metrics.sli_counts(term.sli, a, m, f"term {term.name!r} interval")
    excluded_bad = 0.0
    for iv in month.data.plan.exclusions:
        lo, hi = max(_ts(iv.start), a), min(_ts(iv.end), m)
        if hi > lo:
            excluded_bad += month.metrics.sli_counts(term.sli, lo, hi, f"term {term.name!r} maintenance")[0]
    return RequestTermFacts(measured, Counts(bad, total), excluded_bad)


def _request_row(month: _Month, term: Term, facts: RequestTermFacts) -> dict[str, Any]:
    """Bad requests against the month's allowance; the projected part counts in both."""
    a, m = month.start, month.measured
    p = project(facts.interval, max(m - a, 0.0), max(month.end - m, 0.0))
    return request_term_row(term, facts.interval.bad + p.bad, facts.month.total + p.total)

"""Reading what :mod:`sloguard.core.impact` needs for ``sloguard impact`` from one Prometheus.

Only counts are read here (through :class:`~.sla_reader.SLAReader`'s ``sli_counts`` and
``worst_error_ratio``); every figure is computed by the core. Nothing is read after
``now``: the rest of the interval is projected by the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ...core.impact import (
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
from ...core.model import Objective
from ...core.sla import Contract, RequestCounts, SliceFacts, period_containing, sla_minutes_lost
from .sla_reader import SLAReader


def _ts(t: datetime) -> float:
    return t.astimezone(UTC).timestamp()


def read_slo(reader: SLAReader, slo: Objective, span: Split) -> SLOImpact:
    """The interval's measured counts, the window's traffic up to ``measured_until``, worst ratio."""
    a, m = _ts(span.start), _ts(span.measured_until)
    bad, total = reader.sli_counts(slo.sli, a, m, f"SLO {slo.key}")
    w_start = _ts(budget_window(slo, span.end)[0])
    _, window_total = reader.sli_counts(slo.sli, w_start, m, f"SLO {slo.key} window")
    bad_in_window = None
    if w_start > a:  # the window began during the interval: only its part spends this budget
        bad_in_window = reader.sli_counts(slo.sli, w_start, m, f"SLO {slo.key} in window")[0]
    worst = reader.worst_error_ratio(slo.sli, a, m, f"SLO {slo.key} worst ratio")
    return slo_impact(slo, span, Counts(bad, total), window_total, worst, bad_in_window)


def read_contract(
    reader: SLAReader, contract: Contract, span: Split, now: datetime
) -> tuple[list[dict[str, Any]], ContractImpact]:
    """Per-term rows (minutes/requests lost against the month's allowance) and the credit moved."""
    month = period_containing(span.start, contract.timezone)
    month_data = reader.read_contract(contract, month, now)
    a = max(_ts(span.start), _ts(month.start))
    m = min(_ts(span.measured_until), _ts(month.end))
    end = min(_ts(span.end), _ts(month.end))
    rows: list[dict[str, Any]] = []
    facts: dict[str, SliceFacts | RequestTermFacts] = {}
    for term in contract.terms:
        row: dict[str, Any] = {"contract": contract.contract_id, "customer": contract.customer_id,
                               "term": term.name, "type": term.type, "period": month.name}
        measured = month_data.measurements[term.name]
        if isinstance(measured, SliceFacts):
            size = measured.slice_seconds
            m0 = _ts(month.start)
            s0 = m0 + ((a - m0) // size) * size  # slices aligned as in the monthly evaluation
            s1 = s0 + -(-(end - s0) // size) * size
            with_projection = facts_with_projection(measured, span, month)
            lost = sla_minutes_lost(term, with_projection, datetime.fromtimestamp(s0, UTC),
                                    datetime.fromtimestamp(s1, UTC), month_data.plan)
            ratios = [v for s, v in with_projection.good.items() if s0 <= s < s1]
            row |= uptime_term_row(term, month, lost, 1.0 - min(ratios, default=1.0))
            facts[term.name] = measured
        else:
            assert isinstance(measured, RequestCounts)
            bad, total = reader.sli_counts(term.sli, a, m, f"term {term.name!r} interval")
            excluded_bad = 0.0
            for iv in month_data.plan.exclusions:
                lo, hi = max(_ts(iv.start), a), min(_ts(iv.end), m)
                if hi > lo:
                    excluded_bad += reader.sli_counts(term.sli, lo, hi, f"term {term.name!r} maintenance")[0]
            interval = Counts(bad, total)
            facts[term.name] = RequestTermFacts(measured, interval, excluded_bad)
            # The projected part counts in both the interval and the month.
            p = project(interval, max(m - a, 0.0), max(end - m, 0.0))
            row |= request_term_row(term, bad + p.bad, measured.total + p.total)
        rows.append(row)
    return rows, contract_impact(contract, month, span, facts, now)


def measure_impact(
    reader: SLAReader,
    objectives: Sequence[Objective],
    contracts: Sequence[Contract],
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The ``sloguard impact -o json`` object for ``[start, end)``, measured up to ``now``."""
    span = split(start, end, now)
    slos = [read_slo(reader, o, span) for o in objectives]
    terms: list[dict[str, Any]] = []
    moved: list[ContractImpact] = []
    for c in contracts:
        rows, impact = read_contract(reader, c, span, now)
        terms += rows
        moved.append(impact)
    return report(span, slos, terms, moved)


"""Budget spent by cause: rollouts and maintenance windows -> intervals -> bad events -> fractions.

The orchestration behind ``status.budget.byCause`` (the budget loop), ``sloguard budget`` and the
period reports. Every figure is computed by :mod:`sloguard.core.causes`; this module reads:

* rollouts through the :class:`~.ports.Rollouts` port (ReplicaSets, ControllerRevisions);
* maintenance windows from the SLO's spec and, through :class:`~.ports.ContractMaintenance`, from
  the SLAContracts listing its service in ``spec.services``;
* bad events per interval through :class:`~.ports.IntervalCounts` (the counts ``sloguard impact``
  uses: counter differences, exact on Prometheus 2, 3 and VictoriaMetrics).

Past intervals never change, so their counts are kept (:class:`BadEventCache`): a refresh only
reads the interval that touches ``now`` (and one clipped at a rolling window's start). A failure
to read rollouts, contracts or counts leaves ``byCause`` unknown (:attr:`CauseResult.error`),
never the rest of the budget.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..core.budget import BudgetStatus, budget_denominator
from ..core.causes import ByCause, CauseIntervals, Interval, Maintenance, cause_intervals, fractions
from ..core.model import Objective
from ..core.report import SLOPeriodReport, budget_events
from .ports import ContractMaintenance, IntervalCounts, Rollouts

__all__ = ["BadEventCache", "CauseBook", "CauseResult", "bad_events", "intervals_for", "measure_causes",
           "period_by_cause"]

#: Counts of intervals that ended at least this long ago are kept: samples scraped or
#: remote-written late can still change a count just after an interval ends.
CLOSED_AFTER_SECONDS = 300
#: Intervals kept (LRU): a few per SLO and window for thousands of SLOs.
CACHE_LIMIT = 50_000


def _ts(t: datetime) -> float:
    return t.astimezone(UTC).timestamp()


@dataclass
class BadEventCache:
    """Bad events of closed intervals by (SLO, SLI, start, end); bounded, least recently used out.

    Thread-safe: the budget loop splits SLOs in a pool.
    """

    limit: int = CACHE_LIMIT
    closed_after: float = CLOSED_AFTER_SECONDS
    _counts: OrderedDict[Hashable, float] = field(default_factory=OrderedDict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    #: Intervals read from the metrics server so far (for tests and benchmarks).
    reads: int = field(default=0, init=False)

    def __len__(self) -> int:
        return len(self._counts)

    def bad(self, counts: IntervalCounts, slo: Objective, interval: Interval, now: datetime) -> float:
        start, end = _ts(interval[0]), _ts(interval[1])
        key = (slo.key, slo.sli, start, end)
        with self._lock:
            if key in self._counts:
                self._counts.move_to_end(key)
                return self._counts[key]
        bad, _ = counts.sli_counts(slo.sli, start, end, f"SLO {slo.key} bad events by cause")
        with self._lock:
            self.reads += 1
            if end <= _ts(now) - self.closed_after:
                self._counts[key] = bad
                while len(self._counts) > self.limit:
                    self._counts.popitem(last=False)
        return bad


@dataclass(frozen=True)
class CauseResult:
    """The split of one SLO's consumed budget, or why it is unknown.

    ``by_cause``: None when unknown (budget unknown, Timeslices, or a read failed: ``error``).
    ``notes``: what the split could not see, for people (e.g. rollouts not read).
    """

    by_cause: ByCause | None
    intervals: CauseIntervals | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()


def intervals_for(slo: Objective, rollouts: Rollouts | None, contracts: ContractMaintenance | None,
                  start: datetime, end: datetime) -> tuple[CauseIntervals, tuple[str, ...]]:
    """The cause intervals of ``slo`` inside ``[start, end)`` and notes on what was not read.

    Raises whatever the ports raise (the caller decides what a failure means).
    """
    notes: list[str] = []
    maintenance: list[Maintenance] = list(slo.causes.maintenance)
    if contracts is not None:
        maintenance += contracts.maintenance(slo.namespace, slo.service)
    settle = slo.causes.release_settle_seconds
    found = []
    if rollouts is not None:
        since = start - timedelta(seconds=settle)
        found = rollouts.rollouts(slo.namespace, slo.name, slo.causes.workloads, since)
    elif slo.causes.workloads:
        notes.append("spec.workloads is set but rollouts are not read (no cluster, or the operator's "
                     "policies feature is off): releases count as 0")
    return cause_intervals(found, settle, maintenance, start, end), tuple(notes)


def bad_events(counts: IntervalCounts, cache: BadEventCache | None, slo: Objective, intervals: CauseIntervals,
               now: datetime) -> dict[str, float]:
    """Bad events per cause in ``intervals`` (closed intervals from ``cache`` when given)."""
    out: dict[str, float] = {}
    for cause, spans in intervals.items():
        if cache is not None:
            out[cause] = sum(cache.bad(counts, slo, iv, now) for iv in spans)
        else:
            out[cause] = sum(counts.sli_counts(slo.sli, _ts(a), _ts(b), f"SLO {slo.key} {cause}")[0]
                             for a, b in spans)
    return out


def measure_causes(slo: Objective, status: BudgetStatus, counts: IntervalCounts, cache: BadEventCache | None,
                   rollouts: Rollouts | None, contracts: ContractMaintenance | None,
                   last: ByCause | None = None) -> CauseResult:
    """``status.consumed`` split into releases, maintenance and incidents at ``status.evaluated_at``.

    A stale status (Prometheus unreachable) keeps ``last``, as its figures are kept. Never raises:
    a failure to read is :attr:`CauseResult.error`.
    """
    if status.stale:
        return CauseResult(last)
    if status.consumed is None:
        return CauseResult(None)
    if slo.budgeting_method == "Timeslices":
        return CauseResult(None, notes=("Timeslices budgets count slices, not events: no split by cause",))
    now = status.evaluated_at
    start, _ = slo.window.bounds(now)
    try:
        intervals, notes = intervals_for(slo, rollouts, contracts, start, now)
        bad = bad_events(counts, cache, slo, intervals, now)
    except Exception as e:  # noqa: BLE001 — any failure of the split leaves only byCause unknown
        return CauseResult(None, error=f"budget by cause unknown: {type(e).__name__}: {e}")
    denominator = budget_denominator(slo, status.total, now)
    return CauseResult(fractions(status.consumed, bad, denominator), intervals, notes=notes)



@dataclass
class CauseBook:
    """What the budget loop keeps between refreshes: the counts of closed intervals and each SLO's
    last split (kept, like the other figures, while Prometheus is unreachable). Thread-safe."""

    cache: BadEventCache = field(default_factory=BadEventCache)
    last: dict[str, ByCause] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def split(self, slo: Objective, status: BudgetStatus, counts: IntervalCounts, rollouts: Rollouts | None,
              contracts: ContractMaintenance | None) -> CauseResult:
        """:func:`measure_causes` with the cache, remembering the result."""
        with self._lock:
            last = self.last.get(slo.key)
        result = measure_causes(slo, status, counts, self.cache, rollouts, contracts, last)
        with self._lock:
            if result.by_cause is None:
                self.last.pop(slo.key, None)
            else:
                self.last[slo.key] = result.by_cause
        return result

    def forget(self, key: str) -> None:
        """An SLO is gone."""
        with self._lock:
            self.last.pop(key, None)


def period_by_cause(report: SLOPeriodReport, slo: Objective, counts: IntervalCounts, rollouts: Rollouts | None,
                    contracts: ContractMaintenance | None, now: datetime) -> CauseResult:
    """The period report's ``budgetConsumed`` split by cause, over the hours the report measured
    (whole hours of the period ended by ``now``) and its denominator (``B x the period's events``).

    Never raises: a failure to read is :attr:`CauseResult.error`.
    """
    if report.budget_consumed is None:
        return CauseResult(None)
    period = report.period
    hours = int((min(_ts(period.end), _ts(now)) - _ts(period.start)) // 3600)
    until = period.start + timedelta(hours=max(hours, 0))
    try:
        intervals, notes = intervals_for(slo, rollouts, contracts, period.start, until)
        bad = bad_events(counts, None, slo, intervals, until)
    except Exception as e:  # noqa: BLE001 — any failure of the split leaves only byCause unknown
        return CauseResult(None, error=f"budget by cause unknown: {type(e).__name__}: {e}")
    allowed = budget_events(report.counts, report.objective)
    return CauseResult(fractions(report.budget_consumed, bad, allowed), intervals, notes=notes)

"""Reading a contract's month from Prometheus: per-slice facts and request totals.

Two kinds of measurement feed :mod:`sloguard.core.sla`:

* **uptime** terms: one ``query_range`` (in chunks of at most 10,000 steps, under Prometheus'
  11,000-points limit) of the slice's good ratio ``1 - errors / (total > 0)``, built by
  :func:`sloguard.core.sli.queries` for the slice window, with step = the slice.
* **latency / availability** terms: instant queries of ``errors * D`` and ``total * D`` (the
  rates over ``D`` seconds times ``D``: bad and total counts, or bad and measured seconds for
  time-based SLIs) over the month, and the same over each excluded maintenance interval, which
  the core subtracts.

Counter SLIs (``ratio``, ``latency``) are counted as differences of the counters at both ends
(:func:`sloguard.adapters.prometheus.plan.event_counts`: ``x - x offset d``), exact whether the
server treats ranges as closed (Prometheus 2), left-open (Prometheus 3, where ``increase`` would
miss the first sample interval of every slice and exclusion) or as VictoriaMetrics does;
``ratioQuery`` templates are read with their own ranges. Gauges (time-based SLIs) are evaluated
one millisecond before the end of a slice or interval, so a range ``[w]`` covers ``[start, end)``
whether the server treats ranges as closed (Prometheus 2) or left-open (Prometheus 3): a sample on
a boundary belongs to the slice it starts. Counters are evaluated at the end itself, since their
sample at ``t`` counts the events before ``t``.

Queries go through the one :class:`~.client.PrometheusClient`; errors are its own
(:mod:`.errors`): :class:`~.errors.PrometheusUnavailable` when the server cannot be read (the
operator's ``PrometheusReachable`` condition), :class:`~.errors.PrometheusQueryError` naming the
figure whose query was refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from ...core.model import SLI
from ...core.sla import (
    Contract,
    Interval,
    MaintenancePlan,
    Measurement,
    Period,
    RequestCounts,
    SliceFacts,
    Term,
    assess_maintenance,
)
from ...core.sli import is_time_based, queries
from .client import MAX_RANGE_STEPS, PrometheusClient
from .errors import PrometheusQueryError
from .plan import event_counts
from .settings import PrometheusSettings, settings_for

#: Time-based SLIs (gauges) are evaluated this long before a boundary so ``[w]`` covers
#: ``[start, end)``.
_EDGE = 0.001


def _edge(term: Term) -> float:
    """How long before a slice's end to evaluate it.

    A gauge sample at ``t`` describes the minute starting at ``t``: evaluating 1ms early keeps a
    sample on the end boundary out. A counter sample at ``t`` counts what happened *before*
    ``t``: evaluating exactly at the end makes ``increase`` over ``[w]`` the difference of the
    samples on both boundaries (Prometheus 2) or extrapolates over one interval (Prometheus 3).
    """
    return _EDGE if is_time_based(term.sli) else 0.0


@dataclass(frozen=True)
class MonthMeasurements:
    """What the reader found for one contract and period."""

    plan: MaintenancePlan
    measurements: dict[str, Measurement]
    until: datetime


def _ts(t: datetime) -> float:
    return t.astimezone(UTC).timestamp()


def _fmt(t: float) -> str:
    return f"{t:.3f}"


class SLAReader:
    """Reads what :func:`sloguard.core.sla.evaluate_contract` needs from one Prometheus."""

    def __init__(self, prometheus: PrometheusClient | PrometheusSettings | str, timeout: float | None = None) -> None:
        """Over a client, or a new one from settings or a bare URL (``timeout`` overrides theirs).

        Raises :class:`~.errors.PrometheusSettingsError` for a bad URL or settings.
        """
        if not isinstance(prometheus, PrometheusClient):
            settings = settings_for(prometheus) if timeout is None else settings_for(prometheus, timeout=timeout)
            prometheus = PrometheusClient(settings)
        self.client = prometheus

    # --- low level -----------------------------------------------------------------------------

    def instant(self, expr: str, at: float, what: str) -> float | None:
        """The single value of ``expr`` at ``at`` (Unix seconds); None when it has no sample."""
        result = self.client.query(expr, at, what=what)
        if not result:
            return None
        if len(result) > 1:
            raise PrometheusQueryError(f"{what}: expected one series, got {len(result)} from {expr}")
        return result[0].points[-1][1]

    def range_values(self, expr: str, first: float, last: float, step: int, what: str) -> dict[float, float]:
        """``{evaluation time: value}`` for ``expr`` from ``first`` to ``last`` every ``step`` s."""
        out: dict[float, float] = {}
        chunk = step * (MAX_RANGE_STEPS - 1)
        start = first
        while start <= last + 1e-6:
            end = min(start + chunk, last)
            result = self.client.query_range(expr, start, end, step, what=what)
            if len(result) > 1:
                raise PrometheusQueryError(f"{what}: expected one series, got {len(result)} from {expr}")
            for series in result:
                for t, v in series.points:
                    out[t] = v
            start = end + step
        return out

    # --- per term ------------------------------------------------------------------------------

    def slice_facts(self, term: Term, period: Period, until: datetime | None = None) -> SliceFacts:
        """Good ratio of every slice of ``term`` in ``period`` that has ended by ``until``."""
        size = term.slice.seconds
        exact = event_counts(term.sli, size)  # a slice: minutes, no resets() pass needed
        if exact is not None:
            errors, total = exact
        else:
            q = queries(term.sli, term.slice.window)
            errors, total = q.errors, q.total
        expr = f"1 - ({errors}) / (({total}) > 0)"
        p0 = _ts(period.start)
        p1 = min(_ts(period.end), _ts(until)) if until is not None else _ts(period.end)
        n = int((p1 - p0) // size)
        if n <= 0:
            return SliceFacts(size, {})
        edge = _edge(term)
        first = p0 + size - edge
        last = p0 + n * size - edge
        values = self.range_values(expr, first, last, size, f"term {term.name!r} slices")
        good: dict[int, float] = {}
        for t, v in values.items():
            start = round(t + edge) - size
            if v == v:  # NaN: a slice with data but no valid ratio counts as no data
                good[start] = min(max(v, 0.0), 1.0)
        return SliceFacts(size, good)

    def _counts(self, term: Term, start: float, end: float) -> tuple[float, float]:
        return self.sli_counts(term.sli, start, end, f"term {term.name!r}")

    def sli_counts(self, sli: SLI, start: float, end: float, what: str) -> tuple[float, float]:
        """Bad and total events (or bad and measured seconds, for time-based SLIs) in [start, end)."""
        seconds = int(round(end - start))
        if seconds <= 0:
            return 0.0, 0.0
        at = end - (_EDGE if is_time_based(sli) else 0.0)
        what = f"{what} from {_fmt(start)} to {_fmt(end)}"
        exact = event_counts(sli, seconds, resets=True)  # a month: a restart may be outgrown
        if exact is not None:  # counts already
            bad = self.instant(exact[0], at, what)
            total = self.instant(exact[1], at, what)
        else:
            q = queries(sli, f"{seconds}s")
            bad = self.instant(f"({q.errors}) * {seconds}", at, what)
            total = self.instant(f"({q.total}) * {seconds}", at, what)
        return bad or 0.0, total or 0.0

    def worst_error_ratio(self, sli: SLI, start: float, end: float, what: str) -> float | None:
        """The highest 5-minute error ratio seen in [start, end), sampled every minute."""
        seconds = int(round(end - start))
        if seconds <= 0:
            return None
        q = queries(sli, "5m")
        expr = f"max_over_time(({q.errors} / ({q.total} > 0))[{seconds}s:1m])"
        return self.instant(expr, end - (_EDGE if is_time_based(sli) else 0.0), what)

    def request_counts(
        self, term: Term, period: Period, exclusions: Iterable[Interval], until: datetime | None = None
    ) -> RequestCounts:
        """Bad and total over the period (to ``until``) and over the excluded intervals."""
        p0 = _ts(period.start)
        p1 = min(_ts(period.end), _ts(until)) if until is not None else _ts(period.end)
        bad, total = self._counts(term, p0, p1)
        ex_bad = ex_total = 0.0
        for iv in exclusions:
            a, b = max(_ts(iv.start), p0), min(_ts(iv.end), p1)
            if b > a:
                eb, et = self._counts(term, a, b)
                ex_bad += eb
                ex_total += et
        return RequestCounts(bad, total, ex_bad, ex_total)

    def read_contract(self, contract: Contract, period: Period, now: datetime | None = None) -> MonthMeasurements:
        """Everything :func:`~sloguard.core.sla.evaluate_contract` needs for ``period``."""
        until = period.end if now is None or _ts(now) >= _ts(period.end) else now
        plan = assess_maintenance(contract.maintenance, contract.minimum_notice_seconds, period)
        measurements: dict[str, Measurement] = {}
        for term in contract.terms:
            if term.type == "uptime":
                measurements[term.name] = self.slice_facts(term, period, until)
            else:
                measurements[term.name] = self.request_counts(term, period, plan.exclusions, until)
        return MonthMeasurements(plan, measurements, until)

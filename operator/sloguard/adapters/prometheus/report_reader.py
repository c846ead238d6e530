"""Reading what :func:`sloguard.core.report.period_report` needs from one Prometheus.

Two kinds of reads, both through :class:`~.sla_reader.SLAReader` (the reader of period figures):

* the period's **hours**: one ``query_range`` each for bad and total events over ``1h``, one step
  per hour, evaluated at each hour's end (counters: the difference of the counters at both ends,
  exact on Prometheus 2, 3 and VictoriaMetrics; gauges: 1 ms before the end, so an hour is
  ``[start, end)``);
* each earlier **period** of the trend: bad and total over the whole period (instant queries).

Nothing after ``now`` is read: a period still running is measured up to the last whole hour.
Every figure is computed by the core.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ...core.model import Objective
from ...core.report import TREND_PERIODS, Counts, HourCounts, ReportPeriod, SLOPeriodReport, period_report
from ...core.sli import is_time_based, queries
from .plan import event_counts
from .sla_reader import SLAReader

HOUR = 3600
_EDGE = 0.001


def _ts(t: datetime) -> float:
    return t.astimezone(UTC).timestamp()


def read_hours(reader: SLAReader, slo: Objective, period: ReportPeriod, now: datetime) -> list[HourCounts]:
    """Bad and total events of every whole hour of ``period`` that ended by ``now``."""
    last_end = min(_ts(period.end), _ts(now))
    n = int((last_end - _ts(period.start)) // HOUR)
    if n <= 0:
        return []
    exact = event_counts(slo.sli, HOUR)
    if exact is not None:
        bad_expr, total_expr = exact
    else:
        q = queries(slo.sli, "1h")
        bad_expr, total_expr = f"({q.errors}) * {HOUR}", f"({q.total}) * {HOUR}"
    edge = _EDGE if is_time_based(slo.sli) else 0.0
    first = _ts(period.start) + HOUR - edge
    last = _ts(period.start) + n * HOUR - edge
    what = f"SLO {slo.key} hours of {period.label}"
    # keyed by the hour's index: the server's timestamps carry milliseconds, ours float arithmetic
    bad = {round((t - first) / HOUR): v for t, v in reader.range_values(bad_expr, first, last, HOUR,
                                                                         f"{what} (bad)").items()}
    total = {round((t - first) / HOUR): v for t, v in reader.range_values(total_expr, first, last, HOUR,
                                                                           f"{what} (total)").items()}
    return [HourCounts(period.start + timedelta(hours=i), Counts(bad.get(i, 0.0), total.get(i, 0.0)))
            for i in range(n)]


def read_report(reader: SLAReader, slo: Objective, period: ReportPeriod, now: datetime,
                trend_periods: int = TREND_PERIODS) -> SLOPeriodReport:
    """The SLO's report for ``period`` with the ``trend_periods`` periods before it."""
    trend: list[tuple[ReportPeriod, Counts]] = []
    earlier = period
    for _ in range(trend_periods):
        earlier = earlier.previous()
        bad, total = reader.sli_counts(slo.sli, _ts(earlier.start), _ts(earlier.end),
                                       f"SLO {slo.key} period {earlier.label}")
        trend.append((earlier, Counts(bad, total)))
    return period_report(namespace=slo.namespace, name=slo.name, service=slo.service, objective=slo.objective,
                         period=period, hours=read_hours(reader, slo, period, now), trend=trend)

"""Finalized month reports of an SLO: one immutable ConfigMap per SLO and calendar month.

:func:`finalize_month` takes the SLO (parsed), its status as read, ``now`` and the ports, and
returns what to write to ``status`` (``lastReport`` and the ``ReportFinalized`` condition). On
the way it

1. picks the month due: the last calendar month (in the SLO's timezone) that ended at least
   ``grace_seconds`` ago, so late samples are in;
2. stops there when that month's ConfigMap exists (written before a restart, by another
   replica, or before the SLO was deleted and re-created): reports are never rewritten;
3. otherwise reads the month's report (the same figures ``sloguard report --period YYYY-MM``
   prints) and creates its ConfigMap; losing a creation race to another writer is fine, that
   report stands.

Nothing is finalized from missing data: when Prometheus cannot be read, or the month had no
traffic at all (an SLI that matches nothing, or metrics past retention), no ConfigMap is
written, the condition says why (one Warning Event when it turns so), and the next pass tries
again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..adapters.report_history import HistoryExists, report_config_map, report_config_map_name
from ..adapters.slo_report import render_markdown, to_json
from ..core import conventions as c
from ..core.conditions import get_condition, set_condition
from ..core.model import Objective
from ..core.report import ReportPeriod, period_containing
from .ports import Events, MetricsError, MetricsUnavailable, ReportMetrics, ReportStore


@dataclass(frozen=True)
class ReportPorts:
    """What a pass reaches outside itself."""

    store: ReportStore
    metrics: ReportMetrics
    events: Events


@dataclass(frozen=True)
class ReportResult:
    """The month due, its ConfigMap when stored (now or before), and the status fields to apply."""

    period: str
    config_map: str | None  # None: not stored yet (``problem`` says why)
    created: bool  # this pass created the ConfigMap
    status: dict[str, Any]  # lastReport (when known) and the ReportFinalized condition
    changed: bool  # ``status`` differs from what the SLO shows
    problem: str | None = None


def month_due(now: datetime, timezone: str, grace_seconds: int) -> ReportPeriod:
    """The last calendar month of ``timezone`` that ended at least ``grace_seconds`` before ``now``."""
    return period_containing("month", now - timedelta(seconds=grace_seconds), timezone).previous()


def finalize_month(slo: Objective, status: Mapping[str, Any], now: datetime, ports: ReportPorts,
                   grace_seconds: int, generation: int | None = None) -> ReportResult:
    """One pass over one SLO (see the module docstring)."""
    period = month_due(now, slo.window.timezone, grace_seconds)
    name = report_config_map_name(slo.name, period.label)
    created, problem, reason = False, None, "Stored"
    if not ports.store.exists(slo.namespace, name):
        try:
            created = _create(slo, period, now, ports)
        except MetricsUnavailable as e:
            problem, reason = f"cannot finalize the report of {period.label} yet: {e}", "PrometheusUnreachable"
        except MetricsError as e:
            problem, reason = f"cannot finalize the report of {period.label} yet: {e}", "QueryFailed"
        except _NoData as e:
            problem, reason = str(e), "NoData"
    stored = name if problem is None else None
    message = (f"{period.label} is in ConfigMap {name}" if problem is None
               else f"{problem}; will try again")
    conditions = list(status.get("conditions") or [])
    before = get_condition(conditions, c.COND_REPORT_FINALIZED) or {}
    mine = get_condition(set_condition(conditions, c.COND_REPORT_FINALIZED, problem is None, reason, message, now,
                                       generation), c.COND_REPORT_FINALIZED)
    assert mine is not None
    if problem is not None and (before.get("status"), before.get("reason")) != ("False", reason):
        ports.events.post("Warning", c.EVENT_REPORT_PENDING, message)
    last = {"period": period.label, "configMap": stored} if stored else status.get("lastReport")
    out: dict[str, Any] = {"conditions": [mine]}
    if last:
        out["lastReport"] = dict(last)
    changed = last != status.get("lastReport") or any(before.get(k) != mine.get(k) for k in
                                                      ("status", "reason", "message"))
    return ReportResult(period.label, stored, created, out, changed, problem)


class _NoData(RuntimeError):
    """The month had no traffic at all: nothing to finalize (yet)."""


def _create(slo: Objective, period: ReportPeriod, now: datetime, ports: ReportPorts) -> bool:
    """Read and store the month's report; False when another writer stored it first."""
    report = ports.metrics.read_report(slo, period, now)
    if report.counts.total <= 0:
        raise _NoData(f"no traffic measured for {period.label}: the report is not finalized (check the SLI's "
                      "queries and Prometheus retention)")
    body = report_config_map(namespace=slo.namespace, slo=slo.name, period=period.label,
                             document=to_json(period, [report], now),
                             markdown=render_markdown(period, [report], now), finalized_at=now)
    try:
        ports.store.create(body)
    except HistoryExists:
        return False
    attained = "n/a" if report.attainment is None else f"{report.attainment * 100:.3f}%"
    consumed = "n/a" if report.budget_consumed is None else f"{report.budget_consumed * 100:.1f}%"
    ports.events.post("Normal", c.EVENT_REPORT_FINALIZED,
                      f"{period.label} report stored in ConfigMap {body['metadata']['name']}: attainment "
                      f"{attained} (objective {slo.objective * 100:g}%), {consumed} of the budget consumed")
    return True

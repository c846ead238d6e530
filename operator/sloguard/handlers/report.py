"""SLO month reports: kopf glue around :func:`sloguard.services.report.finalize_month`.

One loop for all SLOs (like the budget refresh), started only when a Prometheus URL is set and
``--slo-reports`` / ``SLOGUARD_SLO_REPORTS`` is on (the default); with several replicas it runs
only where the budget refresh runs (:mod:`.leadership`). Every refresh interval it lists
the SLOs and, for each whose last complete month (in its timezone, plus the SLA's grace period)
is not known to be stored yet, lets the service check for that month's ConfigMap and create it.
Months known stored are remembered in memory, so the steady state costs one LIST per pass; after
a restart each SLO's ConfigMap is looked up once (a GET) and created when missing. A month that
cannot be stored yet (Prometheus down, no data) is tried again every ``RETRY_SECONDS``. Status
(``lastReport`` and the ``ReportFinalized`` condition) is server-side applied as field manager
``sloguard-report``, so it never drops the rules' or the budget loop's fields.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import kopf

from ..adapters.contracts import KubeContractMaintenance
from ..adapters.kube import Kube, KubeError
from ..adapters.prometheus import SLAReader, read_report
from ..adapters.report_history import ReportHistory
from ..api.loader import validate_slo_body
from ..core import conventions as c
from ..core.model import Objective
from ..core.report import ReportPeriod, SLOPeriodReport
from ..core.sla import DEFAULT_FINALIZE_GRACE
from ..core.windows import parse_duration
from ..services.causes import period_by_cause
from ..services.ports import MetricsError, ReportMetrics, Rollouts
from ..services.report import ReportPorts, finalize_month, month_due
from .context import Context, context
from .leadership import leadership

#: Field manager of the status fields the report loop owns.
STATUS_MANAGER = "sloguard-report"
#: Months are finalized this long after they end, so late samples are in (as for SLA history).
GRACE_SECONDS = parse_duration(DEFAULT_FINALIZE_GRACE)
#: A month that could not be stored (Prometheus down, no data) is tried again at most this often.
RETRY_SECONDS = 300.0


@dataclass(frozen=True)
class PrometheusReports:
    """The service's ReportMetrics port: :func:`read_report` over the one period client, budget
    split by cause with the context's rollouts and the contracts' maintenance (``services.causes``)."""

    reader: SLAReader
    rollouts: Rollouts | None = None
    kube: Kube | None = None

    def read_report(self, slo: Objective, period: ReportPeriod, now: datetime) -> SLOPeriodReport:
        """The report with ``byCause``; a split that cannot be read fails the read (a finalized
        report is immutable: the month is tried again rather than stored without its causes)."""
        report = read_report(self.reader, slo, period, now)
        contracts = KubeContractMaintenance(self.kube) if self.kube is not None else None
        split = period_by_cause(report, slo, self.reader, self.rollouts, contracts, now)
        if split.error:
            raise MetricsError(split.error)
        return report if split.by_cause is None else replace(report, by_cause=split.by_cause.to_dict(10))


@kopf.on.startup()
async def start_report_loop(memo: Any, logger: logging.Logger | logging.LoggerAdapter[Any], **_: Any) -> None:
    ctx = context(memo)
    if not ctx.settings.prometheus_url:
        logger.info("no --prometheus given: SLO month reports are not finalized")
        return
    metrics = PrometheusReports(SLAReader(ctx.settings.prometheus), ctx.rollouts,
                                ctx.kube if ctx.settings.sla else None)
    ctx.report_task = asyncio.create_task(_loop(ctx, metrics, logger))


@kopf.on.cleanup()
async def stop_report_loop(memo: Any, **_: Any) -> None:
    ctx = context(memo)
    task, ctx.report_task = ctx.report_task, None
    if task is not None:
        task.cancel()


async def _loop(ctx: Context, metrics: PrometheusReports, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
    known = Known()
    while True:
        try:
            await report_cycle(ctx, metrics, known, logger)
        except Exception as e:  # noqa: BLE001 — the loop must survive anything and say why
            logger.exception(f"SLO report pass failed: {e}")
        await asyncio.sleep(ctx.settings.refresh_interval)


async def report_cycle(ctx: Context, metrics: ReportMetrics, known: Known,
                       logger: logging.Logger | logging.LoggerAdapter[Any]) -> int | None:
    """A pass where the budget refresh runs (:mod:`.leadership`): with several replicas only
    one writes reports. Returns the ConfigMaps created, None on a standby."""
    if not await leadership(ctx).leads(ctx.kube, logger):
        return None
    return await asyncio.to_thread(report_pass, ctx, metrics, known, logger)


@dataclass
class Known:
    """What earlier passes learned, by (SLO uid, month): stored for good, or pending since when."""

    stored: set[tuple[str, str]] = field(default_factory=set)
    pending: dict[tuple[str, str], float] = field(default_factory=dict)

    def due(self, key: tuple[str, str], clock: float) -> bool:
        return key not in self.stored and clock - self.pending.get(key, -RETRY_SECONDS) >= RETRY_SECONDS


def _month_key(body: Mapping[str, Any], now: datetime) -> tuple[str, str] | None:
    """(SLO uid, the month due in its timezone); None for an unknown timezone (the rules reconcile
    reports the invalid spec)."""
    timezone = (body.get("spec") or {}).get("timezone") or "UTC"
    try:
        return str(body["metadata"].get("uid")), month_due(now, timezone, GRACE_SECONDS).label
    except (KeyError, ValueError):
        return None


def report_pass(ctx: Context, metrics: ReportMetrics, known: Known,
                logger: logging.Logger | logging.LoggerAdapter[Any]) -> int:
    """One pass over every SLO whose month is not known to be stored (nor tried in the last
    :data:`RETRY_SECONDS`). Returns the ConfigMaps created."""
    now, clock = ctx.settings.now(), time.monotonic()
    store, created = ReportHistory(ctx.kube), 0
    for namespace in ctx.settings.namespaces or (None,):
        for body in ctx.kube.list(c.API_VERSION, c.KIND_SLO, namespace):
            meta = body["metadata"]
            key = _month_key(body, now)
            if key is None or not known.due(key, clock):
                continue
            slo, _ = validate_slo_body(body)
            if slo is None:
                continue
            try:
                result = finalize_month(slo, body.get("status") or {}, now,
                                        ReportPorts(store, metrics, ctx.events.about(body)), GRACE_SECONDS,
                                        meta.get("generation"))
                if result.changed:
                    ctx.kube.apply_status(c.API_VERSION, c.KIND_SLO, slo.name, slo.namespace, result.status,
                                          STATUS_MANAGER)
            except KubeError as e:
                if e.status != 404:  # deleted meanwhile: nothing to do
                    logger.warning(f"SLO report of {slo.key}: {e}")
                continue
            if result.config_map:
                known.stored.add(key)
                known.pending.pop(key, None)
            else:
                known.pending[key] = clock
            created += result.created
            if result.problem:
                logger.info(f"SLO report of {slo.key}: {result.problem}")
            logger.debug(f"SLO report pass for {slo.key} done: {result.period} "
                         f"{'created' if result.created else 'stored' if result.config_map else 'pending'}")
    return created

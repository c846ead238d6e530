"""``sloguard report``: how each SLO did over a calendar month, ISO week or quarter.

    sloguard report --prometheus URL --period 2026-11|2026-W47|2026-Q4 [--timezone TZ]
                    [--at TIME] [-o json|yaml|markdown|html] FILE|DIR|-...|--from-cluster

Per SLO: attainment against the objective, budget consumed, the ten worst hours, the trend over
the three periods before, and hints (relax or invest when the budget keeps running out, tighten
when it is never spent); see :mod:`sloguard.core.report` for every definition and
:mod:`sloguard.adapters.slo_report` for the JSON contract. Exit status (docs/cli.md): 0 report
printed; 1 invalid or no SLOs; 2 bad arguments (period, time, timezone, connection settings); 3
Prometheus or the API server could not answer.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..adapters.prometheus import PrometheusError, SLAReader, add_arguments, read_report
from ..adapters.slo_report import render_html, render_markdown, to_json
from ..core.model import Objective
from ..core.report import PeriodError, ReportPeriod, SLOPeriodReport, parse_period, period_containing
from ..services.causes import period_by_cause
from ..services.ports import ContractMaintenance, Rollouts
from .cluster import cluster_contracts, cluster_rollouts, declared_from_cluster
from .common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    add_cluster_arguments,
    add_output_argument,
    add_paths_argument,
    dumps,
    prometheus_failure,
    prometheus_settings,
    read_objectives,
)

FORMATS = ("json", "yaml", "markdown", "html")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("report", help="period report of SLOs: attainment, budget, worst hours, trend, hints",
                       description="How each SLO did over a calendar period, read from Prometheus.")
    add_arguments(p, url_help="Prometheus base URL, e.g. http://localhost:9090")
    p.add_argument("--period", metavar="PERIOD",
                   help="2026-11 (month), 2026-W47 (ISO week) or 2026-Q4 (default: the last complete month)")
    p.add_argument("--timezone", default="UTC", metavar="TZ", help="timezone of the period's bounds (default UTC)")
    p.add_argument("--at", metavar="TIME", help="report as of this RFC 3339 instant instead of now "
                   "(a period not yet over is then measured up to it)")
    add_output_argument(p, FORMATS, "json")
    add_cluster_arguments(p, "ServiceLevelObjectives")
    add_paths_argument(p, "ServiceLevelObjectives", optional=True)
    p.set_defaults(func=run)


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"sloguard report: {message}", file=sys.stderr)
    return code


def _period(args: argparse.Namespace, now: datetime) -> ReportPeriod:
    if args.period:
        return parse_period(args.period, args.timezone)
    return period_containing("month", now, args.timezone).previous()


def _timezone_known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _instant(at: str | None) -> datetime:
    """``--at`` (naive means UTC), else the clock; ValueError when it is not a time."""
    now = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _write(period: ReportPeriod, reports: list[SLOPeriodReport], now: datetime, output: str) -> None:
    if output in ("json", "yaml"):
        sys.stdout.write(dumps(to_json(period, reports, now), output))
    elif output == "markdown":
        print(render_markdown(period, reports, now), end="")
    else:
        print(render_html(period, reports, now))


def with_causes(report: SLOPeriodReport, slo: Objective, reader: SLAReader, now: datetime,
                contracts: ContractMaintenance | None = None, rollouts: Rollouts | None = None) -> SLOPeriodReport:
    """``byCause`` of the report: maintenance from the SLO's spec, and with ``--from-cluster`` from
    the live SLAContracts and rollouts from the workloads' revisions; without a cluster releases
    count as 0 (said on stderr)."""
    split = period_by_cause(report, slo, reader, rollouts, contracts, now)
    if split.error:
        print(f"sloguard report: {slo.key}: {split.error}", file=sys.stderr)
    if split.by_cause is None:
        return report
    if rollouts is None:
        print(f"sloguard report: {slo.key}: byCause: rollouts are read only with --from-cluster, releases count "
              "as 0", file=sys.stderr)
    return replace(report, by_cause=split.by_cause.to_dict(10))


def run(args: argparse.Namespace) -> int:
    if not _timezone_known(args.timezone):
        return _fail(f"--timezone {args.timezone!r} is not an IANA timezone like Europe/Paris")
    try:
        now = _instant(args.at)
    except ValueError:
        return _fail(f"--at {args.at!r} is not a time like 2026-11-15T12:00:00Z")
    try:
        period = _period(args, now)
    except PeriodError as e:
        return _fail(f"--period: {e}")
    if now <= period.start:
        return _fail(f"period {period.label} has not started yet")
    objectives = read_objectives(args)
    if objectives is None:
        return EXIT_FINDINGS
    settings = prometheus_settings("report", args)
    if settings is None:
        return EXIT_USAGE
    try:
        contracts, rollouts = cluster_contracts(args, now), cluster_rollouts(args)
        objectives = declared_from_cluster(objectives, args, now)
        reader = SLAReader(settings)
        reports = [with_causes(read_report(reader, slo, period, now), slo, reader, now, contracts, rollouts)
                   for slo in objectives]
    except PrometheusError as e:
        failure = prometheus_failure(e)
        return _fail(str(e), failure.code)
    _write(period, reports, now, args.output)
    return 0

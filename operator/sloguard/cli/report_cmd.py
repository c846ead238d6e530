"""``sloguard report``: how each SLO did over a calendar month, ISO week or quarter.

    sloguard report --prometheus URL --period 2026-11|2026-W47|2026-Q4 [--timezone TZ]
                    [--at TIME] [-o json|markdown|html] FILE|DIR|-...

Per SLO: attainment against the objective, budget consumed, the ten worst hours, the trend over
the three periods before, and hints (relax or invest when the budget keeps running out, tighten
when it is never spent); see :mod:`sloguard.core.report` for every definition and
:mod:`sloguard.adapters.slo_report` for the JSON contract. Exit status: 0 report printed, 1 bad
files or settings, 3 Prometheus could not answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..adapters.prometheus_client import add_arguments
from ..adapters.report_reader import read_report
from ..adapters.sla_reader import SLAReader, SLAReadError
from ..adapters.slo_report import render_html, render_markdown, to_json
from ..core.report import PeriodError, ReportPeriod, parse_period, period_containing
from .common import load_slos_or_none, prometheus_settings

FORMATS = ("json", "markdown", "html")
EXIT_UNREACHABLE = 3


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("report", help="period report of SLOs: attainment, budget, worst hours, trend, hints",
                       description="How each SLO did over a calendar period, read from Prometheus.")
    add_arguments(p, url_help="Prometheus base URL, e.g. http://localhost:9090")
    p.add_argument("--period", metavar="PERIOD",
                   help="2026-11 (month), 2026-W47 (ISO week) or 2026-Q4 (default: the last complete month)")
    p.add_argument("--timezone", default="UTC", metavar="TZ", help="timezone of the period's bounds (default UTC)")
    p.add_argument("--at", metavar="TIME", help="report as of this RFC 3339 instant instead of now "
                   "(a period not yet over is then measured up to it)")
    p.add_argument("-o", "--output", choices=FORMATS, default="json", help="output format (default json)")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR|-")
    p.set_defaults(func=run)


def _fail(message: str, code: int = 1) -> int:
    print(f"sloguard report: {message}", file=sys.stderr)
    return code


def _period(args: argparse.Namespace, now: datetime) -> ReportPeriod:
    if args.period:
        return parse_period(args.period, args.timezone)
    return period_containing("month", now, args.timezone).previous()


def run(args: argparse.Namespace) -> int:
    try:
        ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return _fail(f"--timezone {args.timezone!r} is not an IANA timezone like Europe/Paris")
    try:
        now = datetime.fromisoformat(args.at.replace("Z", "+00:00")) if args.at else datetime.now(UTC)
    except ValueError:
        return _fail(f"--at {args.at!r} is not a time like 2026-11-15T12:00:00Z")
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    try:
        period = _period(args, now)
    except PeriodError as e:
        return _fail(f"--period: {e}")
    if now <= period.start:
        return _fail(f"period {period.label} has not started yet")
    objectives = load_slos_or_none("report", args.paths)
    if objectives is None:
        return 1
    settings = prometheus_settings("report", args)
    if settings is None:
        return 1
    reader = SLAReader(settings)
    try:
        reports = [read_report(reader, slo, period, now) for slo in objectives]
    except SLAReadError as e:
        return _fail(str(e), EXIT_UNREACHABLE)
    if args.output == "json":
        print(json.dumps(to_json(period, reports, now), indent=2))
    elif args.output == "markdown":
        print(render_markdown(period, reports, now), end="")
    else:
        print(render_html(period, reports, now))
    return 0

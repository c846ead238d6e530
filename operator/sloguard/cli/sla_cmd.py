"""``sloguard sla evaluate``: a contract's month from Prometheus, as JSON or a customer report.

    sloguard sla evaluate --prometheus URL --period 2026-10 [-o json|markdown|html] FILE|DIR...

JSON is a contract with scripts and outside tests: one object per SLAContract (a list when the
files hold several)::

    {contract, customer, period, minutes, terms: [{name, type, objective, actual, compliant,
     downtimeMinutes, excludedMinutes, creditPercent, ...}], creditPercent, creditAmount, currency}

Markdown and HTML are reports a customer can read: summary, per-term actual vs objective with
variance, a daily downtime chart (text bars in Markdown, inline SVG in HTML), maintenance
windows and whether each was excluded, and credits. Exit status: 0 when every contract was
evaluated (breached or not), 1 when files, connection settings or Prometheus (unreachable, TLS,
credentials, tenant: one line naming the URL) made that impossible.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from ..adapters.prometheus_client import add_arguments
from ..adapters.sla_reader import SLAReader, SLAReadError
from ..adapters.sla_report import render_html, render_markdown
from ..api.sla_loader import load_contracts
from ..core.sla import (
    ContractResult,
    SLAError,
    evaluate_contract,
    month_period,
    period_containing,
    previous_period,
)
from .common import prometheus_settings, report

FORMATS = ("json", "markdown", "html")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sla", help="evaluate SLA contracts for a calendar month",
                       description="SLA contracts: compliance, exclusions and service credits per month.")
    ssub = p.add_subparsers(dest="sla_command", metavar="SUBCOMMAND")
    ssub.required = True
    e = ssub.add_parser("evaluate", help="evaluate contracts for one month from Prometheus",
                        description="Evaluate every SLAContract in the files for one calendar month (in "
                        "each contract's timezone) and print JSON or a customer report.")
    add_arguments(e, url_help="Prometheus base URL, e.g. http://localhost:9090")
    e.add_argument("--period", metavar="YYYY-MM", help="calendar month (default: the last complete month)")
    e.add_argument("--at", metavar="TIME", help="evaluate as of this RFC 3339 instant instead of now "
                   "(a month not yet over is then measured up to it)")
    e.add_argument("-o", "--output", choices=FORMATS, default="json", help="output format (default json)")
    e.add_argument("--contract", metavar="NAME", action="append",
                   help="only the contract with this metadata.name or contractId (repeatable)")
    e.add_argument("paths", nargs="+", metavar="FILE|DIR")
    e.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"sloguard sla evaluate: {message}", file=sys.stderr)
    return 1


def parse_instant(text: str) -> datetime:
    """RFC 3339 (``Z`` or an offset) or a date; naive values are taken as UTC."""
    t = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    stdin = sys.stdin.read() if "-" in args.paths else None
    contracts, diags = load_contracts(args.paths, stdin)
    if report(diags):
        return 1
    if args.contract:
        contracts = [c for c in contracts if c.name in args.contract or c.contract_id in args.contract]
    if not contracts:
        return _fail(f"no SLAContract found in {' '.join(args.paths)}")
    try:
        now = parse_instant(args.at) if args.at else datetime.now(UTC)
    except ValueError:
        return _fail(f"--at {args.at!r} is not a time like 2026-10-15T12:00:00Z")
    settings = prometheus_settings("sla evaluate", args)
    if settings is None:
        return 1
    reader = SLAReader(settings)
    results: list[ContractResult] = []
    for contract in contracts:
        try:
            if args.period:
                period = month_period(args.period, contract.timezone)
            else:
                period = previous_period(period_containing(now, contract.timezone))
            if now <= period.start:
                return _fail(f"{contract.key}: period {period.name} has not started yet")
            read = reader.read_contract(contract, period, now)
            results.append(evaluate_contract(contract, period, read.measurements, now=read.until))
        except (SLAError, SLAReadError) as e:
            return _fail(f"{contract.key}: {e}")
    _print(results, args.output)
    return 0


def _print(results: list[ContractResult], output: str) -> None:
    if output == "json":
        payload = [r.as_dict() for r in results]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    elif output == "markdown":
        print("\n\n---\n\n".join(render_markdown(r) for r in results))
    else:
        print(render_html(results))


# --- shared wording ----------------------------------------------------------------------------


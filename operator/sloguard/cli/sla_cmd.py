"""``sloguard sla evaluate``: a contract's month from Prometheus, as JSON or a customer report.

    sloguard sla evaluate --prometheus URL --period 2026-10 [-o json|yaml|markdown|html] FILE|DIR|-...
    sloguard sla evaluate --prometheus URL --from-cluster [-n NS] [--context NAME]

JSON is a contract with scripts and outside tests: one object per SLAContract (a list when the
files hold several)::

    {contract, customer, period, minutes, terms: [{name, type, objective, actual, compliant,
     downtimeMinutes, excludedMinutes, creditPercent, ...}], creditPercent, creditAmount, currency}

Markdown and HTML are reports a customer can read: summary, per-term actual vs objective with
variance, a daily downtime chart (text bars in Markdown, inline SVG in HTML), maintenance
windows and whether each was excluded, and credits. Exit status: 0 when every contract was
evaluated (breached or not); 1 invalid or no contracts, or a contract that cannot be evaluated for
that month; 2 bad arguments or connection settings; 3 Prometheus or the API server could not be
read (unreachable, TLS, credentials, tenant: one line naming the URL).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from ..adapters.prometheus import PrometheusError, SLAReader, add_arguments
from ..adapters.sla_report import render_html, render_markdown
from ..api.sla_loader import contracts_from_documents
from ..core import conventions as c
from ..core.sla import (
    ContractResult,
    SLAError,
    evaluate_contract,
    month_period,
    period_containing,
    previous_period,
)
from .common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    Findings,
    UsageError,
    add_cluster_arguments,
    add_output_argument,
    add_paths_argument,
    dumps,
    prometheus_failure,
    prometheus_settings,
    read_inputs,
    report,
)

FORMATS = ("json", "yaml", "markdown", "html")


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
    add_output_argument(e, FORMATS, "json")
    e.add_argument("--contract", metavar="NAME", action="append",
                   help="only the contract with this metadata.name or contractId (repeatable)")
    add_cluster_arguments(e, "SLAContracts")
    add_paths_argument(e, "SLAContracts", optional=True)
    e.set_defaults(func=run)


def parse_instant(text: str) -> datetime:
    """RFC 3339 (``Z`` or an offset) or a date; naive values are taken as UTC."""
    t = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    try:
        now = parse_instant(args.at) if args.at else datetime.now(UTC)
    except ValueError:
        raise UsageError(f"--at {args.at!r} is not a time like 2026-10-15T12:00:00Z") from None
    if args.period:
        try:
            month_period(args.period)
        except SLAError as e:
            raise UsageError(f"--period: {e}") from None
    docs, read_diags = read_inputs(args, (c.KIND_SLA,))
    contracts, found = contracts_from_documents(docs)
    if report([*read_diags, *found]):
        return EXIT_FINDINGS
    if args.contract:
        contracts = [k for k in contracts if k.name in args.contract or k.contract_id in args.contract]
    if not contracts:
        where = " ".join([*args.paths, *(["the cluster"] if args.from_cluster else [])])
        raise Findings(f"no SLAContract found in {where}")
    settings = prometheus_settings("sla evaluate", args)
    if settings is None:
        return EXIT_USAGE
    try:
        reader = SLAReader(settings)
    except PrometheusError as e:
        raise prometheus_failure(e) from None
    results: list[ContractResult] = []
    for contract in contracts:
        try:
            if args.period:
                period = month_period(args.period, contract.timezone)
            else:
                period = previous_period(period_containing(now, contract.timezone))
            if now <= period.start:
                raise Findings(f"{contract.key}: period {period.name} has not started yet")
            read = reader.read_contract(contract, period, now)
            results.append(evaluate_contract(contract, period, read.measurements, now=read.until))
        except PrometheusError as e:
            failure = prometheus_failure(e)
            raise type(failure)(f"{contract.key}: {e}") from None
        except SLAError as e:
            raise Findings(f"{contract.key}: {e}") from None
    if args.output in ("json", "yaml"):
        payload = [r.as_dict() for r in results]
        sys.stdout.write(dumps(payload[0] if len(payload) == 1 else payload, args.output))
    elif args.output == "markdown":
        print("\n\n---\n\n".join(render_markdown(r) for r in results))
    else:
        print(render_html(results))
    return 0


# --- shared wording ----------------------------------------------------------------------------


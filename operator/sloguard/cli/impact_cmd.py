"""``sloguard impact``: what an incident cost, in error budget, SLA minutes and credits, and its severity.

    sloguard impact --prometheus URL --from T1 --to T2 [--now T] [-o text|json|yaml] FILE|DIR|-...|--from-cluster

For every ServiceLevelObjective in the files: bad and total events in ``[T1, T2)``, the worst
5-minute error ratio, and the share of its error budget the interval spent, with the denominator
``sloguard budget`` uses at T2 (projected period traffic for calendar windows, the rolling
window ending at T2 otherwise). For every SLAContract term: downtime minutes lost against the
month's allowance, or bad requests against the month's; per contract, the credit percent and
amount the interval moves. ``--to`` may be in the future: the rest of the interval is projected
at the current burn rate and the output says which part is measured and which projected.
The figures are computed by :mod:`sloguard.core.impact` from counts :mod:`sloguard.services.impact`
reads; this command parses, calls and prints.
Severity follows the seed's four levels. Exit status: 0 figures printed; 1 invalid or no SLOs
and contracts, or figures the objects make impossible; 2 bad arguments (times, connection
settings); 3 Prometheus or the API server could not be read.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from ..adapters.prometheus import PrometheusError, SLAReader, add_arguments
from ..api.loader import load_documents
from ..api.sla_loader import contracts_from_documents
from ..core import conventions as c
from ..core.conditions import rfc3339
from ..core.sla import SLAError
from ..services.impact import measure_impact
from .common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    Findings,
    UsageError,
    add_cluster_arguments,
    add_output_argument,
    add_paths_argument,
    dumps,
    inputs_named,
    prometheus_failure,
    prometheus_settings,
    read_inputs,
    report,
)
from .sla_cmd import parse_instant


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("impact", help="error budget, SLA minutes and credit an incident cost, and its severity",
                       description="Incident impact for an interval: error budget each SLO spent (the budget's "
                       "own denominator), SLA minutes lost per contract term, the credit each contract moves, "
                       "and a severity from the seed's four levels. A --to in the future projects an ongoing "
                       "incident at its current burn rate.")
    add_arguments(p)
    p.add_argument("--from", dest="start", required=True, metavar="T1", help="start, RFC 3339")
    p.add_argument("--to", dest="end", required=True, metavar="T2",
                   help="end, RFC 3339; after --now the rest is projected at the current burn rate")
    p.add_argument("--now", dest="now", metavar="T",
                   help="measure up to this instant, RFC 3339 (default: the clock); for replays and tests")
    add_output_argument(p, ("text", "json", "yaml"), "text")
    add_cluster_arguments(p, "ServiceLevelObjectives and SLAContracts")
    add_paths_argument(p, "ServiceLevelObjectives and SLAContracts", optional=True)
    p.set_defaults(func=run)


def _incident(args: argparse.Namespace) -> tuple[datetime, datetime, datetime]:
    """``--from``, ``--to`` and ``--now`` (default: the clock), checked against each other."""
    try:
        t1, t2 = parse_instant(args.start), parse_instant(args.end)
    except ValueError:
        raise UsageError("--from and --to must be times like 2026-10-03T01:00:00Z") from None
    if t2 <= t1:
        raise UsageError("--to must be after --from")
    try:
        now = datetime.now(UTC) if args.now is None else parse_instant(args.now)
    except ValueError:
        raise UsageError("--now must be a time like 2026-10-03T01:00:00Z") from None
    if now <= t1:
        raise UsageError(f"--from is not in the past at {rfc3339(now)}: nothing measured to project from")
    return t1, t2, now


def _write(result: dict[str, Any], output: str) -> None:
    if output in ("json", "yaml"):
        sys.stdout.write(dumps(result, output))
    else:
        print(render_text(result))


def run(args: argparse.Namespace) -> int:
    t1, t2, now = _incident(args)
    docs, read_diags = read_inputs(args, (c.KIND_SLO, c.KIND_SLA))
    loaded = load_documents(docs, read_diags)
    contracts, sla_diags = contracts_from_documents(docs)
    if report([*loaded.diagnostics, *sla_diags]):
        return EXIT_FINDINGS
    objectives = loaded.objectives
    if not objectives and not contracts:
        raise Findings(f"no ServiceLevelObjective or SLAContract found in {inputs_named(args)}")
    settings = prometheus_settings("impact", args)
    if settings is None:
        return EXIT_USAGE
    try:
        result = measure_impact(SLAReader(settings), objectives, contracts, t1, t2, now)
    except PrometheusError as e:
        raise prometheus_failure(e) from None
    except SLAError as e:
        raise Findings(str(e)) from None
    _write(result, args.output)
    return 0


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.2f}%"


def render_text(r: dict[str, Any]) -> str:
    sev = r["severity"]
    lines = [
        f"Incident {r['from']} to {r['to']} ({r['minutes']} minutes)",
        f"Severity: {sev['level']} ({sev['label']}): {sev['definition']}",
        f"  respond: {sev['responseTime']}; escalate to: {sev['escalation']}; communicate: {sev['communication']}",
    ]
    if r["projected"]:
        lines.append(f"Measured {r['measured']['from']} to {r['measured']['to']}; projected at the current burn "
                     f"rate to {r['projected']['to']}")
    if r["slos"]:
        lines += ["", "Error budget spent:"]
        for s in r["slos"]:
            lines.append(f"  {s['slo']:<40} {_pct(s['budgetSpent']):>9} of the window's budget, "
                         f"{s['badEvents']:g} bad of {s['totalEvents']:g}, worst 5m error ratio "
                         f"{_pct(s['worstErrorRatio'])}"
                         + (f" ({s['projected']['badEvents']:g} bad projected)" if r["projected"] else ""))
    if r["sla"]:
        lines += ["", "SLA impact:"]
        for t in r["sla"]:
            head = f"  {t['contract']}/{t['term']:<28}"
            if t["type"] == "uptime":
                lines.append(f"{head} {t['minutesLost']} min lost of {t['allowanceMinutes']:g} allowed in "
                             f"{t['period']}{'  BREACH' if t['breached'] else ''}")
            else:
                lines.append(f"{head} {t['badRequests']:g} bad requests of {t['allowanceRequests']:g} allowed "
                             f"so far in {t['period']}{'  BREACH' if t['breached'] else ''}")
    if r["contracts"]:
        lines += ["", "SLA credit moved:"]
        for c in r["contracts"]:
            lines.append(f"  {c['contract']:<30} {c['creditPercentBefore']:g}% -> {c['creditPercentAfter']:g}% of the "
                         f"fee in {c['period']}: {c['creditAmountMoved']:+.2f} {c['currency']}"
                         + ("  (projected)" if c["projected"] else ""))
    return "\n".join(lines)

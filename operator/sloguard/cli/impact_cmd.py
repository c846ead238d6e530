"""``sloguard impact``: what an incident cost, in error budget and SLA minutes, and its severity.

    sloguard impact --prometheus URL --from T1 --to T2 [-o json|text] FILE|DIR...

For every ServiceLevelObjective in the files: bad and total events in ``[T1, T2)``, the worst
5-minute error ratio, and the share of its window's error budget the interval spent (the window
ending at T2; a calendar window from its start to T2). For every SLAContract term: downtime
minutes lost (uptime terms, maintenance announced in time excused) against the month's
allowance, or bad requests against the month-to-date allowance (latency, availability).
Severity follows the seed's four levels (see ``sloguard.core.sla.SEVERITY_LEVELS``). Exit
status 1 when files, connection settings or Prometheus made the figures impossible.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from ..adapters.prometheus_client import add_arguments
from ..adapters.sla_reader import SLAReader, SLAReadError
from ..api.loader import load_objectives
from ..api.sla_loader import load_contracts
from ..core.sla import (
    Period,
    SLAError,
    allowed_downtime_minutes,
    assess_maintenance,
    budget_share_spent,
    classify_severity,
    period_containing,
    sla_minutes_lost,
)
from .common import prometheus_settings, report
from .sla_cmd import parse_instant


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("impact", help="error budget and SLA minutes an incident cost, and its severity",
                       description="Incident impact for an interval: error budget each SLO spent, SLA minutes "
                       "lost per contract term, and a severity from the seed's four levels.")
    add_arguments(p)
    p.add_argument("--from", dest="start", required=True, metavar="T1", help="start, RFC 3339")
    p.add_argument("--to", dest="end", required=True, metavar="T2", help="end, RFC 3339")
    p.add_argument("-o", "--output", choices=("json", "text"), default="text", help="output format (default text)")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help="SLO and SLAContract files or directories")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"sloguard impact: {message}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    try:
        t1, t2 = parse_instant(args.start), parse_instant(args.end)
    except ValueError:
        return _fail("--from and --to must be times like 2026-10-03T01:00:00Z")
    if t2 <= t1:
        return _fail("--to must be after --from")
    objectives, slo_diags = load_objectives(args.paths)
    contracts, sla_diags = load_contracts(args.paths)
    if report([*slo_diags, *sla_diags]):
        return 1
    if not objectives and not contracts:
        return _fail(f"no ServiceLevelObjective or SLAContract found in {' '.join(args.paths)}")
    settings = prometheus_settings("impact", args)
    if settings is None:
        return 1
    try:
        result = measure_impact(SLAReader(settings), objectives, contracts, t1, t2)
    except (SLAError, SLAReadError) as e:
        return _fail(str(e))
    if args.output == "json":
        print(json.dumps(result, indent=2))
    else:
        print(render_text(result))
    return 0


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def measure_impact(
    reader: SLAReader, objectives: list[Any], contracts: list[Any], t1: datetime, t2: datetime
) -> dict[str, Any]:
    a, b = t1.timestamp(), t2.timestamp()
    slos: list[dict[str, Any]] = []
    for o in objectives:
        bad, total = reader.sli_counts(o.sli, a, b, f"SLO {o.key}")
        w_start, w_end = o.window.bounds(t2)
        w_b = min(w_end, t2).timestamp()
        _, window_total = reader.sli_counts(o.sli, w_start.timestamp(), w_b, f"SLO {o.key} window")
        worst = reader.worst_error_ratio(o.sli, a, b, f"SLO {o.key} worst ratio")
        share = budget_share_spent(bad, window_total, o.objective)
        slos.append({
            "slo": o.key,
            "service": o.service,
            "badEvents": round(bad, 3),
            "totalEvents": round(total, 3),
            "errorRatio": None if total <= 0 else bad / total,
            "worstErrorRatio": worst,
            "budgetSpent": share,
        })
    terms: list[dict[str, Any]] = []
    for c in contracts:
        month = period_containing(t1, c.timezone)
        for term in c.terms:
            row: dict[str, Any] = {"contract": c.contract_id, "customer": c.customer_id, "term": term.name,
                                   "type": term.type, "period": month.name}
            if term.type == "uptime":
                size = term.slice.seconds
                m0 = month.start.timestamp()
                s0 = m0 + ((a - m0) // size) * size  # slices aligned as in the monthly evaluation
                span = Period("interval", datetime.fromtimestamp(s0, UTC),
                              datetime.fromtimestamp(s0 + -(-(b - s0) // size) * size, UTC), c.timezone)
                facts = reader.slice_facts(term, span)
                plan = assess_maintenance(c.maintenance, c.minimum_notice_seconds, span)
                lost = sla_minutes_lost(term, facts, span.start, span.end, plan)
                allowance = allowed_downtime_minutes(term.objective, month.minutes)
                worst = 1.0 - min(facts.good.values(), default=1.0)
                row |= {"minutesLost": lost, "allowanceMinutes": round(allowance, 3),
                        "allowanceSpent": lost / allowance if allowance else None,
                        "breached": lost > allowance, "worstErrorRatio": worst}
            else:
                bad, _ = reader.sli_counts(term.sli, a, b, f"term {term.name!r}")
                _, month_total = reader.sli_counts(term.sli, month.start.timestamp(),
                                                   min(month.end, t2).timestamp(), f"term {term.name!r} month")
                allowance = (100.0 - term.objective) / 100.0 * month_total
                row |= {"badRequests": round(bad, 3), "allowanceRequests": round(allowance, 3),
                        "allowanceSpent": bad / allowance if allowance else None,
                        "breached": bool(allowance) and bad > allowance}
            terms.append(row)
    ratios = [s["worstErrorRatio"] for s in slos if s["worstErrorRatio"] is not None]
    ratios += [t["worstErrorRatio"] for t in terms if t.get("worstErrorRatio") is not None]
    shares = [s["budgetSpent"] for s in slos if s["budgetSpent"] is not None]
    level = classify_severity(max(ratios, default=0.0), max(shares, default=0.0),
                              any(t["breached"] for t in terms))
    return {
        "from": _iso(t1),
        "to": _iso(t2),
        "minutes": int((t2 - t1) / timedelta(minutes=1)),
        "severity": {
            "level": level.name,
            "label": level.label,
            "definition": level.definition,
            "responseTime": level.response_time,
            "escalation": level.escalation,
            "communication": level.communication,
        },
        "slos": slos,
        "sla": terms,
    }


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.2f}%"


def render_text(r: dict[str, Any]) -> str:
    sev = r["severity"]
    lines = [
        f"Incident {r['from']} to {r['to']} ({r['minutes']} minutes)",
        f"Severity: {sev['level']} ({sev['label']}): {sev['definition']}",
        f"  respond: {sev['responseTime']}; escalate to: {sev['escalation']}; communicate: {sev['communication']}",
    ]
    if r["slos"]:
        lines += ["", "Error budget spent:"]
        for s in r["slos"]:
            lines.append(f"  {s['slo']:<40} {_pct(s['budgetSpent']):>9} of the window's budget, "
                         f"{s['badEvents']:g} bad of {s['totalEvents']:g}, worst 5m error ratio "
                         f"{_pct(s['worstErrorRatio'])}")
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
    return "\n".join(lines)

"""SLO period reports as JSON (a contract with scripts), Markdown and HTML (inline SVG charts).

JSON::

    {"period", "from", "to", "timezone", "complete", "slos": [{"namespace", "name", "service",
     "objective", "attainment", "budgetConsumed", "byCause", "goodEvents", "totalEvents",
     "worstHours": [{"from", "to", "badEvents", "budgetConsumed"}],
     "trend": [{"period", "from", "to", "attainment", "budgetConsumed"}], "hints"}]}

``objective`` and ``attainment`` are fractions (0..1), ``budgetConsumed`` a fraction of the
period's budget (1.0 = all of it). ``byCause``: ``{"releases", "maintenance", "incidents"}``,
``budgetConsumed`` split by when the bad events happened (same unit, they add up to it); null
when it could not be read.
Presentation lives below the CLI so the operator can store the same report in its history.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..core.conditions import rfc3339
from ..core.report import ReportPeriod, SLOPeriodReport


def to_json(period: ReportPeriod, reports: Sequence[SLOPeriodReport], now: datetime) -> dict[str, Any]:
    return {
        "period": period.label, "from": rfc3339(period.start), "to": rfc3339(period.end),
        "timezone": period.timezone, "complete": now >= period.end,
        "slos": [_slo_json(r) for r in reports],
    }


def _slo_json(r: SLOPeriodReport) -> dict[str, Any]:
    return {
        "namespace": r.namespace, "name": r.name, "service": r.service, "objective": r.objective,
        "attainment": r.attainment, "budgetConsumed": r.budget_consumed, "byCause": r.by_cause,
        "goodEvents": r.counts.good, "totalEvents": r.counts.total,
        "worstHours": [{"from": rfc3339(h.start), "to": rfc3339(h.end), "badEvents": h.bad,
                        "budgetConsumed": h.budget_consumed} for h in r.worst_hours],
        "trend": [{"period": t.period.label, "from": rfc3339(t.period.start), "to": rfc3339(t.period.end),
                   "attainment": t.attainment, "budgetConsumed": t.budget_consumed} for t in r.trend],
        "hints": list(r.hints),
    }


# --- Markdown ------------------------------------------------------------------------------------

def _pct(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v * 100:.{digits}f}%"


def _local(t: datetime, tz: str) -> str:
    return t.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _status(r: SLOPeriodReport) -> str:
    if r.attainment is None:
        return "no data"
    return "met" if r.attainment >= r.objective else "missed"


def _causes(by_cause: dict[str, float]) -> str:
    return "Budget by cause: " + ", ".join(f"{k} {_pct(v, 1)}" for k, v in by_cause.items())


def render_markdown(period: ReportPeriod, reports: Sequence[SLOPeriodReport], now: datetime) -> str:
    tz = period.timezone
    out = [f"# SLO report {period.label}", "",
           f"{_local(period.start, tz)} to {_local(period.end, tz)} ({tz})"
           + ("" if now >= period.end else f"; in progress, measured up to {_local(now, tz)}"), "",
           "| SLO | Service | Objective | Attainment | Status | Budget consumed |",
           "|---|---|---:|---:|---|---:|"]
    for r in reports:
        out.append(f"| {r.namespace}/{r.name} | {r.service} | {_pct(r.objective)} | {_pct(r.attainment)} | "
                   f"{_status(r)} | {_pct(r.budget_consumed, 1)} |")
    for r in reports:
        out += ["", f"## {r.namespace}/{r.name}", ""]
        if r.by_cause is not None:
            out += [_causes(r.by_cause), ""]
        if r.trend:
            out.append("Trend: " + " · ".join(f"{t.period.label} {_pct(t.attainment)} "
                                              f"({_pct(t.budget_consumed, 1)} of budget)" for t in r.trend))
            out.append("")
        if r.worst_hours:
            out += ["Worst hours:", "", "| Hour | Bad events | Budget |", "|---|---:|---:|"]
            out += [f"| {_local(h.start, tz)} | {h.bad:,.0f} | {_pct(h.budget_consumed, 1)} |" for h in r.worst_hours]
            out.append("")
        out += [f"- {h}" for h in r.hints] or ["No hints: the objective fits what the service delivers."]
    return "\n".join(out) + "\n"


# --- HTML ----------------------------------------------------------------------------------------

def _e(text: object) -> str:
    return html.escape(str(text))


def trend_svg(r: SLOPeriodReport, width: int = 480, height: int = 160) -> str:
    """Budget consumed per period (earlier periods, then this one) as bars, the 100% line dashed."""
    points = [(t.period.label, t.budget_consumed) for t in reversed(r.trend)]
    points.append((r.period.label, r.budget_consumed))
    left, bottom, top = 40, 24, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    scale = max([1.0, *(v for _, v in points if v is not None)])
    step = plot_w / len(points)
    full = top + plot_h - plot_h / scale
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="Error budget consumed per period, {_e(r.namespace)}/{_e(r.name)}">',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#889"/>',
             f'<line x1="{left}" y1="{full:.1f}" x2="{left + plot_w}" y2="{full:.1f}" stroke="#d32f2f" '
             'stroke-dasharray="4 3"/>',
             f'<text x="{left - 4}" y="{full + 4:.1f}" font-size="10" text-anchor="end">100%</text>']
    for i, (label, v) in enumerate(points):
        x = left + i * step + step * 0.2
        h = (v or 0.0) * plot_h / scale
        color = "#9aa5b1" if v is None else ("#d32f2f" if v >= 1 else "#2e7d32")
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.6:.1f}" height="{h:.1f}" '
                     f'fill="{color}"><title>{_e(label)}: {_e(_pct(v, 1))}</title></rect>')
        parts.append(f'<text x="{x + step * 0.3:.1f}" y="{height - 8}" font-size="10" '
                     f'text-anchor="middle">{_e(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = ("body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933}table{border-collapse:collapse;"
        "margin:1rem 0}td,th{border:1px solid #cbd2d9;padding:.3rem .6rem}.num{text-align:right}"
        ".missed{color:#d32f2f;font-weight:600}.met{color:#2e7d32}.muted{color:#616e7c}")


def render_html(period: ReportPeriod, reports: Sequence[SLOPeriodReport], now: datetime) -> str:
    tz = period.timezone
    rows = "".join(
        f"<tr><td>{_e(r.namespace)}/{_e(r.name)}</td><td>{_e(r.service)}</td><td class=num>{_pct(r.objective)}</td>"
        f"<td class=num>{_pct(r.attainment)}</td><td class={_status(r).replace(' ', '-')}>{_status(r)}</td>"
        f"<td class=num>{_pct(r.budget_consumed, 1)}</td></tr>" for r in reports)
    sections = []
    for r in reports:
        worst = "".join(f"<tr><td>{_e(_local(h.start, tz))}</td><td class=num>{h.bad:,.0f}</td>"
                        f"<td class=num>{_pct(h.budget_consumed, 1)}</td></tr>" for h in r.worst_hours)
        hints = "".join(f"<li>{_e(h)}</li>" for h in r.hints) or "<li>No hints.</li>"
        sections.append(
            f"<section><h2>{_e(r.namespace)}/{_e(r.name)}</h2>{trend_svg(r)}"
            + (f"<p>{_e(_causes(r.by_cause))}</p>" if r.by_cause is not None else "")
            + (f"<table><tr><th>Worst hour</th><th class=num>Bad events</th><th class=num>Budget</th></tr>"
               f"{worst}</table>" if worst else "") + f"<ul>{hints}</ul></section>")
    progress = "" if now >= period.end else f" · in progress, measured up to {_e(_local(now, tz))}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>SLO report {_e(period.label)}'
            f"</title><style>{_CSS}</style></head><body>\n<h1>SLO report {_e(period.label)}</h1>"
            f'<p class="muted">{_e(_local(period.start, tz))} to {_e(_local(period.end, tz))} ({_e(tz)}){progress}</p>'
            "<table><tr><th>SLO</th><th>Service</th><th class=num>Objective</th><th class=num>Attainment</th>"
            f"<th>Status</th><th class=num>Budget consumed</th></tr>{rows}</table>\n"
            + "\n".join(sections) + "\n</body></html>")

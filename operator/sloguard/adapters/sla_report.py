"""Customer-readable SLA reports (Markdown and HTML with an inline SVG chart) from contract results.

Presentation lives below the CLI so the operator can store the same report beside the figures
in each finalized period's ConfigMap.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from ..core.sla import ContractResult, CreditTier, Period, TermResult


def _month_title(period: Period) -> str:
    return period.start.astimezone(ZoneInfo(period.timezone)).strftime("%B %Y")


def _local(t: datetime, tz: str) -> str:
    return t.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _pct(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}%"


def _variance(t: TermResult) -> str:
    v = t.variance
    return "n/a" if v is None else f"{v:+.3f} pp"


def _money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _applied_tier(t: TermResult, tiers: Sequence[CreditTier]) -> str:
    if not t.credit_percent or t.actual is None:
        return "none"
    under = [x for x in tiers if t.actual < x.below]
    worst = min(under, key=lambda x: x.below)
    return f"below {worst.below:g}%"


def _summary_lines(r: ContractResult) -> list[str]:
    met = len(r.terms) - len(r.breached)
    c = r.contract
    lines = [
        f"Terms met: {met} of {len(r.terms)}"
        + (f"; breached: {', '.join(t.name for t in r.breached)}" if r.breached else ""),
        f"Overall compliance: {met * 100 / len(r.terms):.1f}% of terms met"
        + (" (all commitments kept)" if not r.breached else ""),
        f"Service credit: {r.credit_percent:g}% of the monthly fee = {_money(r.credit_amount, c.currency)}"
        + (f" (terms add up to {r.uncapped_credit_percent:g}%, capped at {c.max_credit_percent:g}%)"
           if r.uncapped_credit_percent > r.credit_percent else ""),
    ]
    if not r.complete:
        lines.append(f"Month in progress: measured up to {_local(r.evaluated_until, c.timezone)} "
                     f"({r.minutes:,} minutes); figures may still change.")
    late = r.maintenance.late
    if late:
        lines.append(f"Maintenance not excluded: {len(late)} window(s) announced too late or not at all.")
    lines.append(f"Data coverage: {r.coverage:.2%} of the minutes had measurements; minutes without data count "
                 f"as {_NO_DATA_MEANING[c.no_data]} (contract noData: {c.no_data})"
                 + ("" if r.coverage_ok else f" — below the {c.minimum_coverage:g}% needed to finalize") + ".")
    return lines


#: How each noData choice reads in a report.
_NO_DATA_MEANING = {"downtime": "downtime", "excluded": "excluded from the month", "uptime": "uptime"}


# --- Markdown ----------------------------------------------------------------------------------

_BAR_WIDTH = 50


def _downtime_chart(t: TermResult) -> list[str]:
    """One text bar per local day: ``#`` counted downtime, ``~`` downtime excused by maintenance."""
    worst = max((d.downtime_minutes + d.excluded_minutes for d in t.days), default=0)
    scale = max(worst, 1)
    out = ["Day         Uptime    Downtime per day (# counted, ~ excluded by maintenance)"]
    for d in t.days:
        counted = round(d.downtime_minutes * _BAR_WIDTH / scale)
        excused = round(d.excluded_minutes * _BAR_WIDTH / scale)
        if d.downtime_minutes and not counted:
            counted = 1
        if d.excluded_minutes and not excused:
            excused = 1
        bar = "#" * counted + "~" * excused
        note = ""
        if d.downtime_minutes or d.excluded_minutes:
            note = f" {d.downtime_minutes} min" + (f" (+{d.excluded_minutes} excluded)" if d.excluded_minutes else "")
        out.append(f"{d.day}  {d.uptime:8.3f}%  {bar}{note}".rstrip())
    return out


def _uptime_markdown(t: TermResult, no_data: str, tz: str) -> list[str]:
    """An uptime term's daily chart, no-data note and outage table."""
    md = ["", f"## Daily uptime: {t.name}", "", "```", *_downtime_chart(t), "```"]
    if t.no_data_minutes:
        md += ["", f"{t.no_data_minutes} minute(s) had no measurement and were counted as "
               f"{_NO_DATA_MEANING[no_data]}."]
    if t.outages:
        md += ["", "| Outage start | End | Minutes | Counted |", "|---|---|---:|---|"]
        for o in t.outages[:100]:
            md.append(f"| {_local(o.start, tz)} | {_local(o.end, tz)} | {o.minutes} | "
                      f"{'no (maintenance)' if o.excluded else 'yes'} |")
        if len(t.outages) > 100:
            md.append(f"| ... {len(t.outages) - 100} more | | | |")
    return md


def render_markdown(r: ContractResult) -> str:
    c = r.contract
    tz = c.timezone
    terms_by_name = {t.name: t for t in c.terms}
    md: list[str] = [
        f"# SLA report: {c.customer_name} — {_month_title(r.period)}",
        "",
        f"Contract {c.contract_id} · period {r.period.name} · {_local(r.period.start, tz)} to "
        f"{_local(r.period.end, tz)} ({tz}) · {r.minutes:,} minutes",
        "",
        "## Summary",
        "",
        *[f"- {line}" for line in _summary_lines(r)],
        "",
        "## Terms",
        "",
        "| Term | Type | Objective | Actual | Variance | Status | Downtime (min) | Excluded (min) | Credit |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for t in r.terms:
        md.append(
            f"| {t.name} | {t.type} | {t.objective:g}% | {_pct(t.actual)} | {_variance(t)} | "
            f"{'met' if t.compliant else 'BREACHED'} | "
            f"{'' if t.downtime_minutes is None else t.downtime_minutes} | {t.excluded_minutes} | "
            f"{t.credit_percent:g}% |"
        )
    for t in r.terms:
        if t.type == "uptime":
            md += _uptime_markdown(t, c.no_data, tz)
    md += ["", "## Maintenance windows", ""]
    if r.maintenance.windows:
        md += ["| Start | End | Description | Notice | Excluded |", "|---|---|---|---|---|"]
        for w in r.maintenance.windows:
            md.append(f"| {_local(w.start, tz)} | {_local(w.end, tz)} | {w.window.description or '-'} | "
                      f"{w.reason} | {'yes' if w.excluded else 'NO (late notice)'} |")
        md += ["", f"Maintenance counts as excluded only when announced at least "
               f"{c.minimum_notice_seconds / 3600:g}h before it starts."]
    else:
        md.append("No scheduled maintenance this month.")
    md += ["", "## Credits", "", "| Term | Tier applied | Credit |", "|---|---|---:|"]
    for t in r.terms:
        md.append(f"| {t.name} | {_applied_tier(t, terms_by_name[t.name].credits)} | {t.credit_percent:g}% |")
    md += [
        f"| **Total** | capped at {c.max_credit_percent:g}% | **{r.credit_percent:g}%** |",
        "",
        f"Credit amount: **{_money(r.credit_amount, c.currency)}** "
        f"({r.credit_percent:g}% of the monthly fee of {_money(c.monthly_fee, c.currency)}).",
    ]
    return "\n".join(md)


# --- HTML --------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:64rem;color:#1d2330;line-height:1.4}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccd;padding:.3rem .6rem;text-align:left}
td.num,th.num{text-align:right}.met{color:#1a7f37}.breached{color:#c62828;font-weight:600}
.summary{background:#f5f7fb;padding:.8rem 1.2rem;border-radius:6px}.muted{color:#667}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def downtime_svg(t: TermResult, width: int = 760, height: int = 180) -> str:
    """Daily downtime bars (red counted, grey excused by maintenance) as inline SVG."""
    days = t.days
    if not days:
        return ""
    left, bottom, top = 40, 30, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    worst = max((d.downtime_minutes + d.excluded_minutes for d in days), default=0)
    scale = max(worst, 1)
    step = plot_w / len(days)
    bar_w = max(step - 2, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Daily downtime minutes of {_e(t.name)}">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#889"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{worst}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
        f'<text x="4" y="{top + plot_h / 2}" font-size="10" transform="rotate(-90 8 {top + plot_h / 2})">min</text>',
    ]
    for i, d in enumerate(days):
        x = left + i * step + 1
        counted_h = d.downtime_minutes * plot_h / scale
        excused_h = d.excluded_minutes * plot_h / scale
        y: float = top + plot_h
        title = (f"{d.day}: uptime {d.uptime:.3f}%, {d.downtime_minutes} min down"
                 f"{f', {d.excluded_minutes} min excluded' if d.excluded_minutes else ''}")
        if counted_h:
            y -= counted_h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{counted_h:.1f}" '
                         f'fill="#d32f2f"><title>{_e(title)}</title></rect>')
        if excused_h:
            y -= excused_h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{excused_h:.1f}" '
                         f'fill="#9aa5b1"><title>{_e(title)}</title></rect>')
        if not counted_h and not excused_h:
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - 2}" width="{bar_w:.1f}" height="2" '
                         f'fill="#2e7d32"><title>{_e(title)}</title></rect>')
        if i % 5 == 0 or i == len(days) - 1:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - 12}" font-size="10" '
                         f'text-anchor="middle">{_e(d.day[8:])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_one(r: ContractResult) -> str:
    c = r.contract
    tz = c.timezone
    terms_by_name = {t.name: t for t in c.terms}
    out = [
        f"<section><h1>SLA report: {_e(c.customer_name)} — {_e(_month_title(r.period))}</h1>",
        f'<p class="muted">Contract {_e(c.contract_id)} · period {_e(r.period.name)} · '
        f"{_e(_local(r.period.start, tz))} to {_e(_local(r.period.end, tz))} ({_e(tz)}) · "
        f"{r.minutes:,} minutes</p>",
        '<h2>Summary</h2><ul class="summary">',
        *[f"<li>{_e(line)}</li>" for line in _summary_lines(r)],
        "</ul><h2>Terms</h2><table><tr><th>Term</th><th>Type</th><th class=num>Objective</th>"
        "<th class=num>Actual</th><th class=num>Variance</th><th>Status</th><th class=num>Downtime (min)</th>"
        "<th class=num>Excluded (min)</th><th class=num>Credit</th></tr>",
    ]
    for t in r.terms:
        status = '<span class="met">met</span>' if t.compliant else '<span class="breached">breached</span>'
        out.append(
            f"<tr><td>{_e(t.name)}</td><td>{_e(t.type)}</td><td class=num>{t.objective:g}%</td>"
            f"<td class=num>{_e(_pct(t.actual))}</td><td class=num>{_e(_variance(t))}</td><td>{status}</td>"
            f"<td class=num>{'' if t.downtime_minutes is None else t.downtime_minutes}</td>"
            f"<td class=num>{t.excluded_minutes}</td><td class=num>{t.credit_percent:g}%</td></tr>"
        )
    out.append("</table>")
    for t in r.terms:
        if t.type != "uptime":
            continue
        out.append(f"<h2>Daily downtime: {_e(t.name)}</h2>{downtime_svg(t)}"
                   '<p class="muted">Red: downtime counted against the SLA. Grey: downtime during '
                   "maintenance announced in time (excluded).</p>")
        if t.outages:
            out.append("<table><tr><th>Outage start</th><th>End</th><th class=num>Minutes</th><th>Counted</th></tr>")
            for o in t.outages[:100]:
                out.append(f"<tr><td>{_e(_local(o.start, tz))}</td><td>{_e(_local(o.end, tz))}</td>"
                           f"<td class=num>{o.minutes}</td><td>{'no (maintenance)' if o.excluded else 'yes'}</td></tr>")
            out.append("</table>")
    out.append("<h2>Maintenance windows</h2>")
    if r.maintenance.windows:
        out.append("<table><tr><th>Start</th><th>End</th><th>Description</th><th>Notice</th><th>Excluded</th></tr>")
        for w in r.maintenance.windows:
            out.append(f"<tr><td>{_e(_local(w.start, tz))}</td><td>{_e(_local(w.end, tz))}</td>"
                       f"<td>{_e(w.window.description or '-')}</td><td>{_e(w.reason)}</td>"
                       f"<td>{'yes' if w.excluded else '<span class=breached>no (late notice)</span>'}</td></tr>")
        out.append(f"</table><p class=muted>Excluded only when announced at least "
                   f"{c.minimum_notice_seconds / 3600:g}h before it starts.</p>")
    else:
        out.append("<p>No scheduled maintenance this month.</p>")
    out.append("<h2>Credits</h2><table><tr><th>Term</th><th>Tier applied</th><th class=num>Credit</th></tr>")
    for t in r.terms:
        out.append(f"<tr><td>{_e(t.name)}</td><td>{_e(_applied_tier(t, terms_by_name[t.name].credits))}</td>"
                   f"<td class=num>{t.credit_percent:g}%</td></tr>")
    out.append(f"<tr><th>Total</th><th>capped at {c.max_credit_percent:g}%</th>"
               f"<th class=num>{r.credit_percent:g}%</th></tr></table>"
               f"<p>Credit amount: <strong>{_e(_money(r.credit_amount, c.currency))}</strong> "
               f"({r.credit_percent:g}% of the monthly fee of {_e(_money(c.monthly_fee, c.currency))}).</p></section>")
    return "\n".join(out)


def render_html(results: Sequence[ContractResult]) -> str:
    title = "SLA report" if len(results) != 1 else (
        f"SLA report {results[0].contract.customer_name} {results[0].period.name}")
    body = "\n<hr>\n".join(_html_one(r) for r in results)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>")


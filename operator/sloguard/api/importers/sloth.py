"""Sloth specs -> ServiceLevelObjectives.

Two spellings of one format: the ``prometheus/v1`` file (``version:`` at the top, snake_case) and the
``sloth.slok.dev/v1`` ``PrometheusServiceLevel`` object (camelCase). Each SLO of a service becomes
one ServiceLevelObjective named after Sloth's id, ``<service>-<slo name>``.

Sloth alerts in two severities, each over two window pairs (multiwindow, multi-burn-rate): the
*page* alert fires on the quick **or** the slow pair, the *ticket* alert likewise. sloguard writes
one alert per pair, so the four pairs become four tiers with Sloth's factors and windows; the tier
severity is the ``severity`` label Sloth's alert would carry (``page``/``ticket`` when none is set).
``factor = errorBudgetPercent / 100 x period / longWindow`` (Sloth's definition), so the default
30-day table gives 14.4, 6, 3 and 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core import conventions as c
from ...core.sli import has_window_placeholder
from .common import ImportedSLO, Refusal, Where, build, duration, k8s_name, seconds, split_labels, unknown_fields

PROMETHEUS_V1 = "prometheus/v1"
K8S_API_VERSION = "sloth.slok.dev/v1"
KIND_SERVICE_LEVEL = "PrometheusServiceLevel"
KIND_ALERT_WINDOWS = "AlertWindows"
DEFAULT_PERIOD = "30d"


@dataclass(frozen=True)
class AlertWindow:
    """One pair of windows: fire when both burn ``budget_percent`` of the period's budget at this pace."""

    budget_percent: float
    short_window: str
    long_window: str


@dataclass(frozen=True)
class AlertWindows:
    period: str
    page: tuple[AlertWindow, AlertWindow]  # quick, slow
    ticket: tuple[AlertWindow, AlertWindow]


#: Sloth's built-in table (the SRE workbook's), as budget shares so any period scales:
#:   page quick:    2% of the budget within 1h, confirmed over 5m   (14.4x for 30 days)
#:   page slow:     5% within 6h, confirmed over 30m                (6x)
#:   ticket quick: 10% within 1d, confirmed over 2h                 (3x)
#:   ticket slow:  10% within 3d, confirmed over 6h                 (1x)
def default_windows(period: str = DEFAULT_PERIOD) -> AlertWindows:
    return AlertWindows(
        period,
        (AlertWindow(2, "5m", "1h"), AlertWindow(5, "30m", "6h")),
        (AlertWindow(10, "2h", "1d"), AlertWindow(10, "6h", "3d")),
    )


def factor(window: AlertWindow, period: str) -> float:
    """Sloth's burn-rate factor: the share of the period's budget spent within the long window, per unit of time."""
    return round(window.budget_percent / 100 * seconds(period) / seconds(window.long_window), 6)


def is_sloth(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    return body.get("version") == PROMETHEUS_V1 or body.get("apiVersion") == K8S_API_VERSION


def parse_alert_windows(body: dict[str, Any], where: Where) -> AlertWindows | None:
    """A ``sloth.slok.dev/v1`` ``AlertWindows`` object, or None (refused, with the reason)."""
    spec = body.get("spec") or {}
    try:
        period = duration(spec.get("sloPeriod"), "spec.sloPeriod")

        def pair(sev: str, speed: str) -> AlertWindow:
            w = ((spec.get(sev) or {}).get(speed)) or {}
            p = f"spec.{sev}.{speed}"
            percent = w.get("errorBudgetPercent")
            if not isinstance(percent, int | float) or percent <= 0:
                raise Refusal(f"{p}.errorBudgetPercent", "required, a number above 0")
            return AlertWindow(float(percent), duration(w.get("shortWindow"), f"{p}.shortWindow"),
                               duration(w.get("longWindow"), f"{p}.longWindow"))

        return AlertWindows(period, (pair("page", "quick"), pair("page", "slow")),
                            (pair("ticket", "quick"), pair("ticket", "slow")))
    except Refusal as r:
        where.refuse(r.path, r.message)
        return None


class _Keys:
    """Field names in the file spelling (snake_case) or the CRD spelling (camelCase)."""

    def __init__(self, crd: bool) -> None:
        self.crd = crd
        self.error_query = "errorQuery" if crd else "error_query"
        self.total_query = "totalQuery" if crd else "total_query"
        self.error_ratio_query = "errorRatioQuery" if crd else "error_ratio_query"
        self.page_alert = "pageAlert" if crd else "page_alert"
        self.ticket_alert = "ticketAlert" if crd else "ticket_alert"
        self.slo_plugins = "sloPlugins" if crd else "slo_plugins"


def convert(body: dict[str, Any], source: str, namespace: str | None, windows: AlertWindows,
            diagnostics: list[Any]) -> list[ImportedSLO]:
    """Every SLO of one Sloth service that can be carried; findings go to ``diagnostics``."""
    crd = body.get("apiVersion") == K8S_API_VERSION
    keys = _Keys(crd)
    meta = body.get("metadata") or {}
    spec = body.get("spec") if crd else body
    prefix = "spec." if crd else ""
    kind = KIND_SERVICE_LEVEL if crd else PROMETHEUS_V1
    ns = namespace or (meta.get("namespace") if crd else None) or "default"
    service_ref = f"{meta.get('namespace') or 'default'}/{meta.get('name')}" if crd else str(body.get("service"))
    top = Where(source, kind, service_ref)
    if not isinstance(spec, dict):
        top.refuse("spec", "required field is missing (an object)")
        diagnostics.extend(top.diagnostics)
        return []
    service = spec.get("service")
    slos = spec.get("slos")
    if not service or not isinstance(slos, list) or not slos:
        top.refuse(f"{prefix}service" if not service else f"{prefix}slos", "required field is missing")
        diagnostics.extend(top.diagnostics)
        return []
    diagnostics.extend(top.diagnostics)
    out = []
    for i, slo in enumerate(slos):
        path = f"{prefix}slos[{i}]"
        name = str((slo or {}).get("name") or f"#{i + 1}")
        where = Where(source, kind, f"{service_ref} slo {name}")
        try:
            imported = _convert_slo(slo, spec, path, prefix, keys, str(service), ns, windows, where)
            if imported:
                out.append(imported)
        except Refusal as r:
            where.refuse(r.path, r.message)
        diagnostics.extend(where.diagnostics)
    return out


def _sli(sli: dict[str, Any], path: str, keys: _Keys) -> dict[str, Any]:
    """A Sloth SLI (events or raw) as a sloguard one; plugins are refused."""
    if sli.get("plugin"):
        plugin_id = (sli["plugin"] or {}).get("id", "?")
        raise Refusal(f"{path}.sli.plugin", f"SLI plugin {plugin_id!r} builds its queries in Go code; rewrite it "
                      "as events (error/total queries) or raw to import it")
    if sli.get("events"):
        ev = sli["events"]
        err, total = ev.get(keys.error_query), ev.get(keys.total_query)
        for field, value in ((keys.error_query, err), (keys.total_query, total)):
            if not value:
                raise Refusal(f"{path}.sli.events.{field}", "required field is missing")
            if not has_window_placeholder(str(value)):
                raise Refusal(f"{path}.sli.events.{field}", "has no {{.window}}; Sloth and sloguard both need it")
        return {"ratioQuery": {"errorQuery": str(err).strip(), "totalQuery": str(total).strip()}}
    if sli.get("raw"):
        query = (sli["raw"] or {}).get(keys.error_ratio_query)
        if not query:
            raise Refusal(f"{path}.sli.raw.{keys.error_ratio_query}", "required field is missing")
        return {"raw": {"errorRatioQuery": str(query).strip()}}
    raise Refusal(f"{path}.sli", "give events or raw (the SLI kinds sloguard can carry)")


def _convert_slo(slo: dict[str, Any], spec: dict[str, Any], path: str, prefix: str, keys: _Keys, service: str,
                 namespace: str, windows: AlertWindows, where: Where) -> ImportedSLO | None:
    if spec.get(keys.slo_plugins):
        raise Refusal(f"{prefix}{keys.slo_plugins}", "Sloth SLO plugins rewrite the generated rules in Go code; "
                      "sloguard cannot reproduce what they do")
    if not isinstance(slo, dict) or not slo.get("name"):
        raise Refusal(f"{path}.name", "required field is missing")
    if slo.get(keys.slo_plugins):
        raise Refusal(f"{path}.{keys.slo_plugins}", "Sloth SLO plugins rewrite the generated rules in Go code; "
                      "sloguard cannot reproduce what they do")
    unknown_fields(where, path, slo, {"name", "objective", "description", "labels", "sli", "alerting",
                                      keys.slo_plugins})
    unknown_fields(where, f"{path}.sli", slo.get("sli"), {"events", "raw", "plugin"})
    unknown_fields(where, f"{path}.alerting", slo.get("alerting"), {"name", "labels", "annotations",
                                                                    keys.page_alert, keys.ticket_alert})
    for key in (keys.page_alert, keys.ticket_alert):
        unknown_fields(where, f"{path}.alerting.{key}", (slo.get("alerting") or {}).get(key),
                       {"disable", "labels", "annotations", "for"})
    objective = slo.get("objective")
    if not isinstance(objective, int | float) or not 0 < objective < 100:
        raise Refusal(f"{path}.objective", f"must be a percentage between 0 and 100 (exclusive), got {objective!r}")
    out_sli = _sli(slo.get("sli") or {}, path, keys)

    labels = {**(spec.get("labels") or {}), **(slo.get("labels") or {})}
    alerting_in = slo.get("alerting") or {}
    alerting = _alerting(alerting_in, labels, path, keys, windows, where)
    out_spec: dict[str, Any] = {
        "service": service,
        "objective": float(objective),
        "window": windows.period,
        "sli": out_sli,
        "alerting": alerting,
    }
    if slo.get("description"):
        out_spec["description"] = str(slo["description"])[:1024]
    return build(where, path, namespace=namespace, name=k8s_name(service, str(slo["name"])), spec=out_spec)


def _alerting(alerting: dict[str, Any], labels: dict[str, Any], path: str, keys: _Keys, windows: AlertWindows,
              where: Where) -> dict[str, Any]:
    apath = f"{path}.alerting"
    out: dict[str, Any] = {}
    if alerting.get("name"):
        out["name"] = str(alerting["name"])
    common_labels = split_labels({**labels, **(alerting.get("labels") or {})}, where, f"{apath}.labels")
    annotations = {str(k): str(v) for k, v in (alerting.get("annotations") or {}).items()}
    page = alerting.get(keys.page_alert) or {}
    ticket = alerting.get(keys.ticket_alert) or {}
    enabled = [(sev, a, key, pair) for sev, a, key, pair in (
        ("page", page, keys.page_alert, windows.page), ("ticket", ticket, keys.ticket_alert, windows.ticket))
        if not a.get("disable")]
    if not enabled:
        out["disabled"] = True
        if common_labels:
            out["labels"] = common_labels
        if annotations:
            out["annotations"] = annotations
        return out

    # Per-alert labels and annotations: sloguard has one set for every tier. Keep what the enabled
    # alerts agree on; a value only one of them has cannot be carried without routing the other wrong.
    tiers: list[dict[str, Any]] = []
    per_labels: list[dict[str, str]] = []
    per_annotations: list[dict[str, str]] = []
    for sloth_severity, alert, key, pair in enabled:
        alert_labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        severity = alert_labels.pop(c.LABEL_SEVERITY, sloth_severity)
        if alert.get("for"):
            where.warn(f"{apath}.{key}.for", f"for: {alert['for']} is not carried by the import (add burnRates[].for "
                       "to wait); alerts may fire that much earlier than Sloth's")
        per_labels.append(alert_labels)
        per_annotations.append({str(k): str(v) for k, v in (alert.get("annotations") or {}).items()})
        for w in pair:
            tiers.append({"severity": str(severity), "factor": factor(w, windows.period), "shortWindow": w.short_window,
                          "longWindow": w.long_window})
    shared_labels = _shared(per_labels, [k for _, _, k, _ in enabled], "labels", apath, where)
    shared_annotations = _shared(per_annotations, [k for _, _, k, _ in enabled], "annotations", apath, where)
    merged_labels = {**common_labels, **split_labels(shared_labels, where, f"{apath}.labels")}
    if merged_labels:
        out["labels"] = merged_labels
    merged_annotations = {**annotations, **shared_annotations}
    if merged_annotations:
        out["annotations"] = merged_annotations
    out["burnRates"] = tiers
    return out


def _shared(per_alert: list[dict[str, str]], keys: list[str], what: str, apath: str, where: Where) -> dict[str, str]:
    if len(per_alert) == 1:
        return per_alert[0]
    first, second = per_alert
    shared = {k: v for k, v in first.items() if second.get(k) == v}
    for key_name, mine in zip(keys, per_alert, strict=True):
        for k, v in mine.items():
            if k not in shared:
                where.warn(f"{apath}.{key_name}.{what}.{k}", f"{k}={v!r} is only on the {key_name} alert; sloguard "
                           f"puts one set of {what} on every tier, so it is not carried")
    return shared

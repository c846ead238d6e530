"""Grafana dashboards from SLOs: one per SLO and an overview, as JSON models or sidecar ConfigMaps.

Every query reads the recording rules sloguard generates (``sloguard:*``), never the raw SLI
metrics, so a dashboard costs Prometheus almost nothing and shows exactly what alerts see.
ConfigMaps carry ``grafana_dashboard: "1"``, the label the Grafana Helm chart's sidecar loads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..core import conventions as c
from ..core.model import Objective
from ..core.rules import num, ratio_record, ratio_windows, selector
from ..core.windows import format_duration, normalize_duration

SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SIDECAR_LABEL = "grafana_dashboard"


def dashboard_uid(*parts: str) -> str:
    """A stable uid (Grafana allows 40 characters): readable prefix + hash of the full key."""
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()[:10]
    readable = "-".join(parts)[:27].strip("-")
    return f"slo-{readable}-{digest}"[:40]


def window_ratio(obj: Objective, window: str) -> str:
    """Error ratio over ``window``: its recording when there is one, else derived from the base ones."""
    w = normalize_duration(window)
    sel = selector(obj)
    if w in ratio_windows(obj):
        return f"{ratio_record(w)}{sel}"
    if obj.budgeting_method == "Timeslices" and obj.timeslice is not None:
        return f"avg_over_time({c.RECORD_SLICE_BAD}{obj.timeslice.window}{sel}[{w}])"
    return (f"sum_over_time({c.RECORD_ERRORS_5M}{sel}[{w}])"
            f" / (sum_over_time({c.RECORD_TOTAL_5M}{sel}[{w}]) > 0)")


def slo_window(obj: Objective) -> str:
    """The SLO window as a PromQL range (calendar windows: their nominal length, rolling)."""
    return format_duration(obj.window.seconds)


def _target(expr: str, legend: str, ref: str, *, instant: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"datasource": DATASOURCE, "refId": ref, "expr": expr, "legendFormat": legend,
                           "range": not instant, "instant": instant}
    return out


def _panel(pid: int, kind: str, title: str, grid: tuple[int, int, int, int], targets: list[dict[str, Any]],
           unit: str = "percentunit", description: str = "", **field_config: Any) -> dict[str, Any]:
    x, y, w, h = grid
    defaults: dict[str, Any] = {"unit": unit, **field_config}
    return {"id": pid, "type": kind, "title": title, "description": description, "datasource": DATASOURCE,
            "gridPos": {"x": x, "y": y, "w": w, "h": h}, "targets": targets,
            "fieldConfig": {"defaults": defaults, "overrides": []}, "options": {}}


def _dashboard(uid: str, title: str, tags: list[str], panels: list[dict[str, Any]], time_from: str,
               description: str = "") -> dict[str, Any]:
    return {
        "uid": uid, "title": title, "description": description, "tags": tags, "timezone": "browser",
        "editable": False, "graphTooltip": 1, "schemaVersion": SCHEMA_VERSION, "version": 1,
        "refresh": "1m", "time": {"from": time_from, "to": "now"},
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource",
                                 "query": "prometheus", "current": {}, "hide": 0}]},
        "annotations": {"list": []}, "links": [], "panels": panels,
    }


def slo_dashboard(obj: Objective) -> dict[str, Any]:
    """SLI vs objective, budget remaining over the window, burn rate per alert window, firing alerts."""
    sel = selector(obj)
    budget = num(obj.error_budget)
    window = slo_window(obj)
    over_window = window_ratio(obj, window)
    remaining = f"1 - ({over_window}) / {budget}"
    thresholds = {"mode": "absolute", "steps": [{"color": "red", "value": None}, {"color": "orange", "value": 0},
                                                 {"color": "green", "value": 0.25}]}
    burn_targets = []
    alert_windows: list[str] = []
    if not obj.alerting.disabled:
        for tier in obj.alerting.tiers:
            for w in (tier.long_window, tier.short_window):
                if w not in alert_windows:
                    alert_windows.append(w)
    for i, w in enumerate(alert_windows or ["1h"]):
        burn_targets.append(_target(f"({window_ratio(obj, w)}) / {budget}", f"burn rate {w}", chr(65 + i)))
    alert_expr = (f'ALERTS{{alertname="{obj.alerting.name}",{c.LABEL_SLO}="{obj.name}",'
                  f'{c.LABEL_NAMESPACE}="{obj.namespace}",alertstate="firing"}}')
    panels = [
        _panel(1, "stat", "Objective", (0, 0, 6, 4), [_target(f"{c.RECORD_OBJECTIVE}{sel}", "objective", "A",
                                                             instant=True)], decimals=3),
        _panel(2, "stat", f"SLI over {obj.window.text}", (6, 0, 6, 4),
               [_target(f"1 - ({over_window})", "SLI", "A", instant=True)], decimals=3),
        _panel(3, "stat", "Error budget remaining", (12, 0, 6, 4), [_target(remaining, "remaining", "A",
                                                                            instant=True)],
               decimals=1, thresholds=thresholds),
        _panel(4, "stat", "Burn rate (1h)", (18, 0, 6, 4),
               [_target(f"({window_ratio(obj, '1h')}) / {budget}", "1h", "A", instant=True)], unit="x", decimals=2),
        _panel(5, "timeseries", "SLI vs objective", (0, 4, 12, 8), [
            _target(f"1 - ({window_ratio(obj, '5m')})", "SLI (5m)", "A"),
            _target(f"1 - ({window_ratio(obj, '1h')})", "SLI (1h)", "B"),
            _target(f"{c.RECORD_OBJECTIVE}{sel}", "objective", "C"),
        ], decimals=4),
        _panel(6, "timeseries", f"Error budget remaining over {obj.window.text}", (12, 4, 12, 8),
               [_target(remaining, "remaining", "A")], thresholds=thresholds),
        _panel(7, "timeseries", "Burn rate per alert window", (0, 12, 16, 8), burn_targets, unit="x",
               description="1 = spending the budget exactly over the window; alerts fire when both windows "
                           "of a tier exceed its factor."),
        _panel(8, "table", "Firing alerts", (16, 12, 8, 8), [_target(alert_expr, "{{severity}}", "A",
                                                                     instant=True)], unit="none"),
    ]
    return _dashboard(dashboard_uid(obj.namespace, obj.name), f"SLO {obj.namespace}/{obj.name}",
                      ["sloguard", "slo", obj.service], panels, f"now-{min_range(obj)}",
                      description=obj.description or f"{obj.service}: {num(obj.objective * 100)}% over "
                                                     f"{obj.window.text}")


def min_range(obj: Objective) -> str:
    """Default time range: the window, at most 30 days (longer ranges are slow and rarely read)."""
    return format_duration(min(obj.window.seconds, 30 * 86400))


def overview_dashboard(objectives: Iterable[Objective]) -> dict[str, Any]:
    """Every SLO in one table: objective, SLI and budget left over its window, 1h burn rate."""
    objs = list(objectives)
    targets: list[dict[str, Any]] = []
    for i, obj in enumerate(objs):
        legend = f"{obj.namespace}/{obj.name}"
        budget = num(obj.error_budget)
        targets.append(_target(f"1 - ({window_ratio(obj, slo_window(obj))}) / {budget}", legend, f"R{i}",
                               instant=True))
    burn = [_target(f"({window_ratio(o, '1h')}) / {num(o.error_budget)}", f"{o.namespace}/{o.name}", f"B{i}")
            for i, o in enumerate(objs)]
    panels = [
        _panel(1, "bargauge", "Error budget remaining", (0, 0, 24, max(4, 2 + len(objs))), targets,
               min=0, max=1),
        _panel(2, "timeseries", "Burn rate (1h)", (0, 12, 24, 8), burn, unit="x"),
        _panel(3, "table", "Firing budget alerts", (0, 20, 24, 8),
               [_target('ALERTS{alertstate="firing",' + c.LABEL_SLO + '!=""}', "{{slo}}", "A", instant=True)],
               unit="none"),
    ]
    return _dashboard("sloguard-overview", "SLO overview", ["sloguard", "slo"], panels, "now-7d",
                      description="Every SLO sloguard manages")


def configmap(dashboard: Mapping[str, Any], name: str, namespace: str | None = None,
              folder: str | None = None) -> dict[str, Any]:
    """A ConfigMap the Grafana sidecar picks up (label ``grafana_dashboard: "1"``)."""
    meta: dict[str, Any] = {"name": name[:253],
                            "labels": {SIDECAR_LABEL: "1", c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE}}
    if namespace:
        meta["namespace"] = namespace
    if folder:
        meta["annotations"] = {"grafana_folder": folder}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": {f"{dashboard['uid']}.json": json.dumps(dashboard, indent=2, sort_keys=True)}}


def dashboard_configmap(obj: Objective, owner: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The operator's per-SLO dashboard ConfigMap, next to the SLO and deleted with it."""
    doc = configmap(slo_dashboard(obj), f"{obj.name}-slo-dashboard", obj.namespace)
    if owner:
        doc["metadata"]["ownerReferences"] = [dict(owner)]
    return doc


def all_dashboards(objectives: Iterable[Objective]) -> list[tuple[str, dict[str, Any]]]:
    """(file stem, dashboard) for the overview and each SLO."""
    objs = list(objectives)
    out = [("overview", overview_dashboard(objs))]
    out += [(f"{o.namespace}.{o.name}", slo_dashboard(o)) for o in objs]
    return out


def operator_dashboard() -> dict[str, Any]:
    """The operator itself (its /metrics): refresh freshness, reconciles, Prometheus, admission, budgets."""
    def rate(metric: str, by: str, window: str = "5m") -> str:
        return f"sum by ({by}) (rate({metric}[{window}]))"

    def quantile(q: float, metric: str, by: str = "") -> str:
        return f"histogram_quantile({q}, sum by ({', '.join([*filter(None, [by]), 'le'])}) (rate({metric}_bucket[5m])))"

    states = {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": 1}]}
    stale = {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "orange", "value": 120},
                                           {"color": "red", "value": 600}]}
    budget = {"mode": "absolute", "steps": [{"color": "red", "value": None}, {"color": "orange", "value": 0},
                                            {"color": "green", "value": 0.25}]}
    panels = [
        _panel(1, "stat", "Since the last budget refresh", (0, 0, 6, 4),
               [_target(f"time() - max({c.METRIC_REFRESH_LAST_SUCCESS})", "age", "A", instant=True)], unit="s",
               thresholds=stale, description="Seconds since a budget refresh last read Prometheus "
                                              "(SloguardBudgetRefreshStale fires after 600 s + 5 min)."),
        _panel(2, "stat", "SLOs exhausted", (6, 0, 6, 4),
               [_target(f'count({c.METRIC_SLO_STATE}{{state="{c.STATE_EXHAUSTED}"}} == 1) or vector(0)', "exhausted",
                        "A", instant=True)], unit="none", thresholds=states),
        _panel(3, "stat", "Workloads held", (12, 0, 6, 4),
               [_target(f'sum({c.METRIC_POLICY_HELD}{{action!="none"}}) or vector(0)', "held", "A", instant=True)],
               unit="none", thresholds=states),
        _panel(4, "stat", "Reconcile errors (15m)", (18, 0, 6, 4),
               [_target(f'sum(increase({c.METRIC_RECONCILE}_total{{result="{c.RESULT_ERROR}"}}[15m])) or vector(0)',
                        "errors", "A", instant=True)], unit="none", thresholds=states),
        _panel(5, "timeseries", "Reconciles per second", (0, 4, 12, 8),
               [_target(rate(f"{c.METRIC_RECONCILE}_total", "kind, result"), "{{kind}} {{result}}", "A")],
               unit="ops"),
        _panel(6, "timeseries", "Reconcile duration (p95)", (12, 4, 12, 8),
               [_target(quantile(0.95, c.METRIC_RECONCILE_DURATION, "kind"), "{{kind}}", "A")], unit="s"),
        _panel(7, "timeseries", "Budget refresh duration", (0, 12, 12, 8), [
            _target(quantile(0.5, c.METRIC_REFRESH_DURATION), "p50", "A"),
            _target(quantile(0.95, c.METRIC_REFRESH_DURATION), "p95", "B")], unit="s"),
        _panel(8, "timeseries", "Prometheus requests per second", (12, 12, 12, 8),
               [_target(rate(f"{c.METRIC_PROMETHEUS_REQUESTS}_total", "result"), "{{result}}", "A")], unit="reqps"),
        _panel(9, "timeseries", "Admission reviews per second (webhook)", (0, 20, 12, 8),
               [_target(rate(f"{c.METRIC_ADMISSION_REVIEWS}_total", "decision"), "{{decision}}", "A")], unit="reqps"),
        _panel(10, "timeseries", "Admission review duration (p99)", (12, 20, 12, 8),
               [_target(quantile(0.99, c.METRIC_ADMISSION_DURATION), "p99", "A")], unit="s"),
        _panel(11, "bargauge", "Error budget remaining", (0, 28, 12, 10),
               [_target(f"max by (namespace, slo) ({c.METRIC_BUDGET_REMAINING})", "{{namespace}}/{{slo}}", "A",
                        instant=True)], min=0, max=1, thresholds=budget),
        _panel(12, "table", "SLA credits (% of the monthly fee)", (12, 28, 12, 10),
               [_target(f"max by (namespace, contract, period) ({c.METRIC_SLA_CREDIT})",
                        "{{namespace}}/{{contract}} {{period}}", "A", instant=True)], unit="percent"),
    ]
    return _dashboard("sloguard-operator", "sloguard operator", ["sloguard", "operator"], panels, "now-6h",
                      description="The sloguard operator's own metrics")

"""Grafana dashboards: shared ones for every SLO, one per SLO, and the operator's own.

Two kinds of SLO dashboards:

* **Shared** (:func:`shared_overview_dashboard`, :func:`shared_detail_dashboard`): one overview
  and one detail dashboard for every SLO in the cluster, chosen with the ``$namespace`` and
  ``$slo`` variables. They read only cheap series: the recording rules sloguard generates
  (``sloguard:*``, a handful of series per SLO) and the operator's own gauges
  (``sloguard_slo_error_budget_remaining_ratio``: the budget the operator computes over the SLO's
  real window, calendar periods included, so a calendar month's budget starts again on the 1st).
  The chart ships them (``metrics.dashboard.enabled``); no per-SLO object is needed.
* **Per SLO** (:func:`slo_dashboard`, ``sloguard dashboards`` or the operator's optional
  ConfigMap beside each SLO): the same figures from the recording rules alone. A calendar window
  is drawn as the calendar period (the dashboard opens on "this month so far", ``now/M``, and the
  SLI and budget are computed over Grafana's ``$__range``), a rolling one as the window.

Every query reads recordings or the operator's gauges, never the raw SLI metrics, so a dashboard
costs Prometheus almost nothing and shows exactly what alerts see. ConfigMaps carry
``grafana_dashboard: "1"``, the label the Grafana Helm chart's sidecar loads.
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
    """Error ratio over ``window`` (a duration or a Grafana range variable such as ``$__range``):
    its recording when there is one, else derived from the base ones."""
    w = window if window.startswith("$") else normalize_duration(window)
    sel = selector(obj)
    if w in ratio_windows(obj):
        return f"{ratio_record(w)}{sel}"
    if obj.budgeting_method == "Timeslices" and obj.timeslice is not None:
        return f"avg_over_time({c.RECORD_SLICE_BAD}{obj.timeslice.window}{sel}[{w}])"
    return (f"sum_over_time({c.RECORD_ERRORS_5M}{sel}[{w}])"
            f" / (sum_over_time({c.RECORD_TOTAL_5M}{sel}[{w}]) > 0)")


def slo_window(obj: Objective) -> str:
    """The SLO window as a PromQL range: rolling windows their length; calendar windows Grafana's
    ``$__range`` (the dashboard's time range, which opens on the calendar period so far)."""
    if obj.window.is_calendar:
        return "$__range"
    return format_duration(obj.window.seconds)


#: Grafana relative ranges that start at the beginning of a calendar period ("/M": this month).
#: Quarters are fiscal quarters with the fiscal year starting in January (``fiscalYearStartMonth``
#: 0), i.e. calendar quarters; weeks start on Monday (``weekStart``), as ISO weeks do.
CALENDAR_RANGES = {"week": "now/w", "month": "now/M", "quarter": "now/fQ"}


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
               description: str = "", variables: list[dict[str, Any]] | None = None,
               timezone: str = "browser") -> dict[str, Any]:
    return {
        "uid": uid, "title": title, "description": description, "tags": tags, "timezone": timezone,
        "weekStart": "monday", "fiscalYearStartMonth": 0,
        "editable": False, "graphTooltip": 1, "schemaVersion": SCHEMA_VERSION, "version": 1,
        "refresh": "1m", "time": {"from": time_from, "to": "now"},
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource",
                                 "query": "prometheus", "current": {}, "hide": 0}, *(variables or [])]},
        "annotations": {"list": []}, "links": [], "panels": panels,
    }


def _variable(name: str, label: str, query: str, *, multi: bool) -> dict[str, Any]:
    """A query variable listing one label's values (``label_values``), refreshed on time change."""
    out: dict[str, Any] = {"name": name, "label": label, "type": "query", "datasource": DATASOURCE,
                           "query": {"query": query, "refId": f"{name}-values"}, "definition": query,
                           "refresh": 2, "sort": 1, "multi": multi, "includeAll": multi, "current": {},
                           "hide": 0}
    if multi:
        out["allValue"] = ".+"
    return out


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
    calendar = obj.window.calendar
    return _dashboard(dashboard_uid(obj.namespace, obj.name), f"SLO {obj.namespace}/{obj.name}",
                      ["sloguard", "slo", obj.service], panels,
                      CALENDAR_RANGES[calendar] if calendar else f"now-{min_range(obj)}",
                      description=obj.description or f"{obj.service}: {num(obj.objective * 100)}% over "
                                                     f"{obj.window.text}",
                      timezone=obj.window.timezone if calendar else "browser")


def min_range(obj: Objective) -> str:
    """Default time range: the window, at most 30 days (longer ranges are slow and rarely read)."""
    return format_duration(min(obj.window.seconds, 30 * 86400))


# --- shared dashboards: every SLO, chosen with $namespace / $slo ----------------------------------

SHARED_OVERVIEW_UID = "sloguard-slo-overview"
SHARED_DETAIL_UID = "sloguard-slo-detail"
_BUDGET_STEPS = {"mode": "absolute", "steps": [{"color": "red", "value": None}, {"color": "orange", "value": 0},
                                                {"color": "green", "value": 0.25}]}


def _rules_sel(namespace: str, slo: str | None = None) -> str:
    """Selector on the recording rules' labels (``slo_namespace``, ``slo``)."""
    parts = [f'{c.LABEL_NAMESPACE}=~"{namespace}"' if namespace.startswith("$") and slo is None
             else f'{c.LABEL_NAMESPACE}="{namespace}"']
    if slo is not None:
        parts.append(f'{c.LABEL_SLO}="{slo}"')
    return "{" + ",".join(parts) + "}"


def _gauge_sel(namespace: str, slo: str | None = None) -> str:
    """Selector on the operator's gauges (``namespace``, ``slo``)."""
    if slo is None:
        return f'{{namespace=~"{namespace}"}}'
    return f'{{namespace="{namespace}",{c.LABEL_SLO}="{slo}"}}'


def _burn(ratio: str, sel: str) -> str:
    """Burn rate: an error-ratio recording over the SLO's error budget (``sloguard:error_budget:ratio``)."""
    return f"{ratio} / on({c.LABEL_SLO}, {c.LABEL_NAMESPACE}) group_left() {c.RECORD_ERROR_BUDGET}{sel}"


def _detail_link() -> list[dict[str, Any]]:
    return [{"title": "SLO detail", "url": f"/d/{SHARED_DETAIL_UID}?var-namespace=${{__field.labels.namespace}}"
                                            "&var-slo=${__field.labels.slo}&${__url_time_range}"}]


def shared_overview_dashboard() -> dict[str, Any]:
    """Every SLO of the chosen namespaces: budget left (the operator's figure over each SLO's own
    window), states, 1h burn rates and firing alerts; each bar links to the detail dashboard."""
    ns = "$namespace"
    rules, gauges = _rules_sel(ns), _gauge_sel(ns)
    panels = [
        _panel(1, "bargauge", "Error budget remaining", (0, 0, 24, 10),
               [_target(f"max by (namespace, {c.LABEL_SLO}) ({c.METRIC_BUDGET_REMAINING}{gauges})",
                        "{{namespace}}/{{slo}}", "A", instant=True)],
               min=0, max=1, thresholds=_BUDGET_STEPS, links=_detail_link(),
               description="What the operator computes over each SLO's window (calendar periods as "
                           "calendar periods); the same figure as status.budget.remainingPercent."),
        _panel(2, "stat", "SLOs exhausted", (0, 10, 8, 4),
               [_target(f'count({c.METRIC_SLO_STATE}{{namespace=~"{ns}",state="{c.STATE_EXHAUSTED}"}} == 1)'
                        " or vector(0)", "exhausted", "A", instant=True)], unit="none"),
        _panel(3, "stat", "SLOs", (8, 10, 8, 4),
               [_target(f"count({c.RECORD_OBJECTIVE}{rules})", "SLOs", "A", instant=True)], unit="none"),
        _panel(4, "stat", "Budget alerts firing", (16, 10, 8, 4),
               [_target(f'count(ALERTS{{alertstate="firing",{c.LABEL_NAMESPACE}=~"{ns}",{c.LABEL_SLO}!=""}})'
                        " or vector(0)", "firing", "A", instant=True)], unit="none"),
        _panel(5, "timeseries", "Burn rate (1h)", (0, 14, 24, 8),
               [_target(_burn(f"{ratio_record('1h')}{rules}", rules), "{{slo_namespace}}/{{slo}}", "A")], unit="x",
               description="1 = spending the budget exactly over the window."),
        _panel(6, "timeseries", "Error budget remaining over time", (0, 22, 24, 8),
               [_target(f"max by (namespace, {c.LABEL_SLO}) ({c.METRIC_BUDGET_REMAINING}{gauges})",
                        "{{namespace}}/{{slo}}", "A")], thresholds=_BUDGET_STEPS),
        _panel(7, "table", "Firing budget alerts", (0, 30, 24, 8),
               [_target(f'ALERTS{{alertstate="firing",{c.LABEL_NAMESPACE}=~"{ns}",{c.LABEL_SLO}!=""}}',
                        "{{slo}}", "A", instant=True)], unit="none"),
    ]
    variables = [_variable("namespace", "Namespace",
                           f"label_values({c.RECORD_OBJECTIVE}, {c.LABEL_NAMESPACE})", multi=True)]
    return _dashboard(SHARED_OVERVIEW_UID, "SLO overview", ["sloguard", "slo"], panels, "now-7d",
                      description="Every SLO sloguard manages, by namespace", variables=variables)


def shared_detail_dashboard() -> dict[str, Any]:
    """One SLO, chosen with ``$namespace`` and ``$slo``: objective, SLI, budget left and its history
    (the operator's figure: a calendar window's budget starts again at the period's start), burn
    rate per recorded window, firing alerts."""
    ns, slo = "$namespace", "$slo"
    rules, gauges = _rules_sel(ns, slo), _gauge_sel(ns, slo)
    # every ratio recording (5m, 30m, 1h, ...; not timeslices' ``rate5m:events``), its window as a label
    windows = "[0-9smhdwy]+"
    every_window = (f'label_replace({{__name__=~"{c.RECORD_ERROR_RATIO_PREFIX}{windows}",{rules[1:-1]}}}, '
                    f'"window", "$1", "__name__", "{c.RECORD_ERROR_RATIO_PREFIX}({windows})")')
    state = f"{c.METRIC_SLO_STATE}{gauges[:-1]}}} == 1"
    panels = [
        _panel(1, "stat", "Objective", (0, 0, 6, 4), [_target(f"{c.RECORD_OBJECTIVE}{rules}", "{{window}}", "A",
                                                             instant=True)], decimals=3),
        _panel(2, "stat", "Error budget remaining", (6, 0, 6, 4),
               [_target(f"{c.METRIC_BUDGET_REMAINING}{gauges}", "remaining", "A", instant=True)],
               decimals=1, thresholds=_BUDGET_STEPS),
        _panel(3, "stat", "Burn rate (1h)", (12, 0, 6, 4),
               [_target(_burn(f"{ratio_record('1h')}{rules}", rules), "1h", "A", instant=True)],
               unit="x", decimals=2),
        _panel(4, "stat", "State", (18, 0, 6, 4), [_target(state, "{{state}}", "A", instant=True)], unit="none",
               description="healthy, warning, critical or exhausted: the operator's budget state."),
        _panel(5, "timeseries", "SLI vs objective", (0, 4, 12, 8), [
            _target(f"1 - {ratio_record('5m')}{rules}", "SLI (5m)", "A"),
            _target(f"1 - {ratio_record('1h')}{rules}", "SLI (1h)", "B"),
            _target(f"{c.RECORD_OBJECTIVE}{rules}", "objective", "C"),
        ], decimals=4),
        _panel(6, "timeseries", "Error budget remaining over the SLO window", (12, 4, 12, 8),
               [_target(f"{c.METRIC_BUDGET_REMAINING}{gauges}", "remaining", "A")], thresholds=_BUDGET_STEPS),
        _panel(7, "timeseries", "Burn rate per recorded window", (0, 12, 16, 8),
               [_target(_burn(every_window, rules), "burn rate {{window}}", "A")], unit="x",
               description="1 = spending the budget exactly over the window; an alert tier fires when both "
                           "its windows exceed its factor."),
        _panel(8, "table", "Firing alerts", (16, 12, 8, 8),
               [_target(f'ALERTS{{alertstate="firing",{rules[1:-1]}}}', "{{severity}}", "A", instant=True)],
               unit="none"),
    ]
    slos_of_namespace = f'label_values({c.RECORD_OBJECTIVE}{{{c.LABEL_NAMESPACE}="$namespace"}}, {c.LABEL_SLO})'
    variables = [
        _variable("namespace", "Namespace", f"label_values({c.RECORD_OBJECTIVE}, {c.LABEL_NAMESPACE})", multi=False),
        _variable("slo", "SLO", slos_of_namespace, multi=False),
    ]
    return _dashboard(SHARED_DETAIL_UID, "SLO detail", ["sloguard", "slo"], panels, "now-7d",
                      description="One SLO: pick it with the namespace and SLO variables", variables=variables)


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

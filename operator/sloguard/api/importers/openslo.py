"""OpenSLO -> ServiceLevelObjectives: ``openslo/v1`` (SLO, SLI, AlertPolicy, AlertCondition, DataSource,
inline or referenced by name) and Sloth's ``openslo/v1alpha`` subset (an SLO with ratioMetrics).

Mapping, field by field:

* ``timeWindow``: rolling ``28d``/``1w``/``12h`` -> that duration; calendar (``isRolling: false``) ``1w``,
  ``1M``, ``1Q`` -> week, month, quarter in ``calendar.timeZone``. Rolling months have no fixed length
  and other calendar lengths have no sloguard period: refused.
* ``ratioMetric``: queries with ``{{.window}}`` -> ratioQuery; plain counter selectors (``counter: true``)
  -> ratio, or latency when good and total are one ``_bucket`` series told apart by ``le``; ``rawType:
  failure|success`` + ``raw`` -> raw. ``thresholdMetric`` (good while ``metric op value``) -> raw, whose
  error ratio is the share of evaluations breaching the threshold.
* ``objectives``: one SLO per objective (``<name>-<displayName or index>`` when there are several);
  ``target`` is a fraction, ``targetPercent`` a percentage; ``timeSliceTarget``/``timeSliceWindow``
  -> timeslice.
* ``alertPolicies`` -> tiers: each ``burnrate`` condition is a tier with ``threshold`` as factor and
  ``lookbackWindow`` as the long window. OpenSLO has one window per condition; the short window is
  read from the condition's ``sloguard.io/short-window`` annotation (``sloguard export`` writes it)
  or is 1/12 of the long one (the SRE workbook's rule), with a warning.
* Only Prometheus data sources can be carried.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ...core.sli import has_window_placeholder
from ...core.windows import format_duration
from .common import (
    ImportedSLO,
    Refusal,
    Where,
    alert_name,
    build,
    duration,
    format_selector,
    k8s_name,
    seconds,
    selector_parts,
    split_labels,
    unknown_fields,
)
from .sloth import default_windows, factor

V1 = "openslo/v1"
V1ALPHA = "openslo/v1alpha"
ANNOTATION_SHORT_WINDOW = "sloguard.io/short-window"
#: A sloguard tier's ``for`` and ``keepFiringFor``, written by ``sloguard export`` (alertAfter repeats ``for``
#: for other tools); a peer's own alertAfter is not carried yet (a warning says so).
ANNOTATION_FOR = "sloguard.io/for"
ANNOTATION_KEEP_FIRING_FOR = "sloguard.io/keep-firing-for"
ANNOTATION_ALERT_LABELS = "sloguard.io/alert-labels"
ANNOTATION_ALERT_ANNOTATIONS = "sloguard.io/alert-annotations"
ANNOTATION_MINIMUM_TRAFFIC = "sloguard.io/minimum-traffic"
ANNOTATION_SERVICE_NAMESPACE = "sloguard.io/namespace"

_CALENDAR = {"1w": "week", "1M": "month", "1Q": "quarter"}
_UNITS_V1ALPHA = {"Second": "s", "Minute": "m", "Hour": "h", "Day": "d", "Week": "w", "Month": "M",
                  "Quarter": "Q", "Year": "Y"}


def is_openslo(body: Any) -> bool:
    return isinstance(body, dict) and body.get("apiVersion") in (V1, V1ALPHA)


@dataclass
class Catalog:
    """Named OpenSLO objects that SLOs refer to, from every file given."""

    slis: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, body: dict[str, Any]) -> None:
        name = str((body.get("metadata") or {}).get("name") or "")
        table = {"SLI": self.slis, "AlertPolicy": self.policies, "AlertCondition": self.conditions,
                 "DataSource": self.sources}.get(str(body.get("kind")))
        if table is not None and name:
            table[name] = body


def convert(body: dict[str, Any], source: str, namespace: str | None, catalog: Catalog,
            diagnostics: list[Any]) -> list[ImportedSLO]:
    """Every objective of one OpenSLO SLO that can be carried."""
    meta = body.get("metadata") or {}
    where = Where(source, f"{body.get('apiVersion')} SLO", str(meta.get("name") or "?"))
    out: list[ImportedSLO] = []
    try:
        out = (_convert_v1alpha if body.get("apiVersion") == V1ALPHA else _convert_v1)(
            body, meta, namespace, catalog, where)
    except Refusal as r:
        where.refuse(r.path, r.message)
    diagnostics.extend(where.diagnostics)
    return out


# --- windows -------------------------------------------------------------------------------------


def _window(duration_text: str, rolling: bool, timezone: str | None, path: str) -> tuple[str, str | None]:
    text = str(duration_text)
    if not rolling:
        if text not in _CALENDAR:
            raise Refusal(path, f"calendar window {text!r}: sloguard has calendar weeks (1w), months (1M) and "
                          "quarters (1Q)")
        return _CALENDAR[text], timezone
    if text.endswith(("M", "Q", "Y")):
        raise Refusal(path, f"rolling {text!r}: months, quarters and years have no fixed length; use days "
                      "(e.g. 30d) or a calendar window")
    return duration(text, path), None


# --- SLIs ----------------------------------------------------------------------------------------


def _source_query(ms: Any, path: str, catalog: Catalog, legacy: bool = False) -> str:
    """The Prometheus query of an OpenSLO metric source; other data sources are refused."""
    if not isinstance(ms, dict):
        raise Refusal(path, "required field is missing")
    if legacy:  # Sloth's v1alpha: {source, queryType, query}
        if str(ms.get("source", "")).lower() != "prometheus":
            raise Refusal(f"{path}.source", f"data source {ms.get('source')!r}: only prometheus can be carried")
        query = ms.get("query")
    else:
        src = ms.get("metricSource") or {}
        kind = src.get("type")
        if not kind and src.get("metricSourceRef"):
            ds = catalog.sources.get(str(src["metricSourceRef"]))
            if ds is None:
                raise Refusal(f"{path}.metricSource.metricSourceRef", f"no DataSource named "
                              f"{src['metricSourceRef']!r} in the given files")
            kind = (ds.get("spec") or {}).get("type")
        if str(kind or "").lower() != "prometheus":
            raise Refusal(f"{path}.metricSource.type", f"data source type {kind!r}: only Prometheus can be carried")
        spec = src.get("spec") or {}
        query = spec.get("query") or spec.get("promql")
    if not query:
        raise Refusal(f"{path}", "no query")
    return str(query).strip()


def _threshold_sli(metric: Any, path: str, objective: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """``thresholdMetric`` with the objective's op and value: the share of time in breach."""
    query = _source_query(metric, path, catalog)
    op, value = objective.get("op"), objective.get("value")
    bad = {"lte": ">", "lt": ">=", "gte": "<", "gt": "<="}.get(str(op))
    if bad is None or not isinstance(value, int | float):
        raise Refusal(path, "a threshold metric needs the objective's op (lte, lt, gte, gt) and a numeric value")
    breach = f"({query}) {bad} bool {value:g}"
    expr = breach if has_window_placeholder(query) else f"avg_over_time(({breach})[{{{{.window}}}}:])"
    return {"raw": {"errorRatioQuery": expr}}


def _raw_ratio_sli(ratio: dict[str, Any], rpath: str, catalog: Catalog) -> dict[str, Any]:
    """``ratioMetric.raw``: a precomputed success (or failure) ratio."""
    query = _source_query(ratio["raw"], f"{rpath}.raw", catalog)
    raw_type = ratio.get("rawType", "failure")
    if raw_type == "success":
        gauge = _bool_gauge(query)
        if gauge:
            return {"boolGauge": {"selector": gauge}}
    if not has_window_placeholder(query):
        query = f"avg_over_time(({query})[{{{{.window}}}}:])"
    if raw_type == "success":
        return {"raw": {"errorRatioQuery": f"1 - ({query})"}}
    if raw_type != "failure":
        raise Refusal(f"{rpath}.rawType", f"must be success or failure, got {raw_type!r}")
    return {"raw": {"errorRatioQuery": query}}


def _sli_spec(sli: dict[str, Any], path: str, objective: dict[str, Any], catalog: Catalog,
              where: Where) -> dict[str, Any]:
    if sli.get("thresholdMetric"):
        return _threshold_sli(sli["thresholdMetric"], f"{path}.thresholdMetric", objective, catalog)
    ratio = sli.get("ratioMetric")
    if not isinstance(ratio, dict):
        raise Refusal(path, "give ratioMetric or thresholdMetric")
    rpath = f"{path}.ratioMetric"
    if ratio.get("raw"):
        return _raw_ratio_sli(ratio, rpath, catalog)
    total = _source_query(ratio.get("total"), f"{rpath}.total", catalog)
    kind = "bad" if ratio.get("bad") else "good"
    if not ratio.get(kind):
        raise Refusal(rpath, "give good or bad, and total")
    part = _source_query(ratio[kind], f"{rpath}.{kind}", catalog)
    return _ratio(kind, part, total, bool(ratio.get("counter", True)), rpath)


def _ratio(kind: str, part: str, total: str, counter: bool, rpath: str) -> dict[str, Any]:
    templated = [has_window_placeholder(q) for q in (part, total)]
    if all(templated):
        key = "errorQuery" if kind == "bad" else "goodQuery"
        return {"ratioQuery": {key: part, "totalQuery": total}}
    if any(templated):
        raise Refusal(rpath, "either both queries use {{.window}} or neither does")
    part_sel, total_sel = selector_parts(part), selector_parts(total)
    if part_sel is None or total_sel is None:
        raise Refusal(f"{rpath}.{kind if part_sel is None else 'total'}", "a query without {{.window}} must be a "
                      "plain counter selector (sloguard takes its rate over each window); write the range as "
                      "[{{.window}}] otherwise")
    if not counter:
        raise Refusal(f"{rpath}.counter", "counter: false selectors (gauges) cannot be turned into event rates; use "
                      "queries with {{.window}}")
    latency = _latency(kind, part_sel, total_sel)
    if latency:
        return {"latency": latency}
    key = "errors" if kind == "bad" else "good"
    return {"ratio": {key: format_selector(*part_sel), "total": format_selector(*total_sel)}}


def _latency(kind: str, good: tuple[str, list[tuple[str, str, str]]],
             total: tuple[str, list[tuple[str, str, str]]]) -> dict[str, Any] | None:
    """good = h_bucket{...,le="T"} and total = h_bucket{...,le="+Inf"|"V"}: a latency SLI."""
    if kind != "good" or good[0] != total[0] or not good[0].endswith("_bucket"):
        return None
    def split(m: list[tuple[str, str, str]]) -> tuple[list[tuple[str, str, str]], str | None]:
        le = [v for n, op, v in m if n == "le" and op == "="]
        return sorted(x for x in m if x[0] != "le"), (le[0] if le else None)
    good_rest, good_le = split(good[1])
    total_rest, total_le = split(total[1])
    if good_rest != total_rest or good_le is None or total_le is None:
        return None
    try:
        threshold = float(good_le)
        valid_below = float(total_le)
    except ValueError:
        return None
    out: dict[str, Any] = {"histogram": format_selector(good[0], good_rest), "threshold": threshold}
    if valid_below != float("inf"):
        out["validBelow"] = valid_below
    return out


def _bool_gauge(query: str) -> str | None:
    """``avg_over_time(SEL[{{.window}}])`` (how ``sloguard export`` writes a boolGauge) -> SEL."""
    prefix, suffix = "avg_over_time(", "[{{.window}}])"
    if query.startswith(prefix) and query.endswith(suffix):
        inner = query[len(prefix):-len(suffix)]
        if selector_parts(inner) is not None:
            return inner
    return None


# --- alerting ------------------------------------------------------------------------------------


def _resolve_policy(entry: Any, ppath: str, catalog: Catalog) -> dict[str, Any]:
    """An inline AlertPolicy, or the one its ``alertPolicyRef`` names."""
    policy = entry
    if isinstance(entry, dict) and entry.get("alertPolicyRef"):
        policy = catalog.policies.get(str(entry["alertPolicyRef"]))
        if policy is None:
            raise Refusal(f"{ppath}.alertPolicyRef", f"no AlertPolicy named {entry['alertPolicyRef']!r} in the "
                          "given files")
    if not isinstance(policy, dict):
        raise Refusal(ppath, "an AlertPolicy or an alertPolicyRef")
    return policy


def _resolve_condition(cond: Any, cpath: str, catalog: Catalog) -> Any:
    """An inline AlertCondition, or the one its ``conditionRef`` names."""
    if isinstance(cond, dict) and cond.get("conditionRef"):
        ref = str(cond["conditionRef"])
        cond = catalog.conditions.get(ref)
        if cond is None:
            raise Refusal(f"{cpath}.conditionRef", f"no AlertCondition named {ref!r} in the given files")
    return cond


def _first_policy_settings(pmeta: dict[str, Any], ppath: str) -> dict[str, Any]:
    """What the first AlertPolicy sets for every tier: the alert name, labels, annotations, minimum traffic."""
    out: dict[str, Any] = {}
    annotations = pmeta.get("annotations") or {}
    if pmeta.get("name"):
        out["name"] = alert_name(str(pmeta["name"]))
    for key, field_name in ((ANNOTATION_ALERT_LABELS, "labels"), (ANNOTATION_ALERT_ANNOTATIONS, "annotations")):
        if key in annotations:
            try:
                out[field_name] = {str(k): str(v) for k, v in json.loads(annotations[key]).items()}
            except (ValueError, AttributeError):
                raise Refusal(f"{ppath}.metadata.annotations.{key}", "must be a JSON object") from None
    if ANNOTATION_MINIMUM_TRAFFIC in annotations:
        out["minimumTraffic"] = float(annotations[ANNOTATION_MINIMUM_TRAFFIC])
    return out


def _alerting(policies: list[Any], path: str, catalog: Catalog, where: Where) -> dict[str, Any]:
    if not policies:
        return {}
    tiers: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    for i, entry in enumerate(policies):
        ppath = f"{path}[{i}]"
        policy = _resolve_policy(entry, ppath, catalog)
        pmeta = policy.get("metadata") or {}
        pspec = policy.get("spec") or {}
        if i == 0:
            out.update(_first_policy_settings(pmeta, ppath))
        elif pmeta.get("name") and alert_name(str(pmeta["name"])) != out.get("name"):
            where.warn(f"{ppath}.metadata.name", f"sloguard gives every tier one alert name; this policy's alerts are "
                       f"named {out.get('name')!r}")
        if pspec.get("notificationTargets"):
            where.warn(f"{ppath}.spec.notificationTargets", "notification targets are Alertmanager's job with "
                       "sloguard; route on the alert labels (severity, slo, service)")
        for j, cond in enumerate(pspec.get("conditions") or []):
            cpath = f"{ppath}.spec.conditions[{j}]"
            tiers.append(_tier(_resolve_condition(cond, cpath, catalog), cpath, where))
    if tiers:
        out["burnRates"] = tiers
    else:
        out["disabled"] = True
    if "labels" in out:
        out["labels"] = split_labels(out["labels"], where, f"{path}[0].metadata.annotations")
    return out


def _tier(cond: Any, cpath: str, where: Where) -> dict[str, Any]:
    if not isinstance(cond, dict):
        raise Refusal(cpath, "an AlertCondition or a conditionRef")
    cmeta = cond.get("metadata") or {}
    cspec = cond.get("spec") or {}
    c = cspec.get("condition") or {}
    if c.get("kind") != "burnrate":
        raise Refusal(f"{cpath}.spec.condition.kind", f"{c.get('kind')!r}: only burnrate conditions can be carried")
    if c.get("op", "gte") not in ("gte", "gt"):
        raise Refusal(f"{cpath}.spec.condition.op", "a burn-rate alert fires above its threshold: op gte or gt")
    threshold = c.get("threshold")
    if not isinstance(threshold, int | float) or threshold <= 0:
        raise Refusal(f"{cpath}.spec.condition.threshold", "required, a burn rate above 0")
    long_window = duration(c.get("lookbackWindow"), f"{cpath}.spec.condition.lookbackWindow")
    annotations = cmeta.get("annotations") or {}
    if ANNOTATION_SHORT_WINDOW in annotations:
        short_window = duration(annotations[ANNOTATION_SHORT_WINDOW],
                                f"{cpath}.metadata.annotations.{ANNOTATION_SHORT_WINDOW}")
    else:
        short_window = format_duration(max(60, seconds(long_window) // 12 // 60 * 60))
        where.warn(f"{cpath}.spec.condition", f"OpenSLO gives one window ({long_window}); sloguard confirms it over "
                   f"a short window of 1/12 of it ({short_window}), as the SRE workbook recommends")
    after = str(c.get("alertAfter") or "0").strip()
    waits = {}
    for key, annotation in (("for", ANNOTATION_FOR), ("keepFiringFor", ANNOTATION_KEEP_FIRING_FOR)):
        if annotation in annotations:
            waits[key] = duration(annotations[annotation], f"{cpath}.metadata.annotations.{annotation}")
    if not re.fullmatch(r"0+[smhdwy]?", after) and after != waits.get("for"):
        duration(after, f"{cpath}.spec.condition.alertAfter")
        where.warn(f"{cpath}.spec.condition.alertAfter", f"alertAfter {c['alertAfter']} is not carried by the import "
                   "(add burnRates[].for to wait); the alert fires that much earlier")
    severity = str(cspec.get("severity") or "page").lower()
    return {"severity": severity, "factor": float(threshold), "shortWindow": short_window, "longWindow": long_window,
            **waits}


# --- SLOs ----------------------------------------------------------------------------------------


def _calendar_and_description(spec: dict[str, Any], timezone: str | None) -> dict[str, Any]:
    """Spec fields every imported objective of an SLO shares: its calendar time zone and description."""
    out: dict[str, Any] = {}
    if timezone:
        out["timezone"] = timezone
    if spec.get("description"):
        out["description"] = str(spec["description"])[:1024]
    return out


def _objective_name(meta: dict[str, Any], objectives: list[Any], i: int, label: Any) -> str:
    """The SLO's name; with several objectives, suffixed with the objective's ``label`` (or its number)."""
    name = str(meta["name"])
    if len(objectives) > 1:
        name = k8s_name(name, str(label or i + 1))
    return name


def _v1_window(windows: list[Any]) -> tuple[str, str | None]:
    """The one ``spec.timeWindow`` entry as (window, calendar time zone or None when rolling)."""
    if len(windows) != 1 or not isinstance(windows[0], dict):
        raise Refusal("spec.timeWindow", "exactly one time window is needed")
    tw = windows[0]
    calendar = tw.get("calendar") or {}
    return _window(tw.get("duration", ""), bool(tw.get("isRolling", True)), calendar.get("timeZone"),
                   "spec.timeWindow[0].duration")


def _v1_indicator(spec: dict[str, Any], catalog: Catalog) -> tuple[dict[str, Any], str]:
    """The SLI document (inline ``indicator`` or the one ``indicatorRef`` names) and where it came from."""
    sli_doc = spec.get("indicator")
    sli_path = "spec.indicator"
    if spec.get("indicatorRef"):
        sli_doc = catalog.slis.get(str(spec["indicatorRef"]))
        sli_path = "spec.indicatorRef"
        if sli_doc is None:
            raise Refusal(sli_path, f"no SLI named {spec['indicatorRef']!r} in the given files")
    if not isinstance(sli_doc, dict):
        raise Refusal("spec.indicator", "give indicator (inline SLI) or indicatorRef")
    return sli_doc, sli_path


def _timeslices(method: str, sli: dict[str, Any], obj: dict[str, Any], opath: str, where: Where) -> dict[str, Any]:
    """Spec fields for a Timeslices/RatioTimeslices objective (none for a threshold or raw SLI, with a warning)."""
    if "raw" in sli:
        where.warn("spec.budgetingMethod", f"{method} with a threshold or raw SLI: sloguard counts "
                   "bad evaluations over time, i.e. slices as long as the evaluation interval")
        return {}
    if method == "RatioTimeslices":
        where.warn("spec.budgetingMethod", "RatioTimeslices is carried as Timeslices")
    return {"budgetingMethod": "Timeslices",
            "timeslice": {"window": duration(obj.get("timeSliceWindow") or "5m", f"{opath}.timeSliceWindow"),
                          "target": float(obj.get("timeSliceTarget") or 0.99)}}


def _convert_v1(body: dict[str, Any], meta: dict[str, Any], namespace: str | None, catalog: Catalog,
                where: Where) -> list[ImportedSLO]:
    spec = body.get("spec")
    if not isinstance(spec, dict):
        raise Refusal("spec", "required field is missing (an object)")
    if not meta.get("name"):
        raise Refusal("metadata.name", "required field is missing")
    unknown_fields(where, "spec", spec, {"description", "service", "indicator", "indicatorRef", "timeWindow",
                                         "budgetingMethod", "objectives", "alertPolicies"})
    window, timezone = _v1_window(spec.get("timeWindow") or [])
    method = spec.get("budgetingMethod", "Occurrences")
    if method not in ("Occurrences", "Timeslices", "RatioTimeslices"):
        raise Refusal("spec.budgetingMethod", f"{method!r}: Occurrences, Timeslices or RatioTimeslices")
    sli_doc, sli_path = _v1_indicator(spec, catalog)
    alerting = _alerting(spec.get("alertPolicies") or [], "spec.alertPolicies", catalog, where)
    objectives = spec.get("objectives") or []
    if not objectives:
        raise Refusal("spec.objectives", "required field is missing")
    annotations = meta.get("annotations") or {}
    ns = namespace or meta.get("namespace") or annotations.get(ANNOTATION_SERVICE_NAMESPACE) or "default"
    out = []
    for i, obj in enumerate(objectives):
        opath = f"spec.objectives[{i}]"
        try:
            target = _target(obj, opath)
            sli = _sli_spec(sli_doc.get("spec") or {}, f"{sli_path}.spec", obj, catalog, where)
            out_spec: dict[str, Any] = {"service": str(spec.get("service") or meta["name"]), "objective": target,
                                        "window": window, "sli": sli}
            out_spec.update(_calendar_and_description(spec, timezone))
            if method != "Occurrences":
                out_spec.update(_timeslices(method, sli, obj, opath, where))
            if alerting:
                out_spec["alerting"] = alerting
            name = _objective_name(meta, objectives, i, obj.get("displayName") or obj.get("name"))
            imported = build(where, opath, namespace=ns, name=k8s_name(name), spec=out_spec)
            if imported:
                out.append(imported)
        except Refusal as r:
            where.refuse(r.path, r.message)
    return out


def _target(obj: Any, opath: str) -> float:
    if not isinstance(obj, dict):
        raise Refusal(opath, "an objective object")
    if obj.get("targetPercent") is not None:
        value = obj["targetPercent"]
        if isinstance(value, int | float) and 0 < value < 100:
            return float(value)
        raise Refusal(f"{opath}.targetPercent", f"must be between 0 and 100 (exclusive), got {value!r}")
    value = obj.get("target")
    if isinstance(value, int | float) and 0 < value < 1:
        return round(float(value) * 100, 10)
    raise Refusal(f"{opath}.target", f"must be a fraction between 0 and 1 (exclusive), got {value!r}")


def _v1alpha_window(windows: list[Any]) -> tuple[str, str | None]:
    """The one ``spec.timeWindows`` entry as (window, calendar time zone or None when rolling)."""
    if len(windows) != 1 or not isinstance(windows[0], dict):
        raise Refusal("spec.timeWindows", "exactly one time window is needed")
    tw = windows[0]
    unit = _UNITS_V1ALPHA.get(str(tw.get("unit")))
    if unit is None or not isinstance(tw.get("count"), int):
        raise Refusal("spec.timeWindows[0]", "count (an integer) and unit (Day, Week, Month...) are needed")
    calendar = tw.get("calendar") or {}
    return _window(f"{tw['count']}{unit}", bool(tw.get("isRolling", True)), calendar.get("timeZone"),
                   "spec.timeWindows[0]")


def _v1alpha_ratio(obj: Any, opath: str, catalog: Catalog) -> dict[str, Any]:
    """An objective's ``ratioMetrics`` (good over total), the only SLI Sloth reads from openslo/v1alpha."""
    rm = (obj or {}).get("ratioMetrics")
    if not isinstance(rm, dict):
        raise Refusal(f"{opath}.ratioMetrics", "Sloth's openslo/v1alpha support is ratioMetrics only")
    good = _source_query(rm.get("good"), f"{opath}.ratioMetrics.good", catalog, legacy=True)
    total = _source_query(rm.get("total"), f"{opath}.ratioMetrics.total", catalog, legacy=True)
    return _ratio("good", good, total, True, f"{opath}.ratioMetrics")


def _convert_v1alpha(body: dict[str, Any], meta: dict[str, Any], namespace: str | None, catalog: Catalog,
                     where: Where) -> list[ImportedSLO]:
    spec = body.get("spec")
    if not isinstance(spec, dict) or not meta.get("name"):
        raise Refusal("spec" if not isinstance(spec, dict) else "metadata.name", "required field is missing")
    window, timezone = _v1alpha_window(spec.get("timeWindows") or [])
    if spec.get("budgetingMethod", "Occurrences") != "Occurrences":
        raise Refusal("spec.budgetingMethod", "Sloth's openslo/v1alpha support is Occurrences only")
    out = []
    objectives = spec.get("objectives") or []
    if not objectives:
        raise Refusal("spec.objectives", "required field is missing")
    sloth = default_windows(window if timezone is None else "30d")
    tiers = [{"severity": sev, "factor": factor(w, sloth.period), "shortWindow": w.short_window,
              "longWindow": w.long_window}
             for sev, pair in (("page", sloth.page), ("ticket", sloth.ticket)) for w in pair]
    where.warn("spec", "Sloth generates no alerts for openslo/v1alpha SLOs: imported with alerting disabled "
               "(Sloth's page and ticket tiers are listed; delete alerting.disabled to turn them on)")
    for i, obj in enumerate(objectives):
        opath = f"spec.objectives[{i}]"
        try:
            sli = _v1alpha_ratio(obj, opath, catalog)
            out_spec: dict[str, Any] = {
                "service": str(spec.get("service") or meta["name"]),
                "objective": _target(obj, opath),
                "window": window,
                "sli": sli,
                # Sloth writes no alerts for OpenSLO; Sloth's tiers are kept, switched off, as Sloth would do.
                "alerting": {"disabled": True, "burnRates": tiers},
            }
            out_spec.update(_calendar_and_description(spec, timezone))
            name = _objective_name(meta, objectives, i, obj.get("displayName"))
            imported = build(where, opath, namespace=namespace or "default", name=k8s_name(name), spec=out_spec)
            if imported:
                out.append(imported)
        except Refusal as r:
            where.refuse(r.path, r.message)
    return out

"""Pyrra ``pyrra.dev/v1alpha1`` ServiceLevelObjectives -> sloguard ServiceLevelObjectives.

Pyrra alerts on four window pairs defined for a 28-day window and scaled to the SLO's window
(rounded to the minute), with fixed factors; its alerts also wait a ``for`` duration, which the
import does not carry yet (a warning says so; ``burnRates[].for`` can be added by hand).
The table below is Pyrra's documented behaviour:

=========  ======  ============  ============  ==========
severity   factor  long (28d)    short (28d)   for (28d)
=========  ======  ============  ============  ==========
critical   14      1h  = W/672   5m  = W/8064  2m  = W/20160
critical   7       6h  = W/112   30m = W/1344  15m = W/2688
warning    2       1d  = W/28    2h  = W/336   1h  = W/672
warning    1       4d  = W/7     6h  = W/112   3h  = W/224
=========  ======  ============  ============  ==========
"""

from __future__ import annotations

from typing import Any

from ...core.windows import format_duration
from .common import (
    ImportedSLO,
    Refusal,
    Where,
    build,
    duration,
    format_selector,
    k8s_name,
    seconds,
    selector_parts,
    split_labels,
    unknown_fields,
)

API_VERSION = "pyrra.dev/v1alpha1"
KIND = "ServiceLevelObjective"
LABEL_PREFIX = "pyrra.dev/"

#: (severity, factor, long divisor, short divisor, for divisor) of the window W, per the table above.
PYRRA_WINDOWS: tuple[tuple[str, float, int, int, int], ...] = (
    ("critical", 14, 672, 8064, 20160),
    ("critical", 7, 112, 1344, 2688),
    ("warning", 2, 28, 336, 672),
    ("warning", 1, 7, 112, 224),
)


def is_pyrra(body: Any) -> bool:
    return isinstance(body, dict) and body.get("apiVersion") == API_VERSION


def _minutes(total_seconds: float) -> str:
    """Pyrra rounds every window to the minute (half away from zero, like Go's Duration.Round)."""
    minutes = int(total_seconds / 60 + 0.5)
    return format_duration(max(minutes, 1) * 60)


def pyrra_tiers(window_seconds: int) -> list[tuple[str, float, str, str, str]]:
    """(severity, factor, short, long, for) for an SLO window, as Pyrra computes them."""
    return [(sev, factor, _minutes(window_seconds / short), _minutes(window_seconds / long),
             _minutes(window_seconds / for_))
            for sev, factor, long, short, for_ in PYRRA_WINDOWS]


def convert(body: dict[str, Any], source: str, namespace: str | None, diagnostics: list[Any]) -> list[ImportedSLO]:
    meta = body.get("metadata") or {}
    where = Where(source, KIND, f"{meta.get('namespace') or 'default'}/{meta.get('name') or '?'}")
    try:
        imported = _convert(body, meta, namespace, where)
    except Refusal as r:
        where.refuse(r.path, r.message)
        imported = None
    diagnostics.extend(where.diagnostics)
    return [imported] if imported else []


def _selector(value: Any, path: str) -> tuple[str, list[tuple[str, str, str]]]:
    metric = (value or {}).get("metric") if isinstance(value, dict) else None
    if not metric:
        raise Refusal(f"{path}.metric", "required field is missing")
    parts = selector_parts(str(metric))
    if parts is None:
        raise Refusal(f"{path}.metric", f"{metric!r} is not a series selector such as metric{{label=\"value\"}}")
    return parts


_Indicator = tuple[dict[str, Any], list[str], str]  # (sloguard SLI, Pyrra grouping labels, service)


def _ratio_sli(r: dict[str, Any]) -> _Indicator:
    grouping = list(r.get("grouping") or [])
    errors = _selector(r.get("errors"), "spec.indicator.ratio.errors")
    total = _selector(r.get("total"), "spec.indicator.ratio.total")
    if grouping:
        by = ", ".join(grouping)
        sli = {"ratioQuery": {
            "errorQuery": f"sum by ({by}) (rate({format_selector(*errors)}[{{{{.window}}}}]))",
            "totalQuery": f"sum by ({by}) (rate({format_selector(*total)}[{{{{.window}}}}]))"}}
    else:
        sli = {"ratio": {"errors": format_selector(*errors), "total": format_selector(*total)}}
    return sli, grouping, _job(total)


def _latency_sli(lat: dict[str, Any], where: Where) -> _Indicator:
    grouping = list(lat.get("grouping") or [])
    success = _selector(lat.get("success"), "spec.indicator.latency.success")
    total = _selector(lat.get("total"), "spec.indicator.latency.total")
    service = _job(total)
    le = [v for n, op, v in success[1] if n == "le" and op == "="]
    if not le:
        raise Refusal("spec.indicator.latency.success.metric", "needs an le=\"<seconds>\" matcher (the latency "
                      "threshold)")
    try:
        threshold = float(le[0])
    except ValueError:
        raise Refusal("spec.indicator.latency.success.metric", f"le={le[0]!r} is not a number") from None
    others = [m for m in success[1] if m[0] != "le"]
    if grouping:
        by = ", ".join(grouping)
        good = format_selector(success[0], success[1])
        all_ = format_selector(*total)
        return {"ratioQuery": {
            "goodQuery": f"sum by ({by}) (rate({good}[{{{{.window}}}}]))",
            "totalQuery": f"sum by ({by}) (rate({all_}[{{{{.window}}}}]))"}}, grouping, service
    if sorted(others) != sorted(total[1]) or total[0] != success[0].removesuffix("_bucket") + "_count":
        where.warn("spec.indicator.latency.total.metric", "sloguard counts all requests from the histogram's "
                   f"le=\"+Inf\" bucket of {format_selector(success[0], others)}, not from this selector")
    return {"latency": {"histogram": format_selector(success[0], others), "threshold": threshold}}, grouping, service


def _bool_gauge_sli(bg: dict[str, Any]) -> _Indicator:
    if bg.get("grouping"):
        raise Refusal("spec.indicator.boolGauge.grouping", "grouping is not supported for boolGauge SLIs")
    gauge = _selector(bg, "spec.indicator.boolGauge")
    return {"boolGauge": {"selector": format_selector(*gauge)}}, [], _job(gauge)


def _indicator(indicator: dict[str, Any], where: Where) -> _Indicator:
    """``spec.indicator`` (ratio, latency or boolGauge) as a sloguard SLI."""
    if indicator.get("latencyNative"):
        raise Refusal("spec.indicator.latencyNative", "native histograms are not supported by sloguard's latency "
                      "SLI (classic _bucket series only)")
    if indicator.get("ratio"):
        return _ratio_sli(indicator["ratio"])
    if indicator.get("latency"):
        return _latency_sli(indicator["latency"], where)
    if indicator.get("boolGauge"):
        return _bool_gauge_sli(indicator["boolGauge"])
    raise Refusal("spec.indicator", "give ratio, latency or boolGauge")


def _target(spec: dict[str, Any]) -> float:
    try:
        raw_target: Any = spec.get("target")
        return float(raw_target)  # Pyrra writes it as a string: "99.9"
    except (TypeError, ValueError):
        raise Refusal("spec.target", f"must be a percentage such as \"99.9\", got {spec.get('target')!r}") from None


def _alerting(spec: dict[str, Any], meta: dict[str, Any], window: str, where: Where) -> dict[str, Any]:
    """Pyrra's alerting settings and ``pyrra.dev/`` labels; Pyrra's burn-rate tiers for the window."""
    pyrra_labels = {k.removeprefix(LABEL_PREFIX): v for k, v in (meta.get("labels") or {}).items()
                    if k.startswith(LABEL_PREFIX)}
    alerting_in = spec.get("alerting") or {}
    alerting: dict[str, Any] = {}
    if alerting_in.get("name"):
        alerting["name"] = str(alerting_in["name"])
    labels = split_labels(pyrra_labels, where, "metadata.labels")
    if labels:
        alerting["labels"] = labels
    if alerting_in.get("absent") is not None and alerting_in.get("absent") is not False:
        where.warn("spec.alerting.absent", "Pyrra's absent-metric alerts are not generated by sloguard")
    if alerting_in.get("disabled") or alerting_in.get("burnrates") is False:
        alerting["disabled"] = True
        return alerting
    tiers, waits = [], []
    for severity, factor, short, long, for_ in pyrra_tiers(seconds(window)):
        tiers.append({"severity": severity, "factor": factor, "shortWindow": short, "longWindow": long})
        waits.append(f"{long}/{short}: {for_}")
    where.warn("spec.alerting", f"Pyrra's alerts wait a for: duration ({', '.join(waits)}); the import does not "
               "carry it (add burnRates[].for to wait), so each fires that much earlier than Pyrra's would")
    alerting["burnRates"] = tiers
    return alerting


def _convert(body: dict[str, Any], meta: dict[str, Any], namespace: str | None, where: Where) -> ImportedSLO | None:
    spec = body.get("spec")
    if not meta.get("name"):
        raise Refusal("metadata.name", "required field is missing")
    if not isinstance(spec, dict):
        raise Refusal("spec", "required field is missing (an object)")
    unknown_fields(where, "spec", spec, {"target", "window", "description", "indicator", "alerting"})
    unknown_fields(where, "spec.indicator", spec.get("indicator"), {"ratio", "latency", "latencyNative", "boolGauge"})
    unknown_fields(where, "spec.alerting", spec.get("alerting"), {"name", "disabled", "burnrates", "absent"})
    target = _target(spec)
    if not spec.get("window"):
        raise Refusal("spec.window", "required field is missing (Pyrra requires it too)")
    window = duration(spec["window"], "spec.window")
    sli, grouping, service = _indicator(spec.get("indicator") or {}, where)
    if grouping:
        where.warn("spec.indicator", f"grouping by {', '.join(grouping)}: alerts fire per group as in Pyrra, but the "
                   "budget in the SLO's status sums all groups")
    out_spec: dict[str, Any] = {
        "service": service or str(meta["name"]),
        "objective": target,
        "window": window,
        "sli": sli,
        "alerting": _alerting(spec, meta, window, where),
    }
    if spec.get("description"):
        out_spec["description"] = str(spec["description"])[:1024]
    ns = namespace or meta.get("namespace") or "default"
    return build(where, "spec", namespace=ns, name=k8s_name(str(meta["name"])), spec=out_spec)


def _job(selector: tuple[str, list[tuple[str, str, str]]]) -> str:
    """The service: the selector's job="..." matcher, as Pyrra's UI groups by it."""
    for name, op, value in selector[1]:
        if name == "job" and op == "=":
            return value
    return ""

"""ServiceLevelObjective -> OpenSLO v1: one ``SLO`` with its SLI and alert policy inline.

What OpenSLO cannot say natively travels in annotations that ``sloguard import`` reads back, so
import after export gives the same objective: each condition's short window
(``sloguard.io/short-window``), the alert labels and annotations (JSON), the traffic gate and the
namespace. Every SLI kind has an OpenSLO spelling:

* ratio -> ``ratioMetric`` with counter selectors (``bad`` or ``good``, and ``total``);
* ratioQuery -> ``ratioMetric`` with the ``{{.window}}`` queries;
* latency -> ``ratioMetric``: good = the ``le="<threshold>"`` bucket, total = the ``+Inf`` (or
  ``validBelow``) bucket of the same histogram;
* raw -> ``ratioMetric`` ``rawType: failure``; boolGauge -> ``rawType: success`` over
  ``avg_over_time(<gauge>[{{.window}}])``.
"""

from __future__ import annotations

import json
from typing import Any

from ...core.sli import with_matcher
from ...core.windows import default_tiers, parse_window
from ..importers.openslo import (
    ANNOTATION_ALERT_ANNOTATIONS,
    ANNOTATION_ALERT_LABELS,
    ANNOTATION_FOR,
    ANNOTATION_KEEP_FIRING_FOR,
    ANNOTATION_MINIMUM_TRAFFIC,
    ANNOTATION_SERVICE_NAMESPACE,
    ANNOTATION_SHORT_WINDOW,
    V1,
)
from ..slo import SLISpec, SLOSpec

#: A calendar period's OpenSLO duration, and a start that is a period boundary (2024-01-01 is a Monday).
_CALENDAR = {"week": "1w", "month": "1M", "quarter": "1Q"}
_CALENDAR_START = "2024-01-01 00:00:00"


def _source(query: str) -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def _number(value: float) -> str:
    return f"{value:.12g}"


def indicator(sli: SLISpec) -> dict[str, Any]:
    """The ``spec`` of an OpenSLO SLI for one of sloguard's SLI kinds."""
    if sli.ratio:
        key, part = ("bad", sli.ratio.errors) if sli.ratio.errors else ("good", sli.ratio.good)
        return {"ratioMetric": {"counter": True, key: _source(str(part)), "total": _source(sli.ratio.total)}}
    if sli.ratio_query:
        q = sli.ratio_query
        key, part = ("bad", q.error_query) if q.error_query else ("good", q.good_query)
        return {"ratioMetric": {"counter": False, key: _source(str(part)), "total": _source(q.total_query)}}
    if sli.latency:
        lat = sli.latency
        valid = "+Inf" if lat.valid_below is None else _number(lat.valid_below)
        return {"ratioMetric": {
            "counter": True,
            "good": _source(with_matcher(lat.histogram, f'le="{_number(lat.threshold)}"')),
            "total": _source(with_matcher(lat.histogram, f'le="{valid}"')),
        }}
    if sli.raw:
        return {"ratioMetric": {"rawType": "failure", "raw": _source(sli.raw.error_ratio_query)}}
    assert sli.bool_gauge is not None
    return {"ratioMetric": {"rawType": "success",
                            "raw": _source(f"avg_over_time({sli.bool_gauge.selector}[{{{{.window}}}}])")}}


def export_slo(namespace: str, name: str, spec: SLOSpec) -> dict[str, Any]:
    """One OpenSLO v1 SLO document."""
    window = parse_window(spec.window, spec.timezone)
    if window.calendar:
        time_window: dict[str, Any] = {"duration": _CALENDAR[window.calendar], "isRolling": False,
                                       "calendar": {"startTime": _CALENDAR_START, "timeZone": spec.timezone}}
    else:
        time_window = {"duration": spec.window, "isRolling": True}
    objective: dict[str, Any] = {"displayName": name, "target": round(spec.objective_percent / 100, 12)}
    if spec.budgeting_method == "Timeslices" and spec.timeslice:
        objective["timeSliceTarget"] = spec.timeslice.target
        objective["timeSliceWindow"] = spec.timeslice.window
    a = spec.alerting
    tiers = [(b.severity, b.factor, b.short_window, b.long_window, b.for_, b.keep_firing_for)
             for b in a.burn_rates] if a.burn_rates else [
        (t.severity, t.factor, t.short_window, t.long_window, None, None) for t in default_tiers(window)]

    def waits(for_: str | None, keep: str | None) -> dict[str, str]:
        return {k: v for k, v in ((ANNOTATION_FOR, for_), (ANNOTATION_KEEP_FIRING_FOR, keep)) if v}

    conditions = [] if a.disabled else [{
        "kind": "AlertCondition",
        "metadata": {"name": f"{severity}-{long_w}-{i}".lower(),
                     "annotations": {ANNOTATION_SHORT_WINDOW: short_w, **waits(for_, keep)}},
        "spec": {"severity": severity,
                 "condition": {"kind": "burnrate", "op": "gte", "threshold": factor, "lookbackWindow": long_w,
                               "alertAfter": for_ or "0m"}},
    } for i, (severity, factor, short_w, long_w, for_, keep) in enumerate(tiers)]
    policy_annotations = {}
    if a.labels:
        policy_annotations[ANNOTATION_ALERT_LABELS] = json.dumps(a.labels, sort_keys=True)
    if a.annotations:
        policy_annotations[ANNOTATION_ALERT_ANNOTATIONS] = json.dumps(a.annotations, sort_keys=True)
    if a.minimum_traffic:
        policy_annotations[ANNOTATION_MINIMUM_TRAFFIC] = _number(a.minimum_traffic)
    policy_meta: dict[str, Any] = {"name": a.name}
    if policy_annotations:
        policy_meta["annotations"] = policy_annotations
    out_spec: dict[str, Any] = {}
    if spec.description:
        out_spec["description"] = spec.description
    out_spec |= {
        "service": spec.service,
        "indicator": {"metadata": {"name": name}, "spec": indicator(spec.sli)},
        "timeWindow": [time_window],
        "budgetingMethod": spec.budgeting_method,
        "objectives": [objective],
        "alertPolicies": [{"kind": "AlertPolicy", "metadata": policy_meta,
                           "spec": {"alertWhenBreaching": True, "conditions": conditions}}],
    }
    return {"apiVersion": V1, "kind": "SLO",
            "metadata": {"name": name, "annotations": {ANNOTATION_SERVICE_NAMESPACE: namespace}},
            "spec": out_spec}

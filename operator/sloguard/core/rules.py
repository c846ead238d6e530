"""Objective -> Prometheus rule groups (recording + multiwindow multi-burn-rate alerts), as data.

Shape of what is generated for one SLO (all series carry ``slo``, ``slo_namespace``, ``service``):

* two base recordings over 5m — the bad-event rate and the total rate;
* an error ratio per window ``W`` derived from the base recordings as
  ``sum_over_time(errors[W]) / sum_over_time(total[W])``: a ratio of summed rates, so an hour
  with ten times the traffic weighs ten times as much (a mean of 5m ratios does not — sloth#618),
  and no ``rate()`` ever runs over hours or days of raw samples;
* for Timeslices, a 0/1 "slice was bad" recording and per-window bad-slice fractions instead;
* metadata (objective, budget) for dashboards;
* one alert per tier: both windows must burn faster than ``factor x (1 - objective)``; a tier's
  ``for`` and ``keep_firing_for`` become the alert's own.

Zero traffic yields no sample at all (``total > 0`` filters it), so no NaN and no alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import conventions as c
from .model import Objective
from .sli import is_time_based, queries
from .windows import REPORTED_BURN_WINDOWS, sort_windows

BASE_WINDOW = "5m"


@dataclass(frozen=True)
class Rule:
    """A recording (``record``) or alerting (``alert``) rule."""

    expr: str
    record: str | None = None
    alert: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    for_: str | None = None
    keep_firing_for: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"record": self.record} if self.record else {"alert": self.alert}
        out["expr"] = self.expr
        if self.for_:
            out["for"] = self.for_
        if self.keep_firing_for:
            out["keep_firing_for"] = self.keep_firing_for
        if self.labels:
            out["labels"] = dict(self.labels)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]
    interval: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.interval:
            out["interval"] = self.interval
        out["rules"] = [r.to_dict() for r in self.rules]
        return out


def num(value: float) -> str:
    """A float as PromQL reads it back exactly enough (12 significant digits, no exponent noise)."""
    text = f"{value:.12g}"
    return text if "e" not in text else f"{value:.15f}".rstrip("0")


def base_labels(obj: Objective) -> dict[str, str]:
    return {c.LABEL_SLO: obj.name, c.LABEL_NAMESPACE: obj.namespace, c.LABEL_SERVICE: obj.service}


def selector(obj: Objective) -> str:
    """Matchers that pick this SLO's recordings out of everybody's."""
    return f'{{{c.LABEL_SLO}="{obj.name}",{c.LABEL_NAMESPACE}="{obj.namespace}"}}'


def ratio_record(window: str) -> str:
    return f"{c.RECORD_ERROR_RATIO_PREFIX}{window}"


def slice_record(obj: Objective) -> str:
    assert obj.timeslice is not None
    return f"{c.RECORD_SLICE_BAD}{obj.timeslice.window}"


def group_name(obj: Objective) -> str:
    return f"sloguard-{obj.namespace}-{obj.name}"


def ratio_windows(obj: Objective) -> list[str]:
    """Windows whose error ratio is recorded: the reported set plus every alert window."""
    windows = set(REPORTED_BURN_WINDOWS)
    if not obj.alerting.disabled:
        for tier in obj.alerting.tiers:
            windows.update((tier.short_window, tier.long_window))
    return sort_windows(windows)  # one spelling each: "60m" and "1h" are one window, recorded once


def recording_rules(obj: Objective) -> list[Rule]:
    labels = base_labels(obj)
    sel = selector(obj)
    base = queries(obj.sli, BASE_WINDOW)
    rules = [
        Rule(base.errors, record=c.RECORD_ERRORS_5M, labels=labels),
        Rule(base.total, record=c.RECORD_TOTAL_5M, labels=labels),
    ]
    windows = ratio_windows(obj)
    if obj.budgeting_method == "Timeslices" and obj.timeslice is not None:
        ts = obj.timeslice
        length = ts.window
        rules.append(Rule(_event_ratio(sel, length), record=f"{c.RECORD_ERROR_RATIO_PREFIX}{length}:events",
                          labels=labels))
        rules.append(Rule(
            f"{c.RECORD_ERROR_RATIO_PREFIX}{length}:events{sel} > bool {num(1 - ts.target)}",
            record=slice_record(obj), labels=labels,
        ))
        for w in windows:
            rules.append(Rule(f"avg_over_time({slice_record(obj)}{sel}[{w}])", record=ratio_record(w),
                              labels=labels))
    else:
        for w in windows:
            rules.append(Rule(_event_ratio(sel, w), record=ratio_record(w), labels=labels))
    rules.append(Rule(f"vector({num(obj.objective)})", record=c.RECORD_OBJECTIVE,
                      labels={**labels, c.LABEL_WINDOW: obj.window.text}))
    rules.append(Rule(f"vector({num(obj.error_budget)})", record=c.RECORD_ERROR_BUDGET,
                      labels={**labels, c.LABEL_WINDOW: obj.window.text}))
    return rules


def _event_ratio(sel: str, window: str) -> str:
    if window == BASE_WINDOW:
        return f"{c.RECORD_ERRORS_5M}{sel} / ({c.RECORD_TOTAL_5M}{sel} > 0)"
    return (f"sum_over_time({c.RECORD_ERRORS_5M}{sel}[{window}])"
            f" / (sum_over_time({c.RECORD_TOTAL_5M}{sel}[{window}]) > 0)")


def alert_rules(obj: Objective) -> list[Rule]:
    if obj.alerting.disabled:
        return []
    sel = selector(obj)
    budget = obj.error_budget
    out = []
    for tier in obj.alerting.tiers:
        long_w, short_w = tier.long_window, tier.short_window  # already in their one spelling
        burn = num(tier.factor)
        expr = (f"({ratio_record(long_w)}{sel} / {num(budget)} > {burn})"
                f" and ({ratio_record(short_w)}{sel} / {num(budget)} > {burn})")
        if obj.alerting.minimum_traffic > 0 and not is_time_based(obj.sli):
            expr += f" and (avg_over_time({c.RECORD_TOTAL_5M}{sel}[{long_w}]) >= {num(obj.alerting.minimum_traffic)})"
        hours_to_empty = obj.window.seconds / tier.factor / 3600
        labels = {
            **obj.alerting.labels,
            c.LABEL_SLO: obj.name,
            c.LABEL_SERVICE: obj.service,
            c.LABEL_SEVERITY: tier.severity,
            c.LABEL_LONG_WINDOW: long_w,
            c.LABEL_SHORT_WINDOW: short_w,
        }
        what = "bad slices" if obj.budgeting_method == "Timeslices" else "errors"
        annotations = {
            "summary": (f"{obj.service}/{obj.name} is burning its error budget "
                        "{{ printf \"%.1f\" $value }}x too fast"),
            "description": (
                f"SLO {obj.namespace}/{obj.name} ({num(obj.objective * 100)}% over {obj.window.text}): "
                f"{what} over the last {long_w} and {short_w} burn the budget faster than {burn}x "
                f"(now {{{{ printf \"%.1f\" $value }}}}x over {long_w}); at {burn}x the whole budget "
                f"lasts {hours_to_empty:.3g}h."
            ),
            "burn_rate_threshold": burn,
            **obj.alerting.annotations,
        }
        out.append(Rule(expr, alert=obj.alerting.name, labels=labels, annotations=annotations, for_=tier.for_,
                        keep_firing_for=tier.keep_firing_for))
    return out


def make_rule_groups(obj: Objective) -> list[RuleGroup]:
    """All rules for one SLO, in one group so alerts see the recordings of the same evaluation."""
    return [RuleGroup(group_name(obj), tuple(recording_rules(obj) + alert_rules(obj)))]

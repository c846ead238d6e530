"""Alerts on the operator's own metrics (the chart's ``metrics.alerts``), as plain rule-file data.

``hack/sync_chart.py`` writes them to ``charts/sloguard/files/sloguard-operator.rules.yaml``; the
chart's PrometheusRule embeds that file, ``tests/rules`` checks it with promtool and proves each
alert fires and resolves.

Aggregations drop ``instance`` and ``pod``: with several replicas only the one refreshing budgets
exports them, and ``max`` across replicas picks the live refresh timestamp. The ServiceMonitor
scrapes with ``honorLabels`` so the SLO's own ``namespace`` and ``service`` labels are kept.
"""

from __future__ import annotations

from typing import Any

from . import conventions as c

GROUP_NAME = "sloguard-operator"
#: A refresh that has not read Prometheus for this long is stale (20 cycles at the default 30 s).
STALE_AFTER_SECONDS = 600
#: Share of a kind's reconciles failing over 15 minutes that is more than the odd conflict.
RECONCILE_ERROR_SHARE = 0.1

REPLICAS = "instance, pod"


def operator_alert_groups() -> list[dict[str, Any]]:
    """The rule groups, in Prometheus rule-file form (``{"groups": ...}`` holds them)."""
    rules: list[dict[str, Any]] = [
        {
            # No budget refresh read Prometheus for 10 minutes (and still not 5 minutes later):
            # status, states and policy holds are frozen at their last values.
            "alert": "SloguardBudgetRefreshStale",
            "expr": f"time() - max without ({REPLICAS}) ({c.METRIC_REFRESH_LAST_SUCCESS}) > {STALE_AFTER_SECONDS}",
            "for": "5m",
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "sloguard has not refreshed error budgets from Prometheus",
                "description": "The last budget refresh that read Prometheus was {{ printf \"%.0f\" $value }}s "
                               "ago: SLO status, budget states and ErrorBudgetPolicy holds keep their last "
                               "values. See the PrometheusReachable condition of the SLOs and the operator "
                               "log.",
            },
        },
        {
            # More than 10% of one kind's reconciles failed over 15 minutes, for 15 minutes.
            "alert": "SloguardReconcileErrors",
            "expr": (f'sum by (job, kind) (rate({c.METRIC_RECONCILE}_total{{result="{c.RESULT_ERROR}"}}[15m]))'
                     f" / sum by (job, kind) (rate({c.METRIC_RECONCILE}_total[15m])) > {RECONCILE_ERROR_SHARE}"),
            "for": "15m",
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "sloguard fails to reconcile {{ $labels.kind }} objects",
                "description": "More than 10% of {{ $labels.kind }} reconciles failed over the last 15 minutes: "
                               "see the objects' Ready condition, their Events and the operator log.",
            },
        },
        {
            # An SLO's budget is spent (remaining <= 0) for 5 minutes. One alert per SLO with its
            # namespace, name and service -- and slo_namespace, the label ErrorBudgetBurn alerts
            # carry -- so Alertmanager routes it to the team owning the SLO.
            "alert": "ErrorBudgetExhausted",
            "expr": (f'label_replace(max without ({REPLICAS}) ({c.METRIC_BUDGET_REMAINING}) <= 0, '
                     f'"{c.LABEL_NAMESPACE}", "$1", "namespace", "(.*)")'),
            "for": "5m",
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "Error budget of SLO {{ $labels.namespace }}/{{ $labels.slo }} is exhausted",
                "description": "{{ $labels.service }} has spent its error budget (remaining "
                               "{{ $value | humanizePercentage }}). ErrorBudgetPolicies on this SLO hold "
                               "releases until it recovers.",
            },
        },
    ]
    return [{"name": GROUP_NAME, "rules": rules}]

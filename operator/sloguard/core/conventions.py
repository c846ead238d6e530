"""Every name sloguard puts into the world, in one place.

Metric, label, annotation, condition and field-manager names are an interface: dashboards,
alert routes, Argo CD health checks and admission policies match on them. Keeping them here
means a rename is one edit and a grep finds every consumer.
"""

from __future__ import annotations

from typing import Final

# --- API -------------------------------------------------------------------------------------
GROUP: Final = "sloguard.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
CATEGORY: Final = "sloguard"

KIND_SLO: Final = "ServiceLevelObjective"
PLURAL_SLO: Final = "servicelevelobjectives"
SINGULAR_SLO: Final = "servicelevelobjective"
SHORT_SLO: Final = "slo"

KIND_POLICY: Final = "ErrorBudgetPolicy"
PLURAL_POLICY: Final = "errorbudgetpolicies"
SINGULAR_POLICY: Final = "errorbudgetpolicy"
SHORT_POLICY: Final = "ebp"

#: The params object of the chart's hold ValidatingAdmissionPolicy: one per ErrorBudgetPolicy,
#: written only by the operator (owned by the policy, so the garbage collector removes it).
KIND_HOLD: Final = "ErrorBudgetHold"
PLURAL_HOLD: Final = "errorbudgetholds"
SINGULAR_HOLD: Final = "errorbudgethold"
SHORT_HOLD: Final = "ebh"

KIND_SLA: Final = "SLAContract"
PLURAL_SLA: Final = "slacontracts"
SINGULAR_SLA: Final = "slacontract"
SHORT_SLA: Final = "sla"

PROMETHEUS_RULE_API_VERSION: Final = "monitoring.coreos.com/v1"
PROMETHEUS_RULE_KIND: Final = "PrometheusRule"

# --- Recording rules --------------------------------------------------------------------------
# Base recordings: per-SLO error (bad-event) rate and total rate over 5 minutes. Every longer
# window is derived from these two, so a window's ratio is traffic-weighted.
RECORD_ERRORS_5M: Final = "sloguard:sli_errors:rate5m"
RECORD_TOTAL_5M: Final = "sloguard:sli_total:rate5m"
# Derived error ratio for window W: f"{RECORD_ERROR_RATIO_PREFIX}{W}".
RECORD_ERROR_RATIO_PREFIX: Final = "sloguard:sli_error_ratio:rate"
# Timeslices: 1 when the slice ending at the evaluation was bad, else 0.
RECORD_SLICE_BAD: Final = "sloguard:sli_slice_bad:"
# Metadata for dashboards.
RECORD_OBJECTIVE: Final = "sloguard:objective:ratio"
RECORD_ERROR_BUDGET: Final = "sloguard:error_budget:ratio"

# Labels on every recording and alert.
LABEL_SLO: Final = "slo"
LABEL_NAMESPACE: Final = "slo_namespace"
LABEL_SERVICE: Final = "service"
LABEL_SEVERITY: Final = "severity"
LABEL_LONG_WINDOW: Final = "long_window"
LABEL_SHORT_WINDOW: Final = "short_window"
LABEL_WINDOW: Final = "window"

DEFAULT_ALERT_NAME: Final = "ErrorBudgetBurn"

# --- Kubernetes labels, annotations, managers -------------------------------------------------
LABEL_PREFIX: Final = "sloguard.io/"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE: Final = "sloguard"
LABEL_OWNER_SLO: Final = "sloguard.io/slo"
LABEL_HOLD: Final = "sloguard.io/hold"
ANNOTATION_HOLD_POLICY: Final = "sloguard.io/hold-policy"
ANNOTATION_HOLD_REASON: Final = "sloguard.io/hold-reason"
ANNOTATION_HOLD_SINCE: Final = "sloguard.io/hold-since"
ANNOTATION_EXCEPTION: Final = "sloguard.io/exception"
ANNOTATION_EXCEPTION_REASON: Final = "sloguard.io/exception-reason"
#: Written by the operator when it saw an exception set by a metadata-only change ("<class>/<reason>"):
#: the next release may then use it by removing it (what ``kubectl rollout undo`` does).
ANNOTATION_EXCEPTION_ARMED: Final = "sloguard.io/exception-armed"
#: On an ErrorBudgetHold: which of the chart's hold-policy bindings reads it (Deny, Warn, Audit, none).
LABEL_ENFORCEMENT: Final = "sloguard.io/enforcement"
ANNOTATION_REEVALUATE: Final = "sloguard.io/reevaluate"
LABEL_SLA_CONTRACT: Final = "sloguard.io/contract"
LABEL_SLA_PERIOD: Final = "sloguard.io/period"

FIELD_MANAGER: Final = "sloguard"
FIELD_MANAGER_HOLDS: Final = "sloguard-holds"

# --- Conditions -------------------------------------------------------------------------------
COND_READY: Final = "Ready"
COND_RULES_GENERATED: Final = "RulesGenerated"
COND_BUDGET_KNOWN: Final = "BudgetKnown"
#: ErrorBudgetPolicy: False while a level triggers on a cause and an SLO's status.budget.byCause is unknown.
COND_BY_CAUSE_KNOWN: Final = "ByCauseKnown"
COND_PROMETHEUS_REACHABLE: Final = "PrometheusReachable"

# --- Budget states ----------------------------------------------------------------------------
STATE_HEALTHY: Final = "healthy"
STATE_WARNING: Final = "warning"
STATE_CRITICAL: Final = "critical"
STATE_EXHAUSTED: Final = "exhausted"
STATE_UNKNOWN: Final = "unknown"

# --- SLA history and status (SLAContract) ------------------------------------------------------
# History ConfigMaps: labelled by contract and period (LABEL_SLA_CONTRACT, LABEL_SLA_PERIOD),
# never owned by the contract, so they outlive it (an Argo CD prune + re-create keeps history).
LABEL_SLA_REVISION: Final = "sloguard.io/revision"
ANNOTATION_SLA_FINALIZED_AT: Final = "sloguard.io/finalized-at"
ANNOTATION_SLA_REQUEST: Final = "sloguard.io/reevaluation-request"
ANNOTATION_SLA_CONTRACT_ID: Final = "sloguard.io/contract-id"
ANNOTATION_SLA_CONTRACT_UID: Final = "sloguard.io/contract-uid"
SLA_HISTORY_RESULT_KEY: Final = "result.json"
SLA_HISTORY_REPORT_KEY: Final = "report.md"
COND_MAINTENANCE_NOTICE: Final = "MaintenanceNotice"
#: False while a period has less data than the contract's minimumCoverage (it is then not finalized);
#: on an SLO, while its budget window has less data than core.budget.MIN_BUDGET_COVERAGE.
COND_DATA_COVERAGE: Final = "DataCoverage"
# Event reasons on SLAContract objects.
EVENT_SLA_FINALIZED: Final = "PeriodFinalized"
EVENT_SLA_REEVALUATED: Final = "PeriodReevaluated"
EVENT_SLA_BREACHED: Final = "SLABreached"
EVENT_SLA_CREDIT: Final = "ServiceCreditDue"
EVENT_SLA_LATE_MAINTENANCE: Final = "LateMaintenanceNotice"
EVENT_SLA_REEVALUATION_REFUSED: Final = "ReevaluationRefused"
EVENT_SLA_NOT_FINALIZED: Final = "FinalizationPending"
EVENT_SLA_LOW_COVERAGE: Final = "LowDataCoverage"  # also on an SLO whose DataCoverage turns False

# --- SLO period reports (one immutable ConfigMap per SLO and calendar month) ------------------
# Labelled LABEL_OWNER_SLO and LABEL_SLA_PERIOD, never owned by the SLO: reports outlive it.
REPORT_CONFIGMAP_PREFIX: Final = "slo-report-"
REPORT_JSON_KEY: Final = "report.json"
REPORT_MARKDOWN_KEY: Final = "report.md"
ANNOTATION_REPORT_FINALIZED_AT: Final = "sloguard.io/finalized-at"
#: On SLOs: True once the last complete month's report is stored, False while it cannot be.
COND_REPORT_FINALIZED: Final = "ReportFinalized"
EVENT_REPORT_FINALIZED: Final = "ReportFinalized"
EVENT_REPORT_PENDING: Final = "ReportPending"

# --- The operator's own metrics (/metrics on --metrics-address; docs/metrics.md) ---------------
# Gauges rendered from current state at scrape time: a deleted object's series are gone.
METRIC_BUDGET_REMAINING: Final = "sloguard_slo_error_budget_remaining_ratio"  # {namespace,slo,service}
METRIC_BURN_RATE: Final = "sloguard_slo_burn_rate"  # {namespace,slo,window}
METRIC_SLO_STATE: Final = "sloguard_slo_state"  # {namespace,slo,state}: 1 current, 0 the others
METRIC_POLICY_HELD: Final = "sloguard_policy_held_workloads"  # {namespace,policy,action}
METRIC_SLA_CREDIT: Final = "sloguard_sla_credit_percent"  # {namespace,contract,period}
# Counters and histograms (names without the _total/_bucket suffixes prometheus-client adds).
METRIC_RECONCILE: Final = "sloguard_reconcile"  # _total {kind,result}
METRIC_RECONCILE_DURATION: Final = "sloguard_reconcile_duration_seconds"  # {kind}
METRIC_REFRESH_DURATION: Final = "sloguard_budget_refresh_duration_seconds"
METRIC_REFRESH_LAST_SUCCESS: Final = "sloguard_budget_refresh_last_success_timestamp_seconds"
METRIC_PROMETHEUS_REQUESTS: Final = "sloguard_prometheus_requests"  # _total {result}
METRIC_ADMISSION_REVIEWS: Final = "sloguard_admission_reviews"  # _total {decision}
METRIC_ADMISSION_DURATION: Final = "sloguard_admission_review_duration_seconds"
# Label values.
RESULT_SUCCESS: Final = "success"
RESULT_ERROR: Final = "error"
DECISION_ALLOW: Final = "allow"  # admitted, nothing to say
DECISION_WARN: Final = "warn"  # admitted with warnings (warn mode, scrutiny, an exception or override used)
DECISION_DENY: Final = "deny"  # refused
DEFAULT_METRICS_ADDRESS: Final = "0.0.0.0:8081"

"""The ServiceLevelObjective custom resource (``sloguard.io/v1alpha1``, short name ``slo``).

Field names are a contract with users, examples and outside tests. Descriptions are the text
``kubectl explain`` shows. Cross-field rules are expressed twice on purpose: as CEL
(``x-kubernetes-validations``, enforced by the API server without the operator running) and as
pydantic validators (enforced in ``sloguard validate`` and the webhook, with our messages).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from ..core import conventions as c
from ..core.causes import DEFAULT_RELEASE_SETTLE, CauseSettings, Maintenance, WorkloadSelector
from ..core.model import (
    SLI,
    Alerting,
    BoolGaugeSLI,
    LatencySLI,
    Objective,
    RatioQuerySLI,
    RatioSLI,
    RawSLI,
    Timeslice,
)
from ..core.windows import (
    CALENDAR_PERIODS,
    DURATION_PATTERN,
    TIER_OBJECTIVES,
    WINDOW_PATTERN,
    BurnRateTier,
    Window,
    default_tiers,
    parse_duration,
    parse_window,
)
from . import cel
from .common import CamelModel, Target, TimeWindow, known_timezone
from .maintenance_seen import MaintenanceSeen

_PROMQL = "A PromQL expression"


# --- what the API server checks without the operator (CEL and patterns in the CRD) ----------------
#
# Each limit below exists because something downstream breaks without it, and is enforced twice:
# by the API server (CRD schema, even when the webhook is down) and by pydantic (validate, webhook).

#: A duration or window made only of zeros ("0s", "0m0s") passes DURATION_PATTERN; this CEL rule
#: (any non-zero digit) refuses it in the API server. pydantic refuses it via parse_duration.
_POSITIVE_DURATION_CEL = "self.matches('[1-9]')"
_POSITIVE_WINDOW_CEL = "self in ['month', 'week', 'quarter'] || self.matches('[1-9]')"
_POSITIVE_MESSAGE = "must be longer than zero"
#: ``service`` is a Prometheus label value, a dashboard tag and part of alert text: the syntax of
#: a Kubernetes label value (<= 63 characters, alphanumerics with - _ . inside) keeps it free of
#: template braces, control and bidi characters.
SERVICE_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
SERVICE_MAX = 63
#: Free text that ends up in alerts (label values, annotations, descriptions): no control
#: characters (tab and newlines allowed in annotations) and no bidi controls, which make text
#: read differently from what it is (CVE-2021-42574, "Trojan Source").
_BIDI = r"\x{061C}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}"
LABEL_VALUE_PATTERN = rf"^[^\x00-\x1F\x7F{_BIDI}]*$"
TEXT_PATTERN = rf"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F{_BIDI}]*$"
#: Prometheus label (and annotation) names.
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
_RESERVED_LABELS = (c.LABEL_SLO, c.LABEL_SERVICE, c.LABEL_SEVERITY, c.LABEL_NAMESPACE)
#: Longest SLO name: the owner label ``sloguard.io/slo: <name>`` on the generated PrometheusRule
#: and ConfigMap is a Kubernetes label value, at most 63 characters.
NAME_MAX = 63
#: CEL on the whole object (only metadata.name is visible to CEL from metadata).
ROOT_VALIDATIONS = [
    {"rule": f"size(self.metadata.name) <= {NAME_MAX}",
     "message": f"metadata.name: at most {NAME_MAX} characters (it becomes a label value of the generated rules)",
     "reason": "FieldValueInvalid"},
]


def _map_cel(what: str, reserved: tuple[str, ...] = ()) -> dict[str, Any]:
    rule = f"self.all(k, k.matches('{LABEL_NAME_PATTERN}'))"
    message = f"{what} names must be Prometheus label names ({LABEL_NAME_PATTERN})"
    rules = [(rule, message)]
    if reserved:  # label names need no escaping: single-quoted CEL literals, as the CRDs have always had
        rules.append(("self.all(k, !(k in [" + ", ".join(f"'{r}'" for r in reserved) + "]))",
                      f"labels {', '.join(reserved)} are set by sloguard and cannot be overridden"))
    return cel.validations(*rules)


def _positive(value: str) -> str:
    """A field validator's body: DURATION_PATTERN already matched; refuse zero length."""
    parse_duration(value)  # DurationError (a ValueError) says "must be longer than zero"
    return value


LabelValue = Annotated[str, Field(max_length=1024, pattern=LABEL_VALUE_PATTERN)]
AnnotationValue = Annotated[str, Field(max_length=16384, pattern=TEXT_PATTERN)]


class RatioSpec(CamelModel):
    """Two counters: bad (``errors``) or ``good`` events, and ``total`` events."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": cel.validations(("has(self.errors) != has(self.good)",
                                              "give exactly one of errors or good"))
    }
    errors: str | None = Field(None, description="Selector of a counter of bad events, e.g. "
                               "http_requests_total{job=\"checkout\",code=~\"5..\"}. Exclusive with good.")
    good: str | None = Field(None, description="Selector of a counter of good events. Exclusive with errors.")
    total: str = Field(description="Selector of a counter of all valid events.", min_length=1)

    @model_validator(mode="after")
    def _one_of_errors_good(self) -> RatioSpec:
        if (self.errors is None) == (self.good is None):
            raise ValueError("give exactly one of errors or good")
        return self


class RatioQuerySpec(CamelModel):
    """Sloth-compatible full queries; ``{{.window}}`` is replaced by each window."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": cel.validations(("has(self.errorQuery) != has(self.goodQuery)",
                                  "give exactly one of errorQuery or goodQuery"))
    }
    error_query: str | None = Field(None, description=f"{_PROMQL} for the rate of bad events over "
                                    "{{.window}}, e.g. sum(rate(http_requests_total{code=~\"5..\"}[{{.window}}])).")
    good_query: str | None = Field(None, description=f"{_PROMQL} for the rate of good events over {{{{.window}}}}.")
    total_query: str = Field(description=f"{_PROMQL} for the rate of all events over {{{{.window}}}}.", min_length=1)

    @model_validator(mode="after")
    def _one_of(self) -> RatioQuerySpec:
        if (self.error_query is None) == (self.good_query is None):
            raise ValueError("give exactly one of errorQuery or goodQuery")
        return self


class LatencySpec(CamelModel):
    """A classic Prometheus histogram: requests at or under ``threshold`` seconds are good."""

    histogram: str = Field(min_length=1, description="Selector of the histogram's _bucket series, "
                           "e.g. http_request_duration_seconds_bucket{job=\"api\"} (no le matcher).")
    threshold: float = Field(gt=0, description="Seconds; must be one of the histogram's le bounds. "
                             "Matched whatever the label's formatting (0.25, 1 vs 1.0).")
    valid_below: float | None = Field(None, gt=0, description="Seconds; slower requests are invalid "
                                      "outliers counted neither good nor total (an le bound). Default: +Inf.")

    @model_validator(mode="after")
    def _valid_above_threshold(self) -> LatencySpec:
        if self.valid_below is not None and self.valid_below <= self.threshold:
            raise ValueError("validBelow must be greater than threshold")
        return self


class RawSpec(CamelModel):
    """An error-ratio query; averaged over time (not traffic-weighted)."""

    error_ratio_query: str = Field(min_length=1, description=f"{_PROMQL} giving the error ratio "
                                   "(0..1) over {{.window}}.")


class BoolGaugeSpec(CamelModel):
    """A 0/1 gauge (1 good, 0 bad), e.g. a blackbox probe; the SLI is the share of time it was 1."""

    selector: str = Field(min_length=1, description="Selector of the gauge, e.g. probe_success{instance=\"platform\"}.")


_SLI_KINDS = ("ratio", "ratioQuery", "latency", "raw", "boolGauge")


class SLISpec(CamelModel):
    """Exactly one of the five SLI kinds."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": cel.validations((
            "[" + ", ".join(f"has(self.{k})" for k in _SLI_KINDS) + "].filter(x, x).size() == 1",
            "give exactly one SLI kind: " + ", ".join(_SLI_KINDS),
        ))
    }
    ratio: RatioSpec | None = Field(None, description="Good or bad events over total events, from counters.")
    ratio_query: RatioQuerySpec | None = Field(None, description="Sloth-style queries with {{.window}}.")
    latency: LatencySpec | None = Field(None, description="Share of requests under a latency threshold.")
    raw: RawSpec | None = Field(None, description="A ready-made error ratio query.")
    bool_gauge: BoolGaugeSpec | None = Field(None, description="Share of time a 0/1 gauge was 1.")

    @model_validator(mode="after")
    def _exactly_one(self) -> SLISpec:
        given = [k for k, v in zip(_SLI_KINDS, self._kinds(), strict=True) if v is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one SLI kind ({', '.join(_SLI_KINDS)}); got "
                             f"{', '.join(given) or 'none'}")
        return self

    def _kinds(self) -> tuple[object, ...]:
        return (self.ratio, self.ratio_query, self.latency, self.raw, self.bool_gauge)

    def to_core(self) -> SLI:
        if self.ratio:
            return RatioSLI(total=self.ratio.total, errors=self.ratio.errors, good=self.ratio.good)
        if self.ratio_query:
            q = self.ratio_query
            return RatioQuerySLI(total_query=q.total_query, error_query=q.error_query, good_query=q.good_query)
        if self.latency:
            lat = self.latency
            return LatencySLI(histogram=lat.histogram, threshold=lat.threshold, valid_below=lat.valid_below)
        if self.raw:
            return RawSLI(error_ratio_query=self.raw.error_ratio_query)
        assert self.bool_gauge is not None
        return BoolGaugeSLI(selector=self.bool_gauge.selector)


class TimesliceSpec(CamelModel):
    window: str = Field("5m", pattern=DURATION_PATTERN, max_length=32, description="Slice length, e.g. 1m or 5m.",
                        json_schema_extra=cel.validations((_POSITIVE_DURATION_CEL, _POSITIVE_MESSAGE)))
    target: float = Field(gt=0, le=1, description="A slice is good when its good ratio is at least "
                          "this fraction (e.g. 0.99).")

    @field_validator("window")
    @classmethod
    def _window_positive(cls, v: str) -> str:
        return _positive(v)


class BurnRateSpec(CamelModel):
    """One multiwindow alert tier: fires when both windows burn faster than factor x budget."""

    severity: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_-]*$", description="Alert severity label.")
    factor: float = Field(gt=0, description="Burn-rate multiple (1 = spending exactly the budget over the window).")
    short_window: str = Field(pattern=DURATION_PATTERN, max_length=32, description="Confirming window, e.g. 5m.",
                              json_schema_extra=cel.validations((_POSITIVE_DURATION_CEL, _POSITIVE_MESSAGE)))
    long_window: str = Field(pattern=DURATION_PATTERN, max_length=32, description="Main window, e.g. 1h.",
                             json_schema_extra=cel.validations((_POSITIVE_DURATION_CEL, _POSITIVE_MESSAGE)))
    for_: str | None = Field(None, alias="for", pattern=DURATION_PATTERN, max_length=32,
                             description="How long both windows must keep burning before the alert fires "
                             "(the alert rule's for:). Default: fire at once.",
                             json_schema_extra=cel.validations((_POSITIVE_DURATION_CEL, _POSITIVE_MESSAGE)))
    keep_firing_for: str | None = Field(None, pattern=DURATION_PATTERN, max_length=32,
                                        description="How long the alert keeps firing after the burn stops "
                                        "(the alert rule's keep_firing_for:, Prometheus 2.42 or later), so a "
                                        "burn that flickers around the factor pages once. Default: stop at once.",
                                        json_schema_extra=cel.validations((_POSITIVE_DURATION_CEL, _POSITIVE_MESSAGE)))

    @field_validator("short_window", "long_window", "for_", "keep_firing_for")
    @classmethod
    def _windows_positive(cls, v: str | None) -> str | None:
        return v if v is None else _positive(v)

    @model_validator(mode="after")
    def _short_before_long(self) -> BurnRateSpec:
        if parse_duration(self.short_window) >= parse_duration(self.long_window):
            raise ValueError("shortWindow must be shorter than longWindow")
        return self


class AlertingSpec(CamelModel):
    name: str = Field(c.DEFAULT_ALERT_NAME, pattern=LABEL_NAME_PATTERN, max_length=200,
                      description="Alert name for every tier.")
    labels: dict[str, LabelValue] = Field(
        default_factory=dict, max_length=64, json_schema_extra=_map_cel("label", _RESERVED_LABELS),
        description="Labels added to every alert (values are Go templates, as in Prometheus).")
    annotations: dict[str, AnnotationValue] = Field(
        default_factory=dict, max_length=64, json_schema_extra=_map_cel("annotation"),
        description="Annotations added to every alert, e.g. runbook_url (values are Go templates, "
        "as in Prometheus; the generated rules must pass Prometheus' own rule check).")
    minimum_traffic: float = Field(0, ge=0, description="Requests per second (over the long window) "
                                   "below which no alert fires; 0 disables the gate.")
    disabled: bool = Field(False, description="Generate recording rules only.")
    burn_rates: list[BurnRateSpec] | None = Field(None, min_length=1, max_length=16,
                                                  description="Alert tiers; replaces the default table "
                                                  "(14.4x/1h, 6x/6h, 3x/1d for 30d; derived for other "
                                                  "windows, see docs/alerting.md) entirely.")

    @field_validator("labels")
    @classmethod
    def _label_names(cls, v: dict[str, str]) -> dict[str, str]:
        import re

        for k in v:
            if not re.match(LABEL_NAME_PATTERN, k):
                raise ValueError(f"{k!r} is not a valid Prometheus label name")
            if k in _RESERVED_LABELS:
                raise ValueError(f"label {k!r} is set by sloguard and cannot be overridden")
        return v

    @field_validator("annotations")
    @classmethod
    def _annotation_names(cls, v: dict[str, str]) -> dict[str, str]:
        import re

        for k in v:
            if not re.match(LABEL_NAME_PATTERN, k):
                raise ValueError(f"{k!r} is not a valid annotation name (a Prometheus label name)")
        return v


#: Most maintenance windows one SLO (or contract) may declare; older ones can be removed once
#: they left the window. Keeps the object well under etcd's size limit and the split cheap.
MAINTENANCE_WINDOWS_MAX = 500
#: Most workload selectors one SLO may link.
WORKLOADS_MAX = 16
class SLOMaintenanceWindowSpec(TimeWindow):
    """Planned work on the service: bad events inside it count as maintenance in status.budget.byCause."""

    description: str = Field("", max_length=1024, pattern=TEXT_PATTERN, description="What the work is, for people.")


class SLOMaintenanceSpec(CamelModel):
    """Maintenance windows of the service (SLAContracts listing the service in spec.services add theirs)."""

    windows: list[SLOMaintenanceWindowSpec] = Field(
        default_factory=list, max_length=MAINTENANCE_WINDOWS_MAX,
        description=f"Planned windows (at most {MAINTENANCE_WINDOWS_MAX}); overlapping ones are merged, "
        "never counted twice.")


class SLOSpec(CamelModel):
    """What good service means for one service, and how to alert on spending the budget."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {"rule": "has(self.objective) || has(self.tier)", "message": "give an objective or a tier"},
                {"rule": "!has(self.budgetingMethod) || self.budgetingMethod != 'Timeslices' || has(self.timeslice)",
                 "message": "budgetingMethod Timeslices needs timeslice"},
            ]
        }
    }
    service: str = Field(min_length=1, max_length=SERVICE_MAX, pattern=SERVICE_PATTERN,
                         description="The service this objective is about (the syntax of a Kubernetes "
                         "label value: letters, digits, - _ . inside, at most 63 characters).")
    tier: Literal["tier-0", "tier-1", "tier-2", "tier-3"] | None = Field(
        None, description="Preset objective: tier-0 99.99, tier-1 99.95, tier-2 99.9, tier-3 99.5. "
        "An explicit objective wins.")
    description: str = Field("", max_length=1024, pattern=TEXT_PATTERN,
                             description="What the objective promises, for people.")
    objective: float | None = Field(None, gt=0, lt=100, description="Target in percent, e.g. 99.9.")
    window: str = Field("30d", pattern=WINDOW_PATTERN, max_length=32,
                        json_schema_extra=cel.validations((_POSITIVE_WINDOW_CEL, _POSITIVE_MESSAGE)),
                        description="A rolling duration (30d, 28d) or a calendar period: month, week or quarter.")
    timezone: str = Field("UTC", description="IANA timezone of calendar periods, e.g. Europe/Berlin.")
    budgeting_method: Literal["Occurrences", "Timeslices"] = Field(
        "Occurrences", description="Occurrences: bad events over all events. Timeslices: bad slices over all slices.")
    timeslice: TimesliceSpec | None = Field(None, description="Slice length and per-slice target for Timeslices.")
    sli: SLISpec = Field(description="How good and bad are measured: exactly one kind.")
    alerting: AlertingSpec = Field(default_factory=AlertingSpec, description="Burn-rate alerting.")
    workloads: list[Target] = Field(
        default_factory=list, max_length=WORKLOADS_MAX,
        description="Workloads serving the objective (kind and label selector, in the SLO's namespace). "
        "Bad events within releaseSettle after one of them rolls out count as releases in "
        "status.budget.byCause; the targets of ErrorBudgetPolicies naming the SLO count too.")
    release_settle: str = Field(
        DEFAULT_RELEASE_SETTLE, pattern=DURATION_PATTERN, max_length=32,
        json_schema_extra=cel.validations((_POSITIVE_DURATION_CEL, _POSITIVE_MESSAGE)),
        description="How long after a rollout bad events count as releases (default 30m).")
    maintenance: SLOMaintenanceSpec = Field(
        default_factory=SLOMaintenanceSpec,
        description="Maintenance windows: bad events inside them count as maintenance in status.budget.byCause.")

    @field_validator("release_settle")
    @classmethod
    def _settle_positive(cls, v: str) -> str:
        return _positive(v)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        return known_timezone(v)

    @field_validator("window")
    @classmethod
    def _window_positive(cls, v: str) -> str:
        return v if v in CALENDAR_PERIODS else _positive(v)

    @model_validator(mode="after")
    def _cross_fields(self) -> SLOSpec:
        if self.objective is None and self.tier is None:
            raise ValueError("give an objective or a tier")
        if self.budgeting_method == "Timeslices" and self.timeslice is None:
            raise ValueError("budgetingMethod Timeslices needs timeslice")
        return self

    @property
    def objective_percent(self) -> float:
        if self.objective is not None:
            return self.objective
        assert self.tier is not None
        return TIER_OBJECTIVES[self.tier]

    def tiers(self, window: Window) -> tuple[BurnRateTier, ...]:
        """The alert tiers in force: ``burnRates`` as given, else the defaults derived for ``window``."""
        if self.alerting.burn_rates:
            return tuple(BurnRateTier(b.severity, b.factor, b.short_window, b.long_window, b.for_, b.keep_firing_for)
                         for b in self.alerting.burn_rates)
        return default_tiers(window)

    def to_core(self, namespace: str, name: str) -> Objective:
        window = parse_window(self.window, self.timezone)
        a = self.alerting
        tiers = self.tiers(window)
        return Objective(
            namespace=namespace,
            name=name,
            service=self.service,
            objective=round(self.objective_percent / 100.0, 12),
            window=window,
            sli=self.sli.to_core(),
            alerting=Alerting(a.name, tiers, dict(a.labels), dict(a.annotations), a.minimum_traffic, a.disabled),
            budgeting_method=self.budgeting_method,
            timeslice=Timeslice(self.timeslice.window, self.timeslice.target) if self.timeslice else None,
            description=self.description,
            causes=self.cause_settings(),
        )

    def cause_settings(self) -> CauseSettings:
        """Workloads, settle time and maintenance windows for the budget split by cause."""
        return CauseSettings(
            workloads=tuple(WorkloadSelector(w.kind, w.selector.to_core()) for w in self.workloads),
            release_settle_seconds=int(parse_duration(self.release_settle)),
            maintenance=tuple(Maintenance(w.start, w.end, w.description) for w in self.maintenance.windows),
        )


# --- status ------------------------------------------------------------------------------------


class Condition(CamelModel):
    """A Kubernetes API convention condition."""

    model_config = CamelModel.model_config | {"extra": "allow"}
    type: str = Field(description="The condition's name, e.g. Ready; the key of the list.")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field("", description="One CamelCase word saying why, for programs.")
    message: str = Field("", description="Why, for people.")
    last_transition_time: datetime | None = Field(None, description="When status last changed.")
    observed_generation: int | None = Field(None, description="The spec generation the condition is for.")


class ObjectReference(CamelModel):
    api_version: str = Field("", description="The object's apiVersion.")
    kind: str = Field("", description="The object's kind.")
    name: str = Field("", description="The object's name.")
    namespace: str = Field("", description="The object's namespace.")


class ByCauseFigures(CamelModel):
    """Consumed budget split by when the bad events happened; each a share of the budget, as consumed."""

    releases: float = Field(description="Within releaseSettle after a rollout of a linked workload, outside "
                            "maintenance.")
    maintenance: float = Field(description="Inside a maintenance window of the SLO or of an SLAContract "
                               "covering its service.")
    incidents: float = Field(description="Everything else: consumed - releases - maintenance (never negative).")


class BudgetFigures(CamelModel):
    consumed: float | None = Field(None, description="Share of the window's budget spent (may exceed 1).")
    remaining: float | None = Field(None, description="Share of the budget left (negative when overspent).")
    remaining_percent: float | None = Field(None, description="remaining x 100, for display.")
    remaining_seconds: float | None = Field(None, description="Seconds of full outage still affordable.")
    coverage: float | None = Field(None, description="Share of the window so far with data, 0 to 1: from the "
                                   "SLI's first sample, less 5 minutes per 5-minute step without a sample (scrape "
                                   "gaps); below 0.05 the state is unknown (condition DataCoverage=False).")
    by_cause: ByCauseFigures | None = Field(None, description="consumed split into releases, maintenance and "
                                            "incidents (the seed allocates 30%, 20% and 50% of the budget to them); "
                                            "absent when rollouts or maintenance could not be read.")


class LastReport(CamelModel):
    """The newest finalized month report: an immutable ConfigMap that outlives the SLO."""

    period: str = Field(description="The calendar month, YYYY-MM, in the SLO's timezone.")
    config_map: str = Field(description="The ConfigMap in the SLO's namespace (data: report.json, report.md).")


class SLOStatus(CamelModel):
    """Written by the operator only."""

    model_config = CamelModel.model_config | {"extra": "allow"}
    observed_generation: int | None = Field(None, description="The spec generation this status is for.")
    #: A list map keyed by type in every kind's CRD (crdgen.CONDITIONS_LIST_MAP).
    conditions: list[Condition] = Field(default_factory=list, description="Ready and RulesGenerated (the "
                                        "rules reconcile), PrometheusReachable and BudgetKnown (the budget loop).")
    prometheus_rule: ObjectReference | None = Field(None, description="The generated PrometheusRule.")
    objective: float | None = Field(None, description="The resolved objective in percent.")
    sli: float | None = Field(None, description="Good ratio over the window (fraction); absent when unknown.")
    budget: BudgetFigures | None = Field(None, description="The error budget over the window.")
    burn_rates: dict[str, float | None] | None = Field(None, description="Burn rate per window (1 = on budget).")
    burn_rate_1h: float | None = Field(None, alias="burnRate1h", description="Burn rate over the last hour, "
                                       "for display.")
    state: str | None = Field(None, description="healthy, warning, critical, exhausted or unknown.")
    health_score: int | None = Field(None, description="0 (budget gone) to 100 (untouched, burning slowly).")
    time_to_exhaustion_seconds: float | None = Field(None, description="Seconds until the budget is spent at "
                                                     "the current burn rate; absent when not burning.")
    hints: list[str] | None = Field(None, description="What the figures suggest doing, for people.")
    last_evaluated: datetime | None = Field(None, description="The instant the figures are for.")
    slices: dict[str, int] | None = Field(None, description="Timeslices budgeting: bad and total slices so "
                                          "far in the window.")
    last_report: LastReport | None = Field(None, description="The newest finalized month report (written by "
                                           "the report loop, field manager sloguard-report).")
    maintenance_seen: list[MaintenanceSeen] = Field(
        default_factory=list, max_length=MAINTENANCE_WINDOWS_MAX,
        description="When the operator first saw each spec.maintenance window (written by the rules "
        "reconcile): the window counts as maintenance in budget.byCause only from then, never retroactively.")


class ServiceLevelObjective(CamelModel):
    """A whole SLO object as read from a file or the API server."""

    model_config = CamelModel.model_config | {"extra": "ignore"}
    api_version: Literal["sloguard.io/v1alpha1"]
    kind: Literal["ServiceLevelObjective"]
    spec: SLOSpec

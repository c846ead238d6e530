"""The SLAContract custom resource (``sloguard.io/v1alpha1``, short name ``sla``).

A customer's commitments measured per calendar month: terms (uptime, latency, availability),
scheduled maintenance excluded when announced in time, and tiers of service credits. Field
names are a contract with users and outside tests; every field has a description because the
CRD schema and ``kubectl explain`` are generated from these models. Percents are percents
(99.9), never fractions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from ..core import conventions as c
from ..core.sla import (
    DEFAULT_MINIMUM_COVERAGE,
    DEFAULT_MINIMUM_NOTICE,
    DEFAULT_NO_DATA,
    DEFAULT_SLICE_TARGET,
    DEFAULT_SLICE_WINDOW,
    Contract,
    ContractResult,
    CreditTier,
    MaintenanceWindow,
    Slice,
    Term,
)
from ..core.windows import DURATION_PATTERN, parse_duration
from . import cel
from .common import CamelModel, TimeWindow, known_timezone
from .crdgen import Column, CRDSpec
from .maintenance_seen import MaintenanceSeen
from .slo import MAINTENANCE_WINDOWS_MAX, SERVICE_MAX, SERVICE_PATTERN, Condition, SLISpec

_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class CustomerSpec(CamelModel):
    """Who the commitments are made to."""

    id: str = Field(min_length=1, max_length=253, description="Stable customer identifier, e.g. acme; "
                    "reported as customer in evaluations and used in labels of history ConfigMaps.")
    name: str = Field("", max_length=253, description="Customer's display name for reports, e.g. ACME Corp.")


class FeeSpec(CamelModel):
    """The monthly fee credits are a percent of."""

    monthly: float = Field(ge=0, description="Monthly fee; credit amount = monthly x credit percent / 100.")
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code, e.g. USD or EUR.")


class MaintenanceWindowSpec(TimeWindow):
    """Planned work; excluded from the SLA only when announced at least minimumNotice before start."""

    announced_at: AwareDatetime | None = Field(None, description="When customers were told (RFC 3339). "
                                               "A window never announced is never excluded.")
    description: str = Field("", max_length=1024, description="What the work is, for reports.")


class MaintenanceSpec(CamelModel):
    """Scheduled maintenance and the notice it needs to be excluded."""

    minimum_notice: str = Field(DEFAULT_MINIMUM_NOTICE, pattern=DURATION_PATTERN, description="How long "
                                "before its start a window must be announced to be excluded (seed: 48h). "
                                "Windows announced later count as downtime and are flagged.")
    windows: list[MaintenanceWindowSpec] = Field(default_factory=list, max_length=500, description="Planned "
                                                 "windows; overlapping ones are merged, never counted twice.")


class SliceSpec(CamelModel):
    """How an uptime term cuts time into up and down slices."""

    window: str = Field(DEFAULT_SLICE_WINDOW, pattern=DURATION_PATTERN, description="Slice length in whole "
                        "minutes (default 1m); downtime is counted in these slices.")
    target: float = Field(DEFAULT_SLICE_TARGET, gt=0, le=1, description="A slice is up when its good ratio "
                          "is at least this fraction (default 1.0: any failure makes the slice down).")

    @field_validator("window")
    @classmethod
    def _whole_minutes(cls, v: str) -> str:
        if parse_duration(v) % 60:
            raise ValueError("must be whole minutes, e.g. 1m or 5m")
        if parse_duration(v) > 86400:
            raise ValueError("must be at most 1d")
        return v


class CreditTierSpec(CamelModel):
    """One tier: credit percent of the monthly fee when the term's actual is below ``below``."""

    below: float = Field(gt=0, le=100, description="Threshold in percent; the tier applies when the "
                         "term's actual is strictly below it, e.g. 99.9.")
    percent: float = Field(ge=0, le=100, description="Credit in percent of the monthly fee, e.g. 10.")


TermTypeLiteral = Literal["uptime", "latency", "availability"]


class TermSpec(CamelModel):
    """One commitment, measured over each calendar month."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": cel.validations(
            ("self.type != 'latency' || has(self.sli.latency)", "a latency term needs a latency sli"),
        )
    }
    name: str = Field(min_length=1, max_length=63, pattern=_NAME_PATTERN, description="Term name, unique "
                      "in the contract (DNS label), e.g. platform-availability.")
    type: TermTypeLiteral = Field(description="uptime: minutes up over minutes in the month (downtime "
                                  "minutes). latency: share of valid requests faster than the threshold. "
                                  "availability: request success ratio over the month.")
    description: str = Field("", max_length=1024, description="The commitment in words, for reports.")
    objective: float = Field(gt=0, le=100, description="Committed level in percent, e.g. 99.9.")
    sli: SLISpec = Field(description="How good and bad are measured: any SLO sli kind (a latency term "
                         "needs latency, whose validBelow makes slower requests invalid outliers).")
    slice: SliceSpec = Field(default_factory=SliceSpec, description="uptime terms: slice length and "
                             "the good ratio a slice needs to be up. Ignored by other types.")
    credits: list[CreditTierSpec] = Field(default_factory=list, max_length=20, description="Credit tiers; "
                                          "the worst tier the actual falls under applies.")

    @model_validator(mode="after")
    def _latency_needs_histogram(self) -> TermSpec:
        if self.type == "latency" and self.sli.latency is None:
            raise ValueError("a latency term needs sli.latency (a histogram with threshold and validBelow)")
        return self

    def to_core(self) -> Term:
        return Term(
            name=self.name,
            type=self.type,
            objective=self.objective,
            sli=self.sli.to_core(),
            credits=tuple(CreditTier(t.below, t.percent) for t in self.credits),
            slice=Slice(self.slice.window, self.slice.target),
            description=self.description,
        )


class SLAContractSpec(CamelModel):
    """A customer's service level agreement: terms per calendar month, maintenance and credits."""

    customer: CustomerSpec = Field(description="The customer the commitments are made to.")
    contract_id: str = Field(min_length=1, max_length=253, description="Contract reference, e.g. C-2026-001.")
    timezone: str = Field("UTC", description="IANA timezone whose calendar months are evaluated, e.g. "
                          "Europe/Berlin (a DST month then has 44,580 or 44,700 minutes).")
    fee: FeeSpec = Field(description="The monthly fee credits are computed from.")
    max_credit_percent: float = Field(100, ge=0, le=100, description="Cap on the month's total credit, in "
                                      "percent of the monthly fee.")
    maintenance: MaintenanceSpec = Field(default_factory=MaintenanceSpec, description="Scheduled "
                                         "maintenance, excluded when announced in time.")
    terms: list[TermSpec] = Field(min_length=1, max_length=50, description="The commitments.")
    services: list[Annotated[str, Field(min_length=1, max_length=SERVICE_MAX, pattern=SERVICE_PATTERN)]] = Field(
        default_factory=list, max_length=64,
        description="Services this contract covers (spec.service of SLOs in the contract's namespace): its "
        "maintenance windows count as maintenance in their SLOs' status.budget.byCause.")
    no_data: Literal["downtime", "excluded", "uptime"] = Field(
        DEFAULT_NO_DATA, description="How minutes without data (no probe, no traffic, a monitoring gap) count "
        "in uptime terms: downtime (default: the customer does not pay for a monitoring gap), excluded (left "
        "out of the month's minutes) or uptime. Every report prints the choice.")
    minimum_coverage: float = Field(
        DEFAULT_MINIMUM_COVERAGE, ge=0, le=100, description="Percent of a month's minutes that must have data "
        "before the operator finalizes it; below it the month stays pending with a Warning Event and "
        "DataCoverage=False.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        return known_timezone(v)

    @field_validator("terms")
    @classmethod
    def _unique_names(cls, v: list[TermSpec]) -> list[TermSpec]:
        seen: set[str] = set()
        for t in v:
            if t.name in seen:
                raise ValueError(f"term name {t.name!r} is used twice")
            seen.add(t.name)
        return v

    def to_core(self, namespace: str, name: str) -> Contract:
        return Contract(
            name=name,
            namespace=namespace,
            contract_id=self.contract_id,
            customer_id=self.customer.id,
            customer_name=self.customer.name or self.customer.id,
            terms=tuple(t.to_core() for t in self.terms),
            timezone=self.timezone,
            monthly_fee=self.fee.monthly,
            currency=self.fee.currency,
            max_credit_percent=self.max_credit_percent,
            minimum_notice_seconds=parse_duration(self.maintenance.minimum_notice),
            no_data=self.no_data,
            minimum_coverage=self.minimum_coverage,
            maintenance=tuple(
                MaintenanceWindow(w.start, w.end, w.announced_at, w.description) for w in self.maintenance.windows
            ),
        )


# --- status ------------------------------------------------------------------------------------


class TermStatus(CamelModel):
    """One term's figures for a period."""

    model_config = CamelModel.model_config | {"extra": "allow"}
    name: str = Field(description="Term name.")
    type: str = Field(description="uptime, latency or availability.")
    objective: float = Field(description="Committed level in percent.")
    actual: float | None = Field(None, description="Measured level in percent; absent when nothing was measured.")
    compliant: bool = Field(description="actual >= objective.")
    downtime_minutes: int | None = Field(None, description="uptime terms: down minutes counted against the SLA.")
    excluded_minutes: int = Field(0, description="Minutes excused by maintenance announced in time.")
    no_data_minutes: int | None = Field(None, description="uptime terms: minutes without data, counted as the "
                                        "contract's noData says.")
    coverage: float | None = Field(None, description="uptime terms: share of the minutes evaluated that had "
                                   "data (0..1).")
    credit_percent: float = Field(0, description="Credit this term earns, percent of the monthly fee.")


class PeriodStatus(CamelModel):
    """A month's evaluation: month to date (currentPeriod) or final (history)."""

    model_config = CamelModel.model_config | {"extra": "allow"}
    period: str = Field(description="Calendar month, YYYY-MM, in the contract's timezone.")
    minutes: int = Field(description="Minutes evaluated (the whole month once final).")
    complete: bool = Field(False, description="True once the month has ended and was finalized.")
    compliant: bool | None = Field(None, description="Every term met its objective.")
    compliance: str = Field("", description="For people and kubectl get: Compliant, or Breached n/m terms.")
    coverage: float | None = Field(None, description="The lowest share of minutes with data of any uptime term "
                                   "(0..1); a month below minimumCoverage is not finalized.")
    no_data: str | None = Field(None, description="How minutes without data were counted (the contract's "
                                "noData: downtime, excluded or uptime).")
    terms: list[TermStatus] = Field(default_factory=list, description="Per-term figures.")
    credit_percent: float = Field(0, description="Total credit, capped at maxCreditPercent.")
    credit_amount: float = Field(0, description="monthly fee x creditPercent / 100.")
    currency: str = Field("", description="Currency of creditAmount.")
    revision: int | None = Field(None, description="History: 1 for the first finalization, +1 per re-evaluation.")
    config_map: str | None = Field(None, description="History: the immutable ConfigMap holding this result.")
    evaluated_at: datetime | None = Field(None, description="When the figures were computed.")
    finalized_at: datetime | None = Field(None, description="History: when this revision was written.")
    reevaluation_request: str | None = Field(None, description="History: the sloguard.io/reevaluate value "
                                             "this revision answered (absent for the first finalization).")


class ReevaluationStatus(CamelModel):
    """The last sloguard.io/reevaluate request the operator handled (so it is done once)."""

    model_config = CamelModel.model_config | {"extra": "allow"}
    request: str = Field(description="The annotation value handled, e.g. 2026-10 or 2026-10:ticket-42.")
    period: str | None = Field(None, description="The month it named.")
    revision: int | None = Field(None, description="The revision it added; absent when refused.")
    config_map: str | None = Field(None, description="The ConfigMap holding that revision.")
    handled_at: datetime | None = Field(None, description="When the request was handled.")
    message: str = Field("", description="What happened, for people (why a request was refused).")


class SLAContractStatus(CamelModel):
    """Written by the operator only."""

    model_config = CamelModel.model_config | {"extra": "allow"}
    observed_generation: int | None = Field(None, description="The spec generation this status is for.")
    conditions: list[Condition] = Field(default_factory=list, description="Ready, PrometheusReachable, "
                                        "MaintenanceNotice (False when a window was announced late), DataCoverage "
                                        "(False while a month has less data than minimumCoverage).")
    current_period: PeriodStatus | None = Field(None, description="The month to date, refreshed by the operator.")
    history: list[PeriodStatus] = Field(default_factory=list, description="Finalized months, newest first; "
                                        "never rewritten (re-evaluations add revisions). Rebuilt from the "
                                        "labelled history ConfigMaps, which outlive the contract object.")
    last_reevaluation: ReevaluationStatus | None = Field(None, description="The last sloguard.io/reevaluate "
                                                         "request handled.")
    maintenance_warned: list[str] = Field(default_factory=list, description="Late-announced maintenance "
                                          "windows (start/end, UTC) already reported by a Warning Event.")
    maintenance_seen: list[MaintenanceSeen] = Field(
        default_factory=list, max_length=MAINTENANCE_WINDOWS_MAX,
        description="When the operator first saw each maintenance window: the window counts as maintenance "
        "in its SLOs' status.budget.byCause only from then, never retroactively.")


class SLAContract(CamelModel):
    """A whole SLAContract object as read from a file or the API server."""

    model_config = CamelModel.model_config | {"extra": "ignore"}
    api_version: Literal["sloguard.io/v1alpha1"]
    kind: Literal["SLAContract"]
    spec: SLAContractSpec


def period_status(result: ContractResult, evaluated_at: datetime | None = None) -> PeriodStatus:
    """A core evaluation as the status block the operator writes (and history keeps)."""
    breached = len(result.breached)
    return PeriodStatus(
        period=result.period.name,
        minutes=result.minutes,
        complete=result.complete,
        compliant=result.compliant,
        compliance="Compliant" if not breached else f"Breached {breached}/{len(result.terms)}",
        coverage=round(result.coverage, 6),
        no_data=result.contract.no_data,
        terms=[
            TermStatus(
                name=t.name,
                type=t.type,
                objective=t.objective,
                actual=None if t.actual is None else round(t.actual, 6),
                compliant=t.compliant,
                downtime_minutes=t.downtime_minutes,
                excluded_minutes=t.excluded_minutes,
                no_data_minutes=t.no_data_minutes if t.type == "uptime" else None,
                coverage=None if t.coverage is None else round(t.coverage, 6),
                credit_percent=t.credit_percent,
            )
            for t in result.terms
        ],
        credit_percent=result.credit_percent,
        credit_amount=result.credit_amount,
        currency=result.contract.currency,
        evaluated_at=evaluated_at,
    )


def history_entry(
    result: dict[str, Any],
    revision: int,
    config_map: str,
    finalized_at: datetime | None,
    request: str | None = None,
) -> PeriodStatus:
    """A ``status.history`` entry from a finalized result as stored (``ContractResult.as_dict()``).

    Per-term figures stay in the ConfigMap; history keeps what ``kubectl get`` and billing need.
    """
    terms = [t for t in result.get("terms") or [] if isinstance(t, dict)]
    breached = sum(1 for t in terms if not t.get("compliant", True))
    compliant = result.get("compliant")
    return PeriodStatus(
        period=str(result.get("period", "")),
        minutes=int(result.get("minutes") or 0),
        complete=bool(result.get("complete", True)),
        compliant=bool(compliant) if compliant is not None else breached == 0,
        compliance="Compliant" if not breached else f"Breached {breached}/{len(terms)}",
        coverage=result.get("coverage"),
        no_data=result.get("noData"),
        credit_percent=float(result.get("creditPercent") or 0),
        credit_amount=float(result.get("creditAmount") or 0),
        currency=str(result.get("currency") or ""),
        revision=revision,
        config_map=config_map,
        finalized_at=finalized_at,
        reevaluation_request=request,
    )


#: Picked up by ``sloguard.api.crdgen`` (``make crds``).
CRD_SPEC = CRDSpec(
    kind=c.KIND_SLA,
    plural=c.PLURAL_SLA,
    singular=c.SINGULAR_SLA,
    short_names=(c.SHORT_SLA,),
    spec_model=SLAContractSpec,
    status_model=SLAContractStatus,
    description="A customer's SLA: terms measured per calendar month, scheduled maintenance excluded "
    "when announced in time, service credits. sloguard keeps the month to date and finalized history.",
    columns=(
        Column("Customer", "string", ".spec.customer.id"),
        Column("Period", "string", ".status.currentPeriod.period", "Month being measured"),
        Column("Compliance", "string", ".status.currentPeriod.compliance", "Month to date"),
        Column("Credit", "number", ".status.currentPeriod.creditPercent", "Credit so far, percent of the fee"),
    ),
    wide_columns=(
        Column("Amount", "number", ".status.currentPeriod.creditAmount", "Credit so far, in the fee's currency",
               priority=1),
        Column("Currency", "string", ".status.currentPeriod.currency", "Currency of the amount", priority=1),
        Column("Coverage", "number", ".status.currentPeriod.coverage", "Lowest share of minutes with data",
               priority=1),
        Column("Finalized", "string", ".status.history[0].period", "The last finalized month", priority=1),
    ),
)

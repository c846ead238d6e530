"""The ErrorBudgetPolicy custom resource (``sloguard.io/v1alpha1``, short name ``ebp``).

When the error budget of the SLOs it names runs low, a policy holds the workloads it targets:
releases stop (freeze), need approval (restrict) or draw a warning (scrutiny). Every field has a
default from the seed's policy table, so ``slos`` and ``targets`` are all a policy needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, ValidationError, model_validator

from ..core import conventions as c
from ..core import policy as core
from ..core.causes import CAUSES
from ..core.windows import DURATION_PATTERN, normalize_if_duration
from . import cel
from .common import CamelModel, Diagnostic, LabelSelector, Target, diagnostics_from_validation_error
from .crdgen import Column, CRDSpec
from .slo import Condition

ActionName = Literal["freeze", "restrict", "scrutiny", "emergency"]
CauseName = Literal["releases", "maintenance", "incidents"]
assert set(get_args(CauseName)) == set(CAUSES)
_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class CauseTrigger(CamelModel):
    """A cause's share of the budget: the SLO's ``status.budget.byCause.<cause>`` x 100 above ``consumedAbove``."""

    cause: CauseName = Field(description="releases, maintenance or incidents (what spent the budget).")
    consumed_above: float = Field(ge=0, description="Percent of the window's error budget this cause has spent "
                                  "(status.budget.byCause.<cause> x 100), e.g. 30 for the seed's releases share.")


class LevelSpec(CamelModel):
    """A row of the levels table: below ``remainingBelow`` percent of budget left, or when a cause has spent
    more than ``when.consumedAbove`` percent of it, take ``action``. Exactly one of the two."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": cel.validations(("has(self.remainingBelow) != has(self.when)",
                                              "give exactly one of remainingBelow or when"))
    }
    name: str = Field(min_length=1, max_length=63, pattern=_NAME, description="Level name, e.g. exhausted.")
    remaining_below: float | None = Field(None, description="Remaining error budget in percent (may be negative). "
                                          "Exclusive with when.")
    when: CauseTrigger | None = Field(None, description="Trigger on the budget spent by one cause instead, e.g. "
                                      "{cause: releases, consumedAbove: 30}. An SLO whose status has no "
                                      "budget.byCause never triggers it (the ByCauseKnown condition says so). "
                                      "Exclusive with remainingBelow.")
    action: ActionName = Field(description="freeze, restrict, scrutiny or emergency.")

    @model_validator(mode="after")
    def _one_trigger(self) -> LevelSpec:
        if (self.remaining_below is None) == (self.when is None):
            raise ValueError("give exactly one of remainingBelow or when")
        return self

    def to_core(self) -> core.Level:
        if self.when is not None:
            return core.Level(self.name, None, self.action, self.when.cause, self.when.consumed_above)
        return core.Level(self.name, self.remaining_below, self.action)


class BurnRateLevelSpec(CamelModel):
    """A row of the burn-rate table: over ``window``, burning faster than ``above``x, take ``action``."""

    name: str = Field(min_length=1, max_length=63, pattern=_NAME, description="Rule name, e.g. fast-burn.")
    window: str = Field(pattern=DURATION_PATTERN, description="A window the SLO reports in status.burnRates, "
                        "e.g. 1h.")
    above: float = Field(gt=0, description="Burn-rate multiple, e.g. 14.4.")
    action: ActionName = Field(description="freeze, restrict, scrutiny or emergency.")


class RecoverySpec(CamelModel):
    unfreeze_above: float = Field(core.DEFAULT_UNFREEZE_ABOVE, description="A freeze holds until the remaining "
                                  "budget is back above this percentage. Default 10.")


#: An exception class: a non-empty name, e.g. security-fix. An empty class would match every release
#: without the annotation (its value defaults to "").
ExceptionClass = Annotated[str, Field(min_length=1, max_length=63, pattern=_NAME)]


class ExceptionsSpec(CamelModel):
    classes: list[ExceptionClass] = Field(default_factory=lambda: list(core.DEFAULT_EXCEPTION_CLASSES),
                               description="Values of the sloguard.io/exception annotation that let a release "
                               "through a freeze or restriction: lowercase names (a-z, 0-9, -). Default: security-fix, "
                               "reliability-fix, rollback.")


class EnforcementSpec(CamelModel):
    mode: Literal["enforce", "warn", "dryRun"] = Field("enforce", description="enforce denies; warn only "
                                                       "warns the requester; dryRun only records (audit). "
                                                       "Default enforce.")
    mechanism: Literal["admissionPolicy", "webhook"] = Field(
        "admissionPolicy", description="admissionPolicy: a ValidatingAdmissionPolicy the operator manages "
        "(no webhook in the request path). webhook: the operator's validating webhook. Default admissionPolicy.")
    failure_policy: Literal["Ignore", "Fail"] = Field("Ignore", description="Webhook only: what the API server "
                                                      "does when the webhook is unreachable. Default Ignore.")


class ErrorBudgetPolicySpec(CamelModel):
    """Which SLOs' budgets govern which workloads, and what each level does."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": cel.validations(("has(self.slos) != has(self.sloSelector)", "give exactly one of slos or "
                                   "sloSelector"))
    }
    slos: list[str] | None = Field(None, min_length=1, description="Names of SLOs in the policy's namespace.")
    slo_selector: LabelSelector | None = Field(None, description="Label selector over SLOs in the policy's "
                                               "namespace. Exclusive with slos.")
    targets: list[Target] = Field(min_length=1, description="Workloads a decision applies to.")
    levels: list[LevelSpec] | None = Field(None, min_length=1, description="Levels by remaining budget "
                                           "(remainingBelow) or by a cause's share of it (when); replaces the default "
                                           "table (exhausted <0 freeze, critical <10 "
                                           "restrict, warning <25 scrutiny) entirely.")
    burn_rates: list[BurnRateLevelSpec] | None = Field(None, description="Levels by burn rate; replaces the "
                                                       "default (fast-burn: 1h above 14.4x -> emergency). "
                                                       "An empty list disables burn-rate levels.")
    recovery: RecoverySpec = Field(default_factory=RecoverySpec, description="Hysteresis of a freeze.")
    exceptions: ExceptionsSpec = Field(default_factory=ExceptionsSpec, description="Exception classes.")
    enforcement: EnforcementSpec = Field(default_factory=EnforcementSpec, description="How decisions are "
                                         "enforced at admission.")

    @model_validator(mode="after")
    def _one_source(self) -> ErrorBudgetPolicySpec:
        if (self.slos is None) == (self.slo_selector is None):
            raise ValueError("give exactly one of slos or sloSelector")
        return self

    def to_core(self, namespace: str, name: str) -> core.PolicyRules:
        levels = (tuple(x.to_core() for x in self.levels)
                  if self.levels is not None else core.DEFAULT_LEVELS)
        # Windows in their one spelling: status.burnRates is keyed "1h", whether written 60m or 1h.
        burns = (tuple(core.BurnRule(x.name, normalize_if_duration(x.window), x.above, x.action)
                       for x in self.burn_rates)
                 if self.burn_rates is not None else core.DEFAULT_BURN_RULES)
        return core.PolicyRules(namespace, name, levels, burns, self.recovery.unfreeze_above,
                                tuple(self.exceptions.classes))


class HeldTarget(CamelModel):
    kind: str = Field(description="Workload kind.")
    name: str = Field(description="Workload name.")


class Transition(CamelModel):
    at: str = Field(description="When (RFC 3339).")
    from_level: str = Field(description="Previous level.")
    to_level: str = Field(description="New level.")
    from_action: str = Field(description="Previous action.")
    to_action: str = Field(description="New action.")
    slo: str = Field("", description="The deciding SLO.")
    reason: str = Field("", description="Why, for people.")


class Exemption(CamelModel):
    """A release let through a hold, as the operator's watch saw it land (both mechanisms)."""

    at: str = Field(description="When the operator saw the release (RFC 3339).")
    kind: str = Field(description="Workload kind.")
    name: str = Field(description="Workload name.")
    generation: int | None = Field(None, description="The workload's metadata.generation after the release.")
    exemption: str = Field(description="The exception class the change carried, or override (approve/override "
                           "under restrict) when it carried none.")
    reason: str | None = Field(None, description="The sloguard.io/exception-reason annotation, if any.")
    action: str = Field(description="The action that was in force.")


class ErrorBudgetPolicyStatus(CamelModel):
    level: str | None = Field(None, description="Current level: healthy, or a level or burn-rate rule name.")
    action: str | None = Field(None, description="none, scrutiny, restrict, freeze or emergency.")
    slo: str | None = Field(None, description="The SLO that decides the level.")
    remaining_percent: float | None = Field(None, description="The deciding SLO's remaining budget, percent.")
    cause: str | None = Field(None, description="The cause whose share of the budget decided the level (a level "
                              "with when), else absent.")
    cause_percent: float | None = Field(None, description="That cause's share of the deciding SLO's budget, percent.")
    causes_unknown: list[str] | None = Field(None, description="SLOs whose budget by cause is not known "
                                             "(no status.budget.byCause) while a level triggers on a cause.")
    reason: str | None = Field(None, description="Why the policy is at this level, for people.")
    since: str | None = Field(None, description="When the current action began (RFC 3339).")
    held: int | None = Field(None, description="Number of workloads held.")
    held_targets: list[HeldTarget] | None = Field(None, description="Workloads held now.")
    transitions: list[Transition] | None = Field(None, description="The last level changes (bounded).")
    exemptions: list[Exemption] | None = Field(None, description="The last releases let through a hold "
                                               "(bounded), from the operator's watch of its held workloads.")
    mechanism: str | None = Field(None, description="Enforcement mechanism in effect.")
    observed_generation: int | None = Field(None, description="The spec generation this status is for.")
    conditions: list[Condition] | None = Field(None, description="Ready: True once the policy is evaluated, "
                                               "False with reason InvalidSpec when its spec cannot be. "
                                               "ByCauseKnown (levels with when only): False while an SLO's "
                                               "budget by cause is unknown.")


class HoldTarget(CamelModel):
    kind: str = Field(max_length=63, description="The policy target's kind.")
    selector: LabelSelector = Field(description="The target's selector; matched against the labels and the "
                                    "pod-template labels of every covered kind.")


class HoldMessages(CamelModel):
    release: str = Field(max_length=4096, description="The release denial (or scrutiny warning), from "
                         "sloguard.core.policy.denial_message.")
    metadata: str = Field(max_length=4096, description="The denial for touching sloguard.io/* metadata.")


class ErrorBudgetHoldSpec(CamelModel):
    """What the chart's hold ValidatingAdmissionPolicy reads (its params), per ErrorBudgetPolicy."""

    policy: str = Field(max_length=253, description="The ErrorBudgetPolicy (same namespace).")
    action: Literal["none", "scrutiny", "restrict", "freeze", "emergency"] = Field(description="The action in "
                                                                                   "force.")
    exception_classes: list[str] = Field(default_factory=list, max_length=64,
                                         description="Allowed sloguard.io/exception classes.")
    targets: list[HoldTarget] = Field(default_factory=list, max_length=64, description="Target selectors.")
    held: list[HeldTarget] = Field(default_factory=list, max_length=4096, description="Every workload this hold "
                                   "has held (kind, name), deleted ones included, until it lifts.")
    operator_user: str = Field("", max_length=512, description="The operator's user: the only one that may "
                               "change sloguard.io/* metadata of a held workload.")
    messages: HoldMessages = Field(description="Denial texts.")


class ErrorBudgetHoldStatus(CamelModel):
    observed_generation: int | None = Field(None, description="Unused; reserved.")


HOLD_CRD_SPEC = CRDSpec(
    kind=c.KIND_HOLD,
    plural=c.PLURAL_HOLD,
    singular=c.SINGULAR_HOLD,
    short_names=(c.SHORT_HOLD,),
    spec_model=ErrorBudgetHoldSpec,
    status_model=ErrorBudgetHoldStatus,
    description="Written by the sloguard operator only: the hold of one ErrorBudgetPolicy as the chart's "
    "ValidatingAdmissionPolicy reads it (paramKind). Owned by the policy.",
    columns=(Column("Action", "string", ".spec.action"), Column("Policy", "string", ".spec.policy")),
    reconciled=False,
)

CRD_SPEC = CRDSpec(
    kind=c.KIND_POLICY,
    plural=c.PLURAL_POLICY,
    singular=c.SINGULAR_POLICY,
    short_names=(c.SHORT_POLICY,),
    spec_model=ErrorBudgetPolicySpec,
    status_model=ErrorBudgetPolicyStatus,
    description="An error budget policy: when the budgets of its SLOs run low, releases of its target "
    "workloads are frozen, restricted or scrutinised at admission.",
    columns=(
        Column("Level", "string", ".status.level"),
        Column("Action", "string", ".status.action"),
        Column("Held", "integer", ".status.held", "Workloads held"),
    ),
    wide_columns=(
        Column("SLO", "string", ".status.slo", "The SLO that decides the level", priority=1),
        Column("Remaining", "number", ".status.remainingPercent", "Its error budget left, percent", priority=1),
        Column("Cause", "string", ".status.cause", "The cause whose share of the budget decided the level",
               priority=1),
        Column("Mechanism", "string", ".status.mechanism", "Enforcement mechanism in effect", priority=1),
        Column("Since", "string", ".status.since", "When the current action began", priority=1),
    ),
)


def parse_policy(body: Mapping[str, Any]) -> tuple[ErrorBudgetPolicySpec | None, list[Diagnostic]]:
    """Validate one ErrorBudgetPolicy object; diagnostics carry field paths."""
    try:
        spec = ErrorBudgetPolicySpec.model_validate(body.get("spec"))
    except ValidationError as e:
        return None, diagnostics_from_validation_error(e, "spec")
    out: list[Diagnostic] = []
    if spec.levels is not None:
        names = [x.name for x in spec.levels] + [x.name for x in spec.burn_rates or []]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            out.append(Diagnostic("error", f"level names must be unique; repeated: {', '.join(dupes)}", "spec.levels"))
    if not any(x.action in core.FREEZING and x.remaining_below is not None
               for x in spec.levels or core.DEFAULT_LEVELS):
        out.append(Diagnostic("warning", "no level freezes; releases are never stopped by remaining budget",
                              "spec.levels"))
    if not spec.exceptions.classes:
        out.append(Diagnostic("warning", "no exception classes: only 'override' lets a release through a "
                              "freeze", "spec.exceptions.classes"))
    for i, t in enumerate(spec.targets):
        if not t.selector.match_labels and not t.selector.match_expressions:
            out.append(Diagnostic("warning", f"an empty selector holds every {t.kind} in the namespace",
                                  f"spec.targets[{i}].selector"))
    return (None if any(d.severity == "error" for d in out) else spec), out


def validate_documents(docs: Iterable[Any]) -> list[Diagnostic]:
    """Diagnostics for every ErrorBudgetPolicy among loader ``Document``s (for ``sloguard validate``)."""
    out: list[Diagnostic] = []
    for doc in docs:
        body = getattr(doc, "body", None)
        if not isinstance(body, dict) or body.get("kind") != c.KIND_POLICY:
            continue
        if body.get("apiVersion") != c.API_VERSION:
            continue  # the SLO loader reports foreign apiVersions of our kinds
        loc = {"source": getattr(doc, "source", ""), "kind": c.KIND_POLICY, "object": getattr(doc, "ref", "")}
        meta = body.get("metadata")
        if not isinstance(meta, dict) or not meta.get("name"):
            out.append(Diagnostic("error", "required field is missing", "metadata.name", **loc))
        if not isinstance(body.get("spec"), dict):
            out.append(Diagnostic("error", "required field is missing (an object)", "spec", **loc))
            continue
        _, diags = parse_policy(body)
        out.extend(d.located(**loc) for d in diags)
    return out

"""Error budget policies: budgets -> a hold level, and a hold + an admission request -> a decision.

Pure: the handlers read SLO status and admission requests and resolve the requester's RBAC
permissions (``override``/``approve`` on the policy) before calling in; ``now`` is a parameter.

Two functions carry the logic:

* :func:`evaluate` — the policy's level from its SLOs' budgets. Every SLO is matched against the
  levels table (remaining budget in percent) and the burn-rate table; the most severe action
  wins, and with several SLOs the worst one decides. A freeze holds (hysteresis) until the
  deciding remaining budget is back *above* ``unfreeze_above`` percent, so a budget hovering
  around zero does not flap the freeze on and off.
* :func:`decide` — one admission request against the hold of the workload it touches.

The same :func:`decide` backs the webhook; the ValidatingAdmissionPolicy expresses the same rules
in CEL (``sloguard.adapters.admission_policy``) with the messages from :func:`denial_message`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Literal

from .conventions import (
    ANNOTATION_EXCEPTION,
    ANNOTATION_HOLD_POLICY,
    ANNOTATION_HOLD_REASON,
    ANNOTATION_HOLD_SINCE,
    LABEL_PREFIX,
)

Action = Literal["none", "scrutiny", "restrict", "freeze", "emergency"]

#: Severity order of actions; a larger number is stricter.
ACTION_RANK: Final[Mapping[str, int]] = {"none": 0, "scrutiny": 1, "restrict": 2, "freeze": 3, "emergency": 4}
#: Actions under which a release needs a declared exception class or ``override``.
FREEZING: Final = frozenset({"freeze", "emergency"})
#: Level name when no level applies.
LEVEL_HEALTHY: Final = "healthy"


@dataclass(frozen=True)
class Level:
    """A row of the levels table: remaining budget below ``remaining_below`` percent -> ``action``."""

    name: str
    remaining_below: float
    action: Action


@dataclass(frozen=True)
class BurnRule:
    """A row of the burn-rate table: burn rate over ``window`` above ``above`` -> ``action``."""

    name: str
    window: str
    above: float
    action: Action


#: The seed's policy table ("Error Budget Management"), as data:
#:   exhausted: 0% remaining      -> feature freeze, reliability-only work
#:   critical:  under 10% left    -> restricted feature releases (approval needed)
#:   warning:   under 25% left    -> increased scrutiny on changes
DEFAULT_LEVELS: Final[tuple[Level, ...]] = (
    Level("exhausted", 0.0, "freeze"),
    Level("critical", 10.0, "restrict"),
    Level("warning", 25.0, "scrutiny"),
)
#:   fast burn: over 14.4x over 1h (a 30-day budget gone in ~2 days) -> immediate emergency response
DEFAULT_BURN_RULES: Final[tuple[BurnRule, ...]] = (BurnRule("fast-burn", "1h", 14.4, "emergency"),)
#: "Daily until 10% budget recovered": a freeze lifts once more than 10% is back.
DEFAULT_UNFREEZE_ABOVE: Final = 10.0
#: Reliability and security work may proceed under a freeze.
DEFAULT_EXCEPTION_CLASSES: Final[tuple[str, ...]] = ("security-fix", "reliability-fix", "rollback")
#: Transitions kept in policy status.
HISTORY_LIMIT: Final = 20


@dataclass(frozen=True)
class PolicyRules:
    """The decision-relevant part of an ErrorBudgetPolicy spec."""

    namespace: str
    name: str
    levels: tuple[Level, ...] = DEFAULT_LEVELS
    burn_rules: tuple[BurnRule, ...] = DEFAULT_BURN_RULES
    unfreeze_above: float = DEFAULT_UNFREEZE_ABOVE
    exception_classes: tuple[str, ...] = DEFAULT_EXCEPTION_CLASSES


@dataclass(frozen=True)
class SLOBudget:
    """What the budget refresher wrote into one SLO's status (``None`` when not known yet)."""

    name: str
    remaining_percent: float | None
    burn_rates: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyState:
    """Where a policy stands: its level and action, and which SLO put it there."""

    level: str = LEVEL_HEALTHY
    action: Action = "none"
    slo: str = ""
    remaining_percent: float | None = None
    reason: str = "no SLO is below any level"
    since: datetime | None = None

    @property
    def holding(self) -> bool:
        return self.action != "none"


@dataclass(frozen=True)
class _Candidate:
    level: str
    action: Action
    slo: str
    remaining: float | None
    reason: str


def _pct(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{value:.1f}%"


def _for_slo(rules: PolicyRules, budget: SLOBudget) -> _Candidate | None:
    """The strictest level or burn rule one SLO triggers, or ``None``."""
    found: list[_Candidate] = []
    rem = budget.remaining_percent
    if rem is not None and math.isfinite(rem):
        for lvl in rules.levels:
            if rem < lvl.remaining_below:
                found.append(_Candidate(lvl.name, lvl.action, budget.name, rem,
                                        f"SLO {budget.name} has {_pct(rem)} of its error budget left "
                                        f"(level {lvl.name}: below {lvl.remaining_below:g}%)"))
    for rule in rules.burn_rules:
        rate = budget.burn_rates.get(rule.window)
        if rate is not None and math.isfinite(rate) and rate > rule.above:
            found.append(_Candidate(rule.name, rule.action, budget.name, rem,
                                    f"SLO {budget.name} burns its error budget at {rate:.1f}x over {rule.window} "
                                    f"({rule.name}: above {rule.above:g}x), {_pct(rem)} left"))
    if not found:
        return None
    # Strictest action; among equals the lowest remaining budget (unknown counts as highest).
    return min(found, key=lambda c: (-ACTION_RANK[c.action], _sort_remaining(c.remaining)))


def _sort_remaining(value: float | None) -> float:
    return math.inf if value is None else value


def evaluate(rules: PolicyRules, budgets: Sequence[SLOBudget], previous: PolicyState | None,
             now: datetime) -> PolicyState:
    """The policy's state now. ``previous`` (from policy status) drives the hysteresis.

    * No SLO with a known budget: the previous state is kept (a hold never lifts on missing data).
    * The strictest action any SLO triggers wins; ties go to the SLO with the least budget left.
    * A freeze (or emergency) that would relax holds as ``freeze`` while the lowest remaining
      budget is at or below ``unfreeze_above`` percent.
    * ``since`` moves only when the action changes.
    """
    prev = previous or PolicyState()
    known = [b for b in budgets if b.remaining_percent is not None and math.isfinite(b.remaining_percent)]
    if not known and not any(b.burn_rates for b in budgets):
        if previous is None:
            return PolicyState(reason="no SLO budget is known yet", since=None)
        return prev
    candidates = [c for c in (_for_slo(rules, b) for b in budgets) if c is not None]
    lowest = min(known, key=lambda b: _sort_remaining(b.remaining_percent)) if known else None
    if candidates:
        best = min(candidates, key=lambda c: (-ACTION_RANK[c.action], _sort_remaining(c.remaining)))
        state = PolicyState(best.level, best.action, best.slo, best.remaining, best.reason)
    else:
        state = PolicyState(slo=lowest.name if lowest else "",
                            remaining_percent=lowest.remaining_percent if lowest else None,
                            reason=f"every SLO is above its levels (lowest: {lowest.name} with "
                                   f"{_pct(lowest.remaining_percent)} left)" if lowest else "no SLO is below any level")

    if (prev.action in FREEZING and ACTION_RANK[state.action] < ACTION_RANK["freeze"] and lowest is not None
            and lowest.remaining_percent is not None and lowest.remaining_percent <= rules.unfreeze_above):
        state = PolicyState(
            level=prev.level if prev.action == "freeze" else "exhausted",
            action="freeze",
            slo=lowest.name,
            remaining_percent=lowest.remaining_percent,
            reason=f"SLO {lowest.name} has {_pct(lowest.remaining_percent)} of its error budget left; the freeze "
                   f"holds until it is back above {rules.unfreeze_above:g}%",
        )
    since = prev.since if (state.action == prev.action and prev.since is not None) else now
    return replace(state, since=since if state.holding else None)


# --- Admission --------------------------------------------------------------------------------

Operation = Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]


@dataclass(frozen=True)
class Hold:
    """A policy's hold on a workload, as admission sees it."""

    policy: str  # policy name (same namespace as the workload)
    namespace: str
    action: Action
    level: str
    slo: str
    remaining_percent: float | None
    exception_classes: tuple[str, ...] = DEFAULT_EXCEPTION_CLASSES


@dataclass(frozen=True)
class Request:
    """The facts of one admission request; permissions resolved by the caller (SubjectAccessReview)."""

    operation: Operation
    kind: str
    namespace: str
    name: str
    old_template: Mapping[str, Any] | None = None
    new_template: Mapping[str, Any] | None = None
    old_labels: Mapping[str, str] = field(default_factory=dict)
    new_labels: Mapping[str, str] = field(default_factory=dict)
    old_annotations: Mapping[str, str] = field(default_factory=dict)
    new_annotations: Mapping[str, str] = field(default_factory=dict)
    subresource: str = ""
    user: str = ""
    can_override: bool = False
    can_approve: bool = False
    is_operator: bool = False

    @property
    def exception_class(self) -> str:
        return self.new_annotations.get(ANNOTATION_EXCEPTION, "")

    @property
    def workload(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    message: str = ""
    warnings: tuple[str, ...] = ()
    #: How a release under a hold got through: an exception class, "override" or "approve"; "" otherwise.
    exemption: str = ""


ALLOW: Final = Decision(True)


def is_release(req: Request) -> bool:
    """A change to the pod template, or creating a workload. Scaling and metadata are not releases."""
    if req.subresource:
        return False  # scale, status
    if req.operation == "CREATE":
        return True
    if req.operation != "UPDATE":
        return False
    return dict(req.old_template or {}) != dict(req.new_template or {})


def protected_changes(req: Request) -> list[str]:
    """sloguard.io/* labels and annotations added, changed or removed (the exception annotation is the user's)."""
    out: list[str] = []
    for what, old, new in (("label", req.old_labels, req.new_labels),
                           ("annotation", req.old_annotations, req.new_annotations)):
        keys = {k for k in (*old, *new) if k.startswith(LABEL_PREFIX) and k != ANNOTATION_EXCEPTION}
        for k in sorted(keys):
            if old.get(k) != new.get(k):
                out.append(f"{what} {k}")
    return out


def _budget_phrase(hold: Hold) -> str:
    return f"SLO {hold.slo} has {_pct(hold.remaining_percent)} of its error budget left (level {hold.level})"


def allowed_phrase(hold: Hold) -> str:
    """What would be allowed under ``hold``, for people."""
    classes = ", ".join(hold.exception_classes) or "(none configured)"
    perm = "'override'" if hold.action in FREEZING else "'approve' or 'override'"
    return (f"Allowed: scaling and metadata-only changes; a release annotated {ANNOTATION_EXCEPTION}: <class> "
            f"with one of {classes}; or by a user RBAC grants {perm} on "
            f"errorbudgetpolicies/{hold.policy} in {hold.namespace}.")


def denial_message(hold: Hold) -> str:
    """The body of a release denial (after ``<Kind> <ns>/<name>: ``), identical for CEL and the webhook."""
    verb = {"freeze": "frozen", "emergency": "frozen (emergency)", "restrict": "restricted"}.get(hold.action, "held")
    return (f"releases are {verb} by ErrorBudgetPolicy {hold.namespace}/{hold.policy}: {_budget_phrase(hold)}. "
            f"{allowed_phrase(hold)}")


def label_denial_message(hold: Hold) -> str:
    """The body of a denial for touching sloguard.io/* metadata on a held workload."""
    return (f"is held ({hold.action}) by ErrorBudgetPolicy {hold.namespace}/{hold.policy}: {_budget_phrase(hold)}. "
            f"sloguard.io/* labels and annotations on a held workload are managed by sloguard and are "
            f"removed when the budget recovers.")


def scrutiny_warning(hold: Hold) -> str:
    return (f"release under increased scrutiny by ErrorBudgetPolicy {hold.namespace}/{hold.policy}: "
            f"{_budget_phrase(hold)}")


def decide(hold: Hold | None, req: Request) -> Decision:
    """Whether ``req`` may proceed under ``hold`` (``None``: the workload is not held)."""
    if hold is None or hold.action == "none":
        return ALLOW
    changed = protected_changes(req) if req.operation == "UPDATE" and not req.subresource else []
    if changed and not req.is_operator:
        return Decision(False, f"{req.workload} {label_denial_message(hold)} (changed: {', '.join(changed)})")
    if not is_release(req):
        return ALLOW
    cls = req.exception_class
    if cls and cls in hold.exception_classes:
        return Decision(True, warnings=(f"release allowed under {hold.action} by exception class {cls!r} "
                                        f"(ErrorBudgetPolicy {hold.namespace}/{hold.policy})",), exemption=cls)
    if hold.action == "scrutiny":
        return Decision(True, warnings=(scrutiny_warning(hold),))
    who = req.user or "the requester"
    where = f"(ErrorBudgetPolicy {hold.namespace}/{hold.policy})"
    if req.can_override:
        return Decision(True, warnings=(f"release allowed under {hold.action} by 'override' of {who} {where}",),
                        exemption="override")
    if hold.action == "restrict" and req.can_approve:
        return Decision(True, warnings=(f"release allowed under restrict by 'approve' of {who} {where}",),
                        exemption="approve")
    message = f"{req.workload}: {denial_message(hold)}"
    if cls:
        message += f" ({cls!r} is not an allowed exception class.)"
    return Decision(False, message)


def hold_annotations(policy: str, state: PolicyState, since: str) -> dict[str, str]:
    """The annotations the operator puts on a held workload (``since`` already formatted)."""
    return {ANNOTATION_HOLD_POLICY: policy, ANNOTATION_HOLD_REASON: state.reason, ANNOTATION_HOLD_SINCE: since}


def transition(history: Sequence[Mapping[str, Any]], previous: PolicyState, current: PolicyState,
               at: str) -> list[dict[str, Any]]:
    """History with one entry appended when level or action changed; bounded to HISTORY_LIMIT."""
    out = [dict(h) for h in history]
    if (previous.level, previous.action) != (current.level, current.action):
        out.append({"at": at, "fromLevel": previous.level, "toLevel": current.level, "fromAction": previous.action,
                    "toAction": current.action, "slo": current.slo, "reason": current.reason})
    return out[-HISTORY_LIMIT:]

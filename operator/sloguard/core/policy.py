"""Error budget policies: budgets -> a hold level, and a hold + an admission request -> a decision.

Pure: the handlers read SLO status and admission requests and resolve the requester's RBAC
permissions (``override``/``approve`` on the policy) before calling in; ``now`` is a parameter.

Two functions carry the logic:

* :func:`evaluate` — the policy's level from its SLOs' budgets. Every SLO is matched against the
  levels table (remaining budget in percent, or a cause's share of the budget spent:
  ``status.budget.byCause``) and the burn-rate table; the most severe action
  wins, and with several SLOs the worst one decides. A freeze holds (hysteresis) until the
  deciding remaining budget is back *above* ``unfreeze_above`` percent, so a budget hovering
  around zero does not flap the freeze on and off.
* :func:`decide` — one admission request against the hold of the workload it touches.

The same :func:`decide` backs the webhook; the ValidatingAdmissionPolicy expresses the same rules
in CEL (``sloguard.adapters.admission_policy``) with the messages from :func:`denial_message`.

What a hold covers, and what counts as a release (both mechanisms):

* A hold follows the *workload*, not its current labels: a workload is covered when its kind and
  name are among the names this hold has held (kept until the hold lifts, deleted ones included),
  or when a target selector matches its labels or its pod-template labels (old or new object).
  Covered kinds: Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod (core) and Argo Rollout.
* Requests by the workload controllers (kube-controller-manager and its controller service
  accounts, :data:`CONTROLLER_USERS`) are never judged: a held Deployment's ReplicaSets and Pods
  are its controllers' business, the Deployment's own release was judged already.
* A release is a CREATE, a change of the pod template (a Pod's spec), or an UPDATE that moves the
  workload out of a target (its labels matched a selector before and no longer do).
* An exception covers only the change that carries it (:func:`carried_exception`): one that sets
  or changes ``sloguard.io/exception`` (or ``sloguard.io/exception-reason``), or a release that
  removes an *armed* one. ``kubectl rollout undo`` replaces annotations wholesale, so it cannot
  carry a class: the class is annotated first (a metadata-only change), the operator's watch arms
  it (``sloguard.io/exception-armed: <class>/<reason>``), and the undo that removes it uses it up.
  An exception left over from an earlier release is never armed. Annotating once does not open
  later releases.
* A release let through (exception class, ``override``, ``approve``) may also drop or change the
  hold metadata (``rollout undo`` copies the old revision's annotations); the operator re-adds it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Literal

from .conventions import (
    ANNOTATION_EXCEPTION,
    ANNOTATION_EXCEPTION_ARMED,
    ANNOTATION_EXCEPTION_REASON,
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
    """A row of the levels table, with exactly one trigger:

    * ``remaining_below``: the SLO's remaining budget is below this many percent -> ``action``;
    * ``cause`` + ``consumed_above``: the budget spent by ``cause`` (releases, maintenance,
      incidents; ``status.budget.byCause.<cause>`` x 100) is above this many percent of the
      window's budget -> ``action``. An SLO whose status has no ``byCause`` never triggers it.
    """

    name: str
    remaining_below: float | None
    action: Action
    cause: str | None = None
    consumed_above: float | None = None

    @property
    def by_cause(self) -> bool:
        return self.cause is not None


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
    #: Percent of the window's budget spent per cause (``status.budget.byCause`` x 100); None: not known.
    by_cause: Mapping[str, float] | None = None

    @property
    def known(self) -> bool:
        """Whether any figure a level could trigger on is known."""
        rem = self.remaining_percent
        return (rem is not None and math.isfinite(rem)) or bool(self.burn_rates) or bool(self.by_cause)


@dataclass(frozen=True)
class PolicyState:
    """Where a policy stands: its level and action, and which SLO put it there."""

    level: str = LEVEL_HEALTHY
    action: Action = "none"
    slo: str = ""
    remaining_percent: float | None = None
    reason: str = "no SLO is below any level"
    since: datetime | None = None
    #: The cause whose share decided the level ("" for remaining-budget and burn-rate levels) and that share.
    cause: str = ""
    cause_percent: float | None = None
    #: SLOs whose budget by cause is not known while a level of the policy triggers on one.
    causes_unknown: tuple[str, ...] = ()

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
    cause: str = ""
    cause_percent: float | None = None


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
            if lvl.remaining_below is not None and rem < lvl.remaining_below:
                found.append(_Candidate(lvl.name, lvl.action, budget.name, rem,
                                        f"SLO {budget.name} has {_pct(rem)} of its error budget left "
                                        f"(level {lvl.name}: below {lvl.remaining_below:g}%)"))
    for lvl in rules.levels:
        if lvl.cause is None or lvl.consumed_above is None or budget.by_cause is None:
            continue
        share = budget.by_cause.get(lvl.cause)
        if share is not None and math.isfinite(share) and share > lvl.consumed_above:
            found.append(_Candidate(lvl.name, lvl.action, budget.name, rem,
                                    f"{lvl.cause} spent {_pct(share)} of SLO {budget.name}'s error budget "
                                    f"(level {lvl.name}: above {lvl.consumed_above:g}%), {_pct(rem)} left",
                                    lvl.cause, share))
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

    * No SLO with a known budget: the previous state is kept (a hold never lifts on missing data);
      so is a hold a cause's share decided while that SLO's budget by cause is unknown.
    * A level on a cause triggers only on a known share: an SLO without ``by_cause`` is listed in
      ``causes_unknown`` (never read as 0).
    * The strictest action any SLO triggers wins; ties go to the SLO with the least budget left.
    * A freeze (or emergency) that would relax holds as ``freeze`` while the lowest remaining
      budget is at or below ``unfreeze_above`` percent.
    * ``since`` moves only when the action changes.
    """
    prev = previous or PolicyState()
    unknown = unknown_causes(rules, budgets)
    known = [b for b in budgets if b.remaining_percent is not None and math.isfinite(b.remaining_percent)]
    if not any(b.known for b in budgets):
        if previous is None:
            return PolicyState(reason="no SLO budget is known yet", since=None, causes_unknown=unknown)
        return replace(prev, causes_unknown=unknown)
    candidates = [c for c in (_for_slo(rules, b) for b in budgets) if c is not None]
    lowest = min(known, key=lambda b: _sort_remaining(b.remaining_percent)) if known else None
    if candidates:
        best = min(candidates, key=lambda c: (-ACTION_RANK[c.action], _sort_remaining(c.remaining)))
        state = PolicyState(best.level, best.action, best.slo, best.remaining, best.reason,
                            cause=best.cause, cause_percent=best.cause_percent)
    else:
        state = PolicyState(slo=lowest.name if lowest else "",
                            remaining_percent=lowest.remaining_percent if lowest else None,
                            reason=f"every SLO is above its levels (lowest: {lowest.name} with "
                                   f"{_pct(lowest.remaining_percent)} left)" if lowest else "no SLO is below any level")
    if unknown and not state.holding:
        state = replace(state, reason=f"{state.reason}; budget by cause unknown for {', '.join(unknown)}: "
                                      f"its levels cannot trigger")

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
    if prev.cause and prev.slo in unknown and ACTION_RANK[state.action] < ACTION_RANK[prev.action]:
        state = prev  # a hold decided by a cause never lifts because that figure went missing
    since = prev.since if (state.action == prev.action and prev.since is not None) else now
    return replace(state, since=since if state.holding else None, causes_unknown=unknown)


def unknown_causes(rules: PolicyRules, budgets: Sequence[SLOBudget]) -> tuple[str, ...]:
    """SLOs whose budget by cause is not known (no ``status.budget.byCause``, or without a cause a
    level needs) when a level triggers on a cause: those levels cannot trigger for them."""
    causes = {lvl.cause for lvl in rules.levels if lvl.cause is not None}
    if not causes:
        return ()
    return tuple(b.name for b in budgets
                 if b.by_cause is None or any(b.by_cause.get(x) is None for x in causes))


# --- Admission --------------------------------------------------------------------------------

Operation = Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]

#: Kinds a hold covers (apps/v1, core Pods, argoproj.io Rollouts), whoever they were created for.
COVERED_KINDS: Final = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Rollout")
#: Who creates and updates workloads on behalf of other workloads: never judged. The controller
#: manager's own user (``--use-service-account-credentials=false``) and its per-controller service
#: accounts (``=true``, the default of kubeadm and managed clusters).
CONTROLLER_USERS: Final = (
    "system:kube-controller-manager",
    *(f"system:serviceaccount:kube-system:{n}" for n in (
        "deployment-controller", "replicaset-controller", "statefulset-controller", "daemon-set-controller",
        "job-controller", "cronjob-controller", "generic-garbage-collector", "namespace-controller",
        "disruption-controller")),
)
#: The actions a hold enforces anything for (everything but "none").
HOLDING: Final = ("scrutiny", "restrict", "freeze", "emergency")


@dataclass(frozen=True)
class Selector:
    """A label selector, pure: ``match_expressions`` rows are (key, operator, values)."""

    match_labels: Mapping[str, str] = field(default_factory=dict)
    match_expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.match_labels.items()):
            return False
        for key, op, values in self.match_expressions:
            present = key in labels
            ok = {"In": present and labels.get(key) in values,
                  "NotIn": not present or labels.get(key) not in values,
                  "Exists": present, "DoesNotExist": not present}.get(op, False)
            if not ok:
                return False
        return True


@dataclass(frozen=True)
class Hold:
    """A policy's hold, as admission sees it."""

    policy: str  # policy name (same namespace as the workload)
    namespace: str
    action: Action
    level: str
    slo: str
    remaining_percent: float | None
    exception_classes: tuple[str, ...] = DEFAULT_EXCEPTION_CLASSES
    #: The policy's target selectors (over workload labels and pod-template labels, any covered kind).
    selectors: tuple[Selector, ...] = ()
    #: (kind, name) of every workload this hold has held, deleted ones included, until it lifts.
    held: frozenset[tuple[str, str]] = frozenset()
    #: The cause whose share of the budget decided the level ("" otherwise) and that share, percent.
    cause: str = ""
    cause_percent: float | None = None


@dataclass(frozen=True)
class Request:
    """The facts of one admission request; permissions resolved by the caller (SubjectAccessReview).

    ``*_template`` is the pod template (a Pod's ``spec``); ``*_template_labels`` its labels.
    """

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
    old_template_labels: Mapping[str, str] = field(default_factory=dict)
    new_template_labels: Mapping[str, str] = field(default_factory=dict)
    subresource: str = ""
    user: str = ""
    can_override: bool = False
    can_approve: bool = False
    is_operator: bool = False

    @property
    def exception_class(self) -> str:
        """The exception class this request carries (see :func:`carried_exception`)."""
        return carried_exception(self.operation, self.old_annotations, self.new_annotations)

    @property
    def workload(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def by_controller(self) -> bool:
        return self.user in CONTROLLER_USERS


@dataclass(frozen=True)
class Decision:
    allowed: bool
    message: str = ""
    warnings: tuple[str, ...] = ()
    #: How a release under a hold got through: an exception class, "override" or "approve"; "" otherwise.
    exemption: str = ""


ALLOW: Final = Decision(True)


def carried_exception(operation: str, old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """The exception class a change carries: set or changed by it (class or reason), or removed by it.

    * CREATE: the annotation as created.
    * UPDATE: the new value when the class or ``sloguard.io/exception-reason`` differs from before;
      the old value when the change removes an exception the operator armed (``rollout undo``
      after annotating); otherwise nothing — an exception is not a standing pass.
    """
    new_cls = new.get(ANNOTATION_EXCEPTION, "")
    if operation != "UPDATE":
        return new_cls
    old_cls = old.get(ANNOTATION_EXCEPTION, "")
    if new_cls:
        changed = (new_cls != old_cls
                   or new.get(ANNOTATION_EXCEPTION_REASON, "") != old.get(ANNOTATION_EXCEPTION_REASON, ""))
        return new_cls if changed else ""
    if old_cls and old.get(ANNOTATION_EXCEPTION_ARMED) == armed_value(old):
        return old_cls
    return ""


def armed_value(annotations: Mapping[str, str]) -> str:
    """``<class>/<reason>`` of the exception in ``annotations`` (what the operator writes to arm it)."""
    return f"{annotations.get(ANNOTATION_EXCEPTION, '')}/{annotations.get(ANNOTATION_EXCEPTION_REASON, '')}"


def _matches(hold: Hold, labels: Mapping[str, str]) -> bool:
    return any(s.matches(labels) for s in hold.selectors)


def covers(hold: Hold, req: Request) -> bool:
    """Whether ``req`` touches a workload ``hold`` covers (by name, labels or pod-template labels)."""
    if hold.action not in HOLDING or req.kind not in COVERED_KINDS:
        return False
    if (req.kind, req.name) in hold.held:
        return True
    sets = [req.new_labels, req.new_template_labels]
    if req.operation == "UPDATE":
        sets += [req.old_labels, req.old_template_labels]
    return any(_matches(hold, labels) for labels in sets)


def moves_out(hold: Hold, req: Request) -> bool:
    """An UPDATE whose workload's labels matched a target selector and no longer do."""
    return req.operation == "UPDATE" and _matches(hold, req.old_labels) and not _matches(hold, req.new_labels)


def is_release(req: Request, hold: Hold | None = None) -> bool:
    """A CREATE, a pod-template change, or (under ``hold``) a move out of its targets. Scaling is not."""
    if req.subresource:
        return False  # scale, status
    if req.operation == "CREATE":
        return True
    if req.operation != "UPDATE":
        return False
    if dict(req.old_template or {}) != dict(req.new_template or {}):
        return True
    return hold is not None and moves_out(hold, req)


def protected_changes(req: Request) -> list[str]:
    """sloguard.io/* labels and annotations added, changed or removed (the exception ones are the user's)."""
    out: list[str] = []
    own = (ANNOTATION_EXCEPTION, ANNOTATION_EXCEPTION_REASON)
    for what, old, new in (("label", req.old_labels, req.new_labels),
                           ("annotation", req.old_annotations, req.new_annotations)):
        keys = {k for k in (*old, *new) if k.startswith(LABEL_PREFIX) and k not in own}
        for k in sorted(keys):
            if old.get(k) != new.get(k):
                out.append(f"{what} {k}")
    return out


def _budget_phrase(hold: Hold) -> str:
    if hold.cause:
        return (f"{hold.cause} spent {_pct(hold.cause_percent)} of SLO {hold.slo}'s error budget, "
                f"{_pct(hold.remaining_percent)} left (level {hold.level})")
    return f"SLO {hold.slo} has {_pct(hold.remaining_percent)} of its error budget left (level {hold.level})"


def allowed_phrase(hold: Hold) -> str:
    """What would be allowed under ``hold``, for people."""
    classes = ", ".join(hold.exception_classes) or "(none configured)"
    perm = "'override'" if hold.action in FREEZING else "'approve' or 'override'"
    return (f"Allowed: scaling and metadata-only changes; a release annotated {ANNOTATION_EXCEPTION}: <class> "
            f"with one of {classes} (set or changed by that release); or by a user RBAC grants {perm} on "
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


def class_note(cls: str) -> str:
    """Appended to a denial whose request carried a class the policy does not allow."""
    return f" ('{cls}' is not an allowed exception class.)"


#: Appended to a denial when the exception annotation is there but this change did not set it.
STALE_EXCEPTION_NOTE: Final = (f" ({ANNOTATION_EXCEPTION} was not set or changed by this change: an exception "
                               f"covers only the release that carries it.)")


def exemption_phrase(hold: Hold, exemption: str, who: str) -> str:
    """The warning (and record) for a release let through under ``hold``."""
    where = f"(ErrorBudgetPolicy {hold.namespace}/{hold.policy})"
    if exemption in ("override", "approve"):
        return f"release allowed under {hold.action} by '{exemption}' of {who} {where}"
    return f"release allowed under {hold.action} by exception class '{exemption}' {where}"


def _exemption(hold: Hold, req: Request) -> str:
    """What lets a release through ``hold``: its exception class, ``override``, ``approve``, or nothing."""
    cls = req.exception_class
    if cls and cls in hold.exception_classes:
        return cls
    if hold.action == "scrutiny":
        return ""
    if req.can_override:
        return "override"
    if hold.action == "restrict" and req.can_approve:
        return "approve"
    return ""


def decide(hold: Hold | None, req: Request) -> Decision:
    """Whether ``req`` may proceed under ``hold`` (``None``: the namespace holds nothing)."""
    if hold is None or req.by_controller or not covers(hold, req):
        return ALLOW
    release = is_release(req, hold)
    cls = req.exception_class
    exemption = _exemption(hold, req) if release else ""
    let_through = release and (bool(exemption) or hold.action == "scrutiny")
    changed = protected_changes(req) if req.operation == "UPDATE" and not req.subresource else []
    if changed and not req.is_operator and not let_through:
        return Decision(False, f"{req.workload} {label_denial_message(hold)} (changed: {', '.join(changed)})")
    if not release:
        return ALLOW
    if exemption:
        return Decision(True, warnings=(exemption_phrase(hold, exemption, req.user or "the requester"),),
                        exemption=exemption)
    if hold.action == "scrutiny":
        return Decision(True, warnings=(scrutiny_warning(hold),))
    message = f"{req.workload}: {denial_message(hold)}"
    if cls:
        message += class_note(cls)
    elif req.new_annotations.get(ANNOTATION_EXCEPTION):
        message += STALE_EXCEPTION_NOTE
    return Decision(False, message)


def release_exemption(hold: Hold, operation: str, old_annotations: Mapping[str, str],
                      new_annotations: Mapping[str, str]) -> str:
    """What let an admitted release of a held workload through, as seen afterwards (a watch event):
    the exception class the change carried, else ``override`` (freeze) or ``approve/override``."""
    cls = carried_exception(operation, old_annotations, new_annotations)
    if cls and cls in hold.exception_classes:
        return cls
    return "override" if hold.action in FREEZING else "approve/override"


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

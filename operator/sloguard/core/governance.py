"""Governed policies: which edits of a holding ErrorBudgetPolicy weaken it, and so need ``override``.

A policy that holds nothing may be edited by anyone RBAC lets edit it; so may a holding policy
be *tightened*. Weakening a holding policy — or deleting it — needs the ``override`` verb on
``errorbudgetpolicies/<name>``, the same verb that lets a release through a freeze. Otherwise an
editor of policies could lift a freeze by editing the policy instead of passing it.

"Weaker" is decided field by field, each rule stated on the data (``old`` -> ``new``):

============================  =========================================================================
field                         the change is *not* weaker when ...
============================  =========================================================================
spec.levels                   every old row (below ``r`` -> action ``a``) is covered by a new row below
                              ``r' >= r`` whose action is at least as strict: at every remaining budget
                              the new table acts at least as strictly as the old one; every old row on a
                              cause (``when: {cause, consumedAbove: x}``) by a new row on the same cause
                              above ``x' <= x``, action at least as strict
spec.burnRates                every old rule (window ``w``, above ``x``, ``a``) is covered by a new rule
                              over the same ``w``, above ``x' <= x``, action at least as strict
spec.recovery.unfreezeAbove   it does not go down (a higher bar holds a freeze longer)
spec.exceptions.classes       no class is added (removing classes lets fewer releases through)
spec.enforcement.mode         it does not go down the order enforce > warn > dryRun
spec.enforcement.mechanism    it does not change
spec.enforcement.failurePolicy it does not go from Fail to Ignore
spec.targets                  every old target (kind and selector, exactly) is still there
spec.slos                     every old SLO name is still there (more SLOs: the worst one decides)
spec.sloSelector              it does not change (a selector's reach cannot be compared)
============================  =========================================================================

Switching between ``slos`` and ``sloSelector`` counts as weakening the one given up. The same
rules are compiled to CEL for the chart's ValidatingAdmissionPolicy
(``sloguard.adapters.governance_policy``); the webhook calls :func:`weakened` directly, and both
deny with :func:`weakening_denial` / :func:`deletion_denial`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from .policy import ACTION_RANK, DEFAULT_BURN_RULES, DEFAULT_EXCEPTION_CLASSES, DEFAULT_LEVELS, DEFAULT_UNFREEZE_ABOVE

#: Strictness of enforcement modes; a larger number is stricter.
MODE_RANK: Final[Mapping[str, int]] = {"dryRun": 0, "warn": 1, "enforce": 2}
#: Policy actions under which a policy holds its workloads (``status.action``).
HOLDING_ACTIONS: Final[tuple[str, ...]] = tuple(a for a, r in ACTION_RANK.items() if r > 0)
#: The verb on ``errorbudgetpolicies/<name>`` that weakening or deleting a holding policy needs.
OVERRIDE_VERB: Final = "override"
#: Who may delete a holding policy without ``override``: the namespace controller, when the whole
#: namespace (and with it every workload the policy holds) is being deleted. Deleting a namespace
#: is not a right the built-in edit/admin roles grant.
NAMESPACE_CONTROLLERS: Final[tuple[str, ...]] = ("system:serviceaccount:kube-system:namespace-controller",
                                                 "system:kube-controller-manager")

#: The governed fields, in the order denials list them.
GOVERNED_PATHS: Final[tuple[str, ...]] = (
    "spec.levels", "spec.burnRates", "spec.recovery.unfreezeAbove", "spec.exceptions.classes",
    "spec.enforcement.mode", "spec.enforcement.mechanism", "spec.enforcement.failurePolicy", "spec.targets",
    "spec.slos", "spec.sloSelector",
)
#: A label selector as comparable data: (sorted matchLabels, matchExpressions in order as
#: (key, operator, values)).
SelectorKey = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str, tuple[str, ...]], ...]]


@dataclass(frozen=True)
class LevelRow:
    """A level as strictness data: ``threshold`` is ``remainingBelow``, or ``consumedAbove`` of ``cause``."""

    threshold: float
    rank: int
    cause: str = ""

    def covered_by(self, new: LevelRow) -> bool:
        """Whether ``new`` acts at least as strictly as this row wherever this row acts."""
        if new.cause != self.cause or new.rank < self.rank:
            return False
        return new.threshold <= self.threshold if self.cause else new.threshold >= self.threshold


@dataclass(frozen=True)
class BurnRow:
    window: str
    above: float
    rank: int


@dataclass(frozen=True)
class Governed:
    """The parts of an ErrorBudgetPolicy spec that decide how strictly it holds (defaults filled in)."""

    levels: tuple[LevelRow, ...] = tuple(LevelRow(x.remaining_below or 0.0, ACTION_RANK[x.action])
                                         for x in DEFAULT_LEVELS)
    burn_rules: tuple[BurnRow, ...] = tuple(BurnRow(x.window, x.above, ACTION_RANK[x.action])
                                            for x in DEFAULT_BURN_RULES)
    unfreeze_above: float = DEFAULT_UNFREEZE_ABOVE
    exception_classes: tuple[str, ...] = DEFAULT_EXCEPTION_CLASSES
    mode: str = "enforce"
    mechanism: str = "admissionPolicy"
    failure_policy: str = "Ignore"
    targets: tuple[tuple[str, SelectorKey], ...] = ()
    slos: tuple[str, ...] | None = None
    slo_selector: SelectorKey | None = None


def is_holding(action: str | None) -> bool:
    """Whether a policy whose ``status.action`` is ``action`` holds its workloads."""
    return action in HOLDING_ACTIONS


def _covered_levels(old: Sequence[LevelRow], new: Sequence[LevelRow]) -> bool:
    return all(any(o.covered_by(n) for n in new) for o in old)


def _covered_burns(old: Sequence[BurnRow], new: Sequence[BurnRow]) -> bool:
    return all(any(n.window == o.window and n.above <= o.above and n.rank >= o.rank for n in new) for o in old)


def weakened(old: Governed, new: Governed) -> list[str]:
    """Field paths of ``spec`` where ``new`` holds less strictly than ``old`` (empty: not weaker)."""
    checks = dict((
        ("spec.levels", not _covered_levels(old.levels, new.levels)),
        ("spec.burnRates", not _covered_burns(old.burn_rules, new.burn_rules)),
        ("spec.recovery.unfreezeAbove", new.unfreeze_above < old.unfreeze_above),
        ("spec.exceptions.classes", any(x not in old.exception_classes for x in new.exception_classes)),
        ("spec.enforcement.mode", MODE_RANK.get(new.mode, 0) < MODE_RANK.get(old.mode, 0)),
        ("spec.enforcement.mechanism", new.mechanism != old.mechanism),
        ("spec.enforcement.failurePolicy", old.failure_policy == "Fail" and new.failure_policy != "Fail"),
        ("spec.targets", any(t not in new.targets for t in old.targets)),
        ("spec.slos", old.slos is not None and (new.slos is None or any(s not in new.slos for s in old.slos))),
        ("spec.sloSelector", old.slo_selector is not None and new.slo_selector != old.slo_selector),
    ))
    return [path for path in GOVERNED_PATHS if checks[path]]


def _override_phrase(namespace: str, name: str) -> str:
    return f"needs '{OVERRIDE_VERB}' on errorbudgetpolicies/{name} in {namespace}"


def weakening_denial(namespace: str, name: str, action: str, paths: Sequence[str]) -> str:
    """Why an update of a holding policy is refused (identical for CEL and the webhook)."""
    return (f"ErrorBudgetPolicy {namespace}/{name} is holding ({action}): weakening {', '.join(paths)} "
            f"{_override_phrase(namespace, name)}. Tightening it stays allowed.")


def deletion_denial(namespace: str, name: str, action: str) -> str:
    """Why a deletion of a holding policy is refused (identical for CEL and the webhook)."""
    return (f"ErrorBudgetPolicy {namespace}/{name} is holding ({action}): deleting it "
            f"{_override_phrase(namespace, name)}.")

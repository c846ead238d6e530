"""Edits of a holding ErrorBudgetPolicy and whether each weakens it — the attack table of issue #10.

One table for two checkers: the unit tests run it through the webhook's Python check
(``sloguard.api.governance``), the security tests through the chart's ValidatingAdmissionPolicy
on the real API server. ``weakened`` is what a reviewer reading the two specs would say, written
down by hand from the rules in ``docs/security.md`` (not computed by the code under test).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

SLO = "checkout-availability"
TARGET = {"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"}}}
#: The policy as the team applied it: defaults for levels, burn rates, classes and enforcement.
BASE: dict[str, Any] = {"slos": [SLO], "targets": [TARGET], "recovery": {"unfreezeAbove": 10}}
#: The seed's levels written out (the same table as the default).
SEED_LEVELS = [{"name": "exhausted", "remainingBelow": 0, "action": "freeze"},
               {"name": "critical", "remainingBelow": 10, "action": "restrict"},
               {"name": "warning", "remainingBelow": 25, "action": "scrutiny"}]
#: The seed's releases share of the budget (30%) as a level on a cause.
RELEASES_30 = {"name": "releases-over-share", "when": {"cause": "releases", "consumedAbove": 30}, "action": "restrict"}


def spec(**changes: Any) -> dict[str, Any]:
    """BASE with top-level fields replaced (``None`` removes a field)."""
    out = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Case:
    id: str
    old: dict[str, Any]
    new: dict[str, Any]
    #: Field paths a reviewer calls weakened, in the order denials list them; empty: allowed.
    weakened: tuple[str, ...]


CASES: tuple[Case, ...] = (
    # --- the attacks of the issue: each lifts a freeze ---
    Case("levels-remainingBelow-minus-1000", BASE,
         spec(levels=[{"name": "exhausted", "remainingBelow": -1000, "action": "freeze"}]), ("spec.levels",)),
    Case("mode-dryRun", BASE, spec(enforcement={"mode": "dryRun"}), ("spec.enforcement.mode",)),
    Case("mode-warn", BASE, spec(enforcement={"mode": "warn"}), ("spec.enforcement.mode",)),
    Case("extra-class-feature", BASE,
         spec(exceptions={"classes": ["security-fix", "reliability-fix", "rollback", "feature"]}),
         ("spec.exceptions.classes",)),
    # --- other ways to weaken ---
    Case("freeze-level-demoted-to-restrict", BASE,
         spec(levels=[{**SEED_LEVELS[0], "action": "restrict"}, *SEED_LEVELS[1:]]), ("spec.levels",)),
    Case("burn-rate-levels-disabled", BASE, spec(burnRates=[]), ("spec.burnRates",)),
    Case("burn-rate-threshold-raised", BASE,
         spec(burnRates=[{"name": "fast-burn", "window": "1h", "above": 100, "action": "emergency"}]),
         ("spec.burnRates",)),
    Case("unfreeze-bar-lowered", BASE, spec(recovery={"unfreezeAbove": 0}), ("spec.recovery.unfreezeAbove",)),
    Case("mechanism-switched-to-webhook", BASE, spec(enforcement={"mechanism": "webhook"}),
         ("spec.enforcement.mechanism",)),
    Case("webhook-fail-to-ignore", spec(enforcement={"mechanism": "webhook", "failurePolicy": "Fail"}),
         spec(enforcement={"mechanism": "webhook", "failurePolicy": "Ignore"}), ("spec.enforcement.failurePolicy",)),
    Case("target-selector-changed", BASE,
         spec(targets=[{"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout-x"}}}]), ("spec.targets",)),
    Case("target-kind-changed", BASE, spec(targets=[{**TARGET, "kind": "StatefulSet"}]), ("spec.targets",)),
    Case("slo-replaced", BASE, spec(slos=["some-other-slo"]), ("spec.slos",)),
    Case("slos-swapped-for-a-selector", BASE, spec(slos=None, sloSelector={"matchLabels": {"team": "none"}}),
         ("spec.slos",)),
    Case("slo-selector-changed", spec(slos=None, sloSelector={"matchLabels": {"service": "checkout"}}),
         spec(slos=None, sloSelector={"matchLabels": {"service": "nothing"}}), ("spec.sloSelector",)),
    Case("two-at-once-listed-in-order", BASE,
         spec(enforcement={"mode": "dryRun"}, exceptions={"classes": ["feature"]}),
         ("spec.exceptions.classes", "spec.enforcement.mode")),
    Case("cause-level-share-raised", spec(levels=[*SEED_LEVELS, RELEASES_30]),
         spec(levels=[*SEED_LEVELS, {**RELEASES_30, "when": {"cause": "releases", "consumedAbove": 60}}]),
         ("spec.levels",)),
    Case("cause-level-moved-to-another-cause", spec(levels=[*SEED_LEVELS, RELEASES_30]),
         spec(levels=[*SEED_LEVELS, {**RELEASES_30, "when": {"cause": "incidents", "consumedAbove": 30}}]),
         ("spec.levels",)),
    Case("cause-level-dropped", spec(levels=[*SEED_LEVELS, RELEASES_30]), spec(levels=SEED_LEVELS),
         ("spec.levels",)),
    Case("remaining-level-swapped-for-a-cause-level", BASE,
         spec(levels=[*SEED_LEVELS[1:], {**RELEASES_30, "action": "freeze"}]), ("spec.levels",)),
    # --- tightening, and changes that do not touch strictness: free for editors ---
    Case("cause-level-added", BASE, spec(levels=[*SEED_LEVELS, RELEASES_30]), ()),
    Case("cause-level-share-lowered-and-promoted", spec(levels=[*SEED_LEVELS, RELEASES_30]),
         spec(levels=[*SEED_LEVELS, {**RELEASES_30, "when": {"cause": "releases", "consumedAbove": 20},
                                     "action": "freeze"}]), ()),
    Case("levels-raised", BASE,
         spec(levels=[{"name": "exhausted", "remainingBelow": 5, "action": "freeze"},
                      {"name": "critical", "remainingBelow": 15, "action": "restrict"},
                      {"name": "warning", "remainingBelow": 30, "action": "scrutiny"}]), ()),
    Case("levels-written-out-as-the-default", BASE, spec(levels=SEED_LEVELS), ()),
    Case("restrict-level-promoted-to-freeze", BASE,
         spec(levels=[SEED_LEVELS[0], {**SEED_LEVELS[1], "action": "freeze"}, SEED_LEVELS[2]]), ()),
    Case("class-rollback-removed", BASE,
         spec(exceptions={"classes": ["security-fix", "reliability-fix"]}), ()),
    Case("no-classes-at-all", BASE, spec(exceptions={"classes": []}), ()),
    Case("burn-rate-threshold-lowered-and-a-rule-added", BASE,
         spec(burnRates=[{"name": "fast-burn", "window": "1h", "above": 10, "action": "emergency"},
                         {"name": "slow-burn", "window": "6h", "above": 6, "action": "freeze"}]), ()),
    Case("unfreeze-bar-raised", BASE, spec(recovery={"unfreezeAbove": 20}), ()),
    Case("target-added", BASE,
         spec(targets=[TARGET, {"kind": "StatefulSet", "selector": {"matchLabels": {"app": "checkout-db"}}}]), ()),
    Case("empty-selector-lists-are-the-same-selector", BASE,
         spec(targets=[{"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"},
                                                           "matchExpressions": []}}]), ()),
    Case("slo-added", BASE, spec(slos=[SLO, "checkout-latency"]), ()),
    Case("warn-back-to-enforce", spec(enforcement={"mode": "warn"}), spec(enforcement={"mode": "enforce"}), ()),
    Case("webhook-ignore-to-fail", spec(enforcement={"mechanism": "webhook"}),
         spec(enforcement={"mechanism": "webhook", "failurePolicy": "Fail"}), ()),
)

"""Error budget policy decisions: levels, hysteresis and admission, exact and table-driven."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sloguard.api.loader import Document
from sloguard.api.policy import ErrorBudgetPolicySpec, validate_documents
from sloguard.core.policy import (
    STALE_EXCEPTION_NOTE,
    Decision,
    Hold,
    PolicyRules,
    PolicyState,
    Request,
    Selector,
    SLOBudget,
    carried_exception,
    covers,
    decide,
    denial_message,
    evaluate,
    is_release,
    label_denial_message,
    release_exemption,
    transition,
)

NOW = datetime(2025, 3, 11, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=3)
RULES = PolicyRules("shop", "checkout-freeze")


def state_for(*budgets: SLOBudget, previous: PolicyState | None = None) -> tuple[str, str, str]:
    s = evaluate(RULES, budgets, previous, NOW)
    return s.level, s.action, s.slo


@pytest.mark.parametrize(("remaining", "burn_1h", "expected"), [
    (80.0, 1.0, ("healthy", "none", "a")),
    (25.0, 1.0, ("healthy", "none", "a")),          # "below 25" is strict
    (24.9, 1.0, ("warning", "scrutiny", "a")),
    (9.99, 1.0, ("critical", "restrict", "a")),
    (0.0, 1.0, ("critical", "restrict", "a")),      # exhausted is below 0
    (-0.1, 1.0, ("exhausted", "freeze", "a")),
    (50.0, 14.4, ("healthy", "none", "a")),         # burn must exceed 14.4
    (50.0, 14.5, ("fast-burn", "emergency", "a")),
    (-5.0, 20.0, ("fast-burn", "emergency", "a")),  # emergency outranks freeze
])
def test_the_seed_table_maps_one_slo_to_a_level(remaining, burn_1h, expected):
    assert state_for(SLOBudget("a", remaining, {"1h": burn_1h})) == expected


def test_the_worst_slo_decides():
    assert state_for(SLOBudget("a", 50.0), SLOBudget("b", -2.0), SLOBudget("c", 5.0)) == ("exhausted", "freeze", "b")


def test_among_equal_actions_the_lowest_budget_is_named():
    s = evaluate(RULES, [SLOBudget("a", 5.0), SLOBudget("b", 2.0)], None, NOW)
    assert (s.action, s.slo, s.remaining_percent) == ("restrict", "b", 2.0)
    assert s.reason == "SLO b has 2.0% of its error budget left (level critical: below 10%)"


FROZEN = PolicyState("exhausted", "freeze", "a", -1.0, "x", EARLIER)


@pytest.mark.parametrize(("remaining", "expected_action", "expected_level"), [
    (-1.0, "freeze", "exhausted"),
    (5.0, "freeze", "exhausted"),    # would be restrict, but the freeze holds
    (10.0, "freeze", "exhausted"),   # "back above 10%": 10 is not above
    (10.1, "scrutiny", "warning"),
    (60.0, "none", "healthy"),
])
def test_a_freeze_lifts_only_above_unfreeze_above(remaining, expected_action, expected_level):
    s = evaluate(RULES, [SLOBudget("a", remaining)], FROZEN, NOW)
    assert (s.action, s.level) == (expected_action, expected_level)


def test_the_hysteresis_reason_says_when_it_lifts():
    s = evaluate(RULES, [SLOBudget("a", 5.0)], FROZEN, NOW)
    assert s.reason == "SLO a has 5.0% of its error budget left; the freeze holds until it is back above 10%"
    assert s.since == EARLIER


def test_since_moves_only_when_the_action_changes():
    assert evaluate(RULES, [SLOBudget("a", -3.0)], FROZEN, NOW).since == EARLIER
    assert evaluate(RULES, [SLOBudget("a", 12.0)], FROZEN, NOW).since == NOW
    assert evaluate(RULES, [SLOBudget("a", 90.0)], FROZEN, NOW).since is None


def test_unknown_budgets_keep_the_previous_state_and_never_lift_a_hold():
    assert evaluate(RULES, [SLOBudget("a", None)], FROZEN, NOW) == FROZEN
    fresh = evaluate(RULES, [SLOBudget("a", None)], None, NOW)
    assert (fresh.action, fresh.reason) == ("none", "no SLO budget is known yet")


def test_transitions_are_recorded_once_and_bounded():
    healthy = PolicyState()
    hist = transition([], healthy, FROZEN, "t1")
    assert hist == [{"at": "t1", "fromLevel": "healthy", "toLevel": "exhausted", "fromAction": "none",
                     "toAction": "freeze", "slo": "a", "reason": "x"}]
    assert transition(hist, FROZEN, FROZEN, "t2") == hist
    many = [{"at": str(i)} for i in range(25)]
    assert len(transition(many, healthy, FROZEN, "t3")) == 20


# --- Admission --------------------------------------------------------------------------------

CHECKOUT = Selector({"app": "checkout"})


def hold(action: str) -> Hold:
    return Hold("checkout-freeze", "shop", action, {"freeze": "exhausted", "restrict": "critical"}.get(action, "x"),
                "checkout-availability", -3.25, selectors=(CHECKOUT,),
                held=frozenset({("Deployment", "checkout")}))


T1 = {"spec": {"containers": [{"name": "app", "image": "shop:1"}]}}
T2 = {"spec": {"containers": [{"name": "app", "image": "shop:2"}]}}
HELD_LABELS = {"app": "checkout", "sloguard.io/hold": "freeze"}
HELD_ANN = {"sloguard.io/hold-policy": "checkout-freeze"}


def update(**kw: object) -> Request:
    base: dict[str, object] = dict(operation="UPDATE", kind="Deployment", namespace="shop", name="checkout",
                                   old_template=T1, new_template=T2, old_labels=HELD_LABELS, new_labels=HELD_LABELS,
                                   old_annotations=HELD_ANN, new_annotations=HELD_ANN, user="bob")
    base.update(kw)
    return Request(**base)  # type: ignore[arg-type]


def with_class(cls: str) -> dict[str, str]:
    return {**HELD_ANN, "sloguard.io/exception": cls}


@pytest.mark.parametrize(("action", "request_", "allowed", "exemption"), [
    # freeze / emergency: only a class or override
    ("freeze", update(), False, ""),
    ("freeze", update(new_annotations=with_class("security-fix")), True, "security-fix"),
    ("freeze", update(new_annotations=with_class("feature")), False, ""),
    ("freeze", update(can_override=True), True, "override"),
    ("freeze", update(can_approve=True), False, ""),
    ("emergency", update(can_approve=True), False, ""),
    ("emergency", update(new_annotations=with_class("rollback")), True, "rollback"),
    ("freeze", update(operation="CREATE", old_template=None, old_labels={}, old_annotations={}), False, ""),
    # restrict: class, approve or override
    ("restrict", update(), False, ""),
    ("restrict", update(can_approve=True), True, "approve"),
    ("restrict", update(can_override=True), True, "override"),
    ("restrict", update(new_annotations=with_class("reliability-fix")), True, "reliability-fix"),
    # scrutiny: allowed with a warning
    ("scrutiny", update(), True, ""),
    # always allowed: scaling, status, metadata-only
    ("freeze", update(new_template=T1), True, ""),
    ("freeze", update(subresource="scale"), True, ""),
    ("freeze", update(subresource="status"), True, ""),
    ("freeze", update(new_template=T1, new_labels={**HELD_LABELS, "team": "payments"}), True, ""),
    ("none", update(), True, ""),
])
def test_admission_decisions(action, request_, allowed, exemption):
    d = decide(hold(action), request_)
    assert (d.allowed, d.exemption) == (allowed, exemption)


def test_an_unheld_workload_is_never_judged():
    assert decide(None, update()) == Decision(True)


@pytest.mark.parametrize("change", [
    {"new_labels": {"app": "checkout"}},                                          # hold label removed
    {"new_labels": {**HELD_LABELS, "sloguard.io/hold": "scrutiny"}},              # changed
    {"new_annotations": {}},                                                      # hold-policy removed
    {"new_labels": {**HELD_LABELS, "sloguard.io/other": "x"}},                    # added
])
def test_touching_sloguard_metadata_on_a_held_workload_is_denied_except_to_the_operator(change):
    req = update(new_template=T1, **change)
    assert not decide(hold("freeze"), req).allowed
    assert decide(hold("freeze"), update(new_template=T1, is_operator=True, **change)).allowed


def test_the_operator_cannot_release_either():
    assert not decide(hold("freeze"), update(is_operator=True)).allowed


def test_the_denial_message_is_one_readable_sentence_set():
    d = decide(hold("freeze"), update())
    assert d.message == (
        "Deployment shop/checkout: releases are frozen by ErrorBudgetPolicy shop/checkout-freeze: "
        "SLO checkout-availability has -3.2% of its error budget left (level exhausted). "
        "Allowed: scaling and metadata-only changes; a release annotated sloguard.io/exception: <class> with one "
        "of security-fix, reliability-fix, rollback (set or changed by that release); or by a user RBAC grants "
        "'override' on "
        "errorbudgetpolicies/checkout-freeze in shop.")
    assert denial_message(hold("restrict")).startswith("releases are restricted by ErrorBudgetPolicy")
    assert "'approve' or 'override'" in denial_message(hold("restrict"))


def test_a_wrong_class_is_named_in_the_denial():
    d = decide(hold("freeze"), update(new_annotations=with_class("feature")))
    assert d.message.endswith("('feature' is not an allowed exception class.)")


def test_scrutiny_warns():
    assert decide(hold("scrutiny"), update()).warnings == (
        "release under increased scrutiny by ErrorBudgetPolicy shop/checkout-freeze: SLO checkout-availability "
        "has -3.2% of its error budget left (level x)",)


# --- Holds follow the workload; exceptions per release -------------------------------------------

def create(kind: str = "Deployment", name: str = "checkout-2", **kw: object) -> Request:
    base: dict[str, object] = dict(operation="CREATE", kind=kind, namespace="shop", name=name, new_template=T2,
                                   user="bob")
    base.update(kw)
    return Request(**base)  # type: ignore[arg-type]


def test_moving_a_held_workload_out_of_its_target_is_a_release():
    moved = update(new_template=T1, new_labels={**HELD_LABELS, "app": "checkout-x"})
    assert is_release(moved, hold("freeze")) and not is_release(moved)
    d = decide(hold("freeze"), moved)
    assert not d.allowed and "releases are frozen" in d.message
    # other labels may change freely
    assert decide(hold("freeze"), update(new_template=T1, new_labels={**HELD_LABELS, "team": "x"})).allowed


def test_a_held_workload_stays_held_by_name_after_a_relabel():
    relabelled = {"app": "checkout-x"}
    req = update(old_labels=relabelled, new_labels=relabelled, old_template_labels=relabelled,
                 new_template_labels=relabelled)
    assert covers(hold("freeze"), req) and not decide(hold("freeze"), req).allowed


@pytest.mark.parametrize("request_", [
    create(name="checkout"),                                                        # re-created by name, no labels
    create(new_template_labels={"app": "checkout"}),                                # pod-template labels only
    create(kind="ReplicaSet", new_template_labels={"app": "checkout"}),             # a bare ReplicaSet
    create(kind="Pod", new_labels={"app": "checkout"}),                             # a bare Pod
    create(kind="StatefulSet", new_labels={"app": "checkout"}),
    create(kind="DaemonSet", new_template_labels={"app": "checkout"}),
    create(kind="Rollout", new_template_labels={"app": "checkout"}),                # an Argo Rollout
], ids=["by-name", "template-labels", "replicaset", "pod", "statefulset", "daemonset", "rollout"])
def test_creations_matching_a_held_target_are_releases(request_):
    d = decide(hold("freeze"), request_)
    assert not d.allowed and "releases are frozen" in d.message


def test_workload_controllers_and_unrelated_workloads_are_not_judged():
    pod = create(kind="Pod", new_labels={"app": "checkout"})
    assert decide(hold("freeze"), replace(pod, user="system:kube-controller-manager")).allowed
    assert decide(hold("freeze"), replace(pod, user="system:serviceaccount:kube-system:replicaset-controller")).allowed
    assert decide(hold("freeze"), create(new_labels={"app": "other"}, new_template_labels={"app": "other"})).allowed
    assert not covers(hold("freeze"), create(kind="ConfigMap", new_labels={"app": "checkout"}))


def test_an_exception_covers_only_the_change_that_carries_it():
    set_now = update(new_annotations=with_class("rollback"))
    assert decide(hold("freeze"), set_now).exemption == "rollback"
    stale = update(old_annotations=with_class("rollback"), new_annotations=with_class("rollback"))
    d = decide(hold("freeze"), stale)
    assert not d.allowed and d.message.endswith(STALE_EXCEPTION_NOTE)
    new_reason = update(old_annotations=with_class("rollback"),
                        new_annotations={**with_class("rollback"), "sloguard.io/exception-reason": "INC-42"})
    assert decide(hold("freeze"), new_reason).exemption == "rollback"
    assert carried_exception("CREATE", {}, {"sloguard.io/exception": "rollback"}) == "rollback"


def test_rollout_undo_uses_the_armed_exception_it_removes_and_may_drop_the_hold_metadata():
    # kubectl rollout undo replaces spec.template and metadata.annotations wholesale
    armed = {**with_class("rollback"), "sloguard.io/exception-reason": "INC-7",
             "sloguard.io/exception-armed": "rollback/INC-7"}
    undo = update(old_annotations=armed, new_annotations={}, new_labels=HELD_LABELS)
    d = decide(hold("freeze"), undo)
    assert d.allowed and d.exemption == "rollback"
    # an exception left over from an earlier release is not armed: removing it carries nothing
    leftover = update(old_annotations={**armed, "sloguard.io/exception-armed": "rollback/INC-6"},
                      new_annotations={})
    assert not decide(hold("freeze"), leftover).allowed
    assert not decide(hold("freeze"), update(old_annotations=with_class("rollback"), new_annotations={})).allowed
    # users cannot arm an exception themselves
    assert "managed by sloguard" in decide(hold("freeze"), update(
        new_template=T1, new_annotations={**armed, "sloguard.io/exception-armed": "x"})).message
    by_alice = update(new_annotations={}, can_override=True)
    assert decide(hold("freeze"), by_alice).exemption == "override"
    # without a way through, dropping the hold metadata is refused as before
    assert "managed by sloguard" in decide(hold("freeze"), update(new_annotations={})).message


def test_a_release_seen_afterwards_names_the_class_it_carried_or_override():
    assert release_exemption(hold("freeze"), "UPDATE", {}, with_class("security-fix")) == "security-fix"
    assert release_exemption(hold("freeze"), "UPDATE", with_class("security-fix"), with_class("security-fix")) \
        == "override"
    assert release_exemption(hold("restrict"), "UPDATE", {}, {}) == "approve/override"


def test_a_release_is_a_template_change_or_a_creation():
    assert is_release(update())
    assert not is_release(update(new_template=T1))
    assert is_release(update(operation="CREATE"))
    assert not is_release(update(operation="DELETE"))


# --- API --------------------------------------------------------------------------------------

def test_the_spec_defaults_to_the_seed_table():
    spec = ErrorBudgetPolicySpec.model_validate(
        {"slos": ["a"], "targets": [{"kind": "Deployment", "selector": {"matchLabels": {"app": "x"}}}]})
    assert spec.to_core("shop", "p") == PolicyRules("shop", "p")
    assert (spec.enforcement.mode, spec.enforcement.mechanism, spec.enforcement.failure_policy) == (
        "enforce", "admissionPolicy", "Ignore")


@pytest.mark.parametrize(("written", "looked_up"), [("60m", "1h"), ("1h", "1h"), ("1440m", "1d"), ("4w", "28d")])
def test_a_burn_rate_level_reads_the_window_in_the_spelling_the_slo_status_reports(written, looked_up):
    spec = ErrorBudgetPolicySpec.model_validate(
        {"slos": ["a"], "targets": [{"kind": "Deployment", "selector": {"matchLabels": {"app": "x"}}}],
         "burnRates": [{"name": "fast", "window": written, "above": 14.4, "action": "emergency"}]})
    assert [r.window for r in spec.to_core("shop", "p").burn_rules] == [looked_up]


def test_validate_reports_field_paths():
    def doc(name: str, spec: dict) -> Document:
        return Document("p.yaml", 0, {"apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetPolicy",
                                      "metadata": {"name": name}, "spec": spec})

    target = {"kind": "Deployment", "selector": {"matchLabels": {"app": "x"}}}
    diags = validate_documents([doc("bad-kind", {"slos": ["a"], "targets": [{"kind": "Pod", "selector": {}}]}),
                                doc("two-sources", {"slos": ["a"], "sloSelector": {}, "targets": [target]}),
                                doc("fine", {"slos": ["a"], "targets": [target]})])
    assert [(d.object, d.severity, d.path) for d in diags] == [
        ("default/bad-kind", "error", "spec.targets[0].kind"), ("default/two-sources", "error", "spec")]
    assert str(diags[1]) == ("p.yaml: ErrorBudgetPolicy default/two-sources: spec: give exactly one of slos or "
                             "sloSelector")


# --- The params of the chart's hold policy ------------------------------------------------------

@pytest.mark.parametrize(("mode", "action", "mechanism", "label"), [
    ("enforce", "freeze", "admissionPolicy", "Deny"),
    ("enforce", "restrict", "admissionPolicy", "Deny"),
    ("enforce", "scrutiny", "admissionPolicy", "Warn"),   # scrutiny only ever warns
    ("warn", "freeze", "admissionPolicy", "Warn"),
    ("dryRun", "freeze", "admissionPolicy", "Audit"),
    ("enforce", "none", "admissionPolicy", "none"),       # not holding: no binding reads it
    ("enforce", "freeze", "webhook", "none"),             # the webhook decides instead
    ("enforce", "freeze", "none", "none"),
])
def test_the_enforcement_label_picks_the_binding(mode, action, mechanism, label):
    from sloguard.adapters.admission_policy import enforcement_label

    assert enforcement_label(mode, action, mechanism) == label


def test_the_hold_params_carry_the_core_messages_and_the_held_names():
    from sloguard.adapters.admission_policy import hold_params
    from sloguard.api.policy import Target

    h = hold("freeze")
    target = Target.model_validate({"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"}}})
    doc = hold_params(h, [target], mode="enforce", mechanism="admissionPolicy", operator_user="system:sa",
                      owner_uid="u-1")
    assert doc["spec"]["messages"] == {"release": denial_message(h), "metadata": label_denial_message(h)}
    assert doc["spec"]["held"] == [{"kind": "Deployment", "name": "checkout"}]
    assert doc["spec"]["targets"] == [{"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"}}}]
    assert doc["metadata"]["ownerReferences"][0] == {"apiVersion": "sloguard.io/v1alpha1",
                                                     "kind": "ErrorBudgetPolicy", "name": "checkout-freeze",
                                                     "uid": "u-1"}
    assert doc["metadata"]["labels"]["sloguard.io/enforcement"] == "Deny"

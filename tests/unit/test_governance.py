"""Governed policies, the webhook's check: which edits of a holding policy need ``override``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.security.governance_cases import BASE, CASES, Case

from sloguard.api.governance import review
from sloguard.api.policy import parse_policy
from sloguard.core.governance import GOVERNED_PATHS


def policy(spec: dict, action: str | None = "freeze") -> dict:
    body = {"apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetPolicy",
            "metadata": {"name": "checkout-freeze", "namespace": "shop"}, "spec": spec}
    if action is not None:
        body["status"] = {"action": action, "level": "exhausted"}
    return body


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_an_edit_of_a_freezing_policy_needs_override_exactly_when_it_weakens(case: Case):
    found = review("UPDATE", policy(case.old), policy(case.new, action=None))
    if not case.weakened:
        assert found is None
        return
    assert found is not None
    assert found[1] == (f"ErrorBudgetPolicy shop/checkout-freeze is holding (freeze): weakening "
                        f"{', '.join(case.weakened)} needs 'override' on errorbudgetpolicies/checkout-freeze in "
                        f"shop. Tightening it stays allowed.")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_case_is_a_policy_the_schema_accepts(case: Case):
    for spec in (case.old, case.new):
        parsed, diags = parse_policy({"spec": spec})
        assert parsed is not None, [d.message for d in diags]


@pytest.mark.parametrize("action", ["scrutiny", "restrict", "freeze", "emergency"])
def test_every_holding_action_governs(action):
    assert review("UPDATE", policy(BASE, action), policy({**BASE, "burnRates": []}, None)) is not None


@pytest.mark.parametrize("status", [None, "none"])
def test_a_policy_that_holds_nothing_may_be_weakened_and_deleted(status):
    assert review("UPDATE", policy(BASE, status), policy({**BASE, "burnRates": []}, None)) is None
    assert review("DELETE", policy(BASE, status), None) is None


def test_deleting_a_holding_policy_needs_override():
    assert review("DELETE", policy(BASE, "emergency"), None) == (
        "deleting it", "ErrorBudgetPolicy shop/checkout-freeze is holding (emergency): deleting it needs 'override' "
                  "on errorbudgetpolicies/checkout-freeze in shop.")


def test_the_namespace_controller_may_delete_a_holding_policy_with_its_namespace_but_not_weaken_it():
    ns_controller = "system:serviceaccount:kube-system:namespace-controller"
    assert review("DELETE", policy(BASE), None, ns_controller) is None
    assert review("UPDATE", policy(BASE), policy({**BASE, "burnRates": []}, None), ns_controller) is not None


def test_creating_a_policy_is_not_governed():
    assert review("CREATE", None, policy(BASE, None)) is None


def test_the_table_exercises_every_governed_field():
    assert {p for c in CASES for p in c.weakened} == set(GOVERNED_PATHS)


@pytest.mark.parametrize("classes, path", [([""], "spec.exceptions.classes[0]"),
                                           (["rollback", "Feature Work"], "spec.exceptions.classes[1]")])
def test_exception_classes_must_be_non_empty_names(classes, path):
    parsed, diags = parse_policy({"spec": {**BASE, "exceptions": {"classes": classes}}})
    assert parsed is None
    assert [d.path for d in diags if d.severity == "error"] == [path]


# --- properties: no chain of free edits reaches a weaker policy ---------------------------------

ACTIONS = st.sampled_from(["scrutiny", "restrict", "freeze", "emergency"])
NAMES = st.sampled_from(["a", "b", "c"])
SELECTORS = st.fixed_dictionaries({"matchLabels": st.dictionaries(NAMES, NAMES, max_size=2)})
SPECS = st.fixed_dictionaries(
    {"targets": st.lists(st.fixed_dictionaries({"kind": st.sampled_from(["Deployment", "StatefulSet"]),
                                                "selector": SELECTORS}), min_size=1, max_size=2)},
    optional={
        "slos": st.lists(NAMES, min_size=1, max_size=3),
        "levels": st.lists(st.fixed_dictionaries({"name": NAMES, "remainingBelow": st.sampled_from([-10, 0, 10, 25]),
                                                  "action": ACTIONS}), min_size=1, max_size=3),
        "burnRates": st.lists(st.fixed_dictionaries({"name": NAMES, "window": st.sampled_from(["1h", "6h"]),
                                                     "above": st.sampled_from([6, 14.4]), "action": ACTIONS}),
                              max_size=2),
        "recovery": st.fixed_dictionaries({"unfreezeAbove": st.sampled_from([0, 10, 20])}),
        "exceptions": st.fixed_dictionaries({"classes": st.lists(st.sampled_from(["rollback", "security-fix",
                                                                                  "feature"]), max_size=3)}),
        "enforcement": st.fixed_dictionaries({}, optional={"mode": st.sampled_from(["enforce", "warn", "dryRun"]),
                                                           "failurePolicy": st.sampled_from(["Ignore", "Fail"])}),
    })


@given(SPECS)
def test_a_policy_is_never_weaker_than_itself(spec):
    assert review("UPDATE", policy(spec), policy(spec, None)) is None


@st.composite
def edits(draw: st.DrawFn, spec: dict) -> dict:
    """``spec`` with some fields replaced by (or dropped for) those of another random spec."""
    other = draw(SPECS)
    out = {}
    for key in {*spec, *other}:
        source = other if draw(st.booleans()) else spec
        if key in source:
            out[key] = source[key]
    return out


@settings(max_examples=300)
@given(st.data())
def test_two_free_edits_never_add_up_to_a_weakening(data):
    a = data.draw(SPECS)
    b = data.draw(edits(a))
    c = data.draw(edits(b))
    free_ab = review("UPDATE", policy(a), policy(b, None)) is None
    free_bc = review("UPDATE", policy(b), policy(c, None)) is None
    if free_ab and free_bc:
        assert review("UPDATE", policy(a), policy(c, None)) is None

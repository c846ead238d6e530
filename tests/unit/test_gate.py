"""``sloguard gate`` against in-memory facts: which holds refuse a release, and what it prints.

The facts are shaped as the operator writes them (an ErrorBudgetHold per policy, the policy's status,
SLO status with ``budget.remainingPercent``); the figures are the test's own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from sloguard.adapters.gate import gate, release_request, to_json, to_text

NOW = datetime(2025, 3, 11, 12, 0, tzinfo=UTC)
NS = "shop"


def hold(policy: str, action: str, *, enforcement: str = "Deny", held: list[tuple[str, str]] = (),
         match: dict[str, str] | None = None, classes: tuple[str, ...] = ("rollback",)) -> dict[str, Any]:
    return {"apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetHold",
            "metadata": {"name": policy, "namespace": NS, "labels": {"sloguard.io/enforcement": enforcement}},
            "spec": {"policy": policy, "action": action, "exceptionClasses": list(classes),
                     "targets": [{"kind": "Deployment", "selector": {"matchLabels": match or {"app": "checkout"}}}],
                     "held": [{"kind": k, "name": n} for k, n in held], "operatorUser": "op",
                     "messages": {"release": "r", "metadata": "m"}}}


def policy(name: str, action: str, level: str, slo: str, remaining: float, slos: list[str],
           mechanism: str = "admissionPolicy", mode: str = "enforce") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": NS},
            "spec": {"slos": slos, "enforcement": {"mode": mode, "mechanism": mechanism}},
            "status": {"level": level, "action": action, "slo": slo, "remainingPercent": remaining,
                       "since": "2025-03-11T09:00:00Z", "mechanism": mechanism}}


def slo(name: str, remaining: float | None) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": NS},
            "status": {"budget": {"remainingPercent": remaining}} if remaining is not None else {}}


def deployment(name: str, labels: dict[str, str], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": NS, "labels": labels, "annotations": annotations or {}},
            "spec": {"template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}}}


class Facts:
    def __init__(self, workloads=(), holds=(), policies=(), slos=(), grants=()):
        self.workloads = {(w.get("kind", "Deployment"), w["metadata"]["name"]): w for w in workloads}
        self._holds, self._slos = list(holds), list(slos)
        self.policies = {p["metadata"]["name"]: p for p in policies}
        self.grants = set(grants)  # (verb, policy)
        self.asked: list[tuple[str, str]] = []

    def user(self) -> str:
        return "ci-bot"

    def workload(self, kind, namespace, name):
        return self.workloads.get((kind, name))

    def holds(self, namespace):
        return self._holds

    def policy(self, namespace, name):
        return self.policies.get(name)

    def slos(self, namespace):
        return self._slos

    def can_i(self, verb, namespace, policy):
        self.asked.append((verb, policy))
        return (verb, policy) in self.grants


FROZEN = Facts(
    workloads=[deployment("checkout", {"app": "checkout"}), deployment("search", {"app": "search"})],
    holds=[hold("checkout-freeze", "freeze")],
    policies=[policy("checkout-freeze", "freeze", "exhausted", "checkout-availability", -5.0,
                     ["checkout-availability", "checkout-latency"])],
    slos=[slo("checkout-availability", -5.0), slo("checkout-latency", 62.5), slo("search-availability", 3.0)],
)


def test_a_frozen_workload_is_held_with_the_policy_its_slos_and_budgets():
    result = gate(FROZEN, "Deployment", NS, "checkout", NOW)
    assert not result.admitted
    (b,) = result.blockers
    assert (b.policy, b.action, b.level, b.enforcement, b.blocking) == ("checkout-freeze", "freeze", "exhausted",
                                                                        "Deny", True)
    assert [(s.name, s.remaining_percent, s.deciding) for s in b.slos] == [
        ("checkout-availability", -5.0, True), ("checkout-latency", 62.5, False)]
    assert b.message.startswith("Deployment shop/checkout: releases are frozen by ErrorBudgetPolicy "
                                "shop/checkout-freeze: SLO checkout-availability has -5.0% of its error budget left")
    assert b.may == {"override": False}


def test_the_text_names_policy_slos_budget_action_and_who_may_override():
    text = to_text(gate(FROZEN, "Deployment", NS, "checkout", NOW))
    assert text.startswith("HELD: a release of Deployment shop/checkout would be refused now.")
    assert "ErrorBudgetPolicy shop/checkout-freeze: freeze (level exhausted) since 2025-03-11T09:00:00Z" in text
    assert "SLO checkout-availability: -5.0% of its error budget left (deciding)" in text
    assert "SLO checkout-latency: 62.5% of its error budget left" in text
    assert "search-availability" not in text
    assert ("Who may override: whoever RBAC grants 'override' on errorbudgetpolicies/checkout-freeze in shop"
            in text)
    assert text.rstrip().endswith("ci-bot cannot.")


def test_a_caller_who_could_override_is_told_so_and_still_held():
    facts = Facts(FROZEN.workloads.values(), FROZEN._holds, FROZEN.policies.values(), FROZEN._slos,
                  grants={("override", "checkout-freeze")})
    result = gate(facts, "Deployment", NS, "checkout", NOW)
    assert not result.admitted and result.blockers[0].may == {"override": True}
    assert to_text(result).rstrip().endswith("ci-bot can.")


def test_a_workload_nobody_holds_is_admitted_and_no_permission_is_asked():
    facts = Facts(FROZEN.workloads.values(), FROZEN._holds, FROZEN.policies.values(), FROZEN._slos)
    result = gate(facts, "Deployment", NS, "search", NOW)
    assert result.admitted and result.blockers == () and facts.asked == []
    assert to_text(result) == ("ADMITTED: a release of Deployment shop/search would be admitted now "
                               "(no ErrorBudgetPolicy holds it).")


def test_a_lifted_hold_admits():
    facts = Facts([deployment("checkout", {"app": "checkout"})], [hold("checkout-freeze", "none")],
                  [policy("checkout-freeze", "none", "healthy", "checkout-availability", 12.0,
                          ["checkout-availability"])], [slo("checkout-availability", 12.0)])
    assert gate(facts, "Deployment", NS, "checkout", NOW).admitted


def test_a_held_name_covers_a_relabelled_workload_and_a_missing_one_as_a_create():
    facts = Facts([deployment("checkout", {"app": "elsewhere"})],
                  [hold("checkout-freeze", "freeze", held=[("Deployment", "checkout"), ("Deployment", "gone")])],
                  FROZEN.policies.values(), FROZEN._slos)
    assert not gate(facts, "Deployment", NS, "checkout", NOW).admitted
    gone = gate(facts, "Deployment", NS, "gone", NOW)
    assert not gone.admitted and not gone.exists
    assert "does not exist yet" in to_text(gone)
    assert gate(facts, "Deployment", NS, "never-held", NOW).admitted
    assert gate(facts, "StatefulSet", NS, "checkout", NOW).admitted  # held names are (kind, name)


def test_an_allowed_exception_class_opens_the_gate_and_another_does_not():
    assert gate(FROZEN, "Deployment", NS, "checkout", NOW, exception="rollback").admitted
    result = gate(FROZEN, "Deployment", NS, "checkout", NOW, exception="feature")
    assert not result.admitted
    assert result.blockers[0].message.endswith("('feature' is not an allowed exception class.)")


def test_restrict_asks_for_approve_and_override():
    facts = Facts([deployment("checkout", {"app": "checkout"})], [hold("p", "restrict")],
                  [policy("p", "restrict", "critical", "checkout-availability", 7.5, ["checkout-availability"])],
                  [slo("checkout-availability", 7.5)], grants={("approve", "p")})
    result = gate(facts, "Deployment", NS, "checkout", NOW)
    assert not result.admitted
    assert result.blockers[0].may == {"approve": True, "override": False}
    assert "releases are restricted by ErrorBudgetPolicy shop/p" in result.blockers[0].message


@pytest.mark.parametrize(("enforcement", "mechanism", "mode", "admitted"), [
    ("Warn", "admissionPolicy", "warn", True),
    ("Audit", "admissionPolicy", "dryRun", True),
    ("none", "webhook", "enforce", False),
    ("none", "webhook", "warn", True),
    ("none", "none", "enforce", True),
])
def test_only_a_denying_enforcement_holds(enforcement, mechanism, mode, admitted):
    facts = Facts([deployment("checkout", {"app": "checkout"})], [hold("p", "freeze", enforcement=enforcement)],
                  [policy("p", "freeze", "exhausted", "checkout-availability", -1.0, ["checkout-availability"],
                          mechanism=mechanism, mode=mode)], [slo("checkout-availability", -1.0)])
    result = gate(facts, "Deployment", NS, "checkout", NOW)
    assert result.admitted is admitted
    (b,) = result.blockers  # reported either way
    assert "releases are frozen" in b.message
    if admitted:
        assert "does not refuse releases" in to_text(result)


def test_scrutiny_admits_with_its_warning():
    facts = Facts([deployment("checkout", {"app": "checkout"})], [hold("p", "scrutiny", enforcement="Warn")],
                  [policy("p", "scrutiny", "warning", "checkout-availability", 20.0, ["checkout-availability"])],
                  [slo("checkout-availability", 20.0)])
    result = gate(facts, "Deployment", NS, "checkout", NOW)
    assert result.admitted and facts.asked == []
    assert result.blockers[0].message.startswith("release under increased scrutiny by ErrorBudgetPolicy shop/p")


def test_a_hold_whose_policy_is_gone_still_holds_and_invents_no_slo():
    """The policy deleted, its hold not yet collected: the API server still enforces the hold."""
    facts = Facts([deployment("checkout", {"app": "checkout"})], [hold("p", "freeze")])
    result = gate(facts, "Deployment", NS, "checkout", NOW)
    assert not result.admitted
    (b,) = result.blockers
    assert b.slos == () and b.level == "unknown"
    assert not [line for line in to_text(result).splitlines() if line.startswith("    SLO ")]


def test_an_unreadable_hold_holds_and_says_which():
    bad = hold("p", "freeze")
    bad["spec"]["targets"] = [{"kind": "Deployment", "selector": {"matchExpressions": [{"key": "a",
                                                                                          "operator": "Near"}]}}]
    result = gate(Facts([deployment("checkout", {"app": "checkout"})], [bad]), "Deployment", NS, "checkout", NOW)
    assert not result.admitted
    assert result.problems and result.problems[0].startswith("ErrorBudgetHold shop/p: cannot be read:")
    assert "operator" in result.problems[0]


def test_json_carries_the_verdict_and_the_figures():
    out = json.loads(to_json(gate(FROZEN, "Deployment", NS, "checkout", NOW)))
    assert out["admitted"] is False and out["user"] == "ci-bot" and out["checked_at"] == NOW.isoformat()
    assert out["blockers"][0]["slos"][0] == {"name": "checkout-availability", "remaining_percent": -5.0,
                                             "deciding": True}


def test_the_release_request_changes_only_the_template():
    req = release_request("Deployment", NS, "checkout", deployment("checkout", {"app": "checkout"}))
    assert req.operation == "UPDATE" and req.old_template != req.new_template
    assert req.old_labels == req.new_labels == {"app": "checkout"} and req.old_annotations == req.new_annotations


# --- The command's usage errors (exit 2, one line, no traceback; no cluster needed) ------------------

@pytest.mark.parametrize(("argv", "says"), [
    (["gate", "pod/checkout"], "expected NAME or KIND/NAME with KIND one of DaemonSet, Deployment, Rollout"),
    (["gate", "statefulset/checkout", "--kind", "Deployment"], "(and --kind Deployment)"),
    (["gate", "deployment/"], "WORKLOAD is empty"),
    (["gate", "checkout", "--wait", "soon"], "'soon' is not a duration like 5m, 1h or 30d"),
    (["gate", "checkout", "--kind", "Pod"], "invalid choice: 'Pod'"),
    (["gate", "checkout", "-n", "shop", "--kubeconfig", "/nonexistent/kubeconfig"],
     "cannot load kubeconfig /nonexistent/kubeconfig"),
])
def test_usage_errors_exit_2_with_one_clear_line(argv, says, capsys):
    from sloguard.cli import main

    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own usage errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and says in err, err
    assert "Traceback" not in err

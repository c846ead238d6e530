"""The SLO service against in-memory fakes: what is applied, the status written, what is retried.

The expected PrometheusRule is the golden file for the same input (``tests/golden``), which
``sloguard generate`` is held to; the status figures follow from it and from the input's objective.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloguard.adapters import render
from sloguard.adapters.kube import KubeError
from sloguard.adapters.promtool import PromtoolUnavailable
from sloguard.api.common import Diagnostic
from sloguard.core.rules import make_rule_groups
from sloguard.services import slo as svc

NOW = datetime(2025, 3, 11, 12, 0, tzinfo=UTC)
GOLDEN = Path(__file__).parents[1] / "golden"


def golden(stem: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = yaml.safe_load((GOLDEN / f"{stem}.in.yaml").read_text())
    body["metadata"].update(uid="slo-uid", generation=4)
    return body, yaml.safe_load((GOLDEN / f"{stem}.out.yaml").read_text())


class FakeCluster:
    def __init__(self, failure: KubeError | None = None) -> None:
        self.applied: list[dict[str, Any]] = []
        self.statuses: list[tuple[str, str, dict[str, Any], str]] = []
        self.failure = failure

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        raise AssertionError("the SLO service reads nothing")

    def apply(self, body: Any, field_manager: str = "sloguard") -> dict[str, Any]:
        if self.failure is not None:
            raise self.failure
        self.applied.append(copy.deepcopy(dict(body)))
        return dict(body)

    def patch_status(self, api_version: str, kind: str, name: str, namespace: str, status: Any) -> None:
        raise AssertionError("the SLO service applies its status as its own field manager")

    def apply_status(self, api_version: str, kind: str, name: str, namespace: str, status: Any,
                     field_manager: str) -> dict[str, Any]:
        self.statuses.append((kind, f"{namespace}/{name}", copy.deepcopy(dict(status)), field_manager))
        return dict(status)


def accept(objective: Any, groups: Any) -> list[Diagnostic]:
    return []


def conditions(status: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(x["type"], x["status"], x["reason"], x["message"]) for x in status["conditions"]]


def test_a_valid_slo_applies_its_golden_rules_and_reports_them():
    body, expected = golden("bool-gauge")
    cluster = FakeCluster()

    outcome = svc.reconcile(cluster, accept, body, {"prometheus": "main"}, False, NOW)

    assert outcome == svc.SLOOutcome(True)
    [rule] = cluster.applied
    assert rule["spec"] == expected["spec"]
    assert rule["metadata"]["labels"] == {**expected["metadata"]["labels"], "prometheus": "main"}
    assert rule["metadata"]["ownerReferences"][0]["uid"] == "slo-uid"
    n_rules = sum(len(g["rules"]) for g in expected["spec"]["groups"])
    [(kind, name, status, manager)] = cluster.statuses
    assert (kind, name, manager) == ("ServiceLevelObjective", "platform/platform-uptime", "sloguard-rules")
    assert status["observedGeneration"] == 4
    assert status["objective"] == 99.95
    assert status["prometheusRule"] == {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
                                        "name": "platform-uptime-slo", "namespace": "platform"}
    assert conditions(status) == [
        ("RulesGenerated", "True", "Applied", f"PrometheusRule platform-uptime-slo holds {n_rules} rules"),
        ("Ready", "True", "RulesApplied", "rules are in place")]


def test_the_rules_are_built_once_and_promtool_checks_the_very_groups_applied(monkeypatch):
    body, expected = golden("bool-gauge")
    cluster = FakeCluster()
    built: list[list[Any]] = []

    def make(objective: Any) -> list[Any]:
        built.append(make_rule_groups(objective))
        return built[-1]

    monkeypatch.setattr(svc, "make_rule_groups", make)
    monkeypatch.setattr(render, "make_rule_groups", make)
    checked: list[Any] = []

    def check(objective: Any, groups: Any) -> list[Diagnostic]:
        checked.append(groups)
        return []

    assert svc.reconcile(cluster, check, body, {}, False, NOW) == svc.SLOOutcome(True)
    assert len(built) == 1 and checked == built
    [rule] = cluster.applied
    assert rule["spec"] == expected["spec"] == {"groups": [g.to_dict() for g in checked[0]]}


def test_dashboards_are_applied_next_to_the_rules_when_asked():
    body, _ = golden("bool-gauge")
    cluster = FakeCluster()
    svc.reconcile(cluster, accept, body, {}, True, NOW)
    assert [(o["kind"], o["metadata"]["name"]) for o in cluster.applied] == [
        ("PrometheusRule", "platform-uptime-slo"), ("ConfigMap", "platform-uptime-slo-dashboard")]


def test_only_this_services_conditions_are_written():
    body, _ = golden("bool-gauge")
    body["status"] = {"conditions": [{"type": "BudgetAvailable", "status": "True", "reason": "Measured",
                                      "message": "m", "lastTransitionTime": "2025-03-11T11:00:00Z"}]}
    cluster = FakeCluster()
    svc.reconcile(cluster, accept, body, {}, False, NOW)
    assert [t for t, *_ in conditions(cluster.statuses[0][2])] == ["RulesGenerated", "Ready"]


def test_an_invalid_spec_is_not_ready_and_nothing_is_applied():
    body, _ = golden("bool-gauge")
    body["spec"]["objective"] = 120
    cluster = FakeCluster()

    outcome = svc.reconcile(cluster, accept, body, {}, False, NOW)

    assert cluster.applied == []
    [(_, _, status, _)] = cluster.statuses
    [generated, ready] = conditions(status)
    assert generated[:3] == ("RulesGenerated", "False", "InvalidSpec")
    assert ready[:3] == ("Ready", "False", "InvalidSpec")
    assert generated[3].startswith("spec.objective")
    assert (outcome.ok, outcome.warning_reason, outcome.retry) == (False, "InvalidSpec", None)
    assert outcome.log == f"InvalidSpec: {generated[3]}"


def test_rules_promtool_refuses_are_not_applied():
    body, _ = golden("bool-gauge")
    cluster = FakeCluster()
    refused = [Diagnostic("error", path="spec.alerting.annotations.summary", message="template: bad {{")]

    outcome = svc.reconcile(cluster, lambda objective, groups: refused, body, {}, False, NOW)

    assert cluster.applied == []
    assert conditions(cluster.statuses[0][2])[0] == (
        "RulesGenerated", "False", "RulesRejected", "spec.alerting.annotations.summary: template: bad {{")
    assert (outcome.warning_reason, outcome.warning_message, outcome.retry) == (
        "RulesRejected", "spec.alerting.annotations.summary: template: bad {{", None)


def test_a_check_that_could_not_run_is_retried_without_a_status_write():
    body, _ = golden("bool-gauge")
    cluster = FakeCluster()

    def unavailable(objective: Any, groups: Any) -> list[Diagnostic]:
        raise PromtoolUnavailable("promtool timed out")

    outcome = svc.reconcile(cluster, unavailable, body, {}, False, NOW)
    assert outcome == svc.SLOOutcome(False, retry="promtool timed out")
    assert (cluster.applied, cluster.statuses) == ([], [])


@pytest.mark.parametrize(("status", "reason", "message", "retry"), [
    (422, "ApplyRejected", "rejected", None),
    (400, "ApplyRejected", "rejected", None),
    (503, "ApplyFailed", "rejected (retrying)", "rejected"),
    (409, "ApplyFailed", "rejected (retrying)", "rejected"),
])
def test_only_what_can_succeed_later_is_retried(status, reason, message, retry):
    body, _ = golden("bool-gauge")
    cluster = FakeCluster(KubeError("rejected", status))
    outcome = svc.reconcile(cluster, accept, body, {}, False, NOW)
    assert conditions(cluster.statuses[0][2])[0] == ("RulesGenerated", "False", reason, message)
    assert (outcome.ok, outcome.warning_reason, outcome.warning_message, outcome.retry) == (
        False, reason, "rejected", retry)

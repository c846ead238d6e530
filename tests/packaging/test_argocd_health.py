"""Argo CD health checks: the shipped Lua, run (lupa) against sample objects of each kind."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import lupa
import pytest
import yaml

from .conftest import REPO_ROOT

HEALTH = REPO_ROOT / "argocd" / "health"
NOW = "2025-06-01T12:00:00Z"


def run_health(script: Path, obj: dict[str, Any]) -> tuple[str, str]:
    """Run a health script as Argo CD does: ``obj`` global, returns a table {status, message}."""
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(script.read_text())
    return result["status"], result["message"] or ""


def cond(type_: str, status: str, reason: str = "Ok", message: str = "") -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": message, "lastTransitionTime": NOW}


def obj(kind: str, generation: int = 2, status: dict[str, Any] | None = None,
        annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "x", "namespace": "shop", "generation": generation}
    if annotations:
        meta["annotations"] = annotations
    out: dict[str, Any] = {"apiVersion": "sloguard.io/v1alpha1", "kind": kind, "metadata": meta, "spec": {}}
    if status is not None:
        out["status"] = status
    return out


SLO_READY = {"observedGeneration": 2, "conditions": [cond("Ready", "True", "RulesApplied", "rules are in place")],
             "state": "healthy", "budget": {"remainingPercent": 82.5}}
STRICT = {"sloguard.io/argocd-strict": "true"}


def with_status(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out.update(changes)
    return out


SLO_CASES = [
    ("no status yet", obj("ServiceLevelObjective", status=None), "Progressing", "Waiting for the operator"),
    ("old generation", obj("ServiceLevelObjective", 3, SLO_READY), "Progressing", "generation 3"),
    ("ready", obj("ServiceLevelObjective", 2, SLO_READY), "Healthy", "Budget healthy, 82.5% left"),
    ("invalid spec", obj("ServiceLevelObjective", 2, with_status(SLO_READY, conditions=[
        cond("Ready", "False", "InvalidSpec", "spec.sli.ratio.total: parse error")])), "Degraded",
     "InvalidSpec: spec.sli.ratio.total: parse error"),
    ("rules not applied", obj("ServiceLevelObjective", 2, with_status(SLO_READY, conditions=[
        cond("Ready", "False", "ApplyFailed", "403")])), "Degraded", "ApplyFailed"),
    ("ready unknown", obj("ServiceLevelObjective", 2, with_status(SLO_READY, conditions=[
        cond("Ready", "Unknown", "Pending", "waiting for Prometheus")])), "Progressing", "waiting for Prometheus"),
    ("no Ready condition", obj("ServiceLevelObjective", 2, with_status(SLO_READY, conditions=[])), "Progressing",
     "Ready condition"),
    ("exhausted is a fact", obj("ServiceLevelObjective", 2, with_status(
        SLO_READY, state="exhausted", budget={"remainingPercent": -12.0})), "Healthy", "exhausted (-12.0% left)"),
    ("exhausted when strict", obj("ServiceLevelObjective", 2, with_status(
        SLO_READY, state="exhausted", budget={"remainingPercent": 0}), STRICT), "Degraded", "exhausted"),
    ("ready, no budget yet", obj("ServiceLevelObjective", 2, with_status(SLO_READY, state=None, budget=None)),
     "Healthy", "rules are in place"),
]

EBP_READY = {"observedGeneration": 2, "conditions": [cond("Ready", "True")], "level": "healthy", "action": "none"}
EBP_CASES = [
    ("no status yet", obj("ErrorBudgetPolicy", status=None), "Progressing", "Waiting"),
    ("old generation", obj("ErrorBudgetPolicy", 5, EBP_READY), "Progressing", "generation 5"),
    ("healthy", obj("ErrorBudgetPolicy", 2, EBP_READY), "Healthy", "Level healthy, action none"),
    ("freeze is the policy working", obj("ErrorBudgetPolicy", 2, with_status(
        EBP_READY, level="exhausted", action="freeze", held=3, reason="checkout budget exhausted")), "Healthy",
     "Action freeze, 3 workload(s) held: checkout budget exhausted"),
    ("freeze when strict", obj("ErrorBudgetPolicy", 2, with_status(EBP_READY, action="freeze"), STRICT),
     "Degraded", "Action freeze"),
    ("cannot enforce", obj("ErrorBudgetPolicy", 2, with_status(EBP_READY, conditions=[
        cond("Ready", "False", "EnforcementFailed", "forbidden")])), "Degraded", "EnforcementFailed: forbidden"),
]

SLA_READY = {"observedGeneration": 1, "conditions": [cond("Ready", "True")],
             "currentPeriod": {"period": "2025-06", "minutes": 1000, "compliant": True, "compliance": "Compliant"}}
SLA_CASES = [
    ("no status yet", obj("SLAContract", 1, None), "Progressing", "Waiting"),
    ("compliant", obj("SLAContract", 1, SLA_READY), "Healthy", "2025-06: Compliant"),
    ("breached is a fact", obj("SLAContract", 1, with_status(SLA_READY, currentPeriod={
        "period": "2025-06", "minutes": 1000, "compliant": False, "compliance": "Breached 1/2 terms"})), "Healthy",
     "Breached 1/2 terms"),
    ("breached when strict", obj("SLAContract", 1, with_status(SLA_READY, currentPeriod={
        "period": "2025-06", "minutes": 10, "compliant": False, "compliance": "Breached 1/2 terms"}), STRICT),
     "Degraded", "Breached"),
    ("prometheus down", obj("SLAContract", 1, with_status(SLA_READY, conditions=[
        cond("Ready", "False", "PrometheusUnreachable", "connection refused")])), "Degraded", "connection refused"),
    ("nothing evaluated", obj("SLAContract", 1, with_status(SLA_READY, currentPeriod=None)), "Healthy",
     "No period evaluated"),
]


@pytest.mark.parametrize(("case", "body", "status", "message"), SLO_CASES, ids=[c[0] for c in SLO_CASES])
def test_slo_health(case, body, status, message):
    got_status, got_message = run_health(HEALTH / "servicelevelobjective.lua", body)
    assert (got_status, message in got_message) == (status, True), got_message


@pytest.mark.parametrize(("case", "body", "status", "message"), EBP_CASES, ids=[c[0] for c in EBP_CASES])
def test_policy_health(case, body, status, message):
    got_status, got_message = run_health(HEALTH / "errorbudgetpolicy.lua", body)
    assert (got_status, message in got_message) == (status, True), got_message


@pytest.mark.parametrize(("case", "body", "status", "message"), SLA_CASES, ids=[c[0] for c in SLA_CASES])
def test_sla_health(case, body, status, message):
    got_status, got_message = run_health(HEALTH / "slacontract.lua", body)
    assert (got_status, message in got_message) == (status, True), got_message


@pytest.mark.parametrize(("model", "cases"), [("slo", SLO_CASES), ("sla", SLA_CASES), ("policy", EBP_CASES)])
def test_the_sample_statuses_are_valid_operator_statuses(model, cases):
    """The samples are shapes the operator really writes, not invented ones."""
    from sloguard.api.policy import ErrorBudgetPolicyStatus
    from sloguard.api.sla import SLAContractStatus
    from sloguard.api.slo import SLOStatus

    cls = {"slo": SLOStatus, "sla": SLAContractStatus, "policy": ErrorBudgetPolicyStatus}[model]
    for _, body, _, _ in cases:
        if "status" in body:
            cls.model_validate(body["status"])


def test_argocd_cm_carries_exactly_the_shipped_scripts():
    data = yaml.safe_load((REPO_ROOT / "argocd" / "argocd-cm-health.yaml").read_text())["data"]
    assert set(data) == {f"resource.customizations.health.sloguard.io_{k}"
                         for k in ("ServiceLevelObjective", "ErrorBudgetPolicy", "SLAContract")}
    scripts = {p.read_text() for p in HEALTH.glob("*.lua")}
    assert set(data.values()) == scripts


def test_the_example_applications_put_crds_in_an_earlier_wave():
    apps = {d["metadata"]["name"]: d for d in yaml.safe_load_all((REPO_ROOT / "argocd" / "application.yaml")
                                                                 .read_text())}
    wave = {n: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for n, a in apps.items()}
    assert wave["sloguard-crds"] < wave["sloguard"]
    assert apps["sloguard"]["spec"]["source"]["helm"]["skipCrds"] is True
    assert (REPO_ROOT / apps["sloguard"]["spec"]["source"]["path"] / "Chart.yaml").is_file()
    assert (REPO_ROOT / apps["sloguard-crds"]["spec"]["source"]["path"] / "Chart.yaml").is_file()

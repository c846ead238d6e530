"""The ErrorBudgetPolicy service against in-memory fakes of its ports: exact writes, in order.

The SLO budgets are the test's own figures; the levels are the seed table (remaining budget below
25% scrutiny, below 10% restrict, below 0% freeze; a freeze lifts only above 10%), so every
expected reason, label and status field below follows from the inputs written here.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sloguard.adapters.kube import KubeError
from sloguard.services import policy as svc

NOW = datetime(2025, 3, 11, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)
NS, POLICY, SLO = "shop", "checkout-freeze", "checkout-availability"
OPERATOR = "system:serviceaccount:sloguard:sloguard"
HOLDS = "sloguard-holds"  # the field manager of hold metadata
DEFAULT_CLASSES = ["security-fix", "reliability-fix", "rollback"]


# --- Fakes of the ports -------------------------------------------------------------------------

class FakeCluster:
    """Objects by (kind, namespace, name); every write in ``writes``; hold metadata owned per field manager."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.writes: list[tuple[str, str, str]] = []
        self.applied: list[tuple[dict[str, Any], str]] = []
        self.reviews: list[tuple[str, str, str]] = []
        self.allowed: set[tuple[str, str]] = set()
        self.failures: dict[tuple[str, str], KubeError] = {}
        for obj in objects:
            self.add(obj)

    def add(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self.objects[(obj["kind"], meta.get("namespace", ""), meta["name"])] = copy.deepcopy(obj)

    def obj(self, kind: str, name: str, ns: str = NS) -> dict[str, Any]:
        return self.objects[(kind, ns, name)]

    def _fail(self, verb: str, name: str) -> None:
        if (verb, name) in self.failures:
            raise self.failures[(verb, name)]

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        self._fail("get", name)
        found = self.objects.get((kind, namespace or "", name))
        return copy.deepcopy(found) if found else None

    def apply(self, body: Any, field_manager: str = "sloguard") -> dict[str, Any]:
        meta = body["metadata"]
        self._fail("apply", meta["name"])
        self.writes.append(("apply", body["kind"], meta["name"]))
        self.applied.append((copy.deepcopy(dict(body)), field_manager))
        key = (body["kind"], meta.get("namespace", ""), meta["name"])
        if field_manager == HOLDS:
            self._own_hold_metadata(key, meta)
        else:
            self.objects[key] = copy.deepcopy(dict(body))
        return dict(body)

    def _own_hold_metadata(self, key: tuple[str, str, str], meta: dict[str, Any]) -> None:
        """Server-side apply by the holds manager: exactly its labels and annotations, ours replaced."""
        if key not in self.objects:
            raise KubeError(f"{key} not found", 404)
        target = self.objects[key]["metadata"]
        for part in ("labels", "annotations"):
            kept = {k: v for k, v in (target.get(part) or {}).items() if k not in target.get(f"_{part}_ours", ())}
            target[part] = {**kept, **meta.get(part, {})}
            target[f"_{part}_ours"] = tuple(meta.get(part, {}))

    def patch_status(self, api_version: str, kind: str, name: str, namespace: str, status: Any) -> None:
        self._fail("patch_status", name)
        self.writes.append(("patch_status", kind, name))
        current = self.objects.setdefault((kind, namespace, name), {"kind": kind, "metadata": {"name": name}})
        merged = {**current.get("status", {}), **copy.deepcopy(dict(status))}
        current["status"] = {k: v for k, v in merged.items() if v is not None}

    def apply_status(self, api_version: str, kind: str, name: str, namespace: str, status: Any,
                     field_manager: str) -> dict[str, Any]:
        raise AssertionError("the policy service merge-patches its status")

    def list_workloads(self, namespace: str, kind: str, label_selector: str) -> list[dict[str, Any]]:
        def matches(labels: dict[str, str]) -> bool:
            for part in filter(None, label_selector.split(",")):
                key, eq, value = part.partition("=")
                if (eq and labels.get(key) != value) or (not eq and key not in labels):
                    return False
            return True

        return [copy.deepcopy(o) for (k, ns, _), o in sorted(self.objects.items())
                if k == kind and ns == namespace and matches(o["metadata"].get("labels") or {})]

    def drop_annotation(self, kind: str, namespace: str, name: str, key: str) -> None:
        self.writes.append(("drop_annotation", kind, f"{name}:{key}"))
        self.objects[(kind, namespace, name)]["metadata"]["annotations"].pop(key, None)

    def delete_admission(self, kind: str, name: str) -> None:
        self.writes.append(("delete", kind, name))
        self.objects.pop((kind, "", name), None)

    def may(self, user: str, groups: list[str], verb: str, namespace: str, policy: str,
            extra: dict[str, Any] | None = None) -> bool:
        self.reviews.append((user, verb, policy))
        return (user, verb) in self.allowed


class FakeEvents:
    def __init__(self) -> None:
        self.posted: list[tuple[str, str, str, str]] = []

    def post(self, involved: Any, *, type_: str, reason: str, message: str) -> None:
        self.posted.append((involved["metadata"]["name"], type_, reason, message))


@dataclass(frozen=True)
class Webhook:
    enabled: bool = True
    port: int = 9443
    host: str | None = None
    service_name: str | None = "sloguard-webhook"
    service_namespace: str | None = "sloguard"
    cert_dir: Path = Path("/certs")
    timeout_seconds: int = 5


@dataclass
class Certificates:
    asked: list[tuple[Path, list[str]]] = field(default_factory=list)

    def __call__(self, cert_dir: Path, hosts: list[str]) -> bytes:
        self.asked.append((cert_dir, hosts))
        return b"CA"


class Logs(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelname, record.getMessage()))


def runtime(cluster: FakeCluster, *, enforcement: str = "admissionPolicy", webhook: Webhook | None = None,
            state: svc.PolicyState | None = None) -> tuple[svc.Runtime, FakeEvents, Logs]:
    logs = Logs()
    logger = logging.getLogger(f"test-services-policy-{id(logs)}")
    logger.addHandler(logs)
    logger.setLevel(logging.INFO)
    st = state or svc.PolicyState()
    st.operator_user = OPERATOR
    events = FakeEvents()
    rt = svc.Runtime(cluster, events, st, logger, enforcement, webhook or Webhook(enabled=False), "sloguard-holds",
                     Certificates())
    return rt, events, logs


# --- Factories ----------------------------------------------------------------------------------

def policy(*, status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetPolicy",
        "metadata": {"name": POLICY, "namespace": NS, "generation": 3, "uid": "policy-uid"},
        "spec": {"slos": [SLO], "targets": [{"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"}}}],
                 **spec},
        "status": status or {},
    }


def deployment(name: str, app: str, **annotations: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS, "generation": 7, "labels": {"app": app},
                         "annotations": dict(annotations)},
            "spec": {"template": {"metadata": {"labels": {"app": app}},
                                  "spec": {"containers": [{"name": "app", "image": "shop/app:1.0"}]}}}}


def slo(name: str, remaining: float | None, labels: dict[str, str] | None = None,
        burn_1h: float | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"budget": {"remainingPercent": remaining}} if remaining is not None else {}
    if burn_1h is not None:
        status["burnRates"] = {"1h": burn_1h}
    return {"metadata": {"name": name, "namespace": NS, "labels": labels or {}}, "status": status}


def cluster_with_checkout(*extra: dict[str, Any]) -> FakeCluster:
    return FakeCluster(policy(), deployment("checkout", "checkout"), deployment("search", "search"), *extra)


def hold_metadata(cluster: FakeCluster, name: str) -> tuple[dict[str, str], dict[str, str]]:
    meta = cluster.obj("Deployment", name)["metadata"]
    ours = lambda d: {k: v for k, v in (d or {}).items() if k.startswith("sloguard.io/")}  # noqa: E731
    return ours(meta.get("labels")), ours(meta.get("annotations"))


def freeze_reason(remaining: str) -> str:
    return f"SLO {SLO} has {remaining} of its error budget left (level exhausted: below 0%)"


# --- Budgets in ---------------------------------------------------------------------------------

def test_a_budget_reported_as_a_fraction_reads_as_a_percent():
    budget = svc.budget_from_status(SLO, {"budget": {"remaining": 0.25}, "burnRates": {"1h": 2, "6h": "x"}})
    assert (budget.remaining_percent, dict(budget.burn_rates)) == (25.0, {"1h": 2.0})


def test_an_slo_event_asks_for_a_re_evaluation_only_when_a_decision_may_change():
    st = svc.PolicyState()
    assert svc.note_slo(st, slo(SLO, None), deleted=False) is False        # new, no budget yet
    assert svc.note_slo(st, slo(SLO, 40.0), deleted=False) is True         # first budget
    assert svc.note_slo(st, slo(SLO, 40.0), deleted=False) is False        # unchanged
    assert svc.note_slo(st, slo(SLO, 40.0, {"tier": "1"}), deleted=False) is True  # labels select differently
    assert svc.note_slo(st, slo(SLO, 40.0), deleted=True) is True
    assert st.slos[NS] == {}


# --- Levels -> holds ----------------------------------------------------------------------------

@pytest.mark.parametrize(("remaining", "level", "action", "below"), [
    (24.0, "warning", "scrutiny", "25"),
    (9.5, "critical", "restrict", "10"),
    (-0.5, "exhausted", "freeze", "0"),
])
def test_each_level_holds_the_targets_with_its_action(remaining, level, action, below):
    cluster = cluster_with_checkout()
    rt, events, _ = runtime(cluster)
    svc.note_slo(rt.state, slo(SLO, remaining), deleted=False)

    state = svc.reconcile(rt, policy(), NOW)

    reason = f"SLO {SLO} has {remaining:.1f}% of its error budget left (level {level}: below {below}%)"
    assert state is not None and (state.level, state.action, state.reason) == (level, action, reason)
    assert hold_metadata(cluster, "checkout") == (
        {"sloguard.io/hold": action},
        {"sloguard.io/hold-policy": POLICY, "sloguard.io/hold-reason": reason,
         "sloguard.io/hold-since": "2025-03-11T12:00:00Z"})
    assert hold_metadata(cluster, "search") == ({}, {})
    hold = cluster.obj("ErrorBudgetHold", POLICY)
    assert hold["spec"]["action"] == action
    assert hold["spec"]["held"] == [{"kind": "Deployment", "name": "checkout"}]
    assert hold["spec"]["exceptionClasses"] == DEFAULT_CLASSES
    assert hold["spec"]["operatorUser"] == OPERATOR
    assert hold["metadata"]["ownerReferences"][0]["uid"] == "policy-uid"
    assert hold["metadata"]["labels"]["sloguard.io/enforcement"] == ("Warn" if action == "scrutiny" else "Deny")
    assert events.posted == [(POLICY, "Warning", f"Policy{action.capitalize()}",
                              f"healthy/none -> {level}/{action}: {reason}; 1 workload(s) held")]


def test_enforcement_is_in_place_before_any_workload_is_labelled():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster)
    svc.note_slo(rt.state, slo(SLO, -0.5), deleted=False)
    svc.reconcile(rt, policy(), NOW)
    assert cluster.writes == [("apply", "ErrorBudgetHold", POLICY), ("apply", "Deployment", "checkout"),
                              ("patch_status", "ErrorBudgetPolicy", POLICY)]
    assert [m for _, m in cluster.applied] == ["sloguard", HOLDS]


def test_the_status_reports_level_held_targets_and_the_transition():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster)
    svc.note_slo(rt.state, slo(SLO, -0.5), deleted=False)
    svc.reconcile(rt, policy(), NOW)
    status = cluster.obj("ErrorBudgetPolicy", POLICY)["status"]
    conditions = status.pop("conditions")
    assert status == {
        "level": "exhausted", "action": "freeze", "slo": SLO, "remainingPercent": -0.5,
        "reason": freeze_reason("-0.5%"), "since": "2025-03-11T12:00:00Z", "held": 1,
        "heldTargets": [{"kind": "Deployment", "name": "checkout"}],
        "transitions": [{"at": "2025-03-11T12:00:00Z", "fromLevel": "healthy", "toLevel": "exhausted",
                         "fromAction": "none", "toAction": "freeze", "slo": SLO, "reason": freeze_reason("-0.5%")}],
        "exemptions": [], "mechanism": "admissionPolicy", "observedGeneration": 3,
    }
    assert [(x["type"], x["status"], x["reason"], x["message"]) for x in conditions] == [
        ("Ready", "True", "Evaluated", f"exhausted: {freeze_reason('-0.5%')}")]


def test_the_worst_of_several_slos_decides_and_a_selector_picks_by_label():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster)
    for name, remaining, tier in (("a", 50.0, "gold"), ("b", 5.0, "gold"), ("c", -3.0, "bronze")):
        svc.note_slo(rt.state, slo(name, remaining, {"tier": tier}), deleted=False)

    by_name = svc.plan_policy(rt, policy(slos=["a", "b", "c"]), NOW)
    by_label = svc.plan_policy(rt, policy(slos=None, sloSelector={"matchLabels": {"tier": "gold"}}), NOW)

    assert by_name.state is not None and (by_name.state.action, by_name.state.slo) == ("freeze", "c")
    assert by_label.state is not None and (by_label.state.action, by_label.state.slo) == ("restrict", "b")
    assert by_label.state.reason == "SLO b has 5.0% of its error budget left (level critical: below 10%)"


def test_a_fast_burn_holds_as_an_emergency_even_with_budget_left():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster)
    svc.note_slo(rt.state, slo(SLO, 60.0, burn_1h=20.0), deleted=False)
    svc.reconcile(rt, policy(), NOW)
    assert hold_metadata(cluster, "checkout")[0] == {"sloguard.io/hold": "emergency"}


# --- Release on recovery ------------------------------------------------------------------------

def test_a_recovered_budget_lifts_the_hold_labels_first():
    cluster = cluster_with_checkout()
    rt, events, _ = runtime(cluster)
    svc.note_slo(rt.state, slo(SLO, -0.5), deleted=False)
    svc.reconcile_by_name(rt, NS, POLICY, NOW)
    cluster.writes.clear()
    events.posted.clear()

    svc.note_slo(rt.state, slo(SLO, 42.0), deleted=False)
    svc.reconcile_by_name(rt, NS, POLICY, LATER)

    assert cluster.writes == [("apply", "Deployment", "checkout"), ("apply", "ErrorBudgetHold", POLICY),
                              ("patch_status", "ErrorBudgetPolicy", POLICY)]
    assert hold_metadata(cluster, "checkout") == ({}, {})
    assert cluster.obj("ErrorBudgetHold", POLICY)["spec"]["action"] == "none"
    assert cluster.obj("ErrorBudgetHold", POLICY)["spec"]["held"] == []
    reason = f"every SLO is above its levels (lowest: {SLO} with 42.0% left)"
    assert events.posted == [(POLICY, "Normal", "HoldLifted",
                              f"exhausted/freeze -> healthy/none: {reason}; 0 workload(s) held")]
    status = cluster.obj("ErrorBudgetPolicy", POLICY)["status"]
    assert (status["action"], status["held"], "since" in status) == ("none", 0, False)
    assert [(t["fromAction"], t["toAction"], t["at"]) for t in status["transitions"]] == [
        ("none", "freeze", "2025-03-11T12:00:00Z"), ("freeze", "none", "2025-03-11T12:10:00Z")]
    assert rt.state.active == {}


def test_a_freeze_holds_until_the_budget_is_back_above_ten_percent():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster)
    svc.note_slo(rt.state, slo(SLO, -0.5), deleted=False)
    svc.reconcile_by_name(rt, NS, POLICY, NOW)
    svc.note_slo(rt.state, slo(SLO, 8.0), deleted=False)
    svc.reconcile_by_name(rt, NS, POLICY, LATER)
    labels, annotations = hold_metadata(cluster, "checkout")
    assert labels == {"sloguard.io/hold": "freeze"}
    assert annotations["sloguard.io/hold-reason"] == (
        f"SLO {SLO} has 8.0% of its error budget left; the freeze holds until it is back above 10%")
    assert annotations["sloguard.io/hold-since"] == "2025-03-11T12:00:00Z"  # since moves only on a new action


def test_a_hold_follows_the_workload_after_its_labels_change():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster)
    svc.note_slo(rt.state, slo(SLO, -0.5), deleted=False)
    svc.reconcile_by_name(rt, NS, POLICY, NOW)
    cluster.obj("Deployment", "checkout")["metadata"]["labels"]["app"] = "renamed"
    svc.reconcile_by_name(rt, NS, POLICY, LATER)
    assert hold_metadata(cluster, "checkout")[0] == {"sloguard.io/hold": "freeze"}
    assert cluster.obj("ErrorBudgetHold", POLICY)["spec"]["held"] == [{"kind": "Deployment", "name": "checkout"}]


def test_a_deleted_policy_releases_its_workloads():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster)
    svc.note_slo(rt.state, slo(SLO, -0.5), deleted=False)
    svc.reconcile_by_name(rt, NS, POLICY, NOW)
    svc.release_all(rt, NS, POLICY)
    assert hold_metadata(cluster, "checkout") == ({}, {})
    assert rt.state.active == {}


# --- Missing SLO --------------------------------------------------------------------------------

def test_a_policy_whose_slo_has_no_budget_yet_holds_nothing():
    cluster = cluster_with_checkout()
    rt, events, _ = runtime(cluster)
    state = svc.reconcile(rt, policy(slos=["not-there"]), NOW)
    assert state is not None and (state.action, state.reason) == ("none", "no SLO budget is known yet")
    assert hold_metadata(cluster, "checkout") == ({}, {})
    assert events.posted == []  # healthy/none -> healthy/none is no transition


def test_a_missing_budget_never_lifts_a_hold():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster)
    frozen = {"level": "exhausted", "action": "freeze", "slo": SLO, "remainingPercent": -0.5,
              "reason": freeze_reason("-0.5%"), "since": "2025-03-11T09:00:00Z"}
    state = svc.reconcile(rt, policy(status=frozen, slos=["not-there"]), NOW)
    assert state is not None and (state.action, state.reason) == ("freeze", freeze_reason("-0.5%"))
    assert hold_metadata(cluster, "checkout")[1]["sloguard.io/hold-since"] == "2025-03-11T09:00:00Z"


# --- Platform enforcement -----------------------------------------------------------------------

@pytest.mark.parametrize(("platform", "own", "expected"), [
    ("admissionPolicy", "webhook", "webhook"),
    ("admissionPolicy", "admissionPolicy", "admissionPolicy"),
    ("none", "webhook", "none"),
    ("webhook", "admissionPolicy", "webhook"),
])
def test_the_platform_setting_overrides_a_policys_mechanism(platform, own, expected):
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster, enforcement=platform)
    svc.note_slo(rt.state, slo(SLO, -0.5), deleted=False)
    plan = svc.plan_policy(rt, policy(enforcement={"mechanism": own}), NOW)
    assert plan.status["mechanism"] == expected
    assert plan.webhook is (expected == "webhook")
    assert plan.params is not None
    # only the chart's admission policy reads the hold's binding label; another mechanism: "none"
    assert plan.params["metadata"]["labels"]["sloguard.io/enforcement"] == (
        "Deny" if expected == "admissionPolicy" else "none")


# --- Errors -------------------------------------------------------------------------------------

def test_an_invalid_spec_reports_not_ready_and_touches_nothing_else():
    cluster = cluster_with_checkout()
    rt, events, _ = runtime(cluster)
    rt.state.active[(NS, POLICY)] = "kept"  # type: ignore[assignment]
    body = policy()
    del body["spec"]["targets"]
    assert svc.reconcile(rt, body, NOW) is None
    assert cluster.writes == [("patch_status", "ErrorBudgetPolicy", POLICY)]
    status = cluster.obj("ErrorBudgetPolicy", POLICY)["status"]
    assert status["observedGeneration"] == 3
    [ready] = status["conditions"]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "False", "InvalidSpec")
    assert "targets" in ready["message"]
    assert events.posted == [] and rt.state.active == {(NS, POLICY): "kept"}


def test_a_workload_deleted_meanwhile_is_skipped():
    cluster = cluster_with_checkout()
    cluster.failures[("apply", "checkout")] = KubeError("not found", 404)
    rt, _, _ = runtime(cluster)
    svc.note_slo(rt.state, slo(SLO, -0.5), deleted=False)
    assert svc.reconcile(rt, policy(), NOW) is not None
    assert cluster.obj("ErrorBudgetPolicy", POLICY)["status"]["action"] == "freeze"


def test_an_api_error_is_logged_and_leaves_the_status_for_the_next_attempt():
    cluster = cluster_with_checkout()
    cluster.failures[("apply", "checkout")] = KubeError("apply Deployment shop/checkout: 500 boom", 500)
    rt, _, logs = runtime(cluster)
    svc.note_slo(rt.state, slo(SLO, -0.5), deleted=False)
    svc.reconcile_by_name(rt, NS, POLICY, NOW)
    assert logs.lines == [("ERROR", f"ErrorBudgetPolicy {NS}/{POLICY}: apply Deployment shop/checkout: 500 boom")]
    assert ("patch_status", "ErrorBudgetPolicy", POLICY) not in cluster.writes


# --- Exemptions ---------------------------------------------------------------------------------

def released(obj: dict[str, Any], image: str, **annotations: str) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"]["generation"] += 1
    out["metadata"]["annotations"].update(annotations)
    out["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return out


def frozen_checkout(**spec: Any) -> tuple[svc.Runtime, FakeCluster, FakeEvents, dict[str, Any]]:
    cluster = FakeCluster(policy(**spec), deployment("checkout", "checkout"))
    rt, events, _ = runtime(cluster)
    svc.note_slo(rt.state, slo(SLO, -0.5), deleted=False)
    svc.reconcile_by_name(rt, NS, POLICY, NOW)
    events.posted.clear()
    seen = cluster.obj("Deployment", "checkout")
    assert svc.observe_workload(rt.state, seen, False, NOW)[0].exemption is None  # the first sight
    return rt, cluster, events, seen


def test_a_release_with_an_allowed_exception_is_recorded_with_its_reason():
    rt, cluster, events, seen = frozen_checkout()
    after = released(seen, "shop/app:1.1", **{"sloguard.io/exception": "security-fix",
                                               "sloguard.io/exception-reason": "CVE-2025-0001"})
    [finding] = svc.observe_workload(rt.state, after, False, LATER)
    entry = {"at": "2025-03-11T12:10:00Z", "kind": "Deployment", "name": "checkout", "generation": 8,
             "exemption": "security-fix", "action": "freeze", "reason": "CVE-2025-0001"}
    assert finding.exemption == entry
    message = "Deployment shop/checkout generation 8 released under freeze by security-fix (CVE-2025-0001)"
    assert finding.events == [
        svc.Event({"apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetPolicy",
                   "metadata": {"name": POLICY, "namespace": NS, "uid": "policy-uid"}},
                  "Warning", "HoldExemption", message),
        svc.Event(after, "Warning", "HoldExemption", f"{message} (ErrorBudgetPolicy {NS}/{POLICY})")]

    cluster.add(after)
    svc.act_on(rt, after, [finding], LATER)
    assert [e[:3] for e in events.posted] == [(POLICY, "Warning", "HoldExemption"),
                                              ("checkout", "Warning", "HoldExemption")]
    assert cluster.obj("ErrorBudgetPolicy", POLICY)["status"]["exemptions"] == [entry]
    assert rt.state.exemptions == {}  # on record in status: not written twice


def test_a_release_without_an_allowed_class_was_an_override():
    rt, _, _, seen = frozen_checkout()
    after = released(seen, "shop/app:1.1", **{"sloguard.io/exception": "feature", "sloguard.io/exception-reason": "x"})
    [finding] = svc.observe_workload(rt.state, after, False, LATER)
    assert finding.exemption is not None
    assert (finding.exemption["exemption"], "reason" in finding.exemption) == ("override", False)


def test_a_metadata_only_change_is_no_exemption():
    rt, _, _, seen = frozen_checkout()
    after = copy.deepcopy(seen)
    after["metadata"]["annotations"]["team"] = "payments"
    [finding] = svc.observe_workload(rt.state, after, False, LATER)
    assert (finding.exemption, finding.resync, finding.disarm) == (None, False, False)


@pytest.mark.parametrize("enforcement", [{"mode": "warn"}, {"mode": "dryRun"}])
def test_releases_under_a_hold_that_does_not_enforce_are_not_exemptions(enforcement):
    rt, _, _, seen = frozen_checkout(enforcement=enforcement)
    [finding] = svc.observe_workload(rt.state, released(seen, "shop/app:1.1"), False, LATER)
    assert finding.exemption is None


def test_an_exception_set_by_a_metadata_only_change_is_armed_and_put_on_the_workload():
    rt, cluster, _, seen = frozen_checkout()
    armed = copy.deepcopy(seen)
    armed["metadata"]["annotations"].update({"sloguard.io/exception": "rollback",
                                             "sloguard.io/exception-reason": "bad release"})
    [finding] = svc.observe_workload(rt.state, armed, False, LATER)
    assert rt.state.armed == {(NS, "Deployment", "checkout"): "rollback/bad release"}
    assert finding.resync is True  # the armed annotation is not on the workload yet
    cluster.add(armed)
    svc.act_on(rt, armed, [finding], LATER)
    assert hold_metadata(cluster, "checkout")[1]["sloguard.io/exception-armed"] == "rollback/bad release"


def test_an_armed_annotation_the_watch_did_not_arm_is_taken_off():
    rt, cluster, _, seen = frozen_checkout()
    stale = copy.deepcopy(seen)
    stale["metadata"]["annotations"]["sloguard.io/exception-armed"] = "rollback/old"
    cluster.add(stale)
    [finding] = svc.observe_workload(rt.state, stale, False, LATER)
    assert finding.disarm is True
    svc.act_on(rt, stale, [finding], LATER)
    assert ("drop_annotation", "Deployment", "checkout:sloguard.io/exception-armed") in cluster.writes


def test_a_workload_no_policy_holds_yields_nothing():
    rt, _, _ = runtime(FakeCluster())
    other = deployment("search", "search")
    assert svc.observe_workload(rt.state, other, False, NOW) == []
    assert svc.observe_workload(rt.state, released(other, "x:2"), False, LATER) == []
    assert svc.observe_workload(rt.state, other, True, LATER) == []
    assert rt.state.seen == {}


# --- Webhook mechanism --------------------------------------------------------------------------

def active(ns: str, failure: str = "Ignore") -> svc.Active:
    hold = svc.core.Hold(POLICY, ns, "freeze", "exhausted", SLO, -0.5)
    return svc.Active(hold, "enforce", "webhook", failure, [])


def test_the_webhook_configuration_covers_the_holding_namespaces_but_never_its_own():
    config = svc.webhook_configuration(Webhook(), "sloguard-holds",
                                       [active("shop"), active("kube-system"), active("sloguard"), active("blog")],
                                       b"CA")
    assert {tuple(w["namespaceSelector"]["matchExpressions"][0]["values"]) for w in config["webhooks"]} == {
        ("blog", "shop")}
    assert {w["failurePolicy"] for w in config["webhooks"]} == {"Ignore"}
    assert {w["timeoutSeconds"] for w in config["webhooks"]} == {5}
    config = svc.webhook_configuration(Webhook(), "sloguard-holds", [active("shop"), active("blog", "Fail")], b"CA")
    assert {w["failurePolicy"] for w in config["webhooks"]} == {"Fail"}


def test_the_certificate_names_the_service_then_the_url_host():
    assert svc.webhook_hosts(Webhook(host="10.0.0.5")) == [
        "sloguard-webhook.sloguard.svc", "sloguard-webhook.sloguard.svc.cluster.local", "10.0.0.5", "localhost",
        "127.0.0.1"]


def test_a_webhook_hold_with_the_webhook_disabled_is_reported():
    rt, _, logs = runtime(FakeCluster())
    rt.state.active[(NS, POLICY)] = active(NS)
    svc.sync_webhook_configuration(rt)
    assert [level for level, _ in logs.lines] == ["ERROR"]
    assert "not enforced" in logs.lines[0][1]


def test_without_webhook_holds_the_charts_configuration_is_emptied_and_ours_deleted():
    charts = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
              "metadata": {"name": "sloguard-holds", "labels": {"app.kubernetes.io/part-of": "sloguard"}},
              "webhooks": [{"name": "x"}]}
    cluster = FakeCluster(charts)
    rt, _, _ = runtime(cluster, webhook=Webhook())
    svc.sync_webhook_configuration(rt)
    assert cluster.obj("ValidatingWebhookConfiguration", "sloguard-holds", "")["webhooks"] == []
    ours = {**charts, "metadata": {"name": "sloguard-holds"}}
    cluster = FakeCluster(ours)
    rt, _, _ = runtime(cluster, webhook=Webhook())
    svc.sync_webhook_configuration(rt)
    assert cluster.writes == [("delete", "ValidatingWebhookConfiguration", "sloguard-holds")]


def test_a_webhook_hold_installs_the_configuration_with_a_certificate():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster, webhook=Webhook())
    svc.note_slo(rt.state, slo(SLO, -0.5), deleted=False)
    svc.reconcile(rt, policy(enforcement={"mechanism": "webhook"}), NOW)
    config = cluster.obj("ValidatingWebhookConfiguration", "sloguard-holds", "")
    assert {w["clientConfig"]["caBundle"] for w in config["webhooks"]} == {"Q0E="}  # base64 of b"CA"
    assert rt.certificates.asked == [(Path("/certs"), svc.webhook_hosts(Webhook()))]  # type: ignore[attr-defined]


# --- Admission ----------------------------------------------------------------------------------

BOB = {"username": "bob", "groups": ["devs"]}


def webhook_hold(action: str = "freeze") -> svc.PolicyState:
    st = svc.PolicyState()
    st.operator_user = OPERATOR
    hold = svc.core.Hold(POLICY, NS, action, "exhausted", SLO, -0.5, held=frozenset({("Deployment", "checkout")}))
    st.active[(NS, POLICY)] = svc.Active(hold, "enforce", "webhook", "Ignore", [])
    return st


def test_a_release_of_a_frozen_workload_is_denied_with_the_shared_message():
    old = deployment("checkout", "checkout")
    verdict = svc.admit(webhook_hold(), FakeCluster(), released(old, "shop/app:2.0"), old, "UPDATE", None, BOB,
                        lambda: 0.0)
    assert verdict.denial is not None
    assert verdict.denial.startswith(
        f"Deployment {NS}/checkout: releases are frozen by ErrorBudgetPolicy {NS}/{POLICY}: "
        f"SLO {SLO} has -0.5% of its error budget left (level exhausted). ")


def test_override_is_checked_once_per_ttl():
    cluster = FakeCluster()
    cluster.allowed.add(("bob", "override"))
    st, old = webhook_hold(), deployment("checkout", "checkout")
    clock = iter([0.0, 5.0, 10.5])
    for _ in range(3):
        verdict = svc.admit(st, cluster, released(old, "shop/app:2.0"), old, "UPDATE", None, BOB, lambda: next(clock))
        assert verdict.denial is None
    assert cluster.reviews == [("bob", "override", POLICY), ("bob", "override", POLICY)]


def test_a_namespace_without_webhook_holds_is_not_judged():
    st, old = webhook_hold(), deployment("checkout", "checkout")
    old["metadata"]["namespace"] = "blog"
    assert svc.admit(st, FakeCluster(), released(old, "x:2"), old, "UPDATE", None, BOB, lambda: 0.0) == svc.Verdict()


def test_a_warn_mode_hold_turns_the_denial_into_a_warning():
    st, old = webhook_hold(), deployment("checkout", "checkout")
    st.active[(NS, POLICY)] = svc.Active(st.active[(NS, POLICY)].hold, "warn", "webhook", "Ignore", [])
    verdict = svc.admit(st, FakeCluster(), released(old, "x:2"), old, "UPDATE", None, BOB, lambda: 0.0)
    assert verdict.denial is None
    assert len(verdict.warnings) == 1 and "releases are frozen by ErrorBudgetPolicy" in verdict.warnings[0]


# --- Levels on a cause's share (status.budget.byCause) ------------------------------------------

#: The seed's budget allocation as levels: a cause past its share of the budget (releases 30%,
#: maintenance 20%, incidents 50%), and the seed's exhausted row on the remaining budget.
SEED_ALLOCATION_LEVELS = [
    {"name": "exhausted", "remainingBelow": 0, "action": "freeze"},
    {"name": "releases-over-share", "when": {"cause": "releases", "consumedAbove": 30}, "action": "restrict"},
    {"name": "maintenance-over-share", "when": {"cause": "maintenance", "consumedAbove": 20}, "action": "scrutiny"},
    {"name": "incidents-over-share", "when": {"cause": "incidents", "consumedAbove": 50}, "action": "scrutiny"},
]


def slo_by_cause(remaining: float, by_cause: dict[str, float] | None) -> dict[str, Any]:
    """An SLO status as the budget loop writes it: byCause in fractions of the budget (1.0 = all of it)."""
    body = slo(SLO, remaining)
    if by_cause is not None:
        body["status"]["budget"]["byCause"] = by_cause
    return body


def cause_reason(cause: str, share: str, level: str, above: int, remaining: str) -> str:
    return (f"{cause} spent {share} of SLO {SLO}'s error budget (level {level}: above {above}%), "
            f"{remaining} left")


@pytest.mark.parametrize(("remaining", "by_cause", "level", "action", "reason"), [
    # releases past their 30% share -> restrict
    (45.0, {"releases": 0.35, "maintenance": 0.1, "incidents": 0.1}, "releases-over-share", "restrict",
     cause_reason("releases", "35.0%", "releases-over-share", 30, "45.0%")),
    # exactly at the share is not above it
    (50.0, {"releases": 0.30, "maintenance": 0.1, "incidents": 0.1}, "healthy", "none", None),
    (60.0, {"releases": 0.20, "maintenance": 0.1, "incidents": 0.1}, "healthy", "none", None),
    (55.0, {"releases": 0.1, "maintenance": 0.25, "incidents": 0.1}, "maintenance-over-share", "scrutiny",
     cause_reason("maintenance", "25.0%", "maintenance-over-share", 20, "55.0%")),
    (35.0, {"releases": 0.05, "maintenance": 0.05, "incidents": 0.55}, "incidents-over-share", "scrutiny",
     cause_reason("incidents", "55.0%", "incidents-over-share", 50, "35.0%")),
    # the strictest action wins: restrict (releases) over scrutiny (incidents)
    (5.0, {"releases": 0.40, "maintenance": 0.0, "incidents": 0.55}, "releases-over-share", "restrict",
     cause_reason("releases", "40.0%", "releases-over-share", 30, "5.0%")),
    # an exhausted budget freezes whatever spent it
    (-5.0, {"releases": 0.35, "maintenance": 0.2, "incidents": 0.5}, "exhausted", "freeze",
     f"SLO {SLO} has -5.0% of its error budget left (level exhausted: below 0%)"),
])
def test_a_level_on_a_cause_triggers_on_that_causes_share_of_the_budget(remaining, by_cause, level, action, reason):
    cluster = cluster_with_checkout()
    rt, events, _ = runtime(cluster)
    svc.note_slo(rt.state, slo_by_cause(remaining, by_cause), deleted=False)

    state = svc.reconcile(rt, policy(levels=SEED_ALLOCATION_LEVELS), NOW)

    assert state is not None and (state.level, state.action) == (level, action)
    status = cluster.obj("ErrorBudgetPolicy", POLICY)["status"]
    known = next(x for x in status["conditions"] if x["type"] == "ByCauseKnown")
    assert (known["status"], known["reason"]) == ("True", "ByCauseKnown")
    assert "causesUnknown" not in status
    if action == "none":
        assert hold_metadata(cluster, "checkout") == ({}, {}) and events.posted == []
        assert "cause" not in status
        return
    assert state.reason == reason
    assert hold_metadata(cluster, "checkout")[0] == {"sloguard.io/hold": action}
    assert hold_metadata(cluster, "checkout")[1]["sloguard.io/hold-reason"] == reason
    assert events.posted == [(POLICY, "Warning", f"Policy{action.capitalize()}",
                              f"healthy/none -> {level}/{action}: {reason}; 1 workload(s) held")]
    cause = level.split("-")[0] if level != "exhausted" else None
    assert status.get("cause") == cause
    if cause:
        assert status["causePercent"] == pytest.approx(by_cause[cause] * 100)


def test_a_restriction_by_the_releases_share_is_denied_with_the_causes_figure():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster)
    svc.note_slo(rt.state, slo_by_cause(45.0, {"releases": 0.35, "maintenance": 0.1, "incidents": 0.1}),
                 deleted=False)
    svc.reconcile(rt, policy(levels=SEED_ALLOCATION_LEVELS), NOW)
    release = cluster.obj("ErrorBudgetHold", POLICY)["spec"]["messages"]["release"]
    assert release.startswith(
        f"releases are restricted by ErrorBudgetPolicy {NS}/{POLICY}: releases spent 35.0% of SLO {SLO}'s "
        f"error budget, 45.0% left (level releases-over-share). ")


def test_a_missing_budget_by_cause_triggers_nothing_and_is_reported_unknown_not_zero():
    cluster = cluster_with_checkout()
    rt, events, _ = runtime(cluster)
    svc.note_slo(rt.state, slo_by_cause(45.0, None), deleted=False)

    state = svc.reconcile(rt, policy(levels=SEED_ALLOCATION_LEVELS), NOW)

    assert state is not None and state.action == "none"
    assert state.reason == (f"every SLO is above its levels (lowest: {SLO} with 45.0% left); budget by cause "
                            f"unknown for {SLO}: its levels cannot trigger")
    status = cluster.obj("ErrorBudgetPolicy", POLICY)["status"]
    assert status["causesUnknown"] == [SLO]
    known = next(x for x in status["conditions"] if x["type"] == "ByCauseKnown")
    assert (known["status"], known["reason"]) == ("False", "ByCauseUnknown")
    assert SLO in known["message"]
    assert hold_metadata(cluster, "checkout") == ({}, {}) and events.posted == []


def test_a_hold_decided_by_a_cause_does_not_lift_when_the_figure_goes_missing():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster)
    svc.note_slo(rt.state, slo_by_cause(45.0, {"releases": 0.35, "maintenance": 0.1, "incidents": 0.1}),
                 deleted=False)
    first = svc.reconcile(rt, policy(levels=SEED_ALLOCATION_LEVELS), NOW)
    assert first is not None and first.action == "restrict"
    status = cluster.obj("ErrorBudgetPolicy", POLICY)["status"]

    svc.note_slo(rt.state, slo_by_cause(45.0, None), deleted=False)
    state = svc.reconcile(rt, policy(levels=SEED_ALLOCATION_LEVELS, status=status), LATER)
    assert state is not None and (state.action, state.level, state.reason) == ("restrict", first.level, first.reason)
    assert state.since == NOW
    assert cluster.obj("ErrorBudgetPolicy", POLICY)["status"]["causesUnknown"] == [SLO]

    svc.note_slo(rt.state, slo_by_cause(45.0, {"releases": 0.2, "maintenance": 0.1, "incidents": 0.1}),
                 deleted=False)
    lifted = svc.reconcile(rt, policy(levels=SEED_ALLOCATION_LEVELS,
                                      status=cluster.obj("ErrorBudgetPolicy", POLICY)["status"]), LATER)
    assert lifted is not None and lifted.action == "none"
    assert hold_metadata(cluster, "checkout") == ({}, {})


def test_a_policy_without_levels_on_a_cause_has_no_by_cause_condition():
    cluster = cluster_with_checkout()
    rt, _, _ = runtime(cluster)
    svc.note_slo(rt.state, slo_by_cause(45.0, None), deleted=False)
    svc.reconcile(rt, policy(), NOW)
    status = cluster.obj("ErrorBudgetPolicy", POLICY)["status"]
    assert [x["type"] for x in status["conditions"]] == ["Ready"]
    assert "causesUnknown" not in status


def test_budget_by_cause_is_read_as_percent_of_the_budget():
    budget = svc.budget_from_status(SLO, {"budget": {"remainingPercent": 40.0,
                                                     "byCause": {"releases": 0.35, "maintenance": 0.05,
                                                                 "incidents": 0.2}}})
    assert dict(budget.by_cause or {}) == pytest.approx({"releases": 35.0, "maintenance": 5.0, "incidents": 20.0})
    assert svc.budget_from_status(SLO, {"budget": {"remainingPercent": 40.0}}).by_cause is None


def test_a_first_budget_by_cause_asks_for_a_re_evaluation():
    st = svc.PolicyState()
    body = slo(SLO, None)
    body["status"] = {"budget": {"byCause": {"releases": 0.35, "maintenance": 0.0, "incidents": 0.0}}}
    assert svc.note_slo(st, body, deleted=False) is True


@pytest.mark.parametrize(("level", "message"), [
    ({"name": "both", "remainingBelow": 10, "when": {"cause": "releases", "consumedAbove": 30}, "action": "restrict"},
     "give exactly one of remainingBelow or when"),
    ({"name": "neither", "action": "restrict"}, "give exactly one of remainingBelow or when"),
    ({"name": "deploys", "when": {"cause": "deploys", "consumedAbove": 30}, "action": "restrict"},
     "'releases', 'maintenance' or 'incidents'"),
    ({"name": "negative", "when": {"cause": "releases", "consumedAbove": -1}, "action": "restrict"},
     "greater than or equal to 0"),
])
def test_a_level_with_a_wrong_trigger_is_refused_naming_its_path(level, message):
    from sloguard.api.policy import parse_policy

    spec, diagnostics = parse_policy(policy(levels=[level]))
    assert spec is None
    errors = [d for d in diagnostics if d.severity == "error"]
    assert errors and all(d.path.startswith("spec.levels[0]") for d in errors), errors
    assert any(message in d.message for d in errors), errors


def test_the_allocation_example_is_the_seeds_allocation_and_the_table_tested_here():
    from pathlib import Path

    import yaml

    from sloguard.core.causes import SEED_ALLOCATION

    example = yaml.safe_load((Path(__file__).parents[2] / "examples" / "allocation-policy.yaml").read_text())
    levels = example["spec"]["levels"]
    assert {x["when"]["cause"]: x["when"]["consumedAbove"] for x in levels if "when" in x} == SEED_ALLOCATION
    assert levels == SEED_ALLOCATION_LEVELS

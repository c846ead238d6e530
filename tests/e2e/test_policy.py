"""Error budget policies against a real API server: holds, ValidatingAdmissionPolicy enforcement, recovery.

Budgets are driven by patching the SLO's status directly (``kubectl patch --subresource=status``),
exactly what the budget refresher writes; the Prometheus -> status path is tested elsewhere.
Users are impersonated (``kubectl --as/--as-group``) and get their rights from real RBAC:
``bob`` may edit deployments, ``alice`` may also ``override`` the policy, ``carol`` may ``approve``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ..support import factories
from ..support.cluster import apply, condition, free_port, get_json
from ..support.operator import operator_runner
from .conftest import TestCluster
from .holds import enforcement, hold_params, install_hold_policy

NS = "e2e-policy"
POLICY = "checkout-freeze"
SLO_NAME = "checkout-availability"
BOB = ("--as=bob", "--as-group=devs")
ALICE = ("--as=alice", "--as-group=devs")
CAROL = ("--as=carol", "--as-group=devs")


def deployment(name: str, image: str = "nginx:1.25", app: str = "checkout") -> dict:
    return factories.deployment(name, NS, {"app": app}, image=image)


def policy(**enforcement: str) -> dict:
    spec = {"slos": [SLO_NAME], "targets": [{"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"}}}],
            "recovery": {"unfreezeAbove": 10}}
    if enforcement:
        spec["enforcement"] = enforcement
    return factories.policy(POLICY, NS, spec)


def set_budget(cluster: TestCluster, remaining_percent: float, burn_1h: float = 1.0) -> None:
    state = ("exhausted" if remaining_percent <= 0 else "critical" if remaining_percent < 10
             else "warning" if remaining_percent < 25 else "healthy")
    status = {"budget": {"remaining": remaining_percent / 100, "remainingPercent": remaining_percent},
              "burnRates": {"1h": burn_1h}, "state": state, "lastEvaluated": "2025-03-11T00:00:00Z"}
    cluster.kubectl("patch", "slo", "-n", NS, SLO_NAME, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": status}))


def policy_status(cluster: TestCluster) -> dict:
    return get_json(cluster, "ebp", "-n", NS, POLICY).get("status", {})


def hold_label(cluster: TestCluster, name: str = "checkout") -> str | None:
    return (get_json(cluster, "deployment", "-n", NS, name)["metadata"].get("labels") or {}).get("sloguard.io/hold")


def wait_action(cluster: TestCluster, action: str, label: str | None) -> None:
    cluster.wait_until(lambda: policy_status(cluster).get("action") == action and hold_label(cluster) == label,
                       timeout=60, what=f"action {action} and hold label {label}")


def set_image(cluster: TestCluster, image: str, *who: str, name: str = "checkout"):
    return cluster.kubectl(*who, "set", "image", "-n", NS, f"deployment/{name}", f"app={image}", check=False)


def image_of(cluster: TestCluster, name: str = "checkout") -> str:
    return get_json(cluster, "deployment", "-n", NS, name)["spec"]["template"]["spec"]["containers"][0]["image"]


def eventually_denied(cluster: TestCluster, image: str, *who: str, name: str = "checkout") -> str:
    """Wait (with server-side dry runs, which admission sees too) until the hold is enforced; then the real try.

    A new admission policy takes a moment to reach the API server's informer.
    """
    def denied() -> bool:
        proc = cluster.kubectl(*who, "set", "image", "-n", NS, f"deployment/{name}", f"app={image}",
                               "--dry-run=server", check=False)
        return proc.returncode != 0 and "ErrorBudgetPolicy" in proc.stderr

    cluster.wait_until(denied, timeout=30, what=f"a denial of {image}")
    proc = set_image(cluster, image, *who, name=name)
    assert proc.returncode != 0, proc.stderr
    return proc.stderr


RBAC = [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "deployer", "namespace": NS},
     "rules": [{"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"],
                "verbs": ["get", "list", "watch", "create", "update", "patch"]},
               {"apiGroups": ["sloguard.io"], "resources": ["errorbudgetpolicies"], "verbs": ["get", "list"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "devs-deploy", "namespace": NS},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "overrider", "namespace": NS},
     "rules": [{"apiGroups": ["sloguard.io"], "resources": ["errorbudgetpolicies"], "resourceNames": [POLICY],
                "verbs": ["override"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "alice-override", "namespace": NS},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "overrider"},
     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "approver", "namespace": NS},
     "rules": [{"apiGroups": ["sloguard.io"], "resources": ["errorbudgetpolicies"], "resourceNames": [POLICY],
                "verbs": ["approve"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "carol-approve", "namespace": NS},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "approver"},
     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "carol"}]},
]


@pytest.fixture(scope="module")
def setup(cluster: TestCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("policy-operator")
    cluster.kubectl("create", "namespace", NS)
    install_hold_policy(cluster)  # what the chart installs
    apply(cluster, *RBAC)
    slo = {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
           "metadata": {"name": SLO_NAME, "namespace": NS},
           "spec": {"service": "checkout", "objective": 99.9,
                    "sli": {"ratio": {"errors": 'http_requests_total{job="checkout",code=~"5.."}',
                                      "total": 'http_requests_total{job="checkout"}'}}}}
    apply(cluster, slo, deployment("checkout"), deployment("other", app="other"))
    set_budget(cluster, 80.0)
    env = {
        "SLOGUARD_WEBHOOK": "true",
        "SLOGUARD_WEBHOOK_HOST": "127.0.0.1",
        "SLOGUARD_WEBHOOK_LISTEN": "127.0.0.1",
        "SLOGUARD_WEBHOOK_PORT": str(free_port()),
        "SLOGUARD_WEBHOOK_CERT_DIR": str(tmp / "webhook-certs"),
        "SLOGUARD_CONFIGURATION_NAME": "sloguard-e2e-policy",
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        runner = operator_runner()
        with runner:
            apply(cluster, policy())
            cluster.wait_until(lambda: policy_status(cluster).get("level") == "healthy", timeout=60,
                               what="the policy evaluated as healthy")
            yield tmp
            cluster.kubectl("delete", "ebp", "-n", NS, POLICY, "--ignore-not-found")
            cluster.wait_until(lambda: not hold_params(cluster, NS, POLICY), timeout=30,
                               what="the ErrorBudgetHold garbage-collected with its ErrorBudgetPolicy")
        cluster.kubectl("delete", "validatingwebhookconfiguration", "sloguard-e2e-policy",
                        "sloguard-e2e-policy-holds", "--ignore-not-found")
    assert runner.exception is None, runner.exception


def test_an_exhausted_budget_freezes_the_targets_and_only_them(cluster, setup):
    set_budget(cluster, -5.0)
    wait_action(cluster, "freeze", "freeze")
    meta = get_json(cluster, "deployment", "-n", NS, "checkout", "--show-managed-fields")["metadata"]
    assert meta["annotations"]["sloguard.io/hold-policy"] == POLICY
    assert "SLO checkout-availability has -5.0%" in meta["annotations"]["sloguard.io/hold-reason"]
    hold_managers = [m for m in meta["managedFields"] if "sloguard.io/hold" in json.dumps(m.get("fieldsV1", {}))]
    assert [m["manager"] for m in hold_managers] == ["sloguard-holds"]
    assert "f:spec" not in json.dumps(hold_managers[0]["fieldsV1"])  # Argo CD sees no drift in its fields
    assert hold_label(cluster, "other") is None
    status = policy_status(cluster)
    assert (status["level"], status["held"], status["heldTargets"]) == ("exhausted", 1,
                                                                        [{"kind": "Deployment", "name": "checkout"}])
    assert status["transitions"][-1]["toAction"] == "freeze"
    table = cluster.kubectl("get", "ebp", "-n", NS).stdout.split()
    assert table[:6] == ["NAME", "LEVEL", "ACTION", "HELD", "READY", "AGE"]
    assert table[6:11] == [POLICY, "exhausted", "freeze", "1", "True"]
    events = cluster.kubectl("get", "events", "-n", NS, "--field-selector",
                             f"involvedObject.name={POLICY}", "-o", "json").stdout
    assert "PolicyFreeze" in events


def test_a_release_is_denied_with_a_message_naming_policy_slo_budget_and_the_way_out(cluster, setup):
    stderr = eventually_denied(cluster, "nginx:1.26", *BOB)
    assert ("Deployment e2e-policy/checkout: releases are frozen by ErrorBudgetPolicy e2e-policy/checkout-freeze: "
            "SLO checkout-availability has -5.0% of its error budget left (level exhausted)") in stderr
    assert "sloguard.io/exception: <class> with one of security-fix, reliability-fix, rollback" in stderr
    assert "'override' on errorbudgetpolicies/checkout-freeze" in stderr
    assert image_of(cluster) == "nginx:1.25"


def test_an_argo_style_server_side_apply_of_a_new_image_is_denied(cluster, setup):
    eventually_denied(cluster, "nginx:1.26", *BOB)
    proc = cluster.kubectl(*BOB, "apply", "--server-side", "--field-manager=argocd-controller", "--force-conflicts",
                           "-f", "-", input=yaml.safe_dump(deployment("checkout", image="nginx:1.27")), check=False)
    assert proc.returncode != 0 and "releases are frozen" in proc.stderr
    assert image_of(cluster) == "nginx:1.25"


def test_scaling_and_metadata_changes_are_allowed_under_a_freeze(cluster, setup):
    eventually_denied(cluster, "nginx:1.26", *BOB)
    cluster.kubectl(*BOB, "scale", "-n", NS, "deployment/checkout", "--replicas=3")
    cluster.kubectl(*BOB, "label", "-n", NS, "deployment/checkout", "team=payments")
    assert get_json(cluster, "deployment", "-n", NS, "checkout")["spec"]["replicas"] == 3


def test_removing_or_changing_the_hold_label_is_denied(cluster, setup):
    eventually_denied(cluster, "nginx:1.26", *BOB)
    proc = cluster.kubectl(*BOB, "label", "-n", NS, "deployment/checkout", "sloguard.io/hold-", check=False)
    assert proc.returncode != 0 and "labels and annotations on a held workload are managed by sloguard" in proc.stderr
    proc = cluster.kubectl(*ALICE, "annotate", "--overwrite", "-n", NS, "deployment/checkout",
                           "sloguard.io/hold-policy=nothing", check=False)
    assert proc.returncode != 0
    assert hold_label(cluster) == "freeze"


def test_a_release_declaring_an_allowed_exception_class_passes(cluster, setup):
    eventually_denied(cluster, "nginx:1.26", *BOB)
    patch = {"metadata": {"annotations": {"sloguard.io/exception": "not-a-class"}},
             "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.26"}]}}}}
    proc = cluster.kubectl(*BOB, "patch", "-n", NS, "deployment/checkout", "--type=strategic",
                           "-p", json.dumps(patch), check=False)
    assert proc.returncode != 0 and "releases are frozen" in proc.stderr
    patch["metadata"]["annotations"]["sloguard.io/exception"] = "security-fix"
    cluster.kubectl(*BOB, "patch", "-n", NS, "deployment/checkout", "--type=strategic", "-p", json.dumps(patch))
    assert image_of(cluster) == "nginx:1.26"
    cluster.kubectl(*BOB, "annotate", "-n", NS, "deployment/checkout", "sloguard.io/exception-")


def test_override_comes_from_rbac_alice_may_bob_may_not(cluster, setup):
    eventually_denied(cluster, "nginx:1.27", *BOB)
    assert set_image(cluster, "nginx:1.27", *ALICE).returncode == 0
    assert image_of(cluster) == "nginx:1.27"


def test_creating_a_matching_workload_is_a_release(cluster, setup):
    proc = cluster.kubectl(*BOB, "apply", "-f", "-", input=yaml.safe_dump(deployment("checkout-canary")), check=False)
    assert proc.returncode != 0 and "releases are frozen" in proc.stderr
    cluster.kubectl(*BOB, "apply", "-f", "-", input=yaml.safe_dump(deployment("unrelated", app="unrelated")))


def test_recovery_releases_only_above_the_hysteresis(cluster, setup):
    set_budget(cluster, 5.0)  # "critical" by the table, but the freeze holds until above 10%
    cluster.wait_until(lambda: "freeze holds until" in (policy_status(cluster).get("reason") or ""), timeout=60,
                       what="the hysteresis reason")
    assert hold_label(cluster) == "freeze"
    assert set_image(cluster, "nginx:1.28", *BOB).returncode != 0
    set_budget(cluster, 15.0)  # above 10%: the freeze lifts; 15% is still "warning" -> scrutiny
    wait_action(cluster, "scrutiny", "scrutiny")

    def warned() -> bool:
        proc = set_image(cluster, "nginx:1.28", *BOB)
        return proc.returncode == 0 and "increased scrutiny" in proc.stderr

    cluster.wait_until(warned, timeout=30, what="a release allowed with a scrutiny warning")
    set_budget(cluster, 80.0)
    wait_action(cluster, "none", None)
    meta = get_json(cluster, "deployment", "-n", NS, "checkout")["metadata"]
    assert not [k for k in meta.get("annotations", {}) if k.startswith("sloguard.io/hold")]
    cluster.wait_until(lambda: enforcement(cluster, NS, POLICY) == "none", timeout=30,
                       what="the hold read by no binding any more")
    assert set_image(cluster, "nginx:1.29", *BOB).returncode == 0
    assert [t["toAction"] for t in policy_status(cluster)["transitions"][-3:]] == ["freeze", "scrutiny", "none"]


def test_restrict_needs_approve_or_override(cluster, setup):
    set_budget(cluster, 5.0)  # from healthy: critical -> restrict (no freeze to hold)
    wait_action(cluster, "restrict", "restrict")
    stderr = eventually_denied(cluster, "nginx:1.30", *BOB)
    assert "releases are restricted by ErrorBudgetPolicy e2e-policy/checkout-freeze" in stderr
    assert "'approve' or 'override'" in stderr
    assert set_image(cluster, "nginx:1.30", *CAROL).returncode == 0


def test_warn_mode_lets_the_release_through_with_the_message_as_a_warning(cluster, setup):
    set_budget(cluster, -1.0)
    apply(cluster, policy(mode="warn"))
    wait_action(cluster, "freeze", "freeze")

    def warned() -> bool:
        proc = set_image(cluster, "nginx:1.31", *BOB)
        return proc.returncode == 0 and "releases are frozen" in proc.stderr

    cluster.wait_until(warned, timeout=30, what="a release allowed with the denial as a warning")


def test_dry_run_mode_only_audits(cluster, setup):
    apply(cluster, policy(mode="dryRun"))
    cluster.wait_until(lambda: enforcement(cluster, NS, POLICY) == "Audit", timeout=30,
                       what="the hold read by the Audit binding")

    def silent() -> bool:
        proc = set_image(cluster, "nginx:1.32", *BOB)
        return proc.returncode == 0 and "ErrorBudgetPolicy" not in proc.stderr

    cluster.wait_until(silent, timeout=30, what="a release allowed without a warning")
    assert hold_label(cluster) == "freeze"


def test_the_webhook_mechanism_makes_the_same_decisions_and_records_exemptions(cluster, setup):
    apply(cluster, policy(mechanism="webhook", failurePolicy="Fail"))
    cluster.wait_until(lambda: cluster.exists("validatingwebhookconfiguration", "sloguard-e2e-policy-holds")
                       and enforcement(cluster, NS, POLICY) == "none",
                       timeout=60, what="the holds webhook in place of the admission policy")
    config = get_json(cluster, "validatingwebhookconfiguration", "sloguard-e2e-policy-holds")
    assert {w["timeoutSeconds"] for w in config["webhooks"]} == {5}  # the webhook timeout setting, 5 s by default
    assert {w["failurePolicy"] for w in config["webhooks"]} == {"Fail"}
    stderr = eventually_denied(cluster, "nginx:1.40", *BOB)
    assert ("Deployment e2e-policy/checkout: releases are frozen by ErrorBudgetPolicy e2e-policy/checkout-freeze: "
            "SLO checkout-availability has -1.0% of its error budget left (level exhausted)") in stderr
    proc = cluster.kubectl(*BOB, "label", "-n", NS, "deployment/checkout", "sloguard.io/hold-", check=False)
    assert proc.returncode != 0 and "managed by sloguard" in proc.stderr
    cluster.kubectl(*BOB, "scale", "-n", NS, "deployment/checkout", "--replicas=2")
    proc = set_image(cluster, "nginx:1.41", *ALICE)
    assert proc.returncode == 0 and "by 'override' of alice" in proc.stderr
    generation = get_json(cluster, "deployment", "-n", NS, "checkout")["metadata"]["generation"]
    # recorded by the operator's watch (a watch event names no user; the API server's audit log does)
    cluster.wait_until(lambda: any(e["name"] == "checkout" and e["exemption"] == "override"
                                   and e["generation"] == generation
                                   for e in policy_status(cluster).get("exemptions") or []),
                       timeout=30, what="the override recorded in policy status")


# --- A level on a cause's share of the budget (status.budget.byCause) ---------------------------------

CAUSE_POLICY = "release-share"
#: The seed's budget allocation as levels (docs/examples: releases 30%, maintenance 20%, incidents 50%).
ALLOCATION_LEVELS = [
    {"name": "exhausted", "remainingBelow": 0, "action": "freeze"},
    {"name": "releases-over-share", "when": {"cause": "releases", "consumedAbove": 30}, "action": "restrict"},
    {"name": "maintenance-over-share", "when": {"cause": "maintenance", "consumedAbove": 20}, "action": "scrutiny"},
    {"name": "incidents-over-share", "when": {"cause": "incidents", "consumedAbove": 50}, "action": "scrutiny"},
]


def set_by_cause(cluster: TestCluster, by_cause: dict | None) -> None:
    """status.budget.byCause as the budget loop writes it (fractions of the budget; None removes it)."""
    cluster.kubectl("patch", "slo", "-n", NS, SLO_NAME, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": {"budget": {"byCause": by_cause}}}))


def cause_policy_status(cluster: TestCluster) -> dict:
    return get_json(cluster, "ebp", "-n", NS, CAUSE_POLICY).get("status", {})


def test_a_level_with_both_triggers_is_refused_by_the_api_server_naming_the_level(cluster, setup):
    both = {"name": "both", "remainingBelow": 10, "when": {"cause": "releases", "consumedAbove": 30},
            "action": "restrict"}
    proc = cluster.kubectl("apply", "--dry-run=server", "-f", "-", check=False, input=json.dumps(factories.policy(
        "both-triggers", NS, {"slos": [SLO_NAME], "levels": [both], "targets": [
            {"kind": "Deployment", "selector": {"matchLabels": {"app": "payments"}}}]})))
    assert proc.returncode != 0
    assert "spec.levels[0]: Invalid value" in proc.stderr, proc.stderr
    assert "give exactly one of remainingBelow or when" in proc.stderr


def test_a_level_on_the_releases_share_restricts_its_targets_and_lifts_below_it(cluster, setup):
    set_budget(cluster, 80.0)
    set_by_cause(cluster, None)
    apply(cluster, deployment("payments", app="payments"),
          factories.policy(CAUSE_POLICY, NS, {
              "slos": [SLO_NAME], "levels": ALLOCATION_LEVELS,
              "targets": [{"kind": "Deployment", "selector": {"matchLabels": {"app": "payments"}}}]}))
    try:
        # no byCause yet: nothing triggers, and the policy says the figure is unknown (not 0)
        cluster.wait_until(lambda: cause_policy_status(cluster).get("causesUnknown") == [SLO_NAME], timeout=60,
                           what="the cause policy evaluated without byCause")
        status = cause_policy_status(cluster)
        assert status["action"] == "none"
        assert condition(status, "ByCauseKnown")["status"] == "False"

        set_by_cause(cluster, {"releases": 0.35, "maintenance": 0.05, "incidents": 0.1})
        cluster.wait_until(lambda: cause_policy_status(cluster).get("action") == "restrict"
                           and hold_label(cluster, "payments") == "restrict", timeout=60,
                           what="the releases share restricting payments")
        status = cause_policy_status(cluster)
        assert (status["level"], status["cause"], status["causePercent"]) == ("releases-over-share", "releases", 35.0)
        assert condition(status, "ByCauseKnown")["status"] == "True"
        wide = cluster.kubectl("get", "ebp", "-n", NS, CAUSE_POLICY, "-o", "wide").stdout.split("\n")
        row = dict(zip(wide[0].split(), wide[1].split(), strict=False))
        assert (row["LEVEL"], row["ACTION"], row["CAUSE"]) == ("releases-over-share", "restrict", "releases")
        stderr = eventually_denied(cluster, "nginx:1.50", *BOB, name="payments")
        assert (f"Deployment {NS}/payments: releases are restricted by ErrorBudgetPolicy {NS}/{CAUSE_POLICY}: "
                f"releases spent 35.0% of SLO {SLO_NAME}'s error budget, 80.0% left (level releases-over-share)"
                ) in stderr
        assert hold_label(cluster, "checkout") is None  # the other policy's targets are not this one's

        set_by_cause(cluster, {"releases": 0.2, "maintenance": 0.05, "incidents": 0.1})
        cluster.wait_until(lambda: cause_policy_status(cluster).get("action") == "none"
                           and hold_label(cluster, "payments") is None, timeout=60,
                           what="the restriction lifted below the releases share")
        cluster.wait_until(lambda: set_image(cluster, "nginx:1.51", *BOB, name="payments").returncode == 0,
                           timeout=30, what="bob's release of payments allowed again")
    finally:
        cluster.kubectl("delete", "ebp", "-n", NS, CAUSE_POLICY, "--ignore-not-found")
        set_by_cause(cluster, None)

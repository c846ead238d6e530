"""Governed policies, attacked: a namespace admin without ``override`` tries to lift a freeze by
editing or deleting the ErrorBudgetPolicy instead of passing it (issue #10, item 3).

Everything runs on the local control plane with the chart's own objects (the governance
ValidatingAdmissionPolicy and the aggregated user roles, rendered by helm). Users are
impersonated and get their rights from real RBAC only:

* ``bob`` (group ``devs``) is bound to the built-in ``admin`` ClusterRole in the namespace: through
  the chart's aggregated ``sloguard-admin`` he may create, patch and delete ErrorBudgetPolicies and
  edit Deployments — but he has no ``override``.
* ``alice`` is bound to ``admin`` and to the chart's ``sloguard-freeze-override``.

Two parts: every edit of the table in ``governance_cases`` against the API server (the policy's
status set to ``freeze`` as the operator writes it, requests as server-side dry runs), and the
attack itself with the operator running, the budget exhausted and the Deployment frozen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from ..e2e.conftest import TestCluster
from ..e2e.holds import install_hold_policy
from ..support.cluster import get_json
from ..support.operator import operator_runner
from .chart_objects import apply_chart_objects
from .governance_cases import BASE, CASES, Case
from .kit import (
    ALICE,
    BOB,
    can_i,
    deployment,
    expected_denial,
    policy,
    rbac,
    replace_spec,
    set_budget,
    set_policy_status,
    slo,
)
from .kit import set_image as kit_set_image

pytestmark = pytest.mark.e2e

NS = "sec-governance"
CEL_NS = "sec-governance-cel"
POLICY = "checkout-freeze"


@pytest.fixture(scope="module")
def chart(cluster: TestCluster, helm: str) -> list[dict]:
    docs = apply_chart_objects(cluster, helm)
    for ns in (NS, CEL_NS):
        cluster.kubectl("create", "namespace", ns)
        cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(rbac(ns)))
    # The controller-manager aggregates the chart's sloguard-admin into the built-in admin role.
    cluster.wait_until(lambda: can_i(cluster, "patch", "errorbudgetpolicies.sloguard.io", CEL_NS, *BOB),
                       timeout=60, what="bob's admin role to include ErrorBudgetPolicies (aggregation)")
    return docs


# --- the table: one holding policy per case, every edit as a server-side dry run --------------

@pytest.fixture(scope="module")
def holding_policies(cluster: TestCluster, chart) -> dict[str, str]:
    names = {case.id: f"p{i}" for i, case in enumerate(CASES)}
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(
        [policy(names[c.id], CEL_NS, c.old) for c in CASES]))
    for case in CASES:
        set_policy_status(cluster, CEL_NS, names[case.id], "freeze")
    # A new admission policy takes a moment to reach the API server's informer.
    first = next(c for c in CASES if c.weakened)
    cluster.wait_until(lambda: replace_spec(cluster, CEL_NS, names[first.id], first.new, *BOB).returncode != 0,
                       timeout=30, what="the governance policy to be enforced")
    return names


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_an_edit_of_a_frozen_policy_without_override_is_refused_exactly_when_it_weakens(cluster, holding_policies,
                                                                                      case: Case):
    name = holding_policies[case.id]
    proc = replace_spec(cluster, CEL_NS, name, case.new, *BOB)
    if case.weakened:
        assert proc.returncode != 0, f"{case.id}: admitted"
        assert expected_denial(CEL_NS, name, "freeze", case.weakened) in proc.stderr, proc.stderr
        assert "ValidatingAdmissionPolicy 'sloguard-policy-governance'" in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr


def test_the_override_holder_may_make_every_weakening(cluster, holding_policies):
    for case in CASES:
        proc = replace_spec(cluster, CEL_NS, holding_policies[case.id], case.new, *ALICE)
        assert proc.returncode == 0, f"{case.id}: {proc.stderr}"


@pytest.mark.parametrize("action", ["scrutiny", "restrict", "emergency"])
def test_every_holding_action_is_governed_not_only_freeze(cluster, holding_policies, action):
    case = next(c for c in CASES if c.id == "mode-dryRun")
    name = holding_policies[case.id]
    set_policy_status(cluster, CEL_NS, name, action)
    try:
        proc = replace_spec(cluster, CEL_NS, name, case.new, *BOB)
        assert proc.returncode != 0 and expected_denial(CEL_NS, name, action, case.weakened) in proc.stderr
    finally:
        set_policy_status(cluster, CEL_NS, name, "freeze")


def test_a_policy_that_holds_nothing_stays_free_to_weaken_and_delete(cluster, chart):
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(policy("idle", CEL_NS, BASE)))
    set_policy_status(cluster, CEL_NS, "idle", "none")
    proc = replace_spec(cluster, CEL_NS, "idle", {**BASE, "enforcement": {"mode": "dryRun"}}, *BOB, dry_run=False)
    assert proc.returncode == 0, proc.stderr
    assert get_json(cluster, "ebp", "-n", CEL_NS, "idle")["spec"]["enforcement"] == {"mode": "dryRun"}
    proc = cluster.kubectl(*BOB, "delete", "ebp", "-n", CEL_NS, "idle", check=False)
    assert proc.returncode == 0, proc.stderr


def test_a_policy_admin_cannot_reset_the_hold_by_writing_status(cluster, holding_policies):
    assert can_i(cluster, "patch", "errorbudgetpolicies.sloguard.io", CEL_NS, *BOB)  # the check below means something
    assert not can_i(cluster, "patch", "errorbudgetpolicies.sloguard.io", CEL_NS, *BOB, "--subresource=status")
    proc = cluster.kubectl(*BOB, "patch", "ebp", "-n", CEL_NS, "p0", "--subresource=status", "--type=merge",
                           "-p", '{"status": {"action": "none"}}', check=False)
    assert proc.returncode != 0 and "forbidden" in proc.stderr.lower(), proc.stderr


def test_deleting_the_whole_collection_is_refused_per_holding_policy(cluster, holding_policies):
    collection = f"/apis/sloguard.io/v1alpha1/namespaces/{CEL_NS}/errorbudgetpolicies"
    proc = cluster.kubectl(*BOB, "delete", "--raw", collection, check=False)
    assert proc.returncode != 0
    assert f"ErrorBudgetPolicy {CEL_NS}/p" in proc.stderr and "deleting it needs 'override'" in proc.stderr
    left = {i["metadata"]["name"] for i in get_json(cluster, "ebp", "-n", CEL_NS)["items"]}
    assert set(holding_policies.values()) <= left


# --- the attack, with the operator: budget exhausted, Deployment frozen ------------------------

def policy_status(cluster: TestCluster) -> dict:
    return get_json(cluster, "ebp", "-n", NS, POLICY).get("status", {})


def set_image(cluster: TestCluster, image: str, *who: str, dry_run: bool = False):
    return kit_set_image(cluster, NS, image, *who, dry_run=dry_run)


@pytest.fixture(scope="module")
def frozen(cluster: TestCluster, chart) -> Iterator[None]:
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([slo(NS), deployment(NS)]))
    set_budget(cluster, NS, -5.0)
    install_hold_policy(cluster)  # the chart's hold policy, which the operator's ErrorBudgetHolds parameterise
    runner = operator_runner(NS)
    with runner:
        cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(policy(POLICY, NS, BASE)))
        cluster.wait_until(lambda: policy_status(cluster).get("action") == "freeze", timeout=60,
                           what="the policy to freeze")
        cluster.wait_until(lambda: set_image(cluster, "nginx:1.26", *BOB, dry_run=True).returncode != 0,
                           timeout=30, what="releases of checkout to be refused")
        yield
        cluster.kubectl("delete", "ebp", "-n", NS, POLICY, "--ignore-not-found")
    assert runner.exception is None, runner.exception


ATTACKS = {
    "levels-remainingBelow-minus-1000": (
        {"spec": {"levels": [{"name": "exhausted", "remainingBelow": -1000, "action": "freeze"}]}}, "spec.levels"),
    "mode-dryRun": ({"spec": {"enforcement": {"mode": "dryRun"}}}, "spec.enforcement.mode"),
    "extra-class-feature": ({"spec": {"exceptions": {"classes": ["security-fix", "reliability-fix", "rollback",
                                                                 "feature"]}}}, "spec.exceptions.classes"),
}


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_a_policy_admin_without_override_cannot_weaken_the_freeze(cluster, frozen, attack):
    patch, path = ATTACKS[attack]
    proc = cluster.kubectl(*BOB, "patch", "ebp", "-n", NS, POLICY, "--type=merge", "-p", json.dumps(patch),
                           check=False)
    assert proc.returncode != 0, f"{attack} admitted"
    assert expected_denial(NS, POLICY, "freeze", (path,)) in proc.stderr, proc.stderr
    assert get_json(cluster, "ebp", "-n", NS, POLICY)["spec"] == BASE
    refused = set_image(cluster, "nginx:1.26", *BOB)
    assert refused.returncode != 0 and "releases are frozen" in refused.stderr, refused.stderr


def test_a_policy_admin_without_override_cannot_delete_the_freeze(cluster, frozen):
    proc = cluster.kubectl(*BOB, "delete", "ebp", "-n", NS, POLICY, check=False)
    assert proc.returncode != 0
    assert (f"ErrorBudgetPolicy {NS}/{POLICY} is holding (freeze): deleting it needs 'override' on "
            f"errorbudgetpolicies/{POLICY} in {NS}.") in proc.stderr, proc.stderr
    assert cluster.exists("ebp", "-n", NS, POLICY)
    assert policy_status(cluster)["action"] == "freeze"
    refused = set_image(cluster, "nginx:1.26", *BOB)
    assert refused.returncode != 0 and "releases are frozen" in refused.stderr, refused.stderr


def test_the_same_admin_may_tighten_the_frozen_policy(cluster, frozen):
    tighter = {"levels": [{"name": "exhausted", "remainingBelow": 5, "action": "freeze"},
                          {"name": "critical", "remainingBelow": 15, "action": "restrict"},
                          {"name": "warning", "remainingBelow": 30, "action": "scrutiny"}],
               "exceptions": {"classes": ["security-fix"]}, "recovery": {"unfreezeAbove": 20}}
    proc = cluster.kubectl(*BOB, "patch", "ebp", "-n", NS, POLICY, "--type=merge", "-p",
                           json.dumps({"spec": tighter}), check=False)
    assert proc.returncode == 0, proc.stderr
    spec = get_json(cluster, "ebp", "-n", NS, POLICY)["spec"]
    assert spec["levels"][0]["remainingBelow"] == 5 and spec["exceptions"]["classes"] == ["security-fix"]
    cluster.wait_until(lambda: policy_status(cluster).get("observedGeneration")
                       == get_json(cluster, "ebp", "-n", NS, POLICY)["metadata"]["generation"],
                       timeout=30, what="the operator to evaluate the tightened policy")
    assert policy_status(cluster)["action"] == "freeze"


def test_an_override_holder_may_weaken_the_freeze_and_releases_then_pass(cluster, frozen):
    proc = cluster.kubectl(*ALICE, "patch", "ebp", "-n", NS, POLICY, "--type=merge", "-p",
                           json.dumps({"spec": {"enforcement": {"mode": "dryRun"}}}), check=False)
    assert proc.returncode == 0, proc.stderr
    cluster.wait_until(lambda: set_image(cluster, "nginx:1.26", *BOB, dry_run=True).returncode == 0,
                       timeout=60, what="the dry-run policy to stop refusing releases")
    proc = cluster.kubectl(*ALICE, "delete", "ebp", "-n", NS, POLICY, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("classes", [["", "rollback"], ["rollback", " "], ["Feature Work"]], ids=["empty", "blank",
                                                                                                  "not-a-name"])
def test_an_exception_class_must_be_a_non_empty_name(cluster, chart, classes):
    """An empty class matched every release without the annotation: the CRD schema refuses it for anyone."""
    bad = policy("classes", CEL_NS, {**BASE, "exceptions": {"classes": classes}})
    proc = cluster.kubectl(*BOB, "apply", "-f", "-", input=json.dumps(bad), check=False)
    assert proc.returncode != 0
    index = next(i for i, c in enumerate(classes) if c not in ("rollback",))
    assert f"spec.exceptions.classes[{index}]" in proc.stderr, proc.stderr
    assert not cluster.exists("ebp", "-n", CEL_NS, "classes")


def test_a_namespace_admin_cannot_grant_themselves_override(cluster, chart):
    """RBAC escalation prevention: binding or writing a role needs the rights it grants (bob has no override)."""
    bind = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "bob-override", "namespace": CEL_NS},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "sloguard-freeze-override"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}]}
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "my-override", "namespace": CEL_NS},
            "rules": [{"apiGroups": ["sloguard.io"], "resources": ["errorbudgetpolicies"], "verbs": ["override"]}]}
    assert can_i(cluster, "create", "rolebindings.rbac.authorization.k8s.io", CEL_NS, *BOB)  # may bind, not escalate
    for obj in (bind, role):
        proc = cluster.kubectl(*BOB, "create", "-f", "-", input=json.dumps(obj), check=False)
        assert proc.returncode != 0 and "permissions not currently held" in proc.stderr, proc.stderr
    assert not can_i(cluster, "override", "errorbudgetpolicies.sloguard.io", CEL_NS, *BOB)

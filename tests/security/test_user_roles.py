"""The chart's user roles, aggregated into Kubernetes' built-in view/edit/admin (issue #10, item 3).

A namespace's editors manage SLOs and SLA contracts but not the ErrorBudgetPolicies that gate
their releases; admins manage policies; nobody gets ``override`` or ``approve`` by aggregation.
Each user is bound to a *built-in* ClusterRole in one namespace and asked with
``kubectl auth can-i --as``: the answers depend on the controller-manager aggregating the chart's
roles into the built-in ones, which the first test checks directly.
"""

from __future__ import annotations

import json

import pytest
import yaml

from ..e2e.conftest import TestCluster
from .chart_objects import apply_chart_objects

pytestmark = pytest.mark.e2e

NS = "sec-roles"
OTHER_NS = "sec-roles-other"
SLO, EBP, SLA = ("servicelevelobjectives.sloguard.io", "errorbudgetpolicies.sloguard.io", "slacontracts.sloguard.io")
#: user -> the ClusterRole bound to them in NS.
USERS = {"vera": "view", "ed": "edit", "ada": "admin", "otto": "sloguard-freeze-override",
         "apollo": "sloguard-release-approve"}
WRITE = ("create", "update", "patch", "delete", "deletecollection")
READ = ("get", "list", "watch")


def can_i(cluster: TestCluster, user: str, verb: str, resource: str, ns: str = NS, subresource: str = "") -> bool:
    sub = [f"--subresource={subresource}"] if subresource else []
    proc = cluster.kubectl("auth", "can-i", verb, resource, "-n", ns, f"--as={user}", *sub, check=False)
    return proc.stdout.strip() == "yes"


@pytest.fixture(scope="module")
def bound(cluster: TestCluster, helm: str) -> None:
    apply_chart_objects(cluster, helm)
    for ns in (NS, OTHER_NS):
        cluster.kubectl("create", "namespace", ns)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": f"{user}-{role}", "namespace": NS},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]}
        for user, role in USERS.items()]))
    cluster.wait_until(lambda: can_i(cluster, "ada", "patch", EBP) and can_i(cluster, "ed", "patch", SLO)
                       and can_i(cluster, "vera", "get", SLA), timeout=60,
                       what="the built-in roles to aggregate the chart's")


def rules_of(cluster: TestCluster, role: str) -> list[dict]:
    return json.loads(cluster.kubectl("get", "clusterrole", role, "-o", "json").stdout)["rules"] or []


def sloguard_rules(cluster: TestCluster, role: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rule in rules_of(cluster, role):
        if "sloguard.io" in rule.get("apiGroups", []):
            for res in rule.get("resources", []):
                out.setdefault(res, set()).update(rule["verbs"])
    return out


def test_the_controller_manager_aggregates_the_chart_roles_into_the_built_in_ones(cluster, bound):
    view, edit, admin = (sloguard_rules(cluster, r) for r in ("view", "edit", "admin"))
    kinds = {"servicelevelobjectives", "errorbudgetpolicies", "slacontracts"}
    assert set(view) == kinds and all(v == set(READ) for v in view.values())
    assert edit["errorbudgetpolicies"] == set(READ)
    assert edit["servicelevelobjectives"] == edit["slacontracts"] == set(READ) | set(WRITE)
    assert admin["errorbudgetpolicies"] == set(READ) | set(WRITE)
    for role in (view, edit, admin):
        assert not {"override", "approve"} & set().union(*role.values())


@pytest.mark.parametrize("verb", READ)
@pytest.mark.parametrize("resource", [SLO, EBP, SLA])
def test_view_reads_all_three_kinds_and_writes_none(cluster, bound, verb, resource):
    assert can_i(cluster, "vera", verb, resource)
    assert not can_i(cluster, "vera", "create", resource)
    assert not can_i(cluster, "vera", "patch", resource)


@pytest.mark.parametrize("verb", WRITE)
def test_edit_manages_slos_and_sla_contracts(cluster, bound, verb):
    assert can_i(cluster, "ed", verb, SLO) and can_i(cluster, "ed", verb, SLA)


@pytest.mark.parametrize("verb", [*WRITE, "override", "approve"])
def test_edit_does_not_manage_the_policies_that_gate_its_releases(cluster, bound, verb):
    assert can_i(cluster, "ed", "get", EBP)
    assert not can_i(cluster, "ed", verb, EBP)


@pytest.mark.parametrize("verb", WRITE)
def test_admin_manages_policies(cluster, bound, verb):
    assert can_i(cluster, "ada", verb, EBP) and can_i(cluster, "ada", verb, SLO)


@pytest.mark.parametrize("user", ["vera", "ed", "ada"])
@pytest.mark.parametrize("verb", ["override", "approve"])
def test_no_aggregated_role_grants_override_or_approve(cluster, bound, user, verb):
    assert not can_i(cluster, user, verb, EBP)


@pytest.mark.parametrize("user", ["vera", "ed", "ada"])
def test_no_aggregated_role_writes_policy_status(cluster, bound, user):
    assert not can_i(cluster, user, "patch", EBP, subresource="status")
    assert not can_i(cluster, user, "patch", SLO, subresource="status")
    assert not can_i(cluster, user, "patch", SLA, subresource="status")


def test_override_and_approve_are_explicit_roles_scoped_to_the_bound_namespace(cluster, bound):
    assert can_i(cluster, "otto", "override", EBP)
    assert not can_i(cluster, "otto", "override", EBP, OTHER_NS)
    assert not can_i(cluster, "otto", "patch", EBP)  # override alone edits nothing
    assert can_i(cluster, "apollo", "approve", EBP) and not can_i(cluster, "apollo", "override", EBP)


@pytest.mark.parametrize("user", ["vera", "ed", "ada", "otto", "apollo"])
@pytest.mark.parametrize("verb", ["create", "update", "patch", "delete"])
def test_no_aggregated_role_writes_hold_objects(cluster, bound, user, verb):
    """ErrorBudgetHolds (the hold policy's params) are the operator's: no role for people writes them."""
    assert not can_i(cluster, user, verb, "errorbudgetholds.sloguard.io")

"""The chart's governance objects: the ValidatingAdmissionPolicy that governs holding
ErrorBudgetPolicies, and the user roles aggregated into the built-in view/edit/admin.

What they do on a cluster is tested as attacks in tests/security/; here: what helm renders, and
that the policy in the chart is the one generated from the operator's rules.
"""

from __future__ import annotations

import subprocess
import sys

from .chartkit import by_kind, one, render
from .conftest import REPO_ROOT

AGG = "rbac.authorization.k8s.io/aggregate-to-"


def test_the_governance_policy_in_the_chart_is_the_generated_one():
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "hack" / "gen-governance.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_helm_renders_the_governance_policy_and_its_binding(helm):
    docs = render(helm)
    vap = one(docs, "ValidatingAdmissionPolicy", "sloguard-policy-governance")
    assert vap["spec"]["failurePolicy"] == "Fail"
    [rule] = vap["spec"]["matchConstraints"]["resourceRules"]
    assert (rule["apiGroups"], rule["resources"], rule["operations"]) == (["sloguard.io"], ["errorbudgetpolicies"],
                                                                         ["UPDATE", "DELETE"])
    assert "check(\"override\")" in str(vap["spec"]["variables"])
    binding = one(docs, "ValidatingAdmissionPolicyBinding", "sloguard-policy-governance")
    assert binding["spec"] == {"policyName": "sloguard-policy-governance", "validationActions": ["Deny"]}


def test_helm_renders_the_slo_governance_policy_with_every_policy_of_the_namespace_as_param(helm):
    docs = render(helm)
    vap = one(docs, "ValidatingAdmissionPolicy", "sloguard-slo-governance")
    assert vap["spec"]["paramKind"] == {"apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetPolicy"}
    [rule] = vap["spec"]["matchConstraints"]["resourceRules"]
    assert (rule["resources"], rule["operations"]) == (["servicelevelobjectives"], ["UPDATE", "DELETE"])
    binding = one(docs, "ValidatingAdmissionPolicyBinding", "sloguard-slo-governance")
    assert binding["spec"]["paramRef"] == {"selector": {}, "parameterNotFoundAction": "Allow"}


def test_the_governance_policies_are_rendered_for_every_mechanism_and_can_be_switched_off(helm):
    governance = {"sloguard-policy-governance", "sloguard-slo-governance"}
    for mechanism in ("admissionPolicy", "webhook", "none"):
        docs = render(helm, {"enforcement": {"mechanism": mechanism}})
        assert governance <= {d["metadata"]["name"] for d in by_kind(docs, "ValidatingAdmissionPolicy")}
    for values in ({"policyGovernance": {"enabled": False}}, {"features": {"policies": False}}):
        docs = render(helm, values)
        names = {d["metadata"]["name"] for kind in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
                 for d in by_kind(docs, kind)}
        assert not governance & names


def _sloguard_rules(role: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rule in role["rules"]:
        assert rule["apiGroups"] == ["sloguard.io"], rule  # the user roles grant nothing else
        for res in rule["resources"]:
            out.setdefault(res, set()).update(rule["verbs"])
    return out


def test_helm_renders_user_roles_aggregated_into_view_edit_and_admin(helm):
    docs = render(helm)
    write = {"create", "update", "patch", "delete", "deletecollection"}
    view, edit, admin = (one(docs, "ClusterRole", f"sloguard-{r}") for r in ("view", "edit", "admin"))
    assert view["metadata"]["labels"][f"{AGG}view"] == "true"
    assert edit["metadata"]["labels"][f"{AGG}edit"] == "true" and f"{AGG}view" not in edit["metadata"]["labels"]
    assert admin["metadata"]["labels"][f"{AGG}admin"] == "true"
    assert {f"{AGG}edit", f"{AGG}view"}.isdisjoint(admin["metadata"]["labels"])
    assert _sloguard_rules(view) == {k: {"get", "list", "watch"} for k in
                                     ("servicelevelobjectives", "errorbudgetpolicies", "slacontracts")}
    assert _sloguard_rules(edit) == {"servicelevelobjectives": write, "slacontracts": write}
    assert _sloguard_rules(admin) == {"errorbudgetpolicies": write}


def test_override_and_approve_are_separate_roles_never_aggregated(helm):
    docs = render(helm)
    for name, verb in (("sloguard-freeze-override", "override"), ("sloguard-release-approve", "approve")):
        role = one(docs, "ClusterRole", name)
        assert not any(k.startswith(AGG) for k in role["metadata"]["labels"])
        assert _sloguard_rules(role) == {"errorbudgetpolicies": {verb}}
    for role in by_kind(docs, "ClusterRole"):
        if any(k.startswith(AGG) for k in role["metadata"].get("labels", {})):
            assert not {"override", "approve"} & {v for r in role["rules"] for v in r["verbs"]}, role


def test_user_roles_follow_the_features_and_can_be_left_out(helm):
    docs = render(helm, {"features": {"policies": False, "sla": False}, "enforcement": {"mechanism": "none"}})
    assert _sloguard_rules(one(docs, "ClusterRole", "sloguard-view")) == {"servicelevelobjectives": {"get", "list",
                                                                                                     "watch"}}
    assert not [d for d in by_kind(docs, "ClusterRole") if d["metadata"]["name"].endswith(("-admin", "-override"))]
    names = {d["metadata"]["name"] for d in by_kind(render(helm, {"userRoles": {"create": False}}), "ClusterRole")}
    assert not names & {"sloguard-view", "sloguard-edit", "sloguard-admin", "sloguard-freeze-override"}

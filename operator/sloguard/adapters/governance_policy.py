"""The chart's static ValidatingAdmissionPolicy that governs ErrorBudgetPolicies themselves.

:func:`sloguard.core.governance.weakened` compiled to CEL: an UPDATE of a *holding* policy
(``oldObject.status.action`` is scrutiny, restrict, freeze or emergency) that weakens it, or a
DELETE of one, is denied unless the ``authorizer`` says the requester may ``override`` that
policy. The defaults (levels, burn-rate rules, classes, modes) come from the same models and
tables as the operator's, and the messages from :func:`weakening_denial` /
:func:`deletion_denial`, so the webhook and the API server say the same thing.

The policy is static — it reads only the old and new object — so it is installed once by the
chart (``charts/sloguard/templates/policy-governance.yaml``, written by
``hack/gen-governance.py`` from :func:`policy_spec`) and needs no operator at run time.
"""

from __future__ import annotations

from typing import Any

from ..api import governance as api
from ..api.cel import string as _q  # a CEL string literal
from ..api.cel import string_list
from ..core import conventions as c
from ..core import governance as core
from ..core.causes import CAUSES
from ..core.policy import ACTION_RANK

#: A placeholder in the messages, replaced by CEL expressions (never appears in a real name).
_NS, _NAME, _ACTION, _PATHS = "\x00ns\x00", "\x00name\x00", "\x00action\x00", "\x00paths\x00"


#: The policy's namespace and name, from the stored object: a DELETE of a whole collection has
#: no ``request.name``, but each object is still admitted one by one.
_OLD_NS, _OLD_NAME = "oldObject.metadata.namespace", "oldObject.metadata.name"


def _num(value: float) -> str:
    return repr(float(value))


def _message(template: str, **parts: str) -> str:
    """A CEL string concatenation of ``template`` with placeholders replaced by CEL expressions."""
    pieces: list[str] = []
    rest = template
    while rest:
        hits = [(rest.find(p), p) for p in parts if rest.find(p) >= 0]
        if not hits:
            pieces.append(_q(rest))
            break
        at, placeholder = min(hits)
        if at:
            pieces.append(_q(rest[:at]))
        pieces.append(parts[placeholder])
        rest = rest[at + len(placeholder):]
    return " + ".join(pieces)


def _selector_equal(a: str, b: str) -> str:
    """CEL: two label selectors are the same (absent lists/maps equal empty ones; expression order counts)."""
    def exprs(s: str) -> str:
        return (f"{s}.?matchExpressions.orValue([]).map(e, e.key + ' ' + e.operator + ' ' + "
                "e.?values.orValue([]).join(','))")
    return f"({a}.?matchLabels.orValue({{}}) == {b}.?matchLabels.orValue({{}}) && {exprs(a)} == {exprs(b)})"


def _burn_covered(window: str, above: str, rank: str) -> str:
    """CEL: some burn-rate rule of the new object covers an old rule (window, above, rank)."""
    defaults = " || ".join(f"({window} == {_q(r.window)} && {_num(r.above)} <= {above} && "
                           f"{_num(r.rank)} >= {rank})" for r in core.Governed().burn_rules) or "false"
    return (f"(has(object.spec.burnRates) ? object.spec.burnRates.exists(n, n.window == {window} && "
            f"double(n.above) <= {above} && variables.ranks[n.action] >= {rank}) : ({defaults}))")


def variables() -> list[dict[str, str]]:
    """CEL variables: one boolean per governed field (true = weakened), and the list of their paths."""
    d = core.Governed()
    ranks = "{" + ", ".join(f"{_q(a)}: {_num(r)}" for a, r in ACTION_RANK.items()) + "}"
    modes = "{" + ", ".join(f"{_q(m)}: {r}" for m, r in core.MODE_RANK.items()) + "}"
    # A level as [threshold, rank, cause]: cause -1.0 for remainingBelow rows, else the index in CAUSES.
    causes = "{" + ", ".join(f"{_q(x)}: {_num(i)}" for i, x in enumerate(CAUSES)) + "}"
    def code(cause: str) -> str:
        return _num(CAUSES.index(cause)) if cause else "-1.0"

    default_levels = "[" + ", ".join(f"[{_num(x.threshold)}, {_num(x.rank)}, {code(x.cause)}]" for x in d.levels) + "]"
    default_classes = string_list(d.exception_classes)
    old_burns = " && ".join(_burn_covered(_q(r.window), _num(r.above), _num(r.rank)) for r in d.burn_rules) or "true"

    def levels(obj: str) -> str:
        return (f"has({obj}.spec.levels) ? {obj}.spec.levels.map(l, has(l.when) ? "
                f"[double(l.when.consumedAbove), variables.ranks[l.action], {causes}[l.when.cause]] : "
                f"[double(l.remainingBelow), variables.ranks[l.action], -1.0]) : {default_levels}")

    def field(obj: str, path: str, default: str) -> str:
        return f"{obj}.spec.?{path}.orValue({default})"

    def same_target(t: str, u: str) -> str:
        return f"({u}.kind == {t}.kind && {_selector_equal(f'{t}.selector', f'{u}.selector')})"

    unfreeze = "recovery.?unfreezeAbove"
    weak: dict[str, str] = {
        "spec.levels": "!variables.oldLevels.all(o, variables.newLevels.exists(n, n[2] == o[2] && n[1] >= o[1] && "
                       "(o[2] < 0.0 ? n[0] >= o[0] : n[0] <= o[0])))",
        "spec.burnRates": "!(has(oldObject.spec.burnRates) ? oldObject.spec.burnRates.all(o, "
                          f"{_burn_covered('o.window', 'double(o.above)', 'variables.ranks[o.action]')}) : "
                          f"({old_burns}))",
        "spec.recovery.unfreezeAbove": f"double({field('object', unfreeze, _num(d.unfreeze_above))}) < "
                                       f"double({field('oldObject', unfreeze, _num(d.unfreeze_above))})",
        "spec.exceptions.classes": f"{field('object', 'exceptions.?classes', default_classes)}.exists(x, !(x in "
                                   f"{field('oldObject', 'exceptions.?classes', default_classes)}))",
        "spec.enforcement.mode": f"variables.modes[{field('object', 'enforcement.?mode', _q(api.DEFAULT_MODE))}] < "
                                 f"variables.modes[{field('oldObject', 'enforcement.?mode', _q(api.DEFAULT_MODE))}]",
        "spec.enforcement.mechanism": f"{field('object', 'enforcement.?mechanism', _q(api.DEFAULT_MECHANISM))} != "
                                      f"{field('oldObject', 'enforcement.?mechanism', _q(api.DEFAULT_MECHANISM))}",
        "spec.enforcement.failurePolicy":
            f"{field('oldObject', 'enforcement.?failurePolicy', _q(api.DEFAULT_FAILURE_POLICY))} == 'Fail' && "
            f"{field('object', 'enforcement.?failurePolicy', _q(api.DEFAULT_FAILURE_POLICY))} != 'Fail'",
        "spec.targets": f"!oldObject.spec.targets.all(t, object.spec.targets.exists(u, {same_target('t', 'u')}))",
        "spec.slos": "has(oldObject.spec.slos) && !(has(object.spec.slos) && "
                     "oldObject.spec.slos.all(s, s in object.spec.slos))",
        "spec.sloSelector": "has(oldObject.spec.sloSelector) && !(has(object.spec.sloSelector) && "
                            f"{_selector_equal('oldObject.spec.sloSelector', 'object.spec.sloSelector')})",
    }
    assert tuple(weak) == core.GOVERNED_PATHS, "the CEL must govern exactly the fields core.weakened does"
    out = [
        {"name": "ranks", "expression": ranks},
        {"name": "modes", "expression": modes},
        {"name": "oldLevels", "expression": levels("oldObject")},
        {"name": "newLevels", "expression": levels("object")},
    ]
    names = {}
    for path, expr in weak.items():
        last = path.rsplit(".", 1)[-1]
        names[path] = f"weaker{last[0].upper()}{last[1:]}"  # e.g. weakerLevels, weakerFailurePolicy
        out.append({"name": names[path], "expression": expr})
    out.append({"name": "weakened", "expression": " + ".join(
        f"(variables.{names[p]} ? [{_q(p)}] : [])" for p in weak)})
    out.append({"name": "mayOverride", "expression": (
        f"authorizer.group({_q(c.GROUP)}).resource({_q(c.PLURAL_POLICY)}).namespace({_OLD_NS})"
        f".name({_OLD_NAME}).check({_q(core.OVERRIDE_VERB)}).allowed()")})
    return out


def policy_spec() -> dict[str, Any]:
    """The ValidatingAdmissionPolicy's ``spec``."""
    action = "oldObject.status.action"
    holding = string_list(core.HOLDING_ACTIONS)
    return {
        # A CEL error refuses the change: the safe side for a guard of the guards.
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [{
                "apiGroups": [c.GROUP], "apiVersions": ["*"], "operations": ["UPDATE", "DELETE"],
                "resources": [c.PLURAL_POLICY],
            }],
        },
        "matchConditions": [
            {"name": "holding", "expression": f"oldObject.?status.?action.orValue('none') in {holding}"},
            {"name": "not-a-namespace-deletion",
             "expression": f"!(request.operation == 'DELETE' && "
                           f"request.userInfo.username in {string_list(core.NAMESPACE_CONTROLLERS)})"},
        ],
        "variables": variables(),
        # The API server's audit log records every governed change — refused, or admitted by
        # override (the audit event's response code says which). The authorizer is not available
        # to audit annotations, hence no "by override" here.
        "auditAnnotations": [{
            "key": "governed-change",
            "valueExpression": "request.operation == 'DELETE' || size(variables.weakened) > 0 ? "
                               "request.userInfo.username + ' ' + (request.operation == 'DELETE' ? 'deleted' : "
                               "'weakened ' + variables.weakened.join(', ')) + ' while holding (' + "
                               "oldObject.status.action + ')' : ''",  # an empty value is left out of the event
        }],
        "validations": [
            {
                "expression": "request.operation != 'DELETE' || variables.mayOverride",
                "messageExpression": _message(core.deletion_denial(_NS, _NAME, _ACTION),
                                              **{_NS: _OLD_NS, _NAME: _OLD_NAME, _ACTION: action}),
                "reason": "Forbidden",
            },
            {
                "expression": "request.operation != 'UPDATE' || size(variables.weakened) == 0 || "
                              "variables.mayOverride",
                "messageExpression": _message(core.weakening_denial(_NS, _NAME, _ACTION, [_PATHS]),
                                              **{_NS: _OLD_NS, _NAME: _OLD_NAME, _ACTION: action,
                                                 _PATHS: "variables.weakened.join(', ')"}),
                "reason": "Forbidden",
            },
        ],
    }


def binding_spec(policy_name: str) -> dict[str, Any]:
    return {"policyName": policy_name, "validationActions": ["Deny"]}


# --- SLOs read by a holding policy ------------------------------------------------------------

#: SLO fields whose change can move the budget a holding policy reads (besides the objective,
#: which may go up freely). description, service and alerting do not touch the budget.
SLO_BUDGET_FIELDS: tuple[str, ...] = ("window", "timezone", "budgetingMethod", "timeslice", "sli")


def _selector_matches(selector: str, labels: str) -> str:
    """CEL: a LabelSelector (may lack either list) matches a labels map."""
    ops = (f"e.operator == 'In' ? (e.key in {labels} && {labels}[e.key] in e.?values.orValue([])) : "
           f"e.operator == 'NotIn' ? (!(e.key in {labels}) || !({labels}[e.key] in e.?values.orValue([]))) : "
           f"e.operator == 'Exists' ? e.key in {labels} : !(e.key in {labels})")
    return (f"({selector}.?matchLabels.orValue({{}}).all(k, k in {labels} && {labels}[k] == "
            f"{selector}.matchLabels[k]) && {selector}.?matchExpressions.orValue([]).all(e, {ops}))")


def slo_denial(namespace: str, name: str, policy: str, action: str, what: str) -> str:
    return (f"ServiceLevelObjective {namespace}/{name} is read by ErrorBudgetPolicy {namespace}/{policy}, which "
            f"is holding ({action}): {what} needs '{core.OVERRIDE_VERB}' on errorbudgetpolicies/{policy} in "
            f"{namespace}. Raising the objective, alerting and description stay free.")


def slo_policy_spec() -> dict[str, Any]:
    """A ValidatingAdmissionPolicy over SLOs, evaluated once per ErrorBudgetPolicy of the SLO's namespace.

    Where that policy holds and reads the SLO (by name, or its selector matches the SLO's labels),
    deleting the SLO, lowering its objective, changing what its budget is computed from, or
    relabelling it out of the selector needs ``override`` on that policy.
    """
    from ..core.windows import TIER_OBJECTIVES

    tiers = "{" + ", ".join(f"{_q(t)}: {_num(v)}" for t, v in TIER_OBJECTIVES.items()) + "}"
    holding = string_list(core.HOLDING_ACTIONS)

    def objective(obj: str) -> str:
        return (f"(has({obj}.spec.objective) ? double({obj}.spec.objective) : "
                f"variables.tiers[{obj}.spec.?tier.orValue('')])")

    def reads(labels: str) -> str:
        return (f"(has(params.spec.slos) ? oldObject.metadata.name in params.spec.slos : has(params.spec.sloSelector) "
                f"&& {_selector_matches('params.spec.sloSelector', labels)})")

    changed = [(f"spec.{f}", f"has(object.spec.{f}) != has(oldObject.spec.{f}) || (has(object.spec.{f}) && "
                             f"object.spec.{f} != oldObject.spec.{f})") for f in SLO_BUDGET_FIELDS]
    parts = [("spec.objective", f"{objective('object')} < {objective('oldObject')}"), *changed,
             ("metadata.labels", f"!{reads('variables.newLabels')}")]
    weakened = " + ".join(f"(({expr}) ? [{_q(path)}] : [])" for path, expr in parts)
    ns, name, policy, action = "\x00ns\x00", "\x00name\x00", "\x00policy\x00", "\x00action\x00"
    refs = {ns: _OLD_NS, name: _OLD_NAME, policy: "params.metadata.name", action: "params.status.action"}
    return {
        "failurePolicy": "Fail",
        "paramKind": {"apiVersion": f"{c.GROUP}/{c.VERSION}", "kind": c.KIND_POLICY},
        "matchConstraints": {
            "resourceRules": [{
                "apiGroups": [c.GROUP], "apiVersions": ["*"], "operations": ["UPDATE", "DELETE"],
                "resources": [c.PLURAL_SLO],
            }],
        },
        "matchConditions": [
            {"name": "not-a-namespace-deletion",
             "expression": f"!(request.operation == 'DELETE' && "
                           f"request.userInfo.username in {string_list(core.NAMESPACE_CONTROLLERS)})"},
        ],
        "variables": [
            {"name": "tiers", "expression": tiers},
            {"name": "oldLabels", "expression": "oldObject.metadata.?labels.orValue({})"},
            {"name": "newLabels", "expression": "object.metadata.?labels.orValue({})"},
            {"name": "governs", "expression": f"params.?status.?action.orValue('none') in {holding} && "
                                              f"{reads('variables.oldLabels')}"},
            {"name": "weakened", "expression": weakened},
            {"name": "mayOverride", "expression": (
                f"authorizer.group({_q(c.GROUP)}).resource({_q(c.PLURAL_POLICY)}).namespace({_OLD_NS})"
                f".name(params.metadata.name).check({_q(core.OVERRIDE_VERB)}).allowed()")},
        ],
        "validations": [
            {
                "expression": "!variables.governs || request.operation != 'DELETE' || variables.mayOverride",
                "messageExpression": _message(slo_denial(ns, name, policy, action, "deleting it"), **refs),
                "reason": "Forbidden",
            },
            {
                "expression": "!variables.governs || request.operation != 'UPDATE' || size(variables.weakened) == 0 "
                              "|| variables.mayOverride",
                "messageExpression": _message(slo_denial(ns, name, policy, action, "changing \x00paths\x00"),
                                              **refs, **{"\x00paths\x00": "variables.weakened.join(', ')"}),
                "reason": "Forbidden",
            },
        ],
    }


def slo_binding_spec(policy_name: str) -> dict[str, Any]:
    """Every ErrorBudgetPolicy of the SLO's namespace is a param; none: nothing to govern."""
    return {"policyName": policy_name, "validationActions": ["Deny"],
            "paramRef": {"selector": {}, "parameterNotFoundAction": "Allow"}}

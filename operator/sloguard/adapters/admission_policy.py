"""Enforcement without a webhook: a ValidatingAdmissionPolicy per held ErrorBudgetPolicy.

The API server evaluates the CEL itself, so a frozen release is denied even while the operator
is down. The rules are those of :func:`sloguard.core.policy.decide`, with the same messages:

* Bindings: one for UPDATEs of workloads carrying the hold label (``objectSelector``; a match
  condition keeps it to workloads held by *this* policy), one per target for CREATEs of a
  matching workload (``objectSelector`` = the target's selector).
* A release is a change to ``spec.template`` (or a CREATE). It needs an allowed exception class
  (``sloguard.io/exception``), or ``override`` on the policy from the ``authorizer`` (RBAC), or,
  under restrict, ``approve``.
* sloguard.io/* labels and annotations (except ``sloguard.io/exception``) may be changed on a
  held workload only by the operator's own user.
* Mode ``warn`` -> ``validationActions: [Warn]``; ``dryRun`` -> ``[Audit]``; scrutiny always warns.

The policy text is regenerated on every transition; the level and budget are baked into the
messages, so a denial names the SLO and budget without a lookup.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import DynamicApiError

from ..api.policy import Target
from ..core import conventions as c
from ..core.policy import Hold, denial_message, label_denial_message, scrutiny_warning
from .kube import Kube, KubeError

ADMISSION_API = "admissionregistration.k8s.io/v1"
LABEL_POLICY = f"{c.GROUP}/policy"  # on the VAP and bindings: "<namespace>.<name>" of the ErrorBudgetPolicy
RESOURCES = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}


def _q(text: str) -> str:
    """A CEL string literal (JSON string escaping is valid CEL)."""
    return json.dumps(text)


def object_name(namespace: str, name: str) -> str:
    return f"sloguard-hold.{namespace}.{name}"


def owner_label(namespace: str, name: str) -> str:
    return f"{namespace}.{name}"


def _validation_actions(mode: str, action: str) -> list[str]:
    if mode == "dryRun":
        return ["Audit"]
    if mode == "warn" or action == "scrutiny":
        return ["Warn"]
    return ["Deny"]


def _protected_changed(which: str) -> str:
    """CEL: some sloguard.io/* key of metadata.<which> was added, changed or removed (UPDATE only)."""
    old = f"oldObject.metadata.?{which}.orValue({{}})"
    new = f"object.metadata.?{which}.orValue({{}})"
    keep = f"k.startsWith({_q(c.LABEL_PREFIX)}) && k != {_q(c.ANNOTATION_EXCEPTION)}"
    return (f"({old}.exists(k, {keep} && (!(k in {new}) || {new}[k] != {old}[k])) || "
            f"{new}.exists(k, {keep} && !(k in {old})))")


def validating_admission_policy(hold: Hold, operator_user: str) -> dict[str, Any]:
    """The ValidatingAdmissionPolicy enforcing ``hold`` (one per ErrorBudgetPolicy)."""
    check = (f"authorizer.group({_q(c.GROUP)}).resource({_q(c.PLURAL_POLICY)}).namespace({_q(hold.namespace)})"
             f".name({_q(hold.policy)})")
    workload = "request.kind.kind + ' ' + request.namespace + '/' + object.metadata.name"
    permits = "variables.classOk || variables.mayOverride"
    if hold.action == "restrict":
        permits += " || variables.mayApprove"
    if hold.action == "scrutiny":
        permits = "variables.classOk"
        release_message = _q(scrutiny_warning(hold))
    else:
        release_message = f"{workload} + ': ' + {_q(denial_message(hold))}"
    return {
        "apiVersion": ADMISSION_API,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {
            "name": object_name(hold.namespace, hold.policy),
            "labels": {c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE, LABEL_POLICY: owner_label(hold.namespace, hold.policy)},
            "annotations": {c.ANNOTATION_HOLD_REASON: f"{hold.action}: SLO {hold.slo}"},
        },
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [{
                    "apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                    "resources": sorted(RESOURCES.values()),
                }],
            },
            "matchConditions": [{
                "name": "held-by-this-policy",
                "expression": "request.operation == 'CREATE' || "
                              f"oldObject.metadata.?annotations[{_q(c.ANNOTATION_HOLD_POLICY)}].orValue('') == "
                              f"{_q(hold.policy)}",
            }],
            "variables": [
                {"name": "isUpdate", "expression": "request.operation == 'UPDATE'"},
                {"name": "release", "expression": "!variables.isUpdate || object.spec.template != "
                                                  "oldObject.spec.template"},
                {"name": "exceptionClass",
                 "expression": f"object.metadata.?annotations[{_q(c.ANNOTATION_EXCEPTION)}].orValue('')"},
                {"name": "classOk",
                 "expression": f"variables.exceptionClass in {json.dumps(list(hold.exception_classes))}"},
                {"name": "mayOverride", "expression": f"{check}.check('override').allowed()"},
                {"name": "mayApprove", "expression": f"{check}.check('approve').allowed()"},
                {"name": "isOperator", "expression": f"request.userInfo.username == {_q(operator_user)}"},
                {"name": "protectedChanged",
                 "expression": f"variables.isUpdate && ({_protected_changed('labels')} || "
                               f"{_protected_changed('annotations')})"},
            ],
            "validations": [
                {
                    "expression": "!variables.protectedChanged || variables.isOperator",
                    "messageExpression": f"{workload} + ' ' + {_q(label_denial_message(hold))}",
                    "reason": "Forbidden",
                },
                {
                    "expression": f"!variables.release || {permits}",
                    "messageExpression": release_message,
                    "reason": "Forbidden",
                },
            ],
        },
    }


def _binding(name: str, hold: Hold, mode: str, operation: str, resources: list[str],
             object_selector: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": ADMISSION_API,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {
            "name": name,
            "labels": {c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE, LABEL_POLICY: owner_label(hold.namespace, hold.policy)},
        },
        "spec": {
            "policyName": object_name(hold.namespace, hold.policy),
            "validationActions": _validation_actions(mode, hold.action),
            "matchResources": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": hold.namespace}},
                "objectSelector": object_selector,
                "resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": [operation],
                                   "resources": resources}],
            },
        },
    }


def bindings(hold: Hold, targets: list[Target], mode: str) -> list[dict[str, Any]]:
    """One binding for updates of held workloads, one per target for creations of matching ones."""
    base = object_name(hold.namespace, hold.policy)
    out = [_binding(f"{base}.held", hold, mode, "UPDATE", sorted(RESOURCES.values()),
                    {"matchExpressions": [{"key": c.LABEL_HOLD, "operator": "Exists"}]})]
    for i, t in enumerate(targets):
        out.append(_binding(f"{base}.create-{i}", hold, mode, "CREATE", [RESOURCES[t.kind]], t.selector.to_dict()))
    return out


def manifests(hold: Hold, targets: list[Target], mode: str, operator_user: str) -> list[dict[str, Any]]:
    """Everything to apply for ``hold``; the policy first so bindings never point at nothing."""
    return [validating_admission_policy(hold, operator_user), *bindings(hold, targets, mode)]


def holds_webhook_configuration(name: str, handler_id: str, namespaces: list[str], *, ca_bundle: bytes,
                                url_base: str | None, service: tuple[str, str, int] | None,
                                failure_policy: str) -> dict[str, Any]:
    """The webhook mechanism's configuration: held workloads (UPDATE) and creations in holding namespaces.

    Scoped tightly: only namespaces with a holding webhook-mechanism policy (never kube-system or the
    operator's own), only apps workloads, held ones by ``objectSelector``; 3 s timeout.
    """
    from .webhooks import client_config

    ns_selector = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                                         "values": namespaces or ["-"]}]}
    rules = sorted(RESOURCES.values())

    def hook(suffix: str, operation: str, object_selector: dict[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": f"{suffix}.holds.{c.GROUP}",
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "failurePolicy": failure_policy,
            "matchPolicy": "Equivalent",
            "timeoutSeconds": 3,
            "namespaceSelector": ns_selector,
            "rules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "resources": rules,
                       "operations": [operation], "scope": "Namespaced"}],
            "clientConfig": client_config(handler_id, ca_bundle=ca_bundle, url_base=url_base, service=service),
        }
        if object_selector:
            out["objectSelector"] = object_selector
        return out

    return {
        "apiVersion": ADMISSION_API,
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name, "labels": {c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE}},
        "webhooks": [
            hook("held", "UPDATE", {"matchExpressions": [{"key": c.LABEL_HOLD, "operator": "Exists"}]}),
            hook("create", "CREATE", None),
        ],
    }


# --- Kubernetes calls the policy handlers need -------------------------------------------------

def selector_string(selector: dict[str, Any]) -> str:
    """A LabelSelector dict as the ``labelSelector`` query string."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        op, key, values = e["operator"], e["key"], ",".join(e.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                      "Exists": key, "DoesNotExist": f"!{key}"}[op])
    return ",".join(parts)


def list_workloads(kube: Kube, namespace: str, kind: str, label_selector: str) -> list[dict[str, Any]]:
    res = kube.resource("apps/v1", kind)
    try:
        return [i.to_dict() for i in res.get(namespace=namespace, label_selector=label_selector or None).items]
    except (ApiException, DynamicApiError) as e:
        raise KubeError(f"cannot list {kind}s in {namespace}: {getattr(e, 'status', '')} "
                        f"{getattr(e, 'reason', '')}", getattr(e, "status", None)) from None


def delete(kube: Kube, kind: str, name: str) -> None:
    res = kube.resource(ADMISSION_API, kind)
    try:
        res.delete(name=name)
    except (ApiException, DynamicApiError) as e:
        if getattr(e, "status", None) != 404:
            raise KubeError(f"cannot delete {kind} {name}: {getattr(e, 'status', '')} {getattr(e, 'reason', '')}",
                            getattr(e, "status", None)) from None


def delete_owned(kube: Kube, namespace: str, name: str, *, keep_bindings: set[str], keep_policy: bool) -> None:
    """Delete this ErrorBudgetPolicy's bindings not in ``keep_bindings`` (and its VAP unless kept)."""
    selector = f"{LABEL_POLICY}={owner_label(namespace, name)}"
    kinds = ["ValidatingAdmissionPolicyBinding"] + ([] if keep_policy else ["ValidatingAdmissionPolicy"])
    for kind in kinds:
        res = kube.resource(ADMISSION_API, kind)
        for item in res.get(label_selector=selector).items:
            if item.metadata.name not in keep_bindings:
                delete(kube, kind, item.metadata.name)


def whoami(kube: Kube) -> str:
    """The operator's own user name (SelfSubjectReview)."""
    try:
        review = client.AuthenticationV1Api(kube.api).create_self_subject_review(
            body=client.V1SelfSubjectReview())
    except ApiException as e:
        raise KubeError(f"cannot review our own identity: {e.status} {e.reason}", e.status) from None
    return str(review.status.user_info.username)


def may(kube: Kube, user: str, groups: list[str], verb: str, namespace: str, policy: str,
        extra: dict[str, Any] | None = None) -> bool:
    """Whether RBAC lets ``user`` do ``verb`` on ``errorbudgetpolicies/<policy>`` (SubjectAccessReview)."""
    body = client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
        user=user, groups=groups, extra=extra or None,
        resource_attributes=client.V1ResourceAttributes(
            group=c.GROUP, resource=c.PLURAL_POLICY, name=policy, namespace=namespace, verb=verb)))
    try:
        review = client.AuthorizationV1Api(kube.api).create_subject_access_review(body=body)
    except ApiException as e:
        raise KubeError(f"cannot check {verb} for {user}: {e.status} {e.reason}", e.status) from None
    return bool(review.status.allowed)

"""Enforcement without a webhook: one chart-installed ValidatingAdmissionPolicy, parameterised.

The chart installs :func:`holds_policy` and its three :func:`holds_bindings` once; the operator
writes one ``ErrorBudgetHold`` per ErrorBudgetPolicy (:func:`hold_params`, ``paramKind``) into the
policy's namespace and needs no right on admission objects at all. The API server evaluates the
CEL itself, so a frozen release is denied even while the operator is down. The rules are those of
:func:`sloguard.core.policy.decide`, the texts those of :func:`~sloguard.core.policy.denial_message`
(carried in the params), so both mechanisms say the same:

* Covered: Deployments, StatefulSets, DaemonSets, ReplicaSets, Pods and Argo Rollouts whose kind
  and name the hold has held, or whose labels or pod-template labels a target selector matches;
  requests of the workload controllers (``core.CONTROLLER_USERS``) are not judged (matchConditions).
* A release is a CREATE, a pod-template change (a Pod's spec), or an UPDATE moving the workload
  out of its targets. It needs the exception class the change carries, or ``override`` on the
  policy from the ``authorizer`` (RBAC), or, under restrict, ``approve``.
* sloguard.io/* labels and annotations (except the exception ones) may be changed on a held
  workload only by the operator, or by a release that is let through (``rollout undo``).
* The params' label ``sloguard.io/enforcement`` picks the binding: ``Deny`` (mode enforce),
  ``Warn`` (mode warn, and scrutiny), ``Audit`` (dryRun); ``none`` for no binding at all.
* Every release under a hold leaves an audit annotation ``<policy>/exemption`` (who, what, and the
  exception class or ``override/approve``) in the API server's audit log.

A second chart policy, :func:`params_guard_policy`, lets only the operator write ErrorBudgetHolds.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import DynamicApiError

from ..api.cel import string as _q  # a CEL string literal
from ..api.cel import string_list
from ..api.common import Target
from ..core import conventions as c
from ..core import policy as core
from .kube import Kube, KubeError

ADMISSION_API = "admissionregistration.k8s.io/v1"
RESOURCES = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}
#: What the hold policy matches: (apiGroup, resource) of every covered kind.
COVERED_RESOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("apps", ("daemonsets", "deployments", "replicasets", "statefulsets")),
    ("", ("pods",)),
    ("argoproj.io", ("rollouts",)),
)
#: validationActions of each binding, by the params' sloguard.io/enforcement label.
BINDING_ACTIONS = {"Deny": ["Deny"], "Warn": ["Warn"], "Audit": ["Audit"]}


def enforcement_label(mode: str, action: str, mechanism: str) -> str:
    """Which chart binding reads a hold: Deny, Warn, Audit, or none (not holding, or another mechanism)."""
    if mechanism != "admissionPolicy" or action not in core.HOLDING:
        return "none"
    if mode == "dryRun":
        return "Audit"
    if mode == "warn" or action == "scrutiny":
        return "Warn"
    return "Deny"


def hold_params(hold: core.Hold, targets: list[Target], *, mode: str, mechanism: str, operator_user: str,
                owner_uid: str) -> dict[str, Any]:
    """The ErrorBudgetHold the chart's policy reads for ``hold`` (server-side applied by the operator)."""
    release = core.scrutiny_warning(hold) if hold.action == "scrutiny" else core.denial_message(hold)
    meta: dict[str, Any] = {
        "name": hold.policy, "namespace": hold.namespace,
        "labels": {c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE,
                   c.LABEL_ENFORCEMENT: enforcement_label(mode, hold.action, mechanism)},
    }
    if owner_uid:
        meta["ownerReferences"] = [{"apiVersion": c.API_VERSION, "kind": c.KIND_POLICY, "name": hold.policy,
                                    "uid": owner_uid}]
    return {
        "apiVersion": c.API_VERSION, "kind": c.KIND_HOLD, "metadata": meta,
        "spec": {
            "policy": hold.policy,
            "action": hold.action,
            "exceptionClasses": list(hold.exception_classes),
            "targets": [{"kind": t.kind, "selector": t.selector.to_dict()} for t in targets],
            "held": [{"kind": k, "name": n} for k, n in sorted(hold.held)],
            "operatorUser": operator_user,
            "messages": {"release": release, "metadata": core.label_denial_message(hold)},
        },
    }


def _selector_matches(labels: str) -> str:
    """CEL: some target selector of the params matches the label map ``labels``."""
    exprs = "t.selector.?matchExpressions.orValue([])"
    return (f"params.spec.?targets.orValue([]).exists(t, "
            f"t.selector.?matchLabels.orValue({{}}).all(k, k in {labels} && {labels}[k] == t.selector.matchLabels[k])"
            f" && {exprs}.all(e, "
            f"e.operator == 'In' ? (e.key in {labels} && {labels}[e.key] in e.?values.orValue([])) : "
            f"e.operator == 'NotIn' ? (!(e.key in {labels}) || !({labels}[e.key] in e.?values.orValue([]))) : "
            f"e.operator == 'Exists' ? (e.key in {labels}) : !(e.key in {labels})))")


def _protected_changed(which: str) -> str:
    """CEL: some sloguard.io/* key of metadata.<which> was added, changed or removed (UPDATE only)."""
    old = f"oldObject.metadata.?{which}.orValue({{}})"
    new = f"object.metadata.?{which}.orValue({{}})"
    own = string_list([c.ANNOTATION_EXCEPTION, c.ANNOTATION_EXCEPTION_REASON])
    keep = f"k.startsWith({_q(c.LABEL_PREFIX)}) && !(k in {own})"
    return (f"({old}.exists(k, {keep} && (!(k in {new}) || {new}[k] != {old}[k])) || "
            f"{new}.exists(k, {keep} && !(k in {old})))")


def _annotation(obj: str, key: str) -> str:
    return f"{obj}.metadata.?annotations[{_q(key)}].orValue('')"


def holds_policy_spec() -> dict[str, Any]:
    """The spec of the chart's hold ValidatingAdmissionPolicy (``make crds`` writes it into the chart)."""
    check = (f"authorizer.group({_q(c.GROUP)}).resource({_q(c.PLURAL_POLICY)}).namespace(request.namespace)"
             f".name(params.spec.policy)")
    workload = "request.kind.kind + ' ' + request.namespace + '/' + object.metadata.name"
    v = "variables."
    return {
        "failurePolicy": "Fail",
        "paramKind": {"apiVersion": c.API_VERSION, "kind": c.KIND_HOLD},
        "matchConstraints": {
            "resourceRules": [{"apiGroups": [group], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                               "resources": list(resources)} for group, resources in COVERED_RESOURCES],
        },
        "matchConditions": [{
            "name": "not-a-workload-controller",
            "expression": f"!(request.userInfo.username in {string_list(core.CONTROLLER_USERS)})",
        }],
        "variables": [
            {"name": "isUpdate", "expression": "request.operation == 'UPDATE'"},
            {"name": "isPod", "expression": "request.kind.kind == 'Pod'"},
            {"name": "workload", "expression": workload},
            {"name": "newLabels", "expression": "object.metadata.?labels.orValue({})"},
            {"name": "oldLabels", "expression": f"{v}isUpdate ? oldObject.metadata.?labels.orValue({{}}) : {{}}"},
            {"name": "newTemplateLabels",
             "expression": f"{v}isPod ? {{}} : object.spec.?template.?metadata.?labels.orValue({{}})"},
            {"name": "oldTemplateLabels",
             "expression": f"{v}isUpdate && !{v}isPod ? oldObject.spec.?template.?metadata.?labels.orValue({{}}) "
                           f": {{}}"},
            {"name": "matchesNew", "expression": _selector_matches(f"{v}newLabels")},
            {"name": "matchesOld", "expression": f"{v}isUpdate && {_selector_matches(f'{v}oldLabels')}"},
            {"name": "heldByName",
             "expression": "params.spec.?held.orValue([]).exists(h, h.kind == request.kind.kind && "
                           "h.name == object.metadata.name)"},
            {"name": "covered",
             "expression": f"params.spec.action != 'none' && ({v}heldByName || {v}matchesNew || {v}matchesOld || "
                           f"{_selector_matches(f'{v}newTemplateLabels')} || "
                           f"{_selector_matches(f'{v}oldTemplateLabels')})"},
            {"name": "templateChanged",
             "expression": f"{v}isUpdate && ({v}isPod ? object.spec != oldObject.spec : "
                           f"object.spec.?template.orValue({{}}) != oldObject.spec.?template.orValue({{}}))"},
            {"name": "movesOut", "expression": f"{v}matchesOld && !{v}matchesNew"},
            {"name": "release", "expression": f"!{v}isUpdate || {v}templateChanged || {v}movesOut"},
            {"name": "exNew", "expression": _annotation("object", c.ANNOTATION_EXCEPTION)},
            {"name": "exOld",
             "expression": f"{v}isUpdate ? {_annotation('oldObject', c.ANNOTATION_EXCEPTION)} : ''"},
            {"name": "reasonChanged",
             "expression": f"{v}isUpdate && {_annotation('object', c.ANNOTATION_EXCEPTION_REASON)} != "
                           f"{_annotation('oldObject', c.ANNOTATION_EXCEPTION_REASON)}"},
            # core.carried_exception: set or changed by this change, or an armed one removed by it
            {"name": "armed",
             "expression": f"{v}isUpdate && {v}exOld != '' && {_annotation('oldObject', c.ANNOTATION_EXCEPTION_ARMED)}"
                           f" == {v}exOld + '/' + {_annotation('oldObject', c.ANNOTATION_EXCEPTION_REASON)}"},
            {"name": "carried",
             "expression": f"!{v}isUpdate ? {v}exNew : {v}exNew != '' ? "
                           f"(({v}exNew != {v}exOld || {v}reasonChanged) ? {v}exNew : '') : {v}armed ? {v}exOld : ''"},
            {"name": "classOk",
             "expression": f"{v}carried != '' && {v}carried in params.spec.?exceptionClasses.orValue([])"},
            {"name": "mayOverride",
             "expression": f"params.spec.action != 'scrutiny' && {check}.check('override').allowed()"},
            {"name": "mayApprove",
             "expression": f"params.spec.action == 'restrict' && {check}.check('approve').allowed()"},
            {"name": "exemption",
             "expression": f"!{v}release ? '' : {v}classOk ? {v}carried : {v}mayOverride ? 'override' : "
                           f"{v}mayApprove ? 'approve' : ''"},
            {"name": "letThrough",
             "expression": f"{v}release && ({v}exemption != '' || params.spec.action == 'scrutiny')"},
            {"name": "isOperator",
             "expression": "params.spec.?operatorUser.orValue('') != '' && "
                           "request.userInfo.username == params.spec.operatorUser"},
            {"name": "protectedChanged",
             "expression": f"{v}isUpdate && ({_protected_changed('labels')} || "
                           f"{_protected_changed('annotations')})"},
        ],
        "validations": [
            {
                "expression": f"!{v}covered || !{v}protectedChanged || {v}isOperator || {v}letThrough",
                "messageExpression": f"string({v}workload + ' ' + params.spec.messages.metadata)",
                "reason": "Forbidden",
            },
            {
                "expression": f"!{v}covered || !{v}release || {v}exemption != ''",
                "messageExpression": (
                    f"string(params.spec.action == 'scrutiny' ? params.spec.messages.release : "
                    f"{v}workload + ': ' + params.spec.messages.release + "
                    f"({v}carried != '' ? \" ('\" + {v}carried + \"' is not an allowed exception class.)\" : "
                    f"{v}exNew != '' ? {_q(core.STALE_EXCEPTION_NOTE)} : ''))"),
                "reason": "Forbidden",
            },
        ],
        "auditAnnotations": [{
            "key": "exemption",
            "valueExpression": (
                # An empty value leaves the annotation out. The authorizer is not available here: a
                # release without an allowed class got through only by override/approve (RBAC) when
                # the request was admitted at all.
                f"string({v}covered && {v}release && params.spec.action != 'scrutiny' ? "
                f"({v}classOk ? 'exception ' + {v}carried : 'override/approve') + ' by ' + "
                f"request.userInfo.username + ' on ' + {v}workload + ' under ' + params.spec.action + "
                f"' of ErrorBudgetPolicy ' + request.namespace + '/' + params.spec.policy : '')"),
        }],
    }


def holds_policy(name: str) -> dict[str, Any]:
    """The hold ValidatingAdmissionPolicy as the chart installs it (tests without the chart apply this)."""
    return {"apiVersion": ADMISSION_API, "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name, "labels": {c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE}},
            "spec": holds_policy_spec()}


def holds_bindings(name: str) -> list[dict[str, Any]]:
    """One binding per enforcement label; each reads the ErrorBudgetHolds of the request's namespace."""
    return [{
        "apiVersion": ADMISSION_API, "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": f"{name}-{label.lower()}", "labels": {c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE}},
        "spec": {"policyName": name, "validationActions": actions,
                 "paramRef": {"selector": {"matchLabels": {c.LABEL_ENFORCEMENT: label}},
                              "parameterNotFoundAction": "Allow"}},
    } for label, actions in BINDING_ACTIONS.items()]


#: Who may delete an ErrorBudgetHold besides the operator: the garbage collector (the policy is
#: gone) and the namespace controller, as kube-controller-manager or its service accounts.
PARAMS_DELETERS = ("system:kube-controller-manager", "system:serviceaccount:kube-system:generic-garbage-collector",
                   "system:serviceaccount:kube-system:namespace-controller")


def params_guard_policy(name: str, operator_user: str) -> dict[str, Any]:
    """Only the operator writes ErrorBudgetHolds, whatever RBAC grants (an aggregated admin role, say)."""
    return {
        "apiVersion": ADMISSION_API, "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "labels": {c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{
                "apiGroups": [c.GROUP], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE", "DELETE"],
                "resources": [c.PLURAL_HOLD, f"{c.PLURAL_HOLD}/status"]}]},
            "validations": [{
                "expression": f"request.userInfo.username == {_q(operator_user)} || "
                              f"(request.operation == 'DELETE' && request.userInfo.username in "
                              f"{string_list(PARAMS_DELETERS)})",
                "message": f"{c.KIND_HOLD} objects are written by the sloguard operator only",
                "reason": "Forbidden",
            }],
        },
    }


def params_guard_binding(name: str) -> dict[str, Any]:
    return {"apiVersion": ADMISSION_API, "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name, "labels": {c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE}},
            "spec": {"policyName": name, "validationActions": ["Deny"]}}


def holds_webhook_configuration(name: str, handler_id: str, namespaces: list[str], *, ca_bundle: bytes,
                                url_base: str | None, service: tuple[str, str, int] | None,
                                failure_policy: str, timeout_seconds: int = 5) -> dict[str, Any]:
    """The webhook mechanism's configuration: covered kinds in namespaces with a holding policy.

    Scoped tightly: only namespaces with a holding webhook-mechanism policy (never kube-system or the
    operator's own), only the covered kinds, never the workload controllers (matchConditions, so a
    Deployment's own Pods never wait on us); ``timeout_seconds`` (the webhook setting, 5 s by
    default). A hold follows names, not labels, so there is no objectSelector: the webhook decides what it covers.
    """
    from .webhooks import client_config

    ns_selector = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                                         "values": namespaces or ["-"]}]}
    not_controller = [{"name": "not-a-workload-controller",
                       "expression": f"!(request.userInfo.username in {string_list(core.CONTROLLER_USERS)})"}]

    def hook(suffix: str, operation: str) -> dict[str, Any]:
        return {
            "name": f"{suffix}.holds.{c.GROUP}",
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "failurePolicy": failure_policy,
            "matchPolicy": "Equivalent",
            "timeoutSeconds": timeout_seconds,
            "namespaceSelector": ns_selector,
            "matchConditions": not_controller,
            "rules": [{"apiGroups": [group], "apiVersions": ["*"], "resources": list(resources),
                       "operations": [operation], "scope": "Namespaced"} for group, resources in COVERED_RESOURCES],
            "clientConfig": client_config(handler_id, ca_bundle=ca_bundle, url_base=url_base, service=service),
        }

    return {
        "apiVersion": ADMISSION_API,
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},  # no labels: the chart owns it (Helm's labels) when installed by it
        "webhooks": [hook("held", "UPDATE"), hook("create", "CREATE")],
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


def drop_annotation(kube: Kube, kind: str, namespace: str, name: str, key: str) -> None:
    """Remove one annotation whoever set it (a merge patch; server-side apply removes only its own)."""
    res = kube.resource("apps/v1", kind)
    try:
        res.patch(name=name, namespace=namespace, body={"metadata": {"annotations": {key: None}}},
                  content_type="application/merge-patch+json")
    except (ApiException, DynamicApiError) as e:
        if getattr(e, "status", None) != 404:
            raise KubeError(f"cannot remove {key} from {kind} {namespace}/{name}: {getattr(e, 'status', '')} "
                            f"{getattr(e, 'reason', '')}", getattr(e, "status", None)) from None


def whoami(kube: Kube) -> str:
    """The operator's own user name (SelfSubjectReview)."""
    try:
        review = client.AuthenticationV1Api(kube.api).create_self_subject_review(
            body=client.V1SelfSubjectReview())
    except ApiException as e:
        raise KubeError(f"cannot review our own identity: {e.status} {e.reason}", e.status) from None
    user = review.status.user_info if review.status is not None else None
    if user is None:
        raise KubeError("cannot review our own identity: the SelfSubjectReview came back without user info")
    return str(user.username)


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
    return review.status is not None and bool(review.status.allowed)

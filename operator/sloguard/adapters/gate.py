"""``sloguard gate``: would a release of this workload be admitted now?

The answer comes from the same place the admission answer does: the ``ErrorBudgetHold`` objects the
operator writes per ErrorBudgetPolicy (the params of the chart's hold admission policy) are turned
into :class:`sloguard.core.policy.Hold` values and a release of the workload is judged by
:func:`sloguard.core.policy.decide` — nothing is re-derived here. What the gate asks:

* A *plain* release: an UPDATE that changes the pod template of the workload as it stands (its
  labels and annotations as they are), or a CREATE when it does not exist (covered then only when a
  hold names it). ``exception`` asks about a release carrying ``sloguard.io/exception: <class>``.
* ``override``/``approve`` are deliberate acts, so they do not open the gate: the gate says whether
  the caller *could* override (SelfSubjectAccessReview) and exits "held" all the same.
* Enforcement as the hold is bound: ``Deny`` holds; ``Warn``/``Audit`` admit with a warning; with
  the operator's webhook (``status.mechanism: webhook``) the policy's ``enforcement.mode`` decides.

Facts come through the :class:`GateFacts` port; :class:`KubeGateFacts` reads them from the API
server (get workload, list holds and SLOs, get the policy, one SelfSubjectAccessReview per verb).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from ..api.common import LabelSelector
from ..api.policy import ErrorBudgetHoldSpec
from ..core import conventions as c
from ..core import policy as core
from .kube import Kube, KubeError

#: Kinds a release can be gated for, with their apiVersion.
KINDS = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "Rollout": "argoproj.io/v1alpha1"}
#: Enforcement as the API server applies it, by the hold's ``sloguard.io/enforcement`` label.
BLOCKING = "Deny"


class ClusterUnreachable(KubeError):
    """No answer from the API server (connection refused, DNS, TLS, timeout)."""


class GateFacts(Protocol):
    """What the gate reads; the API server in real use, dictionaries in unit tests."""

    def user(self) -> str: ...
    def workload(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...
    def holds(self, namespace: str) -> list[dict[str, Any]]: ...
    def policy(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    def slos(self, namespace: str) -> list[dict[str, Any]]: ...
    def can_i(self, verb: str, namespace: str, policy: str) -> bool: ...


@dataclass(frozen=True)
class SLOBudgetRow:
    name: str
    remaining_percent: float | None
    deciding: bool = False


@dataclass(frozen=True)
class Blocker:
    """One ErrorBudgetPolicy whose hold covers the workload."""

    policy: str
    namespace: str
    action: str
    level: str
    enforcement: str  # Deny, Warn, Audit, webhook:<mode>, none
    blocking: bool  # this policy alone refuses the release
    message: str  # core.decide's denial, or its warning
    since: str | None
    slos: tuple[SLOBudgetRow, ...]
    #: The verbs that would let the release through and whether the caller holds them.
    may: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class GateResult:
    kind: str
    namespace: str
    name: str
    exists: bool
    user: str
    checked_at: str
    exception: str
    blockers: tuple[Blocker, ...]
    problems: tuple[str, ...] = ()  # holds that could not be read (they count as blocking)

    @property
    def admitted(self) -> bool:
        return not self.problems and not any(b.blocking for b in self.blockers)

    @property
    def workload(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def release_request(kind: str, namespace: str, name: str, obj: dict[str, Any] | None,
                    exception: str = "") -> core.Request:
    """The admission facts of a plain release of the workload as it stands (CREATE when absent)."""
    extra = {c.ANNOTATION_EXCEPTION: exception} if exception else {}
    if obj is None:
        return core.Request("CREATE", kind, namespace, name, new_template={"gate": "release"}, new_annotations=extra)
    meta = obj.get("metadata") or {}
    template = dict((obj.get("spec") or {}).get("template") or {})
    labels = dict(meta.get("labels") or {})
    annotations = dict(meta.get("annotations") or {})
    tlabels = dict((template.get("metadata") or {}).get("labels") or {})
    # Only the class and reason annotations matter to decide; the template differs, so it is a release.
    return core.Request("UPDATE", kind, namespace, name, old_template=template,
                        new_template={**template, "sloguard.io/gate": "release"},
                        old_labels=labels, new_labels=labels, old_annotations=annotations,
                        new_annotations={**annotations, **extra}, old_template_labels=tlabels,
                        new_template_labels=tlabels)


def to_hold(params: dict[str, Any], policy: dict[str, Any] | None) -> core.Hold:
    """An ErrorBudgetHold (and its policy's status for level/SLO/budget) as admission sees it."""
    meta = params.get("metadata") or {}
    spec = ErrorBudgetHoldSpec.model_validate(params.get("spec") or {})
    status = (policy or {}).get("status") or {}
    return core.Hold(
        policy=spec.policy, namespace=str(meta.get("namespace") or ""), action=spec.action,
        level=str(status.get("level") or "unknown"), slo=str(status.get("slo") or "unknown"),
        remaining_percent=status.get("remainingPercent"), exception_classes=tuple(spec.exception_classes),
        selectors=tuple(t.selector.to_core() for t in spec.targets),
        held=frozenset((h.kind, h.name) for h in spec.held), cause=str(status.get("cause") or ""),
        cause_percent=status.get("causePercent"))


def enforcement_of(params: dict[str, Any], policy: dict[str, Any] | None) -> tuple[str, bool]:
    """(how the hold is enforced, whether a denial refuses the release)."""
    label = ((params.get("metadata") or {}).get("labels") or {}).get(c.LABEL_ENFORCEMENT, "none")
    if label != "none":
        return label, label == BLOCKING
    if ((policy or {}).get("status") or {}).get("mechanism") == "webhook":
        mode = (((policy or {}).get("spec") or {}).get("enforcement") or {}).get("mode", "enforce")
        return f"webhook:{mode}", mode == "enforce"
    return "none", False


def policy_slos(policy: dict[str, Any] | None, slos: list[dict[str, Any]], deciding: str) -> tuple[SLOBudgetRow, ...]:
    """The policy's SLOs (by name or selector) with the remaining budget their status reports."""
    spec = (policy or {}).get("spec") or {}
    names = spec.get("slos")
    selector = LabelSelector.model_validate(spec.get("sloSelector") or {}) if spec.get("sloSelector") else None
    rows = []
    for slo in slos:
        meta = slo.get("metadata") or {}
        name = str(meta.get("name") or "")
        if (names is not None and name in names) or (selector is not None and selector.matches(
                meta.get("labels") or {})):
            remaining = ((slo.get("status") or {}).get("budget") or {}).get("remainingPercent")
            rows.append(SLOBudgetRow(name, remaining, name == deciding))
    if deciding and not any(r.deciding for r in rows):
        status = (policy or {}).get("status") or {}
        rows.append(SLOBudgetRow(deciding, status.get("remainingPercent"), True))
    return tuple(sorted(rows, key=lambda r: (not r.deciding, r.name)))


def gate(facts: GateFacts, kind: str, namespace: str, name: str, now: datetime, exception: str = "") -> GateResult:
    """Judge a release of ``kind namespace/name`` against every hold in its namespace, as admission would."""
    obj = facts.workload(kind, namespace, name)
    req = release_request(kind, namespace, name, obj, exception)
    blockers: list[Blocker] = []
    problems: list[str] = []
    for params in facts.holds(namespace):
        hold_name = (params.get("metadata") or {}).get("name", "?")
        spec = params.get("spec") or {}
        if spec.get("action") not in core.HOLDING:
            continue
        policy = facts.policy(namespace, str(spec.get("policy") or hold_name))
        try:
            hold = to_hold(params, policy)
        except ValidationError as e:
            problems.append(f"{c.KIND_HOLD} {namespace}/{hold_name}: cannot be read: "
                            f"{e.errors()[0]['loc']}: {e.errors()[0]['msg']}")
            continue
        if not core.covers(hold, req):
            continue
        decision = core.decide(hold, req)  # a plain release: can_override/can_approve stay False
        enforcement, enforced = enforcement_of(params, policy)
        message = "; ".join(decision.warnings) if decision.allowed else decision.message
        verbs = {"scrutiny": (), "restrict": ("approve", "override")}.get(hold.action, ("override",))
        may = {v: facts.can_i(v, namespace, hold.policy) for v in verbs} if not decision.allowed else {}
        status = (policy or {}).get("status") or {}
        slos = policy_slos(policy, facts.slos(namespace), str(status.get("slo") or "")) if policy else ()
        blockers.append(Blocker(hold.policy, namespace, hold.action, hold.level, enforcement,
                                enforced and not decision.allowed, message, status.get("since"), slos, may))
    return GateResult(kind, namespace, name, obj is not None, facts.user(), now.isoformat(), exception,
                      tuple(blockers), tuple(problems))


# --- Output ----------------------------------------------------------------------------------------

def _pct(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1f}%"


def to_json(result: GateResult) -> str:
    out = asdict(result)
    out["admitted"] = result.admitted
    return json.dumps(out, indent=2, sort_keys=True)


def to_text(result: GateResult) -> str:
    """For people: the verdict first, then per policy its action, SLOs, budgets and who may override."""
    lines = []
    absent = "" if result.exists else " (it does not exist yet: judged as a create, covered only by name)"
    if result.admitted:
        held = [b for b in result.blockers if not b.blocking]
        why = "no ErrorBudgetPolicy holds it" if not held else "its holds do not refuse releases"
        lines.append(f"ADMITTED: a release of {result.workload} would be admitted now ({why}){absent}.")
    else:
        lines.append(f"HELD: a release of {result.workload} would be refused now{absent}.")
    for problem in result.problems:
        lines.append(f"  {problem}")
    for b in result.blockers:
        since = f" since {b.since}" if b.since else ""
        state = "refuses releases" if b.blocking else f"does not refuse releases (enforcement {b.enforcement})"
        lines.append(f"  ErrorBudgetPolicy {b.namespace}/{b.policy}: {b.action} (level {b.level}){since}, {state}")
        for s in b.slos:
            mark = " (deciding)" if s.deciding else ""
            lines.append(f"    SLO {s.name}: {_pct(s.remaining_percent)} of its error budget left{mark}")
        lines.append(f"    {b.message}")
        for verb, allowed in b.may.items():
            who = result.user or "you"
            lines.append(f"    Who may {verb}: whoever RBAC grants '{verb}' on errorbudgetpolicies/{b.policy} in "
                         f"{b.namespace} (kubectl auth can-i {verb} errorbudgetpolicies/{b.policy} -n {b.namespace})"
                         f"; {who} {'can' if allowed else 'cannot'}.")
    return "\n".join(lines)


# --- The API server --------------------------------------------------------------------------------

def connect(kubeconfig: str | None = None, context: str | None = None) -> Kube:
    """In-cluster credentials (a PreSync Job) unless a kubeconfig or context is named; else the kubeconfig."""
    from kubernetes import config

    try:
        if kubeconfig is None and context is None:
            return Kube.connect()
        return Kube(config.new_client_from_config(config_file=kubeconfig, context=context))
    except (config.ConfigException, OSError) as e:
        raise KubeError(f"cannot load kubeconfig {kubeconfig or '(default)'}"
                        f"{f' context {context}' if context else ''}: {e}", 400) from None


class KubeGateFacts:
    """:class:`GateFacts` from the API server. Connection failures raise :class:`ClusterUnreachable`."""

    def __init__(self, kube: Kube):
        self.kube = kube

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, **kwargs)
        except (HTTPError, OSError) as e:
            host = getattr(self.kube.api.configuration, "host", "?")
            raise ClusterUnreachable(f"cannot reach the API server at {host} to {what}: "
                                     f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None

    def user(self) -> str:
        from .admission_policy import whoami

        try:
            return str(self._call("review our identity", whoami, self.kube))
        except ClusterUnreachable:
            raise
        except KubeError:
            return ""  # SelfSubjectReview not allowed: the output says "you"

    def workload(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self._call(f"get {kind} {namespace}/{name}", self.kube.get, KINDS[kind], kind, name,  # type: ignore[no-any-return]
                              namespace)
        except ClusterUnreachable:
            raise
        except KubeError as e:
            if kind == "Rollout" and e.status is None:
                return None  # Argo Rollouts not installed: no such workload
            raise

    def holds(self, namespace: str) -> list[dict[str, Any]]:
        return self._call(f"list {c.KIND_HOLD}s in {namespace}", self.kube.list,  # type: ignore[no-any-return]
                          c.API_VERSION, c.KIND_HOLD, namespace)

    def policy(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._call(f"get {c.KIND_POLICY} {namespace}/{name}", self.kube.get,  # type: ignore[no-any-return]
                          c.API_VERSION, c.KIND_POLICY, name, namespace)

    def slos(self, namespace: str) -> list[dict[str, Any]]:
        return self._call(f"list {c.KIND_SLO}s in {namespace}", self.kube.list,  # type: ignore[no-any-return]
                          c.API_VERSION, c.KIND_SLO, namespace)

    def can_i(self, verb: str, namespace: str, policy: str) -> bool:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        body = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(group=c.GROUP, resource=c.PLURAL_POLICY, name=policy,
                                                            namespace=namespace, verb=verb)))
        api = client.AuthorizationV1Api(self.kube.api)
        try:
            review = self._call(f"check {verb}", api.create_self_subject_access_review, body=body)
        except ApiException as e:
            raise KubeError(f"cannot check whether we may {verb} errorbudgetpolicies/{policy}: {e.status} "
                            f"{e.reason}", e.status) from None
        return bool(review.status.allowed)

"""ErrorBudgetPolicy orchestration: SLO budgets -> policy level -> held workloads -> enforcement.

* SLO watch events keep a cache of each SLO's budget (written by the budget refresher into SLO
  status, :func:`note_slo`); a change re-evaluates the policies of that namespace at once.
* :func:`plan_policy` turns a policy, the cached budgets and what the cluster holds into a
  :class:`PolicyPlan`: the ``ErrorBudgetHold`` to apply, the hold metadata to put on or take off
  workloads, the Events and the status. :func:`carry_out` applies it in the safe order.
* Held workloads get ``sloguard.io/hold=<action>`` and the hold annotations through server-side
  apply with the ``sloguard-holds`` field manager, which owns nothing else: GitOps tools see no
  drift, and applying an empty set removes exactly what we added.
* Enforcement: an ``ErrorBudgetHold`` per policy, the params of the chart's one hold
  ValidatingAdmissionPolicy (mechanism ``admissionPolicy``), or the operator's webhook (mechanism
  ``webhook``, served only when it is enabled: :func:`sync_webhook_configuration`, :func:`admit`).
  A hold follows names: every workload it held stays held (deleted ones included) until it lifts.
* Exemptions are recorded from the operator's own watch of held workloads, never from an
  admission request (anyone reaching the webhook port could post one): a held workload whose pod
  template changed was let through a hold, by the exception class its change carried or by
  override (:func:`observe_workload`). Each one is an Event and a bounded ``status.exemptions``
  entry; the hold metadata a ``rollout undo`` dropped is put back at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ..adapters import admission_policy as vap
from ..adapters.kube import KubeError
from ..api.common import Diagnostic, Target
from ..api.policy import EnforcementSpec, ErrorBudgetPolicySpec, parse_policy
from ..core import conventions as c
from ..core import policy as core
from ..core.conditions import rfc3339, set_condition
from .ports import EventPoster, PolicyCluster, WebhookCertificates

EXEMPTIONS_LIMIT = 20
VALIDATE_HOLD_ID = "validate-hold"
#: Seconds a SubjectAccessReview answer is reused (an RBAC change takes at most that long to count).
PERMISSION_TTL = 10.0
APPS = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}


# --- Operator state ---------------------------------------------------------------------------

@dataclass
class SLOInfo:
    labels: dict[str, str]
    budget: core.SLOBudget


@dataclass
class Active:
    """A policy's hold as the webhook and the watch need it."""

    hold: core.Hold
    mode: str
    mechanism: str
    failure_policy: str
    targets: list[Target]
    uid: str = ""


class PolicyState:
    """Per-operator state: SLO cache, locks, active holds, exemptions."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.slos: dict[str, dict[str, SLOInfo]] = {}
        self.locks: dict[tuple[str, str], threading.Lock] = {}
        self.active: dict[tuple[str, str], Active] = {}
        self.exemptions: dict[tuple[str, str], list[dict[str, Any]]] = {}
        #: (namespace, kind, name) -> (template digest, exception annotations): what the watch saw last
        self.seen: dict[tuple[str, str, str], tuple[str, dict[str, str]]] = {}
        #: (namespace, kind, name) -> "<class>/<reason>": exceptions seen set by a metadata-only change
        self.armed: dict[tuple[str, str, str], str] = {}
        self.operator_user = ""
        #: (user, groups, verb, namespace, policy) -> (expires at, allowed): SubjectAccessReview cache
        self.permissions: dict[tuple[Any, ...], tuple[float, bool]] = {}

    def policy_lock(self, key: tuple[str, str]) -> threading.Lock:
        with self.lock:
            return self.locks.setdefault(key, threading.Lock())


class WebhookOptions(Protocol):
    """The webhook settings the holds webhook configuration is built from."""

    @property
    def enabled(self) -> bool: ...
    @property
    def port(self) -> int: ...
    @property
    def host(self) -> str | None: ...
    @property
    def service_name(self) -> str | None: ...
    @property
    def service_namespace(self) -> str | None: ...
    @property
    def cert_dir(self) -> Path: ...
    @property
    def timeout_seconds(self) -> int: ...


@dataclass(frozen=True)
class Runtime:
    """What every policy operation works with: ports, operator state and the platform's settings."""

    cluster: PolicyCluster
    events: EventPoster
    state: PolicyState
    logger: logging.Logger | logging.LoggerAdapter[Any]
    #: The chart's enforcement.mechanism: "none", "webhook", or anything else (each policy's own).
    enforcement: str
    webhook: WebhookOptions
    #: Name of the holds ValidatingWebhookConfiguration.
    webhook_name: str
    certificates: WebhookCertificates
    #: How a re-evaluation runs (the handlers count and time it); None: :func:`reconcile`.
    run: Callable[[Mapping[str, Any], datetime], object] | None = None


# --- Budgets in -------------------------------------------------------------------------------

def budget_from_status(name: str, status: Mapping[str, Any]) -> core.SLOBudget:
    """An SLO's budget as its status reports it (remaining as a percent or a fraction, burn rates, and
    ``budget.byCause`` fractions as percent; no ``byCause``: unknown, never 0)."""
    budget = status.get("budget") or {}
    rem = budget.get("remainingPercent")
    if rem is None and isinstance(budget.get("remaining"), int | float):
        rem = float(budget["remaining"]) * 100
    rates = {str(k): float(v) for k, v in (status.get("burnRates") or {}).items() if isinstance(v, int | float)}
    raw = budget.get("byCause")
    by_cause = ({str(k): float(v) * 100 for k, v in raw.items() if isinstance(v, int | float)}
                if isinstance(raw, Mapping) else None)
    return core.SLOBudget(name, float(rem) if isinstance(rem, int | float) else None, rates, by_cause or None)


def note_slo(st: PolicyState, body: Mapping[str, Any], deleted: bool) -> bool:
    """Cache one SLO watch event; True when the namespace's policies may decide differently now."""
    meta = body.get("metadata") or {}
    ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    info = None if deleted else SLOInfo(dict(meta.get("labels") or {}),
                                        budget_from_status(name, body.get("status") or {}))
    with st.lock:
        slos = st.slos.setdefault(ns, {})
        before = slos.pop(name, None) if info is None else slos.get(name)
        if info is not None:
            slos[name] = info
    if info is not None and before == info:
        return False
    # a new SLO without a budget yet cannot change any decision: spare the API a LIST
    return not (before is None and info is not None and not info.budget.known)


def select_slos(st: PolicyState, namespace: str, spec: ErrorBudgetPolicySpec) -> list[core.SLOBudget]:
    """The budgets of the SLOs a policy names (unknown ones without a budget) or selects."""
    with st.lock:
        slos = dict(st.slos.get(namespace, {}))
    if spec.slos is not None:
        return [slos[n].budget if n in slos else core.SLOBudget(n, None) for n in spec.slos]
    assert spec.slo_selector is not None
    return [i.budget for n, i in sorted(slos.items()) if spec.slo_selector.matches(i.labels)]


def previous_state(status: Mapping[str, Any]) -> core.PolicyState | None:
    """Where the policy stood according to its status (None before its first evaluation)."""
    if not status.get("action"):
        return None
    since = status.get("since")
    return core.PolicyState(
        level=str(status.get("level") or core.LEVEL_HEALTHY),
        action=status["action"] if status["action"] in core.ACTION_RANK else "none",
        slo=str(status.get("slo") or ""),
        remaining_percent=status.get("remainingPercent"),
        reason=str(status.get("reason") or ""),
        since=datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None,
        cause=str(status.get("cause") or ""),
        cause_percent=status.get("causePercent"),
    )


def effective_enforcement(enforcement: EnforcementSpec, platform: str) -> EnforcementSpec:
    """The policy's enforcement as the platform allows it.

    ``none`` (chart value enforcement.mechanism=none): report, label and post Events, but install
    nothing in the admission path. ``webhook``: the chart installs no hold admission policy, the
    operator's webhook enforces every policy whatever its own mechanism says.
    """
    if platform in ("none", "webhook"):
        return enforcement.model_copy(update={"mechanism": platform})
    return enforcement


# --- The plan ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    """An Event to post about ``involved``."""

    involved: Mapping[str, Any]
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class HoldMetadata:
    """The hold label and annotations to own on one workload; both empty: take ours off."""

    kind: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyPlan:
    """What one evaluation of a policy writes, in the order :func:`carry_out` writes it."""

    namespace: str
    name: str
    #: None: the spec is invalid, only ``status`` is written.
    state: core.PolicyState | None
    #: The status to merge-patch, except ``exemptions`` (the recorded ones are added when written).
    status: dict[str, Any]
    exemptions: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] | None = None
    #: The hold as admission and the watch see it (None when not holding).
    active: Active | None = None
    metadata: list[HoldMetadata] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    webhook: bool = False
    log: str = ""


def invalid_plan(body: Mapping[str, Any], diagnostics: list[Diagnostic], now: datetime) -> PolicyPlan:
    """An invalid spec: Ready=False with the errors; nothing else changes."""
    meta, status = body["metadata"], body.get("status") or {}
    message = "; ".join(f"{d.path}: {d.message}" for d in diagnostics if d.severity == "error")
    conditions = set_condition(list(status.get("conditions") or []), c.COND_READY, False, "InvalidSpec",
                               message, now, meta.get("generation"))
    return PolicyPlan(meta["namespace"], meta["name"], None,
                      {"conditions": conditions, "observedGeneration": meta.get("generation")})


def previously_held(cluster: PolicyCluster, ns: str, name: str) -> frozenset[tuple[str, str]]:
    """Names the hold's params list (deleted workloads too, so a re-create by name stays covered)."""
    current = cluster.get(c.API_VERSION, c.KIND_HOLD, name, ns) or {}
    spec = current.get("spec") or {}
    if spec.get("action") not in core.HOLDING:
        return frozenset()
    return frozenset((str(h.get("kind")), str(h.get("name"))) for h in spec.get("held") or [])


def _labelled_by(cluster: PolicyCluster, ns: str, name: str) -> list[tuple[str, str]]:
    """(kind, name) of the workloads carrying this policy's hold metadata."""
    return [(kind, item["metadata"]["name"]) for kind in APPS
            for item in cluster.list_workloads(ns, kind, c.LABEL_HOLD)
            if (item["metadata"].get("annotations") or {}).get(c.ANNOTATION_HOLD_POLICY) == name]


def wanted_workloads(cluster: PolicyCluster, ns: str, name: str, targets: list[Target],
                     before: frozenset[tuple[str, str]]) -> list[tuple[str, str]]:
    """(kind, name) of the workloads to hold: the targets' matches, and every one held before that still
    exists (a hold follows the workload, not its labels)."""
    wanted: dict[tuple[str, str], None] = {}
    for kind, wname in sorted(before):
        if kind in APPS and cluster.get("apps/v1", kind, wname, ns) is not None:
            wanted[(kind, wname)] = None
    for t in targets:
        for item in cluster.list_workloads(ns, t.kind, vap.selector_string(t.selector.to_dict())):
            wanted[(t.kind, item["metadata"]["name"])] = None
    for key in _labelled_by(cluster, ns, name):
        wanted[key] = None
    return list(wanted)


def hold_metadata(st: PolicyState, labelled: list[tuple[str, str]], ns: str, name: str,
                  wanted: list[tuple[str, str]], state: core.PolicyState, since: str) -> list[HoldMetadata]:
    """Label ``wanted`` (with the armed exception the watch saw); unlabel what this policy labelled and
    no longer holds."""
    labels = {c.LABEL_HOLD: state.action}
    annotations = core.hold_annotations(name, state, since)
    with st.lock:
        armed = {(kind, wname): {c.ANNOTATION_EXCEPTION_ARMED: a} if (a := st.armed.get((ns, kind, wname))) else {}
                 for kind, wname in wanted}
    put = [HoldMetadata(kind, wname, labels, {**annotations, **armed[(kind, wname)]}) for kind, wname in wanted]
    return put + [HoldMetadata(kind, wname) for kind, wname in labelled if (kind, wname) not in wanted]


def transition_event(body: Mapping[str, Any], prev: core.PolicyState, state: core.PolicyState,
                     n_held: int) -> Event | None:
    """The Event a change of level or action posts on the policy (None when neither changed)."""
    if (prev.level, prev.action) == (state.level, state.action):
        return None
    kind = "Warning" if core.ACTION_RANK[state.action] > core.ACTION_RANK[prev.action] else "Normal"
    reason = "HoldLifted" if state.action == "none" else f"Policy{state.action.capitalize()}"
    return Event(body, kind, reason, f"{prev.level}/{prev.action} -> {state.level}/{state.action}: "
                                     f"{state.reason}; {n_held} workload(s) held")


def policy_status(body: Mapping[str, Any], previous: core.PolicyState | None, state: core.PolicyState,
                  held: list[tuple[str, str]], mechanism: str, now: datetime,
                  by_cause_levels: bool = False) -> dict[str, Any]:
    """The evaluated status (without exemptions): level, action, held targets, history, Ready, and
    ByCauseKnown when ``by_cause_levels`` (a level triggers on a cause)."""
    meta, status = body["metadata"], body.get("status") or {}
    generation = meta.get("generation")
    history = core.transition(status.get("transitions") or [], previous or core.PolicyState(), state, rfc3339(now))
    conditions = set_condition(list(status.get("conditions") or []), c.COND_READY, True, "Evaluated",
                               f"{state.level}: {state.reason}", now, generation)
    if by_cause_levels:
        conditions = (set_condition(conditions, c.COND_BY_CAUSE_KNOWN, False, "ByCauseUnknown",
                                    f"no status.budget.byCause for SLO(s) {', '.join(state.causes_unknown)}: "
                                    f"levels on a cause cannot trigger for them", now, generation)
                      if state.causes_unknown else
                      set_condition(conditions, c.COND_BY_CAUSE_KNOWN, True, "ByCauseKnown",
                                    "every SLO reports its budget by cause", now, generation))
    else:
        conditions = [x for x in conditions if x.get("type") != c.COND_BY_CAUSE_KNOWN]
    return {
        "level": state.level, "action": state.action, "slo": state.slo or None,
        "remainingPercent": state.remaining_percent, "reason": state.reason,
        "cause": state.cause or None, "causePercent": state.cause_percent,
        "causesUnknown": list(state.causes_unknown) or None,
        "since": rfc3339(state.since) if state.since else None,
        "held": len(held), "heldTargets": [{"kind": k, "name": n} for k, n in sorted(held)],
        "transitions": history, "mechanism": mechanism, "observedGeneration": generation, "conditions": conditions,
    }


def plan_policy(rt: Runtime, body: Mapping[str, Any], now: datetime) -> PolicyPlan:
    """Fetch -> decide: budgets and the cluster's workloads -> level, holds, enforcement, status."""
    spec, diagnostics = parse_policy(body)
    if spec is None:
        return invalid_plan(body, diagnostics, now)
    meta, st = body["metadata"], rt.state
    ns, name = meta["namespace"], meta["name"]
    rules = spec.to_core(ns, name)
    previous = previous_state(body.get("status") or {})
    state = core.evaluate(rules, select_slos(st, ns, spec), previous, now)
    enforcement = effective_enforcement(spec.enforcement, rt.enforcement)
    before = previously_held(rt.cluster, ns, name) if state.holding else frozenset()
    wanted = wanted_workloads(rt.cluster, ns, name, spec.targets, before) if state.holding else []
    hold = core.Hold(name, ns, state.action, state.level, state.slo, state.remaining_percent,
                     rules.exception_classes, tuple(t.selector.to_core() for t in spec.targets),
                     frozenset(wanted) | before, state.cause, state.cause_percent)
    uid = str(meta.get("uid") or "")
    params = vap.hold_params(hold, spec.targets, mode=enforcement.mode, mechanism=enforcement.mechanism,
                             operator_user=st.operator_user, owner_uid=uid)
    active = Active(hold, enforcement.mode, enforcement.mechanism, enforcement.failure_policy,
                    list(spec.targets), uid) if state.holding else None
    since = rfc3339(state.since) if state.since else ""
    prev = previous or core.PolicyState()
    event = transition_event(body, prev, state, len(wanted))
    return PolicyPlan(
        ns, name, state, policy_status(body, previous, state, wanted, enforcement.mechanism, now,
                                       any(x.by_cause for x in rules.levels)),
        list((body.get("status") or {}).get("exemptions") or []), params, active,
        hold_metadata(st, _labelled_by(rt.cluster, ns, name), ns, name, wanted, state, since),
        [event] if event else [], enforcement.mechanism == "webhook",
        f"ErrorBudgetPolicy {ns}/{name}: {prev.action} -> {state.action} ({state.reason})" if event else "")


# --- Carrying a plan out ----------------------------------------------------------------------

def apply_hold_metadata(cluster: PolicyCluster, ns: str, change: HoldMetadata) -> None:
    """Own exactly ``change``'s label and annotations on the workload (a deleted one is fine)."""
    meta: dict[str, Any] = {"name": change.name, "namespace": ns}
    if change.labels:
        meta["labels"] = dict(change.labels)
    if change.annotations:
        meta["annotations"] = dict(change.annotations)
    try:
        cluster.apply({"apiVersion": "apps/v1", "kind": change.kind, "metadata": meta},
                      field_manager=c.FIELD_MANAGER_HOLDS)
    except KubeError as e:
        if e.status not in (404, 422):  # deleted meanwhile
            raise


def carry_out(rt: Runtime, plan: PolicyPlan) -> core.PolicyState | None:
    """Write ``plan``: enforcement first when holding (no window without it), labels first when releasing."""
    key, st = (plan.namespace, plan.name), rt.state
    if plan.state is None:
        rt.cluster.patch_status(c.API_VERSION, c.KIND_POLICY, plan.name, plan.namespace, plan.status)
        return None
    if plan.params is not None and plan.active is not None:
        rt.cluster.apply(plan.params)
    with st.lock:
        if plan.active is not None:
            st.active[key] = plan.active
        else:
            st.active.pop(key, None)
    for change in plan.metadata:
        apply_hold_metadata(rt.cluster, plan.namespace, change)
    if plan.params is not None and plan.active is None:
        rt.cluster.apply(plan.params)
    if plan.webhook:
        sync_webhook_configuration(rt)
    for e in plan.events:
        rt.events.post(e.involved, type_=e.type, reason=e.reason, message=e.message)
    if plan.log:
        rt.logger.info(plan.log)
    with st.lock:
        exemptions = plan.exemptions + st.exemptions.pop(key, [])
    status = {**plan.status, "exemptions": exemptions[-EXEMPTIONS_LIMIT:]}
    rt.cluster.patch_status(c.API_VERSION, c.KIND_POLICY, plan.name, plan.namespace, status)
    return plan.state


def reconcile(rt: Runtime, body: Mapping[str, Any], now: datetime) -> core.PolicyState | None:
    """Fetch -> decide -> apply labels and enforcement -> status. Returns the new state."""
    return carry_out(rt, plan_policy(rt, body, now))


def reconcile_by_name(rt: Runtime, ns: str, name: str, now: datetime) -> None:
    """Re-evaluate the stored policy ``ns/name`` under its lock; a cluster error is logged (the timer retries)."""
    with rt.state.policy_lock((ns, name)):
        try:
            fresh = rt.cluster.get(c.API_VERSION, c.KIND_POLICY, name, ns)
            if fresh is None:
                return
            if rt.run is not None:
                rt.run(fresh, now)
            else:
                reconcile(rt, fresh, now)
        except KubeError as e:
            rt.logger.error(f"ErrorBudgetPolicy {ns}/{name}: {e}")


def release_all(rt: Runtime, ns: str, name: str) -> None:
    """The policy is gone: lift its holds (its ErrorBudgetHold is owned by it: the garbage collector
    removes that)."""
    with rt.state.lock:
        rt.state.active.pop((ns, name), None)
    try:
        for change in hold_metadata(rt.state, _labelled_by(rt.cluster, ns, name), ns, name, [],
                                    core.PolicyState(), ""):
            apply_hold_metadata(rt.cluster, ns, change)
        sync_webhook_configuration(rt)
    except KubeError as e:
        rt.logger.error(f"releasing holds of deleted ErrorBudgetPolicy {ns}/{name}: {e}")


# --- Webhook mechanism ------------------------------------------------------------------------

def webhook_hosts(wh: WebhookOptions) -> list[str]:
    """The names the webhook's serving certificate is for: its Service, its URL host, loopback."""
    hosts = [h for h in (wh.host, "localhost", "127.0.0.1") if h]
    if wh.service_name and wh.service_namespace:
        svc = f"{wh.service_name}.{wh.service_namespace}.svc"
        hosts = [svc, f"{svc}.cluster.local", *hosts]
    return list(dict.fromkeys(hosts))


def webhook_configuration(wh: WebhookOptions, name: str, active: list[Active], ca_bundle: bytes) -> dict[str, Any]:
    """The holds webhook configuration for ``active`` webhook holds: their namespaces (never kube-system
    or the operator's own), Fail when any policy asks for it."""
    url_base = f"https://{wh.host}:{wh.port}" if wh.host else None
    service = (wh.service_name, wh.service_namespace, 443) if wh.service_name and wh.service_namespace else None
    excluded = {"kube-system", *(n for n in (wh.service_namespace,) if n)}
    namespaces = sorted({a.hold.namespace for a in active} - excluded)
    failure = "Fail" if any(a.failure_policy == "Fail" for a in active) else "Ignore"
    return vap.holds_webhook_configuration(name, VALIDATE_HOLD_ID, namespaces, ca_bundle=ca_bundle,
                                           url_base=url_base, service=service, failure_policy=failure,
                                           timeout_seconds=wh.timeout_seconds)


def _clear_webhook_configuration(cluster: PolicyCluster, name: str) -> None:
    """No webhook hold: the chart's configuration is emptied (``helm uninstall`` deletes it), ours deleted."""
    existing = cluster.get("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", name)
    if existing and (existing["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of") == "sloguard":
        if existing.get("webhooks"):
            cluster.apply({"apiVersion": "admissionregistration.k8s.io/v1",
                           "kind": "ValidatingWebhookConfiguration", "metadata": {"name": name}, "webhooks": []})
    elif existing:
        cluster.delete_admission("ValidatingWebhookConfiguration", name)


def sync_webhook_configuration(rt: Runtime) -> None:
    """The holds webhook configuration: present while a webhook-mechanism policy holds, scoped to its namespaces."""
    with rt.state.lock:
        active = [a for a in rt.state.active.values() if a.mechanism == "webhook"]
    if not rt.webhook.enabled:
        if active:
            rt.logger.error("an ErrorBudgetPolicy asks for the webhook mechanism but the webhook is not enabled "
                            "(SLOGUARD_WEBHOOK=true / sloguard run --webhook); it is not enforced")
        return
    if not active:
        _clear_webhook_configuration(rt.cluster, rt.webhook_name)
        return
    ca_bundle = rt.certificates(rt.webhook.cert_dir, webhook_hosts(rt.webhook))
    rt.cluster.apply(webhook_configuration(rt.webhook, rt.webhook_name, active, ca_bundle))


# --- Admission (the webhook mechanism) --------------------------------------------------------

def _template(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    spec = obj.get("spec") or {}
    return spec if obj.get("kind") == "Pod" else spec.get("template")


def _template_labels(obj: Mapping[str, Any]) -> dict[str, str]:
    if obj.get("kind") == "Pod":
        return {}
    return dict(((((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {})


def admission_request(obj: Mapping[str, Any], before: Mapping[str, Any] | None, operation: str,
                      subresource: str | None, user: str, operator_user: str) -> core.Request:
    """The facts of one AdmissionReview as :func:`core.decide` reads them."""
    meta, old_meta = obj.get("metadata") or {}, (before or {}).get("metadata") or {}
    return core.Request(
        operation="CREATE" if operation == "CREATE" else "UPDATE", kind=str(obj.get("kind") or ""),
        namespace=str(meta.get("namespace") or ""), name=str(meta.get("name") or ""),
        subresource=subresource or "",
        old_template=_template(before) if before else None, new_template=_template(obj),
        old_labels=old_meta.get("labels") or {}, new_labels=meta.get("labels") or {},
        old_annotations=old_meta.get("annotations") or {}, new_annotations=meta.get("annotations") or {},
        old_template_labels=_template_labels(before) if before else {}, new_template_labels=_template_labels(obj),
        user=user, is_operator=bool(user) and user == operator_user)


@dataclass(frozen=True)
class Verdict:
    """The webhook's answer: warnings for the requester, and the denial (None: allowed)."""

    warnings: list[str] = field(default_factory=list)
    denial: str | None = None


def judge(active: list[Active], req: core.Request, may: Callable[[str, str], bool]) -> Verdict:
    """The same :func:`core.decide` as everywhere, for each webhook hold of the namespace; the first
    enforced denial ends it. ``may(verb, policy)``: the requester's RBAC on the policy."""
    warnings: list[str] = []
    for a in active:
        hold = a.hold
        if req.by_controller or not core.covers(hold, req):
            continue
        judged = req
        if core.is_release(req, hold) and req.exception_class not in hold.exception_classes:
            judged = replace(req, can_override=hold.action != "scrutiny" and may("override", hold.policy),
                             can_approve=hold.action == "restrict" and may("approve", hold.policy))
        decision = core.decide(hold, judged)
        warnings.extend(decision.warnings)
        if decision.allowed:
            continue
        if a.mode == "enforce":
            return Verdict(warnings, decision.message)
        if a.mode == "warn":
            warnings.append(decision.message)
    return Verdict(warnings)


def cached_permissions(st: PolicyState, cluster: PolicyCluster, userinfo: Mapping[str, Any], namespace: str,
                       clock: Callable[[], float]) -> Callable[[str, str], bool]:
    """``may(verb, policy)`` for the requester: a SubjectAccessReview per denial costs an API round trip,
    so answers are cached for PERMISSION_TTL seconds of ``clock``."""
    user, groups = str(userinfo.get("username") or ""), list(userinfo.get("groups") or [])

    def may(verb: str, policy: str) -> bool:
        key = (user, tuple(sorted(groups)), verb, namespace, policy)
        now = clock()
        with st.lock:
            cached = st.permissions.get(key)
        if cached and cached[0] > now:
            return cached[1]
        allowed = cluster.may(user, groups, verb, namespace, policy, extra=userinfo.get("extra"))
        with st.lock:
            if len(st.permissions) > 10_000:
                st.permissions.clear()
            st.permissions[key] = (now + PERMISSION_TTL, allowed)
        return allowed

    return may


def admit(st: PolicyState, cluster: PolicyCluster, obj: Mapping[str, Any], before: Mapping[str, Any] | None,
          operation: str, subresource: str | None, userinfo: Mapping[str, Any],
          clock: Callable[[], float]) -> Verdict:
    """The webhook's decision about one request. It records nothing: exemptions come from the
    operator's watch, never from a request anyone reaching the webhook port could post."""
    ns = str((obj.get("metadata") or {}).get("namespace") or "")
    with st.lock:
        active = [a for k, a in st.active.items() if k[0] == ns and a.mechanism == "webhook"]
    if not active:
        return Verdict()
    req = admission_request(obj, before, operation, subresource, str(userinfo.get("username") or ""),
                            st.operator_user)
    return judge(active, req, cached_permissions(st, cluster, userinfo, ns, clock))


# --- The watch: exemptions on record, hold metadata put back -----------------------------------

def template_digest(template: Any) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True, default=str).encode()).hexdigest()


def exception_annotations(meta: Mapping[str, Any]) -> dict[str, str]:
    ann = meta.get("annotations") or {}
    keys = (c.ANNOTATION_EXCEPTION, c.ANNOTATION_EXCEPTION_REASON, c.ANNOTATION_EXCEPTION_ARMED)
    return {k: str(ann[k]) for k in keys if k in ann}


@dataclass(frozen=True)
class Finding:
    """What one watch event of a held workload means for one holding policy."""

    policy: str
    #: The ``status.exemptions`` entry when the workload was let through the hold, else None.
    exemption: dict[str, Any] | None = None
    events: list[Event] = field(default_factory=list)
    log: str = ""
    #: Its ``sloguard.io/exception-armed`` was not armed by what the watch saw: take it off.
    disarm: bool = False
    #: Its hold metadata differs from what the policy puts: re-evaluate the policy.
    resync: bool = False


@dataclass(frozen=True)
class _Seen:
    """One workload's watch event compared with the last one."""

    key: tuple[str, str, str]
    before: tuple[str, dict[str, str]] | None
    now: tuple[str, dict[str, str]]
    released: bool
    armed: str | None
    holders: list[Active]


def _remember(st: PolicyState, obj: Mapping[str, Any]) -> _Seen:
    """Record what the watch sees of ``obj``; (dis)arm an exception set by a metadata-only change."""
    meta = obj.get("metadata") or {}
    key = (str(meta.get("namespace") or ""), str(obj.get("kind") or ""), str(meta.get("name") or ""))
    now_seen = (template_digest(_template(obj)), exception_annotations(meta))
    released = False
    with st.lock:
        before = st.seen.get(key)
        st.seen[key] = now_seen
        holders = [a for k, a in st.active.items() if k[0] == key[0] and key[1:] in a.hold.held]
        if before is not None:
            released = before[0] != now_seen[0]
            exception_now = {k: v for k, v in now_seen[1].items() if k != c.ANNOTATION_EXCEPTION_ARMED}
            exception_before = {k: v for k, v in before[1].items() if k != c.ANNOTATION_EXCEPTION_ARMED}
            if released or not exception_now.get(c.ANNOTATION_EXCEPTION):
                st.armed.pop(key, None)
            elif holders and exception_now != exception_before:
                st.armed[key] = core.armed_value(exception_now)
        armed = st.armed.get(key)
    return _Seen(key, before, now_seen, released, armed, holders)


def _exemption(seen: _Seen, a: Active, obj: Mapping[str, Any], now: datetime) -> Finding:
    """A held workload let through ``a``'s hold: the status entry, the Events on policy and workload."""
    assert seen.before is not None
    hold, (ns, kind, name) = a.hold, seen.key
    generation = (obj.get("metadata") or {}).get("generation")
    exemption = core.release_exemption(hold, "UPDATE", seen.before[1], seen.now[1])
    reason = ((seen.now[1].get(c.ANNOTATION_EXCEPTION_REASON) or seen.before[1].get(c.ANNOTATION_EXCEPTION_REASON))
              if exemption in hold.exception_classes else None)
    entry = {"at": rfc3339(now), "kind": kind, "name": name, "generation": generation,
             "exemption": exemption, "action": hold.action}
    if reason:
        entry["reason"] = reason
    ref = {"apiVersion": c.API_VERSION, "kind": c.KIND_POLICY,
           "metadata": {"name": hold.policy, "namespace": ns, "uid": a.uid}}
    message = (f"{kind} {ns}/{name} generation {generation} released under {hold.action} "
               f"by {exemption}" + (f" ({reason})" if reason else ""))
    events = [Event(ref, "Warning", "HoldExemption", message),
              Event(obj, "Warning", "HoldExemption", f"{message} (ErrorBudgetPolicy {ns}/{hold.policy})")]
    return Finding(hold.policy, entry, events, f"ErrorBudgetPolicy {ns}/{hold.policy}: {message}")


def observe_workload(st: PolicyState, obj: Mapping[str, Any], deleted: bool, now: datetime) -> list[Finding]:
    """One watch event of a Deployment, StatefulSet or DaemonSet: a finding per holding policy.

    A held workload (by name, any mechanism, mode enforce) whose pod template differs from what the
    watch saw last was let through its hold: an exemption with the exception class its change
    carried, or override. An exception the watch saw set by a metadata-only change is armed
    (``sloguard.io/exception-armed``): the next release may use it by removing it
    (``kubectl rollout undo``); a release disarms it. Hold metadata a release removed is put back.
    """
    meta = obj.get("metadata") or {}
    if deleted:
        with st.lock:
            st.seen.pop((str(meta.get("namespace") or ""), str(obj.get("kind") or ""),
                         str(meta.get("name") or "")), None)
        return []
    seen = _remember(st, obj)
    labels, ann = meta.get("labels") or {}, meta.get("annotations") or {}
    findings = []
    for a in seen.holders:
        hold = a.hold
        enforced = a.mode == "enforce" and a.mechanism in ("admissionPolicy", "webhook")
        exempted = seen.released and enforced and hold.action != "scrutiny"
        finding = _exemption(seen, a, obj, now) if exempted else Finding(hold.policy)
        findings.append(replace(
            finding,
            disarm=bool(ann.get(c.ANNOTATION_EXCEPTION_ARMED)) and seen.armed is None,
            resync=(labels.get(c.LABEL_HOLD) != hold.action or ann.get(c.ANNOTATION_HOLD_POLICY) != hold.policy
                    or ann.get(c.ANNOTATION_EXCEPTION_ARMED) != seen.armed)))
    return findings


def act_on(rt: Runtime, obj: Mapping[str, Any], findings: list[Finding], now: datetime) -> None:
    """Record exemptions (status at the policy's next write, Events now), disarm, re-evaluate."""
    meta = obj.get("metadata") or {}
    ns, name, kind = str(meta.get("namespace") or ""), str(meta.get("name") or ""), str(obj.get("kind") or "")
    for f in findings:
        if f.exemption is not None:
            with rt.state.lock:
                rt.state.exemptions.setdefault((ns, f.policy), []).append(f.exemption)
            for e in f.events:
                rt.events.post(e.involved, type_=e.type, reason=e.reason, message=e.message)
            rt.logger.info(f.log)
            reconcile_by_name(rt, ns, f.policy, now)
        if f.disarm:
            # not armed by what this watch saw (an undo restored an old revision's annotations,
            # or the operator restarted): disarm, so no leftover exception is used twice
            try:
                rt.cluster.drop_annotation(kind, ns, name, c.ANNOTATION_EXCEPTION_ARMED)
            except KubeError as e:
                rt.logger.error(f"{kind} {ns}/{name}: {e}")
        if f.resync:
            reconcile_by_name(rt, ns, f.policy, now)

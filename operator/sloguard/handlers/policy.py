"""ErrorBudgetPolicy handlers: SLO budgets -> policy level -> held workloads -> enforcement.

* SLO watch events keep a cache of each SLO's budget (written by the budget refresher into SLO
  status); a change re-evaluates the policies of that namespace at once. A timer re-evaluates
  every policy periodically (new targets, retries).
* Held workloads get ``sloguard.io/hold=<action>`` and the hold annotations through server-side
  apply with the ``sloguard-holds`` field manager, which owns nothing else: GitOps tools see no
  drift, and applying an empty set removes exactly what we added.
* Enforcement: an ``ErrorBudgetHold`` per policy, the params of the chart's one hold
  ValidatingAdmissionPolicy (mechanism ``admissionPolicy``: the operator has no right on admission
  objects), or the operator's webhook (mechanism ``webhook``, served only when it is enabled).
  A hold follows names: every workload it held stays held (deleted ones included) until it lifts.
* Exemptions are recorded from the operator's own watch of held workloads, never from an
  admission request (anyone reaching the webhook port could post one): a held workload whose pod
  template changed was let through a hold, by the exception class its change carried or by
  override. Each one is an Event and a bounded ``status.exemptions`` entry; the hold metadata a
  ``rollout undo`` dropped is put back at once.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import kopf

from ..adapters import admission_policy as vap
from ..adapters.kube import KubeError
from ..api.policy import ErrorBudgetPolicySpec, Target, parse_policy
from ..core import conventions as c
from ..core import policy as core
from ..core.conditions import rfc3339, set_condition
from .context import Context, context
from .metrics import observe_admission, observe_reconcile

SLO = (c.GROUP, c.VERSION, c.PLURAL_SLO)
POLICY = (c.GROUP, c.VERSION, c.PLURAL_POLICY)
TIMER_INTERVAL = 10.0
EXEMPTIONS_LIMIT = 20
VALIDATE_HOLD_ID = "validate-hold"
PERMISSION_TTL = 10.0
_APPS = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}
#: Kinds the webhook mechanism judges, as kopf resource arguments (core: "v1", plural).
_COVERED: list[tuple[str, ...]] = [("apps", "v1", p) for p in ("deployments", "statefulsets", "daemonsets",
                                                                "replicasets")]
_COVERED += [("v1", "pods"), ("argoproj.io", "v1alpha1", "rollouts")]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _SLOInfo:
    labels: dict[str, str]
    budget: core.SLOBudget


@dataclass
class _Active:
    """A policy's hold as the webhook needs it."""

    hold: core.Hold
    mode: str
    mechanism: str
    failure_policy: str
    targets: list[Target]
    uid: str = ""


class PolicyState:
    """Per-operator state in ``Context.policy``: SLO cache, locks, active holds, exemptions."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.slos: dict[str, dict[str, _SLOInfo]] = {}
        self.locks: dict[tuple[str, str], threading.Lock] = {}
        self.active: dict[tuple[str, str], _Active] = {}
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


def _state(ctx: Context) -> PolicyState:
    if ctx.policy is None:  # a context made without Context.create (tests)
        ctx.policy = PolicyState()
    return ctx.policy


@kopf.on.startup()
def policy_startup(memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Learn our own user name (the operator's writes to hold labels are exempt); register the webhook."""
    try:
        ctx = context(memo)
    except RuntimeError:
        raise kopf.TemporaryError("waiting for the operator context", delay=1) from None
    st = _state(ctx)
    try:
        st.operator_user = vap.whoami(ctx.kube)
    except KubeError as e:
        logger.error(f"cannot learn the operator's user name; hold labels are protected from it too: {e}")
    if ctx.settings.webhook.enabled:
        for resource in _COVERED:
            kopf.on.validate(*resource, id=VALIDATE_HOLD_ID, operations=["CREATE", "UPDATE"])(admit_hold_async)


# --- Budgets in -------------------------------------------------------------------------------

def _budget(name: str, status: dict[str, Any]) -> core.SLOBudget:
    budget = status.get("budget") or {}
    rem = budget.get("remainingPercent")
    if rem is None and isinstance(budget.get("remaining"), int | float):
        rem = float(budget["remaining"]) * 100
    rates = {str(k): float(v) for k, v in (status.get("burnRates") or {}).items() if isinstance(v, int | float)}
    return core.SLOBudget(name, float(rem) if isinstance(rem, int | float) else None, rates)


@kopf.on.event(*SLO)
def slo_budget_changed(event: dict[str, Any], body: kopf.Body, memo: kopf.Memo, logger: logging.Logger,
                       **_: Any) -> None:
    ctx = context(memo)
    st = _state(ctx)
    ns, name = body.metadata.namespace or "", body.metadata.name or ""
    with st.lock:
        slos = st.slos.setdefault(ns, {})
        before = slos.get(name)
        if event.get("type") == "DELETED":
            slos.pop(name, None)
            info = None
        else:
            info = _SLOInfo(dict(body.metadata.labels or {}), _budget(name, dict(body.get("status") or {})))
            slos[name] = info
    if info is not None and before == info:
        return
    if before is None and info is not None and info.budget.remaining_percent is None and not info.budget.burn_rates:
        return  # a new SLO without a budget yet cannot change any decision: spare the API a LIST
    for policy in _list_policies(ctx, ns):
        _reconcile_safely(ctx, policy, logger)


def _list_policies(ctx: Context, namespace: str) -> list[dict[str, Any]]:
    try:
        res = ctx.kube.resource(c.API_VERSION, c.KIND_POLICY)
        return [i.to_dict() for i in res.get(namespace=namespace).items]
    except Exception:  # noqa: BLE001 - the timer retries; a missing CRD is reported at reconcile
        return []


# --- Policies ---------------------------------------------------------------------------------

@kopf.timer(*POLICY, interval=TIMER_INTERVAL, idle=0)
def policy_timer(body: kopf.Body, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    _reconcile_safely(context(memo), dict(body), logger)


@kopf.on.event(*POLICY)
def policy_changed(event: dict[str, Any], body: kopf.Body, memo: kopf.Memo, logger: logging.Logger,
                   **_: Any) -> None:
    """A new or edited spec takes effect at once (our own status writes do not trigger this)."""
    ctx = context(memo)
    if event.get("type") == "DELETED":
        _release_all(ctx, body.metadata.namespace or "", body.metadata.name or "", logger)
        return
    if body.get("status", {}).get("observedGeneration") != body.metadata.get("generation"):
        _reconcile_safely(ctx, dict(body), logger)


def _reconcile_safely(ctx: Context, body: dict[str, Any], logger: logging.Logger) -> None:
    meta = body.get("metadata") or {}
    key = (str(meta.get("namespace")), str(meta.get("name")))
    with _state(ctx).policy_lock(key):
        try:
            fresh = ctx.kube.get(c.API_VERSION, c.KIND_POLICY, key[1], key[0])
            if fresh is None:
                return
            reconcile_policy(ctx, fresh, logger)
        except KubeError as e:
            logger.error(f"ErrorBudgetPolicy {key[0]}/{key[1]}: {e}")


def previous_state(status: dict[str, Any]) -> core.PolicyState | None:
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
    )


def _select_slos(st: PolicyState, namespace: str, spec: ErrorBudgetPolicySpec) -> list[core.SLOBudget]:
    with st.lock:
        slos = dict(st.slos.get(namespace, {}))
    if spec.slos is not None:
        return [slos[n].budget if n in slos else core.SLOBudget(n, None) for n in spec.slos]
    assert spec.slo_selector is not None
    return [i.budget for n, i in sorted(slos.items()) if spec.slo_selector.matches(i.labels)]


@observe_reconcile(c.KIND_POLICY)
def reconcile_policy(ctx: Context, body: dict[str, Any], logger: logging.Logger) -> core.PolicyState | None:
    """Fetch -> decide -> apply labels and enforcement -> status. Returns the new state."""
    now = _now()
    meta, status = body["metadata"], dict(body.get("status") or {})
    ns, name, generation = meta["namespace"], meta["name"], meta.get("generation")
    st = _state(ctx)
    conditions = list(status.get("conditions") or [])
    spec, diags = parse_policy(body)
    if spec is None:
        message = "; ".join(f"{d.path}: {d.message}" for d in diags if d.severity == "error")
        conditions = set_condition(conditions, c.COND_READY, False, "InvalidSpec", message, now, generation)
        ctx.kube.patch_status(c.API_VERSION, c.KIND_POLICY, name, ns,
                              {"conditions": conditions, "observedGeneration": generation})
        return None
    rules = spec.to_core(ns, name)
    previous = previous_state(status)
    state = core.evaluate(rules, _select_slos(st, ns, spec), previous, now)
    hold = core.Hold(name, ns, state.action, state.level, state.slo, state.remaining_percent,
                     rules.exception_classes)
    enforcement = spec.enforcement
    if ctx.settings.enforcement == "none":
        # The platform switched enforcement off (chart value enforcement.mechanism=none): report,
        # label and post Events, but install nothing in the admission path.
        enforcement = enforcement.model_copy(update={"mechanism": "none"})
    elif ctx.settings.enforcement == "webhook":
        # The chart installs no hold admission policy then (enforcement.mechanism=webhook): the
        # operator's webhook enforces every policy, whatever its own mechanism says.
        enforcement = enforcement.model_copy(update={"mechanism": "webhook"})
    since = rfc3339(state.since) if state.since else ""

    mechanism = enforcement.mechanism
    uid = str(meta.get("uid") or "")
    before = _previously_held(ctx, ns, name) if state.holding else frozenset()
    wanted = _wanted(ctx, ns, name, spec.targets, before) if state.holding else []
    hold = replace(hold, selectors=tuple(t.selector.to_core() for t in spec.targets),
                   held=frozenset(wanted) | before)
    params = vap.hold_params(hold, spec.targets, mode=enforcement.mode, mechanism=mechanism,
                             operator_user=st.operator_user, owner_uid=uid)
    # Enforcement first when holding (no window without it), labels first when releasing.
    if state.holding:
        ctx.kube.apply(params)
    with st.lock:
        if state.holding:
            st.active[(ns, name)] = _Active(hold, enforcement.mode, mechanism, enforcement.failure_policy,
                                            list(spec.targets), uid)
        else:
            st.active.pop((ns, name), None)
    held = _apply_holds(ctx, ns, name, wanted, state, since)
    if not state.holding:
        ctx.kube.apply(params)
    if mechanism == "webhook":
        _sync_webhook_configuration(ctx, logger)

    prev = previous or core.PolicyState()
    at = rfc3339(now)
    history = core.transition(status.get("transitions") or [], prev, state, at)
    if (prev.level, prev.action) != (state.level, state.action):
        kind = "Warning" if core.ACTION_RANK[state.action] > core.ACTION_RANK[prev.action] else "Normal"
        reason = "HoldLifted" if state.action == "none" else f"Policy{state.action.capitalize()}"
        ctx.events.post(body, type_=kind, reason=reason,
                        message=f"{prev.level}/{prev.action} -> {state.level}/{state.action}: {state.reason}; "
                                f"{len(held)} workload(s) held")
        logger.info(f"ErrorBudgetPolicy {ns}/{name}: {prev.action} -> {state.action} ({state.reason})")
    with st.lock:
        exemptions = (status.get("exemptions") or []) + st.exemptions.pop((ns, name), [])
    conditions = set_condition(conditions, c.COND_READY, True, "Evaluated",
                               f"{state.level}: {state.reason}", now, generation)
    new_status: dict[str, Any] = {
        "level": state.level, "action": state.action, "slo": state.slo or None,
        "remainingPercent": state.remaining_percent, "reason": state.reason, "since": since or None,
        "held": len(held), "heldTargets": held, "transitions": history,
        "exemptions": exemptions[-EXEMPTIONS_LIMIT:], "mechanism": enforcement.mechanism,
        "observedGeneration": generation, "conditions": conditions,
    }
    ctx.kube.patch_status(c.API_VERSION, c.KIND_POLICY, name, ns, new_status)
    return state


def _wanted(ctx: Context, ns: str, name: str, targets: list[Target],
            before: frozenset[tuple[str, str]]) -> list[tuple[str, str]]:
    """(kind, name) of the workloads to hold: the targets' matches, and every one held before that still
    exists (a hold follows the workload, not its labels)."""
    wanted: dict[tuple[str, str], None] = {}
    for kind, wname in sorted(before):
        if kind in _APPS and ctx.kube.get("apps/v1", kind, wname, ns) is not None:
            wanted[(kind, wname)] = None
    for t in targets:
        for item in vap.list_workloads(ctx.kube, ns, t.kind, vap.selector_string(t.selector.to_dict())):
            wanted[(t.kind, item["metadata"]["name"])] = None
    for kind in _APPS:
        for item in vap.list_workloads(ctx.kube, ns, kind, c.LABEL_HOLD):
            if (item["metadata"].get("annotations") or {}).get(c.ANNOTATION_HOLD_POLICY) == name:
                wanted[(kind, item["metadata"]["name"])] = None
    return list(wanted)


def _previously_held(ctx: Context, ns: str, name: str) -> frozenset[tuple[str, str]]:
    """Names the hold's params list (deleted workloads too, so a re-create by name stays covered)."""
    current = ctx.kube.get(c.API_VERSION, c.KIND_HOLD, name, ns) or {}
    spec = current.get("spec") or {}
    if spec.get("action") not in core.HOLDING:
        return frozenset()
    return frozenset((str(h.get("kind")), str(h.get("name"))) for h in spec.get("held") or [])


def _apply_holds(ctx: Context, ns: str, name: str, wanted: list[tuple[str, str]], state: core.PolicyState,
                 since: str) -> list[dict[str, str]]:
    """Label ``wanted`` while holding; unlabel whatever this policy labelled and no longer holds."""
    labels = {c.LABEL_HOLD: state.action}
    annotations = core.hold_annotations(name, state, since)
    st = _state(ctx)
    for kind, wname in wanted:
        with st.lock:
            armed = st.armed.get((ns, kind, wname))
        extra = {c.ANNOTATION_EXCEPTION_ARMED: armed} if armed else {}
        _apply_hold_metadata(ctx, kind, ns, wname, labels, {**annotations, **extra})
    for kind in _APPS:
        for item in vap.list_workloads(ctx.kube, ns, kind, c.LABEL_HOLD):
            item_meta = item["metadata"]
            if (item_meta.get("annotations") or {}).get(c.ANNOTATION_HOLD_POLICY) != name:
                continue
            if (kind, item_meta["name"]) not in wanted:
                _apply_hold_metadata(ctx, kind, ns, item_meta["name"], {}, {})
    return [{"kind": k, "name": n} for k, n in sorted(wanted)]


def _apply_hold_metadata(ctx: Context, kind: str, ns: str, name: str, labels: dict[str, str],
                         annotations: dict[str, str]) -> None:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    try:
        ctx.kube.apply({"apiVersion": "apps/v1", "kind": kind, "metadata": meta}, field_manager=c.FIELD_MANAGER_HOLDS)
    except KubeError as e:
        if e.status not in (404, 422):  # deleted meanwhile
            raise


def _release_all(ctx: Context, ns: str, name: str, logger: logging.Logger) -> None:
    """The policy is gone: lift its holds."""
    st = _state(ctx)
    with st.lock:
        st.active.pop((ns, name), None)
    try:
        # Its ErrorBudgetHold is owned by it: the garbage collector removes that.
        _apply_holds(ctx, ns, name, [], core.PolicyState(), "")
        _sync_webhook_configuration(ctx, logger)
    except KubeError as e:
        logger.error(f"releasing holds of deleted ErrorBudgetPolicy {ns}/{name}: {e}")


# --- Webhook mechanism ------------------------------------------------------------------------

def _sync_webhook_configuration(ctx: Context, logger: logging.Logger) -> None:
    """The holds webhook configuration: present while a webhook-mechanism policy holds, scoped to its namespaces."""
    wh = ctx.settings.webhook
    st = _state(ctx)
    with st.lock:
        active = [a for a in st.active.values() if a.mechanism == "webhook"]
    name = f"{ctx.settings.configuration_name}-holds"
    if not wh.enabled:
        if active:
            logger.error("an ErrorBudgetPolicy asks for the webhook mechanism but the webhook is not enabled "
                         "(SLOGUARD_WEBHOOK=true / sloguard run --webhook); it is not enforced")
        return
    if not active:
        existing = ctx.kube.get("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", name)
        if existing and (existing["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of") == "sloguard":
            if existing.get("webhooks"):  # the chart's object (`helm uninstall` deletes it): empty it
                ctx.kube.apply({"apiVersion": "admissionregistration.k8s.io/v1",
                                "kind": "ValidatingWebhookConfiguration", "metadata": {"name": name}, "webhooks": []})
        elif existing:
            vap.delete(ctx.kube, "ValidatingWebhookConfiguration", name)
        return
    from ..adapters.certs import ensure_webhook_certs

    hosts = [h for h in (wh.host, "localhost", "127.0.0.1") if h]
    if wh.service_name and wh.service_namespace:
        svc = f"{wh.service_name}.{wh.service_namespace}.svc"
        hosts = [svc, f"{svc}.cluster.local", *hosts]
    certs = ensure_webhook_certs(wh.cert_dir, list(dict.fromkeys(hosts)))
    url_base = f"https://{wh.host}:{wh.port}" if wh.host else None
    service = (wh.service_name, wh.service_namespace, 443) if wh.service_name and wh.service_namespace else None
    excluded = {"kube-system", *(n for n in (wh.service_namespace,) if n)}
    namespaces = sorted({a.hold.namespace for a in active} - excluded)
    failure = "Fail" if any(a.failure_policy == "Fail" for a in active) else "Ignore"
    ctx.kube.apply(vap.holds_webhook_configuration(name, VALIDATE_HOLD_ID, namespaces, ca_bundle=certs.ca_bundle,
                                                   url_base=url_base, service=service, failure_policy=failure,
                                                   timeout_seconds=wh.timeout_seconds))


def _template(obj: dict[str, Any]) -> dict[str, Any] | None:
    spec = obj.get("spec") or {}
    return spec if obj.get("kind") == "Pod" else spec.get("template")


def _template_labels(obj: dict[str, Any]) -> dict[str, str]:
    if obj.get("kind") == "Pod":
        return {}
    return dict(((((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {})


#: Admission decisions get threads of their own: kopf's handler pool can be busy with watch events
#: (a cluster-wide event storm) and the API server gives the webhook only ``timeoutSeconds``.
_ADMISSION_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sloguard-admission")


async def admit_hold_async(**kwargs: Any) -> None:
    """The webhook's entry point: :func:`admit_hold` on the admission pool, never queued behind handlers."""
    await asyncio.get_running_loop().run_in_executor(_ADMISSION_POOL, functools.partial(admit_hold, **kwargs))


@observe_admission
def admit_hold(body: kopf.Body, old: kopf.Body | None, operation: str, subresource: str | None,
               userinfo: dict[str, Any], warnings: list[str], memo: kopf.Memo, **_: Any) -> None:
    """The webhook's decision: the same :func:`core.decide` as everywhere, permissions via SubjectAccessReview.

    It records nothing: exemptions come from the operator's watch, never from a request anyone
    reaching this port could post.
    """
    ctx = context(memo)
    st = _state(ctx)
    obj, before = dict(body), (dict(old) if old else None)
    meta, old_meta = obj.get("metadata") or {}, (before or {}).get("metadata") or {}
    ns, kind = str(meta.get("namespace") or ""), str(obj.get("kind") or "")
    with st.lock:
        active = [a for k, a in st.active.items() if k[0] == ns and a.mechanism == "webhook"]
    if not active:
        return
    user = str(userinfo.get("username") or "")
    groups = list(userinfo.get("groups") or [])
    req = core.Request(
        operation="CREATE" if operation == "CREATE" else "UPDATE", kind=kind, namespace=ns,
        name=str(meta.get("name") or ""), subresource=subresource or "",
        old_template=_template(before) if before else None, new_template=_template(obj),
        old_labels=old_meta.get("labels") or {}, new_labels=meta.get("labels") or {},
        old_annotations=old_meta.get("annotations") or {}, new_annotations=meta.get("annotations") or {},
        old_template_labels=_template_labels(before) if before else {}, new_template_labels=_template_labels(obj),
        user=user, is_operator=bool(user) and user == st.operator_user)

    def may(verb: str, policy: str) -> bool:
        # A SubjectAccessReview per denial costs an API round trip; the answer is cached for
        # PERMISSION_TTL seconds (an RBAC change takes at most that long to count here).
        key = (user, tuple(sorted(groups)), verb, ns, policy)
        now = time.monotonic()
        with st.lock:
            cached = st.permissions.get(key)
        if cached and cached[0] > now:
            return cached[1]
        allowed = vap.may(ctx.kube, user, groups, verb, ns, policy, extra=userinfo.get("extra"))
        with st.lock:
            if len(st.permissions) > 10_000:
                st.permissions.clear()
            st.permissions[key] = (now + PERMISSION_TTL, allowed)
        return allowed

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
        if not decision.allowed:
            if a.mode == "enforce":
                raise kopf.AdmissionError(decision.message, code=403)
            if a.mode == "warn":
                warnings.append(decision.message)


# --- The watch: exemptions on record, hold metadata put back -----------------------------------

def _digest(template: Any) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True, default=str).encode()).hexdigest()


def _exception_annotations(meta: dict[str, Any]) -> dict[str, str]:
    ann = meta.get("annotations") or {}
    keys = (c.ANNOTATION_EXCEPTION, c.ANNOTATION_EXCEPTION_REASON, c.ANNOTATION_EXCEPTION_ARMED)
    return {k: str(ann[k]) for k in keys if k in ann}


def observe_workload(ctx: Context, obj: dict[str, Any], deleted: bool, logger: logging.Logger) -> None:
    """One watch event of a Deployment, StatefulSet or DaemonSet.

    A held workload (by name, any mechanism, mode enforce) whose pod template differs from what the
    watch saw last was let through its hold: record that (Event + status entry) with the exception
    class its change carried, or override. Put the hold metadata back when a release removed it.
    An exception the watch saw set by a metadata-only change is armed (``sloguard.io/exception-armed``):
    the next release may use it by removing it (``kubectl rollout undo``); a release disarms it.
    """
    st = _state(ctx)
    meta = obj.get("metadata") or {}
    ns, name, kind = str(meta.get("namespace") or ""), str(meta.get("name") or ""), str(obj.get("kind") or "")
    key = (ns, kind, name)
    if deleted:
        with st.lock:
            st.seen.pop(key, None)
        return
    now_seen = (_digest(_template(obj)), _exception_annotations(meta))
    released = False
    with st.lock:
        before = st.seen.get(key)
        st.seen[key] = now_seen
        holders = [a for k, a in st.active.items() if k[0] == ns and (kind, name) in a.hold.held]
        if before is not None:
            released = before[0] != now_seen[0]
            exception_now = {k: v for k, v in now_seen[1].items() if k != c.ANNOTATION_EXCEPTION_ARMED}
            exception_before = {k: v for k, v in before[1].items() if k != c.ANNOTATION_EXCEPTION_ARMED}
            if released or not exception_now.get(c.ANNOTATION_EXCEPTION):
                st.armed.pop(key, None)
            elif holders and exception_now != exception_before:
                st.armed[key] = core.armed_value(exception_now)
        armed = st.armed.get(key)
    for a in holders:
        hold = a.hold
        enforced = a.mode == "enforce" and a.mechanism in ("admissionPolicy", "webhook")
        if released and enforced and hold.action != "scrutiny":
            assert before is not None
            exemption = core.release_exemption(hold, "UPDATE", before[1], now_seen[1])
            reason = ((now_seen[1].get(c.ANNOTATION_EXCEPTION_REASON) or before[1].get(c.ANNOTATION_EXCEPTION_REASON))
                      if exemption in hold.exception_classes else None)
            entry = {"at": rfc3339(_now()), "kind": kind, "name": name, "generation": meta.get("generation"),
                     "exemption": exemption, "action": hold.action}
            if reason:
                entry["reason"] = reason
            with st.lock:
                st.exemptions.setdefault((ns, hold.policy), []).append(entry)
            ref = {"apiVersion": c.API_VERSION, "kind": c.KIND_POLICY,
                   "metadata": {"name": hold.policy, "namespace": ns, "uid": a.uid}}
            message = (f"{kind} {ns}/{name} generation {meta.get('generation')} released under {hold.action} "
                       f"by {exemption}" + (f" ({reason})" if reason else ""))
            ctx.events.post(ref, type_="Warning", reason="HoldExemption", message=message)
            ctx.events.post(obj, type_="Warning", reason="HoldExemption",
                            message=f"{message} (ErrorBudgetPolicy {ns}/{hold.policy})")
            logger.info(f"ErrorBudgetPolicy {ns}/{hold.policy}: {message}")
            _reconcile_safely(ctx, {"metadata": {"namespace": ns, "name": hold.policy}}, logger)
        labels, ann = meta.get("labels") or {}, meta.get("annotations") or {}
        if ann.get(c.ANNOTATION_EXCEPTION_ARMED) and armed is None:
            # not armed by what this watch saw (an undo restored an old revision's annotations,
            # or the operator restarted): disarm, so no leftover exception is used twice
            try:
                vap.drop_annotation(ctx.kube, kind, ns, name, c.ANNOTATION_EXCEPTION_ARMED)
            except KubeError as e:
                logger.error(f"{kind} {ns}/{name}: {e}")
        if (labels.get(c.LABEL_HOLD) != hold.action or ann.get(c.ANNOTATION_HOLD_POLICY) != hold.policy
                or ann.get(c.ANNOTATION_EXCEPTION_ARMED) != armed):
            _reconcile_safely(ctx, {"metadata": {"namespace": ns, "name": hold.policy}}, logger)


def _on_workload_event(event: dict[str, Any], body: kopf.Body, memo: kopf.Memo, logger: logging.Logger,
                       **_: Any) -> None:
    observe_workload(context(memo), dict(body), event.get("type") == "DELETED", logger)


for _plural in _APPS.values():
    kopf.on.event("apps", "v1", _plural)(_on_workload_event)

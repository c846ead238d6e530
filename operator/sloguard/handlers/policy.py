"""ErrorBudgetPolicy handlers: kopf glue around :mod:`sloguard.services.policy`.

Each handler builds the service's :class:`~sloguard.services.policy.Runtime` from the context and
calls one service function: SLO watch events (budget cache), policy events and a timer (evaluate,
hold, release), workload watch events (exemptions on record) and, when the webhook is served, the
holds admission webhook (on a pool of its own).
"""

from __future__ import annotations

import asyncio
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kopf

from ..adapters import admission_policy as vap
from ..adapters.cluster import KubeCluster
from ..adapters.kube import KubeError
from ..core import conventions as c
from ..core import policy as core
from ..services import policy as service
from ..services.policy import APPS, VALIDATE_HOLD_ID, PolicyState
from .context import Context, context
from .metrics import observe_admission, observe_reconcile

SLO = (c.GROUP, c.VERSION, c.PLURAL_SLO)
POLICY = (c.GROUP, c.VERSION, c.PLURAL_POLICY)
TIMER_INTERVAL = 10.0
#: Kinds the webhook mechanism judges, as kopf resource arguments (core: "v1", plural).
_COVERED: list[tuple[str, ...]] = [("apps", "v1", p) for p in ("deployments", "statefulsets", "daemonsets",
                                                                "replicasets")]
_COVERED += [("v1", "pods"), ("argoproj.io", "v1alpha1", "rollouts")]


def _now() -> datetime:
    return datetime.now(UTC)


def _state(ctx: Context) -> PolicyState:
    if ctx.policy is None:  # a context made without Context.create (tests)
        ctx.policy = PolicyState()
    return ctx.policy


def _ca_bundle(cert_dir: Path, hosts: list[str]) -> bytes:
    from ..adapters.certs import ensure_webhook_certs

    return ensure_webhook_certs(cert_dir, hosts).ca_bundle


def _runtime(ctx: Context, logger: kopf.Logger) -> service.Runtime:
    return service.Runtime(KubeCluster(ctx.kube), ctx.events, _state(ctx), logger, ctx.settings.enforcement,
                           ctx.settings.webhook, f"{ctx.settings.configuration_name}-holds", _ca_bundle,
                           run=lambda body, at: reconcile_policy(ctx, dict(body), logger, at))


@observe_reconcile(c.KIND_POLICY)
def reconcile_policy(ctx: Context, body: dict[str, Any], logger: kopf.Logger,
                     now: datetime | None = None) -> core.PolicyState | None:
    """Fetch -> decide -> apply labels and enforcement -> status (counted and timed). Returns the new state."""
    return service.reconcile(_runtime(ctx, logger), body, now or _now())


@kopf.on.startup()
def policy_startup(memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """Learn our own user name (the operator's writes to hold labels are exempt); register the webhook."""
    try:
        ctx = context(memo)
    except RuntimeError:
        raise kopf.TemporaryError("waiting for the operator context", delay=1) from None
    try:
        _state(ctx).operator_user = vap.whoami(ctx.kube)
    except KubeError as e:
        logger.error(f"cannot learn the operator's user name; hold labels are protected from it too: {e}")
    if ctx.settings.webhook.enabled:
        for resource in _COVERED:
            kopf.on.validate(*resource, id=VALIDATE_HOLD_ID, operations=["CREATE", "UPDATE"])(admit_hold_async)


@kopf.on.event(*SLO)
def slo_budget_changed(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger,
                       **_: Any) -> None:
    ctx = context(memo)
    if service.note_slo(_state(ctx), dict(body), event.get("type") == "DELETED"):
        rt = _runtime(ctx, logger)
        for policy in _list_policies(ctx, body.metadata.namespace or ""):
            meta = policy.get("metadata") or {}
            service.reconcile_by_name(rt, str(meta.get("namespace")), str(meta.get("name")), _now())


def _list_policies(ctx: Context, namespace: str) -> list[dict[str, Any]]:
    try:
        res = ctx.kube.resource(c.API_VERSION, c.KIND_POLICY)
        return [i.to_dict() for i in res.get(namespace=namespace).items]
    except Exception:  # noqa: BLE001 - the timer retries; a missing CRD is reported at reconcile
        return []


@kopf.timer(*POLICY, interval=TIMER_INTERVAL, idle=0)
def policy_timer(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    service.reconcile_by_name(_runtime(context(memo), logger), body.metadata.namespace or "",
                              body.metadata.name or "", _now())


@kopf.on.event(*POLICY)
def policy_changed(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger,
                   **_: Any) -> None:
    """A new or edited spec takes effect at once (our own status writes do not trigger this)."""
    rt = _runtime(context(memo), logger)
    ns, name = body.metadata.namespace or "", body.metadata.name or ""
    if event.get("type") == "DELETED":
        service.release_all(rt, ns, name)
    elif body.get("status", {}).get("observedGeneration") != body.metadata.get("generation"):
        service.reconcile_by_name(rt, ns, name, _now())


#: Admission decisions get threads of their own: kopf's handler pool can be busy with watch events
#: (a cluster-wide event storm) and the API server gives the webhook only ``timeoutSeconds``.
_ADMISSION_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sloguard-admission")


async def admit_hold_async(**kwargs: Any) -> None:
    """The webhook's entry point: :func:`admit_hold` on the admission pool, never queued behind handlers."""
    await asyncio.get_running_loop().run_in_executor(_ADMISSION_POOL, functools.partial(admit_hold, **kwargs))


@observe_admission
def admit_hold(body: kopf.Body, old: kopf.Body | None, operation: str, subresource: str | None,
               userinfo: dict[str, Any], warnings: list[str], memo: kopf.Memo, **_: Any) -> None:
    """The webhook's decision (:func:`sloguard.services.policy.admit`); permissions via SubjectAccessReview."""
    ctx = context(memo)
    verdict = service.admit(_state(ctx), KubeCluster(ctx.kube), dict(body), dict(old) if old else None,
                            operation, subresource, userinfo, time.monotonic)
    warnings.extend(verdict.warnings)
    if verdict.denial is not None:
        raise kopf.AdmissionError(verdict.denial, code=403)


def _on_workload_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger,
                       **_: Any) -> None:
    """A Deployment, StatefulSet or DaemonSet changed: exemptions on record, hold metadata put back."""
    ctx, obj, now = context(memo), dict(body), _now()
    findings = service.observe_workload(_state(ctx), obj, event.get("type") == "DELETED", now)
    if findings:
        service.act_on(_runtime(ctx, logger), obj, findings, now)


for _plural in APPS.values():
    kopf.on.event("apps", "v1", _plural)(_on_workload_event)

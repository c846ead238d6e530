"""The operator's own metrics: serving ``/metrics``, and the one-line hooks other handlers carry.

The logic lives in :mod:`sloguard.adapters.metrics`; here is only the kopf glue:

* decorators that other handlers wear, one line each: :func:`observe_reconcile` (SLO, policy and
  contract reconciles), :func:`observe_refresh` (the budget refresh cycle and its Prometheus
  requests), :func:`observe_admission` (the holds webhook's AdmissionReviews);
* watch-event handlers that keep the policy and contract status snapshots the gauges are
  rendered from, and forget deleted objects (SLOs, policies, contracts) at once;
* startup/cleanup: the HTTP server on ``--metrics-address``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import kopf

from ..adapters.metrics import BudgetSample, OperatorMetrics, parse_address
from ..core import conventions as c
from .context import Context, context

SLO = (c.GROUP, c.VERSION, c.PLURAL_SLO)
POLICY = (c.GROUP, c.VERSION, c.PLURAL_POLICY)
SLA = (c.GROUP, c.VERSION, c.PLURAL_SLA)
F = TypeVar("F", bound=Callable[..., Any])


def _metrics(args: tuple[Any, ...], kwargs: dict[str, Any]) -> OperatorMetrics:
    """The context's metrics: handlers get ``memo``, plain functions take the context first."""
    if args and isinstance(args[0], Context):
        return args[0].metrics
    return context(kwargs["memo"]).metrics


# --- hooks (decorators) ---------------------------------------------------------------------------

def observe_reconcile(kind: str) -> Callable[[F], F]:
    """Count a reconcile of ``kind`` (success, or error when it raises) and time it."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            metrics = _metrics(args, kwargs)
            start = time.perf_counter()
            ok = False
            try:
                result = fn(*args, **kwargs)
                ok = True
                return result
            finally:
                metrics.reconciled(kind, ok, time.perf_counter() - start)

        return wrapper  # type: ignore[return-value]

    return decorate


class _ObservedReader:
    """The budget reader as ``refresh_once`` sees it: every ``refresh()`` answer is counted."""

    def __init__(self, reader: Any, metrics: OperatorMetrics) -> None:
        self._reader, self._metrics = reader, metrics
        self.reachable = True

    def refresh(self, *args: Any, **kwargs: Any) -> Any:
        result = self._reader.refresh(*args, **kwargs)
        self.reachable = self.reachable and bool(result.reachable)
        self._metrics.prometheus_answered(int(result.requests), bool(result.reachable))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


def observe_refresh(fn: F) -> F:
    """Time a budget refresh cycle ``fn(ctx, reader, ...)``; a success (it returned and
    Prometheus answered) moves the last-success timestamp. With no SLOs a cycle reads nothing
    and succeeds."""

    @functools.wraps(fn)
    def wrapper(ctx: Context, reader: Any, *args: Any, **kwargs: Any) -> Any:
        metrics = ctx.metrics
        observed = _ObservedReader(reader, metrics)
        metrics.refresh_started()
        start = time.perf_counter()
        ok = False
        try:
            result = fn(ctx, observed, *args, **kwargs)
            ok = observed.reachable
            return result
        finally:
            metrics.refreshed(ok, time.perf_counter() - start)

    return wrapper  # type: ignore[return-value]


def observe_admission(fn: F) -> F:
    """Count the holds webhook's decisions: deny (it raised AdmissionError), warn (admitted with
    warnings), allow (admitted silently); and time them."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        metrics = _metrics(args, kwargs)
        warnings = kwargs.get("warnings")
        before = len(warnings) if warnings is not None else 0
        start = time.perf_counter()
        decision = c.DECISION_DENY
        try:
            result = fn(*args, **kwargs)
            warned = warnings is not None and len(warnings) > before
            decision = c.DECISION_WARN if warned else c.DECISION_ALLOW
            return result
        finally:
            metrics.admission(decision, time.perf_counter() - start)

    return wrapper  # type: ignore[return-value]


# --- snapshots and deletions -------------------------------------------------------------------

def _budget_samples(ctx: Context) -> Iterator[BudgetSample]:
    """The refresh loop's registry: its valid SLOs and their last budgets."""
    from .budget import registry

    reg = registry(ctx)
    with reg.lock:
        entries, known = dict(reg.entries), dict(reg.last_known)
    for key, entry in entries.items():
        status = known.get(key)
        if status is not None:
            o = entry.objective
            yield BudgetSample(o.namespace, o.name, o.service, status, str(entry.body["metadata"].get("uid") or ""))


@kopf.on.event(*SLO, id="metrics-slo-deleted")
async def slo_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if event.get("type") == "DELETED":
        context(memo).metrics.slo_deleted(str(body.metadata.uid or ""))


async def _policy_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    metrics, meta = context(memo).metrics, body.metadata
    if event.get("type") == "DELETED":
        metrics.policy_deleted(meta.namespace or "", meta.name or "")
    else:
        metrics.policy_seen(meta.namespace or "", meta.name or "", dict(body.get("status") or {}))


async def _contract_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    metrics, meta = context(memo).metrics, body.metadata
    if event.get("type") == "DELETED":
        metrics.contract_deleted(meta.namespace or "", meta.name or "")
    else:
        metrics.contract_seen(meta.namespace or "", meta.name or "", dict(body.get("status") or {}))


def watch_policies() -> None:
    """Registered with the ErrorBudgetPolicy feature only (no watch, no RBAC without it)."""
    kopf.on.event(*POLICY, id="metrics-policy")(_policy_event)


def watch_contracts() -> None:
    """Registered with the SLAContract feature only."""
    kopf.on.event(*SLA, id="metrics-contract")(_contract_event)


# --- serving -------------------------------------------------------------------------------------

@kopf.on.startup()
def serve_metrics(memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    ctx = context(memo)
    metrics = ctx.metrics
    metrics.budget_ttl = max(300.0, 5 * ctx.settings.refresh_interval)
    metrics.budget_source(lambda: _budget_samples(ctx))
    address = parse_address(ctx.settings.metrics_address)
    if address is None:
        logger.info("metrics not served (--metrics-address is empty)")
        return
    try:
        host, port = metrics.serve(*address)
    except OSError as e:
        # Metrics are not worth stopping the operator's real work for: say so loudly, carry on.
        logger.error(f"cannot serve metrics on {ctx.settings.metrics_address}: {e}; running without /metrics")
        return
    logger.info(f"metrics on http://{host}:{port}/metrics")


@kopf.on.cleanup()
def stop_metrics(memo: kopf.Memo, **_: Any) -> None:
    context(memo).metrics.stop()

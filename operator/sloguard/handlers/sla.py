"""SLAContract handlers: kopf glue around :func:`sloguard.services.sla.reconcile`.

One kopf daemon per contract loops every ``SLOGUARD_SLA_REFRESH_INTERVAL`` seconds (default:
the operator's refresh interval). A daemon rather than a timer because a timer's interval is
fixed when this module is imported, while settings are read when the operator starts. Each
pass (:func:`reconcile_contract`, run in a worker thread) reads the contract, lets the service
finalize months into history ConfigMaps (after ``SLOGUARD_SLA_FINALIZE_GRACE``, default 1h),
handle re-evaluation requests and evaluate the month to date, and merge-patches the status it
returns. An edit of the spec or annotations wakes the contract's daemon at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import kopf

from ..adapters.kube import KubeError
from ..adapters.prometheus import SLAReader
from ..adapters.sla_history import SLAHistory
from ..core import conventions as c
from ..services.sla import SLAPorts, reconcile
from .context import Context, context
from .metrics import observe_reconcile

SLA = (c.GROUP, c.VERSION, c.PLURAL_SLA)


@dataclass(frozen=True)
class SLASettings:
    """SLA-specific knobs: a view of the operator settings (``sla_refresh_interval``, ``sla_finalize_grace``)."""

    refresh_interval: float
    finalize_grace_seconds: int


def sla_settings(ctx: Context) -> SLASettings:
    s = ctx.settings
    return SLASettings(refresh_interval=s.sla_refresh_seconds, finalize_grace_seconds=s.sla_finalize_grace_seconds)


def _reader(ctx: Context) -> SLAReader | None:
    url = ctx.settings.prometheus_url
    if not url:
        return None
    if ctx.sla_reader is None:
        ctx.sla_reader = SLAReader(ctx.settings.prometheus)
    return ctx.sla_reader


def _wake_events(ctx: Context) -> dict[str, asyncio.Event]:
    return ctx.sla_wake


# --- kopf entry points ---------------------------------------------------------------------------


@kopf.daemon(*SLA, id="sla-evaluation", cancellation_timeout=60)
async def evaluate_contract_daemon(meta: kopf.Meta, stopped: kopf.DaemonStopped, memo: kopf.Memo,
                                   logger: kopf.Logger, **_: Any) -> None:
    ctx = context(memo)
    cfg = sla_settings(ctx)
    uid, namespace, name = str(meta["uid"]), str(meta["namespace"]), str(meta["name"])
    wake = _wake_events(ctx).setdefault(uid, asyncio.Event())
    try:
        while not stopped:
            wake.clear()
            try:
                await asyncio.to_thread(reconcile_contract, ctx, cfg, namespace, name, uid, logger)
            except KubeError as e:
                logger.warning(f"SLA pass failed, retrying in {cfg.refresh_interval:g}s: {e}")
            except Exception:  # the daemon must outlive any one bad pass
                logger.exception(f"SLA pass failed, retrying in {cfg.refresh_interval:g}s")
            await _pause(stopped, wake, cfg.refresh_interval)
    finally:
        _wake_events(ctx).pop(uid, None)


async def _pause(stopped: kopf.DaemonStopped, wake: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less when the contract changed or the operator is stopping."""
    waits = [asyncio.ensure_future(stopped.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


@kopf.on.update(*SLA, id="sla-wake")
async def wake_on_change(meta: kopf.Meta, memo: kopf.Memo, **_: Any) -> None:
    """A spec edit or a reevaluate annotation is acted on now, not at the next refresh."""
    event = _wake_events(context(memo)).get(str(meta["uid"]))
    if event is not None:
        event.set()


# --- one pass --------------------------------------------------------------------------------------


@observe_reconcile(c.KIND_SLA)
def reconcile_contract(ctx: Context, cfg: SLASettings, namespace: str, name: str, uid: str,
                       logger: kopf.Logger) -> None:
    """One pass over one contract (see :mod:`sloguard.services.sla`); status is merge-patched once."""
    obj = ctx.kube.get(c.API_VERSION, c.KIND_SLA, name, namespace)
    if obj is None or obj["metadata"].get("deletionTimestamp") or obj["metadata"].get("uid") != uid:
        return
    ports = SLAPorts(history=SLAHistory(ctx.kube), metrics=_reader(ctx), events=ctx.events.about(obj))
    result = reconcile(obj, datetime.now(UTC).replace(microsecond=0), ports, cfg.finalize_grace_seconds)
    if result.patch:
        ctx.kube.patch_status(c.API_VERSION, c.KIND_SLA, name, namespace, result.patch)
    if result.problems:
        logger.info(f"SLA {namespace}/{name}: {'; '.join(result.problems)}")
    logger.debug(f"SLA pass for {namespace}/{name} done: {result.revisions} revision(s), "
                 f"{result.period} to date, patched {sorted(result.patch) or 'nothing'}")

"""SLAContract handlers: month to date in status, finalized months in immutable ConfigMaps.

One kopf daemon per contract loops every ``SLOGUARD_SLA_REFRESH_INTERVAL`` seconds (default:
the operator's refresh interval). A daemon rather than a timer because a timer's interval is
fixed when this module is imported, while settings are read when the operator starts. Each
pass (:func:`reconcile_contract`, run in a worker thread):

1. rebuilds ``status.history`` from the contract's labelled history ConfigMaps: they, not the
   status, are the record, so a restart or a delete + re-create (Argo CD prune) loses nothing
   and re-evaluates nothing;
2. finalizes the previous month once it ended ``SLOGUARD_SLA_FINALIZE_GRACE`` ago (default 1h)
   and has no ConfigMap yet: revision 1, Events for breaches and credits;
3. handles a ``sloguard.io/reevaluate: 2026-10`` request once (a new revision beside the old
   ones; ``status.lastReevaluation`` and the new ConfigMap's annotation remember it);
4. evaluates the month to date into ``status.currentPeriod`` (patched only when it changed);
5. sets Ready, PrometheusReachable and MaintenanceNotice, with one Warning Event per window
   announced too late.

Nothing is finalized from missing data: when Prometheus cannot be read, or a term has no data
at all for the month, the month stays open, the conditions say why, and the next pass tries
again. An edit of the spec or annotations wakes the contract's daemon at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import kopf

from ..adapters.kube import KubeError
from ..adapters.sla_history import HistoryExists, HistoryRecord, SLAHistory, history_config_map
from ..adapters.sla_reader import SLAPrometheusUnavailable, SLAReader, SLAReadError
from ..adapters.sla_report import render_markdown
from ..api.sla import ReevaluationStatus, history_entry, period_status
from ..api.sla_loader import validate_sla_body
from ..core import conventions as c
from ..core.conditions import get_condition, set_condition
from ..core.sla import (
    Contract,
    ContractResult,
    Period,
    SLAError,
    evaluate_contract,
    late_windows,
    month_period,
    parse_reevaluation,
    period_containing,
    period_finalizable,
    period_to_finalize,
    previous_period,
    unmeasured_terms,
    window_key,
)
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
                                   logger: logging.Logger, **_: Any) -> None:
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


class NotFinalizable(RuntimeError):
    """The month cannot be finalized honestly yet (the message says why)."""


class LowCoverage(NotFinalizable):
    """The month has less data than the contract's minimumCoverage: not finalized, a Warning instead."""


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _dump(model: Any, **kw: Any) -> dict[str, Any]:
    return model.model_dump(by_alias=True, mode="json", exclude_none=True, **kw)  # type: ignore[no-any-return]


def _event(obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    kopf.event(dict(obj), type=type_, reason=reason, message=message[:1000])


@dataclass
class _Pass:
    """What one pass learned, turned into conditions at the end."""

    prometheus: bool | None = None  # None: not asked
    prometheus_message: str = ""
    problems: list[tuple[str, str]] | None = None
    coverage: str | None = None  # why coverage is too low (a month pending or the month to date); None: fine
    coverage_blocks: bool = False  # the low coverage keeps a month from being finalized

    def problem(self, reason: str, message: str) -> None:
        if self.problems is None:
            self.problems = []
        self.problems.append((reason, message))

    def read_failed(self, e: SLAReadError, what: str) -> None:
        if isinstance(e, SLAPrometheusUnavailable):
            self.prometheus, self.prometheus_message = False, str(e)
            self.problem("PrometheusUnreachable", f"{what}: {e}")
        else:
            self.prometheus = True if self.prometheus is None else self.prometheus
            self.problem("QueryFailed", f"{what}: {e}")


@observe_reconcile(c.KIND_SLA)
def reconcile_contract(ctx: Context, cfg: SLASettings, namespace: str, name: str, uid: str,
                       logger: logging.Logger) -> None:
    """One pass over one contract (see the module docstring); status is merge-patched once."""
    obj = ctx.kube.get(c.API_VERSION, c.KIND_SLA, name, namespace)
    if obj is None or obj["metadata"].get("deletionTimestamp") or obj["metadata"].get("uid") != uid:
        return
    now = _now()
    meta = obj["metadata"]
    status: dict[str, Any] = dict(obj.get("status") or {})
    generation = meta.get("generation")
    conditions: list[dict[str, Any]] = list(status.get("conditions") or [])
    patch: dict[str, Any] = {}

    contract, diagnostics = validate_sla_body(obj)
    if contract is None:
        message = "; ".join(f"{d.path}: {d.message}" for d in diagnostics if d.severity == "error")
        message = message or "invalid spec"
        previous = get_condition(conditions, c.COND_READY) or {}
        if previous.get("message") != message:
            _event(obj, "Warning", "InvalidSpec", message)
        conditions = set_condition(conditions, c.COND_READY, False, "InvalidSpec", message, now, generation)
        _write(ctx, obj, {"conditions": conditions, "observedGeneration": generation})
        return

    store = SLAHistory(ctx.kube)
    reader = _reader(ctx)
    outcome = _Pass()
    records = store.list(namespace, name)

    # 1 + 2: finalize the month that ended, once.
    due = period_to_finalize(now, contract.timezone, cfg.finalize_grace_seconds)
    if due is not None and not any(r.period == due.name for r in records):
        if reader is None:
            outcome.problem("NoPrometheus", f"cannot finalize {due.name}: the operator has no Prometheus URL")
        else:
            try:
                record = _finalize(store, reader, contract, obj, due, now, records, request=None)
                records = store.list(namespace, name) if record is None else [record, *records]
            except SLAReadError as e:
                outcome.read_failed(e, f"cannot finalize {due.name} yet")
            except LowCoverage as e:
                outcome.coverage, outcome.coverage_blocks = str(e), True
                outcome.problem("LowCoverage", str(e))
            except NotFinalizable as e:
                outcome.problem("NotFinalizable", str(e))

    # 3: a re-evaluation request, once.
    handled = _reevaluation(store, reader, contract, obj, status, now, records, cfg, outcome)
    if handled is not None:
        patch["lastReevaluation"] = handled
        records = store.list(namespace, name)

    history = [_dump(history_entry(r.result, r.revision, r.name, r.finalized_at, r.request), exclude={"terms"})
               for r in records]
    if history != status.get("history"):
        patch["history"] = history

    # 4: the month to date.
    current = period_containing(now, contract.timezone)
    if reader is not None:
        try:
            read = reader.read_contract(contract, current, now)
            result = evaluate_contract(contract, current, read.measurements, now=read.until)
            outcome.prometheus = True if outcome.prometheus is None else outcome.prometheus
            block = _dump(period_status(result, evaluated_at=now))
            if not result.coverage_ok and outcome.coverage is None:
                outcome.coverage = (f"{current.name} to date has data for {result.coverage:.2%} of its minutes "
                                    f"(minimumCoverage {contract.minimum_coverage:g}%); minutes without data "
                                    f"count as {contract.no_data}")
            if _without(block, "evaluatedAt") != _without(status.get("currentPeriod") or {}, "evaluatedAt"):
                patch["currentPeriod"] = block
        except SLAReadError as e:
            outcome.read_failed(e, f"cannot evaluate {current.name} to date")
        except SLAError as e:
            outcome.problem("EvaluationFailed", f"{current.name}: {e}")

    # 5: maintenance announced too late, and the conditions.
    warned = list(status.get("maintenanceWarned") or [])
    late = late_windows(contract, previous_period(current).start)
    for w in late:
        key = window_key(w.window)
        if key not in warned:
            _event(obj, "Warning", c.EVENT_SLA_LATE_MAINTENANCE,
                   f"maintenance {w.window.description or key} ({key}) was {w.reason}; the SLA needs "
                   f"{contract.minimum_notice_seconds / 3600:g}h notice, so its downtime counts")
            warned.append(key)
    if warned != (status.get("maintenanceWarned") or []):
        patch["maintenanceWarned"] = warned
    if late:
        listing = "; ".join(f"{w.window.description or window_key(w.window)}: {w.reason}" for w in late)
        conditions = set_condition(conditions, c.COND_MAINTENANCE_NOTICE, False, "LateAnnouncement",
                                   f"{len(late)} window(s) announced too late, not excluded: {listing}",
                                   now, generation)
    else:
        conditions = set_condition(conditions, c.COND_MAINTENANCE_NOTICE, True, "InTime",
                                   "every recent or planned window was announced in time", now, generation)

    if reader is None:
        conditions = set_condition(conditions, c.COND_PROMETHEUS_REACHABLE, None, "NotConfigured",
                                   "the operator runs without a Prometheus URL", now, generation)
    elif outcome.prometheus is not None:
        conditions = set_condition(conditions, c.COND_PROMETHEUS_REACHABLE, outcome.prometheus,
                                   "Reachable" if outcome.prometheus else "Unreachable",
                                   "queries answered" if outcome.prometheus else outcome.prometheus_message,
                                   now, generation)
    if outcome.coverage is not None:
        previous = get_condition(conditions, c.COND_DATA_COVERAGE) or {}
        changed = previous.get("status") != "False" or previous.get("message") != outcome.coverage
        if outcome.coverage_blocks and changed:
            _event(obj, "Warning", c.EVENT_SLA_LOW_COVERAGE, outcome.coverage)
        conditions = set_condition(conditions, c.COND_DATA_COVERAGE, False, "LowCoverage", outcome.coverage,
                                   now, generation)
    elif reader is not None and outcome.prometheus:
        conditions = set_condition(conditions, c.COND_DATA_COVERAGE, True, "Covered",
                                   f"at least {contract.minimum_coverage:g}% of the minutes have data", now,
                                   generation)
    if outcome.problems:
        reason, message = outcome.problems[0]
        message = "; ".join(m for _, m in outcome.problems)
        conditions = set_condition(conditions, c.COND_READY, False, reason, message, now, generation)
    else:
        conditions = set_condition(conditions, c.COND_READY, True, "Evaluated",
                                   f"{current.name} measured to date; {len(records)} finalized revision(s)",
                                   now, generation)
    if conditions != status.get("conditions"):
        patch["conditions"] = conditions
    if generation != status.get("observedGeneration"):
        patch["observedGeneration"] = generation
    if patch:
        _write(ctx, obj, patch)
    if outcome.problems:
        logger.info(f"SLA {namespace}/{name}: {'; '.join(m for _, m in outcome.problems)}")
    logger.debug(f"SLA pass for {namespace}/{name} done: {len(records)} revision(s), "
                 f"{current.name} to date, patched {sorted(patch) or 'nothing'}")


def _without(block: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != key}


def _write(ctx: Context, obj: Mapping[str, Any], patch: Mapping[str, Any]) -> None:
    meta = obj["metadata"]
    ctx.kube.patch_status(c.API_VERSION, c.KIND_SLA, meta["name"], meta["namespace"], patch)


def _finalize(store: SLAHistory, reader: SLAReader, contract: Contract, obj: Mapping[str, Any], period: Period,
              now: datetime, records: list[HistoryRecord], request: str | None) -> HistoryRecord | None:
    """Evaluate a whole ended month and write its next revision; None when another writer won."""
    read = reader.read_contract(contract, period, now)
    result = evaluate_contract(contract, period, read.measurements, now=read.until)
    if not result.complete:
        raise NotFinalizable(f"{period.name} has not ended")
    missing = unmeasured_terms(result)
    if missing:
        raise NotFinalizable(f"cannot finalize {period.name}: no data at all for term(s) {', '.join(missing)} "
                             "(check the SLI selectors and Prometheus retention); will try again")
    if not result.coverage_ok:
        raise LowCoverage(f"cannot finalize {period.name}: data for {result.coverage:.2%} of its minutes, below "
                          f"minimumCoverage {contract.minimum_coverage:g}% (minutes without data would count as "
                          f"{contract.no_data}); backfill the data or lower minimumCoverage, will try again")
    revision = max((r.revision for r in records if r.period == period.name), default=0) + 1
    meta = obj["metadata"]
    body = history_config_map(
        namespace=meta["namespace"], contract=meta["name"], contract_id=contract.contract_id,
        period=period.name, revision=revision, result=result.as_dict(), finalized_at=now, request=request,
        contract_uid=meta.get("uid"), report=render_markdown(result),
    )
    try:
        record = store.create(body)
    except HistoryExists:
        return None
    _announce(obj, result, record, records)
    return record


def _announce(obj: Mapping[str, Any], result: ContractResult, record: HistoryRecord,
              earlier: list[HistoryRecord]) -> None:
    """Events for a finalized revision: what it says, what was breached, what credit is due."""
    ct = result.contract
    breached = result.breached
    summary = ("all terms met" if not breached else f"{len(breached)} of {len(result.terms)} term(s) breached")
    credit = f"credit {result.credit_percent:g}% = {result.credit_amount:,.2f} {ct.currency}"
    if record.revision == 1:
        _event(obj, "Normal", c.EVENT_SLA_FINALIZED,
               f"{result.period.name} finalized as revision 1 in ConfigMap {record.name}: {summary}, {credit}")
    else:
        before = next((r for r in earlier if r.period == record.period and r.revision == record.revision - 1), None)
        was = "" if before is None else (f" (revision {before.revision} had credit "
                                         f"{before.result.get('creditPercent', 0):g}%)")
        _event(obj, "Normal", c.EVENT_SLA_REEVALUATED,
               f"{result.period.name} re-evaluated as revision {record.revision} in ConfigMap {record.name} on "
               f"request {record.request!r}: {summary}, {credit}{was}")
    if breached:
        terms = "; ".join(f"{t.name} {t.actual:.4f}% < {t.objective:g}%" if t.actual is not None else t.name
                          for t in breached)
        _event(obj, "Warning", c.EVENT_SLA_BREACHED, f"{result.period.name} (revision {record.revision}): {terms}")
    if result.credit_percent > 0:
        _event(obj, "Warning", c.EVENT_SLA_CREDIT,
               f"{result.period.name} (revision {record.revision}): {ct.customer_name} is owed {credit} "
               f"of the monthly fee")


def _reevaluation(store: SLAHistory, reader: SLAReader | None, contract: Contract, obj: Mapping[str, Any],
                  status: Mapping[str, Any], now: datetime, records: list[HistoryRecord], cfg: SLASettings,
                  outcome: _Pass) -> dict[str, Any] | None:
    """Handle ``sloguard.io/reevaluate`` once; the new ``status.lastReevaluation``, or None."""
    request = ((obj["metadata"].get("annotations") or {}).get(c.ANNOTATION_REEVALUATE) or "").strip()
    if not request:
        return None
    last = status.get("lastReevaluation") or {}
    answered = next((r for r in records if r.request == request), None)
    if answered is not None:
        # Done before, perhaps before this object was re-created: only remember it in status.
        if last.get("request") == request:
            return None
        return _dump(ReevaluationStatus(request=request, period=answered.period, revision=answered.revision,
                                        config_map=answered.name, handled_at=answered.finalized_at,
                                        message="handled earlier (found in history)"))
    if last.get("request") == request:
        return None  # refused earlier; a new value asks again

    def refuse(message: str, period: str | None = None) -> dict[str, Any]:
        _event(obj, "Warning", c.EVENT_SLA_REEVALUATION_REFUSED, f"{c.ANNOTATION_REEVALUATE}={request}: {message}")
        return _dump(ReevaluationStatus(request=request, period=period, handled_at=now, message=message))

    try:
        period = month_period(parse_reevaluation(request), contract.timezone)
    except SLAError as e:
        return refuse(str(e))
    if not period_finalizable(period, now, cfg.finalize_grace_seconds):
        return refuse(f"{period.name} has not ended (plus the grace period); only ended months are re-evaluated",
                      period.name)
    if reader is None:
        outcome.problem("NoPrometheus", f"cannot re-evaluate {period.name}: the operator has no Prometheus URL")
        return None
    try:
        record = _finalize(store, reader, contract, obj, period, now, records, request=request)
    except SLAReadError as e:
        outcome.read_failed(e, f"cannot re-evaluate {period.name} yet")
        return None
    except NotFinalizable as e:
        outcome.problem("NotFinalizable", str(e))
        return None
    if record is None:
        return None  # another writer took that revision; the next pass sees it
    return _dump(ReevaluationStatus(request=request, period=period.name, revision=record.revision,
                                    config_map=record.name, handled_at=now,
                                    message=f"revision {record.revision} added"))

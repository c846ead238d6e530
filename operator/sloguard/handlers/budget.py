"""Live error budgets: every refresh interval, all SLOs are measured in batches and patched.

One loop for all SLOs (not a kopf timer per SLO) because Prometheus is asked in batches —
many SLOs per HTTP request — so a cycle costs a handful of requests, not one per SLO and window.
Each cycle lists the SLOs from the API server (cheap next to the Prometheus queries).

Status is patched only when a figure changed beyond rounding (``api.slo_status``), with a
heartbeat of ``lastEvaluated`` every ten cycles so staleness stays visible. It is written with
server-side apply as field manager ``sloguard-budget``, carrying only the budget fields and the
conditions this loop owns (PrometheusReachable, BudgetKnown): the API server merges conditions by
type, so the rules reconcile's Ready and RulesGenerated are never dropped by a budget write.

One bad SLO never blinds the rest: an SLO whose spec no longer parses (stored before the schema
got stricter) gets ``BudgetKnown=False`` (reason ``InvalidSpec``) and is left out of the batch; a
query Prometheus refuses is that SLO's ``Measurements.error`` (the reader bisects refused
batches); anything else that fails while measuring a batch is narrowed down by halving the batch
until the SLO that fails is alone, and only that SLO reports the error.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import kopf

from ..adapters.contracts import KubeContractMaintenance
from ..adapters.kube import KubeError
from ..adapters.prometheus import BudgetReader, Refresh, SLAReader
from ..api.loader import validate_slo_body
from ..api.maintenance_seen import declared_objective
from ..api.slo_status import REASON_INSUFFICIENT_DATA, budget_fields, data_coverage_condition, differs, evaluated_at
from ..core import conventions as c
from ..core.budget import MIN_BUDGET_COVERAGE, BudgetStatus, Measurements, compute
from ..core.conditions import set_condition
from ..core.model import Objective
from ..services.causes import CauseBook, CauseResult
from .context import Context, context
from .leadership import leadership
from .metrics import observe_refresh

SLO = (c.GROUP, c.VERSION, c.PLURAL_SLO)
HEARTBEAT_CYCLES = 10
#: Field manager of the status fields the budget loop owns.
STATUS_MANAGER = "sloguard-budget"
_MINE = (c.COND_PROMETHEUS_REACHABLE, c.COND_BUDGET_KNOWN, c.COND_DATA_COVERAGE)
#: States in order of severity, for Event types (worse -> Warning).
_SEVERITY = {c.STATE_HEALTHY: 0, c.STATE_WARNING: 1, c.STATE_CRITICAL: 2, c.STATE_EXHAUSTED: 3}


@dataclass
class Entry:
    objective: Objective
    body: dict[str, Any]  # apiVersion/kind/metadata/status as listed (status updated after patches)
    generation: int | None = None  # of the spec the objective was parsed from


@dataclass
class Registry:
    """The SLOs of the last cycle (valid ones) by ``namespace/name``, and their last budgets."""

    entries: dict[str, Entry] = field(default_factory=dict)
    #: SLOs whose spec does not parse, by key: (listed body, what is wrong).
    invalid: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    last_known: dict[str, BudgetStatus] = field(default_factory=dict)
    #: Budget by cause: each SLO's last split and the counts of closed intervals (``services.causes``).
    causes: CauseBook = field(default_factory=CauseBook)
    lock: threading.Lock = field(default_factory=threading.Lock)


def registry(ctx: Context) -> Registry:
    if ctx.budgets is None:  # a context made without Context.create (tests)
        ctx.budgets = Registry()
    return ctx.budgets


def sync_registry(ctx: Context) -> dict[str, Entry]:
    """Read the SLOs to refresh from the API server (one LIST per watched namespace, or one).

    Deliberately not fed by kopf's watch: with several replicas kopf pauses its handlers on the
    standby, while the budget refresh runs wherever the Lease is held — the two need not be the
    same replica. An SLO is parsed again only when its generation (its spec) changed.
    """
    reg = registry(ctx)
    with reg.lock:
        known = dict(reg.entries)
    items: list[dict[str, Any]] = []
    for namespace in ctx.settings.namespaces or (None,):
        items.extend(ctx.kube.list(c.API_VERSION, c.KIND_SLO, namespace))
    entries: dict[str, Entry] = {}
    invalid: dict[str, tuple[dict[str, Any], str]] = {}
    for body in items:
        meta = body.get("metadata", {})
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        generation = meta.get("generation")
        cached = known.get(key)
        if cached is not None and cached.generation == generation and cached.body["metadata"]["uid"] == meta.get("uid"):
            objective: Objective | None = cached.objective
        else:
            objective, diagnostics = validate_slo_body(body)
            if objective is None:
                errors = "; ".join(f"{d.path}: {d.message}" for d in diagnostics if d.severity == "error")
                invalid[key] = (body, errors or "invalid spec")
        if objective is None:
            continue
        snapshot = {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"),
                    "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace"), "uid": meta.get("uid"),
                                 "generation": generation, "creationTimestamp": meta.get("creationTimestamp")},
                    "status": dict(body.get("status") or {})}
        entries[key] = Entry(objective, snapshot, generation)
    with reg.lock:
        reg.entries = entries
        reg.invalid = invalid
        for gone in set(reg.last_known) - set(entries):
            reg.last_known.pop(gone, None)
            reg.causes.forget(gone)
    return entries


@kopf.on.startup()
async def start_budget_loop(memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    ctx = context(memo)
    if not ctx.settings.prometheus_url:
        logger.info("no --prometheus given: budgets are not evaluated (rules are still generated)")
        return
    reader = BudgetReader.connect(ctx.settings.prometheus)
    ctx.budget_task = asyncio.create_task(_loop(ctx, reader, logger))


@kopf.on.cleanup()
async def stop_budget_loop(memo: kopf.Memo, **_: Any) -> None:
    ctx = context(memo)
    task, ctx.budget_task = ctx.budget_task, None
    if task is not None:
        task.cancel()


async def _loop(ctx: Context, reader: BudgetReader, logger: kopf.Logger) -> None:
    cycle = 0
    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sloguard-status")
    while True:
        try:
            if await leadership(ctx).leads(ctx.kube, logger):  # the month reports run where this does
                await asyncio.to_thread(refresh_once, ctx, reader, logger, cycle % HEARTBEAT_CYCLES == 0, pool)
        except Exception as e:  # noqa: BLE001 — the loop must survive anything and say why
            logger.exception(f"budget refresh failed: {e}")
        cycle += 1
        await asyncio.sleep(ctx.settings.refresh_interval)


@observe_refresh
def refresh_once(ctx: Context, reader: BudgetReader, logger: kopf.Logger, heartbeat: bool,
                 pool: ThreadPoolExecutor | None = None) -> int:
    """One cycle: measure every SLO, patch those whose figures changed. Returns patches made."""
    reg = registry(ctx)
    entries = sync_registry(ctx)
    now = ctx.settings.now()
    with reg.lock:
        invalid = dict(reg.invalid)
    for body, message in invalid.values():
        _report_invalid(ctx, body, message, now, logger)
    if not entries:
        return 0
    result = measure_isolated(reader, [e.objective for e in entries.values()], now, dict(reg.last_known), logger)
    with reg.lock:
        reg.last_known.update(result.statuses)
    if not result.reachable:
        logger.warning(f"Prometheus unreachable, budgets kept as last known: {result.message}")
    jobs = []
    for key, entry in entries.items():
        status = result.statuses.get(key)
        if status is not None:
            jobs.append((entry, status))

    counts = SLAReader(reader.client)
    contracts = KubeContractMaintenance(ctx.kube, now) if ctx.settings.sla else None

    def patch(job: tuple[Entry, BudgetStatus]) -> bool:
        entry, status = job
        try:
            slo = declared_objective(entry.objective, entry.body, now)  # maintenance counts from first sighting
            split = reg.causes.split(slo, status, counts, ctx.rollouts, contracts)
            if split.error:
                logger.warning(f"{entry.objective.key}: {split.error}")
            return _patch_one(ctx, entry, status, result.reachable, result.message, now, heartbeat, logger, split)
        except Exception as e:  # noqa: BLE001 — one SLO's status must not stop the others'
            logger.exception(f"budget status of {entry.objective.key} not written: {e}")
            return False

    done = list(pool.map(patch, jobs)) if pool else [patch(j) for j in jobs]
    n = sum(done)
    logger.debug(f"budget refresh: {len(jobs)} SLOs, {result.requests} HTTP requests, {n} status patches")
    return n


def measure_isolated(reader: BudgetReader, objectives: list[Objective], now: datetime,
                     last_known: dict[str, BudgetStatus], logger: kopf.Logger) -> Refresh:
    """``reader.refresh`` over all SLOs; when it fails unexpectedly, halve until the culprit is alone.

    ``refresh`` never raises for Prometheus trouble; anything else (a bug met by one odd SLO)
    costs a few extra batches in that cycle, and only the SLO that fails reports the error.
    """
    try:
        return reader.refresh(objectives, now, last_known)
    except Exception as e:  # noqa: BLE001
        if len(objectives) == 1:
            slo = objectives[0]
            logger.exception(f"budget of {slo.key} cannot be computed: {e}")
            message = f"budget cannot be computed: {type(e).__name__}: {e}"
            return Refresh(now, {slo.key: compute(slo, Measurements(error=message), now)}, reachable=True)
        mid = len(objectives) // 2
        parts = [measure_isolated(reader, objectives[:mid], now, last_known, logger),
                 measure_isolated(reader, objectives[mid:], now, last_known, logger)]
    unreachable = [p for p in parts if not p.reachable]
    return Refresh(parts[0].evaluated_at, {**parts[0].statuses, **parts[1].statuses}, reachable=not unreachable,
                   message=unreachable[0].message if unreachable else None,
                   requests=sum(p.requests for p in parts))


def _report_invalid(ctx: Context, body: dict[str, Any], message: str, now: datetime,
                    logger: kopf.Logger) -> None:
    """BudgetKnown=False (InvalidSpec) on an SLO whose spec does not parse; written once."""
    meta = body.get("metadata") or {}
    current = list((body.get("status") or {}).get("conditions") or [])
    mine = [x for x in current if x.get("type") in _MINE]
    text = f"the spec does not validate, no budget is measured: {message}"
    new = set_condition([x for x in mine if x.get("type") == c.COND_BUDGET_KNOWN], c.COND_BUDGET_KNOWN, False,
                        "InvalidSpec", text, now)
    if _strip_times(new) == _strip_times([x for x in mine if x.get("type") == c.COND_BUDGET_KNOWN]):
        return
    try:
        ctx.kube.apply_status(c.API_VERSION, c.KIND_SLO, meta["name"], meta["namespace"],
                              {"conditions": new}, STATUS_MANAGER)
    except KubeError as e:
        if e.status != 404:
            logger.warning(str(e))


def _patch_one(ctx: Context, entry: Entry, status: BudgetStatus, reachable: bool, message: str | None,
               now: datetime, heartbeat: bool, logger: kopf.Logger, split: CauseResult | None = None) -> bool:
    current = entry.body.get("status") or {}
    fields = budget_fields(status, split.by_cause if split else None)
    conditions = [x for x in current.get("conditions") or [] if x.get("type") in _MINE]
    new_conditions = set_condition(
        conditions, c.COND_PROMETHEUS_REACHABLE, reachable,
        "QueriesSucceeded" if reachable else "Unreachable",
        "Prometheus answered" if reachable else f"last known values kept: {message}", now)
    known = status.known
    low_coverage = status.coverage is not None and status.coverage < MIN_BUDGET_COVERAGE
    new_conditions = set_condition(
        new_conditions, c.COND_BUDGET_KNOWN, known,
        "Measured" if known and not status.stale else
        ("Stale" if known else (REASON_INSUFFICIENT_DATA if low_coverage else "NoData")),
        ("budget measured" if not status.stale else "budget figures are stale: Prometheus unreachable")
        + "".join(f" ({x})" for x in ((split.error,) if split and split.error else ()) + (split.notes if split else ()))
        if known else (status.hints[0] if status.hints else "no traffic in the window: the SLI is unknown"), now)
    new_conditions, coverage_warning = data_coverage_condition(new_conditions, status, now)
    conditions_changed = _strip_times(new_conditions) != _strip_times(conditions)
    if not (differs(fields, current) or conditions_changed or heartbeat):
        return False
    patch = {**fields, "conditions": new_conditions, "lastEvaluated": evaluated_at(status)}
    meta = entry.body["metadata"]
    try:
        ctx.kube.apply_status(c.API_VERSION, c.KIND_SLO, meta["name"], meta["namespace"], patch, STATUS_MANAGER)
    except KubeError as e:
        if e.status != 404:  # deleted meanwhile: nothing to do
            logger.warning(str(e))
        return False
    old_state = current.get("state")
    entry.body["status"] = {**current, **patch}
    if coverage_warning is not None:
        ctx.events.post(entry.body, type_="Warning", reason=c.EVENT_SLA_LOW_COVERAGE, message=coverage_warning)
    if old_state != status.state and old_state is not None and status.state in _SEVERITY and old_state in _SEVERITY:
        worse = _SEVERITY[status.state] > _SEVERITY[old_state]
        remaining = fields["budget"]["remainingPercent"]
        ctx.events.post(entry.body, type_="Warning" if worse else "Normal", reason="BudgetStateChanged",
                        message=f"error budget {old_state} -> {status.state}: {remaining}% remaining, "
                                f"burn rate 1h {fields['burnRate1h']}x")
    return True


def _strip_times(conditions: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((x.get("type"), x.get("status"), x.get("reason"), x.get("message")) for x in conditions)


__all__ = ["Registry", "refresh_once", "registry"]

"""One pass over an SLAContract: month to date in status, finalized months in immutable history.

:func:`reconcile` takes the contract object as read, ``now`` and the ports, and returns the
status patch to write. On the way it

1. rebuilds ``status.history`` from the contract's history records: they, not the status, are
   the record, so a restart or a delete + re-create (Argo CD prune) loses nothing and
   re-evaluates nothing;
2. finalizes the previous month once it ended ``grace_seconds`` ago and has no record yet:
   revision 1, Events for breaches and credits;
3. handles a ``sloguard.io/reevaluate: 2026-10`` request once (a new revision beside the old
   ones; ``status.lastReevaluation`` and the new record's annotation remember it);
4. evaluates the month to date into ``status.currentPeriod`` (patched only when it changed);
5. sets Ready, PrometheusReachable and MaintenanceNotice, with one Warning Event per window
   announced too late.

Nothing is finalized from missing data: when metrics cannot be read, or a term has no data at
all for the month, the month stays open, the conditions say why, and the next pass tries again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..adapters.sla_history import HistoryExists, HistoryRecord, history_config_map
from ..adapters.sla_report import render_markdown
from ..api.common import Diagnostic
from ..api.maintenance_seen import seen, seen_records
from ..api.sla import ReevaluationStatus, history_entry, period_status
from ..api.sla_loader import validate_sla_body
from ..core import conventions as c
from ..core.conditions import get_condition, set_condition
from ..core.sla import (
    Contract,
    ContractResult,
    Period,
    SLAError,
    WindowAssessment,
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
from .ports import ContractMetrics, Events, HistoryStore, MetricsError, MetricsUnavailable


@dataclass(frozen=True)
class SLAPorts:
    """What a pass reaches outside itself; ``metrics`` is None when no Prometheus is configured."""

    history: HistoryStore
    metrics: ContractMetrics | None
    events: Events


@dataclass(frozen=True)
class PassResult:
    """The status patch to merge (empty: nothing changed) and what to log."""

    patch: dict[str, Any]
    problems: tuple[str, ...] = ()
    revisions: int = 0
    period: str | None = None  # the month evaluated to date; None for an invalid spec


class NotFinalizable(RuntimeError):
    """The month cannot be finalized honestly yet (the message says why)."""


class LowCoverage(NotFinalizable):
    """The month has less data than the contract's minimumCoverage: not finalized, a Warning instead."""


def _dump(model: Any, **kw: Any) -> dict[str, Any]:
    return model.model_dump(by_alias=True, mode="json", exclude_none=True, **kw)  # type: ignore[no-any-return]


def _without(block: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != key}


@dataclass
class _Outcome:
    """What one pass learned, turned into conditions at the end."""

    prometheus: bool | None = None  # None: not asked
    prometheus_message: str = ""
    problems: list[tuple[str, str]] = field(default_factory=list)
    coverage: str | None = None  # why coverage is too low (a month pending or the month to date); None: fine
    coverage_blocks: bool = False  # the low coverage keeps a month from being finalized

    def problem(self, reason: str, message: str) -> None:
        self.problems.append((reason, message))

    def answered(self) -> None:
        self.prometheus = True if self.prometheus is None else self.prometheus

    def read_failed(self, e: MetricsError, what: str) -> None:
        if isinstance(e, MetricsUnavailable):
            self.prometheus, self.prometheus_message = False, str(e)
            self.problem("PrometheusUnreachable", f"{what}: {e}")
        else:
            self.answered()
            self.problem("QueryFailed", f"{what}: {e}")


@dataclass
class _Run:
    """One pass over one valid contract: its inputs and what it learned so far."""

    body: Mapping[str, Any]
    contract: Contract
    now: datetime
    grace_seconds: int
    ports: SLAPorts
    outcome: _Outcome = field(default_factory=_Outcome)

    @property
    def meta(self) -> Mapping[str, Any]:
        return self.body["metadata"]  # type: ignore[no-any-return]

    @property
    def status(self) -> Mapping[str, Any]:
        return self.body.get("status") or {}

    @property
    def generation(self) -> int | None:
        return self.meta.get("generation")

    def records(self) -> list[HistoryRecord]:
        return self.ports.history.list(self.meta["namespace"], self.meta["name"])

    def condition(self, conditions: list[dict[str, Any]], type_: str, status: bool | None, reason: str,
                  message: str) -> list[dict[str, Any]]:
        return set_condition(conditions, type_, status, reason, message, self.now, self.generation)


# --- the pass --------------------------------------------------------------------------------------


def reconcile(body: Mapping[str, Any], now: datetime, ports: SLAPorts, grace_seconds: int) -> PassResult:
    """One pass over the contract ``body`` as read at ``now`` (see the module docstring)."""
    contract, diagnostics = validate_sla_body(dict(body))
    if contract is None:
        return invalid_spec(body, diagnostics, now, ports.events)
    run = _Run(body, contract, now, grace_seconds, ports)
    status, patch = run.status, {}
    records = finalize_due(run, run.records())
    handled = reevaluation(run, records)
    if handled is not None:
        patch["lastReevaluation"] = handled
        records = run.records()
    _changed(patch, "history", history_status(records), status.get("history"))
    current = period_containing(now, contract.timezone)
    block = month_to_date(run, current)
    if block is not None and _without(block, "evaluatedAt") != _without(status.get("currentPeriod") or {},
                                                                        "evaluatedAt"):
        patch["currentPeriod"] = block
    late = late_windows(contract, previous_period(current).start)
    _changed(patch, "maintenanceWarned", warn_late_maintenance(run, late), status.get("maintenanceWarned") or [])
    # When each maintenance window was first seen: it counts for SLO budgets by cause only from
    # then (api.maintenance_seen); recorded here so it survives restarts.
    first = seen(body, ((w.start, w.end) for w in contract.maintenance), now)
    _changed(patch, "maintenanceSeen", seen_records(first), status.get("maintenanceSeen") or [])
    _changed(patch, "conditions", conditions(run, current, late, len(records)), status.get("conditions"))
    _changed(patch, "observedGeneration", run.generation, status.get("observedGeneration"))
    return PassResult(patch, tuple(m for _, m in run.outcome.problems), len(records), current.name)


def _changed(patch: dict[str, Any], key: str, value: Any, before: Any) -> None:
    if value != before:
        patch[key] = value


def invalid_spec(body: Mapping[str, Any], diagnostics: Sequence[Diagnostic], now: datetime,
                 events: Events) -> PassResult:
    """Ready=False with the spec's errors (one Warning Event per new message); nothing measured."""
    status = body.get("status") or {}
    generation = body["metadata"].get("generation")
    message = "; ".join(f"{d.path}: {d.message}" for d in diagnostics if d.severity == "error") or "invalid spec"
    conditions: list[dict[str, Any]] = list(status.get("conditions") or [])
    if (get_condition(conditions, c.COND_READY) or {}).get("message") != message:
        events.post("Warning", "InvalidSpec", message)
    conditions = set_condition(conditions, c.COND_READY, False, "InvalidSpec", message, now, generation)
    return PassResult({"conditions": conditions, "observedGeneration": generation})


# --- history: finalizing and re-evaluating months -------------------------------------------------


def history_status(records: Sequence[HistoryRecord]) -> list[dict[str, Any]]:
    """``status.history``: one entry per finalized revision, as the records hold them."""
    return [_dump(history_entry(r.result, r.revision, r.name, r.finalized_at, r.request), exclude={"terms"})
            for r in records]


def finalize_due(run: _Run, records: list[HistoryRecord]) -> list[HistoryRecord]:
    """Finalize the month that ended (plus the grace period) once; the records afterwards."""
    due = period_to_finalize(run.now, run.contract.timezone, run.grace_seconds)
    if due is None or any(r.period == due.name for r in records):
        return records
    outcome = run.outcome
    if run.ports.metrics is None:
        outcome.problem("NoPrometheus", f"cannot finalize {due.name}: the operator has no Prometheus URL")
        return records
    try:
        record = finalize(run, run.ports.metrics, due, records, request=None)
    except MetricsError as e:
        outcome.read_failed(e, f"cannot finalize {due.name} yet")
    except LowCoverage as e:
        outcome.coverage, outcome.coverage_blocks = str(e), True
        outcome.problem("LowCoverage", str(e))
    except NotFinalizable as e:
        outcome.problem("NotFinalizable", str(e))
    else:
        return run.records() if record is None else [record, *records]
    return records


def _finalizable(contract: Contract, result: ContractResult) -> None:
    """Raise :class:`NotFinalizable` unless ``result`` may stand as a finalized month."""
    name = result.period.name
    if not result.complete:
        raise NotFinalizable(f"{name} has not ended")
    missing = unmeasured_terms(result)
    if missing:
        raise NotFinalizable(f"cannot finalize {name}: no data at all for term(s) {', '.join(missing)} "
                             "(check the SLI selectors and Prometheus retention); will try again")
    if not result.coverage_ok:
        raise LowCoverage(f"cannot finalize {name}: data for {result.coverage:.2%} of its minutes, below "
                          f"minimumCoverage {contract.minimum_coverage:g}% (minutes without data would count as "
                          f"{contract.no_data}); backfill the data or lower minimumCoverage, will try again")


def finalize(run: _Run, metrics: ContractMetrics, period: Period, records: Sequence[HistoryRecord],
             request: str | None) -> HistoryRecord | None:
    """Evaluate a whole ended month and store its next revision; None when another writer won."""
    read = metrics.read_contract(run.contract, period, run.now)
    result = evaluate_contract(run.contract, period, read.measurements, now=read.until)
    _finalizable(run.contract, result)
    revision = max((r.revision for r in records if r.period == period.name), default=0) + 1
    body = history_config_map(
        namespace=run.meta["namespace"], contract=run.meta["name"], contract_id=run.contract.contract_id,
        period=period.name, revision=revision, result=result.as_dict(), finalized_at=run.now, request=request,
        contract_uid=run.meta.get("uid"), report=render_markdown(result),
    )
    try:
        record = run.ports.history.create(body)
    except HistoryExists:
        return None
    announce(run.ports.events, result, record, records)
    return record


def announce(events: Events, result: ContractResult, record: HistoryRecord,
             earlier: Sequence[HistoryRecord]) -> None:
    """Events for a finalized revision: what it says, what was breached, what credit is due."""
    ct, breached = result.contract, result.breached
    summary = ("all terms met" if not breached else f"{len(breached)} of {len(result.terms)} term(s) breached")
    credit = f"credit {result.credit_percent:g}% = {result.credit_amount:,.2f} {ct.currency}"
    name = result.period.name
    if record.revision == 1:
        events.post("Normal", c.EVENT_SLA_FINALIZED,
                    f"{name} finalized as revision 1 in ConfigMap {record.name}: {summary}, {credit}")
    else:
        before = next((r for r in earlier if r.period == record.period and r.revision == record.revision - 1), None)
        was = "" if before is None else (f" (revision {before.revision} had credit "
                                         f"{before.result.get('creditPercent', 0):g}%)")
        events.post("Normal", c.EVENT_SLA_REEVALUATED,
                    f"{name} re-evaluated as revision {record.revision} in ConfigMap {record.name} on "
                    f"request {record.request!r}: {summary}, {credit}{was}")
    if breached:
        terms = "; ".join(f"{t.name} {t.actual:.4f}% < {t.objective:g}%" if t.actual is not None else t.name
                          for t in breached)
        events.post("Warning", c.EVENT_SLA_BREACHED, f"{name} (revision {record.revision}): {terms}")
    if result.credit_percent > 0:
        events.post("Warning", c.EVENT_SLA_CREDIT,
                    f"{name} (revision {record.revision}): {ct.customer_name} is owed {credit} of the monthly fee")


def reevaluation(run: _Run, records: Sequence[HistoryRecord]) -> dict[str, Any] | None:
    """Handle ``sloguard.io/reevaluate`` once; the new ``status.lastReevaluation``, or None."""
    request = ((run.meta.get("annotations") or {}).get(c.ANNOTATION_REEVALUATE) or "").strip()
    if not request:
        return None
    last = (run.status.get("lastReevaluation") or {}).get("request")
    answered = next((r for r in records if r.request == request), None)
    if answered is not None:
        # Done before, perhaps before this object was re-created: only remember it in status.
        return None if last == request else _dump(ReevaluationStatus(
            request=request, period=answered.period, revision=answered.revision, config_map=answered.name,
            handled_at=answered.finalized_at, message="handled earlier (found in history)"))
    if last == request:
        return None  # refused earlier; a new value asks again
    try:
        period = month_period(parse_reevaluation(request), run.contract.timezone)
    except SLAError as e:
        return _refuse(run, request, str(e))
    if not period_finalizable(period, run.now, run.grace_seconds):
        return _refuse(run, request, f"{period.name} has not ended (plus the grace period); only ended months "
                       "are re-evaluated", period.name)
    return _reevaluate(run, request, period, records)


def _refuse(run: _Run, request: str, message: str, period: str | None = None) -> dict[str, Any]:
    run.ports.events.post("Warning", c.EVENT_SLA_REEVALUATION_REFUSED,
                          f"{c.ANNOTATION_REEVALUATE}={request}: {message}")
    return _dump(ReevaluationStatus(request=request, period=period, revision=None, config_map=None, handled_at=run.now,
                                    message=message))


def _reevaluate(run: _Run, request: str, period: Period, records: Sequence[HistoryRecord]) -> dict[str, Any] | None:
    """A new revision of an ended ``period`` on ``request``; None when it has to wait."""
    if run.ports.metrics is None:
        run.outcome.problem("NoPrometheus", f"cannot re-evaluate {period.name}: the operator has no Prometheus URL")
        return None
    try:
        record = finalize(run, run.ports.metrics, period, records, request=request)
    except MetricsError as e:
        run.outcome.read_failed(e, f"cannot re-evaluate {period.name} yet")
        return None
    except NotFinalizable as e:
        run.outcome.problem("NotFinalizable", str(e))
        return None
    if record is None:
        return None  # another writer took that revision; the next pass sees it
    return _dump(ReevaluationStatus(request=request, period=period.name, revision=record.revision,
                                    config_map=record.name, handled_at=run.now,
                                    message=f"revision {record.revision} added"))


# --- the month to date, maintenance notice, conditions ---------------------------------------------


def month_to_date(run: _Run, current: Period) -> dict[str, Any] | None:
    """``status.currentPeriod`` for the month so far; None when it could not be evaluated."""
    metrics, contract, outcome = run.ports.metrics, run.contract, run.outcome
    if metrics is None:
        return None
    try:
        read = metrics.read_contract(contract, current, run.now)
        result = evaluate_contract(contract, current, read.measurements, now=read.until)
    except MetricsError as e:
        outcome.read_failed(e, f"cannot evaluate {current.name} to date")
        return None
    except SLAError as e:
        outcome.problem("EvaluationFailed", f"{current.name}: {e}")
        return None
    outcome.answered()
    if not result.coverage_ok and outcome.coverage is None:
        outcome.coverage = (f"{current.name} to date has data for {result.coverage:.2%} of its minutes "
                            f"(minimumCoverage {contract.minimum_coverage:g}%); minutes without data "
                            f"count as {contract.no_data}")
    return _dump(period_status(result, evaluated_at=run.now))


def warn_late_maintenance(run: _Run, late: Sequence[WindowAssessment]) -> list[str]:
    """One Warning Event per window announced too late (once); ``status.maintenanceWarned``."""
    warned = list(run.status.get("maintenanceWarned") or [])
    for w in late:
        key = window_key(w.window)
        if key not in warned:
            run.ports.events.post(
                "Warning", c.EVENT_SLA_LATE_MAINTENANCE,
                f"maintenance {w.window.description or key} ({key}) was {w.reason}; the SLA needs "
                f"{run.contract.minimum_notice_seconds / 3600:g}h notice, so its downtime counts")
            warned.append(key)
    return warned


def conditions(run: _Run, current: Period, late: Sequence[WindowAssessment], revisions: int) -> list[dict[str, Any]]:
    """MaintenanceNotice, PrometheusReachable, DataCoverage and Ready after the pass."""
    conds: list[dict[str, Any]] = list(run.status.get("conditions") or [])
    conds = _maintenance_notice(run, conds, late)
    conds = _prometheus_reachable(run, conds)
    conds = _data_coverage(run, conds)
    problems = run.outcome.problems
    if problems:
        return run.condition(conds, c.COND_READY, False, problems[0][0], "; ".join(m for _, m in problems))
    return run.condition(conds, c.COND_READY, True, "Evaluated",
                         f"{current.name} measured to date; {revisions} finalized revision(s)")


def _maintenance_notice(run: _Run, conds: list[dict[str, Any]],
                        late: Sequence[WindowAssessment]) -> list[dict[str, Any]]:
    if not late:
        return run.condition(conds, c.COND_MAINTENANCE_NOTICE, True, "InTime",
                             "every recent or planned window was announced in time")
    listing = "; ".join(f"{w.window.description or window_key(w.window)}: {w.reason}" for w in late)
    return run.condition(conds, c.COND_MAINTENANCE_NOTICE, False, "LateAnnouncement",
                         f"{len(late)} window(s) announced too late, not excluded: {listing}")


def _prometheus_reachable(run: _Run, conds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    reachable = run.outcome.prometheus
    if run.ports.metrics is None:
        return run.condition(conds, c.COND_PROMETHEUS_REACHABLE, None, "NotConfigured",
                             "the operator runs without a Prometheus URL")
    if reachable is None:
        return conds
    return run.condition(conds, c.COND_PROMETHEUS_REACHABLE, reachable, "Reachable" if reachable else "Unreachable",
                         "queries answered" if reachable else run.outcome.prometheus_message)


def _data_coverage(run: _Run, conds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    outcome = run.outcome
    if outcome.coverage is None:
        if run.ports.metrics is None or not outcome.prometheus:
            return conds
        return run.condition(conds, c.COND_DATA_COVERAGE, True, "Covered",
                             f"at least {run.contract.minimum_coverage:g}% of the minutes have data")
    previous = get_condition(conds, c.COND_DATA_COVERAGE) or {}
    if outcome.coverage_blocks and (previous.get("status") != "False" or previous.get("message") != outcome.coverage):
        run.ports.events.post("Warning", c.EVENT_SLA_LOW_COVERAGE, outcome.coverage)
    return run.condition(conds, c.COND_DATA_COVERAGE, False, "LowCoverage", outcome.coverage)

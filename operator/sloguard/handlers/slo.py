"""ServiceLevelObjective handlers: parse -> generate -> check -> apply the PrometheusRule -> status.

The spec is never written. An invalid SLO keeps its last good rules (a typo must not silence
paging) and reports ``Ready=False`` with the validation message; admission refuses it up front
when the webhook runs, and the CRD schema refuses what a schema can check even without us.

Every generated rule passes Prometheus' own validation (``promtool check rules``) *before* it is
applied: Prometheus refuses a whole rule file for one bad rule, so an alert template Go cannot
parse would stop every team's new rules from loading. Such an SLO gets ``Ready=False`` (reason
``RulesRejected``) and its last good rules stay.

What is retried: only what can succeed later (the API server or Prometheus' CRD unavailable,
conflicts), with growing delays. A request the API server refuses as invalid (400/422), a spec
that does not validate and rules Prometheus refuses are reported in status and wait for the
next edit of the spec — no retry loop.

Status is written with server-side apply as field manager ``sloguard-rules``, carrying only the
conditions this handler owns (Ready, RulesGenerated); the budget loop owns the others. The API
server merges them by type, so concurrent writers never drop each other's conditions.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

import kopf

from ..adapters.dashboards import dashboard_configmap
from ..adapters.kube import KubeError, is_permanent, owner_reference
from ..adapters.promtool import PromtoolUnavailable, find_promtool, rule_diagnostics
from ..adapters.render import prometheus_rule
from ..adapters.webhooks import VALIDATE_SLO_ID
from ..api.common import Diagnostic
from ..api.loader import validate_slo_body
from ..core import conventions as c
from ..core.conditions import set_condition
from .context import Context, context
from .metrics import observe_reconcile

SLO = (c.GROUP, c.VERSION, c.PLURAL_SLO)
#: Field manager of the status fields this handler owns.
STATUS_MANAGER = "sloguard-rules"
#: Seconds before retrying a transient failure: 5, 10, 20 ... up to 5 minutes.
RETRY_BASE, RETRY_MAX = 5, 300


def _now() -> datetime:
    return datetime.now(UTC)


def retry_delay(retry: int) -> float:
    """Backoff for transient failures (``retry``: kopf's count of earlier attempts)."""
    return float(min(RETRY_MAX, RETRY_BASE * 2 ** max(0, retry)))


@kopf.on.startup()
def require_promtool(memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """No rule is applied unchecked: without promtool the operator does not start."""
    ctx = context(memo)
    try:
        ctx.promtool = find_promtool(ctx.settings.promtool)
    except PromtoolUnavailable as e:
        logger.error(str(e))
        raise kopf.PermanentError(str(e)) from None
    logger.info(f"generated rules are checked with {ctx.promtool} before they are applied")


def _message(diagnostics: list[Diagnostic]) -> str:
    return "; ".join(f"{d.path}: {d.message}" for d in diagnostics) or "invalid spec"


def write_status(ctx: Context, meta: kopf.Meta, status: kopf.Status, ok: bool, reason: str, message: str,
                 now: datetime, **fields: Any) -> None:
    """Apply Ready and RulesGenerated (and ``fields``) as this handler's field manager."""
    generation = meta.get("generation")
    current = list(status.get("conditions") or [])
    mine = [x for x in current if x.get("type") in (c.COND_READY, c.COND_RULES_GENERATED)]
    ready_reason = "RulesApplied" if ok else reason
    mine = set_condition(mine, c.COND_RULES_GENERATED, ok, reason, message, now, generation)
    mine = set_condition(mine, c.COND_READY, ok, ready_reason, "rules are in place" if ok else message,
                         now, generation)
    ctx.kube.apply_status(c.API_VERSION, c.KIND_SLO, meta["name"], meta["namespace"],
                          {"observedGeneration": generation, "conditions": mine, **fields}, STATUS_MANAGER)


@kopf.on.resume(*SLO)
@kopf.on.create(*SLO)
@kopf.on.update(*SLO, field="spec")
@observe_reconcile(c.KIND_SLO)
def reconcile_slo(body: kopf.Body, meta: kopf.Meta, status: kopf.Status, memo: kopf.Memo,
                  logger: logging.Logger, retry: int = 0, **_: Any) -> None:
    ctx = context(memo)
    now = _now()

    def fail(reason: str, message: str, **fields: Any) -> None:
        """Not Ready; the last good rules stay. Nothing to retry: the next spec edit calls us."""
        write_status(ctx, meta, status, False, reason, message, now, **fields)
        ctx.events.post(body, type_="Warning", reason=reason, message=message)
        logger.warning(f"{reason}: {message}")

    objective, diagnostics = validate_slo_body(dict(body))
    if objective is None:
        return fail("InvalidSpec", _message([d for d in diagnostics if d.severity == "error"]))

    owner = owner_reference(dict(body))
    rule = prometheus_rule(objective, labels=dict(ctx.settings.rule_labels), owner=owner)
    try:
        promtool = ctx.promtool or find_promtool(ctx.settings.promtool)
        refused = rule_diagnostics([objective], promtool).get(objective.key, [])
    except PromtoolUnavailable as e:  # could not run the check (timeout, exec error): try again later
        raise kopf.TemporaryError(str(e), delay=retry_delay(retry)) from None
    if refused:
        return fail("RulesRejected", _message(refused))

    try:
        ctx.kube.apply(rule)
        if ctx.settings.dashboards:
            ctx.kube.apply(dashboard_configmap(objective, owner))
    except KubeError as e:
        if is_permanent(e):
            return fail("ApplyRejected", str(e))
        write_status(ctx, meta, status, False, "ApplyFailed", f"{e} (retrying)", now)
        ctx.events.post(body, type_="Warning", reason="ApplyFailed", message=str(e))
        raise kopf.TemporaryError(str(e), delay=retry_delay(retry)) from None

    n_rules = sum(len(g["rules"]) for g in rule["spec"]["groups"])
    ref = {"apiVersion": rule["apiVersion"], "kind": rule["kind"], "name": rule["metadata"]["name"],
           "namespace": rule["metadata"]["namespace"]}
    warnings = "; ".join(f"{d.path}: {d.message}" for d in diagnostics if d.severity == "warning")
    write_status(ctx, meta, status, True, "Applied", f"PrometheusRule {ref['name']} holds {n_rules} rules"
                 + (f" (warnings: {warnings})" if warnings else ""), now,
                 prometheusRule=ref, objective=round(objective.objective * 100, 6))


def register_webhooks() -> None:
    """Admission handlers exist only when the webhook is served (kopf refuses them otherwise)."""
    kopf.on.validate(*SLO, id=VALIDATE_SLO_ID, operations=["CREATE", "UPDATE"])(admit_slo)


def admission_diagnostics(body: dict[str, Any], promtool: str | None = None) -> list[Diagnostic]:
    """What the webhook says about an SLO: the CLI's validation, the same messages and paths.

    With ``promtool``, the generated rules are checked as ``sloguard validate`` checks them.
    """
    objective, diagnostics = validate_slo_body(body)
    if objective is not None and promtool:
        with contextlib.suppress(PromtoolUnavailable):  # the reconcile checks again before applying
            diagnostics = diagnostics + rule_diagnostics([objective], promtool).get(objective.key, [])
    return diagnostics


def admit_slo(body: kopf.Body, warnings: list[str], memo: kopf.Memo, **_: Any) -> None:
    """What CEL cannot check: PromQL parses, templates carry {{.window}}, cross-field sense."""
    diagnostics = admission_diagnostics(dict(body), context(memo).promtool)
    warnings.extend(f"{d.path}: {d.message}" for d in diagnostics if d.severity == "warning")
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise kopf.AdmissionError(_message(errors), code=422)


__all__ = ["admission_diagnostics", "admit_slo", "reconcile_slo", "retry_delay", "write_status"]

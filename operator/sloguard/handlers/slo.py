"""ServiceLevelObjective handlers: kopf glue around :mod:`sloguard.services.slo`.

The reconcile (parse -> generate -> check -> apply the PrometheusRule -> status) lives in the
service; here it is called, its warning posted and a transient failure retried with growing
delays. Admission (served only with the webhook) refuses what CEL cannot check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import kopf

from ..adapters.cluster import KubeCluster
from ..adapters.promtool import PromtoolUnavailable, find_promtool, rule_diagnostics
from ..adapters.webhooks import VALIDATE_SLO_ID
from ..api.common import Diagnostic
from ..api.loader import validate_slo_body
from ..core import conventions as c
from ..core.model import Objective
from ..core.rules import RuleGroup
from ..services import slo as service
from .context import Context, context
from .metrics import observe_reconcile

SLO = (c.GROUP, c.VERSION, c.PLURAL_SLO)
#: Seconds before retrying a transient failure: 5, 10, 20 ... up to 5 minutes.
RETRY_BASE, RETRY_MAX = 5, 300


def _now() -> datetime:
    return datetime.now(UTC)


def retry_delay(retry: int) -> float:
    """Backoff for transient failures (``retry``: kopf's count of earlier attempts)."""
    return float(min(RETRY_MAX, RETRY_BASE * 2 ** max(0, retry)))


@kopf.on.startup()
def require_promtool(memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """No rule is applied unchecked: without promtool the operator does not start."""
    ctx = context(memo)
    try:
        ctx.promtool = find_promtool(ctx.settings.promtool)
    except PromtoolUnavailable as e:
        logger.error(str(e))
        raise kopf.PermanentError(str(e)) from None
    logger.info(f"generated rules are checked with {ctx.promtool} before they are applied")


def _checker(ctx: Context) -> service.RuleChecker:
    """promtool over one SLO's rules (found at startup, else looked up now)."""

    def check(objective: Objective, groups: Sequence[RuleGroup]) -> list[Diagnostic]:
        promtool = ctx.promtool or find_promtool(ctx.settings.promtool)
        return rule_diagnostics([objective], promtool, {objective.key: groups}).get(objective.key, [])

    return check


@kopf.on.resume(*SLO)
@kopf.on.create(*SLO)
@kopf.on.update(*SLO, field="spec")
@observe_reconcile(c.KIND_SLO)
def reconcile_slo(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, retry: int = 0, **_: Any) -> None:
    ctx = context(memo)
    outcome = service.reconcile(KubeCluster(ctx.kube), _checker(ctx), dict(body), ctx.settings.rule_labels,
                                ctx.settings.dashboards, _now())
    if outcome.warning_reason:
        ctx.events.post(body, type_="Warning", reason=outcome.warning_reason, message=outcome.warning_message)
    if outcome.log:
        logger.warning(outcome.log)
    if outcome.retry is not None:
        raise kopf.TemporaryError(outcome.retry, delay=retry_delay(retry))


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
        raise kopf.AdmissionError(service.message(errors), code=422)


__all__ = ["admission_diagnostics", "admit_slo", "reconcile_slo", "retry_delay"]

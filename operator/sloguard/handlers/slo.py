"""ServiceLevelObjective handlers: parse -> generate -> apply the PrometheusRule -> status.

The spec is never written. An invalid SLO keeps its last good rules (a typo must not silence
paging) and reports ``Ready=False`` with the validation message; admission refuses it up front
when the webhook runs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import kopf

from ..adapters.dashboards import dashboard_configmap
from ..adapters.kube import KubeError, owner_reference
from ..adapters.render import prometheus_rule
from ..adapters.webhooks import VALIDATE_SLO_ID
from ..api.loader import validate_slo_body
from ..core import conventions as c
from ..core.conditions import set_condition
from .context import context
from .metrics import observe_reconcile

SLO = (c.GROUP, c.VERSION, c.PLURAL_SLO)


def _now() -> datetime:
    return datetime.now(UTC)


@kopf.on.resume(*SLO)
@kopf.on.create(*SLO)
@kopf.on.update(*SLO, field="spec")
@observe_reconcile(c.KIND_SLO)
def reconcile_slo(body: kopf.Body, meta: kopf.Meta, status: kopf.Status, patch: kopf.Patch,
                  memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    ctx = context(memo)
    now = _now()
    generation = meta.get("generation")
    conditions = list(status.get("conditions") or [])
    objective, diagnostics = validate_slo_body(dict(body))
    errors = [d for d in diagnostics if d.severity == "error"]
    if objective is None:
        message = "; ".join(f"{d.path}: {d.message}" for d in errors) or "invalid spec"
        conditions = set_condition(conditions, c.COND_RULES_GENERATED, False, "InvalidSpec", message, now, generation)
        conditions = set_condition(conditions, c.COND_READY, False, "InvalidSpec", message, now, generation)
        patch.status["conditions"] = conditions
        patch.status["observedGeneration"] = generation
        kopf.warn(dict(body), reason="InvalidSpec", message=message)
        logger.warning(f"invalid SLO: {message}")
        return  # retrying cannot fix a spec; the next edit triggers us again

    owner = owner_reference(dict(body))
    rule = prometheus_rule(objective, labels=dict(ctx.settings.rule_labels), owner=owner)
    try:
        ctx.kube.apply(rule)
        if ctx.settings.dashboards:
            ctx.kube.apply(dashboard_configmap(objective, owner))
    except KubeError as e:
        conditions = set_condition(conditions, c.COND_RULES_GENERATED, False, "ApplyFailed", str(e), now, generation)
        conditions = set_condition(conditions, c.COND_READY, False, "ApplyFailed", str(e), now, generation)
        patch.status["conditions"] = conditions
        kopf.warn(dict(body), reason="ApplyFailed", message=str(e))
        raise kopf.TemporaryError(str(e), delay=15) from None

    n_rules = sum(len(g["rules"]) for g in rule["spec"]["groups"])
    ref = {"apiVersion": rule["apiVersion"], "kind": rule["kind"], "name": rule["metadata"]["name"],
           "namespace": rule["metadata"]["namespace"]}
    warnings = "; ".join(f"{d.path}: {d.message}" for d in diagnostics if d.severity == "warning")
    conditions = set_condition(conditions, c.COND_RULES_GENERATED, True, "Applied",
                               f"PrometheusRule {ref['name']} holds {n_rules} rules"
                               + (f" (warnings: {warnings})" if warnings else ""), now, generation)
    conditions = set_condition(conditions, c.COND_READY, True, "RulesApplied", "rules are in place", now, generation)
    patch.status["conditions"] = conditions
    patch.status["observedGeneration"] = generation
    patch.status["prometheusRule"] = ref
    patch.status["objective"] = round(objective.objective * 100, 6)


def register_webhooks() -> None:
    """Admission handlers exist only when the webhook is served (kopf refuses them otherwise)."""
    kopf.on.validate(*SLO, id=VALIDATE_SLO_ID, operations=["CREATE", "UPDATE"])(admit_slo)


def admit_slo(body: kopf.Body, warnings: list[str], **_: Any) -> None:
    """What CEL cannot check: PromQL parses, templates carry {{.window}}, cross-field sense."""
    _, diagnostics = validate_slo_body(dict(body))
    warnings.extend(f"{d.path}: {d.message}" for d in diagnostics if d.severity == "warning")
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise kopf.AdmissionError("; ".join(f"{d.path}: {d.message}" for d in errors), code=422)

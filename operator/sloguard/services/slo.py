"""ServiceLevelObjective orchestration: parse -> generate -> check -> apply the PrometheusRule -> status.

The spec is never written. An invalid SLO keeps its last good rules (a typo must not silence
paging) and reports ``Ready=False`` with the validation message.

Every generated rule passes Prometheus' own validation (the :class:`~.ports.RuleChecker`,
``promtool check rules``) *before* it is applied: Prometheus refuses a whole rule file for one bad
rule, so an alert template Go cannot parse would stop every team's new rules from loading. Such an
SLO gets ``Ready=False`` (reason ``RulesRejected``) and its last good rules stay.

What is retried: only what can succeed later (the API server or Prometheus' CRD unavailable,
conflicts, the check not running): :attr:`SLOOutcome.retry`. A request the API server refuses as
invalid (400/422), a spec that does not validate and rules Prometheus refuses are reported in
status and wait for the next edit of the spec.

Status is written with server-side apply as field manager ``sloguard-rules``, carrying only the
conditions this service owns (Ready, RulesGenerated); the budget loop owns the others. The API
server merges them by type, so concurrent writers never drop each other's conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters.dashboards import dashboard_configmap
from ..adapters.kube import KubeError, is_permanent, owner_reference
from ..adapters.promtool import PromtoolUnavailable
from ..adapters.render import prometheus_rule
from ..api.common import Diagnostic
from ..api.loader import validate_slo_body
from ..core import conventions as c
from ..core.conditions import set_condition
from ..core.model import Objective
from ..core.rules import make_rule_groups
from .ports import Cluster, RuleChecker

__all__ = ["STATUS_MANAGER", "RuleChecker", "SLOOutcome", "message", "reconcile", "rules_status",
           "write_status"]

#: Field manager of the status fields this service owns.
STATUS_MANAGER = "sloguard-rules"


@dataclass(frozen=True)
class SLOOutcome:
    """What a reconcile leaves for its caller: a warning Event about the SLO and whether to retry."""

    ok: bool
    #: Reason and message of the warning Event to post (empty reason: none).
    warning_reason: str = ""
    warning_message: str = ""
    #: A line for the log (empty: none).
    log: str = ""
    #: Transient failure: try again later with this message (None: nothing to retry).
    retry: str | None = None


def message(diagnostics: list[Diagnostic]) -> str:
    return "; ".join(f"{d.path}: {d.message}" for d in diagnostics) or "invalid spec"


def rules_status(body: Mapping[str, Any], ok: bool, reason: str, text: str, now: datetime,
                 **fields: Any) -> dict[str, Any]:
    """This service's status fields: Ready and RulesGenerated (and ``fields``)."""
    meta, status = body["metadata"], body.get("status") or {}
    generation = meta.get("generation")
    mine = [x for x in status.get("conditions") or [] if x.get("type") in (c.COND_READY, c.COND_RULES_GENERATED)]
    mine = set_condition(mine, c.COND_RULES_GENERATED, ok, reason, text, now, generation)
    mine = set_condition(mine, c.COND_READY, ok, "RulesApplied" if ok else reason,
                         "rules are in place" if ok else text, now, generation)
    return {"observedGeneration": generation, "conditions": mine, **fields}


def write_status(cluster: Cluster, body: Mapping[str, Any], ok: bool, reason: str, text: str, now: datetime,
                 **fields: Any) -> None:
    """Apply :func:`rules_status` as this service's field manager."""
    meta = body["metadata"]
    cluster.apply_status(c.API_VERSION, c.KIND_SLO, meta["name"], meta["namespace"],
                         rules_status(body, ok, reason, text, now, **fields), STATUS_MANAGER)


def _failed(cluster: Cluster, body: Mapping[str, Any], reason: str, text: str, now: datetime) -> SLOOutcome:
    """Not Ready; the last good rules stay. Nothing to retry: the next spec edit calls us."""
    write_status(cluster, body, False, reason, text, now)
    return SLOOutcome(False, reason, text[:1000], f"{reason}: {text}")


def _applied(rule: Mapping[str, Any], objective: Objective,
             diagnostics: list[Diagnostic]) -> tuple[str, dict[str, Any]]:
    """The success message and the status fields naming the PrometheusRule."""
    n_rules = sum(len(g["rules"]) for g in rule["spec"]["groups"])
    ref = {"apiVersion": rule["apiVersion"], "kind": rule["kind"], "name": rule["metadata"]["name"],
           "namespace": rule["metadata"]["namespace"]}
    warnings = "; ".join(f"{d.path}: {d.message}" for d in diagnostics if d.severity == "warning")
    text = f"PrometheusRule {ref['name']} holds {n_rules} rules" + (f" (warnings: {warnings})" if warnings else "")
    return text, {"prometheusRule": ref, "objective": round(objective.objective * 100, 6)}


def reconcile(cluster: Cluster, check: RuleChecker, body: Mapping[str, Any], rule_labels: Mapping[str, str],
              dashboards: bool, now: datetime) -> SLOOutcome:
    """Parse -> generate -> check -> apply -> status (see the module docstring for what is retried)."""
    objective, diagnostics = validate_slo_body(dict(body))
    if objective is None:
        return _failed(cluster, body, "InvalidSpec", message([d for d in diagnostics if d.severity == "error"]), now)
    owner = owner_reference(body)
    groups = make_rule_groups(objective)  # once: checked, then applied
    rule = prometheus_rule(objective, labels=dict(rule_labels), owner=owner, groups=groups)
    try:
        refused = check(objective, groups)
    except PromtoolUnavailable as e:  # could not run the check (timeout, exec error): try again later
        return SLOOutcome(False, retry=str(e))
    if refused:
        return _failed(cluster, body, "RulesRejected", message(refused), now)
    try:
        cluster.apply(rule)
        if dashboards:
            cluster.apply(dashboard_configmap(objective, owner))
    except KubeError as e:
        if is_permanent(e):
            return _failed(cluster, body, "ApplyRejected", str(e), now)
        write_status(cluster, body, False, "ApplyFailed", f"{e} (retrying)", now)
        return SLOOutcome(False, "ApplyFailed", str(e), retry=str(e))
    text, fields = _applied(rule, objective, diagnostics)
    write_status(cluster, body, True, "Applied", text, now, **fields)
    return SLOOutcome(True)

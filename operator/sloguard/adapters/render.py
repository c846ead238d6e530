"""Rule groups -> the documents users and clusters consume (PrometheusRule, rule files) as YAML."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..core import conventions as c
from ..core.model import Objective
from ..core.rules import RuleGroup, make_rule_groups


def prometheus_rule_name(obj: Objective) -> str:
    return f"{obj.name}-slo"[:253]


def prometheus_rule(obj: Objective, labels: Mapping[str, str] | None = None,
                    owner: Mapping[str, Any] | None = None,
                    groups: Sequence[RuleGroup] | None = None) -> dict[str, Any]:
    """A ``monitoring.coreos.com/v1`` PrometheusRule for one SLO.

    ``labels`` are what the Prometheus ``ruleSelector`` matches on; ``owner`` (an
    ownerReference) makes Kubernetes delete the rules with the SLO. ``groups``: the SLO's
    rule groups when the caller has built them already.
    """
    metadata: dict[str, Any] = {
        "name": prometheus_rule_name(obj),
        "namespace": obj.namespace,
        "labels": {
            c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE,
            c.LABEL_OWNER_SLO: obj.name,
            **(labels or {}),
        },
    }
    if owner:
        metadata["ownerReferences"] = [dict(owner)]
    return {
        "apiVersion": c.PROMETHEUS_RULE_API_VERSION,
        "kind": c.PROMETHEUS_RULE_KIND,
        "metadata": metadata,
        "spec": {"groups": [g.to_dict() for g in (make_rule_groups(obj) if groups is None else groups)]},
    }


def rules_file(objectives: Iterable[Objective],
               groups: Mapping[str, Sequence[RuleGroup]] | None = None) -> dict[str, Any]:
    """A plain Prometheus rule file (``rule_files:``) holding every SLO's groups.

    ``groups``: the SLOs' rule groups by key when the caller has built them already.
    """
    built = groups or {}
    return {"groups": [g.to_dict() for o in objectives
                       for g in (built[o.key] if o.key in built else make_rule_groups(o))]}

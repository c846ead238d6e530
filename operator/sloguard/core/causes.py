"""Budget spent by cause: releases, maintenance and incidents (the seed's budget allocation).

Pure: rollout times and maintenance windows come in as values, intervals go out. Consumed budget
is split by *when* the bad events happened:

- ``maintenance``: inside a maintenance window declared on the SLO or on an SLAContract covering
  its service (first claim: planned work is planned, even when a rollout happens in it);
- ``releases``: within the settle time after a rollout of a workload linked to the SLO
  (``spec.workloads`` or the targets of an ErrorBudgetPolicy naming it), outside maintenance;
- ``incidents``: the rest.

Each fraction has the unit of ``status.budget.consumed`` (bad events over the window's budget), so
the three add up to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .policy import Selector

CAUSES = ("releases", "maintenance", "incidents")

# The seed's Error_Budget_Framework.budget_allocation, percent of the budget per cause.
SEED_ALLOCATION = {"maintenance": 20.0, "incidents": 50.0, "releases": 30.0}


@dataclass(frozen=True)
class WorkloadSelector:
    """Workloads linked to an SLO: ``kind`` (Deployment, StatefulSet, DaemonSet) matching ``selector``."""

    kind: str
    selector: Selector


@dataclass(frozen=True)
class Rollout:
    """A workload started rolling out a new revision at ``at`` (UTC)."""

    at: datetime
    kind: str
    name: str
    revision: str = ""


@dataclass(frozen=True)
class ByCause:
    """Consumed budget per cause, each a share of the window's budget (may exceed 1)."""

    releases: float
    maintenance: float
    incidents: float

    def get(self, cause: str) -> float:
        return float(getattr(self, cause))

"""Budget spent by cause: releases, maintenance and incidents (the seed's budget allocation).

Pure: rollout times and maintenance windows come in as values, intervals go out. Consumed budget
is split by *when* the bad events happened:

- ``maintenance``: inside a maintenance window declared on the SLO or on an SLAContract covering
  its service (first claim: planned work is planned, even when a rollout happens in it);
- ``releases``: within the settle time after a rollout of a workload linked to the SLO
  (``spec.workloads`` or the targets of an ErrorBudgetPolicy naming it), outside maintenance;
- ``incidents``: the rest.

Each fraction has the unit of ``status.budget.consumed`` (bad events over the window's budget), so
the three add up to it. How the intervals are made (:func:`cause_intervals`):

1. every maintenance window, clipped to ``[window start, now)``, merged where they overlap or touch;
2. every rollout at ``t`` claims ``[t, t + settle)``; a rollout before the window start whose
   settle time reaches into the window counts for the part inside it; overlapping release
   intervals are merged (two rollouts 10 minutes apart with a 30-minute settle make one interval
   of 40 minutes, not 60);
3. release intervals lose every part inside a maintenance interval (maintenance claims first).

No instant belongs to two causes, so no bad event is counted twice. The fractions
(:func:`fractions`): ``releases = bad in release intervals / D`` and ``maintenance = bad in
maintenance intervals / D``, ``D`` being the denominator of ``status.budget.consumed``
(:func:`sloguard.core.budget.budget_denominator`: the window's traffic times the budget share,
projected over the whole period for calendar windows); ``incidents = consumed - releases -
maintenance``, never below zero (two reads of the same counters may differ in the last digits).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from .policy import Selector

CAUSES = ("releases", "maintenance", "incidents")

# The seed's Error_Budget_Framework.budget_allocation, percent of the budget per cause.
SEED_ALLOCATION = {"maintenance": 20.0, "incidents": 50.0, "releases": 30.0}

#: Bad events within this long after a rollout count as releases unless the SLO says otherwise.
DEFAULT_RELEASE_SETTLE: Final = "30m"
DEFAULT_RELEASE_SETTLE_SECONDS: Final = 1800


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
class Maintenance:
    """A planned maintenance window ``[start, end)``."""

    start: datetime
    end: datetime
    description: str = ""


@dataclass(frozen=True)
class CauseSettings:
    """What an SLO declares for the split: its workloads, the settle time, its maintenance windows."""

    #: Not hashed: a selector holds a dict (equality still compares it).
    workloads: tuple[WorkloadSelector, ...] = field(default=(), hash=False)
    release_settle_seconds: int = DEFAULT_RELEASE_SETTLE_SECONDS
    maintenance: tuple[Maintenance, ...] = ()


@dataclass(frozen=True)
class ByCause:
    """Consumed budget per cause, each a share of the window's budget (may exceed 1)."""

    releases: float
    maintenance: float
    incidents: float

    def get(self, cause: str) -> float:
        return float(getattr(self, cause))

    def to_dict(self, digits: int | None = None) -> dict[str, float]:
        """``{"releases", "maintenance", "incidents"}``; ``digits`` significant digits when given."""
        values = {k: self.get(k) for k in CAUSES}
        if digits is None:
            return values
        return {k: float(f"{v:.{digits}g}") for k, v in values.items()}


#: ``(start, end)``, UTC, start before end.
Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class CauseIntervals:
    """The instants each cause claims, merged, sorted, disjoint across causes."""

    releases: tuple[Interval, ...] = ()
    maintenance: tuple[Interval, ...] = ()

    def items(self) -> Iterable[tuple[str, tuple[Interval, ...]]]:
        yield "releases", self.releases
        yield "maintenance", self.maintenance


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC) if t.tzinfo is not None else t.replace(tzinfo=UTC)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined; empty ones dropped."""
    out: list[Interval] = []
    for start, end in sorted((_utc(a), _utc(b)) for a, b in intervals):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def clip(intervals: Iterable[Interval], lo: datetime, hi: datetime) -> list[Interval]:
    """The parts of ``intervals`` inside ``[lo, hi)``."""
    lo, hi = _utc(lo), _utc(hi)
    return [(max(a, lo), min(b, hi)) for a, b in intervals if min(b, hi) > max(a, lo)]


def subtract(intervals: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """The parts of merged ``intervals`` outside merged ``holes``."""
    out: list[Interval] = []
    for a, b in intervals:
        start = a
        for h0, h1 in holes:
            if h1 <= start or h0 >= b:
                continue
            if h0 > start:
                out.append((start, h0))
            start = max(start, h1)
            if start >= b:
                break
        if start < b:
            out.append((start, b))
    return out


def cause_intervals(rollouts: Iterable[Rollout], settle_seconds: float, maintenance: Iterable[Maintenance],
                    window_start: datetime, now: datetime) -> CauseIntervals:
    """Release and maintenance intervals inside ``[window_start, now)`` (see the module docstring)."""
    planned = merge(clip(((m.start, m.end) for m in maintenance), window_start, now))
    settle = timedelta(seconds=settle_seconds)
    released = merge(clip(((r.at, _utc(r.at) + settle) for r in rollouts), window_start, now))
    return CauseIntervals(tuple(subtract(released, planned)), tuple(planned))


def seconds(intervals: Iterable[Interval]) -> float:
    return sum((b - a).total_seconds() for a, b in intervals)


def fractions(consumed: float, bad: Mapping[str, float], denominator: float | None) -> ByCause:
    """``consumed`` split into causes: ``bad["releases"]`` and ``bad["maintenance"]`` (bad events in
    each cause's intervals) over ``denominator`` (the one ``consumed`` has), incidents the rest.

    No denominator (no traffic) or nothing consumed: everything is zero but incidents.
    """
    if not denominator or denominator <= 0 or consumed <= 0:
        return ByCause(0.0, 0.0, max(consumed, 0.0))
    releases = max(bad.get("releases", 0.0), 0.0) / denominator
    maintenance = max(bad.get("maintenance", 0.0), 0.0) / denominator
    incidents = consumed - releases - maintenance
    return ByCause(releases, maintenance, incidents if incidents > 0 else 0.0)


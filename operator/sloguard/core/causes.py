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

1. every maintenance window from when it was declared (:func:`first_seen`: a window added late
   excuses nothing before it was seen), clipped to ``[window start, now)``, merged where they
   overlap or touch;
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
from dataclasses import dataclass, field, replace
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
    """A planned maintenance window ``[start, end)``.

    ``declared``: when the window was first seen (:func:`first_seen`); it counts only from then,
    never retroactively. None: counted as written (a file given to the CLI, no operator record).
    """

    start: datetime
    end: datetime
    description: str = ""
    declared: datetime | None = None

    @property
    def counted(self) -> Interval:
        """The part that counts as maintenance: ``[max(start, declared), end)`` (may be empty)."""
        start = _utc(self.start) if self.declared is None else max(_utc(self.start), _utc(self.declared))
        return start, _utc(self.end)


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
    planned = merge(clip((m.counted for m in maintenance), window_start, now))
    settle = timedelta(seconds=settle_seconds)
    released = merge(clip(((r.at, _utc(r.at) + settle) for r in rollouts), window_start, now))
    return CauseIntervals(tuple(subtract(released, planned)), tuple(planned))


def first_seen(windows: Iterable[Interval], recorded: Mapping[Interval, datetime], now: datetime,
               created: datetime | None = None, generation: int | None = None) -> dict[Interval, datetime]:
    """When each maintenance window of an object was first seen: what its maintenance counts from.

    A window is keyed by its ``(start, end)``; changing either makes a new window.

    - a window in ``recorded`` (the object's status, written by the operator) keeps that time;
    - otherwise, while the object's spec is the one it was created with (``generation`` 1, the
      API server's own count), the window was declared at creation: ``created``
      (``metadata.creationTimestamp``, set by the API server);
    - otherwise it is seen now: a window added to an existing object counts from the moment the
      operator first sees it, whatever its ``start`` (or an ``announcedAt``) says.

    Never later than ``now``. Only server-set facts are trusted: ``managedFields`` times can be
    written by the requester, so they are not used.
    """
    now = _utc(now)
    known = {_key(a, b): _utc(t) for (a, b), t in recorded.items()}
    out: dict[Interval, datetime] = {}
    for a, b in windows:
        key = _key(a, b)
        if key in known:
            seen = known[key]
        elif generation == 1 and created is not None:
            seen = _utc(created)
        else:
            seen = now
        out[key] = min(seen, now)
    return out


def declared(maintenance: Iterable[Maintenance], seen: Mapping[Interval, datetime]) -> tuple[Maintenance, ...]:
    """``maintenance`` with ``declared`` set from :func:`first_seen` (a window missing from ``seen``
    keeps its ``declared``)."""
    keyed = {_key(a, b): t for (a, b), t in seen.items()}
    return tuple(replace(m, declared=keyed.get(_key(m.start, m.end), m.declared)) for m in maintenance)


def _key(start: datetime, end: datetime) -> Interval:
    """A window as recorded: UTC, whole seconds (the precision of the status record)."""
    return _utc(start).replace(microsecond=0), _utc(end).replace(microsecond=0)


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


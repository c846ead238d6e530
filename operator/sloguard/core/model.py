"""The domain model every input converts into: the core never sees raw dicts or CRD objects.

A ``ServiceLevelObjective`` custom resource, a file on disk or (later) an OpenSLO or Sloth spec
all become an :class:`Objective` at the edge (``sloguard.api``). Frozen dataclasses: values,
not entities, so they hash, compare and can be cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .causes import CauseSettings
from .windows import BurnRateTier, Window, normalize_duration


@dataclass(frozen=True)
class RatioSLI:
    """Counters of bad (``errors``) or good events, and of all events."""

    total: str
    errors: str | None = None
    good: str | None = None


@dataclass(frozen=True)
class RatioQuerySLI:
    """Sloth-style full queries with a ``{{.window}}`` placeholder for the range."""

    total_query: str
    error_query: str | None = None
    good_query: str | None = None


@dataclass(frozen=True)
class LatencySLI:
    """A classic histogram: good = observations at or under ``threshold`` seconds.

    ``valid_below`` (SLA latency terms) makes requests slower than it invalid outliers: they
    count neither as good nor as total.
    """

    histogram: str
    threshold: float
    valid_below: float | None = None


@dataclass(frozen=True)
class RawSLI:
    """An error *ratio* query with ``{{.window}}``; averaged over time, not traffic-weighted."""

    error_ratio_query: str


@dataclass(frozen=True)
class BoolGaugeSLI:
    """A 0/1 gauge such as ``probe_success``: the good ratio is the share of time it was 1."""

    selector: str


SLI = RatioSLI | RatioQuerySLI | LatencySLI | RawSLI | BoolGaugeSLI
BudgetingMethod = Literal["Occurrences", "Timeslices"]


@dataclass(frozen=True)
class Timeslice:
    """A slice of ``window`` is good when its good ratio is at least ``target`` (a fraction)."""

    window: str
    target: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "window", normalize_duration(self.window))  # "60s" names the 1m slices


@dataclass(frozen=True)
class Alerting:
    name: str
    tiers: tuple[BurnRateTier, ...]
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    minimum_traffic: float = 0.0
    disabled: bool = False


@dataclass(frozen=True)
class Objective:
    """One SLO, normalised: objective as a fraction, tiers resolved, window parsed."""

    namespace: str
    name: str
    service: str
    objective: float  # fraction, e.g. 0.999
    window: Window
    sli: SLI
    alerting: Alerting
    budgeting_method: BudgetingMethod = "Occurrences"
    timeslice: Timeslice | None = None
    description: str = ""
    #: Workloads, release settle time and maintenance windows for the budget split by cause.
    causes: CauseSettings = field(default_factory=CauseSettings)

    @property
    def error_budget(self) -> float:
        """The allowed bad fraction, ``1 - objective``."""
        return 1.0 - self.objective

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

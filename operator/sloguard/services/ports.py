"""The small interfaces services use to reach the outside world (adapters implement them).

Each port lists only the methods a service calls, so an adapter satisfies it structurally and a
unit test fakes it with a few lines in memory. Failures to read metrics arrive as
:class:`MetricsError` (:class:`MetricsUnavailable` when the server cannot be reached at all).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from ..adapters.sla_history import HistoryRecord
from ..adapters.sla_reader import SLAPrometheusUnavailable as MetricsUnavailable
from ..adapters.sla_reader import SLAReadError as MetricsError
from ..core.model import SLI, Objective
from ..core.report import ReportPeriod, SLOPeriodReport
from ..core.sla import Contract, MaintenancePlan, Measurement, Period

__all__ = ["ContractMetrics", "Events", "HistoryStore", "ImpactMetrics", "MetricsError", "MetricsUnavailable",
           "MonthData", "ReportMetrics", "ReportStore"]


class MonthData(Protocol):
    """What was measured for one contract and month: the maintenance plan, a measurement per
    term, and the instant the measurements end (the month's end, or ``now`` within it)."""

    @property
    def plan(self) -> MaintenancePlan: ...

    @property
    def measurements(self) -> Mapping[str, Measurement]: ...

    @property
    def until(self) -> datetime: ...


class ContractMetrics(Protocol):
    """Reads a contract's month (raises :class:`MetricsError`)."""

    def read_contract(self, contract: Contract, period: Period, now: datetime) -> MonthData: ...


class ImpactMetrics(ContractMetrics, Protocol):
    """Also counts an SLI's events in an interval and finds its worst 5-minute error ratio."""

    def sli_counts(self, sli: SLI, start: float, end: float, what: str) -> tuple[float, float]: ...

    def worst_error_ratio(self, sli: SLI, start: float, end: float, what: str) -> float | None: ...


class HistoryStore(Protocol):
    """Finalized SLA revisions (immutable; ``create`` raises ``HistoryExists`` for a taken name)."""

    def list(self, namespace: str, contract: str) -> list[HistoryRecord]: ...

    def create(self, body: Mapping[str, Any]) -> HistoryRecord: ...


class ReportMetrics(Protocol):
    """Reads an SLO's period report: its hours and the periods before (raises :class:`MetricsError`)."""

    def read_report(self, slo: Objective, period: ReportPeriod, now: datetime) -> SLOPeriodReport: ...


class ReportStore(Protocol):
    """Finalized SLO month reports (immutable; ``create`` raises ``HistoryExists`` for a taken name)."""

    def exists(self, namespace: str, name: str) -> bool: ...

    def create(self, body: Mapping[str, Any]) -> str: ...


class Events(Protocol):
    """Posts a Kubernetes Event about the object being reconciled."""

    def post(self, type_: str, reason: str, message: str) -> None: ...

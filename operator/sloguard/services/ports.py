"""The small interfaces services use to reach the outside world (adapters implement them).

Each port lists only the methods a service calls, so an adapter satisfies it structurally and a
unit test fakes it with a few lines in memory. The cluster ports are implemented over the API
server by :class:`sloguard.adapters.cluster.KubeCluster` (errors:
:class:`sloguard.adapters.kube.KubeError`). Failures to read metrics arrive as
:class:`MetricsError` (:class:`MetricsUnavailable` when the server cannot be reached at all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ..adapters.prometheus import PrometheusError as MetricsError
from ..adapters.prometheus import PrometheusUnavailable as MetricsUnavailable
from ..adapters.sla_history import HistoryRecord
from ..api.common import Diagnostic
from ..core.causes import Maintenance, Rollout, WorkloadSelector
from ..core.model import SLI, Objective
from ..core.report import ReportPeriod, SLOPeriodReport
from ..core.rules import RuleGroup
from ..core.sla import Contract, MaintenancePlan, Measurement, Period

__all__ = ["Cluster", "ContractMaintenance", "ContractMetrics",
           "IntervalCounts", "EventPoster", "Events", "HistoryStore", "ImpactMetrics", "MetricsError",
           "MetricsUnavailable", "MonthData", "PolicyCluster", "ReportMetrics", "ReportStore", "Rollouts",
           "RuleChecker",
           "WebhookCertificates", "Workloads"]


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


class IntervalCounts(Protocol):
    """Counts an SLI's events in an interval (raises :class:`MetricsError`)."""

    def sli_counts(self, sli: SLI, start: float, end: float, what: str) -> tuple[float, float]:
        """Bad and total events (bad and measured seconds for time-based SLIs) in ``[start, end)``
        (Unix seconds)."""


class ImpactMetrics(ContractMetrics, IntervalCounts, Protocol):
    """Also counts an SLI's events in an interval and finds its worst 5-minute error ratio."""

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


class Rollouts(Protocol):
    """When workloads linked to an SLO rolled out (ReplicaSets, ControllerRevisions)."""

    def rollouts(self, namespace: str, slo: str, workloads: Sequence[WorkloadSelector],
                 since: datetime) -> list[Rollout]:
        """Rollouts since ``since`` of ``workloads`` and of the targets of ErrorBudgetPolicies in
        ``namespace`` that name the SLO ``slo``, oldest first."""


class ContractMaintenance(Protocol):
    """Maintenance windows SLAContracts declare for a service."""

    def maintenance(self, namespace: str, service: str) -> list[Maintenance]:
        """The windows of the SLAContracts in ``namespace`` whose ``spec.services`` lists ``service``."""


class Events(Protocol):
    """Posts a Kubernetes Event about the object being reconciled."""

    def post(self, type_: str, reason: str, message: str) -> None: ...


class Cluster(Protocol):
    """The Kubernetes API as the services use it (errors: :class:`sloguard.adapters.kube.KubeError`)."""

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""

    def apply(self, body: Mapping[str, Any], field_manager: str = ...) -> dict[str, Any]:
        """Server-side apply ``body`` as ``field_manager``."""

    def patch_status(self, api_version: str, kind: str, name: str, namespace: str,
                     status: Mapping[str, Any]) -> None:
        """Merge-patch the status subresource."""

    def apply_status(self, api_version: str, kind: str, name: str, namespace: str,
                     status: Mapping[str, Any], field_manager: str) -> dict[str, Any]:
        """Server-side apply the status subresource as ``field_manager``."""


class Workloads(Protocol):
    """Workloads (apps/v1) and admission objects the ErrorBudgetPolicy service reads and edits."""

    def list_workloads(self, namespace: str, kind: str, label_selector: str) -> list[dict[str, Any]]:
        """Workloads of ``kind`` in ``namespace`` matching ``label_selector`` (empty: all)."""

    def drop_annotation(self, kind: str, namespace: str, name: str, key: str) -> None:
        """Remove one annotation from a workload, whoever set it."""

    def delete_admission(self, kind: str, name: str) -> None:
        """Delete an admissionregistration.k8s.io/v1 object (absent is fine)."""

    def may(self, user: str, groups: list[str], verb: str, namespace: str, policy: str,
            extra: dict[str, Any] | None = None) -> bool:
        """Whether RBAC lets ``user`` do ``verb`` on the named ErrorBudgetPolicy."""


class PolicyCluster(Cluster, Workloads, Protocol):
    """Everything the ErrorBudgetPolicy service touches in the cluster."""


class EventPoster(Protocol):
    """Kubernetes Events about any object (a policy, the workloads it holds)."""

    def post(self, involved: Mapping[str, Any], *, type_: str, reason: str, message: str) -> None:
        """Post an Event of ``type_`` (Normal, Warning) about ``involved``."""


class WebhookCertificates(Protocol):
    """The webhook's serving certificate for ``hosts`` under ``cert_dir`` (made when missing); its CA bundle."""

    def __call__(self, cert_dir: Path, hosts: list[str]) -> bytes: ...



class RuleChecker(Protocol):
    """Prometheus' own validation of one SLO's generated rules (promtool): the rules it refuses.

    ``groups`` are the SLO's rule groups as the caller built them (the ones it then applies).

    Raises :class:`sloguard.adapters.promtool.PromtoolUnavailable` when the check could not run.
    """

    def __call__(self, objective: Objective, groups: Sequence[RuleGroup]) -> list[Diagnostic]: ...

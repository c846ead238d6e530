"""Ports: what the services need from the outside world, as small ``typing.Protocol`` classes.

Adapters implement them (:class:`sloguard.adapters.cluster.KubeCluster` over the API server);
unit tests implement them in memory. Only the methods a service calls are here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from ..api.common import Diagnostic
from ..core.model import Objective


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


class Events(Protocol):
    """Kubernetes Events about an object."""

    def post(self, involved: Mapping[str, Any], *, type_: str, reason: str, message: str) -> None:
        """Post an Event of ``type_`` (Normal, Warning) about ``involved``."""


class WebhookCertificates(Protocol):
    """The webhook's serving certificate for ``hosts`` under ``cert_dir`` (made when missing); its CA bundle."""

    def __call__(self, cert_dir: Path, hosts: list[str]) -> bytes: ...



class RuleChecker(Protocol):
    """Prometheus' own validation of one SLO's generated rules (promtool): the rules it refuses.

    Raises :class:`sloguard.adapters.promtool.PromtoolUnavailable` when the check could not run.
    """

    def __call__(self, objective: Objective) -> list[Diagnostic]: ...

"""Maintenance windows of SLAContracts covering a service (the ``ContractMaintenance`` port).

A contract covers the services its ``spec.services`` lists, in its own namespace: their SLOs count
its maintenance windows (announced in time or not: the work was planned) as maintenance in
``status.budget.byCause`` — each only from when the operator first saw it (``status.maintenanceSeen``
of the contract, :mod:`sloguard.api.maintenance_seen`), never retroactively. One LIST per
namespace, kept for the life of the object: the budget loop makes one per refresh cycle.
Contracts whose spec does not validate are left out (their own status says why).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ..api.maintenance_seen import declared_windows
from ..api.sla import SLAContractSpec
from ..core import conventions as c
from ..core.causes import Maintenance
from .kube import Kube, KubeError


class KubeContractMaintenance:
    """Maintenance windows by (namespace, service), read from the API server on first use; each
    counts from when the operator first saw it (``status.maintenanceSeen``; not yet recorded:
    from ``now``, so a window added late excuses nothing before it was seen)."""

    def __init__(self, kube: Kube, now: datetime) -> None:
        self.kube = kube
        self.now = now
        self._by_namespace: dict[str, dict[str, list[Maintenance]]] = {}
        self._lock = threading.Lock()

    def maintenance(self, namespace: str, service: str) -> list[Maintenance]:
        with self._lock:
            if namespace not in self._by_namespace:
                try:
                    listed = self.kube.list(c.API_VERSION, c.KIND_SLA, namespace)
                except KubeError as e:
                    if e.status != 404:  # 404: the SLAContract kind is not installed, so no contracts
                        raise
                    listed = []
                self._by_namespace[namespace] = windows_by_service(listed, self.now)
            return list(self._by_namespace[namespace].get(service, []))


class ListedContracts:
    """Maintenance windows by (namespace, service) from SLAContract objects already read (the CLI's
    ``--from-cluster``); with ``now``, each counted from its first sighting as the operator counts it."""

    def __init__(self, contracts: list[dict[str, Any]], now: datetime | None = None) -> None:
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for body in contracts:
            by_namespace.setdefault(str((body.get("metadata") or {}).get("namespace") or ""), []).append(body)
        self._by_namespace = {ns: windows_by_service(bodies, now) for ns, bodies in by_namespace.items()}

    def maintenance(self, namespace: str, service: str) -> list[Maintenance]:
        return list(self._by_namespace.get(namespace, {}).get(service, []))


def windows_by_service(contracts: list[dict[str, Any]], now: datetime | None = None) -> dict[str, list[Maintenance]]:
    """Service -> the maintenance windows of every valid contract listing it.

    With ``now`` (the operator), each window counts from its first sighting
    (:mod:`sloguard.api.maintenance_seen`); without (objects as written, the CLI), as written.
    """
    out: dict[str, list[Maintenance]] = {}
    for body in contracts:
        try:
            spec = SLAContractSpec.model_validate(body.get("spec") or {})
        except ValidationError:
            continue
        windows: Sequence[Maintenance] = [Maintenance(w.start, w.end, w.description)
                                          for w in spec.maintenance.windows]
        if now is not None:
            windows = declared_windows(body, windows, now)
        for service in spec.services:
            out.setdefault(service, []).extend(windows)
    return out

"""The services' cluster ports (:mod:`sloguard.services.ports`) over one :class:`~.kube.Kube`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core import conventions as c
from . import admission_policy as vap
from .kube import Kube


class KubeCluster:
    """:class:`~sloguard.services.ports.PolicyCluster` through the API server; cheap to create per call."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return self.kube.get(api_version, kind, name, namespace)

    def apply(self, body: Mapping[str, Any], field_manager: str = c.FIELD_MANAGER) -> dict[str, Any]:
        return self.kube.apply(body, field_manager)

    def patch_status(self, api_version: str, kind: str, name: str, namespace: str,
                     status: Mapping[str, Any]) -> None:
        self.kube.patch_status(api_version, kind, name, namespace, status)

    def apply_status(self, api_version: str, kind: str, name: str, namespace: str,
                     status: Mapping[str, Any], field_manager: str) -> dict[str, Any]:
        return self.kube.apply_status(api_version, kind, name, namespace, status, field_manager)

    def list_workloads(self, namespace: str, kind: str, label_selector: str) -> list[dict[str, Any]]:
        return vap.list_workloads(self.kube, namespace, kind, label_selector)

    def drop_annotation(self, kind: str, namespace: str, name: str, key: str) -> None:
        vap.drop_annotation(self.kube, kind, namespace, name, key)

    def delete_admission(self, kind: str, name: str) -> None:
        vap.delete(self.kube, kind, name)

    def may(self, user: str, groups: list[str], verb: str, namespace: str, policy: str,
            extra: dict[str, Any] | None = None) -> bool:
        return vap.may(self.kube, user, groups, verb, namespace, policy, extra=extra)

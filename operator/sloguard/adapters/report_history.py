"""Finalized SLO month reports as immutable ConfigMaps: history that outlives the SLO object.

One ConfigMap per SLO and calendar month (in the SLO's timezone), named
``slo-report-<slo>-<YYYY-MM>``::

    metadata:
      labels: {sloguard.io/slo: <name>, sloguard.io/period: 2026-11, app.kubernetes.io/managed-by: sloguard}
      annotations: {sloguard.io/finalized-at: ...}
    immutable: true
    data: {report.json: <slo_report.to_json for this one SLO>, report.md: <render_markdown>}

No ownerReference to the SLO (deleting it must not delete its reports); created, never updated:
a name that exists already means another replica (or an earlier run) stored that month, and that
one stands (:class:`~sloguard.adapters.sla_history.HistoryExists`, as for SLA history).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import DynamicApiError

from ..core import conventions as c
from ..core.conditions import rfc3339
from .kube import Kube, KubeError
from .sla_history import HistoryExists

__all__ = ["HistoryExists", "ReportHistory", "report_config_map", "report_config_map_name"]


def report_config_map_name(slo: str, period: str) -> str:
    """``slo-report-<slo>-<YYYY-MM>`` (SLO names have at most 63 characters, so this fits)."""
    return f"{c.REPORT_CONFIGMAP_PREFIX}{slo}-{period}"


def report_config_map(*, namespace: str, slo: str, period: str, document: Mapping[str, Any], markdown: str,
                      finalized_at: datetime) -> dict[str, Any]:
    """The ConfigMap holding one finalized month report (plain data, no client objects)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": report_config_map_name(slo, period),
            "namespace": namespace,
            "labels": {c.LABEL_OWNER_SLO: slo, c.LABEL_SLA_PERIOD: period, c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE},
            "annotations": {c.ANNOTATION_REPORT_FINALIZED_AT: rfc3339(finalized_at)},
        },
        "immutable": True,
        "data": {c.REPORT_JSON_KEY: json.dumps(dict(document), indent=2) + "\n", c.REPORT_MARKDOWN_KEY: markdown},
    }


class ReportHistory:
    """Reads and creates report ConfigMaps through the operator's :class:`Kube` clients."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def exists(self, namespace: str, name: str) -> bool:
        """Whether the ConfigMap ``namespace/name`` exists (a GET; 404 is False)."""
        return self.kube.get("v1", "ConfigMap", name, namespace) is not None

    def create(self, body: Mapping[str, Any]) -> str:
        """Create the ConfigMap and return its name; :class:`HistoryExists` when it exists already."""
        meta = body["metadata"]
        try:
            self.kube.resource("v1", "ConfigMap").create(body=dict(body), namespace=meta["namespace"])
        except (ApiException, DynamicApiError) as e:
            status = getattr(e, "status", None)
            if status == 409:
                raise HistoryExists(f"ConfigMap {meta['namespace']}/{meta['name']} exists already", 409) from None
            hint = " (RBAC forbids it: the operator needs get/create on configmaps)" if status == 403 else ""
            raise KubeError(f"cannot create ConfigMap {meta['namespace']}/{meta['name']}: {status}{hint}",
                            status) from None
        return str(meta["name"])

"""Finalized SLA months as immutable ConfigMaps: the history that outlives the contract object.

One ConfigMap per contract, period and revision, named ``sla-<contract>-<YYYY-MM>-r<N>``::

    metadata:
      labels: {sloguard.io/contract: <name>, sloguard.io/period: 2026-10, sloguard.io/revision: "1",
               app.kubernetes.io/managed-by: sloguard}
      annotations: {sloguard.io/finalized-at: ..., sloguard.io/contract-id: ...,
                    sloguard.io/reevaluation-request: 2026-10 (revisions > 1 only)}
    immutable: true
    data: {result.json: <ContractResult.as_dict()>, report.md: <optional>}

No ownerReference to the contract: deleting the contract (an Argo CD prune) must not delete
what was billed. Objects are created, never updated: a name that exists already means another
operator (or an earlier run) finalized that revision, and that one stands.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import DynamicApiError

from ..core import conventions as c
from ..core.conditions import rfc3339
from .kube import Kube, KubeError

_MAX_NAME = 253


class HistoryExists(KubeError):
    """The ConfigMap for that revision exists already (finalized elsewhere); it is kept as is."""


@dataclass(frozen=True)
class HistoryRecord:
    """One finalized revision as read back from its ConfigMap."""

    name: str
    period: str
    revision: int
    result: dict[str, Any]
    finalized_at: datetime | None
    request: str | None
    resource_version: str


def config_map_name(contract: str, period: str, revision: int) -> str:
    """``sla-<contract>-<period>-r<revision>``; long contract names are shortened with a hash."""
    suffix = f"-{period}-r{revision}"
    name = f"sla-{contract}{suffix}"
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(contract.encode()).hexdigest()[:10]
    keep = _MAX_NAME - len("sla-") - len(suffix) - len(digest) - 1
    return f"sla-{contract[:keep].rstrip('-.')}-{digest}{suffix}"


def _label_value(text: str) -> str:
    """A label value (63 chars max); contract names longer than that are shortened with a hash."""
    if len(text) <= 63:
        return text
    return f"{text[:52].rstrip('-._')}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def contract_selector(contract: str) -> str:
    return f"{c.LABEL_SLA_CONTRACT}={_label_value(contract)}"


def history_config_map(
    *,
    namespace: str,
    contract: str,
    contract_id: str,
    period: str,
    revision: int,
    result: Mapping[str, Any],
    finalized_at: datetime,
    request: str | None = None,
    contract_uid: str | None = None,
    report: str | None = None,
) -> dict[str, Any]:
    """The ConfigMap holding one finalized revision (plain data, no client objects)."""
    annotations = {
        c.ANNOTATION_SLA_FINALIZED_AT: rfc3339(finalized_at),
        c.ANNOTATION_SLA_CONTRACT_ID: contract_id,
    }
    if contract_uid:
        annotations[c.ANNOTATION_SLA_CONTRACT_UID] = contract_uid
    if request:
        annotations[c.ANNOTATION_SLA_REQUEST] = request
    data = {c.SLA_HISTORY_RESULT_KEY: json.dumps(dict(result), indent=2, sort_keys=False) + "\n"}
    if report:
        data[c.SLA_HISTORY_REPORT_KEY] = report
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": config_map_name(contract, period, revision),
            "namespace": namespace,
            "labels": {
                c.LABEL_SLA_CONTRACT: _label_value(contract),
                c.LABEL_SLA_PERIOD: period,
                c.LABEL_SLA_REVISION: str(revision),
                c.LABEL_MANAGED_BY: c.MANAGED_BY_VALUE,
            },
            "annotations": annotations,
        },
        "immutable": True,
        "data": data,
    }


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def record_from_config_map(cm: Mapping[str, Any]) -> HistoryRecord | None:
    """A record from a ConfigMap as listed; None when it is not one of ours or is damaged."""
    meta = cm.get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    try:
        revision = int(labels.get(c.LABEL_SLA_REVISION, ""))
        result = json.loads((cm.get("data") or {})[c.SLA_HISTORY_RESULT_KEY])
    except (KeyError, ValueError, TypeError):
        return None
    period = labels.get(c.LABEL_SLA_PERIOD) or ""
    if not isinstance(result, dict) or not period:
        return None
    return HistoryRecord(
        name=str(meta.get("name")),
        period=period,
        revision=revision,
        result=result,
        finalized_at=_parse_time(annotations.get(c.ANNOTATION_SLA_FINALIZED_AT)) or _parse_time(
            meta.get("creationTimestamp")),
        request=annotations.get(c.ANNOTATION_SLA_REQUEST) or None,
        resource_version=str(meta.get("resourceVersion") or ""),
    )


def newest_first(records: list[HistoryRecord]) -> list[HistoryRecord]:
    return sorted(records, key=lambda r: (r.period, r.revision), reverse=True)


class SLAHistory:
    """Reads and creates history ConfigMaps through the operator's :class:`Kube` clients."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def _configmaps(self) -> Any:
        return self.kube.resource("v1", "ConfigMap")

    def list(self, namespace: str, contract: str) -> list[HistoryRecord]:
        """Every finalized revision of ``contract`` in ``namespace``, newest period first."""
        try:
            found = self._configmaps().get(namespace=namespace, label_selector=contract_selector(contract))
        except (ApiException, DynamicApiError) as e:
            raise _error(e, f"list history ConfigMaps of {namespace}/{contract}") from None
        items = found.to_dict().get("items") or []
        records = [r for r in (record_from_config_map(i) for i in items) if r is not None]
        # A shortened label could be shared by two long names: keep only this contract's maps.
        return newest_first([r for r in records if r.name == config_map_name(contract, r.period, r.revision)])

    def create(self, body: Mapping[str, Any]) -> HistoryRecord:
        """Create the ConfigMap; :class:`HistoryExists` when that revision exists already."""
        meta = body["metadata"]
        try:
            out = self._configmaps().create(body=dict(body), namespace=meta["namespace"])
        except (ApiException, DynamicApiError) as e:
            if getattr(e, "status", None) == 409:
                raise HistoryExists(f"ConfigMap {meta['namespace']}/{meta['name']} exists already", 409) from None
            raise _error(e, f"create ConfigMap {meta['namespace']}/{meta['name']}") from None
        record = record_from_config_map(out.to_dict())
        if record is None:
            raise KubeError(f"ConfigMap {meta['name']} was created but cannot be read back")
        return record


def _error(e: Exception, what: str) -> KubeError:
    status = getattr(e, "status", None)
    hint = {403: " (RBAC forbids it: the operator needs get/list/create on configmaps)"}.get(status or 0, "")
    reason = getattr(e, "reason", "") or ""
    return KubeError(f"cannot {what}: {status} {reason}{hint}".strip(), status)

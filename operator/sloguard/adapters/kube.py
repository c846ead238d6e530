"""The Kubernetes side: server-side apply, status, events — errors translated to ours.

The operator writes only what it owns, with its own field manager, using server-side apply;
so re-applies are idempotent (an operator restart creates no duplicates) and GitOps tools see
no drift in fields they manage.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

from ..core import conventions as c


class KubeError(RuntimeError):
    """A Kubernetes API call failed; the message says what and why, for people."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def load_config(kubeconfig: str | None = None) -> client.ApiClient:
    """In-cluster credentials when running in a Pod, else the kubeconfig (``$KUBECONFIG``)."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        # $KUBECONFIG is read now, not when the client library was imported (tests set it late).
        config.load_kube_config(config_file=kubeconfig or os.environ.get("KUBECONFIG") or None)
    return client.ApiClient()


@dataclass
class Kube:
    """Clients created once at startup and shared (thread-safe for our use)."""

    api: client.ApiClient
    _dynamic: DynamicClient | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def connect(cls, kubeconfig: str | None = None) -> Kube:
        return cls(load_config(kubeconfig))

    @property
    def dynamic(self) -> DynamicClient:
        with self._lock:
            if self._dynamic is None:
                self._dynamic = DynamicClient(self.api)
            return self._dynamic

    def resource(self, api_version: str, kind: str) -> Any:
        try:
            return self.dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            raise KubeError(f"the cluster does not serve {kind} ({api_version}); is its CRD installed?") from None

    def apply(self, body: Mapping[str, Any], field_manager: str = c.FIELD_MANAGER, *,
              force: bool = True, dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply ``body``; returns the object as stored."""
        res = self.resource(body["apiVersion"], body["kind"])
        meta = body.get("metadata", {})
        kwargs: dict[str, Any] = {"field_manager": field_manager, "force_conflicts": force}
        if dry_run:
            kwargs["dry_run"] = "All"
        try:
            out = self.dynamic.server_side_apply(res, body=dict(body), namespace=meta.get("namespace"), **kwargs)
        except (ApiException, DynamicApiError) as e:
            raise _translate(e, f"apply {body['kind']} {meta.get('namespace', '')}/{meta.get('name')}") from None
        return out.to_dict()  # type: ignore[no-any-return]

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        res = self.resource(api_version, kind)
        try:
            return res.get(name=name, namespace=namespace).to_dict()  # type: ignore[no-any-return]
        except (ApiException, DynamicApiError) as e:
            if getattr(e, "status", None) == 404:
                return None
            raise _translate(e, f"get {kind} {namespace}/{name}") from None

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every object of a kind in ``namespace`` (all namespaces when None)."""
        res = self.resource(api_version, kind)
        try:
            return res.get(namespace=namespace).to_dict().get("items", [])  # type: ignore[no-any-return]
        except (ApiException, DynamicApiError) as e:
            raise _translate(e, f"list {kind} in {namespace or 'all namespaces'}") from None

    def patch_status(self, api_version: str, kind: str, name: str, namespace: str,
                     status: Mapping[str, Any]) -> None:
        """Merge-patch the status subresource (never the spec)."""
        res = self.resource(api_version, kind)
        try:
            res.status.patch(name=name, namespace=namespace, body={"status": dict(status)},
                             content_type="application/merge-patch+json")
        except (ApiException, DynamicApiError) as e:
            raise _translate(e, f"patch status of {kind} {namespace}/{name}") from None


    def apply_status(self, api_version: str, kind: str, name: str, namespace: str,
                     status: Mapping[str, Any], field_manager: str) -> dict[str, Any]:
        """Server-side apply ``status`` (the status subresource) as ``field_manager``.

        Each writer of a kind's status uses its own field manager and sends only the fields it
        owns; ``status.conditions`` is a list map keyed by ``type`` in the CRD, so the API server
        merges conditions by type: two writers never drop each other's conditions, whatever the
        order or timing of their writes. A field this manager sent before and omits now is
        removed (``None`` values are omitted).
        """
        res = self.resource(api_version, kind)
        body = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace},
                "status": _without_none(dict(status))}
        try:
            out = res.status.server_side_apply(body=body, name=name, namespace=namespace,
                                               field_manager=field_manager, force_conflicts=True)
        except (ApiException, DynamicApiError) as e:
            raise _translate(e, f"apply status of {kind} {namespace}/{name}") from None
        return out.to_dict()  # type: ignore[no-any-return]


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


#: Responses that no retry can turn into success: the request itself is wrong.
PERMANENT_STATUSES = frozenset({400, 422})


def is_permanent(error: KubeError) -> bool:
    """Whether retrying the same request cannot succeed (400 Bad Request, 422 Invalid)."""
    return error.status in PERMANENT_STATUSES


def _translate(e: Exception, what: str) -> KubeError:
    status = getattr(e, "status", None)
    reason = getattr(e, "reason", "") or ""
    body = getattr(e, "body", None) or getattr(e, "summary", lambda: "")()
    detail = ""
    if isinstance(body, str | bytes):
        import json

        try:
            detail = json.loads(body).get("message", "")
        except (ValueError, AttributeError):
            detail = str(body)[:300]
    hint = {401: " (credentials rejected)", 403: " (RBAC forbids it: check the operator's ClusterRole)",
            404: " (not found)", 409: " (conflict)", 422: " (rejected as invalid)"}.get(status or 0, "")
    return KubeError(f"cannot {what}: {status} {reason}{hint}: {detail}".rstrip(": "), status)


def owner_reference(body: Mapping[str, Any]) -> dict[str, Any]:
    """An ownerReference to ``body`` so the garbage collector deletes what we made with it."""
    meta = body["metadata"]
    return {
        "apiVersion": body.get("apiVersion", c.API_VERSION),
        "kind": body["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def hold_lease(kube: Kube, name: str, namespace: str, identity: str, duration_seconds: int) -> bool:
    """Acquire or renew a coordination.k8s.io Lease; True while ``identity`` holds it.

    Used so that only one replica runs cluster-wide loops (the budget refresh) when several
    replicas run with kopf peering: kopf pauses its own handlers on the standby replica, but
    not tasks of ours. A lease expired for ``duration_seconds`` is taken over.
    """
    from datetime import UTC, datetime, timedelta

    api = client.CoordinationV1Api(kube.api)
    now = datetime.now(UTC)
    spec = client.V1LeaseSpec(holder_identity=identity, lease_duration_seconds=duration_seconds,
                              acquire_time=now, renew_time=now)
    try:
        lease = api.read_namespaced_lease(name, namespace)
    except ApiException as e:
        if e.status != 404:
            raise _translate(e, f"read Lease {namespace}/{name}") from None
        try:
            api.create_namespaced_lease(namespace, client.V1Lease(
                metadata=client.V1ObjectMeta(name=name, namespace=namespace), spec=spec))
            return True
        except ApiException as e2:
            if e2.status == 409:
                return False  # another replica created it first
            raise _translate(e2, f"create Lease {namespace}/{name}") from None
    current = lease.spec or client.V1LeaseSpec()  # a Lease without spec is nobody's: take it
    lease.spec = current
    held = current.holder_identity == identity
    renewed = current.renew_time or current.acquire_time
    expired = renewed is None or renewed + timedelta(seconds=current.lease_duration_seconds or 0) < now
    if not (held or expired):
        return False
    current.holder_identity = identity
    current.lease_duration_seconds = duration_seconds
    current.renew_time = now
    if not held:
        current.acquire_time = now
    try:
        api.replace_namespaced_lease(name, namespace, lease)  # resourceVersion guards the race
    except ApiException as e:
        if e.status == 409:
            return False
        raise _translate(e, f"renew Lease {namespace}/{name}") from None
    return True

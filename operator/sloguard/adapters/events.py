"""Kubernetes Events: the one poster every kind uses (the services' ``Events`` port).

Straight to the API server (core/v1 Event, source ``sloguard``), so it works from any thread:
kopf handlers, the budget loop, the SLA daemons, admission. An Event is a notice, not a result:
one that cannot be posted is logged and never fails the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .kube import Kube, _translate

log = logging.getLogger("sloguard.events")

#: Longest message we post (the API server stores more; nobody reads it in ``kubectl describe``).
MAX_MESSAGE = 1024


class KubeEvents:
    """Posts Events about objects (``apiVersion``, ``kind``, ``metadata.name/namespace/uid``)."""

    def __init__(self, kube: Kube, component: str = "sloguard") -> None:
        self.component = component
        # Made now, at startup: the client loads its CoreV1Api module lazily, seconds on a busy
        # machine, which the first Event would otherwise wait for.
        self._core = client.CoreV1Api(kube.api) if kube is not None else None

    def about(self, involved: Mapping[str, Any]) -> ObjectEvents:
        """A poster bound to one object (the SLA service's ``Events`` port)."""
        return ObjectEvents(self, involved)

    def post(self, involved: Mapping[str, Any], *, type_: str, reason: str, message: str) -> None:
        """Post an Event of ``type_`` (Normal, Warning) about ``involved``; failures are logged."""
        meta = involved["metadata"]
        now = datetime.now(UTC)
        body = client.CoreV1Event(
            metadata=client.V1ObjectMeta(generate_name=f"{meta['name']}.", namespace=meta["namespace"]),
            involved_object=client.V1ObjectReference(
                api_version=involved.get("apiVersion"), kind=involved.get("kind"), name=meta["name"],
                namespace=meta["namespace"], uid=meta.get("uid")),
            reason=reason, message=message[:MAX_MESSAGE], type=type_,
            source=client.V1EventSource(component=self.component),
            first_timestamp=now, last_timestamp=now, count=1, reporting_component=self.component,
        )
        if self._core is None:  # a context without a cluster (unit tests)
            log.warning(f"Event {reason} not posted: no API client")
            return
        try:
            self._core.create_namespaced_event(meta["namespace"], body)
        except ApiException as e:
            err = _translate(e, f"post Event {reason} on {meta['namespace']}/{meta['name']}")
            log.warning(f"Event {reason} not posted: {err}")


class ObjectEvents:
    """:class:`KubeEvents` about one object: ``post(type_, reason, message)``."""

    def __init__(self, events: KubeEvents, involved: Mapping[str, Any]) -> None:
        self.events, self.involved = events, involved

    def post(self, type_: str, reason: str, message: str) -> None:
        self.events.post(self.involved, type_=type_, reason=reason, message=message)

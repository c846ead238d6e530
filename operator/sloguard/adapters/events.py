"""Kubernetes Events: the one poster every kind uses (the services' ``Events`` port).

Straight to the API server (core/v1 Event, source ``sloguard``), so it works from any thread:
kopf handlers, the budget loop, the SLA daemons, admission. An Event is a notice, not a result:
one that cannot be posted is logged and never fails the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .kube import Kube, KubeError, post_event

log = logging.getLogger("sloguard.events")


class KubeEvents:
    """Posts Events about objects (``apiVersion``, ``kind``, ``metadata.name/namespace/uid``)."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def post(self, involved: Mapping[str, Any], *, type_: str, reason: str, message: str) -> None:
        """Post an Event of ``type_`` (Normal, Warning) about ``involved``; failures are logged."""
        try:
            post_event(self.kube, involved, reason=reason, message=message, type_=type_)
        except KubeError as e:
            log.warning(f"Event {reason} not posted: {e}")

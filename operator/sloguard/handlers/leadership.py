"""Which replica runs the cluster-wide loops: the budget refresh and the SLO month reports.

kopf peering pauses kopf's own handlers on a standby replica, but not tasks of ours. With
``--peering`` these loops therefore run only where the Lease ``sloguard-budget-<peering>`` is held
(:func:`~sloguard.adapters.kube.hold_lease`); without peering this replica is the only one and
always leads. There is one :class:`Leadership` per operator (``Context.leadership``) and every loop
asks it before each pass, so the loops run on the same replica, never on two at once, and move
together when a standby takes over. Asking renews the Lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..adapters.kube import Kube, hold_lease
from ..adapters.settings import Settings
from .context import Context

#: ``hold_lease``'s shape: (kube, lease name, namespace, identity, duration seconds) -> held.
HoldLease = Callable[[Kube, str, str, str, int], bool]


@dataclass
class Leadership:
    """Whether this replica leads the cluster-wide loops (see the module docstring)."""

    #: The Lease's name; None without peering (a single replica: it leads).
    lease: str | None
    namespace: str = "default"
    identity: str = ""
    #: How long a Lease not renewed stays with its holder.
    seconds: int = 15
    hold: HoldLease = hold_lease
    leading: bool = field(init=False)
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.leading = self.lease is None

    @classmethod
    def of(cls, settings: Settings, hold: HoldLease = hold_lease) -> Leadership:
        """From the settings: the Lease outlives three refresh intervals (at least 15 s)."""
        lease = f"sloguard-budget-{settings.peering}" if settings.peering is not None else None
        return cls(lease, settings.lease_namespace, settings.identity,
                   max(15, int(settings.refresh_interval * 3)), hold)

    async def leads(self, kube: Kube, logger: logging.Logger | logging.LoggerAdapter[Any]) -> bool:
        """Acquire or renew the Lease; True while this replica holds it (always without peering)."""
        if self.lease is None:
            return True
        async with self._lock:  # the loops ask concurrently: one change, logged once
            was = self.leading
            self.leading = await asyncio.to_thread(self.hold, kube, self.lease, self.namespace, self.identity,
                                                   self.seconds)
            if self.leading != was:
                logger.info(f"budget refresh {'leads' if self.leading else 'stands by'} (lease {self.lease}); "
                            "the SLO month reports follow it")
            return self.leading


def leadership(ctx: Context) -> Leadership:
    """The operator's one :class:`Leadership`, made from its settings on first use."""
    if ctx.leadership is None:
        ctx.leadership = Leadership.of(ctx.settings)
    return ctx.leadership


__all__ = ["HoldLease", "Leadership", "leadership"]

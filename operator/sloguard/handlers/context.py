"""The typed context handlers receive through kopf's ``memo``: settings, clients and per-feature state.

Settings (:class:`~sloguard.adapters.settings.Settings`) come from ``sloguard run`` flags or, for
``kopf run``/KopfRunner, from ``SLOGUARD_*`` environment variables; clients and state are created
once at startup, each a typed attribute of :class:`Context`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..adapters.events import KubeEvents
from ..adapters.kube import Kube
from ..adapters.metrics import OperatorMetrics
from ..adapters.rollouts import KubeRollouts
from ..adapters.settings import Settings
from ..services.policy import PolicyState
from ..services.ports import Rollouts

if TYPE_CHECKING:
    from ..adapters.prometheus import SLAReader
    from .budget import Registry
    from .leadership import Leadership


@dataclass
class Context:
    """What every handler needs, created once at startup."""

    settings: Settings
    kube: Kube
    #: The operator's own metrics (its CollectorRegistry), created once with the context.
    metrics: OperatorMetrics = field(default_factory=OperatorMetrics)
    #: The promtool every generated rule is checked with (found by ``handlers/slo.require_promtool``).
    promtool: str | None = None
    #: SLOs and their last budgets (``handlers/budget.registry``).
    budgets: Registry | None = None
    #: Whether this replica runs the cluster-wide loops (``handlers/leadership.leadership``).
    leadership: Leadership | None = None
    #: The budget refresh loop, while it runs.
    budget_task: asyncio.Task[None] | None = None
    #: The SLO month report loop (``handlers/report``), while it runs.
    report_task: asyncio.Task[None] | None = None
    #: ErrorBudgetPolicy state: SLO cache, locks, active holds (``handlers/policy._state``); only
    #: with the policies feature on.
    policy: PolicyState | None = None
    #: SLAContract state: one wake-up event per contract daemon, by uid, and the Prometheus reader.
    sla_wake: dict[str, asyncio.Event] = field(default_factory=dict)
    sla_reader: SLAReader | None = None
    #: When the workloads linked to each SLO rolled out (the budget split by cause;
    #: ``adapters/rollouts.KubeRollouts`` with the policies feature on); None: not read, releases count as 0.
    rollouts: Rollouts | None = None
    #: The one way Events are posted: the services' ``EventPoster`` port, and ``events.about(obj)``
    #: their ``Events`` port about one object.
    events: KubeEvents = field(init=False)

    def __post_init__(self) -> None:
        self.events = KubeEvents(self.kube)

    @classmethod
    def create(cls, settings: Settings, kube: Kube) -> Context:
        """The context for one operator run, with the state of every feature that is on."""
        from .budget import Registry  # handlers/budget imports this module

        ctx = cls(settings, kube, budgets=Registry())
        if settings.policies:
            ctx.policy = PolicyState()
            # Reading workloads and their revisions comes with the policies feature (chart RBAC).
            # Lists shared by the SLOs of a namespace for half a refresh interval: one per refresh.
            ctx.rollouts = KubeRollouts(kube, max_age=settings.refresh_interval / 2)
        return ctx


def context(memo: Any) -> Context:
    """The context in ``memo``; created from SLOGUARD_* env on first use (``kopf run``, tests).

    ``sloguard run`` puts one built from its flags into the memo before kopf starts; startup
    handlers run in registration order, so whichever runs first creates it when missing.
    """
    ctx = memo.get("sloguard")
    if ctx is None:
        ctx = Context.create(Settings.from_env(), Kube.connect())
        memo["sloguard"] = ctx
    assert isinstance(ctx, Context)
    return ctx

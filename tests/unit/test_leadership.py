"""Which replica runs the cluster-wide loops: one Leadership per operator, asked by the budget
refresh and the SLO month reports alike, over an in-memory Lease (the real one: tests/e2e/test_lease.py)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from sloguard.adapters.settings import Settings
from sloguard.handlers import report
from sloguard.handlers.context import Context
from sloguard.handlers.leadership import Leadership, leadership


class FakeLease:
    """One Lease: the first identity to ask holds it until it is released (its holder stopped
    renewing and the lease expired)."""

    def __init__(self) -> None:
        self.holder: str | None = None
        self.asked: list[tuple[str, str, str, int]] = []

    def hold(self, kube: Any, name: str, namespace: str, identity: str, seconds: int) -> bool:
        self.asked.append((name, namespace, identity, seconds))
        if self.holder in (None, identity):
            self.holder = identity
        return self.holder == identity

    def expire(self) -> None:
        self.holder = None


def replica(identity: str, lease: FakeLease, peering: str | None = "prod") -> Context:
    settings = Settings(peering=peering, identity=identity, lease_namespace="sloguard", refresh_interval=10)
    ctx = Context(settings, kube=None)  # type: ignore[arg-type]  (the fake Lease needs no API)
    ctx.leadership = Leadership.of(settings, hold=lease.hold)
    return ctx


LOG = logging.getLogger("test-leadership")


def test_a_single_replica_leads_without_asking_for_a_lease() -> None:
    lease = FakeLease()
    ctx = replica("only", lease, peering=None)
    assert asyncio.run(leadership(ctx).leads(ctx.kube, LOG)) is True
    assert lease.asked == []


def test_the_lease_is_named_after_the_peering_and_outlives_three_refresh_intervals() -> None:
    lease = FakeLease()
    ctx = replica("replica-1", lease)
    asyncio.run(leadership(ctx).leads(ctx.kube, LOG))
    assert lease.asked == [("sloguard-budget-prod", "sloguard", "replica-1", 30)]


def test_the_context_keeps_one_leadership_for_every_loop() -> None:
    ctx = Context(Settings(peering="prod"), kube=None)  # type: ignore[arg-type]
    assert leadership(ctx) is leadership(ctx) is ctx.leadership


def test_only_the_replica_holding_the_lease_writes_month_reports_and_the_standby_takes_over(
        monkeypatch: pytest.MonkeyPatch) -> None:
    lease = FakeLease()
    first, second = replica("replica-1", lease), replica("replica-2", lease)
    passes: list[str] = []

    def report_pass(ctx: Context, metrics: Any, known: Any, logger: Any) -> int:
        passes.append(ctx.settings.identity)
        return 1

    monkeypatch.setattr(report, "report_pass", report_pass)

    def cycle(ctx: Context) -> int | None:
        return asyncio.run(report.report_cycle(ctx, None, report.Known(), LOG))  # type: ignore[arg-type]

    assert (cycle(first), cycle(second), cycle(first), cycle(second)) == (1, None, 1, None)
    assert passes == ["replica-1", "replica-1"]
    lease.expire()  # replica-1 stopped renewing
    assert (cycle(second), cycle(first)) == (1, None)
    assert passes == ["replica-1", "replica-1", "replica-2"]


def test_the_budget_refresh_and_the_reports_asking_at_once_log_one_change(caplog: pytest.LogCaptureFixture) -> None:
    lease = FakeLease()
    ctx = replica("replica-1", lease)
    caplog.set_level(logging.INFO, logger=LOG.name)

    async def both() -> list[bool]:
        return list(await asyncio.gather(leadership(ctx).leads(ctx.kube, LOG), leadership(ctx).leads(ctx.kube, LOG)))

    assert asyncio.run(both()) == [True, True]
    assert [r.getMessage() for r in caplog.records] == [
        "budget refresh leads (lease sloguard-budget-prod); the SLO month reports follow it"]

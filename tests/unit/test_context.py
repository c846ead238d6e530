"""The handlers' context: typed state per feature, created once with the context."""

from __future__ import annotations

from sloguard.adapters.settings import Settings
from sloguard.handlers.budget import Registry, registry
from sloguard.handlers.context import Context


def test_the_context_holds_the_state_of_the_features_that_are_on() -> None:
    on = Context.create(Settings(), kube=None)  # type: ignore[arg-type]  (no API calls here)
    off = Context.create(Settings(policies=False), kube=None)  # type: ignore[arg-type]
    assert isinstance(on.budgets, Registry) and on.policy is not None
    assert off.policy is None and off.sla_wake == {} and off.sla_reader is None and off.promtool is None


def test_the_accessors_return_the_one_state_made_at_startup() -> None:
    ctx = Context.create(Settings(), kube=None)  # type: ignore[arg-type]
    assert registry(ctx) is ctx.budgets is registry(ctx)


def test_a_context_made_directly_gets_its_state_on_first_use() -> None:
    ctx = Context(Settings(), kube=None)  # type: ignore[arg-type]
    assert ctx.budgets is None
    assert registry(ctx) is registry(ctx) is ctx.budgets

"""When the operator first saw each maintenance window: ``status.maintenanceSeen`` of SLOs and SLAContracts.

A maintenance window counts for the budget split by cause only from the moment it was declared
(:func:`sloguard.core.causes.first_seen`), so a window written over last week's outage excuses
nothing. The operator records the first sighting of each window in the object's status (written
by the operator only: no role for people grants ``*/status``), so it survives restarts; this
module reads and writes that record and applies it to the windows of an SLO or a contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, Field, ValidationError

from ..core.causes import Interval, Maintenance, declared, first_seen
from ..core.conditions import rfc3339
from ..core.model import Objective
from .common import CamelModel

__all__ = ["MaintenanceSeen", "declared_objective", "declared_windows", "recorded", "seen_records"]


class MaintenanceSeen(CamelModel):
    """A maintenance window of the spec and when the operator first saw it."""

    start: AwareDatetime = Field(description="The window's start, as in the spec.")
    end: AwareDatetime = Field(description="The window's end, as in the spec.")
    first_seen: AwareDatetime = Field(description="When the window was first seen: the object's creation "
                                      "when it was created with it, else when the operator first read it. The "
                                      "window counts as maintenance in status.budget.byCause only from then.")


def recorded(status: Mapping[str, Any] | None) -> dict[Interval, datetime]:
    """The record in ``status.maintenanceSeen`` by (start, end); malformed entries are ignored
    (their windows are then seen anew, which only ever counts less)."""
    out: dict[Interval, datetime] = {}
    for entry in (status or {}).get("maintenanceSeen") or []:
        try:
            seen = MaintenanceSeen.model_validate(entry)
        except ValidationError:
            continue
        out[(seen.start, seen.end)] = seen.first_seen
    return out


def _created(meta: Mapping[str, Any]) -> datetime | None:
    raw = meta.get("creationTimestamp")
    if isinstance(raw, datetime):
        return raw
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else None
    except ValueError:
        return None


def seen(body: Mapping[str, Any], windows: Iterable[Interval], now: datetime) -> dict[Interval, datetime]:
    """:func:`~sloguard.core.causes.first_seen` of ``windows`` for the object ``body`` (its status
    record, creation time and generation)."""
    meta = body.get("metadata") or {}
    generation = meta.get("generation")
    return first_seen(windows, recorded(body.get("status")), now, _created(meta),
                      generation if isinstance(generation, int) else None)


def seen_records(first: Mapping[Interval, datetime]) -> list[dict[str, str]]:
    """``status.maintenanceSeen`` for :func:`seen`'s result, sorted by start (windows gone from the
    spec are dropped: a window removed and added again is seen anew)."""
    return [{"start": rfc3339(a), "end": rfc3339(b), "firstSeen": rfc3339(t)}
            for (a, b), t in sorted(first.items())]


def declared_windows(body: Mapping[str, Any], windows: Iterable[Maintenance], now: datetime) -> tuple[Maintenance, ...]:
    """``windows`` of the object ``body`` with ``declared`` set: each counts from its first sighting."""
    windows = tuple(windows)
    return declared(windows, seen(body, ((m.start, m.end) for m in windows), now))


def declared_objective(objective: Objective, body: Mapping[str, Any], now: datetime) -> Objective:
    """``objective`` (parsed from ``body``) whose spec maintenance windows count from their first sighting."""
    windows = objective.causes.maintenance
    if not windows:
        return objective
    return replace(objective, causes=replace(objective.causes, maintenance=declared_windows(body, windows, now)))

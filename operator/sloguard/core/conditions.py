"""Status conditions per the Kubernetes API conventions, as pure functions.

``lastTransitionTime`` only moves when ``status`` changes, so watchers (Argo CD, kubectl wait)
see real transitions, not a new timestamp on every reconcile.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def rfc3339(moment: datetime) -> str:
    """UTC, second precision, ``Z`` suffix: the form Kubernetes uses for metav1.Time.

    The one time format of everything we write: status fields, history annotations, Events, the
    CLI's JSON (``2025-03-31T12:00:00Z``). A naive ``moment`` is taken as UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(
    conditions: list[dict[str, Any]] | None,
    type_: str,
    status: bool | None,
    reason: str,
    message: str,
    now: datetime,
    generation: int | None = None,
) -> list[dict[str, Any]]:
    """A new list with condition ``type_`` set; others kept in order."""
    text = "Unknown" if status is None else ("True" if status else "False")
    out: list[dict[str, Any]] = []
    found = False
    for cond in conditions or []:
        if cond.get("type") != type_:
            out.append(dict(cond))
            continue
        found = True
        changed = cond.get("status") != text
        out.append(_condition(type_, text, reason, message,
                              rfc3339(now) if changed else cond.get("lastTransitionTime") or rfc3339(now),
                              generation))
    if not found:
        out.append(_condition(type_, text, reason, message, rfc3339(now), generation))
    return out


def _condition(type_: str, status: str, reason: str, message: str, since: str,
               generation: int | None) -> dict[str, Any]:
    cond: dict[str, Any] = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": since,
    }
    if generation is not None:
        cond["observedGeneration"] = generation
    return cond


def get_condition(conditions: list[dict[str, Any]] | None, type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions or [] if c.get("type") == type_), None)

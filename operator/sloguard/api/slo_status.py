"""Budget figures -> the SLO's ``status`` fields, rounded so that noise does not cause writes.

The operator patches status only when a value changed beyond this rounding: at 1,000 SLOs and a
30 s refresh, writing every cycle would be ~33 writes/s for nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..core import conventions as c
from ..core.budget import MIN_BUDGET_COVERAGE, BudgetStatus, insufficient_data_hint
from ..core.causes import ByCause
from ..core.conditions import get_condition, rfc3339, set_condition

#: Significant digits kept in status. 4 digits of a budget share is 0.01 percentage points.
DIGITS = 4


def _round(value: float | None, digits: int = DIGITS) -> float | None:
    if value is None:
        return None
    return float(f"{value:.{digits}g}")


def budget_fields(status: BudgetStatus, by_cause: ByCause | None = None) -> dict[str, Any]:
    """The budget part of ``status`` (without conditions and timestamps); ``budget.byCause`` when known."""
    out: dict[str, Any] = {
        "sli": _round(status.sli, 6),
        "budget": {
            "consumed": _round(status.consumed),
            "remaining": _round(status.remaining),
            "remainingPercent": None if status.remaining is None else _round(status.remaining * 100),
            "remainingSeconds": None if status.remaining_seconds is None else round(status.remaining_seconds),
            "coverage": _round(status.coverage),
        },
        "burnRates": {w: _round(b) for w, b in status.burn_rates.items()},
        "burnRate1h": _round(status.burn_rates.get("1h")),
        "state": status.state,
        "healthScore": status.health_score,
        "timeToExhaustionSeconds": None if status.time_to_exhaustion_seconds is None
        else round(status.time_to_exhaustion_seconds),
        "hints": list(status.hints),
    }
    if by_cause is not None:
        out["budget"]["byCause"] = by_cause.to_dict(DIGITS)
    if status.slo.budgeting_method == "Timeslices":
        out["slices"] = {
            "bad": None if status.bad_slices is None else round(status.bad_slices),
            "total": None if status.total_slices is None else round(status.total_slices),
        }
    return out


def evaluated_at(status: BudgetStatus) -> str:
    return rfc3339(status.evaluated_at)


def _pruned(value: Any) -> Any:
    """As stored after a merge patch: ``null`` removes a field, so compare without them."""
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None}
    return value


def differs(new: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether any budget field in ``new`` differs from what ``current`` status holds."""
    return any(_pruned(current.get(k)) != _pruned(v) for k, v in new.items())


#: ``DataCoverage`` reasons on an SLO (the condition type and the Event reason are the SLA's).
REASON_COVERED = "Covered"
REASON_INSUFFICIENT_DATA = "InsufficientData"


def data_coverage_condition(conditions: list[dict[str, Any]], status: BudgetStatus,
                            now: datetime) -> tuple[list[dict[str, Any]], str | None]:
    """``DataCoverage`` after this budget, as on an SLAContract: ``False`` (``InsufficientData``,
    the insufficient-data hint as message) below :data:`~sloguard.core.budget.MIN_BUDGET_COVERAGE`,
    ``True`` (``Covered``) at or above it; left as it is when the coverage was not measured or the
    figures are stale. Also returns the message of the Warning Event to post: only when the
    condition turns ``False`` (not at every cycle while it stays so)."""
    coverage = status.coverage
    if coverage is None or status.stale:
        return conditions, None
    if coverage >= MIN_BUDGET_COVERAGE:
        return set_condition(conditions, c.COND_DATA_COVERAGE, True, REASON_COVERED,
                             f"{coverage:.2%} of the window has data (at least {MIN_BUDGET_COVERAGE:.0%})", now), None
    hint = insufficient_data_hint(coverage)
    was = (get_condition(conditions, c.COND_DATA_COVERAGE) or {}).get("status")
    new = set_condition(conditions, c.COND_DATA_COVERAGE, False, REASON_INSUFFICIENT_DATA, hint, now)
    return new, (hint if was != "False" else None)

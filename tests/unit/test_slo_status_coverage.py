"""``status.budget.coverage``: the data coverage the budget loop writes, a fraction like the SLA's."""

from __future__ import annotations

from tests.unit.test_budget import NOW, TWO_MINUTES_OF_30D, slo

from sloguard.api.slo import BudgetFigures
from sloguard.api.slo_status import budget_fields
from sloguard.core.budget import Measurements, compute


def test_status_budget_carries_the_coverage_and_the_schema_knows_it() -> None:
    low = budget_fields(compute(slo(), Measurements(bad=1, total=2, coverage=TWO_MINUTES_OF_30D), NOW))
    assert low["budget"]["coverage"] == 4.63e-05 and low["state"] == "unknown"  # 120 / 2,592,000, 4 digits
    assert low["hints"][0].startswith("insufficient data")
    full = budget_fields(compute(slo(), Measurements(bad=500, total=1_000_000, coverage=1.0), NOW))
    assert full["budget"]["coverage"] == 1.0 and full["state"] == "healthy"
    assert BudgetFigures.model_validate(full["budget"]).coverage == 1.0


def test_data_coverage_turns_false_below_the_threshold_with_one_warning_and_true_again() -> None:
    from datetime import timedelta

    from sloguard.api.slo_status import data_coverage_condition
    from sloguard.core.budget import mark_stale
    from sloguard.core.conditions import get_condition

    low = compute(slo(), Measurements(bad=1, total=2, coverage=TWO_MINUTES_OF_30D), NOW)
    conds, warning = data_coverage_condition([], low, NOW)
    cond = get_condition(conds, "DataCoverage")
    assert cond is not None and cond["status"] == "False" and cond["reason"] == "InsufficientData"
    assert cond["message"] == warning and warning.startswith("insufficient data: only 0.0046% of the window")
    # still low a cycle later (more data, still under 5%): the condition follows, no second warning
    lower = compute(slo(), Measurements(bad=1, total=4, coverage=2 * TWO_MINUTES_OF_30D), NOW + timedelta(minutes=2))
    again, warning = data_coverage_condition(conds, lower, NOW + timedelta(minutes=2))
    followed = get_condition(again, "DataCoverage")
    assert warning is None and followed is not None
    assert followed["message"].startswith("insufficient data: only 0.0093%")
    # enough data: True, no warning; stale or unmeasured figures leave the condition as it was
    full = compute(slo(), Measurements(bad=500, total=1_000_000, coverage=1.0), NOW)
    ok, warning = data_coverage_condition(again, full, NOW)
    assert warning is None and get_condition(ok, "DataCoverage")["status"] == "True"
    assert get_condition(ok, "DataCoverage")["message"] == "100.00% of the window has data (at least 5%)"
    assert data_coverage_condition(again, mark_stale(full, "down"), NOW) == (again, None)
    assert data_coverage_condition(again, compute(slo(), Measurements(bad=1, total=2), NOW), NOW) == (again, None)
    # and back below: a new warning
    assert data_coverage_condition(ok, low, NOW)[1] is not None

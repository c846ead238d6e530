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

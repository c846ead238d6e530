"""The operator's own metrics: what a scrape shows for given state, and that gone objects leave no series.

Figures are worked out here from the measurements (errors / total / objective), not read back
from the code under test. The HTTP test serves on a free loopback port.
"""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime
from typing import Any

import kopf
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sloguard.adapters.metrics import BudgetSample, OperatorMetrics, parse_address
from sloguard.adapters.prometheus import Refresh
from sloguard.adapters.settings import Settings
from sloguard.core.budget import Measurements, compute
from sloguard.core.model import Alerting, Objective, RatioSLI
from sloguard.core.windows import default_tiers, parse_window
from sloguard.handlers.context import Context
from sloguard.handlers.metrics import observe_admission, observe_reconcile, observe_refresh

NOW = datetime(2025, 3, 11, tzinfo=UTC)


def objective(name: str, service: str, target: float = 0.999, namespace: str = "shop") -> Objective:
    w = parse_window("30d")
    return Objective(namespace=namespace, name=name, service=service, objective=target, window=w,
                     sli=RatioSLI(total="t", errors="e"), alerting=Alerting(name="ErrorBudgetBurn",
                                                                              tiers=default_tiers(w)))


def sample(o: Objective, m: Measurements, uid: str) -> BudgetSample:
    return BudgetSample(o.namespace, o.name, o.service, compute(o, m, NOW), uid)


def scrape(metrics: OperatorMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def series(scraped: dict, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: v for (n, labels), v in scraped.items() if n == name}


def lbl(**kw: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(kw.items()))


@pytest.fixture
def clock() -> list[float]:
    return [1_000.0]


@pytest.fixture
def metrics(clock: list[float]) -> OperatorMetrics:
    return OperatorMetrics(clock=lambda: clock[0])


# --- SLO budgets ---------------------------------------------------------------------------------

CHECKOUT = objective("checkout", "checkout-api")
QUIET = objective("quiet", "quiet-api")
# 2 bad of 1,000 at 99.9%: error ratio 0.002 is twice the 0.001 budget -> remaining 1 - 2 = -1.
OUTAGE = Measurements(bad=2, total=1000, error_ratios={"1h": 0.05, "6h": 0.01, "5m": None})


def test_budget_gauges_show_remaining_burn_and_state_of_each_slo(metrics: OperatorMetrics) -> None:
    samples = [sample(CHECKOUT, OUTAGE, "u1"), sample(QUIET, Measurements(), "u2")]
    metrics.budget_source(lambda: samples)
    metrics.refresh_started()
    got = scrape(metrics)
    assert series(got, "sloguard_slo_error_budget_remaining_ratio") == {
        lbl(namespace="shop", slo="checkout", service="checkout-api"): -1.0}  # the quiet SLO is unknown: absent
    burn = series(got, "sloguard_slo_burn_rate")
    assert burn[lbl(namespace="shop", slo="checkout", window="1h")] == pytest.approx(50.0)  # 0.05 / 0.001
    assert burn[lbl(namespace="shop", slo="checkout", window="6h")] == pytest.approx(10.0)
    assert lbl(namespace="shop", slo="checkout", window="5m") not in burn  # no traffic: no figure
    states = series(got, "sloguard_slo_state")
    assert {dict(k)["state"]: v for k, v in states.items() if dict(k)["slo"] == "checkout"} == {
        "healthy": 0, "warning": 0, "critical": 0, "exhausted": 1, "unknown": 0}
    assert {dict(k)["state"] for k, v in states.items() if dict(k)["slo"] == "quiet" and v == 1} == {"unknown"}


def test_the_remaining_gauge_is_the_figure_written_to_status_rounded_the_same_way(metrics: OperatorMetrics) -> None:
    # 1 bad of 3,000 at 99.9%: remaining = 1 - (1/3000)/0.001 = 2/3, written to status as 0.6667
    metrics.budget_source(lambda: [sample(CHECKOUT, Measurements(bad=1, total=3000), "u1")])
    metrics.refresh_started()
    assert series(scrape(metrics), "sloguard_slo_error_budget_remaining_ratio") == {
        lbl(namespace="shop", slo="checkout", service="checkout-api"): 0.6667}


def test_an_slo_the_refresh_no_longer_sees_has_no_series(metrics: OperatorMetrics) -> None:
    samples = [sample(CHECKOUT, OUTAGE, "u1"), sample(QUIET, OUTAGE, "u2")]
    metrics.budget_source(lambda: list(samples))
    metrics.refresh_started()
    assert {dict(k)["slo"] for k in series(scrape(metrics), "sloguard_slo_state")} == {"checkout", "quiet"}
    samples.pop()
    got = scrape(metrics)
    for name in ("sloguard_slo_state", "sloguard_slo_burn_rate", "sloguard_slo_error_budget_remaining_ratio"):
        assert {dict(k)["slo"] for k in series(got, name)} == {"checkout"}, name


def test_a_deleted_slo_disappears_at_once_even_before_the_next_refresh(metrics: OperatorMetrics) -> None:
    samples = [sample(CHECKOUT, OUTAGE, "u1"), sample(QUIET, OUTAGE, "u2")]
    metrics.budget_source(lambda: list(samples))
    metrics.refresh_started()
    metrics.slo_deleted("u2")
    assert {dict(k)["slo"] for k in series(scrape(metrics), "sloguard_slo_state")} == {"checkout"}
    samples.pop()  # the refresh caught up; a new SLO of the same name (new uid) is shown again
    scrape(metrics)
    samples.append(sample(QUIET, OUTAGE, "u3"))
    assert {dict(k)["slo"] for k in series(scrape(metrics), "sloguard_slo_state")} == {"checkout", "quiet"}


def test_a_replica_that_does_not_refresh_budgets_exports_none(metrics: OperatorMetrics) -> None:
    metrics.budget_source(lambda: [sample(CHECKOUT, OUTAGE, "u1")])
    assert series(scrape(metrics), "sloguard_slo_state") == {}  # never ran a refresh (standby)
    metrics.refresh_started()
    assert series(scrape(metrics), "sloguard_slo_state")
    metrics.budget_ttl = -1.0  # its last cycle is older than the ttl: the lease moved elsewhere
    assert series(scrape(metrics), "sloguard_slo_state") == {}


# --- policies and contracts ------------------------------------------------------------------------

def test_held_workloads_follow_the_policy_status_and_go_with_the_policy(metrics: OperatorMetrics) -> None:
    metrics.policy_seen("shop", "freeze-checkout", {"action": "freeze", "held": 2})
    metrics.policy_seen("shop", "new", {})  # never evaluated: no series
    assert series(scrape(metrics), "sloguard_policy_held_workloads") == {
        lbl(namespace="shop", policy="freeze-checkout", action="freeze"): 2}
    metrics.policy_seen("shop", "freeze-checkout", {"action": "none", "held": 0})
    assert series(scrape(metrics), "sloguard_policy_held_workloads") == {
        lbl(namespace="shop", policy="freeze-checkout", action="none"): 0}
    metrics.policy_deleted("shop", "freeze-checkout")
    assert series(scrape(metrics), "sloguard_policy_held_workloads") == {}


def test_credits_show_the_month_to_date_and_each_finalized_months_latest_revision(metrics: OperatorMetrics) -> None:
    metrics.contract_seen("billing", "acme", {
        "currentPeriod": {"period": "2026-11", "creditPercent": 0},
        "history": [{"period": "2026-10", "revision": 1, "creditPercent": 10},
                    {"period": "2026-10", "revision": 2, "creditPercent": 25},
                    {"period": "2026-09", "revision": 1, "creditPercent": 0}]})
    assert series(scrape(metrics), "sloguard_sla_credit_percent") == {
        lbl(namespace="billing", contract="acme", period="2026-11"): 0,
        lbl(namespace="billing", contract="acme", period="2026-10"): 25,
        lbl(namespace="billing", contract="acme", period="2026-09"): 0}
    metrics.contract_deleted("billing", "acme")
    assert series(scrape(metrics), "sloguard_sla_credit_percent") == {}


# --- counters, the refresh timestamp, hooks ----------------------------------------------------------

def ctx(metrics: OperatorMetrics) -> Context:
    return Context(Settings(), kube=None, metrics=metrics)  # type: ignore[arg-type]  (no API calls here)


def test_reconciles_are_counted_by_kind_and_result_and_timed(metrics: OperatorMetrics) -> None:
    @observe_reconcile("ServiceLevelObjective")
    def handler(**_: Any) -> str:
        return "done"

    @observe_reconcile("ErrorBudgetPolicy")
    def failing(context: Context, body: dict) -> None:
        raise RuntimeError("conflict")

    c = ctx(metrics)
    assert handler(memo={"sloguard": c}) == "done"
    with pytest.raises(RuntimeError):
        failing(c, {})
    got = scrape(metrics)
    total = series(got, "sloguard_reconcile_total")
    assert total[lbl(kind="ServiceLevelObjective", result="success")] == 1
    assert total[lbl(kind="ErrorBudgetPolicy", result="error")] == 1
    assert total[lbl(kind="SLAContract", result="error")] == 0  # present from the start
    assert series(got, "sloguard_reconcile_duration_seconds_count")[lbl(kind="ErrorBudgetPolicy")] == 1


class FakeReader:
    def __init__(self, answers: list[Refresh]) -> None:
        self.answers = answers

    def refresh(self, *_: Any) -> Refresh:
        return self.answers.pop(0)


def test_the_refresh_timestamp_moves_only_when_prometheus_answered(metrics: OperatorMetrics,
                                                                  clock: list[float]) -> None:
    @observe_refresh
    def refresh_once(context: Context, reader: Any) -> int:
        reader.refresh()
        return 0

    c = ctx(metrics)
    assert series(scrape(metrics), "sloguard_budget_refresh_last_success_timestamp_seconds") == {}
    reader = FakeReader([Refresh(NOW, {}, reachable=False, message="refused", requests=3),
                         Refresh(NOW, {}, reachable=True, requests=5)])
    clock[0] = 2_000.0
    refresh_once(c, reader)  # unreachable: the timestamp is the loop's start, not this failure
    got = scrape(metrics)
    assert series(got, "sloguard_budget_refresh_last_success_timestamp_seconds") == {(): 2_000.0}
    clock[0] = 2_030.0
    refresh_once(c, reader)
    got = scrape(metrics)
    assert series(got, "sloguard_budget_refresh_last_success_timestamp_seconds") == {(): 2_030.0}
    assert series(got, "sloguard_prometheus_requests_total") == {lbl(result="success"): 5, lbl(result="error"): 3}
    assert series(got, "sloguard_budget_refresh_duration_seconds_count") == {(): 2}


def test_a_refresh_with_no_slos_reads_nothing_and_succeeds(metrics: OperatorMetrics, clock: list[float]) -> None:
    @observe_refresh
    def refresh_once(context: Context, reader: Any) -> int:
        return 0

    refresh_once(ctx(metrics), FakeReader([]))
    clock[0] = 5_000.0
    refresh_once(ctx(metrics), FakeReader([]))
    assert series(scrape(metrics), "sloguard_budget_refresh_last_success_timestamp_seconds") == {(): 5_000.0}


def test_admission_reviews_are_counted_as_allow_warn_or_deny(metrics: OperatorMetrics) -> None:
    @observe_admission
    def admit(body: dict, warnings: list[str], **_: Any) -> None:
        if body.get("deny"):
            raise kopf.AdmissionError("frozen", code=403)
        if body.get("warn"):
            warnings.append("released under an exception")

    memo = {"sloguard": ctx(metrics)}
    admit(body={}, warnings=[], memo=memo)
    admit(body={"warn": True}, warnings=["an earlier handler's warning"], memo=memo)
    with pytest.raises(kopf.AdmissionError):
        admit(body={"deny": True}, warnings=[], memo=memo)
    got = scrape(metrics)
    assert series(got, "sloguard_admission_reviews_total") == {
        lbl(decision="allow"): 1, lbl(decision="warn"): 1, lbl(decision="deny"): 1}
    assert series(got, "sloguard_admission_review_duration_seconds_count") == {(): 3}


# --- address and serving -----------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("0.0.0.0:8081", ("0.0.0.0", 8081)), ("[::]:9000", ("::", 9000)), (":8081", ("0.0.0.0", 8081)),
    ("127.0.0.1:0", ("127.0.0.1", 0)), ("", None), ("  ", None)])
def test_metrics_addresses_parse(text: str, expected: tuple[str, int] | None) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["8081", "localhost", "host:port", "0.0.0.0:70000"])
def test_a_bad_metrics_address_is_refused_with_what_was_expected(text: str) -> None:
    with pytest.raises(ValueError, match="expected HOST:PORT") as e:
        Settings(metrics_address=text)
    assert "--metrics-address" in str(e.value) and repr(text.strip()) in str(e.value)


def test_metrics_are_served_over_http_and_the_port_is_freed_on_stop(metrics: OperatorMetrics) -> None:
    metrics.reconciled("SLAContract", True, 0.5)
    host, port = metrics.serve("127.0.0.1", 0)
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as rsp:
            text = rsp.read().decode()
    finally:
        metrics.stop()
    assert 'sloguard_reconcile_total{kind="SLAContract",result="success"} 1.0' in text
    again = OperatorMetrics()
    again.serve("127.0.0.1", port)  # the port is free again: a second operator in this process binds it
    again.stop()


def test_each_operator_has_its_own_registry() -> None:
    a, b = OperatorMetrics(), OperatorMetrics()
    a.reconciled("ServiceLevelObjective", True, 0.1)
    assert series(scrape(b), "sloguard_reconcile_total")[lbl(kind="ServiceLevelObjective", result="success")] == 0

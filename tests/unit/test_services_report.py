"""One month-report pass (sloguard.services.report) against in-memory ConfigMaps, metrics and events.

The fake metrics answer what a Prometheus would for an SLO with 1,000 requests an hour and 50
bad ones in the month's first hour only; figures are worked out by hand in the comments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sloguard.adapters.report_history import HistoryExists
from sloguard.api.loader import validate_slo_body
from sloguard.core.model import Objective
from sloguard.core.report import Counts, HourCounts, ReportPeriod, SLOPeriodReport, period_report
from sloguard.services.ports import MetricsError, MetricsUnavailable
from sloguard.services.report import ReportPorts, ReportResult, finalize_month

GRACE = 3600
PER_HOUR = 1000.0
BAD_FIRST_HOUR = 50.0


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def slo(timezone: str | None = None) -> Objective:
    spec: dict[str, Any] = {"service": "checkout", "objective": 99.9, "window": "month",
                            "sli": {"ratio": {"errors": 'http_requests_total{code="500"}',
                                              "total": "http_requests_total"}}}
    if timezone:
        spec["timezone"] = timezone
    objective, diagnostics = validate_slo_body({"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
                                                "metadata": {"name": "checkout", "namespace": "shop"}, "spec": spec})
    assert objective is not None, diagnostics
    return objective


@dataclass
class FakeMetrics:
    error: Exception | None = None
    per_hour: float = PER_HOUR
    asked: list[ReportPeriod] = field(default_factory=list)

    def read_report(self, slo: Objective, period: ReportPeriod, now: datetime) -> SLOPeriodReport:
        self.asked.append(period)
        if self.error is not None:
            raise self.error
        hours = [HourCounts(period.start + timedelta(hours=i),
                            Counts(BAD_FIRST_HOUR if i == 0 and self.per_hour else 0.0, self.per_hour))
                 for i in range(period.hours)]
        return period_report(namespace=slo.namespace, name=slo.name, service=slo.service, objective=slo.objective,
                             period=period, hours=hours, trend=[])


@dataclass
class FakeStore:
    """ConfigMaps in memory; ``taken`` names were created by another writer after our check."""

    maps: dict[str, dict[str, Any]] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)

    def exists(self, namespace: str, name: str) -> bool:
        return f"{namespace}/{name}" in self.maps

    def create(self, body: Mapping[str, Any]) -> str:
        meta = body["metadata"]
        key = f"{meta['namespace']}/{meta['name']}"
        if key in self.maps or meta["name"] in self.taken:
            raise HistoryExists(f"ConfigMap {key} exists already", 409)
        self.maps[key] = dict(body)
        return str(meta["name"])


@dataclass
class FakeEvents:
    posted: list[tuple[str, str, str]] = field(default_factory=list)

    def post(self, type_: str, reason: str, message: str) -> None:
        self.posted.append((type_, reason, message))


@dataclass
class World:
    metrics: FakeMetrics = field(default_factory=FakeMetrics)
    store: FakeStore = field(default_factory=FakeStore)
    events: FakeEvents = field(default_factory=FakeEvents)

    def run(self, now: str, status: Mapping[str, Any] | None = None, timezone: str | None = None) -> ReportResult:
        return finalize_month(slo(timezone), status or {}, utc(now), ReportPorts(self.store, self.metrics, self.events),
                              GRACE)


def condition(result: ReportResult) -> dict[str, Any]:
    [cond] = result.status["conditions"]
    assert cond["type"] == "ReportFinalized"
    return cond


def test_a_month_that_ended_more_than_the_grace_ago_is_stored_once_with_its_figures():
    world = World()
    result = world.run("2026-12-01T02:00:00Z")
    assert (result.period, result.config_map, result.created, result.changed) == (
        "2026-11", "slo-report-checkout-2026-11", True, True)
    cm = world.store.maps["shop/slo-report-checkout-2026-11"]
    assert cm["immutable"] is True
    assert cm["metadata"]["labels"] == {"sloguard.io/slo": "checkout", "sloguard.io/period": "2026-11",
                                        "app.kubernetes.io/managed-by": "sloguard"}
    assert "ownerReferences" not in cm["metadata"]
    doc = json.loads(cm["data"]["report.json"])
    assert (doc["period"], doc["from"], doc["to"], doc["complete"]) == (
        "2026-11", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", True)
    [one] = doc["slos"]
    # November: 720 hours x 1,000 = 720,000 requests, 50 bad; the budget is 0.1% of them, 720.
    assert one["totalEvents"] == 720_000 and one["goodEvents"] == 719_950
    assert one["attainment"] == pytest.approx(719_950 / 720_000)
    assert one["budgetConsumed"] == pytest.approx(50 / 720)
    assert one["worstHours"] == [{"from": "2026-11-01T00:00:00Z", "to": "2026-11-01T01:00:00Z", "badEvents": 50,
                                  "budgetConsumed": pytest.approx(50 / 720)}]
    assert "# SLO report 2026-11" in cm["data"]["report.md"]
    assert result.status["lastReport"] == {"period": "2026-11", "configMap": "slo-report-checkout-2026-11"}
    assert condition(result)["status"] == "True" and condition(result)["reason"] == "Stored"
    assert [(t, r) for t, r, _ in world.events.posted] == [("Normal", "ReportFinalized")]
    assert "99.993%" in world.events.posted[0][2] and "6.9% of the budget" in world.events.posted[0][2]


def test_within_the_grace_period_the_month_before_is_the_one_due():
    world = World()
    result = world.run("2026-12-01T00:30:00Z")  # November ended 30 minutes ago: late samples may come
    assert result.period == "2026-10" and result.config_map == "slo-report-checkout-2026-10"
    assert [p.label for p in world.metrics.asked] == ["2026-10"]
    assert "shop/slo-report-checkout-2026-11" not in world.store.maps


def test_an_existing_report_is_never_read_again_nor_rewritten():
    world = World()
    world.run("2026-12-01T02:00:00Z")
    before = dict(world.store.maps)
    world.metrics.asked.clear()
    world.events.posted.clear()
    result = world.run("2026-12-02T02:00:00Z")  # e.g. after a restart: no status at all
    assert result.config_map == "slo-report-checkout-2026-11" and result.created is False
    assert world.metrics.asked == [] and world.events.posted == [] and world.store.maps == before
    assert result.status["lastReport"] == {"period": "2026-11", "configMap": "slo-report-checkout-2026-11"}
    assert result.changed is True  # the re-created SLO learns of it

    again = world.run("2026-12-02T03:00:00Z", status=result.status)
    assert again.changed is False


def test_a_creation_race_lost_keeps_the_other_writers_report():
    world = World()
    world.store.taken.add("slo-report-checkout-2026-11")
    result = world.run("2026-12-01T02:00:00Z")
    assert result.config_map == "slo-report-checkout-2026-11" and result.created is False
    assert world.store.maps == {}  # ours was not written over theirs
    assert world.events.posted == []  # the winner announced it
    assert condition(result)["status"] == "True"


@pytest.mark.parametrize(("error", "reason"), [
    (MetricsUnavailable("Prometheus at http://prom:9090 cannot be reached: connection refused"),
     "PrometheusUnreachable"),
    (MetricsError("Prometheus refused the query: bad_data"), "QueryFailed"),
])
def test_prometheus_trouble_leaves_the_month_open_with_a_condition_and_one_warning(error, reason):
    earlier = {"period": "2026-10", "configMap": "slo-report-checkout-2026-10"}
    world = World(metrics=FakeMetrics(error=error))
    result = world.run("2026-12-01T02:00:00Z", status={"lastReport": earlier})
    assert result.config_map is None and result.created is False and world.store.maps == {}
    cond = condition(result)
    assert (cond["status"], cond["reason"]) == ("False", reason)
    assert "cannot finalize the report of 2026-11 yet" in cond["message"] and str(error) in cond["message"]
    assert result.status["lastReport"] == earlier  # the field this manager owns is kept, not dropped
    assert [(t, r) for t, r, _ in world.events.posted] == [("Warning", "ReportPending")]

    second = world.run("2026-12-01T02:01:00Z", status={"lastReport": earlier, **result.status})
    assert len(world.events.posted) == 1  # no new Warning while it stays so
    assert second.changed is False

    world.metrics.error = None  # Prometheus is back: the next pass stores the month
    third = world.run("2026-12-01T02:02:00Z", status={"lastReport": earlier, **result.status})
    assert third.created is True and condition(third)["status"] == "True"


def test_a_month_without_traffic_is_not_finalized():
    world = World(metrics=FakeMetrics(per_hour=0.0))
    result = world.run("2026-12-01T02:00:00Z")
    assert result.config_map is None and world.store.maps == {}
    assert condition(result)["reason"] == "NoData" and "no traffic measured for 2026-11" in condition(result)["message"]


def test_an_slo_in_a_timezone_reports_its_own_calendar_month():
    # 2026-11-30T13:30Z is 1 December 02:30 in Auckland (NZDT, UTC+13): November there ended
    # 2.5 hours ago, while November in UTC has 10.5 hours to go.
    world = World()
    result = world.run("2026-11-30T13:30:00Z", timezone="Pacific/Auckland")
    assert result.period == "2026-11"
    [asked] = world.metrics.asked
    assert (asked.start, asked.end) == (datetime(2026, 10, 31, 11, tzinfo=UTC), datetime(2026, 11, 30, 11, tzinfo=UTC))
    doc = json.loads(world.store.maps["shop/slo-report-checkout-2026-11"]["data"]["report.json"])
    assert (doc["from"], doc["to"], doc["timezone"]) == ("2026-10-31T11:00:00Z", "2026-11-30T11:00:00Z",
                                                         "Pacific/Auckland")
    assert doc["slos"][0]["totalEvents"] == 720_000  # 30 days of 24 hours: no DST change in Auckland's November

    utc_world = World()
    assert utc_world.run("2026-11-30T13:30:00Z").period == "2026-10"

"""One SLAContract pass (sloguard.services.sla) against in-memory history, metrics and events.

The contract has one uptime term (5-minute slices, objective 99.9%, 10% credit below 99.9%,
25% below 99.5%) and a fee of 10,000 USD. The fake metrics answer what a Prometheus holding
the given outages and gaps would: every slice of the month up to ``now`` is up (1.0), down
(0.0) or missing. Expected figures are worked out by hand in the comments.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from sloguard.adapters.sla_history import HistoryExists, HistoryRecord, newest_first, record_from_config_map
from sloguard.core.sla import Contract, MaintenancePlan, Measurement, Period, SliceFacts, assess_maintenance
from sloguard.services.ports import MetricsError, MetricsUnavailable
from sloguard.services.sla import PassResult, SLAPorts, reconcile

GRACE = 3600  # the default SLOGUARD_SLA_FINALIZE_GRACE, 1h
SLICE = 300  # the contract's slices are 5 minutes: every span below is whole slices


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


Span = tuple[str, str]


# --- fakes of the ports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    plan: MaintenancePlan
    measurements: Mapping[str, Measurement]
    until: datetime


@dataclass
class FakeMetrics:
    """Slices: 0.0 inside an outage, missing inside a gap, 1.0 otherwise."""

    outages: list[Span] = field(default_factory=list)
    gaps: list[Span] = field(default_factory=list)
    error: Exception | None = None
    fail_for: str | None = None  # only this month fails (None: every month, when error is set)
    reads: list[str] = field(default_factory=list)

    def read_contract(self, contract: Contract, period: Period, now: datetime) -> Month:
        self.reads.append(period.name)
        if self.error is not None and self.fail_for in (None, period.name):
            raise self.error
        until = min(now, period.end)
        gaps, outages = _seconds(self.gaps), _seconds(self.outages)
        good = {t: 0.0 if _inside(t, outages) else 1.0
                for t in range(int(period.start.timestamp()), int(until.timestamp()), SLICE) if not _inside(t, gaps)}
        plan = assess_maintenance(contract.maintenance, contract.minimum_notice_seconds, period)
        return Month(plan, {t.name: SliceFacts(SLICE, good) for t in contract.terms}, until)


def _seconds(spans: list[Span]) -> list[tuple[float, float]]:
    return [(utc(a).timestamp(), utc(b).timestamp()) for a, b in spans]


def _inside(t: int, spans: list[tuple[float, float]]) -> bool:
    return any(a <= t < b for a, b in spans)


@dataclass
class FakeHistory:
    """ConfigMaps in memory; a name is created once (as the API server's 409 says)."""

    maps: list[dict[str, Any]] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)  # names another writer created meanwhile

    def list(self, namespace: str, contract: str) -> list[HistoryRecord]:
        records = [record_from_config_map(m) for m in self.maps
                   if m["metadata"]["labels"]["sloguard.io/contract"] == contract]
        return newest_first([r for r in records if r is not None])

    def create(self, body: Mapping[str, Any]) -> HistoryRecord:
        name = body["metadata"]["name"]
        if name in self.taken or any(m["metadata"]["name"] == name for m in self.maps):
            raise HistoryExists(f"ConfigMap {name} exists already", 409)
        self.maps.append(copy.deepcopy(dict(body)))
        record = record_from_config_map(body)
        assert record is not None
        return record


@dataclass
class FakeEvents:
    posted: list[tuple[str, str, str]] = field(default_factory=list)

    def post(self, type_: str, reason: str, message: str) -> None:
        self.posted.append((type_, reason, message))


# --- the contract and the helpers ------------------------------------------------------------------


def body(*, annotations: dict[str, str] | None = None, windows: list[dict[str, str]] | None = None,
         timezone: str = "UTC", terms: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "acme-platform", "namespace": "team-a", "uid": "u-1", "generation": 1}
    if annotations:
        meta["annotations"] = annotations
    term = {"name": "platform-availability", "type": "uptime", "objective": 99.9,
            "sli": {"boolGauge": {"selector": 'probe_success{instance="platform"}'}},
            "credits": [{"below": 99.9, "percent": 10}, {"below": 99.5, "percent": 25}],
            "slice": {"window": "5m"}}
    return {
        "apiVersion": "sloguard.io/v1alpha1", "kind": "SLAContract", "metadata": meta,
        "spec": {"customer": {"id": "acme", "name": "ACME Corp"}, "contractId": "C-2026-001",
                 "timezone": timezone, "fee": {"monthly": 10000, "currency": "USD"},
                 "maintenance": {"minimumNotice": "48h", "windows": windows or []},
                 "terms": [term] if terms is None else terms},
    }


@dataclass
class World:
    metrics: FakeMetrics | None = field(default_factory=FakeMetrics)
    history: FakeHistory = field(default_factory=FakeHistory)
    events: FakeEvents = field(default_factory=FakeEvents)

    def ports(self) -> SLAPorts:
        return SLAPorts(history=self.history, metrics=self.metrics, events=self.events)

    def run(self, obj: dict[str, Any], now: str) -> PassResult:
        """A pass at ``now``; its patch is merged into ``obj``'s status as the API server would."""
        result = reconcile(obj, utc(now), self.ports(), GRACE)
        obj["status"] = {**(obj.get("status") or {}), **copy.deepcopy(result.patch)}
        return result


def cond(status: Mapping[str, Any], type_: str) -> tuple[str, str, str]:
    c = next(c for c in status["conditions"] if c["type"] == type_)
    return c["status"], c["reason"], c["message"]


NOV_OUTAGE = ("2026-11-02T10:00:00Z", "2026-11-02T11:00:00Z")  # 60 minutes down
FINALIZED = ("Normal", "PeriodFinalized",
             "2026-11 finalized as revision 1 in ConfigMap sla-acme-platform-2026-11-r1: 1 of 1 term(s) "
             "breached, credit 10% = 1,000.00 USD")
BREACHED = ("Warning", "SLABreached", "2026-11 (revision 1): platform-availability 99.8611% < 99.9%")
ALL_MET = ("Normal", "PeriodFinalized", "2026-11 finalized as revision 1 in ConfigMap sla-acme-platform-2026-11-r1: "
           "all terms met, credit 0% = 0.00 USD")
CREDIT = ("Warning", "ServiceCreditDue",
          "2026-11 (revision 1): ACME Corp is owed credit 10% = 1,000.00 USD of the monthly fee")


# --- finalizing the month that ended ---------------------------------------------------------------


def test_an_ended_month_is_finalized_as_revision_1_with_its_breach_and_credit() -> None:
    # November 2026 has 30 x 1440 = 43,200 minutes; 60 down: 43,140 / 43,200 = 99.8611% < 99.9%,
    # so 10% of 10,000 USD = 1,000.00 USD is owed. On 10 Dec 12:00 the month ended 9.5 days ago.
    world = World(metrics=FakeMetrics(outages=[NOV_OUTAGE]))
    obj = body()
    result = world.run(obj, "2026-12-10T12:00:00Z")

    assert [m["metadata"]["name"] for m in world.history.maps] == ["sla-acme-platform-2026-11-r1"]
    assert world.events.posted == [FINALIZED, BREACHED, CREDIT]
    assert result.patch["history"] == [{
        "period": "2026-11", "minutes": 43_200, "complete": True, "compliant": False,
        "compliance": "Breached 1/1", "coverage": 1.0, "noData": "downtime", "creditPercent": 10.0,
        "creditAmount": 1000.0, "currency": "USD", "revision": 1, "configMap": "sla-acme-platform-2026-11-r1",
        "finalizedAt": "2026-12-10T12:00:00Z"}]
    stored = record_from_config_map(world.history.maps[0])
    assert stored is not None and stored.result["terms"][0]["downtimeMinutes"] == 60
    assert cond(obj["status"], "Ready") == ("True", "Evaluated",
                                            "2026-12 measured to date; 1 finalized revision(s)")
    assert result.problems == () and result.revisions == 1 and result.period == "2026-12"


def test_the_month_to_date_goes_to_current_period_with_every_condition() -> None:
    # 1 Dec 00:00 to 10 Dec 12:00 is 9.5 x 1440 = 13,680 minutes, all up: 100%.
    world = World()
    obj = body()
    result = world.run(obj, "2026-12-10T12:00:00Z")
    assert result.patch["currentPeriod"] == {
        "period": "2026-12", "minutes": 13_680, "complete": False, "compliant": True, "compliance": "Compliant",
        "coverage": 1.0, "noData": "downtime",
        "terms": [{"name": "platform-availability", "type": "uptime", "objective": 99.9, "actual": 100.0,
                   "compliant": True, "downtimeMinutes": 0, "excludedMinutes": 0, "noDataMinutes": 0,
                   "coverage": 1.0, "creditPercent": 0.0}],
        "creditPercent": 0.0, "creditAmount": 0.0, "currency": "USD", "evaluatedAt": "2026-12-10T12:00:00Z"}
    status = obj["status"]
    assert cond(status, "PrometheusReachable") == ("True", "Reachable", "queries answered")
    assert cond(status, "DataCoverage") == ("True", "Covered", "at least 99% of the minutes have data")
    assert cond(status, "MaintenanceNotice") == ("True", "InTime",
                                                 "every recent or planned window was announced in time")
    assert status["observedGeneration"] == 1
    assert world.events.posted == [ALL_MET]  # November, all up, was finalized too: no breach, no credit
    assert world.metrics is not None and world.metrics.reads == ["2026-11", "2026-12"]


def test_a_second_pass_keeps_history_and_patches_nothing() -> None:
    world = World(metrics=FakeMetrics(outages=[NOV_OUTAGE]))
    obj = body()
    world.run(obj, "2026-12-10T12:00:00Z")
    again = world.run(obj, "2026-12-10T12:00:00Z")
    assert again.patch == {}
    assert len(world.history.maps) == 1 and len(world.events.posted) == 3
    assert world.metrics is not None and world.metrics.reads == ["2026-11", "2026-12", "2026-12"]


def test_history_found_in_the_store_is_put_back_in_status_and_not_evaluated_again() -> None:
    # The object was deleted and re-created: its status is empty, its ConfigMaps are not.
    world = World(metrics=FakeMetrics(outages=[NOV_OUTAGE]))
    World(metrics=FakeMetrics(outages=[NOV_OUTAGE]), history=world.history).run(body(), "2026-12-10T12:00:00Z")
    fresh = body()
    result = world.run(fresh, "2026-12-11T00:00:00Z")
    assert [h["configMap"] for h in result.patch["history"]] == ["sla-acme-platform-2026-11-r1"]
    assert world.events.posted == []
    assert world.metrics is not None and world.metrics.reads == ["2026-12"]


def test_nothing_is_finalized_within_the_grace_period_after_the_month_ends() -> None:
    # 1 Dec 00:30: November ended 30 minutes ago, the grace is 1h; December has 30 minutes.
    world = World()
    obj = body()
    result = world.run(obj, "2026-12-01T00:30:00Z")
    assert world.history.maps == [] and world.events.posted == []
    assert result.patch["history"] == []
    assert result.patch["currentPeriod"]["minutes"] == 30
    assert cond(obj["status"], "Ready") == ("True", "Evaluated",
                                            "2026-12 measured to date; 0 finalized revision(s)")


@pytest.mark.parametrize(
    ("now", "timezone", "finalized", "minutes_to_date"),
    [
        # New Year: December 2026 (31 x 1440 = 44,640 minutes) ends 1 Jan 00:00 UTC; 1h grace.
        ("2027-01-01T01:00:00Z", "UTC", ("2026-12", 44_640), 60),
        # Berlin (UTC+1 in winter): November ends 30 Nov 23:00 UTC, 1h grace ends 1 Dec 00:00 UTC;
        # at 00:30 UTC Berlin's December is 90 minutes old.
        ("2026-12-01T00:30:00Z", "Europe/Berlin", ("2026-11", 43_200), 90),
    ],
)
def test_the_month_rolls_over_in_the_contracts_timezone(
    now: str, timezone: str, finalized: tuple[str, int], minutes_to_date: int
) -> None:
    world = World()
    obj = body(timezone=timezone)
    result = world.run(obj, now)
    [entry] = result.patch["history"]
    assert (entry["period"], entry["minutes"], entry["compliance"]) == (*finalized, "Compliant")
    assert result.patch["currentPeriod"]["minutes"] == minutes_to_date


def test_a_month_below_minimum_coverage_waits_with_one_warning() -> None:
    # 1,000 of November's 43,200 minutes have no data: 42,200 / 43,200 = 97.69% < 99%.
    world = World(metrics=FakeMetrics(gaps=[("2026-11-20T00:00:00Z", "2026-11-20T16:40:00Z")]))
    obj = body()
    result = world.run(obj, "2026-12-10T12:00:00Z")
    message = ("cannot finalize 2026-11: data for 97.69% of its minutes, below minimumCoverage 99% (minutes "
               "without data would count as downtime); backfill the data or lower minimumCoverage, will try again")
    assert world.history.maps == []
    assert world.events.posted == [("Warning", "LowDataCoverage", message)]
    assert cond(obj["status"], "DataCoverage") == ("False", "LowCoverage", message)
    assert cond(obj["status"], "Ready") == ("False", "LowCoverage", message)
    assert result.problems == (message,)
    world.run(obj, "2026-12-10T12:05:00Z")
    assert len(world.events.posted) == 1  # the same shortfall is not announced again


def test_low_coverage_of_the_month_to_date_is_a_condition_not_a_warning() -> None:
    # 1 Dec 00:00 to 2 Dec 00:00: 1,440 minutes, the first 60 without data: 1,380 / 1,440 = 95.83%.
    world = World(metrics=FakeMetrics(gaps=[("2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z")]))
    obj = body()
    world.run(obj, "2026-12-02T00:00:00Z")
    assert cond(obj["status"], "DataCoverage") == (
        "False", "LowCoverage", "2026-12 to date has data for 95.83% of its minutes (minimumCoverage 99%); "
        "minutes without data count as downtime")
    assert cond(obj["status"], "Ready")[0] == "True"
    assert world.events.posted == [ALL_MET]  # no LowDataCoverage Warning


def test_a_term_without_any_data_is_not_finalized() -> None:
    world = World(metrics=FakeMetrics(gaps=[("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")]))
    obj = body()
    result = world.run(obj, "2026-12-10T12:00:00Z")
    message = ("cannot finalize 2026-11: no data at all for term(s) platform-availability (check the SLI "
               "selectors and Prometheus retention); will try again")
    assert world.history.maps == [] and result.problems == (message,)
    assert cond(obj["status"], "Ready") == ("False", "NotFinalizable", message)
    assert cond(obj["status"], "DataCoverage")[:2] == ("True", "Covered")  # December has every minute


def test_another_writer_finalizing_first_is_accepted_without_events() -> None:
    world = World()
    world.history.taken.add("sla-acme-platform-2026-11-r1")
    result = world.run(body(), "2026-12-10T12:00:00Z")
    assert world.events.posted == [] and result.problems == ()
    assert result.patch["history"] == []  # the other writer's map is read on the next pass


# --- Prometheus trouble ----------------------------------------------------------------------------


def test_unreachable_prometheus_keeps_the_month_open_and_says_so() -> None:
    down = MetricsUnavailable("cannot reach Prometheus at http://prometheus:9090: connection refused")
    world = World(metrics=FakeMetrics(error=down))
    obj = body()
    result = world.run(obj, "2026-12-10T12:00:00Z")
    assert world.history.maps == [] and "currentPeriod" not in result.patch
    assert result.problems == (f"cannot finalize 2026-11 yet: {down}", f"cannot evaluate 2026-12 to date: {down}")
    assert cond(obj["status"], "Ready") == ("False", "PrometheusUnreachable", "; ".join(result.problems))
    assert cond(obj["status"], "PrometheusReachable") == ("False", "Unreachable", str(down))
    assert not any(c["type"] == "DataCoverage" for c in obj["status"]["conditions"])


def test_a_refused_query_is_reported_while_prometheus_counts_as_reachable() -> None:
    bad = MetricsError("Prometheus at http://prometheus:9090 refused the query for term 'x': bad_data")
    world = World(metrics=FakeMetrics(error=bad, fail_for="2026-12"))
    obj = body()
    result = world.run(obj, "2026-12-10T12:00:00Z")
    assert [m["metadata"]["name"] for m in world.history.maps] == ["sla-acme-platform-2026-11-r1"]
    assert result.problems == (f"cannot evaluate 2026-12 to date: {bad}",)
    assert cond(obj["status"], "Ready")[:2] == ("False", "QueryFailed")
    assert cond(obj["status"], "PrometheusReachable") == ("True", "Reachable", "queries answered")


def test_without_a_prometheus_url_nothing_is_measured() -> None:
    world = World(metrics=None)
    obj = body()
    result = world.run(obj, "2026-12-10T12:00:00Z")
    assert "currentPeriod" not in result.patch and world.history.maps == []
    assert cond(obj["status"], "Ready") == ("False", "NoPrometheus",
                                            "cannot finalize 2026-11: the operator has no Prometheus URL")
    assert cond(obj["status"], "PrometheusReachable") == ("Unknown", "NotConfigured",
                                                          "the operator runs without a Prometheus URL")


def test_an_evaluation_error_of_the_month_to_date_is_a_condition() -> None:
    # December's measurements lack the term: the core refuses to leave a commitment out.
    class MissingTerm(FakeMetrics):
        def read_contract(self, contract: Contract, period: Period, now: datetime) -> Month:
            month = super().read_contract(contract, period, now)
            return month if period.name == "2026-11" else Month(month.plan, {}, month.until)

    world = World(metrics=MissingTerm())
    obj = body()
    result = world.run(obj, "2026-12-10T12:00:00Z")
    assert result.problems == ("2026-12: term 'platform-availability' has no measurement",)
    assert cond(obj["status"], "Ready")[:2] == ("False", "EvaluationFailed")


# --- maintenance -----------------------------------------------------------------------------------


def test_a_window_announced_in_time_excuses_its_downtime() -> None:
    # The 60-minute outage lies inside a window announced 4 days ahead: excluded, 100% uptime.
    window = {"start": "2026-11-02T09:30:00Z", "end": "2026-11-02T11:30:00Z",
              "announcedAt": "2026-10-29T09:30:00Z", "description": "storage upgrade"}
    world = World(metrics=FakeMetrics(outages=[NOV_OUTAGE]))
    result = world.run(body(windows=[window]), "2026-12-10T12:00:00Z")
    stored = record_from_config_map(world.history.maps[0])
    assert stored is not None
    assert (stored.result["terms"][0]["downtimeMinutes"], stored.result["terms"][0]["excludedMinutes"]) == (0, 60)
    assert result.patch["history"][0]["compliance"] == "Compliant" and world.events.posted == [ALL_MET]


def test_a_window_announced_late_is_warned_about_once_and_its_downtime_counts() -> None:
    # Announced 2 hours ahead, 48h needed: the 60 down minutes count (99.8611%, 10% credit).
    window = {"start": "2026-11-02T10:00:00Z", "end": "2026-11-02T11:00:00Z",
              "announcedAt": "2026-11-02T08:00:00Z", "description": "emergency patch"}
    world = World(metrics=FakeMetrics(outages=[NOV_OUTAGE]))
    obj = body(windows=[window])
    result = world.run(obj, "2026-12-10T12:00:00Z")
    key = "2026-11-02T10:00:00Z/2026-11-02T11:00:00Z"
    late = ("Warning", "LateMaintenanceNotice",
            f"maintenance emergency patch ({key}) was announced only 2h before its start; the SLA needs "
            "48h notice, so its downtime counts")
    assert world.events.posted == [FINALIZED, BREACHED, CREDIT, late]
    assert result.patch["maintenanceWarned"] == [key]
    assert cond(obj["status"], "MaintenanceNotice")[:2] == ("False", "LateAnnouncement")
    world.run(obj, "2026-12-10T12:05:00Z")
    assert len(world.events.posted) == 4


# --- re-evaluation ---------------------------------------------------------------------------------


def finalized_world() -> tuple[World, dict[str, Any]]:
    world = World(metrics=FakeMetrics(outages=[NOV_OUTAGE]))
    obj = body()
    world.run(obj, "2026-12-10T12:00:00Z")
    world.events.posted.clear()
    return world, obj


def test_a_reevaluation_request_adds_revision_2_once() -> None:
    # The data was backfilled: November is all up now, 0% credit where revision 1 said 10%.
    world, obj = finalized_world()
    world.metrics = FakeMetrics()
    obj["metadata"]["annotations"] = {"sloguard.io/reevaluate": "2026-11:ticket-42"}
    result = world.run(obj, "2026-12-11T09:00:00Z")
    assert result.patch["lastReevaluation"] == {
        "request": "2026-11:ticket-42", "period": "2026-11", "revision": 2,
        "configMap": "sla-acme-platform-2026-11-r2", "handledAt": "2026-12-11T09:00:00Z",
        "message": "revision 2 added"}
    assert [h["revision"] for h in result.patch["history"]] == [2, 1]
    assert result.patch["history"][0]["reevaluationRequest"] == "2026-11:ticket-42"
    assert world.events.posted == [
        ("Normal", "PeriodReevaluated", "2026-11 re-evaluated as revision 2 in ConfigMap "
         "sla-acme-platform-2026-11-r2 on request '2026-11:ticket-42': all terms met, credit 0% = 0.00 USD "
         "(revision 1 had credit 10%)")]
    again = world.run(obj, "2026-12-11T09:05:00Z")
    assert "lastReevaluation" not in again.patch and len(world.history.maps) == 2


def test_a_request_answered_before_the_object_was_recreated_is_only_remembered() -> None:
    world, obj = finalized_world()
    obj["metadata"]["annotations"] = {"sloguard.io/reevaluate": "2026-11"}
    world.run(obj, "2026-12-11T09:00:00Z")
    fresh = body(annotations={"sloguard.io/reevaluate": "2026-11"})
    result = world.run(fresh, "2026-12-12T09:00:00Z")
    assert result.patch["lastReevaluation"] == {
        "request": "2026-11", "period": "2026-11", "revision": 2, "configMap": "sla-acme-platform-2026-11-r2",
        "handledAt": "2026-12-11T09:00:00Z", "message": "handled earlier (found in history)"}
    assert len(world.history.maps) == 2


@pytest.mark.parametrize(
    ("request_", "message", "period"),
    [
        ("2026-12", "2026-12 has not ended (plus the grace period); only ended months are re-evaluated",
         "2026-12"),
        ("last-month", "'last-month' is not a month like 2026-10 (optionally 2026-10:TAG to ask again)", None),
    ],
)
def test_an_impossible_request_is_refused_once(request_: str, message: str, period: str | None) -> None:
    world, obj = finalized_world()
    obj["metadata"]["annotations"] = {"sloguard.io/reevaluate": request_}
    result = world.run(obj, "2026-12-11T09:00:00Z")
    expected = {"request": request_, "message": message, "handledAt": "2026-12-11T09:00:00Z"}
    assert result.patch["lastReevaluation"] == ({**expected, "period": period} if period else expected)
    assert world.events.posted == [("Warning", "ReevaluationRefused", f"sloguard.io/reevaluate={request_}: {message}")]
    world.run(obj, "2026-12-11T09:05:00Z")
    assert len(world.events.posted) == 1 and len(world.history.maps) == 1


# --- invalid spec ----------------------------------------------------------------------------------


def test_an_invalid_spec_sets_ready_false_and_warns_once() -> None:
    world = World()
    obj = body(terms=[])
    result = world.run(obj, "2026-12-10T12:00:00Z")
    status, reason, message = cond(obj["status"], "Ready")
    assert (status, reason) == ("False", "InvalidSpec") and message.startswith("spec.terms")
    assert set(result.patch) == {"conditions", "observedGeneration"} and result.period is None
    assert world.events.posted == [("Warning", "InvalidSpec", message)]
    assert world.metrics is not None and world.metrics.reads == [] and world.history.maps == []
    world.run(obj, "2026-12-10T12:05:00Z")
    assert len(world.events.posted) == 1


# --- when each maintenance window was first seen (status.maintenanceSeen) ---------------------------


def test_each_pass_records_when_a_maintenance_window_was_first_seen_and_keeps_it() -> None:
    # Created with one window (generation 1): declared at creation. A window added by an edit
    # (generation 2) is seen at the pass that reads it; later passes keep both records.
    world = World()
    planned = {"start": "2026-12-20T02:00:00Z", "end": "2026-12-20T03:00:00Z", "announcedAt": "2026-12-01T00:00:00Z"}
    obj = body(windows=[planned])
    obj["metadata"]["creationTimestamp"] = "2026-12-01T09:00:00Z"
    world.run(obj, "2026-12-10T12:00:00Z")
    first = {"start": "2026-12-20T02:00:00Z", "end": "2026-12-20T03:00:00Z", "firstSeen": "2026-12-01T09:00:00Z"}
    assert obj["status"]["maintenanceSeen"] == [first]

    late = {"start": "2026-12-02T10:00:00Z", "end": "2026-12-02T11:00:00Z", "announcedAt": "2026-11-20T00:00:00Z"}
    obj["spec"]["maintenance"]["windows"].append(late)
    obj["metadata"]["generation"] = 2
    world.run(obj, "2026-12-10T12:05:00Z")
    second = {"start": "2026-12-02T10:00:00Z", "end": "2026-12-02T11:00:00Z", "firstSeen": "2026-12-10T12:05:00Z"}
    assert obj["status"]["maintenanceSeen"] == [second, first]  # by start; announcedAt is not trusted

    result = world.run(obj, "2026-12-10T12:10:00Z")
    assert "maintenanceSeen" not in result.patch  # unchanged: nothing to write

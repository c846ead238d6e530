"""Budget spent by cause: intervals per cause, fractions, and the service over in-memory fakes.

Expected values are worked out by hand in the comments, never computed by the code under test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from sloguard.api.loader import validate_slo_body
from sloguard.core.budget import Measurements, budget_denominator, compute
from sloguard.core.causes import (
    ByCause,
    CauseSettings,
    Maintenance,
    Rollout,
    WorkloadSelector,
    cause_intervals,
    fractions,
)
from sloguard.core.model import SLI, Alerting, Objective, RatioSLI
from sloguard.core.policy import Selector
from sloguard.core.windows import default_tiers, parse_window
from sloguard.services.causes import BadEventCache, measure_causes


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iv(a: str, b: str) -> tuple[datetime, datetime]:
    return utc(a), utc(b)


def rollout(at: str) -> Rollout:
    return Rollout(utc(at), "Deployment", "checkout")


def window(a: str, b: str) -> Maintenance:
    return Maintenance(utc(a), utc(b))


T = "2026-11-20T"
WINDOW_START = utc("2026-11-20T00:00:00Z")
NOW = utc("2026-11-20T12:00:00Z")

# --- intervals ----------------------------------------------------------------------------------

INTERVAL_CASES = [
    # id, rollouts, settle seconds, maintenance windows, expected releases, expected maintenance
    ("one rollout claims its settle time",
     [T + "10:00:00Z"], 1800, [], [iv(T + "10:00:00Z", T + "10:30:00Z")], []),
    ("rollouts 10 minutes apart merge: 40 minutes, not 60",
     [T + "10:00:00Z", T + "10:10:00Z"], 1800, [], [iv(T + "10:00:00Z", T + "10:40:00Z")], []),
    ("a rollout inside maintenance counts as maintenance until the window ends",
     [T + "10:50:00Z"], 1800, [(T + "10:00:00Z", T + "11:00:00Z")],
     [iv(T + "11:00:00Z", T + "11:20:00Z")], [iv(T + "10:00:00Z", T + "11:00:00Z")]),
    ("maintenance in the middle of a settle time cuts it in two",
     [T + "10:00:00Z"], 3600, [(T + "10:20:00Z", T + "10:30:00Z")],
     [iv(T + "10:00:00Z", T + "10:20:00Z"), iv(T + "10:30:00Z", T + "11:00:00Z")],
     [iv(T + "10:20:00Z", T + "10:30:00Z")]),
    ("a rollout before the window whose settle reaches into it counts from the window start",
     ["2026-11-19T23:50:00Z"], 1800, [], [iv(T + "00:00:00Z", T + "00:20:00Z")], []),
    ("a rollout whose settle ended before the window counts nothing",
     ["2026-11-19T23:00:00Z"], 1800, [], [], []),
    ("a settle time running past now is cut at now",
     [T + "11:50:00Z"], 1800, [], [iv(T + "11:50:00Z", T + "12:00:00Z")], []),
    ("a maintenance window past now is cut at now; one entirely later counts nothing",
     [], 1800, [(T + "11:50:00Z", T + "13:00:00Z"), (T + "13:00:00Z", T + "14:00:00Z")],
     [], [iv(T + "11:50:00Z", T + "12:00:00Z")]),
    ("overlapping and touching maintenance windows merge",
     [], 1800, [(T + "01:00:00Z", T + "03:00:00Z"), (T + "02:00:00Z", T + "04:00:00Z"),
                (T + "04:00:00Z", T + "05:00:00Z")],
     [], [iv(T + "01:00:00Z", T + "05:00:00Z")]),
    ("a rollout after now counts nothing",
     [T + "12:30:00Z"], 1800, [], [], []),
]


@pytest.mark.parametrize(("rollouts", "settle", "maintenance", "releases", "planned"),
                         [c[1:] for c in INTERVAL_CASES], ids=[c[0] for c in INTERVAL_CASES])
def test_intervals_per_cause(rollouts: list[str], settle: int, maintenance: list[tuple[str, str]],
                             releases: list[tuple[datetime, datetime]],
                             planned: list[tuple[datetime, datetime]]) -> None:
    got = cause_intervals([rollout(r) for r in rollouts], settle, [window(a, b) for a, b in maintenance],
                          WINDOW_START, NOW)
    assert list(got.releases) == releases
    assert list(got.maintenance) == planned


def test_no_instant_belongs_to_two_causes() -> None:
    got = cause_intervals([rollout(T + "09:00:00Z"), rollout(T + "09:45:00Z")], 3600,
                          [window(T + "09:30:00Z", T + "10:00:00Z")], WINDOW_START, NOW)
    # releases [09:00, 10:45) minus maintenance [09:30, 10:00)
    assert list(got.releases) == [iv(T + "09:00:00Z", T + "09:30:00Z"), iv(T + "10:00:00Z", T + "10:45:00Z")]
    for a, b in got.releases:
        for m0, m1 in got.maintenance:
            assert b <= m0 or a >= m1


# --- fractions ----------------------------------------------------------------------------------

FRACTION_CASES = [
    # id, consumed, bad per cause, denominator, expected (releases, maintenance, incidents)
    ("the rest are incidents", 0.5, {"releases": 100.0, "maintenance": 50.0}, 1000.0, (0.1, 0.05, 0.35)),
    ("zero bad events: all zero", 0.0, {"releases": 0.0, "maintenance": 0.0}, 1000.0, (0.0, 0.0, 0.0)),
    ("nothing in cause intervals: all incidents", 0.25, {}, 1000.0, (0.0, 0.0, 0.25)),
    ("a second read a hair higher never makes incidents negative", 0.3, {"releases": 300.0000001}, 1000.0,
     (0.3000000001, 0.0, 0.0)),
    ("no traffic: no denominator, consumed stays incidents", 0.2, {"releases": 5.0}, None, (0.0, 0.0, 0.2)),
]


@pytest.mark.parametrize(("consumed", "bad", "denominator", "expected"), [c[1:] for c in FRACTION_CASES],
                         ids=[c[0] for c in FRACTION_CASES])
def test_fractions(consumed: float, bad: dict[str, float], denominator: float | None,
                   expected: tuple[float, float, float]) -> None:
    got = fractions(consumed, bad, denominator)
    assert (got.releases, got.maintenance, got.incidents) == pytest.approx(expected, abs=1e-12)
    assert got.incidents >= 0


def objective(window: str = "1d", target: float = 0.99, causes: CauseSettings | None = None) -> Objective:
    w = parse_window(window)
    return Objective(namespace="shop", name="checkout", service="checkout", objective=target, window=w,
                     sli=RatioSLI(total="http_requests_total", errors='http_requests_total{code=~"5.."}'),
                     alerting=Alerting(name="ErrorBudgetBurn", tiers=default_tiers(w)),
                     causes=causes or CauseSettings())


def test_budget_denominator_of_a_calendar_month_projects_the_traffic() -> None:
    # November has 30 days; at Nov 16 00:00 half has passed: 1000 events so far project to 2000,
    # whose 0.1% budget is 2 events.
    slo = objective("month", 0.999)
    assert budget_denominator(slo, 1000.0, utc("2026-11-16T00:00:00Z")) == pytest.approx(2.0, rel=1e-12)
    # the same denominator as consumed: 1 bad event is half the budget
    status = compute(slo, Measurements(bad=1.0, total=1000.0), utc("2026-11-16T00:00:00Z"))
    assert status.consumed == pytest.approx(0.5, rel=1e-12)


def test_budget_denominator_of_a_rolling_window() -> None:
    # 1% of 86,400 events
    assert budget_denominator(objective(), 86400.0, NOW) == pytest.approx(864.0, rel=1e-12)


# --- the service over fakes ---------------------------------------------------------------------

#: Synthetic history: 10 requests/s all day; 2 of them fail per second in each outage.
TOTAL_RATE, BAD_RATE = 10.0, 2.0
OUTAGES = [
    (utc(T + "02:15:00Z"), utc(T + "02:45:00Z")),  # B: inside maintenance 02:00-03:00 -> 30 min maintenance
    (utc(T + "06:00:00Z"), utc(T + "06:10:00Z")),  # C: alone -> 10 min incidents
    (utc(T + "10:10:00Z"), utc(T + "10:50:00Z")),  # A: rollout 10:00, settle 30m -> 20 min releases, 20 incidents
]


class FakeCounts:
    """Bad events: BAD_RATE per second of outage in [start, end); total TOTAL_RATE per second."""

    def __init__(self) -> None:
        self.asked: list[tuple[float, float]] = []

    def sli_counts(self, sli: SLI, start: float, end: float, what: str) -> tuple[float, float]:
        self.asked.append((start, end))
        bad = sum(max(min(end, b.timestamp()) - max(start, a.timestamp()), 0.0) for a, b in OUTAGES) * BAD_RATE
        return bad, (end - start) * TOTAL_RATE


class FakeRollouts:
    def __init__(self, *at: str, fail: bool = False) -> None:
        self.at, self.fail = at, fail
        self.asked: list[tuple[str, str, Sequence[WorkloadSelector], datetime]] = []

    def rollouts(self, namespace: str, slo: str, workloads: Sequence[WorkloadSelector],
                 since: datetime) -> list[Rollout]:
        self.asked.append((namespace, slo, workloads, since))
        if self.fail:
            raise RuntimeError("replicasets is forbidden")
        return [rollout(a) for a in self.at if utc(a) >= since]


class FakeContracts:
    def __init__(self, windows: dict[tuple[str, str], list[Maintenance]]) -> None:
        self.windows = windows

    def maintenance(self, namespace: str, service: str) -> list[Maintenance]:
        return list(self.windows.get((namespace, service), []))


def status_at(slo: Objective, now: datetime) -> object:
    # 1d window ending at NOW (12:00 on the 20th) holds all three outages: 80 minutes at 2 bad/s
    bad = 80 * 60 * BAD_RATE
    return compute(slo, Measurements(bad=bad, total=86400 * TOTAL_RATE), now)


def test_outages_split_by_rollout_and_maintenance() -> None:
    slo = objective(causes=CauseSettings(release_settle_seconds=1800))
    contracts = FakeContracts({("shop", "checkout"): [window(T + "02:00:00Z", T + "03:00:00Z")]})
    status = status_at(slo, NOW)
    result = measure_causes(slo, status, FakeCounts(), BadEventCache(), FakeRollouts(T + "10:00:00Z"),  # type: ignore[arg-type]
                            contracts)
    # budget: 1% of 864,000 requests = 8,640 bad requests
    # releases 20 min x 2/s = 2,400 -> 0.277..; maintenance 30 min -> 3,600 -> 0.4166..;
    # incidents 10 min (C) + 20 min (A after the settle time) -> 3,600 -> 0.4166..
    assert result.error is None
    assert result.by_cause is not None
    assert result.by_cause.releases == pytest.approx(2400 / 8640, rel=1e-12)
    assert result.by_cause.maintenance == pytest.approx(3600 / 8640, rel=1e-12)
    assert result.by_cause.incidents == pytest.approx(3600 / 8640, rel=1e-12)


def test_maintenance_from_the_slo_spec_counts_like_a_contracts() -> None:
    slo = objective(causes=CauseSettings(maintenance=(window(T + "02:00:00Z", T + "03:00:00Z"),)))
    result = measure_causes(slo, status_at(slo, NOW), FakeCounts(), None, FakeRollouts(), None)  # type: ignore[arg-type]
    # no rollouts: maintenance 30 min (3,600), the other 50 minutes (6,000) incidents
    assert result.by_cause is not None
    got = result.by_cause.to_dict()
    assert got == pytest.approx({"releases": 0.0, "maintenance": 3600 / 8640, "incidents": 6000 / 8640}, rel=1e-12)


def test_rollouts_are_asked_from_settle_before_the_window_start() -> None:
    slo = objective(causes=CauseSettings(release_settle_seconds=1800))
    rollouts = FakeRollouts()
    measure_causes(slo, status_at(slo, NOW), FakeCounts(), None, rollouts, None)  # type: ignore[arg-type]
    assert [(ns, name, since) for ns, name, _, since in rollouts.asked] == [
        ("shop", "checkout", utc("2026-11-19T11:30:00Z"))]


def test_closed_intervals_are_read_once_and_the_one_touching_now_every_time() -> None:
    slo = objective(causes=CauseSettings(release_settle_seconds=1800,
                                         maintenance=(window(T + "02:00:00Z", T + "03:00:00Z"),)))
    cache, counts = BadEventCache(), FakeCounts()
    rollouts = FakeRollouts(T + "10:00:00Z", T + "11:50:00Z")  # the second settles until 12:20, past now
    measure_causes(slo, status_at(slo, NOW), counts, cache, rollouts, None)  # type: ignore[arg-type]
    assert len(counts.asked) == 3  # maintenance, release 10:00-10:30, release 11:50-12:00 (open)
    later = utc(T + "12:00:30Z")
    measure_causes(slo, status_at(slo, later), counts, cache, rollouts, None)  # type: ignore[arg-type]
    assert counts.asked[3:] == [(utc(T + "11:50:00Z").timestamp(), later.timestamp())]
    assert len(cache) == 2


def test_the_cache_is_bounded() -> None:
    slo = objective()
    cache = BadEventCache(limit=2)
    for hour in range(5):
        cache.bad(FakeCounts(), slo, iv(f"{T}0{hour}:00:00Z", f"{T}0{hour}:30:00Z"), NOW)
    assert len(cache) == 2


def test_a_rollout_read_failure_leaves_only_by_cause_unknown() -> None:
    slo = objective()
    status = status_at(slo, NOW)
    result = measure_causes(slo, status, FakeCounts(), None, FakeRollouts(fail=True), None)  # type: ignore[arg-type]
    assert result.by_cause is None
    assert result.error is not None and "replicasets is forbidden" in result.error


def test_without_a_cluster_releases_are_zero_and_it_says_so() -> None:
    slo = objective()
    result = measure_causes(slo, status_at(slo, NOW), FakeCounts(), None, None, None)  # type: ignore[arg-type]
    assert result.by_cause is not None and result.by_cause.releases == 0.0
    assert result.by_cause.incidents == pytest.approx(9600 / 8640, rel=1e-12)
    assert not result.notes  # no spec.workloads: nothing was missed
    linked = objective(causes=CauseSettings(workloads=(WorkloadSelector("Deployment", Selector({"app": "web"})),)))
    result = measure_causes(linked, status_at(linked, NOW), FakeCounts(), None, None, None)  # type: ignore[arg-type]
    assert any("rollouts are not read" in n for n in result.notes)


def test_unknown_budget_has_no_split() -> None:
    slo = objective()
    status = compute(slo, Measurements(), NOW)
    assert measure_causes(slo, status, FakeCounts(), None, FakeRollouts(), None).by_cause is None  # type: ignore[arg-type]


def test_timeslices_are_not_split() -> None:
    slo = replace(objective(), budgeting_method="Timeslices")
    status = replace(status_at(objective(), NOW), slo=slo)  # type: ignore[type-var]
    result = measure_causes(slo, status, FakeCounts(), None, FakeRollouts(), None)  # type: ignore[arg-type]
    assert result.by_cause is None and result.notes


# --- the API --------------------------------------------------------------------------------------


def slo_body(**spec: object) -> dict[str, object]:
    return {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
            "metadata": {"name": "checkout", "namespace": "shop"},
            "spec": {"service": "checkout", "objective": 99.9,
                     "sli": {"ratio": {"errors": "e_total", "total": "t_total"}}, **spec}}


def test_spec_fields_become_cause_settings() -> None:
    slo, diags = validate_slo_body(slo_body(
        workloads=[{"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"}}}],
        releaseSettle="45m",
        maintenance={"windows": [{"start": "2026-11-20T02:00:00Z", "end": "2026-11-20T04:00:00+01:00",
                                  "description": "db upgrade"}]}))
    assert diags == []
    assert slo is not None
    assert slo.causes.release_settle_seconds == 2700
    assert [(w.kind, dict(w.selector.match_labels)) for w in slo.causes.workloads] == [
        ("Deployment", {"app": "checkout"})]
    # 04:00 at +01:00 is 03:00Z
    assert [(m.start.astimezone(UTC), m.end.astimezone(UTC), m.description) for m in slo.causes.maintenance] == [
        (utc(T + "02:00:00Z"), utc(T + "03:00:00Z"), "db upgrade")]


def test_defaults_settle_thirty_minutes_and_nothing_declared() -> None:
    slo, _ = validate_slo_body(slo_body())
    assert slo is not None
    assert slo.causes == CauseSettings((), 1800, ())


BAD_SPECS = [
    ({"releaseSettle": "0m"}, "spec.releaseSettle", "longer than zero"),
    ({"releaseSettle": "soon"}, "spec.releaseSettle", "pattern"),
    ({"maintenance": {"windows": [{"start": "2026-11-20T03:00:00Z", "end": "2026-11-20T02:00:00Z"}]}},
     "spec.maintenance.windows[0]", "end must be after start"),
    ({"maintenance": {"windows": [{"start": "2026-11-20T03:00:00", "end": "2026-11-20T04:00:00Z"}]}},
     "spec.maintenance.windows[0].start", "timezone"),
    ({"maintenance": {"windows": [{"start": "2026-11-20T03:00:00Z", "end": "2026-11-20T04:00:00Z"}] * 501}},
     "spec.maintenance.windows", "at most 500"),
    ({"workloads": [{"kind": "Job", "selector": {}}]}, "spec.workloads[0].kind", "Deployment"),
    ({"workloads": [{"kind": "Deployment"}]}, "spec.workloads[0].selector", "required"),
]


@pytest.mark.parametrize(("spec", "path", "words"), BAD_SPECS, ids=[b[1] + " " + b[2] for b in BAD_SPECS])
def test_bad_values_name_the_field(spec: dict[str, object], path: str, words: str) -> None:
    slo, diags = validate_slo_body(slo_body(**spec))
    assert slo is None
    assert any(d.path == path and words in d.message for d in diags), [str(d) for d in diags]


# --- status, contracts ----------------------------------------------------------------------------


def test_status_carries_by_cause_rounded_like_the_other_budget_figures() -> None:
    from sloguard.api.slo_status import budget_fields, differs

    slo = objective()
    status = status_at(slo, NOW)
    split = ByCause(2400 / 8640, 3600 / 8640, 3600 / 8640)
    fields = budget_fields(status, split)
    assert fields["budget"]["byCause"] == {"releases": 0.2778, "maintenance": 0.4167, "incidents": 0.4167}
    assert "byCause" not in budget_fields(status)["budget"]
    assert differs(fields, budget_fields(status))  # a split appearing is a change worth a write


SLA = """apiVersion: sloguard.io/v1alpha1
kind: SLAContract
metadata: {name: acme, namespace: shop}
spec:
  customer: {id: acme}
  contractId: C-1
  fee: {monthly: 100}
  services: %s
  maintenance:
    windows:
    - {start: "2026-11-20T04:00:00Z", end: "2026-11-20T04:30:00Z", description: network}
  terms:
  - name: availability
    type: availability
    objective: 99.9
    sli: {ratio: {errors: e_total, total: t_total}}
    credits: [{below: 99.9, percent: 10}]
"""


def test_a_contract_lends_its_windows_to_the_services_it_lists_only() -> None:
    import yaml

    from sloguard.adapters.contracts import windows_by_service

    broken = {"spec": {"services": ["checkout"], "terms": []}}  # invalid: left out, its status says why
    got = windows_by_service([yaml.safe_load(SLA % "[checkout, search]"), broken])
    assert set(got) == {"checkout", "search"}
    assert got["checkout"] == [Maintenance(utc(T + "04:00:00Z"), utc(T + "04:30:00Z"), "network")]


def test_a_contract_service_must_be_a_service_name() -> None:
    import yaml

    from sloguard.api.sla_loader import validate_sla_body

    contract, diags = validate_sla_body(yaml.safe_load(SLA % "['check out']"))
    assert contract is None
    assert any(d.path == "spec.services[0]" for d in diags), [str(d) for d in diags]


def test_the_book_keeps_the_last_split_while_the_budget_is_stale_and_forgets_gone_slos() -> None:
    from sloguard.core.budget import mark_stale
    from sloguard.services.causes import CauseBook

    slo = objective(causes=CauseSettings(maintenance=(window(T + "02:00:00Z", T + "03:00:00Z"),)))
    book = CauseBook()
    fresh = book.split(slo, status_at(slo, NOW), FakeCounts(), None, None)
    assert fresh.by_cause is not None and fresh.by_cause.maintenance > 0
    stale = book.split(slo, mark_stale(status_at(slo, NOW), "unreachable"), FakeCounts(), None, None)
    assert stale.by_cause == fresh.by_cause
    book.forget(slo.key)
    assert book.split(slo, mark_stale(status_at(slo, NOW), "unreachable"), FakeCounts(), None, None).by_cause is None

"""Late maintenance excuses nothing: a window counts for the split by cause only from its first sighting.

The attack (issue 13 item 2, tested end to end in tests/e2e/test_late_maintenance.py): a team
under a hold on its incidents share declares a maintenance window over last week's outage, on
its SLO or on an SLAContract listing the service, so the outage's bad events move from
incidents to maintenance and the hold lifts. Expected figures are worked out by hand from the
synthetic outages below, never from the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from sloguard.adapters.contracts import windows_by_service
from sloguard.api.maintenance_seen import declared_objective, recorded, seen, seen_records
from sloguard.core.budget import Measurements, compute
from sloguard.core.causes import CauseSettings, Maintenance, Rollout, cause_intervals, declared, first_seen
from sloguard.core.model import SLI, Alerting, Objective, RatioSLI
from sloguard.core.windows import default_tiers, parse_window
from sloguard.services.causes import measure_causes
from sloguard.services.slo import maintenance_seen


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iv(a: str, b: str) -> tuple[datetime, datetime]:
    return utc(a), utc(b)


def window(a: str, b: str) -> Maintenance:
    return Maintenance(utc(a), utc(b))


T = "2026-11-20T"
#: Synthetic history: 10 requests/s all day (864,000 over the 1d window; a 1% budget of 8,640
#: bad requests); 2 of them fail per second in each outage: 80 minutes, 9,600 bad in all.
TOTAL_RATE, BAD_RATE = 10.0, 2.0
OUTAGES = [(utc(T + "02:15:00Z"), utc(T + "02:45:00Z")),  # B: 30 min, 3,600 bad
           (utc(T + "06:00:00Z"), utc(T + "06:10:00Z")),  # C: 10 min
           (utc(T + "10:10:00Z"), utc(T + "10:50:00Z"))]  # A: 40 min


class FakeCounts:
    """Bad events: BAD_RATE per second of outage in [start, end); total TOTAL_RATE per second."""

    def sli_counts(self, sli: SLI, start: float, end: float, what: str) -> tuple[float, float]:
        bad = sum(max(min(end, b.timestamp()) - max(start, a.timestamp()), 0.0) for a, b in OUTAGES) * BAD_RATE
        return bad, (end - start) * TOTAL_RATE


def objective(causes: CauseSettings) -> Objective:
    w = parse_window("1d")
    return Objective(namespace="shop", name="checkout", service="checkout", objective=0.99, window=w,
                     sli=RatioSLI(total="http_requests_total", errors='http_requests_total{code=~"5.."}'),
                     alerting=Alerting(name="ErrorBudgetBurn", tiers=default_tiers(w)), causes=causes)


NOW = utc(T + "12:00:00Z")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme-sla.yaml"
START = utc(T + "00:00:00Z")
OUTAGE_WINDOW = (utc(T + "02:00:00Z"), utc(T + "03:00:00Z"))  # outage B (02:15-02:45) lies inside it


# --- core: clipping a window to its declaration -----------------------------------------------


CLIP_CASES = [
    # id, window, declared, expected maintenance interval(s)
    ("declared before it starts: all of it", (T + "02:00:00Z", T + "03:00:00Z"), T + "01:00:00Z",
     [iv(T + "02:00:00Z", T + "03:00:00Z")]),
    ("declared during it: from the declaration", (T + "02:00:00Z", T + "03:00:00Z"), T + "02:30:00Z",
     [iv(T + "02:30:00Z", T + "03:00:00Z")]),
    ("declared after it ended: nothing", (T + "02:00:00Z", T + "03:00:00Z"), T + "11:00:00Z", []),
    ("declared exactly at its end: nothing", (T + "02:00:00Z", T + "03:00:00Z"), T + "03:00:00Z", []),
    ("no declaration (a file): as written", (T + "02:00:00Z", T + "03:00:00Z"), None,
     [iv(T + "02:00:00Z", T + "03:00:00Z")]),
]


@pytest.mark.parametrize(("w", "decl", "expected"), [c[1:] for c in CLIP_CASES], ids=[c[0] for c in CLIP_CASES])
def test_a_window_counts_from_its_declaration(w: tuple[str, str], decl: str | None,
                                              expected: list[tuple[datetime, datetime]]) -> None:
    m = Maintenance(utc(w[0]), utc(w[1]), declared=utc(decl) if decl else None)
    assert list(cause_intervals([], 1800, [m], START, NOW).maintenance) == expected


def test_a_late_window_does_not_make_its_past_a_release_either() -> None:
    # a rollout at 02:10 claims 02:10-02:40 as releases; a window over it declared at 11:00 changes nothing
    late = Maintenance(utc(T + "02:00:00Z"), utc(T + "03:00:00Z"), declared=utc(T + "11:00:00Z"))
    got = cause_intervals([Rollout(utc(T + "02:10:00Z"), "Deployment", "checkout")], 1800, [late], START, NOW)
    assert got.releases == (iv(T + "02:10:00Z", T + "02:40:00Z"),)
    assert got.maintenance == ()


# --- core: when a window was first seen --------------------------------------------------------


CREATED = utc("2026-11-01T08:00:00Z")
RECORDED_AT = utc("2026-11-05T09:30:00Z")

FIRST_SEEN_CASES = [
    # id, recorded?, generation, expected first sighting
    ("recorded: the record, even after restarts", True, 7, RECORDED_AT),
    ("unrecorded, spec as created (generation 1): the creation time", False, 1, CREATED),
    ("unrecorded, spec edited since (generation 2): now", False, 2, NOW),
    ("unrecorded, generation unknown: now", False, None, NOW),
]


@pytest.mark.parametrize(("is_recorded", "generation", "expected"), [c[1:] for c in FIRST_SEEN_CASES],
                         ids=[c[0] for c in FIRST_SEEN_CASES])
def test_first_seen(is_recorded: bool, generation: int | None, expected: datetime) -> None:
    record = {OUTAGE_WINDOW: RECORDED_AT} if is_recorded else {}
    assert first_seen([OUTAGE_WINDOW], record, NOW, CREATED, generation) == {OUTAGE_WINDOW: expected}


def test_a_window_whose_start_or_end_changed_is_a_new_window() -> None:
    moved = (OUTAGE_WINDOW[0], utc(T + "04:00:00Z"))
    assert first_seen([moved], {OUTAGE_WINDOW: RECORDED_AT}, NOW, CREATED, 3) == {moved: NOW}


def test_first_seen_is_never_after_now() -> None:
    assert first_seen([OUTAGE_WINDOW], {OUTAGE_WINDOW: utc("2027-01-01T00:00:00Z")}, NOW, None, 2) == \
        {OUTAGE_WINDOW: NOW}


def test_records_match_windows_written_with_sub_second_precision() -> None:
    precise = (utc(T + "02:00:00.250000Z"), utc(T + "03:00:00.750000Z"))
    seen_at = first_seen([precise], {OUTAGE_WINDOW: RECORDED_AT}, NOW, None, 4)
    assert declared([Maintenance(*precise)], seen_at)[0].declared == RECORDED_AT


# --- the status record ---------------------------------------------------------------------------


def body(generation: int, windows: list[tuple[str, str]], record: list[dict[str, str]] | None = None) -> dict:
    return {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
            "metadata": {"name": "checkout", "namespace": "shop", "generation": generation,
                         "creationTimestamp": "2026-11-01T08:00:00Z"},
            "spec": {"maintenance": {"windows": [{"start": a, "end": b} for a, b in windows]}},
            "status": {"maintenanceSeen": record} if record is not None else {}}


def test_the_rules_reconcile_records_new_windows_now_and_keeps_old_records() -> None:
    old = {"start": "2026-11-10T01:00:00Z", "end": "2026-11-10T02:00:00Z", "firstSeen": "2026-11-05T09:30:00Z"}
    gone = {"start": "2026-10-01T01:00:00Z", "end": "2026-10-01T02:00:00Z", "firstSeen": "2026-09-01T00:00:00Z"}
    b = body(3, [(old["start"], old["end"]), (T + "02:00:00Z", T + "03:00:00Z")], [old, gone])
    assert maintenance_seen(b, NOW) == [
        old, {"start": "2026-11-20T02:00:00Z", "end": "2026-11-20T03:00:00Z", "firstSeen": "2026-11-20T12:00:00Z"}]


def test_an_slo_created_with_its_windows_counts_them_from_its_creation() -> None:
    b = body(1, [(T + "02:00:00Z", T + "03:00:00Z")])
    assert maintenance_seen(b, NOW) == [
        {"start": "2026-11-20T02:00:00Z", "end": "2026-11-20T03:00:00Z", "firstSeen": "2026-11-01T08:00:00Z"}]


def test_windows_that_do_not_parse_keep_the_record_as_it_was() -> None:
    old = [{"start": "2026-11-10T01:00:00Z", "end": "2026-11-10T02:00:00Z", "firstSeen": "2026-11-05T09:30:00Z"}]
    b = body(4, [("not a time", T + "03:00:00Z")], old)
    assert maintenance_seen(b, NOW) == old


def test_malformed_records_are_seen_anew() -> None:
    assert recorded({"maintenanceSeen": [{"start": "x"}, "junk"]}) == {}
    assert seen(body(5, []), [OUTAGE_WINDOW], NOW) == {OUTAGE_WINDOW: NOW}
    assert seen_records({OUTAGE_WINDOW: RECORDED_AT}) == [
        {"start": "2026-11-20T02:00:00Z", "end": "2026-11-20T03:00:00Z", "firstSeen": "2026-11-05T09:30:00Z"}]


# --- the split, as the budget loop computes it ----------------------------------------------------

# Outage B (02:15-02:45, 3,600 bad) is the one a window over 02:00-03:00 would excuse.


def split(slo_body: dict, windows: list[Maintenance]) -> dict[str, float]:
    slo = declared_objective(objective(CauseSettings(maintenance=tuple(windows))), slo_body, NOW)
    status = compute(slo, Measurements(bad=80 * 60 * BAD_RATE, total=86400 * TOTAL_RATE), NOW)
    result = measure_causes(slo, status, FakeCounts(), None, None, None)
    assert result.by_cause is not None
    return result.by_cause.to_dict()


def test_a_window_added_over_a_past_outage_moves_nothing() -> None:
    late = split(body(2, [(T + "02:00:00Z", T + "03:00:00Z")]), [window(T + "02:00:00Z", T + "03:00:00Z")])
    assert late == pytest.approx({"releases": 0.0, "maintenance": 0.0, "incidents": 9600 / 8640}, rel=1e-12)


def test_a_window_recorded_before_the_outage_counts() -> None:
    record = [{"start": T + "02:00:00Z", "end": T + "03:00:00Z", "firstSeen": T + "01:00:00Z"}]
    planned = split(body(2, [(T + "02:00:00Z", T + "03:00:00Z")], record), [window(T + "02:00:00Z", T + "03:00:00Z")])
    assert planned == pytest.approx({"releases": 0.0, "maintenance": 3600 / 8640, "incidents": 6000 / 8640},
                                    rel=1e-12)


def test_contract_windows_count_from_their_first_sighting_in_the_operator_and_as_written_in_the_cli() -> None:
    spec = next(d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d["kind"] == "SLAContract")["spec"]
    spec["services"] = ["checkout"]
    spec["maintenance"]["windows"] = [{"start": T + "02:00:00Z", "end": T + "03:00:00Z"},  # seen at 02:30
                                      {"start": T + "05:00:00Z", "end": T + "06:00:00Z"}]  # not seen yet
    contract = {"metadata": {"name": "acme", "namespace": "shop", "generation": 2,
                             "creationTimestamp": "2026-11-01T08:00:00Z"},
                "status": {"maintenanceSeen": [{"start": T + "02:00:00Z", "end": T + "03:00:00Z",
                                                "firstSeen": T + "02:30:00Z"}]},
                "spec": spec}
    operator = windows_by_service([contract], NOW)["checkout"]
    assert [m.counted for m in operator] == [iv(T + "02:30:00Z", T + "03:00:00Z"), (NOW, utc(T + "06:00:00Z"))]
    cli = windows_by_service([contract])["checkout"]
    assert [m.counted for m in cli] == [iv(T + "02:00:00Z", T + "03:00:00Z"), iv(T + "05:00:00Z", T + "06:00:00Z")]


def test_times_are_utc() -> None:
    assert first_seen([OUTAGE_WINDOW], {}, datetime(2026, 11, 20, 13, 0, tzinfo=UTC), None, 2)[OUTAGE_WINDOW] \
        .tzinfo == UTC

"""Budget spent by cause, read from a real server holding outages at known times around known rollouts.

Runs on the server ``SLOGUARD_PROMETHEUS`` selects (Prometheus 3, Debian's 2.42, VictoriaMetrics:
the Makefile runs the suite on each).

History (1-minute samples, 2026-10-31 23:00 to 2026-11-20 12:30 UTC):
``http_requests_total{job="web",code="200"|"500"}``: 600 requests a minute in even hours, 1,200
in odd hours; half of them fail during these outages:

* **D** 19 Nov 11:40-12:10, around a rollout at 11:50 (settle 30 min, so until 12:20);
* **B** 20 Nov 02:15-02:45, inside the SLO's maintenance window 02:00-03:00;
* **E** 20 Nov 04:00-04:20, inside the maintenance window 04:00-04:30 of an SLAContract listing
  the service in ``spec.services``;
* **C** 20 Nov 06:00-06:10, alone (a contract *not* listing the service has a window over it);
* **A** 20 Nov 10:10-10:50, ten minutes after a rollout at 10:00: 20 minutes within the 30-minute
  settle time (releases), 20 after it (incidents).

Evaluated at 20 Nov 12:00. Rollout times come from an in-memory ``Rollouts`` (the cluster side is
proven against the API server elsewhere); everything else is read from the server. Expected
fractions are computed here by hand: bad requests in each cause's minutes over the denominator
of ``consumed`` (``(1 - objective) x requests in the window``, and for a calendar month the
month's requests projected from the elapsed part).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from tests.integration.promfixture import server_from_lines

from sloguard.adapters.contracts import windows_by_service
from sloguard.adapters.prometheus import BudgetReader, SLAReader
from sloguard.api.loader import validate_slo_body
from sloguard.core.causes import Maintenance, Rollout, WorkloadSelector
from sloguard.core.model import Objective
from sloguard.services.causes import BadEventCache, measure_causes

pytestmark = pytest.mark.integration


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def at(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


START, END = ts("2026-10-31T23:00:00Z"), ts("2026-11-20T12:30:00Z")
NOW = ts("2026-11-20T12:00:00Z")
MONTH_START, MONTH_SECONDS = ts("2026-11-01T00:00:00Z"), 30 * 86400
OUTAGES = {
    "D": (ts("2026-11-19T11:40:00Z"), ts("2026-11-19T12:10:00Z")),
    "B": (ts("2026-11-20T02:15:00Z"), ts("2026-11-20T02:45:00Z")),
    "E": (ts("2026-11-20T04:00:00Z"), ts("2026-11-20T04:20:00Z")),
    "C": (ts("2026-11-20T06:00:00Z"), ts("2026-11-20T06:10:00Z")),
    "A": (ts("2026-11-20T10:10:00Z"), ts("2026-11-20T10:50:00Z")),
}
ROLLOUTS = ("2026-11-19T11:50:00Z", "2026-11-20T10:00:00Z")
SETTLE = 30 * 60


def per_minute(t: int) -> int:
    """Requests in the minute starting at ``t``."""
    return 600 if (t // 3600) % 2 == 0 else 1200


def failing(t: int) -> bool:
    return any(a <= t < b for a, b in OUTAGES.values())


def bad(a: int, b: int) -> float:
    """Failed requests in the minutes of ``[a, b)``: half the requests of each outage minute."""
    return sum(per_minute(t) / 2 for t in range(a, b, 60) if failing(t))


def requests(a: int, b: int) -> int:
    return sum(per_minute(t) for t in range(a, b, 60))


def history() -> Iterator[str]:
    """OpenMetrics; a counter's sample at t counts the requests of the minutes before t."""
    yield "# TYPE http_requests counter\n"
    ok = failed = 0.0
    rows_ok, rows_bad = [], []
    for t in range(START, END + 1, 60):
        rows_ok.append(f'http_requests_total{{job="web",code="200"}} {ok:g} {t}\n')
        rows_bad.append(f'http_requests_total{{job="web",code="500"}} {failed:g} {t}\n')
        share = per_minute(t) / 2 if failing(t) else 0
        failed += share
        ok += per_minute(t) - share
    yield from rows_ok
    yield from rows_bad
    yield "# EOF\n"


SLO = """apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
metadata: {{name: web-{name}, namespace: shop}}
spec:
  service: web
  objective: 99
  window: {window}
  releaseSettle: 30m
  workloads:
  - kind: Deployment
    selector: {{matchLabels: {{app: web}}}}
  maintenance:
    windows:
    - {{start: "2026-11-20T02:00:00Z", end: "2026-11-20T03:00:00Z", description: database upgrade}}
  sli:
    ratio: {{errors: 'http_requests_total{{job="web",code=~"5.."}}', total: 'http_requests_total{{job="web"}}'}}
"""

CONTRACTS = """apiVersion: sloguard.io/v1alpha1
kind: SLAContract
metadata: {name: acme-web, namespace: shop}
spec:
  customer: {id: acme}
  contractId: C-1
  fee: {monthly: 1000}
  services: [web]
  maintenance:
    windows:
    - {start: "2026-11-20T04:00:00Z", end: "2026-11-20T04:30:00Z", description: network}
  terms:
  - name: web
    type: availability
    objective: 99.9
    sli: {ratio: {errors: 'http_requests_total{job="web",code=~"5.."}', total: 'http_requests_total{job="web"}'}}
    credits: [{below: 99.9, percent: 10}]
---
apiVersion: sloguard.io/v1alpha1
kind: SLAContract
metadata: {name: other, namespace: shop}
spec:
  customer: {id: other}
  contractId: C-2
  fee: {monthly: 1000}
  services: [search]
  maintenance:
    windows:
    - {start: "2026-11-20T05:30:00Z", end: "2026-11-20T06:30:00Z"}
  terms:
  - name: search
    type: availability
    objective: 99.9
    sli: {ratio: {errors: 'search_errors_total', total: 'search_requests_total'}}
    credits: [{below: 99.9, percent: 10}]
"""


class KnownRollouts:
    """The rollout times of this history (the ``Rollouts`` port)."""

    def rollouts(self, namespace: str, slo: str, workloads: Sequence[WorkloadSelector],
                 since: datetime) -> list[Rollout]:
        assert [w.kind for w in workloads] == ["Deployment"]
        times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in ROLLOUTS]
        return [Rollout(t, "Deployment", "web") for t in times if t >= since]


class Contracts:
    def __init__(self) -> None:
        self.by_service = windows_by_service([d for d in yaml.safe_load_all(CONTRACTS)])

    def maintenance(self, namespace: str, service: str) -> list[Maintenance]:
        assert namespace == "shop"
        return list(self.by_service.get(service, []))


def objective(name: str, window: str) -> Objective:
    slo, diags = validate_slo_body(yaml.safe_load(SLO.format(name=name, window=window)))
    assert slo is not None, [str(d) for d in diags]
    return slo


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with server_from_lines(history(), tmp_path_factory.mktemp("causes")) as server:
        yield server.url


def split(url: str, slo: Objective, when: int, cache: BadEventCache | None = None) -> tuple[float, dict[str, float]]:
    reader = BudgetReader(url)
    try:
        [status] = reader.evaluate([slo], at(when))
        result = measure_causes(slo, status, SLAReader(reader.client), cache, KnownRollouts(), Contracts())
    finally:
        reader.close()
    assert result.error is None
    assert status.consumed is not None and result.by_cause is not None
    return status.consumed, result.by_cause.to_dict()


def minutes(a: str, b: str) -> tuple[int, int]:
    return ts(a), ts(b)


# The minutes each cause claims, by hand (the rollout of 11:50 on the 19th settles until 12:20;
# the one of 10:00 on the 20th until 10:30; the 1-day window starts at 12:00 on the 19th):
RELEASES_1D = [minutes("2026-11-19T12:00:00Z", "2026-11-19T12:20:00Z"),
               minutes("2026-11-20T10:00:00Z", "2026-11-20T10:30:00Z")]
RELEASES_MONTH = [minutes("2026-11-19T11:50:00Z", "2026-11-19T12:20:00Z"),
                  minutes("2026-11-20T10:00:00Z", "2026-11-20T10:30:00Z")]
MAINTENANCE = [minutes("2026-11-20T02:00:00Z", "2026-11-20T03:00:00Z"),
               minutes("2026-11-20T04:00:00Z", "2026-11-20T04:30:00Z")]
TIGHT = 1e-9


def test_a_one_day_window_splits_its_outages_by_rollout_and_maintenance(prometheus: str) -> None:
    window_start = NOW - 86400
    denominator = 0.01 * requests(window_start, NOW)  # 1% of the day's requests
    releases = sum(bad(a, b) for a, b in RELEASES_1D)
    maintenance = sum(bad(a, b) for a, b in MAINTENANCE)
    everything = bad(window_start, NOW)
    # Half of 600 requests a minute fail in every outage minute of an even hour, of 1,200 in an odd.
    # D in the window: 12:00-12:10 -> 3,000, all releases; A: 10:10-10:30 -> 6,000 releases,
    # 10:30-10:50 -> 6,000 incidents; B: 30 minutes -> 9,000 maintenance; E: 20 minutes -> 6,000
    # maintenance; C: 10 minutes -> 3,000 incidents.
    assert (releases, maintenance, everything) == (9_000, 15_000, 33_000)
    consumed, by_cause = split(prometheus, objective("day", "1d"), NOW)
    assert consumed == pytest.approx(everything / denominator, rel=TIGHT)
    assert by_cause["releases"] == pytest.approx(releases / denominator, rel=TIGHT)
    assert by_cause["maintenance"] == pytest.approx(maintenance / denominator, rel=TIGHT)
    assert by_cause["incidents"] == pytest.approx((everything - releases - maintenance) / denominator, rel=TIGHT)


def test_a_calendar_month_divides_by_the_projected_month_like_consumed(prometheus: str) -> None:
    to_date = requests(MONTH_START, NOW)
    denominator = 0.01 * to_date * MONTH_SECONDS / (NOW - MONTH_START)  # the month's projected budget
    releases = sum(bad(a, b) for a, b in RELEASES_MONTH)
    maintenance = sum(bad(a, b) for a, b in MAINTENANCE)
    everything = bad(MONTH_START, NOW)
    # D is whole in the month: 11:40-12:00 in an odd hour (600 failing a minute), 12:00-12:10 in
    # an even one: 11:50-12:10 is releases (6,000 + 3,000), 11:40-11:50 incidents (6,000).
    assert (releases, maintenance, everything) == (15_000, 15_000, 45_000)
    consumed, by_cause = split(prometheus, objective("month", "month"), NOW)
    assert consumed == pytest.approx(everything / denominator, rel=TIGHT)
    assert by_cause["releases"] == pytest.approx(releases / denominator, rel=TIGHT)
    assert by_cause["maintenance"] == pytest.approx(maintenance / denominator, rel=TIGHT)
    assert by_cause["incidents"] == pytest.approx((everything - releases - maintenance) / denominator, rel=TIGHT)


def test_a_later_refresh_reads_only_what_is_still_open(prometheus: str) -> None:
    # At 10:15 the rollout of 10:00 is still settling: its interval ends at now and is read again
    # at 10:20; the closed ones (D's, the maintenance windows) are read once.
    slo = objective("day", "1d")
    cache = BadEventCache()
    first = split(prometheus, slo, ts("2026-11-20T10:15:00Z"), cache)
    reads = cache.reads
    assert reads == 4  # D's release minutes, A's (open), two maintenance windows
    later = ts("2026-11-20T10:20:00Z")
    consumed, by_cause = split(prometheus, slo, later, cache)
    assert cache.reads == reads + 1
    denominator = 0.01 * requests(later - 86400, later)
    # D's release minutes 11:50-12:10 (9,000) and A's first ten (3,000)
    releases = bad(ts("2026-11-19T11:50:00Z"), ts("2026-11-19T12:20:00Z")) + bad(ts("2026-11-20T10:00:00Z"), later)
    assert releases == 12_000
    assert by_cause["releases"] == pytest.approx(releases / denominator, rel=TIGHT)
    assert first[1]["releases"] < by_cause["releases"]


def test_sloguard_budget_shows_by_cause_with_maintenance_from_the_spec(prometheus: str, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import json

    from sloguard.cli import budget_cmd

    path = tmp_path / "slo.yaml"
    path.write_text(SLO.format(name="day", window="1d"))
    parser = argparse.ArgumentParser()
    budget_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["budget", "--prometheus", prometheus, "--at", "2026-11-20T12:00:00Z", "-o", "json",
                              str(path)])
    assert args.func(args) == 0
    out, err = capsys.readouterr()
    [row] = json.loads(out)
    denominator = 0.01 * requests(NOW - 86400, NOW)
    # No cluster: no rollouts, so releases are 0 and A and D count as incidents; the contract's
    # window is not read either: only the SLO's own maintenance (B, 9,000 of 33,000).
    assert row["errorBudget"]["byCause"] == pytest.approx(
        {"releases": 0.0, "maintenance": 9000 / denominator, "incidents": 24_000 / denominator}, rel=1e-9)
    assert "releases count as 0" in err

"""``sloguard impact`` against real servers holding a synthetic November this module builds.

Every test runs on Prometheus 3, Debian's Prometheus 2.42 and VictoriaMetrics.

History (1-minute samples, 2026-10-31 20:00 to 2026-11-21 00:00 UTC):

* ``http_requests_total{job="web",code="200"|"500"}``: 800, 1,200 or 1,600 requests a minute
  (by hour, cycling), no errors except a **10-minute full outage** on 20 November 10:00-10:10.
* ``probe_success{instance="web"}``: 1, and 0 during the outage.

Expected figures are computed here from the per-minute lists with plain arithmetic, never with
sloguard's code. Counters are sampled once a minute, so window edges may shift by one minute:
tolerances allow that and nothing more.
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.integration.promfixture import server_from_lines

from sloguard.cli import budget_cmd, impact_cmd

pytestmark = pytest.mark.integration


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp())


HISTORY_START = ts("2026-10-31T20:00:00Z")
HISTORY_END = ts("2026-11-21T00:00:00Z")
MONTH_START = ts("2026-11-01T00:00:00Z")
MONTH_SECONDS = 30 * 86400  # November
OUTAGE = (ts("2026-11-20T10:00:00Z"), ts("2026-11-20T10:10:00Z"))
BUDGET = 0.001  # 99.9%


def per_minute(t: int) -> int:
    """Requests in the minute starting at ``t``: 800, 1,200, 1,600 by hour, cycling."""
    return 800 + 400 * ((t // 3600) % 3)


def failing(t: int) -> bool:
    return OUTAGE[0] <= t < OUTAGE[1]


MINUTES = range(HISTORY_START, HISTORY_END, 60)


def requests(a: int, b: int) -> int:
    return sum(per_minute(t) for t in range(a, b, 60))


def errors(a: int, b: int) -> int:
    return sum(per_minute(t) for t in range(a, b, 60) if failing(t))


def history() -> Iterator[str]:
    """OpenMetrics; a counter's sample at t counts the requests of the minutes before t."""
    yield "# TYPE http_requests counter\n"
    ok = bad = 0
    rows_ok, rows_bad = [], []
    for t in MINUTES:
        rows_ok.append(f'http_requests_total{{job="web",code="200"}} {ok} {t}\n')
        rows_bad.append(f'http_requests_total{{job="web",code="500"}} {bad} {t}\n')
        if failing(t):
            bad += per_minute(t)
        else:
            ok += per_minute(t)
    yield from rows_ok
    yield from rows_bad
    yield "# TYPE probe_success gauge\n"
    for t in MINUTES:
        yield f'probe_success{{instance="web"}} {0 if failing(t) else 1} {t}\n'
    yield "# EOF\n"


SLO_YAML = """apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
metadata: {name: web, namespace: shop}
spec:
  service: web
  objective: 99.9
  window: month
  sli:
    ratio: {errors: 'http_requests_total{job="web",code=~"5.."}', total: 'http_requests_total{job="web"}'}
"""

CONTRACT_YAML = """apiVersion: sloguard.io/v1alpha1
kind: SLAContract
metadata: {name: acme-web, namespace: billing}
spec:
  customer: {id: acme, name: ACME Corp}
  contractId: C-2026-WEB
  timezone: UTC
  fee: {monthly: 2000, currency: USD}
  maxCreditPercent: 100
  terms:
  - name: web-success
    type: availability
    objective: 99.99
    sli:
      ratio: {errors: 'http_requests_total{job="web",code=~"5.."}', total: 'http_requests_total{job="web"}'}
    credits: [{below: 99.99, percent: 10}, {below: 99.9, percent: 25}]
  - name: web-probe
    type: uptime
    objective: 99.99
    sli: {boolGauge: {selector: 'probe_success{instance="web"}'}}
    credits: [{below: 99.99, percent: 5}, {below: 99.0, percent: 50}]
"""


#: The server kinds (``tests/metricservers.py``) these figures are proven on, and how many
#: one-minute samples each puts in a ``[2m]`` range ending on a sample: Prometheus 3 ranges are
#: left-open ``(t - 2m, t]``, 2.x closed ``[t - 2m, t]``; VictoriaMetrics is not checked this way.
SERVERS = {"3": "2", "2": "3", "vm": None}


@pytest.fixture(scope="module", params=list(SERVERS))
def prometheus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = server_from_lines(history(), tmp_path_factory.mktemp("impact-prom"), kind=request.param)
    with server:
        expected = SERVERS[request.param]
        if expected is not None:  # the server really is the one asked for
            query = urllib.parse.urlencode({"query": 'count_over_time(probe_success{instance="web"}[2m])',
                                            "time": ts("2026-11-10T00:00:00Z")})
            with urllib.request.urlopen(f"{server.url}/api/v1/query?{query}", timeout=10) as r:
                samples = json.load(r)["data"]["result"][0]["value"][1]
            assert samples == expected, f"server kind {request.param}: {samples} samples in [2m]"
        yield server.url


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "slo.yaml").write_text(SLO_YAML)
    (tmp_path / "contract.yaml").write_text(CONTRACT_YAML)
    return tmp_path


def run_cli(add_parser: Callable[..., None], argv: list[str], capsys: pytest.CaptureFixture[str]) -> object:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def impact(prometheus: str, files: Path, capsys: pytest.CaptureFixture[str], t1: str, t2: str, now: str,
           ) -> dict:  # type: ignore[type-arg]
    out = run_cli(impact_cmd.add_parser, ["impact", "--prometheus", prometheus, "--from", t1, "--to", t2,
                                          "--now", now, "-o", "json", str(files)], capsys)
    assert isinstance(out, dict)
    return out


def month_share(bad: float, month_to_date: float, at: int) -> float:
    """The budget's definition, by hand: bad / (B * traffic so far * November / elapsed)."""
    return bad / (BUDGET * month_to_date * MONTH_SECONDS / (at - MONTH_START))


def test_a_ten_minute_outage_on_the_20th_spends_the_share_the_budget_shows(
    prometheus: str, files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t1, t2 = "2026-11-20T10:00:00Z", "2026-11-20T10:10:00Z"
    out = impact(prometheus, files, capsys, t1, t2, "2026-11-20T12:00:00Z")
    slo = out["slos"][0]
    bad = errors(*OUTAGE)  # 10 minutes at 1,200 a minute (hour 10 of the 20th): 12,000
    assert bad == 12_000
    to_date = requests(MONTH_START, ts(t2))  # 19 days and 610 minutes of November
    expected = month_share(bad, to_date, ts(t2))  # about 0.2316
    assert slo["badEvents"] == pytest.approx(bad, rel=0.01)
    assert slo["budgetSpent"] == pytest.approx(expected, rel=0.01)
    # Month-to-date traffic would have said bad / (B * to_date), about 0.3578: not that.
    assert slo["budgetSpent"] < 0.7 * bad / (BUDGET * to_date)
    assert out["projected"] is None
    assert slo["projected"] == {"badEvents": 0, "totalEvents": 0}

    budget = run_cli(budget_cmd.add_parser, ["budget", "--prometheus", prometheus, "--at", t2, "-o", "json",
                                             str(files / "slo.yaml")], capsys)
    assert isinstance(budget, list)
    consumed = budget[0]["errorBudget"]["consumed"]
    # Every bad event of November is the outage's, so the budget consumed at T2 is its share.
    assert slo["budgetSpent"] == pytest.approx(consumed, rel=0.005)


def test_an_ongoing_outage_is_projected_at_its_burn_rate_to_a_future_to(
    prometheus: str, files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Now is 10:05, five minutes into the outage; --to 10:20 is in the future. Prometheus holds
    # the recovery at 10:10, which must not be read: the projection continues the full outage.
    t1, t2, now = "2026-11-20T10:00:00Z", "2026-11-20T10:20:00Z", "2026-11-20T10:05:00Z"
    out = impact(prometheus, files, capsys, t1, t2, now)
    assert out["measured"] == {"from": t1, "to": now}
    assert out["projected"] == {"from": now, "to": t2}
    slo = out["slos"][0]
    measured = errors(ts(t1), ts(now))  # 5 x 1,200 = 6,000, all failing
    projected = measured * 15 / 5  # 15 more minutes at 1,200 a minute, all failing: 18,000
    assert slo["measured"]["badEvents"] == pytest.approx(measured, rel=0.01)
    assert slo["measured"]["totalEvents"] == pytest.approx(measured, rel=0.01)
    assert slo["projected"]["badEvents"] == pytest.approx(projected, rel=0.01)
    assert slo["badEvents"] == pytest.approx(24_000, rel=0.01)
    window = requests(MONTH_START, ts(now)) + projected
    assert slo["budgetSpent"] == pytest.approx(month_share(24_000, window, ts(t2)), rel=0.01)
    contract = out["contracts"][0]
    assert contract["projected"] is True
    # Evaluated to 10:20: 19 days + 620 minutes = 27,980 minutes, 20 of them down (5 measured,
    # 15 projected): 99.9285% < 99.99 -> 5% from the probe term.
    probe = {t["name"]: t for t in contract["terms"]}["web-probe"]
    assert probe["actualAfter"] == pytest.approx((27_980 - 20) / 27_980 * 100, abs=1e-4)
    assert probe["creditPercentAfter"] == 5


def test_the_outage_moves_each_contract_term_to_its_first_credit_tier(
    prometheus: str, files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t1, t2 = "2026-11-20T10:00:00Z", "2026-11-20T10:10:00Z"
    out = impact(prometheus, files, capsys, t1, t2, t2)
    c = out["contracts"][0]
    terms = {t["name"]: t for t in c["terms"]}
    # Evaluated to 10:10: November so far has 27,970 minutes.
    # web-success: 12,000 bad of requests(1 Nov, 10:10 20 Nov) = 33,540,000: 99.9642% -> below 99.99,
    # not below 99.9: 10%. Without the outage: 100%, 0%.
    total = requests(MONTH_START, ts(t2))
    success = (total - 12_000) / total * 100
    assert 99.9 < success < 99.99
    assert terms["web-success"]["actualAfter"] == pytest.approx(success, abs=2e-3)
    assert terms["web-success"]["actualBefore"] == pytest.approx(100.0, abs=1e-6)
    assert (terms["web-success"]["creditPercentBefore"], terms["web-success"]["creditPercentAfter"]) == (0, 10)
    # web-probe: 10 down of 27,970 minutes: 99.9642% -> 5%; without: 100%, 0%.
    assert terms["web-probe"]["actualAfter"] == pytest.approx((27_970 - 10) / 27_970 * 100, abs=1e-4)
    assert (terms["web-probe"]["creditPercentBefore"], terms["web-probe"]["creditPercentAfter"]) == (0, 5)
    # 15% of a 2,000 USD fee: the outage costs 300 USD.
    assert (c["creditPercentBefore"], c["creditPercentAfter"]) == (0, 15)
    assert c["creditAmountMoved"] == 300.0
    assert c["currency"] == "USD" and c["projected"] is False

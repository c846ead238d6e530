"""``sloguard report`` against real servers holding five synthetic weeks this module builds.

Runs on the server the suite runs on (``SLOGUARD_PROMETHEUS``: Prometheus 3, 2.42 or VictoriaMetrics).

History (5-minute samples, 2026-10-25 22:00 to 2026-12-01 02:00 UTC), one checkout service:
1,000 requests every 5 minutes; errors only during these known incidents (ISO weeks start on
Monday: W44 is 26 October to 1 November, W47 16 to 22 November):

* W44: 50 minutes at 100% errors on 28 October, 02:00 (10,000 bad; a week's budget is 2,016)
* W45: one hour at 10% errors on 3 November, 14:00 (1,200 bad)
* W46: 25 minutes at 100% errors on 10 November, 02:00 (5,000 bad)
* W47: 30 minutes at 100% errors on 20 November, 10:00 (6,000 bad)

Expected figures are computed here from those lists with plain arithmetic, never with sloguard's
code. Counters are sampled on 5-minute boundaries, so every hour and month edge has a sample and
the figures are exact.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.integration.promfixture import server_from_lines
from tests.support.incidents import IncidentHistory

from sloguard.cli import report_cmd

pytestmark = pytest.mark.integration

START = datetime(2026, 10, 25, 22, tzinfo=UTC)
END = datetime(2026, 12, 1, 2, tzinfo=UTC)
STEP = timedelta(minutes=5)
PER_STEP = 1000
OBJECTIVE = 0.999

#: (start, minutes, error share): the only errors in the history.
INCIDENTS = [
    (datetime(2026, 10, 28, 2, tzinfo=UTC), 50, 1.0),
    (datetime(2026, 11, 3, 14, tzinfo=UTC), 60, 0.10),
    (datetime(2026, 11, 10, 2, tzinfo=UTC), 25, 1.0),
    (datetime(2026, 11, 20, 10, tzinfo=UTC), 30, 1.0),
]


def week(monday: int) -> tuple[datetime, datetime]:
    start = datetime(2026, 10, 26, tzinfo=UTC) + timedelta(days=monday - 26)
    return start, start + timedelta(days=7)


PERIODS = {"2026-11": (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
           "2026-W44": week(26), "2026-W45": week(26 + 7), "2026-W46": week(26 + 14), "2026-W47": week(26 + 21)}

SLO_YAML = """
apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
metadata: {name: checkout-availability, namespace: shop}
spec:
  service: checkout
  objective: 99.9
  window: month
  sli:
    ratio:
      errors: 'http_requests_total{job="checkout",code="500"}'
      total: 'http_requests_total{job="checkout"}'
"""




DATA = IncidentHistory(START, END, tuple(INCIDENTS), PER_STEP, STEP)
bad_between, total_between = DATA.bad_between, DATA.total_between


def consumed(period: str) -> float:
    a, b = PERIODS[period]
    return bad_between(a, b) / ((1 - OBJECTIVE) * total_between(a, b))


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with server_from_lines(DATA.history(), tmp_path_factory.mktemp("report-prom")) as srv:
        yield srv.url


@pytest.fixture
def slo_file(tmp_path: Path) -> Path:
    path = tmp_path / "slo.yaml"
    path.write_text(SLO_YAML)
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    report_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["report", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def november(prometheus: str, slo_file: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    code, out, err = run(["--prometheus", prometheus, "--period", "2026-11", "--at", "2026-12-01T01:00:00Z",
                          *extra, str(slo_file)], capsys)
    assert code == 0, err
    return out


def test_november_attainment_and_budget_come_from_the_synthetic_counters(prometheus, slo_file, capsys):
    doc = json.loads(november(prometheus, slo_file, capsys))
    a, b = PERIODS["2026-11"]
    assert (doc["period"], doc["from"], doc["to"], doc["complete"]) == (
        "2026-11", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", True)
    [slo] = doc["slos"]
    bad, total = bad_between(a, b), total_between(a, b)
    assert (bad, total) == (12_200.0, 8_640_000.0)  # the incident table, by hand
    assert slo["totalEvents"] == pytest.approx(total)
    assert slo["attainment"] == pytest.approx(1 - bad / total)
    assert slo["budgetConsumed"] == pytest.approx(consumed("2026-11"))
    assert slo["objective"] == pytest.approx(OBJECTIVE)
    # no maintenance declared and no rollouts read: every bad event is an incident
    assert slo["byCause"] == pytest.approx({"releases": 0.0, "maintenance": 0.0, "incidents": consumed("2026-11")})


def test_by_cause_counts_the_maintenance_window_of_the_spec(prometheus, slo_file, capsys):
    # 10 November 02:00-02:30 covers the 25-minute outage of 02:00 (5,000 bad) and nothing else
    slo_file.write_text(SLO_YAML + """  maintenance:
    windows: [{start: "2026-11-10T02:00:00Z", end: "2026-11-10T02:30:00Z", description: storage}]
""")
    code, out, err = run(["--prometheus", prometheus, "--period", "2026-11", "--at", "2026-12-01T01:00:00Z",
                          str(slo_file)], capsys)
    assert code == 0, err
    [slo] = json.loads(out)["slos"]
    a, b = PERIODS["2026-11"]
    budget = (1 - OBJECTIVE) * total_between(a, b)  # 8,640 bad requests
    assert bad_between(datetime(2026, 11, 10, 2, tzinfo=UTC), datetime(2026, 11, 10, 2, 30, tzinfo=UTC)) == 5000
    assert slo["byCause"] == pytest.approx({"releases": 0.0, "maintenance": 5000 / budget,
                                            "incidents": (12_200 - 5000) / budget}, rel=1e-9)
    assert "releases count as 0" in err


def test_the_worst_hours_are_the_incidents_hours_worst_first(prometheus, slo_file, capsys):
    [slo] = json.loads(november(prometheus, slo_file, capsys))["slos"]
    budget = (1 - OBJECTIVE) * total_between(*PERIODS["2026-11"])
    assert [(h["from"], h["to"], h["badEvents"]) for h in slo["worstHours"]] == [
        ("2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z", pytest.approx(6000.0)),
        ("2026-11-10T02:00:00Z", "2026-11-10T03:00:00Z", pytest.approx(5000.0)),
        ("2026-11-03T14:00:00Z", "2026-11-03T15:00:00Z", pytest.approx(1200.0)),
    ]
    assert slo["worstHours"][0]["budgetConsumed"] == pytest.approx(6000.0 / budget)


def test_a_week_reports_its_own_days_the_three_weeks_before_and_says_relax_or_invest(prometheus, slo_file, capsys):
    code, out, err = run(["--prometheus", prometheus, "--period", "2026-W47", "--at", "2026-12-01T01:00:00Z",
                          str(slo_file)], capsys)
    assert code == 0, err
    doc = json.loads(out)
    [slo] = doc["slos"]
    a, b = PERIODS["2026-W47"]
    assert (doc["from"], doc["to"]) == ("2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z")
    assert slo["totalEvents"] == pytest.approx(total_between(a, b))
    assert slo["budgetConsumed"] == pytest.approx(6000.0 / ((1 - OBJECTIVE) * total_between(a, b)))
    assert [(t["period"], t["budgetConsumed"]) for t in slo["trend"]] == [
        ("2026-W46", pytest.approx(consumed("2026-W46"))), ("2026-W45", pytest.approx(consumed("2026-W45"))),
        ("2026-W44", pytest.approx(consumed("2026-W44")))]
    # exhausted in W47 and W46, not in W45 (W44 is outside the last three)
    assert consumed("2026-W47") > 1 and consumed("2026-W46") > 1 and consumed("2026-W45") < 1
    [hint] = slo["hints"]
    assert "exhausted in 2 of the last 3 periods" in hint


def test_a_month_in_progress_is_measured_up_to_the_last_whole_hour(prometheus, slo_file, capsys):
    code, out, err = run(["--prometheus", prometheus, "--period", "2026-11", "--at", "2026-11-20T10:40:00Z",
                          str(slo_file)], capsys)
    assert code == 0, err
    doc = json.loads(out)
    [slo] = doc["slos"]
    a, b = PERIODS["2026-11"][0], datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert doc["complete"] is False
    assert slo["totalEvents"] == pytest.approx(total_between(a, b))
    assert slo["budgetConsumed"] == pytest.approx(6200.0 / ((1 - OBJECTIVE) * total_between(a, b)))


def test_markdown_and_html_reports_carry_the_figures_and_a_chart(prometheus, slo_file, capsys):
    md = november(prometheus, slo_file, capsys, "-o", "markdown")
    # 12,200 bad of 8,640,000: 99.859%, 141.2% of the 8,640-event budget
    assert "| shop/checkout-availability | checkout | 99.900% | 99.859% | missed | 141.2% |" in md
    assert "2026-11-20 10:00" in md and "relax the objective" in md
    page = november(prometheus, slo_file, capsys, "-o", "html")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1
    assert "2026-11: 141.2%" in page and "2026-08: n/a" in page  # no data before 25 October


def test_bad_periods_and_an_unreachable_prometheus_fail_with_one_line(slo_file, capsys):
    code, _, err = run(["--prometheus", "http://127.0.0.1:9", "--period", "2026-13", str(slo_file)], capsys)
    assert code == 2 and "2026-W47" in err and "Traceback" not in err  # usage (docs/cli.md)
    code, _, err = run(["--prometheus", "http://127.0.0.1:9", "--period", "2026-11", "--at",
                        "2026-12-01T01:00:00Z", str(slo_file)], capsys)
    assert code == 3 and "127.0.0.1:9" in err and "Traceback" not in err

"""Missing data is never good news: an SLA month whose probe stops on the 5th, on a real server.

History: ``probe_success{instance="gap"}`` is 1 every minute from 2026-05-31 00:00Z and its last
sample is at 2026-06-05 00:00Z; then nothing. June 2026 (UTC) has 30 x 1,440 = 43,200 minutes; the
first four days, 5,760 minutes, have data and the other 37,440 have none. Worked by hand:

* ``noData: downtime`` (the default): 37,440 down minutes -> 5,760 / 43,200 = 13.333% up -> the
  worst tier (below 99.0 -> 50%), not compliant, coverage 5,760 / 43,200 = 0.1333;
* ``noData: excluded``: 0 down of the 5,760 measured -> 100%, no credit, same coverage;
* ``noData: uptime``: 100%, no credit, same coverage.

The month has ended, so it is complete, and with 13% coverage it is below the 99% a month needs
to be finalized. The last sample may still be seen for up to a scrape interval after it, by each
server's own rules: tolerances allow 6 minutes at that one edge and nothing more.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from tests.integration.promfixture import server_from_lines

from sloguard.cli import sla_cmd

pytestmark = pytest.mark.integration

START = int(datetime.fromisoformat("2026-05-31T00:00:00+00:00").timestamp())
LAST = int(datetime.fromisoformat("2026-06-05T00:00:00+00:00").timestamp())
MONTH_MINUTES = 30 * 1440
WITH_DATA = 4 * 1440
WITHOUT_DATA = MONTH_MINUTES - WITH_DATA  # 37,440
EDGE = 6  # minutes: the last sample's reach past its time, by the server's lookback rules


def history() -> Iterator[str]:
    yield "# TYPE probe_success gauge\n"
    for t in range(START, LAST + 1, 60):
        yield f'probe_success{{instance="gap"}} 1 {t}\n'
    yield "# EOF\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = server_from_lines(history(), tmp_path_factory.mktemp("sla-gap"))
    with server:
        yield server.url


def contract(no_data: str | None) -> str:
    line = f"  noData: {no_data}\n" if no_data else ""
    return f"""apiVersion: sloguard.io/v1alpha1
kind: SLAContract
metadata: {{name: gap, namespace: billing}}
spec:
  customer: {{id: acme, name: ACME Corp}}
  contractId: C-2026-009
  fee: {{monthly: 10000, currency: USD}}
{line}  terms:
  - name: platform-availability
    type: uptime
    objective: 99.9
    sli: {{boolGauge: {{selector: 'probe_success{{instance="gap"}}'}}}}
    credits:
    - {{below: 99.9, percent: 10}}
    - {{below: 99.5, percent: 25}}
    - {{below: 99.0, percent: 50}}
"""


def evaluate(prometheus: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_data: str | None,
             output: str = "json") -> str:
    (tmp_path / "c.yaml").write_text(contract(no_data))
    parser = argparse.ArgumentParser()
    sla_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["sla", "evaluate", "--prometheus", prometheus, "--period", "2026-06",
                              "-o", output, str(tmp_path / "c.yaml")])
    assert args.func(args) == 0
    return capsys.readouterr().out


def test_a_probe_that_stops_on_the_fifth_is_downtime_not_a_perfect_month(prometheus, tmp_path, capsys):
    out = json.loads(evaluate(prometheus, tmp_path, capsys, None))
    term = out["terms"][0]
    assert (out["minutes"], out["complete"], out["noData"]) == (MONTH_MINUTES, True, "downtime")
    assert term["noDataMinutes"] == pytest.approx(WITHOUT_DATA, abs=EDGE)
    assert term["downtimeMinutes"] == term["noDataMinutes"]
    assert term["actual"] == pytest.approx(WITH_DATA * 100 / MONTH_MINUTES, abs=EDGE * 100 / MONTH_MINUTES)
    assert (term["compliant"], term["creditPercent"]) == (False, 50)
    assert (out["compliant"], out["creditPercent"], out["creditAmount"]) == (False, 50, 5000.0)
    assert out["coverage"] == pytest.approx(WITH_DATA / MONTH_MINUTES, abs=EDGE / MONTH_MINUTES)


@pytest.mark.parametrize("no_data", ["excluded", "uptime"])
def test_a_contract_may_choose_to_exclude_or_trust_unmonitored_minutes(prometheus, tmp_path, capsys, no_data):
    out = json.loads(evaluate(prometheus, tmp_path, capsys, no_data))
    term = out["terms"][0]
    assert out["noData"] == no_data
    assert (term["actual"], term["downtimeMinutes"], term["compliant"], term["creditPercent"]) == (100.0, 0, True, 0)
    assert term["noDataMinutes"] == pytest.approx(WITHOUT_DATA, abs=EDGE)
    assert out["coverage"] == pytest.approx(WITH_DATA / MONTH_MINUTES, abs=EDGE / MONTH_MINUTES)


def test_the_report_prints_the_choice_and_the_coverage(prometheus, tmp_path, capsys):
    md = evaluate(prometheus, tmp_path, capsys, None, "markdown")
    assert "Data coverage: 13.3" in md and "contract noData: downtime" in md
    assert "below the 99% needed to finalize" in md
    assert "minute(s) had no measurement and were counted as downtime." in md

"""SLA evaluation against a real Prometheus holding synthetic months this module builds.

History (1-minute samples, 2026-09-29 to 2026-11-02 UTC, a handful of series):

* ``probe_success{instance="platform"}``: outages before, inside, across and after maintenance
  windows, one in a window announced too late, one across the October/November boundary.
* ``probe_success{instance="berlin"}``: outages in the repeated hour of 25 October and at both
  Europe/Berlin month boundaries (a 44,700-minute month).
* ``http_request_duration_seconds_bucket{job="api"}``: 100 requests a minute, a three-day slow
  spell, and requests over 10s that are invalid outliers.
* ``http_requests_total{job="api",code}``: 1,000 requests a minute, a full outage inside an
  excluded window and a 10% error spell outside.

Expected figures are computed here from the scenario tables with sets of minutes and plain
arithmetic, never with sloguard's code. Counters are sampled once a minute, so window edges may
shift by one minute: tolerances allow that and nothing more.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from tests.integration.promfixture import server_from_lines
from tests.support.cluster import free_port

from sloguard.adapters.prometheus import PrometheusQueryError, PrometheusUnavailable, SLAReader
from sloguard.api.sla_loader import load_contracts
from sloguard.cli import sla_cmd
from sloguard.core.sla import evaluate_contract, month_period

pytestmark = pytest.mark.integration


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ts(text: str) -> int:
    return int(utc(text).timestamp())


HISTORY_START = ts("2026-09-29T00:00:00Z")
HISTORY_END = ts("2026-11-02T00:00:00Z")

# --- scenario tables (UTC, [start, end)) --------------------------------------------------------

PLATFORM_OUTAGES = [
    ("2026-10-03T01:00:00Z", "2026-10-03T01:40:00Z"),  # 30 before the window, 10 inside
    ("2026-10-03T02:00:00Z", "2026-10-03T02:20:00Z"),  # inside the announced window
    ("2026-10-07T12:00:00Z", "2026-10-07T12:25:00Z"),  # no maintenance
    ("2026-10-10T02:00:00Z", "2026-10-10T02:30:00Z"),  # inside a window announced too late
    ("2026-10-20T02:50:00Z", "2026-10-20T03:10:00Z"),  # across the end of two merged windows
    ("2026-10-31T23:50:00Z", "2026-11-01T00:20:00Z"),  # across the month boundary
    ("2026-09-15T00:00:00Z", "2026-09-15T00:00:00Z"),  # (empty: before the history)
]
PLATFORM_WINDOWS = [  # start, end, announced
    ("2026-10-03T01:30:00Z", "2026-10-03T03:00:00Z", "2026-09-30T01:00:00Z"),  # 72.5h notice
    ("2026-10-10T02:00:00Z", "2026-10-10T02:30:00Z", "2026-10-09T12:00:00Z"),  # 14h: late
    ("2026-10-20T02:00:00Z", "2026-10-20T02:40:00Z", "2026-10-01T00:00:00Z"),
    ("2026-10-20T02:30:00Z", "2026-10-20T03:00:00Z", "2026-10-01T00:00:00Z"),  # overlaps the one before
]
MINIMUM_NOTICE_H = 48

BERLIN_OUTAGES = [
    ("2026-09-30T21:50:00Z", "2026-09-30T22:10:00Z"),  # 23:50-00:10 local: 10 min in October
    ("2026-10-25T00:30:00Z", "2026-10-25T01:15:00Z"),  # 02:30 CEST - 02:15 CET, the repeated hour
    ("2026-10-31T22:50:00Z", "2026-10-31T23:10:00Z"),  # 23:50-00:10 local: 10 min in October
]

SLOW_SPELL = ("2026-10-14T00:00:00Z", "2026-10-17T00:00:00Z")  # three days
# Requests per minute per latency bucket (non-cumulative): <=0.5s, <=2s, <=10s, >10s.
LATENCY_NORMAL = (90, 8, 1, 1)
LATENCY_SLOW = (10, 20, 65, 5)

REQUESTS_PER_MINUTE = 1000
FULL_OUTAGE = ("2026-10-03T02:00:00Z", "2026-10-03T02:20:00Z")  # inside the announced window
ERROR_SPELL = ("2026-10-12T08:00:00Z", "2026-10-12T09:00:00Z")  # 10% errors
ERROR_SPELL_RATE = 100


def minutes_of(intervals: list[tuple[str, str]]) -> set[int]:
    out: set[int] = set()
    for a, b in intervals:
        out.update(range(ts(a), ts(b), 60))
    return out


def in_any(t: int, intervals: list[tuple[str, str]]) -> bool:
    return any(ts(a) <= t < ts(b) for a, b in intervals)


# --- history -----------------------------------------------------------------------------------


def history() -> Iterator[str]:
    """OpenMetrics text; a counter's sample at t counts the requests of the minutes before t."""
    minutes = range(HISTORY_START, HISTORY_END, 60)
    yield "# TYPE probe_success gauge\n"
    for instance, outages in (("platform", PLATFORM_OUTAGES), ("berlin", BERLIN_OUTAGES)):
        down = minutes_of(outages)
        for t in minutes:
            yield f'probe_success{{instance="{instance}"}} {0 if t in down else 1} {t}\n'

    yield "# TYPE http_request_duration_seconds histogram\n"
    bounds = ("0.5", "2.0", "10.0", "+Inf")
    cumulative = [0, 0, 0, 0]
    rows: dict[str, list[str]] = {b: [] for b in bounds}
    for t in minutes:
        for i, b in enumerate(bounds):
            rows[b].append(f'http_request_duration_seconds_bucket{{job="api",le="{b}"}} {cumulative[i]} {t}\n')
        per_bucket = LATENCY_SLOW if in_any(t, [SLOW_SPELL]) else LATENCY_NORMAL
        running = 0
        for i, n in enumerate(per_bucket):
            running += n
            cumulative[i] += running
    for b in bounds:
        yield from rows[b]

    yield "# TYPE http_requests counter\n"
    ok = err = 0
    ok_rows, err_rows = [], []
    for t in minutes:
        ok_rows.append(f'http_requests_total{{job="api",code="200"}} {ok} {t}\n')
        err_rows.append(f'http_requests_total{{job="api",code="500"}} {err} {t}\n')
        if in_any(t, [FULL_OUTAGE]):
            e = REQUESTS_PER_MINUTE
        elif in_any(t, [ERROR_SPELL]):
            e = ERROR_SPELL_RATE
        else:
            e = 0
        ok += REQUESTS_PER_MINUTE - e
        err += e
    yield from ok_rows
    yield from err_rows
    yield "# EOF\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = server_from_lines(history(), tmp_path_factory.mktemp("sla-prom"))
    with server:
        yield server.url


def contract_yaml(timezone: str = "UTC", instance: str = "platform", windows: bool = True) -> str:
    ws = "".join(
        f'    - {{start: "{a}", end: "{b}", announcedAt: "{n}", description: "window {i}"}}\n'
        for i, (a, b, n) in enumerate(PLATFORM_WINDOWS if windows else [])
    )
    return f"""apiVersion: sloguard.io/v1alpha1
kind: SLAContract
metadata: {{name: acme-{instance}, namespace: billing}}
spec:
  customer: {{id: acme, name: ACME Corp}}
  contractId: C-2026-001
  timezone: {timezone}
  fee: {{monthly: 10000, currency: USD}}
  maxCreditPercent: 100
  maintenance:
    minimumNotice: {MINIMUM_NOTICE_H}h
    windows:{" []" if not ws else ""}
{ws}  terms:
  - name: platform-availability
    type: uptime
    objective: 99.9
    sli: {{boolGauge: {{selector: 'probe_success{{instance="{instance}"}}'}}}}
    credits:
    - {{below: 99.9, percent: 10}}
    - {{below: 99.5, percent: 25}}
    - {{below: 99.0, percent: 50}}
  - name: response-time
    type: latency
    objective: 95
    sli: {{latency: {{histogram: 'http_request_duration_seconds_bucket{{job="api"}}', threshold: 2, validBelow: 10}}}}
    credits: [{{below: 95, percent: 5}}, {{below: 90, percent: 15}}]
  - name: api-success
    type: availability
    objective: 99.95
    sli:
      ratio: {{errors: 'http_requests_total{{job="api",code=~"5.."}}', total: 'http_requests_total{{job="api"}}'}}
    credits: [{{below: 99.95, percent: 10}}]
  - name: api-uptime
    type: uptime
    objective: 99.9
    sli:
      ratio: {{errors: 'http_requests_total{{job="api",code=~"5.."}}', total: 'http_requests_total{{job="api"}}'}}
    slice: {{window: 5m, target: 1.0}}
    credits: [{{below: 99.9, percent: 10}}]
"""


def load_one(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    f = tmp_path / "contract.yaml"
    f.write_text(text)
    contracts, diags = load_contracts([str(f)])
    assert not [d for d in diags if d.severity == "error"], [str(d) for d in diags]
    return contracts[0]


# --- independent expectations ---------------------------------------------------------------------


def excluded_minutes_expected(windows: list[tuple[str, str, str]]) -> set[int]:
    out: set[int] = set()
    for a, b, announced in windows:
        if ts(a) - ts(announced) >= MINIMUM_NOTICE_H * 3600:
            out.update(range(ts(a), ts(b), 60))
    return out


def uptime_expected(outages: list[tuple[str, str]], month_start: str, month_end: str,
                    windows: list[tuple[str, str, str]]) -> tuple[int, int, int]:
    month = set(range(ts(month_start), ts(month_end), 60))
    down = minutes_of(outages) & month
    excused = excluded_minutes_expected(windows)
    return len(month), len(down - excused), len(down & excused)


def latency_expected(month_start: str, month_end: str, excluded: set[int]) -> float:
    good = valid = 0
    for t in range(ts(month_start), ts(month_end), 60):
        if t in excluded:
            continue
        b = LATENCY_SLOW if in_any(t, [SLOW_SPELL]) else LATENCY_NORMAL
        good += b[0] + b[1]
        valid += b[0] + b[1] + b[2]
    return good * 100 / valid


def success_expected(month_start: str, month_end: str, excluded: set[int]) -> float:
    bad = total = 0
    for t in range(ts(month_start), ts(month_end), 60):
        if t in excluded:
            continue
        total += REQUESTS_PER_MINUTE
        if in_any(t, [FULL_OUTAGE]):
            bad += REQUESTS_PER_MINUTE
        elif in_any(t, [ERROR_SPELL]):
            bad += ERROR_SPELL_RATE
    return (total - bad) * 100 / total


# --- tests -------------------------------------------------------------------------------------


def test_uptime_counts_outages_outside_announced_maintenance(prometheus: str, tmp_path: Path) -> None:
    contract = load_one(tmp_path, contract_yaml())
    period = month_period("2026-10", "UTC")
    read = SLAReader(prometheus).read_contract(contract, period)
    result = evaluate_contract(contract, period, read.measurements)
    term = next(t for t in result.terms if t.name == "platform-availability")

    minutes, down, excused = uptime_expected(PLATFORM_OUTAGES, "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z",
                                             PLATFORM_WINDOWS)
    assert (minutes, down, excused) == (44_640, 105, 40)  # the scenario table, worked by hand
    edges = 2 * 6  # one minute per outage edge
    assert result.minutes == minutes
    assert term.downtime_minutes == pytest.approx(down, abs=edges)
    assert term.excluded_minutes == pytest.approx(excused, abs=edges)
    assert term.no_data_minutes == 0
    assert term.actual == pytest.approx((minutes - down) * 100 / minutes, abs=edges * 100 / minutes)
    assert not term.compliant and term.credit_percent == 10  # 99.76%: under 99.9, not under 99.5
    # The late window is reported, and not excluded.
    late = [w for w in result.maintenance.windows if not w.excluded]
    assert [w.window.description for w in late] == ["window 1"]
    assert result.maintenance.excluded_minutes == 90 + 60  # 01:30-03:00 and merged 02:00-03:00


def test_uptime_is_exact_for_whole_minute_gauge_samples(prometheus: str, tmp_path: Path) -> None:
    # Gauge samples on minute boundaries belong to the minute they start: no edge error at all.
    contract = load_one(tmp_path, contract_yaml())
    period = month_period("2026-10", "UTC")
    read = SLAReader(prometheus).read_contract(contract, period)
    term = evaluate_contract(contract, period, read.measurements).terms[0]
    _, down, excused = uptime_expected(PLATFORM_OUTAGES, "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z",
                                       PLATFORM_WINDOWS)
    assert (term.downtime_minutes, term.excluded_minutes) == (down, excused)


def test_a_dst_month_in_berlin_has_44700_minutes_and_local_boundaries(prometheus: str, tmp_path: Path) -> None:
    contract = load_one(tmp_path, contract_yaml("Europe/Berlin", "berlin", windows=False))
    period = month_period("2026-10", "Europe/Berlin")
    read = SLAReader(prometheus).read_contract(contract, period)
    result = evaluate_contract(contract, period, read.measurements)
    term = result.terms[0]
    minutes, down, excused = uptime_expected(BERLIN_OUTAGES, "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z", [])
    assert (minutes, down, excused) == (44_700, 65, 0)
    assert result.minutes == 44_700
    assert term.downtime_minutes == pytest.approx(down, abs=2 * 3)
    assert term.actual == pytest.approx((minutes - down) * 100 / minutes, abs=6 * 100 / minutes)
    days = {d.day: d for d in term.days}
    assert days["2026-10-25"].minutes == 1500 and days["2026-10-25"].downtime_minutes == pytest.approx(45, abs=2)
    assert days["2026-10-01"].downtime_minutes == pytest.approx(10, abs=1)


def test_latency_share_excludes_outliers_and_maintenance(prometheus: str, tmp_path: Path) -> None:
    contract = load_one(tmp_path, contract_yaml())
    period = month_period("2026-10", "UTC")
    read = SLAReader(prometheus).read_contract(contract, period)
    term = next(t for t in evaluate_contract(contract, period, read.measurements).terms if t.name == "response-time")
    expected = latency_expected("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z",
                                excluded_minutes_expected(PLATFORM_WINDOWS))
    assert expected == pytest.approx(4_066_260 * 100 / 4_387_230)  # worked by hand from the tables
    # One minute of slow traffic more or less moves the share by ~0.0016 points per edge.
    assert term.actual == pytest.approx(expected, abs=0.01)
    assert not term.compliant and term.credit_percent == 5  # under 95, not under 90


def test_availability_leaves_out_requests_in_announced_maintenance(prometheus: str, tmp_path: Path) -> None:
    period = month_period("2026-10", "UTC")
    with_windows = load_one(tmp_path, contract_yaml())
    read = SLAReader(prometheus).read_contract(with_windows, period)
    term = next(t for t in evaluate_contract(with_windows, period, read.measurements).terms if t.name == "api-success")
    expected = success_expected("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z",
                                excluded_minutes_expected(PLATFORM_WINDOWS))
    assert term.actual == pytest.approx(expected, abs=0.0005)
    assert term.compliant  # the full outage was inside announced maintenance

    no_windows = load_one(tmp_path, contract_yaml(windows=False))
    read = SLAReader(prometheus).read_contract(no_windows, period)
    term = next(t for t in evaluate_contract(no_windows, period, read.measurements).terms if t.name == "api-success")
    expected = success_expected("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", set())
    assert term.actual == pytest.approx(expected, abs=0.0005)
    assert not term.compliant and term.credit_percent == 10


def test_uptime_from_request_counters_with_five_minute_slices(prometheus: str, tmp_path: Path) -> None:
    contract = load_one(tmp_path, contract_yaml())
    period = month_period("2026-10", "UTC")
    read = SLAReader(prometheus).read_contract(contract, period)
    term = next(t for t in evaluate_contract(contract, period, read.measurements).terms if t.name == "api-uptime")
    # Error spell 08:00-09:00 = 12 slices counted; full outage 02:00-02:20 = 4 slices excused.
    assert term.downtime_minutes == pytest.approx(60, abs=5)
    assert term.excluded_minutes == pytest.approx(20, abs=5)


def test_a_month_in_progress_is_measured_to_now(prometheus: str, tmp_path: Path) -> None:
    contract = load_one(tmp_path, contract_yaml())
    period = month_period("2026-10", "UTC")
    now = utc("2026-10-08T00:00:00Z")
    read = SLAReader(prometheus).read_contract(contract, period, now)
    result = evaluate_contract(contract, period, read.measurements, now=read.until)
    term = result.terms[0]
    _, down, _ = uptime_expected(PLATFORM_OUTAGES, "2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z", PLATFORM_WINDOWS)
    assert (result.minutes, result.complete) == (7 * 1440, False)
    assert term.downtime_minutes == pytest.approx(down, abs=6)


def test_cli_json_is_the_documented_contract(
    prometheus: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "c.yaml").write_text(contract_yaml())
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    sla_cmd.add_parser(sub)
    args = parser.parse_args(["sla", "evaluate", "--prometheus", prometheus, "--period", "2026-10",
                              "-o", "json", str(tmp_path)])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"contract", "customer", "period", "minutes", "terms", "creditPercent", "creditAmount",
            "currency"} <= set(out)
    assert (out["contract"], out["customer"], out["period"]) == ("C-2026-001", "acme", "2026-10")
    assert out["minutes"] == 44_640
    by_name = {t["name"]: t for t in out["terms"]}
    for t in out["terms"]:
        assert {"name", "type", "objective", "actual", "compliant", "downtimeMinutes", "excludedMinutes",
                "creditPercent"} <= set(t)
    assert by_name["platform-availability"]["creditPercent"] == 10
    assert by_name["response-time"]["creditPercent"] == 5
    assert by_name["api-success"]["creditPercent"] == 0
    # api-uptime: 60 counted minutes of 44,640 = 99.866% -> 10
    assert by_name["api-uptime"]["creditPercent"] == 10
    assert out["creditPercent"] == 25 and out["creditAmount"] == 2500.0 and out["currency"] == "USD"

    args = parser.parse_args(["sla", "evaluate", "--prometheus", prometheus, "--period", "2026-10",
                              "-o", "markdown", str(tmp_path)])
    assert args.func(args) == 0
    md = capsys.readouterr().out
    assert "# SLA report: ACME Corp" in md and "## Daily uptime: platform-availability" in md
    assert "| 2026-10-10 02:00 | 2026-10-10 02:30 | window 1 | announced only 14h before its start | NO" in md
    assert "| platform-availability | uptime | 99.9% | 99.765% | -0.135 pp | BREACHED | 105 | 40 | 10% |" in md

    args = parser.parse_args(["sla", "evaluate", "--prometheus", prometheus, "--period", "2026-10",
                              "-o", "html", str(tmp_path)])
    assert args.func(args) == 0
    page = capsys.readouterr().out
    svg = page[page.index("<svg"): page.index("</svg>") + len("</svg>")]
    bars = ElementTree.fromstring(svg).findall("{http://www.w3.org/2000/svg}rect")
    assert len(bars) >= 31  # at least one mark per day of October
    assert "no (late notice)" in page and "ACME Corp" in page


def test_an_unreachable_prometheus_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    contract = load_one(tmp_path, contract_yaml())
    with pytest.raises(PrometheusUnavailable, match="cannot reach Prometheus"):
        SLAReader(f"http://127.0.0.1:{free_port()}").read_contract(contract, month_period("2026-10"))
    (tmp_path / "c.yaml").write_text(contract_yaml())
    from sloguard.cli import main

    assert main(["sla", "evaluate", "--prometheus", f"http://127.0.0.1:{free_port()}",
                 "--period", "2026-10", str(tmp_path / "c.yaml")]) == 3  # could not reach (docs/cli.md)
    err = capsys.readouterr().err
    assert "cannot reach Prometheus" in err and "Traceback" not in err


def test_a_query_prometheus_refuses_is_a_clear_error(prometheus: str, tmp_path: Path) -> None:
    contract = load_one(tmp_path, contract_yaml())
    reader = SLAReader(prometheus)
    with pytest.raises(PrometheusQueryError, match="refused the query"):
        reader.instant("sum(rate(x[5m]", 0, "a broken query")
    assert contract.terms  # the contract itself was fine



SLO_YAML = """apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
metadata: {name: api, namespace: shop}
spec:
  service: api
  objective: 99.9
  window: 30d
  sli:
    ratio: {errors: 'http_requests_total{job="api",code=~"5.."}', total: 'http_requests_total{job="api"}'}
"""


def test_impact_reports_budget_spent_sla_minutes_and_severity(
    prometheus: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sloguard.cli import impact_cmd

    (tmp_path / "c.yaml").write_text(contract_yaml())
    (tmp_path / "slo.yaml").write_text(SLO_YAML)
    parser = argparse.ArgumentParser()
    impact_cmd.add_parser(parser.add_subparsers())
    t1, t2 = "2026-10-12T07:30:00Z", "2026-10-12T09:30:00Z"
    args = parser.parse_args(["impact", "--prometheus", prometheus, "--from", t1, "--to", t2, "-o", "json",
                              str(tmp_path)])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    slo = out["slos"][0]
    bad = 60 * ERROR_SPELL_RATE  # the whole error spell lies inside the interval
    assert slo["badEvents"] == pytest.approx(bad, abs=2 * ERROR_SPELL_RATE)
    assert slo["totalEvents"] == pytest.approx(120 * REQUESTS_PER_MINUTE, abs=2 * REQUESTS_PER_MINUTE)
    # The 30-day window ending at T2 holds every minute since the history began.
    window_total = (ts(t2) - HISTORY_START) // 60 * REQUESTS_PER_MINUTE
    assert slo["budgetSpent"] == pytest.approx(bad / (0.001 * window_total), rel=0.02)
    assert slo["worstErrorRatio"] == pytest.approx(ERROR_SPELL_RATE / REQUESTS_PER_MINUTE, abs=1e-6)
    terms = {t["term"]: t for t in out["sla"]}
    assert terms["platform-availability"]["minutesLost"] == 0
    assert terms["api-uptime"]["minutesLost"] == pytest.approx(60, abs=5)
    assert terms["api-uptime"]["breached"]  # 60 minutes > 44.64 allowed in October
    # 10% failing is "some users" (severity_3), raised to severity_2 by the SLA breach and a
    # third of the SLO's budget spent.
    assert out["severity"]["level"] == "severity_2"

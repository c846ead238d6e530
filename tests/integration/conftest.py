"""Integration fixtures: a real Prometheus holding a month of synthetic history.

The server is Prometheus 3 by default; ``SLOGUARD_PROMETHEUS=2`` runs the same tests on Debian's
Prometheus 2.42 and ``SLOGUARD_PROMETHEUS=vm`` on VictoriaMetrics single-node, loaded with the
same samples (``tests/metricservers.py``, ``promfixture.server_from_lines``). Every expected
figure comes from the history below, whichever server answers.

The history is built here, minute by minute, as plain Python lists of per-minute increments;
the same lists are written to Prometheus (as cumulative counters, via promtool) and used by
:class:`History` to compute the expected figures independently of PromQL.

What is in it (2025-02-28 00:00Z to 2025-03-31 00:00Z, one sample a minute):

* ``http_requests_total{service="checkout", code="200"|"500"}``: diurnal traffic (400 to 1,600
  requests a minute), one background error every 10 minutes, and three outages of known size.
* ``http_requests_total{service="quiet", ...}``: a service with no traffic at all.
* ``http_requests_total{service="restarting", ...}``: checkout's very increments, from a process
  that restarts twice (its counters start again from 0), once in the middle of an hour and once
  one minute after an hour (the first sample after the hour is already after the reset): its
  figures are checkout's.
* ``http_request_duration_seconds`` for ``search``: a classic histogram (le 0.1, 0.25, 0.5,
  1.0, +Inf) with a one-hour latency incident.
* ``probe_success{instance="platform"}``: a 0/1 probe, down for 30 and 10 minutes.
* ``sloguard:sli_error_ratio:rate1h{slo="checkout-recorded", slo_namespace="shop"}``: a
  recording on the last day, to prove recordings are preferred for burn rates.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests import metricservers
from tests.integration.promfixture import MetricServer, OpenMetricsWriter, server_from_lines

STEP = 60
START = datetime(2025, 2, 28, tzinfo=UTC)
END = datetime(2025, 3, 31, tzinfo=UTC)

#: (start, end, share of requests failing): the outages, each of known size.
OUTAGES: tuple[tuple[datetime, datetime, float], ...] = (
    (datetime(2025, 3, 5, 9, 0, tzinfo=UTC), datetime(2025, 3, 5, 9, 15, tzinfo=UTC), 1.0),
    (datetime(2025, 3, 12, 14, 0, tzinfo=UTC), datetime(2025, 3, 12, 15, 0, tzinfo=UTC), 0.2),
    (datetime(2025, 3, 30, 21, 30, tzinfo=UTC), datetime(2025, 3, 30, 22, 30, tzinfo=UTC), 0.5),
)
LATENCY_INCIDENT = (datetime(2025, 3, 18, 10, tzinfo=UTC), datetime(2025, 3, 18, 11, tzinfo=UTC))
#: Cumulative share of requests at or under each bound, normally and during the incident.
BUCKETS: tuple[str, ...] = ("0.1", "0.25", "0.5", "1.0", "+Inf")
LATENCY_NORMAL = (0.80, 0.995, 0.999, 1.0, 1.0)
LATENCY_INCIDENT_SHARES = (0.40, 0.70, 0.95, 1.0, 1.0)
PROBE_DOWN: tuple[tuple[datetime, datetime], ...] = (
    (datetime(2025, 3, 8, 2, 0, tzinfo=UTC), datetime(2025, 3, 8, 2, 30, tzinfo=UTC)),
    (datetime(2025, 3, 22, 12, 0, tzinfo=UTC), datetime(2025, 3, 22, 12, 10, tzinfo=UTC)),
)
#: Samples at which the "restarting" service's counters are back at their minute's increment.
RESTARTS: tuple[datetime, ...] = (datetime(2025, 3, 20, 6, 30, tzinfo=UTC), datetime(2025, 3, 25, 0, 1, tzinfo=UTC))
RECORDED_RATIO_1H = 0.0042
RECORDED_SINCE = datetime(2025, 3, 30, tzinfo=UTC)


def _ts(i: int) -> int:
    return int(START.timestamp()) + i * STEP


def _in(ts: int, span: tuple[datetime, datetime]) -> bool:
    """A minute's increment (ts - 60, ts] belongs to [start, end) when ts is in (start, end]."""
    return span[0].timestamp() < ts <= span[1].timestamp()


@dataclass
class History:
    """Per-minute increments (index i: the minute ending at sample i; index 0 is the first sample)."""

    ts: list[int] = field(default_factory=list)
    checkout_total: list[int] = field(default_factory=list)
    checkout_errors: list[int] = field(default_factory=list)
    search_total: list[int] = field(default_factory=list)
    search_good: list[int] = field(default_factory=list)  # at or under 0.25 s
    probe: list[int] = field(default_factory=list)  # the gauge's value at sample i

    def indices(self, at: datetime, seconds: float) -> range:
        """Samples whose increments fall in (at - seconds, at]."""
        end = int(at.timestamp())
        lo = end - seconds
        first = max(0, math.floor((lo - self.ts[0]) / STEP) + 1)
        last = (end - self.ts[0]) // STEP
        return range(first, last + 1)

    def sum(self, series: list[int], at: datetime, seconds: float) -> int:
        return sum(series[i] for i in self.indices(at, seconds))

    def checkout(self, at: datetime, seconds: float) -> tuple[int, int]:
        """(bad, total) requests of checkout in (at - seconds, at]."""
        return self.sum(self.checkout_errors, at, seconds), self.sum(self.checkout_total, at, seconds)

    def search(self, at: datetime, seconds: float) -> tuple[int, int]:
        """(slow, total) search requests in (at - seconds, at], slow meaning over 0.25 s."""
        total = self.sum(self.search_total, at, seconds)
        return total - self.sum(self.search_good, at, seconds), total

    def probe_down_share(self, at: datetime, seconds: float) -> float:
        idx = self.indices(at, seconds)
        return sum(1 - self.probe[i] for i in idx) / len(idx)

    def checkout_slices(self, at: datetime, seconds: float, slice_seconds: int, target: float) -> tuple[int, int]:
        """(bad, total) slices aligned to ``slice_seconds`` whose end lies in (at - seconds, at]."""
        end = int(at.timestamp())
        first_end = (end - int(seconds)) // slice_seconds * slice_seconds + slice_seconds
        bad = total = 0
        for p in range(first_end, end + 1, slice_seconds):
            err, tot = self.checkout(datetime.fromtimestamp(p, UTC), slice_seconds)
            if tot == 0:
                continue
            total += 1
            bad += 1 if (1 - err / tot) < target else 0
        return bad, total


def build_history() -> History:
    h = History()
    n = int((END - START).total_seconds()) // STEP + 1
    for i in range(n):
        ts = _ts(i)
        h.ts.append(ts)
        if i == 0:
            for series in (h.checkout_total, h.checkout_errors, h.search_total, h.search_good):
                series.append(0)
            h.probe.append(1)
            continue
        phase = 2 * math.pi * (ts % 86400) / 86400
        req = int(1000 - 600 * math.cos(phase))  # 400 at midnight UTC, 1,600 at noon
        share = next((s for a, b, s in OUTAGES if _in(ts, (a, b))), None)
        err = round(req * share) if share is not None else (1 if i % 10 == 0 else 0)
        h.checkout_total.append(req)
        h.checkout_errors.append(err)
        sreq = req // 4
        shares = LATENCY_INCIDENT_SHARES if _in(ts, LATENCY_INCIDENT) else LATENCY_NORMAL
        h.search_total.append(sreq)
        h.search_good.append(math.floor(sreq * shares[1]))
        h.probe.append(0 if any(_in(ts, span) for span in PROBE_DOWN) else 1)
    return h


def write_history(h: History) -> OpenMetricsWriter:
    """The counters as Prometheus sees them: cumulative, from the same increments."""
    w = OpenMetricsWriter()
    req = w.family("http_requests", "counter", ("service", "code"))
    lat = w.family("http_request_duration_seconds", "histogram", ("service",))
    probe = w.family("probe_success", "gauge", ("instance",))
    rec = w.family("sloguard:sli_error_ratio:rate1h", "gauge", ("slo", "slo_namespace", "service"))
    ok = errs = stot = 0
    rok = rerrs = 0
    restarts = {int(r.timestamp()) for r in RESTARTS}
    buckets = [0] * len(BUCKETS)
    for i, ts in enumerate(h.ts):
        ok += h.checkout_total[i] - h.checkout_errors[i]
        errs += h.checkout_errors[i]
        req.add(("checkout", "200"), ts, ok)
        req.add(("checkout", "500"), ts, errs)
        req.add(("quiet", "200"), ts, 0)
        req.add(("quiet", "500"), ts, 0)
        if ts in restarts:
            rok = rerrs = 0
        rok += h.checkout_total[i] - h.checkout_errors[i]
        rerrs += h.checkout_errors[i]
        req.add(("restarting", "200"), ts, rok)
        req.add(("restarting", "500"), ts, rerrs)
        sreq = h.search_total[i]
        stot += sreq
        shares = LATENCY_INCIDENT_SHARES if _in(ts, LATENCY_INCIDENT) else LATENCY_NORMAL
        for b, share in enumerate(shares):
            buckets[b] += h.search_good[i] if BUCKETS[b] == "0.25" else math.floor(sreq * share)
            lat.add(("search", BUCKETS[b]), ts, buckets[b], suffix="_bucket")
        lat.add(("search",), ts, stot, suffix="_count")
        lat.add(("search",), ts, stot * 0.05, suffix="_sum")
        probe.add(("platform",), ts, h.probe[i])
        if ts >= RECORDED_SINCE.timestamp():
            rec.add(("checkout-recorded", "shop", "checkout"), ts, RECORDED_RATIO_1H)
    return w


@pytest.fixture(scope="session")
def history() -> History:
    return build_history()


@pytest.fixture(scope="session")
def prometheus(history: History, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetricServer]:
    """One server with the whole history for the session (read-only: do not stop it)."""
    workdir: Path = tmp_path_factory.mktemp("prometheus")
    server = server_from_lines(write_history(history).lines(), workdir)
    server.start()
    yield server
    server.stop()


def recent_history_server(history: History, workdir: Path, days: int = 2) -> MetricServer:
    """A server (not started) over the last ``days`` of the history: small and quick to load.

    Used where a test needs a Prometheus of its own (to stop and start it, or beside a cluster).
    """
    w = write_history(history)
    cutoff = int((END - timedelta(days=days)).timestamp())
    for fam in w.families.values():
        for key, samples in fam.series.items():
            fam.series[key] = [(ts, v) for ts, v in samples if ts >= cutoff]
    return server_from_lines(w.lines(), workdir)


@pytest.fixture
def small_prometheus(history: History, tmp_path: Path) -> Iterator[MetricServer]:
    """A Prometheus of its own with the last two days only, for tests that stop and start it."""
    server = recent_history_server(history, tmp_path / "prom")
    server.start()
    yield server
    server.stop()


def pytest_report_header(config: pytest.Config) -> str:
    return f"sloguard integration server: SLOGUARD_PROMETHEUS={metricservers.kind()}"

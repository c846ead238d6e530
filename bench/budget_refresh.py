"""Seconds and HTTP requests per budget refresh cycle, for 100 and 1,000 SLOs, against a real
Prometheus holding 31 days of one-minute history.

    python bench/budget_refresh.py [--sizes 100,1000] [--cycles 16] [--services 5] [--raw] [--prometheus 2|3]

Targets (issue 4): 1,000 SLOs refreshed in under 10 s with at most 20 HTTP requests.

Cycles run as the operator runs them: one reader, ``--cycles`` refreshes 30 s apart. The first
(*cold*) reads every window for the first time; the others (*warm*) read only what moved (see
the window cache in ``sloguard.adapters.prometheus``). The warm cycles start at 22:59:30 and
cross 23:00, so one of them (23:05:00, once the hour has settled) also reads the new hourly
bucket: the table gives the median and the worst warm cycle. ``--raw`` measures the uncached
reader instead (every window from raw samples at every cycle). ``--prometheus`` picks the server:
3 (the default; ``hack/build-tools.sh prometheus3``) or Debian's 2.42. Every query is sent with
``stats=all``, and the samples Prometheus read for it (``totalQueryableSamples``) are summed per
cycle, so the table also says how much work each cycle costs the server.

The data: ``--services`` services (5), each with ``http_requests_total{code="200"|"500"}`` and a
4-bucket latency histogram, one sample a minute for 31 days (imported with promtool, then
compacted by Prometheus as a long-running server's would be). The SLOs: a realistic mix over
those services (availability and latency, 30d / 28d / 7d rolling windows, calendar months,
5-minute Timeslices), each with an extra never-matching matcher (``instance!="bench-<i>"``)
so no two SLOs share a query: the cost measured is that of 1,000 *different* SLIs, with no help
from the reader's de-duplication of identical expressions.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "operator"))

import requests  # noqa: E402
from tests.integration.promfixture import OpenMetricsWriter, PrometheusServer  # noqa: E402

from sloguard.adapters.prometheus import BudgetReader  # noqa: E402
from sloguard.core.model import Alerting, LatencySLI, Objective, RatioSLI, Timeslice  # noqa: E402
from sloguard.core.windows import default_tiers, parse_window  # noqa: E402

END = datetime(2025, 3, 31, tzinfo=UTC)
DAYS = 31
FIRST = datetime(2025, 3, 30, 22, 59, tzinfo=UTC)
CYCLE = timedelta(seconds=30)
BUCKETS = ("0.1", "0.25", "1.0", "+Inf")


def history(services: int) -> OpenMetricsWriter:
    w = OpenMetricsWriter()
    req = w.family("http_requests", "counter", ("service", "code"))
    lat = w.family("http_request_duration_seconds", "histogram", ("service",))
    start = int((END - timedelta(days=DAYS)).timestamp())
    for s in range(services):
        name = f"svc{s}"
        ok = err = 0
        buckets = [0, 0, 0, 0]
        for i, ts in enumerate(range(start, int(END.timestamp()) + 1, 60)):
            n = int(1000 - 600 * math.cos(2 * math.pi * (ts % 86400) / 86400)) if i else 0
            e = (n // 10 if (i + 97 * s) % 5000 < 20 else (1 if i % 7 == 0 else 0)) if i else 0
            ok, err = ok + n - e, err + e
            req.add((name, "200"), ts, ok)
            req.add((name, "500"), ts, err)
            for b, share in enumerate((0.8, 0.99, 0.999, 1.0)):
                buckets[b] += math.floor(n * share)
                lat.add((name, BUCKETS[b]), ts, buckets[b], suffix="_bucket")
    return w


def objectives(n: int, services: int) -> list[Objective]:
    out = []
    for i in range(n):
        svc = f"svc{i % services}"
        unique = f'instance!="bench-{i}"'
        kind = i % 10
        window = parse_window(("30d", "30d", "28d", "7d", "month")[i % 5])
        target = (0.999, 0.995, 0.99, 0.9995)[i % 4]
        sli: RatioSLI | LatencySLI
        if kind < 7:
            sli = RatioSLI(
                errors=f'http_requests_total{{service="{svc}",code="500",{unique}}}',
                total=f'http_requests_total{{service="{svc}",{unique}}}',
            )
        else:
            sli = LatencySLI(
                histogram=f'http_request_duration_seconds_bucket{{service="{svc}",{unique}}}', threshold=0.25
            )
        timeslices = kind == 9
        if timeslices:
            window = parse_window("7d")
        out.append(
            Objective(
                namespace=f"team{i % 20}",
                name=f"slo-{i}",
                service=svc,
                objective=target,
                window=window,
                sli=sli,
                alerting=Alerting(name="ErrorBudgetBurn", tiers=default_tiers(window)),
                budgeting_method="Timeslices" if timeslices else "Occurrences",
                timeslice=Timeslice("5m", 0.99) if timeslices else None,
            )
        )
    return out


class SampleCounter:
    """Adds ``stats=all`` to every query the reader POSTs and sums ``totalQueryableSamples``."""

    def __init__(self, session: requests.Session) -> None:
        self.samples = 0
        self._send = session.request

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
            if isinstance(kwargs.get("data"), dict):
                kwargs["data"] = {**kwargs["data"], "stats": "all"}
            response = self._send(method, url, *args, **kwargs)
            try:
                stats = response.json().get("data", {}).get("stats", {})
                self.samples += int(stats.get("samples", {}).get("totalQueryableSamples", 0))
            except ValueError:
                pass
            return response

        session.request = request  # type: ignore[method-assign]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,1000")
    ap.add_argument("--cycles", type=int, default=16, help="refreshes per size, 30 s apart (the first is cold)")
    ap.add_argument("--services", type=int, default=5)
    ap.add_argument("--raw", action="store_true", help="the uncached reader (window_cache=False)")
    ap.add_argument("--prometheus", type=int, choices=(2, 3), default=3, help="Prometheus major version")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="sloguard-bench-") as tmp:
        t0 = time.monotonic()
        server = PrometheusServer.from_lines(
            history(args.services).lines(), Path(tmp), compact=True, version=args.prometheus
        )
        print(
            f"history: {args.services * (2 + len(BUCKETS))} series x {DAYS} days, blocks in "
            f"{time.monotonic() - t0:.1f}s",
            file=sys.stderr,
        )
        with server:
            blocks = server.wait_compacted()
            print(f"prometheus {args.prometheus} compacted to {blocks} blocks", file=sys.stderr)
            warm_n = args.cycles - 1
            print(
                "| Prometheus | SLOs | cold: seconds | cold: HTTP requests | cold: samples read "
                f"| warm: seconds, median of {warm_n} | warm: worst | warm: HTTP requests, max "
                "| warm: samples read, median | warm: samples read, max |"
            )
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for size in (int(x) for x in args.sizes.split(",")):
                slos = objectives(size, args.services)
                reader = BudgetReader(server.url, timeout=300, window_cache=not args.raw)
                counter = SampleCounter(reader.client.session)
                times, reqs, samples = [], [], []
                for k in range(args.cycles):
                    before, read = reader.requests_sent, counter.samples
                    t = time.monotonic()
                    refresh = reader.refresh(slos, FIRST + k * CYCLE)
                    times.append(time.monotonic() - t)
                    reqs.append(reader.requests_sent - before)
                    samples.append(counter.samples - read)
                    print(
                        f"{size} SLOs, cycle {k}: {times[-1]:.2f}s, {reqs[-1]} requests, {samples[-1]:,} samples",
                        file=sys.stderr,
                    )
                    if not refresh.reachable:
                        print(f"refresh failed: {refresh.message}", file=sys.stderr)
                        return 1
                    unknown = [s for s in refresh.statuses.values() if s.state == "unknown"]
                    if unknown:
                        print(f"{len(unknown)} SLOs unknown: {unknown[0].hints}", file=sys.stderr)
                        return 1
                reader.close()
                warm, warm_reqs, warm_samples = times[1:] or [math.nan], reqs[1:] or [0], samples[1:] or [0]
                print(
                    f"| {server_name(args.prometheus)} | {size:,} | {times[0]:.2f} | {reqs[0]} | {samples[0]:,} "
                    f"| {statistics.median(warm):.2f} | {max(warm):.2f} | {max(warm_reqs)} "
                    f"| {int(statistics.median(warm_samples)):,} | {max(warm_samples):,} |"
                )
    return 0


def server_name(version: int) -> str:
    return "3.16 (v0.316.0)" if version == 3 else "2.42 (Debian)"


if __name__ == "__main__":
    sys.exit(main())

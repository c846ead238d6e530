"""What measuring a budget's data coverage costs the server: the first cut's query against the
window cache's shape, per SLO, on a real Prometheus holding 31 days of one-minute history.

    python bench/coverage_cost.py [--prometheus 2|3] [--series 2,20]

*old*: the first cut, ``min(min_over_time(timestamp(total)[30d1m:1m]))``, once per SLO (the
first sample only: gaps inside the window are not seen). *new*: what the window cache asks for
the coverage (``sloguard.adapters.prometheus.plan``): the 5-minute steps with data of every whole
hour (one range query, step 1h; kept), of the head and tail pieces (two instant queries, again
every cycle), and, only where the data starts late, the first data step of the first part with
data and the first sample behind it (two tiny follow-up queries, once). *warm*: a cycle 30 s later
(head and tail only). Every query is sent with ``stats=all``; ``samples`` is the server's
``totalQueryableSamples`` (Prometheus 3 counts every point a step reads; 2.42 counts differently,
compare within one server). Seconds are wall clock on a shared machine: read them as orders of
magnitude.

Four services, each with ``--series`` series behind its total selector (``code`` x ``instance``),
scraped every minute: ``full`` (31 days), ``gap`` (31 days, a 3-hour outage 10 days ago), ``late``
(starts 5 days 7 minutes ago), ``new`` (starts 2 minutes ago).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "operator"))

import requests  # noqa: E402
from tests.integration.promfixture import PrometheusServer  # noqa: E402

from sloguard.adapters.prometheus.plan import (  # noqa: E402
    BUCKET_SECONDS,
    Measure,
    Piece,
    coverage_of,
    coverage_steps,
    cut,
    data_step_exprs,
    first_data_step_ask,
    first_sample_ask,
    is_first_step,
    shifted,
)
from sloguard.core.model import Alerting, Objective, RatioSLI  # noqa: E402
from sloguard.core.windows import default_tiers, parse_window  # noqa: E402

AT = int(datetime(2025, 3, 30, 22, 15, tzinfo=UTC).timestamp())
WINDOW = 30 * 86400
OLD = "min(min_over_time(timestamp({sel})[30d1m:1m]))"
SERVICES = {"full": WINDOW + 86400, "gap": WINDOW + 86400, "late": 5 * 86400 + 420, "new": 120}
OUTAGE = (AT - 10 * 86400, AT - 10 * 86400 + 3 * 3600)


def lines(series: int) -> Any:
    yield "# TYPE req counter\n"
    for svc, since in SERVICES.items():
        for k in range(series):
            labels = f'svc="{svc}",code="{500 if k % 2 else 200}",instance="i{k // 2}"'
            for i, t in enumerate(range(AT - since, AT + 1, 60)):
                if svc == "gap" and OUTAGE[0] < t < OUTAGE[1]:
                    continue
                yield f"req_total{{{labels}}} {i} {t}\n"
    yield "# EOF\n"


def slo(svc: str) -> Objective:
    w = parse_window("30d")
    return Objective(namespace="bench", name=svc, service=svc, objective=0.999, window=w,
                     sli=RatioSLI(errors=f'req_total{{svc="{svc}",code="500"}}', total=f'req_total{{svc="{svc}"}}'),
                     alerting=Alerting(name="ErrorBudgetBurn", tiers=default_tiers(w)))


class Server:
    """Queries with ``stats=all``; counts queries, samples and seconds."""

    def __init__(self, url: str) -> None:
        self.url, self.session = url, requests.Session()
        self.queries = self.samples = 0
        self.seconds = 0.0

    def ask(self, expr: str, at: int, start: int | None = None, step: int = 0) -> list[Any]:
        data: dict[str, Any] = {"query": expr, "stats": "all"}
        if start is None:
            path, data["time"] = "query", at
        else:
            path, data["start"], data["end"], data["step"] = "query_range", start, at, step
        t = time.monotonic()
        body = self.session.post(f"{self.url}/api/v1/{path}", data=data, timeout=900).json()
        self.seconds += time.monotonic() - t
        self.queries += 1
        self.samples += int(body["data"].get("stats", {}).get("samples", {}).get("totalQueryableSamples", 0))
        return list(body["data"]["result"])


def new_shape(server: Server, objective: Objective, at: int, kept: float | None) -> float | None:
    """The window cache's coverage queries for one SLO at ``at`` (settle 300 s); the coverage."""
    start = at - WINDOW
    c = cut(start, at, 300)
    parts: dict[Piece, float] = {}
    if c.buckets is not None and kept is None:  # the hours: read once, then kept
        lo, hi = c.buckets
        for series in server.ask(data_step_exprs(objective, BUCKET_SECONDS)[Measure.DATA].expr, hi, lo,
                                 BUCKET_SECONDS):
            for t, v in series["values"]:
                parts[Piece(int(t), BUCKET_SECONDS)] = float(v)
    for p in c.pieces:
        expr = shifted(data_step_exprs(objective, p.length)[Measure.DATA].expr, p.end, at)
        parts[p] = sum(float(s["value"][1]) for s in server.ask(expr, at))
    if kept is not None:
        return kept
    ordered = sorted(parts.items(), key=lambda pv: pv[0].end)
    data = sum(v for _, v in ordered)
    first_part, value = next(((p, v) for p, v in ordered if v), (None, 0.0))
    if first_part is None:
        return None
    if first_part == ordered[0][0] and value == coverage_steps(first_part.end - first_part.length, first_part.end):
        return coverage_of(start, data, start, at)
    ask = first_data_step_ask(objective, first_part.length, first_part.end, at)
    assert ask is not None
    step = int(float(server.ask(ask.expr, at)[0]["value"][1]))
    first = float(start)
    if not is_first_step(step, start):
        refine = first_sample_ask(objective, step, at)
        assert refine is not None
        first = float(server.ask(refine.expr, at)[0]["value"][1])
    return coverage_of(first, data, start, at)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prometheus", type=int, choices=(2, 3), default=3, help="Prometheus major version")
    ap.add_argument("--series", default="2,20", help="series behind each SLO's total selector")
    args = ap.parse_args()
    print("| Prometheus | series | SLO | coverage | old: queries | old: samples | old: s | new cold: queries "
          "| new cold: samples | new cold: s | new warm: queries | new warm: samples |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (int(x) for x in args.series.split(",")):
        with tempfile.TemporaryDirectory(prefix="sloguard-bench-") as tmp:
            server = PrometheusServer.from_lines(lines(n), Path(tmp), compact=True, version=args.prometheus)
            with server:
                server.wait_compacted()
                for svc in SERVICES:
                    objective = slo(svc)
                    old = Server(server.url)
                    old.ask(OLD.format(sel=objective.sli.total), AT)  # type: ignore[union-attr]
                    cold = Server(server.url)
                    coverage = new_shape(cold, objective, AT, None)
                    warm = Server(server.url)
                    new_shape(warm, objective, AT + 30, coverage)
                    name = "3.16 (v0.316.0)" if args.prometheus == 3 else "2.42 (Debian)"
                    print(f"| {name} | {n} | {svc} | {coverage if coverage is None else f'{coverage:.6f}'} "
                          f"| {old.queries} | {old.samples:,} | {old.seconds:.2f} | {cold.queries} | {cold.samples:,} "
                          f"| {cold.seconds:.2f} | {warm.queries} | {warm.samples:,} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

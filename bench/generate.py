"""Benchmark `sloguard generate`: 1,000 and 10,000 SLOs of varied kinds, from files to YAML.

Each size writes N ServiceLevelObjective files (ratio, ratio with good, ratioQuery, latency, raw, boolGauge,
Timeslices, 28d, calendar month, custom tiers) into a temporary directory, then runs the CLI entry point
(``sloguard generate DIR``, stdout captured) a few times and reports the median. Machines are noisy, so it
also reports a ratio against a baseline on the same output: ``yaml.safe_dump`` of the generated
PrometheusRule documents (pure-Python PyYAML, as the CLI uses), measured in the same process.

    python bench/generate.py [--sizes 1000 10000] [--runs 3] [--profile]

``--profile`` runs pyinstrument (if installed) over one 1,000-SLO generation and prints where time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from sloguard.adapters.render import prometheus_rule
from sloguard.api.loader import load
from sloguard.cli import main

SLIS = [
    "    ratio: {{errors: 'http_requests_total{{job=\"svc{i}\",code=~\"5..\"}}', "
    "total: 'http_requests_total{{job=\"svc{i}\"}}'}}",
    "    ratio: {{good: 'http_requests_total{{job=\"svc{i}\",code!~\"5..\"}}', "
    "total: 'http_requests_total{{job=\"svc{i}\"}}'}}",
    "    ratioQuery: {{errorQuery: 'sum(rate(rpc_errors_total{{svc=\"{i}\"}}[{{{{.window}}}}]))', "
    "totalQuery: 'sum(rate(rpc_total{{svc=\"{i}\"}}[{{{{.window}}}}]))'}}",
    "    latency: {{histogram: 'http_request_duration_seconds_bucket{{job=\"svc{i}\"}}', threshold: 0.25}}",
    "    raw: {{errorRatioQuery: 'sum(rate(e{{svc=\"{i}\"}}[{{{{.window}}}}]))"
    " / sum(rate(t{{svc=\"{i}\"}}[{{{{.window}}}}]))'}}",
    "    boolGauge: {{selector: 'probe_success{{instance=\"svc{i}\"}}'}}",
]
EXTRAS = [
    "",
    "  budgetingMethod: Timeslices\n  timeslice: {window: 5m, target: 0.99}\n",
    "  window: 28d\n",
    "  window: month\n  timezone: Europe/Berlin\n",
    "  alerting:\n    labels: {team: t}\n    minimumTraffic: 1\n    burnRates:\n"
    "    - {severity: page, factor: 10, shortWindow: 10m, longWindow: 90m}\n"
    "    - {severity: ticket, factor: 2, shortWindow: 1h, longWindow: 3d}\n",
]


def slo_yaml(i: int) -> str:
    sli = SLIS[i % len(SLIS)].format(i=i)
    extra = EXTRAS[(i // len(SLIS)) % len(EXTRAS)]
    return (f"apiVersion: sloguard.io/v1alpha1\nkind: ServiceLevelObjective\n"
            f"metadata: {{name: slo-{i}, namespace: team-{i % 50}}}\n"
            f"spec:\n  service: svc{i}\n  objective: 99.9\n{extra}  sli:\n{sli}\n")


def write_inputs(directory: Path, n: int) -> None:
    for i in range(n):
        (directory / f"slo-{i:05d}.yaml").write_text(slo_yaml(i))


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cli_generate(directory: Path) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):  # warnings are expected
        code = main(["generate", str(directory)])
    if code != 0:
        raise SystemExit(f"sloguard generate failed with exit code {code}")
    return out.getvalue()


def bench(n: int, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_inputs(directory, n)
        result = load([str(directory)])
        assert len(result.objectives) == n and not result.errors, [str(d) for d in result.errors[:5]]
        docs = [prometheus_rule(o) for o in result.objectives]
        rules = sum(len(g["rules"]) for d in docs for g in d["spec"]["groups"])
        cli_generate(directory)  # warm-up: imports, caches
        seconds = median_seconds(lambda: cli_generate(directory), runs)
        baseline = median_seconds(lambda: yaml.safe_dump_all(docs, sort_keys=False), runs)
    return {"slos": n, "rules": rules, "seconds": seconds, "rules_per_second": rules / seconds,
            "baseline": baseline, "ratio": seconds / baseline}


def profile(n: int) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: pip install pyinstrument", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        write_inputs(Path(tmp), n)
        profiler = Profiler()
        profiler.start()
        cli_generate(Path(tmp))
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print("| SLOs | rules | seconds (median) | rules/s | ms per SLO | yaml.safe_dump baseline (s) "
          "| ratio to baseline |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        r = bench(n, args.runs)
        print(f"| {n:,} | {int(r['rules']):,} | {r['seconds']:.3f} | {r['rules_per_second']:,.0f} | "
              f"{1000 * r['seconds'] / n:.3f} | {r['baseline']:.3f} | {r['ratio']:.2f}x |", flush=True)
    if args.profile:
        profile(min(args.sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main_())

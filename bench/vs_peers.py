"""sloguard next to Sloth on equivalent SLOs: generation time, and what the rules cost Prometheus.

1. **Generation time.** Writes N Sloth SLOs (``prometheus/v1``, ten SLOs per service file) of alternating
   SLI kinds (events, raw), imports them with ``sloguard import`` (so both tools get the same objectives),
   then times ``sloth generate`` on the Sloth files and ``sloguard generate --format rules`` on the
   imported ones, pair by pair (each a fresh process: start-up counts), alternating which runs first,
   and reports each median and the median of the per-pair ratios. sloguard's modules are compiled to
   bytecode first, as ``pip install`` leaves them.

2. **Rule cost per evaluation.** One SLO over a 500-series SLI (250 instances x 2 codes), in both
   tools. A Prometheus 3 server gets three days of that history (one sample a minute), the
   recording rules' own history is backfilled with ``promtool tsdb create-blocks-from rules`` level by
   level (rules reading raw series first, then rules reading those), and every rule's expression is
   evaluated once at the end with ``stats=all``: the sum of ``totalQueryableSamples`` is what one
   evaluation cycle of that tool's rules reads. Sloth's 30-day period rule reads its own 5m recording
   over the three days that exist (not 30), so its figure is a lower bound.

    python bench/vs_peers.py [--slos 1000] [--pairs 5] [--promtool PATH] [--skip-cost] [--skip-time]

Binaries come from the shared cache (``hack/build-tools.sh sloth`` / ``prometheus3`` build or wait).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def tool_dir(target: str) -> Path:
    """The cache's bin dir for ``target`` (built, or waited for, by hack/build-tools.sh)."""
    proc = subprocess.run(["bash", str(ROOT / "hack/build-tools.sh"), target], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"hack/build-tools.sh {target} failed:\n{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def sloguard_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "sloguard", *args]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "operator")}


# --- inputs ----------------------------------------------------------------------------------------


def sloth_service(service: int, slos: range) -> dict[str, Any]:
    items = []
    for i in slos:
        if i % 2 == 0:
            sli = {"events": {
                "error_query": f'sum(rate(http_requests_total{{job="svc{i}",code=~"5.."}}[{{{{.window}}}}]))',
                "total_query": f'sum(rate(http_requests_total{{job="svc{i}"}}[{{{{.window}}}}]))'}}
        else:
            sli = {"raw": {"error_ratio_query":
                           f'sum(rate(rpc_errors_total{{svc="{i}"}}[{{{{.window}}}}])) / '
                           f'sum(rate(rpc_total{{svc="{i}"}}[{{{{.window}}}}]))'}}
        items.append({"name": f"slo-{i}", "objective": 99.9, "sli": sli, "alerting": {
            "name": f"Slo{i}Burn", "labels": {"team": f"t{i % 7}"},
            "page_alert": {"labels": {"severity": "critical"}},
            "ticket_alert": {"labels": {"severity": "warning"}}}})
    return {"version": "prometheus/v1", "service": f"svc{service}", "labels": {"owner": "bench"}, "slos": items}


def write_sloth_inputs(directory: Path, n: int, per_file: int = 10) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for f in range(0, n, per_file):
        path = directory / f"svc{f // per_file:04d}.yaml"
        path.write_text(yaml.safe_dump(sloth_service(f // per_file, range(f, min(n, f + per_file))), sort_keys=False))
        files.append(path)
    return files


def import_dir(sloth_dir: Path, out: Path) -> None:
    proc = subprocess.run(sloguard_cmd("import", "--out-dir", str(out), str(sloth_dir)), capture_output=True, text=True,
                          env=env(), check=False)
    if proc.returncode != 0:
        raise SystemExit(f"sloguard import failed:\n{proc.stderr[-3000:]}")


# --- 1. generation time ------------------------------------------------------------------------


def run_sloth(sloth: Path, files: list[Path], out: Path) -> tuple[float, float]:
    """``sloth generate -i DIR -o DIR``: every service file in one process, as ``sloguard generate DIR``."""
    out.mkdir(parents=True, exist_ok=True)
    return timed([str(sloth), "generate", "-i", str(files[0].parent), "-o", str(out)], "sloth generate")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], what: str, environ: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all threads) of one process run."""
    cpu0, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=environ, check=False)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed:\n{proc.stderr[-3000:]}")
    return wall, cpu


def run_sloguard(slo_dir: Path, out: Path, promtool: str) -> tuple[float, float]:
    return timed(sloguard_cmd("generate", "--format", "rules", "--promtool", promtool, "--out-dir", str(out),
                              str(slo_dir)),
                 "sloguard generate", env())


def count_rules(path: Path) -> int:
    total = 0
    files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
    for f in files:
        for doc in yaml.load_all(f.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if doc:
                groups = doc["spec"]["groups"] if doc.get("kind") == "PrometheusRule" else doc.get("groups", [])
                total += sum(len(g["rules"]) for g in groups)
    return total


def bench_time(sloth: Path, n: int, pairs: int, promtool: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sloguard-vs-") as tmp:
        base = Path(tmp)
        files = write_sloth_inputs(base / "sloth-in", n)
        import_dir(base / "sloth-in", base / "sloguard-in")
        imported = len(list((base / "sloguard-in").glob("*.yaml")))
        assert imported == n, f"imported {imported} of {n}"
        # sloguard as installed: pip writes every module's bytecode at install time, while this tree
        # may run with PYTHONDONTWRITEBYTECODE (then every run would compile all its modules again).
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "operator" / "sloguard")], check=True,
                       capture_output=True)
        run_sloth(sloth, files, base / "sloth-out")  # warm the page cache for both
        run_sloguard(base / "sloguard-in", base / "sloguard-out", promtool)
        sloth_times, ours, ratios, sloth_cpu, our_cpu, cpu_ratios = [], [], [], [], [], []
        for i in range(pairs):
            if i % 2 == 0:
                s, sc = run_sloth(sloth, files, base / "sloth-out")
                g, gc = run_sloguard(base / "sloguard-in", base / "sloguard-out", promtool)
            else:
                g, gc = run_sloguard(base / "sloguard-in", base / "sloguard-out", promtool)
                s, sc = run_sloth(sloth, files, base / "sloth-out")
            sloth_times.append(s)
            ours.append(g)
            ratios.append(g / s)
            sloth_cpu.append(sc)
            our_cpu.append(gc)
            cpu_ratios.append(gc / sc)
            print(f"  pair {i + 1}: sloth {s:.3f}s ({sc:.2f} CPU s)  sloguard {g:.3f}s ({gc:.2f} CPU s)  "
                  f"ratio {g / s:.2f} (CPU {gc / sc:.2f})", flush=True)
        return {"slos": n, "sloth_s": statistics.median(sloth_times), "sloguard_s": statistics.median(ours),
                "ratio": statistics.median(ratios), "sloth_cpu": statistics.median(sloth_cpu),
                "sloguard_cpu": statistics.median(our_cpu), "cpu_ratio": statistics.median(cpu_ratios),
                "sloth_rules": count_rules(base / "sloth-out"),
                "sloguard_rules": count_rules(base / "sloguard-out" / "rules.yaml")}


# --- 2. rule cost per evaluation ---------------------------------------------------------------

INSTANCES = 250  # x 2 codes = 500 series
HISTORY_MINUTES = 3 * 1440 + 120


def history_lines(end: int) -> Any:
    """Counters of 250 instances x {200, 500}: 100 requests a minute each, 1% errors."""
    yield "# TYPE http_requests counter\n"
    start = end - HISTORY_MINUTES * 60
    for inst in range(INSTANCES):
        for code, per_minute in (("200", 99), ("500", 1)):
            labels = f'{{job="bench",instance="i{inst}",code="{code}"}}'
            for m in range(HISTORY_MINUTES + 1):
                yield f"http_requests_total{labels} {per_minute * m} {start + 60 * m}\n"


def cost_slo(directory: Path) -> Path:
    spec = {"version": "prometheus/v1", "service": "bench", "slos": [{
        "name": "availability", "objective": 99.9,
        "sli": {"events": {"error_query": 'sum(rate(http_requests_total{job="bench",code=~"5.."}[{{.window}}]))',
                           "total_query": 'sum(rate(http_requests_total{job="bench"}[{{.window}}]))'}},
        "alerting": {"name": "BenchBurn", "page_alert": {"labels": {"severity": "critical"}},
                     "ticket_alert": {"labels": {"severity": "warning"}}}}]}
    path = directory / "bench-sloth.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


_RECORDED = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]+")


def levels(rules: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Recording rules by dependency depth: 0 reads raw series only, n reads rules of depth < n."""
    recorded = {r["record"] for r in rules if "record" in r}
    depth: dict[int, int] = {}

    def d(i: int) -> int:
        if i not in depth:
            used = {m for m in _RECORDED.findall(rules[i]["expr"]) if m in recorded and m != rules[i].get("record")}
            depth[i] = 1 + max((d(j) for j, r in enumerate(rules) if r.get("record") in used), default=-1)
        return depth[i]

    out: list[list[dict[str, Any]]] = []
    for i, r in enumerate(rules):
        if "record" in r:
            lvl = d(i)
            while len(out) <= lvl:
                out.append([])
            out[lvl].append(r)
    return out


def ranged_records(rules: list[dict[str, Any]]) -> set[str]:
    """Recorded metrics some rule reads over a range (``name{...}[W]``)."""
    recorded = {r["record"] for r in rules if "record" in r}
    out = set()
    for r in rules:
        for name in recorded:
            if re.search(re.escape(name) + r"(\{[^}]*\})?\[", r["expr"]):
                out.add(name)
    return out


def query_samples(url: str, expr: str, at: int) -> int:
    q = urllib.parse.urlencode({"query": expr, "time": str(at), "stats": "all"})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=120) as r:
        body = json.load(r)
    return int(body["data"]["stats"]["samples"]["totalQueryableSamples"])


def bench_cost(sloth: Path, prom_bin: Path) -> dict[str, Any]:
    os.environ["PROMETHEUS_BIN"] = str(prom_bin / "prometheus")
    os.environ["PROMTOOL_BIN"] = str(prom_bin / "promtool")
    sys.path.insert(0, str(ROOT))
    from tests.integration import promfixture  # the integration tests' own TSDB builder and server

    promfixture.PROMETHEUS = os.environ["PROMETHEUS_BIN"]
    promfixture.PROMTOOL = os.environ["PROMTOOL_BIN"]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sloguard-cost-") as tmp:
        base = Path(tmp)
        slo = cost_slo(base)
        subprocess.run([str(sloth), "generate", "-i", str(slo), "-o", str(base / "sloth-rules.yaml")], check=True,
                       capture_output=True)
        import_dir(slo, base / "imported")
        subprocess.run(sloguard_cmd("generate", "--format", "rules", "--out-dir", str(base / "sg"),
                                    str(base / "imported")), check=True, env=env(), capture_output=True)
        end = (int(time.time()) // 3600 - 3) * 3600  # in the past: imported blocks must precede the head
        server = promfixture.PrometheusServer.from_lines(history_lines(end), base / "prom", compact=False)
        server.start(timeout=300)
        try:
            for tool, path in (("sloth", base / "sloth-rules.yaml"), ("sloguard", base / "sg" / "rules.yaml")):
                rules = [r for g in yaml.safe_load(path.read_text())["groups"] for r in g["rules"]]
                ranged = ranged_records(rules)
                for depth, level in enumerate(levels(rules)):
                    # History only where another rule reads a range of it; the last 30 minutes otherwise
                    # (enough for the instant selectors of alerts and of the next level).
                    long_ = [r for r in level if r["record"] in ranged]
                    short = [r for r in level if r["record"] not in ranged]
                    for part, start in ((long_, end - HISTORY_MINUTES * 60 + 600), (short, end - 1800)):
                        if not part:
                            continue
                        name = f"{tool}-{depth}-{'long' if part is long_ else 'short'}"
                        rule_file = base / f"{name}.yaml"
                        rule_file.write_text(yaml.safe_dump({"groups": [{"name": name, "rules": part}]}))
                        out = base / f"backfill-{name}"
                        subprocess.run([os.environ["PROMTOOL_BIN"], "tsdb", "create-blocks-from", "rules",
                                        f"--start={start}", f"--end={end}", f"--url={server.url}",
                                        f"--output-dir={out}", "--eval-interval=60s", str(rule_file)],
                                       check=True, capture_output=True, timeout=3600)
                        server.stop()
                        for block in out.iterdir():
                            if block.is_dir():
                                block.rename(server.data_dir / block.name)
                        server.start(timeout=300)
                per_rule = [(r.get("record") or r.get("alert"), query_samples(server.url, r["expr"], end))
                            for r in rules]
                results[tool] = {"rules": len(rules), "samples": sum(s for _, s in per_rule), "per_rule": per_rule}
        finally:
            server.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--skip-time", action="store_true")
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--promtool", default=os.environ.get("SLOGUARD_PROMTOOL") or "promtool",
                        help="the promtool sloguard generate checks its rules with (default: $SLOGUARD_PROMTOOL, "
                        "else promtool on PATH)")
    parser.add_argument("--verbose", action="store_true", help="print every rule's sample count")
    args = parser.parse_args()
    sloth = tool_dir("sloth") / "sloth"
    if not args.skip_time:
        promtool = shutil.which(args.promtool) or args.promtool
        print(f"generation: {args.slos} SLOs, {args.pairs} pairs, sloguard checking with {promtool}", flush=True)
        r = bench_time(sloth, args.slos, args.pairs, promtool)
        print("| SLOs | Sloth rules | sloguard rules | sloth generate: wall s (CPU s) | sloguard generate: wall s "
              "(CPU s) | median ratio sloguard/Sloth: wall (CPU) |")
        print("|---:|---:|---:|---:|---:|---:|")
        print(f"| {r['slos']:,} | {r['sloth_rules']:,} | {r['sloguard_rules']:,} | {r['sloth_s']:.2f} "
              f"({r['sloth_cpu']:.2f}) | {r['sloguard_s']:.2f} ({r['sloguard_cpu']:.2f}) | {r['ratio']:.2f}x "
              f"({r['cpu_ratio']:.2f}x) |", flush=True)
    if not args.skip_cost:
        prom = tool_dir("prometheus3")
        c = bench_cost(sloth, prom)
        print("| rule set (one SLO, 500-series SLI) | rules | samples read per evaluation cycle |")
        print("|---|---:|---:|")
        for tool in ("sloth", "sloguard"):
            print(f"| {tool} | {c[tool]['rules']} | {c[tool]['samples']:,} |")
        print(f"Sloth reads {c['sloth']['samples'] / max(1, c['sloguard']['samples']):.0f}x the samples.")
        if args.verbose:
            for tool in ("sloth", "sloguard"):
                for name, s in c[tool]["per_rule"]:
                    print(f"  {tool:8} {s:>10,} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

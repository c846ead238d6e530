"""Run two rule sets over the same counters in `promtool test rules` and read back when each alert fired.

promtool has no "dump the alert timeline" mode, so each run asks one question per measure at the last
minute, over a 1-minute subquery of the firing ``ALERTS`` series, grouped by the labels being compared:

* ``first``: the earliest minute it was firing, ``last``: the latest, ``count``: how many minutes;
  an alert that fired and resolved once has ``count == last - first + 1`` and resolved at ``last + 1``.

The expectation is deliberately empty; promtool prints what it got, which is parsed. An alert that never
fires has no row. Evaluation is every minute, like the existing scenarios in tests/rules.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests import metricservers

SLOTH = Path.home() / ".cache/sloguard/sloth-v0.16.0/bin/sloth"


def promtool() -> str:
    """The selected promtool (Prometheus 3's unless ``SLOGUARD_PROMETHEUS=2``; tests/metricservers.py)."""
    return metricservers.promtool_bin()


@dataclass(frozen=True)
class Firing:
    first: int
    last: int
    count: int


_GOT = re.compile(r"(\{[^}]*\}) ([-+0-9.eE]+|NaN)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _parse_got(output: str) -> list[dict[tuple[tuple[str, str], ...], float]]:
    out = []
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("got:"):
            continue
        rows: dict[tuple[tuple[str, str], ...], float] = {}
        for labels, value in _GOT.findall(line[4:]):
            rows[tuple(sorted(_LABEL.findall(labels)))] = float(value)
        out.append(rows)
    return out


def timeline(directory: Path, rules: Path, series: dict[str, str], end_minute: int,
             by: tuple[str, ...], matchers: str = "") -> dict[tuple[tuple[str, str], ...], Firing]:
    """When the firing alerts of ``rules`` (optionally only those matching ``matchers``) fired, grouped by ``by``.

    Alerts of one group (say two tiers of one severity) are merged minute by minute before counting,
    so ``count`` is the number of minutes at least one of them was firing.
    """
    group = ", ".join(by)
    extra = f",{matchers}" if matchers else ""
    sel = f'(max by ({group}) (timestamp(ALERTS{{alertstate="firing"{extra}}})))[{end_minute}m:1m]'
    exprs = [f"min_over_time({sel}) / 60", f"max_over_time({sel}) / 60", f"count_over_time({sel})"]
    test = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in series.items()],
            "promql_expr_test": [{"expr": e, "eval_time": f"{end_minute}m", "exp_samples": []} for e in exprs],
        }],
    }
    path = directory / f"timeline-{rules.parent.name}-{rules.stem}.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=10_000))
    proc = subprocess.run([promtool(), "test", "rules", str(path)], capture_output=True, text=True, timeout=900,
                          check=False)
    output = proc.stdout + proc.stderr
    if proc.returncode == 0:  # every (empty) expectation matched: nothing fired
        return {}
    got = _parse_got(output)
    if len(got) != 3:  # something fired, so all three measures have rows; else promtool failed otherwise
        raise AssertionError(f"unexpected promtool output:\n{output}")
    firsts, lasts, counts = got
    return {k: Firing(round(firsts[k]), round(lasts[k]), round(counts[k])) for k in firsts}


def counter_notation(segments: list[tuple[int, float]]) -> str:
    """``[(1500, 600), (30, 600)]``: promtool expanding notation of a counter growing per minute by each rate.

    Same convention as tests/rules/harness.counter: samples at minutes 0 .. sum of minutes.
    """
    parts: list[str] = []
    value = 0.0
    for i, (minutes, per_minute) in enumerate(segments):
        if i == 0:
            parts.append(f"0+{per_minute:g}x{minutes}")
            value = per_minute * minutes
        else:
            parts.append(f"{value + per_minute:g}+{per_minute:g}x{minutes - 1}")
            value += per_minute * minutes
    return " ".join(parts)


def values(directory: Path, rules: Path, series: dict[str, str], minute: int, exprs: list[str]) -> list[float]:
    """The single value each expression has at ``minute`` (rules evaluated every minute up to then)."""
    test = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in series.items()],
            "promql_expr_test": [{"expr": e, "eval_time": f"{minute}m", "exp_samples": []} for e in exprs],
        }],
    }
    path = directory / f"values-{rules.parent.name}-{minute}.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=10_000))
    proc = subprocess.run([promtool(), "test", "rules", str(path)], capture_output=True, text=True, timeout=900,
                          check=False)
    output = proc.stdout + proc.stderr
    got = _parse_got(output)
    if len(got) != len(exprs) or any(len(rows) != 1 for rows in got):
        raise AssertionError(f"expected one sample per expression:\n{output}")
    return [next(iter(rows.values())) for rows in got]

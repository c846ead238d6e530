"""Helpers for the promtool scenarios: counters as promtool series *and* as numbers, a reference model.

Each scenario builds its counters once with :func:`counter`; the same values go to promtool (expanding
notation, one sample a minute from minute 0) and to the small reference model below, which computes the
long-window burn rate that the alert annotations print. The model is deliberately plain Python over
per-minute samples, written from each Prometheus version's range rule, not from our generator:

* Prometheus 3 (the default, ``promtool`` from ``hack/build-tools.sh prometheus3``): ranges are
  left-open, ``(t - d, t]``. A 5m rate at minute t sees the five samples ``t - 4 .. t``, four increments
  over 240 s, extrapolated over the missing first minute: ``(v[t] - v[t - 4]) / 240``, except that a
  counter is never extrapolated below zero: when ``v[t - 4]`` is 0 (an error counter that has not
  counted yet) the increase is not extrapolated, ``(v[t] - v[t - 4]) / 300``. A W-minute window of a
  recording holds the W samples ``t - W + 1 .. t``.
* Prometheus 2 (``SLOGUARD_PROMETHEUS=2``, Debian's 2.42): ranges are closed, ``[t - d, t]``. A 5m rate
  over six samples 1m apart is ``(v[t] - v[t - 5]) / 300`` with no extrapolation; a W-minute window
  holds the W + 1 samples ``t - W .. t``.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from tests import metricservers

from sloguard.cli import main

#: The Prometheus major version whose promtool runs the scenarios (and whose rules the model follows).
VERSION = metricservers.prometheus_version()
#: Its promtool (Prometheus 3's unless ``SLOGUARD_PROMETHEUS=2``), for every rules test.
PROMTOOL = metricservers.promtool_bin()


@dataclass(frozen=True)
class Counter:
    """A counter sampled every minute from minute 0: the promtool notation and the values it expands to."""

    notation: str
    values: tuple[float, ...]


def counter(*segments: tuple[int, float]) -> Counter:
    """``counter((1500, 0), (30, 600), (200, 0))``: 1500 minutes flat, 30 minutes of +600/min, 200 flat.

    The first segment's minutes are the increments after the sample at minute 0, so a counter of segments
    ``(n1, b1), (n2, b2)`` has samples at minutes ``0 .. n1 + n2``.
    """
    parts: list[str] = []
    values = [0.0]
    for i, (minutes, per_minute) in enumerate(segments):
        if i == 0:
            parts.append(f"0+{per_minute:g}x{minutes}")
        else:
            first = values[-1] + per_minute
            parts.append(f"{first:g}+{per_minute:g}x{minutes - 1}")
        for _ in range(minutes):
            values.append(values[-1] + per_minute)
    return Counter(" ".join(parts), tuple(values))


def rate5m(c: Counter, t: int) -> float:
    """``rate(c[5m])`` at minute ``t >= 5``: Prometheus 3 extrapolates four increments over 240 s to the
    range, Prometheus 2 has six samples exactly spanning it."""
    if VERSION >= 3:
        first, delta = c.values[t - 4], c.values[t] - c.values[t - 4]
        # Extrapolate back to the range's start (60 s before the first sample), but no further
        # than where the counter would have been zero: 240 s * first / delta.
        to_start = min(60.0, 240 * first / delta) if delta > 0 else 60.0
        return delta * (240 + to_start) / 240 / 300
    return (c.values[t] - c.values[t - 5]) / 300


def span(t: int, minutes: int) -> range:
    """The minutes whose samples a ``[minutes]`` range at minute ``t`` holds."""
    return range(t - minutes + 1 if VERSION >= 3 else t - minutes, t + 1)


def window_ratio(errors: Callable[[int], float], total: Callable[[int], float], t: int, minutes: int) -> float:
    """The generator's contract for a window: sum of 5m error rates over sum of 5m total rates.

    The 5m window is the instant ratio; a window of W minutes holds the samples :func:`span` gives.
    """
    if minutes == 5:
        return errors(t) / total(t)
    return sum(errors(s) for s in span(t, minutes)) / sum(total(s) for s in span(t, minutes))


def slice_fraction(bad: Callable[[int], bool], t: int, minutes: int) -> float:
    """Timeslices: the share of the per-minute slice flags in the window (:func:`span`) that are bad."""
    flags = span(t, minutes)
    return sum(1 for s in flags if bad(s)) / len(flags)


_VALUE = '{{ printf "%.1f" $value }}'


def generate_rules(slo_yaml: str, directory: Path) -> Path:
    """Run ``sloguard generate --format rules -o DIR`` on one SLO file; return the rule file."""
    source = directory / "slo.yaml"
    source.write_text(slo_yaml)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["generate", "--format", "rules", "--out-dir", str(directory), str(source)])
    assert code == 0, err.getvalue()
    return directory / "rules.yaml"


@dataclass
class Expect:
    """Alerts expected at one evaluation time: (slo name, severity) -> long-window burn rate."""

    minute: int
    firing: dict[tuple[str, str], float] = field(default_factory=dict)


def expected_alerts(rules_file: Path, alertname: str, expect: Expect) -> list[dict[str, Any]]:
    """promtool's exp_alerts: the generated rule's labels and annotations, with the burn value printed."""
    groups = yaml.safe_load(rules_file.read_text())["groups"]
    out = []
    for (slo, severity), burn in sorted(expect.firing.items()):
        [(group, rule)] = [(g, r) for g in groups for r in g["rules"]
                           if r.get("alert") == alertname and r["labels"]["slo"] == slo
                           and r["labels"]["severity"] == severity]
        recording = next(r for r in group["rules"] if r.get("record"))
        labels = {**rule["labels"], "slo_namespace": recording["labels"]["slo_namespace"]}
        value = f"{burn:.1f}"
        annotations = {k: v.replace(_VALUE, value) for k, v in rule["annotations"].items()}
        out.append({"exp_labels": labels, "exp_annotations": annotations})
    return out


def run_promtool(directory: Path, rules_file: Path, series: dict[str, Counter | str], alertname: str,
                 expectations: Sequence[Expect], expr_tests: Sequence[dict[str, Any]] = ()) -> None:
    """Write a promtool unit test file and run it; fail with promtool's own output."""
    test = {
        "rule_files": [rules_file.name],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": s, "values": v.notation if isinstance(v, Counter) else v}
                             for s, v in series.items()],
            "alert_rule_test": [{"eval_time": f"{e.minute}m", "alertname": alertname,
                                 "exp_alerts": expected_alerts(rules_file, alertname, e)} for e in expectations],
            "promql_expr_test": list(expr_tests),
        }],
    }
    path = directory / "test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=1000))
    proc = subprocess.run([PROMTOOL, "test", "rules", path.name], cwd=directory,
                          capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    print(output)
    assert proc.returncode == 0, f"promtool test rules failed:\n{output}"
    assert re.search(r"SUCCESS", output), output

"""Golden files: each ``*.in.yaml`` SLO and the exact output of ``sloguard generate`` for it.

``NAME.out.yaml`` is ``--format prometheusrule`` (the default), ``NAME.rules.yaml`` is ``--format rules``.
Regenerate after an intended change with ``SLOGUARD_UPDATE_GOLDEN=1`` (``make golden``) and review the diff.
Every rules file must also pass ``promtool check rules``.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from pathlib import Path

import pytest
from tests import metricservers

from sloguard.cli import main

HERE = Path(__file__).resolve().parent
INPUTS = sorted(HERE.glob("*.in.yaml"))
UPDATE = os.environ.get("SLOGUARD_UPDATE_GOLDEN") == "1"
FORMATS = {"out": "prometheusrule", "rules": "rules"}


def stem(path: Path) -> str:
    return path.name.removesuffix(".in.yaml")


def generate(path: Path, fmt: str) -> str:
    """What `sloguard generate --format FMT PATH` prints, through the CLI entry point itself."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["generate", "--format", fmt, str(path)])
    assert code == 0, err.getvalue()
    return out.getvalue()


def test_there_is_a_golden_input_for_every_sli_kind_and_feature() -> None:
    assert [stem(p) for p in INPUTS] == [
        "bool-gauge", "calendar-month", "custom-tiers", "latency", "ratio-errors", "ratio-good", "ratio-query",
        "raw", "tier-waits", "timeslices", "window-28d", "window-7d",
    ]


@pytest.mark.parametrize("suffix", sorted(FORMATS))
@pytest.mark.parametrize("source", INPUTS, ids=stem)
def test_generated_output_equals_the_golden_file(source: Path, suffix: str) -> None:
    golden = HERE / f"{stem(source)}.{suffix}.yaml"
    got = generate(source, FORMATS[suffix])
    if UPDATE:
        golden.write_text(got)
    assert golden.exists(), f"{golden.name} is missing: run `make golden`"
    assert got == golden.read_text(), f"{golden.name} differs: review, then `make golden` if intended"


def test_no_golden_output_is_left_without_an_input() -> None:
    outputs = {p.name for p in HERE.glob("*.yaml") if not p.name.endswith(".in.yaml")}
    expected = {f"{stem(p)}.{s}.yaml" for p in INPUTS for s in FORMATS}
    assert outputs == expected




@pytest.mark.parametrize("source", INPUTS, ids=stem)
def test_every_golden_rules_file_passes_promtool_check_rules(source: Path) -> None:
    golden = HERE / f"{stem(source)}.rules.yaml"
    proc = subprocess.run([metricservers.promtool_bin(), "check", "rules", str(golden)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_every_golden_prometheus_rule_passes_promtool_once_unwrapped(tmp_path: Path) -> None:
    import yaml

    for source in INPUTS:
        doc = yaml.safe_load((HERE / f"{stem(source)}.out.yaml").read_text())
        assert (doc["apiVersion"], doc["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
        assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "sloguard"
        rules = tmp_path / f"{stem(source)}.yaml"
        rules.write_text(yaml.safe_dump(doc["spec"]))
        proc = subprocess.run([metricservers.promtool_bin(), "check", "rules", str(rules)], capture_output=True,
                              text=True, timeout=60, check=False)
        assert proc.returncode == 0, f"{source.name}: {proc.stdout}{proc.stderr}"

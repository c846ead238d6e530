"""``generate`` reads and validates half of many files in a second process: the result is a plain load's.

The inputs mix what a load must find wherever it sits: invalid SLOs, warnings, unreadable YAML,
other kinds, and duplicates within each half and across the halves (the later one is the error).
"""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloguard.api.loader import LoadResult, load
from sloguard.cli import common


def slo(name: str, namespace: str = "shop", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"service": "checkout", "objective": 99.9,
                     "sli": {"ratio": {"errors": f'http_requests_total{{code="500",slo="{name}"}}',
                                       "total": "http_requests_total"}}, **spec}}


@pytest.fixture
def many(tmp_path: Path) -> Path:
    n = common.PARALLEL_FILES + 40
    for i in range(n):
        docs: list[Any] = [slo(f"s{i:03d}")]
        if i % 17 == 0:
            docs.append(slo(f"bad{i}", window="30x"))  # invalid
        if i % 23 == 0:
            docs.append(slo(f"warn{i}", objective=0.99))  # a warning (a fraction)
        if i % 31 == 0:
            docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
        (tmp_path / f"f{i:03d}.yaml").write_text(yaml.safe_dump_all(docs))
    (tmp_path / "f005-broken.yaml").write_text("a: [1, 2\n")
    (tmp_path / "f010-dup.yaml").write_text(yaml.safe_dump(slo("s003")))  # duplicate within the first half
    (tmp_path / "f200-dup.yaml").write_text(yaml.safe_dump(slo("s004")))  # across the halves
    (tmp_path / "f230-dup.yaml").write_text(yaml.safe_dump(slo("s220")))  # within the second half
    return tmp_path


def printed(result: LoadResult) -> str:
    out = io.StringIO()
    with redirect_stderr(out):
        common.report(result.diagnostics)
    return out.getvalue()


def test_two_processes_load_what_one_loads(many: Path) -> None:
    serial, parallel = load([str(many)]), common.load_on_two_cores([str(many)])
    assert parallel.objectives == serial.objectives
    assert parallel.locations == serial.locations
    assert [d.source for d in parallel.documents] == [d.source for d in serial.documents]
    assert sorted(map(str, parallel.diagnostics)) == sorted(map(str, serial.diagnostics))
    assert printed(parallel) == printed(serial)
    # and the inputs hold what the comparison is about
    messages = printed(serial)
    assert "f200-dup.yaml: ServiceLevelObjective shop/s004: metadata.name: duplicate object; first defined in " \
           f"{many / 'f004.yaml'}" in messages
    assert "f230-dup.yaml" in messages and "f010-dup.yaml" in messages and "invalid YAML" in messages
    assert "warning:" in messages and "spec.window" in messages


def test_a_missing_path_is_still_named(many: Path) -> None:
    missing = str(many / "nowhere.yaml")
    assert printed(common.load_on_two_cores([str(many), missing])) == printed(load([str(many), missing]))


def test_when_the_second_process_fails_its_half_is_loaded_here(many: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capfd: pytest.CaptureFixture[str]) -> None:
    parent, real_load = os.getpid(), common.load
    tried: list[int] = []

    def load_failing_in_the_child(paths: list[str], stdin: str | None = None) -> LoadResult:
        if os.getpid() != parent:
            raise RuntimeError("the second process fails")
        tried.append(len(paths))
        return real_load(paths, stdin)

    monkeypatch.setattr(common, "load", load_failing_in_the_child)
    parallel = common.load_on_two_cores([str(many)])
    assert tried == [len(list(many.iterdir())) - len(list(many.iterdir())) // 2]  # the second half, here
    assert parallel.objectives == real_load([str(many)]).objectives
    assert "Traceback" not in capfd.readouterr().err


def test_few_files_are_loaded_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "one.yaml").write_text(yaml.safe_dump(slo("one")))
    monkeypatch.setattr(os, "fork", None)  # a fork would fail
    assert common.load_on_two_cores([str(tmp_path)]).objectives == load([str(tmp_path)]).objectives

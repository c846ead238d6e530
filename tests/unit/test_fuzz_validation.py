"""Fuzzing `sloguard validate` and the SLO admission check: bad input is a located error, never a traceback.

Documents are the examples (SLOs, an ErrorBudgetPolicy, an SLAContract) mutated at random places:
values replaced by values of other types or by known trouble (zero durations, bidi controls, Go
template syntax, NaN, huge numbers), keys deleted or added, plus text-level damage to the YAML.
Every run goes through the real CLI entry point (promtool included) in-process, so a traceback
fails the test with the input that caused it. Bounded: a few hundred examples, well under a minute.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sloguard.api.common import printable
from sloguard.api.loader import Document
from sloguard.cli import main
from sloguard.handlers.slo import admission_diagnostics

REPO = Path(__file__).resolve().parents[2]
SEEDS: list[dict[str, Any]] = [
    d for f in sorted((REPO / "examples").glob("*.yaml"))
    for d in yaml.safe_load_all(f.read_text())
    if isinstance(d, dict) and d.get("apiVersion", "").startswith("sloguard.io/")
]
SLO_SEEDS = [d for d in SEEDS if d["kind"] == "ServiceLevelObjective"]
PROMTOOL = "/usr/bin/promtool"

#: Values known to have caused trouble, and plain values of every YAML type.
TROUBLE = st.sampled_from([
    "0s", "0m0s", "-1h", "30", "month", "", " ", "{{ range .x }}", "{{ .Labels.x", "check\u202eout", "a\u2066b",
    "x" * 300, "sum(rate(x[{{.window}}]))", "rate(x[5m]", "up{a=~\"(\"}", "Europe/Nowhere", "tier-9",
    "Timeslices", "\x00", "\t\n", "1e309", "NaN", "true", "null", "{}", "[]",
])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40), TROUBLE,
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=12), inner, max_size=3)),
                      max_leaves=6)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        path = data.draw(st.sampled_from(_paths(doc)[1:]), label="path")
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "replace", "trouble", "delete", "add"]), label="action")
        last = path[-1]
        if action == "delete" and isinstance(parent, dict):
            parent.pop(last, None)
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(min_size=1, max_size=12), label="key")] = data.draw(VALUES, label="value")
        elif action == "trouble":
            parent[last] = data.draw(TROUBLE, label="value")
        else:
            parent[last] = data.draw(VALUES, label="value")
    return doc


def _run_validate(tmp: Path, text: str) -> tuple[int, list[str]]:
    path = tmp / "objects.yaml"
    path.write_text(text, encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(["validate", "--promtool", PROMTOOL, str(path)])
    return rc, err.getvalue().splitlines()


def _dump(docs: list[Any]) -> str:
    try:
        return yaml.safe_dump_all(docs, allow_unicode=True)
    except (yaml.YAMLError, ValueError):  # e.g. a float YAML cannot write: keep the fuzz going
        return yaml.safe_dump_all(docs)


def _check_lines(rc: int, lines: list[str], parsed: list[Any], file: Path) -> None:
    """Exit 0/1, one summary, and every finding starts ``file: `` and, for named objects,
    goes on with ``[Kind ]namespace/name: field.path: message``."""
    assert rc in (0, 1)
    summary = [ln for ln in lines if re.match(r"^\d+ object\(s\) checked", ln)]
    assert len(summary) == 1, lines
    findings = [ln for ln in lines if ln not in summary]
    assert (rc == 1) == any("warning: " not in ln for ln in findings), lines
    named = all(isinstance(d, dict) and isinstance(d.get("metadata"), dict)
                and isinstance(d["metadata"].get("name"), str) and d["metadata"]["name"] for d in parsed)
    refs = [printable(Document(str(file), 0, d).ref) for d in parsed]
    for line in findings:
        assert line.startswith(f"{file}: "), f"not located in a file: {line!r}"
        if named and "invalid YAML" not in line:
            rest = [line.split(f"{ref}: ", 1)[1] for ref in refs if f"{ref}: " in line]
            assert rest and ": " in rest[0], f"no object/field path: {line!r}"


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_validate_never_raises_on_mutated_documents_and_names_file_object_and_field(
        tmp_path: Path, data: st.DataObject) -> None:
    seeds = data.draw(st.lists(st.sampled_from(SEEDS), min_size=1, max_size=3), label="seeds")
    docs = [_mutate(d, data) for d in seeds]
    text = _dump(docs)
    rc, lines = _run_validate(tmp_path, text)
    _check_lines(rc, lines, list(yaml.safe_load_all(text)), tmp_path / "objects.yaml")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_validate_never_raises_on_damaged_yaml_text(tmp_path: Path, data: st.DataObject) -> None:
    text = _dump([data.draw(st.sampled_from(SEEDS), label="seed")])
    at = data.draw(st.integers(0, len(text)), label="at")
    junk = data.draw(st.text(alphabet=st.sampled_from(list(":-{}[]'\"\n\t &*!|>%@`#,?") + ["\u202e", "é"]),
                             max_size=8), label="junk")
    cut = data.draw(st.integers(0, 20), label="cut")
    rc, lines = _run_validate(tmp_path, text[:at] + junk + text[at + cut:])
    assert rc in (0, 1)
    file = f"{tmp_path / 'objects.yaml'}: "
    assert all(ln.startswith(file) or re.match(r"^\d+ object\(s\) checked", ln) for ln in lines), lines


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_admission_check_never_raises_and_every_error_has_a_field_path(data: st.DataObject) -> None:
    body = _mutate(data.draw(st.sampled_from(SLO_SEEDS), label="seed"), data)
    diagnostics = admission_diagnostics(body, PROMTOOL if data.draw(st.booleans(), label="promtool") else None)
    for d in diagnostics:
        assert d.path, f"no field path: {d}"
        assert d.message and "Traceback" not in d.message


@pytest.mark.parametrize("window", ["0s", "0m0s", "0h0m"])
def test_a_zero_window_is_a_located_error_not_a_traceback(tmp_path: Path, window: str) -> None:
    doc = copy.deepcopy(SLO_SEEDS[0])
    doc["spec"]["window"] = window
    rc, lines = _run_validate(tmp_path, _dump([doc]))
    ref = f"{doc['metadata']['namespace']}/{doc['metadata']['name']}"
    assert rc == 1
    assert lines[0] == (f"{tmp_path / 'objects.yaml'}: ServiceLevelObjective {ref}: spec.window: "
                        f"'{window}' must be longer than zero")


def test_nan_objective_is_refused_with_its_path() -> None:
    body = copy.deepcopy(SLO_SEEDS[0])
    body["spec"]["objective"] = math.nan
    assert [d.path for d in admission_diagnostics(body)] == ["spec.objective"]

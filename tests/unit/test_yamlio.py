"""The YAML writer's fast representers emit exactly what PyYAML's own representers emit.

sloguard's dumper builds nodes for dicts, lists and strings itself (PyYAML's generic dispatch was
most of ``generate``'s dump time); the reference below is a dumper with only the string style
rule, so every other node comes from PyYAML's SafeRepresenter, emitted by the same emitter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sloguard.adapters.render import prometheus_rule, rules_file
from sloguard.api import yamlio
from sloguard.api.loader import load

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


class _Reference(yamlio._Base):  # type: ignore[misc, name-defined]
    pass


_Reference.add_representer(str, yamlio._str)


def reference(doc: Any, **kwargs: Any) -> str:
    return yaml.dump(doc, Dumper=_Reference, sort_keys=False, width=100_000, allow_unicode=True, **kwargs)


def reference_all(docs: list[Any]) -> str:
    return yaml.dump_all(docs, Dumper=_Reference, sort_keys=False, width=100_000, allow_unicode=True,
                         explicit_start=True)


def golden_objectives() -> list[Any]:
    result = load([str(p) for p in sorted(GOLDEN.glob("*.in.yaml"))])
    assert not result.errors, result.errors
    assert len(result.objectives) == len(list(GOLDEN.glob("*.in.yaml")))
    return result.objectives


def test_the_golden_rule_files_dump_as_pyyamls_representer_dumps_them() -> None:
    objectives = golden_objectives()
    doc = rules_file(objectives)
    assert yamlio.dump_yaml(doc) == reference(doc)
    docs = [prometheus_rule(o, {"prometheus": "main"}) for o in objectives]
    assert yamlio.dump_all(docs) == reference_all(docs)
    for o, d in zip(objectives, docs, strict=True):
        assert yamlio.dump_yaml(d) == reference(d), o.key


SHARED = {"team": "pay"}

ODD = {
    "empty map": {}, "empty list": [], "none": None, "true": True, "int": 3, "float": 0.999, "nan-ish": "NaN",
    "looks like a bool": "yes", "looks like a number": "1e3", "colon": "a: b", "hash": "# not a comment",
    "multi-line": "first\nsecond\n", "multi-line no end": "a\n  b", "leading space": " x", "quote": "'\"",
    "unicode": "ümlaut ✓", "long": "x" * 5000, "braces": "{{ $value }}", "star": "*alias", "dash": "- item",
    "shared twice": [SHARED, SHARED], "tuple": (1, "a"), "nested": [[{"a": ["b", {"c": "d\n"}]}], []],
    3: "int key", None: "null key",
}


@pytest.mark.parametrize("key", sorted(ODD, key=str))
def test_every_kind_of_value_dumps_as_pyyamls_representer_dumps_it(key: object) -> None:
    doc = {key: ODD[key], "after": [ODD[key]]}
    assert yamlio.dump_yaml(doc) == reference(doc)


def test_a_document_of_every_odd_value_dumps_alike_and_loads_back() -> None:
    assert yamlio.dump_yaml(ODD) == reference(ODD)
    assert yamlio.dump_all([ODD, ODD]) == reference_all([ODD, ODD])
    loaded = yaml.load(yamlio.dump_yaml(ODD), Loader=yamlio.SafeLoader)
    assert loaded["shared twice"] == [SHARED, SHARED] and loaded["multi-line"] == "first\nsecond\n"

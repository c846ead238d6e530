"""The fast YAML writer (api/yamlio) gives PyYAML's exact output, or falls back to PyYAML.

Made for `sloguard generate` speed (bench/vs_peers.py); the golden files must stay byte-identical, and
so must anything else written: checked against PyYAML on generated rules, on awkward scalars, and on
thousands of random documents.
"""

from __future__ import annotations

import random
import string
from pathlib import Path
from typing import Any

import yaml

from sloguard.adapters.render import prometheus_rule, rules_file
from sloguard.api import yamlio
from sloguard.api.importers import import_paths
from sloguard.api.loader import load

ROOT = Path(__file__).resolve().parents[2]


def pyyaml_all(docs: list[Any]) -> str:
    return yaml.dump_all(docs, Dumper=yamlio._Dumper, sort_keys=False, width=100_000, allow_unicode=True,
                         explicit_start=True)


def test_generated_rules_of_goldens_examples_and_imports_are_byte_identical_to_pyyaml() -> None:
    objectives = load([str(ROOT / "tests/golden"), str(ROOT / "examples")]).objectives
    imported = import_paths([str(ROOT / "tests/import/fixtures")]).slos  # incl. a multi-line raw query
    objectives += [s.slo.spec.to_core(s.namespace, s.name) for s in imported]
    assert len(objectives) > 20
    doc = rules_file(objectives)
    assert yamlio._fast(doc) is not None
    assert yamlio.dump_yaml(doc) == yamlio._pyyaml(doc)
    docs = [prometheus_rule(o, {"prometheus": "main"}) for o in objectives]
    assert yamlio.dump_all(docs) == pyyaml_all(docs)


AWKWARD = {
    "a": "true", "b": "1.0", "c": "", "d": "x: y", "e": "- z", "f": "multi\nline\n", "g": "  lead\nx", "h": None,
    "i": True, "j": 1, "k": 1.5, "l": {"m": [{"n": "o\np"}, {"q": []}]}, "r": [], "s": {}, "t": "'quoted'",
    "u": "#c", "v": "trail ", "w": "ü", "x": "a\tb", "y": "{{ $value }}", "z": "0.5", "seq": ["a", "b: c", "yes", None],
    "nested": [{"a": {"b": {"c": "d\ne", "c2": "trailing \n x"}}}], "null": "~", "dq": 'a"b', "bs": "a\\b",
}


def test_awkward_scalars_take_the_fast_path_and_match_pyyaml() -> None:
    assert yamlio._fast(AWKWARD) is not None
    assert yamlio.dump_yaml(AWKWARD) == yamlio._pyyaml(AWKWARD)


def test_what_the_fast_path_cannot_write_falls_back_to_pyyaml() -> None:
    for doc in ({"k" * 130: "a key PyYAML writes as '? key'"}, {"a": [[1, 2]]}, {"a": ["multi\nline"]}, [1, 2], "x"):
        assert yamlio._fast(doc) is None
        assert yamlio.dump_yaml(doc) == yamlio._pyyaml(doc)


def test_random_documents_are_written_exactly_as_pyyaml_writes_them() -> None:
    rng = random.Random(20261201)
    alphabet = string.ascii_letters + string.digits + " :-#'\"{}[],&*!|>%@`\n\t\\?äü"

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))

    def value(depth: int = 0) -> Any:
        x = rng.random()
        if depth < 3 and x < 0.2:
            return {text(): value(depth + 1) for _ in range(rng.randint(0, 3))}
        if depth < 3 and x < 0.35:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return rng.choice([text(), text(), rng.randint(-5, 5), rng.random(), None, True])

    fast = 0
    for _ in range(2000):
        doc = {text(): value() for _ in range(rng.randint(1, 4))}
        fast += yamlio._fast(doc) is not None
        assert yamlio.dump_yaml(doc) == yamlio._pyyaml(doc), repr(doc)
        assert yamlio.dump_all([doc, doc]) == pyyaml_all([doc, doc]), repr(doc)
    assert fast > 1000  # the fast path is really exercised


def _pyyaml_load(text: str) -> Any:
    try:
        return list(yaml.load_all(text, Loader=yamlio.SafeLoader))
    except yaml.YAMLError as e:
        return type(e).__name__


def _fast_load(text: str) -> Any:
    try:
        return yamlio.load_all(text)
    except yaml.YAMLError as e:
        return type(e).__name__


def test_reading_gives_what_pyyaml_gives_for_every_yaml_file_in_the_repository() -> None:
    files = [p for p in ROOT.rglob("*.y*ml") if ".git" not in p.parts]
    assert len(files) > 50
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert _fast_load(text) == _pyyaml_load(text), path


def test_reading_awkward_yaml_matches_pyyaml_including_its_errors() -> None:
    for text in ("a: &x [1, 2]\nb: *x\n", "<<: {a: 1}\nb: 2\n", "a: !!set {x, y}\n", "? [1]\n: 2\n",
                 "a: 2026-01-01\nb: 0x1f\nc: 1_000\nd: 1:30\ne: .inf\nf: ~\ng: yes\nh: on\ni: '1'\nj: !!str 1\n",
                 "a: [b", "---\n---\na: 1\n...\n", "a: |\n  x\n  y\n"):
        assert _fast_load(text) == _pyyaml_load(text), text


def test_reading_random_documents_matches_pyyaml() -> None:
    rng = random.Random(7)
    words = ["a", "1", "1.5", "true", "no", "null", "~", "2026-01-01", "0x10", "'q'", '"d"', "x y", "-1", ".nan"]
    for _ in range(500):
        lines = []
        for i in range(rng.randint(1, 6)):
            value = rng.choice(words + [f"[{rng.choice(words)}, {rng.choice(words)}]",
                                        f"{{k: {rng.choice(words)}}}"])
            lines.append(f"k{i}: {value}")
        text = "\n".join(lines) + "\n"
        assert _fast_load(text) == _pyyaml_load(text), text


def test_strings_judged_plain_are_exactly_what_pyyaml_writes_unquoted() -> None:
    rng = random.Random(11)
    alphabet = string.printable[:95]
    candidates = ["a:b", "a: b", "a #b", "a#b", "yes", "Yes", "null", "ok:", "x ", "(a)", "_x", "a,b", "a{b}",
                  "on", "OFF", "true", "e1", "sum(rate(x{a=\"b\"}[5m])) / 2"]
    candidates += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 15))) for _ in range(20000)]
    judged = 0
    for text in candidates:
        if yamlio._plain(text):
            judged += 1
            assert yamlio._pyyaml({"k": text}) == f"k: {text}\n", text
            assert yamlio._pyyaml({text: 0}) == f"{text}: 0\n", text
    assert judged > 1000

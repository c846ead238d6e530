"""The YAML writer emits exactly what PyYAML's own representers and emitter emit.

sloguard writes the block layout of its documents itself, with every scalar either in a style two
rules decide (plain, single-quoted) or formatted by PyYAML, and PyYAML writes any document outside
that layout (see ``sloguard.api.yamlio``). Before that, its dumper built nodes for dicts, lists and
strings itself. The reference below is a dumper with only the string style rule (multi-line
strings as literal blocks), so every node comes from PyYAML's SafeRepresenter and every byte from
its emitter. Random documents (hypothesis) cover what the odd values below do not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    3: "int key", None: "null key", "k" * 200: "a key too long to be simple", "a\x85b": "a key over two lines",
    "": "empty key", 0.5: "float key", "zero": 0.0, "negative zero": -0.0, "one": 1, "true one": True,
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


def test_the_rule_file_of_every_golden_slo_is_written_by_the_layout_not_by_the_fallback() -> None:
    # Otherwise the byte comparisons above would prove only the fallback (PyYAML itself).
    objectives = golden_objectives()
    for doc in (rules_file(objectives), *(prometheus_rule(o, {"prometheus": "main"}) for o in objectives)):
        writer = yamlio._Writer()
        writer.document(doc)
        assert "".join(writer.out) == reference(doc)


@pytest.mark.parametrize(("text", "written"), [
    ("sum(rate(x{job=\"a\",code=~\"5..\"}[5m]))", "sum(rate(x{job=\"a\",code=~\"5..\"}[5m]))"),
    ("_under", "_under"), ("a:b", "a:b"), ("a #b", "'a #b'"), ("x: y", "'x: y'"), ("it's: so", "'it''s: so'"),
    (" lead: x", "' lead: x'"), ("{{ $value }}: now", "'{{ $value }}: now'"), ("end:", None), ("end ", None),
    ("Yes", None), ("NULL", None), ("nULL", None), ("y", None), ("5m", None), ("14.4", None), ("-x", None),
    ("'q'", None), ("", None), ("tab\tx", None), ("ümlaut", None), ("two\nlines", None),
])
def test_the_two_style_rules_know_only_what_they_are_sure_of(text: str, written: str | None) -> None:
    assert yamlio._string_text(text) == written
    if written is not None:  # and what they know is what PyYAML writes, as a value and as a key
        assert reference({"k": text}) == f"k: {written}\n"
        assert reference({text: 0}) == f"{written}: 0\n"


def test_every_string_the_rules_know_loads_back_as_itself() -> None:
    for text in ("a #b", "x: 'y'", "(a): b", "z:  #", "it's: so"):
        written = yamlio._string_text(text)
        assert written is not None and yaml.load(f"k: {written}\n", Loader=yamlio.SafeLoader) == {"k": text}


# --- random documents ----------------------------------------------------------------------------

#: Characters that decide a scalar's style: indicators, quotes, blanks, line breaks of every kind,
#: control and non-ASCII characters, and plain letters and digits so words and numbers appear.
_CHARS = st.sampled_from(list("abyYnNoOtTfFlLuUeE01589._-:#?,[]{}&*!|>'\"%@`~=<+ \t\n\r")
                         + ["\x85", "\u2028", "\ufeff", "\x07", "\xa0", "ü", "✓", "\U0001f600"])
_WORDISH = st.sampled_from(["yes", "No", "TRUE", "off", "null", "~", "", "0x1f", "1:30", "2001-12-14", "=",
                            "<<", ".inf", "-.5", "1e3", "0o17", "---", "...", "- a", "? a", ": a", "# a"])
_TEXT = st.one_of(st.text(_CHARS, max_size=12), _WORDISH, st.builds(lambda a, b: a + b, _WORDISH, st.text(_CHARS)),
                  st.text(max_size=8))
_SCALAR = st.one_of(_TEXT, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none())
_KEY = st.one_of(_TEXT, st.integers(), st.booleans(), st.none(), st.floats())
#: Mostly the layout sloguard writes itself (mappings, lists of scalars and mappings), now and then
#: what PyYAML writes whole (a list in a list; and any scalar PyYAML writes over several lines).
_DOC = st.recursive(_SCALAR, lambda children: st.one_of(
    st.dictionaries(_KEY, children, max_size=4),
    st.lists(st.one_of(_SCALAR, st.dictionaries(_KEY, children, max_size=4)), max_size=4),
    st.lists(children, max_size=3)), max_leaves=25)
_ROOT = st.dictionaries(_KEY, _DOC, min_size=1, max_size=5)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ROOT)
def test_random_documents_are_written_byte_for_byte_as_pyyaml_writes_them(doc: dict[Any, Any]) -> None:
    assert yamlio.dump_yaml(doc) == reference(doc)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ROOT, min_size=1, max_size=3))
def test_random_streams_are_written_byte_for_byte_as_pyyaml_writes_them(docs: list[dict[Any, Any]]) -> None:
    assert yamlio.dump_all(docs) == reference_all(docs)


_RULE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries({"alert": _RULE_TEXT, "expr": _RULE_TEXT},
                                      optional={"for": _RULE_TEXT,
                                                "labels": st.dictionaries(_RULE_TEXT, _RULE_TEXT, max_size=3),
                                                "annotations": st.dictionaries(_RULE_TEXT, _RULE_TEXT, max_size=3)}),
                min_size=1, max_size=4))
def test_rule_groups_of_any_text_are_written_as_pyyaml_writes_them_and_load_back(rules: list[Any]) -> None:
    doc = {"groups": [{"name": "g", "rules": rules}]}
    text = yamlio.dump_yaml(doc)
    assert text == reference(doc)
    assert yaml.load(text, Loader=yamlio.SafeLoader) == doc


# --- reading -------------------------------------------------------------------------------------

#: PyYAML's own safe loader (libyaml's parser when present): what SafeLoader must read alike.
_PYYAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

YAML_TEXTS = [
    "a: 1\nb: [yes, No, ~, null, '', 0o17, 0x1F, 1_000, 1:30, .inf, -.NaN, 2001-12-14, 2001-12-14t21:59:43.10-05:00]\n",
    "plain: text\nquoted: 'yes'\ndouble: \"1.5\"\nexplicit: !!str 12\nint: !!int '7'\nbin: !!binary aGk=\n",
    "base: &b {x: 1, y: [1, 2]}\nother:\n  <<: *b\n  y: 3\nsame: *b\nlist: &l [a, b]\nagain: *l\n",
    "merge:\n  <<: [{a: 1}, {b: 2}]\n  c: 3\nset: !!set {a, b}\nomap: !!omap [a: 1, b: 2]\npairs: !!pairs [a: 1]\n",
    "literal: |\n  line one\n  line two\nfolded: >\n  folded\n  text\nkeep: |+\n  kept\n\n"
    "null key:\n? complex\n: value\n",
    "---\nfirst: 1\n...\n---\n- second\n- {flow: map, with: [seq]}\n---\n",
    "=: value\n~: tilde key\n1: int key\n1.5: float key\ntrue: bool key\n2001-12-14: date key\n",
    "repeated: 1\nrepeated: [2]\nflow: {a: 1, a: 2, 'b': x}\nmixed: {a: 1, 2: b, null: c}\n",
    "unicode: ümlaut ✓ 😀\nescape: \"tab\\tnewline\\nbell\\a\"\nemoji key 😀: v\n",
    "spec:\n  sli:\n    ratioQuery:\n      errorQuery: sum(rate(x{code=~\"5..\"}[{{.window}}]))\n"
    "      totalQuery: sum(rate(x[{{.window}}]))\n",
]


@pytest.mark.parametrize("text", YAML_TEXTS)
def test_reading_builds_the_objects_pyyamls_safe_loader_builds(text: str) -> None:
    ours = list(yaml.load_all(text, Loader=yamlio.SafeLoader))
    assert ours == list(yaml.load_all(text, Loader=_PYYAML_LOADER))
    assert [type(x) for x in ours] == [type(x) for x in yaml.load_all(text, Loader=_PYYAML_LOADER)]


def test_aliases_read_as_the_same_object_as_pyyaml_reads_them() -> None:
    doc = yaml.load(YAML_TEXTS[2], Loader=yamlio.SafeLoader)
    assert doc["same"] is doc["base"] and doc["again"] is doc["list"]
    assert doc["other"] == {"x": 1, "y": 3}
    recursive = yaml.load("a: &a [*a]\n", Loader=yamlio.SafeLoader)
    assert recursive["a"][0] is recursive["a"]


@pytest.mark.parametrize("text", [
    "a: [1, 2\n", "a: b: c\n", "- a\nb: c\n", "a: !!int x\n", "a: *missing\n", "{[1]: 2}\n", "? [a]\n: b\n",
    "a: !!python/object:os.system x\n", "\t- tab\n", "a: 'unterminated\n", "a: !!timestamp 2001-99-99\n",
])
def test_bad_yaml_fails_as_pyyamls_safe_loader_fails(text: str) -> None:
    with pytest.raises(Exception) as theirs:
        list(yaml.load_all(text, Loader=_PYYAML_LOADER))
    with pytest.raises(Exception) as ours:
        list(yaml.load_all(text, Loader=yamlio.SafeLoader))
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_the_golden_inputs_read_as_pyyaml_reads_them() -> None:
    for path in sorted(GOLDEN.glob("*.yaml")):
        text = path.read_text()
        assert list(yaml.load_all(text, Loader=yamlio.SafeLoader)) == list(yaml.load_all(text, Loader=_PYYAML_LOADER))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ROOT, st.sampled_from([{}, {"default_flow_style": True}, {"default_style": '"'}, {"default_style": "'"},
                               {"canonical": True}, {"width": 20}]))
def test_random_documents_read_back_as_pyyaml_reads_them(doc: dict[Any, Any], style: dict[str, Any]) -> None:
    try:
        text = yaml.dump(doc, Dumper=yaml.SafeDumper, allow_unicode=True, **style)
    except yaml.YAMLError:
        return  # a style PyYAML itself cannot write this document in
    theirs = yaml.load(text, Loader=_PYYAML_LOADER)
    ours = yaml.load(text, Loader=yamlio.SafeLoader)
    assert repr(ours) == repr(theirs)  # repr: NaN is not equal to itself

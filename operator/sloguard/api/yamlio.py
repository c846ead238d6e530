"""YAML in and out: output in one style everywhere (block style, keys in order, long PromQL on one
line); input read by PyYAML's safe loader (libyaml's parser when present)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

#: libyaml's C emitter when present (4-5x faster on thousands of SLOs), same output otherwise.
_Base: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
#: PyYAML's safe loader, libyaml's parser when present (what :class:`SafeLoader` reads with).
_LoaderBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SafeLoader(_LoaderBase):  # type: ignore[misc]
    """PyYAML's safe loader with two of its steps memoised or made direct; the same objects.

    Reading 1,000 SLO files spent a third of its time in two Python steps of PyYAML called for
    every scalar: the implicit tag of a plain scalar (regexes tried in turn) and the dispatch to
    the constructor of a string. A plain scalar's tag depends on its text alone when there are
    no path resolvers (the safe loader has none), so it is looked up once per distinct text; a
    string node's object is its value (``SafeConstructor.construct_yaml_str``), so it is returned
    directly, and a mapping whose keys are all strings is built in one pass. Everything else is
    PyYAML's own code; tests/unit/test_yamlio.py compares the objects, and the errors, with
    PyYAML's safe loader.
    """

    _plain_tags: dict[str, str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0] and type(value) is str and not self.yaml_path_resolvers:
            tag = self._plain_tags.get(value)
            if tag is None:
                if len(self._plain_tags) > _CACHE_MAX:
                    self._plain_tags.clear()
                tag = self._plain_tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        if node.tag == _STR and type(node) is yaml.ScalarNode:
            return node.value
        return super().construct_object(node, deep)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        # Keys that are all strings: no merge (<<) or value (=) key for flatten_mapping to handle,
        # and every key hashable; the pairs in order, a repeated key's last value winning, as there.
        if type(node) is yaml.MappingNode and all(type(k) is yaml.ScalarNode and k.tag == _STR for k, _ in node.value):
            return {k.value: self.construct_object(v, deep) for k, v in node.value}
        return super().construct_mapping(node, deep)


class _Dumper(_Base):  # type: ignore[misc]
    pass


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar(_STR, value, style=style)


# Generated output is hundreds of thousands of strings in dicts and lists. PyYAML's generic
# dispatch (type lookup, alias bookkeeping per scalar) was most of the dump's time, the libyaml
# emitter the rest. These representers build the very nodes SafeRepresenter.represent_dict/list
# and _str build (same tags, block style, keys in insertion order), making string children
# directly; anything else goes through the usual dispatch. tests/unit/test_yamlio.py holds the
# output byte-identical to the plain representer's.


def _child(dumper: yaml.SafeDumper, value: Any) -> yaml.Node:
    if type(value) is str:
        return yaml.ScalarNode(_STR, value, style="|" if "\n" in value else None)
    return dumper.represent_data(value)


def _dict(dumper: yaml.SafeDumper, value: dict[Any, Any]) -> yaml.MappingNode:
    node = yaml.MappingNode(_MAP, [], flow_style=dumper.default_flow_style)
    if dumper.alias_key is not None:  # as represent_mapping: a dict seen twice becomes an alias
        dumper.represented_objects[dumper.alias_key] = node
    node.value = [(_child(dumper, k), _child(dumper, v)) for k, v in value.items()]
    return node


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    node = yaml.SequenceNode(_SEQ, [], flow_style=dumper.default_flow_style)
    if dumper.alias_key is not None:
        dumper.represented_objects[dumper.alias_key] = node
    node.value = [_child(dumper, v) for v in value]
    return node


_Dumper.add_representer(str, _str)
_Dumper.add_representer(dict, _dict)
_Dumper.add_representer(list, _list)


def _pyyaml(doc: Any) -> str:
    return str(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=100_000, allow_unicode=True))


def _pyyaml_all(docs: list[Any]) -> str:
    return str(yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, width=100_000, allow_unicode=True,
                             explicit_start=True))


# --- block layout written directly, every scalar PyYAML's --------------------------------------------
# Even with libyaml's emitter, writing 15,000 rules spent most of its time in PyYAML's Python side
# (an event per node, each scalar's implicit tag resolved twice). Generated documents are block
# mappings and sequences of plain strings, so the layout (``key: value``, ``- `` items, two spaces
# per level, sequences in mappings not indented: PyYAML's block style) is written here, and so is
# a string whose style two rules decide (``_string_text``). Every other scalar (numbers, booleans,
# null, other strings) is formatted by PyYAML itself, once per distinct value, in the same context
# (a mapping key, a mapping value). A document the layout does
# not cover is written by PyYAML whole: a root that is not a non-empty mapping, a sequence directly
# in a sequence, an object reachable twice (PyYAML writes an anchor), a type other than dict, list,
# str, int, float, bool and None (subclasses included), a key PyYAML writes as ``? key``, a
# multi-line scalar that is not a literal block (or is one in a sequence), a string longer than
# _LONG (PyYAML folds lines past the 100,000th column), nesting deeper than Python recurses.
# tests/unit/test_yamlio.py holds the bytes equal to PyYAML's on the golden set, odd values and
# random documents (hypothesis).


class _Fallback(Exception):
    """This document is outside the layout written here: PyYAML writes it."""


#: What the two rules of ``_string_text`` know, from the emitter's scalar analysis (libyaml's
#: ``yaml_emitter_analyze_scalar``, PyYAML's ``Emitter.analyze_scalar``) and PyYAML's implicit
#: resolvers, for a string of printable ASCII on one line:
#:
#: - it is written **plain** when it starts with a letter, ``_`` or ``(`` (no leading indicator,
#:   number, timestamp, ``=`` or ``<<``), has no ``: `` or `` #`` inside and no ``:`` or space at the
#:   end (no block indicator or trailing space), and is not a YAML 1.1 bool or null word (the only
#:   implicit types a letter can start; ``_WORDS``, compared case-insensitively to be safe);
#: - it is written **single-quoted**, each quote doubled, when ``: `` or `` #`` is in it: a block
#:   indicator rules the plain style out and nothing rules single quotes out (no line break, no
#:   special character), and nothing is folded this far from the 100,000th column.
#:
#: Any other string is formatted by PyYAML itself.
_PLAIN_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_(")
_WORDS = frozenset(["yes", "no", "true", "false", "on", "off", "null", "y", "n"])
#: A document with a longer string is written by PyYAML (it folds lines past the 100,000th column).
_LONG = 50_000
_SCALARS = (str, int, float, bool, type(None))
#: Line breaks in YAML besides ``\n``, which libyaml writes as they are.
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029]")
#: Texts of scalars already written (one line each), shared by every dump: generated output repeats
#: the same keys, label values and windows thousands of times. Strings by themselves, other
#: scalars by (type, repr): 1 and True, 0.0 and -0.0 are equal keys of a dict but not the same text.
_KEY_TEXT: dict[Any, str] = {}
_VALUE_TEXT: dict[Any, str] = {}
_CACHE_MAX = 200_000


def _string_text(text: str) -> str | None:
    """How PyYAML writes ``text`` in block context when the rules above know it; else None."""
    if len(text) > _LONG:
        raise _Fallback
    if not text or not (text.isascii() and text.isprintable()):
        return None
    if ": " in text or " #" in text:
        return "'" + text.replace("'", "''") + "'"
    if text[0] in _PLAIN_FIRST and text[-1] not in ": " and not (len(text) <= 5 and text.lower() in _WORDS):
        return text
    return None


def _key_text(key: Any) -> str:
    """``key`` as a simple key (the text before ``:``), as PyYAML writes it."""
    kind = type(key)
    if kind not in _SCALARS:
        raise _Fallback
    memo = key if kind is str else (kind, repr(key))
    text = _KEY_TEXT.get(memo)
    if text is None:
        text = _string_text(key) if kind is str and len(key) < 128 else None
        if text is None:
            dumped = _pyyaml({key: 0})
            if dumped.startswith("? ") or not dumped.endswith(": 0\n") or dumped.count("\n") != 1:
                raise _Fallback
            text = dumped[:-4]
            if _OTHER_BREAKS.search(text):
                raise _Fallback
        if len(_KEY_TEXT) > _CACHE_MAX:
            _KEY_TEXT.clear()
        _KEY_TEXT[memo] = text
    return text


def _value_text(value: Any, indent: int) -> str:
    """``value`` as written after ``key: `` in a mapping at ``indent``, as PyYAML writes it."""
    kind = type(value)
    if kind not in _SCALARS:
        raise _Fallback
    memo = value if kind is str else (kind, repr(value))
    text = _VALUE_TEXT.get(memo)
    if text is not None:
        return text
    text = _string_text(value) if kind is str else None
    if text is None:
        dumped = _pyyaml({"k": value})
        text = dumped[3:-1]
        if not dumped.startswith("k: ") or dumped.endswith("...\n"):
            raise _Fallback
        if _OTHER_BREAKS.search(text):
            raise _Fallback  # lines broken where the layout cannot see it (libyaml writes U+2028 as is)
        if "\n" in text:
            if text[0] != "|" or "+" in text.split("\n", 1)[0]:
                # a quoted scalar over several lines, or a literal block keeping its final line
                # breaks (PyYAML then ends the document with "..."): its layout is PyYAML's
                raise _Fallback
            # a literal block: its lines are indented two more than the mapping holding it
            head, *lines = text.split("\n")
            pad = " " * indent
            return "\n".join([head, *(pad + line if line else line for line in lines)])
    if len(_VALUE_TEXT) > _CACHE_MAX:
        _VALUE_TEXT.clear()
    _VALUE_TEXT[memo] = text
    return text


class _Writer:
    """Documents in PyYAML's block style; raises _Fallback outside the layout."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.seen: set[int] = set()  # ids of the dicts and lists written: a second visit is an alias

    def mapping(self, d: dict[Any, Any], indent: int, first: str) -> None:
        """Entries at ``indent``; the first line starts with ``first`` (``- `` after a sequence's dash)."""
        out, seen, keys, values = self.out, self.seen, _KEY_TEXT, _VALUE_TEXT
        pad = " " * indent
        lead = first
        for k, v in d.items():
            key = keys.get(k) if type(k) is str else None
            if key is None:
                key = _key_text(k)
            kind = type(v)
            if kind is str:
                text = values.get(v)
                out.append(f"{lead}{key}: {_value_text(v, indent) if text is None else text}\n")
            elif kind is dict or kind is list:
                if id(v) in seen:
                    raise _Fallback
                seen.add(id(v))
                if not v:
                    out.append(f"{lead}{key}: {'{}' if kind is dict else '[]'}\n")
                elif kind is dict:
                    out.append(f"{lead}{key}:\n")
                    self.mapping(v, indent + 2, pad + "  ")
                else:
                    out.append(f"{lead}{key}:\n")
                    self.sequence(v, indent)
            else:
                out.append(f"{lead}{key}: {_value_text(v, indent)}\n")
            lead = pad

    def sequence(self, items: list[Any], indent: int) -> None:
        dash = " " * indent + "- "
        for item in items:
            kind = type(item)
            if kind is dict:
                if id(item) in self.seen:
                    raise _Fallback
                self.seen.add(id(item))
                if item:
                    self.mapping(item, indent + 2, dash)
                else:
                    self.out.append(dash + "{}\n")
            elif kind is list:
                raise _Fallback
            else:
                text = _value_text(item, indent + 2)
                if "\n" in text:
                    raise _Fallback
                self.out.append(f"{dash}{text}\n")

    def document(self, doc: Any, start: str = "") -> None:
        if type(doc) is not dict or not doc or id(doc) in self.seen:
            raise _Fallback
        self.seen.add(id(doc))
        if start:
            self.out.append(start)
        self.mapping(doc, 0, "")


def dump_yaml(doc: Any) -> str:
    """``doc`` as block-style YAML, keys in order, exactly as PyYAML writes it (see ``_Writer``)."""
    writer = _Writer()
    try:
        writer.document(doc)
    except (_Fallback, RecursionError):
        return _pyyaml(doc)
    return "".join(writer.out)


def dump_all(docs: Iterable[Any]) -> str:
    """A stream of documents, each after ``---``, exactly as PyYAML's ``dump_all`` writes it."""
    docs = list(docs)
    writer = _Writer()
    try:
        for doc in docs:
            writer.document(doc, "---\n")
    except (_Fallback, RecursionError):
        return _pyyaml_all(docs)
    return "".join(writer.out)

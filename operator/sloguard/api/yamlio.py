"""YAML output in one style everywhere: block style, keys in order, long PromQL on one line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

#: libyaml's C emitter when present (4-5x faster on thousands of SLOs), same output otherwise.
_Base: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(_Base):  # type: ignore[misc, valid-type]
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _pyyaml(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=100_000, allow_unicode=True)


# --- a fast path with PyYAML's own output --------------------------------------------------------
# PyYAML's representer runs in Python even with libyaml, and was 80% of `sloguard generate` for
# thousands of rules. Generated documents are block mappings and sequences of a few thousand distinct
# scalars, so the layout is written here and every scalar is formatted *by PyYAML* once (memoised) in the
# same context (a mapping key, or a mapping value). Anything else (a sequence in a sequence, a key PyYAML
# would write as "? key", a multi-line scalar in a sequence) falls back to PyYAML for the whole document;
# tests compare both paths byte for byte.


class _Fallback(Exception):
    pass


#: Strings PyYAML certainly writes plain (unquoted) in block context: printable ASCII starting with a
#: letter, ``_`` or ``(``; no ": ", " #", trailing ":" or space; not a YAML 1.1 bool or null word.
#: (The other strings are formatted by PyYAML itself.)
_SURELY_PLAIN = re.compile(r"[A-Za-z_(][ -~]{0,2000}")
_WORDS = frozenset(["yes", "no", "true", "false", "on", "off", "null", "y", "n"])


def _plain(text: str) -> bool:
    return (_SURELY_PLAIN.fullmatch(text) is not None and ": " not in text and " #" not in text
            and text[-1] not in ": " and text.lower() not in _WORDS)


_KEYS: dict[tuple[type, Any], str] = {}
_VALUES: dict[tuple[type, Any], str] = {}


def _key(key: Any) -> str:
    if type(key) is str and len(key) < 128 and _plain(key):
        return key
    memo = (type(key), key)
    text = _KEYS.get(memo)
    if text is None:
        if isinstance(key, dict | list):
            raise _Fallback
        dumped = _pyyaml({key: 0})
        if not dumped.endswith(": 0\n") or dumped.count("\n") != 1 or dumped.startswith("? "):
            raise _Fallback
        text = _KEYS[memo] = dumped[: -len(": 0\n")]
    return text


def _value(value: Any, indent: int) -> str:
    """The text after ``key: ``; continuation lines of a block scalar shifted to ``indent``."""
    if isinstance(value, dict | list):
        if value:
            raise _Fallback
        return "{}" if isinstance(value, dict) else "[]"
    if type(value) is str and _plain(value):
        return value
    memo = (type(value), value)
    text = _VALUES.get(memo)
    if text is None:
        dumped = _pyyaml({"k": value})
        if not dumped.startswith("k: "):
            raise _Fallback
        text = dumped[3:-1]
        if text[:1] in "|>" and "+" in text.split("\n")[0] or dumped.endswith("...\n"):
            raise _Fallback  # "keep" chomping leaves the document open-ended: PyYAML adds "..." markers
        _VALUES[memo] = text
    if "\n" in text:
        pad = " " * indent
        text = "\n".join([text.split("\n")[0]] + [pad + line if line else line for line in text.split("\n")[1:]])
    return text


_BLOCKS: dict[tuple[int, tuple[tuple[Any, Any], ...]], str] = {}


def _flat_block(d: dict[Any, Any], indent: int) -> str:
    """A mapping of scalars (rule labels, say: the same few recur on every rule) written once per indent."""
    memo = (indent, tuple(d.items()))
    text = _BLOCKS.get(memo)
    if text is None:
        out: list[str] = []
        _mapping(d, indent, out)
        if len(_BLOCKS) > 100_000:
            _BLOCKS.clear()
        text = _BLOCKS[memo] = "".join(out)
    return text


def _mapping(d: dict[Any, Any], indent: int, out: list[str], first: str | None = None) -> None:
    for i, (k, v) in enumerate(d.items()):
        pad = first if i == 0 and first is not None else " " * indent
        if isinstance(v, dict) and v:
            out.append(f"{pad}{_key(k)}:\n")
            if all(type(x) is str for x in v.values()):
                out.append(_flat_block(v, indent + 2))
            else:
                _mapping(v, indent + 2, out)
        elif isinstance(v, list) and v:
            out.append(f"{pad}{_key(k)}:\n")
            _sequence(v, indent, out)
        else:
            out.append(f"{pad}{_key(k)}: {_value(v, indent)}\n")


def _sequence(items: list[Any], indent: int, out: list[str]) -> None:
    for item in items:
        if isinstance(item, dict) and item:
            _mapping(item, indent + 2, out, first=" " * indent + "- ")
        elif isinstance(item, list) and item:
            raise _Fallback
        else:
            text = _value(item, indent + 2)
            if "\n" in text:
                raise _Fallback
            out.append(f"{' ' * indent}- {text}\n")


def _fast(doc: Any) -> str | None:
    if not isinstance(doc, dict) or not doc:
        return None
    out: list[str] = []
    try:
        _mapping(doc, 0, out)
    except _Fallback:
        return None
    return "".join(out)


def dump_yaml(doc: Any) -> str:
    fast = _fast(doc)
    return fast if fast is not None else _pyyaml(doc)


def dump_all(docs: Iterable[Any]) -> str:
    docs = list(docs)
    parts = []
    for doc in docs:
        fast = _fast(doc)
        if fast is None:  # one document PyYAML must write: let it write the stream (document end markers)
            return yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, width=100_000, allow_unicode=True,
                                 explicit_start=True)
        parts.append("---\n" + fast)
    return "".join(parts)


# --- a fast path for reading, with PyYAML's own result -------------------------------------------
# libyaml parses, but PyYAML resolves every plain scalar's tag with regexes and builds objects in
# Python, which was most of reading thousands of SLO files. Tags are memoised (the same scalars recur in
# every file) and the common tags (str, map, seq) are built directly; everything else (ints, floats,
# timestamps...) goes through PyYAML's own constructor, and a document with aliases, merge keys, other
# collection tags or unhashable keys is built entirely by PyYAML. Tests compare both paths.

_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


class _Loader(SafeLoader):  # type: ignore[misc, valid-type]
    _tags: dict[tuple[str, tuple[bool, bool]], str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and isinstance(value, str) and implicit is not None:
            key = (value, tuple(implicit))
            tag = self._tags.get(key)  # type: ignore[arg-type]
            if tag is None:
                if len(self._tags) > 100_000:
                    self._tags.clear()
                tag = self._tags[key] = super().resolve(kind, value, implicit)  # type: ignore[index]
            return tag
        return str(super().resolve(kind, value, implicit))


def _build(node: Any, loader: Any, seen: set[int]) -> Any:
    if id(node) in seen:  # an alias: PyYAML shares the object (and allows cycles)
        raise _Fallback
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        return node.value if node.tag == _STR else loader.construct_object(node, deep=True)
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_build(child, loader, seen) for child in node.value]
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
        out = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise _Fallback
            key = _build(key_node, loader, seen)
            try:
                hash(key)
            except TypeError:
                raise _Fallback from None
            out[key] = _build(value_node, loader, seen)
        return out
    raise _Fallback


def load_all(text: str) -> list[Any]:
    """Every document of ``text``, as ``yaml.load_all(text, Loader=SafeLoader)`` gives them."""
    loader = _Loader(text)
    docs = []
    try:
        while loader.check_node():
            node = loader.get_node()
            try:
                docs.append(_build(node, loader, set()))
            except _Fallback:
                docs.append(loader.construct_document(node))
    finally:
        loader.dispose()
    return docs

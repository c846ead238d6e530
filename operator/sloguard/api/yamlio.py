"""YAML output in one style everywhere: block style, keys in order, long PromQL on one line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

#: libyaml's C emitter when present (4-5x faster on thousands of SLOs), same output otherwise.
_Base: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def dump_yaml(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=100_000, allow_unicode=True)


def dump_all(docs: Iterable[Any]) -> str:
    return yaml.dump_all(list(docs), Dumper=_Dumper, sort_keys=False, width=100_000, allow_unicode=True,
                         explicit_start=True)

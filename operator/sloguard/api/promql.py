"""PromQL checks the CRD schema cannot express, with promql-parser (the Rust parser's bindings)."""

from __future__ import annotations

import promql_parser

from ..core.sli import has_window_placeholder, render_window


def parse_error(expr: str) -> str | None:
    """None when ``expr`` parses, else the parser's message."""
    try:
        promql_parser.parse(expr)
    except (ValueError, TypeError) as e:  # the binding raises ValueError with the parser message
        return str(e) or "does not parse"
    return None


def selector_error(expr: str, *, forbid_labels: tuple[str, ...] = ()) -> str | None:
    """None when ``expr`` is a plain vector selector such as ``m{a="b"}``."""
    err = parse_error(expr)
    if err:
        return f"not valid PromQL: {err}"
    node = promql_parser.parse(expr)
    if not isinstance(node, promql_parser.VectorSelector):
        return "must be a series selector such as metric{label=\"value\"}, not an expression " \
               "(sloguard wraps it in rate() for each window)"
    if node.offset is not None or node.at is not None:
        return "must not use offset or @"
    names = {m.name for m in node.matchers.matchers} if node.matchers else set()
    for label in forbid_labels:
        if label in names:
            return f"must not match on {label!r}: sloguard adds that matcher itself"
    return None


def template_error(template: str) -> str | None:
    """None when the Sloth-style template has ``{{.window}}`` and parses once rendered."""
    if not has_window_placeholder(template):
        return "must contain {{.window}} where the range goes, e.g. rate(x[{{.window}}])"
    err = parse_error(render_window(template, "5m"))
    return f"not valid PromQL once {{{{.window}}}} is 5m: {err}" if err else None

"""``sloguard validate``: every problem with file, object and field path; exit 1 on errors."""

from __future__ import annotations

import argparse
import sys

from ..api.loader import load
from .common import (
    EXIT_FINDINGS,
    add_paths_argument,
    add_promtool_argument,
    read_stdin_if_asked,
    report,
    rule_check_diagnostics,
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("validate", help="check sloguard objects in files",
                       description="Validate sloguard objects: schema, cross-field rules, PromQL. "
                       "Warnings are printed but do not fail. The rules valid SLOs would generate are "
                       "checked by promtool check rules, as Prometheus loads them.")
    add_paths_argument(p, "sloguard objects")
    add_promtool_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = load(args.paths, read_stdin_if_asked(args.paths))
    result.diagnostics.extend(rule_check_diagnostics(result, args.promtool))
    validators = _other_kind_validators()
    for validate in validators:
        result.diagnostics.extend(validate(result.documents))
    errors = report(result.diagnostics)
    warnings = len(result.diagnostics) - errors
    checked = sum(1 for d in result.documents if isinstance(d.body, dict) and
                  str(d.body.get("apiVersion", "")).startswith("sloguard.io/"))
    print(f"{checked} object(s) checked: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return EXIT_FINDINGS if errors else 0


def _other_kind_validators() -> list:  # type: ignore[type-arg]
    """Validators of ErrorBudgetPolicy and SLAContract documents, where those kinds exist."""
    out = []
    import importlib

    for module, attr in (("sloguard.api.policy", "validate_documents"),
                         ("sloguard.api.sla_loader", "validate_documents")):
        try:
            out.append(getattr(importlib.import_module(module), attr))
        except (ModuleNotFoundError, AttributeError):
            continue
    return out

"""Helpers shared by CLI commands: printing diagnostics and Prometheus settings errors consistently."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ..adapters.promtool import ENV_VAR, PromtoolUnavailable, find_promtool, rule_diagnostics
from ..api.common import Diagnostic
from ..api.loader import LoadResult, load
from ..core.model import Objective
from ..core.rules import RuleGroup, make_rule_groups

if TYPE_CHECKING:  # the Prometheus client is imported only by the commands that read it
    from ..adapters.prometheus_client import PrometheusSettings


def report(diagnostics: Iterable[Diagnostic]) -> int:
    """Print findings to stderr (errors first); return how many were errors."""
    diags = sorted(diagnostics, key=lambda d: (d.severity != "error", d.source, d.object, d.path))
    for d in diags:
        print(str(d), file=sys.stderr)
    return sum(1 for d in diags if d.severity == "error")


def add_promtool_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--promtool", metavar="PATH", default=None,
                        help="promtool used to check the generated rules with Prometheus' own validation "
                        f"(default: ${ENV_VAR}, else promtool on PATH; required)")


def rule_check_diagnostics(result: LoadResult, promtool: str | None,
                           groups: Mapping[str, Sequence[RuleGroup]] | None = None) -> list[Diagnostic]:
    """Prometheus' own verdict (``promtool check rules``) on the rules of every valid SLO, located.

    The same check the operator runs before applying: an alert template Go cannot parse is an
    error here with the file, the object and the field it came from.
    """
    if not result.objectives:
        return []
    try:
        found = rule_diagnostics(result.objectives, find_promtool(promtool), groups)
    except PromtoolUnavailable as e:
        return [Diagnostic("error", str(e), source="promtool")]
    return [d.located(**result.locations.get(key, {})) for key, diags in found.items() for d in diags]


def load_slos_or_none(command: str, paths: list[str], *, check_rules: bool = False,
                      promtool: str | None = None,
                      groups: dict[str, list[RuleGroup]] | None = None) -> list[Objective] | None:
    """SLOs from files for a generating command; None (after printing why) when it must stop.

    ``check_rules``: also run Prometheus' rule validation over what would be generated.
    ``groups``: filled with every SLO's rule groups by key, built once for the check and the output.
    """
    stdin = sys.stdin.read() if "-" in paths else None
    result = load(paths, stdin)
    if groups is not None and not result.errors:
        groups.update((o.key, make_rule_groups(o)) for o in result.objectives)
    if check_rules and not result.errors:
        result.diagnostics.extend(rule_check_diagnostics(result, promtool, groups))
    if report(result.diagnostics):
        return None
    if not result.objectives:
        print(f"sloguard {command}: no ServiceLevelObjective found in the given paths", file=sys.stderr)
        return None
    return result.objectives


def prometheus_settings(command: str, args: object, required: bool = True) -> PrometheusSettings | None:
    """The connection from ``--prometheus*`` flags over ``SLOGUARD_PROMETHEUS_*``; None (after
    printing one line saying which flag is wrong) when the command must stop."""
    from ..adapters.prometheus_client import PrometheusSettingsError, settings_from_args

    try:
        settings = settings_from_args(args)
    except PrometheusSettingsError as e:
        print(f"sloguard {command}: {e}", file=sys.stderr)
        return None
    if required and not settings.url:
        print(f"sloguard {command}: give --prometheus URL (or SLOGUARD_PROMETHEUS_URL)", file=sys.stderr)
        return None
    return settings

"""``sloguard generate``: SLO files -> PrometheusRule objects or plain Prometheus rule files."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from ..adapters.render import prometheus_rule, rules_file
from ..core.model import Objective
from ..core.rules import RuleGroup
from .common import (
    EXIT_FINDINGS,
    UsageError,
    add_out_dir_argument,
    add_output_argument,
    add_paths_argument,
    add_promtool_argument,
    dumps,
    dumps_all,
    load_slos_or_none,
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("generate", help="generate Prometheus rules from SLO files",
                       description="Turn ServiceLevelObjective files into recording and multiwindow "
                       "multi-burn-rate alert rules.")
    add_paths_argument(p, "ServiceLevelObjectives")
    p.add_argument("--format", choices=("prometheusrule", "rules"), default="prometheusrule",
                   help="prometheus-operator PrometheusRule objects (default) or a plain rule file")
    add_output_argument(p, ("yaml", "json"), "yaml")
    add_out_dir_argument(p, "one file per SLO (or rules.yaml)")
    p.add_argument("--rule-label", action="append", default=[], metavar="KEY=VALUE",
                   help="label for the PrometheusRule (what your Prometheus ruleSelector matches); repeatable")
    p.add_argument("--dashboards", action="store_true",
                   help='also emit Grafana dashboards (per SLO and an overview) as ConfigMaps labelled '
                   'grafana_dashboard: "1" for the Grafana sidecar')
    add_promtool_argument(p)
    p.set_defaults(func=run)


def parse_labels(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--rule-label expects KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    # A one-shot batch: what it allocates lives until the output is written, so the cyclic
    # collector would only re-walk a growing heap (a quarter of the dump time for 1,000 SLOs).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return generate(args)
    finally:
        if enabled:
            gc.enable()


def generate(args: argparse.Namespace) -> int:
    labels = parse_labels(args.rule_label)
    groups: dict[str, list[RuleGroup]] = {}  # built once: checked by promtool, then written
    ext = "json" if args.output == "json" else "yaml"
    files: list[tuple[str, str]] = []  # (file name, text), or ("", text) for stdout

    def render(objectives: list[Objective]) -> None:
        """The output's text, written while promtool checks the rules; kept only if it accepts them."""
        if args.format == "rules":
            files.append((f"rules.{ext}" if args.out_dir else "", dumps(rules_file(objectives, groups), args.output)))
            return
        named = [(f"{o.namespace}.{o.name}", prometheus_rule(o, labels, groups=groups[o.key])) for o in objectives]
        if args.dashboards:
            from ..adapters.dashboards import all_dashboards, configmap  # only when asked: start-up time

            named += [(f"dashboard.{stem}", configmap(d, f"sloguard-dashboard-{stem.replace('.', '-')}"))
                      for stem, d in all_dashboards(objectives)]
        if args.out_dir:
            files.extend((f"{stem}.{ext}", dumps(doc, args.output)) for stem, doc in named)
        else:
            files.append(("", dumps_all((doc for _, doc in named), args.output)))

    objectives = load_slos_or_none("generate", args.paths, check_rules=True, promtool=args.promtool, groups=groups,
                                   meanwhile=render)
    if objectives is None:
        return EXIT_FINDINGS
    if args.out_dir:
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files:
            (out / name).write_text(text)
    else:
        for _, text in files:
            sys.stdout.write(text)
    return 0

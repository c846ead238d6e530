"""``sloguard generate``: SLO files -> PrometheusRule objects or plain Prometheus rule files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..adapters.render import prometheus_rule, rules_file
from ..api.yamlio import dump_all, dump_yaml
from .common import add_promtool_argument, load_slos_or_none


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("generate", help="generate Prometheus rules from SLO files",
                       description="Turn ServiceLevelObjective files into recording and multiwindow "
                       "multi-burn-rate alert rules.")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help="SLO YAML files or directories ('-' for stdin)")
    p.add_argument("--format", choices=("prometheusrule", "rules"), default="prometheusrule",
                   help="prometheus-operator PrometheusRule objects (default) or a plain rule file")
    p.add_argument("-o", "--output-dir", metavar="DIR", help="write one file per SLO (or rules.yaml) here "
                   "instead of stdout")
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
            raise SystemExit(f"sloguard generate: --rule-label expects KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    labels = parse_labels(args.rule_label)
    objectives = load_slos_or_none("generate", args.paths, check_rules=True, promtool=args.promtool)
    if objectives is None:
        return 1
    if args.format == "rules":
        text = dump_yaml(rules_file(objectives))
        if args.output_dir:
            out = Path(args.output_dir)
            out.mkdir(parents=True, exist_ok=True)
            (out / "rules.yaml").write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    named = [(f"{o.namespace}.{o.name}", prometheus_rule(o, labels)) for o in objectives]
    if args.dashboards:
        from ..adapters.dashboards import all_dashboards, configmap  # only when asked: start-up time

        named += [(f"dashboard.{stem}", configmap(d, f"sloguard-dashboard-{stem.replace('.', '-')}"))
                  for stem, d in all_dashboards(objectives)]
    if args.output_dir:
        out = Path(args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        for stem, doc in named:
            (out / f"{stem}.yaml").write_text(dump_yaml(doc))
    else:
        sys.stdout.write(dump_all(doc for _, doc in named))
    return 0

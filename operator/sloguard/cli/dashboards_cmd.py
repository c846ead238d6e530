"""``sloguard dashboards``: SLO files -> Grafana dashboards (JSON, or ConfigMaps for the sidecar)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..adapters.dashboards import all_dashboards, configmap
from ..api.yamlio import dump_all, dump_yaml
from .common import load_slos_or_none


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("dashboards", help="generate Grafana dashboards from SLO files",
                       description="A dashboard per SLO (SLI vs objective, budget remaining, burn rates, "
                       "alerts) and an overview, reading sloguard's recording rules.")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help="SLO YAML files or directories ('-' for stdin)")
    p.add_argument("-o", "--output-dir", metavar="DIR", help="write one file per dashboard here instead of stdout")
    p.add_argument("--configmap", action="store_true",
                   help='emit ConfigMaps labelled grafana_dashboard: "1" for the Grafana sidecar')
    p.add_argument("--namespace", metavar="NS", help="namespace of the ConfigMaps (default: none set)")
    p.add_argument("--folder", metavar="NAME", help="Grafana folder (grafana_folder annotation on ConfigMaps)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    objectives = load_slos_or_none("dashboards", args.paths)
    if objectives is None:
        return 1
    dashboards = all_dashboards(objectives)
    if args.configmap:
        docs = [configmap(d, f"sloguard-dashboard-{stem.replace('.', '-')}", args.namespace, args.folder)
                for stem, d in dashboards]
        if args.output_dir:
            out = Path(args.output_dir)
            out.mkdir(parents=True, exist_ok=True)
            for (stem, _), doc in zip(dashboards, docs, strict=True):
                (out / f"{stem}.yaml").write_text(dump_yaml(doc))
        else:
            sys.stdout.write(dump_all(docs))
        return 0
    if args.output_dir:
        out = Path(args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        for stem, d in dashboards:
            (out / f"{stem}.json").write_text(json.dumps(d, indent=2, sort_keys=True) + "\n")
    else:
        json.dump([d for _, d in dashboards], sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    return 0

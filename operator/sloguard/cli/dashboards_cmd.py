"""``sloguard dashboards``: SLO files -> Grafana dashboards (JSON, or ConfigMaps for the sidecar)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..adapters.dashboards import all_dashboards, configmap
from .common import (
    EXIT_FINDINGS,
    add_out_dir_argument,
    add_output_argument,
    add_paths_argument,
    dumps,
    dumps_all,
    load_slos_or_none,
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("dashboards", help="generate Grafana dashboards from SLO files",
                       description="A dashboard per SLO (SLI vs objective, budget remaining, burn rates, "
                       "alerts) and an overview, reading sloguard's recording rules.")
    add_paths_argument(p, "ServiceLevelObjectives")
    add_output_argument(p, ("json", "yaml"), None, "json; yaml with --configmap")
    add_out_dir_argument(p, "one file per dashboard (or ConfigMap)")
    p.add_argument("--configmap", action="store_true",
                   help='emit ConfigMaps labelled grafana_dashboard: "1" for the Grafana sidecar')
    p.add_argument("--namespace", metavar="NS", help="namespace of the ConfigMaps (default: none set)")
    p.add_argument("--folder", metavar="NAME", help="Grafana folder (grafana_folder annotation on ConfigMaps)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    objectives = load_slos_or_none("dashboards", args.paths)
    if objectives is None:
        return EXIT_FINDINGS
    dashboards = all_dashboards(objectives)
    # ConfigMaps are Kubernetes objects: YAML unless JSON is asked for; dashboards are Grafana's JSON
    fmt = args.output or ("yaml" if args.configmap else "json")
    docs = ([configmap(d, f"sloguard-dashboard-{stem.replace('.', '-')}", args.namespace, args.folder)
             for stem, d in dashboards] if args.configmap else [d for _, d in dashboards])
    if args.out_dir:
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for (stem, _), doc in zip(dashboards, docs, strict=True):
            (out / f"{stem}.{'yaml' if fmt == 'yaml' else 'json'}").write_text(
                dumps(doc, fmt) if fmt == "yaml" else json.dumps(doc, indent=2, sort_keys=True) + "\n")
    elif fmt == "yaml":
        sys.stdout.write(dumps_all(docs, "yaml"))
    else:
        json.dump(docs, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    return 0


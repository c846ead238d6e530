"""``sloguard dashboards``: SLO files -> Grafana dashboards (JSON, or ConfigMaps for the sidecar)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..adapters.dashboards import all_dashboards, configmap, shared_detail_dashboard, shared_overview_dashboard
from .common import (
    EXIT_FINDINGS,
    UsageError,
    add_out_dir_argument,
    add_output_argument,
    dumps,
    dumps_all,
    load_slos_or_none,
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("dashboards", help="generate Grafana dashboards from SLO files",
                       description="A dashboard per SLO (SLI vs objective, budget remaining, burn rates, "
                       "alerts) and an overview, reading sloguard's recording rules; or, with --shared, the "
                       "two dashboards that serve every SLO ($namespace/$slo variables), no files needed.")
    p.add_argument("--shared", action="store_true",
                   help="the shared SLO overview and SLO detail dashboards (what the chart ships) instead of "
                   "per-SLO ones")
    p.add_argument("paths", nargs="*", metavar="FILE|DIR|-",
                   help="ServiceLevelObjectives: files or directories of YAML, '-' for stdin (none with --shared)")
    add_output_argument(p, ("json", "yaml"), None, "json; yaml with --configmap")
    add_out_dir_argument(p, "one file per dashboard (or ConfigMap)")
    p.add_argument("--configmap", action="store_true",
                   help='emit ConfigMaps labelled grafana_dashboard: "1" for the Grafana sidecar')
    p.add_argument("--namespace", metavar="NS", help="namespace of the ConfigMaps (default: none set)")
    p.add_argument("--folder", metavar="NAME", help="Grafana folder (grafana_folder annotation on ConfigMaps)")
    p.set_defaults(func=run)


def _dashboards(args: argparse.Namespace) -> list[tuple[str, dict[str, object]]] | None:
    if args.shared:
        if args.paths:
            raise UsageError("--shared takes no SLO files: the shared dashboards serve every SLO")
        return [("slo-overview", shared_overview_dashboard()), ("slo-detail", shared_detail_dashboard())]
    if not args.paths:
        raise UsageError("give SLO files or directories ('-' for stdin), or --shared")
    objectives = load_slos_or_none("dashboards", args.paths)
    return None if objectives is None else all_dashboards(objectives)


def run(args: argparse.Namespace) -> int:
    dashboards = _dashboards(args)
    if dashboards is None:
        return EXIT_FINDINGS
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


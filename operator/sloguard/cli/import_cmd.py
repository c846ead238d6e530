"""``sloguard import``: Sloth, Pyrra and OpenSLO files -> ServiceLevelObjective YAML.

Every SLO that can be carried is written; each one that cannot is refused with one line naming the
file, the object, the field and why, and the exit code is 1. Lossy mappings are printed as warnings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..api.importers import FORMATS, import_paths
from .common import (
    EXIT_FINDINGS,
    add_out_dir_argument,
    add_output_argument,
    add_paths_argument,
    dumps,
    dumps_all,
    read_stdin_if_asked,
    report,
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("import", help="convert Sloth, Pyrra or OpenSLO SLOs into ServiceLevelObjectives",
                       description="Convert Sloth (prometheus/v1, sloth.slok.dev/v1), Pyrra (pyrra.dev/v1alpha1) "
                       "and OpenSLO (openslo/v1, openslo/v1alpha) SLOs into sloguard ServiceLevelObjectives. "
                       "SLOs that cannot be carried are refused (exit 1); the others are still written.")
    add_paths_argument(p, "Sloth, Pyrra or OpenSLO SLOs")
    p.add_argument("--from", dest="fmt", choices=FORMATS, default="auto",
                   help="input format (default: recognised per document)")
    p.add_argument("--namespace", metavar="NS", help="namespace of every imported SLO (default: the peer "
                   "object's, else 'default')")
    add_output_argument(p, ("yaml", "json"), "yaml")
    add_out_dir_argument(p, "one file per SLO (NAMESPACE.NAME.yaml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = import_paths(args.paths, args.fmt, args.namespace, read_stdin_if_asked(args.paths))
    if args.out_dir:
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for slo in result.slos:
            (out / f"{slo.namespace}.{slo.name}.{args.output}").write_text(dumps(slo.document(), args.output))
    elif result.slos:
        sys.stdout.write(dumps_all((slo.document() for slo in result.slos), args.output))
    refused = report(result.diagnostics)
    print(f"sloguard import: {len(result.slos)} SLO(s) written, {refused} refused", file=sys.stderr)
    return EXIT_FINDINGS if refused or not result.slos else 0

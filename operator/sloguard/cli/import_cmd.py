"""``sloguard import``: Sloth, Pyrra and OpenSLO files -> ServiceLevelObjective YAML.

Every SLO that can be carried is written; each one that cannot is refused with one line naming the
file, the object, the field and why, and the exit code is 1. Lossy mappings are printed as warnings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..api.importers import FORMATS, import_paths
from ..api.yamlio import dump_all, dump_yaml
from .common import report


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("import", help="convert Sloth, Pyrra or OpenSLO SLOs into ServiceLevelObjectives",
                       description="Convert Sloth (prometheus/v1, sloth.slok.dev/v1), Pyrra (pyrra.dev/v1alpha1) "
                       "and OpenSLO (openslo/v1, openslo/v1alpha) SLOs into sloguard ServiceLevelObjectives. "
                       "SLOs that cannot be carried are refused (exit 1); the others are still written.")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR|-", help="peer files or directories ('-' for stdin)")
    p.add_argument("--from", dest="fmt", choices=FORMATS, default="auto",
                   help="input format (default: recognised per document)")
    p.add_argument("--namespace", metavar="NS", help="namespace of every imported SLO (default: the peer "
                   "object's, else 'default')")
    p.add_argument("-o", "--output-dir", metavar="DIR", help="write one file per SLO (NAMESPACE.NAME.yaml) "
                   "here instead of a multi-document stream on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stdin = sys.stdin.read() if "-" in args.paths else None
    result = import_paths(args.paths, args.fmt, args.namespace, stdin)
    if args.output_dir:
        out = Path(args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        for slo in result.slos:
            (out / f"{slo.namespace}.{slo.name}.yaml").write_text(dump_yaml(slo.document()))
    elif result.slos:
        sys.stdout.write(dump_all(slo.document() for slo in result.slos))
    refused = report(result.diagnostics)
    print(f"sloguard import: {len(result.slos)} SLO(s) written, {refused} refused", file=sys.stderr)
    return 1 if refused or not result.slos else 0

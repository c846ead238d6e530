"""``sloguard export --to openslo``: ServiceLevelObjectives -> OpenSLO v1 (the way out)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..api.exporters.openslo import export_slo
from ..api.loader import load
from ..api.slo import SLOSpec
from ..api.yamlio import dump_all, dump_yaml
from ..core import conventions as c
from .common import report


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("export", help="write ServiceLevelObjectives in another format (OpenSLO v1)",
                       description="Export ServiceLevelObjectives as OpenSLO v1 SLOs with the SLI and the alert "
                       "policy inline; `sloguard import` reads them back to the same objectives.")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR|-")
    p.add_argument("--to", choices=("openslo",), required=True, help="output format")
    p.add_argument("-o", "--output-dir", metavar="DIR", help="one file per SLO here instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stdin = sys.stdin.read() if "-" in args.paths else None
    result = load(args.paths, stdin)
    if report(result.diagnostics):
        return 1
    docs = []
    for doc in result.documents:
        body = doc.body
        if not (isinstance(body, dict) and body.get("apiVersion") == c.API_VERSION and body.get("kind") == c.KIND_SLO):
            continue
        meta = body.get("metadata") or {}
        ns, name = str(meta.get("namespace") or "default"), str(meta["name"])
        docs.append((f"{ns}.{name}", export_slo(ns, name, SLOSpec.model_validate(body["spec"]))))
    if not docs:
        print("sloguard export: no ServiceLevelObjective found in the given paths", file=sys.stderr)
        return 1
    if args.output_dir:
        out = Path(args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        for stem, exported in docs:
            (out / f"{stem}.openslo.yaml").write_text(dump_yaml(exported))
    else:
        sys.stdout.write(dump_all(doc for _, doc in docs))
    return 0

"""``sloguard export --to openslo``: ServiceLevelObjectives -> OpenSLO v1 (the way out)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..api.exporters.openslo import export_slo
from ..api.loader import load
from ..api.slo import SLOSpec
from ..core import conventions as c
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
    p = sub.add_parser("export", help="write ServiceLevelObjectives in another format (OpenSLO v1)",
                       description="Export ServiceLevelObjectives as OpenSLO v1 SLOs with the SLI and the alert "
                       "policy inline; `sloguard import` reads them back to the same objectives.")
    add_paths_argument(p, "ServiceLevelObjectives")
    p.add_argument("--to", choices=("openslo",), required=True, help="the other format")
    add_output_argument(p, ("yaml", "json"), "yaml")
    add_out_dir_argument(p, "one file per SLO")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = load(args.paths, read_stdin_if_asked(args.paths))
    if report(result.diagnostics):
        return EXIT_FINDINGS
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
        return EXIT_FINDINGS
    if args.out_dir:
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for stem, doc in docs:
            (out / f"{stem}.openslo.{args.output}").write_text(dumps(doc, args.output))
    else:
        sys.stdout.write(dumps_all((doc for _, doc in docs), args.output))
    return 0

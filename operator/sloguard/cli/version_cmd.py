"""``sloguard version``: the version, alone on a line (also ``sloguard --version``)."""

from __future__ import annotations

import argparse

from .. import __version__


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("version", help="print the version", description="Print sloguard's version.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(f"sloguard {__version__}")
    return 0

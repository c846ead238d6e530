"""The ``sloguard`` command: generate | validate | import | export | budget | sla | report | impact |
dashboards | gate | run | dev | completion | version. Installed twice: ``sloguard`` and ``kubectl-sloguard`` (so
``kubectl sloguard ...`` runs it as a kubectl plugin).

Each subcommand lives in its own module exposing ``add_parser(subparsers)`` and ``run(args)``;
this module only wires them, so a command that needs heavy imports (kopf, the Prometheus
client) costs nothing to the others. A command stops by raising a
:class:`~sloguard.cli.common.CommandError`; :func:`main` prints it on one line and exits with
its code (the table in :mod:`sloguard.cli.common` and docs/cli.md).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .. import __version__
from .common import CommandError

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = ("generate", "validate", "import_cmd", "export_cmd", "budget_cmd", "sla_cmd", "report_cmd",
            "impact_cmd", "dashboards_cmd", "gate_cmd", "run_cmd", "dev_cmd", "completion_cmd", "version_cmd")
#: Command name -> module: running one command imports only its module (start-up time).
MODULE_OF = {"generate": "generate", "validate": "validate", "import": "import_cmd", "export": "export_cmd",
             "budget": "budget_cmd", "sla": "sla_cmd", "report": "report_cmd", "impact": "impact_cmd",
             "dashboards": "dashboards_cmd",
             "gate": "gate_cmd", "run": "run_cmd", "dev": "dev_cmd", "completion": "completion_cmd",
             "version": "version_cmd"}


def prog_name() -> str:
    """``kubectl sloguard`` when kubectl runs us as its plugin (``kubectl-sloguard``), else ``sloguard``."""
    return "kubectl sloguard" if os.path.basename(sys.argv[0]).startswith("kubectl-sloguard") else "sloguard"


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog_name(),
        description="Service levels made real: SLO rules, live error budgets, budget policies, SLA contracts.",
    )
    parser.add_argument("--version", action="version", version=f"sloguard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # Given the command line, only the named command's module is imported; without it, all of them.
    command = next((a for a in argv or () if not a.startswith("-")), None)
    # `completion` describes every command, so it needs them all
    for name in (MODULE_OF[command],) if command in MODULE_OF and command != "completion" else COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandError as e:
        name = " ".join(n for n in (args.command, getattr(args, "sla_command", None)) if n)
        print(f"sloguard {name}: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers shared by CLI commands: exit codes, output formats, inputs (files, ``-``, the cluster),
printing diagnostics and Prometheus settings errors consistently.

One exit-code table for every command (docs/cli.md):

====  =====================================================================================
0     done (figures printed, files written, release admitted)
1     findings: invalid objects, nothing found to work on, a release held, SLOs refused
2     usage: a wrong flag, argument, time or connection setting (argparse's own code too)
3     could not reach something: the Kubernetes API server or Prometheus (unreachable, TLS,
      credentials, tenant, a query it refused)
====  =====================================================================================
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..adapters.promtool import ENV_VAR, PendingRuleCheck, PromtoolUnavailable, find_promtool
from ..api.common import Diagnostic
from ..api.loader import LoadResult, expand_paths, load, load_documents, merge, read_documents
from ..core import conventions as c
from ..core.model import Objective
from ..core.rules import RuleGroup, make_rule_groups

if TYPE_CHECKING:  # the Prometheus client is imported only by the commands that read it
    from ..adapters.prometheus import PrometheusSettings
    from ..api.loader import Document

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class CommandError(Exception):
    """Stops a command: ``sloguard`` prints ``sloguard COMMAND: message`` and exits with ``code``."""

    code = EXIT_FINDINGS


class Findings(CommandError):
    """The inputs were read but hold nothing usable (invalid, none of the kind asked for)."""


class UsageError(CommandError):
    """A flag, argument or setting is wrong."""

    code = EXIT_USAGE


class Unreachable(CommandError):
    """The API server or Prometheus could not be reached or refused us."""

    code = EXIT_UNREACHABLE


def prometheus_failure(e: Exception) -> CommandError:
    """A Prometheus error as the command's stop: wrong settings are usage (2), the rest is the
    server not answering what was asked (3: unreachable, TLS, credentials, tenant, query refused)."""
    from ..adapters.prometheus import PrometheusSettingsError

    return UsageError(str(e)) if isinstance(e, PrometheusSettingsError) else Unreachable(str(e))


# --- output ------------------------------------------------------------------------------------------

def add_output_argument(parser: argparse.ArgumentParser, choices: tuple[str, ...], default: str | None,
                        default_text: str = "") -> None:
    """``-o/--output FORMAT``: always a format, never a place (that is ``--out-dir``)."""
    parser.add_argument("-o", "--output", choices=choices, default=default,
                        help=f"output format (default {default_text or default})")


def add_out_dir_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--out-dir", metavar="DIR", help=f"write {what} into DIR instead of stdout")


def dumps(data: Any, fmt: str, *, allow_nan: bool = True) -> str:
    """``data`` as JSON (indented) or YAML (block style), ending with a newline."""
    if fmt == "yaml":
        from ..api.yamlio import dump_yaml

        return dump_yaml(data)
    return json.dumps(data, indent=2, allow_nan=allow_nan) + "\n"


def dumps_all(docs: Iterable[Any], fmt: str) -> str:
    """Several documents: a YAML stream (``---`` between them) or one JSON list."""
    if fmt == "yaml":
        from ..api.yamlio import dump_all

        return dump_all(docs)
    return json.dumps(list(docs), indent=2) + "\n"


# --- inputs ------------------------------------------------------------------------------------------

def add_paths_argument(parser: argparse.ArgumentParser, what: str, *, optional: bool = False) -> None:
    parser.add_argument("paths", nargs="*" if optional else "+", metavar="FILE|DIR|-",
                        help=f"{what}: files or directories of YAML, '-' for stdin"
                        + (" (or --from-cluster)" if optional else ""))


def read_stdin_if_asked(paths: Iterable[str]) -> str | None:
    """Standard input, read once, when ``-`` is among ``paths``."""
    return sys.stdin.read() if "-" in paths else None


def add_cluster_arguments(parser: argparse.ArgumentParser, kinds: str) -> None:
    """``--from-cluster`` (the live objects instead of, or beside, files) and where the cluster is."""
    parser.add_argument("--from-cluster", action="store_true",
                        help=f"read the {kinds} from the cluster (every namespace unless -n)")
    parser.add_argument("-n", "--namespace", dest="cluster_namespace", metavar="NS", default=None,
                        help="with --from-cluster: only this namespace")
    add_kube_arguments(parser)


def add_kube_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", metavar="FILE", default=None,
                        help="kubeconfig file (default: $KUBECONFIG, else ~/.kube/config; in a Pod its account)")
    parser.add_argument("--context", metavar="NAME", default=None, help="kubeconfig context (default: current)")


def read_inputs(args: argparse.Namespace, kinds: tuple[str, ...]) -> tuple[list[Document], list[Diagnostic]]:
    """Documents from the paths (``-`` is stdin) and, with ``--from-cluster``, the live ``kinds``."""
    from ..api.loader import read_documents

    paths = list(args.paths)
    if not paths and not getattr(args, "from_cluster", False):
        raise UsageError("give FILE|DIR|- or --from-cluster")
    docs, diags = read_documents(paths, read_stdin_if_asked(paths)) if paths else ([], [])
    if getattr(args, "from_cluster", False):
        from .cluster import cluster_documents

        docs = [*docs, *cluster_documents(kinds, args.cluster_namespace, args.kubeconfig, args.context)]
    return docs, diags


def inputs_named(args: argparse.Namespace) -> str:
    """Where :func:`read_inputs` looked, for "nothing found in ..." messages."""
    return " ".join([*args.paths, *(["the cluster"] if args.from_cluster else [])])


def report(diagnostics: Iterable[Diagnostic]) -> int:
    """Print findings to stderr (errors first); return how many were errors."""
    diags = sorted(diagnostics, key=lambda d: (d.severity != "error", d.source, d.object, d.path))
    for d in diags:
        print(str(d), file=sys.stderr)
    return sum(1 for d in diags if d.severity == "error")


def read_objectives(args: Any) -> list[Objective] | None:
    """The ServiceLevelObjectives of the command's inputs (files, stdin or ``--from-cluster``).

    Findings are printed; None when any is an error. Raises :class:`Findings` when there is none.
    """
    docs, read_diags = read_inputs(args, (c.KIND_SLO,))
    loaded = load_documents(docs, read_diags)
    if report(loaded.diagnostics):
        return None
    if not loaded.objectives:
        raise Findings(f"no ServiceLevelObjective found in {inputs_named(args)}")
    return list(loaded.objectives)


def add_promtool_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--promtool", metavar="PATH", default=None,
                        help="promtool used to check the generated rules with Prometheus' own validation "
                        f"(default: ${ENV_VAR}, else promtool on PATH; required)")


def rule_check_diagnostics(result: LoadResult, promtool: str | None,
                           groups: Mapping[str, Sequence[RuleGroup]] | None = None,
                           meanwhile: Callable[[], None] | None = None) -> list[Diagnostic]:
    """Prometheus' own verdict (``promtool check rules``) on the rules of every valid SLO, located.

    The same check the operator runs before applying: an alert template Go cannot parse is an
    error here with the file, the object and the field it came from. ``meanwhile`` runs while
    promtool (a separate process) checks, when it could be started.
    """
    if not result.objectives:
        return []
    try:
        pending = PendingRuleCheck(result.objectives, find_promtool(promtool), groups)
        try:
            if meanwhile is not None:
                meanwhile()
        finally:  # promtool is waited for (and its file removed) whatever happened meanwhile
            found = pending.result()
    except PromtoolUnavailable as e:
        return [Diagnostic("error", str(e), source="promtool")]
    return [d.located(**result.locations.get(key, {})) for key, diags in found.items() for d in diags]


#: From this many files on, half of them are read and validated in a second process.
PARALLEL_FILES = 200


def load_on_two_cores(paths: list[str]) -> LoadResult:
    """:func:`load` of ``paths``, the second half of the files read and validated by a forked process.

    Reading and validating are most of ``generate``'s own time, in Python, on one core; a second
    process takes half the files and sends its result back (:func:`~sloguard.api.loader.merge`
    then finds duplicates across the halves). The same result as :func:`load`; loaded here alone
    with few files, one core, off Linux (where ``fork`` is not the safe default), or when the second
    process fails.
    """
    files, missing = expand_paths(paths)
    if len(files) < PARALLEL_FILES or (os.cpu_count() or 1) < 2 or sys.platform != "linux":  # fork: Linux only
        return load(paths)
    import multiprocessing  # only here: its import costs what a few files do

    half = [str(f) for f in files[len(files) // 2:]]
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)

    def second_half() -> None:
        try:
            sender.send(load(half))
        except BaseException:  # nothing sent: the parent loads this half itself (and no traceback here)
            pass
        finally:
            sender.close()

    sys.stdout.flush()
    sys.stderr.flush()
    child = multiprocessing.get_context("fork").Process(target=second_half, name="sloguard-load", daemon=True)
    child.start()
    sender.close()
    first = load_documents(*read_documents([str(f) for f in files[: len(files) // 2]]))
    first.diagnostics[:0] = missing
    try:
        then: LoadResult = receiver.recv()
    except (EOFError, OSError):  # the second process failed: its half is loaded here
        then = load(half)
    finally:
        receiver.close()
        child.join()
    return merge(first, then)


def load_slos_or_none(command: str, paths: list[str], *, check_rules: bool = False,
                      promtool: str | None = None,
                      groups: dict[str, list[RuleGroup]] | None = None,
                      meanwhile: Callable[[list[Objective]], None] | None = None) -> list[Objective] | None:
    """SLOs from files for a generating command; None (after printing why) when it must stop.

    ``check_rules``: also run Prometheus' rule validation over what would be generated.
    ``groups``: filled with every SLO's rule groups by key, built once for the check and the output.
    ``meanwhile``: called with the valid SLOs while promtool checks their rules (a separate process),
    so preparing the output overlaps the check; what it prepared must not leave the command when
    this returns None.
    """
    stdin = sys.stdin.read() if "-" in paths else None
    result = load(paths, stdin) if stdin is not None else load_on_two_cores(paths)
    if groups is not None and not result.errors:
        groups.update((o.key, make_rule_groups(o)) for o in result.objectives)
    if check_rules and not result.errors:
        work = None if meanwhile is None else (lambda: meanwhile(result.objectives))
        result.diagnostics.extend(rule_check_diagnostics(result, promtool, groups, work))
    if report(result.diagnostics):
        return None
    if not result.objectives:
        print(f"sloguard {command}: no ServiceLevelObjective found in the given paths", file=sys.stderr)
        return None
    return result.objectives


def prometheus_settings(command: str, args: object, required: bool = True) -> PrometheusSettings | None:
    """The connection from ``--prometheus*`` flags over ``SLOGUARD_PROMETHEUS_*``; None (after
    printing one line saying which flag is wrong) when the command must stop."""
    from ..adapters.prometheus import PrometheusSettingsError, settings_from_args

    try:
        settings = settings_from_args(args)
    except PrometheusSettingsError as e:
        print(f"sloguard {command}: {e}", file=sys.stderr)
        return None
    if required and not settings.url:
        print(f"sloguard {command}: give --prometheus URL (or SLOGUARD_PROMETHEUS_URL)", file=sys.stderr)
        return None
    return settings

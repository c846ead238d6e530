"""``kubectl_complete-sloguard``: completion for ``kubectl sloguard <TAB>``.

kubectl (1.26 and later) completes a plugin's arguments by running ``kubectl_complete-<plugin>``
from ``PATH`` with the words typed after the plugin name, the last one being the word to complete
(empty for a new word). It prints one candidate per line (``candidate<TAB>description``) and,
last, Cobra's directive ``:N``: 4 (no file completion) for commands, flags and choices, 0 (the
shell completes file names) where a FILE|DIR goes. The candidates come from the same argparse
parser as ``sloguard completion``, so the two never disagree.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .completion_cmd import PATH_METAVARS

DEFAULT = 0  # cobra.ShellCompDirectiveDefault: let the shell complete file names
NO_FILES = 4  # cobra.ShellCompDirectiveNoFileComp


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:  # type: ignore[type-arg]
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _option(parser: argparse.ArgumentParser, word: str) -> argparse.Action | None:
    return parser._option_string_actions.get(word.split("=", 1)[0])


def _help_of(sub: argparse._SubParsersAction) -> dict[str, str]:  # type: ignore[type-arg]
    return {a.dest: a.help or "" for a in sub._choices_actions}


def complete(words: Sequence[str]) -> tuple[list[str], int]:
    """Candidates and Cobra directive for ``words`` (the last one is being completed)."""
    from . import build_parser

    *typed, current = list(words) or [""]
    parser = build_parser([w for w in typed if not w.startswith("-")][:1])
    pending: argparse.Action | None = None  # a flag waiting for its value
    for word in typed:
        if pending is not None:
            pending = None
            continue
        if word.startswith("-"):
            action = _option(parser, word)
            if action is not None and action.nargs != 0 and "=" not in word:
                pending = action
            continue
        sub = _subparsers(parser)
        if sub is not None and word in sub.choices:
            parser = sub.choices[word]
    if pending is not None:
        return _values(pending, current)
    if current.startswith("-"):
        flags = sorted(o for a in parser._actions for o in a.option_strings
                       if o.startswith("--") or len(a.option_strings) == 1)
        return [f"{o}\t{_flag_help(parser, o)}" for o in flags if o.startswith(current)], NO_FILES
    sub = _subparsers(parser)
    if sub is not None:
        helps = _help_of(sub)
        return [f"{n}\t{helps.get(n, '')}".rstrip("\t") for n in sub.choices if n.startswith(current)], NO_FILES
    positional = next((a for a in parser._actions if not a.option_strings and a.dest != "help"), None)
    if positional is not None:
        return _values(positional, current)
    return [], NO_FILES


def _flag_help(parser: argparse.ArgumentParser, option: str) -> str:
    action = parser._option_string_actions[option]
    text = (action.help or "").split("\n")[0]
    return "" if text == argparse.SUPPRESS else text


def _values(action: argparse.Action, current: str) -> tuple[list[str], int]:
    if action.choices is not None:
        return [str(c) for c in action.choices if str(c).startswith(current)], NO_FILES
    if action.metavar in PATH_METAVARS:
        return [], DEFAULT
    return [], NO_FILES


def main(argv: Sequence[str] | None = None) -> int:
    candidates, directive = complete(sys.argv[1:] if argv is None else list(argv))
    for c in candidates:
        print(c)
    print(f":{directive}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

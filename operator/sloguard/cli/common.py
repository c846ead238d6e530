"""Helpers shared by CLI commands: printing diagnostics consistently."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from ..api.common import Diagnostic


def report(diagnostics: Iterable[Diagnostic]) -> int:
    """Print findings to stderr (errors first); return how many were errors."""
    diags = sorted(diagnostics, key=lambda d: (d.severity != "error", d.source, d.object, d.path))
    for d in diags:
        print(str(d), file=sys.stderr)
    return sum(1 for d in diags if d.severity == "error")

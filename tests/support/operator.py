"""The operator under test: ``kopf run`` of ``sloguard.handlers`` in-process, as every e2e suite starts it."""

from __future__ import annotations

from kopf.testing import KopfRunner

HANDLERS = "sloguard.handlers"


def operator_runner(namespace: str | None = None, *, timeout: float = 120, verbose: bool = False,
                    reraise: bool = True) -> KopfRunner:
    """A standalone operator (no peering) watching ``namespace``, or all namespaces when None; no liveness port.

    Settings come from ``SLOGUARD_*`` environment variables the caller sets (``monkeypatch.setenv``).
    Use it as a context manager; ``runner.exception`` is None when the operator stopped cleanly.
    """
    scope = ["--namespace", namespace] if namespace else ["--all-namespaces"]
    flags = ["--verbose"] if verbose else []
    return KopfRunner(["run", "--standalone", *flags, *scope, "-m", HANDLERS, "--liveness="],
                      timeout=timeout, reraise=reraise)

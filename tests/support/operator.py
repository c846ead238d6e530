"""The operator under test: ``kopf run`` of ``sloguard.handlers`` in-process, as every e2e suite starts it.

:func:`operator_runner` is one run; :class:`Operator` (and :func:`running_operator`, its module
fixture body) is an operator a test may stop and start again, on the same settings.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest
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


class ObjectLog(logging.Handler):
    """The messages kopf logs about objects (``kopf.objects``), kept as they happen.

    KopfRunner runs kopf in a thread of this process and only hands its output over once it
    exits, so a test that waits for the operator to have done something counts it here.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self.lock_:
            self.messages.append(record.getMessage())

    def count(self, text: str) -> int:
        """Messages so far that contain ``text``."""
        with self.lock_:
            return sum(text in m for m in self.messages)


class Operator:
    """The operator under test, restartable: a restart is a new KopfRunner on the same settings.

    ``env`` (``SLOGUARD_*``) is set through ``monkeypatch`` for as long as it is undone; ``verbose``
    logs debug messages too. What kopf logs about objects is in :attr:`log` from the first start.
    """

    def __init__(self, namespace: str | None, env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch, *,
                 verbose: bool = False) -> None:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        self.namespace, self.verbose = namespace, verbose
        self.runner: KopfRunner | None = None
        self.log = ObjectLog()
        logging.getLogger("kopf.objects").addHandler(self.log)

    def start(self) -> KopfRunner:
        self.runner = operator_runner(self.namespace, verbose=self.verbose)
        self.runner.__enter__()
        return self.runner

    def stop(self) -> None:
        """Stop it; it must have stopped cleanly."""
        assert self.runner is not None
        self.runner.__exit__(None, None, None)
        assert self.runner.exception is None, self.runner.exception

    def close(self) -> None:
        logging.getLogger("kopf.objects").removeHandler(self.log)


@contextmanager
def running_operator(namespace: str | None, env: Mapping[str, str], *, verbose: bool = False) -> Iterator[Operator]:
    """An :class:`Operator` started on ``env`` (set only while it runs), stopped cleanly at the end."""
    with pytest.MonkeyPatch.context() as mp:
        op = Operator(namespace, env, mp, verbose=verbose)
        try:
            op.start()
            try:
                yield op
            finally:
                op.stop()
        finally:
            op.close()

"""Talking to the cluster under test (``tests.e2e.conftest.TestCluster``) the way every suite does."""

from __future__ import annotations

import json
import socket
import subprocess
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from tests.e2e.conftest import TestCluster


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def apply(cluster: TestCluster, *docs: dict[str, Any], who: tuple[str, ...] = (),
          check: bool = True) -> subprocess.CompletedProcess[str]:
    """``kubectl apply`` of ``docs`` (as ``who``: ``--as=...`` impersonation flags); raises unless ``check=False``."""
    return cluster.kubectl(*who, "apply", "-f", "-", input=yaml.safe_dump_all(docs), check=check)


def get_json(cluster: TestCluster, *args: str) -> dict[str, Any]:
    """``kubectl get ARGS -o json``, parsed."""
    return dict(json.loads(cluster.kubectl("get", *args, "-o", "json").stdout))


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    """The condition of ``type_`` in an object's ``status``, or ``{}``."""
    return next((c for c in status.get("conditions") or [] if c["type"] == type_), {})

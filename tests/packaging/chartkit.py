"""Helpers shared by the packaging tests: render the chart, split and key its documents."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import yaml

from .conftest import CHART

KUBE_VERSION = "1.34.0"


def render(helm: str, values: dict[str, Any] | None = None, *, release: str = "sloguard",
           namespace: str = "sloguard-system", include_crds: bool = True, chart: str = str(CHART)) -> list[dict]:
    argv = [helm, "template", release, chart, "--namespace", namespace, "--kube-version", KUBE_VERSION,
            "--values", "-"]
    if include_crds:
        argv.append("--include-crds")
    proc = subprocess.run(argv, input=json.dumps(values or {}), capture_output=True, text=True, check=False)
    if proc.returncode:
        raise AssertionError(f"helm template failed:\n{proc.stderr}")
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def render_error(helm: str, values: dict[str, Any]) -> str:
    proc = subprocess.run([helm, "template", "x", str(CHART), "--kube-version", KUBE_VERSION, "--values", "-"],
                          input=json.dumps(values), capture_output=True, text=True, check=False)
    assert proc.returncode != 0, "helm template should have failed"
    return proc.stderr


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [d for d in by_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[d['metadata']['name'] for d in found]}"
    return found[0]


def container(docs: list[dict]) -> dict:
    return one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def dump(docs: list[dict]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)

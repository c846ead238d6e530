#!/usr/bin/env python3
"""Generate charts/sloguard/values.schema.json and the values table of charts/sloguard/README.md.

Both come from values.yaml: every key's type from its default, its description from the comment
lines right above it (lines indented two spaces after ``#`` start a commented example and are
left out). What a default cannot tell -- enums, ranges, free-form Kubernetes objects, list items
-- is in ``OVERRIDES`` and ``FREE`` below. ``make crds`` runs it; ``--check`` reports drift.

A key in values.yaml without a schema entry cannot exist: the schema is walked from values.yaml.
An override or free-form path that values.yaml no longer has is an error, so neither list rots.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "charts" / "sloguard"
VALUES = CHART / "values.yaml"
SCHEMA = CHART / "values.schema.json"
README = CHART / "README.md"
START, END = "<!-- values:start (hack/gen_chart_values.py) -->", "<!-- values:end -->"

_STR_MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
_OBJECT: dict[str, Any] = {"type": "object"}
_OBJECTS: dict[str, Any] = {"type": "array", "items": {"type": "object"}}
_PORT: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": 65535}

#: Maps whose keys are the user's (labels, annotations, headers) or Kubernetes objects the chart
#: passes through (their own API server validation applies): no properties of their own.
FREE: dict[str, dict[str, Any]] = {
    "prometheus.headers": _STR_MAP,
    "ruleLabels": _STR_MAP,
    "metrics.serviceMonitor.labels": _STR_MAP,
    "metrics.alerts.labels": _STR_MAP,
    "metrics.dashboard.labels": _STR_MAP,
    "metrics.dashboard.annotations": _STR_MAP,
    "serviceAccount.annotations": _STR_MAP,
    "podAnnotations": _STR_MAP,
    "podLabels": _STR_MAP,
    "nodeSelector": _STR_MAP,
    "webhook.certs.certManager.issuerRef": {
        "type": "object", "additionalProperties": False,
        "properties": {"kind": {"type": "string"}, "name": {"type": "string"}, "group": {"type": "string"}}},
    "resources": _OBJECT,
    "podSecurityContext": _OBJECT,
    "securityContext": _OBJECT,
    "affinity": _OBJECT,
    "networkPolicy.prometheusNamespaceSelector": _OBJECT,
}

#: Constraints a default cannot show, merged over the inferred schema.
OVERRIDES: dict[str, dict[str, Any]] = {
    "image.pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
    "imagePullSecrets": {"type": "array", "items": {"type": "object", "required": ["name"]}},
    "replicas": {"minimum": 1},
    "watchNamespaces": {"type": "array", "items": {"type": "string", "minLength": 1}},
    "prometheus.timeout": {"type": ["string", "number"]},
    "refreshInterval": {"type": "number", "exclusiveMinimum": 0},
    "logFormat": {"enum": ["json", "plain"]},
    "logLevel": {"enum": ["debug", "info", "warning", "error"]},
    "extraArgs": {"type": "array", "items": {"type": "string"}},
    "extraEnv": {"type": "array", "items": {"type": "object", "required": ["name"]}},
    "extraVolumes": {"type": "array", "items": {"type": "object", "required": ["name"]}},
    "extraVolumeMounts": {"type": "array", "items": {"type": "object", "required": ["name", "mountPath"]}},
    "metrics.port": _PORT,
    "webhook.port": _PORT,
    "networkPolicy.prometheusPort": _PORT,
    "networkPolicy.apiServerPort": _PORT,
    "enforcement.mechanism": {"enum": ["admissionPolicy", "webhook", "none"]},
    "webhook.failurePolicy": {"enum": ["Ignore", "Fail"]},
    "webhook.configurationName": {"minLength": 1},
    "webhook.certs.mode": {"enum": ["helm", "cert-manager", "operator"]},
    "webhook.certs.validityDays": {"minimum": 1},
    "tolerations": _OBJECTS,
    "topologySpreadConstraints": _OBJECTS,
    "podDisruptionBudget.maxUnavailable": {"type": ["integer", "string"]},
}


def descriptions(text: str) -> dict[str, str]:
    """Dotted key path -> the comment block right above the key (examples left out)."""
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    in_example = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            pending, in_example = [], False
            continue
        if stripped.startswith("#"):
            body = stripped[1:]
            if re.match(r"  \S", body) or (in_example and body.startswith("  ")):
                in_example = True  # a commented example of the value above
                continue
            in_example = False
            if body.strip():
                pending.append(body.strip())
            continue
        in_example = False
        m = re.match(r"^( *)([A-Za-z0-9_.-]+):", line)
        if not m or stripped.startswith("-"):
            pending = []
            continue
        indent = len(m.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, m.group(2)))
        path = ".".join(k for _, k in stack)
        if pending:
            out[path] = re.sub(r"\s+", " ", " ".join(pending))
        pending = []
    return out


def _infer(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array"}
    raise TypeError(type(value))


def schema_for(values: dict[str, Any], docs: dict[str, str]) -> dict[str, Any]:
    used: set[str] = set()

    def node(value: Any, path: str) -> dict[str, Any]:
        if path in FREE:
            used.add(path)
            s = dict(FREE[path])
        elif isinstance(value, dict):
            if not value:
                raise SystemExit(f"values.yaml: {path}: an empty map needs an entry in FREE (hack/gen_chart_values.py)")
            s = {"type": "object", "additionalProperties": False,
                 "properties": {k: node(v, f"{path}.{k}" if path else k) for k, v in value.items()}}
        else:
            s = _infer(value)
        if path in OVERRIDES:
            used.add(path)
            s.update(OVERRIDES[path])
        if path in docs:
            s = {"description": docs[path], **s}
        return s

    root = node(values, "")
    # Helm hands every chart the parent's `global` values when it is a subchart.
    root["properties"]["global"] = {"type": "object", "description": "Values shared with a parent chart."}
    unknown = sorted((set(FREE) | set(OVERRIDES)) - used)
    if unknown:
        raise SystemExit(f"hack/gen_chart_values.py: no such key in values.yaml: {', '.join(unknown)}")
    return {"$schema": "http://json-schema.org/draft-07/schema#", "title": "sloguard chart values", **root}


def _type(s: dict[str, Any]) -> str:
    t = s.get("type", "")
    text = " or ".join(t) if isinstance(t, list) else t
    if "enum" in s:
        text = " \\| ".join(f"`{e}`" for e in s["enum"])
    return text


def table(values: dict[str, Any], schema: dict[str, Any]) -> str:
    rows = ["| Key | Type | Default | Description |", "|---|---|---|---|"]

    def walk(value: Any, s: dict[str, Any], path: str) -> None:
        props = s.get("properties")
        if props and isinstance(value, dict):
            if path and s.get("description"):
                rows.append(f"| `{path}` | object | | {_cell(s['description'])} |")
            for k, v in value.items():
                walk(v, props[k], f"{path}.{k}" if path else k)
            return
        default = json.dumps(value, separators=(", ", ": "))
        rows.append(f"| `{path}` | {_type(s)} | `{default}` | {_cell(s.get('description', ''))} |")

    walk(values, schema, "")
    return "\n".join(rows) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def readme(current: str, values_table: str) -> str:
    block = f"{START}\n{values_table}{END}"
    if START in current and END in current:
        head, rest = current.split(START, 1)
        return head + block + rest.split(END, 1)[1]
    return current.rstrip("\n") + "\n\n## Values\n\n" + block + "\n"


def expected() -> dict[Path, str]:
    text = VALUES.read_text()
    values = yaml.safe_load(text)
    docs = descriptions(text)
    schema = schema_for(values, docs)
    current = README.read_text() if README.exists() else "# sloguard\n"
    return {SCHEMA: json.dumps(schema, indent=2) + "\n", README: readme(current, table(values, schema))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift instead of writing")
    args = parser.parse_args(argv)
    drift = [p for p, text in expected().items() if not p.exists() or p.read_text() != text]
    if args.check:
        for p in drift:
            print(f"out of date: {p.relative_to(ROOT)} (run: python3 hack/gen_chart_values.py)", file=sys.stderr)
        return 1 if drift else 0
    for p, text in expected().items():
        if p in drift:
            p.write_text(text)
            print(p.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What every importer shares: where a finding is, how an SLO is refused, how one is built.

An importer turns one peer object (a Sloth service, a Pyrra SLO, an OpenSLO SLO) into zero or
more :class:`ImportedSLO` values, each holding a validated :class:`ServiceLevelObjective`
(pydantic, the same model the CRD is generated from). Problems are :class:`Diagnostic` values:

* a *refusal* (severity ``error``) names the file, the peer object, the field and why; that SLO is
  not written, the others are;
* a *lossy mapping* (severity ``warning``) says what was not carried and what sloguard does instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import promql_parser
from pydantic import ValidationError

from ...core import conventions as c
from ...core.windows import DurationError, parse_duration
from ..common import Diagnostic, diagnostics_from_validation_error
from ..loader import semantic_diagnostics
from ..slo import ServiceLevelObjective

#: Annotation on every imported SLO saying where it came from (file and peer object).
ANNOTATION_IMPORTED_FROM = f"{c.LABEL_PREFIX}imported-from"

#: Labels sloguard sets on its alerts itself; a peer's label of the same name cannot be carried.
RESERVED_LABELS = (c.LABEL_SLO, c.LABEL_SERVICE, c.LABEL_SEVERITY, c.LABEL_NAMESPACE)


class Refusal(Exception):
    """This SLO cannot be carried: ``path`` is the peer's field, ``message`` says why."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass
class Where:
    """The peer object findings are about: file, kind and ``namespace/name`` (or a Sloth SLO id)."""

    source: str
    kind: str
    object: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def warn(self, path: str, message: str) -> None:
        self.diagnostics.append(Diagnostic("warning", message, path, self.source, self.kind, self.object))

    def refuse(self, path: str, message: str) -> None:
        self.diagnostics.append(Diagnostic("error", message, path, self.source, self.kind, self.object))


@dataclass(frozen=True)
class ImportedSLO:
    """One ServiceLevelObjective made from a peer object, ready to be written."""

    namespace: str
    name: str
    slo: ServiceLevelObjective
    origin: str  # "file: Kind object", for the imported-from annotation

    def document(self) -> dict[str, Any]:
        """The object as YAML-ready data: apiVersion, kind, metadata and the spec as on the wire."""
        spec = self.slo.spec.model_dump(by_alias=True, exclude_defaults=True, mode="json")
        return {
            "apiVersion": c.API_VERSION,
            "kind": c.KIND_SLO,
            "metadata": {"name": self.name, "namespace": self.namespace,
                         "annotations": {ANNOTATION_IMPORTED_FROM: self.origin}},
            "spec": spec,
        }


def k8s_name(*parts: str) -> str:
    """A DNS-1123 name from peer names: lower case, ``[a-z0-9-.]``, at most 253 characters."""
    text = "-".join(p for p in parts if p).lower()
    text = re.sub(r"[^a-z0-9.-]+", "-", text).strip("-.")
    return text[:253].rstrip("-.") or "imported"


def alert_name(text: str) -> str:
    """A Prometheus alert name from a peer's name: ``page-on-burn`` -> ``PageOnBurn``."""
    if re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", text):
        return text
    words = [w for w in re.split(r"[^a-zA-Z0-9]+", text) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if re.match(r"[a-zA-Z_]", name or "0") else f"SLO{name}"


def duration(value: Any, path: str) -> str:
    """A Prometheus duration sloguard accepts, spelled as given; a Refusal otherwise."""
    try:
        parse_duration(str(value))
        return str(value)
    except DurationError:
        raise Refusal(path, f"{value!r} is not a duration sloguard accepts (whole s, m, h, d, w or y)") from None


def seconds(value: str) -> int:
    return parse_duration(value)


def selector_parts(expr: str) -> tuple[str, list[tuple[str, str, str]]] | None:
    """``(metric, [(label, op, value), ...])`` when ``expr`` is a plain vector selector, else None."""
    try:
        node = promql_parser.parse(expr)
    except (ValueError, TypeError):
        return None
    if not isinstance(node, promql_parser.VectorSelector) or node.offset is not None or node.at is not None:
        return None
    ops = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
    matchers = []
    for m in node.matchers.matchers if node.matchers else []:
        op = str(m.op).rsplit(".", 1)[-1]
        matchers.append((m.name, ops.get(op, op), m.value))
    return node.name or "", matchers


def format_selector(metric: str, matchers: list[tuple[str, str, str]]) -> str:
    inner = ",".join(f'{n}{op}"{_escape(v)}"' for n, op, v in matchers)
    return f"{metric}{{{inner}}}" if inner else metric


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def unknown_fields(where: Where, path: str, body: Any, known: set[str]) -> None:
    """Warn about fields the peer's format does not have (a typo would otherwise be dropped silently)."""
    if isinstance(body, dict):
        for key in body:
            if key not in known:
                where.warn(f"{path}.{key}" if path else str(key), "unknown field for this format; ignored")


def split_labels(labels: dict[str, Any], where: Where, path: str) -> dict[str, str]:
    """Peer labels for sloguard's alerts, without the names sloguard sets itself (warned)."""
    out: dict[str, str] = {}
    for key, value in labels.items():
        if key in RESERVED_LABELS:
            where.warn(f"{path}.{key}", f"label {key!r} is set by sloguard on every alert; the peer's value "
                       f"{value!r} is not carried")
            continue
        if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", str(key)):
            where.warn(f"{path}.{key}", f"{key!r} is not a Prometheus label name; not carried")
            continue
        out[str(key)] = str(value)
    return out


def build(where: Where, path: str, *, namespace: str, name: str, spec: dict[str, Any]) -> ImportedSLO | None:
    """Validate ``spec`` (wire spelling) with the SLO model and sloguard's PromQL checks.

    Anything the model or the checks reject is a refusal located at the peer object (``path`` is the
    peer's field the SLO came from, the message says which of our fields failed).
    """
    body = {"apiVersion": c.API_VERSION, "kind": c.KIND_SLO, "metadata": {"name": name}, "spec": spec}
    try:
        slo = ServiceLevelObjective.model_validate(body)
    except ValidationError as e:
        for d in diagnostics_from_validation_error(e, ""):
            where.refuse(path, f"the imported SLO would be invalid: {d.path.removeprefix('spec.')}: {d.message}")
        return None
    findings = semantic_diagnostics(slo.spec)
    errors = [d for d in findings if d.severity == "error"]
    for d in errors:
        where.refuse(path, f"the imported SLO would be invalid: {d.path}: {d.message}")
    if errors:
        return None
    return ImportedSLO(namespace, name, slo, f"{where.source}: {where.kind} {where.object}")

"""Peer formats -> ServiceLevelObjectives: Sloth, Pyrra and OpenSLO, converted at the edge.

:func:`import_paths` reads files (or standard input), recognises each document's format (or takes
the one given), converts every SLO it can, and returns them with every finding located at the
peer's file, object and field. The core never sees the peers' dicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ..common import Diagnostic
from ..loader import Document, read_documents
from . import openslo, pyrra, sloth
from .common import ImportedSLO, Where

Format = Literal["auto", "sloth", "pyrra", "openslo"]
FORMATS: tuple[str, ...] = ("auto", "sloth", "pyrra", "openslo")


@dataclass
class ImportResult:
    slos: list[ImportedSLO] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def refused(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def detect(doc: Document) -> str | None:
    if sloth.is_sloth(doc.body):
        return "sloth"
    if pyrra.is_pyrra(doc.body):
        return "pyrra"
    if openslo.is_openslo(doc.body):
        return "openslo"
    return None


def import_paths(paths: Iterable[str], fmt: Format = "auto", namespace: str | None = None,
                 stdin_text: str | None = None) -> ImportResult:
    docs, diags = read_documents(list(paths), stdin_text)
    return import_documents(docs, fmt, namespace, diags)


def _recognised(docs: list[Document], fmt: Format, result: ImportResult) -> list[tuple[Document, str]]:
    """Each document with the format it is in; the others are refused into ``result``."""
    typed: list[tuple[Document, str]] = []
    for doc in docs:
        found = detect(doc)
        if found is None or (fmt != "auto" and found != fmt):
            where = Where(doc.source, str(doc.body.get("kind", "")) if isinstance(doc.body, dict) else "",
                          doc.ref if isinstance(doc.body, dict) else f"#{doc.index + 1}")
            api = doc.body.get("apiVersion") or doc.body.get("version") if isinstance(doc.body, dict) else None
            wanted = "a Sloth, Pyrra or OpenSLO object" if fmt == "auto" else f"a {fmt} object"
            where.refuse("apiVersion", f"not {wanted} (apiVersion/version {api!r})")
            result.diagnostics.extend(where.diagnostics)
            continue
        typed.append((doc, found))
    return typed


def _references(typed: list[tuple[Document, str]], result: ImportResult) -> tuple[openslo.Catalog, sloth.AlertWindows]:
    """Objects other SLOs refer to: OpenSLO's named SLIs, policies, conditions and data sources;
    Sloth's AlertWindows (the -w option of `sloth generate`)."""
    catalog = openslo.Catalog()
    windows = sloth.default_windows()
    window_docs = []
    for doc, found in typed:
        if found == "openslo" and doc.body.get("apiVersion") == openslo.V1:
            catalog.add(doc.body)
        if found == "sloth" and doc.body.get("kind") == sloth.KIND_ALERT_WINDOWS:
            window_docs.append(doc)
    for doc in window_docs:
        where = Where(doc.source, sloth.KIND_ALERT_WINDOWS, doc.ref)
        parsed = sloth.parse_alert_windows(doc.body, where)
        result.diagnostics.extend(where.diagnostics)
        if parsed is None:
            continue
        if len(window_docs) > 1 and parsed.period != sloth.DEFAULT_PERIOD:
            where.warn("spec.sloPeriod", f"several AlertWindows given; the {sloth.DEFAULT_PERIOD} one is used "
                       "(Sloth's default period)")
            result.diagnostics.extend(where.diagnostics[-1:])
            continue
        windows = parsed
    return catalog, windows


def _convert(doc: Document, found: str, namespace: str | None, catalog: openslo.Catalog,
             windows: sloth.AlertWindows, diagnostics: list[Diagnostic]) -> list[ImportedSLO]:
    """The SLOs in one recognised document (none for the objects only referred to)."""
    body = doc.body
    if found == "sloth":
        if body.get("kind") == sloth.KIND_ALERT_WINDOWS:
            return []
        return sloth.convert(body, doc.source, namespace, windows, diagnostics)
    if found == "pyrra":
        return pyrra.convert(body, doc.source, namespace, diagnostics)
    if body.get("kind") != "SLO":
        return []  # SLI, AlertPolicy, AlertCondition, DataSource: used through the catalog
    return openslo.convert(body, doc.source, namespace, catalog, diagnostics)


def import_documents(docs: list[Document], fmt: Format = "auto", namespace: str | None = None,
                     diagnostics: list[Diagnostic] | None = None) -> ImportResult:
    result = ImportResult(diagnostics=list(diagnostics or []))
    typed = _recognised(docs, fmt, result)
    catalog, windows = _references(typed, result)
    seen: dict[str, str] = {}
    for doc, found in typed:
        for slo in _convert(doc, found, namespace, catalog, windows, result.diagnostics):
            key = f"{slo.namespace}/{slo.name}"
            if key in seen:
                result.diagnostics.append(Diagnostic("error", f"two imported SLOs are both named {key} (the other "
                                                     f"from {seen[key]}); rename one", "metadata.name",
                                                     doc.source, str(doc.body.get("kind", "")), doc.ref))
                continue
            seen[key] = slo.origin
            result.slos.append(slo)
    return result


__all__ = ["FORMATS", "Format", "ImportResult", "ImportedSLO", "import_documents", "import_paths"]

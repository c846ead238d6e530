"""Reading and validating sloguard objects from files and from admission requests.

Every problem becomes a :class:`Diagnostic` naming the file, the object and the field path;
nothing here raises on bad input, so the CLI and the webhook never show a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..core import conventions as c
from ..core.model import Objective
from ..core.sli import queries
from ..core.windows import parse_window, tier_findings
from .common import Diagnostic, diagnostics_from_validation_error
from .promql import parse_error, selector_error, template_error
from .slo import LABEL_VALUE_PATTERN, NAME_MAX, SERVICE_PATTERN, TEXT_PATTERN, SLISpec, SLOSpec
from .yamlio import SafeLoader

YAML_SUFFIXES = (".yaml", ".yml", ".json")
KNOWN_KINDS = (c.KIND_SLO, c.KIND_POLICY, c.KIND_SLA)


@dataclass
class Document:
    """One YAML document with where it came from."""

    source: str
    index: int
    body: Any

    @property
    def kind(self) -> str:
        kind = self.body.get("kind") if isinstance(self.body, dict) else None
        return kind if isinstance(kind, str) else ""

    @property
    def ref(self) -> str:
        meta = self.body.get("metadata") if isinstance(self.body, dict) else None
        if not isinstance(meta, dict):
            return f"#{self.index + 1}"
        namespace, name = meta.get("namespace"), meta.get("name")
        return f"{_shown(namespace) if isinstance(namespace, str) and namespace else 'default'}/" \
               f"{_shown(name) if isinstance(name, str) and name else '?'}"


def _shown(name: str) -> str:
    """A name as a reader can see it: quoted when blank space at its ends would hide."""
    return repr(name) if name != name.strip() else name


@dataclass
class LoadResult:
    objectives: list[Objective] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    #: Where each valid SLO came from, by key: ``source``, ``kind`` and ``object`` for Diagnostic.located.
    locations: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def expand_paths(paths: Iterable[str]) -> tuple[list[Path], list[Diagnostic]]:
    """Files given, and YAML/JSON files under directories given (sorted, recursive)."""
    files: list[Path] = []
    diags: list[Diagnostic] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files.extend(sorted(f for f in path.rglob("*") if f.is_file() and f.suffix in YAML_SUFFIXES))
        elif path.is_file() or p == "-":
            files.append(path)
        else:
            diags.append(Diagnostic("error", "no such file or directory", source=p))
    return files, diags


def read_documents(paths: Iterable[str], stdin_text: str | None = None) -> tuple[list[Document], list[Diagnostic]]:
    """All YAML documents in ``paths`` (``-`` is standard input), skipping empty ones."""
    files, diags = expand_paths(paths)
    docs: list[Document] = []
    for f in files:
        name = str(f)
        try:
            text = stdin_text if name == "-" and stdin_text is not None else f.read_text(encoding="utf-8")
            loaded = list(yaml.load_all(text, Loader=SafeLoader))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            problem = getattr(e, "problem", None) or str(e)
            diags.append(Diagnostic("error", f"{where}invalid YAML: {problem}", source=name))
            continue
        except (OSError, UnicodeDecodeError) as e:
            diags.append(Diagnostic("error", f"cannot read: {e}", source=name))
            continue
        for i, body in enumerate(loaded):
            if body is None:
                continue
            if isinstance(body, dict) and body.get("kind") == "List" and isinstance(body.get("items"), list):
                docs.extend(Document(name, i, item) for item in body["items"])
            else:
                docs.append(Document(name, i, body))
    return docs, diags


def check_envelope(doc: Document) -> list[Diagnostic]:
    """apiVersion, kind and metadata.name of a sloguard object."""
    loc = {"source": doc.source, "kind": doc.kind, "object": doc.ref}
    body = doc.body
    if not isinstance(body, dict):
        return [Diagnostic("error", f"document #{doc.index + 1} is a {type(body).__name__}, not an object",
                           source=doc.source)]
    out = []
    if body.get("apiVersion") != c.API_VERSION:
        out.append(Diagnostic("error", f"apiVersion must be {c.API_VERSION!r}, got {body.get('apiVersion')!r}",
                              "apiVersion", **loc))
    meta = body.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        out.append(Diagnostic("error", "required field is missing", "metadata.name", **loc))
    if not isinstance(body.get("spec"), dict):
        out.append(Diagnostic("error", "required field is missing (an object)", "spec", **loc))
    return out


def is_sloguard(doc: Document) -> bool:
    return isinstance(doc.body, dict) and str(doc.body.get("apiVersion", "")).startswith(c.GROUP + "/")


def sli_diagnostics(sli: SLISpec, path: str) -> list[Diagnostic]:
    """PromQL in an SLI that does not parse, templates without ``{{.window}}``, odd histograms.

    Shared by every kind that embeds an SLI (SLO specs, SLA contract terms); ``path`` is where
    the SLI sits, e.g. ``spec.sli`` or ``spec.terms[0].sli``.
    """
    out: list[Diagnostic] = []

    def err(field: str, message: str | None) -> None:
        if message:
            out.append(Diagnostic("error", message, f"{path}.{field}"))

    # (field path under the SLI, the query in it, how to check it): ratio selectors and query templates
    queries: list[tuple[str, str | None, Callable[[str], str | None]]] = [
        (f"ratio.{name}", getattr(sli.ratio, name), selector_error)
        for name in ("errors", "good", "total") if sli.ratio]
    queries += [(f"ratioQuery.{wire}", getattr(sli.ratio_query, attr), template_error) for attr, wire in
                (("error_query", "errorQuery"), ("good_query", "goodQuery"), ("total_query", "totalQuery"))
                if sli.ratio_query]
    for at, value, check in queries:
        if value is not None:
            err(at, check(value))
    if sli.latency:
        err("latency.histogram", selector_error(sli.latency.histogram, forbid_labels=("le",)))
        if not sli.latency.histogram.split("{")[0].strip().endswith("_bucket"):
            out.append(Diagnostic("warning", "a classic histogram's series end in _bucket; is this the "
                                  "bucket series?", f"{path}.latency.histogram"))
    if sli.raw:
        err("raw.errorRatioQuery", template_error(sli.raw.error_ratio_query))
    if sli.bool_gauge:
        err("boolGauge.selector", selector_error(sli.bool_gauge.selector))
    return out


def semantic_diagnostics(spec: SLOSpec) -> list[Diagnostic]:
    """What the schema cannot see: PromQL that does not parse, missing templates, fractions."""
    out = sli_diagnostics(spec.sli, "spec.sli")
    sli = spec.sli

    if spec.objective is not None and spec.objective < 1:
        out.append(Diagnostic("warning", f"{spec.objective} looks like a fraction; objective is in percent "
                              f"(did you mean {spec.objective * 100:g}?)", "spec.objective"))
    if spec.objective is not None and spec.tier is not None:
        out.append(Diagnostic("warning", f"both tier ({spec.tier}) and objective are set; objective "
                              f"{spec.objective} wins", "spec.tier"))
    if spec.budgeting_method == "Occurrences" and spec.timeslice is not None:
        out.append(Diagnostic("warning", "timeslice is ignored unless budgetingMethod is Timeslices",
                              "spec.timeslice"))
    if spec.alerting.minimum_traffic and (sli.raw or sli.bool_gauge):
        out.append(Diagnostic("warning", "minimumTraffic has no effect on raw and boolGauge SLIs (they "
                              "measure time, not requests)", "spec.alerting.minimumTraffic"))
    out.extend(tier_diagnostics(spec))
    if not out or all(d.severity == "warning" for d in out):
        # The generated expressions must parse too; a failure here is a bug or an exotic input.
        generated = queries(spec.sli.to_core(), "5m")
        for expr in (generated.errors, generated.total):
            if (e := parse_error(expr)) is not None:
                out.append(Diagnostic("error", f"the generated query does not parse ({e}): {expr}", "spec.sli"))
    return out


def tier_diagnostics(spec: SLOSpec) -> list[Diagnostic]:
    """Odd alert tiers (:func:`sloguard.core.windows.tier_findings`) as warnings with field paths.

    Custom tiers are located at ``spec.alerting.burnRates[i].<field>``; the default tiers (which
    only an objective so low that 14.4x cannot be reached makes odd) at ``spec.alerting``.
    """
    window = parse_window(spec.window, spec.timezone)
    custom = spec.alerting.burn_rates
    if spec.alerting.disabled or spec.objective_percent < 1:
        return []  # no alerts; or an objective that looks like a fraction, said above, would mislead here
    tiers = spec.tiers(window)
    out = []
    for f in tier_findings(tiers, window, round(spec.objective_percent / 100.0, 12)):
        if custom:
            path = "spec.alerting.burnRates" + (f"[{f.index}]" if f.index is not None else "")
            path += f".{f.field}" if f.field else ""
            out.append(Diagnostic("warning", f.message, path))
        else:
            which = f"default {tiers[f.index].severity} tier: " if f.index is not None else "default tiers: "
            out.append(Diagnostic("warning", which + f.message + " (set burnRates to choose tiers)", "spec.alerting"))
    return out


#: What the schema's patterns mean, said the way a person fixes them (pydantic would quote the regex).
_PATTERN_HINTS = {
    SERVICE_PATTERN: "must look like a Kubernetes label value: letters, digits and - _ . inside, "
                     "starting and ending with a letter or digit",
    LABEL_VALUE_PATTERN: "must not contain control characters or bidirectional-text controls (U+202A..E, "
                         "U+2066..9, ...)",
    TEXT_PATTERN: "must not contain control characters (other than tab and newline) or bidirectional-text "
                  "controls (U+202A..E, U+2066..9, ...)",
}


def _readable(diags: list[Diagnostic]) -> list[Diagnostic]:
    out = []
    for d in diags:
        for pattern, hint in _PATTERN_HINTS.items():
            if d.message == f"String should match pattern '{pattern}'":
                d = Diagnostic(d.severity, hint, d.path, d.source, d.kind, d.object)
        out.append(d)
    return out


def metadata_diagnostics(body: dict[str, Any]) -> list[Diagnostic]:
    """The object's name: what the CRD's root CEL rule refuses, said the same way."""
    meta = body.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if isinstance(name, str) and len(name) > NAME_MAX:
        return [Diagnostic("error", f"at most {NAME_MAX} characters (it becomes a label value of the generated "
                           f"rules); this one has {len(name)}", "metadata.name")]
    return []


def validate_slo_body(body: dict[str, Any]) -> tuple[Objective | None, list[Diagnostic]]:
    """Validate one SLO object (from a file or an AdmissionReview); diagnostics carry field paths.

    Never raises on bad input: anything the models let through but the conversion refuses is a
    diagnostic on ``spec`` too (an object stored before the schema got stricter reaches us here).
    """
    meta = body.get("metadata") if isinstance(body, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    names = metadata_diagnostics(body) if isinstance(body, dict) else []
    try:
        spec = SLOSpec.model_validate(body.get("spec") if isinstance(body, dict) else None)
    except ValidationError as e:
        return None, names + _readable(diagnostics_from_validation_error(e, "spec"))
    diags = names + semantic_diagnostics(spec)
    if any(d.severity == "error" for d in diags):
        return None, diags
    try:
        objective = spec.to_core(str(meta.get("namespace") or "default"), str(meta.get("name")))
    except ValueError as e:  # DurationError and friends: the models should have said it first
        return None, [*diags, Diagnostic("error", str(e), "spec")]
    return objective, diags


def iter_slo_documents(docs: list[Document]) -> Iterator[tuple[Document, list[Diagnostic]]]:
    """SLO documents with envelope findings; other sloguard kinds are left to their own loaders."""
    for doc in docs:
        if not is_sloguard(doc):
            if isinstance(doc.body, dict) and doc.kind in KNOWN_KINDS:
                # Our kind under another group: a typo, or another tool's CRD (Pyrra also has a
                # ServiceLevelObjective). Say so rather than silently generating nothing.
                yield doc, [Diagnostic("warning", f"apiVersion {doc.body.get('apiVersion')!r} is not "
                                       f"{c.API_VERSION!r}; this {doc.kind} is ignored", "apiVersion",
                                       doc.source, doc.kind, doc.ref)]
            elif not isinstance(doc.body, dict):
                yield doc, check_envelope(doc)
            continue  # another API's object in the same directory (a Deployment, say): not ours
        if doc.kind not in KNOWN_KINDS:
            yield doc, [Diagnostic("error", f"unknown kind {doc.body.get('kind')!r}; sloguard.io kinds are "
                                   f"{', '.join(KNOWN_KINDS)}", "kind", doc.source, doc.kind, doc.ref)]
            continue
        if doc.kind == c.KIND_SLO:
            yield doc, check_envelope(doc)


def load_objectives(paths: list[str], stdin_text: str | None = None) -> tuple[list[Objective], list[Diagnostic]]:
    """Every valid SLO in ``paths`` as a core Objective, and every finding, located."""
    result = load(paths, stdin_text)
    return result.objectives, result.diagnostics


def load(paths: list[str], stdin_text: str | None = None) -> LoadResult:
    return load_documents(*read_documents(paths, stdin_text))


def merge(first: LoadResult, then: LoadResult) -> LoadResult:
    """Two loads as one load of ``first``'s documents followed by ``then``'s.

    An SLO of ``then`` already in ``first`` is a duplicate there, found as :func:`load_documents`
    finds one (the same message, on the later object).
    """
    out = LoadResult(objectives=list(first.objectives), diagnostics=[*first.diagnostics, *then.diagnostics],
                     documents=[*first.documents, *then.documents], locations=dict(first.locations))
    for objective in then.objectives:
        loc = then.locations[objective.key]
        if objective.key in out.locations:
            out.diagnostics.append(Diagnostic("error", "duplicate object; first defined in "
                                              f"{out.locations[objective.key]['source']}", "metadata.name", **loc))
            continue
        out.objectives.append(objective)
        out.locations[objective.key] = loc
    return out


def load_documents(docs: list[Document], diags: Iterable[Diagnostic] = ()) -> LoadResult:
    """The valid SLOs among documents already read (files, stdin, the cluster), and every finding."""
    result = LoadResult(diagnostics=list(diags), documents=docs)
    seen: dict[str, str] = {}
    for doc, envelope in iter_slo_documents(docs):
        loc = {"source": doc.source, "kind": doc.kind, "object": doc.ref}
        if envelope or doc.kind != c.KIND_SLO:
            result.diagnostics.extend(d.located(**loc) for d in envelope)
            continue
        objective, found = validate_slo_body(doc.body)
        result.diagnostics.extend(d.located(**loc) for d in found)
        if objective is None:
            continue
        if objective.key in seen:
            result.diagnostics.append(Diagnostic("error", f"duplicate object; first defined in {seen[objective.key]}",
                                                 "metadata.name", **loc))
            continue
        seen[objective.key] = doc.source
        result.objectives.append(objective)
        result.locations[objective.key] = loc
    return result

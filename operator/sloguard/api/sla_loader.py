"""Reading SLAContract objects from files: contracts for the core, diagnostics for people.

Reuses the SLO loader's YAML reading and envelope checks, so a directory holding SLOs,
policies and contracts side by side reads the same way. Nothing here raises on bad input.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..core import conventions as c
from ..core.sla import Contract
from .common import Diagnostic, diagnostics_from_validation_error
from .loader import Document, check_envelope, is_sloguard, read_documents, sli_diagnostics
from .sla import SLAContractSpec, TermSpec


def _term_diagnostics(term: TermSpec, path: str) -> list[Diagnostic]:
    """PromQL that does not parse, tiers that cannot apply: what the schema cannot see."""
    sli = term.sli
    out = sli_diagnostics(sli, f"{path}.sli")

    if term.objective < 1:
        out.append(Diagnostic("warning", f"{term.objective} looks like a fraction; objective is in percent "
                              f"(did you mean {term.objective * 100:g}?)", f"{path}.objective"))
    for i, tier in enumerate(term.credits):
        if tier.below > term.objective:
            out.append(Diagnostic("warning", f"tier below {tier.below} is above the objective "
                                  f"{term.objective}: it pays a credit while the term is met",
                                  f"{path}.credits[{i}].below"))
    if term.type == "latency" and sli.latency and sli.latency.valid_below is None:
        out.append(Diagnostic("warning", "no validBelow: every request counts as valid (the seed treats "
                              "requests over 10s as invalid outliers)", f"{path}.sli.latency.validBelow"))
    if term.type != "uptime" and "slice" in term.model_fields_set:
        out.append(Diagnostic("warning", "slice only applies to uptime terms", f"{path}.slice"))
    return out


def validate_sla_body(body: dict[str, Any]) -> tuple[Contract | None, list[Diagnostic]]:
    """Validate one SLAContract object; diagnostics carry wire-spelled field paths."""
    meta = body.get("metadata") or {}
    try:
        spec = SLAContractSpec.model_validate(body.get("spec"))
    except ValidationError as e:
        return None, diagnostics_from_validation_error(e, "spec")
    diags: list[Diagnostic] = []
    for i, term in enumerate(spec.terms):
        diags.extend(_term_diagnostics(term, f"spec.terms[{i}]"))
    if any(d.severity == "error" for d in diags):
        return None, diags
    return spec.to_core(str(meta.get("namespace") or "default"), str(meta.get("name"))), diags


def contracts_from_documents(docs: list[Document]) -> tuple[list[Contract], list[Diagnostic]]:
    """Every valid SLAContract among ``docs`` and the findings about them, located.

    Objects of other kinds are skipped silently: their own loaders report on those.
    """
    found: list[Diagnostic] = []
    contracts: list[Contract] = []
    seen: dict[str, str] = {}
    for doc in docs:
        if not is_sloguard(doc) or doc.kind != c.KIND_SLA:
            continue
        loc = {"source": doc.source, "kind": doc.kind, "object": doc.ref}
        envelope = check_envelope(doc)
        if envelope:
            found.extend(d.located(**loc) for d in envelope)
            continue
        contract, ds = validate_sla_body(doc.body)
        found.extend(d.located(**loc) for d in ds)
        if contract is None:
            continue
        if contract.key in seen:
            found.append(Diagnostic("error", f"duplicate object; first defined in {seen[contract.key]}",
                                    "metadata.name", **loc))
            continue
        seen[contract.key] = doc.source
        contracts.append(contract)
    return contracts, found


def validate_documents(docs: list[Document]) -> list[Diagnostic]:
    """Findings about the SLAContracts among ``docs`` (``sloguard validate`` calls this)."""
    return contracts_from_documents(docs)[1]


def load_contracts(paths: list[str], stdin_text: str | None = None) -> tuple[list[Contract], list[Diagnostic]]:
    """Every valid SLAContract in ``paths`` (files or directories), and every finding, located."""
    docs, diags = read_documents(paths, stdin_text)
    contracts, found = contracts_from_documents(docs)
    return contracts, [*diags, *found]

"""Shared pieces of the API models: the camelCase base and diagnostics.

The pydantic models are the single source of truth for the custom resources: the CRD schemas
(`make crds`), the admission webhook, the CLI validator and the docs reference are all derived
from them, so a field is declared once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from ..core import policy as core
from . import cel


class CamelModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are errors, not ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding about one object: where (file, object, field path) and what to do."""

    severity: Severity
    message: str
    path: str = ""
    source: str = ""  # file name, or "admission" / "cluster"
    kind: str = ""
    object: str = ""  # "namespace/name"

    def __str__(self) -> str:
        where = [p for p in (self.source, " ".join(p for p in (self.kind, self.object) if p), self.path) if p]
        prefix = ": ".join(where)
        tag = "" if self.severity == "error" else "warning: "
        return printable(f"{prefix}: {tag}{self.message}" if prefix else f"{tag}{self.message}")

    def located(self, *, source: str = "", kind: str = "", object: str = "") -> Diagnostic:
        """The same finding with the file/object filled in where it was not yet."""
        return Diagnostic(
            self.severity,
            self.message,
            self.path,
            self.source or source,
            self.kind or kind,
            self.object or object,
        )


def printable(text: str) -> str:
    """``text`` on one line with control and format characters (newlines, bidi controls) escaped.

    Names and keys come from user input: a finding must stay one line and read as what it is.
    """
    if text.isascii() and text.isprintable():
        return text  # printable ASCII holds none of those (a thousand findings are printed at once)
    import unicodedata

    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp") else f"\\u{ord(ch):04x}"
                   for ch in text)


def join_path(prefix: str, loc: tuple[int | str, ...] | list[int | str]) -> str:
    """``("spec", "sli", "ratio", 0)`` -> ``spec.sli.ratio[0]``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out


def diagnostics_from_validation_error(err: ValidationError, prefix: str = "spec") -> list[Diagnostic]:
    """Pydantic errors as diagnostics with field paths in the wire (camelCase) spelling."""
    out: list[Diagnostic] = []
    for e in err.errors(include_url=False):
        loc = [p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; fields are camelCase)"
        elif e["type"] == "missing":
            msg = "required field is missing"
        msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        out.append(Diagnostic("error", msg, join_path(prefix, loc)))
    return out


def known_timezone(value: str) -> str:
    """An IANA timezone name, or a ValueError a person can act on (field validators call this)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Europe/Berlin)") from None
    return value


# --- time windows (SLO and SLAContract maintenance) --------------------------------------------


class TimeWindow(CamelModel):
    """``[start, end)`` with both ends RFC 3339 and end after start (checked here and in the API
    server's CEL, where strings of format date-time are timestamps)."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": cel.validations(("self.end > self.start", "end must be after start"))
    }
    start: AwareDatetime = Field(description="Start, RFC 3339 with Z or an offset, e.g. 2026-10-03T01:30:00Z.")
    end: AwareDatetime = Field(description="End (exclusive), RFC 3339; after start.")

    @model_validator(mode="after")
    def _end_after_start(self) -> TimeWindow:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


# --- workload selectors (ErrorBudgetPolicy targets, SLO workloads) ------------------------------


class LabelSelectorRequirement(CamelModel):
    key: str = Field(min_length=1, description="The label key the selector applies to.")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = Field(description="In, NotIn, Exists or "
                                                                        "DoesNotExist.")
    values: list[str] = Field(default_factory=list, description="Values for In and NotIn; empty otherwise.")


class LabelSelector(CamelModel):
    """A Kubernetes label selector; an empty selector matches everything."""

    match_labels: dict[str, str] = Field(default_factory=dict, description="Labels that must all be equal.")
    match_expressions: list[LabelSelectorRequirement] = Field(default_factory=list,
                                                              description="Requirements that must all hold.")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.match_labels:
            out["matchLabels"] = dict(self.match_labels)
        if self.match_expressions:
            out["matchExpressions"] = [e.model_dump(by_alias=True) for e in self.match_expressions]
        return out

    def to_core(self) -> core.Selector:
        return core.Selector(dict(self.match_labels),
                             tuple((e.key, e.operator, tuple(e.values)) for e in self.match_expressions))

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.to_core().matches(labels)


class Target(CamelModel):
    """Workloads a decision applies to, in the policy's namespace."""

    kind: Literal["Deployment", "StatefulSet", "DaemonSet"] = Field(description="Deployment, StatefulSet or "
                                                                     "DaemonSet (apps/v1).")
    selector: LabelSelector = Field(description="Label selector over the workloads' own labels.")

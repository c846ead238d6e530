"""CustomResourceDefinitions generated from the pydantic models (the one source of truth).

pydantic emits JSON Schema 2020-12; Kubernetes wants a *structural* OpenAPI v3 schema: no
``$ref``, no ``anyOf`` around a type, ``nullable`` instead of ``null`` types, boolean
``exclusiveMinimum``. This module does that translation and adds the CRD envelope (names,
printer columns, status subresource, categories). ``make crds`` writes ``crds/``; a test fails
when the files drift from the models.

Defaults are deliberately *not* put into the schema: API-server defaulting would write them
into stored objects, which GitOps tools then see as drift. Defaults live in the models and are
documented in the descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ..core import conventions as c

_DROP = {"title", "default", "examples"}


def _resolve(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, list):
        return [_resolve(s, defs) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = defs[schema["$ref"].split("/")[-1]]
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return _resolve(merged, defs)
    return {k: _resolve(v, defs) for k, v in schema.items() if k != "$defs"}


def _optional(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` (an Optional field) -> X's structural node; any other anyOf is refused."""
    options = [o for o in node.pop("anyOf") if o.get("type") != "null"]
    if len(options) != 1:
        raise ValueError(f"cannot express anyOf with {len(options)} non-null options structurally")
    inner = to_structural(options[0])
    # The outer node's description wins; validations from both are kept.
    rules = inner.get("x-kubernetes-validations", []) + node.get("x-kubernetes-validations", [])
    node = {**inner, **{k: v for k, v in node.items() if k not in _DROP}}
    if rules:
        node["x-kubernetes-validations"] = rules
    return node


def _additional_properties(node: dict[str, Any]) -> None:
    """Map values converted; ``false`` dropped (structural schemas prune); ``true`` preserves unknown fields."""
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = to_structural(node["additionalProperties"])
    elif node.get("additionalProperties") is False:
        node.pop("additionalProperties")  # structural schemas prune unknown fields by default
    elif node.get("additionalProperties") is True:
        # extra="allow": keep unknown fields *and everything under them*. `additionalProperties:
        # true` next to `properties` would keep the key but prune its children (kopf's
        # status.kopf.* bookkeeping came back as `kopf: {}`).
        node.pop("additionalProperties")
        node["x-kubernetes-preserve-unknown-fields"] = True


def _openapi_keywords(node: dict[str, Any]) -> None:
    """JSON Schema 2020 keywords OpenAPI v3.0 spells differently: const, numeric exclusive bounds."""
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if node.get("type") == "null":
        raise ValueError("a bare null type has no structural form")
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if bound in node and not isinstance(node[bound], bool):
            node[flag] = node.pop(bound)
            node[bound] = True


def to_structural(schema: dict[str, Any]) -> dict[str, Any]:
    """One JSON-Schema node -> a structural OpenAPI v3 node (recursively)."""
    node = dict(schema)
    if "anyOf" in node:
        return _optional(node)
    for key in list(node):
        if key in _DROP:
            node.pop(key)
    _openapi_keywords(node)
    if "properties" in node:
        node["properties"] = {k: to_structural(v) for k, v in node["properties"].items()}
        node.setdefault("type", "object")
    _additional_properties(node)
    if "items" in node:
        node["items"] = to_structural(node["items"])
    if node.get("format") == "date-time":
        node["type"] = "string"
    if node.get("type") == "object" and "properties" not in node and "additionalProperties" not in node:
        node["x-kubernetes-preserve-unknown-fields"] = True
    if node.get("type") == "integer" and "format" not in node:
        node["format"] = "int64"
    return node


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return to_structural(_resolve(raw, raw.get("$defs", {})))


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    json_path: str
    description: str = ""
    priority: int = 0
    format: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.description:
            out["description"] = self.description
        if self.priority:
            out["priority"] = self.priority
        if self.format:
            out["format"] = self.format
        return out


@dataclass(frozen=True)
class CRDSpec:
    """What differs between our kinds; everything else is the same envelope."""

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    spec_model: type[BaseModel]
    status_model: type[BaseModel]
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)
    #: Shown by ``kubectl get -o wide`` only (priority 1), after Age as kubectl's own kinds do.
    wide_columns: tuple[Column, ...] = field(default_factory=tuple)
    #: CEL rules on the whole object (the only place CEL sees ``metadata.name``).
    root_validations: tuple[dict[str, Any], ...] = ()
    #: Reconciled by the operator: a Ready condition, kopf's bookkeeping in status.
    reconciled: bool = True


AGE = Column("Age", "date", ".metadata.creationTimestamp")
_READY = '.status.conditions[?(@.type=="Ready")]'
#: Every reconciled kind says whether it is Ready (so a broken object never looks healthy), and
#: why not under -o wide.
READY = Column("Ready", "string", f"{_READY}.status", "The Ready condition: True, False or Unknown")
READY_WIDE = (
    Column("Reason", "string", f"{_READY}.reason", "Why the object is (not) Ready", priority=1),
    Column("Message", "string", f"{_READY}.message", "The Ready condition's message", priority=1),
)
#: ``status.conditions`` of every kind: a list map keyed by ``type``, so writers of different
#: conditions (the rules reconcile and the budget loop of an SLO) apply only their own with
#: server-side apply and never drop each other's.
CONDITIONS_LIST_MAP = {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]}
#: kopf's own bookkeeping (handler progress) under ``status.kopf``: declared, not ours to describe.
KOPF_STATUS = {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
               "description": "kopf's bookkeeping of handler progress (the operator framework's, not an API)."}


def columns(spec: CRDSpec) -> list[dict[str, Any]]:
    """Printer columns: the kind's own, Ready, Age, then the -o wide ones (priority 1)."""
    ready = (READY,) if spec.reconciled else ()
    wide = (*spec.wide_columns, *(READY_WIDE if spec.reconciled else ()))
    for col in wide:
        assert col.priority == 1, f"{spec.kind} column {col.name}: wide columns have priority 1"
    return [col.to_dict() for col in (*spec.columns, *ready, AGE, *wide)]


def status_schema(spec: CRDSpec) -> dict[str, Any]:
    schema = model_schema(spec.status_model)
    schema["x-kubernetes-preserve-unknown-fields"] = True  # room for fields of newer operators
    props = schema.setdefault("properties", {})
    if "conditions" in props:
        conditions = props["conditions"]
        assert conditions.get("type") == "array" and "type" in conditions["items"].get("required", []), (
            f"{spec.kind} status.conditions: a list of conditions with a required type")
        conditions.update(CONDITIONS_LIST_MAP)
    if spec.reconciled:
        props["kopf"] = dict(KOPF_STATUS)
    return schema


def crd(spec: CRDSpec) -> dict[str, Any]:
    spec_schema = model_schema(spec.spec_model)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{spec.plural}.{c.GROUP}",
            "labels": {"app.kubernetes.io/name": "sloguard", "app.kubernetes.io/part-of": "sloguard"},
        },
        "spec": {
            "group": c.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": spec.kind,
                "listKind": f"{spec.kind}List",
                "plural": spec.plural,
                "singular": spec.singular,
                "shortNames": list(spec.short_names),
                "categories": [c.CATEGORY],
            },
            "versions": [
                {
                    "name": c.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns(spec),
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": spec.description,
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema(spec),
                            },
                            **({"x-kubernetes-validations": [dict(r) for r in spec.root_validations]}
                               if spec.root_validations else {}),
                        }
                    },
                }
            ],
        },
    }


def all_crd_specs() -> list[CRDSpec]:
    """Every kind we serve; kinds whose models are not there yet are left out."""
    from ..core.causes import CAUSES
    from .slo import ROOT_VALIDATIONS, SLOSpec, SLOStatus

    specs = [
        CRDSpec(
            kind=c.KIND_SLO,
            plural=c.PLURAL_SLO,
            singular=c.SINGULAR_SLO,
            short_names=(c.SHORT_SLO,),
            spec_model=SLOSpec,
            status_model=SLOStatus,
            description="A service level objective: an SLI, an objective and a window. sloguard generates "
            "its Prometheus rules and keeps its error budget in status.",
            columns=(
                Column("Service", "string", ".spec.service"),
                Column("Objective", "number", ".status.objective", "Objective in percent"),
                Column("Window", "string", ".spec.window"),
                Column("Remaining", "number", ".status.budget.remainingPercent", "Error budget left, percent"),
                Column("Burn 1h", "number", ".status.burnRate1h", "Burn rate over the last hour"),
                Column("State", "string", ".status.state"),
            ),
            wide_columns=(
                Column("SLI", "number", ".status.sli", "Good ratio over the window (fraction)", priority=1),
                Column("Consumed", "number", ".status.budget.consumed", "Share of the budget spent", priority=1),
                Column("Left", "number", ".status.budget.remainingSeconds",
                       "Seconds of full outage still affordable", priority=1),
                *(Column(f"Burn {w}", "number", f".status.burnRates.{w}", f"Burn rate over the last {w}",
                         priority=1) for w in ("5m", "6h", "1d", "3d")),
                Column("ETA", "number", ".status.timeToExhaustionSeconds",
                       "Seconds until the budget is spent at the current burn rate", priority=1),
                Column("Score", "integer", ".status.healthScore", "Health score, 0 to 100", priority=1),
                Column("Data", "number", ".status.budget.coverage", "Share of the window with data", priority=1),
                *(Column(cause.capitalize(), "number", f".status.budget.byCause.{cause}",
                         f"Share of the budget spent by {cause}", priority=1) for cause in CAUSES),
            ),
            root_validations=tuple(ROOT_VALIDATIONS),
        )
    ]
    import importlib

    for module in ("sloguard.api.policy", "sloguard.api.sla"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError:
            continue
        crd_spec = getattr(mod, "CRD_SPEC", None)
        if crd_spec is not None:
            specs.append(crd_spec)
        hold_spec = getattr(mod, "HOLD_CRD_SPEC", None)
        if hold_spec is not None:
            specs.append(hold_spec)
    return specs


def all_crds() -> list[dict[str, Any]]:
    return [crd(s) for s in all_crd_specs()]


def write_crds(directory: str) -> list[str]:
    """Write one file per CRD into ``directory``; returns the paths written."""
    from pathlib import Path

    from .yamlio import dump_yaml

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for doc in all_crds():
        path = out / f"{doc['metadata']['name']}.yaml"
        path.write_text("# Generated by `make crds` from sloguard.api models. Do not edit.\n" + dump_yaml(doc))
        written.append(str(path))
    return written


if __name__ == "__main__":
    import sys

    for p in write_crds(sys.argv[1] if len(sys.argv) > 1 else "crds"):
        print(p)

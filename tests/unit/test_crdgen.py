"""CRDs: generated from the models, committed under crds/, structural, with the contract's names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloguard.api.crdgen import all_crds

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"


def committed() -> dict[str, Any]:
    docs = [yaml.safe_load(p.read_text()) for p in sorted(CRD_DIR.glob("*.yaml"))]
    return {d["metadata"]["name"]: d for d in docs}


def generated() -> dict[str, Any]:
    return {d["metadata"]["name"]: d for d in all_crds()}


def test_the_committed_crds_are_exactly_what_the_models_generate() -> None:
    files, models = committed(), generated()
    assert sorted(files) == sorted(models), "crds/ and the models name different CRDs: run `make crds`"
    for name, doc in models.items():
        assert files[name] == doc, f"crds/{name}.yaml drifted from the pydantic models: run `make crds`"


def schema_nodes(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node (not the names under ``properties``), with a readable path."""
    if not isinstance(node, dict):
        return
    yield path, node
    for name, child in (node.get("properties") or {}).items():
        yield from schema_nodes(child, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from schema_nodes(node["additionalProperties"], f"{path}.*")
    if isinstance(node.get("items"), dict):
        yield from schema_nodes(node["items"], f"{path}[]")


def all_schema_nodes() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, doc in generated().items():
        for version in doc["spec"]["versions"]:
            for path, node in schema_nodes(version["schema"]["openAPIV3Schema"]):
                yield name, path or "<root>", node


@pytest.mark.parametrize("forbidden", ["$ref", "$defs", "anyOf", "oneOf", "allOf", "const", "title", "default"])
def test_no_schema_node_uses_a_keyword_a_structural_schema_forbids(forbidden: str) -> None:
    offenders = [f"{crd}{path}" for crd, path, node in all_schema_nodes() if forbidden in node]
    assert offenders == []


def test_every_schema_node_has_a_single_non_null_type() -> None:
    offenders = [f"{crd}{path}: {node.get('type')!r}" for crd, path, node in all_schema_nodes()
                 if node.get("type") not in ("object", "array", "string", "number", "integer", "boolean")]
    assert offenders == []


def test_every_object_node_says_what_it_may_hold() -> None:
    # The root `metadata: {type: object}` is the one exception: the API server supplies ObjectMeta itself.
    keys = ("properties", "additionalProperties", "x-kubernetes-preserve-unknown-fields")
    offenders = [f"{crd}{path}" for crd, path, node in all_schema_nodes()
                 if node.get("type") == "object" and path != ".metadata" and not any(k in node for k in keys)]
    assert offenders == []


def test_exclusive_bounds_are_openapi_v3_booleans() -> None:
    for crd, path, node in all_schema_nodes():
        for key in ("exclusiveMinimum", "exclusiveMaximum"):
            if key in node:
                assert node[key] is True, f"{crd}{path}"
                assert ("minimum" if key == "exclusiveMinimum" else "maximum") in node, f"{crd}{path}"


def slo_crd() -> dict[str, Any]:
    return generated()["servicelevelobjectives.sloguard.io"]


def test_the_slo_crd_has_the_contracted_names_and_a_status_subresource() -> None:
    spec = slo_crd()["spec"]
    assert (spec["group"], spec["scope"]) == ("sloguard.io", "Namespaced")
    assert spec["names"] == {
        "kind": "ServiceLevelObjective",
        "listKind": "ServiceLevelObjectiveList",
        "plural": "servicelevelobjectives",
        "singular": "servicelevelobjective",
        "shortNames": ["slo"],
        "categories": ["sloguard"],
    }
    [version] = spec["versions"]
    assert (version["name"], version["served"], version["storage"], version["subresources"]) == (
        "v1alpha1", True, True, {"status": {}})
    # `kubectl get slo`; `-o wide` adds the priority-1 columns (tests/unit/test_crd_columns.py)
    assert [c["name"] for c in version["additionalPrinterColumns"] if "priority" not in c] == [
        "Service", "Objective", "Window", "Remaining", "Burn 1h", "State", "Ready", "Age"]


def spec_schema() -> dict[str, Any]:
    return slo_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]


@pytest.mark.parametrize(
    "field",
    ["service", "tier", "description", "objective", "window", "timezone", "budgetingMethod", "timeslice", "sli",
     "alerting"],
)
def test_every_spec_field_of_the_contract_is_in_the_schema_with_a_description(field: str) -> None:
    assert spec_schema()["properties"][field]["description"]


def test_the_sli_offers_exactly_the_five_kinds_and_a_cel_rule_requires_one() -> None:
    sli = spec_schema()["properties"]["sli"]
    assert list(sli["properties"]) == ["ratio", "ratioQuery", "latency", "raw", "boolGauge"]
    [rule] = sli["x-kubernetes-validations"]
    assert rule["rule"] == ("[has(self.ratio), has(self.ratioQuery), has(self.latency), has(self.raw), "
                            "has(self.boolGauge)].filter(x, x).size() == 1")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("objective",), {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 100,
                          "exclusiveMaximum": True}),
        (("budgetingMethod",), {"type": "string", "enum": ["Occurrences", "Timeslices"]}),
        (("tier",), {"type": "string", "enum": ["tier-0", "tier-1", "tier-2", "tier-3"]}),
        (("window",), {"type": "string", "pattern": r"^(([0-9]+(s|m|h|d|w|y))+|month|week|quarter)$",
                       "maxLength": 32, "x-kubernetes-validations": [
                           {"rule": "self in ['month', 'week', 'quarter'] || self.matches('[1-9]')",
                            "message": "must be longer than zero"}]}),
        (("service",), {"type": "string", "pattern": r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$",
                        "minLength": 1, "maxLength": 63}),
    ],
)
def test_ranges_enums_and_patterns_are_in_the_schema(path: tuple[str, ...], expected: dict[str, Any]) -> None:
    node = spec_schema()["properties"]
    for part in path:
        node = node[part]
    assert {k: v for k, v in node.items() if k != "description"} == expected


def test_the_cross_field_rules_are_cel_validations_on_the_spec() -> None:
    assert [r["message"] for r in spec_schema()["x-kubernetes-validations"]] == [
        "give an objective or a tier", "budgetingMethod Timeslices needs timeslice"]
    assert spec_schema()["required"] == ["service", "sli"]

"""The CRDs as kubectl shows them: a Ready column everywhere, budget columns under -o wide, every
column pointing at a declared status field, conditions as a list map, every status field described;
and the status checker the e2e suite runs after every test (tests/e2e/status_schema.py)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.status_schema import findings, status_schema

from sloguard.api.crdgen import all_crds

CRDS = {crd["spec"]["names"]["kind"]: crd for crd in all_crds()}
RECONCILED = ("ServiceLevelObjective", "ErrorBudgetPolicy", "SLAContract")
READY = '.status.conditions[?(@.type=="Ready")]'


def columns(kind: str) -> list[dict[str, Any]]:
    return CRDS[kind]["spec"]["versions"][0]["additionalPrinterColumns"]  # type: ignore[no-any-return]


def schema_at(crd: dict[str, Any], json_path: str) -> dict[str, Any] | None:
    """The schema node a simple printer-column path (``.status.a.b``, ``[0]``, a Ready filter) names."""
    node = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    path = json_path.replace(READY, ".status.conditions[0]").lstrip(".")
    for part in path.split("."):
        name, _, index = part.partition("[")
        props = node.get("properties", {})
        node = props[name] if name in props else node.get("additionalProperties")
        if node is None:
            return None
        if index:
            node = node["items"]
    return node


@pytest.mark.parametrize("kind", RECONCILED)
def test_every_reconciled_kind_shows_ready_and_why_under_wide(kind: str) -> None:
    by_name = {c["name"]: c for c in columns(kind)}
    assert by_name["Ready"]["jsonPath"] == f"{READY}.status" and "priority" not in by_name["Ready"]
    assert by_name["Reason"] == {**by_name["Reason"], "jsonPath": f"{READY}.reason", "priority": 1}
    assert by_name["Message"] == {**by_name["Message"], "jsonPath": f"{READY}.message", "priority": 1}
    names = [c["name"] for c in columns(kind)]
    # the kind's own columns, Ready, Age; then what -o wide adds, as kubectl's own kinds do
    assert names.index("Ready") < names.index("Age") < names.index("Reason") < names.index("Message")
    assert all(c.get("priority") == 1 for c in columns(kind)[names.index("Age") + 1:])


def test_slo_wide_columns_are_the_budget_by_window() -> None:
    wide = {c["name"]: c["jsonPath"] for c in columns("ServiceLevelObjective") if c.get("priority") == 1}
    assert {"Burn 5m", "Burn 6h", "Burn 1d", "Burn 3d", "Consumed", "Left", "ETA", "Score", "SLI", "Data"} <= set(wide)
    assert wide["Burn 6h"] == ".status.burnRates.6h"
    narrow = [c["name"] for c in columns("ServiceLevelObjective") if "priority" not in c]
    assert narrow == ["Service", "Objective", "Window", "Remaining", "Burn 1h", "State", "Ready", "Age"]


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_every_column_points_at_a_declared_field(kind: str) -> None:
    for col in columns(kind):
        if col["jsonPath"].startswith(".metadata."):
            continue  # ObjectMeta: the API server's
        node = schema_at(CRDS[kind], col["jsonPath"])
        assert node is not None, f"{kind} column {col['name']}: {col['jsonPath']} is not in the schema"
        assert col["type"] in (node.get("type"), "date") or (col["type"] == "number" and node.get("type") ==
                                                              "integer"), (kind, col, node.get("type"))


@pytest.mark.parametrize("kind", RECONCILED)
def test_conditions_are_a_list_map_keyed_by_type(kind: str) -> None:
    conditions = status_schema(CRDS[kind])["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert {"type", "status"} <= set(conditions["items"]["required"])


def _undescribed(node: dict[str, Any], path: str) -> list[str]:
    out = []
    for name, child in node.get("properties", {}).items():
        if not child.get("description"):
            out.append(f"{path}.{name}")
        out += _undescribed(child.get("items", child), f"{path}.{name}")
    return out


@pytest.mark.parametrize("kind", RECONCILED)
def test_every_status_field_is_described_for_kubectl_explain(kind: str) -> None:
    assert _undescribed(status_schema(CRDS[kind]), "status") == []


def test_burn_rate_1h_is_declared_as_the_operator_writes_it() -> None:
    props = status_schema(CRDS["ServiceLevelObjective"])["properties"]
    assert "burnRate1h" in props and "burnRate1H" not in props


# --- the checker -------------------------------------------------------------------------------------------

SCHEMA = status_schema(CRDS["ServiceLevelObjective"])


def test_a_status_as_the_operator_writes_it_has_no_findings() -> None:
    status = {"observedGeneration": 2, "state": "healthy", "burnRate1h": 0.5, "burnRates": {"5m": 1.2, "1h": None},
              "budget": {"consumed": 0.1, "remaining": 0.9, "remainingPercent": 90.0, "remainingSeconds": 2332},
              "conditions": [{"type": "Ready", "status": "True", "reason": "RulesApplied", "message": "",
                              "lastTransitionTime": "2026-10-01T00:00:00Z"}],
              "healthScore": 90, "hints": [], "kopf": {"progress": {"x": {"retries": 1}}}}
    assert findings(status, SCHEMA) == []


@pytest.mark.parametrize(("status", "finding"), [
    ({"burnRate1H": 0.5}, "status.burnRate1H: not in the schema"),
    ({"budget": {"remainingPct": 90}}, "status.budget.remainingPct: not in the schema"),
    ({"healthScore": "90"}, "status.healthScore: str '90' where the schema says integer"),
    ({"burnRates": {"5m": "fast"}}, "status.burnRates.5m: str 'fast' where the schema says number"),
    ({"conditions": [{"type": "Ready", "status": "Yes"}]}, "status.conditions[0].status: 'Yes' is not one of"),
    ({"conditions": [{"type": "Ready"}]}, "status.conditions[0].status: required by the schema, missing"),
    ({"state": True}, "status.state: bool True where the schema says string"),
])
def test_drift_is_found_with_its_path(status: dict[str, Any], finding: str) -> None:
    assert any(f.startswith(finding) for f in findings(status, SCHEMA)), findings(status, SCHEMA)

"""Argo CD health checks: the shipped Lua, run (lupa) over fixtures in Argo CD's own layout.

``argocd/resource_customizations/sloguard.io/KIND/`` holds ``health.lua``, ``health_test.yaml`` and
``testdata/`` exactly as Argo CD's repository keeps its built-in checks, so they can be offered
upstream as they are; this module runs them the way Argo CD's test does (the object as the global
``obj``, status and message compared exactly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lupa
import pytest
import yaml

from .conftest import REPO_ROOT

HEALTH = REPO_ROOT / "argocd" / "resource_customizations" / "sloguard.io"
KINDS = ("ServiceLevelObjective", "ErrorBudgetPolicy", "SLAContract")


def run_health(script: Path, obj: dict[str, Any]) -> tuple[str, str]:
    """Run a health script as Argo CD does: ``obj`` global, returns a table {status, message}."""
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(script.read_text())
    return result["status"], result["message"] or ""


def fixtures() -> list[tuple[str, Path, dict[str, Any]]]:
    out = []
    for kind in KINDS:
        for case in yaml.safe_load((HEALTH / kind / "health_test.yaml").read_text())["tests"]:
            out.append((kind, HEALTH / kind / case["inputPath"], case["healthStatus"]))
    return out


FIXTURES = fixtures()


@pytest.mark.parametrize(("kind", "path", "expected"), FIXTURES, ids=[f"{k}-{p.stem}" for k, p, _ in FIXTURES])
def test_health_check_gives_the_documented_status(kind, path, expected):
    body = yaml.safe_load(path.read_text())
    assert body["kind"] == kind
    status, message = run_health(HEALTH / kind / "health.lua", body)
    assert {"status": status, "message": message} == expected


@pytest.mark.parametrize("case", ["no-status", "old-generation", "no-ready-condition", "ready-unknown", "ready-false"])
def test_the_three_checks_agree_on_the_common_cases(case):
    """No status, an old generation or no Ready -> Progressing; Ready=False -> Degraded, for every kind."""
    results = set()
    for kind in KINDS:
        body = yaml.safe_load((HEALTH / kind / "testdata" / f"{case}.yaml").read_text())
        results.add(run_health(HEALTH / kind / "health.lua", body))
    assert len(results) == 1, results
    assert results.pop()[0] == ("Degraded" if case == "ready-false" else "Progressing")


def test_every_testdata_file_is_used_by_its_health_test():
    for kind in KINDS:
        tests = yaml.safe_load((HEALTH / kind / "health_test.yaml").read_text())["tests"]
        listed = {case["inputPath"] for case in tests}
        on_disk = {f"testdata/{p.name}" for p in (HEALTH / kind / "testdata").glob("*.yaml")}
        assert listed == on_disk, kind


@pytest.mark.parametrize("kind", KINDS)
def test_the_fixture_statuses_are_valid_operator_statuses(kind):
    """The fixtures are shapes the operator really writes, not invented ones."""
    from sloguard.api.policy import ErrorBudgetPolicyStatus
    from sloguard.api.sla import SLAContractStatus
    from sloguard.api.slo import SLOStatus

    cls = {"ServiceLevelObjective": SLOStatus, "SLAContract": SLAContractStatus,
           "ErrorBudgetPolicy": ErrorBudgetPolicyStatus}[kind]
    for path in (HEALTH / kind / "testdata").glob("*.yaml"):
        body = yaml.safe_load(path.read_text())
        if "status" in body:
            cls.model_validate(body["status"])


def test_argocd_cm_carries_exactly_the_shipped_scripts():
    data = yaml.safe_load((REPO_ROOT / "argocd" / "argocd-cm-health.yaml").read_text())["data"]
    assert set(data) == {f"resource.customizations.health.sloguard.io_{k}" for k in KINDS}
    assert set(data.values()) == {(HEALTH / k / "health.lua").read_text() for k in KINDS}


def test_the_example_applications_put_crds_in_an_earlier_wave():
    apps = {d["metadata"]["name"]: d for d in yaml.safe_load_all((REPO_ROOT / "argocd" / "application.yaml")
                                                                 .read_text())}
    wave = {n: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for n, a in apps.items()}
    assert wave["sloguard-crds"] < wave["sloguard"]
    assert apps["sloguard"]["spec"]["source"]["helm"]["skipCrds"] is True
    assert (REPO_ROOT / apps["sloguard"]["spec"]["source"]["path"] / "Chart.yaml").is_file()
    assert (REPO_ROOT / apps["sloguard-crds"]["spec"]["source"]["path"] / "Chart.yaml").is_file()

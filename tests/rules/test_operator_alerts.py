"""The operator's own alerts (the chart's ``metrics.alerts``): valid rules, and promtool scenarios in
``operator-alerts.test.yaml`` proving each alert fires and resolves when it should."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from harness import PROMTOOL

from sloguard.core.operator_alerts import operator_alert_groups

HERE = Path(__file__).resolve().parent
RULES = HERE.parents[1] / "charts" / "sloguard" / "files" / "sloguard-operator.rules.yaml"
SCENARIOS = HERE / "operator-alerts.test.yaml"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, check=False)


def test_the_chart_ships_the_generated_rules_and_promtool_accepts_them() -> None:
    assert yaml.safe_load(RULES.read_text()) == {"groups": operator_alert_groups()}
    proc = promtool("check", "rules", str(RULES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 rules found" in proc.stdout + proc.stderr


def minutes(eval_time: str) -> int:
    assert eval_time.endswith("m"), eval_time
    return int(eval_time[:-1])


def test_each_alert_fires_and_resolves_in_the_promtool_scenarios() -> None:
    proc = promtool("test", "rules", str(SCENARIOS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    scenarios = yaml.safe_load(SCENARIOS.read_text())["tests"]
    checks = [c for t in scenarios for c in t["alert_rule_test"]]
    for rule in operator_alert_groups()[0]["rules"]:
        mine = [c for c in checks if c["alertname"] == rule["alert"]]
        assert any(c["exp_alerts"] for c in mine), f"{rule['alert']} never expected to fire"
        fired = min(minutes(c["eval_time"]) for c in mine if c["exp_alerts"])
        quiet = [minutes(c["eval_time"]) for c in mine if not c["exp_alerts"]]
        assert any(t > fired for t in quiet), f"{rule['alert']} never resolves"
        assert any(t < fired for t in quiet), f"{rule['alert']} fires at once"


def test_exhausted_budget_alerts_carry_the_slo_labels_alertmanager_routes_on() -> None:
    scenarios = yaml.safe_load(SCENARIOS.read_text())["tests"]
    fired = [a["exp_labels"] for t in scenarios for c in t["alert_rule_test"]
             if c["alertname"] == "ErrorBudgetExhausted" for a in c["exp_alerts"]]
    assert fired and all({"namespace", "slo", "service", "slo_namespace"} <= set(labels) for labels in fired)

"""The operator's one Settings model: flags over SLOGUARD_* variables, one truthiness rule, errors by name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sloguard.adapters.settings import (
    ENV,
    FLAG,
    Settings,
    SettingsError,
    feature_env,
    features,
    flags_from_args,
    markdown_table,
)
from sloguard.cli import build_parser

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_run(argv: list[str], env: dict[str, str]) -> Settings:
    """What ``sloguard run ARGV`` with the environment ``env`` would run with."""
    args = build_parser(["run"]).parse_args(["run", *argv])
    return Settings.load(flags_from_args(args), env=env)


def test_nothing_given_means_the_documented_defaults() -> None:
    s = load_run([], {})
    assert (s.namespaces, s.rule_labels, s.refresh_interval, s.log_format, s.log_level) == ((), {}, 30.0, "plain",
                                                                                            "info")
    assert (s.webhook.enabled, s.webhook.port, s.webhook.failure_policy, s.enforcement) == (
        False, 9443, "Ignore", "admissionPolicy")
    assert (s.dashboards, s.policies, s.sla, s.metrics_address) == (False, True, True, "0.0.0.0:8081")
    assert s.prometheus.url is None and s.evaluate_at is None


def test_a_variable_sets_what_no_flag_gives() -> None:
    s = load_run([], {"SLOGUARD_REFRESH_INTERVAL": "12.5", "SLOGUARD_NAMESPACES": "a, b", "SLOGUARD_WEBHOOK": "true",
                      "SLOGUARD_RULE_LABELS": "prometheus=main,team=x", "SLOGUARD_WEBHOOK_SERVICE": "ops/hook",
                      "SLOGUARD_PROMETHEUS_URL": "http://p:9090", "POD_NAME": "op-1", "POD_NAMESPACE": "ops"})
    assert s.refresh_interval == 12.5 and s.namespaces == ("a", "b") and s.webhook.enabled
    assert s.rule_labels == {"prometheus": "main", "team": "x"}
    assert (s.webhook.service_namespace, s.webhook.service_name) == ("ops", "hook")
    assert s.prometheus_url == "http://p:9090" and (s.identity, s.lease_namespace) == ("op-1", "ops")


def test_a_flag_wins_over_its_variable() -> None:
    env = {"SLOGUARD_REFRESH_INTERVAL": "12", "SLOGUARD_NAMESPACES": "a,b", "SLOGUARD_LOG_LEVEL": "error",
           "SLOGUARD_METRICS_ADDRESS": "127.0.0.1:9000", "SLOGUARD_PROMETHEUS_URL": "http://env:9090",
           "SLOGUARD_RULE_LABELS": "from=env"}
    s = load_run(["--refresh-interval=60", "-n", "c", "--log-level", "debug", "--metrics-address=",
                  "--prometheus", "http://flag:9090", "--rule-label", "from=flag"], env)
    assert (s.refresh_interval, s.namespaces, s.log_level, s.metrics_address) == (60.0, ("c",), "debug", "")
    assert s.prometheus_url == "http://flag:9090" and s.rule_labels == {"from": "flag"}


def test_a_switch_that_is_on_by_default_is_turned_off_by_its_no_flag_over_the_variable() -> None:
    assert load_run([], {}).slo_reports is True
    assert load_run(["--no-slo-reports"], {"SLOGUARD_SLO_REPORTS": "true"}).slo_reports is False
    assert load_run(["--slo-reports"], {"SLOGUARD_SLO_REPORTS": "no"}).slo_reports is True
    assert load_run([], {"SLOGUARD_SLO_REPORTS": "0"}).slo_reports is False


def test_the_feature_switches_reach_the_handlers_through_their_variables() -> None:
    s = load_run(["--no-slo-reports"], {"SLOGUARD_POLICIES": "no"})
    assert features(feature_env(s)) == (False, False, True)


def test_all_namespaces_as_a_flag_wins_over_a_namespace_list_in_the_environment() -> None:
    assert load_run(["-A"], {"SLOGUARD_NAMESPACES": "a,b"}).namespaces == ()


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("1", True), ("yes", True), ("TRUE", True), ("Yes", True),
    ("false", False), ("0", False), ("no", False), ("False", False), ("NO", False),
])
def test_every_boolean_follows_one_rule(text: str, expected: bool) -> None:
    env = {"SLOGUARD_WEBHOOK": text, "SLOGUARD_DASHBOARDS": text, "SLOGUARD_POLICIES": text, "SLOGUARD_SLA": text,
           "SLOGUARD_SLO_REPORTS": text, "SLOGUARD_PROMETHEUS_INSECURE_SKIP_VERIFY": text}
    s = Settings.from_env(env)
    assert (s.webhook.enabled, s.dashboards, s.policies, s.sla, s.slo_reports, s.prometheus.insecure_skip_verify) == (
        expected,) * 6
    assert features(env) == (expected,) * 3


@pytest.mark.parametrize("name", ["SLOGUARD_WEBHOOK", "SLOGUARD_DASHBOARDS", "SLOGUARD_POLICIES", "SLOGUARD_SLA",
                                  "SLOGUARD_SLO_REPORTS", "SLOGUARD_STANDALONE"])
def test_a_boolean_that_is_neither_is_refused_by_name_not_read_as_false(name: str) -> None:
    with pytest.raises(SettingsError, match=rf"{name}\)?: 'enabled': Input should be a valid boolean"):
        Settings.from_env({name: "enabled"})


def test_the_feature_switches_refuse_nonsense_too() -> None:
    with pytest.raises(SettingsError, match=r"^SLOGUARD_SLA: 'nope': Input should be a valid boolean"):
        features({"SLOGUARD_SLA": "nope"})


def test_an_empty_variable_counts_as_unset() -> None:
    s = Settings.from_env({"SLOGUARD_WEBHOOK": "", "SLOGUARD_REFRESH_INTERVAL": "", "SLOGUARD_WEBHOOK_HOST": "",
                           "SLOGUARD_POLICIES": "", "SLOGUARD_EVALUATE_AT": ""})
    assert (s.webhook.enabled, s.refresh_interval, s.webhook.host, s.policies, s.evaluate_at) == (
        False, 30.0, None, True, None)


def test_an_empty_metrics_address_means_not_served() -> None:
    assert Settings.from_env({"SLOGUARD_METRICS_ADDRESS": ""}).metrics_address == ""


@pytest.mark.parametrize(("env", "message"), [
    ({"SLOGUARD_REFRESH_INTERVAL": "soon"},
     r"^--refresh-interval \(SLOGUARD_REFRESH_INTERVAL\): 'soon': Input should be a valid number"),
    ({"SLOGUARD_REFRESH_INTERVAL": "0"},
     r"^--refresh-interval \(SLOGUARD_REFRESH_INTERVAL\): '0': Input should be greater than 0"),
    ({"SLOGUARD_LOG_LEVEL": "loud"},
     r"^--log-level \(SLOGUARD_LOG_LEVEL\): 'loud': Input should be 'debug', 'info', 'warning' or 'error'"),
    ({"SLOGUARD_WEBHOOK_PORT": "70000"},
     r"^--webhook-port \(SLOGUARD_WEBHOOK_PORT\): '70000': Input should be less than or equal to 65535"),
    ({"SLOGUARD_ENFORCEMENT": "pray"}, r"^--enforcement \(SLOGUARD_ENFORCEMENT\): 'pray': Input should be"),
    ({"SLOGUARD_RULE_LABELS": "prometheus"},
     r"^--rule-label \(SLOGUARD_RULE_LABELS\): 'prometheus': expected KEY=VALUE, got 'prometheus'"),
    ({"SLOGUARD_EVALUATE_AT": "2026-10-01T00:00:00"},
     r"^--evaluate-at \(SLOGUARD_EVALUATE_AT\): '2026-10-01T00:00:00': Input should have timezone info"),
    ({"SLOGUARD_SLA_FINALIZE_GRACE": "a while"},
     r"^--sla-finalize-grace \(SLOGUARD_SLA_FINALIZE_GRACE\): 'a while': "),
    ({"SLOGUARD_METRICS_ADDRESS": "8081"}, r"^--metrics-address \(SLOGUARD_METRICS_ADDRESS\): '8081': .*HOST:PORT"),
    ({"SLOGUARD_PROMETHEUS_TIMEOUT": "-1"}, r"^--prometheus-timeout \(SLOGUARD_PROMETHEUS_TIMEOUT\): "),
    ({"SLOGUARD_STANDALONE": "true", "SLOGUARD_PEERING": "p"}, r"--standalone and --peering exclude each other"),
])
def test_a_bad_value_is_refused_with_one_line_naming_the_flag_and_the_variable(env: dict[str, str],
                                                                               message: str) -> None:
    with pytest.raises(SettingsError, match=message) as info:
        Settings.from_env(env)
    assert "\n" not in str(info.value)


def test_a_bad_flag_value_is_named_the_same_way() -> None:
    message = r"^--sla-refresh-interval \(SLOGUARD_SLA_REFRESH_INTERVAL\): -5.0: Input should be greater than 0"
    with pytest.raises(SettingsError, match=message):
        load_run(["--sla-refresh-interval=-5"], {})


def test_the_settings_survive_a_trip_through_their_variables() -> None:
    s = load_run(["-n", "a", "-n", "b", "--rule-label", "k=v", "--webhook", "--webhook-service", "ops/hook",
                  "--evaluate-at", "2026-10-01T00:00:00Z", "--dashboards", "--sla-finalize-grace", "30m",
                  "--prometheus", "http://p:9090", "--prometheus-header", "X-Scope-OrgID: t"], {})
    assert Settings.from_env(s.to_env()) == s
    assert s.now() == datetime(2026, 10, 1, tzinfo=UTC) and s.sla_finalize_grace_seconds == 1800


def test_the_sla_interval_defaults_to_the_budget_interval_and_is_at_least_a_second() -> None:
    assert Settings(refresh_interval=42).sla_refresh_seconds == 42
    assert Settings(refresh_interval=42, sla_refresh_interval=0.1).sla_refresh_seconds == 1.0


def test_every_setting_has_a_variable_a_meaning_and_a_row_in_the_docs() -> None:
    fields = set(Settings.model_fields) - {"prometheus"}
    assert set(ENV) == fields == set(FLAG)
    assert all(Settings.model_fields[n].description for n in Settings.model_fields)
    doc = (REPO_ROOT / "docs" / "settings.md").read_text()
    assert markdown_table() in doc, "docs/settings.md is stale: run `python hack/gen_settings_doc.py`"


def test_every_chart_value_named_in_the_settings_exists_in_the_chart() -> None:
    import yaml

    from sloguard.adapters.settings import CHART

    values = yaml.safe_load((REPO_ROOT / "charts" / "sloguard" / "values.yaml").read_text())
    for text in CHART.values():
        for dotted in ([] if text.startswith("(") else text.split(", ")):
            node = values
            for part in dotted.split("."):
                assert isinstance(node, dict) and part in node, f"{dotted} is not a value of the chart"
                node = node[part]


def test_every_variable_the_chart_sets_is_a_setting() -> None:
    template = (REPO_ROOT / "charts" / "sloguard" / "templates" / "deployment.yaml").read_text()
    import re

    chart_vars = set(re.findall(r"name: (SLOGUARD_[A-Z_]+|POD_[A-Z]+)", template))
    assert chart_vars and chart_vars <= set(ENV.values())

"""`sloguard import` and `sloguard export --to openslo`: what each peer field becomes, what is refused and why.

Expected specs are written by hand from the peers' documentation (Sloth's four windows and factors,
Pyrra's window table, OpenSLO's fields), not from the importer.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloguard.api.importers import import_paths
from sloguard.api.loader import load
from sloguard.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent.parent / "golden"


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def imported(fixture: str) -> dict[str, dict[str, Any]]:
    """name -> spec of every SLO imported from one fixture."""
    result = import_paths([str(FIXTURES / fixture)])
    return {s.name: s.document()["spec"] for s in result.slos}


SLOTH_PAGE = [{"severity": "critical", "factor": 14.4, "shortWindow": "5m", "longWindow": "1h"},
              {"severity": "critical", "factor": 6.0, "shortWindow": "30m", "longWindow": "6h"}]
SLOTH_TICKET = [{"severity": "warning", "factor": 3.0, "shortWindow": "2h", "longWindow": "1d"},
                {"severity": "warning", "factor": 1.0, "shortWindow": "6h", "longWindow": "3d"}]


def test_sloth_events_slo_becomes_a_ratio_query_with_sloths_four_windows_and_severities() -> None:
    spec = imported("sloth-service.yml")["checkout-requests-availability"]
    assert spec == {
        "service": "checkout",
        "description": "Checkout answers without server errors.",
        "objective": 99.9,
        "sli": {"ratioQuery": {
            "errorQuery": 'sum(rate(http_requests_total{job="checkout",code=~"(5..|429)"}[{{.window}}]))',
            "totalQuery": 'sum(rate(http_requests_total{job="checkout"}[{{.window}}]))'}},
        "alerting": {
            "name": "CheckoutAvailability",
            "labels": {"owner": "payments", "tier": "1", "category": "availability"},
            "annotations": {"runbook": "https://runbooks.example.com/checkout"},
            "burnRates": SLOTH_PAGE + SLOTH_TICKET,
        },
    }


def test_sloth_disabled_ticket_alert_keeps_only_the_page_tiers_and_all_disabled_means_no_alerts() -> None:
    slos = imported("sloth-service.yml")
    assert slos["checkout-latency"]["alerting"]["burnRates"] == SLOTH_PAGE
    assert slos["checkout-latency"]["sli"]["raw"]["errorRatioQuery"].startswith("1 - (sum(rate(")
    assert slos["checkout-quiet"]["alerting"] == {"name": "Quiet", "disabled": True,
                                                  "labels": {"owner": "payments", "tier": "1"}}


def test_sloth_custom_alert_windows_give_factors_from_budget_percent_period_and_long_window() -> None:
    # factor = errorBudgetPercent / 100 * 30d / longWindow: 1% in 30m = 14.4, 2% in 3h = 4.8,
    # 5% in 12h = 3, 5% in 36h = 1.
    spec = imported("sloth-windows.yaml")["orders-availability"]
    assert spec["alerting"]["burnRates"] == [
        {"severity": "page", "factor": 14.4, "shortWindow": "2m", "longWindow": "30m"},
        {"severity": "page", "factor": 4.8, "shortWindow": "15m", "longWindow": "3h"},
        {"severity": "ticket", "factor": 3.0, "shortWindow": "1h", "longWindow": "12h"},
        {"severity": "ticket", "factor": 1.0, "shortWindow": "3h", "longWindow": "36h"},
    ]


def test_a_routing_label_on_only_one_sloth_alert_is_a_warning_naming_it() -> None:
    result = import_paths([str(FIXTURES / "sloth-service.yml")])
    warnings = [str(d) for d in result.diagnostics if d.severity == "warning"]
    assert warnings == [
        f"{FIXTURES / 'sloth-service.yml'}: prometheus/v1 checkout slo requests-availability: "
        "slos[0].alerting.page_alert.labels.routing_key: warning: routing_key='payments-oncall' is only on the "
        "page_alert alert; sloguard puts one set of labels on every tier, so it is not carried"]


def test_sloth_sli_plugin_is_refused_in_one_line_and_the_other_slo_is_still_written(tmp_path: Path) -> None:
    code, out, err = run_cli("import", "--out-dir", str(tmp_path), str(FIXTURES / "sloth-k8s.yaml"))
    assert code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.search-availability.yaml"]
    refused = [line for line in err.splitlines() if "plugin" in line]
    assert refused == [f"{FIXTURES / 'sloth-k8s.yaml'}: PrometheusServiceLevel shop/search slo plugin-availability: "
                       "spec.slos[1].sli.plugin: SLI plugin 'sloth-common/kubernetes/apiserver/availability' builds "
                       "its queries in Go code; rewrite it as events (error/total queries) or raw to import it"]
    spec = yaml.safe_load((tmp_path / "shop.search-availability.yaml").read_text())["spec"]
    assert spec["alerting"]["labels"] == {"team": "search", "channel": "search-oncall"}
    assert [t["severity"] for t in spec["alerting"]["burnRates"]] == ["page", "page", "ticket", "ticket"]


def test_pyrra_ratio_gets_pyrras_four_windows_scaled_to_the_window_and_its_team_label() -> None:
    spec = imported("pyrra.yaml")["api-errors"]
    assert spec == {
        "service": "api", "description": "API requests without 5xx", "objective": 99.5, "window": "4w",
        "sli": {"ratio": {"errors": 'http_requests_total{job="api",code=~"5.."}',
                          "total": 'http_requests_total{job="api"}'}},
        "alerting": {"labels": {"team": "api"}, "burnRates": [
            {"severity": "critical", "factor": 14.0, "shortWindow": "5m", "longWindow": "1h"},
            {"severity": "critical", "factor": 7.0, "shortWindow": "30m", "longWindow": "6h"},
            {"severity": "warning", "factor": 2.0, "shortWindow": "2h", "longWindow": "1d"},
            {"severity": "warning", "factor": 1.0, "shortWindow": "6h", "longWindow": "4d"},
        ]},
    }


def test_pyrra_windows_for_two_weeks_are_half_of_the_28_day_ones_rounded_to_the_minute() -> None:
    # 14d / 8064 = 2.5m -> 3m; 14d / 672 = 30m; 14d / 1344 = 15m; 14d / 112 = 3h; 14d / 336 = 1h; 14d / 28 = 12h;
    # 14d / 7 = 2d.
    tiers = imported("pyrra.yaml")["api-latency"]["alerting"]["burnRates"]
    assert [(t["shortWindow"], t["longWindow"]) for t in tiers] == [("3m", "30m"), ("15m", "3h"), ("1h", "12h"),
                                                                    ("3h", "2d")]


def test_pyrra_latency_bool_gauge_grouping_and_native_histograms() -> None:
    result = import_paths([str(FIXTURES / "pyrra.yaml")])
    slos = {s.name: s.document()["spec"] for s in result.slos}
    assert slos["api-latency"]["sli"] == {"latency": {"histogram": 'http_request_duration_seconds_bucket{job="api"}',
                                                      "threshold": 0.5}}
    assert slos["probe"]["sli"] == {"boolGauge": {"selector": 'probe_success{job="blackbox",instance="shop"}'}}
    assert slos["probe"]["alerting"]["name"] == "ProbeBudgetBurn"
    assert slos["api-errors-by-route"]["sli"] == {"ratioQuery": {
        "errorQuery": 'sum by (route) (rate(http_requests_total{job="api",code=~"5.."}[{{.window}}]))',
        "totalQuery": 'sum by (route) (rate(http_requests_total{job="api"}[{{.window}}]))'}}
    assert slos["api-errors-by-route"]["alerting"] == {"disabled": True}
    assert [(d.object, d.path) for d in result.refused] == [("monitoring/api-latency-native",
                                                             "spec.indicator.latencyNative")]


def test_openslo_referenced_objects_calendar_timeslices_and_threshold_metrics() -> None:
    result = import_paths([str(FIXTURES / "openslo-v1.yaml")])
    slos = {s.name: s for s in result.slos}
    web = slos["web-availability"].document()["spec"]
    assert slos["web-availability"].namespace == "web"
    assert web["window"] == "28d" and web["objective"] == 99.5
    assert web["sli"] == {"ratio": {"errors": 'http_requests_total{job="web",code=~"5.."}',
                                    "total": 'http_requests_total{job="web"}'}}
    assert web["alerting"] == {"name": "WebBurn", "burnRates": [
        {"severity": "page", "factor": 14.4, "shortWindow": "5m", "longWindow": "1h"},
        {"severity": "ticket", "factor": 3.0, "shortWindow": "2h", "longWindow": "1d"}]}
    latency = slos["web-latency"].document()["spec"]
    assert latency["window"] == "month" and latency["timezone"] == "Europe/Berlin"
    assert latency["budgetingMethod"] == "Timeslices" and latency["timeslice"] == {"window": "1m", "target": 0.95}
    assert latency["sli"] == {"latency": {"histogram": 'http_request_duration_seconds_bucket{job="web"}',
                                          "threshold": 0.3}}
    lag = slos["queue-lag"].document()["spec"]
    assert lag["sli"] == {"raw": {"errorRatioQuery":
                                  'avg_over_time(((max(kafka_consumergroup_lag{group="worker"})) > bool 1000)'
                                  "[{{.window}}:])"}}
    assert [(d.object, d.path) for d in result.refused] == [
        ("datadog-slo", "spec.indicator.spec.ratioMetric.total.metricSource.type")]
    warned = {(d.object, d.path) for d in result.diagnostics if d.severity == "warning"}
    assert ("web-availability", "spec.alertPolicies[0].spec.conditions[1].spec.condition.alertAfter") in warned


def test_sloths_openslo_v1alpha_subset_gets_sloths_default_windows_switched_off_as_sloth_has_no_alerts() -> None:
    spec = imported("openslo-v1alpha.yml")["sloth-slo-my-service"]
    assert spec["objective"] == 99.9 and "window" not in spec  # 30 Day = 30d, sloguard's default
    assert spec["sli"]["ratioQuery"]["goodQuery"].startswith("sum(rate(http_requests_total{")
    assert spec["alerting"]["disabled"] is True
    assert spec["alerting"]["burnRates"] == [dict(t, severity="page") for t in SLOTH_PAGE] + [
        dict(t, severity="ticket") for t in SLOTH_TICKET]


def test_everything_imported_passes_sloguard_validate(tmp_path: Path) -> None:
    code, _, err = run_cli("import", "--out-dir", str(tmp_path), str(FIXTURES))
    assert code == 1, err  # the fixtures include refused SLOs on purpose
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 13, files  # 3 + 1 + 1 Sloth, 4 Pyrra, 3 + 1 OpenSLO
    code, _, err = run_cli("validate", str(tmp_path))
    assert code == 0, err
    # Valid, with the peers' own odd tiers said as warnings (docs/alerting.md): Sloth's and Pyrra's
    # slowest tier is 1x (3d of a 30d window; 4d of 28d, 2d of 14d), and one OpenSLO policy alerts
    # at nothing below 4.8x.
    assert "13 object(s) checked: 0 error(s), 7 warning(s)" in err
    warned = sorted(line.split(": ServiceLevelObjective ")[1].split(":")[0:2] for line in err.splitlines()
                    if ": warning: " in line)
    assert warned == [
        ["default/checkout-latency", " spec.alerting.burnRates"],
        ["default/checkout-requests-availability", " spec.alerting.burnRates[3].factor"],
        ["default/orders-availability", " spec.alerting.burnRates[3].factor"],
        ["monitoring/api-errors", " spec.alerting.burnRates[3].factor"],
        ["monitoring/api-latency", " spec.alerting.burnRates[3].factor"],
        ["monitoring/probe", " spec.alerting.burnRates[3].factor"],
        ["shop/search-availability", " spec.alerting.burnRates[3].factor"],
    ]


def test_import_of_only_importable_files_exits_0_and_writes_a_multi_document_stream() -> None:
    code, out, err = run_cli("import", str(FIXTURES / "sloth-service.yml"))
    assert code == 0, err
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(out)] == [
        "checkout-requests-availability", "checkout-latency", "checkout-quiet"]


@pytest.mark.parametrize("fmt,expected", [("pyrra", 0), ("sloth", 3)])
def test_from_restricts_the_format_and_refuses_the_others(fmt: str, expected: int) -> None:
    result = import_paths([str(FIXTURES / "sloth-service.yml")], fmt)  # type: ignore[arg-type]
    assert len(result.slos) == expected
    assert bool(result.refused) == (expected == 0)


def test_namespace_option_overrides_the_peers_namespace() -> None:
    result = import_paths([str(FIXTURES / "pyrra.yaml")], namespace="team-a")
    assert {s.namespace for s in result.slos} == {"team-a"}


def test_broken_peer_fields_are_refused_with_the_field_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("""\
version: prometheus/v1
service: svc
slos:
  - name: no-window
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(errors_total[5m]))
        total_query: sum(rate(requests_total[{{.window}}]))
    alerting: {name: A}
  - name: too-high
    objective: 100
    sli: {raw: {error_ratio_query: "x[{{.window}}]"}}
    alerting: {name: B}
  - name: bad-promql
    objective: 99
    sli: {raw: {error_ratio_query: "rate(x[{{.window}}]"}}
    alerting: {name: C}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-an-slo}
""")
    result = import_paths([str(bad)])
    assert result.slos == []
    located = [(d.object, d.path) for d in result.refused]
    assert located == [("default/not-an-slo", "apiVersion"),
                       ("svc slo no-window", "slos[0].sli.events.error_query"),
                       ("svc slo too-high", "slos[1].objective"),
                       ("svc slo bad-promql", "slos[2]")]
    assert "raw.errorRatioQuery" in result.refused[3].message


# --- export ------------------------------------------------------------------------------------


def _objectives(paths: list[str]) -> dict[str, Any]:
    result = load(paths)
    assert not result.errors, result.errors
    return {o.key: o for o in result.objectives}


@pytest.mark.parametrize("golden", sorted(p.name for p in GOLDEN.glob("*.in.yaml")))
def test_export_to_openslo_then_import_gives_the_same_objective(golden: str, tmp_path: Path) -> None:
    code, out, err = run_cli("export", "--to", "openslo", str(GOLDEN / golden))
    assert code == 0, err
    exported = tmp_path / "openslo.yaml"
    exported.write_text(out)
    assert {d["apiVersion"] for d in yaml.safe_load_all(out)} == {"openslo/v1"}
    code, out, err = run_cli("import", str(exported))
    assert code == 0, err
    back = tmp_path / "back.yaml"
    back.write_text(out)
    assert _objectives([str(back)]) == _objectives([str(GOLDEN / golden)])


def test_imported_then_exported_then_imported_again_is_stable(tmp_path: Path) -> None:
    first = import_paths([str(FIXTURES / "pyrra.yaml"), str(FIXTURES / "openslo-v1.yaml")])
    (tmp_path / "first.yaml").write_text(yaml.safe_dump_all([s.document() for s in first.slos]))
    code, out, err = run_cli("export", "--to", "openslo", str(tmp_path / "first.yaml"))
    assert code == 0, err
    (tmp_path / "openslo.yaml").write_text(out)
    second = import_paths([str(tmp_path / "openslo.yaml")])
    assert not second.refused
    assert _objectives([str(tmp_path / "first.yaml")]) == {
        f"{s.namespace}/{s.name}": s.slo.spec.to_core(s.namespace, s.name) for s in second.slos}


def test_a_misspelt_peer_field_is_a_warning_naming_it_and_stdin_works(monkeypatch: pytest.MonkeyPatch) -> None:
    text = """\
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: typo, namespace: ns}
spec:
  target: "99"
  windw: 2w
  indicator:
    ratio:
      errors: {metric: 'e_total{job="a"}'}
      total: {metric: 't_total{job="a"}'}
"""
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code, out, err = run_cli("import", "-")
    assert code == 1 and out == ""
    assert "-: ServiceLevelObjective ns/typo: spec.windw: warning: unknown field for this format; ignored" in err
    assert "-: ServiceLevelObjective ns/typo: spec.window: required field is missing (Pyrra requires it too)" in err

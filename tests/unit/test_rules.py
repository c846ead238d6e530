"""Objective -> rule groups: exact recordings, alert expressions, labels and annotations."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sloguard.api.slo import SLOSpec
from sloguard.core.model import Objective
from sloguard.core.rules import Rule, alert_rules, group_name, make_rule_groups, num, ratio_windows, recording_rules

SEL = '{slo="api",slo_namespace="shop"}'
ERR = 'http_requests_total{code=~"5.."}'
TOT = "http_requests_total"


def objective(**spec: Any) -> Objective:
    body: dict[str, Any] = {"service": "api-svc", "objective": 99.9, "sli": {"ratio": {"errors": ERR, "total": TOT}}}
    body.update(spec)
    return SLOSpec.model_validate(body).to_core("shop", "api")


def records(rules: list[Rule]) -> list[str | None]:
    return [r.record for r in rules]


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.999, "0.999"), (1 - 0.999, "0.001"), (1 - 0.9995, "0.0005"), (14.4, "14.4"), (6.0, "6"), (13.44, "13.44"),
     (0.00001, "0.00001"), (1e-7, "0.0000001"), (100.0, "100")],
)
def test_numbers_are_written_with_twelve_significant_digits_and_no_exponent(value: float, text: str) -> None:
    assert num(value) == text


def test_a_30_day_ratio_slo_records_base_rates_every_window_and_metadata_in_this_order() -> None:
    assert records(recording_rules(objective())) == [
        "sloguard:sli_errors:rate5m",
        "sloguard:sli_total:rate5m",
        "sloguard:sli_error_ratio:rate5m",
        "sloguard:sli_error_ratio:rate30m",
        "sloguard:sli_error_ratio:rate1h",
        "sloguard:sli_error_ratio:rate2h",
        "sloguard:sli_error_ratio:rate6h",
        "sloguard:sli_error_ratio:rate1d",
        "sloguard:sli_error_ratio:rate3d",
        "sloguard:objective:ratio",
        "sloguard:error_budget:ratio",
    ]


def test_the_base_recordings_are_the_sli_queries_over_five_minutes_with_our_labels() -> None:
    errors, total = recording_rules(objective())[:2]
    labels = {"slo": "api", "slo_namespace": "shop", "service": "api-svc"}
    assert errors == Rule(f"(sum(rate({ERR}[5m])) or vector(0))", record="sloguard:sli_errors:rate5m", labels=labels)
    assert total == Rule(f"sum(rate({TOT}[5m]))", record="sloguard:sli_total:rate5m", labels=labels)


@pytest.mark.parametrize(
    ("record", "expr"),
    [
        ("sloguard:sli_error_ratio:rate5m",
         f"sloguard:sli_errors:rate5m{SEL} / (sloguard:sli_total:rate5m{SEL} > 0)"),
        ("sloguard:sli_error_ratio:rate1h",
         f"sum_over_time(sloguard:sli_errors:rate5m{SEL}[1h])"
         f" / (sum_over_time(sloguard:sli_total:rate5m{SEL}[1h]) > 0)"),
        ("sloguard:sli_error_ratio:rate3d",
         f"sum_over_time(sloguard:sli_errors:rate5m{SEL}[3d])"
         f" / (sum_over_time(sloguard:sli_total:rate5m{SEL}[3d]) > 0)"),
        ("sloguard:objective:ratio", "vector(0.999)"),
        ("sloguard:error_budget:ratio", "vector(0.001)"),
    ],
)
def test_each_window_is_a_traffic_weighted_ratio_of_the_base_recordings(record: str, expr: str) -> None:
    by_record = {r.record: r for r in recording_rules(objective())}
    assert by_record[record].expr == expr


def test_no_recording_runs_rate_over_more_than_five_minutes_of_raw_samples() -> None:
    for rule in recording_rules(objective()):
        assert set(re.findall(r"\brate\([^\[]*\[(\w+)\]", rule.expr)) <= {"5m"}, rule.expr


def test_metadata_recordings_carry_the_slo_window() -> None:
    meta = [r for r in recording_rules(objective(window="28d")) if r.record and r.record.endswith(":ratio")
            and "sli_" not in r.record]
    assert [r.labels["window"] for r in meta] == ["28d", "28d"]


@pytest.mark.parametrize(
    ("burn_rates", "windows"),
    [
        (None, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]),
        # 90m is recorded once, spelled 1h30m; 60m is the 1h already reported; 7d stays 7d (days are
        # the largest unit, core/windows.format_duration).
        ([{"severity": "page", "factor": 10, "shortWindow": "10m", "longWindow": "90m"},
          {"severity": "ticket", "factor": 2, "shortWindow": "60m", "longWindow": "7d"}],
         ["5m", "10m", "30m", "1h", "1h30m", "2h", "6h", "1d", "3d", "7d"]),
    ],
)
def test_ratio_windows_are_the_reported_set_plus_every_alert_window_spelled_once(
    burn_rates: list[dict[str, Any]] | None, windows: list[str]
) -> None:
    alerting = {"burnRates": burn_rates} if burn_rates else {}
    assert ratio_windows(objective(alerting=alerting)) == windows


def test_a_disabled_alerting_section_gives_recordings_and_no_alerts() -> None:
    obj = objective(alerting={"disabled": True,
                              "burnRates": [{"severity": "x", "factor": 1, "shortWindow": "10m", "longWindow": "7d"}]})
    assert alert_rules(obj) == []
    assert ratio_windows(obj) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]


@pytest.mark.parametrize(
    ("window", "severity", "long_w", "short_w", "factor"),
    [
        ("30d", "critical", "1h", "5m", "14.4"),
        ("30d", "warning", "6h", "30m", "6"),
        ("30d", "info", "1d", "2h", "3"),
        ("28d", "critical", "1h", "5m", "13.44"),
        ("28d", "warning", "6h", "30m", "5.6"),
        ("28d", "info", "1d", "2h", "2.8"),
    ],
)
def test_each_default_tier_fires_when_both_windows_burn_faster_than_its_factor(
    window: str, severity: str, long_w: str, short_w: str, factor: str
) -> None:
    alert = next(a for a in alert_rules(objective(window=window)) if a.labels["severity"] == severity)
    assert alert.alert == "ErrorBudgetBurn"
    assert alert.expr == (f"(sloguard:sli_error_ratio:rate{long_w}{SEL} / 0.001 > {factor})"
                          f" and (sloguard:sli_error_ratio:rate{short_w}{SEL} / 0.001 > {factor})")
    assert alert.labels == {"slo": "api", "service": "api-svc", "severity": severity, "long_window": long_w,
                            "short_window": short_w}
    assert alert.annotations["burn_rate_threshold"] == factor
    assert alert.for_ is None


def test_the_alert_description_says_how_long_the_budget_lasts_at_the_threshold() -> None:
    # 720h / 14.4 = 50h; 720h / 6 = 120h; 720h / 3 = 240h.
    descriptions = [a.annotations["description"] for a in alert_rules(objective())]
    assert [d.rsplit("lasts ", 1)[1] for d in descriptions] == ["50h.", "120h.", "240h."]
    assert descriptions[0] == (
        "SLO shop/api (99.9% over 30d): errors over the last 1h and 5m burn the budget faster than 14.4x "
        '(now {{ printf "%.1f" $value }}x over 1h); at 14.4x the whole budget lasts 50h.'
    )
    assert alert_rules(objective())[0].annotations["summary"] == (
        'api-svc/api is burning its error budget {{ printf "%.1f" $value }}x too fast')


def test_user_labels_are_added_and_user_annotations_win_over_ours() -> None:
    obj = objective(alerting={"name": "CheckoutBurn", "labels": {"team": "payments"},
                              "annotations": {"runbook_url": "https://r", "summary": "custom"}})
    alert = alert_rules(obj)[0]
    assert alert.alert == "CheckoutBurn"
    assert alert.labels["team"] == "payments"
    assert alert.annotations["runbook_url"] == "https://r"
    assert alert.annotations["summary"] == "custom"


def test_minimum_traffic_adds_a_gate_on_the_average_total_rate_over_the_long_window() -> None:
    alert = alert_rules(objective(alerting={"minimumTraffic": 0.5}))[0]
    assert alert.expr.endswith(f" and (avg_over_time(sloguard:sli_total:rate5m{SEL}[1h]) >= 0.5)")


@pytest.mark.parametrize("sli", [{"raw": {"errorRatioQuery": "x[{{.window}}]"}}, {"boolGauge": {"selector": "up"}}])
def test_minimum_traffic_does_not_gate_time_based_slis(sli: dict[str, Any]) -> None:
    for alert in alert_rules(objective(sli=sli, alerting={"minimumTraffic": 0.5})):
        assert "avg_over_time(sloguard:sli_total" not in alert.expr


def test_timeslices_record_a_bad_slice_flag_and_bad_slice_fractions_per_window() -> None:
    obj = objective(budgetingMethod="Timeslices", timeslice={"window": "5m", "target": 0.99})
    by_record = {r.record: r.expr for r in recording_rules(obj)}
    assert by_record["sloguard:sli_error_ratio:rate5m:events"] == (
        f"sloguard:sli_errors:rate5m{SEL} / (sloguard:sli_total:rate5m{SEL} > 0)")
    assert by_record["sloguard:sli_slice_bad:5m"] == f"sloguard:sli_error_ratio:rate5m:events{SEL} > bool 0.01"
    assert by_record["sloguard:sli_error_ratio:rate1h"] == f"avg_over_time(sloguard:sli_slice_bad:5m{SEL}[1h])"
    assert by_record["sloguard:sli_error_ratio:rate5m"] == f"avg_over_time(sloguard:sli_slice_bad:5m{SEL}[5m])"
    assert "bad slices over the last 1h" in alert_rules(obj)[0].annotations["description"]


def test_a_slice_written_300s_is_recorded_and_averaged_as_the_5m_slice() -> None:
    obj = objective(budgetingMethod="Timeslices", timeslice={"window": "300s", "target": 0.99})
    by_record = {r.record: r.expr for r in recording_rules(obj)}
    assert by_record["sloguard:sli_slice_bad:5m"] == f"sloguard:sli_error_ratio:rate5m:events{SEL} > bool 0.01"
    assert by_record["sloguard:sli_error_ratio:rate1h"] == f"avg_over_time(sloguard:sli_slice_bad:5m{SEL}[1h])"


def test_one_slo_makes_one_group_named_after_namespace_and_name() -> None:
    groups = make_rule_groups(objective())
    assert [g.name for g in groups] == [group_name(objective())] == ["sloguard-shop-api"]
    assert len(groups[0].rules) == 11 + 3
    assert groups[0].to_dict()["rules"][0] == {
        "record": "sloguard:sli_errors:rate5m",
        "expr": f"(sum(rate({ERR}[5m])) or vector(0))",
        "labels": {"slo": "api", "slo_namespace": "shop", "service": "api-svc"},
    }


def test_an_objective_from_a_tier_preset_gives_that_budget() -> None:
    obj = SLOSpec.model_validate({"service": "s", "tier": "tier-1", "sli": {"boolGauge": {"selector": "up"}}})
    by_record = {r.record: r.expr for r in recording_rules(obj.to_core("ns", "n"))}
    assert (by_record["sloguard:objective:ratio"], by_record["sloguard:error_budget:ratio"]) == (
        "vector(0.9995)", "vector(0.0005)")


def test_a_tier_that_waits_and_holds_gives_its_alert_for_and_keep_firing_for() -> None:
    obj = objective(alerting={"burnRates": [
        {"severity": "page", "factor": 14.4, "shortWindow": "5m", "longWindow": "1h", "for": "2m",
         "keepFiringFor": "15m"},
        {"severity": "ticket", "factor": 3, "shortWindow": "2h", "longWindow": "1d"},
    ]})
    page, ticket = (r.to_dict() for r in alert_rules(obj))
    assert list(page)[:4] == ["alert", "expr", "for", "keep_firing_for"]
    assert (page["for"], page["keep_firing_for"]) == ("2m", "15m")
    assert "for" not in ticket and "keep_firing_for" not in ticket


def test_tier_windows_written_another_way_name_the_recordings_in_their_one_spelling() -> None:
    obj = objective(alerting={"burnRates": [
        {"severity": "page", "factor": 14.4, "shortWindow": "300s", "longWindow": "60m", "for": "120s"},
        {"severity": "ticket", "factor": 2, "shortWindow": "2h", "longWindow": "1440m"},
    ]})
    page, ticket = alert_rules(obj)
    assert page.expr == (f"(sloguard:sli_error_ratio:rate1h{SEL} / 0.001 > 14.4)"
                         f" and (sloguard:sli_error_ratio:rate5m{SEL} / 0.001 > 14.4)")
    assert (page.for_, page.labels["long_window"], page.labels["short_window"]) == ("2m", "1h", "5m")
    assert (ticket.labels["long_window"], ticket.labels["short_window"]) == ("1d", "2h")
    assert "rate60m" not in " ".join(r.record or "" for r in recording_rules(obj))


def test_a_7_day_slo_alerts_on_its_own_derived_tiers_never_below_1x() -> None:
    # 7d: 13.44x over 15m/5m, 8.4x over 1h/5m, 2.8x over 6h/30m (tests/unit/test_windows.py works them out).
    tiers = [(r.labels["severity"], r.annotations["burn_rate_threshold"], r.labels["long_window"],
              r.labels["short_window"]) for r in alert_rules(objective(window="7d"))]
    assert tiers == [("critical", "13.44", "15m", "5m"), ("warning", "8.4", "1h", "5m"), ("info", "2.8", "6h", "30m")]
    assert "sloguard:sli_error_ratio:rate15m" in records(recording_rules(objective(window="7d")))

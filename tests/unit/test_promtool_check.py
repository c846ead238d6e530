"""Prometheus' own rule validation: what `promtool check rules` says, mapped to SLO field paths.

Runs the real promtool: Prometheus 3 (the reference, from hack/build-tools.sh's cache) when it is
built, and Debian's Prometheus 2 always — the operator must work with either on PATH.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sloguard.adapters.promtool import (
    PromtoolUnavailable,
    RuleProblem,
    check_rule_groups,
    find_promtool,
    parse_output,
    rule_diagnostics,
    user_text_rules,
)
from sloguard.api.loader import validate_slo_body
from sloguard.core.model import Objective, RatioQuerySLI
from sloguard.core.rules import make_rule_groups

P3 = Path.home() / ".cache" / "sloguard" / "prometheus3-v0.316.0" / "bin" / "promtool"
PROMTOOLS = ["/usr/bin/promtool"] + ([str(P3)] if P3.exists() else [])


def objective(name: str, **alerting: object) -> Objective:
    body = {"metadata": {"name": name, "namespace": "shop"},
            "spec": {"service": "checkout", "objective": 99.9,
                     "sli": {"ratio": {"errors": 'http_requests_total{code="500"}', "total": "http_requests_total"}},
                     "alerting": alerting}}
    obj, diags = validate_slo_body(body)
    assert obj is not None, diags
    return obj


def test_promtool_output_lines_become_problems_with_the_rule_and_the_part() -> None:
    text = """Checking /tmp/x.yaml
  FAILED:
/tmp/x.yaml: group "g1", rule 2, "X": label "team": template: __alert_X:1: unclosed action
/tmp/x.yaml: group "g1", rule 2, "X": annotation "summary": template: __alert_X:1: unexpected EOF
/tmp/x.yaml: 13:11: group "g2", rule 1, "Y": could not parse expression: 1:12: parse error: unexpected end of input
"""
    assert parse_output(text) == [
        RuleProblem("g1", 'label "team": template: __alert_X:1: unclosed action', 2, "X", ("label", "team")),
        RuleProblem("g1", 'annotation "summary": template: __alert_X:1: unexpected EOF', 2, "X",
                    ("annotation", "summary")),
        RuleProblem("g2", "could not parse expression: 1:12: parse error: unexpected end of input", 1, "Y",
                    ("expr", "")),
    ]


@pytest.mark.parametrize("promtool", PROMTOOLS)
def test_a_template_go_cannot_parse_is_an_error_on_the_users_annotation(promtool: str) -> None:
    bad = objective("bad", annotations={"summary": "{{ range .x }}"})
    good = objective("good", annotations={"summary": "{{ $value | humanize }} burning"})
    found = rule_diagnostics([good, bad], promtool)
    assert list(found) == ["shop/bad"]
    [d] = found["shop/bad"]
    assert d.path == "spec.alerting.annotations.summary"
    assert "Prometheus would refuse the generated rules" in d.message and "unexpected EOF" in d.message


@pytest.mark.parametrize("promtool", PROMTOOLS)
def test_a_label_template_is_checked_too(promtool: str) -> None:
    found = rule_diagnostics([objective("lbl", labels={"team": "{{ .Labels.x"})], promtool)
    assert [d.path for d in found["shop/lbl"]] == ["spec.alerting.labels.team"]


@pytest.mark.parametrize("promtool", PROMTOOLS)
def test_generated_rules_of_valid_slos_pass(promtool: str) -> None:
    assert check_rule_groups([{"name": "g", "rules": [{"record": "a:b", "expr": "vector(1)"}]}], promtool) == []
    assert rule_diagnostics([objective("ok")], promtool) == {}


def test_only_the_users_text_is_sent_to_promtool_first() -> None:
    obj = objective("quick", labels={"team": "pay"}, annotations={"runbook": "https://runbooks/x"})
    [group] = make_rule_groups(obj)
    quick = user_text_rules(obj, group)
    by_name = {r.record: r for r in group.rules if r.record}
    assert [(r.record, r.expr, r.labels) for r in quick[:2]] == [
        ("sloguard:sli_errors:rate5m", by_name["sloguard:sli_errors:rate5m"].expr, {}),
        ("sloguard:sli_total:rate5m", by_name["sloguard:sli_total:rate5m"].expr, {})]
    assert 'http_requests_total{code="500"}' in quick[0].expr
    # the alert's name, then each of the user's labels and annotations on an alert of its own
    assert [(r.alert, r.expr, r.labels, r.annotations) for r in quick[2:]] == [
        ("ErrorBudgetBurn", "vector(1)", {}, {}),
        ("SloguardUserText", "vector(1)", {"team": "pay"}, {}),
        ("SloguardUserText", "vector(1)", {}, {"runbook": "https://runbooks/x"})]


#: Alerting text Prometheus accepts and text it refuses, in every place the user's text reaches.
ALERTING_TEXT = [
    {"labels": {"team": "pay"}, "annotations": {"summary": "{{ $value | humanize }} of {{ $labels.slo }}"}},
    {"labels": {"team": "{{ .Labels.x"}},
    {"labels": {"team": "pay", "route": "{{ if }}"}},
    {"annotations": {"summary": "{{ range .x }}"}},
    {"annotations": {"ok": "fine", "bad": "{{ template \"x\" }}{{ end }}"}},
    {"annotations": {"runbook": "{{ $undefined }}"}},
    {"labels": {"team": "{{ .Labels.team }}"}, "annotations": {"summary": "{{ $value"}},
]


@pytest.mark.parametrize("promtool", PROMTOOLS)
@pytest.mark.parametrize("alerting", ALERTING_TEXT)
def test_the_quick_check_refuses_exactly_what_promtool_refuses_in_the_whole_group(
        promtool: str, alerting: dict[str, object]) -> None:
    obj = objective("text", **alerting)
    whole = check_rule_groups([g.to_dict() for g in make_rule_groups(obj)], promtool)
    quick = check_rule_groups([{"name": "q", "rules": [r.to_dict() for g in make_rule_groups(obj)
                                                       for r in user_text_rules(obj, g)]}], promtool)
    assert bool(whole) == (alerting is not ALERTING_TEXT[0])  # the first is accepted, the others refused
    assert bool(quick) == bool(whole)
    assert bool(rule_diagnostics([obj], promtool)) == bool(whole)


def test_slos_alike_but_for_their_names_send_their_text_once() -> None:
    a, b = objective("a", labels={"team": "pay"}), objective("b", labels={"team": "pay"})
    [ga], [gb] = make_rule_groups(a), make_rule_groups(b)
    assert ga.rules != gb.rules
    assert user_text_rules(a, ga) == user_text_rules(b, gb)


@pytest.mark.parametrize("promtool", PROMTOOLS)
def test_every_slo_carrying_text_prometheus_refuses_is_named(promtool: str) -> None:
    bad = {"summary": "{{ range .x }}"}
    slos = [objective("ok-1"), objective("bad-1", annotations=bad), objective("ok-2"),
            objective("bad-2", annotations=bad)]
    found = rule_diagnostics(slos, promtool)
    assert sorted(found) == ["shop/bad-1", "shop/bad-2"]
    assert [d.path for d in found["shop/bad-1"]] == [d.path for d in found["shop/bad-2"]] == [
        "spec.alerting.annotations.summary"]


@pytest.mark.parametrize("promtool", PROMTOOLS)
def test_one_refused_slo_among_many_is_named_with_every_rule_of_its_group(promtool: str) -> None:
    slos = [objective(f"ok-{i}") for i in range(40)]
    bad = objective("bad", annotations={"summary": "{{ range .x }}"})
    [group] = make_rule_groups(bad)
    alerts = [f"{i} ({r.alert})" for i, r in enumerate(group.rules, start=1) if r.alert]
    assert len(alerts) > 1  # the default tiers: several alerts share the bad annotation
    found = rule_diagnostics(slos[:20] + [bad] + slos[20:], promtool)
    assert list(found) == ["shop/bad"]
    [d] = found["shop/bad"]
    assert d.path == "spec.alerting.annotations.summary"
    assert d.message.startswith(f"Prometheus would refuse the generated rules {', '.join(alerts)}: ")


@pytest.mark.parametrize("promtool", PROMTOOLS)
def test_sli_text_prometheus_refuses_is_still_an_error_on_the_sli(promtool: str) -> None:
    # Built past the loader (which parses PromQL itself) to prove promtool still sees the SLI text.
    broken = dataclasses.replace(objective("sli"), sli=RatioQuerySLI(total_query="sum(rate(x[{{.window}}])",
                                                                     error_query="sum(rate(e[{{.window}}]))"))
    found = rule_diagnostics([objective("fine"), broken], promtool)
    assert list(found) == ["shop/sli"]
    [d] = found["shop/sli"]
    assert d.path == "spec.sli"
    assert d.message.startswith("Prometheus would refuse the generated rule 2 (sloguard:sli_total:rate5m): ")


def test_a_missing_promtool_is_an_error_that_says_how_to_provide_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLOGUARD_PROMTOOL", raising=False)
    with pytest.raises(PromtoolUnavailable, match="SLOGUARD_PROMTOOL / --promtool"):
        find_promtool("/nonexistent/promtool")

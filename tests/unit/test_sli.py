"""SLI kinds -> PromQL: the exact expressions, the le regex, the template substitution."""

from __future__ import annotations

import re

import promql_parser
import pytest

from sloguard.core.model import SLI, BoolGaugeSLI, LatencySLI, RatioQuerySLI, RatioSLI, RawSLI
from sloguard.core.sli import (
    SLIQueries,
    has_window_placeholder,
    is_time_based,
    le_regex,
    queries,
    render_window,
    with_matcher,
)


def _matches(regex: str, value: str) -> bool:
    """Prometheus anchors label regexes at both ends; fullmatch does the same."""
    return re.fullmatch(regex, value) is not None


@pytest.mark.parametrize("label", ["0.25", ".25", "0.250", "0.2500"])
def test_the_le_regex_for_a_quarter_second_matches_every_spelling_of_it(label: str) -> None:
    assert _matches(le_regex(0.25), label)


@pytest.mark.parametrize("label", ["0.5", "0.025", "2.5", "0.251", "10.25", "25", "0,25"])
def test_the_le_regex_for_a_quarter_second_matches_no_other_bound(label: str) -> None:
    assert not _matches(le_regex(0.25), label)


@pytest.mark.parametrize("label", ["1", "1.0", "1.00", "1e+00", "1.0e+00"])
def test_the_le_regex_for_one_second_matches_integer_decimal_and_exponent_spellings(label: str) -> None:
    assert _matches(le_regex(1), label)
    assert _matches(le_regex(1.0), label)


@pytest.mark.parametrize("label", ["10", "0.5", "1.5", "11", "0.1", "+Inf"])
def test_the_le_regex_for_one_second_matches_no_other_bound(label: str) -> None:
    assert not _matches(le_regex(1), label)


@pytest.mark.parametrize(
    ("bound", "regex"),
    [
        (0.25, r"0?\.250*"),
        (0.005, r"0?\.0050*"),
        (2.5, r"2\.50*"),
        (1, r"1(\.0*)?|1(\.0*)?e\+?00"),
        (10, r"10(\.0*)?|1(\.0*)?e\+?01"),
        (float("inf"), r"\+Inf"),
    ],
)
def test_the_le_regex_is_exactly_this_for_common_bounds(bound: float, regex: str) -> None:
    assert le_regex(bound) == regex


def test_the_le_regex_for_infinity_matches_only_plus_inf() -> None:
    assert _matches(le_regex(float("inf")), "+Inf")
    assert not _matches(le_regex(float("inf")), "Inf")


@pytest.mark.parametrize(
    ("selector", "matcher", "result"),
    [
        ('m{a="b"}', 'le="1"', 'm{a="b",le="1"}'),
        ('m{a="b",}', 'le="1"', 'm{a="b",le="1"}'),
        ("m", 'le="1"', 'm{le="1"}'),
        ("  m  ", 'le="1"', 'm{le="1"}'),
        ("m{}", 'le="1"', 'm{le="1"}'),
    ],
)
def test_a_matcher_is_added_inside_the_selector_braces(selector: str, matcher: str, result: str) -> None:
    assert with_matcher(selector, matcher) == result


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("rate(x[{{.window}}])", "rate(x[1h])"),
        ("rate(x[{{ .window }}])", "rate(x[1h])"),
        ("rate(x[{{.window}}]) / rate(y[{{.window}}])", "rate(x[1h]) / rate(y[1h])"),
        ("rate(x[5m])", "rate(x[5m])"),
    ],
)
def test_the_window_placeholder_is_replaced_everywhere_with_or_without_spaces(template: str, rendered: str) -> None:
    assert render_window(template, "1h") == rendered


@pytest.mark.parametrize(("template", "has"), [("x[{{.window}}]", True), ("x[{{ .window }}]", True),
                                                ("x[5m]", False), ("x[{{window}}]", False)])
def test_a_template_has_the_placeholder_only_when_it_says_dot_window(template: str, has: bool) -> None:
    assert has_window_placeholder(template) is has


_ERR = 'http_requests_total{code=~"5.."}'
_TOT = "http_requests_total"

SLI_CASES: list[tuple[str, SLI, SLIQueries]] = [
    (
        "ratio_errors",
        RatioSLI(total=_TOT, errors=_ERR),
        SLIQueries(f"(sum(rate({_ERR}[1h])) or vector(0))", f"sum(rate({_TOT}[1h]))"),
    ),
    (
        "ratio_good",
        RatioSLI(total=_TOT, good='http_requests_total{code!~"5.."}'),
        SLIQueries(
            f'clamp_min(sum(rate({_TOT}[1h])) - (sum(rate(http_requests_total{{code!~"5.."}}[1h])) or vector(0)), 0)',
            f"sum(rate({_TOT}[1h]))",
        ),
    ),
    (
        "ratio_query_errors",
        RatioQuerySLI(total_query="sum(rate(t[{{.window}}]))", error_query="sum(rate(e[{{.window}}]))"),
        SLIQueries("((sum(rate(e[1h]))) or vector(0))", "(sum(rate(t[1h])))"),
    ),
    (
        "ratio_query_good",
        RatioQuerySLI(total_query="sum(rate(t[{{.window}}]))", good_query="sum(rate(g[{{.window}}]))"),
        SLIQueries("clamp_min((sum(rate(t[1h]))) - ((sum(rate(g[1h]))) or vector(0)), 0)", "(sum(rate(t[1h])))"),
    ),
    (
        "latency",
        LatencySLI(histogram='h_bucket{job="api"}', threshold=0.25),
        SLIQueries(
            r'clamp_min(sum(rate(h_bucket{job="api",le=~"\\+Inf"}[1h]))'
            r' - sum(rate(h_bucket{job="api",le=~"0?\\.250*"}[1h])), 0)',
            r'sum(rate(h_bucket{job="api",le=~"\\+Inf"}[1h]))',
        ),
    ),
    (
        "latency_valid_below",
        LatencySLI(histogram="h_bucket", threshold=0.25, valid_below=5),
        SLIQueries(
            r'clamp_min(sum(rate(h_bucket{le=~"5(\\.0*)?|5(\\.0*)?e\\+?00"}[1h]))'
            r' - sum(rate(h_bucket{le=~"0?\\.250*"}[1h])), 0)',
            r'sum(rate(h_bucket{le=~"5(\\.0*)?|5(\\.0*)?e\\+?00"}[1h]))',
        ),
    ),
    (
        "raw",
        RawSLI(error_ratio_query="sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))"),
        SLIQueries(
            "avg((sum(rate(e[1h])) / sum(rate(t[1h]))) >= 0)",
            "(avg((sum(rate(e[1h])) / sum(rate(t[1h]))) >= 0) * 0 + 1)",
        ),
    ),
    (
        "bool_gauge",
        BoolGaugeSLI(selector='probe_success{instance="platform"}'),
        SLIQueries(
            '(1 - avg(avg_over_time(probe_success{instance="platform"}[1h])))',
            '(avg(avg_over_time(probe_success{instance="platform"}[1h])) * 0 + 1)',
        ),
    ),
]


@pytest.mark.parametrize(("sli", "expected"), [c[1:] for c in SLI_CASES], ids=[c[0] for c in SLI_CASES])
def test_each_sli_kind_gives_exactly_these_error_and_total_queries(sli: SLI, expected: SLIQueries) -> None:
    assert queries(sli, "1h") == expected


@pytest.mark.parametrize("sli", [c[1] for c in SLI_CASES], ids=[c[0] for c in SLI_CASES])
def test_every_generated_sli_query_parses_as_promql(sli: SLI) -> None:
    got = queries(sli, "5m")
    for expr in (got.errors, got.total):
        promql_parser.parse(expr)  # raises ValueError with the parser's message when it does not parse


def test_the_latency_total_matcher_reads_back_as_the_plus_inf_regex() -> None:
    # The PromQL string literal must unescape to the regex le_regex() returns, or no bucket matches.
    node = promql_parser.parse(queries(LatencySLI("h_bucket", 0.25), "5m").total)
    values = {m.name: m.value for m in node.expr.args[0].vector_selector.matchers.matchers}
    assert values["le"] == le_regex(float("inf"))


@pytest.mark.parametrize(
    ("sli", "time_based"),
    [(RatioSLI("t", errors="e"), False), (RatioQuerySLI("t", error_query="e"), False),
     (LatencySLI("h", 1), False), (RawSLI("r"), True), (BoolGaugeSLI("g"), True)],
)
def test_only_raw_and_bool_gauge_slis_measure_time_rather_than_events(sli: SLI, time_based: bool) -> None:
    assert is_time_based(sli) is time_based

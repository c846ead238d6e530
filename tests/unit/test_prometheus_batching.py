"""Pure parts of the Prometheus reader: exact counter pieces and fitting chunks to a server's limit."""

from __future__ import annotations

import promql_parser
import pytest

from sloguard.adapters.prometheus.batching import fit, query_length_limit
from sloguard.adapters.prometheus.plan import counter_increase, event_counts
from sloguard.core.model import BoolGaugeSLI, LatencySLI, RatioQuerySLI, RatioSLI

VM_REFUSAL = (
    "Prometheus at http://vm:8428 refused the query: 400: too long query; got 161844 bytes; "
    "mustn't exceed `-search.maxQueryLen=16384` bytes"
)


def test_a_counter_piece_is_the_difference_at_both_ends_with_increase_for_restarts_and_new_series() -> None:
    expr = counter_increase('x_total{a="b"}', 3600)
    assert expr == '(((x_total{a="b"} - x_total{a="b"} offset 1h) >= 0) or increase(x_total{a="b"}[1h]))'
    promql_parser.parse(expr)
    with_resets = counter_increase("x_total", 86400, resets=True)
    assert "unless resets(x_total[1d]) > 0" in with_resets
    promql_parser.parse(with_resets)


@pytest.mark.parametrize(
    "sli",
    [
        RatioSLI(errors='r_total{code="500"}', total="r_total"),
        RatioSLI(good='r_total{code="200"}', total="r_total"),
        LatencySLI('h_bucket{job="a"}', 0.25, valid_below=10.0),
    ],
)
def test_counter_slis_get_exact_counts_that_parse(sli: RatioSLI | LatencySLI) -> None:
    counts = event_counts(sli, 300)
    assert counts is not None
    for expr in counts:
        assert " offset 5m" in expr and "rate(" not in expr
        promql_parser.parse(expr)


@pytest.mark.parametrize(
    "sli", [RatioQuerySLI(total_query="sum(rate(x[{{.window}}]))", error_query="vector(0)"), BoolGaugeSLI("up")]
)
def test_templates_and_gauges_cannot_be_rewritten(sli: RatioQuerySLI | BoolGaugeSLI) -> None:
    assert event_counts(sli, 300) is None


def test_victoriametrics_query_length_refusals_give_the_limit_and_others_none() -> None:
    assert query_length_limit(VM_REFUSAL) == 16384
    assert query_length_limit("Prometheus at http://p refused the query: bad_data: parse error") is None


def test_chunks_are_cut_in_order_to_stay_under_the_limit() -> None:
    sizes = [4000] * 10
    chunks = fit(list(range(10)), sizes, 16384)
    assert [i for c in chunks for i in c] == list(range(10))
    assert all(sum(sizes[i] + 60 for i in c) <= 16384 * 0.9 for c in chunks)
    assert len(chunks) == 4  # three per chunk: 3 * 4060 = 12180 <= 14745 < 4 * 4060
    assert fit([7], [50_000], 16384) == [[7]]  # one too long stays alone (and is refused alone)

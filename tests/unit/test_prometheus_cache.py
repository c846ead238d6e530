"""The window cache's plan, without a server: what a cycle asks, and what the next one no longer does."""

from __future__ import annotations

from datetime import UTC, datetime

from sloguard.adapters.prometheus.batching import Result
from sloguard.adapters.prometheus.cache import WindowCache
from sloguard.adapters.prometheus.client import Series
from sloguard.adapters.prometheus.plan import AllRecordedBurns, BucketMeasure, Measure, PieceMeasure, RawBurn
from sloguard.core.model import Alerting, Objective, RatioSLI
from sloguard.core.windows import parse_window

HOUR = 3600
AT = int(datetime(2025, 3, 30, 20, 2, tzinfo=UTC).timestamp())


def slo() -> Objective:
    return Objective(
        namespace="shop", name="checkout", service="checkout", objective=0.999, window=parse_window("30d"),
        sli=RatioSLI(errors='r_total{code="500"}', total="r_total"),
        alerting=Alerting(name="ErrorBudgetBurn", tiers=()),
    )


def test_a_first_cycle_reads_the_missing_hours_in_one_range_and_the_head_and_tail_at_once() -> None:
    cycle = WindowCache(settle_seconds=300).cycle({slo().key: slo()}, AT)
    instant, *ranges = cycle.batches
    assert instant.at == AT and instant.start is None
    # (AT - 30d, AT]: head to 21:00 thirty days before, whole hours ending 22:00 ... 19:00 (20:00 ends
    # less than 300 s before 20:02), tail (19:00, 20:02].
    first_hour_end = AT - 30 * 86400 - 2 * 60 + 2 * HOUR
    last_hour_end = AT - 2 * 60 - HOUR
    assert [(r.start, r.at, r.step) for r in ranges] == [(first_hour_end, last_hour_end, HOUR)]
    [bucket_builder] = cycle.builders[1:]
    assert {w for wants in bucket_builder.wants for w in wants} == {
        BucketMeasure("shop/checkout", Measure.BAD), BucketMeasure("shop/checkout", Measure.TOTAL),
        BucketMeasure("shop/checkout", Measure.DATA)}  # 5-minute steps with data: the coverage
    wants = {w for ws in cycle.builders[0].wants for w in ws}
    pieces = {(w.piece.end, w.piece.length) for w in wants if isinstance(w, PieceMeasure)}
    assert (AT, AT - last_hour_end) in pieces and (first_hour_end - HOUR, 58 * 60) in pieces
    assert any(isinstance(w, AllRecordedBurns) for w in wants) and any(isinstance(w, RawBurn) for w in wants)


def test_the_next_cycle_asks_no_hour_again_and_sums_the_answers() -> None:
    cache = WindowCache(settle_seconds=300)
    objective = slo()
    first = cache.cycle({objective.key: objective}, AT)
    results = []
    for builder, batch in zip(first.builders, first.batches, strict=True):
        series: dict[int, list[Series]] = {}
        for i, wants in enumerate(builder.wants):
            for w in wants:
                if isinstance(w, BucketMeasure):  # every hour: 1 bad of 1,000
                    value = 1.0 if w.measure == Measure.BAD else 1000.0
                    points = [(float(t), value) for t in range(batch.first, batch.at + 1, HOUR)]
                    series[i] = [Series({}, points)]
                elif isinstance(w, PieceMeasure):  # head and tail: nothing bad, 500 events
                    series[i] = [Series({}, [(float(AT), 0.0 if w.measure == Measure.BAD else 500.0)])]
        results.append(Result(series, {}))
    measured = cache.absorb(first, results)[objective.key]
    hours = 30 * 24 - 2  # whole hours between the head and the tail
    assert measured.bad == hours and measured.total == hours * 1000 + 2 * 500

    later = cache.cycle({objective.key: objective}, AT + 30)
    assert len(later.batches) == 1  # the instant batch only: every hour is cached

"""Data coverage of a budget window, without a server: the figure from its parts, and the window
cache asking the first sample only where data starts late, once."""

from __future__ import annotations

from tests.unit.test_prometheus_cache import AT, HOUR, slo

from sloguard.adapters.prometheus.batching import Batch, Builder, Result
from sloguard.adapters.prometheus.cache import WindowCache
from sloguard.adapters.prometheus.client import Series
from sloguard.adapters.prometheus.plan import (
    BucketMeasure,
    FirstDataStep,
    FirstSample,
    Measure,
    PieceMeasure,
    Request,
    coverage_of,
    coverage_steps,
    first_sample_ask,
    is_first_step,
)

WINDOW = 30 * 86400
START = AT - WINDOW


def test_two_minutes_of_a_30d_window_full_history_and_an_outage() -> None:
    at = 1_743_372_900  # a multiple of 5 minutes
    start = at - WINDOW
    assert coverage_of(at - 120, 1, start, at) == 120 / WINDOW  # one step with data, after the first sample
    assert coverage_of(start, WINDOW // 300, start, at) == 1.0  # every step has data
    assert coverage_of(start, WINDOW // 300 - 35, start, at) == (WINDOW - 35 * 300) / WINDOW  # 35 empty steps
    assert coverage_of(None, 5, start, at) is None and coverage_of(start, 0, start, at) is None


def test_the_first_step_of_a_window_is_the_first_multiple_of_five_minutes_after_its_start() -> None:
    assert coverage_steps(600, 1200) == 2 and coverage_steps(601, 1199) == 1
    assert is_first_step(900, 600) and not is_first_step(1200, 600)
    assert is_first_step(900, 899) and not is_first_step(1200, 899)


def test_the_first_sample_refine_reads_six_one_minute_steps_behind_the_first_data_step() -> None:
    ask = first_sample_ask(slo(), 1_743_372_000, 1_743_372_900)
    assert ask is not None and ask.request == FirstSample(slo().key)
    assert ask.expr == "min(min_over_time(timestamp(r_total)[5m59s999ms:1m] offset 15m))"


def _answer(cycle_builders: list[Builder[Request]], cycle_batches: list[Batch], data_from: int) -> list[Result]:
    """Every hour: 12 steps with data from ``data_from`` on, none before; pieces likewise."""
    results = []
    for builder, batch in zip(cycle_builders, cycle_batches, strict=True):
        series: dict[int, list[Series]] = {}
        for i, wants in enumerate(builder.wants):
            for w in wants:
                if isinstance(w, BucketMeasure):
                    value = {Measure.BAD: 0.0, Measure.TOTAL: 1000.0, Measure.DATA: 12.0}[w.measure]
                    points = [(float(t), value) for t in range(batch.first, batch.at + 1, HOUR) if t > data_from]
                    series[i] = [Series({}, points)] if points else []
                elif isinstance(w, PieceMeasure) and w.piece.end > data_from:
                    value = {Measure.BAD: 0.0, Measure.TOTAL: 500.0, Measure.DATA: 1.0}[w.measure]
                    series[i] = [Series({}, [(float(AT), value)])]
        results.append(Result(series, {}))
    return results


def test_a_late_start_is_found_in_two_follow_ups_once_and_kept() -> None:
    cache = WindowCache(settle_seconds=300)
    objective = slo()
    first_hour = (AT - 10 * 86400) // HOUR * HOUR  # the first hour with data ends here
    cycle = cache.cycle({objective.key: objective}, AT)
    measured = cache.absorb(cycle, _answer(cycle.builders, cycle.batches, first_hour - HOUR))
    assert measured[objective.key].coverage is None  # not known before the follow-ups
    follow = cache.follow_up(cycle)
    assert follow is not None
    builder, batch = follow
    [[want]] = builder.wants
    assert want == FirstDataStep(objective.key) and batch.at == AT
    step = first_hour - HOUR + 900  # the first step with data: 15 minutes into that hour
    measured = cache.absorb_follow_up(cycle, builder, Result({0: [Series({}, [(float(AT), float(step))])]}, {}),
                                      measured)
    follow = cache.follow_up(cycle)
    assert follow is not None
    builder, _ = follow
    [[want]] = builder.wants
    assert want == FirstSample(objective.key)
    sample = step - 120.0
    measured = cache.absorb_follow_up(cycle, builder, Result({0: [Series({}, [(float(AT), sample)])]}, {}),
                                      measured)
    assert cache.follow_up(cycle) is None
    # data steps: 12 per whole hour from first_hour on, one per piece with data (the tail)
    last_hour = (AT - 300) // HOUR * HOUR  # the last whole hour settled 300 s before AT
    hours = len(range(first_hour, last_hour + 1, HOUR))
    data_steps = 12 * hours + 1
    expected = (AT - sample - 300 * max(0, coverage_steps(int(sample), AT) - data_steps)) / WINDOW
    assert measured[objective.key].coverage == expected

    later = cache.cycle({objective.key: objective}, AT + 30)  # kept: no follow-up
    again = cache.absorb(later, _answer(later.builders, later.batches, first_hour - HOUR))
    assert cache.follow_up(later) is None and again[objective.key].coverage is not None


def test_a_window_whose_first_part_is_full_of_data_is_covered_from_its_start_without_a_follow_up() -> None:
    cache = WindowCache(settle_seconds=300)
    objective = slo()
    cycle = cache.cycle({objective.key: objective}, AT)
    head = next(w.piece for ws in cycle.builders[0].wants for w in ws
                if isinstance(w, PieceMeasure) and w.piece.end < AT)
    results = _answer(cycle.builders, cycle.batches, START - HOUR)
    # the head (58 minutes: 11 steps) answers 11 steps with data
    for i, wants in enumerate(cycle.builders[0].wants):
        if any(isinstance(w, PieceMeasure) and w.piece == head and w.measure == Measure.DATA for w in wants):
            results[0].series[i] = [Series({}, [(float(AT), float(coverage_steps(START, head.end)))])]
    measured = cache.absorb(cycle, results)[objective.key]
    assert cache.follow_up(cycle) is None
    assert measured.coverage is not None and measured.coverage < 1.0  # the tail piece's one step of 12

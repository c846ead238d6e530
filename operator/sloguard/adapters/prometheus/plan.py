"""What to ask Prometheus for a budget, as PromQL and typed requests. Pure: no I/O, no clock.

Every figure the budget reader needs is one PromQL expression reduced to one series, paired with
a *request* saying what its value answers (:data:`Request`: the window's bad events of an SLO, a
piece of a window, an hourly bucket, a raw or recorded burn rate). The reader batches the
expressions (:mod:`.batching`) and hands each value back to the request that asked for it.

Range boundaries. Prometheus 2 ranges are closed, ``[t - d, t]``; Prometheus 3's are left-open,
``(t - d, t]``; VictoriaMetrics' are left-open too but its ``increase`` starts from the last
sample *before* the range. ``increase(x[1h])`` at aligned hours therefore telescopes on 2.x and
VictoriaMetrics, but not on 3.x: there each hour loses the increment between the last sample at
or before ``e - 1h`` and the first one after it, and extrapolates the rest over the gap (a 30-day
budget came out 2.8% low). So the cache never asks a range function for counter events.
A counter's events in ``(t - d, t]`` are ``x - x offset d``, per series: the difference of the
last samples at or before each boundary. Instant selectors pick "the last sample at or before
``t``" on all three servers, so these differences telescope exactly: the sum over any cut of
``(s, at]`` is ``x(at) - x(s)``, the figure the counters themselves give. Where that difference
does not hold (a counter reset inside the piece, seen as a negative difference; a series that
did not exist at one boundary), the series falls back to the server's own ``increase(x[d])``, as
the uncached reader would count it (:func:`counter_increase`). A piece costs the samples of one
``increase`` plus two, as a ``rate`` did. This applies to the SLIs built from counters we know
(``ratio``, ``latency``). A ``ratioQuery`` template is the user's PromQL, so it cannot be
rewritten: those SLOs are read from raw windows at every cycle (exact on every server, not
cached). Time-based SLIs (averages) and Timeslices' subquery grids use ranges 1 ms short, so a
sample or slice end on a boundary belongs to exactly one side, ``(t - d, t]``, under each
server's rule; a slice of a counter SLI is judged from the same exact differences.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, NamedTuple

from sloguard.core.budget import burn_windows
from sloguard.core.conventions import LABEL_NAMESPACE, LABEL_SLO, RECORD_ERROR_RATIO_PREFIX
from sloguard.core.model import SLI, LatencySLI, Objective, RatioQuerySLI, RatioSLI
from sloguard.core.sli import is_time_based, le_regex, queries, with_matcher
from sloguard.core.windows import format_duration, parse_duration

#: Length of a cached bucket; buckets end on multiples of it (whole hours, UTC epoch).
BUCKET_SECONDS: Final = 3600
#: Burn windows of whole buckets at least this long are summed from the buckets.
MIN_CACHED_BURN_SECONDS: Final = 2 * BUCKET_SECONDS

#: Data coverage: the grid of steps (multiples of 5 minutes, Prometheus' default lookback) at which
#: a window is checked for data. Step ``t`` has data when the SLI's total series has a sample in
#: ``[t - 5m, t)`` (:func:`data_step_exprs`).
COVERAGE_STEP_SECONDS: Final = 300
#: Step of the subquery that finds the first sample after a stretch without data: the figure is
#: at most one step late (the first sample of a series scraped once a minute, exactly).
FIRST_SAMPLE_STEP: Final = "1m"

#: Seconds of a Prometheus duration (``"5m"`` -> 300); the same few windows are parsed every cycle.
duration_seconds = functools.lru_cache(maxsize=256)(parse_duration)


class Measure(StrEnum):
    """A figure of an SLO over a window or a part of one; parts add up."""

    BAD = "bad"  # bad events (bad seconds for time-based SLIs)
    TOTAL = "total"  # all events (measured seconds)
    SLICES_BAD = "slices_bad"  # Timeslices: bad slices
    SLICES_TOTAL = "slices_total"  # Timeslices: slices with traffic
    DATA = "data"  # coverage: 5-minute steps with data (see COVERAGE_STEP_SECONDS)


class Figure(NamedTuple):
    """PromQL giving a measure over a piece ``(t - d, t]`` when evaluated at ``t``, and the factor
    its value is multiplied by (rates times the piece's length for SLIs we cannot count)."""

    expr: str
    scale: float


Figures = dict[Measure, Figure]


# --- requests: what the value of one expression answers ----------------------------------------


@dataclass(frozen=True)
class Piece:
    """``(end - length, end]``."""

    end: int
    length: int


@dataclass(frozen=True)
class WindowMeasure:
    """Uncached: ``measure`` of SLO ``key`` over the window so far, read raw (bad and total as
    rates over the window, slices as counts)."""

    key: str
    measure: Measure


@dataclass(frozen=True)
class RecordedBurn:
    """Uncached: the recorded error ratio of SLO ``key`` over ``window``."""

    key: str
    window: str


@dataclass(frozen=True)
class RawBurn:
    """The error ratio of SLO ``key`` over ``window``, read from raw samples."""

    key: str
    window: str


@dataclass(frozen=True)
class PieceMeasure:
    """Window cache: ``measure`` of SLO ``key`` over ``piece``."""

    key: str
    piece: Piece
    measure: Measure


@dataclass(frozen=True)
class BucketMeasure:
    """Window cache: ``measure`` of SLO ``key`` over each missing bucket (a range query)."""

    key: str
    measure: Measure


@dataclass(frozen=True)
class AllRecordedBurns:
    """Window cache: every SLO's recorded error ratio over ``window``, one series per SLO."""

    window: str


@dataclass(frozen=True)
class FirstDataStep:
    """The first 5-minute step with data of SLO ``key``'s window so far (uncached reader, round 1)
    or of one part of it (window cache, asked once per SLO)."""

    key: str


@dataclass(frozen=True)
class FirstSample:
    """The first sample of SLO ``key``'s total series at or after the step before its first data
    step (for the data coverage; asked once per SLO: the window cache keeps it)."""

    key: str


Request = (WindowMeasure | RecordedBurn | RawBurn | PieceMeasure | BucketMeasure | AllRecordedBurns
           | FirstDataStep | FirstSample)


@dataclass(frozen=True)
class Ask:
    """One expression and what its value answers."""

    request: Request
    expr: str


# --- PromQL --------------------------------------------------------------------------------------


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ratio(sli_errors: str, sli_total: str) -> str:
    return f"(sum({sli_errors}) / (sum({sli_total}) > 0))"


def is_timeslices(slo: Objective) -> bool:
    return slo.budgeting_method == "Timeslices" and slo.timeslice is not None


def _slice_is_bad(slo: Objective) -> str:
    """1 for a bad slice, 0 for a good one, no sample for a slice without traffic."""
    assert slo.timeslice is not None
    exact = event_counts(slo.sli, duration_seconds(slo.timeslice.window))
    if exact is not None:
        errors, total = exact
    else:
        q = queries(slo.sli, slo.timeslice.window)
        errors, total = q.errors, q.total
    return f"((1 - {_ratio(errors, total)}) < bool {slo.timeslice.target!r})"


def counter_increase(selector: str, seconds: int, resets: bool = False) -> str:
    """Each series' events in ``(t - seconds, t]``, exact on Prometheus 2, 3 and VictoriaMetrics.

    ``x - x offset d``: the difference of the last samples at or before both ends (instant
    selectors mean the same on every server, so pieces telescope). Series whose difference is
    negative (the process restarted) or that are missing at one end (new, or gone) take the
    server's ``increase(x[d])`` instead, as a raw read would. A counter that restarts and then
    outgrows its old value within the same piece is only caught with ``resets`` (which reads
    every sample of the piece once more: the SLA reader's month-long pieces use it; the
    window cache's pieces of about an hour do not, a restart that outgrows an hour-old value
    in the same hour being rare and small).
    """
    d = format_duration(seconds)
    diff = f"({selector} - {selector} offset {d}) >= 0"
    if resets:
        diff = f"({diff} unless resets({selector}[{d}]) > 0)"
    return f"(({diff}) or increase({selector}[{d}]))"


def event_counts(sli: SLI, seconds: int, resets: bool = False) -> tuple[str, str] | None:
    """Bad and total events over ``(t - seconds, t]`` from counter differences (see
    :func:`counter_increase`), each one series; ``None`` for SLIs that are not counters we can
    rewrite (time-based kinds, and ``ratioQuery`` templates)."""

    def inc(selector: str) -> str:
        return f"sum({counter_increase(selector, seconds, resets)})"

    if isinstance(sli, RatioSLI):
        total = inc(sli.total)
        if sli.errors is not None:
            return f"({inc(sli.errors)} or vector(0))", total
        assert sli.good is not None
        return f"clamp_min({total} - ({inc(sli.good)} or vector(0)), 0)", total
    if isinstance(sli, LatencySLI):
        valid = sli.valid_below if sli.valid_below is not None else float("inf")
        total = inc(_le(sli.histogram, valid))
        good = inc(_le(sli.histogram, sli.threshold))
        return f"clamp_min({total} - {good}, 0)", total
    return None


def _le(histogram: str, bound: float) -> str:
    regex = le_regex(bound).replace("\\", "\\\\").replace('"', '\\"')
    return with_matcher(histogram, f'le=~"{regex}"')


def total_selector(sli: SLI) -> str | None:
    """The series whose samples say the SLI had data: the total counter of a ratio, the
    histogram's ``le`` bound of valid requests; ``None`` for SLIs we do not count (time-based
    kinds, ``ratioQuery`` templates): their coverage is not measured."""
    if isinstance(sli, RatioSLI):
        return sli.total
    if isinstance(sli, LatencySLI):
        return _le(sli.histogram, sli.valid_below if sli.valid_below is not None else float("inf"))
    return None


def _present(selector: str) -> str:
    """One series while ``selector`` has a sample in ``[t - 5m, t)``: the lookback of an instant
    selector shifted by 1 ms, so a sample on a step belongs to the next step on Prometheus 2
    (closed lookback), 3 (left-open) and VictoriaMetrics alike."""
    return f"count({selector} offset 1ms)"


def data_step_exprs(slo: Objective, seconds: int) -> Figures:
    """The 5-minute steps with data in a piece ``(t - seconds, t]`` (:attr:`Measure.DATA`); empty
    for SLIs whose coverage is not measured. One instant lookup per step and series: a 30-day
    window is 8,640 steps, a tenth of the samples a one-minute scan reads."""
    selector = total_selector(slo.sli)
    if selector is None:
        return {}
    step = format_duration(COVERAGE_STEP_SECONDS)
    return {Measure.DATA: Figure(f"count_over_time({_present(selector)}[{_short(seconds)}:{step}])", 1.0)}


def first_data_step_ask(slo: Objective, seconds: int, end: int, at: int) -> Ask | None:
    """The first 5-minute step with data in ``(end - seconds, end]``, asked at ``at``: the step's
    own time (``timestamp`` of an aggregate is the evaluation time, a cheap lookup on every server)."""
    selector = total_selector(slo.sli)
    if selector is None or seconds <= 0:
        return None
    step = format_duration(COVERAGE_STEP_SECONDS)
    expr = f"min_over_time(timestamp({_present(selector)})[{_short(seconds)}:{step}])"
    return Ask(FirstDataStep(slo.key), shifted(expr, end, at, grid=COVERAGE_STEP_SECONDS))


def first_sample_ask(slo: Objective, data_step: int, at: int) -> Ask | None:
    """The first sample behind ``data_step``, the first step with data after one without: it lies
    in ``[data_step - 5m, data_step)``. ``timestamp`` of the sample each one-minute step picks over
    ``[data_step - 5m, data_step]``: the minimum is the first sample, at most a step late (a series
    scraped every minute: exactly). Six steps: cheap on every server (a month of one-minute steps
    of ``timestamp(selector)`` took 94 s on Prometheus 2.42)."""
    selector = total_selector(slo.sli)
    if selector is None:
        return None
    span = COVERAGE_STEP_SECONDS + duration_seconds(FIRST_SAMPLE_STEP)
    expr = f"min(min_over_time(timestamp({selector})[{_short(span)}:{FIRST_SAMPLE_STEP}]{_offset(at - data_step)}))"
    return Ask(FirstSample(slo.key), expr)


def _offset(seconds: int) -> str:
    return f" offset {format_duration(seconds)}" if seconds > 0 else ""


def coverage_steps(start: int, end: int) -> int:
    """5-minute steps in ``(start, end]``."""
    return max(0, end // COVERAGE_STEP_SECONDS - start // COVERAGE_STEP_SECONDS)


def is_first_step(data_step: int, start: int) -> bool:
    """Whether ``data_step`` is the window's first step: then the window counts as covered from
    its start (the sample that gave the step data may be up to 5 minutes after it)."""
    return data_step <= (start // COVERAGE_STEP_SECONDS + 1) * COVERAGE_STEP_SECONDS


def coverage_of(first_sample: float | None, data_steps: float | None, start: int, at: int) -> float | None:
    """The share of ``(start, at]`` with data: from the first sample (or the start, when the window
    had data from its first step) to ``at``, less 5 minutes for every step after it without data.
    ``None`` when the window had no data step (or it was not measured)."""
    if first_sample is None or not data_steps or at <= start:
        return None
    since = max(int(first_sample), start)
    empty = max(0, coverage_steps(since, at) - int(data_steps))
    covered = max(0, at - since - empty * COVERAGE_STEP_SECONDS)
    return covered / (at - start)


def recorded(window: str) -> str:
    """The recording rule of every SLO's error ratio over ``window``."""
    return f"{RECORD_ERROR_RATIO_PREFIX}{window}"


def all_recorded_burns(window: str) -> str:
    """Every SLO's recorded error ratio over ``window``, one series per SLO."""
    return f"max by ({LABEL_NAMESPACE}, {LABEL_SLO}) ({recorded(window)})"


def _slo_matchers(slo: Objective) -> str:
    return f"{LABEL_SLO}={_quote(slo.name)},{LABEL_NAMESPACE}={_quote(slo.namespace)}"


def burn_ratio(sli: SLI, window: str) -> str:
    """The error ratio over the last ``window``: from exact counter differences where the SLI
    allows it (a 5m ``rate`` on Prometheus 3 sees four of five one-minute increments)."""
    exact = event_counts(sli, duration_seconds(window))
    if exact is not None:
        return _ratio(*exact)
    q = queries(sli, window)
    return _ratio(q.errors, q.total)


# --- the uncached reader: two rounds of raw windows ---------------------------------------------


def window_asks(slo: Objective, at: datetime) -> list[Ask]:
    """Round 1 for one SLO: the window so far (raw), slices, and recorded burn rates."""
    asks: list[Ask] = []
    start, _ = slo.window.bounds(at)
    span = slo.window.seconds if not slo.window.is_calendar else int((at - start).total_seconds())
    if span > 0:
        rng = format_duration(span)
        if is_timeslices(slo):
            assert slo.timeslice is not None
            step = slo.timeslice.window
            bad = _slice_is_bad(slo)
            if span > 1:
                # (at - span, at]: the range is one second short so the slice ending exactly at the
                # window's start (which belongs to the previous window) is never counted.
                sub = f"[{format_duration(span - 1)}:{step}]"
                asks.append(Ask(WindowMeasure(slo.key, Measure.SLICES_BAD), f"sum(sum_over_time({bad}{sub}))"))
                asks.append(Ask(WindowMeasure(slo.key, Measure.SLICES_TOTAL), f"sum(count_over_time({bad}{sub}))"))
        else:
            q = queries(slo.sli, rng)
            asks.append(Ask(WindowMeasure(slo.key, Measure.BAD), f"sum({q.errors})"))
            asks.append(Ask(WindowMeasure(slo.key, Measure.TOTAL), f"sum({q.total})"))
        for m, (expr, _) in data_step_exprs(slo, span).items():
            asks.append(Ask(WindowMeasure(slo.key, m), expr))
        at_s = int(at.timestamp())
        first = first_data_step_ask(slo, span, at_s, at_s)
        if first is not None:
            asks.append(first)
    for w in burn_windows(slo):
        asks.append(Ask(RecordedBurn(slo.key, w), f"max({recorded(w)}{{{_slo_matchers(slo)}}})"))
    return asks


def raw_burn_ask(slo: Objective, window: str) -> Ask:
    """Round 2: a burn rate no recording rule answered, from raw samples."""
    return Ask(RawBurn(slo.key, window), burn_ratio(slo.sli, window))


# --- the window cache: pieces and hourly buckets ------------------------------------------------


def _short(seconds: int) -> str:
    """A range 1 ms short of ``seconds``: ``(t - seconds, t]`` under either engine's boundary rule."""
    whole = seconds - 1
    return (format_duration(whole) if whole > 0 else "") + "999ms"


def piece_exprs(slo: Objective, seconds: int) -> Figures:
    """What the cache keeps for ``slo`` over a piece of ``seconds``: bad/total events, seconds
    (time-based SLIs: the average over the piece times its length), or slices (Timeslices: the
    slices *ending* in the piece)."""
    if is_timeslices(slo):
        assert slo.timeslice is not None
        sub = f"[{_short(seconds)}:{slo.timeslice.window}]"
        bad = _slice_is_bad(slo)
        return {
            Measure.SLICES_BAD: Figure(f"sum(sum_over_time({bad}{sub}))", 1.0),
            Measure.SLICES_TOTAL: Figure(f"sum(count_over_time({bad}{sub}))", 1.0),
            **data_step_exprs(slo, seconds),
        }
    return {**event_exprs(slo, seconds), **data_step_exprs(slo, seconds)}


def event_exprs(slo: Objective, seconds: int) -> Figures:
    """Bad and total events (seconds for time-based SLIs) over a piece of ``seconds``."""
    exact = event_counts(slo.sli, seconds)
    if exact is not None:
        return {Measure.BAD: Figure(exact[0], 1.0), Measure.TOTAL: Figure(exact[1], 1.0)}
    rng = _short(seconds) if is_time_based(slo.sli) else format_duration(seconds)
    q = queries(slo.sli, rng)
    if isinstance(slo.sli, RatioQuerySLI):  # a user's query may keep labels; the others are aggregated
        return {
            Measure.BAD: Figure(f"sum({q.errors})", float(seconds)),
            Measure.TOTAL: Figure(f"sum({q.total})", float(seconds)),
        }
    return {Measure.BAD: Figure(q.errors, float(seconds)), Measure.TOTAL: Figure(q.total, float(seconds))}


def cacheable(slo: Objective) -> bool:
    """Whether hourly buckets of ``slo`` telescope on every server (see the module docstring)."""
    return is_timeslices(slo) or not isinstance(slo.sli, RatioQuerySLI)


def shifted(expr: str, end: int, at: int, grid: int = BUCKET_SECONDS) -> str:
    """``expr`` as it was at ``end`` (a multiple of ``grid``: a bucket boundary), in a query
    evaluated at ``at``.

    A subquery of step ``grid`` over the last second holds exactly one point, at ``end``
    (subquery steps are aligned to multiples of the step): one evaluation, no interpolation.
    """
    if end == at:
        return expr
    assert end % grid == 0 and end < at, (end, at)
    return f"last_over_time(({expr})[1s:{format_duration(grid)}] offset {format_duration(at - end)})"


@dataclass(frozen=True)
class Cut:
    """A window ``(start, at]`` cut into a head piece, whole buckets ``(lo, hi]`` and a tail piece."""

    pieces: tuple[Piece, ...]
    buckets: tuple[int, int] | None  # first and last bucket end, inclusive


def cut(start: int, at: int, settle: int, bucket: int = BUCKET_SECONDS) -> Cut:
    """Cut ``(start, at]`` exactly: ``(start, a] + (a, c] in whole buckets + (c, at]``.

    ``a`` is the first bucket boundary at or after ``start``, ``c`` the last one at least
    ``settle`` seconds before ``at``. When there is no whole bucket between them, the window is
    one piece ending at ``at``.
    """
    a = -(-start // bucket) * bucket
    c = (at - settle) // bucket * bucket
    if start >= at:
        return Cut((), None)
    if a > c:
        return Cut((Piece(at, at - start),), None)
    pieces = []
    if a > start:
        pieces.append(Piece(a, a - start))
    if at > c:
        pieces.append(Piece(at, at - c))
    return Cut(tuple(pieces), (a + bucket, c) if c > a else None)


__all__ = [
    "BUCKET_SECONDS",
    "COVERAGE_STEP_SECONDS",
    "MIN_CACHED_BURN_SECONDS",
    "AllRecordedBurns",
    "Ask",
    "BucketMeasure",
    "Cut",
    "Figure",
    "Figures",
    "FirstDataStep",
    "FirstSample",
    "Measure",
    "Piece",
    "PieceMeasure",
    "RawBurn",
    "RecordedBurn",
    "Request",
    "WindowMeasure",
    "all_recorded_burns",
    "burn_ratio",
    "cacheable",
    "counter_increase",
    "coverage_of",
    "coverage_steps",
    "cut",
    "data_step_exprs",
    "duration_seconds",
    "event_counts",
    "event_exprs",
    "first_data_step_ask",
    "first_sample_ask",
    "is_first_step",
    "is_timeslices",
    "piece_exprs",
    "raw_burn_ask",
    "recorded",
    "shifted",
    "total_selector",
    "window_asks",
]

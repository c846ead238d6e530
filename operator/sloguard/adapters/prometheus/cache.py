"""The window cache: a 30-day window every 30 s without reading a month of samples each time.

Per SLO, the cache keeps the counts of whole hours (*buckets*: ``(e - 1h, e]`` for every hour
``e`` of the window, bad/total events, seconds for time-based SLIs, bad/total slices for
Timeslices) and each cycle only reads what moved. The window ``(s, at]`` is cut exactly into

* a head ``(s, a]``, ``a`` the first hour at or after ``s``: read at ``a`` with an ``offset``
  subquery (``last_over_time((expr)[1s:1h] offset <at - a>)``, evaluated once, at ``a``);
* the cached buckets ending at ``a + 1h ... c``, ``c`` the last hour at least ``settle_seconds``
  before ``at`` (late samples still arriving are never frozen into a bucket);
* a tail ``(c, at]`` read at ``at``.

Missing buckets (a new SLO, a changed SLO, a new hour, after an outage, another ``at``) are read
with ONE range query per batch (``step`` = 1h, evaluated at the bucket ends); buckets that leave
the window are dropped. So the first cycle reads each window once, and the steady state reads at
most two hours per SLO and window, plus, once an hour, one new bucket. Burn-rate windows of whole
hours from 2h up (``2h``, ``6h``, ``1d``, ``3d``, alert windows) are summed the same way from the
same buckets; shorter ones are read raw. Recorded ``sloguard:sli_error_ratio:rate<W>`` series,
when present, are preferred for burn rates (all SLOs' recordings of a window in one
``max by (slo, slo_namespace)`` expression). Everything of a cycle goes out in one round: the
instant batch at ``at`` and, when buckets are missing, the range batches.

Data coverage (:func:`~.plan.coverage_of`): the 5-minute steps with data are one more measure of
the buckets and pieces (:attr:`~.plan.Measure.DATA`, read and kept with them), so gaps anywhere in
the window are counted at the cost of 12 lookups per hour and series, once. Where the window's data
starts late, the first sample is found once per SLO in one or two follow-up rounds of one tiny
query per SLO (:meth:`WindowCache.follow_up`): the first step with data inside the first part
that had any, then the first sample behind that step. It is kept with the window it was asked
over and holds for any later window starting at or after that one (there was no sample between
the two starts), so the steady state asks nothing for it. Once the window has slid past it, only
the steps without data count.

No I/O here: :meth:`WindowCache.cycle` says what to ask, :meth:`WindowCache.absorb` takes the
answers. The cache is only updated from complete answers (the reader does not call ``absorb``
when Prometheus could not be read).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sloguard.core.budget import Measurements, burn_windows
from sloguard.core.conventions import LABEL_NAMESPACE, LABEL_SLO
from sloguard.core.model import Objective

from .batching import Batch, Builder, Result
from .client import MAX_RANGE_STEPS, Series
from .plan import (
    BUCKET_SECONDS,
    COVERAGE_STEP_SECONDS,
    MIN_CACHED_BURN_SECONDS,
    AllRecordedBurns,
    BucketMeasure,
    Cut,
    Figures,
    FirstDataStep,
    FirstSample,
    Measure,
    Piece,
    PieceMeasure,
    RawBurn,
    Request,
    all_recorded_burns,
    burn_ratio,
    cacheable,
    coverage_of,
    coverage_steps,
    cut,
    duration_seconds,
    first_data_step_ask,
    first_sample_ask,
    is_first_step,
    is_timeslices,
    piece_exprs,
    shifted,
)

#: A cache entry no cycle has used for this many cycles is dropped (SLOs deleted, or asked once).
_UNUSED_CYCLES = 20

Values = dict[Measure, float | None]


@dataclass
class _Entry:
    """What the cache remembers of one SLO: whole buckets and immutable pieces."""

    slo: Objective
    buckets: dict[int, Values] = field(default_factory=dict)  # bucket end -> measure -> value
    pieces: dict[Piece, Values] = field(default_factory=dict)  # pieces that can no longer change
    last_used: int = 0
    first_sample: tuple[int, float] | None = None  # (window start asked over, first sample in it)


@dataclass
class SLOPlan:
    """One SLO in one cycle."""

    slo: Objective
    entry: _Entry
    window: Cut | None  # None: the calendar period has not started
    windows: list[str]  # every burn window reported
    burns: dict[str, Cut]  # burn windows summed from the buckets
    raw_burns: list[str]  # burn windows read raw
    needed: tuple[int, int] | None  # bucket ends the cycle needs, inclusive
    missing: tuple[int, int] | None  # ... of which not cached (a range to read)
    pieces: dict[Piece, Figures]  # pieces to read (not cached)
    cached_pieces: dict[Piece, Values]
    start: int  # the window's start
    first_sample: float | None  # kept from an earlier cycle; None: ask (when measurable)


@dataclass
class _Coverage:
    """One SLO's data coverage while its first sample is being found in follow-up rounds."""

    data_steps: float  # steps with data in the window (> 0)
    part: Piece | None  # ask the first data step in this part ...
    step: int | None = None  # ... or, once known, the first sample behind this first data step


@dataclass
class Cycle:
    """What one cycle asks: the instant batch first, then one range batch per missing range; then,
    for SLOs whose data starts late in the window and whose first sample is not known yet, up to
    two follow-up rounds (:meth:`WindowCache.follow_up`)."""

    at: int
    plans: dict[str, SLOPlan]
    builders: list[Builder[Request]]
    batches: list[Batch]
    pending: dict[str, _Coverage] = field(default_factory=dict)


def _sum(parts: Iterable[Values], bad: Measure, total: Measure) -> tuple[float | None, float | None]:
    """Sums of ``bad`` and ``total`` over buckets and pieces; ``None`` when nothing had data.

    A part with a total but no ``bad`` (a latency threshold that is not a bucket bound) makes
    ``bad`` unknown, as it would be over the whole window.
    """
    b = t = 0.0
    any_b = any_t = b_missing = False
    for v in parts:
        vb, vt = v.get(bad), v.get(total)
        if vt is not None:
            any_t = True
            t += vt
            if vb is None:
                b_missing = True
        if vb is not None:
            any_b = True
            b += vb
    return (b if any_b and not b_missing else None), (t if any_t else None)


def _window_start(slo: Objective, at: int) -> int:
    start, _ = slo.window.bounds(datetime.fromtimestamp(at, UTC))
    return int(start.timestamp())


def _kept_first_sample(entry: _Entry, start: int, at: int) -> float | None:
    """The first sample remembered for a window starting at or before ``start``, if it is not
    after ``at`` (an earlier instant must ask again)."""
    if entry.first_sample is None:
        return None
    asked_start, first = entry.first_sample
    return first if asked_start <= start and first <= at else None


def _window_cut(slo: Objective, at: int, settle: int) -> Cut | None:
    """The SLO window's cut at ``at``; ``None`` when its calendar period has not started."""
    begin = _window_start(slo, at)
    if begin >= at:
        return None
    if cacheable(slo):
        return cut(begin, at, settle)
    return Cut((Piece(at, at - begin),), None)  # the whole window, read raw at ``at`` at every cycle


def _burns_from_buckets(slo: Objective, seconds: int) -> bool:
    """Whether a burn window of ``seconds`` is summed from the hourly buckets (else read raw)."""
    return not (
        is_timeslices(slo)  # Timeslices buckets hold slices, not events
        or not cacheable(slo)
        or seconds < MIN_CACHED_BURN_SECONDS
        or seconds % BUCKET_SECONDS
    )


def _burn_cuts(slo: Objective, windows: list[str], at: int, settle: int) -> tuple[dict[str, Cut], list[str]]:
    """The burn windows summed from buckets (with their cuts) and those read raw."""
    burns: dict[str, Cut] = {}
    raw_burns: list[str] = []
    for w in windows:
        seconds = duration_seconds(w)
        if _burns_from_buckets(slo, seconds):
            burns[w] = cut(at - seconds, at, settle)
        else:
            raw_burns.append(w)
    return burns, raw_burns


def _needed(cuts: Iterable[Cut | None]) -> tuple[int, int] | None:
    """The bucket ends the cuts cover, inclusive; ``None`` when none uses buckets."""
    ranges = [c.buckets for c in cuts if c is not None and c.buckets is not None]
    return (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else None


def _evict_buckets(entry: _Entry, needed: tuple[int, int] | None) -> tuple[int, int] | None:
    """Drop the buckets that left the window (or lie after a past ``at``); the missing range."""
    if needed is None:
        entry.buckets.clear()
        return None
    lo, hi = needed
    entry.buckets = {e: v for e, v in entry.buckets.items() if lo <= e <= hi}
    absent = [e for e in range(lo, hi + 1, BUCKET_SECONDS) if e not in entry.buckets]
    return (absent[0], absent[-1]) if absent else None


def _split_pieces(slo: Objective, entry: _Entry,
                  cuts: Iterable[Cut | None]) -> tuple[dict[Piece, Figures], dict[Piece, Values]]:
    """The cuts' pieces to read and those cached; pieces no cut uses any more are forgotten."""
    want: dict[Piece, Figures] = {}
    cached: dict[Piece, Values] = {}
    for c in cuts:
        for p in c.pieces if c is not None else ():
            if p in entry.pieces:
                cached[p] = entry.pieces[p]
            elif p not in want:
                want[p] = piece_exprs(slo, p.length)
    entry.pieces = {p: v for p, v in entry.pieces.items() if p in cached}
    return want, cached


def _instant_builder(plans: Mapping[str, SLOPlan], at: int) -> Builder[Request]:
    """The instant batch, at ``at``: pieces, raw burn rates, recorded burn rates."""
    instant: Builder[Request] = Builder()
    for plan in plans.values():
        for p, exprs in plan.pieces.items():
            for m, (expr, _) in exprs.items():
                instant.add(shifted(expr, p.end, at), PieceMeasure(plan.slo.key, p, m))
        for w in plan.raw_burns:
            instant.add(burn_ratio(plan.slo.sli, w), RawBurn(plan.slo.key, w))
    for w in sorted({w for plan in plans.values() for w in plan.windows}):
        instant.add(all_recorded_burns(w), AllRecordedBurns(w))
    return instant


def _add_missing_buckets(ranges: dict[tuple[int, int], Builder[Request]], plan: SLOPlan) -> None:
    """The plan's missing buckets into the range batches, at most ``MAX_RANGE_STEPS`` per range."""
    if plan.missing is None:
        return
    lo, hi = plan.missing
    step_lo = lo
    while step_lo <= hi:
        step_hi = min(hi, step_lo + (MAX_RANGE_STEPS - 1) * BUCKET_SECONDS)
        builder = ranges.setdefault((step_lo, step_hi), Builder())
        for m, (expr, _) in piece_exprs(plan.slo, BUCKET_SECONDS).items():
            builder.add(expr, BucketMeasure(plan.slo.key, m))
        step_lo = step_hi + BUCKET_SECONDS


@dataclass
class _Answers:
    """A cycle's answers sorted by what they measure (filled by :meth:`take`)."""

    plans: Mapping[str, SLOPlan]
    failed: dict[str, str] = field(default_factory=dict)
    pieces: dict[str, dict[Piece, Values]] = field(default_factory=dict)
    raw: dict[tuple[str, str], float] = field(default_factory=dict)
    recorded: dict[tuple[str, str], float] = field(default_factory=dict)
    fresh: dict[str, dict[int, Values]] = field(default_factory=dict)
    first_samples: dict[str, float] = field(default_factory=dict)

    def take_batch(self, builder: Builder[Request], batch: Batch, result: Result) -> None:
        for i, wants in enumerate(builder.wants):
            for want in wants:
                if i in result.errors and isinstance(want, FirstDataStep | FirstSample):
                    continue  # a follow-up refused: the coverage stays unknown, the budget stands
                if i in result.errors:
                    if not isinstance(want, AllRecordedBurns):  # refused: buckets or raw reads answer
                        self.failed.setdefault(want.key, result.errors[i])
                    continue
                self.take(want, result.series.get(i, []), batch.first)

    def take(self, want: Request, series: list[Series], lo: int) -> None:
        value = series[-1].points[-1][1] if series else None
        match want:
            case AllRecordedBurns(window=w):
                for s in series:
                    slo_key = f"{s.labels.get(LABEL_NAMESPACE)}/{s.labels.get(LABEL_SLO)}"
                    self.recorded[(slo_key, w)] = s.points[-1][1]
            case PieceMeasure(key=key, piece=p, measure=m):
                scale = self.plans[key].pieces[p][m].scale
                self.pieces.setdefault(key, {}).setdefault(p, {})[m] = None if value is None else value * scale
            case RawBurn(key=key, window=w):
                if value is not None:
                    self.raw[(key, w)] = value
            case BucketMeasure(key=key, measure=m):
                self._take_buckets(key, m, series, lo)
            case FirstSample(key=key) | FirstDataStep(key=key):
                if value is not None:
                    self.first_samples[key] = value
            case _:
                raise AssertionError(f"not a window cache request: {want!r}")

    def _take_buckets(self, key: str, m: Measure, series: list[Series], lo: int) -> None:
        """One point per bucket end with data; the range's other buckets are known empty."""
        plan = self.plans[key]
        assert plan.missing is not None
        buckets = self.fresh.setdefault(key, {})
        miss_lo, miss_hi = plan.missing
        hi = min(miss_hi, lo + (MAX_RANGE_STEPS - 1) * BUCKET_SECONDS)
        for e in range(max(lo, miss_lo), hi + 1, BUCKET_SECONDS):
            buckets.setdefault(e, {})[m] = None
        scale = piece_exprs(plan.slo, BUCKET_SECONDS)[m].scale
        for s in series:
            for t, point in s.points:
                e = int(round(t))
                if e in buckets:
                    buckets[e][m] = point * scale


class WindowCache:
    """Hourly buckets and settled pieces per SLO key. Not thread-safe: the reader holds a lock."""

    def __init__(self, settle_seconds: int) -> None:
        self.settle_seconds = settle_seconds
        self._entries: dict[str, _Entry] = {}
        self._calls = 0

    def _entry(self, slo: Objective) -> _Entry:
        entry = self._entries.get(slo.key)
        if entry is None or entry.slo != slo:  # new or changed: nothing remembered holds
            entry = self._entries[slo.key] = _Entry(slo)
        entry.last_used = self._calls
        return entry

    def _plan(self, slo: Objective, at: int) -> SLOPlan:
        entry = self._entry(slo)
        settle = max(0, int(self.settle_seconds))
        window = _window_cut(slo, at, settle)
        windows = burn_windows(slo)
        burns, raw_burns = _burn_cuts(slo, windows, at, settle)
        cuts = (window, *burns.values())
        needed = _needed(cuts)
        missing = _evict_buckets(entry, needed)  # evict what left the window, then see what is missing
        want, cached = _split_pieces(slo, entry, cuts)
        start = _window_start(slo, at)
        first = _kept_first_sample(entry, start, at)
        return SLOPlan(slo, entry, window, windows, burns, raw_burns, needed, missing, want, cached, start, first)

    def cycle(self, slos: Mapping[str, Objective], at: int) -> Cycle:
        """Plan one cycle at ``at`` (whole seconds): what is cached, what to ask."""
        self._calls += 1
        plans = {key: self._plan(slo, at) for key, slo in slos.items()}
        for key in [k for k, e in self._entries.items() if self._calls - e.last_used > _UNUSED_CYCLES]:
            del self._entries[key]
        instant = _instant_builder(plans, at)
        # Range batches for the missing buckets: one per distinct range (in steady state one, for
        # the hour that just ended, or none).
        ranges: dict[tuple[int, int], Builder[Request]] = {}
        for plan in plans.values():
            _add_missing_buckets(ranges, plan)
        batches = [Batch(instant.exprs, at)]
        batches += [Batch(b.exprs, hi, lo, BUCKET_SECONDS) for (lo, hi), b in ranges.items()]
        return Cycle(at, plans, [instant, *ranges.values()], batches)

    def absorb(self, cycle: Cycle, results: list[Result]) -> dict[str, Measurements]:
        """The cycle's measurements by SLO key; settled buckets and pieces are kept. SLOs whose
        first sample is still to be found are left in ``cycle.pending`` (coverage ``None``)."""
        answers = _Answers(cycle.plans)
        for builder, batch, result in zip(cycle.builders, cycle.batches, results, strict=True):
            answers.take_batch(builder, batch, result)
        return {key: self._measure(key, plan, answers, cycle) for key, plan in cycle.plans.items()}

    def follow_up(self, cycle: Cycle) -> tuple[Builder[Request], Batch] | None:
        """The next round for ``cycle.pending``: first data steps, or the first samples behind them."""
        if not cycle.pending:
            return None
        builder: Builder[Request] = Builder()
        for key, state in cycle.pending.items():
            slo = cycle.plans[key].slo
            if state.step is None:
                assert state.part is not None
                p = state.part
                ask = first_data_step_ask(slo, p.length, p.end, cycle.at)
            else:
                ask = first_sample_ask(slo, state.step, cycle.at)
            assert ask is not None  # pending only for SLOs with data steps
            builder.add(ask.expr, ask.request)
        return builder, Batch(builder.exprs, cycle.at)

    def absorb_follow_up(self, cycle: Cycle, builder: Builder[Request], result: Result,
                         measured: dict[str, Measurements]) -> dict[str, Measurements]:
        """``measured`` with the coverage of the SLOs this round settled; the others stay pending."""
        answers = _Answers(cycle.plans)
        answers.take_batch(builder, Batch(builder.exprs, cycle.at), result)
        out = dict(measured)
        for key, state in list(cycle.pending.items()):
            plan = cycle.plans[key]
            value = answers.first_samples.get(key)
            if state.step is None:
                if value is None:  # refused or no answer: unknown this cycle, asked again next cycle
                    del cycle.pending[key]
                    continue
                if not is_first_step(int(value), plan.start):
                    state.step = int(value)
                    continue
                first = float(plan.start)
            else:
                first = value if value is not None else float(state.step - COVERAGE_STEP_SECONDS)
            del cycle.pending[key]
            plan.entry.first_sample = (plan.start, first)
            out[key] = replace(out[key], coverage=coverage_of(first, state.data_steps, plan.start, cycle.at))
        return out

    def _measure(self, key: str, plan: SLOPlan, answers: _Answers, cycle: Cycle) -> Measurements:
        """One SLO's measurements; its fresh buckets and settled pieces are kept."""
        if key in answers.failed:
            return Measurements(error=answers.failed[key])
        at = cycle.at
        entry = plan.entry
        entry.buckets.update(answers.fresh.get(key, {}))
        read = answers.pieces.get(key, {})
        known = {**plan.cached_pieces, **read}
        for p, v in read.items():
            if p.end <= at - self.settle_seconds:  # a past piece: it will not change any more
                entry.pieces[p] = v
        measured = _measurements(plan, known, answers.raw, answers.recorded)
        parts = _data_parts(plan, known)
        steps = sum(v for _, v in parts)
        if not steps:  # not measured, or no step with data: the coverage is unknown
            return measured
        if plan.first_sample is not None:
            return replace(measured, coverage=coverage_of(plan.first_sample, steps, plan.start, at))
        # the first part with data: the window's first part full of data covers it from its start
        index, part = next((i, p) for i, (p, v) in enumerate(parts) if v)
        if index == 0 and parts[0][1] == coverage_steps(part.end - part.length, part.end):
            return replace(measured, coverage=coverage_of(plan.start, steps, plan.start, at))
        cycle.pending[key] = _Coverage(steps, part)
        return measured


def _data_parts(plan: SLOPlan, pieces: Mapping[Piece, Values]) -> list[tuple[Piece, float]]:
    """The window's parts in time order with their 5-minute steps with data; empty when the SLI's
    coverage is not measured."""
    if plan.window is None:
        return []
    parts: list[tuple[Piece, float | None]] = []
    for p in plan.window.pieces:
        parts.append((p, pieces[p].get(Measure.DATA)))
    if plan.window.buckets is not None:
        lo, hi = plan.window.buckets
        for e in range(lo, hi + 1, BUCKET_SECONDS):
            parts.append((Piece(e, BUCKET_SECONDS), plan.entry.buckets[e].get(Measure.DATA)))
    if not any(Measure.DATA in v for v in pieces.values()) and not any(
        Measure.DATA in v for v in plan.entry.buckets.values()
    ):
        return []
    parts.sort(key=lambda pv: pv[0].end)
    return [(p, v or 0.0) for p, v in parts]


def _measurements(
    plan: SLOPlan,
    pieces: Mapping[Piece, Values],
    raw: Mapping[tuple[str, str], float],
    recorded: Mapping[tuple[str, str], float],
) -> Measurements:
    slo, buckets = plan.slo, plan.entry.buckets

    def parts(c: Cut) -> list[Values]:
        out = [pieces[p] for p in c.pieces]
        if c.buckets is not None:
            lo, hi = c.buckets
            out += [buckets[e] for e in range(lo, hi + 1, BUCKET_SECONDS)]
        return out

    ratios: dict[str, float | None] = {}
    for w in plan.windows:
        ratio = recorded.get((slo.key, w))
        if ratio is None and w in plan.burns:
            bad, total = _sum(parts(plan.burns[w]), Measure.BAD, Measure.TOTAL)
            ratio = bad / total if bad is not None and total is not None and total > 0 else None
        elif ratio is None:
            ratio = raw.get((slo.key, w))
        ratios[w] = ratio
    if plan.window is None:
        return Measurements(error_ratios=ratios)
    if is_timeslices(slo):
        bad_slices, total_slices = _sum(parts(plan.window), Measure.SLICES_BAD, Measure.SLICES_TOTAL)
        return Measurements(error_ratios=ratios, bad_slices=bad_slices, total_slices=total_slices)
    bad, total = _sum(parts(plan.window), Measure.BAD, Measure.TOTAL)
    return Measurements(bad=bad, total=total, error_ratios=ratios)


__all__ = ["Cycle", "SLOPlan", "Values", "WindowCache"]

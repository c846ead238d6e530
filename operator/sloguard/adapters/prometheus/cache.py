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

No I/O here: :meth:`WindowCache.cycle` says what to ask, :meth:`WindowCache.absorb` takes the
answers. The cache is only updated from complete answers (the reader does not call ``absorb``
when Prometheus could not be read).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sloguard.core.budget import Measurements, burn_windows
from sloguard.core.conventions import LABEL_NAMESPACE, LABEL_SLO
from sloguard.core.model import Objective

from .batching import Batch, Builder, Result
from .client import MAX_RANGE_STEPS
from .plan import (
    BUCKET_SECONDS,
    MIN_CACHED_BURN_SECONDS,
    AllRecordedBurns,
    BucketMeasure,
    Cut,
    Figures,
    Measure,
    Piece,
    PieceMeasure,
    RawBurn,
    Request,
    all_recorded_burns,
    burn_ratio,
    cacheable,
    cut,
    duration_seconds,
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


@dataclass
class Cycle:
    """What one cycle asks: the instant batch first, then one range batch per missing range."""

    at: int
    plans: dict[str, SLOPlan]
    builders: list[Builder[Request]]
    batches: list[Batch]


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


class WindowCache:
    """Hourly buckets and settled pieces per SLO key. Not thread-safe: the reader holds a lock."""

    def __init__(self, settle_seconds: int) -> None:
        self.settle_seconds = settle_seconds
        self._entries: dict[str, _Entry] = {}
        self._calls = 0

    def _plan(self, slo: Objective, at: int) -> SLOPlan:
        entry = self._entries.get(slo.key)
        if entry is None or entry.slo != slo:  # new or changed: nothing remembered holds
            entry = self._entries[slo.key] = _Entry(slo)
        entry.last_used = self._calls
        settle = max(0, int(self.settle_seconds))
        start, _ = slo.window.bounds(datetime.fromtimestamp(at, UTC))
        begin = int(start.timestamp())
        if begin >= at:
            window = None
        elif cacheable(slo):
            window = cut(begin, at, settle)
        else:  # the whole window, read raw at ``at`` at every cycle
            window = Cut((Piece(at, at - begin),), None)
        burns: dict[str, Cut] = {}
        raw_burns: list[str] = []
        windows = burn_windows(slo)
        for w in windows:
            seconds = duration_seconds(w)
            if (
                is_timeslices(slo)  # Timeslices buckets hold slices, not events
                or not cacheable(slo)
                or seconds < MIN_CACHED_BURN_SECONDS
                or seconds % BUCKET_SECONDS
            ):
                raw_burns.append(w)
            else:
                burns[w] = cut(at - seconds, at, settle)
        ranges = [c.buckets for c in (window, *burns.values()) if c is not None and c.buckets is not None]
        needed = (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else None
        # Evict what left the window (or lies after a past ``at``), then see what is missing.
        if needed is None:
            entry.buckets.clear()
            missing = None
        else:
            lo, hi = needed
            entry.buckets = {e: v for e, v in entry.buckets.items() if lo <= e <= hi}
            absent = [e for e in range(lo, hi + 1, BUCKET_SECONDS) if e not in entry.buckets]
            missing = (absent[0], absent[-1]) if absent else None
        want: dict[Piece, Figures] = {}
        cached: dict[Piece, Values] = {}
        for c in (window, *burns.values()):
            for p in c.pieces if c is not None else ():
                if p in entry.pieces:
                    cached[p] = entry.pieces[p]
                elif p not in want:
                    want[p] = piece_exprs(slo, p.length)
        entry.pieces = {p: v for p, v in entry.pieces.items() if p in cached}
        return SLOPlan(slo, entry, window, windows, burns, raw_burns, needed, missing, want, cached)

    def cycle(self, slos: Mapping[str, Objective], at: int) -> Cycle:
        """Plan one cycle at ``at`` (whole seconds): what is cached, what to ask."""
        self._calls += 1
        plans = {key: self._plan(slo, at) for key, slo in slos.items()}
        for key in [k for k, e in self._entries.items() if self._calls - e.last_used > _UNUSED_CYCLES]:
            del self._entries[key]

        # The instant batch, at ``at``: pieces, raw burn rates, recorded burn rates.
        instant: Builder[Request] = Builder()
        for plan in plans.values():
            for p, exprs in plan.pieces.items():
                for m, (expr, _) in exprs.items():
                    instant.add(shifted(expr, p.end, at), PieceMeasure(plan.slo.key, p, m))
            for w in plan.raw_burns:
                instant.add(burn_ratio(plan.slo.sli, w), RawBurn(plan.slo.key, w))
        for w in sorted({w for plan in plans.values() for w in plan.windows}):
            instant.add(all_recorded_burns(w), AllRecordedBurns(w))
        # Range batches for the missing buckets: one per distinct range (in steady state one, for
        # the hour that just ended, or none).
        ranges: dict[tuple[int, int], Builder[Request]] = {}
        for plan in plans.values():
            if plan.missing is None:
                continue
            lo, hi = plan.missing
            step_lo = lo
            while step_lo <= hi:
                step_hi = min(hi, step_lo + (MAX_RANGE_STEPS - 1) * BUCKET_SECONDS)
                builder = ranges.setdefault((step_lo, step_hi), Builder())
                for m, (expr, _) in piece_exprs(plan.slo, BUCKET_SECONDS).items():
                    builder.add(expr, BucketMeasure(plan.slo.key, m))
                step_lo = step_hi + BUCKET_SECONDS
        batches = [Batch(instant.exprs, at)]
        batches += [Batch(b.exprs, hi, lo, BUCKET_SECONDS) for (lo, hi), b in ranges.items()]
        return Cycle(at, plans, [instant, *ranges.values()], batches)

    def absorb(self, cycle: Cycle, results: list[Result]) -> dict[str, Measurements]:
        """The cycle's measurements by SLO key; settled buckets and pieces are kept."""
        at, plans = cycle.at, cycle.plans
        failed: dict[str, str] = {}
        pieces: dict[str, dict[Piece, Values]] = {}
        raw: dict[tuple[str, str], float] = {}
        recorded: dict[tuple[str, str], float] = {}
        fresh: dict[str, dict[int, Values]] = {}
        for builder, batch, result in zip(cycle.builders, cycle.batches, results, strict=True):
            lo = batch.first
            for i, wants in enumerate(builder.wants):
                for want in wants:
                    if i in result.errors:
                        if not isinstance(want, AllRecordedBurns):  # refused: buckets or raw reads answer
                            failed.setdefault(want.key, result.errors[i])
                        continue
                    series = result.series.get(i, [])
                    value = series[-1].points[-1][1] if series else None
                    match want:
                        case AllRecordedBurns(window=w):
                            for s in series:
                                slo_key = f"{s.labels.get(LABEL_NAMESPACE)}/{s.labels.get(LABEL_SLO)}"
                                recorded[(slo_key, w)] = s.points[-1][1]
                        case PieceMeasure(key=key, piece=p, measure=m):
                            scale = plans[key].pieces[p][m].scale
                            pieces.setdefault(key, {}).setdefault(p, {})[m] = None if value is None else value * scale
                        case RawBurn(key=key, window=w):
                            if value is not None:
                                raw[(key, w)] = value
                        case BucketMeasure(key=key, measure=m):  # one point per bucket end with data
                            plan = plans[key]
                            assert plan.missing is not None
                            buckets = fresh.setdefault(key, {})
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
                        case _:
                            raise AssertionError(f"not a window cache request: {want!r}")

        out: dict[str, Measurements] = {}
        for key, plan in plans.items():
            if key in failed:
                out[key] = Measurements(error=failed[key])
                continue
            entry = plan.entry
            entry.buckets.update(fresh.get(key, {}))
            known = {**plan.cached_pieces, **pieces.get(key, {})}
            for p, v in pieces.get(key, {}).items():
                if p.end <= at - self.settle_seconds:  # a past piece: it will not change any more
                    entry.pieces[p] = v
            out[key] = _measurements(plan, known, raw, recorded)
        return out


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

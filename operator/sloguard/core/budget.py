"""Measurements -> budget status: consumed, remaining, burn rates, ETA, state, score, hints.

Pure: the adapter (``sloguard.adapters.prometheus``) measures, this module decides. ``now`` is a
parameter; nothing here reads the clock or the network.

Definitions (fractions everywhere; the error budget ``B = 1 - objective``):

* **Occurrences, rolling window W.** ``bad`` and ``total`` are counted over the whole window
  (events for event-based SLIs; seconds for time-based ones, bool gauges and raw ratios).
  ``sli = 1 - bad/total``; ``consumed = (bad/total) / B``; ``remaining = 1 - consumed``.
* **Occurrences, calendar period P (month, week, quarter).** The budget belongs to the whole
  period, and only part of it has elapsed. We project the period's traffic from the traffic so
  far (``total * P / elapsed``) and count the bad events so far against the budget of that
  projected whole: ``consumed = bad / (B * total * P / elapsed)``. For time-based SLIs
  (``total == elapsed``) this is exactly ``bad_seconds / (B * P)``, the seed's
  "(100% - target) x time window". Early in a period it is therefore small, as it should be:
  a 30-minute outage on the 2nd of the month has spent the same share of the month's budget as
  on the 29th.
* **Timeslices, slice length L.** A slice is bad when its good ratio is below the slice target.
  Slice boundaries are aligned to multiples of L. ``budget_slices = B * window_seconds / L``
  (the whole period for calendar windows); ``consumed = bad_slices / budget_slices``; the SLI is
  the good share of the slices that had data. Slices without traffic count neither way.
* **Remaining as time** (``remaining_seconds``): seconds of full outage still affordable:
  ``remaining * B * window_seconds`` (``remaining * budget_slices * L`` for Timeslices). A full
  outage spends budget 1/B times faster than "exactly on budget", so this is the wall-clock
  time a complete outage could last before the budget is gone.
* **Burn rate** over a window w: ``error_ratio(w) / B``. 1x spends exactly the budget over the
  SLO window; 14.4x spends a 30-day budget in 50 hours.
* **Time to exhaustion** at the current 1h burn rate b: budget is spent at ``b / window_seconds``
  of the whole budget per second, so ``tte = remaining * window_seconds / b``. It assumes the
  last hour's error ratio (and, for calendar periods, average traffic) continues, and ignores
  old errors leaving a rolling window — an honest "if nothing changes" estimate, not a forecast.
  ``None`` when not burning (b is 0 or unknown) or already exhausted. For Timeslices every slice
  turns bad while the 1h error ratio exceeds ``1 - target``, so then ``tte = remaining_seconds``
  (one slice per slice length); otherwise ``None``.

* **Data coverage** (``coverage``): the share of the window so far (the elapsed part of a
  calendar period) during which the SLI's series had samples, 0..1 — from its first sample,
  less the scrape gaps, to 5 minutes (measured by ``adapters.prometheus.plan.coverage_of``);
  ``None`` when it was not measured. Below :data:`MIN_BUDGET_COVERAGE` the budget is computed from too little of its
  window to be a fact (2 minutes of a 30-day window turn one bad minute into -41,140%): the
  figures are kept, but the state is ``unknown`` and a hint says how much of the window had data.
  At or above it (in particular with full coverage) nothing changes.

Nothing is clamped: ``consumed`` passes 1 and ``remaining`` goes negative when the budget is
overspent. No traffic gives ``sli = None`` and state ``unknown``: never NaN, never 100%.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

from .conditions import rfc3339
from .conventions import STATE_CRITICAL, STATE_EXHAUSTED, STATE_HEALTHY, STATE_UNKNOWN, STATE_WARNING
from .model import Objective
from .windows import REPORTED_BURN_WINDOWS, parse_duration, sort_windows

#: Health-score rules from the seed, as data. Each list is checked top-down; the first match wins.
#:   consumed: more than 90% of the budget spent costs 40 points, more than 75% 25, more than 50% 10
SCORE_CONSUMED_PENALTIES: Final[tuple[tuple[float, int], ...]] = ((0.90, 40), (0.75, 25), (0.50, 10))
#:   burn:     the 1h burn rate above 10x costs 20 points, above 5x 10, above 2x 5
SCORE_BURN_PENALTIES: Final[tuple[tuple[float, int], ...]] = ((10.0, 20), (5.0, 10), (2.0, 5))
#:   not compliant (the SLI over the window below the objective) costs 30 points
SCORE_NOT_COMPLIANT_PENALTY: Final = 30
#:   score -> health: at least 80 healthy, at least 60 warning, below that critical
SCORE_LEVELS: Final[tuple[tuple[int, str], ...]] = ((80, STATE_HEALTHY), (60, STATE_WARNING))

#: Hints: below this share consumed over a whole rolling window, the budget is "barely used".
HINT_BARELY_USED: Final = 0.10
#: Hints: above this share consumed, the budget is "nearly gone".
HINT_NEARLY_GONE: Final = 0.90
#: Hints: windows that must all burn at 1x or more to call the spending steady (a recurring cause).
HINT_STEADY_WINDOWS: Final[tuple[str, ...]] = ("6h", "1d", "3d")
#: Hints: a 1h burn rate at or above this is a fast burn worth an ETA in words.
HINT_FAST_BURN: Final = 10.0

BURN_WINDOW_FOR_ETA: Final = "1h"

#: Data coverage below which a budget is not presented as a fact: 5% of the window so far, i.e.
#: a day and a half of a 30-day window. Less than that is a new SLO or a long monitoring gap; its
#: remaining budget extrapolates a few minutes or hours to the whole window, so the state is
#: ``unknown`` (figures kept, marked by a hint) until the window holds enough data.
MIN_BUDGET_COVERAGE: Final = 0.05


@dataclass(frozen=True)
class Thresholds:
    """Remaining-budget shares below which the state turns ``warning`` / ``critical``."""

    warning: float = 0.25
    critical: float = 0.10


DEFAULT_THRESHOLDS: Final = Thresholds()


@dataclass(frozen=True)
class Measurements:
    """What was measured for one SLO at one instant.

    ``bad`` / ``total``: over the window so far (the rolling window, or the calendar period from
    its start to now), in events for event-based SLIs and in seconds for time-based ones; ``None``
    (or ``total == 0``) when there was no traffic. ``error_ratios``: burn window (``"1h"``) ->
    error ratio over it, ``None`` without traffic. ``bad_slices`` / ``total_slices``: Timeslices
    only; ``total_slices`` counts the slices that had data. ``error``: the SLO's queries failed
    (the status is ``unknown`` and the message becomes a hint). ``coverage``: the share of the
    window so far with data, 0..1; ``None`` when not measured.
    """

    bad: float | None = None
    total: float | None = None
    error_ratios: Mapping[str, float | None] = field(default_factory=dict)
    bad_slices: float | None = None
    total_slices: float | None = None
    error: str | None = None
    coverage: float | None = None


@dataclass(frozen=True)
class BudgetStatus:
    """The budget of one SLO at ``evaluated_at``. ``None`` means unknown, never zero."""

    slo: Objective
    evaluated_at: datetime
    sli: float | None
    consumed: float | None
    remaining: float | None
    remaining_seconds: float | None
    burn_rates: Mapping[str, float | None]
    state: str
    time_to_exhaustion_seconds: float | None
    health_score: int | None
    health: str
    hints: tuple[str, ...]
    bad_slices: float | None = None
    total_slices: float | None = None
    budget_slices: float | None = None
    stale: bool = False
    coverage: float | None = None
    #: Occurrences: the events (or seconds) measured over the window so far, the basis of
    #: :func:`budget_denominator`; None for Timeslices and when unknown.
    total: float | None = None

    @property
    def key(self) -> str:
        return self.slo.key

    @property
    def known(self) -> bool:
        return self.state != STATE_UNKNOWN


def burn_windows(slo: Objective) -> list[str]:
    """Windows with a reported burn rate: the standard set plus every alert tier's windows."""
    windows = set(REPORTED_BURN_WINDOWS)
    for tier in slo.alerting.tiers:
        windows.update((tier.short_window, tier.long_window))
    return sort_windows(windows)


def window_span(slo: Objective, now: datetime) -> tuple[float, float]:
    """``(window_seconds, elapsed_seconds)``: the budget's length and how much of it has passed.

    Rolling windows have both equal to the window; a calendar period's length is its real one
    (March has 31 days) and the elapsed part runs from the period's start to ``now``.
    """
    start, end = slo.window.bounds(now)
    if not slo.window.is_calendar:
        return float(slo.window.seconds), float(slo.window.seconds)
    # Subtract in UTC: two datetimes sharing one ZoneInfo subtract as wall-clock times, which
    # would make March in Europe/Berlin 744 hours long instead of 743.
    length = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
    return length, max((now.astimezone(UTC) - start.astimezone(UTC)).total_seconds(), 0.0)


def state_for(remaining: float | None, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> str:
    """``exhausted`` at or below 0, ``critical`` below 10%, ``warning`` below 25%, else healthy."""
    if remaining is None:
        return STATE_UNKNOWN
    if remaining <= 0:
        return STATE_EXHAUSTED
    if remaining < thresholds.critical:
        return STATE_CRITICAL
    if remaining < thresholds.warning:
        return STATE_WARNING
    return STATE_HEALTHY


def health_score(compliant: bool, consumed: float, burn_1h: float | None) -> int:
    """The seed's score: 100, minus penalties for non-compliance, budget spent and fast burn."""
    score = 100
    if not compliant:
        score -= SCORE_NOT_COMPLIANT_PENALTY
    score -= next((p for limit, p in SCORE_CONSUMED_PENALTIES if consumed > limit), 0)
    if burn_1h is not None:
        score -= next((p for limit, p in SCORE_BURN_PENALTIES if burn_1h > limit), 0)
    return score


def health_level(score: int | None) -> str:
    """``healthy`` from 80, ``warning`` from 60, else ``critical``; ``unknown`` without a score."""
    if score is None:
        return STATE_UNKNOWN
    return next((level for floor, level in SCORE_LEVELS if score >= floor), STATE_CRITICAL)


def _finite(value: float | None) -> float | None:
    """Prometheus may still hand us NaN or Inf (a user's raw query): treat them as unknown."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return float(value)


def _duration_words(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 120:
        return f"{minutes:.0f}m"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f}h"
    return f"{hours / 24:.1f}d"


def _unknown(
    slo: Objective,
    now: datetime,
    burn: Mapping[str, float | None],
    why: str,
    slices: tuple[float | None, float | None] = (None, None),
) -> BudgetStatus:
    return BudgetStatus(
        slo=slo,
        evaluated_at=now,
        sli=None,
        consumed=None,
        remaining=None,
        remaining_seconds=None,
        burn_rates=burn,
        state=STATE_UNKNOWN,
        time_to_exhaustion_seconds=None,
        health_score=None,
        health=STATE_UNKNOWN,
        hints=(why,),
        bad_slices=slices[0],
        total_slices=slices[1],
    )


def compute(
    slo: Objective,
    m: Measurements,
    now: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> BudgetStatus:
    """The budget status of ``slo`` from what was measured at ``now`` (see the module docstring)."""
    # 1 - 0.999 is 0.0010000000000000009 in floats; twelve decimals keep any sane objective exact
    # and make "exactly the budget" exactly 1x, not 0.9999999999999991x.
    budget = round(slo.error_budget, 12)
    if budget <= 0:
        return _unknown(slo, now, {w: None for w in burn_windows(slo)}, "objective of 100% leaves no budget")
    burn: dict[str, float | None] = {}
    for w in burn_windows(slo):
        ratio = _finite(m.error_ratios.get(w))
        burn[w] = None if ratio is None else ratio / budget
    if m.error is not None:
        return _unknown(slo, now, burn, f"measurement failed: {m.error}")

    window_seconds, elapsed = window_span(slo, now)
    bad_slices = total_slices = budget_slices = None
    if slo.budgeting_method == "Timeslices":
        assert slo.timeslice is not None, "Timeslices needs a timeslice"
        slice_seconds = parse_duration(slo.timeslice.window)
        bad_slices, total_slices = _finite(m.bad_slices), _finite(m.total_slices)
        budget_slices = budget * window_seconds / slice_seconds
        if bad_slices is None or not total_slices:
            why = "no traffic in any slice of the window: the SLI is unknown"
            return _unknown(slo, now, burn, why, (bad_slices, total_slices))
        sli = 1.0 - bad_slices / total_slices
        consumed = bad_slices / budget_slices
        remaining = 1.0 - consumed
        remaining_seconds = remaining * budget_slices * slice_seconds
    else:
        bad, total = _finite(m.bad), _finite(m.total)
        if bad is None or total is None or total <= 0 or elapsed <= 0:
            return _unknown(slo, now, burn, "no traffic over the window: the SLI is unknown")
        error_ratio = bad / total
        sli = 1.0 - error_ratio
        consumed = error_ratio * (elapsed / window_seconds) / budget
        remaining = 1.0 - consumed
        remaining_seconds = remaining * budget * window_seconds

    burn_1h = burn.get(BURN_WINDOW_FOR_ETA)
    tte: float | None = None
    if remaining > 0 and burn_1h is not None and burn_1h > 0:
        if slo.budgeting_method == "Timeslices":
            assert slo.timeslice is not None
            if burn_1h * budget > 1.0 - slo.timeslice.target:
                tte = remaining_seconds
        else:
            tte = remaining * window_seconds / burn_1h

    compliant = sli >= slo.objective
    score = health_score(compliant, consumed, burn_1h)
    hints = _hints(slo, consumed, burn, tte)
    status = BudgetStatus(
        slo=slo,
        evaluated_at=now,
        sli=sli,
        consumed=consumed,
        remaining=remaining,
        remaining_seconds=remaining_seconds,
        burn_rates=burn,
        state=state_for(remaining, thresholds),
        time_to_exhaustion_seconds=tte,
        health_score=score,
        health=health_level(score),
        hints=tuple(hints),
        bad_slices=bad_slices,
        total_slices=total_slices,
        budget_slices=budget_slices,
        total=None if slo.budgeting_method == "Timeslices" else _finite(m.total),
    )
    return with_coverage(status, m.coverage)


def with_coverage(status: BudgetStatus, measured: float | None) -> BudgetStatus:
    """``status`` with its data coverage; below :data:`MIN_BUDGET_COVERAGE` the state and health
    are ``unknown`` and the first hint says why (the figures are kept, marked by that hint)."""
    coverage = _coverage(measured)
    if coverage is None or coverage >= MIN_BUDGET_COVERAGE:
        return replace(status, coverage=coverage)
    return replace(
        status,
        coverage=coverage,
        state=STATE_UNKNOWN,
        health=STATE_UNKNOWN,
        hints=(insufficient_data_hint(coverage), *status.hints),
    )


def _coverage(value: float | None) -> float | None:
    """The measured share clamped to 0..1 (a first sample a step early can overshoot slightly)."""
    value = _finite(value)
    return None if value is None else min(max(value, 0.0), 1.0)


def insufficient_data_hint(coverage: float) -> str:
    """Why a budget's state is ``unknown`` although it has figures."""
    return (
        f"insufficient data: only {coverage:.4%} of the window has data (below "
        f"{MIN_BUDGET_COVERAGE:.0%}); the budget figures extrapolate that part and are not a fact"
    )


def budget_denominator(slo: Objective, total: float | None, now: datetime) -> float | None:
    """The events ``consumed`` is a share of: ``consumed = bad / budget_denominator``.

    ``B * total`` for a rolling window; for a calendar period ``B * total * P / elapsed`` (the
    budget of the projected whole period, as in :func:`compute`). ``total``: the events (or
    seconds) of the window so far. None without traffic, budget or elapsed time.
    """
    budget = round(slo.error_budget, 12)
    total = _finite(total)
    window_seconds, elapsed = window_span(slo, now)
    if budget <= 0 or total is None or total <= 0 or elapsed <= 0:
        return None
    return budget * total * window_seconds / elapsed


def _hints(slo: Objective, consumed: float, burn: Mapping[str, float | None], tte: float | None) -> list[str]:
    hints: list[str] = []
    if consumed > 1.0:
        hints.append(f"budget exhausted: {consumed:.0%} consumed; reliability work before features")
    elif consumed > HINT_NEARLY_GONE:
        hints.append(f"budget nearly gone: {consumed:.0%} consumed; prefer low-risk changes")
    elif consumed < HINT_BARELY_USED and not slo.window.is_calendar:
        hints.append(
            f"budget barely used over the window ({consumed:.1%} consumed): the objective may be "
            "stricter than users need, or there is room for riskier releases"
        )
    steady = [burn.get(w) for w in HINT_STEADY_WINDOWS]
    if all(b is not None and b >= 1.0 for b in steady):
        hints.append(
            "budget spent steadily (burn at least 1x over " + ", ".join(HINT_STEADY_WINDOWS) + "): "
            "look for a recurring cause rather than a single incident"
        )
    burn_1h = burn.get(BURN_WINDOW_FOR_ETA)
    if burn_1h is not None and burn_1h >= HINT_FAST_BURN:
        eta = f"; gone in {_duration_words(tte)} at this pace" if tte is not None else ""
        hints.append(f"fast burn: {burn_1h:.1f}x over the last hour{eta}")
    return hints


def mark_stale(status: BudgetStatus, reason: str) -> BudgetStatus:
    """The last known status, flagged as stale (Prometheus could not be read), figures kept."""
    return replace(status, stale=True, hints=(*status.hints, f"stale: {reason}"))


# --- JSON contract ----------------------------------------------------------------------------


def _num(value: float | None) -> float | None:
    """Ten significant digits: drops float noise, keeps tiny budgets (1e-5) exact enough."""
    if value is None:
        return None
    return float(f"{value:.10g}")


def to_dict(status: BudgetStatus) -> dict[str, Any]:
    """One SLO in the ``sloguard budget -o json`` contract.

    ``objective`` is in percent and ``window`` as written in the spec; ``sli``, the budget
    figures and ``coverage`` (share of the window so far with data, present only when measured)
    are fractions; seconds are seconds. Unknown values are ``null``.
    """
    slo = status.slo
    out: dict[str, Any] = {
        "namespace": slo.namespace,
        "name": slo.name,
        "service": slo.service,
        "objective": _num(slo.objective * 100),
        "window": slo.window.text,
        "budgetingMethod": slo.budgeting_method,
        "sli": _num(status.sli),
        "errorBudget": {
            "consumed": _num(status.consumed),
            "remaining": _num(status.remaining),
            "remainingSeconds": _num(status.remaining_seconds),
        },
        "burnRates": {w: _num(b) for w, b in status.burn_rates.items()},
        "state": status.state,
        "timeToExhaustionSeconds": _num(status.time_to_exhaustion_seconds),
        "healthScore": status.health_score,
    }
    if status.coverage is not None:
        out["coverage"] = _num(status.coverage)
    if slo.budgeting_method == "Timeslices":
        bad, total = status.bad_slices, status.total_slices
        out["slices"] = {
            "bad": None if bad is None else round(bad),
            "total": None if total is None else round(total),
        }
    out["evaluatedAt"] = rfc3339(status.evaluated_at)
    return out


def to_json(statuses: Iterable[BudgetStatus]) -> list[dict[str, Any]]:
    """The JSON contract: a list of :func:`to_dict` objects, in the order given."""
    return [to_dict(s) for s in statuses]

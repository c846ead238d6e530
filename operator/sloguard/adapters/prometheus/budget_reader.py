"""Reading budgets from Prometheus (or Thanos Querier, Mimir, VictoriaMetrics) over its HTTP API.

:class:`BudgetReader` measures every SLO of a cycle in a few batched requests
(:mod:`.batching`), from the window cache by default (:mod:`.cache`: hourly buckets, only what
moved is read) or, with ``window_cache=False``, from raw samples at each call (one round for the
window and recorded burn rates, a second for raw burn rates where no recording exists): the
reference the cache is tested against. The PromQL and what each value answers: :mod:`.plan`.

Errors from the outside world are :class:`~.errors.PrometheusUnavailable` (cannot reach, 5xx,
not a Prometheus API) or :class:`~.errors.PrometheusQueryError` (the server refused a query),
with a message a person can act on; a query refused for one SLO only becomes that SLO's
``Measurements.error``. :meth:`BudgetReader.refresh` never raises: when Prometheus cannot be
read it returns the last known statuses marked stale and says why, never invented figures; the
cache is only updated from complete answers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sloguard.core.budget import (
    DEFAULT_THRESHOLDS,
    BudgetStatus,
    Measurements,
    Thresholds,
    burn_windows,
    compute,
    mark_stale,
)
from sloguard.core.model import Objective

from .batching import Batch, Batcher
from .cache import WindowCache
from .client import PrometheusClient
from .errors import PrometheusError, PrometheusSettingsError, PrometheusUnavailable
from .plan import (
    COVERAGE_STEP_SECONDS,
    Ask,
    FirstDataStep,
    FirstSample,
    Measure,
    RawBurn,
    RecordedBurn,
    Request,
    WindowMeasure,
    coverage_of,
    first_sample_ask,
    is_first_step,
    raw_burn_ask,
    window_asks,
)
from .settings import PrometheusSettings, settings_for


@dataclass(frozen=True)
class Refresh:
    """One refresh cycle: statuses by SLO key, and whether Prometheus could be read.

    When ``reachable`` is false, ``statuses`` holds the last known values marked ``stale`` (or
    ``unknown`` for SLOs never measured) and ``message`` says why: the operator sets the
    ``PrometheusReachable`` condition from it.
    """

    evaluated_at: datetime
    statuses: dict[str, BudgetStatus]
    reachable: bool
    message: str | None = None
    requests: int = 0


@dataclass
class BudgetReader:
    """Measures SLOs in Prometheus in batches and computes their budgets.

    Create once at startup and reuse (keeps the HTTP connection pool and the window cache).
    ``requests_sent`` counts every HTTP request made, for benchmarks and the operator's own
    metrics. ``settle_seconds``: how old a whole hour must be before it is cached for good
    (samples scraped late, remote-write lag). ``window_cache=False`` reads every window from raw
    samples at every call.
    """

    url: str
    headers: dict[str, str] | None = None
    timeout: float = 60.0
    max_chunk_bytes: int = 600_000
    workers: int = 4
    verify_tls: bool = True
    window_cache: bool = True
    settle_seconds: int = 300
    #: TLS, credentials, headers: the one connection setting (``url`` and ``timeout`` above are
    #: taken from it by :meth:`connect`); without it, a plain connection to ``url``.
    connection: PrometheusSettings | None = None
    client: PrometheusClient = field(init=False, repr=False)
    _batcher: Batcher = field(init=False, repr=False)
    _cache: WindowCache = field(init=False, repr=False)
    _cache_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        try:
            settings = self.connection or settings_for(
                self.url, headers=self.headers or {}, timeout=self.timeout, insecure_skip_verify=not self.verify_tls
            )
        except PrometheusSettingsError as e:
            raise PrometheusUnavailable(f"invalid Prometheus URL {self.url!r}: {e}") from None
        self.client = PrometheusClient(settings)
        self.url = self.client.url
        self._batcher = Batcher(self.client, self.max_chunk_bytes, self.workers)
        self._cache = WindowCache(self.settle_seconds)

    @classmethod
    def connect(cls, settings: PrometheusSettings, **kwargs: Any) -> BudgetReader:
        """A reader over the connection ``settings`` describe (CLI and operator)."""
        return cls(settings.url or "", timeout=settings.timeout, connection=settings, **kwargs)

    @property
    def requests_sent(self) -> int:
        return self.client.requests_sent

    def close(self) -> None:
        self.client.close()

    # ---- measuring ----

    def measure(self, objectives: Sequence[Objective], at: datetime) -> dict[str, Measurements]:
        """What Prometheus says about each SLO at ``at``, by SLO key (``namespace/name``).

        Raises :class:`PrometheusUnavailable` when the server cannot be read at all.
        """
        at = _whole_seconds(at)
        if self.window_cache:
            with self._cache_lock:
                cycle = self._cache.cycle({s.key: s for s in objectives}, int(at.timestamp()))
                results = self._batcher.execute(cycle.batches)  # raises: the cache is untouched
                measured = self._cache.absorb(cycle, results)
                # data starting late in the window: its first sample, once per SLO (at most two rounds)
                while (follow := self._cache.follow_up(cycle)) is not None:
                    builder, batch = follow
                    [result] = self._batcher.execute([batch])
                    measured = self._cache.absorb_follow_up(cycle, builder, result, measured)
                return measured
        return self._measure_raw(objectives, at)

    def _ask(self, asks: Iterable[Ask], at: datetime) -> tuple[dict[Request, float], dict[str, str]]:
        """Values by request and error messages by SLO key; identical expressions asked once."""
        by_expr: dict[str, list[Ask]] = {}
        for a in asks:
            by_expr.setdefault(a.expr, []).append(a)
        exprs = list(by_expr)
        [result] = self._batcher.execute([Batch(exprs, int(at.timestamp()))])
        out: dict[Request, float] = {}
        failed: dict[str, str] = {}
        for i, expr in enumerate(exprs):
            for a in by_expr[expr]:
                if i in result.series:
                    out[a.request] = result.series[i][-1].points[-1][1]
                elif i in result.errors:
                    assert isinstance(a.request, WindowMeasure | RecordedBurn | RawBurn | FirstDataStep | FirstSample)
                    failed.setdefault(a.request.key, result.errors[i])
        return out, failed

    def _measure_raw(self, objectives: Sequence[Objective], at: datetime) -> dict[str, Measurements]:
        slos = {s.key: s for s in objectives}
        first, failed = self._ask((a for s in slos.values() for a in window_asks(s, at)), at)
        missing = [
            raw_burn_ask(s, w)
            for s in slos.values()
            if s.key not in failed
            for w in burn_windows(s)
            if RecordedBurn(s.key, w) not in first
        ]
        starts = {key: int(slo.window.bounds(at)[0].timestamp()) for key, slo in slos.items()}
        for key, slo in slos.items():  # data coverage: the first sample behind a late first data step
            step = first.get(FirstDataStep(key))
            if key not in failed and step is not None and not is_first_step(int(step), starts[key]):
                refine = first_sample_ask(slo, int(step), int(at.timestamp()))
                if refine is not None:
                    missing.append(refine)
        second, failed2 = self._ask(missing, at)
        failed = {**failed2, **failed}

        result: dict[str, Measurements] = {}
        for key, slo in slos.items():
            if key in failed:
                result[key] = Measurements(error=failed[key])
                continue
            ratios: dict[str, float | None] = {}
            for w in burn_windows(slo):
                ratios[w] = first.get(RecordedBurn(key, w), second.get(RawBurn(key, w)))
            start, _ = slo.window.bounds(at)
            span = slo.window.seconds if not slo.window.is_calendar else (at - start).total_seconds()
            step = first.get(FirstDataStep(key))
            since = None
            if step is not None:
                late = not is_first_step(int(step), starts[key])
                since = second.get(FirstSample(key), step - COVERAGE_STEP_SECONDS) if late else starts[key]
            bad_rate = first.get(WindowMeasure(key, Measure.BAD))
            total_rate = first.get(WindowMeasure(key, Measure.TOTAL))
            result[key] = Measurements(
                bad=None if bad_rate is None else bad_rate * span,
                total=None if total_rate is None else total_rate * span,
                error_ratios=ratios,
                bad_slices=first.get(WindowMeasure(key, Measure.SLICES_BAD)),
                total_slices=first.get(WindowMeasure(key, Measure.SLICES_TOTAL)),
                coverage=coverage_of(since, first.get(WindowMeasure(key, Measure.DATA)), starts[key],
                                     int(at.timestamp())),
            )
        return result

    # ---- the public calls ----

    def evaluate(
        self,
        objectives: Sequence[Objective],
        at: datetime,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ) -> list[BudgetStatus]:
        """Budget statuses in the order of ``objectives``. Raises :class:`PrometheusError`."""
        at = _whole_seconds(at)
        measured = self.measure(objectives, at)
        return [compute(s, measured[s.key], at, thresholds) for s in objectives]

    def refresh(
        self,
        objectives: Sequence[Objective],
        at: datetime,
        last_known: Mapping[str, BudgetStatus] | None = None,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ) -> Refresh:
        """One operator refresh cycle; never raises for Prometheus trouble.

        Unreachable: every SLO keeps its last known status, marked stale; SLOs never measured
        are ``unknown``. Figures are never invented.
        """
        at = _whole_seconds(at)
        before = self.requests_sent
        try:
            statuses = self.evaluate(objectives, at, thresholds)
        except PrometheusError as e:
            kept: dict[str, BudgetStatus] = {}
            for s in objectives:
                prev = (last_known or {}).get(s.key)
                if prev is not None and prev.slo == s:
                    kept[s.key] = prev if prev.stale else mark_stale(prev, str(e))
                else:
                    kept[s.key] = compute(s, Measurements(error=str(e)), at, thresholds)
            return Refresh(at, kept, reachable=False, message=str(e), requests=self.requests_sent - before)
        return Refresh(
            at,
            {s.key: st for s, st in zip(objectives, statuses, strict=True)},
            reachable=True,
            requests=self.requests_sent - before,
        )


def _whole_seconds(at: datetime) -> datetime:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.replace(microsecond=0)


__all__ = ["BudgetReader", "Refresh"]

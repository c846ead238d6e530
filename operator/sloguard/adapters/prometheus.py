"""Reading budgets from Prometheus (or Thanos Querier, Mimir, VictoriaMetrics) over its HTTP API.

Batching: every figure of every SLO is one PromQL *sub-expression* reduced to a single series;
sub-expressions are tagged with ``label_replace(..., "sloguard_q", "<n>", "", "")`` and unioned
with ``or`` (a balanced tree, so the parser and evaluator never see a deep chain), and sent as a
handful of POSTed queries. Identical sub-expressions (two SLOs over the same SLI and window) are
asked once. Each batch is split into chunks of bounded size sent in parallel, so 1,000 SLOs cost
a dozen or so HTTP requests, not 10,000. A chunk the server rejects (a bad query in one SLO) is
bisected so one broken SLO does not blank the others; its SLO gets ``Measurements.error``.
A server that refuses long queries (VictoriaMetrics: ``-search.maxQueryLen``, 16 KB by default)
says its limit; the reader remembers it and cuts chunks to fit (raising the limit on the server
brings the request count back to Prometheus' figures).

The window cache (the default). Reading a 30-day window from raw samples every 30 s costs a
month of samples per SLO per cycle. Instead, the reader keeps, per SLO, the counts of whole
hours (*buckets*: ``(e - 1h, e]`` for every hour ``e`` of the window, bad/total events, seconds
for time-based SLIs, bad/total slices for Timeslices) and each cycle only reads what moved.
The window ``(s, at]`` is cut exactly into

* a head ``(s, a]``, ``a`` the first hour at or after ``s``: read at ``a`` with an ``offset``
  subquery (``last_over_time((expr)[1s:1h] offset <at - a>)``, evaluated once, at ``a``);
* the cached buckets ending at ``a + 1h ... c``, ``c`` the last hour at least ``settle_seconds``
  before ``at`` (late samples still arriving are never frozen into a bucket);
* a tail ``(c, at]`` read at ``at``.

Missing buckets (a new SLO, a changed SLO, a new hour, after an outage, another ``at``) are read
with ONE range query per batch (``step`` = 1h, evaluated at the bucket ends); buckets that leave
the window are dropped. So the first cycle reads each window once, as before, and the steady
state reads at most two hours per SLO and window, plus, once an hour, one new bucket. Burn-rate
windows of whole hours from 2h up (``2h``, ``6h``, ``1d``, ``3d``, alert windows) are summed the
same way from the same buckets; shorter ones are read raw. Recorded
``sloguard:sli_error_ratio:rate<W>`` series, when present, are preferred for burn rates (all
SLOs' recordings of a window in one ``max by (slo, slo_namespace)`` expression). Everything of a
cycle goes out in one round: the instant batch at ``at`` and, when buckets are missing, the
range batches, in parallel.

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
``increase`` plus two, as a ``rate`` did. This
applies to the SLIs built from counters we know (``ratio``, ``latency``). A ``ratioQuery``
template is the user's PromQL, so it cannot be rewritten: those SLOs are read from raw windows
at every cycle (exact on every server, not cached). Time-based SLIs (averages) and Timeslices'
subquery grids use ranges 1 ms short, so a sample or slice end on a boundary belongs to exactly
one side, ``(t - d, t]``, under each server's rule; a slice of a counter SLI is judged from the
same exact differences.

``BudgetReader(window_cache=False)`` reads every window from raw samples at each call (one
round for the window and recorded burn rates, a second for raw burn rates where no recording
exists): the reference the cache is tested against.

Errors from the outside world become :class:`PrometheusUnavailable` (cannot reach, 5xx, not a
Prometheus API) or :class:`PrometheusQueryError` (the server refused a query) with a message a
person can act on. :meth:`BudgetReader.refresh` never raises: when Prometheus cannot be read it
returns the last known statuses marked stale and says why, never invented figures; the cache is
only updated from complete answers.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import requests
from prometheus_api_client import PrometheusConnect

from sloguard.core.budget import (
    DEFAULT_THRESHOLDS,
    BudgetStatus,
    Measurements,
    Thresholds,
    burn_windows,
    compute,
    mark_stale,
)
from sloguard.core.conventions import LABEL_NAMESPACE, LABEL_SLO, RECORD_ERROR_RATIO_PREFIX
from sloguard.core.model import SLI, LatencySLI, Objective, RatioQuerySLI, RatioSLI
from sloguard.core.sli import is_time_based, le_regex, queries, with_matcher
from sloguard.core.windows import format_duration, parse_duration

from .prometheus_client import (
    RETRY,
    PrometheusError,
    PrometheusSession,
    PrometheusSettings,
    PrometheusSettingsError,
    PrometheusUnavailable,
    open_session,
    settings_for,
)

TAG_LABEL = "sloguard_q"
#: Length of a cached bucket; buckets end on multiples of it (whole hours, UTC epoch).
BUCKET_SECONDS: Final = 3600
#: Burn windows of whole buckets at least this long are summed from the buckets.
MIN_CACHED_BURN_SECONDS: Final = 2 * BUCKET_SECONDS
_seconds = functools.lru_cache(maxsize=256)(parse_duration)
#: Prometheus refuses range queries of more than 11,000 points per series.
_MAX_RANGE_STEPS: Final = 10_000


class PrometheusQueryError(PrometheusError):
    """The server refused a query (bad PromQL, too many samples, timeout)."""

    def __init__(self, message: str, kind: str = "bad_data") -> None:
        super().__init__(message)
        self.kind = kind  # Prometheus' errorType: bad_data | execution | timeout | ...


# --- query plan (uncached reader) --------------------------------------------------------------


@dataclass(frozen=True)
class _Ask:
    """One figure wanted: ``measure`` of SLO ``key`` is the value of ``expr``."""

    key: str
    measure: str  # "bad" | "total" | "slices_bad" | "slices_total" | "burn:<w>" | "raw:<w>"
    expr: str


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ratio(sli_errors: str, sli_total: str) -> str:
    return f"(sum({sli_errors}) / (sum({sli_total}) > 0))"


def _slice_is_bad(slo: Objective) -> str:
    """1 for a bad slice, 0 for a good one, no sample for a slice without traffic."""
    assert slo.timeslice is not None
    exact = event_counts(slo.sli, _seconds(slo.timeslice.window))
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


def _is_timeslices(slo: Objective) -> bool:
    return slo.budgeting_method == "Timeslices" and slo.timeslice is not None


def window_asks(slo: Objective, at: datetime) -> list[_Ask]:
    """Round 1 for one SLO: the window so far (raw), slices, and recorded burn rates."""
    asks: list[_Ask] = []
    start, _ = slo.window.bounds(at)
    span = slo.window.seconds if not slo.window.is_calendar else int((at - start).total_seconds())
    if span > 0:
        rng = format_duration(span)
        if _is_timeslices(slo):
            assert slo.timeslice is not None
            step = slo.timeslice.window
            bad = _slice_is_bad(slo)
            if span > 1:
                # (at - span, at]: the range is one second short so the slice ending exactly at the
                # window's start (which belongs to the previous window) is never counted.
                sub = f"[{format_duration(span - 1)}:{step}]"
                asks.append(_Ask(slo.key, "slices_bad", f"sum(sum_over_time({bad}{sub}))"))
                asks.append(_Ask(slo.key, "slices_total", f"sum(count_over_time({bad}{sub}))"))
        else:
            q = queries(slo.sli, rng)
            asks.append(_Ask(slo.key, "bad", f"sum({q.errors})"))
            asks.append(_Ask(slo.key, "total", f"sum({q.total})"))
    for w in burn_windows(slo):
        asks.append(_Ask(slo.key, f"burn:{w}", f"max({_recorded(w)}{{{_slo_matchers(slo)}}})"))
    return asks


def _recorded(window: str) -> str:
    return f"{RECORD_ERROR_RATIO_PREFIX}{window}"


def _slo_matchers(slo: Objective) -> str:
    return f"{LABEL_SLO}={_quote(slo.name)},{LABEL_NAMESPACE}={_quote(slo.namespace)}"


def raw_burn_ask(slo: Objective, window: str) -> _Ask:
    return _Ask(slo.key, f"raw:{window}", burn_ratio(slo.sli, window))


def burn_ratio(sli: SLI, window: str) -> str:
    """The error ratio over the last ``window``: from exact counter differences where the SLI
    allows it (a 5m ``rate`` on Prometheus 3 sees four of five one-minute increments)."""
    exact = event_counts(sli, _seconds(window))
    if exact is not None:
        return _ratio(*exact)
    q = queries(sli, window)
    return _ratio(q.errors, q.total)


def _union(parts: Sequence[str]) -> str:
    """``a or b or c ...`` as a balanced tree (depth log n, n log n work in the evaluator)."""
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return f"({_union(parts[:mid])} or {_union(parts[mid:])})"


def _grouped(parts: Sequence[str], step: int) -> str:
    """The union of ``parts``, in groups of about sqrt(n), each group inside a one-point subquery.

    Prometheus 2's evaluator nests a tracing context per node it evaluates and walks that chain
    on every node, so a query of n nodes costs O(n^2): 4,000 tagged ``rate()`` sub-expressions
    take 4 s to evaluate unioned, 0.2 s grouped. A subquery is evaluated by an evaluator of its
    own, so grouping keeps every chain short. ``[500ms:<step>]`` holds exactly one point per
    evaluation time: the query's time (whole seconds) or each step of a range query (whole
    buckets), so values and labels are unchanged.
    """
    size = max(16, math.isqrt(len(parts)))
    if len(parts) <= size:
        return _union(parts)
    groups = [_union(parts[i : i + size]) for i in range(0, len(parts), size)]
    return _union([f"last_over_time({g}[500ms:{format_duration(step)}])" for g in groups])


def _tagged(index: int, expr: str) -> str:
    return f'label_replace({expr}, "{TAG_LABEL}", "{index}", "", "")'


# --- query plan (window cache) -----------------------------------------------------------------

#: measure name -> (PromQL giving the measure over a piece ``(t - d, t]`` at ``t``, scale)
_Exprs = dict[str, tuple[str, float]]


def _short(seconds: int) -> str:
    """A range 1 ms short of ``seconds``: ``(t - seconds, t]`` under either engine's boundary rule."""
    whole = seconds - 1
    return (format_duration(whole) if whole > 0 else "") + "999ms"


def piece_exprs(slo: Objective, seconds: int) -> _Exprs:
    """What the cache keeps for ``slo`` over a piece of ``seconds``: bad/total events, seconds
    (time-based SLIs: the average over the piece times its length), or slices (Timeslices: the
    slices *ending* in the piece)."""
    if _is_timeslices(slo):
        assert slo.timeslice is not None
        sub = f"[{_short(seconds)}:{slo.timeslice.window}]"
        bad = _slice_is_bad(slo)
        return {
            "slices_bad": (f"sum(sum_over_time({bad}{sub}))", 1.0),
            "slices_total": (f"sum(count_over_time({bad}{sub}))", 1.0),
        }
    return event_exprs(slo, seconds)


def event_exprs(slo: Objective, seconds: int) -> _Exprs:
    """Bad and total events (seconds for time-based SLIs) over a piece of ``seconds``."""
    exact = event_counts(slo.sli, seconds)
    if exact is not None:
        return {"bad": (exact[0], 1.0), "total": (exact[1], 1.0)}
    rng = _short(seconds) if is_time_based(slo.sli) else format_duration(seconds)
    q = queries(slo.sli, rng)
    if isinstance(slo.sli, RatioQuerySLI):  # a user's query may keep labels; the others are aggregated
        return {"bad": (f"sum({q.errors})", float(seconds)), "total": (f"sum({q.total})", float(seconds))}
    return {"bad": (q.errors, float(seconds)), "total": (q.total, float(seconds))}


def _cacheable(slo: Objective) -> bool:
    """Whether hourly buckets of ``slo`` telescope on every server (see the module docstring)."""
    return _is_timeslices(slo) or not isinstance(slo.sli, RatioQuerySLI)


def shifted(expr: str, end: int, at: int) -> str:
    """``expr`` as it was at ``end`` (a bucket boundary), in a query evaluated at ``at``.

    A subquery of step one bucket over the last second holds exactly one point, at ``end``
    (subquery steps are aligned to multiples of the step): one evaluation, no interpolation.
    """
    if end == at:
        return expr
    assert end % BUCKET_SECONDS == 0 and end < at, (end, at)
    return f"last_over_time(({expr})[1s:{format_duration(BUCKET_SECONDS)}] offset {format_duration(at - end)})"


@dataclass(frozen=True)
class _Piece:
    """``(end - length, end]``."""

    end: int
    length: int


@dataclass(frozen=True)
class _Cut:
    """A window ``(start, at]`` cut into a head piece, whole buckets ``(lo, hi]`` and a tail piece."""

    pieces: tuple[_Piece, ...]
    buckets: tuple[int, int] | None  # first and last bucket end, inclusive


def cut(start: int, at: int, settle: int, bucket: int = BUCKET_SECONDS) -> _Cut:
    """Cut ``(start, at]`` exactly: ``(start, a] + (a, c] in whole buckets + (c, at]``.

    ``a`` is the first bucket boundary at or after ``start``, ``c`` the last one at least
    ``settle`` seconds before ``at``. When there is no whole bucket between them, the window is
    one piece ending at ``at``.
    """
    a = -(-start // bucket) * bucket
    c = (at - settle) // bucket * bucket
    if start >= at:
        return _Cut((), None)
    if a > c:
        return _Cut((_Piece(at, at - start),), None)
    pieces = []
    if a > start:
        pieces.append(_Piece(a, a - start))
    if at > c:
        pieces.append(_Piece(at, at - c))
    return _Cut(tuple(pieces), (a + bucket, c) if c > a else None)


Values = dict[str, float | None]


@dataclass
class _Entry:
    """What the reader remembers of one SLO: whole buckets and immutable pieces."""

    slo: Objective
    buckets: dict[int, Values] = field(default_factory=dict)  # bucket end -> measure -> value
    pieces: dict[_Piece, Values] = field(default_factory=dict)  # pieces that can no longer change
    last_used: int = 0


@dataclass
class _Plan:
    """One SLO in one cycle."""

    slo: Objective
    entry: _Entry
    window: _Cut | None  # None: the calendar period has not started
    windows: list[str]  # every burn window reported
    burns: dict[str, _Cut]  # burn windows summed from the buckets
    raw_burns: list[str]  # burn windows read raw
    needed: tuple[int, int] | None  # bucket ends the cycle needs, inclusive
    missing: tuple[int, int] | None  # ... of which not cached (a range to read)
    pieces: dict[_Piece, _Exprs]  # pieces to read (not cached)
    cached_pieces: dict[_Piece, Values]


def _sum(parts: Iterable[Values], bad: str, total: str) -> tuple[float | None, float | None]:
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


# --- HTTP -------------------------------------------------------------------------------------


#: One result series: its labels and its points ``(unix seconds, value)``.
_Row = tuple[dict[str, str], list[tuple[float, float]]]


class _Client(PrometheusConnect):  # type: ignore[misc]
    """prometheus-api-client with queries POSTed as a form (no URL length limit)."""

    def query_form(self, query: str, at: datetime, timeout: float) -> list[_Row]:
        data = {"query": query, "time": f"{at.timestamp():.3f}", "timeout": f"{timeout:.0f}s"}
        rows = self._post("query", data, timeout, "vector")
        return [(r.get("metric", {}), [(float(r["value"][0]), float(r["value"][1]))]) for r in rows]

    def query_range_form(self, query: str, start: int, end: int, step: int, timeout: float) -> list[_Row]:
        data = {"query": query, "start": str(start), "end": str(end), "step": str(step), "timeout": f"{timeout:.0f}s"}
        rows = self._post("query_range", data, timeout, "matrix")
        return [(r.get("metric", {}), [(float(t), float(v)) for t, v in r.get("values", [])]) for r in rows]

    def _post(self, endpoint: str, data: dict[str, str], timeout: float, kind: str) -> list[dict[str, Any]]:
        # TLS, credentials, retries and transport errors: the session (prometheus_client).
        response = self._session.request(method="POST", url=f"{self.url}/api/v1/{endpoint}", data=data,
                                         timeout=timeout + 5)
        return _parse(self.url, response, kind)


def _parse(url: str, response: requests.Response, kind: str = "vector") -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "status" not in body:
        raise PrometheusUnavailable(
            f"{url} answered HTTP {response.status_code} without a Prometheus API response: "
            "is this the Prometheus (or Thanos/Mimir/VictoriaMetrics) query URL?"
        )
    if body["status"] != "success":
        message = f"{body.get('errorType', 'error')}: {body.get('error', 'unknown error')}"
        if response.status_code >= 500 and body.get("errorType") not in ("execution", "timeout"):
            raise PrometheusUnavailable(f"Prometheus at {url} failed (HTTP {response.status_code}): {message}")
        error_type = str(body.get("errorType", "bad_data"))
        if error_type == "timeout":
            raise PrometheusQueryError(
                f"Prometheus at {url} timed out evaluating a batch ({message}): raise its --query.timeout "
                "or lower the reader's max_chunk_bytes",
                error_type,
            )
        raise PrometheusQueryError(f"Prometheus at {url} refused the query: {message}", error_type)
    data = body.get("data") or {}
    if data.get("resultType") != kind:
        raise PrometheusQueryError(
            f"expected a {'range' if kind == 'matrix' else 'instant'} vector, got {data.get('resultType')!r}"
        )
    result: list[dict[str, Any]] = data.get("result", [])
    return result


@dataclass(frozen=True)
class _Batch:
    """Expressions evaluated together: at ``at`` (instant), or at ``start, start + step .. at``."""

    exprs: Sequence[str]
    at: int
    start: int | None = None
    step: int = 0


#: Per expression index: its result series, and errors by index for expressions refused.
_Result = tuple[dict[int, list[_Row]], dict[int, str]]


# --- the reader -------------------------------------------------------------------------------


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
    _session: PrometheusSession = field(init=False, repr=False)
    _client: _Client = field(init=False, repr=False)
    _cache: dict[str, _Entry] = field(init=False, repr=False, default_factory=dict)
    _cache_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    _calls: int = field(init=False, repr=False, default=0)
    #: The longest query the server accepts, once it has said so (VictoriaMetrics' maxQueryLen).
    _query_len_limit: int | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        try:
            settings = self.connection or settings_for(
                self.url, headers=self.headers or {}, timeout=self.timeout, insecure_skip_verify=not self.verify_tls
            )
        except PrometheusSettingsError as e:
            raise PrometheusUnavailable(f"invalid Prometheus URL {self.url!r}: {e}") from None
        self.url = settings.url or ""
        self._session = open_session(settings)
        self._client = _Client(url=self.url, retry=RETRY, session=self._session)

    @classmethod
    def connect(cls, settings: PrometheusSettings, **kwargs: Any) -> BudgetReader:
        """A reader over the connection ``settings`` describe (CLI and operator)."""
        return cls(settings.url or "", timeout=settings.timeout, connection=settings, **kwargs)

    @property
    def requests_sent(self) -> int:
        return self._session.count

    def close(self) -> None:
        self._session.close()

    def forget(self) -> None:
        """Drop the window cache (the next call reads every window afresh)."""
        with self._cache_lock:
            self._cache.clear()

    # ---- querying ----

    def _execute(self, batches: Sequence[_Batch]) -> list[_Result]:
        """Every batch, chunked, all chunks in parallel; a refused chunk is bisected."""
        results: list[_Result] = [({}, {}) for _ in batches]

        def run_chunk(b: int, indices: list[int]) -> None:
            batch = batches[b]
            rows_by, errors = results[b]
            query = _grouped([_tagged(i, batch.exprs[i]) for i in indices], batch.step or 1)
            try:
                if batch.start is None:
                    at = datetime.fromtimestamp(batch.at, UTC)
                    rows = self._client.query_form(query, at, self.timeout)
                else:
                    rows = self._client.query_range_form(query, batch.start, batch.at, batch.step, self.timeout)
            except PrometheusQueryError as e:
                if e.kind == "timeout":
                    raise  # halving a chunk that timed out would only double the load
                limit = _query_length_limit(str(e))
                if limit is not None and len(indices) > 1 and len(query) > limit:
                    # VictoriaMetrics refuses queries over -search.maxQueryLen (16 KB by default):
                    # remember its limit and cut this chunk to fit it, not by halves.
                    self._query_len_limit = min(self._query_len_limit or limit, limit)
                    for part in _fit(indices, [len(_tagged(i, batch.exprs[i])) for i in indices], limit):
                        run_chunk(b, part)
                    return
                if len(indices) == 1:
                    errors[indices[0]] = str(e)
                    return
                mid = len(indices) // 2
                run_chunk(b, indices[:mid])
                run_chunk(b, indices[mid:])
                return
            for labels, points in rows:
                tag = labels.get(TAG_LABEL)
                if tag is not None:
                    rows_by.setdefault(int(tag), []).append((labels, points))

        jobs = [(b, c) for b, batch in enumerate(batches) for c in self._chunks(batch.exprs)]
        if len(jobs) == 1:
            run_chunk(*jobs[0])
        elif jobs:  # none at all when there is nothing to ask
            with ThreadPoolExecutor(max_workers=min(self.workers, len(jobs))) as pool:
                for f in [pool.submit(run_chunk, b, c) for b, c in jobs]:
                    f.result()
        return results

    def _run(self, exprs: Sequence[str], at: datetime) -> tuple[dict[int, float], dict[int, str]]:
        """Values by expression index, and errors by index for expressions the server refused."""
        [(rows, errors)] = self._execute([_Batch(exprs, int(at.timestamp()))])
        return {i: r[-1][1][-1][1] for i, r in rows.items()}, errors

    def _chunks(self, exprs: Sequence[str]) -> list[list[int]]:
        """Index chunks under ``max_chunk_bytes``, and at least ``workers`` of them when large."""
        if not exprs:
            return []
        if self._query_len_limit is not None:  # a server with a query length limit (see run_chunk)
            sizes = [len(_tagged(i, e)) for i, e in enumerate(exprs)]
            if sum(sizes) + 60 * len(sizes) > self._query_len_limit:
                return _fit(list(range(len(exprs))), sizes, self._query_len_limit)
        sizes = [len(e) + 60 for e in exprs]
        total = sum(sizes)
        wanted = max(math.ceil(total / self.max_chunk_bytes), min(self.workers, math.ceil(total / 50_000)))
        limit = max(1, math.ceil(total / wanted))
        chunks: list[list[int]] = [[]]
        size = 0
        for i, s in enumerate(sizes):
            if chunks[-1] and size + s > limit:
                chunks.append([])
                size = 0
            chunks[-1].append(i)
            size += s
        return chunks

    def _ask(self, asks: Iterable[_Ask], at: datetime) -> tuple[dict[tuple[str, str], float], dict[str, str]]:
        """Values by (key, measure) and error messages by key; identical expressions asked once."""
        by_expr: dict[str, list[_Ask]] = {}
        for a in asks:
            by_expr.setdefault(a.expr, []).append(a)
        exprs = list(by_expr)
        values, errors = self._run(exprs, at)
        out: dict[tuple[str, str], float] = {}
        failed: dict[str, str] = {}
        for i, expr in enumerate(exprs):
            for a in by_expr[expr]:
                if i in values:
                    out[(a.key, a.measure)] = values[i]
                elif i in errors:
                    failed.setdefault(a.key, errors[i])
        return out, failed

    def measure(self, objectives: Sequence[Objective], at: datetime) -> dict[str, Measurements]:
        """What Prometheus says about each SLO at ``at``, by SLO key (``namespace/name``).

        Raises :class:`PrometheusUnavailable` when the server cannot be read at all.
        """
        at = _whole_seconds(at)
        if self.window_cache:
            with self._cache_lock:
                return self._measure_cached({s.key: s for s in objectives}, int(at.timestamp()))
        return self._measure_raw(objectives, at)

    def _measure_raw(self, objectives: Sequence[Objective], at: datetime) -> dict[str, Measurements]:
        slos = {s.key: s for s in objectives}
        first, failed = self._ask((a for s in slos.values() for a in window_asks(s, at)), at)
        missing = [
            raw_burn_ask(s, w)
            for s in slos.values()
            if s.key not in failed
            for w in burn_windows(s)
            if (s.key, f"burn:{w}") not in first
        ]
        second, failed2 = self._ask(missing, at)
        failed = {**failed2, **failed}

        result: dict[str, Measurements] = {}
        for key, slo in slos.items():
            if key in failed:
                result[key] = Measurements(error=failed[key])
                continue
            ratios: dict[str, float | None] = {}
            for w in burn_windows(slo):
                ratios[w] = first.get((key, f"burn:{w}"), second.get((key, f"raw:{w}")))
            start, _ = slo.window.bounds(at)
            span = slo.window.seconds if not slo.window.is_calendar else (at - start).total_seconds()
            bad_rate, total_rate = first.get((key, "bad")), first.get((key, "total"))
            result[key] = Measurements(
                bad=None if bad_rate is None else bad_rate * span,
                total=None if total_rate is None else total_rate * span,
                error_ratios=ratios,
                bad_slices=first.get((key, "slices_bad")),
                total_slices=first.get((key, "slices_total")),
            )
        return result

    # ---- the window cache ----

    def _plan(self, slo: Objective, at: int) -> _Plan:
        entry = self._cache.get(slo.key)
        if entry is None or entry.slo != slo:  # new or changed: nothing remembered holds
            entry = self._cache[slo.key] = _Entry(slo)
        entry.last_used = self._calls
        settle = max(0, int(self.settle_seconds))
        start, _ = slo.window.bounds(datetime.fromtimestamp(at, UTC))
        begin = int(start.timestamp())
        cacheable = _cacheable(slo)
        if begin >= at:
            window = None
        elif cacheable:
            window = cut(begin, at, settle)
        else:  # the whole window, read raw at ``at`` at every cycle
            window = _Cut((_Piece(at, at - begin),), None)
        burns: dict[str, _Cut] = {}
        raw_burns: list[str] = []
        windows = burn_windows(slo)
        for w in windows:
            seconds = _seconds(w)
            if (
                _is_timeslices(slo)  # Timeslices buckets hold slices, not events
                or not cacheable
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
        want: dict[_Piece, _Exprs] = {}
        cached: dict[_Piece, Values] = {}
        for c in (window, *burns.values()):
            for p in c.pieces if c is not None else ():
                if p in entry.pieces:
                    cached[p] = entry.pieces[p]
                elif p not in want:
                    want[p] = piece_exprs(slo, p.length)
        entry.pieces = {p: v for p, v in entry.pieces.items() if p in cached}
        return _Plan(slo, entry, window, windows, burns, raw_burns, needed, missing, want, cached)

    def _measure_cached(self, slos: Mapping[str, Objective], at: int) -> dict[str, Measurements]:
        self._calls += 1
        plans = {key: self._plan(slo, at) for key, slo in slos.items()}
        # Entries no call has used for a while (SLOs deleted, or only ever asked once).
        for key in [k for k, e in self._cache.items() if self._calls - e.last_used > 20]:
            del self._cache[key]

        # The instant batch, at ``at``: pieces, raw burn rates, recorded burn rates.
        instant = _Builder()
        for plan in plans.values():
            for p, exprs in plan.pieces.items():
                for m, (expr, _) in exprs.items():
                    instant.add(shifted(expr, p.end, at), (plan.slo.key, "piece", p, m))
            for w in plan.raw_burns:
                instant.add(burn_ratio(plan.slo.sli, w), (plan.slo.key, "raw", w))
        for w in sorted({w for plan in plans.values() for w in plan.windows}):
            instant.add(f"max by ({LABEL_NAMESPACE}, {LABEL_SLO}) ({_recorded(w)})", ("", "recorded", w))
        # Range batches for the missing buckets: one per distinct range (in steady state one, for
        # the hour that just ended, or none).
        ranges: dict[tuple[int, int], _Builder] = {}
        for plan in plans.values():
            if plan.missing is None:
                continue
            lo, hi = plan.missing
            step_lo = lo
            while step_lo <= hi:
                step_hi = min(hi, step_lo + (_MAX_RANGE_STEPS - 1) * BUCKET_SECONDS)
                builder = ranges.setdefault((step_lo, step_hi), _Builder())
                for m, (expr, _) in piece_exprs(plan.slo, BUCKET_SECONDS).items():
                    builder.add(expr, (plan.slo.key, "bucket", m))
                step_lo = step_hi + BUCKET_SECONDS
        batches = [_Batch(instant.exprs, at)]
        batches += [_Batch(b.exprs, hi, lo, BUCKET_SECONDS) for (lo, hi), b in ranges.items()]
        results = self._execute(batches)  # raises when Prometheus cannot be read: the cache is untouched

        failed: dict[str, str] = {}
        pieces: dict[str, dict[_Piece, Values]] = {}
        raw: dict[tuple[str, str], float] = {}
        recorded: dict[tuple[str, str], float] = {}
        fresh: dict[str, dict[int, Values]] = {}
        for builder, (lo, _), (rows, errors) in zip(
            [instant, *ranges.values()], [(at, at), *ranges], results, strict=True
        ):
            for i, wants in enumerate(builder.wants):
                for want in wants:
                    key, what = want[0], want[1]
                    if i in errors:
                        failed.setdefault(key, errors[i])
                        continue
                    series = rows.get(i, [])
                    if what == "recorded":
                        for labels, points in series:
                            slo_key = f"{labels.get(LABEL_NAMESPACE)}/{labels.get(LABEL_SLO)}"
                            recorded[(slo_key, want[2])] = points[-1][1]
                        continue
                    value = series[-1][1][-1][1] if series else None
                    if what == "piece":
                        _, _, p, m = want
                        scale = plans[key].pieces[p][m][1]
                        pieces.setdefault(key, {}).setdefault(p, {})[m] = None if value is None else value * scale
                    elif what == "raw":
                        if value is not None:
                            raw[(key, want[2])] = value
                    else:  # a bucket: one point per bucket end with data
                        m = want[2]
                        plan = plans[key]
                        assert plan.missing is not None
                        buckets = fresh.setdefault(key, {})
                        miss_lo, miss_hi = plan.missing
                        hi = min(miss_hi, lo + (_MAX_RANGE_STEPS - 1) * BUCKET_SECONDS)
                        for e in range(max(lo, miss_lo), hi + 1, BUCKET_SECONDS):
                            buckets.setdefault(e, {})[m] = None
                        scale = piece_exprs(plan.slo, BUCKET_SECONDS)[m][1]
                        for _, points in series:
                            for t, point in points:
                                e = int(round(t))
                                if e in buckets:
                                    buckets[e][m] = point * scale

        result: dict[str, Measurements] = {}
        for key, plan in plans.items():
            if key in failed:
                result[key] = Measurements(error=failed[key])
                continue
            entry = plan.entry
            entry.buckets.update(fresh.get(key, {}))
            known = {**plan.cached_pieces, **pieces.get(key, {})}
            for p, v in pieces.get(key, {}).items():
                if p.end <= at - self.settle_seconds:  # a past piece: it will not change any more
                    entry.pieces[p] = v
            result[key] = self._measurements(plan, known, raw, recorded)
        return result

    def _measurements(
        self,
        plan: _Plan,
        pieces: Mapping[_Piece, Values],
        raw: Mapping[tuple[str, str], float],
        recorded: Mapping[tuple[str, str], float],
    ) -> Measurements:
        slo, buckets = plan.slo, plan.entry.buckets

        def parts(c: _Cut) -> list[Values]:
            out = [pieces[p] for p in c.pieces]
            if c.buckets is not None:
                lo, hi = c.buckets
                out += [buckets[e] for e in range(lo, hi + 1, BUCKET_SECONDS)]
            return out

        ratios: dict[str, float | None] = {}
        for w in plan.windows:
            ratio = recorded.get((slo.key, w))
            if ratio is None and w in plan.burns:
                bad, total = _sum(parts(plan.burns[w]), "bad", "total")
                ratio = bad / total if bad is not None and total is not None and total > 0 else None
            elif ratio is None:
                ratio = raw.get((slo.key, w))
            ratios[w] = ratio
        if plan.window is None:
            return Measurements(error_ratios=ratios)
        if _is_timeslices(slo):
            bad_slices, total_slices = _sum(parts(plan.window), "slices_bad", "slices_total")
            return Measurements(error_ratios=ratios, bad_slices=bad_slices, total_slices=total_slices)
        bad, total = _sum(parts(plan.window), "bad", "total")
        return Measurements(bad=bad, total=total, error_ratios=ratios)

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


class _Builder:
    """Expressions of one batch, de-duplicated, each with who wants it."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.exprs: list[str] = []
        self.wants: list[list[tuple[Any, ...]]] = []

    def add(self, expr: str, want: tuple[Any, ...]) -> None:
        i = self.index.get(expr)
        if i is None:
            i = self.index[expr] = len(self.exprs)
            self.exprs.append(expr)
            self.wants.append([])
        self.wants[i].append(want)


_QUERY_LEN = re.compile(r"maxQueryLen=(\d+)")


def _query_length_limit(message: str) -> int | None:
    """The server's query length limit, when ``message`` is VictoriaMetrics refusing a long query."""
    m = _QUERY_LEN.search(message)
    return int(m.group(1)) if m and "too long query" in message else None


def _fit(indices: list[int], sizes: list[int], limit: int) -> list[list[int]]:
    """``indices`` in order, cut into chunks whose grouped, tagged query stays under ``limit``
    (each expression's ``sizes`` entry plus room for the union and grouping around it)."""
    budget = int(limit * 0.9)
    chunks: list[list[int]] = [[]]
    used = 0
    for i, size in zip(indices, sizes, strict=True):
        cost = size + 60
        if chunks[-1] and used + cost > budget:
            chunks.append([])
            used = 0
        chunks[-1].append(i)
        used += cost
    return chunks


def _whole_seconds(at: datetime) -> datetime:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.replace(microsecond=0)


def evaluate(
    url: str,
    objectives: Sequence[Objective],
    at: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    headers: dict[str, str] | None = None,
) -> list[BudgetStatus]:
    """One-shot convenience for the CLI: measure and compute with a fresh reader."""
    reader = BudgetReader(url, headers=headers)
    try:
        return reader.evaluate(objectives, at, thresholds)
    finally:
        reader.close()


__all__ = [
    "BUCKET_SECONDS",
    "BudgetReader",
    "PrometheusError",
    "PrometheusQueryError",
    "PrometheusUnavailable",
    "Refresh",
    "burn_ratio",
    "counter_increase",
    "cut",
    "evaluate",
    "event_counts",
    "event_exprs",
    "piece_exprs",
    "raw_burn_ask",
    "shifted",
    "window_asks",
]

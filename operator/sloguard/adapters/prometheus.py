"""Reading budgets from Prometheus (or Thanos Querier, Mimir, VictoriaMetrics) over its HTTP API.

Batching: every figure of every SLO is one PromQL *sub-expression* reduced to a single series;
sub-expressions are tagged with ``label_replace(..., "sloguard_q", "<n>", "", "")`` and unioned
with ``or`` (a balanced tree, so the parser and evaluator never see a deep chain), and sent as a
handful of POSTed instant queries evaluated at the same ``time``. Identical sub-expressions (two
SLOs over the same SLI and window) are asked once. A refresh costs two rounds:

1. the window so far from the *raw* SLI (right immediately for a new SLO and for any past
   instant: recordings only exist since their rule was created), Timeslices' bad/total slices
   (subqueries aligned to the slice length), and burn rates from the recorded
   ``sloguard:sli_error_ratio:rate<W>`` series;
2. burn rates from the raw SLI, only for the (SLO, window) pairs round 1 found no recording for.

Each round is split into chunks of bounded size sent in parallel, so 1,000 SLOs cost a
dozen or so HTTP requests, not 10,000. A chunk the server rejects (a bad query in one SLO) is
bisected so one broken SLO does not blank the others; its SLO gets ``Measurements.error``.

Errors from the outside world become :class:`PrometheusUnavailable` (cannot reach, 5xx, not a
Prometheus API) or :class:`PrometheusQueryError` (the server refused a query) with a message a
person can act on. :meth:`BudgetReader.refresh` never raises: when Prometheus cannot be read it
returns the last known statuses marked stale and says why, never invented figures.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from urllib3.util.retry import Retry

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
from sloguard.core.model import Objective
from sloguard.core.sli import queries
from sloguard.core.windows import format_duration

TAG_LABEL = "sloguard_q"


class PrometheusError(Exception):
    """Prometheus could not give us what we asked for; the message says why."""


class PrometheusUnavailable(PrometheusError):
    """Cannot reach the server, it answered 5xx, or it does not speak the Prometheus API."""


class PrometheusQueryError(PrometheusError):
    """The server refused a query (bad PromQL, too many samples, timeout)."""

    def __init__(self, message: str, kind: str = "bad_data") -> None:
        super().__init__(message)
        self.kind = kind  # Prometheus' errorType: bad_data | execution | timeout | ...


# --- query plan -------------------------------------------------------------------------------


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


def window_asks(slo: Objective, at: datetime) -> list[_Ask]:
    """Round 1 for one SLO: the window so far (raw), slices, and recorded burn rates."""
    asks: list[_Ask] = []
    start, _ = slo.window.bounds(at)
    span = slo.window.seconds if not slo.window.is_calendar else int((at - start).total_seconds())
    if span > 0:
        rng = format_duration(span)
        if slo.budgeting_method == "Timeslices" and slo.timeslice is not None:
            step = slo.timeslice.window
            q = queries(slo.sli, step)
            # A slice is bad when its good ratio is below the target; no traffic: no sample.
            bad = f"((1 - {_ratio(q.errors, q.total)}) < bool {slo.timeslice.target!r})"
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
        matchers = f"{LABEL_SLO}={_quote(slo.name)},{LABEL_NAMESPACE}={_quote(slo.namespace)}"
        sel = f"{RECORD_ERROR_RATIO_PREFIX}{w}{{{matchers}}}"
        asks.append(_Ask(slo.key, f"burn:{w}", f"max({sel})"))
    return asks


def raw_burn_ask(slo: Objective, window: str) -> _Ask:
    q = queries(slo.sli, window)
    return _Ask(slo.key, f"raw:{window}", _ratio(q.errors, q.total))


def _union(parts: Sequence[str]) -> str:
    """``a or b or c ...`` as a balanced tree (depth log n, n log n work in the evaluator)."""
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return f"({_union(parts[:mid])} or {_union(parts[mid:])})"


def _tagged(index: int, expr: str) -> str:
    return f'label_replace({expr}, "{TAG_LABEL}", "{index}", "", "")'


# --- HTTP -------------------------------------------------------------------------------------


class _CountingSession(requests.Session):
    """A session that counts the HTTP requests it sends (benchmarks, tests, metrics)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self._lock = threading.Lock()

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        with self._lock:
            self.count += 1
        return super().request(*args, **kwargs)


class _Client(PrometheusConnect):  # type: ignore[misc]
    """prometheus-api-client with instant queries POSTed as a form (no URL length limit)."""

    def query_form(self, query: str, at: datetime, timeout: float) -> list[dict[str, Any]]:
        try:
            response = self._session.request(
                method="POST",
                url=f"{self.url}/api/v1/query",
                data={"query": query, "time": f"{at.timestamp():.3f}", "timeout": f"{timeout:.0f}s"},
                verify=self._session.verify,
                headers=self.headers,
                auth=self.auth,
                cert=self._session.cert,
                timeout=timeout + 5,
            )
        except requests.exceptions.Timeout as e:
            raise PrometheusUnavailable(f"Prometheus at {self.url} did not answer within {timeout:.0f}s") from e
        except requests.exceptions.ConnectionError as e:
            raise PrometheusUnavailable(f"cannot reach Prometheus at {self.url}: {_reason(e)}") from e
        except requests.exceptions.RequestException as e:
            raise PrometheusUnavailable(f"request to Prometheus at {self.url} failed: {e}") from e
        return _parse(self.url, response)


def _reason(e: Exception) -> str:
    text = str(e)
    for known in ("Connection refused", "Name or service not known", "No route to host", "timed out"):
        if known in text:
            return known.lower()
    return text[:300]


def _parse(url: str, response: requests.Response) -> list[dict[str, Any]]:
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
        kind = str(body.get("errorType", "bad_data"))
        if kind == "timeout":
            raise PrometheusQueryError(
                f"Prometheus at {url} timed out evaluating a batch ({message}): raise its --query.timeout "
                "or lower the reader's max_chunk_bytes",
                kind,
            )
        raise PrometheusQueryError(f"Prometheus at {url} refused the query: {message}", kind)
    data = body.get("data") or {}
    if data.get("resultType") != "vector":
        raise PrometheusQueryError(f"expected an instant vector, got {data.get('resultType')!r}")
    result: list[dict[str, Any]] = data.get("result", [])
    return result


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

    Create once at startup and reuse (keeps the HTTP connection pool). ``requests_sent`` counts
    every HTTP request made, for benchmarks and the operator's own metrics.
    """

    url: str
    headers: dict[str, str] | None = None
    timeout: float = 60.0
    max_chunk_bytes: int = 200_000
    workers: int = 4
    verify_tls: bool = True
    _session: _CountingSession = field(init=False, repr=False)
    _client: _Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        self._session = _CountingSession()
        self._session.verify = self.verify_tls
        # Queries are idempotent: retry briefly on connection errors and gateway failures, POST too.
        retry = Retry(total=2, backoff_factor=0.2, status_forcelist=(502, 503, 504), allowed_methods=None)
        try:
            self._client = _Client(url=self.url, headers=self.headers, retry=retry, session=self._session)
        except (TypeError, ValueError) as e:
            raise PrometheusUnavailable(f"invalid Prometheus URL {self.url!r}: {e}") from e

    @property
    def requests_sent(self) -> int:
        return self._session.count

    def close(self) -> None:
        self._session.close()

    # ---- querying ----

    def _run(self, exprs: Sequence[str], at: datetime) -> tuple[dict[int, float], dict[int, str]]:
        """Values by expression index, and errors by index for expressions the server refused."""
        chunks = self._chunks(exprs)
        values: dict[int, float] = {}
        errors: dict[int, str] = {}

        def run_chunk(indices: list[int]) -> None:
            query = _union([_tagged(i, exprs[i]) for i in indices])
            try:
                rows = self._client.query_form(query, at, self.timeout)
            except PrometheusQueryError as e:
                if e.kind == "timeout":
                    raise  # halving a chunk that timed out would only double the load
                if len(indices) == 1:
                    errors[indices[0]] = str(e)
                    return
                mid = len(indices) // 2
                run_chunk(indices[:mid])
                run_chunk(indices[mid:])
                return
            for row in rows:
                tag = row.get("metric", {}).get(TAG_LABEL)
                if tag is None:
                    continue
                values[int(tag)] = float(row["value"][1])

        if len(chunks) == 1:
            run_chunk(chunks[0])
        elif chunks:  # none at all when there is nothing to ask (e.g. no raw fallbacks needed)
            with ThreadPoolExecutor(max_workers=min(self.workers, len(chunks))) as pool:
                for f in [pool.submit(run_chunk, c) for c in chunks]:
                    f.result()
        return values, errors

    def _chunks(self, exprs: Sequence[str]) -> list[list[int]]:
        """Index chunks under ``max_chunk_bytes``, and at least ``workers`` of them when large."""
        if not exprs:
            return []
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
    "BudgetReader",
    "PrometheusError",
    "PrometheusQueryError",
    "PrometheusUnavailable",
    "Refresh",
    "evaluate",
    "raw_burn_ask",
    "window_asks",
]

"""Many figures in a few HTTP requests: tag, union, chunk, send in parallel, bisect refusals.

Every figure of every SLO is one PromQL *sub-expression* reduced to a single series;
sub-expressions are tagged with ``label_replace(..., "sloguard_q", "<n>", "", "")`` and unioned
with ``or`` (a balanced tree, so the parser and evaluator never see a deep chain), and sent as a
handful of POSTed queries. Identical sub-expressions (two SLOs over the same SLI and window) are
asked once (:class:`Builder`). Each batch is split into chunks of bounded size sent in parallel,
so 1,000 SLOs cost a dozen or so HTTP requests, not 10,000. A chunk the server rejects (a bad
query in one SLO) is bisected so one broken SLO does not blank the others: its expressions get an
error message instead of a value. A server that refuses long queries (VictoriaMetrics:
``-search.maxQueryLen``, 16 KB by default) says its limit; the batcher remembers it and cuts
chunks to fit (raising the limit on the server brings the request count back to Prometheus').
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from sloguard.core.windows import format_duration

from .client import PrometheusClient, Series
from .errors import PrometheusQueryError

TAG_LABEL: Final = "sloguard_q"

T = TypeVar("T")


class Builder(Generic[T]):
    """Expressions of one batch, de-duplicated, each with who wants its value."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.exprs: list[str] = []
        self.wants: list[list[T]] = []

    def add(self, expr: str, want: T) -> None:
        i = self.index.get(expr)
        if i is None:
            i = self.index[expr] = len(self.exprs)
            self.exprs.append(expr)
            self.wants.append([])
        self.wants[i].append(want)


@dataclass(frozen=True)
class Batch:
    """Expressions evaluated together: at ``at`` (instant), or at ``start, start + step .. at``."""

    exprs: Sequence[str]
    at: int
    start: int | None = None
    step: int = 0

    @property
    def first(self) -> int:
        """The first evaluation time."""
        return self.at if self.start is None else self.start


@dataclass
class Result:
    """Per expression index: its result series, or the server's refusal of it."""

    series: dict[int, list[Series]]
    errors: dict[int, str]


def _union(parts: Sequence[str]) -> str:
    """``a or b or c ...`` as a balanced tree (depth log n, n log n work in the evaluator)."""
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return f"({_union(parts[:mid])} or {_union(parts[mid:])})"


def grouped(parts: Sequence[str], step: int) -> str:
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


def tagged(index: int, expr: str) -> str:
    return f'label_replace({expr}, "{TAG_LABEL}", "{index}", "", "")'


_QUERY_LEN = re.compile(r"maxQueryLen=(\d+)")


def query_length_limit(message: str) -> int | None:
    """The server's query length limit, when ``message`` is VictoriaMetrics refusing a long query."""
    m = _QUERY_LEN.search(message)
    return int(m.group(1)) if m and "too long query" in message else None


def fit(indices: list[int], sizes: list[int], limit: int) -> list[list[int]]:
    """``indices`` in order, cut into chunks whose grouped, tagged query stays under ``limit``
    (each expression's ``sizes`` entry plus room for the union and grouping around it)."""
    return _pack(indices, [size + 60 for size in sizes], int(limit * 0.9))


def _pack(indices: Iterable[int], costs: Iterable[int], limit: int) -> list[list[int]]:
    """``indices`` in order, cut greedily into chunks whose ``costs`` add up to at most ``limit``
    (a chunk holds at least one index, whatever its cost)."""
    chunks: list[list[int]] = [[]]
    used = 0
    for i, cost in zip(indices, costs, strict=True):
        if chunks[-1] and used + cost > limit:
            chunks.append([])
            used = 0
        chunks[-1].append(i)
        used += cost
    return chunks


class Batcher:
    """Sends batches through one client: chunked under ``max_chunk_bytes``, at most ``workers``
    chunks at a time. Remembers a server's query length limit once it has said it."""

    def __init__(self, client: PrometheusClient, max_chunk_bytes: int, workers: int) -> None:
        self.client = client
        self.max_chunk_bytes = max_chunk_bytes
        self.workers = workers
        #: The longest query the server accepts, once it has said so (VictoriaMetrics' maxQueryLen).
        self.query_len_limit: int | None = None

    def execute(self, batches: Sequence[Batch]) -> list[Result]:
        """Every batch, chunked, all chunks in parallel; a refused chunk is bisected.

        Raises :class:`~.errors.PrometheusUnavailable` when the server cannot be read, and
        :class:`~.errors.PrometheusQueryError` when it timed out (halving a chunk that timed out
        would only double the load).
        """
        results = [Result({}, {}) for _ in batches]
        jobs = [(batch, result, c) for batch, result in zip(batches, results, strict=True)
                for c in self.chunks(batch.exprs)]
        if len(jobs) == 1:
            self._run_chunk(*jobs[0])
        elif jobs:  # none at all when there is nothing to ask
            with ThreadPoolExecutor(max_workers=min(self.workers, len(jobs))) as pool:
                for f in [pool.submit(self._run_chunk, *job) for job in jobs]:
                    f.result()
        return results

    def _run_chunk(self, batch: Batch, result: Result, indices: list[int]) -> None:
        """One chunk of ``batch`` into ``result``; refused chunks are cut (see :meth:`_refused`)."""
        query = grouped([tagged(i, batch.exprs[i]) for i in indices], batch.step or 1)
        try:
            if batch.start is None:
                rows = self.client.query(query, batch.at)
            else:
                rows = self.client.query_range(query, batch.start, batch.at, batch.step)
        except PrometheusQueryError as e:
            if e.kind == "timeout":
                raise
            self._refused(batch, result, indices, query, e)
            return
        for row in rows:
            tag = row.labels.get(TAG_LABEL)
            if tag is not None:
                result.series.setdefault(int(tag), []).append(row)

    def _refused(self, batch: Batch, result: Result, indices: list[int], query: str,
                 error: PrometheusQueryError) -> None:
        """A refused chunk: cut to the server's query length limit, else halved, down to the one
        expression that is refused (its error is the result)."""
        limit = query_length_limit(str(error))
        if limit is not None and len(indices) > 1 and len(query) > limit:
            # VictoriaMetrics refuses queries over -search.maxQueryLen (16 KB by default):
            # remember its limit and cut this chunk to fit it, not by halves.
            self.query_len_limit = min(self.query_len_limit or limit, limit)
            for part in fit(indices, [len(tagged(i, batch.exprs[i])) for i in indices], limit):
                self._run_chunk(batch, result, part)
            return
        if len(indices) == 1:
            result.errors[indices[0]] = str(error)
            return
        mid = len(indices) // 2
        self._run_chunk(batch, result, indices[:mid])
        self._run_chunk(batch, result, indices[mid:])

    def chunks(self, exprs: Sequence[str]) -> list[list[int]]:
        """Index chunks under ``max_chunk_bytes``, and at least ``workers`` of them when large."""
        if not exprs:
            return []
        if self.query_len_limit is not None:  # a server with a query length limit (see execute)
            sizes = [len(tagged(i, e)) for i, e in enumerate(exprs)]
            if sum(sizes) + 60 * len(sizes) > self.query_len_limit:
                return fit(list(range(len(exprs))), sizes, self.query_len_limit)
        sizes = [len(e) + 60 for e in exprs]
        total = sum(sizes)
        wanted = max(math.ceil(total / self.max_chunk_bytes), min(self.workers, math.ceil(total / 50_000)))
        return _pack(range(len(sizes)), sizes, max(1, math.ceil(total / wanted)))


__all__ = ["TAG_LABEL", "Batch", "Batcher", "Builder", "Result", "fit", "grouped", "query_length_limit", "tagged"]

"""The operator's own metrics: one ``CollectorRegistry`` per operator, served at ``/metrics``.

Two kinds of series (names in ``core.conventions``, reference in ``docs/metrics.md``):

* **State gauges** (budgets, states, burn rates, held workloads, SLA credits) are not set and
  removed one by one: :class:`_StateCollector` renders them at scrape time from snapshots of the
  current state — the budget refresh's registry (read through a source function) and the last
  status seen of each policy and contract. An object that is gone from the snapshot has no
  series, so deletion is exact by construction: nothing to forget to ``remove()``.
* **Counters and histograms** of what the operator did (reconciles, budget refreshes, Prometheus
  requests, admission reviews), from prometheus-client's own types.

:class:`OperatorMetrics` is created once with the operator's context (``handlers.context``) and
passed around in it; nothing here is module-global, so several operators in one process (tests)
each count their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..api.slo_status import budget_fields
from ..core import conventions as c
from ..core.budget import BudgetStatus

#: Every budget state; ``sloguard_slo_state`` has one series per state, 1 for the current one.
STATES = (c.STATE_HEALTHY, c.STATE_WARNING, c.STATE_CRITICAL, c.STATE_EXHAUSTED, c.STATE_UNKNOWN)
KINDS = (c.KIND_SLO, c.KIND_POLICY, c.KIND_SLA)
DECISIONS = (c.DECISION_ALLOW, c.DECISION_WARN, c.DECISION_DENY)
#: Budget refresh: from a fraction of a second (a few SLOs) to minutes (thousands, slow Prometheus).
REFRESH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
#: Admission reviews answer in milliseconds; the API server gives up after the webhook timeout.
ADMISSION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def parse_address(text: str) -> tuple[str, int] | None:
    """``HOST:PORT`` (``[::]:8081``, ``:8081`` = all interfaces) -> (host, port); empty -> None (off)."""
    text = text.strip()
    if not text:
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT such as 0.0.0.0:8081 or [::]:8081 (empty: no metrics), got {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


@dataclass(frozen=True)
class BudgetSample:
    """One SLO's last budget as the refresh loop holds it."""

    namespace: str
    name: str
    service: str
    status: BudgetStatus
    uid: str = ""


class OperatorMetrics:
    """The registry, the counters, and the state snapshots the gauges are rendered from."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry()
        self._clock = clock
        self._lock = threading.Lock()
        self._budgets: Callable[[], Iterable[BudgetSample]] = tuple
        self._gone_slos: set[str] = set()  # uids deleted but perhaps still in the refresh registry
        self._policies: dict[tuple[str, str], tuple[str, float]] = {}
        self._credits: dict[tuple[str, str], dict[str, float]] = {}
        self._last_success: float | None = None
        self._last_cycle: float | None = None  # monotonic: when this replica last ran a refresh
        #: Budget gauges are exported only by the replica refreshing budgets: one whose last
        #: refresh cycle is older than this (a standby, after the lease moved) exports none.
        self.budget_ttl = 300.0
        r = self.registry
        self.reconciles = Counter(c.METRIC_RECONCILE, "Reconciles of sloguard objects by kind and result "
                                  "(error: the handler raised and will be retried).", ["kind", "result"], registry=r)
        self.reconcile_seconds = Histogram(c.METRIC_RECONCILE_DURATION, "Time one reconcile took.", ["kind"],
                                           registry=r)
        self.refresh_seconds = Histogram(c.METRIC_REFRESH_DURATION, "Time one budget refresh cycle took "
                                         "(all SLOs).", registry=r, buckets=REFRESH_BUCKETS)
        self.prometheus_requests = Counter(c.METRIC_PROMETHEUS_REQUESTS, "HTTP requests sent to Prometheus by "
                                           "the budget refresh; result=error for those of a cycle that could "
                                           "not read Prometheus.", ["result"], registry=r)
        self.admission_reviews = Counter(c.METRIC_ADMISSION_REVIEWS, "AdmissionReviews of held workloads "
                                         "answered by the webhook, by decision.", ["decision"], registry=r)
        self.admission_seconds = Histogram(c.METRIC_ADMISSION_DURATION, "Time the webhook took to decide one "
                                           "AdmissionReview.", registry=r, buckets=ADMISSION_BUCKETS)
        for kind in KINDS:  # zeros from the start, so rate() and alerts see the first error
            self.reconcile_seconds.labels(kind)
            for result in (c.RESULT_SUCCESS, c.RESULT_ERROR):
                self.reconciles.labels(kind, result)
        for result in (c.RESULT_SUCCESS, c.RESULT_ERROR):
            self.prometheus_requests.labels(result)
        for decision in DECISIONS:
            self.admission_reviews.labels(decision)
        r.register(_StateCollector(self))
        # The process's CPU, memory and file descriptors, the Python version and GC: as every
        # prometheus-client program exports them, but in this registry, not the global one.
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # --- what the handlers report ------------------------------------------------------------

    def reconciled(self, kind: str, ok: bool, seconds: float) -> None:
        self.reconciles.labels(kind, c.RESULT_SUCCESS if ok else c.RESULT_ERROR).inc()
        self.reconcile_seconds.labels(kind).observe(seconds)

    def refresh_started(self) -> None:
        """A refresh cycle begins here. The first one sets the success timestamp's baseline, so
        a refresh that never succeeds still goes stale (instead of having no series at all)."""
        with self._lock:
            self._last_cycle = time.monotonic()
            if self._last_success is None:
                self._last_success = self._clock()

    def refreshed(self, ok: bool, seconds: float) -> None:
        """A refresh cycle ended; ``ok``: it completed and Prometheus answered."""
        self.refresh_seconds.observe(seconds)
        with self._lock:
            self._last_cycle = time.monotonic()
            if ok:
                self._last_success = self._clock()

    def prometheus_answered(self, requests: int, reachable: bool) -> None:
        if requests:
            self.prometheus_requests.labels(c.RESULT_SUCCESS if reachable else c.RESULT_ERROR).inc(requests)

    def admission(self, decision: str, seconds: float) -> None:
        self.admission_reviews.labels(decision).inc()
        self.admission_seconds.observe(seconds)

    def budget_source(self, source: Callable[[], Iterable[BudgetSample]]) -> None:
        """Where budgets come from at scrape time (the refresh loop's registry)."""
        self._budgets = source

    def slo_deleted(self, uid: str) -> None:
        """Drop a deleted SLO's series now, not only when the next refresh cycle misses it."""
        if uid:
            with self._lock:
                self._gone_slos.add(uid)

    def policy_seen(self, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        """The policy's status as stored: its action and how many workloads it holds."""
        action = status.get("action")
        with self._lock:
            if action:
                held = status.get("held")
                self._policies[(namespace, name)] = (str(action), float(held) if isinstance(held, int | float) else 0.0)
            else:
                self._policies.pop((namespace, name), None)  # never evaluated: nothing to say yet

    def policy_deleted(self, namespace: str, name: str) -> None:
        with self._lock:
            self._policies.pop((namespace, name), None)

    def contract_seen(self, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        """Credits by month: the month to date (``currentPeriod``) and every finalized month in
        ``history`` (its latest revision)."""
        credits: dict[str, float] = {}
        latest: dict[str, int] = {}
        for entry in status.get("history") or []:
            period, credit, revision = entry.get("period"), entry.get("creditPercent"), entry.get("revision") or 0
            if period and isinstance(credit, int | float) and revision >= latest.get(period, -1):
                latest[period] = revision
                credits[period] = float(credit)
        current = status.get("currentPeriod") or {}
        if current.get("period") and isinstance(current.get("creditPercent"), int | float):
            credits.setdefault(current["period"], float(current["creditPercent"]))
        with self._lock:
            if credits:
                self._credits[(namespace, name)] = credits
            else:
                self._credits.pop((namespace, name), None)

    def contract_deleted(self, namespace: str, name: str) -> None:
        with self._lock:
            self._credits.pop((namespace, name), None)

    # --- serving -------------------------------------------------------------------------------

    def serve(self, host: str, port: int) -> tuple[str, int]:
        """Serve ``/metrics`` in a thread; returns the address bound (port 0: a free one)."""
        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        bound = self._server.server_address
        return str(bound[0]), int(bound[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def exposition(self) -> bytes:
        """The text a scrape gets."""
        return generate_latest(self.registry)

    # --- the snapshots, for the collector ------------------------------------------------------

    def _budget_samples(self) -> list[BudgetSample]:
        with self._lock:
            fresh = self._last_cycle is not None and time.monotonic() - self._last_cycle <= self.budget_ttl
            gone = set(self._gone_slos)
        if not fresh:
            return []
        samples = list(self._budgets())
        present = {s.uid for s in samples}
        with self._lock:  # a uid no longer in the registry needs no tombstone
            self._gone_slos &= present
        return [s for s in samples if s.uid not in gone]

    def _snapshot(self) -> tuple[dict[tuple[str, str], tuple[str, float]], dict[tuple[str, str], dict[str, float]],
                                 float | None]:
        with self._lock:
            return dict(self._policies), {k: dict(v) for k, v in self._credits.items()}, self._last_success


class _StateCollector(Collector):
    """Gauges rendered from the current snapshots at every scrape."""

    def __init__(self, metrics: OperatorMetrics) -> None:
        self.m = metrics

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        remaining, burn, state, held, credit, last = self._families()
        for s in sorted(self.m._budget_samples(), key=lambda s: (s.namespace, s.name)):
            fields = budget_fields(s.status)
            if fields["budget"]["remaining"] is not None:
                remaining.add_metric([s.namespace, s.name, s.service], fields["budget"]["remaining"])
            for window, rate in fields["burnRates"].items():
                if rate is not None:
                    burn.add_metric([s.namespace, s.name, window], rate)
            for st in STATES:
                state.add_metric([s.namespace, s.name, st], 1.0 if st == s.status.state else 0.0)
        policies, credits, last_success = self.m._snapshot()
        for (ns, name), (action, count) in sorted(policies.items()):
            held.add_metric([ns, name, action], count)
        for (ns, name), months in sorted(credits.items()):
            for period, percent in sorted(months.items()):
                credit.add_metric([ns, name, period], percent)
        if last_success is not None:
            last.add_metric([], last_success)
        yield from (remaining, burn, state, held, credit, last)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily(c.METRIC_BUDGET_REMAINING, "Error budget remaining as a fraction (status.budget."
                              "remaining; negative when overspent); absent while unknown.",
                              labels=["namespace", "slo", "service"]),
            GaugeMetricFamily(c.METRIC_BURN_RATE, "Burn rate over the window (status.burnRates): 1 spends the "
                              "budget exactly over the SLO window.", labels=["namespace", "slo", "window"]),
            GaugeMetricFamily(c.METRIC_SLO_STATE, "Budget state (status.state): 1 for the current state, 0 for "
                              "the others.", labels=["namespace", "slo", "state"]),
            GaugeMetricFamily(c.METRIC_POLICY_HELD, "Workloads an ErrorBudgetPolicy holds (status.held), labelled "
                              "with its current action.", labels=["namespace", "policy", "action"]),
            GaugeMetricFamily(c.METRIC_SLA_CREDIT, "SLA credit, percent of the monthly fee: the month to date "
                              "(status.currentPeriod) and each finalized month (latest revision).",
                              labels=["namespace", "contract", "period"]),
            GaugeMetricFamily(c.METRIC_REFRESH_LAST_SUCCESS, "Unix time of the last budget refresh that read "
                              "Prometheus (the loop's start until one did)."),
        )


__all__ = ["BudgetSample", "OperatorMetrics", "parse_address"]

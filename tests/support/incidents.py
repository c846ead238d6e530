"""Synthetic request counters with known incidents, for tests whose figures come from the data.

``per_step`` requests every ``step`` (5 minutes by default, so every hour, day and month edge has
a sample and counter differences are exact), errors only during the incidents, each given as
(start, minutes, error share). The expected figures are sums over these lists, never sloguard's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from tests.integration.promfixture import OpenMetricsWriter


@dataclass(frozen=True)
class IncidentHistory:
    start: datetime
    end: datetime
    incidents: tuple[tuple[datetime, int, float], ...]
    per_step: int = 1000
    step: timedelta = timedelta(minutes=5)
    job: str = "checkout"

    def bad_in_step(self, t: datetime) -> float:
        """Bad requests in the step ending at ``t``."""
        for start, minutes, share in self.incidents:
            if start < t <= start + timedelta(minutes=minutes):
                return self.per_step * share
        return 0.0

    def steps(self) -> Iterator[datetime]:
        t = self.start
        while t <= self.end:
            yield t
            t += self.step

    def history(self) -> Iterator[str]:
        """``http_requests_total{job, code="200"|"500"}`` as OpenMetrics lines."""
        w = OpenMetricsWriter()
        fam = w.family("http_requests", "counter", ("job", "code"))
        ok = bad = 0.0
        for t in self.steps():
            if t > self.start:
                b = self.bad_in_step(t)
                bad += b
                ok += self.per_step - b
            ts = int(t.timestamp())
            fam.add((self.job, "200"), ts, ok)
            fam.add((self.job, "500"), ts, bad)
        yield from w.lines()

    def bad_between(self, a: datetime, b: datetime) -> float:
        """Bad requests in ``(a, b]``."""
        return sum(self.bad_in_step(t) for t in self.steps() if a < t <= b)

    def total_between(self, a: datetime, b: datetime) -> float:
        """All requests in ``(a, b]``."""
        return self.per_step * ((b - a) / self.step)

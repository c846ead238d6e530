"""What can go wrong reading Prometheus, as our own exceptions: one family for every reader.

Budgets, SLA contracts and incident impact all raise these, with one line a person can act on
(the URL, what was refused, which flag to change). Callers that only need to know "could not
read" catch :class:`PrometheusError`; the operator tells "the server is unreachable"
(:class:`PrometheusUnavailable`: its ``PrometheusReachable`` condition) from "the server said
this query is wrong" (:class:`PrometheusQueryError`: that object's own problem).
"""

from __future__ import annotations


class PrometheusError(Exception):
    """Prometheus could not give us what we asked for; the message says why."""


class PrometheusUnavailable(PrometheusError):
    """Cannot reach the server, it refused us (TLS, credentials, tenant), answered 5xx, or it
    does not speak the Prometheus API."""


class PrometheusSettingsError(PrometheusError):
    """The connection settings themselves are wrong (a flag or variable, named in the message)."""


class PrometheusQueryError(PrometheusError):
    """The server refused a query (bad PromQL, too many samples, timeout)."""

    def __init__(self, message: str, kind: str = "bad_data") -> None:
        super().__init__(message)
        self.kind = kind  # Prometheus' errorType: bad_data | execution | timeout | ...


__all__ = ["PrometheusError", "PrometheusQueryError", "PrometheusSettingsError", "PrometheusUnavailable"]

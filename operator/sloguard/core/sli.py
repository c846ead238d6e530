"""SLI kinds -> PromQL for a window.

Every kind reduces to two expressions over a range ``w``:

* ``errors``: the rate of bad events (or, for time-based kinds, the bad share of time), and
* ``total``: the rate of all events (or ``1`` while the SLI has data).

``errors / total`` is then the error ratio for ``w`` whatever the kind, which lets the rule
generator record only two base series per SLO and derive every longer window from them by
summing over time — a traffic-weighted ratio, never a mean of ratios. Both expressions are
aggregated to a single series without labels, so the recording rules can add ours.

Zero traffic must never produce NaN: ``total`` is empty (not 0) when there is no data, and
callers divide by ``(total > 0)`` so a quiet service yields *no sample*, not NaN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import SLI, BoolGaugeSLI, LatencySLI, RatioQuerySLI, RatioSLI, RawSLI

WINDOW_PLACEHOLDER = "{{.window}}"
_PLACEHOLDER_RE = re.compile(r"\{\{\s*\.window\s*\}\}")


@dataclass(frozen=True)
class SLIQueries:
    """PromQL for the bad-event rate and total rate over one window."""

    errors: str
    total: str


def render_window(template: str, window: str) -> str:
    """Substitute ``{{.window}}`` (Sloth's template syntax) with ``window``."""
    return _PLACEHOLDER_RE.sub(window, template)


def has_window_placeholder(template: str) -> bool:
    return bool(_PLACEHOLDER_RE.search(template))


def le_regex(bound: float) -> str:
    """A regex matching an ``le`` label for ``bound`` however it was formatted.

    Client libraries write ``0.25``, ``1``, ``1.0`` or ``1e+00``; Prometheus 3 normalises some
    of them. Matching the numeric value in all decimal spellings keeps the SLI right either way.
    """
    if bound == float("inf"):
        return r"\+Inf"
    text = f"{bound:.12f}".rstrip("0").rstrip(".")
    integer, _, fraction = text.partition(".")
    if fraction:
        head = "0?" if integer == "0" else integer
        return rf"{head}\.{fraction}0*"
    sci = f"{bound:.0e}" if bound == float(f"{bound:.0e}") else None
    alternatives = [rf"{integer}(\.0*)?"]
    if sci:
        mantissa, exponent = sci.split("e")
        alternatives.append(rf"{mantissa}(\.0*)?e\+?{int(exponent):02d}")
    return "|".join(alternatives)


def with_matcher(selector: str, matcher: str) -> str:
    """Add a label matcher to a plain vector selector (``m{a="b"}`` or ``m``)."""
    selector = selector.strip()
    if selector.endswith("}"):
        body = selector[: selector.rindex("{") + 1]
        inner = selector[len(body) : -1].strip().rstrip(",")
        return f"{body}{inner + ',' if inner else ''}{matcher}}}"
    return f"{selector}{{{matcher}}}"


def _promql_str(text: str) -> str:
    """``text`` escaped for a double-quoted PromQL string (a regex's ``\\.`` must be written ``\\\\.``)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _sum_rate(selector: str, window: str) -> str:
    return f"sum(rate({selector}[{window}]))"


def _missing_is_zero(expr: str) -> str:
    """Bad-event counters often do not exist until the first error: treat absent as 0."""
    return f"({expr} or vector(0))"


def queries(sli: SLI, window: str) -> SLIQueries:
    """The error and total expressions of ``sli`` over ``window`` (a Prometheus duration)."""
    if isinstance(sli, RatioSLI):
        total = _sum_rate(sli.total, window)
        if sli.errors is not None:
            return SLIQueries(_missing_is_zero(_sum_rate(sli.errors, window)), total)
        assert sli.good is not None
        return SLIQueries(f"clamp_min({total} - {_missing_is_zero(_sum_rate(sli.good, window))}, 0)", total)
    if isinstance(sli, RatioQuerySLI):
        total = f"({render_window(sli.total_query, window)})"
        if sli.error_query is not None:
            return SLIQueries(_missing_is_zero(f"({render_window(sli.error_query, window)})"), total)
        assert sli.good_query is not None
        good = _missing_is_zero(f"({render_window(sli.good_query, window)})")
        return SLIQueries(f"clamp_min({total} - {good}, 0)", total)
    if isinstance(sli, LatencySLI):
        valid_bound = sli.valid_below if sli.valid_below is not None else float("inf")
        total = _sum_rate(with_matcher(sli.histogram, f'le=~"{_promql_str(le_regex(valid_bound))}"'), window)
        good = _sum_rate(with_matcher(sli.histogram, f'le=~"{_promql_str(le_regex(sli.threshold))}"'), window)
        # No _missing_is_zero here: buckets are exported together, so a missing threshold bucket is a
        # misconfiguration (threshold not an le bound) and must read as "no data", not 100% errors.
        return SLIQueries(f"clamp_min({total} - {good}, 0)", total)
    if isinstance(sli, RawSLI):
        # NaN (no traffic) fails ">= 0" and drops out; the sample's presence is the "total".
        ratio = f"avg(({render_window(sli.error_ratio_query, window)}) >= 0)"
        return SLIQueries(ratio, f"({ratio} * 0 + 1)")
    if isinstance(sli, BoolGaugeSLI):
        up = f"avg(avg_over_time({sli.selector}[{window}]))"
        return SLIQueries(f"(1 - {up})", f"({up} * 0 + 1)")
    raise TypeError(f"unknown SLI kind {type(sli).__name__}")


def is_time_based(sli: SLI) -> bool:
    """Raw ratios and bool gauges measure time, not events: traffic gates do not apply."""
    return isinstance(sli, RawSLI | BoolGaugeSLI)

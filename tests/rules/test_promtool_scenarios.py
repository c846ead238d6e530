"""`promtool test rules` scenarios: the generated alerts fire, and resolve, exactly when they should.

Every scenario generates its rules from an SLO file at test time (``sloguard generate --format rules``),
feeds promtool counters sampled every minute (evaluation_interval 1m) and checks the complete set of
firing alerts at chosen minutes. The minutes are worked out by hand in the comments; a small reference
model (``harness.py``) double-checks that arithmetic and supplies the burn value the annotations print.

Notation in the comments: S is the minute errors start, E the minute they stop. ``e5(t)``/``t5(t)`` are
the recorded 5m error/total rates at minute t. A tier fires when both its windows' ratio / budget exceed
its factor. The expected minutes depend on the range rule of the promtool that runs them (``harness.py``,
``SLOGUARD_PROMETHEUS``), so each scenario works them out twice:

* Prometheus 3 (the default): ranges are ``(t - d, t]``. A 5m rate sees 4 increments (samples t-4 .. t)
  and extrapolates them over the missing first minute, but never below a counter's zero. An error
  counter that is still 0 at S therefore ramps as with Prometheus 2, r5(S + k) = p * k / 5 for k = 0..4
  (its first sample in the range is 0: no extrapolation), and is p from S+5; after E it decays
  p * 3/4, 2/4, 1/4 over E+1..E+3 (four increments extrapolated) and is 0 from E+4 (decay sum 1.5 p).
  The sum of r5 over S .. S + n is p * (n - 2) for n >= 4. A W-minute window holds W samples, and with
  constant traffic its ratio is (sum of r5 over the window) / W. Where a threshold is met exactly
  (ratio = factor * budget, not above it), floating point decides: that minute is not checked.
* Prometheus 2 (``SLOGUARD_PROMETHEUS=2``): ranges are ``[t - d, t]``. r5(S + k) = p * k / 5 for k = 0..5,
  so the sum of r5 over S .. S + n is p * (n - 2) for n >= 4 (0.2 + 0.4 + 0.6 + 0.8 lost to the ramp).
  A W-minute window holds W + 1 samples, and its ratio is (sum of r5 over the window) / (W + 1).

Default tiers (30d): critical 14.4x over 1h and 5m, warning 6x over 6h and 30m, info 3x over 1d and 2h.
Scenarios that involve the 1d window put a clean day (S = 1500 minutes) of history first, so every
window is full of real samples when errors begin.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness import (
    VERSION,
    Counter,
    Expect,
    counter,
    generate_rules,
    rate5m,
    run_promtool,
    slice_fraction,
    span,
    window_ratio,
)

DEFAULT_TIERS = (("critical", 14.4, 5, 60), ("warning", 6.0, 30, 360), ("info", 3.0, 120, 1440))

HEADER = """\
apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
"""


def ratio_slo(name: str, job: str, objective: float, extra: str = "") -> str:
    return HEADER + f"""\
metadata: {{name: {name}, namespace: test}}
spec:
  service: {job}
  objective: {objective}
  sli:
    ratio:
      errors: 'http_requests_total{{job="{job}",code="500"}}'
      total: 'http_requests_total{{job="{job}"}}'
{extra}"""


def per_version(v2: dict[int, tuple[str, ...]], v3: dict[int, tuple[str, ...]]) -> dict[int, tuple[str, ...]]:
    """The hand-worked minutes for the Prometheus version whose promtool runs the scenario."""
    return v3 if VERSION >= 3 else v2


def model_firing(minute: int, ratio: Callable[[int, int], float], budget: float,
                 tiers: tuple[tuple[str, float, int, int], ...] = DEFAULT_TIERS,
                 gate: Callable[[int, int], bool] = lambda t, w: True) -> dict[str, float]:
    """Severity -> long-window burn for every tier the reference model says is firing at ``minute``."""
    out = {}
    for severity, factor, short, long in tiers:
        burn_long = ratio(minute, long) / budget
        if burn_long > factor and ratio(minute, short) / budget > factor and gate(minute, long):
            out[severity] = burn_long
    return out


def expectations(slo: str, minute_to_severities: dict[int, tuple[str, ...]], ratio: Callable[[int, int], float],
                 budget: float, **model: object) -> list[Expect]:
    """Hand-worked expectations, checked against the reference model before promtool sees them."""
    out = []
    for minute, severities in minute_to_severities.items():
        fired = model_firing(minute, ratio, budget, **model)  # type: ignore[arg-type]
        assert sorted(fired) == sorted(severities), f"minute {minute}: model says {sorted(fired)}"
        out.append(Expect(minute, {(slo, s): fired[s] for s in severities}))
    return out


def ratio_of(errors: Counter, total: Counter) -> Callable[[int, int], float]:
    """The window ratio of a job fed by :func:`series`: the SLO's total is the sum of the two series'
    rates (code 500 and code 200), each extrapolated on its own (Prometheus 3 extrapolates the 200
    series, not the 500 one while it is still 0: the total dips slightly as errors begin)."""
    good = minus(total, errors)
    return lambda t, w: window_ratio(
        lambda s: rate5m(errors, s), lambda s: rate5m(errors, s) + rate5m(good, s), t, w
    )


def series(job: str, errors: Counter, good: Counter) -> dict[str, Counter]:
    """Two series of one job, code 500 and code 200; the SLO's total sums both."""
    return {f'http_requests_total{{job="{job}",code="500"}}': errors,
            f'http_requests_total{{job="{job}",code="200"}}': good}


def minus(a: Counter, b: Counter) -> Counter:
    """The good requests' counter given all requests ``a`` and errors ``b`` (as values, with notation)."""
    values = tuple(x - y for x, y in zip(a.values, b.values, strict=True))
    return Counter(" ".join(f"{v:g}" for v in values), values)


def test_fast_burn_pages_within_minutes_of_a_full_outage_and_stops_when_the_short_window_clears(
    tmp_path: Path,
) -> None:
    # 600 requests/min (t5 = 10/s). S = 1500: 100% errors for 30 minutes, E = 1530.
    # e5 ramps 2, 4, 6, 8, 10 over S+1..S+5, stays 10 until E, falls 8, 6, 4, 2, 0 over E+1..E+5.
    # Cumulative sum of e5 from S: C(n) = 2, 6, 12, 20, 30 for n = 1..5, then 30 + 10 (n - 5).
    # critical: 1h sum > 14.4 * 0.001 * 61 * 10 = 8.784 -> C(3) = 12: fires at S+3 (C(2) = 6 does not);
    #           5m: e5 > 0.144 from S+1. Resolves when e5 = 0 (5m ratio): E+5; still firing at E+4 (e5 = 2).
    # warning:  6h sum > 6 * 0.001 * 361 * 10 = 21.66 -> C(5) = 30: fires at S+5 (C(4) = 20 does not).
    #           30m sum > 6 * 0.001 * 31 * 10 = 1.86: the last non-zero e5 (2, at E+4) leaves the 30m
    #           window at E+35: firing at E+34, resolved at E+35.
    # info:     1d sum > 3 * 0.001 * 1441 * 10 = 43.23 -> C(7) = 50: fires at S+7 (C(6) = 40 does not).
    #           2h sum > 3 * 0.001 * 121 * 10 = 3.63: at E+123 the window still holds e5 = 4 and 2 (6),
    #           at E+124 only 2: firing at E+123, resolved at E+124.
    # The outage's total (C(30) + 8 + 6 + 4 + 2 = 300) keeps every long window above its threshold throughout.
    # Prometheus 3: e5 ramps 2, 4, 6, 8 over S+1..S+4, is 10 from S+5 to E, falls 7.5, 5, 2.5, 0 over E+1..E+4.
    # C(n) = 2, 6, 12, 20 for n = 1..4, then 20 + 10 (n - 4).
    # critical: 1h sum > 14.4 * 0.001 * 60 * 10 = 8.64 -> C(3) = 12: fires at S+3 (C(2) = 6 does not);
    #           resolves when e5 = 0: E+4; still firing at E+3 (e5 = 2.5).
    # warning:  6h sum > 6 * 0.001 * 360 * 10 = 21.6 -> C(5) = 30: fires at S+5 (C(4) = 20 does not).
    #           30m sum > 6 * 0.001 * 30 * 10 = 1.8: the last non-zero e5 (2.5, at E+3) leaves the 30m
    #           window (E+m-29 .. E+m) at E+33: firing at E+32, resolved at E+33.
    # info:     1d sum > 3 * 0.001 * 1440 * 10 = 43.2 -> C(7) = 50: fires at S+7 (C(6) = 40 does not).
    #           2h sum > 3 * 0.001 * 120 * 10 = 3.6: at E+121 the window still holds e5 = 5 and 2.5,
    #           at E+122 only 2.5: firing at E+121, resolved at E+122.
    s, e = 1500, 1530
    total = counter((1700, 600))
    errors = counter((s, 0), (e - s, 600), (1700 - e, 0))
    rules = generate_rules(ratio_slo("fast", "fast", 99.9), tmp_path)
    minutes = per_version({
        s: (), s + 2: (), s + 3: ("critical",), s + 4: ("critical",), s + 5: ("critical", "warning"),
        s + 6: ("critical", "warning"), s + 7: ("critical", "warning", "info"), e + 4: ("critical", "warning", "info"),
        e + 5: ("warning", "info"), e + 34: ("warning", "info"), e + 35: ("info",), e + 123: ("info",), e + 124: (),
    }, {
        s: (), s + 2: (), s + 3: ("critical",), s + 4: ("critical",), s + 5: ("critical", "warning"),
        s + 6: ("critical", "warning"), s + 7: ("critical", "warning", "info"), e + 3: ("critical", "warning", "info"),
        e + 4: ("warning", "info"), e + 32: ("warning", "info"), e + 33: ("info",), e + 121: ("info",), e + 122: (),
    })
    expect = expectations("fast", minutes, ratio_of(errors, total), 0.001)
    run_promtool(tmp_path, rules, series("fast", errors, minus(total, errors)), "ErrorBudgetBurn", expect)


def test_slow_burn_opens_a_ticket_after_18_hours_of_four_times_the_budget_rate(tmp_path: Path) -> None:
    # 1000 requests/min; from S = 1500, 4 errors/min: p = 0.4% = 4x the 0.1% budget of a 99.9 SLO.
    # info (3x): 1d ratio = 0.004 (n - 2) / 1441 > 0.003 -> n - 2 > 1080.75 -> n = 1083 (18h03m):
    #            at S+1082: 0.004 * 1080 / 1441 = 0.0029979, not yet; 2h ratio is 0.004 > 0.003 by then.
    # warning (6x) and critical (14.4x) never fire: no window's ratio exceeds 0.004.
    # Errors stop at E = S + 1200. The 2h window then holds 121 - m full samples and the 0.008 decay:
    #   0.004 (121 - m) + 0.008 > 0.003 * 121 = 0.363 -> m <= 32: firing at E+32, resolved at E+33.
    #   (The 1d ratio, about 0.004 * 1198 / 1441 = 0.0033, is still above 0.003: the short window resolves it.)
    # Prometheus 3: 1d ratio = 0.004 (n - 2) / 1440 > 0.003 -> n - 2 > 1080 -> n = 1083: at S+1081,
    #            0.004 * 1079 / 1440 = 0.0029972, not yet; S+1082 is exactly 0.003 (not checked); S+1083: 0.0030028.
    #   After E the 2h window holds 120 - m full samples and the 0.006 decay (0.003 + 0.002 + 0.001):
    #   0.004 (120 - m) + 0.006 > 0.003 * 120 = 0.36 -> m <= 31: firing at E+31, resolved at E+32.
    s, e, end = 1500, 2700, 2760
    total = counter((end, 1000))
    errors = counter((s, 0), (e - s, 4), (end - e, 0))
    rules = generate_rules(ratio_slo("slow", "slow", 99.9), tmp_path)
    minutes = per_version(
        {s + 60: (), s + 600: (), s + 1082: (), s + 1083: ("info",), e: ("info",), e + 32: ("info",), e + 33: ()},
        {s + 60: (), s + 600: (), s + 1081: (), s + 1083: ("info",), e: ("info",), e + 31: ("info",), e + 32: ()},
    )
    expect = expectations("slow", minutes, ratio_of(errors, total), 0.001)
    run_promtool(tmp_path, rules, series("slow", errors, minus(total, errors)), "ErrorBudgetBurn", expect)


def test_zero_traffic_gives_no_alert_and_no_nan_in_any_ratio(tmp_path: Path) -> None:
    # "idle": both counters exist but never increase (t5 = 0). "absent": no series at all.
    # errors fall back to vector(0); total is 0 (idle) or empty (absent); every ratio divides by
    # (total > 0), which is empty, so the recordings hold no sample at all - not NaN, not 0.
    idle = ratio_slo("idle", "idle", 99.9)
    absent = ratio_slo("absent", "absent", 99.9)
    rules = generate_rules(idle + "---\n" + absent, tmp_path)
    windows = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    expr_tests = []
    for minute in (10, 90, 240):
        for w in windows:
            # No sample at all, so neither a NaN (NaN != NaN would show it) nor a number.
            expr_tests.append({"expr": f"sloguard:sli_error_ratio:rate{w}", "eval_time": f"{minute}m",
                               "exp_samples": []})
        expr_tests.append({"expr": "sloguard:sli_errors:rate5m", "eval_time": f"{minute}m", "exp_samples": [
            {"labels": f'sloguard:sli_errors:rate5m{{service="{n}",slo="{n}",slo_namespace="test"}}', "value": 0}
            for n in ("absent", "idle")]})
        expr_tests.append({"expr": "sloguard:sli_total:rate5m", "eval_time": f"{minute}m", "exp_samples": [
            {"labels": 'sloguard:sli_total:rate5m{service="idle",slo="idle",slo_namespace="test"}', "value": 0}]})
    flat = counter((240, 0))
    expect = [Expect(m) for m in (10, 61, 90, 240)]
    run_promtool(tmp_path, rules, series("idle", flat, flat), "ErrorBudgetBurn", expect, expr_tests)


def test_latency_slo_pages_when_half_the_requests_exceed_the_threshold(tmp_path: Path) -> None:
    # 99% of requests within 250ms (budget 1%). Two instances, 300 requests/min each, spelling the
    # 0.25 bound differently ("0.25" and "0.250"); a 0.5 bucket must not be mistaken for it.
    # From S = 1500 to E = 1530, half the requests take 0.3s: p = 0.5, 50x the budget.
    # critical: 1h sum of r5 > 0.144 * 61 = 8.784; sum = 0.5 (n - 2) -> n - 2 > 17.57 -> n = 20:
    #           fires at S+20 (S+19: 8.5). After E the 5m ratio falls 0.4, 0.3, 0.2, 0.1: it must stay
    #           above 14.4 * 0.01 = 0.144, so the page is still firing at E+3 (0.2) and resolved at E+4 (0.1).
    # warning needs a 6h sum > 0.06 * 361 = 21.66, info a 1d sum > 0.03 * 1441 = 43.23, but the whole
    # incident sums to 0.5 * 28 + 1.0 = 15 (the ramps up and down give 1.5 and 1.0): neither ever fires.
    # Prometheus 3: the slow share is total minus the 0.25 bucket, two counters far from zero, so both
    #           rates are extrapolated and the 5m ratio ramps 0.125, 0.25, 0.375 and is 0.5 from S+4
    #           (sum 0.5 (n - 1.5) for n >= 3), then decays 0.375, 0.25, 0.125, 0 over E+1..E+4.
    #           1h sum > 0.144 * 60 = 8.64; 0.5 (n - 1.5) > 8.64 -> n - 1.5 > 17.28 -> n = 19: fires at
    #           S+19 (S+18: 8.25). After E the 5m ratio falls 0.375, 0.25, 0.125, 0: still firing at E+2
    #           (0.25), resolved at E+3 (0.125). The incident still sums to 15 (0.5 * 30): under 0.06 * 360 =
    #           21.6 and 0.03 * 1440 = 43.2, so warning and info never fire.
    s, e, end = 1500, 1530, 1600
    slo = HEADER + """\
metadata: {name: latency, namespace: test}
spec:
  service: api
  objective: 99
  sli:
    latency: {histogram: 'http_request_duration_seconds_bucket{job="api"}', threshold: 0.25}
"""
    rules = generate_rules(slo, tmp_path)
    total = counter((end, 300))  # per instance
    slow = counter((s, 0), (e - s, 150), (end - e, 0))  # per instance: slower than 0.25s
    fast = minus(total, slow)
    metric = "http_request_duration_seconds_bucket"
    inputs: dict[str, Counter] = {}
    for instance, quarter in (("a", "0.25"), ("b", "0.250")):
        inputs[f'{metric}{{job="api",instance="{instance}",le="0.1"}}'] = fast
        inputs[f'{metric}{{job="api",instance="{instance}",le="{quarter}"}}'] = fast
        inputs[f'{metric}{{job="api",instance="{instance}",le="0.5"}}'] = total
        inputs[f'{metric}{{job="api",instance="{instance}",le="+Inf"}}'] = total
    minutes = per_version(
        {s: (), s + 19: (), s + 20: ("critical",), e: ("critical",), e + 3: ("critical",), e + 4: (), e + 60: ()},
        {s: (), s + 18: (), s + 19: ("critical",), e: ("critical",), e + 2: ("critical",), e + 3: (), e + 60: ()},
    )
    # The model computes the ratio as the SLI does: (total - good) / total, from the two bucket counters.
    def latency_ratio(t: int, w: int) -> float:
        return window_ratio(lambda x: rate5m(total, x) - rate5m(fast, x), lambda x: rate5m(total, x), t, w)

    expect = expectations("latency", minutes, latency_ratio, 0.01)
    run_promtool(tmp_path, rules, inputs, "ErrorBudgetBurn", expect)


def test_a_burn_of_14x_pages_on_a_28_day_window_but_not_on_a_30_day_one(tmp_path: Path) -> None:
    # Same traffic, two SLOs at 99.9: 28d (13.44 / 5.6 / 2.8) and 30d (14.4 / 6 / 3), distinct alert names.
    # 1000 requests/min, from S = 1500 14 errors/min: p = 1.4% = 14x the budget.
    # critical 28d: 1h ratio = 0.014 (n - 2) / 61 > 0.01344 -> n - 2 > 58.56 -> n = 61 (S+60: 0.01331);
    #               it then rises to 0.014 and stays. critical 30d needs 0.0144 > 0.014: never.
    # warning 28d:  6h: 0.014 (n - 2) > 0.0056 * 361 = 2.0216 -> n = 147 (S+146: 2.016).
    # warning 30d:  6h: 0.014 (n - 2) > 0.006 * 361 = 2.166 -> n = 157 (S+156: 2.156).
    # info needs n = 291 (28d) and 311 (30d): not within this test's 170 minutes.
    # Prometheus 3 (sum of r5 = 0.014 (n - 2), W samples):
    # critical 28d: 1h: 0.014 (n - 2) / 60 > 0.01344 -> n - 2 > 57.6 -> n = 60 (S+59: 0.0133, S+60: 0.013533).
    # warning 28d:  6h: 0.014 (n - 2) > 0.0056 * 360 = 2.016 -> n = 147; S+146 is exactly 2.016 (not checked).
    # warning 30d:  6h: 0.014 (n - 2) > 0.006 * 360 = 2.16 -> n = 157 (S+156: 2.156).
    # info needs n = 291 (28d) and 311 (30d).
    s, end = 1500, 1670
    total = counter((end, 1000))
    errors = counter((s, 0), (end - s, 14))
    slo28 = ratio_slo("burn-28d", "burn", 99.9, "  window: 28d\n  alerting: {name: Burn28d}\n")
    slo30 = ratio_slo("burn-30d", "burn", 99.9, "  window: 30d\n  alerting: {name: Burn30d}\n")
    rules = generate_rules(slo28 + "---\n" + slo30, tmp_path)
    ratio = ratio_of(errors, total)
    tiers28 = (("critical", 13.44, 5, 60), ("warning", 5.6, 30, 360), ("info", 2.8, 120, 1440))
    minutes28 = per_version(
        {s + 60: (), s + 61: ("critical",), s + 146: ("critical",), s + 147: ("critical", "warning"),
         s + 170: ("critical", "warning")},
        {s + 59: (), s + 60: ("critical",), s + 145: ("critical",), s + 147: ("critical", "warning"),
         s + 170: ("critical", "warning")},
    )
    minutes30 = per_version(
        {s + 61: (), s + 120: (), s + 156: (), s + 157: ("warning",), s + 170: ("warning",)},
        {s + 60: (), s + 120: (), s + 156: (), s + 157: ("warning",), s + 170: ("warning",)},
    )
    inputs = series("burn", errors, minus(total, errors))
    run_promtool(tmp_path, rules, inputs, "Burn28d",
                 expectations("burn-28d", minutes28, ratio, 0.001, tiers=tiers28))
    run_promtool(tmp_path, rules, inputs, "Burn30d", expectations("burn-30d", minutes30, ratio, 0.001))


def test_custom_tiers_replace_the_defaults_and_use_their_own_windows(tmp_path: Path) -> None:
    # 99.5 (budget 0.5%) with two tiers of our own: page 10x over 90m and 10m, ticket 2x over 6h and 30m.
    # 1000 requests/min, from S = 400 (6h of clean history) to E = S + 60: 10% errors, 20x the budget.
    # ticket: 6h sum of r5 > 2 * 0.005 * 361 = 3.61; 0.1 (n - 2) > 3.61 -> n = 39 (S+38: 3.6).
    # page:   90m sum > 10 * 0.005 * 91 = 4.55; 0.1 (n - 2) > 4.55 -> n = 48 (S+47: 4.5).
    # After E the short windows hold W + 1 - m full samples plus the 0.2 decay (0.08+0.06+0.04+0.02):
    #   page 10m:    0.1 (11 - m) + 0.2 > 0.05 * 11 = 0.55 -> m <= 7: firing at E+7, resolved at E+8.
    #   ticket 30m:  0.1 (31 - m) + 0.2 > 0.01 * 31 = 0.31 -> m <= 29: firing at E+29, resolved at E+30.
    # The default tiers are gone: no critical/warning/info ever, although 20x exceeds 14.4x.
    # Prometheus 3 (sum = 0.1 (n - 2), W samples, decay 0.075 + 0.05 + 0.025 = 0.15):
    # ticket: 6h > 2 * 0.005 * 360 = 3.6 -> n = 39 (S+37: 3.5; S+38 is exactly 3.6, not checked).
    # page:   90m > 10 * 0.005 * 90 = 4.5 -> n = 48 (S+46: 4.4; S+47 is exactly 4.5, not checked).
    #   page 10m:    0.1 (10 - m) + 0.15 > 0.05 * 10 = 0.5 -> m <= 6: firing at E+6, resolved at E+7.
    #   ticket 30m:  0.1 (30 - m) + 0.15 > 0.01 * 30 = 0.3 -> m <= 28: firing at E+28, resolved at E+29.
    s, e, end = 400, 460, 520
    total = counter((end, 1000))
    errors = counter((s, 0), (e - s, 100), (end - e, 0))
    extra = """\
  alerting:
    name: CustomBurn
    labels: {team: orders}
    annotations: {runbook_url: 'https://runbooks.example.com/orders'}
    burnRates:
    - {severity: page, factor: 10, shortWindow: 10m, longWindow: 90m}
    - {severity: ticket, factor: 2, shortWindow: 30m, longWindow: 6h}
"""
    rules = generate_rules(ratio_slo("custom", "orders", 99.5, extra), tmp_path)
    tiers = (("page", 10.0, 10, 90), ("ticket", 2.0, 30, 360))
    minutes = per_version(
        {s + 38: (), s + 39: ("ticket",), s + 47: ("ticket",), s + 48: ("page", "ticket"),
         e + 7: ("page", "ticket"), e + 8: ("ticket",), e + 29: ("ticket",), e + 30: ()},
        {s + 37: (), s + 39: ("ticket",), s + 46: ("ticket",), s + 48: ("page", "ticket"),
         e + 6: ("page", "ticket"), e + 7: ("ticket",), e + 28: ("ticket",), e + 29: ()},
    )
    expect = expectations("custom", minutes, ratio_of(errors, total), 0.005, tiers=tiers)
    run_promtool(tmp_path, rules, series("orders", errors, minus(total, errors)), "CustomBurn", expect)


def test_minimum_traffic_keeps_a_quiet_service_from_paging_until_it_gets_busy(tmp_path: Path) -> None:
    # minimumTraffic 1 request/s; 50% errors from minute 0 (500x the 0.1% budget: every burn condition holds).
    # 30 requests/min (t5 = 0.5/s) until P = 400, then 120/min (t5 = 2/s). The gate is the average t5
    # over the tier's long window. After P, t5 ramps 0.8, 1.1, 1.4, 1.7 (sum 5) and is 2 from P+5, so at
    # P + m the 1h window holds 61 - m samples of 0.5, the ramp and m - 4 samples of 2:
    #   critical (1h): 0.5 (61 - m) + 5 + 2 (m - 4) = 27.5 + 1.5 m >= 61 -> m >= 22.33: fires at P+23.
    #   warning (6h):  177.5 + 1.5 m >= 361 -> P+123;  info (1d): needs P+483 (the test stops before).
    # Prometheus 3: t5 ramps 0.875, 1.25, 1.625 (sum 3.75) and is 2 from P+4; the 1h window holds 60 - m
    #   samples of 0.5, the ramp and m - 3 samples of 2:
    #   critical (1h): 0.5 (60 - m) + 3.75 + 2 (m - 3) = 27.75 + 1.5 m >= 60 -> m >= 21.5: fires at P+22.
    #   warning (6h):  177.75 + 1.5 m >= 360 -> m >= 121.5: P+122.
    s, p, end = 0, 400, 560
    total = counter((p, 30), (end - p, 120))
    errors = counter((p, 15), (end - p, 60))
    rules = generate_rules(ratio_slo("gated", "quiet", 99.9, "  alerting: {minimumTraffic: 1}\n"), tmp_path)
    good = minus(total, errors)

    def average_total(t: int, w: int) -> bool:
        window = span(t, w)
        return sum(rate5m(total, x) for x in window) / len(window) >= 1

    # A 1d window reaching back to minute 0 also holds the first, extrapolated rates (0.15 .. 0.45); its
    # average stays near 0.9 here, so the model simply treats such windows as below the gate.
    gate = {"gate": lambda t, w: t - w >= 5 and average_total(t, w)}
    # Errors are exactly half of every increment, so every window's ratio is 0.5 (a burn of 500).
    minutes = per_version(
        {s + 90: (), s + 300: (), p: (), p + 22: (), p + 23: ("critical",), p + 122: ("critical",),
         p + 123: ("critical", "warning"), p + 150: ("critical", "warning")},
        {s + 90: (), s + 300: (), p: (), p + 21: (), p + 22: ("critical",), p + 121: ("critical",),
         p + 122: ("critical", "warning"), p + 150: ("critical", "warning")},
    )
    expect = expectations("gated", minutes, lambda t, w: 0.5, 0.001, **gate)
    run_promtool(tmp_path, rules, series("quiet", errors, good), "ErrorBudgetBurn", expect)


def test_timeslices_count_bad_slices_not_bad_requests(tmp_path: Path) -> None:
    # 99% of 5m slices must be good; a slice is good when >= 99% of its requests succeed (bad: ratio > 0.01).
    # 600 requests/min, 6% errors (36/min) from S = 1500 to E = 1560. The 5m ratio is 0.012 at S+1 (already
    # > 0.01) and 0.012 still at E+4, 0 at E+5: slices S+1 .. E+4 are bad, 64 of them.
    # A window's bad fraction = bad slices / (W + 1) samples; budget 1%.
    # critical: 1h: > 14.4 * 0.01 * 61 = 8.784 bad -> 9th bad slice at S+9; 5m: 6 samples, > 0.864 -> 1 bad.
    #           resolves when no bad slice is within 5m: E+10 (E+9 still holds E+4).
    # warning:  6h: > 21.66 -> 22 bad: S+22.  30m: > 1.86 -> needs 2 bad: firing to E+33, resolved E+34.
    # info:     1d: > 43.23 -> 44 bad: S+44.  2h: > 3.63 -> needs 4 bad: firing to E+121, resolved E+122.
    # 6% errors would be a 6x burn by requests (warning only); by slices it is 100x (every slice is bad).
    # Prometheus 3: the 5m ratio is 0.012 at S+1 (0.12/s of errors, not extrapolated from 0, over about 10/s)
    # and 0.015 still at E+3 (one error minute of four), 0 at E+4:
    # slices S+1 .. E+3 are bad, 63 of them. A window's bad fraction = bad slices / W samples.
    # critical: 1h: > 8.64 bad -> 9th bad slice at S+9; 5m: 5 samples, > 0.72 -> 1 bad: firing to E+7
    #           (the 5m window E+3 .. E+7), resolved at E+8.
    # warning:  6h: > 21.6 -> 22 bad: S+22.  30m: > 1.8 -> needs 2 bad (E+2, E+3): firing to E+31, resolved E+32.
    # info:     1d: > 43.2 -> 44 bad: S+44.  2h: > 3.6 -> needs 4 bad (E .. E+3): firing to E+119, resolved E+120.
    s, e, end = 1500, 1560, 1700
    total = counter((end, 600))
    errors = counter((s, 0), (e - s, 36), (end - e, 0))
    extra = "  budgetingMethod: Timeslices\n  timeslice: {window: 5m, target: 0.99}\n"
    rules = generate_rules(ratio_slo("slices", "slices", 99, extra), tmp_path)

    good = minus(total, errors)

    def bad(t: int) -> bool:
        return rate5m(errors, t) / (rate5m(errors, t) + rate5m(good, t)) > 0.01

    def ratio(t: int, w: int) -> float:
        return slice_fraction(bad, t, w)

    minutes = per_version(
        {s + 8: (), s + 9: ("critical",), s + 21: ("critical",), s + 22: ("critical", "warning"),
         s + 43: ("critical", "warning"), s + 44: ("critical", "warning", "info"),
         e + 9: ("critical", "warning", "info"), e + 10: ("warning", "info"), e + 33: ("warning", "info"),
         e + 34: ("info",), e + 121: ("info",), e + 122: ()},
        {s + 8: (), s + 9: ("critical",), s + 21: ("critical",), s + 22: ("critical", "warning"),
         s + 43: ("critical", "warning"), s + 44: ("critical", "warning", "info"),
         e + 7: ("critical", "warning", "info"), e + 8: ("warning", "info"), e + 31: ("warning", "info"),
         e + 32: ("info",), e + 119: ("info",), e + 120: ()},
    )
    expect = expectations("slices", minutes, ratio, 0.01)
    run_promtool(tmp_path, rules, series("slices", errors, minus(total, errors)), "ErrorBudgetBurn", expect)


def test_a_tier_with_for_waits_before_it_pages_and_keep_firing_for_holds_the_page_after_the_burn(
    tmp_path: Path,
) -> None:
    # One tier: page at 14.4x over 1h and 5m, for: 5m, keepFiringFor: 10m. The traffic of the fast-burn
    # scenario above, earlier: 600 requests/min, 100% errors from S = 120 to E = 150 (two clean hours first,
    # so the 1h window is full of real samples). Its worked minutes for the condition carry over unchanged:
    # both windows exceed 14.4x from S+3 (1h sum C(3) = 12 > 8.64; C(2) = 6 is not), and the 5m ratio
    # drops to 0 at E+5 (Prometheus 2) or E+4 (Prometheus 3); the 1h sum stays above its threshold.
    # for: 5m   -> pending at S+3 (activeAt), firing once 5 minutes have passed: at S+8, not at S+7.
    #             (Without for:, the same tier pages at S+3: the fast-burn scenario.)
    # keep_firing_for: 10m -> the first minute the condition is false, F (E+5 or E+4), starts the hold;
    #             the page keeps firing while less than 10 minutes have passed: through F+9, resolved at F+10.
    #             While held, the alert keeps the value (and annotations) of its last true minute, F-1.
    s, e, end = 120, 150, 200
    total = counter((end, 600))
    errors = counter((s, 0), (e - s, 600), (end - e, 0))
    tier = ("    burnRates:\n    - {severity: page, factor: 14.4, shortWindow: 5m, longWindow: 1h, for: 5m,"
            " keepFiringFor: 10m}\n")
    rules = generate_rules(ratio_slo("waits", "waits", 99.9, "  alerting:\n" + tier), tmp_path)
    ratio = ratio_of(errors, total)
    page = (("page", 14.4, 5, 60),)

    def condition(minute: int) -> bool:
        return "page" in model_firing(minute, ratio, 0.001, tiers=page)

    first_false = e + 5 if VERSION < 3 else e + 4
    # The hand-worked condition, checked against the reference model.
    assert not condition(s + 2)
    assert all(condition(t) for t in range(s + 3, first_false))
    assert not any(condition(t) for t in range(first_false, end + 1))

    def burn(minute: int) -> dict[tuple[str, str], float]:
        return {("waits", "page"): ratio(minute, 60) / 0.001}

    expect = [
        Expect(s + 2), Expect(s + 3), Expect(s + 7),  # pending from S+3, nothing firing yet
        Expect(s + 8, burn(s + 8)), Expect(e, burn(e)), Expect(first_false - 1, burn(first_false - 1)),
        Expect(first_false, burn(first_false - 1)),  # the burn is over; the page is held
        Expect(first_false + 9, burn(first_false - 1)),
        Expect(first_false + 10), Expect(end),
    ]
    run_promtool(tmp_path, rules, series("waits", errors, minus(total, errors)), "ErrorBudgetBurn", expect)

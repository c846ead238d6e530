#!/usr/bin/env python3
"""Cost of one scrape of the operator's /metrics for N SLOs and P policies (rendered from snapshots).

    python bench/metrics_scrape.py [--slos 1000] [--policies 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))

from sloguard.adapters.metrics import BudgetSample, OperatorMetrics  # noqa: E402
from sloguard.core.budget import Measurements, compute  # noqa: E402
from sloguard.core.model import Alerting, Objective, RatioSLI  # noqa: E402
from sloguard.core.windows import default_tiers, parse_window  # noqa: E402

NOW = datetime(2025, 3, 11, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    window = parse_window("30d")
    m = Measurements(bad=2, total=1000, error_ratios={w: 0.002 for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")})
    samples = []
    for i in range(args.slos):
        o = Objective(namespace=f"ns-{i % 50}", name=f"slo-{i}", service=f"svc-{i}", objective=0.999, window=window,
                      sli=RatioSLI(total="t", errors="e"), alerting=Alerting(name="ErrorBudgetBurn",
                                                                               tiers=default_tiers(window)))
        samples.append(BudgetSample(o.namespace, o.name, o.service, compute(o, m, NOW), str(i)))
    metrics = OperatorMetrics()
    metrics.budget_source(lambda: samples)
    metrics.refresh_started()
    for i in range(args.policies):
        metrics.policy_seen(f"ns-{i % 50}", f"policy-{i}", {"action": "freeze", "held": 2})
    start = time.perf_counter()
    for _ in range(args.repeat):
        body = metrics.exposition()
    seconds = (time.perf_counter() - start) / args.repeat
    lines = body.count(b"\n")
    print(f"{args.slos} SLOs, {args.policies} policies: {seconds * 1000:.0f} ms per scrape, "
          f"{len(body) / 1024:.0f} KiB, {lines} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())

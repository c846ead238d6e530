"""``sloguard budget --prometheus URL [--at RFC3339] [-o table|json|yaml] FILE|DIR|-...|--from-cluster``

Error budgets of SLOs (files, stdin, or the live objects with ``--from-cluster``), read from
Prometheus (or Thanos, Mimir, VictoriaMetrics) now or at a past instant. Exit codes: 0 figures
printed; 1 invalid SLOs or none; 2 bad arguments or connection settings; 3 Prometheus or the API
server could not be read (unreachable, TLS, credentials, tenant: one line naming the URL).
Connection flags (TLS, bearer token, basic auth, headers): :mod:`sloguard.adapters.prometheus.settings`.
``-o json|yaml`` adds ``errorBudget.byCause`` (:mod:`sloguard.services.causes`; releases 0: no rollouts
are read here).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from ..adapters.prometheus import BudgetReader, PrometheusError, SLAReader, add_arguments
from ..core.budget import MIN_BUDGET_COVERAGE, BudgetStatus, Thresholds, to_json
from ..core.causes import ByCause
from ..services.causes import measure_causes
from ..services.ports import ContractMaintenance, Rollouts
from .cluster import cluster_contracts, cluster_rollouts, declared_from_cluster
from .common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    Unreachable,
    add_cluster_arguments,
    add_output_argument,
    add_paths_argument,
    dumps,
    prometheus_settings,
    read_objectives,
)

_COLOURS = {
    "healthy": "\x1b[32m",
    "warning": "\x1b[33m",
    "critical": "\x1b[31m",
    "exhausted": "\x1b[1;31m",
    "unknown": "\x1b[2m",
}
_RESET = "\x1b[0m"


def parse_instant(text: str) -> datetime:
    """RFC 3339 (``2025-03-31T12:00:00Z``, ``...+02:00``); a naive time is taken as UTC."""
    try:
        when = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an RFC 3339 time like 2025-03-31T12:00:00Z") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _fraction(value: float | None) -> str:
    return "-" if value is None else f"{value:.4%}" if abs(value) < 0.9999995 else f"{value:.2%}"


def _percent(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}%}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    sign, value = ("-" if value < 0 else ""), abs(value)
    if value < 60:
        return f"{sign}{value:.0f}s"
    if value < 3600:
        return f"{sign}{value / 60:.1f}m"
    if value < 172800:
        return f"{sign}{value / 3600:.1f}h"
    return f"{sign}{value / 86400:.1f}d"


def _burn(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table(statuses: Sequence[BudgetStatus], colour: bool) -> str:
    """Aligned columns, one SLO a row; states coloured when ``colour``."""
    head = [
        "NAMESPACE",
        "NAME",
        "SERVICE",
        "OBJECTIVE",
        "WINDOW",
        "SLI",
        "CONSUMED",
        "REMAINING",
        "LEFT",
        "BURN 5M",
        "BURN 1H",
        "BURN 6H",
        "ETA",
        "SCORE",
        "DATA",
        "STATE",
    ]
    rows = [head]
    for s in statuses:
        o = s.slo
        rows.append(
            [
                o.namespace,
                o.name,
                o.service,
                f"{o.objective * 100:g}%",
                o.window.text + (" (slices)" if o.budgeting_method == "Timeslices" else ""),
                _fraction(s.sli),
                _percent(s.consumed),
                _percent(s.remaining),
                _seconds(s.remaining_seconds),
                _burn(s.burn_rates.get("5m")),
                _burn(s.burn_rates.get("1h")),
                _burn(s.burn_rates.get("6h")),
                _seconds(s.time_to_exhaustion_seconds),
                "-" if s.health_score is None else str(s.health_score),
                _percent(s.coverage, 4 if s.coverage is not None and s.coverage < MIN_BUDGET_COVERAGE else 1),
                s.state + (" (stale)" if s.stale else ""),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for n, r in enumerate(rows):
        cells = [c.ljust(w) for c, w in zip(r, widths, strict=True)]
        if colour and n > 0:
            state = statuses[n - 1].state
            cells[-1] = f"{_COLOURS.get(state, '')}{cells[-1]}{_RESET}"
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def by_cause(statuses: Sequence[BudgetStatus], counts: SLAReader, contracts: ContractMaintenance | None = None,
             rollouts: Rollouts | None = None) -> list[ByCause | None]:
    """Each budget split by cause: maintenance from the SLO's spec, and with ``--from-cluster`` from
    the live SLAContracts and rollouts from the workloads' revisions (as the operator reads them);
    without a cluster releases count as 0 (said on stderr when an SLO links workloads)."""
    out: list[ByCause | None] = []
    for status in statuses:
        split = measure_causes(status.slo, status, counts, None, rollouts, contracts)
        if split.error:
            print(f"sloguard budget: {status.slo.key}: {split.error}", file=sys.stderr)
        out.append(split.by_cause)
    if rollouts is None and any(s.slo.causes.workloads for s in statuses):
        print("sloguard budget: byCause: rollouts of spec.workloads are read only with --from-cluster, releases "
              "count as 0", file=sys.stderr)
    return out


def _use_colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "budget",
        help="error budgets of SLO files, read from Prometheus",
        description="Error budgets of SLOs (files or directories of YAML), measured in Prometheus "
        "now or at a past instant (--at). Works with Thanos Querier, Mimir and VictoriaMetrics too.",
    )
    p.add_argument("--at", type=parse_instant, metavar="RFC3339", help="evaluate at this instant (default: now)")
    add_output_argument(p, ("table", "json", "yaml"), "table")
    p.add_argument("--warning", type=float, default=0.25, help="remaining share below which state is warning")
    p.add_argument("--critical", type=float, default=0.10, help="remaining share below which state is critical")
    p.add_argument("--timeout", dest="prometheus_timeout", type=float, metavar="SECONDS",
                   help="same as --prometheus-timeout")
    add_arguments(p)
    add_cluster_arguments(p, "ServiceLevelObjectives")
    add_paths_argument(p, "ServiceLevelObjectives", optional=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    objectives = read_objectives(args)
    if objectives is None:
        return EXIT_FINDINGS
    settings = prometheus_settings("budget", args)
    if settings is None:
        return EXIT_USAGE
    at = args.at or datetime.now(UTC)
    contracts = cluster_contracts(args, at)
    objectives = declared_from_cluster(objectives, args, at)
    try:
        reader = BudgetReader.connect(settings)
        try:
            statuses = reader.evaluate(objectives, at, Thresholds(warning=args.warning, critical=args.critical))
            causes = by_cause(statuses, SLAReader(reader.client), contracts, cluster_rollouts(args))
        finally:
            reader.close()
    except PrometheusError as e:
        raise Unreachable(str(e)) from None
    if args.output in ("json", "yaml"):
        out = to_json(statuses)
        for row, split in zip(out, causes, strict=True):
            row["errorBudget"]["byCause"] = None if split is None else split.to_dict(10)
        sys.stdout.write(dumps(out, args.output, allow_nan=False))
    else:
        sys.stdout.write(table(statuses, _use_colour(sys.stdout)))
    return 0


"""Everything sloguard reads from Prometheus (or Thanos, Mimir, Cortex, VictoriaMetrics).

One client for every reader, in layers a newcomer can follow from the bottom up:

* :mod:`.errors`: our exceptions (unreachable, query refused, bad settings);
* :mod:`.settings`: :class:`PrometheusSettings`, from ``--prometheus*`` flags over
  ``SLOGUARD_PROMETHEUS_*`` (one truthiness rule), and the argparse wiring;
* :mod:`.client`: :class:`PrometheusClient`, the one client: TLS, credentials read from files,
  tenant headers, retries, and every failure mapped to :mod:`.errors` with a line a person can
  act on;
* :mod:`.plan` (pure): the PromQL of each figure and typed requests saying what each value answers;
* :mod:`.batching`: many figures in a few requests (tag, union, chunk, bisect refusals);
* :mod:`.cache` (no I/O): the hourly window cache of the budget reader;
* the readers: :mod:`.budget_reader` (live error budgets), :mod:`.sla_reader` (a contract's
  month; also the counts behind ``sloguard impact``), :mod:`.report_reader` (an SLO's calendar
  period).
"""

from .budget_reader import BudgetReader, Refresh
from .client import PrometheusClient, PrometheusSession
from .errors import PrometheusError, PrometheusQueryError, PrometheusSettingsError, PrometheusUnavailable
from .report_reader import read_report
from .settings import (
    FLAGS,
    PrometheusSettings,
    add_arguments,
    load_settings,
    parse_headers,
    settings_for,
    settings_from_args,
    to_env,
)
from .sla_reader import MonthMeasurements, SLAReader

__all__ = [
    "FLAGS",
    "BudgetReader",
    "MonthMeasurements",
    "PrometheusClient",
    "PrometheusError",
    "PrometheusQueryError",
    "PrometheusSession",
    "PrometheusSettings",
    "PrometheusSettingsError",
    "PrometheusUnavailable",
    "Refresh",
    "SLAReader",
    "add_arguments",
    "load_settings",
    "parse_headers",
    "read_report",
    "settings_for",
    "settings_from_args",
    "to_env",
]

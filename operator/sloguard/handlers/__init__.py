"""kopf handlers. Importing this package registers them (``kopf run -m sloguard.handlers``).

Feature switches (the chart's ``features.*``) decide which kinds are watched at all: a disabled
feature registers no handler, so the operator needs no RBAC for it.
"""

import os

from . import budget, metrics, slo, startup  # noqa: F401


def _enabled(name: str) -> bool:
    return os.environ.get(name, "true").strip().lower() not in ("false", "0", "no")


if _enabled("SLOGUARD_POLICIES"):
    from .policy import policy_startup as _policy  # noqa: F401  (registers the ErrorBudgetPolicy handlers)
    metrics.watch_policies()
if _enabled("SLOGUARD_SLO_REPORTS"):
    from . import report as _report  # noqa: F401  (finalized SLO month reports; needs a Prometheus URL)
if _enabled("SLOGUARD_SLA"):
    from . import sla as _sla  # noqa: F401  (registers the SLAContract handlers)
    metrics.watch_contracts()

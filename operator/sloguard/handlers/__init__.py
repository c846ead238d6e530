"""kopf handlers. Importing this package registers them (``kopf run -m sloguard.handlers``).

Feature switches (the chart's ``features.*``) decide which kinds are watched at all: a disabled
feature registers no handler, so the operator needs no RBAC for it.
"""

from ..adapters.settings import features
from . import budget, metrics, slo, startup  # noqa: F401

#: SLOGUARD_POLICIES / SLOGUARD_SLO_REPORTS / SLOGUARD_SLA, by the one rule of every setting
#: (docs/settings.md); ``sloguard run`` exports its flags' values before importing this package.
_policies, _slo_reports, _sla_enabled = features()

if _policies:
    from .policy import policy_startup as _policy  # noqa: F401  (registers the ErrorBudgetPolicy handlers)
    metrics.watch_policies()
if _slo_reports:
    from . import report as _report  # noqa: F401  (finalized SLO month reports; needs a Prometheus URL)
if _sla_enabled:
    from . import sla as _sla  # noqa: F401  (registers the SLAContract handlers)
    metrics.watch_contracts()

"""kopf handlers. Importing this package registers them (``kopf run -m sloguard.handlers``)."""

from . import budget, slo, startup  # noqa: F401
from . import sla as _sla  # noqa: F401  (registers the SLAContract handlers)
from .policy import policy_startup as _policy  # noqa: F401  (registers the ErrorBudgetPolicy handlers)

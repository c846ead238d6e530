"""Security suite fixtures: the e2e local control plane and the packaging suite's helm, reused.

Attacks run as impersonated users (``kubectl --as/--as-group``) whose rights come from real RBAC,
against the chart's own admission policies and roles (rendered with helm, applied as installed).
"""

from __future__ import annotations

from ..e2e.conftest import cluster  # noqa: F401  (the e2e session's control plane fixture)
from ..packaging.conftest import helm  # noqa: F401  (helm from hack/build-k8s.sh)

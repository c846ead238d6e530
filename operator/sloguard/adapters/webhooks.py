"""The ValidatingWebhookConfiguration for sloguard's own kinds.

We build it ourselves instead of letting kopf manage it: kopf hard-codes a 30 s timeout and
``Fail``-or-``Ignore`` per handler; ours is tightly scoped (our group, CREATE/UPDATE), short
(5 s) and ``Ignore`` by default, so an operator outage never blocks anyone's ``kubectl apply``.
"""

from __future__ import annotations

import base64
from typing import Any

from ..core import conventions as c

#: kopf serves each handler at ``/<handler id>``; these ids are the paths.
VALIDATE_SLO_ID = "validate-slo"
GOVERN_POLICY_ID = "govern-policy"


def client_config(handler_id: str, *, ca_bundle: bytes, url_base: str | None = None,
                  service: tuple[str, str, int] | None = None) -> dict[str, Any]:
    cfg: dict[str, Any] = {"caBundle": base64.b64encode(ca_bundle).decode()}
    if url_base:
        cfg["url"] = f"{url_base.rstrip('/')}/{handler_id}"
    elif service:
        name, namespace, port = service
        cfg["service"] = {"name": name, "namespace": namespace, "port": port, "path": f"/{handler_id}"}
    else:
        raise ValueError("a webhook needs a URL or a Service")
    return cfg


def validating_configuration(name: str, *, ca_bundle: bytes, url_base: str | None = None,
                             service: tuple[str, str, int] | None = None, failure_policy: str = "Ignore",
                             timeout_seconds: int = 5, govern_policies: bool = False) -> dict[str, Any]:
    webhooks = [
        {
            "name": f"slo.{c.GROUP}",
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "failurePolicy": failure_policy,
            "matchPolicy": "Equivalent",
            "timeoutSeconds": timeout_seconds,
            "rules": [{
                "apiGroups": [c.GROUP],
                "apiVersions": [c.VERSION],
                "resources": [c.PLURAL_SLO],
                "operations": ["CREATE", "UPDATE"],
                "scope": "Namespaced",
            }],
            "clientConfig": client_config(VALIDATE_SLO_ID, ca_bundle=ca_bundle, url_base=url_base, service=service),
        }
    ]
    if govern_policies:
        webhooks.append(policy_governance_webhook(ca_bundle=ca_bundle, url_base=url_base, service=service,
                                                  failure_policy=failure_policy, timeout_seconds=timeout_seconds))
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        # No labels: the chart owns this object (Helm's ownership labels, deleted by `helm
        # uninstall`); the operator fills in the webhooks, the one field it applies.
        "metadata": {"name": name},
        "webhooks": webhooks,
    }


def policy_governance_webhook(*, ca_bundle: bytes, url_base: str | None, service: tuple[str, str, int] | None,
                              failure_policy: str, timeout_seconds: int) -> dict[str, Any]:
    """Governed policies under the webhook mechanism: UPDATE/DELETE of ErrorBudgetPolicies.

    The same check as the chart's ValidatingAdmissionPolicy (``sloguard.adapters.governance_policy``),
    for clusters or installs without it.
    """
    return {
        "name": f"policy-governance.{c.GROUP}",
        "admissionReviewVersions": ["v1"],
        "sideEffects": "None",
        "failurePolicy": failure_policy,
        "matchPolicy": "Equivalent",
        "timeoutSeconds": timeout_seconds,
        "rules": [{"apiGroups": [c.GROUP], "apiVersions": [c.VERSION], "resources": [c.PLURAL_POLICY],
                   "operations": ["UPDATE", "DELETE"], "scope": "Namespaced"}],
        "clientConfig": client_config(GOVERN_POLICY_ID, ca_bundle=ca_bundle, url_base=url_base, service=service),
    }

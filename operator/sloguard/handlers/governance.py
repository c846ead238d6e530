"""Governed policies under the webhook mechanism: the chart's CEL check, answered by the operator.

Weakening or deleting a holding ErrorBudgetPolicy needs ``override`` on it
(:mod:`sloguard.core.governance`); permission comes from a SubjectAccessReview for the requester.
The decision reads only the AdmissionReview's old and new object — nothing is recorded from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from ..adapters import admission_policy as vap
from ..adapters.webhooks import GOVERN_POLICY_ID
from ..api.governance import review
from ..core import conventions as c
from ..core.governance import OVERRIDE_VERB
from .context import context

POLICY = (c.GROUP, c.VERSION, c.PLURAL_POLICY)


def register_governance_webhook() -> None:
    """Serve the check (only when the webhook runs and is the configured enforcement mechanism)."""
    kopf.on.validate(*POLICY, id=GOVERN_POLICY_ID, operations=["UPDATE", "DELETE"])(admit_policy_change)


def admit_policy_change(*, operation: str = "", old: kopf.Body | None = None, new: kopf.Body | None = None,
                        subresource: str | None, userinfo: Mapping[str, Any], warnings: list[str], memo: kopf.Memo,
                        **_: Any) -> None:
    if subresource:
        return
    user = str(userinfo.get("username") or "")
    found = review(operation, dict(old) if old is not None else None, dict(new) if new is not None else None, user)
    if found is None:
        return
    what, message = found
    meta: Mapping[str, Any] = old.get("metadata") or {} if old is not None else {}
    ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    if vap.may(context(memo).kube, user, list(userinfo.get("groups") or []), OVERRIDE_VERB, ns, name,
               extra=userinfo.get("extra")):
        warnings.append(f"ErrorBudgetPolicy {ns}/{name} is holding: {what} allowed by '{OVERRIDE_VERB}' of {user}")
        return
    raise kopf.AdmissionError(message, code=403)

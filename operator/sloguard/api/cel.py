"""CEL, the Kubernetes API server's expression language: the one place we write its literals and rules.

Used by the CRD schemas (``x-kubernetes-validations``, :mod:`sloguard.api`) and by the
ValidatingAdmissionPolicies the operator and the chart install (:mod:`sloguard.adapters.admission_policy`,
:mod:`sloguard.adapters.governance_policy`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def string(text: str) -> str:
    """A CEL string literal. JSON string escaping is valid CEL (double quotes, ``\\"``, ``\\\\``, ``\\uXXXX``)."""
    return json.dumps(text)


def string_list(items: Iterable[str]) -> str:
    """A CEL list of string literals, e.g. ``["a", "b"]``."""
    return json.dumps(list(items))


def validations(*rules: tuple[str, str]) -> dict[str, Any]:
    """``x-kubernetes-validations`` for a schema node: (CEL rule, message shown when it is false) pairs."""
    return {"x-kubernetes-validations": [{"rule": r, "message": m} for r, m in rules]}

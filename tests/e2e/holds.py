"""The chart's hold admission policy, for e2e sessions that run the operator without the chart.

The chart installs one ValidatingAdmissionPolicy (its spec generated from
``sloguard.adapters.admission_policy.holds_policy_spec``), three bindings and the params guard;
these helpers apply the very same objects from the same source. Cluster-scoped and idempotent:
every e2e module calls :func:`install_hold_policy` and shares them.
"""

from __future__ import annotations

import json

import yaml

from sloguard.adapters import admission_policy as vap

from .conftest import TestCluster

POLICY_NAME = "sloguard-e2e-holds"
GUARD_NAME = "sloguard-e2e-holds-guard"


def whoami(cluster: TestCluster, *who: str) -> str:
    out = cluster.kubectl(*who, "auth", "whoami", "-o", "json").stdout
    return str(json.loads(out)["status"]["userInfo"]["username"])


def install_hold_policy(cluster: TestCluster) -> str:
    """Apply the hold policy, its bindings and the params guard (the operator runs as the admin user)."""
    docs = [vap.holds_policy(POLICY_NAME), *vap.holds_bindings(POLICY_NAME),
            vap.params_guard_policy(GUARD_NAME, whoami(cluster)), vap.params_guard_binding(GUARD_NAME)]
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=yaml.safe_dump_all(docs))
    return POLICY_NAME


def hold_params(cluster: TestCluster, namespace: str, policy: str) -> dict:
    """The ErrorBudgetHold the operator writes for ``policy`` ({} when there is none)."""
    proc = cluster.kubectl("get", "errorbudgethold", "-n", namespace, policy, "-o", "json", "--ignore-not-found")
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


def enforcement(cluster: TestCluster, namespace: str, policy: str) -> str | None:
    """Which binding reads the policy's hold: Deny, Warn, Audit, none; None without a hold object."""
    params = hold_params(cluster, namespace, policy)
    return (params.get("metadata", {}).get("labels") or {}).get("sloguard.io/enforcement") if params else None

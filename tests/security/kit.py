"""Helpers of the security suite: impersonated users, their RoleBindings, policy edits as them."""

from __future__ import annotations

import json

from ..e2e.conftest import TestCluster
from ..support import factories
from ..support.cluster import get_json
from .governance_cases import SLO

#: Bound to the built-in ``admin`` ClusterRole in the namespace: manages ErrorBudgetPolicies
#: (through the chart's aggregated sloguard-admin) and Deployments, has no ``override``.
BOB = ("--as=bob", "--as-group=devs")
#: ``admin`` too, plus the chart's ``sloguard-freeze-override``.
ALICE = ("--as=alice", "--as-group=devs")


def expected_denial(ns: str, name: str, action: str, paths: tuple[str, ...]) -> str:
    """The message docs/security.md promises for a refused weakening."""
    return (f"ErrorBudgetPolicy {ns}/{name} is holding ({action}): weakening {', '.join(paths)} needs 'override' "
            f"on errorbudgetpolicies/{name} in {ns}. Tightening it stays allowed.")


def policy(name: str, ns: str, spec: dict) -> dict:
    return factories.policy(name, ns, spec)


def set_policy_status(cluster: TestCluster, ns: str, name: str, action: str) -> None:
    """What the operator writes (as cluster admin: no namespace role may write policy status)."""
    cluster.kubectl("patch", "ebp", "-n", ns, name, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": {"action": action, "level": "exhausted" if action != "none"
                                                 else "healthy"}}))


def replace_spec(cluster: TestCluster, ns: str, name: str, spec: dict, *who: str, dry_run: bool = True):
    """``kubectl replace`` of the whole spec (so removed fields are removed) as ``who``."""
    obj = get_json(cluster, "ebp", "-n", ns, name)
    obj["spec"] = spec
    obj.pop("status", None)
    args = ["replace", "-f", "-", *(["--dry-run=server"] if dry_run else [])]
    return cluster.kubectl(*who, *args, input=json.dumps(obj), check=False)


def rbac(ns: str, role: str = "admin") -> list[dict]:
    """Group ``devs`` (bob, alice) bound to the built-in ``role``; alice also to the override role."""
    def binding(name: str, role: str, kind: str, subject: str) -> dict:
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": subject}]}
    return [binding(f"devs-{role}", role, "Group", "devs"),
            binding("alice-override", "sloguard-freeze-override", "User", "alice")]


def can_i(cluster: TestCluster, verb: str, resource: str, ns: str, *who: str) -> bool:
    proc = cluster.kubectl("auth", "can-i", verb, resource, "-n", ns, *who, check=False)
    return proc.stdout.strip() == "yes"


def slo(ns: str) -> dict:
    return factories.slo(SLO, ns)


def deployment(ns: str, image: str = "nginx:1.25") -> dict:
    return factories.deployment("checkout", ns, image=image)


def set_budget(cluster: TestCluster, ns: str, remaining_percent: float) -> None:
    """What the budget refresher writes into the SLO's status (the Prometheus path is tested elsewhere)."""
    status = {"budget": {"remaining": remaining_percent / 100, "remainingPercent": remaining_percent},
              "burnRates": {"1h": 1.0}, "state": "exhausted" if remaining_percent <= 0 else "healthy",
              "lastEvaluated": "2025-03-11T00:00:00Z"}
    cluster.kubectl("patch", "slo", "-n", ns, SLO, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": status}))


def set_image(cluster: TestCluster, ns: str, image: str, *who: str, dry_run: bool = False):
    return cluster.kubectl(*who, "set", "image", "-n", ns, "deployment/checkout", f"app={image}",
                           *(["--dry-run=server"] if dry_run else []), check=False)

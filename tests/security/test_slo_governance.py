"""SLOs read by a holding policy, attacked by an editor: moving the budget instead of the policy.

An editor (built-in ``edit``) may manage SLOs but not policies. While an ErrorBudgetPolicy holds,
the SLOs it reads decide when the freeze lifts: lowering the objective, changing the window or
SLI, relabelling the SLO out of the policy's selector, or deleting it would lift it. The chart's
``sloguard-slo-governance`` policy (evaluated once per ErrorBudgetPolicy of the namespace)
refuses those without ``override`` on the holding policy. Requests are server-side dry runs;
the policies' status is set as the operator writes it.
"""

from __future__ import annotations

import json

import pytest
import yaml

from ..e2e.conftest import TestCluster
from ..support import factories
from .chart_objects import apply_chart_objects
from .governance_cases import TARGET
from .kit import ALICE, BOB, can_i, policy, rbac, set_policy_status

pytestmark = pytest.mark.e2e

NS = "sec-slo-governance"


#: What the held SLO's split by cause reads (docs/budget-causes.md).
CAUSES_SPEC = {"workloads": [{"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"}}}],
               "releaseSettle": "30m"}


def slo(name: str, labels: dict[str, str] | None = None, **extra: object) -> dict:
    return factories.resource("ServiceLevelObjective", name, NS,
                              {"service": "checkout", "objective": 99.9, "window": "30d", "description": "checkout",
                               "sli": {"ratio": dict(factories.CHECKOUT_RATIO)}, **extra}, labels=labels or {})


@pytest.fixture(scope="module")
def held(cluster: TestCluster, helm: str) -> None:
    apply_chart_objects(cluster, helm)
    cluster.kubectl("create", "namespace", NS)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([
        *rbac(NS, role="edit"),
        slo("by-name", **CAUSES_SPEC), slo("by-selector", {"team": "shop"}), slo("unread"), slo("idle-read"),
        policy("freeze-by-name", NS, {"slos": ["by-name"], "targets": [TARGET]}),
        policy("freeze-by-selector", NS, {"sloSelector": {"matchLabels": {"team": "shop"}}, "targets": [TARGET]}),
        policy("idle", NS, {"slos": ["idle-read"], "targets": [TARGET]}),
    ]))
    for name in ("freeze-by-name", "freeze-by-selector"):
        set_policy_status(cluster, NS, name, "freeze")
    set_policy_status(cluster, NS, "idle", "none")
    cluster.wait_until(lambda: can_i(cluster, "patch", "servicelevelobjectives.sloguard.io", NS, *BOB),
                       timeout=60, what="bob's edit role to include SLOs (aggregation)")
    cluster.wait_until(lambda: patch(cluster, "by-name", {"spec": {"objective": 50}}, *BOB).returncode != 0,
                       timeout=30, what="the SLO governance policy to be enforced")


def patch(cluster: TestCluster, name: str, body: dict, *who: str):
    return cluster.kubectl(*who, "patch", "slo", "-n", NS, name, "--type=merge", "-p", json.dumps(body),
                           "--dry-run=server", check=False)


def denial(slo_name: str, policy_name: str, what: str) -> str:
    return (f"ServiceLevelObjective {NS}/{slo_name} is read by ErrorBudgetPolicy {NS}/{policy_name}, which is "
            f"holding (freeze): {what} needs 'override' on errorbudgetpolicies/{policy_name} in {NS}.")


REFUSED = {
    "objective-lowered": ("by-name", {"spec": {"objective": 99.0}}, "freeze-by-name", "changing spec.objective"),
    "window-changed": ("by-name", {"spec": {"window": "7d"}}, "freeze-by-name", "changing spec.window"),
    "sli-changed": ("by-name", {"spec": {"sli": {"ratio": {"errors": 'http_requests_total{job="none"}'}}}},
                    "freeze-by-name", "changing spec.sli"),
    "relabelled-out-of-the-selector": ("by-selector", {"metadata": {"labels": {"team": "other"}}},
                                       "freeze-by-selector", "changing metadata.labels"),
    "selector-slo-objective-lowered": ("by-selector", {"spec": {"objective": 90}}, "freeze-by-selector",
                                       "changing spec.objective"),
    # The split by cause a `when: {cause, consumedAbove}` level holds on (docs/budget-causes.md):
    # a window over last week's outage moves its bad events from incidents to maintenance ...
    "retroactive-maintenance-window": (
        "by-name", {"spec": {"maintenance": {"windows": [
            {"start": "2026-01-01T00:00:00Z", "end": "2026-01-08T00:00:00Z", "description": "oops"}]}}},
        "freeze-by-name", "changing spec.maintenance"),
    # ... a 1-second settle time or other workloads move them between releases and incidents.
    "release-settle-shrunk": ("by-name", {"spec": {"releaseSettle": "1s"}}, "freeze-by-name",
                              "changing spec.releaseSettle"),
    "workloads-dropped": ("by-name", {"spec": {"workloads": None}}, "freeze-by-name", "changing spec.workloads"),
    "workloads-changed": ("by-name", {"spec": {"workloads": [{"kind": "Deployment",
                                                             "selector": {"matchLabels": {"app": "other"}}}]}},
                          "freeze-by-name", "changing spec.workloads"),
    "workloads-added": ("by-selector", {"spec": {"workloads": CAUSES_SPEC["workloads"]}}, "freeze-by-selector",
                        "changing spec.workloads"),
}


@pytest.mark.parametrize("attack", list(REFUSED), ids=list(REFUSED))
def test_an_editor_cannot_move_the_budget_of_a_held_slo(cluster, held, attack):
    name, body, policy_name, what = REFUSED[attack]
    proc = patch(cluster, name, body, *BOB)
    assert proc.returncode != 0, f"{attack} admitted"
    assert denial(name, policy_name, what) in proc.stderr, proc.stderr


def test_an_editor_cannot_delete_a_held_slo(cluster, held):
    proc = cluster.kubectl(*BOB, "delete", "slo", "-n", NS, "by-name", "--dry-run=server", check=False)
    assert proc.returncode != 0 and denial("by-name", "freeze-by-name", "deleting it") in proc.stderr, proc.stderr


FREE = {
    "objective-raised": ("by-name", {"spec": {"objective": 99.95}}),
    "alerting-and-description": ("by-name", {"spec": {"description": "the checkout promise",
                                                      "alerting": {"annotations": {"runbook_url": "https://r"}}}}),
    "label-kept-in-the-selector": ("by-selector", {"metadata": {"labels": {"tier": "gold"}}}),
    "slo-no-policy-reads": ("unread", {"spec": {"objective": 50, "window": "7d", "releaseSettle": "1s"}}),
    "slo-read-by-a-policy-that-holds-nothing": ("idle-read", {"spec": {"objective": 50}}),
}


@pytest.mark.parametrize("change", list(FREE), ids=list(FREE))
def test_changes_that_cannot_lift_a_hold_stay_free(cluster, held, change):
    name, body = FREE[change]
    proc = patch(cluster, name, body, *BOB)
    assert proc.returncode == 0, proc.stderr


def test_the_override_holder_may_change_and_delete_a_held_slo(cluster, held):
    for name, body, _, _ in REFUSED.values():
        proc = patch(cluster, name, body, *ALICE)
        assert proc.returncode == 0, proc.stderr
    proc = cluster.kubectl(*ALICE, "delete", "slo", "-n", NS, "by-name", "--dry-run=server", check=False)
    assert proc.returncode == 0, proc.stderr

"""Late maintenance excuses nothing, attacked as a team member with ordinary rights would.

A team whose ErrorBudgetPolicy freezes on its incidents share (``when: {cause: incidents,
consumedAbove: 50}``) could lift the freeze without touching the policy: declare a maintenance
window over last week's outage — on its SLO, or on an SLAContract listing the service — and the
outage's bad events would move from incidents to maintenance. Two defences, both on the real API
server with the real operator and a real Prometheus:

* a maintenance window counts only from when the operator first saw it (``status.maintenanceSeen``),
  so a retroactive window is admitted where nobody holds the SLO but moves nothing;
* an SLO a holding policy reads cannot have its maintenance changed without ``override``
  (the chart's slo-governance policy); with it, the window is admitted and still moves nothing.

The history is the integration suite's (an outage at 50% errors from 21:30, under way at ``T`` =
22:15 on 30 March 2025); the operator evaluates at ``T``. "Moves nothing" is proven against the
operator's own recomputation: after the window is recorded, ``byCause`` is overwritten with a
marker (as cluster admin, the way the operator writes status) and the test waits until the budget
loop has written its figures back — which must equal the figures from before the attack.
Users are impersonated: ``bob`` has the built-in ``edit`` role, ``alice`` also ``override``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ..packaging.conftest import helm  # noqa: F401  (helm from hack/build-k8s.sh, for the chart's policies)
from ..security.chart_objects import apply_chart_objects
from ..security.governance_cases import TARGET
from ..security.kit import ALICE, BOB, can_i, rbac
from ..support import factories
from ..support.cluster import apply, get_json
from ..support.operator import Operator, running_operator
from .conftest import TestCluster

pytestmark = pytest.mark.e2e

NS = "e2e-late-maintenance"
T = datetime(2025, 3, 30, 22, 15, tzinfo=UTC)
CHECKOUT = {"errors": 'http_requests_total{service="checkout",code="500"}',
            "total": 'http_requests_total{service="checkout"}'}
#: Over the outage (21:30 on), written after the fact.
LATE = {"start": "2025-03-30T21:00:00Z", "end": "2025-03-30T22:15:00Z", "description": "planned, honestly"}
POLICY = "incidents-freeze"


def slo(name: str) -> dict:
    return factories.slo(name, NS, service="checkout", objective=99.9, window="1d", sli={"ratio": CHECKOUT})


def contract(name: str, windows: list[dict]) -> dict:
    return factories.resource("SLAContract", name, NS, {
        "customer": {"id": name}, "contractId": f"C-{name}", "fee": {"monthly": 100}, "services": ["checkout"],
        "maintenance": {"windows": windows},
        "terms": [{"name": "availability", "type": "availability", "objective": 99.9, "sli": {"ratio": CHECKOUT},
                   "credits": [{"below": 99.9, "percent": 10}]}]})


OBJECTS = [
    *rbac(NS, role="edit"),
    slo("free"), slo("held"),
    factories.policy(POLICY, NS, {
        "slos": ["held"], "targets": [TARGET], "burnRates": [],
        "levels": [{"name": "incidents-over-half", "when": {"cause": "incidents", "consumedAbove": 50},
                    "action": "freeze"}]}),
    # a contract with a window planned ahead (the day after the history), edited late below
    contract("acme", [{"start": "2025-03-31T02:00:00Z", "end": "2025-03-31T03:00:00Z"}]),
]


def status(cluster: TestCluster, kind: str, name: str) -> dict:
    return get_json(cluster, kind, "-n", NS, name).get("status") or {}


def by_cause(cluster: TestCluster, name: str) -> dict | None:
    return (status(cluster, "slo", name).get("budget") or {}).get("byCause")


def action(cluster: TestCluster) -> str | None:
    return status(cluster, "ebp", POLICY).get("action")


@pytest.fixture(scope="module")
def operator(cluster: TestCluster, helm: str, prometheus) -> Iterator[Operator]:  # noqa: F811
    """The operator (watching NS) running at ``T``, restartable."""
    cluster.kubectl("create", "namespace", NS)
    apply_chart_objects(cluster, helm)
    apply(cluster, *OBJECTS)
    env = {"SLOGUARD_PROMETHEUS_URL": prometheus.url, "SLOGUARD_EVALUATE_AT": T.isoformat(),
           "SLOGUARD_REFRESH_INTERVAL": "1", "SLOGUARD_WEBHOOK": "false",
           "SLOGUARD_ENFORCEMENT": "none"}  # holds in status only: the attack here is on the budget
    with running_operator(NS, env) as op:
        yield op


@pytest.fixture(scope="module")
def before(cluster: TestCluster, operator: Operator) -> dict[str, dict]:
    """Each SLO's byCause before any attack, once the policy freezes on the incidents share."""
    for name in ("free", "held"):
        cluster.wait_until(lambda n=name: by_cause(cluster, n) is not None, timeout=120, interval=1,
                           what=f"status.budget.byCause of {name}")
    cluster.wait_until(lambda: action(cluster) == "freeze", timeout=60, interval=1,
                       what="the policy to freeze on the incidents share")
    cluster.wait_until(lambda: can_i(cluster, "patch", "servicelevelobjectives.sloguard.io", NS, *BOB),
                       timeout=60, what="bob's edit role to include SLOs (aggregation)")
    first = {n: by_cause(cluster, n) for n in ("free", "held")}
    # the outage is in: incidents far above half the budget, no maintenance
    assert all(x is not None and x["incidents"] > 0.5 and x["maintenance"] == 0 for x in first.values()), first
    return first  # type: ignore[return-value]


def add_window(cluster: TestCluster, name: str, *who: str):
    return cluster.kubectl(*who, "patch", "slo", "-n", NS, name, "--type=merge",
                           "-p", json.dumps({"spec": {"maintenance": {"windows": [LATE]}}}), check=False)


def recorded(cluster: TestCluster, kind: str, name: str, window: dict) -> str | None:
    """When the operator first saw ``window`` of that object (status.maintenanceSeen), if it has."""
    for x in status(cluster, kind, name).get("maintenanceSeen") or []:
        if (x["start"], x["end"]) == (window["start"], window["end"]):
            return str(x["firstSeen"])
    return None


def seen_after(cluster: TestCluster, kind: str, name: str, since: datetime) -> None:
    """Wait for the record of LATE; it says when the operator saw it (now), never the window's start."""
    cluster.wait_until(lambda: recorded(cluster, kind, name, LATE) is not None, timeout=60, interval=0.5,
                       what=f"the operator to record when it first saw the window of {kind} {name}")
    seen = datetime.fromisoformat(str(recorded(cluster, kind, name, LATE)).replace("Z", "+00:00"))
    assert seen >= since - timedelta(seconds=1), (seen, since)  # the record has whole seconds


def recomputed(cluster: TestCluster, name: str, marker: dict) -> dict:
    """Overwrite byCause with ``marker``, wait until the budget loop has written its own figures back."""
    cluster.kubectl("patch", "slo", "-n", NS, name, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": {"budget": {"byCause": marker}}}))
    cluster.wait_until(lambda: by_cause(cluster, name) not in (None, marker), timeout=60, interval=0.5,
                       what=f"the budget loop to recompute byCause of {name}")
    got = by_cause(cluster, name)
    assert got is not None
    return got


#: Not a split the operator can write (maintenance is 0 before the attack); keeps the freeze.
MARKER = {"releases": 0.0, "maintenance": 7.0, "incidents": 99.0}


def test_a_retroactive_window_on_an_slo_nobody_holds_is_admitted_and_moves_nothing(cluster, before):
    since = datetime.now(UTC)
    proc = add_window(cluster, "free", *BOB)
    assert proc.returncode == 0, proc.stderr
    seen_after(cluster, "slo", "free", since)
    assert recomputed(cluster, "free", MARKER) == before["free"]


def test_under_a_hold_the_same_window_needs_override(cluster, before):
    proc = add_window(cluster, "held", *BOB)
    assert proc.returncode != 0, "a maintenance window on a held SLO was admitted without override"
    assert (f"ServiceLevelObjective {NS}/held is read by ErrorBudgetPolicy {NS}/{POLICY}, which is holding "
            f"(freeze): changing spec.maintenance needs 'override' on errorbudgetpolicies/{POLICY} in {NS}."
            ) in proc.stderr, proc.stderr
    assert not (get_json(cluster, "slo", "-n", NS, "held")["spec"].get("maintenance") or {}).get("windows")


def test_with_override_the_window_is_admitted_and_still_moves_nothing(cluster, before):
    since = datetime.now(UTC)
    proc = add_window(cluster, "held", *ALICE)
    assert proc.returncode == 0, proc.stderr
    seen_after(cluster, "slo", "held", since)
    assert recomputed(cluster, "held", MARKER) == before["held"]
    assert action(cluster) == "freeze"  # what it read was the figures above or the marker: both freeze


def test_a_retroactive_window_on_a_contract_moves_nothing(cluster, before):
    since = datetime.now(UTC)
    # an editor may create and edit SLAContracts: a new one, and a window added to an existing one
    created = cluster.kubectl(*BOB, "apply", "-f", "-", input=json.dumps(contract("late", [LATE])), check=False)
    assert created.returncode == 0, created.stderr
    windows = [*get_json(cluster, "sla", "-n", NS, "acme")["spec"]["maintenance"]["windows"], LATE]
    edited = cluster.kubectl(*BOB, "patch", "sla", "-n", NS, "acme", "--type=merge",
                             "-p", json.dumps({"spec": {"maintenance": {"windows": windows}}}), check=False)
    assert edited.returncode == 0, edited.stderr
    seen_after(cluster, "sla", "late", since)
    seen_after(cluster, "sla", "acme", since)
    for name in ("free", "held"):
        assert recomputed(cluster, name, MARKER) == before[name]
    assert action(cluster) == "freeze"


def test_the_cli_from_the_cluster_counts_late_windows_as_the_operator_does(cluster, before, prometheus):
    # by now both SLOs and both contracts carry LATE, each recorded as first seen today: `sloguard
    # budget --from-cluster` reads those records and splits as the operator does (no maintenance)
    assert all(recorded(cluster, "slo", n, LATE) for n in ("free", "held"))
    proc = subprocess.run([sys.executable, "-m", "sloguard.cli", "budget", "--prometheus", prometheus.url, "--at",
                           T.isoformat().replace("+00:00", "Z"), "-o", "json", "--from-cluster", "-n", NS,
                           "--kubeconfig", str(cluster.kubeconfig)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row["errorBudget"]["byCause"] for row in json.loads(proc.stdout)}
    for name in ("free", "held"):
        assert rows[name]["maintenance"] == 0, rows
        assert rows[name] == pytest.approx(before[name], rel=1e-3), (rows, before)


def test_the_record_survives_an_operator_restart(cluster, before, operator):
    seen = {name: recorded(cluster, "slo", name, LATE) for name in ("free", "held")}
    assert all(seen.values()), seen
    done = operator.log.count("Handler 'reconcile_slo' succeeded")
    operator.stop()
    operator.start()
    # the new process resumes both SLOs (the rules reconcile writes the record again) ...
    cluster.wait_until(lambda: operator.log.count("Handler 'reconcile_slo' succeeded") >= done + 2, timeout=60,
                       what="the restarted operator to resume both SLOs")
    # ... from the status: a window seen anew would be recorded with the restart's time
    assert {name: recorded(cluster, "slo", name, LATE) for name in ("free", "held")} == seen
    for name in ("free", "held"):
        assert recomputed(cluster, name, MARKER) == before[name]

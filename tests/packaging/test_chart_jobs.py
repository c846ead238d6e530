"""Every job of the operator, done under the Helm chart's RBAC.

A second release of the chart (its own namespace, ServiceAccount and cluster-scoped names, next to
test_chart.py's) is installed on the fresh control plane with ``prometheus.url`` pointing at a real
Prometheus. ``sloguard run`` then runs with that release's args and env, authenticated by a token
of its ServiceAccount, and must:

1. put live budgets into SLO status (the integration suite's history, evaluated at the pinned
   instant where checkout's budget is exhausted);
2. hold the targets of an ErrorBudgetPolicy over that exhausted SLO: the hold label through its own
   server-side apply, a ValidatingAdmissionPolicy and binding that deny a normal user's release,
   and all of it lifted again when the budget recovers;
3. finalize an SLAContract's previous month into an immutable ConfigMap and ``status.history``;

all without one refused request in its log.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import END, build_history, write_history
from tests.integration.promfixture import PrometheusServer

from ..e2e.conftest import TestCluster
from ..e2e.test_budget_status import CHECKOUT, T
from ..support import factories
from ..support.cluster import apply, condition, get_json
from .chartkit import Operator, install, sa_kubeconfig

RELEASE = "sloguard-jobs"  # contains the chart's name: the fullname, SA and peering are this too
RELEASE_NS = "sloguard-jobs"
SA_USER = f"system:serviceaccount:{RELEASE_NS}:{RELEASE}"
TEAM = "shop"
SLO = "checkout"
POLICY = "checkout-freeze"
CONTRACT = "acme"
VAP = f"{RELEASE}-holds"  # the chart's one hold policy; the operator writes its params
BOB = ("--as=bob",)  # a normal user: may edit deployments in TEAM, nothing more

NOW = datetime.now(UTC)
#: The budget history moves from March 2025 to the last few days: Prometheus' retention counts
#: back from its newest sample, which the SLA months below make recent. Whole days keep the
#: diurnal traffic, so the figures are the budget e2e's, at ``AT`` instead of ``T``.
SHIFT = timedelta(days=(NOW - timedelta(days=2) - END).days)
AT = T + SHIFT
CUR_START = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
PREV_START = (CUR_START - timedelta(days=1)).replace(day=1)
PREV = PREV_START.strftime("%Y-%m")
#: A sample every 6 hours is plenty for monthly request totals and keeps the TSDB blocks few.
SLA_STEP = 6 * 3600
SLA_REQUESTS_PER_STEP, SLA_ERRORS_PER_STEP = 360_000, 3_600  # 1% errors: the 99.95% term is breached


# --- Prometheus: budget history at T, and the SLA's months up to now ----------------------------

def budget_history() -> Iterator[str]:
    """The integration history's last two days (the outage under way at ``T``), moved by ``SHIFT``."""
    w = write_history(build_history())
    cutoff, shift = int((END - timedelta(days=2)).timestamp()), int(SHIFT.total_seconds())
    for fam in w.families.values():
        for key, samples in fam.series.items():
            fam.series[key] = [(ts + shift, v) for ts, v in samples if ts >= cutoff]
    return w.lines()


def sla_history() -> Iterator[str]:
    """``sla_requests_total`` from before the previous month to a few minutes ago."""
    start = int((PREV_START - timedelta(seconds=SLA_STEP)).timestamp())
    end = int((NOW - timedelta(minutes=5)).timestamp())
    ok = err = 0
    ok_rows, err_rows = [], []
    for ts in range(start, end, SLA_STEP):
        ok_rows.append(f'sla_requests_total{{code="200"}} {ok} {ts}\n')
        err_rows.append(f'sla_requests_total{{code="500"}} {err} {ts}\n')
        ok += SLA_REQUESTS_PER_STEP - SLA_ERRORS_PER_STEP
        err += SLA_ERRORS_PER_STEP
    yield "# TYPE sla_requests counter\n"
    yield from ok_rows
    yield from err_rows
    yield "# EOF\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    server = PrometheusServer.from_lines(chain(budget_history(), sla_history()), tmp_path_factory.mktemp("prom"))
    with server:
        yield server


# --- the release, the team's namespace and the operator -----------------------------------------

def deployment(name: str, app: str) -> dict:
    return factories.deployment(name, TEAM, {"app": app})


def slo_doc(objective: float = 99.9) -> dict:
    return {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
            "metadata": {"name": SLO, "namespace": TEAM},
            "spec": {"service": "checkout", "objective": objective, "window": "28d", "sli": {"ratio": CHECKOUT}}}


POLICY_DOC = {"apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetPolicy",
              "metadata": {"name": POLICY, "namespace": TEAM},
              "spec": {"slos": [SLO], "recovery": {"unfreezeAbove": 10},
                       "targets": [{"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"}}}]}}

CONTRACT_DOC = {"apiVersion": "sloguard.io/v1alpha1", "kind": "SLAContract",
                "metadata": {"name": CONTRACT, "namespace": TEAM},
                "spec": {"customer": {"id": "acme", "name": "ACME Corp"}, "contractId": "C-1", "timezone": "UTC",
                         "fee": {"monthly": 10000, "currency": "USD"},
                         "terms": [{"name": "api-success", "type": "availability", "objective": 99.95,
                                    "sli": {"ratio": {"errors": 'sla_requests_total{code=~"5.."}',
                                                      "total": "sla_requests_total"}},
                                    "credits": [{"below": 99.95, "percent": 10}]}]}}

TEAM_DOCS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": TEAM}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "deployer", "namespace": TEAM},
     "rules": [{"apiGroups": ["apps"], "resources": ["deployments"],
                "verbs": ["get", "list", "watch", "create", "update", "patch"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "bob-deploys", "namespace": TEAM},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}]},
    deployment("checkout", "checkout"),
    deployment("other", "other"),
]


@pytest.fixture(scope="module")
def release(fresh_cluster: TestCluster, helm: str, prometheus: PrometheusServer) -> list[dict]:
    values = {"replicas": 2, "prometheus": {"url": prometheus.url}, "refreshInterval": 2,
              "ruleLabels": {"prometheus": "main"}, "webhook": {"configurationName": RELEASE}}
    docs = install(fresh_cluster, helm, values, release=RELEASE, namespace=RELEASE_NS)
    # One cluster-wide sloguard per cluster: test_chart.py's release (same session, same cluster)
    # guards the ErrorBudgetHolds for its own ServiceAccount; this release replaces it.
    fresh_cluster.kubectl("delete", "validatingadmissionpolicybinding", "sloguard-holds-guard", "--ignore-not-found")
    apply(fresh_cluster, *TEAM_DOCS)
    return docs


@pytest.fixture(scope="module")
def token_kubeconfig(fresh_cluster, release, tmp_path_factory) -> Path:
    return sa_kubeconfig(fresh_cluster, tmp_path_factory.mktemp("sa") / "kubeconfig", namespace=RELEASE_NS,
                         sa=RELEASE)


@pytest.fixture(scope="module")
def operator(fresh_cluster, release, token_kubeconfig, tmp_path_factory) -> Iterator[Operator]:
    # Budgets are evaluated at the pinned instant AT (the history must lie in the past, as TSDB
    # blocks must); the SLA months are real ones and use the wall clock, with a grace of a second
    # instead of an hour so that the first hour of a month is no exception.
    op = Operator(release, token_kubeconfig, tmp_path_factory.mktemp("operator"), namespace=RELEASE_NS,
                  env={"SLOGUARD_EVALUATE_AT": AT.isoformat(), "SLOGUARD_SLA_FINALIZE_GRACE": "1s"})
    try:
        # The chart creates the configuration; the operator fills in its webhooks at startup.
        fresh_cluster.wait_until(
            lambda: "webhooks" in get_json(fresh_cluster, "validatingwebhookconfiguration", RELEASE)
            or op.proc.poll() is not None, timeout=90, what="the operator's startup")
        assert op.proc.poll() is None, op.output()
        # All three jobs start at once; each test waits for its own outcome.
        apply(fresh_cluster, slo_doc(), POLICY_DOC, CONTRACT_DOC)
        yield op
    finally:
        op.stop()
        print(op.output()[-5000:], file=sys.stderr)


# --- helpers ---------------------------------------------------------------------------------------

def status(cluster: TestCluster, kind: str, name: str) -> dict:
    return get_json(cluster, kind, "-n", TEAM, name).get("status") or {}


def events(cluster: TestCluster, name: str) -> dict[str, dict]:
    items = get_json(cluster, "events", "-n", TEAM, "--field-selector", f"involvedObject.name={name}")["items"]
    return {e["reason"]: e for e in items}


def hold_label(cluster: TestCluster, name: str = "checkout") -> str | None:
    return (get_json(cluster, "deployment", "-n", TEAM, name)["metadata"].get("labels") or {}).get("sloguard.io/hold")


def set_image(cluster: TestCluster, image: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl(*BOB, "set", "image", "-n", TEAM, "deployment/checkout", f"app={image}", *extra,
                           check=False)


def image_of(cluster: TestCluster) -> str:
    return get_json(cluster, "deployment", "-n", TEAM, "checkout")["spec"]["template"]["spec"]["containers"][0]["image"]


def as_operator(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True,
                          check=False)


# --- 1. live budgets ---------------------------------------------------------------------------------

def test_slo_status_gets_live_budget_figures_from_prometheus(fresh_cluster, prometheus, operator, tmp_path):
    fresh_cluster.wait_until(lambda: status(fresh_cluster, "slo", SLO).get("state") == "exhausted", timeout=90,
                             what="a live budget in SLO status")
    st = status(fresh_cluster, "slo", SLO)
    known, reachable = condition(st, "BudgetKnown"), condition(st, "PrometheusReachable")
    assert (known["status"], known["reason"]) == ("True", "Measured"), known
    assert reachable["status"] == "True", reachable
    assert datetime.fromisoformat(st["lastEvaluated"].replace("Z", "+00:00")) == AT
    # The figures are the CLI's for the same SLO, Prometheus and instant.
    slo_file = tmp_path / "slo.yaml"
    slo_file.write_text(yaml.safe_dump(slo_doc()))
    out = subprocess.run([sys.executable, "-m", "sloguard.cli", "budget", "--prometheus", prometheus.url,
                          "--at", AT.isoformat(), "-o", "json", str(slo_file)],
                         capture_output=True, text=True, check=True).stdout
    [want] = json.loads(out)
    assert st["budget"]["remaining"] == pytest.approx(want["errorBudget"]["remaining"], rel=1e-3)
    assert st["budget"]["remaining"] < 0 and st["burnRates"]["1h"] == pytest.approx(want["burnRates"]["1h"], rel=2e-3)
    # The rules half of the job, beside it.
    assert condition(st, "Ready")["status"] == "True"
    rule = get_json(fresh_cluster, "prometheusrule", "-n", TEAM, f"{SLO}-slo")
    assert rule["metadata"]["labels"]["prometheus"] == "main"


# --- 2. ErrorBudgetPolicy ----------------------------------------------------------------------------

def test_an_exhausted_budget_holds_the_target_and_denies_a_release(fresh_cluster, operator):
    # At the instant, checkout burns its budget at ~370x over 1h: past the fast-burn rule, an emergency.
    fresh_cluster.wait_until(lambda: status(fresh_cluster, "ebp", POLICY).get("action") == "emergency"
                             and hold_label(fresh_cluster) == "emergency", timeout=60, what="the emergency hold")
    meta = get_json(fresh_cluster, "deployment", "-n", TEAM, "checkout", "--show-managed-fields")["metadata"]
    assert meta["annotations"]["sloguard.io/hold-policy"] == POLICY
    holds = [m for m in meta["managedFields"] if "sloguard.io/hold" in json.dumps(m.get("fieldsV1", {}))]
    assert [(m["manager"], m["operation"]) for m in holds] == [("sloguard-holds", "Apply")]
    assert "f:spec" not in json.dumps(holds[0]["fieldsV1"])
    assert hold_label(fresh_cluster, "other") is None
    st = status(fresh_cluster, "ebp", POLICY)
    assert (st["level"], st["slo"]) == ("fast-burn", SLO)
    assert st["heldTargets"] == [{"kind": "Deployment", "name": "checkout"}]
    params = get_json(fresh_cluster, "errorbudgethold", "-n", TEAM, POLICY)
    # The operator learnt who it is (SelfSubjectReview) and exempts only that user: the chart's SA.
    assert params["spec"]["operatorUser"] == SA_USER
    assert params["metadata"]["labels"]["sloguard.io/enforcement"] == "Deny"
    assert params["metadata"]["ownerReferences"][0]["name"] == POLICY
    bindings = get_json(fresh_cluster, "validatingadmissionpolicybindings")["items"]
    assert [b for b in bindings if b["spec"]["policyName"] == VAP and b["spec"]["validationActions"] == ["Deny"]]
    assert events(fresh_cluster, POLICY)["PolicyEmergency"]["type"] == "Warning"

    def denied() -> bool:  # the API server's informer takes a moment to see a new admission policy
        proc = set_image(fresh_cluster, "nginx:1.26", "--dry-run=server")
        return proc.returncode != 0 and "ErrorBudgetPolicy" in proc.stderr

    fresh_cluster.wait_until(denied, timeout=30, what="the release denied")
    proc = set_image(fresh_cluster, "nginx:1.26")
    assert proc.returncode != 0, proc.stderr
    assert f"releases are frozen (emergency) by ErrorBudgetPolicy {TEAM}/{POLICY}" in proc.stderr
    assert image_of(fresh_cluster) == "nginx:1.25"


def test_a_recovered_budget_lifts_the_hold(fresh_cluster, operator):
    # The SLO's owners relax the objective: the next live refresh finds the budget healthy.
    apply(fresh_cluster, slo_doc(objective=90))
    fresh_cluster.wait_until(lambda: status(fresh_cluster, "slo", SLO).get("state") == "healthy", timeout=60,
                             what="a healthy live budget")
    fresh_cluster.wait_until(lambda: "BudgetStateChanged" in events(fresh_cluster, SLO), timeout=30,
                             what="the BudgetStateChanged Event")
    fresh_cluster.wait_until(lambda: status(fresh_cluster, "ebp", POLICY).get("action") == "none"
                             and hold_label(fresh_cluster) is None, timeout=60, what="the hold lifted")
    annotations = get_json(fresh_cluster, "deployment", "-n", TEAM, "checkout")["metadata"].get("annotations") or {}
    assert not [k for k in annotations if k.startswith("sloguard.io/hold")]
    fresh_cluster.wait_until(lambda: (get_json(fresh_cluster, "errorbudgethold", "-n", TEAM, POLICY)["metadata"]
                                      ["labels"]["sloguard.io/enforcement"]) == "none", timeout=30,
                             what="the hold read by no binding any more")
    assert fresh_cluster.exists("validatingadmissionpolicy", VAP)  # the chart's, untouched
    fresh_cluster.wait_until(lambda: set_image(fresh_cluster, "nginx:1.27", "--dry-run=server").returncode == 0,
                             timeout=30, what="releases allowed again")
    assert set_image(fresh_cluster, "nginx:1.27").returncode == 0
    assert image_of(fresh_cluster) == "nginx:1.27"


# --- 3. SLAContract ----------------------------------------------------------------------------------

def test_the_previous_month_is_finalized_into_an_immutable_configmap(fresh_cluster, operator, token_kubeconfig):
    fresh_cluster.wait_until(lambda: len(status(fresh_cluster, "sla", CONTRACT).get("history") or []) == 1,
                             timeout=90, what=f"{PREV} finalized into status.history")
    st = status(fresh_cluster, "sla", CONTRACT)
    name = f"sla-{CONTRACT}-{PREV}-r1"
    entry = st["history"][0]
    assert (entry["period"], entry["revision"], entry["configMap"]) == (PREV, 1, name)
    assert entry["compliant"] is False and entry["creditPercent"] == 10
    assert condition(st, "PrometheusReachable")["status"] == "True"
    cm = get_json(fresh_cluster, "configmap", "-n", TEAM, name)
    assert cm["immutable"] is True
    assert cm["metadata"]["labels"]["sloguard.io/contract"] == CONTRACT
    result = json.loads(cm["data"]["result.json"])
    assert result["period"] == PREV and result["complete"] is True
    [term] = result["terms"]
    assert term["actual"] == pytest.approx(99.0, abs=0.01)  # 1% of the requests failed
    reasons = events(fresh_cluster, CONTRACT)
    assert {"PeriodFinalized", "SLABreached", "ServiceCreditDue"} <= set(reasons)
    # The record is for good: the operator's own token cannot delete it.
    proc = as_operator(token_kubeconfig, "delete", "configmap", "-n", TEAM, name)
    assert proc.returncode != 0 and "forbidden" in proc.stderr.lower(), proc.stderr


# --- 4. nothing refused ------------------------------------------------------------------------------

def test_the_operator_met_no_forbidden_request_doing_all_that(operator):
    log = operator.output()
    assert "budget refresh leads" in log  # the Lease of the budget loop (two replicas) was taken
    denied = operator.forbidden_lines()
    assert not denied, "\n".join(denied[:10])
    assert operator.proc.poll() is None

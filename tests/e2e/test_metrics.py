"""The running operator's own /metrics, scraped over HTTP, agree with what it wrote to status.

The operator runs on the local control plane against a real Prometheus holding the synthetic
history of ``test_budget_status`` (an outage under way at ``T``), evaluating at the pinned
instant ``T``. Its /metrics endpoint is scraped as Prometheus would: each SLO's remaining budget,
state and burn rates equal its status, the reconcile counters move when an SLO is edited, the
refresh timestamp is the wall clock's, and a deleted SLO's series are gone.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest
import yaml
from kopf.testing import KopfRunner
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.promfixture import PrometheusServer
from tests.support.cluster import free_port

from ..support import factories
from ..support.operator import operator_runner
from .conftest import TestCluster
from .test_budget_status import CHECKOUT, QUIET, T

NS = "e2e-metrics"


def slo(name: str, objective: float, ratio: dict[str, str], window: str = "28d", service: str = "") -> dict:
    return factories.slo(name, NS, service=service or name, objective=objective, window=window,
                         sli={"ratio": ratio})


POLICY = "checkout-hold"
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "checkout", "namespace": NS, "labels": {"app": "checkout"}},
              "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "checkout"}},
                       "template": {"metadata": {"labels": {"app": "checkout"}},
                                    "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}}}
# Holds the checkout Deployment while the checkout SLO's budget burns or is spent (both, at T).
FREEZE = {"apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetPolicy",
          "metadata": {"name": POLICY, "namespace": NS},
          "spec": {"slos": ["checkout"],
                   "targets": [{"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"}}}]}}
SLOS = [slo("checkout", 99.9, CHECKOUT, service="checkout-api"), slo("checkout-lenient", 90, CHECKOUT),
        slo("quiet", 99.9, QUIET), slo("doomed", 99.5, CHECKOUT, window="7d")]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def metrics_url() -> str:
    return f"http://127.0.0.1:{free_port()}/metrics"


@pytest.fixture(scope="module")
def started() -> float:
    return time.time()


@pytest.fixture(scope="module")
def operator(cluster: TestCluster, prometheus: PrometheusServer, metrics_url: str, started: float,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[KopfRunner]:
    cluster.kubectl("create", "namespace", NS)
    slo_file = tmp_path_factory.mktemp("slos") / "slos.yaml"
    slo_file.write_text(yaml.safe_dump_all(SLOS))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLOGUARD_PROMETHEUS_URL", prometheus.url)
        mp.setenv("SLOGUARD_EVALUATE_AT", T.isoformat())
        mp.setenv("SLOGUARD_REFRESH_INTERVAL", "1")
        mp.setenv("SLOGUARD_WEBHOOK", "false")
        mp.setenv("SLOGUARD_NAMESPACES", NS)
        mp.setenv("SLOGUARD_ENFORCEMENT", "none")  # hold labels and status only: nothing in the admission path
        mp.setenv("SLOGUARD_METRICS_ADDRESS", metrics_url.removeprefix("http://").removesuffix("/metrics"))
        with operator_runner(NS) as runner:
            cluster.kubectl("apply", "-f", str(slo_file))
            cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([DEPLOYMENT, FREEZE]))
            yield runner
    assert runner.exception is None, runner.exception


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=5) as rsp:
        assert rsp.status == 200
        text = rsp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def named(samples: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


def of_slo(samples: Samples, name: str, slo_name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {k: v for k, v in named(samples, name).items() if dict(k).get("slo") == slo_name}


def statuses(cluster: TestCluster) -> dict[str, dict]:
    items = json.loads(cluster.kubectl("get", "slo", "-n", NS, "-o", "json").stdout)["items"]
    return {o["metadata"]["name"]: o.get("status", {}) for o in items}


def reconciles(url: str) -> float:
    return named(scrape(url), "sloguard_reconcile_total")[
        (("kind", "ServiceLevelObjective"), ("result", "success"))]


@pytest.fixture(scope="module")
def measured(cluster: TestCluster, operator: KopfRunner, metrics_url: str) -> dict[str, dict]:
    """Every SLO has its budget in status and its state on /metrics."""
    def ready() -> bool:
        s = statuses(cluster)
        try:
            samples = scrape(metrics_url)
        except OSError:  # not serving yet: the operator is starting
            return False
        on_metrics = {dict(k)["slo"] for k in named(samples, "sloguard_slo_state")}
        return len(s) == len(SLOS) and all(x.get("lastEvaluated") for x in s.values()) and on_metrics == set(s)

    cluster.wait_until(ready, timeout=120, interval=1, what="budgets in status and on /metrics")
    return statuses(cluster)


def test_each_slos_remaining_budget_on_metrics_equals_its_status(cluster, measured, metrics_url):
    samples = scrape(metrics_url)
    services = {o["metadata"]["name"]: o["spec"]["service"] for o in SLOS}
    known = 0
    for name, status in statuses(cluster).items():
        remaining = of_slo(samples, "sloguard_slo_error_budget_remaining_ratio", name)
        if status["budget"].get("remaining") is None:
            assert remaining == {}, name  # unknown (no traffic): no series, never 0
        else:
            known += 1
            assert remaining == {(("namespace", NS), ("service", services[name]), ("slo", name)):
                                 status["budget"]["remaining"]}, name
        states = of_slo(samples, "sloguard_slo_state", name)
        assert {dict(k)["state"] for k, v in states.items() if v == 1} == {status["state"]}, name
        assert len(states) == 5 and sum(states.values()) == 1, name
        burn = {dict(k)["window"]: v for k, v in of_slo(samples, "sloguard_slo_burn_rate", name).items()}
        assert burn == {w: r for w, r in (status.get("burnRates") or {}).items() if r is not None}, name
    assert known == 3  # quiet has no traffic; the others see the outage
    # the synthetic outage: checkout's 99.9% budget is overspent, the lenient 90% one is not
    checkout = of_slo(samples, "sloguard_slo_error_budget_remaining_ratio", "checkout")
    assert list(checkout.values())[0] < 0
    lenient = of_slo(samples, "sloguard_slo_error_budget_remaining_ratio", "checkout-lenient")
    assert 0 < list(lenient.values())[0] < 1


def test_the_refresh_timestamp_is_the_wall_clocks_and_prometheus_requests_are_counted(measured, metrics_url,
                                                                                      started):
    samples = scrape(metrics_url)
    stamp = named(samples, "sloguard_budget_refresh_last_success_timestamp_seconds")[()]
    assert started <= stamp <= time.time()  # evaluated at T in 2025, refreshed now
    requests = named(samples, "sloguard_prometheus_requests_total")
    assert requests[(("result", "success"),)] > 0 and requests[(("result", "error"),)] == 0
    assert named(samples, "sloguard_budget_refresh_duration_seconds_count")[()] >= 1
    TestCluster.wait_until(lambda: named(scrape(metrics_url), "sloguard_budget_refresh_last_success_timestamp_seconds")
                           [()] > stamp, timeout=30, interval=0.5, what="the next successful refresh")


def test_reconcile_counters_move_when_an_slo_is_edited(cluster, measured, metrics_url):
    before = reconciles(metrics_url)
    assert before >= len(SLOS)  # one create each at least
    cluster.kubectl("patch", "slo", "-n", NS, "checkout-lenient", "--type=merge", "-p",
                    '{"spec": {"description": "edited by the metrics e2e test"}}')
    cluster.wait_until(lambda: reconciles(metrics_url) > before, timeout=60, interval=0.5,
                       what="sloguard_reconcile_total to count the edit")
    samples = scrape(metrics_url)
    assert named(samples, "sloguard_reconcile_duration_seconds_count")[(("kind", "ServiceLevelObjective"),)] > before
    assert named(samples, "sloguard_reconcile_total")[(("kind", "ServiceLevelObjective"), ("result", "error"))] == 0


def test_a_deleted_slos_series_are_gone(cluster, measured, metrics_url):
    names = ("sloguard_slo_error_budget_remaining_ratio", "sloguard_slo_state", "sloguard_slo_burn_rate")
    samples = scrape(metrics_url)
    assert all(of_slo(samples, n, "doomed") for n in names)
    cluster.kubectl("delete", "slo", "-n", NS, "doomed", "--wait=true")

    def gone() -> bool:
        s = scrape(metrics_url)
        return not any(of_slo(s, n, "doomed") for n in names)

    cluster.wait_until(gone, timeout=60, interval=0.5, what="the deleted SLO's series to disappear")
    for _ in range(3):  # and they stay gone over the next refresh cycles
        time.sleep(1.5)
        assert gone()
    assert of_slo(scrape(metrics_url), "sloguard_slo_state", "checkout")  # the others stay


def test_held_workloads_follow_the_policy_status_and_go_with_the_policy(cluster, measured, metrics_url):
    def policy_status() -> dict:
        return json.loads(cluster.kubectl("get", "ebp", "-n", NS, POLICY, "-o", "json").stdout).get("status", {})

    def held() -> dict:
        return {k: v for k, v in named(scrape(metrics_url), "sloguard_policy_held_workloads").items()
                if dict(k)["policy"] == POLICY}

    # at T the outage (50% errors) is under way: a 1h burn far above 14.4x is the emergency level
    cluster.wait_until(lambda: policy_status().get("held") == 1 and policy_status().get("action") == "emergency",
                       timeout=60, interval=1, what="the policy holding the checkout Deployment (emergency)")

    def agrees() -> bool:  # the gauge follows the status the watch delivers, a moment later
        status = policy_status()
        return held() == {(("action", status["action"]), ("namespace", NS), ("policy", POLICY)): status["held"]}

    cluster.wait_until(agrees, timeout=30, interval=0.5, what="the held-workloads gauge to equal status.held")
    assert held() == {(("action", "emergency"), ("namespace", NS), ("policy", POLICY)): 1}
    cluster.kubectl("delete", "ebp", "-n", NS, POLICY, "--wait=true")
    cluster.wait_until(lambda: not held(), timeout=60, interval=0.5, what="the deleted policy's series to go")

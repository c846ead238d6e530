"""One bad object never blinds the rest — on the real API server.

* The CRD schema alone (no operator, no webhook) refuses what would break generation later.
* An SLO whose generated rules Prometheus would refuse is Ready=False and keeps its last good
  rules; other SLOs are unaffected.
* An SLO re-created from ``kubectl get -o yaml`` (kopf's bookkeeping copied along) is reconciled.
* Two status writers (rules reconcile, budget loop) never drop each other's conditions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import yaml
from kopf.testing import KopfRunner

from sloguard.adapters.kube import Kube
from sloguard.core import conventions as c
from sloguard.core.conditions import set_condition
from tests import metricservers

from ..support.cluster import apply
from ..support.operator import operator_runner
from .conftest import TestCluster

NS = "e2e-robust"
PROMTOOL = metricservers.promtool_bin()  # Prometheus 3's by default (tests/metricservers.py)


def slo(name: str, **spec: object) -> dict:
    body = {"service": "checkout", "objective": 99.9, "window": "28d",
            "sli": {"ratio": {"errors": 'http_requests_total{code="500"}', "total": "http_requests_total"}}}
    body.update(spec)  # type: ignore[arg-type]
    return {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
            "metadata": {"name": name, "namespace": NS}, "spec": body}


@pytest.fixture(scope="module")
def namespace(cluster: TestCluster) -> str:
    cluster.kubectl("create", "namespace", NS)
    return NS


# --- 5a: the API server refuses without the operator -------------------------------------------

@pytest.mark.parametrize(("body", "path", "words"), [
    (slo("zero-window", window="0s"), "spec.window", "must be longer than zero"),
    (slo("zero-window2", window="0m0s"), "spec.window", "must be longer than zero"),
    (slo("x" * 64), "metadata.name", "at most 63 characters"),
    (slo("bidi", service="check\u202eout"), "spec.service", "should match"),
    (slo("braces", service="{{ range .x }}"), "spec.service", "should match"),
    (slo("zero-burn", alerting={"burnRates": [{"severity": "page", "factor": 14.4, "shortWindow": "0s",
                                                "longWindow": "1h"}]}),
     "spec.alerting.burnRates[0].shortWindow", "must be longer than zero"),
    (slo("label-bidi", alerting={"labels": {"team": "a\u2066b"}}), "spec.alerting.labels.team", "should match"),
    (slo("label-name", alerting={"labels": {"bad-name": "x"}}), "spec.alerting.labels",
     "must be Prometheus label names"),
])
def test_the_api_server_refuses_with_the_field_path_and_no_operator_running(
        cluster: TestCluster, namespace: str, body: dict, path: str, words: str) -> None:
    proc = apply(cluster, body, check=False)
    assert proc.returncode != 0, f"accepted: {body['metadata']['name']}"
    assert "is invalid" in proc.stderr and path in proc.stderr and words in proc.stderr, proc.stderr
    assert not cluster.exists("slo", "-n", NS, body["metadata"]["name"][:63])


def test_the_schema_still_accepts_the_examples(cluster: TestCluster, namespace: str) -> None:
    proc = cluster.kubectl("apply", "--dry-run=server", "-f", "examples/checkout-availability.yaml",
                           "-f", "examples/api-latency.yaml", "-f", "examples/platform-probe.yaml", check=False)
    assert proc.returncode == 0 or "namespaces" in proc.stderr, proc.stderr


# --- 5c, 5d, 6: with the operator ---------------------------------------------------------------

@pytest.fixture(scope="module")
def operator(cluster: TestCluster, namespace: str) -> Iterator[KopfRunner]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLOGUARD_WEBHOOK", "false")
        mp.setenv("SLOGUARD_PROMTOOL", PROMTOOL)
        mp.setenv("SLOGUARD_NAMESPACES", NS)
        with operator_runner(NS) as runner:
            yield runner
    assert runner.exception is None, runner.exception


def get(cluster: TestCluster, kind: str, name: str) -> dict:
    proc = cluster.kubectl("get", kind, "-n", NS, name, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else {}


def cond(body: dict, type_: str) -> dict:
    return next((x for x in body.get("status", {}).get("conditions", []) if x["type"] == type_), {})


def ready(cluster: TestCluster, name: str) -> dict:
    return cond(get(cluster, "slo", name), c.COND_READY)


def test_rules_prometheus_would_refuse_are_not_applied_and_the_last_good_ones_stay(
        cluster: TestCluster, operator: KopfRunner) -> None:
    apply(cluster, slo("tmpl", alerting={"annotations": {"summary": "burning"}}))
    apply(cluster, slo("neighbour"))
    cluster.wait_until(lambda: ready(cluster, "tmpl").get("status") == "True", timeout=60, what="tmpl Ready")
    good = get(cluster, "prometheusrule", "tmpl-slo")
    assert any(r.get("annotations", {}).get("summary") == "burning" for r in good["spec"]["groups"][0]["rules"])

    apply(cluster, slo("tmpl", alerting={"annotations": {"summary": "{{ range .x }}"}}))
    cluster.wait_until(lambda: ready(cluster, "tmpl").get("status") == "False", timeout=60, what="tmpl not Ready")
    r = ready(cluster, "tmpl")
    assert r["reason"] == "RulesRejected"
    assert "spec.alerting.annotations.summary" in r["message"] and "unexpected EOF" in r["message"]
    after = get(cluster, "prometheusrule", "tmpl-slo")
    assert after["spec"] == good["spec"], "the last good rules must stay"
    cluster.wait_until(lambda: ready(cluster, "neighbour").get("status") == "True", timeout=60, what="neighbour")


def test_an_slo_recreated_from_an_export_is_reconciled_without_a_restart(
        cluster: TestCluster, operator: KopfRunner) -> None:
    apply(cluster, slo("exported"))
    cluster.wait_until(lambda: ready(cluster, "exported").get("status") == "True", timeout=60, what="Ready")
    export = cluster.kubectl("get", "slo", "-n", NS, "exported", "-o", "yaml").stdout
    assert "last-handled-configuration" in export  # kopf's bookkeeping travels with the export
    cluster.kubectl("delete", "slo", "-n", NS, "exported", "--wait=true")
    cluster.wait_until(lambda: not cluster.exists("prometheusrule", "-n", NS, "exported-slo"), timeout=60,
                       what="rules garbage-collected")
    # An export: drop what the server sets (uid, resourceVersion ...); keep annotations and status.
    body = yaml.safe_load(export)
    for k in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"):
        body["metadata"].pop(k, None)
    cluster.kubectl("create", "-f", "-", input=yaml.safe_dump(body))
    cluster.wait_until(lambda: cluster.exists("prometheusrule", "-n", NS, "exported-slo"), timeout=60,
                       what="rules re-created")
    cluster.wait_until(lambda: ready(cluster, "exported").get("status") == "True", timeout=60, what="Ready again")


def test_a_name_the_rules_cannot_carry_is_refused_by_the_schema_not_retried(cluster: TestCluster) -> None:
    proc = apply(cluster, slo("n" * 200), check=False)
    assert proc.returncode != 0 and "metadata.name" in proc.stderr


def test_two_status_writers_never_drop_each_others_conditions(cluster: TestCluster, namespace: str) -> None:
    """The rules reconcile and the budget loop write status concurrently from stale copies."""
    apply(cluster, slo("race"))
    kube = Kube.connect(str(cluster.kubeconfig))
    now = datetime.now(UTC)
    rounds = 40
    errors: list[BaseException] = []

    def writer(manager: str, types: tuple[str, str], others: dict) -> None:
        try:
            for i in range(rounds):
                mine: list[dict] = []
                for t in types:
                    mine = set_condition(mine, t, i % 2 == 0, f"Round{i}", f"{manager} round {i}", now)
                kube.apply_status(c.API_VERSION, c.KIND_SLO, "race", NS, {"conditions": mine, **others}, manager)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [
        threading.Thread(target=writer, args=("sloguard-rules", (c.COND_READY, c.COND_RULES_GENERATED),
                                              {"objective": 99.9})),
        threading.Thread(target=writer, args=("sloguard-budget", (c.COND_BUDGET_KNOWN, c.COND_PROMETHEUS_REACHABLE),
                                              {"state": "healthy"})),
    ]
    seen_missing = []

    def watch() -> None:
        for _ in range(rounds):
            types = {x["type"] for x in get(cluster, "slo", "race").get("status", {}).get("conditions", [])}
            if len(types) >= 2 and not ({c.COND_READY, c.COND_RULES_GENERATED} <= types
                                        or {c.COND_BUDGET_KNOWN, c.COND_PROMETHEUS_REACHABLE} <= types):
                seen_missing.append(types)

    for t in threads:
        t.start()
    watch()
    for t in threads:
        t.join()
    assert not errors, errors
    final = get(cluster, "slo", "race")["status"]
    assert {x["type"] for x in final["conditions"]} == {c.COND_READY, c.COND_RULES_GENERATED, c.COND_BUDGET_KNOWN,
                                                         c.COND_PROMETHEUS_REACHABLE}
    assert final["objective"] == 99.9 and final["state"] == "healthy"
    assert {x["reason"] for x in final["conditions"]} == {f"Round{rounds - 1}"}
    assert not seen_missing

"""The operator against a real API server: SLOs become PrometheusRules with honest status."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..support import factories
from ..support.cluster import apply, free_port, get_json
from ..support.operator import Operator, running_operator
from .conftest import TestCluster

NS = "e2e-operator"


def slo(name: str, objective: float = 99.9, **extra: object) -> dict:
    return factories.slo(name, NS, objective=objective, **extra)


def condition(obj: dict, type_: str) -> dict | None:
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == type_), None)


def is_ready(cluster: TestCluster, name: str, generation: int | None = None) -> bool:
    obj = get_json(cluster, "slo", "-n", NS, name)
    ready = condition(obj, "Ready")
    gen_ok = generation is None or obj.get("status", {}).get("observedGeneration") == generation
    return bool(ready and ready["status"] == "True" and gen_ok)


def operator_env(tmp: Path, port: int) -> dict[str, str]:
    return {
        "SLOGUARD_RULE_LABELS": "prometheus=main,team=sre",
        "SLOGUARD_WEBHOOK": "true",
        "SLOGUARD_WEBHOOK_HOST": "127.0.0.1",
        "SLOGUARD_WEBHOOK_LISTEN": "127.0.0.1",
        "SLOGUARD_WEBHOOK_PORT": str(port),
        "SLOGUARD_WEBHOOK_CERT_DIR": str(tmp / "webhook-certs"),
        "SLOGUARD_CONFIGURATION_NAME": "sloguard-e2e",
        "SLOGUARD_DASHBOARDS": "true",
    }


@pytest.fixture(scope="module")
def operator(cluster: TestCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    cluster.kubectl("create", "namespace", NS)
    try:
        with running_operator(None, operator_env(tmp_path_factory.mktemp("operator"), free_port())) as op:
            cluster.wait_until(lambda: cluster.exists("validatingwebhookconfiguration", "sloguard-e2e"),
                               timeout=60, what="the webhook configuration")
            yield op
    finally:
        cluster.kubectl("delete", "validatingwebhookconfiguration", "sloguard-e2e", "--ignore-not-found")


def test_an_slo_becomes_a_prometheusrule_owned_by_it_with_ready_status(cluster, operator):
    apply(cluster, slo("checkout-availability"))
    cluster.wait_until(lambda: is_ready(cluster, "checkout-availability", 1), timeout=60, what="Ready")
    rule = get_json(cluster, "prometheusrule", "-n", NS, "checkout-availability-slo", "--show-managed-fields")
    owner = rule["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "ServiceLevelObjective" and owner["name"] == "checkout-availability"
    assert rule["metadata"]["labels"]["prometheus"] == "main"
    assert rule["metadata"]["labels"]["team"] == "sre"
    managers = {m["manager"] for m in rule["metadata"]["managedFields"]}
    assert managers == {"sloguard"}
    alerts = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert [a["labels"]["severity"] for a in alerts] == ["critical", "warning", "info"]
    status = get_json(cluster, "slo", "-n", NS, "checkout-availability")["status"]
    assert status["prometheusRule"]["name"] == "checkout-availability-slo"
    assert status["objective"] == 99.9
    assert condition({"status": status}, "RulesGenerated")["reason"] == "Applied"


def test_a_grafana_dashboard_configmap_is_kept_beside_the_slo(cluster, operator):
    cm = get_json(cluster, "configmap", "-n", NS, "checkout-availability-slo-dashboard")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["ownerReferences"][0]["name"] == "checkout-availability"
    [(key, text)] = cm["data"].items()
    dashboard = json.loads(text)
    assert key == f"{dashboard['uid']}.json" and dashboard["panels"]
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert exprs and all('slo="checkout-availability"' in e or "ALERTS" in e for e in exprs), exprs


def test_the_spec_is_never_written_by_the_operator(cluster, operator):
    obj = get_json(cluster, "slo", "-n", NS, "checkout-availability", "--show-managed-fields")
    spec_managers = [m["manager"] for m in obj["metadata"]["managedFields"]
                     if "f:spec" in json.dumps(m.get("fieldsV1", {}))]
    assert spec_managers == ["kubectl-client-side-apply"]


def test_an_edit_regenerates_the_rules_and_moves_observed_generation(cluster, operator):
    apply(cluster, slo("checkout-availability", objective=99.5))
    cluster.wait_until(lambda: is_ready(cluster, "checkout-availability", 2), timeout=60, what="generation 2")
    rule = get_json(cluster, "prometheusrule", "-n", NS, "checkout-availability-slo")
    exprs = [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"] if r.get("alert")]
    assert all("/ 0.005 >" in e for e in exprs), exprs


def test_a_broken_slo_is_refused_at_admission_with_the_field_path(cluster, operator):
    bad = slo("broken")
    bad["spec"]["sli"] = {"ratioQuery": {"errorQuery": "sum(rate(errors[5m]))",
                                         "totalQuery": "sum(rate(requests[{{.window}}]))"}}
    proc = apply(cluster, bad, check=False)
    assert proc.returncode != 0
    assert "spec.sli.ratioQuery.errorQuery" in proc.stderr and "{{.window}}" in proc.stderr
    assert not cluster.exists("slo", "-n", NS, "broken")


def test_cel_rules_refuse_cross_field_mistakes_without_the_operator(cluster, operator):
    bad = slo("two-kinds")
    bad["spec"]["sli"]["boolGauge"] = {"selector": "probe_success"}
    proc = apply(cluster, bad, check=False)
    assert proc.returncode != 0 and "exactly one SLI kind" in proc.stderr


def test_admission_warnings_reach_kubectl(cluster, operator):
    proc = apply(cluster, slo("fraction", objective=0.999))
    assert "looks like a fraction" in proc.stderr
    cluster.kubectl("delete", "slo", "-n", NS, "fraction")


def test_deleting_the_slo_removes_its_rules(cluster, operator):
    apply(cluster, slo("short-lived"))
    cluster.wait_until(lambda: cluster.exists("prometheusrule", "-n", NS, "short-lived-slo"), timeout=60,
                       what="rule created")
    cluster.kubectl("delete", "slo", "-n", NS, "short-lived")
    cluster.wait_until(lambda: not cluster.exists("prometheusrule", "-n", NS, "short-lived-slo"), timeout=60,
                       what="rule garbage-collected")


def test_two_hundred_slos_reconcile(cluster, operator):
    docs = [slo(f"bulk-{i:03d}", objective=99 + (i % 9) / 10) for i in range(200)]
    apply(cluster, *docs)

    def all_ready() -> bool:
        items = get_json(cluster, "slo", "-n", NS, "-l", "!skip")["items"]
        bulk = [o for o in items if o["metadata"]["name"].startswith("bulk-")]
        return len(bulk) == 200 and all((condition(o, "Ready") or {}).get("status") == "True" for o in bulk)

    cluster.wait_until(all_ready, timeout=180, interval=2, what="200 SLOs Ready")
    rules = get_json(cluster, "prometheusrule", "-n", NS)["items"]
    assert len([r for r in rules if r["metadata"]["name"].startswith("bulk-")]) == 200


def test_a_restart_resumes_without_duplicates_or_rewrites(cluster, operator, caplog):
    before = get_json(cluster, "prometheusrule", "-n", NS)["items"]
    versions = {r["metadata"]["name"]: r["metadata"]["resourceVersion"] for r in before}
    n_slos = len(get_json(cluster, "slo", "-n", NS)["items"])
    operator.stop()
    caplog.set_level(logging.INFO, logger="kopf.objects")
    operator.start()

    def resumed() -> int:
        return sum(1 for r in caplog.records if "Resuming is processed" in r.getMessage())

    # The new process resumes every SLO (a server-side apply of identical rules is a no-op).
    cluster.wait_until(lambda: resumed() >= n_slos, timeout=120, interval=1, what="every SLO resumed")
    after = get_json(cluster, "prometheusrule", "-n", NS)["items"]
    assert len(after) == len(before)
    assert {r["metadata"]["name"]: r["metadata"]["resourceVersion"] for r in after} == versions


def test_an_invalid_slo_that_gets_in_is_reported_in_status(cluster, operator):
    # Without the webhook (it is optional and fails open), only CEL guards the API: a PromQL
    # typo gets in, and the operator must say so in status and an Event, not crash.
    cluster.kubectl("delete", "validatingwebhookconfiguration", "sloguard-e2e")
    bad = slo("typo")
    bad["spec"]["sli"]["ratio"]["total"] = 'http_requests_total{job="checkout"'
    apply(cluster, bad)

    def reported() -> bool:
        ready = condition(get_json(cluster, "slo", "-n", NS, "typo"), "Ready")
        return bool(ready and ready["status"] == "False")

    cluster.wait_until(reported, timeout=60, what="Ready=False")
    ready = condition(get_json(cluster, "slo", "-n", NS, "typo"), "Ready")
    assert ready["reason"] == "InvalidSpec" and "spec.sli.ratio.total" in ready["message"]
    assert not cluster.exists("prometheusrule", "-n", NS, "typo-slo")
    events = cluster.kubectl("get", "events", "-n", NS, "--field-selector", "involvedObject.name=typo",
                             "-o", "json").stdout
    assert "InvalidSpec" in events

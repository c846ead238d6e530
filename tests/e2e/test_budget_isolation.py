"""A failure in one SLO's budget is that SLO's condition, never the cycle's (real API server + Prometheus).

Beside good SLOs: one whose error query Prometheus refuses when it evaluates it (an invalid regular
expression in ``label_replace``, which our PromQL parser accepts), and one with ``window: 0s``
stored while the CRD lacked today's rule (an object older than the schema). One refresh cycle
must give every good SLO its budget and each bad one its own ``BudgetKnown=False``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from sloguard.adapters.kube import Kube
from sloguard.adapters.prometheus import BudgetReader, settings_for
from sloguard.adapters.settings import Settings
from sloguard.handlers.budget import refresh_once
from sloguard.handlers.context import Context
from tests.integration.promfixture import PrometheusServer

from ..support import factories
from ..support.cluster import condition
from .conftest import REPO_ROOT, TestCluster

NS = "e2e-isolation"
T = datetime(2025, 3, 30, 22, 15, tzinfo=UTC)
CRD = "servicelevelobjectives.sloguard.io"
WINDOW_RULE = "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/window/x-kubernetes-validations"
RATIO = {"errors": 'http_requests_total{service="checkout",code="500"}',
         "total": 'http_requests_total{service="checkout"}'}
#: Parses, but Prometheus refuses to evaluate it: "(" is not a regular expression.
BAD_QUERY = {"errorQuery": 'label_replace(sum(rate(http_requests_total{code="500"}[{{.window}}])), '
                           '"a", "$1", "b", "(")',
             "totalQuery": "sum(rate(http_requests_total[{{.window}}]))"}


def slo(name: str, window: str = "28d", **sli: object) -> dict:
    return factories.slo(name, NS, window=window, sli=sli or {"ratio": RATIO})


def _create_accepted(cluster: TestCluster, body: dict) -> bool:
    return cluster.kubectl("create", "-f", "-", input=yaml.safe_dump(body), check=False).returncode == 0


@pytest.fixture(scope="module")
def slos(cluster: TestCluster) -> list[str]:
    cluster.kubectl("create", "namespace", NS)
    for body in (slo("good-a"), slo("good-b", window="7d"), slo("bad-query", ratioQuery=BAD_QUERY)):
        cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(body))
    # An object older than the schema: drop today's window rule, store the SLO, put the rule back.
    assert not _create_accepted(cluster, slo("zero-window", window="0s"))
    cluster.kubectl("patch", "crd", CRD, "--type=json", "-p", json.dumps([{"op": "remove", "path": WINDOW_RULE}]))
    try:
        cluster.wait_until(lambda: _create_accepted(cluster, slo("zero-window", window="0s")), timeout=30,
                           what="the relaxed schema to take effect")
    finally:
        cluster.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=sloguard-dev", "-f",
                        str(REPO_ROOT / "crds" / f"{CRD}.yaml"))
    cluster.wait_until(lambda: not _create_accepted(cluster, slo("zero-window-2", window="0s")), timeout=30,
                       what="the rule to be back")
    return ["good-a", "good-b", "bad-query", "zero-window"]


def statuses(cluster: TestCluster) -> dict[str, dict]:
    items = json.loads(cluster.kubectl("get", "slo", "-n", NS, "-o", "json").stdout)["items"]
    return {o["metadata"]["name"]: o.get("status", {}) for o in items}


def test_one_bad_slo_does_not_stop_the_others_budgets(cluster: TestCluster, prometheus: PrometheusServer,
                                                       slos: list[str], tmp_path: Path) -> None:
    ctx = Context(Settings(namespaces=(NS,), prometheus=settings_for(prometheus.url), evaluate_at=T.isoformat()),
                  Kube.connect(str(cluster.kubeconfig)))
    reader = BudgetReader(prometheus.url)
    try:
        written = refresh_once(ctx, reader, logging.getLogger("test"), heartbeat=True)
    finally:
        reader.close()
    got = statuses(cluster)
    assert written == 3  # good-a, good-b and bad-query (its error is its status); zero-window: InvalidSpec
    for name in ("good-a", "good-b"):
        assert condition(got[name], "BudgetKnown")["status"] == "True", got[name]
        assert got[name]["budget"]["remaining"] is not None and got[name]["state"] in (
            "healthy", "warning", "critical", "exhausted")
        assert condition(got[name], "PrometheusReachable")["status"] == "True"
    bad = got["bad-query"]
    assert condition(bad, "BudgetKnown")["status"] == "False"
    assert condition(bad, "PrometheusReachable")["status"] == "True"  # the server answered: the query is wrong
    assert "regexp" in json.dumps(bad) or "regular expression" in json.dumps(bad), bad
    zero = got["zero-window"]
    known = condition(zero, "BudgetKnown")
    assert known["status"] == "False" and known["reason"] == "InvalidSpec"
    assert "spec.window" in known["message"] and "must be longer than zero" in known["message"]

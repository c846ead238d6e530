"""The operator reads budgets through nginx demanding a bearer token and a tenant header.

Servers and history: :mod:`tests.integration.authservers`. The operator starts with a revoked
token (``SLOGUARD_PROMETHEUS_*`` settings, as the chart's args give them): every SLO says
``PrometheusReachable=False`` ending with the very line ``sloguard budget`` prints for the same
settings. The token file is then rotated in place, as the kubelet does with a Secret: the same
operator process, never restarted, measures the budget from the history.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from kopf.testing import KopfRunner

from tests.integration.authservers import AT, REVOKED, TENANT, TOKEN, Servers, counts, secret, start_servers

from ..support.operator import operator_runner
from .conftest import TestCluster

NS = "e2e-prom-auth"
SLO = {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
       "metadata": {"name": "api", "namespace": NS},
       "spec": {"service": "api", "objective": 99.9, "window": "1d", "sli": {"ratio": {
           "errors": 'http_requests_total{job="api",code=~"5.."}', "total": 'http_requests_total{job="api"}'}}}}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with start_servers(tmp_path_factory.mktemp("auth")) as running:
        yield running


@pytest.fixture(scope="module")
def env(servers: Servers) -> dict[str, str]:
    return {"SLOGUARD_PROMETHEUS_URL": servers.proxy_url,
            "SLOGUARD_PROMETHEUS_BEARER_TOKEN_FILE": str(secret(servers, "operator-token", REVOKED)),
            "SLOGUARD_PROMETHEUS_HEADERS": f"X-Scope-OrgID: {TENANT}"}


@pytest.fixture(scope="module")
def operator(cluster: TestCluster, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[KopfRunner]:
    cluster.kubectl("create", "namespace", NS)
    slo_file = tmp_path_factory.mktemp("slo") / "slo.yaml"
    slo_file.write_text(yaml.safe_dump(SLO))
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.setenv("SLOGUARD_EVALUATE_AT", AT.isoformat())
        mp.setenv("SLOGUARD_REFRESH_INTERVAL", "1")
        mp.setenv("SLOGUARD_WEBHOOK", "false")
        mp.setenv("SLOGUARD_NAMESPACES", NS)  # leave other modules' SLOs alone
        with operator_runner(NS) as runner:
            cluster.kubectl("apply", "-f", str(slo_file))
            yield runner
    assert runner.exception is None, runner.exception


def status(cluster: TestCluster) -> dict:
    return json.loads(cluster.kubectl("get", "slo", "-n", NS, "api", "-o", "json").stdout).get("status", {})


def reachable(cluster: TestCluster) -> dict:
    return next((c for c in status(cluster).get("conditions", []) if c["type"] == "PrometheusReachable"), {})


def test_a_refused_token_is_the_clis_line_in_the_condition_and_a_rotated_one_is_used(
    cluster: TestCluster, operator: KopfRunner, servers: Servers, env: dict[str, str], tmp_path: Path
) -> None:
    cluster.wait_until(lambda: reachable(cluster).get("status") == "False", timeout=90, interval=1,
                       what="PrometheusReachable=False")
    (tmp_path / "slo.yaml").write_text(yaml.safe_dump(SLO))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLOGUARD_")}
    cli = subprocess.run([sys.executable, "-m", "sloguard.cli", "budget", "--at", AT.isoformat(),
                          str(tmp_path / "slo.yaml")], capture_output=True, text=True, env={**clean, **env})
    assert cli.returncode == 3  # the exit-code table: 3 = Prometheus could not be read
    line = cli.stderr.strip().removeprefix("sloguard budget: ")
    assert "401 Unauthorized: missing or invalid bearer token" in line and servers.proxy_url in line
    # The condition says what it did with the figures, then the CLI's very line.
    assert reachable(cluster)["message"].endswith(": " + line), reachable(cluster)["message"]

    Path(env["SLOGUARD_PROMETHEUS_BEARER_TOKEN_FILE"]).write_text(TOKEN + "\n")  # the Secret rotated
    cluster.wait_until(lambda: reachable(cluster).get("status") == "True", timeout=90, interval=1,
                       what="PrometheusReachable=True after the rotation")
    bad, total = counts(AT - timedelta(days=1), AT)
    assert status(cluster)["budget"]["consumed"] == pytest.approx(bad / total / 0.001, rel=0.005)

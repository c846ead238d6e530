"""The whole chain, with nothing patched by hand: Prometheus history -> budget -> hold -> denial.

A real Prometheus holds two days of the integration suite's synthetic history for ``checkout``
(an outage at 50% errors from 21:30 to 22:30 on 2025-03-30). The operator evaluates budgets at a
pinned instant (``SLOGUARD_EVALUATE_AT``, the history lies in the past) every second:

* at ``T0`` (21:00, before the outage) the budget is healthy (about 90% left): nothing is held;
* at ``T1`` (23:45, after it) the budget is exhausted (about -412% left) while the 1h burn rate is
  back to background (about 0.25x): the policy's levels table freezes, no burn-rate emergency.

Moving from ``T0`` to ``T1`` means restarting the operator with another pinned instant; the SLO
status and the policy's hold follow from what the refresher reads from Prometheus.

The webhook tests stop the operator after it has put the holds webhook configuration in place:
the configuration stays (nothing removes it on shutdown) while nothing listens on its URL any
more, so the API server's ``failurePolicy`` decides — ``Ignore`` lets a release through, ``Fail``
refuses it. Users are impersonated; ``bob`` may edit deployments and nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from kopf.testing import KopfRunner

from tests.integration.conftest import build_history, recent_history_server
from tests.integration.promfixture import PrometheusServer

from ..support import factories
from ..support.cluster import apply, free_port, get_json
from ..support.operator import operator_runner
from .conftest import TestCluster
from .holds import enforcement, install_hold_policy

NS = "e2e-policy-live"
SLO_NAME = "checkout-availability"
POLICY = "checkout-freeze"
CONFIGURATION = "sloguard-e2e-policy-live"
HOLDS_CONFIGURATION = f"{CONFIGURATION}-holds"
BOB = ("--as=bob", "--as-group=devs")
T0 = datetime(2025, 3, 30, 21, 0, tzinfo=UTC)
T1 = datetime(2025, 3, 30, 23, 45, tzinfo=UTC)


def slo_status(cluster: TestCluster) -> dict:
    return get_json(cluster, "slo", "-n", NS, SLO_NAME).get("status", {})


def policy_status(cluster: TestCluster) -> dict:
    return get_json(cluster, "ebp", "-n", NS, POLICY).get("status", {})


def deployment_meta(cluster: TestCluster) -> dict:
    return get_json(cluster, "deployment", "-n", NS, "checkout")["metadata"]


def hold_label(cluster: TestCluster) -> str | None:
    return (deployment_meta(cluster).get("labels") or {}).get("sloguard.io/hold")


def image_of(cluster: TestCluster) -> str:
    spec = get_json(cluster, "deployment", "-n", NS, "checkout")["spec"]
    return str(spec["template"]["spec"]["containers"][0]["image"])


def set_image(cluster: TestCluster, image: str, *extra: str):
    return cluster.kubectl(*BOB, "set", "image", "-n", NS, "deployment/checkout", f"app={image}", *extra,
                           check=False)


def eventually_refused(cluster: TestCluster, image: str, marker: str) -> str:
    """Wait (server-side dry runs go through admission too) until a release is refused with ``marker``
    in the message, then make the real attempt, which must be refused the same way."""
    def refused() -> bool:
        proc = set_image(cluster, image, "--dry-run=server")
        return proc.returncode != 0 and marker in proc.stderr

    cluster.wait_until(refused, timeout=60, what=f"a refusal of {image} saying {marker!r}")
    proc = set_image(cluster, image)
    assert proc.returncode != 0 and marker in proc.stderr, proc.stderr
    return proc.stderr


def deployment(image: str = "nginx:1.25") -> dict:
    return factories.deployment("checkout", NS, image=image, replicas=0)


def policy(**enforcement: str) -> dict:
    spec: dict = {"slos": [SLO_NAME],
                  "targets": [{"kind": "Deployment", "selector": {"matchLabels": {"app": "checkout"}}}]}
    if enforcement:
        spec["enforcement"] = enforcement
    return factories.policy(POLICY, NS, spec)


SLO = {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
       "metadata": {"name": SLO_NAME, "namespace": NS},
       "spec": {"service": "checkout", "objective": 99.9, "window": "28d",
                "sli": {"ratio": {"errors": 'http_requests_total{service="checkout",code="500"}',
                                  "total": 'http_requests_total{service="checkout"}'}}}}

RBAC = [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "deployer", "namespace": NS},
     "rules": [{"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"],
                "verbs": ["get", "list", "watch", "create", "update", "patch"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "devs-deploy", "namespace": NS},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}]},
]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """The last two days of the synthetic history (the outage included), served read-only."""
    server = recent_history_server(build_history(), tmp_path_factory.mktemp("prom-live"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def live(cluster: TestCluster, prometheus: PrometheusServer, tmp_path_factory: pytest.TempPathFactory):
    """Namespace, RBAC, SLO, Deployment and an admissionPolicy ErrorBudgetPolicy; an operator factory."""
    cert_dir = tmp_path_factory.mktemp("live-webhook-certs")
    port = free_port()
    cluster.kubectl("create", "namespace", NS)
    install_hold_policy(cluster)  # what the chart installs
    apply(cluster, *RBAC, SLO, deployment(), policy())

    @contextmanager
    def operator(at: datetime, *, webhook: bool = False) -> Iterator[KopfRunner]:
        env = {
            "SLOGUARD_PROMETHEUS_URL": prometheus.url,
            "SLOGUARD_EVALUATE_AT": at.isoformat(),
            "SLOGUARD_REFRESH_INTERVAL": "1",
            "SLOGUARD_WEBHOOK": "true" if webhook else "false",
            "SLOGUARD_WEBHOOK_HOST": "127.0.0.1",
            "SLOGUARD_WEBHOOK_LISTEN": "127.0.0.1",
            "SLOGUARD_WEBHOOK_PORT": str(port),
            "SLOGUARD_WEBHOOK_CERT_DIR": str(cert_dir),
            "SLOGUARD_CONFIGURATION_NAME": CONFIGURATION,
        }
        with pytest.MonkeyPatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            runner = operator_runner()
            with runner:
                yield runner
        assert runner.exception is None, runner.exception

    yield operator
    # The holds webhook is left pointing at nothing by design here: remove it before anything else.
    cluster.kubectl("delete", "validatingwebhookconfiguration", CONFIGURATION, HOLDS_CONFIGURATION,
                    "--ignore-not-found")
    cluster.kubectl("delete", "namespace", NS, "--wait=false")


def test_a_healthy_budget_in_prometheus_holds_nothing(cluster, live):
    with live(T0):
        cluster.wait_until(lambda: slo_status(cluster).get("state") == "healthy"
                           and policy_status(cluster).get("level") == "healthy", timeout=90,
                           what="a healthy budget from Prometheus and a healthy policy")
        remaining = slo_status(cluster)["budget"]["remainingPercent"]
        assert 85 < remaining < 95, remaining  # background errors only: about 90% left
        assert policy_status(cluster)["action"] == "none"
        assert hold_label(cluster) is None
        proc = set_image(cluster, "nginx:1.26")
        assert proc.returncode == 0, proc.stderr
    assert image_of(cluster) == "nginx:1.26"


def test_an_exhausted_budget_in_prometheus_freezes_the_deployment_and_set_image_is_denied(cluster, live):
    with live(T1):
        cluster.wait_until(lambda: slo_status(cluster).get("state") == "exhausted", timeout=90,
                           what="the refresher reading an exhausted budget from Prometheus")
        cluster.wait_until(lambda: policy_status(cluster).get("action") == "freeze" and hold_label(cluster) == "freeze",
                           timeout=60, what="the policy freezing the deployment")
        status = slo_status(cluster)
        remaining = status["budget"]["remainingPercent"]
        assert remaining < -100, remaining  # the outage spent the budget four times over
        assert status["burnRates"]["1h"] < 14.4  # a freeze by the levels table, not a fast-burn emergency
        policy_now = policy_status(cluster)
        assert (policy_now["level"], policy_now["slo"]) == ("exhausted", SLO_NAME)
        assert policy_now["heldTargets"] == [{"kind": "Deployment", "name": "checkout"}]
        assert deployment_meta(cluster)["annotations"]["sloguard.io/hold-policy"] == POLICY

        stderr = eventually_refused(cluster, "nginx:1.27", "releases are frozen")
        assert (f"Deployment {NS}/checkout: releases are frozen by ErrorBudgetPolicy {NS}/{POLICY}: "
                f"SLO {SLO_NAME} has {remaining:.1f}% of its error budget left (level exhausted)") in stderr
        assert "sloguard.io/exception: <class> with one of security-fix, reliability-fix, rollback" in stderr
        assert f"'override' on errorbudgetpolicies/{POLICY} in {NS}" in stderr
        assert "ValidatingAdmissionPolicy" in stderr  # the API server's CEL decided, not a webhook
        assert image_of(cluster) == "nginx:1.26"
        cluster.kubectl(*BOB, "scale", "-n", NS, "deployment/checkout", "--replicas=1")  # scaling stays allowed


def _holds_webhook(cluster: TestCluster) -> dict:
    if not cluster.exists("validatingwebhookconfiguration", HOLDS_CONFIGURATION):
        return {}
    return get_json(cluster, "validatingwebhookconfiguration", HOLDS_CONFIGURATION)


def _webhook_in_place(cluster: TestCluster, failure_policy: str) -> bool:
    config = _holds_webhook(cluster)
    return (bool(config) and {w["failurePolicy"] for w in config["webhooks"]} == {failure_policy}
            and enforcement(cluster, NS, POLICY) == "none")


WEBHOOK_DENIED = 'admission webhook "held.holds.sloguard.io" denied the request'


def test_webhook_down_with_failure_policy_ignore_lets_the_release_through(cluster, live):
    apply(cluster, policy(mechanism="webhook", failurePolicy="Ignore"))
    with live(T1, webhook=True):
        cluster.wait_until(lambda: _webhook_in_place(cluster, "Ignore"), timeout=60,
                           what="the holds webhook (Ignore) in place of the admission policy")
        stderr = eventually_refused(cluster, "nginx:1.28", WEBHOOK_DENIED)  # the webhook is up: it denies
        assert "releases are frozen by ErrorBudgetPolicy" in stderr
    # The operator is gone, its webhook server with it; the configuration stays behind.
    assert _webhook_in_place(cluster, "Ignore")
    assert hold_label(cluster) == "freeze"

    def through() -> bool:
        return set_image(cluster, "nginx:1.28").returncode == 0

    cluster.wait_until(through, timeout=30, what="the release let through by failurePolicy Ignore")
    assert image_of(cluster) == "nginx:1.28"


def test_webhook_down_with_failure_policy_fail_refuses_the_release(cluster, live):
    apply(cluster, policy(mechanism="webhook", failurePolicy="Fail"))
    with live(T1, webhook=True):
        cluster.wait_until(lambda: _webhook_in_place(cluster, "Fail"), timeout=60,
                           what="the holds webhook with failurePolicy Fail")
        eventually_refused(cluster, "nginx:1.29", WEBHOOK_DENIED)
    assert _webhook_in_place(cluster, "Fail")

    stderr = eventually_refused(cluster, "nginx:1.29", 'failed calling webhook "held.holds.sloguard.io"')
    assert "connection refused" in stderr
    assert image_of(cluster) == "nginx:1.28"
    # Scaling goes through the scale subresource, which the holds webhook does not intercept:
    # even with the operator down and Fail, a frozen service can still be scaled.
    cluster.kubectl(*BOB, "scale", "-n", NS, "deployment/checkout", "--replicas=2")
    assert get_json(cluster, "deployment", "-n", NS, "checkout")["spec"]["replicas"] == 2

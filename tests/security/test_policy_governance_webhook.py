"""Governed policies under the webhook mechanism: the operator's webhook refuses what the chart's
ValidatingAdmissionPolicy refuses, with the same message (issue #10, item 3).

The chart's governance binding is removed for this module, so only the webhook can refuse; the
operator runs with ``SLOGUARD_ENFORCEMENT=webhook`` (the chart's ``enforcement.mechanism``) and
``failurePolicy: Fail``. Users as in ``test_policy_governance``: bob is a namespace admin without
``override``, alice has ``override``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from ..e2e.conftest import TestCluster
from ..support.cluster import free_port, get_json
from ..support.operator import operator_runner
from .chart_objects import GOVERNANCE, apply_chart_objects
from .governance_cases import BASE
from .kit import ALICE, BOB, can_i, deployment, expected_denial, policy, rbac, set_budget, set_image, slo

pytestmark = pytest.mark.e2e

NS = "sec-governance-webhook"
POLICY = "checkout-freeze"
CONFIGURATION = "sloguard-sec-governance"
WEBHOOK_SPEC = {**BASE, "enforcement": {"mechanism": "webhook", "failurePolicy": "Fail"}}


def policy_status(cluster: TestCluster) -> dict:
    return get_json(cluster, "ebp", "-n", NS, POLICY).get("status", {})


def governance_webhook_registered(cluster: TestCluster) -> bool:
    if not cluster.exists("validatingwebhookconfiguration", CONFIGURATION):
        return False
    config = get_json(cluster, "validatingwebhookconfiguration", CONFIGURATION)
    return "policy-governance.sloguard.io" in [w["name"] for w in config.get("webhooks", [])]


@pytest.fixture(scope="module")
def frozen(cluster: TestCluster, helm: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    apply_chart_objects(cluster, helm)  # the user roles; then only the webhook may refuse
    cluster.kubectl("delete", "validatingadmissionpolicybinding", GOVERNANCE)
    cluster.kubectl("create", "namespace", NS)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([*rbac(NS), slo(NS), deployment(NS)]))
    cluster.wait_until(lambda: can_i(cluster, "patch", "errorbudgetpolicies.sloguard.io", NS, *BOB),
                       timeout=60, what="bob's admin role to include ErrorBudgetPolicies (aggregation)")
    set_budget(cluster, NS, -5.0)
    tmp = tmp_path_factory.mktemp("governance-webhook")
    env = {"SLOGUARD_WEBHOOK": "true", "SLOGUARD_WEBHOOK_HOST": "127.0.0.1", "SLOGUARD_WEBHOOK_LISTEN": "127.0.0.1",
           "SLOGUARD_WEBHOOK_PORT": str(free_port()), "SLOGUARD_WEBHOOK_CERT_DIR": str(tmp / "certs"),
           "SLOGUARD_WEBHOOK_FAILURE_POLICY": "Fail", "SLOGUARD_CONFIGURATION_NAME": CONFIGURATION,
           "SLOGUARD_ENFORCEMENT": "webhook"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        runner = operator_runner(NS)
        with runner:
            cluster.wait_until(lambda: governance_webhook_registered(cluster), timeout=60,
                               what="the governance webhook to be registered")
            cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(policy(POLICY, NS, WEBHOOK_SPEC)))
            cluster.wait_until(lambda: policy_status(cluster).get("action") == "freeze", timeout=60,
                               what="the policy to freeze")
            yield
            cluster.kubectl("delete", "ebp", "-n", NS, POLICY, "--ignore-not-found")
        cluster.kubectl("delete", "validatingwebhookconfiguration", CONFIGURATION, f"{CONFIGURATION}-holds",
                        "--ignore-not-found")
    apply_chart_objects(cluster, helm)  # the governance binding back, for whatever runs next
    assert runner.exception is None, runner.exception


@pytest.mark.parametrize("patch, path", [
    ({"levels": [{"name": "exhausted", "remainingBelow": -1000, "action": "freeze"}]}, "spec.levels"),
    ({"enforcement": {"mechanism": "webhook", "failurePolicy": "Fail", "mode": "dryRun"}}, "spec.enforcement.mode"),
    ({"exceptions": {"classes": ["security-fix", "reliability-fix", "rollback", "feature"]}},
     "spec.exceptions.classes"),
], ids=["levels-minus-1000", "mode-dryRun", "extra-class"])
def test_the_webhook_refuses_weakening_without_override(cluster, frozen, patch, path):
    proc = cluster.kubectl(*BOB, "patch", "ebp", "-n", NS, POLICY, "--type=merge", "-p",
                           json.dumps({"spec": patch}), check=False)
    assert proc.returncode != 0, "admitted"
    assert 'admission webhook "policy-governance.sloguard.io" denied the request' in proc.stderr, proc.stderr
    assert expected_denial(NS, POLICY, "freeze", (path,)) in proc.stderr
    assert get_json(cluster, "ebp", "-n", NS, POLICY)["spec"] == WEBHOOK_SPEC


def test_the_webhook_refuses_deleting_without_override(cluster, frozen):
    proc = cluster.kubectl(*BOB, "delete", "ebp", "-n", NS, POLICY, check=False)
    assert proc.returncode != 0
    assert (f"ErrorBudgetPolicy {NS}/{POLICY} is holding (freeze): deleting it needs 'override' on "
            f"errorbudgetpolicies/{POLICY} in {NS}.") in proc.stderr, proc.stderr
    assert policy_status(cluster)["action"] == "freeze"
    refused = set_image(cluster, NS, "nginx:1.26", *BOB)
    assert refused.returncode != 0 and "releases are frozen" in refused.stderr, refused.stderr


def test_the_webhook_lets_the_admin_tighten(cluster, frozen):
    proc = cluster.kubectl(*BOB, "patch", "ebp", "-n", NS, POLICY, "--type=merge", "-p",
                           json.dumps({"spec": {"exceptions": {"classes": ["security-fix"]}}}), check=False)
    assert proc.returncode == 0, proc.stderr


def test_the_webhook_lets_the_override_holder_weaken_and_says_so(cluster, frozen):
    proc = cluster.kubectl(*ALICE, "patch", "ebp", "-n", NS, POLICY, "--type=merge", "-p",
                           json.dumps({"spec": {"recovery": {"unfreezeAbove": 0}}}), check=False)
    assert proc.returncode == 0, proc.stderr
    assert ("ErrorBudgetPolicy sec-governance-webhook/checkout-freeze is holding: weakening "
            "spec.recovery.unfreezeAbove allowed by 'override' of alice") in proc.stderr, proc.stderr
    proc = cluster.kubectl(*ALICE, "delete", "ebp", "-n", NS, POLICY, check=False)
    assert proc.returncode == 0, proc.stderr

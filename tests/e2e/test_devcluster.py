"""The e2e control plane behaves like a real cluster in the ways sloguard relies on.

These tests guard the test infrastructure itself: if GC, namespace
finalization or RBAC silently did not work, operator e2e tests would pass or
fail for the wrong reasons.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the fixture's type; conftest is not imported at run time
    from conftest import TestCluster

pytestmark = pytest.mark.e2e

PROMRULE_CRD = "prometheusrules.monitoring.coreos.com"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def namespace(cluster: TestCluster) -> Iterator[str]:
    name = _name("e2e")
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)


def test_version_is_pinned(cluster: TestCluster) -> None:
    if not cluster.expected_version:
        pytest.skip("only the local control plane is built at a pinned version")
    version = json.loads(cluster.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == cluster.expected_version


def test_prometheusrule_crd_established(cluster: TestCluster) -> None:
    status = cluster.kubectl(
        "get", "crd", PROMRULE_CRD, "-o", 'jsonpath={.status.conditions[?(@.type=="Established")].status}'
    ).stdout
    assert status == "True"
    crds = json.loads(cluster.kubectl("get", "crd", "-o", "json").stdout)["items"]
    not_established = [
        crd["metadata"]["name"]
        for crd in crds
        if not any(c["type"] == "Established" and c["status"] == "True" for c in crd["status"].get("conditions", []))
    ]
    assert not_established == []


def test_prometheusrule_schema_validates(cluster: TestCluster, namespace: str, tmp_path: Path) -> None:
    def rule(**fields: object) -> str:
        manifest = {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": _name("rule"), "namespace": namespace},
            "spec": {"groups": [{"name": "g", "interval": "30s", "rules": [fields]}]},
        }
        path = tmp_path / f"{uuid.uuid4().hex}.json"
        path.write_text(json.dumps(manifest))
        return str(path)

    cluster.kubectl("apply", "-f", rule(record="slo:errors:ratio_rate5m", expr="sum(rate(x[5m]))"))
    cluster.kubectl(
        "apply",
        "-f",
        rule(alert="SLOBurn", expr="vector(1) > 0", **{"for": "5m"}, labels={"severity": "page"}),
    )
    both = cluster.kubectl("apply", "-f", rule(record="a", alert="B", expr="1"), check=False)
    assert both.returncode != 0 and "exactly one of record or alert" in both.stderr
    bad_for = cluster.kubectl("apply", "-f", rule(alert="B", expr="1", **{"for": "five minutes"}), check=False)
    assert bad_for.returncode != 0
    assert cluster.exists("promrule", "-n", namespace)


def test_owner_reference_garbage_collection(cluster: TestCluster, namespace: str) -> None:
    owner, dependent = _name("owner"), _name("dependent")
    cluster.kubectl("create", "configmap", owner, "-n", namespace)
    uid = cluster.kubectl("get", "configmap", owner, "-n", namespace, "-o", "jsonpath={.metadata.uid}").stdout
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": dependent,
            "namespace": namespace,
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": owner, "uid": uid}],
        },
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    assert cluster.exists("configmap", dependent, "-n", namespace)

    cluster.kubectl("delete", "configmap", owner, "-n", namespace)
    cluster.wait_until(
        lambda: not cluster.exists("configmap", dependent, "-n", namespace),
        timeout=60,
        what=f"garbage collection of configmap {dependent}",
    )


def test_namespace_deletion_completes(cluster: TestCluster) -> None:
    name = _name("doomed")
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("create", "configmap", "content", "-n", name)
    cluster.kubectl("delete", "namespace", name, "--wait=false")
    cluster.wait_until(lambda: not cluster.exists("namespace", name), timeout=90, what=f"deletion of namespace {name}")


def test_rbac_is_enforced(cluster: TestCluster) -> None:
    denied = cluster.kubectl("auth", "can-i", "create", "secrets", "--as=someone", check=False)
    assert denied.stdout.strip() == "no", denied
    assert denied.returncode != 0
    allowed = cluster.kubectl("auth", "can-i", "create", "secrets", check=False)
    assert allowed.stdout.strip() == "yes", allowed

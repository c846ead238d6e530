"""``sloguard gate`` against the local control plane, the chart's hold policy and the operator.

The SLO's budget is patched into its status as the budget refresher writes it (-5% left: frozen;
50% left: recovered, above the default unfreeze threshold of 10%). The gate runs as a subprocess,
as a CI step or a PreSync hook would run it, with the test's admin kubeconfig.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ..support import factories
from ..support.cluster import apply, free_port
from ..support.operator import operator_runner
from .conftest import TestCluster
from .holds import install_hold_policy

pytestmark = pytest.mark.e2e

NS = "e2e-gate"
POLICY = "checkout-freeze"
SLO_NAME = "checkout-availability"
LABELS = {"app": "checkout"}
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gate" / "argocd-presync-gate.yaml"
#: bob may release workloads in the namespace, nothing more (no override).
EDITOR = [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "editor", "namespace": NS},
     "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "update", "patch"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "bob", "namespace": NS},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "editor"},
     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}]},
]


def example_rbac() -> list[dict]:
    """The example hook's ServiceAccount and RBAC, moved into the test namespace (the Job itself needs an image)."""
    docs = [d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d and d["kind"] != "Job"]
    text = yaml.safe_dump_all(docs).replace("namespace: shop", f"namespace: {NS}")
    return [d for d in yaml.safe_load_all(text.replace("self-review-shop", f"self-review-{NS}")) if d]


def token_kubeconfig(cluster: TestCluster, path: Path, service_account: str) -> Path:
    """A kubeconfig that authenticates as ``service_account`` (a TokenRequest), as the hook's Pod would."""
    token = cluster.kubectl("create", "token", "-n", NS, service_account).stdout.strip()
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    name = config["contexts"][0]["context"]["user"]
    config["users"] = [{"name": name, "user": {"token": token}}]
    path.write_text(yaml.safe_dump(config))
    return path


def deployment(name: str, labels: dict[str, str]) -> dict:
    return factories.deployment(name, NS, labels)


def set_budget(cluster: TestCluster, remaining_percent: float) -> None:
    status = {"budget": {"remaining": remaining_percent / 100, "remainingPercent": remaining_percent},
              "burnRates": {"1h": 1.0}, "state": "exhausted" if remaining_percent <= 0 else "healthy",
              "lastEvaluated": "2025-03-11T00:00:00Z"}
    cluster.kubectl("patch", "slo", "-n", NS, SLO_NAME, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": status}))


def policy_status(cluster: TestCluster) -> dict:
    return json.loads(cluster.kubectl("get", "ebp", "-n", NS, POLICY, "-o", "json").stdout).get("status", {})


def gate_argv(cluster: TestCluster, *args: str) -> list[str]:
    return [sys.executable, "-m", "sloguard", "gate", "--kubeconfig", str(cluster.kubeconfig), *args]


def gate(cluster: TestCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(gate_argv(cluster, *args), capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def operator(cluster: TestCluster) -> Iterator[None]:
    """checkout frozen by an exhausted budget (the chart's hold policy enforces); search held by nobody."""
    cluster.kubectl("create", "namespace", NS)
    install_hold_policy(cluster)
    slo = {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
           "metadata": {"name": SLO_NAME, "namespace": NS},
           "spec": {"service": "checkout", "objective": 99.9,
                    "sli": {"ratio": {"errors": 'http_requests_total{job="checkout",code=~"5.."}',
                                      "total": 'http_requests_total{job="checkout"}'}}}}
    apply(cluster, slo, deployment("checkout", LABELS), deployment("search", {"app": "search"}), *EDITOR,
          *example_rbac())
    set_budget(cluster, -5.0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLOGUARD_WEBHOOK", "false")
        runner = operator_runner()
        with runner:
            apply(cluster, {"apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetPolicy",
                            "metadata": {"name": POLICY, "namespace": NS},
                            "spec": {"slos": [SLO_NAME],
                                     "targets": [{"kind": "Deployment", "selector": {"matchLabels": LABELS}}]}})
            cluster.wait_until(lambda: policy_status(cluster).get("action") == "freeze", timeout=60,
                               what="the freeze")
            yield
            cluster.kubectl("delete", "ebp", "-n", NS, POLICY)
    cluster.kubectl("delete", "namespace", NS, "--wait=false")
    assert runner.exception is None, runner.exception


def test_gate_holds_a_frozen_workload_naming_policy_slo_budget_and_override(cluster, operator):
    proc = gate(cluster, "checkout", "-n", NS)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.startswith(f"HELD: a release of Deployment {NS}/checkout would be refused now."), out
    assert f"ErrorBudgetPolicy {NS}/{POLICY}: freeze (level exhausted)" in out
    assert f"SLO {SLO_NAME}: -5.0% of its error budget left (deciding)" in out
    assert f"releases are frozen by ErrorBudgetPolicy {NS}/{POLICY}" in out
    # the test's kubeconfig is a cluster admin: RBAC grants it override, and the gate says so
    assert f"Who may override: whoever RBAC grants 'override' on errorbudgetpolicies/{POLICY} in {NS}" in out
    assert out.rstrip().endswith(" can."), out
    # the API server agrees: a server-side dry-run of a release is refused by the hold policy
    dry = cluster.kubectl("--as=bob", "set", "image", "-n", NS, "deployment/checkout", "app=nginx:1.99",
                          "--dry-run=server", check=False)
    assert dry.returncode != 0 and "releases are frozen" in dry.stderr, dry.stderr


def test_gate_as_the_example_hooks_service_account_reads_enough_and_may_not_override(cluster, operator, tmp_path):
    """The example's RBAC is all the gate needs; its ServiceAccount is told it cannot override."""
    kubeconfig = token_kubeconfig(cluster, tmp_path / "hook.kubeconfig", "sloguard-gate")
    proc = subprocess.run([sys.executable, "-m", "sloguard", "gate", "--kubeconfig", str(kubeconfig), "checkout",
                           "-n", NS], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"SLO {SLO_NAME}: -5.0% of its error budget left (deciding)" in proc.stdout
    assert proc.stdout.rstrip().endswith(f"system:serviceaccount:{NS}:sloguard-gate cannot."), proc.stdout
    other = subprocess.run([sys.executable, "-m", "sloguard", "gate", "--kubeconfig", str(kubeconfig), "search",
                            "-n", NS], capture_output=True, text=True, timeout=120, check=False)
    assert other.returncode == 0, other.stdout + other.stderr


def test_the_api_server_accepts_every_object_of_the_example_hook(cluster, operator):
    text = EXAMPLE.read_text().replace("namespace: shop", f"namespace: {NS}")
    proc = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=text)
    for kind in ("serviceaccount", "role.rbac.authorization.k8s.io", "rolebinding.rbac.authorization.k8s.io",
                 "clusterrole.rbac.authorization.k8s.io", "clusterrolebinding.rbac.authorization.k8s.io",
                 "job.batch/sloguard-gate-checkout"):
        assert kind in proc.stdout, proc.stdout


def test_gate_json_and_the_kind_name_form(cluster, operator):
    proc = gate(cluster, "deployment/checkout", "-n", NS, "-o", "json")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["admitted"] is False
    (b,) = out["blockers"]
    assert (b["policy"], b["action"], b["enforcement"]) == (POLICY, "freeze", "Deny")
    assert b["slos"] == [{"name": SLO_NAME, "remaining_percent": -5.0, "deciding": True}]


def test_gate_admits_a_workload_nobody_holds(cluster, operator):
    proc = gate(cluster, "search", "-n", NS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"ADMITTED: a release of Deployment {NS}/search would be admitted now")


def test_gate_admits_a_release_carrying_an_allowed_exception_class(cluster, operator):
    assert gate(cluster, "checkout", "-n", NS, "--exception", "rollback").returncode == 0
    assert gate(cluster, "checkout", "-n", NS, "--exception", "feature").returncode == 1


def test_the_ci_step_example_stops_a_frozen_deploy_and_lets_an_unheld_one_go(cluster, operator):
    script = EXAMPLE.parent / "ci-gate.sh"
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig), "SLOGUARD": f"{sys.executable} -m sloguard"}
    held = subprocess.run(["sh", str(script), "checkout", NS], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert held.returncode == 1, held.stdout + held.stderr
    assert f"ErrorBudgetPolicy {NS}/{POLICY}: freeze" in held.stdout
    assert f"ci-gate: {NS}/checkout is held by an error budget policy (above); not deploying" in held.stderr
    free = subprocess.run(["sh", str(script), "search", NS, "1m"], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert free.returncode == 0, free.stdout + free.stderr
    assert f"ci-gate: a release of {NS}/search would be admitted; deploying" in free.stdout


def test_gate_reports_an_unreachable_api_server_with_exit_3(cluster, operator, tmp_path: Path):
    port = free_port()
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    for entry in config["clusters"]:
        entry["cluster"]["server"] = f"https://127.0.0.1:{port}"
    dead = tmp_path / "dead.kubeconfig"
    dead.write_text(yaml.safe_dump(config))
    proc = subprocess.run([sys.executable, "-m", "sloguard", "gate", "--kubeconfig", str(dead), "checkout",
                           "-n", NS], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"cannot reach the API server at https://127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_gate_gives_up_on_an_api_server_that_never_answers_with_exit_3(tmp_path: Path):
    """A black hole (accepts, never answers): the client library sets no timeout; --request-timeout does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "hole",
              "clusters": [{"name": "hole", "cluster": {"server": f"https://127.0.0.1:{port}",
                                                         "insecure-skip-tls-verify": True}}],
              "users": [{"name": "hole", "user": {"token": "t"}}],
              "contexts": [{"name": "hole", "context": {"cluster": "hole", "user": "hole"}}]}
    path = tmp_path / "hole.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    try:
        proc = subprocess.run([sys.executable, "-m", "sloguard", "gate", "--kubeconfig", str(path), "checkout",
                               "-n", NS, "--request-timeout", "2s"], capture_output=True, text=True, timeout=120,
                              check=False)
    finally:
        server.close()
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "no answer from the API server within 2s (--request-timeout)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_gate_wait_returns_0_once_the_budget_recovers(cluster, operator):
    """Last in this module: it lifts the freeze."""
    proc = subprocess.Popen(gate_argv(cluster, "checkout", "-n", NS, "--wait", "90s", "--interval", "1s"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        first = proc.stderr.readline()  # printed after a check found the release held
        assert first.startswith("held; checking again"), first
        set_budget(cluster, 50.0)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    assert out.startswith(f"ADMITTED: a release of Deployment {NS}/checkout would be admitted now"), out
    assert policy_status(cluster).get("action") == "none"
    assert gate(cluster, "checkout", "-n", NS).returncode == 0

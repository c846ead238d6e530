"""The freeze as an attacker with ordinary edit rights sees it: every bypass of issue #10, closed.

A real API server, the chart's hold admission policy (``tests/e2e/holds.py``: the same objects the
chart installs, from the same source), the operator (KopfRunner) and an exhausted budget (the SLO's
status patched as the budget refresher writes it). ``bob`` may create, change and delete every
workload kind in the namespace (Deployments, ReplicaSets, StatefulSets, DaemonSets, Pods, Argo
Rollouts) and nothing else; ``alice`` may also ``override`` the policy. Each test states the attack
and what the API server answers.
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ..support.cluster import apply, free_port, get_json
from ..support.operator import operator_runner
from .conftest import TestCluster
from .holds import enforcement, hold_params, install_hold_policy

NS = "e2e-freeze"
POLICY = "checkout-freeze"
SLO_NAME = "checkout-availability"
CONFIGURATION = "sloguard-e2e-freeze"
BOB = ("--as=bob", "--as-group=devs")
ALICE = ("--as=alice", "--as-group=devs")
FROZEN = "releases are frozen by ErrorBudgetPolicy e2e-freeze/checkout-freeze"
LABELS = {"app": "checkout"}

ROLLOUT_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "rollouts.argoproj.io"},
    "spec": {"group": "argoproj.io", "scope": "Namespaced",
             "names": {"kind": "Rollout", "listKind": "RolloutList", "plural": "rollouts", "singular": "rollout"},
             "versions": [{"name": "v1alpha1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object",
                                                          "x-kubernetes-preserve-unknown-fields": True}}}]},
}

RBAC = [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "editor", "namespace": NS},
     "rules": [{"apiGroups": ["apps"],
                "resources": ["deployments", "deployments/scale", "replicasets", "statefulsets", "daemonsets"],
                "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
               {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "create", "update", "patch",
                                                                     "delete"]},
               {"apiGroups": ["argoproj.io"], "resources": ["rollouts"],
                "verbs": ["get", "list", "create", "update", "patch", "delete"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "devs", "namespace": NS},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "editor"},
     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "overrider", "namespace": NS},
     "rules": [{"apiGroups": ["sloguard.io"], "resources": ["errorbudgetpolicies"], "resourceNames": [POLICY],
                "verbs": ["override"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "alice-override", "namespace": NS},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "overrider"},
     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]},
]


def create(cluster: TestCluster, doc: dict, *who: str, dry_run: bool = False):
    extra = ("--dry-run=server",) if dry_run else ()
    return cluster.kubectl(*who, "create", *extra, "-f", "-", input=yaml.safe_dump(doc), check=False)


def template(image: str, labels: dict | None = None) -> dict:
    return {"metadata": {"labels": dict(labels or LABELS)},
            "spec": {"containers": [{"name": "app", "image": image}]}}


def workload(kind: str, name: str, image: str = "nginx:1.25", labels: dict | None = None,
             template_labels: dict | None = None) -> dict:
    """``labels`` go to metadata (omitted when None); the selector and template use ``template_labels``."""
    tl = dict(template_labels or LABELS)
    api = "argoproj.io/v1alpha1" if kind == "Rollout" else "apps/v1"
    meta: dict = {"name": name, "namespace": NS}
    if labels is not None:
        meta["labels"] = labels
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {**meta, "labels": labels or {}},
                "spec": template(image)["spec"]}
    spec: dict = {"selector": {"matchLabels": tl}, "template": template(image, tl)}
    if kind in ("Deployment", "ReplicaSet", "StatefulSet", "Rollout"):
        spec["replicas"] = 1
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec}


def set_budget(cluster: TestCluster, remaining_percent: float) -> None:
    status = {"budget": {"remaining": remaining_percent / 100, "remainingPercent": remaining_percent},
              "burnRates": {"1h": 1.0}, "state": "exhausted" if remaining_percent <= 0 else "healthy",
              "lastEvaluated": "2025-03-11T00:00:00Z"}
    cluster.kubectl("patch", "slo", "-n", NS, SLO_NAME, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": status}))


def policy_status(cluster: TestCluster) -> dict:
    return get_json(cluster, "ebp", "-n", NS, POLICY).get("status", {})


def meta_of(cluster: TestCluster, name: str = "checkout") -> dict:
    return get_json(cluster, "deployment", "-n", NS, name)["metadata"]


def image_of(cluster: TestCluster, name: str = "checkout") -> str:
    return get_json(cluster, "deployment", "-n", NS, name)["spec"]["template"]["spec"]["containers"][0]["image"]


def set_image(cluster: TestCluster, image: str, *who: str, name: str = "checkout", dry_run: bool = False):
    extra = ("--dry-run=server",) if dry_run else ()
    return cluster.kubectl(*who, "set", "image", "-n", NS, f"deployment/{name}", f"app={image}", *extra,
                           check=False)


def exemptions(cluster: TestCluster) -> list[dict]:
    return list(policy_status(cluster).get("exemptions") or [])


def events(cluster: TestCluster, name: str, reason: str) -> list[dict]:
    items = get_json(cluster, "events", "-n", NS, "--field-selector", f"involvedObject.name={name}")["items"]
    return [e for e in items if e["reason"] == reason]


def policy(mechanism: str = "admissionPolicy") -> dict:
    return {"apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetPolicy",
            "metadata": {"name": POLICY, "namespace": NS},
            "spec": {"slos": [SLO_NAME], "targets": [{"kind": "Deployment", "selector": {"matchLabels": LABELS}}],
                     "enforcement": {"mechanism": mechanism, "failurePolicy": "Fail"}}}


@pytest.fixture(scope="module")
def frozen(cluster: TestCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Namespace, RBAC, the Rollout CRD, checkout (+ checkout-api) frozen by an exhausted budget."""
    tmp = tmp_path_factory.mktemp("freeze-operator")
    cluster.kubectl("create", "namespace", NS)
    apply(cluster, ROLLOUT_CRD)
    cluster.kubectl("wait", "--for", "condition=established", "--timeout=60s", "crd/rollouts.argoproj.io")
    install_hold_policy(cluster)
    apply(cluster, *RBAC)
    slo = {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
           "metadata": {"name": SLO_NAME, "namespace": NS},
           "spec": {"service": "checkout", "objective": 99.9,
                    "sli": {"ratio": {"errors": 'http_requests_total{job="checkout",code=~"5.."}',
                                      "total": 'http_requests_total{job="checkout"}'}}}}
    apply(cluster, slo, workload("Deployment", "checkout", labels=LABELS),
          workload("Deployment", "checkout-api", labels=LABELS))
    set_budget(cluster, -5.0)
    port = free_port()
    env = {"SLOGUARD_WEBHOOK": "true", "SLOGUARD_WEBHOOK_HOST": "127.0.0.1", "SLOGUARD_WEBHOOK_LISTEN": "127.0.0.1",
           "SLOGUARD_WEBHOOK_PORT": str(port), "SLOGUARD_WEBHOOK_CERT_DIR": str(tmp / "certs"),
           "SLOGUARD_CONFIGURATION_NAME": CONFIGURATION}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        runner = operator_runner()
        with runner:
            apply(cluster, policy())
            cluster.wait_until(lambda: policy_status(cluster).get("action") == "freeze"
                               and policy_status(cluster).get("held") == 2, timeout=60, what="the freeze on both")

            def denied() -> bool:  # the API server's informer takes a moment to see new params
                proc = set_image(cluster, "nginx:1.99", *BOB, dry_run=True)
                return proc.returncode != 0 and FROZEN in proc.stderr

            cluster.wait_until(denied, timeout=30, what="the freeze enforced")
            yield {"port": port, "certs": tmp / "certs"}
            cluster.kubectl("delete", "ebp", "-n", NS, POLICY)
    cluster.kubectl("delete", "validatingwebhookconfiguration", CONFIGURATION, f"{CONFIGURATION}-holds",
                    "--ignore-not-found")
    cluster.kubectl("delete", "namespace", NS, "--wait=false")
    assert runner.exception is None, runner.exception


# --- 1. holds follow the workload ----------------------------------------------------------------

def test_relabelling_a_held_deployment_out_of_its_target_is_refused(cluster, frozen):
    proc = cluster.kubectl(*BOB, "label", "-n", NS, "deployment/checkout", "app=checkout-x", "--overwrite",
                           check=False)
    assert proc.returncode != 0 and FROZEN in proc.stderr, proc.stderr
    assert meta_of(cluster)["labels"]["app"] == "checkout"
    # other labels stay free to change
    cluster.kubectl(*BOB, "label", "-n", NS, "deployment/checkout", "team=payments")


def test_a_hold_survives_a_relabel_and_the_operators_next_pass(cluster, frozen):
    """Someone allowed to (alice: override) moves checkout-api out of the target: it stays held."""
    cluster.kubectl(*ALICE, "label", "-n", NS, "deployment/checkout-api", "app=elsewhere", "--overwrite")
    # a spec edit (the default made explicit) makes the operator re-evaluate at once
    cluster.kubectl("patch", "ebp", "-n", NS, POLICY, "--type=merge",
                    "-p", '{"spec":{"recovery":{"unfreezeAbove":10}}}')
    generation = get_json(cluster, "ebp", "-n", NS, POLICY)["metadata"]["generation"]
    cluster.wait_until(lambda: policy_status(cluster).get("observedGeneration") == generation, timeout=30,
                       what="the operator's pass over the edited policy")
    assert {"kind": "Deployment", "name": "checkout-api"} in policy_status(cluster)["heldTargets"]
    held = hold_params(cluster, NS, POLICY)["spec"]["held"]
    assert {"kind": "Deployment", "name": "checkout-api"} in held
    assert meta_of(cluster, "checkout-api")["labels"]["sloguard.io/hold"] == "freeze"
    proc = set_image(cluster, "nginx:1.26", *BOB, name="checkout-api")
    assert proc.returncode != 0 and FROZEN in proc.stderr, proc.stderr


@pytest.mark.parametrize(("labels", "template_labels"), [
    (None, LABELS),                      # no metadata.labels: matched on the pod-template labels
    (None, {"app": "renamed"}),          # nothing matches any more: matched on the held name
], ids=["template-labels", "name"])
def test_delete_and_recreate_of_a_held_deployment_is_refused(cluster, frozen, labels, template_labels):
    name = "checkout-api"
    original = get_json(cluster, "deployment", "-n", NS, name)
    cluster.kubectl(*BOB, "delete", "deployment", "-n", NS, name)
    try:
        proc = create(cluster, workload("Deployment", name, "nginx:1.26", labels, template_labels), *BOB)
        assert proc.returncode != 0 and FROZEN in proc.stderr, proc.stderr
    finally:  # put it back as it was (alice may)
        for key in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
            original["metadata"].pop(key, None)
        original.pop("status", None)
        create(cluster, original, *ALICE)
    assert image_of(cluster, name) == "nginx:1.25"


@pytest.mark.parametrize("kind", ["ReplicaSet", "Pod", "StatefulSet", "DaemonSet", "Rollout", "Deployment"])
def test_a_bare_workload_of_any_kind_matching_the_target_is_refused(cluster, frozen, kind):
    labels = LABELS if kind in ("Pod", "StatefulSet") else None  # the others: pod-template labels only
    proc = create(cluster, workload(kind, f"sneaky-{kind.lower()}", "nginx:1.26", labels), *BOB)
    assert proc.returncode != 0 and f"{kind} {NS}/sneaky-{kind.lower()}: {FROZEN}" in proc.stderr, proc.stderr
    # the same kind for another app goes through (server-side dry run: admission runs in full)
    other = {"app": "other"}
    proc = create(cluster, workload(kind, f"fine-{kind.lower()}", "nginx:1.26", other, other), *BOB, dry_run=True)
    assert proc.returncode == 0, proc.stderr


def test_the_workload_controllers_are_not_judged(cluster, frozen):
    """A held Deployment's own ReplicaSets and Pods are its controllers' business (kube-controller-manager)."""
    rs = workload("ReplicaSet", "checkout-controlled", "nginx:1.26")
    proc = cluster.kubectl("--as=system:kube-controller-manager", "--as-group=system:masters", "create",
                           "--dry-run=server", "-f", "-", input=yaml.safe_dump(rs), check=False)
    assert proc.returncode == 0, proc.stderr


# --- 2. exceptions per release, on record ----------------------------------------------------------

def _patch(image: str, annotations: dict) -> str:
    return json.dumps({"metadata": {"annotations": annotations},
                       "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}})


def test_an_exception_covers_the_release_that_carries_it_and_no_later_one(cluster, frozen):
    before = len(exemptions(cluster))

    def recorded() -> list[dict]:
        return [e for e in exemptions(cluster)[before:] if e["name"] == "checkout"]

    cluster.kubectl(*BOB, "patch", "-n", NS, "deployment/checkout", "-p",
                    _patch("nginx:1.26", {"sloguard.io/exception": "security-fix",
                                          "sloguard.io/exception-reason": "CVE-2026-1"}))
    assert image_of(cluster) == "nginx:1.26"
    generation = meta_of(cluster)["generation"]
    cluster.wait_until(lambda: len(recorded()) == 1, timeout=30, what="the release in status.exemptions")
    # annotate once, release many: the next release carries no exception of its own
    proc = set_image(cluster, "nginx:1.27", *BOB)
    assert proc.returncode != 0 and FROZEN in proc.stderr, proc.stderr
    assert "was not set or changed by this change" in proc.stderr
    # a new reason is a new exception: one more release
    cluster.kubectl(*BOB, "patch", "-n", NS, "deployment/checkout", "-p",
                    _patch("nginx:1.27", {"sloguard.io/exception-reason": "CVE-2026-2"}))
    assert image_of(cluster) == "nginx:1.27"
    cluster.wait_until(lambda: len(recorded()) == 2, timeout=30, what="both releases in status.exemptions")
    first, second = recorded()
    assert (first["exemption"], first["reason"], first["generation"], first["action"]) == (
        "security-fix", "CVE-2026-1", generation, "freeze")
    assert (second["exemption"], second["reason"], second["generation"]) == ("security-fix", "CVE-2026-2",
                                                                             generation + 1)
    assert first["kind"] == "Deployment" and first["at"].endswith("Z")
    cluster.wait_until(lambda: len(events(cluster, POLICY, "HoldExemption")) >= 1, timeout=30,
                       what="a HoldExemption Event on the policy")
    messages = " ".join(e["message"] for e in events(cluster, POLICY, "HoldExemption"))
    assert f"Deployment {NS}/checkout generation {generation} released under freeze by security-fix" in messages


def _replica_set(revision: int, image: str, owner: dict) -> dict:
    rs = workload("ReplicaSet", f"checkout-rev{revision}", image, labels=LABELS)
    rs["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": str(revision)}
    rs["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout",
                                          "uid": owner["uid"], "controller": True}]
    return rs


def test_rollout_undo_with_class_rollback_is_admitted_and_the_hold_metadata_comes_back(cluster, frozen):
    """``kubectl rollout undo`` replaces spec.template and metadata.annotations with an old revision's."""
    owner = meta_of(cluster)
    current = image_of(cluster)
    # the revision history the deployment controller would have kept (this control plane runs none)
    for doc in (_replica_set(1, "nginx:1.24", owner), _replica_set(2, current, owner)):
        proc = create(cluster, doc, *ALICE)
        assert proc.returncode == 0, proc.stderr
    # the security-fix exception left over from the last test's release is used up: removing it
    # (the undo replaces all annotations) carries nothing
    assert meta_of(cluster)["annotations"]["sloguard.io/exception"] == "security-fix"
    proc = cluster.kubectl(*BOB, "rollout", "undo", "-n", NS, "deployment/checkout", check=False)
    assert proc.returncode != 0 and "ErrorBudgetPolicy" in proc.stderr, proc.stderr
    # class rollback, annotated first (metadata only); the operator's watch arms it for one release
    cluster.kubectl(*BOB, "annotate", "-n", NS, "deployment/checkout", "sloguard.io/exception=rollback",
                    "sloguard.io/exception-reason=INC-7", "--overwrite")
    cluster.wait_until(lambda: meta_of(cluster)["annotations"].get("sloguard.io/exception-armed") == "rollback/INC-7",
                       timeout=30, what="the exception armed by the operator")
    before = len(exemptions(cluster))
    proc = cluster.kubectl(*BOB, "rollout", "undo", "-n", NS, "deployment/checkout", check=False)
    assert proc.returncode == 0, proc.stderr
    assert image_of(cluster) == "nginx:1.24"
    cluster.wait_until(lambda: (meta_of(cluster).get("labels") or {}).get("sloguard.io/hold") == "freeze"
                       and (meta_of(cluster).get("annotations") or {}).get("sloguard.io/hold-policy") == POLICY,
                       timeout=30, what="the hold metadata re-added by the operator")
    cluster.wait_until(lambda: any(e["exemption"] == "rollback" and e["name"] == "checkout"
                                   for e in exemptions(cluster)[before:]), timeout=30, what="the undo recorded")
    # the exception was used up by the undo: the next release is refused again
    proc = set_image(cluster, "nginx:1.28", *BOB)
    assert proc.returncode != 0 and FROZEN in proc.stderr, proc.stderr


def test_rollout_undo_by_an_override_user_is_admitted(cluster, frozen):
    target = get_json(cluster, "replicaset", "-n", NS, "checkout-rev2")["spec"]["template"]["spec"]
    before = len(exemptions(cluster))
    proc = cluster.kubectl(*ALICE, "rollout", "undo", "-n", NS, "deployment/checkout", "--to-revision=2",
                           check=False)
    assert proc.returncode == 0, proc.stderr
    assert image_of(cluster) == target["containers"][0]["image"] != "nginx:1.24"
    cluster.wait_until(lambda: (meta_of(cluster).get("labels") or {}).get("sloguard.io/hold") == "freeze"
                       and (meta_of(cluster).get("annotations") or {}).get("sloguard.io/hold-policy") == POLICY,
                       timeout=30, what="the hold metadata re-added")
    cluster.wait_until(lambda: [e["exemption"] for e in exemptions(cluster)[before:]] == ["override"],
                       timeout=30, what="the override recorded")


def test_an_old_revisions_armed_exception_brought_back_by_an_undo_is_disarmed(cluster, frozen):
    """On a real cluster the deployment controller copies annotations into ReplicaSets, so an undo
    can bring back an old ``exception-armed``; the operator removes it before it is used twice."""
    stale = {"sloguard.io/exception": "rollback", "sloguard.io/exception-reason": "INC-1",
             "sloguard.io/exception-armed": "rollback/INC-1"}
    undo_like = [{"op": "replace", "path": "/spec/template", "value": template("nginx:1.20")},
                 {"op": "replace", "path": "/metadata/annotations", "value": stale}]
    cluster.kubectl(*ALICE, "patch", "-n", NS, "deployment/checkout", "--type=json", "-p", json.dumps(undo_like))
    cluster.wait_until(lambda: "sloguard.io/exception-armed" not in (meta_of(cluster).get("annotations") or {})
                       and meta_of(cluster)["annotations"].get("sloguard.io/hold-policy") == POLICY,
                       timeout=30, what="the stale armed exception removed, the hold metadata back")
    assert meta_of(cluster)["annotations"]["sloguard.io/exception"] == "rollback"
    proc = cluster.kubectl(*BOB, "patch", "-n", NS, "deployment/checkout", "--type=merge",
                           "-p", _patch("nginx:1.21", {"sloguard.io/exception": None,
                                                       "sloguard.io/exception-reason": None}), check=False)
    assert proc.returncode != 0 and FROZEN in proc.stderr, proc.stderr


# --- the params: written by the operator only ----------------------------------------------------

def test_the_hold_params_cannot_be_changed_even_with_rbac_on_them(cluster, frozen):
    """A namespace admin whose role happens to include sloguard.io/* still cannot lift a hold."""
    grant = [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
              "metadata": {"name": "holds-admin", "namespace": NS},
              "rules": [{"apiGroups": ["sloguard.io"], "resources": ["errorbudgetholds"], "verbs": ["*"]}]},
             {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
              "metadata": {"name": "bob-holds-admin", "namespace": NS},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "holds-admin"},
              "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}]}]
    apply(cluster, *grant)
    try:
        proc = cluster.kubectl(*BOB, "patch", "errorbudgethold", "-n", NS, POLICY, "--type=merge",
                               "-p", '{"spec":{"action":"none"}}', check=False)
        assert proc.returncode != 0 and "written by the sloguard operator only" in proc.stderr, proc.stderr
        proc = cluster.kubectl(*BOB, "delete", "errorbudgethold", "-n", NS, POLICY, check=False)
        assert proc.returncode != 0 and "written by the sloguard operator only" in proc.stderr, proc.stderr
        proc = cluster.kubectl(*BOB, "label", "errorbudgethold", "-n", NS, POLICY,
                               "sloguard.io/enforcement=none", "--overwrite", check=False)
        assert proc.returncode != 0, proc.stderr
    finally:
        cluster.kubectl("delete", "rolebinding", "-n", NS, "bob-holds-admin")
    assert enforcement(cluster, NS, POLICY) == "Deny"


# --- the webhook mechanism: same decisions, records from the watch only ----------------------------

def _forged_review(port: int, certs: Path) -> dict:
    """What anyone reaching the webhook port can POST: a 'release' by alice with class security-fix."""
    old = workload("Deployment", "checkout", "nginx:1.25", LABELS)
    new = workload("Deployment", "checkout", "nginx:6.66", LABELS)
    new["metadata"]["annotations"] = {"sloguard.io/exception": "security-fix"}
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
              "request": {"uid": "forged", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                          "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
                          "namespace": NS, "name": "checkout", "operation": "UPDATE",
                          "userInfo": {"username": "alice", "groups": ["devs"]},
                          "object": new, "oldObject": old, "dryRun": False}}
    ctx = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    req = urllib.request.Request(f"https://127.0.0.1:{port}/validate-hold", data=json.dumps(review).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:  # noqa: S310 - loopback test server
        return dict(json.loads(resp.read()))


def test_the_webhook_mechanism_refuses_the_same_bypasses_and_records_only_what_landed(cluster, frozen):
    apply(cluster, policy(mechanism="webhook"))
    cluster.wait_until(lambda: cluster.exists("validatingwebhookconfiguration", f"{CONFIGURATION}-holds")
                       and enforcement(cluster, NS, POLICY) == "none", timeout=60, what="the holds webhook")

    def denied() -> bool:
        proc = cluster.kubectl(*BOB, "label", "-n", NS, "deployment/checkout", "app=checkout-x", "--overwrite",
                               "--dry-run=server", check=False)
        return proc.returncode != 0 and 'admission webhook "held.holds.sloguard.io" denied' in proc.stderr

    cluster.wait_until(denied, timeout=30, what="the webhook refusing a relabel out of the target")
    proc = create(cluster, workload("ReplicaSet", "sneaky-rs-wh", "nginx:1.26"), *BOB)
    assert proc.returncode != 0 and FROZEN in proc.stderr, proc.stderr

    before = exemptions(cluster)
    answer = _forged_review(frozen["port"], frozen["certs"])
    assert answer["response"]["allowed"] is True  # the webhook only answers; it records nothing
    cluster.kubectl(*BOB, "patch", "-n", NS, "deployment/checkout", "-p",
                    _patch("nginx:1.30", {"sloguard.io/exception": "reliability-fix"}))
    cluster.wait_until(lambda: any(e["exemption"] == "reliability-fix" for e in exemptions(cluster)[len(before):]),
                       timeout=30, what="the real release recorded")
    new = exemptions(cluster)[len(before):]
    assert [e["exemption"] for e in new] == ["reliability-fix"], new  # nothing from the forged review
    assert image_of(cluster) == "nginx:1.30"

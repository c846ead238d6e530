"""The Argo CD PreSync gate example: valid Kubernetes objects (the client's own models read them),
wired to each other, with exactly the rights ``sloguard gate`` uses, and arguments the CLI accepts.
The API server's own verdict on the same file (server-side dry run) is in tests/e2e/test_gate.py."""

from __future__ import annotations

import pytest
import yaml
from kubernetes.client import ApiClient

from sloguard.cli import build_parser

from .conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "gate" / "argocd-presync-gate.yaml"
MODELS = {"ServiceAccount": "V1ServiceAccount", "Role": "V1Role", "RoleBinding": "V1RoleBinding",
          "ClusterRole": "V1ClusterRole", "ClusterRoleBinding": "V1ClusterRoleBinding", "Job": "V1Job"}


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    found = [d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d]
    by_kind = {d["kind"]: d for d in found}
    assert len(by_kind) == len(found), "one object per kind"
    return by_kind


def test_every_object_is_a_valid_kubernetes_object_of_its_kind(docs):
    assert set(docs) == set(MODELS)
    client = ApiClient()
    for kind, doc in docs.items():
        # the client's models refuse a missing required field (client-side validation)
        model = client._ApiClient__deserialize(doc, MODELS[kind])  # type: ignore[attr-defined]
        assert model.kind == kind and model.metadata.name


def test_the_hook_objects_are_presync_and_rbac_comes_first(docs):
    for kind, doc in docs.items():
        annotations = doc["metadata"]["annotations"]
        assert annotations["argocd.argoproj.io/hook"] == "PreSync", kind
        wave = int(annotations.get("argocd.argoproj.io/sync-wave", "0"))
        assert wave == (0 if kind == "Job" else -1), kind


def test_the_job_runs_as_the_bound_service_account(docs):
    sa = docs["ServiceAccount"]["metadata"]
    pod = docs["Job"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == sa["name"]
    assert docs["Job"]["metadata"]["namespace"] == sa["namespace"]
    assert docs["Job"]["spec"]["backoffLimit"] == 0
    for binding, role in (("RoleBinding", "Role"), ("ClusterRoleBinding", "ClusterRole")):
        b = docs[binding]
        assert b["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": role,
                                "name": docs[role]["metadata"]["name"]}
        assert b["subjects"] == [{"kind": "ServiceAccount", "name": sa["name"], "namespace": sa["namespace"]}]


def _grants(rules: list[dict]) -> set[tuple[str, str, str]]:
    return {(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def test_the_rbac_grants_what_the_gate_reads_and_nothing_that_writes(docs):
    grants = _grants(docs["Role"]["rules"]) | _grants(docs["ClusterRole"]["rules"])
    needed = {("sloguard.io", "errorbudgetholds", "list"), ("sloguard.io", "errorbudgetpolicies", "get"),
              ("sloguard.io", "servicelevelobjectives", "list"), ("apps", "deployments", "get"),
              ("apps", "statefulsets", "get"), ("apps", "daemonsets", "get"), ("argoproj.io", "rollouts", "get"),
              ("authorization.k8s.io", "selfsubjectaccessreviews", "create"),
              ("authentication.k8s.io", "selfsubjectreviews", "create")}
    assert needed <= grants
    writes = {"create", "update", "patch", "delete", "override", "approve", "*"}
    assert {g for g in grants if g[2] in writes} == {("authorization.k8s.io", "selfsubjectaccessreviews", "create"),
                                                      ("authentication.k8s.io", "selfsubjectreviews", "create")}


def test_the_job_arguments_parse_as_a_gate_command(docs):
    (container,) = docs["Job"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["sloguard"]
    argv = list(container["args"])
    args = build_parser(argv).parse_args(argv)
    assert (args.command, args.workload, args.namespace, args.kind) == ("gate", "checkout", "shop", "Deployment")
    assert args.wait == 15 * 60 and args.interval == 30
    assert docs["Job"]["spec"]["activeDeadlineSeconds"] > args.wait

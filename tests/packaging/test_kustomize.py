"""The kustomize manifests are the chart rendered: base and every overlay equal `helm template`."""

from __future__ import annotations

import subprocess

import pytest
import sync_chart  # hack/, put on sys.path by conftest
import yaml

from .conftest import REPO_ROOT

MANIFESTS = REPO_ROOT / "manifests"


def kustomize(path) -> dict[tuple, dict]:
    proc = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return {sync_chart.key(d): d for d in yaml.safe_load_all(proc.stdout) if d}


def chart(values) -> dict[tuple, dict]:
    docs = [sync_chart.namespace_doc(), *sync_chart.helm_template(values)]
    return {sync_chart.key(d): d for d in docs}


def test_the_base_is_the_chart_with_operator_made_certificates():
    assert kustomize(MANIFESTS / "base") == chart(sync_chart.BASE_VALUES)


@pytest.mark.parametrize("overlay", sorted(sync_chart.OVERLAYS))
def test_each_overlay_is_the_chart_with_its_values(overlay):
    values, _ = sync_chart.OVERLAYS[overlay]
    assert kustomize(MANIFESTS / "overlays" / overlay) == chart(sync_chart.merge(sync_chart.BASE_VALUES, values))


def test_the_overlays_differ_where_they_should():
    base = kustomize(MANIFESTS / "base")
    webhook = kustomize(MANIFESTS / "overlays" / "webhook-enforcement")
    ha = kustomize(MANIFESTS / "overlays" / "ha-cert-manager")
    roles = {k[3]: d for k, d in webhook.items() if k[1] == "ClusterRole"}
    assert "validatingadmissionpolicies" not in str(roles["sloguard-cluster"]["rules"])
    # the operator has no right on admission policies in any variant; the base ships the hold policy
    assert "validatingadmissionpolicies" not in str({k: d for k, d in base.items() if k[1] == "ClusterRole"})
    assert ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "", "sloguard-holds") in base
    assert ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "", "sloguard-holds") not in webhook
    kinds = {k[1] for k in ha}
    assert {"Certificate", "ClusterKopfPeering", "PodDisruptionBudget"} <= kinds
    assert not {"Certificate", "ClusterKopfPeering"} & {k[1] for k in base}


def test_the_namespace_enforces_the_restricted_pod_security_standard():
    ns = next(d for k, d in kustomize(MANIFESTS / "base").items() if k[1] == "Namespace")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_nothing_generated_is_out_of_date():
    assert sync_chart.main(["--check"]) == 0

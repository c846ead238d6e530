"""The chart's governance objects, rendered by helm and applied to the test cluster as installed."""

from __future__ import annotations

import yaml

from ..e2e.conftest import TestCluster
from ..packaging.chartkit import render

RELEASE = "sloguard"
GOVERNANCE = f"{RELEASE}-policy-governance"
SLO_GOVERNANCE = f"{RELEASE}-slo-governance"
USER_ROLES = tuple(f"{RELEASE}-{r}" for r in ("view", "edit", "admin", "freeze-override", "release-approve"))


def governance_and_roles(helm: str) -> list[dict]:
    """The governance ValidatingAdmissionPolicies + bindings and the user ClusterRoles of a default install."""
    docs = render(helm, release=RELEASE, include_crds=False)
    wanted = {("ValidatingAdmissionPolicy", GOVERNANCE), ("ValidatingAdmissionPolicyBinding", GOVERNANCE),
              ("ValidatingAdmissionPolicy", SLO_GOVERNANCE), ("ValidatingAdmissionPolicyBinding", SLO_GOVERNANCE),
              *(("ClusterRole", r) for r in USER_ROLES)}
    found = [d for d in docs if (d["kind"], d["metadata"]["name"]) in wanted]
    assert len(found) == len(wanted), f"the chart renders {sorted(wanted)}; found {[d['metadata'] for d in found]}"
    return found


def apply_chart_objects(cluster: TestCluster, helm: str) -> list[dict]:
    docs = governance_and_roles(helm)
    cluster.kubectl("apply", "--server-side", "--field-manager=helm-test", "-f", "-",
                    input=yaml.safe_dump_all(docs))
    return docs

"""sloguard's and Pyrra's CRDs side by side on a real API server: what `kubectl get slo` means then.

Both define kind ServiceLevelObjective, plural ``servicelevelobjectives`` and short name ``slo``
(Pyrra's CRD: group ``pyrra.dev``, ``shortNames: [slo]``). The Pyrra CRD below is a minimal stand-in
with those names and an open schema; the names are what kubectl resolves. The README's migration
section describes what this test observes.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

PYRRA_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: servicelevelobjectives.pyrra.dev}
spec:
  group: pyrra.dev
  scope: Namespaced
  names: {kind: ServiceLevelObjective, listKind: ServiceLevelObjectiveList, plural: servicelevelobjectives,
          singular: servicelevelobjective, shortNames: [slo]}
  versions:
  - name: v1alpha1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""

OBJECTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: side-by-side}
---
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: from-pyrra, namespace: side-by-side}
spec:
  target: "99"
  window: 4w
  indicator:
    ratio:
      errors: {metric: 'http_requests_total{job="api",code=~"5.."}'}
      total: {metric: 'http_requests_total{job="api"}'}
---
apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
metadata: {name: from-sloguard, namespace: side-by-side}
spec:
  service: api
  objective: 99
  sli:
    ratio:
      errors: 'http_requests_total{job="api",code=~"5.."}'
      total: 'http_requests_total{job="api"}'
"""


def test_with_both_crds_slo_means_pyrras_and_qualified_names_or_the_category_reach_ours(cluster) -> None:  # type: ignore[no-untyped-def]
    cluster.kubectl("apply", "-f", "-", input=PYRRA_CRD)
    try:
        cluster.kubectl("wait", "--for", "condition=established", "--timeout=60s",
                        "crd/servicelevelobjectives.pyrra.dev")
        cluster.kubectl("apply", "-f", "-", input=OBJECTS)

        def names(*what: str) -> tuple[list[str], str]:
            proc = cluster.kubectl("get", *what, "-n", "side-by-side", "-o", "name")
            return sorted(proc.stdout.split()), proc.stderr

        short, short_err = names("slo")
        plural, _ = names("servicelevelobjectives")
        print(f"kubectl get slo -> {short} (stderr: {short_err.strip()!r})")
        # kubectl resolves the ambiguous names to one group: CRD groups have equal priority and sort by
        # name, so pyrra.dev wins over sloguard.io, for the short name and the plural alike, with a warning.
        assert short == plural == ["servicelevelobjective.pyrra.dev/from-pyrra"]
        assert 'short name "slo" could also match lower priority resource servicelevelobjectives.sloguard.io' \
            in short_err
        # ...so the group-qualified names, and the sloguard category, are how to see ours.
        assert names("slo.sloguard.io")[0] == ["servicelevelobjective.sloguard.io/from-sloguard"]
        assert names("servicelevelobjectives.sloguard.io")[0] == ["servicelevelobjective.sloguard.io/from-sloguard"]
        assert names("servicelevelobjectives.pyrra.dev")[0] == ["servicelevelobjective.pyrra.dev/from-pyrra"]
        assert "servicelevelobjective.sloguard.io/from-sloguard" in names("sloguard")[0]
    finally:
        cluster.kubectl("delete", "namespace", "side-by-side", "--ignore-not-found", "--wait=false", check=False)
        cluster.kubectl("delete", "crd", "servicelevelobjectives.pyrra.dev", "--ignore-not-found", check=False)

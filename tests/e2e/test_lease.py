"""Only one replica runs the budget refresh: a Lease on the real API server decides which."""

from __future__ import annotations

from sloguard.adapters.kube import Kube, hold_lease

from .conftest import TestCluster


def test_one_identity_holds_the_lease_and_another_takes_over_only_after_it_expires(cluster: TestCluster):
    kube = Kube.connect(str(cluster.kubeconfig))
    assert hold_lease(kube, "sloguard-budget-test", "default", "replica-a", 2)
    assert hold_lease(kube, "sloguard-budget-test", "default", "replica-a", 2)  # renewal
    assert not hold_lease(kube, "sloguard-budget-test", "default", "replica-b", 2)
    # replica-a stops renewing; once its lease has expired, replica-b takes over
    cluster.wait_until(lambda: hold_lease(kube, "sloguard-budget-test", "default", "replica-b", 2),
                       timeout=30, interval=0.5, what="takeover after expiry")
    assert not hold_lease(kube, "sloguard-budget-test", "default", "replica-a", 2)
    holder = cluster.kubectl("get", "lease", "-n", "default", "sloguard-budget-test", "-o",
                             "jsonpath={.spec.holderIdentity}").stdout
    assert holder == "replica-b"

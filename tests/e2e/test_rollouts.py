"""Rollouts of the workloads linked to an SLO, read from a real API server (``adapters/rollouts.py``).

The control plane runs kube-controller-manager, so a Deployment's pod template changes make real
ReplicaSets and a StatefulSet's make real ControllerRevisions. Expected times and revisions are
read from those objects (what the controllers wrote), never from the adapter under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sloguard.adapters.kube import Kube
from sloguard.adapters.rollouts import KubeRollouts
from sloguard.core.causes import Rollout, WorkloadSelector
from sloguard.core.policy import Selector

from ..support import factories
from ..support.cluster import apply, get_json, workload_controllers
from .conftest import TestCluster

NS = "e2e-rollouts"
SLO = "web-availability"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: The instant the test's clock says, so a rollout seen as a changed revision is recognisable.
SEEN_AT = datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def set_image(cluster: TestCluster, kind: str, name: str, image: str) -> None:
    cluster.kubectl("set", "image", "-n", NS, f"{kind}/{name}", f"app={image}")


def replicasets(cluster: TestCluster, deployment: str) -> dict[str, dict]:
    """The Deployment's ReplicaSets by revision annotation, as the controller wrote them."""
    uid = get_json(cluster, "deployment", "-n", NS, deployment)["metadata"]["uid"]
    items = get_json(cluster, "replicasets", "-n", NS)["items"]
    return {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs for rs in items
            if any(o["uid"] == uid for o in rs["metadata"].get("ownerReferences") or [])}


def controller_revisions(cluster: TestCluster, owner_kind: str, owner: str) -> dict[str, dict]:
    uid = get_json(cluster, owner_kind.lower(), "-n", NS, owner)["metadata"]["uid"]
    items = get_json(cluster, "controllerrevisions", "-n", NS)["items"]
    return {str(cr["revision"]): cr for cr in items
            if any(o["uid"] == uid for o in cr["metadata"].get("ownerReferences") or [])}


def expected(kind: str, name: str, objects: dict[str, dict]) -> list[Rollout]:
    return [Rollout(parse(o["metadata"]["creationTimestamp"]), kind, name, rev) for rev, o in objects.items()]


def by_time(rollouts: list[Rollout]) -> list[Rollout]:
    return sorted(rollouts, key=lambda r: (r.at, r.kind, r.name, r.revision))


@pytest.fixture(scope="module")
def workloads(cluster: TestCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCluster]:
    """web (Deployment, three templates), db (StatefulSet, two), a policy naming the SLO whose
    target is api (Deployment, two), and other (Deployment) that nothing links to the SLO."""
    with workload_controllers(cluster, tmp_path_factory.mktemp("workload-controllers")):
        yield _create_workloads(cluster)


def _create_workloads(cluster: TestCluster) -> TestCluster:
    cluster.kubectl("create", "namespace", NS)
    apply(cluster,
          factories.deployment("web", NS, {"app": "web"}, replicas=0),
          factories.deployment("api", NS, {"app": "api"}, replicas=0),
          factories.deployment("other", NS, {"app": "other"}, replicas=0),
          factories.statefulset("db", NS, {"app": "db"}),
          factories.slo(SLO, NS),
          factories.policy("web-releases", NS, {"slos": [SLO], "targets": [
              {"kind": "Deployment", "selector": {"matchLabels": {"app": "api"}}}]}),
          factories.policy("elsewhere", NS, {"slos": ["another-slo"], "targets": [
              {"kind": "Deployment", "selector": {"matchLabels": {"app": "other"}}}]}))
    for revisions, image in ((1, "nginx:1.26"), (2, "nginx:1.27")):
        # one template change at a time: each makes its own ReplicaSet
        cluster.wait_until(lambda n=revisions: len(replicasets(cluster, "web")) == n,  # type: ignore[misc]
                           what=f"web's ReplicaSet {revisions}")
        set_image(cluster, "deployment", "web", image)
    set_image(cluster, "deployment", "api", "nginx:1.26")
    set_image(cluster, "deployment", "other", "nginx:1.26")
    cluster.wait_until(lambda: len(controller_revisions(cluster, "StatefulSet", "db")) == 1,
                       what="db's first ControllerRevision")
    set_image(cluster, "statefulset", "db", "nginx:1.26")
    cluster.wait_until(lambda: len(replicasets(cluster, "web")) == 3 and len(replicasets(cluster, "api")) == 2
                       and len(replicasets(cluster, "other")) == 2
                       and len(controller_revisions(cluster, "StatefulSet", "db")) == 2,
                       what="three ReplicaSets of web, two of api and other, two ControllerRevisions of db")
    return cluster


def adapter(clock: datetime = SEEN_AT) -> KubeRollouts:
    """A fresh adapter that lists anew on every call (max_age 0)."""
    return KubeRollouts(Kube.connect(), clock=lambda: clock, max_age=0)


class CountingKube(Kube):
    """The real client, counting the LIST calls it makes."""

    lists: list[tuple[str, str | None]]

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict]:
        self.lists.append((kind, namespace))
        return super().list(api_version, kind, namespace)


def test_a_deployment_changed_twice_rolled_out_three_times_at_its_replicasets_creation(workloads):
    web = replicasets(workloads, "web")
    assert sorted(web) == ["1", "2", "3"]
    found = adapter().rollouts(NS, SLO, [WorkloadSelector("Deployment", Selector({"app": "web"}))], EPOCH)
    web_found = [r for r in found if r.name == "web"]
    assert web_found == by_time(expected("Deployment", "web", web))
    assert [r.revision for r in web_found] == ["1", "2", "3"]


def test_a_statefulset_updated_once_rolled_out_twice_at_its_controller_revisions(workloads):
    db = controller_revisions(workloads, "StatefulSet", "db")
    assert sorted(db) == ["1", "2"]
    found = adapter().rollouts(NS, SLO, [WorkloadSelector("StatefulSet", Selector({"app": "db"}))], EPOCH)
    assert [r for r in found if r.name == "db"] == by_time(expected("StatefulSet", "db", db))


def test_the_targets_of_a_policy_naming_the_slo_count_and_unlinked_workloads_do_not(workloads):
    linked = [WorkloadSelector("Deployment", Selector({"app": "web"})),
              WorkloadSelector("StatefulSet", Selector({"app": "db"}))]
    found = adapter().rollouts(NS, SLO, linked, EPOCH)
    want = by_time(expected("Deployment", "web", replicasets(workloads, "web"))
                   + expected("Deployment", "api", replicasets(workloads, "api"))
                   + expected("StatefulSet", "db", controller_revisions(workloads, "StatefulSet", "db")))
    assert found == want  # oldest first, each once; "other" (its policy names another SLO) absent
    assert {r.name for r in found} == {"web", "api", "db"}
    # an SLO no policy names sees only what it links itself
    assert {r.name for r in adapter().rollouts(NS, "unrelated", linked, EPOCH)} == {"web", "db"}


def test_only_rollouts_at_or_after_since_are_returned(workloads):
    web = by_time(expected("Deployment", "web", replicasets(workloads, "web")))
    since = web[-1].at
    found = adapter().rollouts(NS, "unrelated", [WorkloadSelector("Deployment", Selector({"app": "web"}))], since)
    assert found == [r for r in web if r.at >= since] and found[-1].revision == "3"
    later = adapter().rollouts(NS, "unrelated", [WorkloadSelector("Deployment", Selector({"app": "web"}))],
                               since + timedelta(seconds=1))
    assert later == [r for r in web if r.at >= since + timedelta(seconds=1)]


def test_a_rollback_is_seen_as_the_reused_replicasets_new_revision_when_it_happens(workloads):
    """kubectl rollout undo re-uses revision 1's ReplicaSet: no timestamp moves, only its revision
    number (to 4): the adapter that read it before reports it at the time of the read that saw it."""
    rollouts = adapter()
    selectors = [WorkloadSelector("Deployment", Selector({"app": "web"}))]
    before = rollouts.rollouts(NS, "unrelated", selectors, EPOCH)
    workloads.kubectl("rollout", "undo", "-n", NS, "deployment/web", "--to-revision=1")
    workloads.wait_until(lambda: "4" in replicasets(workloads, "web"), what="revision 1's ReplicaSet re-used as 4")
    reused = replicasets(workloads, "web")["4"]
    assert reused["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    after = rollouts.rollouts(NS, "unrelated", selectors, EPOCH)
    assert after == by_time([*before, Rollout(SEEN_AT, "Deployment", "web", "4")])
    # the original rollout of that ReplicaSet keeps its creation time and first revision
    assert Rollout(parse(reused["metadata"]["creationTimestamp"]), "Deployment", "web", "1") in after
    # a fresh adapter (an operator restart) cannot know when the rollback happened
    assert adapter().rollouts(NS, "unrelated", selectors, EPOCH) == before


def test_one_refresh_lists_each_kind_once_per_namespace_whatever_the_number_of_slos(workloads):
    kube = CountingKube(Kube.connect().api)
    kube.lists = []
    rollouts = KubeRollouts(kube, clock=lambda: SEEN_AT, max_age=3600)
    web = [WorkloadSelector("Deployment", Selector({"app": "web"}))]
    db = [WorkloadSelector("StatefulSet", Selector({"app": "db"}))]
    first = rollouts.rollouts(NS, SLO, web, EPOCH)
    second = rollouts.rollouts(NS, "db-availability", db, EPOCH)
    assert {r.name for r in first} == {"web", "api"} and {r.name for r in second} == {"db"}
    assert sorted(kube.lists) == sorted([("ErrorBudgetPolicy", NS), ("Deployment", NS), ("ReplicaSet", NS),
                                         ("StatefulSet", NS), ("ControllerRevision", NS)])

"""The pure parts of the rollouts adapter: revisions of a ReplicaSet or ControllerRevision, and the
order and de-duplication of what it returns (the API side is tested in tests/e2e/test_rollouts.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sloguard.adapters.rollouts import first_rollouts, ordered, revisions_of
from sloguard.core.causes import Rollout

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def replicaset(uid: str, owner_uid: str, created: str, revision: str, history: str | None = None) -> dict:
    annotations = {"deployment.kubernetes.io/revision": revision}
    if history is not None:
        annotations["deployment.kubernetes.io/revision-history"] = history
    return {"kind": "ReplicaSet", "metadata": {
        "uid": uid, "creationTimestamp": created, "annotations": annotations,
        "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": owner_uid, "controller": True}]}}


@pytest.mark.parametrize(("obj", "expected"), [
    (replicaset("a", "d", "2026-11-03T09:00:00Z", "3"), (3, 3)),
    # rolled back to twice: first carried 1, then 4, now 6
    (replicaset("a", "d", "2026-11-03T09:00:00Z", "6", "1,4"), (1, 6)),
    ({"kind": "ControllerRevision", "revision": 2, "metadata": {}}, (2, 2)),
    (replicaset("a", "d", "2026-11-03T09:00:00Z", "not-a-number"), (None, None)),
])
def test_the_first_and_current_revision_of_a_revision_object(obj, expected):
    assert revisions_of(obj) == expected


def test_each_owned_revision_is_a_rollout_at_its_creation_with_its_first_revision():
    objs = [replicaset("a", "dep-uid", "2026-11-03T09:00:00Z", "4", "1"),
            replicaset("b", "dep-uid", "2026-11-03T10:30:00Z", "2"),
            replicaset("c", "someone-else", "2026-11-03T11:00:00Z", "1")]
    assert first_rollouts(objs, {"dep-uid": ("Deployment", "web")}) == [
        Rollout(T0, "Deployment", "web", "1"),
        Rollout(datetime(2026, 11, 3, 10, 30, tzinfo=UTC), "Deployment", "web", "2")]


def test_rollouts_are_since_oldest_first_and_once_each():
    late = Rollout(datetime(2026, 11, 3, 12, 0, tzinfo=UTC), "Deployment", "web", "2")
    again = Rollout(datetime(2026, 11, 3, 13, 0, tzinfo=UTC), "Deployment", "web", "2")
    early = Rollout(datetime(2026, 11, 3, 8, 0, tzinfo=UTC), "StatefulSet", "db", "1")
    at_since = Rollout(T0, "StatefulSet", "db", "2")
    assert ordered([again, late, early, at_since], T0) == [at_since, late]

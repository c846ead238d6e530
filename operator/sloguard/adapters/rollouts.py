"""When the workloads linked to an SLO rolled out, from what the API server keeps: the ``Rollouts`` port.

Which workloads: the SLO's ``spec.workloads`` selectors, plus the targets of every ErrorBudgetPolicy
in the namespace that governs the SLO (``spec.slos`` names it, or ``spec.sloSelector`` matches its
labels). A policy whose spec is invalid governs nothing and adds nothing.

What the API server shows of a rollout, per kind:

* **Deployment**: each pod template revision is a ReplicaSet owned by the Deployment
  (``ownerReferences`` with its uid). The ReplicaSet's ``creationTimestamp`` is when that revision
  first rolled out; ``deployment.kubernetes.io/revision`` numbers it.
* **StatefulSet, DaemonSet**: each revision is a ControllerRevision owned by the workload; its
  ``creationTimestamp`` and ``.revision`` likewise.

What it does not show: a rollback (``kubectl rollout undo``, or a template changed back to an
earlier one) re-uses the old ReplicaSet / ControllerRevision. The controller then only gives it
the next revision number (a ReplicaSet also lists its earlier numbers in
``deployment.kubernetes.io/revision-history``); no field records *when*. So this adapter remembers
the revision it last saw of every ReplicaSet and ControllerRevision: a revision that changed
between two reads is a rollout at the time of the read that saw it (at most one refresh late).
A rollback that happened before this process first read the namespace has no time anywhere and is
not reported; nor are revisions the controller has pruned (``revisionHistoryLimit``) — their
rollouts are older than the oldest kept one. Create one adapter per operator process so that the
memory lasts.

Cost: the lists of a namespace are shared by every SLO in it for ``max_age`` seconds (less than
the budget refresh interval), so a refresh costs, per namespace, one LIST of ErrorBudgetPolicies,
one LIST per workload kind linked to any SLO, one of ReplicaSets and one of ControllerRevisions
(plus a GET of an SLO when a policy selects SLOs by label) — never one call per workload or per
SLO. The lists are not narrowed by label: the SLOs of a namespace link different workloads, and
ReplicaSets carry their pods' labels, not their Deployment's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..api.policy import parse_policy
from ..core import conventions as c
from ..core.causes import Rollout, WorkloadSelector
from .kube import Kube

#: Workload kinds whose revisions are ControllerRevisions (Deployments have ReplicaSets).
REVISIONED_BY_CONTROLLER_REVISIONS = ("StatefulSet", "DaemonSet")
KINDS = ("Deployment", *REVISIONED_BY_CONTROLLER_REVISIONS)
ANNOTATION_REVISION = "deployment.kubernetes.io/revision"
ANNOTATION_REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
#: Rollbacks remembered per namespace (the oldest are dropped first).
SEEN_LIMIT = 1000


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as the API server writes it (or a datetime the client already parsed), UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _owner(obj: Mapping[str, Any], owners: Mapping[str, tuple[str, str]]) -> tuple[str, str] | None:
    """(kind, name) of the workload among ``owners`` (by uid) that controls ``obj``."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        found = owners.get(str(ref.get("uid") or ""))
        if found is not None and found[0] == ref.get("kind"):
            return found
    return None


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def revisions_of(obj: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(the first revision ``obj`` carried, the one it carries now) of a ReplicaSet or ControllerRevision."""
    if obj.get("kind") == "ControllerRevision":
        current = _int(obj.get("revision"))
        return current, current
    ann = (obj.get("metadata") or {}).get("annotations") or {}
    current = _int(ann.get(ANNOTATION_REVISION))
    history = [r for r in (_int(x) for x in str(ann.get(ANNOTATION_REVISION_HISTORY) or "").split(",")) if r]
    return (min(history) if history else current), current


def first_rollouts(revisions: Iterable[Mapping[str, Any]], owners: Mapping[str, tuple[str, str]]) -> list[Rollout]:
    """One rollout per ReplicaSet or ControllerRevision owned by a workload in ``owners`` (uid -> (kind,
    name)): its first revision, at its ``creationTimestamp``."""
    out: list[Rollout] = []
    for obj in revisions:
        owner = _owner(obj, owners)
        at = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
        if owner is None or at is None:
            continue
        first, _ = revisions_of(obj)
        out.append(Rollout(at, owner[0], owner[1], "" if first is None else str(first)))
    return out


def ordered(rollouts: Iterable[Rollout], since: datetime) -> list[Rollout]:
    """At or after ``since``, oldest first, each (kind, name, revision) once (its earliest time)."""
    earliest: dict[tuple[str, str, str], Rollout] = {}
    for r in rollouts:
        key = (r.kind, r.name, r.revision)
        if r.at >= since and (key not in earliest or r.at < earliest[key].at):
            earliest[key] = r
    return sorted(earliest.values(), key=lambda r: (r.at, r.kind, r.name, r.revision))


def policy_targets(policies: Iterable[Mapping[str, Any]], slo: str,
                   slo_labels: Callable[[], Mapping[str, str] | None]) -> list[WorkloadSelector]:
    """The targets of the valid ErrorBudgetPolicies that govern ``slo`` (``spec.slos`` names it, or
    ``spec.sloSelector`` matches ``slo_labels()``, asked only then), as workload selectors."""
    out: list[WorkloadSelector] = []
    for p in policies:
        spec, _ = parse_policy(p)
        if spec is None:
            continue
        if spec.slos is not None:
            governs = slo in spec.slos
        else:
            labels = slo_labels()
            governs = spec.slo_selector is not None and labels is not None and spec.slo_selector.matches(labels)
        if governs:
            out += [WorkloadSelector(t.kind, t.selector.to_core()) for t in spec.targets]
    return out


class KubeRollouts:
    """:class:`~sloguard.services.ports.Rollouts` over the API server (create once per process: it
    remembers revisions to see rollbacks). ``clock`` gives the time a changed revision is seen at."""

    def __init__(self, kube: Kube, clock: Callable[[], datetime] = lambda: datetime.now(UTC), *,
                 max_age: float = 10.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.kube = kube
        self.clock = clock
        self.max_age = max_age
        self.monotonic = monotonic
        self._lock = threading.Lock()
        #: (namespace, kind) -> (read at, items): one LIST shared by the SLOs of a namespace
        self._lists: dict[tuple[str, str], tuple[float, list[dict[str, Any]]]] = {}
        #: (namespace, ReplicaSet or ControllerRevision) -> uid -> the revision last seen
        self._revision: dict[tuple[str, str], dict[str, int]] = {}
        #: rollouts seen happen as a changed revision (rollbacks), by namespace
        self._seen: dict[str, list[Rollout]] = {}

    def rollouts(self, namespace: str, slo: str, workloads: Sequence[WorkloadSelector],
                 since: datetime) -> list[Rollout]:
        """Rollouts since ``since`` of ``workloads`` and of the targets of ErrorBudgetPolicies in
        ``namespace`` that govern the SLO ``slo``, oldest first (raises ``KubeError``)."""
        policies = self._list(namespace, c.API_VERSION, c.KIND_POLICY)
        labels: list[Mapping[str, str] | None] = []

        def slo_labels() -> Mapping[str, str] | None:
            if not labels:  # one GET, and only when a policy selects SLOs by label
                found = self.kube.get(c.API_VERSION, c.KIND_SLO, slo, namespace)
                labels.append(((found or {}).get("metadata") or {}).get("labels") or {} if found else None)
            return labels[0]

        selectors = [*workloads, *policy_targets(policies, slo, slo_labels)]
        owners = self._workloads(namespace, selectors)
        revisions = self._revisions(namespace, owners)
        found = first_rollouts(revisions, owners) + self._rollbacks(namespace, revisions, owners)
        return ordered(found, since)

    def _workloads(self, namespace: str, selectors: Sequence[WorkloadSelector]) -> dict[str, tuple[str, str]]:
        """uid -> (kind, name) of every workload a selector matches (one LIST per kind)."""
        out: dict[str, tuple[str, str]] = {}
        for kind in KINDS:
            wanted = [s.selector for s in selectors if s.kind == kind]
            if not wanted:
                continue
            for item in self._list(namespace, "apps/v1", kind):
                meta = item.get("metadata") or {}
                if any(s.matches(meta.get("labels") or {}) for s in wanted):
                    out[str(meta.get("uid"))] = (kind, str(meta.get("name")))
        return out

    def _revisions(self, namespace: str, owners: Mapping[str, tuple[str, str]]) -> list[dict[str, Any]]:
        """The ReplicaSets and ControllerRevisions the ``owners`` may own: one LIST of each kind needed."""
        out: list[dict[str, Any]] = []
        for kind, api_version, owned_by in (("ReplicaSet", "apps/v1", ("Deployment",)),
                                            ("ControllerRevision", "apps/v1", REVISIONED_BY_CONTROLLER_REVISIONS)):
            if not any(k in owned_by for k, _ in owners.values()):
                continue
            out += [{**item, "kind": kind} for item in self._list(namespace, api_version, kind)]
        return out

    def _list(self, namespace: str, api_version: str, kind: str) -> list[dict[str, Any]]:
        """Every object of ``kind`` in ``namespace``, listed at most once per ``max_age`` seconds."""
        now = self.monotonic()
        with self._lock:
            cached = self._lists.get((namespace, kind))
        if cached is not None and now - cached[0] < self.max_age:
            return cached[1]
        items = self.kube.list(api_version, kind, namespace)
        with self._lock:
            self._lists[(namespace, kind)] = (now, items)
        return items

    def _rollbacks(self, namespace: str, revisions: Iterable[Mapping[str, Any]],
                   owners: Mapping[str, tuple[str, str]]) -> list[Rollout]:
        """Rollouts seen as a revision number that changed since the last read (re-used revisions)."""
        now = self.clock()
        revisions = list(revisions)
        with self._lock:
            seen = self._seen.setdefault(namespace, [])
            for kind in {str(o.get("kind")) for o in revisions}:
                listed = [o for o in revisions if o.get("kind") == kind]
                memory = self._revision.setdefault((namespace, kind), {})
                # forget what is gone (the list holds every object of the kind in the namespace)
                uids = {str((o.get("metadata") or {}).get("uid") or "") for o in listed}
                for uid in [u for u in memory if u not in uids]:
                    del memory[uid]
                for obj in listed:
                    owner = _owner(obj, owners)
                    _, current = revisions_of(obj)
                    if owner is None or current is None:
                        continue
                    uid = str((obj.get("metadata") or {}).get("uid") or "")
                    before, memory[uid] = memory.get(uid), current
                    if before is not None and current != before:
                        seen.append(Rollout(now, owner[0], owner[1], str(current)))
            del seen[:-SEEN_LIMIT]
            mine = set(owners.values())
            return [r for r in seen if (r.kind, r.name) in mine]

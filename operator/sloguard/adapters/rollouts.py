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

Cost per call: one LIST of ErrorBudgetPolicies, a GET of the SLO only when a policy selects SLOs by
label, one LIST per workload kind involved, one LIST of ReplicaSets and one of ControllerRevisions
(each narrowed by the workload's own selector when only one workload owns them) — never one call
per workload.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..api.policy import parse_policy
from ..core import conventions as c
from ..core.causes import Rollout, WorkloadSelector
from ..core.policy import Selector
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


def selector_string(selector: Selector) -> str:
    """A core selector as the ``labelSelector`` query string."""
    parts = [f"{k}={v}" for k, v in sorted(selector.match_labels.items())]
    for key, op, values in selector.match_expressions:
        joined = ",".join(values)
        parts.append({"In": f"{key} in ({joined})", "NotIn": f"{key} notin ({joined})",
                      "Exists": key, "DoesNotExist": f"!{key}"}[op])
    return ",".join(parts)


def _pod_selector(workload: Mapping[str, Any]) -> Selector:
    """A workload's ``spec.selector`` (which its ReplicaSets' and ControllerRevisions' labels match)."""
    sel = (workload.get("spec") or {}).get("selector") or {}
    exprs = tuple((str(e.get("key")), str(e.get("operator")), tuple(str(v) for v in e.get("values") or []))
                  for e in sel.get("matchExpressions") or [])
    return Selector(dict(sel.get("matchLabels") or {}), exprs)


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

    def __init__(self, kube: Kube, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.kube = kube
        self.clock = clock
        self._lock = threading.Lock()
        #: uid of a ReplicaSet / ControllerRevision -> the revision last seen
        self._revision: dict[str, int] = {}
        #: rollouts seen happen as a changed revision (rollbacks), by namespace
        self._seen: dict[str, list[Rollout]] = {}

    def rollouts(self, namespace: str, slo: str, workloads: Sequence[WorkloadSelector],
                 since: datetime) -> list[Rollout]:
        """Rollouts since ``since`` of ``workloads`` and of the targets of ErrorBudgetPolicies in
        ``namespace`` that govern the SLO ``slo``, oldest first (raises ``KubeError``)."""
        policies = self.kube.list(c.API_VERSION, c.KIND_POLICY, namespace)
        labels: list[Mapping[str, str] | None] = []

        def slo_labels() -> Mapping[str, str] | None:
            if not labels:  # one GET, and only when a policy selects SLOs by label
                found = self.kube.get(c.API_VERSION, c.KIND_SLO, slo, namespace)
                labels.append(((found or {}).get("metadata") or {}).get("labels") or {} if found else None)
            return labels[0]

        selectors = [*workloads, *policy_targets(policies, slo, slo_labels)]
        owners = self._workloads(namespace, selectors)
        revisions = self._revisions(namespace, owners)
        found = first_rollouts(revisions, {uid: (kind, name) for uid, (kind, name, _) in owners.items()})
        found += self._rollbacks(namespace, revisions, owners)
        return ordered(found, since)

    def _workloads(self, namespace: str, selectors: Sequence[WorkloadSelector]
                   ) -> dict[str, tuple[str, str, Selector]]:
        """uid -> (kind, name, its pod selector) of every workload a selector matches: one LIST per kind
        (narrowed server-side when the kind has one selector)."""
        out: dict[str, tuple[str, str, Selector]] = {}
        for kind in KINDS:
            wanted = [s.selector for s in selectors if s.kind == kind]
            if not wanted:
                continue
            query = selector_string(wanted[0]) if len(wanted) == 1 else ""
            for item in self.kube.list("apps/v1", kind, namespace, label_selector=query):
                meta = item.get("metadata") or {}
                if any(s.matches(meta.get("labels") or {}) for s in wanted):
                    out[str(meta.get("uid"))] = (kind, str(meta.get("name")), _pod_selector(item))
        return out

    def _revisions(self, namespace: str, owners: Mapping[str, tuple[str, str, Selector]]) -> list[dict[str, Any]]:
        """The ReplicaSets and ControllerRevisions the ``owners`` may own: one LIST of each kind needed."""
        out: list[dict[str, Any]] = []
        for kind, api_version, owned_by in (("ReplicaSet", "apps/v1", ("Deployment",)),
                                            ("ControllerRevision", "apps/v1", REVISIONED_BY_CONTROLLER_REVISIONS)):
            mine = [sel for k, _, sel in owners.values() if k in owned_by]
            if not mine:
                continue
            query = selector_string(mine[0]) if len(mine) == 1 else ""
            out += [{**item, "kind": kind} for item in self.kube.list(api_version, kind, namespace,
                                                                      label_selector=query)]
        return out

    def _rollbacks(self, namespace: str, revisions: Iterable[Mapping[str, Any]],
                   owners: Mapping[str, tuple[str, str, Selector]]) -> list[Rollout]:
        """Rollouts seen as a revision number that changed since the last read (re-used revisions)."""
        now = self.clock()
        with self._lock:
            seen = self._seen.setdefault(namespace, [])
            for obj in revisions:
                meta = obj.get("metadata") or {}
                uid = str(meta.get("uid") or "")
                owner = _owner(obj, {u: (k, n) for u, (k, n, _) in owners.items()})
                _, current = revisions_of(obj)
                if owner is None or current is None:
                    continue
                before = self._revision.get(uid)
                self._revision[uid] = current
                if before is not None and current != before:
                    seen.append(Rollout(now, owner[0], owner[1], str(current)))
            del seen[:-SEEN_LIMIT]
            mine = {(k, n) for k, n, _ in owners.values()}
            return [r for r in seen if (r.kind, r.name) in mine]

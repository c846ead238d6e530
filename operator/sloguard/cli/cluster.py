"""``--from-cluster``: the live sloguard objects as loader Documents, with kube errors as exit codes.

A kubeconfig that cannot be loaded is a usage error (exit 2); an API server that does not answer,
refuses our credentials or forbids the list is one we could not reach (exit 3).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters.contracts import ListedContracts
from ..api.loader import Document
from ..core import conventions as c
from ..core.model import Objective
from .common import Unreachable, UsageError

if TYPE_CHECKING:
    from ..adapters.rollouts import KubeRollouts

#: What of a live object the loaders read: the rest (status, managedFields, uid) is the server's.
_KEPT_METADATA = ("name", "namespace", "labels", "annotations")


def _as_written(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
            "metadata": {k: meta[k] for k in _KEPT_METADATA if meta.get(k)}, "spec": obj.get("spec")}


def cluster_documents(kinds: tuple[str, ...], namespace: str | None, kubeconfig: str | None,
                      context: str | None) -> list[Document]:
    """Every object of ``kinds`` in ``namespace`` (all when None), source ``cluster:CONTEXT``."""
    source = f"cluster {context}" if context else "cluster"
    items = _live(kinds, namespace, kubeconfig, context)
    return [Document(source, n, _as_written(item)) for n, item in enumerate(items)]


def _live(kinds: tuple[str, ...], namespace: str | None, kubeconfig: str | None,
          context: str | None) -> list[dict[str, Any]]:
    """The live objects of ``kinds``, status and all (kube errors as exit codes)."""
    from urllib3.exceptions import HTTPError

    from ..adapters.kube import KubeError

    kube = _connect(kubeconfig, context)
    host = getattr(kube.api.configuration, "host", "?")
    items: list[dict[str, Any]] = []
    for kind in kinds:
        try:
            items += kube.list(c.API_VERSION, kind, namespace)
        except (HTTPError, OSError) as e:
            raise Unreachable(f"cannot reach the API server at {host} to list {kind}s: "
                              f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None
        except KubeError as e:
            raise Unreachable(f"API server at {host}: {e}") from None
    return items


def cluster_contracts(args: Any, now: datetime) -> ListedContracts | None:
    """With ``--from-cluster``: the live SLAContracts' maintenance windows by service, each counted
    from when the operator first saw it (``status.maintenanceSeen``), as the operator counts them;
    else None."""
    if not getattr(args, "from_cluster", False):
        return None
    return ListedContracts(_live((c.KIND_SLA,), args.cluster_namespace, args.kubeconfig, args.context), now)


def declared_from_cluster(objectives: list[Objective], args: Any, now: datetime) -> list[Objective]:
    """With ``--from-cluster``: each SLO's maintenance windows count from when the operator first saw
    them (``status.maintenanceSeen``), as in the operator's byCause; as written otherwise."""
    if not getattr(args, "from_cluster", False) or not any(o.causes.maintenance for o in objectives):
        return objectives
    from ..api.maintenance_seen import declared_objective

    live = {f"{(b.get('metadata') or {}).get('namespace')}/{(b.get('metadata') or {}).get('name')}": b
            for b in _live((c.KIND_SLO,), args.cluster_namespace, args.kubeconfig, args.context)}
    return [declared_objective(o, live[o.key], now) if o.key in live else o for o in objectives]


def cluster_rollouts(args: Any) -> KubeRollouts | None:
    """With ``--from-cluster``: the rollouts of the workloads linked to each SLO, read from the
    cluster like the operator reads them (ReplicaSets, ControllerRevisions); else None."""
    if not getattr(args, "from_cluster", False):
        return None
    from ..adapters.rollouts import KubeRollouts

    return KubeRollouts(_connect(args.kubeconfig, args.context))


def _connect(kubeconfig: str | None, context: str | None) -> Any:
    from ..adapters.gate import connect
    from ..adapters.kube import KubeError

    try:
        return connect(kubeconfig, context) if (kubeconfig or context) else _default(kubeconfig)
    except KubeError as e:
        raise UsageError(str(e)) from None


def _default(kubeconfig: str | None) -> Any:
    """$KUBECONFIG (else ~/.kube/config), or in-cluster credentials in a Pod."""
    from kubernetes import config

    from ..adapters.kube import Kube, KubeError

    try:
        return Kube.connect(kubeconfig)
    except (config.ConfigException, OSError) as e:
        raise KubeError(f"cannot load a kubeconfig ($KUBECONFIG, ~/.kube/config) or in-cluster "
                        f"credentials: {e}", 400) from None

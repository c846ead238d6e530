"""Talking to the cluster under test (``tests.e2e.conftest.TestCluster``) the way every suite does."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from tests.e2e.conftest import TestCluster


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def apply(cluster: TestCluster, *docs: dict[str, Any], who: tuple[str, ...] = (),
          check: bool = True) -> subprocess.CompletedProcess[str]:
    """``kubectl apply`` of ``docs`` (as ``who``: ``--as=...`` impersonation flags); raises unless ``check=False``."""
    return cluster.kubectl(*who, "apply", "-f", "-", input=yaml.safe_dump_all(docs), check=check)


def get_json(cluster: TestCluster, *args: str) -> dict[str, Any]:
    """``kubectl get ARGS -o json``, parsed."""
    return dict(json.loads(cluster.kubectl("get", *args, "-o", "json").stdout))


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    """The condition of ``type_`` in an object's ``status``, or ``{}``."""
    return next((c for c in status.get("conditions") or [] if c["type"] == type_), {})


#: The workload controllers the local control plane leaves out (tests that emulate them stay exact);
#: no replicaset controller, so no Pods are made.
WORKLOAD_CONTROLLERS = "deployment,statefulset,daemonset"


@contextmanager
def workload_controllers(cluster: TestCluster, tmp: Path) -> Iterator[None]:
    """While open: a second kube-controller-manager running the Deployment, StatefulSet and DaemonSet
    controllers, so template changes make real ReplicaSets and ControllerRevisions (a kind cluster
    runs them already). ``tmp``: a directory for its serving certificate and log."""
    if cluster.flavour != "local":
        yield
        return
    from sloguard_dev import cluster as devcluster

    state = cluster.kubeconfig.parent
    pki = state / "pki"
    argv = [str(devcluster.find_bin_dir(log=lambda _msg: None) / "kube-controller-manager"),
            f"--kubeconfig={state / 'controller-manager.kubeconfig'}", f"--controllers={WORKLOAD_CONTROLLERS}",
            "--leader-elect=false", f"--root-ca-file={pki / 'ca.crt'}", "--use-service-account-credentials=false",
            "--bind-address=127.0.0.1", f"--secure-port={free_port()}", f"--cert-dir={tmp / 'serving'}", "--v=1"]
    with (tmp / "workload-controllers.log").open("w") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

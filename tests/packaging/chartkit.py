"""Helpers shared by the packaging tests: render the chart, split and key its documents, install
it on a control plane, and run the operator as the chart runs it (its args, env and ServiceAccount).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from ..e2e.conftest import TestCluster
from ..support.cluster import free_port
from .conftest import CHART

KUBE_VERSION = "1.34.0"
#: The release namespace and ServiceAccount of the default install (release ``sloguard``).
NS = "sloguard-system"
SA = "sloguard"
#: 403 as a status code, not inside a timestamp ("…41.974034") or a uid ("…a403b…").
STATUS_403 = re.compile(r"(?<![0-9a-fA-F.:-])403(?![0-9a-fA-F])")


def render(helm: str, values: dict[str, Any] | None = None, *, release: str = "sloguard",
           namespace: str = "sloguard-system", include_crds: bool = True, chart: str = str(CHART)) -> list[dict]:
    argv = [helm, "template", release, chart, "--namespace", namespace, "--kube-version", KUBE_VERSION,
            "--values", "-"]
    if include_crds:
        argv.append("--include-crds")
    proc = subprocess.run(argv, input=json.dumps(values or {}), capture_output=True, text=True, check=False)
    if proc.returncode:
        raise AssertionError(f"helm template failed:\n{proc.stderr}")
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def render_error(helm: str, values: dict[str, Any]) -> str:
    proc = subprocess.run([helm, "template", "x", str(CHART), "--kube-version", KUBE_VERSION, "--values", "-"],
                          input=json.dumps(values), capture_output=True, text=True, check=False)
    assert proc.returncode != 0, "helm template should have failed"
    return proc.stderr


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [d for d in by_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[d['metadata']['name'] for d in found]}"
    return found[0]


def container(docs: list[dict]) -> dict:
    return one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def dump(docs: list[dict]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)


# --- install and run -----------------------------------------------------------------------------

def install(cluster: TestCluster, helm: str, values: dict[str, Any], *, release: str = "sloguard",
            namespace: str = NS) -> list[dict]:
    """Render the chart and apply it (server-side; each step dry-run first), CRDs before the rest.

    The release namespace is created with PodSecurity ``restricted`` enforced. Idempotent: the
    CRDs are shared between releases, so a second release installs next to the first.
    """
    docs = render(helm, values, release=release, namespace=namespace)
    crds = by_kind(docs, "CustomResourceDefinition")
    rest = [d for d in docs if d["kind"] != "CustomResourceDefinition"]
    ns = {"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": namespace, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}

    def apply(objs: list[dict], *extra: str) -> None:
        cluster.kubectl("apply", "--server-side", "--field-manager=helm-test", *extra, "-f", "-", input=dump(objs))

    apply([ns])
    # CRDs first (in Argo CD: an earlier sync wave), then everything else.
    apply(crds, "--dry-run=server")
    apply(crds)
    cluster.kubectl("wait", "--for=condition=established", "--timeout=60s",
                    *[f"crd/{d['metadata']['name']}" for d in crds])
    apply(rest, "--dry-run=server")
    apply(rest)
    return docs


def sa_kubeconfig(cluster: TestCluster, path: Path, *, namespace: str = NS, sa: str = SA) -> Path:
    """A kubeconfig that authenticates as the ServiceAccount with a TokenRequest token (2 h)."""
    token = cluster.kubectl("create", "token", sa, "-n", namespace, "--duration=2h").stdout.strip()
    admin = json.loads(cluster.kubectl("config", "view", "--raw", "--minify", "-o", "json").stdout)
    user = f"system:serviceaccount:{namespace}:{sa}"
    config = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": admin["clusters"],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": admin["clusters"][0]["name"], "user": user}}],
        "current-context": "sa",
    }
    path.write_text(yaml.safe_dump(config))
    return path


class Operator:
    """``sloguard run`` with the chart's args and env, as the chart's ServiceAccount.

    Container-local details change (ports, the mounted Secret's path, the downward API's pod
    name and namespace); the rest is verbatim. ``env`` adds variables the chart does not set
    (e.g. ``SLOGUARD_EVALUATE_AT`` to evaluate synthetic history that lies in the past).
    """

    def __init__(self, docs: list[dict], kubeconfig: Path, tmp: Path, *, namespace: str = NS,
                 env: dict[str, str] | None = None):
        deployment = one(docs, "Deployment")
        c = container(docs)
        self.health_port, self.webhook_port, self.metrics_port = free_port(), free_port(), free_port()
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"].get("volumes", [])}
        local = {"--liveness": f"http://127.0.0.1:{self.health_port}/healthz",
                 "--webhook-port": str(self.webhook_port), "--metrics-address": f"127.0.0.1:{self.metrics_port}"}
        if "secret" in volumes.get("webhook-certs", {}):
            cert_dir = tmp / "webhook-certs"
            cert_dir.mkdir()
            secret = one(docs, "Secret", volumes["webhook-certs"]["secret"]["secretName"])
            for name, value in secret["data"].items():
                (cert_dir / name).write_bytes(base64.b64decode(value))
            local["--webhook-cert-dir"] = str(cert_dir)
        self.args = [f"{a.split('=')[0]}={local[a.split('=')[0]]}" if a.split("=")[0] in local else a
                     for a in c["args"]]
        run_env = {e["name"]: e["value"] for e in c["env"] if "value" in e}
        run_env.update(POD_NAMESPACE=namespace, POD_NAME=f"{deployment['metadata']['name']}-local",
                       KUBECONFIG=str(kubeconfig), PYTHONUNBUFFERED="1", **(env or {}))
        self.log = tmp / "operator.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from sloguard.cli import main; sys.exit(main())", "run", *self.args],
            env={**os.environ, **run_env}, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text()

    def forbidden_lines(self) -> list[str]:
        """Log lines that tell of a request the API server refused (RBAC or admission)."""
        return [line for line in self.output().splitlines() if STATUS_403.search(line) or "orbidden" in line]

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/healthz", timeout=2) as rsp:
                return rsp.status == 200
        except OSError:
            return False

    def metrics(self) -> str:
        """The text of the operator's /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as rsp:
            return rsp.read().decode()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

"""A real, local Kubernetes control plane for development and tests, without Docker.

Why: the operator has to be exercised against a genuine API server (admission,
structural CRD validation, RBAC, ownerReference garbage collection, namespace
finalization), but this project's machines have no container engine, so kind
and k3d are out. Like controller-runtime's *envtest*, we run etcd,
kube-apiserver and kube-controller-manager as plain processes on 127.0.0.1.
Unlike envtest we also run the controller-manager (garbage collector,
namespace and service-account controllers), because sloguard relies on
ownerReference GC and namespace deletion actually completing.

The binaries come from ``hack/build-k8s.sh`` (built once from the Go module
proxy into a cache outside the repo) or from the directory named by
``SLOGUARD_K8S_BIN``.

Only the standard library and subprocess are used so that this module works
before the operator's own dependencies (kopf, kubernetes client) are installed.
It is a development tool: ``sloguard_dev`` is not part of the ``sloguard`` wheel or the image.

Public API::

    up(state_dir, crd_dirs, log=print) -> Cluster
    down(state_dir) -> None
    status(state_dir) -> Cluster | None
    default_state_dir() -> Path
    default_crd_dirs() -> list[Path]
    find_bin_dir(log=print) -> Path

Processes are started in their own session so they outlive ``sloguard dev up``;
``DIR/state.json`` records their pids (with /proc start times, so a recycled
pid is never signalled) for ``down``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Cluster",
    "DevClusterError",
    "default_crd_dirs",
    "default_state_dir",
    "down",
    "find_bin_dir",
    "status",
    "up",
]

Log = Callable[[str], None]

#: This file lives at <repo>/operator/sloguard_dev/cluster.py.
REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "hack" / "build-k8s.sh"

#: Marker proving a directory was created by us; ``down`` refuses to delete
#: anything else, so a mistyped ``--state-dir`` can never wipe a real directory.
MARKER = ".sloguard-devcluster"
STATE_FILE = "state.json"

#: Components in start order; they are stopped in reverse.
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager")

#: Controllers the operator depends on: ownerReference GC, namespace deletion,
#: default ServiceAccounts and their tokens; and aggregation of the chart's user roles into the
#: built-in view/edit/admin ClusterRoles (tests/security/test_user_roles.py).
CONTROLLERS = "garbagecollector,namespace,serviceaccount-token,serviceaccount,clusterrole-aggregation-controller"

SERVICE_CIDR = "10.0.0.0/24"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"


class DevClusterError(RuntimeError):
    """The local control plane could not be started or stopped."""


@dataclass
class Cluster:
    """A running local control plane, as recorded in ``state_dir/state.json``."""

    state_dir: Path
    kubeconfig: Path
    server: str
    bin_dir: Path
    pids: dict[str, int] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    #: /proc start times (clock ticks) matching ``pids``; guards against pid reuse.
    start_times: dict[str, int] = field(default_factory=dict)
    version: str = ""

    def env(self) -> dict[str, str]:
        """Environment variables that point kubectl and clients at this cluster."""
        return {"KUBECONFIG": str(self.kubeconfig)}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("state_dir", "kubeconfig", "bin_dir"):
            data[key] = str(data[key])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cluster:
        def int_map(key: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in dict(data.get(key) or {}).items()}

        return cls(
            state_dir=Path(str(data["state_dir"])),
            kubeconfig=Path(str(data["kubeconfig"])),
            server=str(data["server"]),
            bin_dir=Path(str(data["bin_dir"])),
            pids=int_map("pids"),
            ports=int_map("ports"),
            start_times=int_map("start_times"),
            version=str(data.get("version", "")),
        )


# --------------------------------------------------------------------- defaults


def default_state_dir() -> Path:
    """``$SLOGUARD_STATE_DIR`` or ``~/.cache/sloguard/dev``: outside the repo."""
    env = os.environ.get("SLOGUARD_STATE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "sloguard" / "dev"


def default_crd_dirs() -> list[Path]:
    """sloguard's own CRDs plus the third-party ones it writes (PrometheusRule)."""
    return [REPO_ROOT / "crds", REPO_ROOT / "hack" / "crds"]


# --------------------------------------------------------------------- binaries


def _has_binaries(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / name, os.X_OK) for name in COMPONENTS)


def find_bin_dir(log: Log = print) -> Path:
    """Return a directory holding etcd, kube-apiserver and kube-controller-manager.

    ``SLOGUARD_K8S_BIN`` wins (CI images or a manual build); otherwise
    ``hack/build-k8s.sh`` is run, which returns its cache at once when the
    binaries were built before and builds them (slowly) otherwise.
    """
    override = os.environ.get("SLOGUARD_K8S_BIN")
    if override:
        bin_dir = Path(override)
        if not _has_binaries(bin_dir):
            raise DevClusterError(f"SLOGUARD_K8S_BIN={bin_dir} lacks one of {', '.join(COMPONENTS)}")
        return bin_dir
    if BUILD_SCRIPT.exists():
        log(f"locating Kubernetes binaries with {BUILD_SCRIPT} (the first run builds them: ~5-15 min on 2 cores)")
        # stderr (build progress) goes straight to the terminal; the last stdout
        # line is the bin dir.
        proc = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, text=True, check=False)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            raise DevClusterError(f"{BUILD_SCRIPT} failed with exit code {proc.returncode}")
        bin_dir = Path(lines[-1])
        if not _has_binaries(bin_dir):
            raise DevClusterError(f"{BUILD_SCRIPT} reported {bin_dir}, which lacks the binaries")
        return bin_dir
    # Installed outside the repo: fall back to whatever the script cached before.
    cache = Path(os.environ.get("SLOGUARD_CACHE", Path.home() / ".cache" / "sloguard"))
    for candidate in sorted(cache.glob("k8s-*/bin"), reverse=True):
        if _has_binaries(candidate):
            return candidate
    raise DevClusterError(
        "no Kubernetes binaries: set SLOGUARD_K8S_BIN or run hack/build-k8s.sh from a sloguard checkout"
    )


# -------------------------------------------------------------------- processes


def _proc_start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot, or None if it is gone/a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; fields after ')' are fixed.
    rest = stat.rsplit(")", 1)[1].split()
    state, starttime = rest[0], rest[19]
    if state in ("Z", "X"):
        return None
    return int(starttime)


def _alive(cluster: Cluster, name: str) -> bool:
    pid = cluster.pids.get(name)
    if pid is None:
        return False
    started = _proc_start_time(pid)
    return started is not None and started == cluster.start_times.get(name, started)


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our child (e.g. inside a pytest session)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _stop(cluster: Cluster, name: str, timeout: float = 15.0) -> None:
    """SIGTERM, wait, then SIGKILL one component, only if it is still the process we started."""
    pid = cluster.pids.get(name)
    if pid is None or not _alive(cluster, name):
        if pid is not None:
            _reap(pid)
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            if _proc_start_time(pid) is None:
                return
            time.sleep(0.1)
    raise DevClusterError(f"{name} (pid {pid}) did not exit after SIGKILL")


def _spawn(cluster: Cluster, name: str, argv: list[str]) -> None:
    """Start a component detached from our session, logging to ``state_dir/<name>.log``."""
    log_path = cluster.state_dir / f"{name}.log"
    with open(log_path, "ab") as logfile:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            cwd=cluster.state_dir,
            start_new_session=True,  # survive `sloguard dev up` exiting and its Ctrl-C
            close_fds=True,
        )
    cluster.pids[name] = proc.pid
    cluster.start_times[name] = _proc_start_time(proc.pid) or 0
    # Record immediately so `down` can clean up even if `up` fails half way.
    _write_state(cluster)


def _log_tail(cluster: Cluster, name: str, lines: int = 25) -> str:
    try:
        text = (cluster.state_dir / f"{name}.log").read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# ------------------------------------------------------------------------ state


def _write_state(cluster: Cluster) -> None:
    path = cluster.state_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cluster.to_json(), indent=2) + "\n")
    tmp.replace(path)


def _read_state(state_dir: Path) -> Cluster | None:
    try:
        return Cluster.from_json(json.loads((state_dir / STATE_FILE).read_text()))
    except (OSError, ValueError, KeyError):
        return None


def _check_state_dir_is_ours(state_dir: Path) -> None:
    """Refuse to take over (and later delete) a directory that ``up`` did not create."""
    if state_dir.is_dir() and any(state_dir.iterdir()) and not (state_dir / MARKER).exists():
        raise DevClusterError(f"{state_dir} exists, is not empty and was not created by sloguard dev up")


def _prepare_state_dir(state_dir: Path) -> None:
    """Create an empty, marked state dir."""
    _check_state_dir_is_ours(state_dir)
    if state_dir.exists():
        shutil.rmtree(state_dir)
    state_dir.mkdir(parents=True)
    (state_dir / MARKER).write_text("created by sloguard_dev.cluster; removed by `sloguard dev down`\n")


# ------------------------------------------------------------------------ certs


def _free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (the kernel picks; tiny race accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise DevClusterError(f"openssl {' '.join(args)} failed: {proc.stderr.strip()}")


def _make_certs(pki: Path) -> None:
    """CA, apiserver serving cert, admin and controller-manager client certs, SA key pair.

    Everything is throwaway: the CA key lives in the state dir and dies with it.
    """
    pki.mkdir(parents=True, exist_ok=True)
    days = "3650"
    _openssl("genrsa", "-out", "ca.key", "2048", cwd=pki)
    _openssl(
        "req", "-x509", "-new", "-nodes", "-key", "ca.key", "-sha256", "-days", days,
        "-subj", "/CN=sloguard-dev-ca", "-out", "ca.crt",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        cwd=pki,
    )  # fmt: skip

    def issue(name: str, subject: str, extensions: str) -> None:
        _openssl("genrsa", "-out", f"{name}.key", "2048", cwd=pki)
        _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr", cwd=pki)
        (pki / f"{name}.ext").write_text(extensions)
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", days, "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.crt",
            cwd=pki,
        )  # fmt: skip
        for leftover in (f"{name}.csr", f"{name}.ext"):
            (pki / leftover).unlink()

    issue(
        "apiserver",
        "/CN=kube-apiserver",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
        "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.0.0.1\n",
    )
    client_ext = (
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"
    )
    issue("admin", "/O=system:masters/CN=admin", client_ext)
    # With --use-service-account-credentials=false every controller acts as the
    # controller-manager itself; GC must delete arbitrary (custom) resources, so
    # it gets cluster-admin through system:masters, as in envtest-like setups.
    issue("controller-manager", "/O=system:masters/CN=system:kube-controller-manager", client_ext)
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _write_kubeconfig(path: Path, server: str, pki: Path, user: str) -> None:
    """A kubeconfig with embedded certs, so it stays valid if copied elsewhere."""
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters:
- name: sloguard-dev
  cluster:
    server: {server}
    certificate-authority-data: {_b64(pki / "ca.crt")}
users:
- name: {user}
  user:
    client-certificate-data: {_b64(pki / f"{user}.crt")}
    client-key-data: {_b64(pki / f"{user}.key")}
contexts:
- name: sloguard-dev
  context:
    cluster: sloguard-dev
    user: {user}
    namespace: default
current-context: sloguard-dev
"""
    )
    path.chmod(0o600)


# ----------------------------------------------------------------------- probes


def _ssl_context(pki: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    return ctx


def _get(url: str, ctx: ssl.SSLContext, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=timeout) as resp:
            return int(resp.status), resp.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return int(err.code), err.read().decode(errors="replace")


def _wait_ready(cluster: Cluster, name: str, url: str, ctx: ssl.SSLContext, timeout: float) -> None:
    """Poll ``url`` until 200, failing fast (with the log tail) if any component died."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        for component in cluster.pids:
            if not _alive(cluster, component):
                raise DevClusterError(
                    f"{component} exited during startup; last log lines:\n{_log_tail(cluster, component)}"
                )
        try:
            code, body = _get(url, ctx)
            if code == 200:
                return
            last = f"HTTP {code}: {body.strip()[-500:]}"
        except (OSError, ssl.SSLError) as err:
            last = str(err)
        time.sleep(0.5)
    raise DevClusterError(
        f"{name} not ready after {timeout:.0f}s ({last}); last log lines:\n{_log_tail(cluster, name)}"
    )


def _is_healthy(cluster: Cluster) -> bool:
    if not all(_alive(cluster, name) for name in COMPONENTS):
        return False
    try:
        code, _ = _get(f"{cluster.server}/readyz", _ssl_context(cluster.state_dir / "pki"), timeout=3.0)
    except (OSError, ssl.SSLError):
        return False
    return code == 200


def _server_version(cluster: Cluster) -> str:
    _, body = _get(f"{cluster.server}/version", _ssl_context(cluster.state_dir / "pki"))
    return str(json.loads(body).get("gitVersion", ""))


# ------------------------------------------------------------------------- CRDs


def _crd_files(crd_dirs: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for directory in crd_dirs:
        if directory.is_dir():
            files += sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
    return files


def _kubectl(cluster: Cluster, *args: str, timeout: float = 120.0) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise DevClusterError("kubectl is not on PATH")
    env = {**os.environ, **cluster.env()}
    proc = subprocess.run([kubectl, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise DevClusterError(f"kubectl {' '.join(args)} failed:\n{proc.stderr.strip()}")
    return proc.stdout


def _install_crds(cluster: Cluster, crd_dirs: Iterable[Path], log: Log) -> list[str]:
    """Server-side apply every manifest in ``crd_dirs`` and wait until the CRDs are Established."""
    files = _crd_files(crd_dirs)
    if not files:
        log("no CRD manifests found in " + ", ".join(str(d) for d in crd_dirs))
        return []
    args = ["apply", "--server-side", "--force-conflicts", "--field-manager=sloguard-dev", "-o", "name"]
    for path in files:
        args += ["-f", str(path)]
    names = [n for n in _kubectl(cluster, *args).split() if n.startswith("customresourcedefinition")]
    if names:
        _kubectl(cluster, "wait", "--for", "condition=established", "--timeout=60s", *names, timeout=90.0)
    log(f"CRDs established: {', '.join(n.split('/', 1)[1] for n in names) or '(none)'}")
    return names


# ------------------------------------------------------------------------ up/down


def _etcd_argv(cluster: Cluster, bin_dir: Path) -> list[str]:
    client, peer = cluster.ports["etcd"], cluster.ports["etcd-peer"]
    argv = [
        str(bin_dir / "etcd"),
        "--name=default",
        f"--data-dir={cluster.state_dir / 'etcd'}",
        f"--listen-client-urls=http://127.0.0.1:{client}",
        f"--advertise-client-urls=http://127.0.0.1:{client}",
        f"--listen-peer-urls=http://127.0.0.1:{peer}",
        f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
        f"--initial-cluster=default=http://127.0.0.1:{peer}",
        "--log-level=warn",
    ]
    help_text = subprocess.run([argv[0], "--help"], capture_output=True, text=True, check=False)
    if "unsafe-no-fsync" in help_text.stdout + help_text.stderr:
        # Throwaway data: skipping fsync makes the API much faster on slow disks.
        argv.append("--unsafe-no-fsync")
    return argv


def _apiserver_argv(cluster: Cluster, bin_dir: Path) -> list[str]:
    pki = cluster.state_dir / "pki"
    return [
        str(bin_dir / "kube-apiserver"),
        f"--etcd-servers=http://127.0.0.1:{cluster.ports['etcd']}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={cluster.ports['kube-apiserver']}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--service-account-issuer={SA_ISSUER}",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        # No kubelets exist, so the Node authorizer would have nothing to do;
        # RBAC is what the operator's permissions are tested against.
        "--authorization-mode=RBAC",
        "--allow-privileged=true",
        # The default "lease" reconciler would publish 127.0.0.1 as the endpoint of
        # the `kubernetes` Service, which validation rejects (loopback), logging an
        # error every 10s. Nothing in-cluster needs that endpoint here.
        "--endpoint-reconciler-type=none",
        # No kubelet ever runs pods here; as in envtest, don't make pod creation
        # depend on the ServiceAccount controller having raced namespace creation.
        "--disable-admission-plugins=ServiceAccount",
        "--profiling=false",
        "--v=1",
    ]


def _controller_manager_argv(cluster: Cluster, bin_dir: Path) -> list[str]:
    pki = cluster.state_dir / "pki"
    return [
        str(bin_dir / "kube-controller-manager"),
        f"--kubeconfig={cluster.state_dir / 'controller-manager.kubeconfig'}",
        # No --authentication/--authorization-kubeconfig: they make the
        # controller-manager demand a requestheader (front-proxy) CA we don't set
        # up; its own serving port is loopback-only and unused.
        f"--controllers={CONTROLLERS}",
        "--leader-elect=false",
        f"--root-ca-file={pki / 'ca.crt'}",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        "--use-service-account-credentials=false",
        "--bind-address=127.0.0.1",
        f"--secure-port={cluster.ports['kube-controller-manager']}",
        f"--cert-dir={pki / 'controller-manager-serving'}",
        "--v=1",
    ]


def status(state_dir: Path) -> Cluster | None:
    """The cluster recorded in ``state_dir`` if all its processes run and it is ready."""
    cluster = _read_state(state_dir)
    if cluster is None or not _is_healthy(cluster):
        return None
    return cluster


def up(
    state_dir: Path,
    crd_dirs: list[Path],
    log: Log = print,
    *,
    ready_timeout: float = 120.0,
) -> Cluster:
    """Start (or reuse) the local control plane in ``state_dir`` and install CRDs.

    A healthy cluster already recorded in ``state_dir`` is reused (its CRDs are
    re-applied, which is idempotent); a stale one is stopped and wiped first.
    On any startup failure everything started so far is stopped again (the logs
    stay in ``state_dir``); a start that loses a port race is retried.
    """
    state_dir = Path(state_dir).expanduser().resolve()
    _check_state_dir_is_ours(state_dir)
    existing = _read_state(state_dir)
    if existing is not None:
        if _is_healthy(existing):
            log(f"reusing running dev cluster at {existing.server} (state in {state_dir})")
            _install_crds(existing, crd_dirs, log)
            _print_usage(existing, log)
            return existing
        log(f"cleaning up stale dev cluster state in {state_dir}")
        down(state_dir)

    bin_dir = find_bin_dir(log)
    attempts = 3
    for attempt in range(1, attempts + 1):
        try:
            cluster = _start(state_dir, bin_dir, log, ready_timeout)
            break
        except DevClusterError as err:
            # Ports are picked free but released before the components bind them,
            # so another process can win the race; a fresh set of ports fixes it.
            if attempt == attempts:
                log(f"startup failed; logs kept in {state_dir} (remove with `sloguard dev down`)")
                raise
            log(f"startup attempt {attempt} failed, retrying with new ports: {str(err).splitlines()[0]}")
    try:
        _install_crds(cluster, crd_dirs, log)
    except BaseException:
        _stop_all(cluster)
        log(f"CRD installation failed; logs kept in {state_dir} (remove with `sloguard dev down`)")
        raise
    _print_usage(cluster, log)
    return cluster


def _start(state_dir: Path, bin_dir: Path, log: Log, ready_timeout: float) -> Cluster:
    """One attempt at starting etcd, kube-apiserver and kube-controller-manager in a fresh state dir.

    On failure everything started is stopped again and the logs are left in place.
    """
    _prepare_state_dir(state_dir)
    ports = {name: _free_port() for name in ("etcd", "etcd-peer", "kube-apiserver", "kube-controller-manager")}
    server = f"https://127.0.0.1:{ports['kube-apiserver']}"
    cluster = Cluster(
        state_dir=state_dir,
        kubeconfig=state_dir / "kubeconfig",
        server=server,
        bin_dir=bin_dir,
        ports=ports,
    )
    _write_state(cluster)
    try:
        started = time.monotonic()
        pki = state_dir / "pki"
        _make_certs(pki)
        _write_kubeconfig(cluster.kubeconfig, server, pki, "admin")
        _write_kubeconfig(state_dir / "controller-manager.kubeconfig", server, pki, "controller-manager")

        log(f"starting etcd on 127.0.0.1:{ports['etcd']}")
        _spawn(cluster, "etcd", _etcd_argv(cluster, bin_dir))
        log(f"starting kube-apiserver on {server}")
        _spawn(cluster, "kube-apiserver", _apiserver_argv(cluster, bin_dir))
        _wait_ready(cluster, "kube-apiserver", f"{server}/readyz", _ssl_context(pki), ready_timeout)
        log("starting kube-controller-manager")
        _spawn(cluster, "kube-controller-manager", _controller_manager_argv(cluster, bin_dir))
        # Its serving cert is self-signed (generated at start): only liveness matters.
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        kcm_url = f"https://127.0.0.1:{ports['kube-controller-manager']}/healthz"
        _wait_ready(cluster, "kube-controller-manager", kcm_url, insecure, ready_timeout)
        cluster.version = _server_version(cluster)
        _write_state(cluster)
        log(f"control plane {cluster.version} ready in {time.monotonic() - started:.1f}s")
    except BaseException:
        _stop_all(cluster)
        raise
    return cluster


def _stop_all(cluster: Cluster) -> None:
    for name in reversed(COMPONENTS):
        _stop(cluster, name)


def _print_usage(cluster: Cluster, log: Log) -> None:
    log(
        f"\nexport KUBECONFIG={cluster.kubeconfig}\n"
        "kubectl get crds\n"
        f"# stop with: sloguard dev down --state-dir {cluster.state_dir}"
    )


def down(state_dir: Path) -> None:
    """Stop the processes recorded in ``state_dir`` and delete the directory.

    Safe to call repeatedly and on half-started clusters; refuses to delete a
    directory that ``up`` did not create.
    """
    state_dir = Path(state_dir).expanduser().resolve()
    if not state_dir.exists():
        return
    if not (state_dir / MARKER).exists():
        raise DevClusterError(f"{state_dir} was not created by sloguard dev up; not touching it")
    cluster = _read_state(state_dir)
    if cluster is not None:
        _stop_all(cluster)
    shutil.rmtree(state_dir)

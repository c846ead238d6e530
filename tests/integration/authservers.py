"""Servers that demand TLS, credentials and a tenant header, over a small synthetic history.

Used by tests/integration/test_prometheus_auth.py and tests/e2e/test_prometheus_auth_operator.py:

* **Prometheus 3** (``hack/build-tools.sh prometheus3``, or ``$PROMETHEUS3_BIN``) served over TLS
  with basic auth by its own ``--web.config.file``; its certificate is signed by a CA generated
  here with ``cryptography`` (and a second CA that signed nothing of it, to be the wrong one);
* the same, demanding a client certificate signed by that CA (mutual TLS);
* **Debian's nginx** in front of a plain Prometheus 3, demanding ``Authorization: Bearer`` with
  the current token and ``X-Scope-OrgID: team-a`` (as Mimir and Cortex do), answering 401
  otherwise.

History (1-minute samples, 2026-09-30 to 2026-10-03 UTC): ``http_requests_total{job="api"}``
at 1,000 requests a minute, 10% of them failing (``code="500"``) from 2026-10-02 08:00 to 09:00;
``probe_success{instance="platform"}`` down from 2026-10-02 12:00 to 12:25. :func:`counts` gives
expected figures from those tables, never with sloguard's code.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from tests import metricservers
from tests.integration.promfixture import create_blocks
from tests.support.cluster import free_port

REPO = Path(__file__).resolve().parents[2]
NGINX = "/usr/sbin/nginx"

UTC = dt.UTC
HISTORY_START = int(dt.datetime(2026, 9, 30, tzinfo=UTC).timestamp())
HISTORY_END = int(dt.datetime(2026, 10, 3, tzinfo=UTC).timestamp())
REQUESTS_PER_MINUTE = 1000
ERROR_SPELL = (dt.datetime(2026, 10, 2, 8, tzinfo=UTC), dt.datetime(2026, 10, 2, 9, tzinfo=UTC))
ERRORS_PER_MINUTE = 100  # 10% during the spell
PROBE_DOWN = (dt.datetime(2026, 10, 2, 12, tzinfo=UTC), dt.datetime(2026, 10, 2, 12, 25, tzinfo=UTC))

AT = dt.datetime(2026, 10, 2, 9, tzinfo=UTC)  # the end of the error spell
USER, PASSWORD = "alice", "correct horse battery staple"
TENANT = "team-a"
TOKEN = "current-token-0002"
REVOKED = "revoked-token-0001"  # same length as TOKEN: a rewrite keeps the file size

# --- the history and what it says --------------------------------------------------------------


def _in(t: int, span: tuple[dt.datetime, dt.datetime]) -> bool:
    return span[0].timestamp() <= t < span[1].timestamp()


def errors_in_minute(t: int) -> int:
    """Failed requests in the minute [t, t + 60)."""
    return ERRORS_PER_MINUTE if _in(t, ERROR_SPELL) else 0


def history() -> Iterator[str]:
    """OpenMetrics; a counter's sample at t counts the requests of the minutes before t."""
    minutes = range(HISTORY_START, HISTORY_END + 1, 60)
    ok = bad = 0
    ok_lines, bad_lines = [], []
    for t in minutes:
        ok_lines.append(f'http_requests_total{{job="api",code="200"}} {ok} {t}\n')
        bad_lines.append(f'http_requests_total{{job="api",code="500"}} {bad} {t}\n')
        e = errors_in_minute(t)
        ok, bad = ok + REQUESTS_PER_MINUTE - e, bad + e
    yield "# TYPE http_requests counter\n"
    yield from ok_lines
    yield from bad_lines
    yield "# TYPE probe_success gauge\n"
    for t in minutes:
        yield f'probe_success{{instance="platform"}} {0 if _in(t, PROBE_DOWN) else 1} {t}\n'
    yield "# EOF\n"


def counts(start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """Failed and total requests in [start, end)."""
    minutes = range(int(start.timestamp()), int(end.timestamp()), 60)
    return sum(errors_in_minute(t) for t in minutes), REQUESTS_PER_MINUTE * len(minutes)


SLO_FILE = """\
apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
metadata: {name: api-availability, namespace: shop}
spec:
  service: api
  objective: 99.9
  window: 1d
  sli:
    ratio:
      errors: 'http_requests_total{job="api",code=~"5.."}'
      total: 'http_requests_total{job="api"}'
"""

CONTRACT_FILE = """\
apiVersion: sloguard.io/v1alpha1
kind: SLAContract
metadata: {name: acme, namespace: billing}
spec:
  customer: {id: acme, name: ACME Corp}
  contractId: C-2026-001
  timezone: UTC
  fee: {monthly: 10000, currency: USD}
  terms:
  - name: platform-uptime
    type: uptime
    objective: 99.9
    sli: {boolGauge: {selector: 'probe_success{instance="platform"}'}}
    credits: [{below: 99.9, percent: 10}]
  - name: api-success
    type: availability
    objective: 99.95
    sli:
      ratio: {errors: 'http_requests_total{job="api",code=~"5.."}', total: 'http_requests_total{job="api"}'}
    credits: [{below: 99.95, percent: 10}]
"""

# --- certificates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certs:
    ca: Path
    wrong_ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def _ca(name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, name: str, server: bool,
          ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = dt.datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                              else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def make_certs(d: Path) -> Certs:
    d.mkdir(parents=True, exist_ok=True)
    ca, ca_key = _ca("sloguard test CA")
    wrong, _ = _ca("some other CA")
    server, server_key = _leaf(ca, ca_key, "prometheus", server=True)
    client, client_key = _leaf(ca, ca_key, "sloguard", server=False)
    pem = serialization.Encoding.PEM
    (d / "ca.pem").write_bytes(ca.public_bytes(pem))
    (d / "wrong-ca.pem").write_bytes(wrong.public_bytes(pem))
    (d / "server.pem").write_bytes(server.public_bytes(pem))
    (d / "client.pem").write_bytes(client.public_bytes(pem))
    return Certs(d / "ca.pem", d / "wrong-ca.pem", d / "server.pem", _write_key(server_key, d / "server-key.pem"),
                 d / "client.pem", _write_key(client_key, d / "client-key.pem"))


# --- servers -----------------------------------------------------------------------------------


def prometheus3() -> str:
    """Prometheus 3: $PROMETHEUS3_BIN, or built once by hack/build-tools.sh (waits on its lock)."""
    return os.environ.get("PROMETHEUS3_BIN") or metricservers.prometheus_bin(3)


class Process:
    """A server process we started, stopped by its own pid."""

    def __init__(self, args: list[str], workdir: Path, name: str) -> None:
        self.log = workdir / f"{name}.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)

    def wait_ready(self, check: object, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if check():  # type: ignore[operator]
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"not ready within {timeout:.0f}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_prometheus(binary: str, data: Path, workdir: Path, port: int, web_config: Path | None = None) -> Process:
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(data, workdir / "data")  # one TSDB per server (each locks its own)
    (workdir / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
    args = [binary, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=400d",
            "--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h", "--log.level=warn"]
    if web_config is not None:
        args.append(f"--web.config.file={web_config}")
    return Process(args, workdir, "prometheus")


@dataclass
class Servers:
    tls_url: str
    proxy_url: str
    mtls_url: str
    certs: Certs
    secrets: Path  # holds password and token files the tests may rewrite


@contextmanager
def start_servers(root: Path) -> Iterator[Servers]:
    """Prometheus 3 over TLS + basic auth, over mutual TLS, and behind nginx (token + tenant)."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"{NGINX} is missing: apt-get install nginx-light (CI installs it)")
    binary = prometheus3()
    create_blocks(history(), root / "blocks")
    certs = make_certs(root / "certs")
    secrets = root / "secrets"
    secrets.mkdir()

    # Prometheus 3 over TLS with basic auth.
    web = root / "web.yml"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    web.write_text(f"tls_server_config:\n  cert_file: {certs.server_cert}\n  key_file: {certs.server_key}\n"
                   f"basic_auth_users:\n  {USER}: '{hashed}'\n")
    tls_port, mtls_port, plain_port, proxy_port = free_port(), free_port(), free_port(), free_port()

    # Prometheus 3 demanding a client certificate signed by the CA (mutual TLS).
    mtls_web = root / "mtls-web.yml"
    mtls_web.write_text(f"tls_server_config:\n  cert_file: {certs.server_cert}\n  key_file: {certs.server_key}\n"
                        f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {certs.ca}\n")

    # A plain Prometheus 3 behind nginx demanding a bearer token and a tenant.
    ngx = root / "nginx"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (ngx / sub).mkdir(parents=True)
    (ngx / "nginx.conf").write_text(f"""\
daemon off;
master_process off;
pid {ngx}/nginx.pid;
error_log {ngx}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log {ngx}/access.log;
  client_body_temp_path {ngx}/body;
  proxy_temp_path {ngx}/proxy;
  fastcgi_temp_path {ngx}/fastcgi;
  uwsgi_temp_path {ngx}/uwsgi;
  scgi_temp_path {ngx}/scgi;
  default_type text/plain;
  map $http_authorization $token_ok {{ default 0; "Bearer {TOKEN}" 1; }}
  server {{
    listen 127.0.0.1:{proxy_port};
    location / {{
      if ($token_ok = 0) {{ return 401 "missing or invalid bearer token\\n"; }}
      if ($http_x_scope_orgid != "{TENANT}") {{ return 401 "no org id\\n"; }}
      proxy_pass http://127.0.0.1:{plain_port};
    }}
    location /gateway-down/ {{ return 502 "bad gateway\n"; }}
  }}
}}
""")
    started: list[Process] = []
    try:
        tls = start_prometheus(binary, root / "blocks", root / "tls", tls_port, web)
        started.append(tls)
        mtls = start_prometheus(binary, root / "blocks", root / "mtls", mtls_port, mtls_web)
        started.append(mtls)
        plain = start_prometheus(binary, root / "blocks", root / "plain", plain_port)
        started.append(plain)
        proxy = Process([NGINX, "-p", str(ngx), "-e", str(ngx / "error.log"), "-c", str(ngx / "nginx.conf")],
                        ngx, "nginx")
        started.append(proxy)
        ca, client, auth = str(certs.ca), (str(certs.client_cert), str(certs.client_key)), (USER, PASSWORD)
        headers = {"Authorization": f"Bearer {TOKEN}", "X-Scope-OrgID": TENANT}
        tls.wait_ready(lambda: requests.get(f"https://127.0.0.1:{tls_port}/-/ready", verify=ca, auth=auth,
                                            timeout=2).status_code == 200)
        mtls.wait_ready(lambda: requests.get(f"https://127.0.0.1:{mtls_port}/-/ready", verify=ca, cert=client,
                                             timeout=2).status_code == 200)
        plain.wait_ready(lambda: requests.get(f"http://127.0.0.1:{plain_port}/-/ready", timeout=2).status_code == 200)
        proxy.wait_ready(lambda: requests.get(f"http://127.0.0.1:{proxy_port}/-/ready", headers=headers,
                                              timeout=2).status_code == 200)
        yield Servers(f"https://127.0.0.1:{tls_port}", f"http://127.0.0.1:{proxy_port}",
                      f"https://127.0.0.1:{mtls_port}", certs, secrets)
    finally:
        for p in reversed(started):
            p.stop()


def secret(servers: Servers, name: str, value: str) -> Path:
    path = servers.secrets / name
    path.write_text(value + "\n")
    return path

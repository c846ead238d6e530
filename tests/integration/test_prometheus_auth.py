"""Reaching a Prometheus that demands TLS, credentials and a tenant header, as production ones do.

Two real servers, both over the same synthetic history this module builds:

* **Prometheus 3** (``hack/build-tools.sh prometheus3``) served over TLS with basic auth by its
  own ``--web.config.file``; its certificate is signed by a CA generated here with
  ``cryptography`` (and a second CA that signed nothing of it, to be the wrong one).
* **Debian's nginx** in front of a plain Prometheus 3, demanding ``Authorization: Bearer`` with
  the current token and ``X-Scope-OrgID: team-a`` (as Mimir and Cortex do), answering 401
  otherwise.

History (1-minute samples, 2026-09-30 to 2026-10-03 UTC): ``http_requests_total{job="api"}``
at 1,000 requests a minute, 10% of them failing (``code="500"``) from 2026-10-02 08:00 to 09:00;
``probe_success{instance="platform"}`` down from 2026-10-02 12:00 to 12:25. Expected figures
are computed here from those tables, never with sloguard's code.

Exit codes are the documented ones: ``sloguard budget`` 2, ``sloguard sla evaluate`` 1.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from tests.integration.promfixture import create_blocks, free_port

from sloguard.adapters.prometheus import BudgetReader, PrometheusUnavailable
from sloguard.adapters.prometheus_client import load_settings
from sloguard.api.loader import load_objectives

pytestmark = pytest.mark.integration

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
    if os.environ.get("PROMETHEUS3_BIN"):
        return os.environ["PROMETHEUS3_BIN"]
    out = subprocess.run(["bash", str(REPO / "hack" / "build-tools.sh"), "prometheus3"], capture_output=True,
                         text=True, check=True).stdout
    return str(Path(out.strip().splitlines()[-1]) / "prometheus")


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


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not Path(NGINX).exists():
        pytest.fail(f"{NGINX} is missing: apt-get install nginx-light (CI installs it)")
    binary = prometheus3()
    root = tmp_path_factory.mktemp("auth")
    create_blocks(history(), root / "blocks")
    certs = make_certs(root / "certs")
    secrets = root / "secrets"
    secrets.mkdir()

    # Prometheus 3 over TLS with basic auth.
    web = root / "web.yml"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    web.write_text(f"tls_server_config:\n  cert_file: {certs.server_cert}\n  key_file: {certs.server_key}\n"
                   f"basic_auth_users:\n  {USER}: '{hashed}'\n")
    tls_port = free_port()
    tls = start_prometheus(binary, root / "blocks", root / "tls", tls_port, web)
    auth = (USER, PASSWORD)
    tls.wait_ready(lambda: requests.get(f"https://127.0.0.1:{tls_port}/-/ready", verify=str(certs.ca), auth=auth,
                                        timeout=2).status_code == 200)

    # Prometheus 3 demanding a client certificate signed by the CA (mutual TLS).
    mtls_web = root / "mtls-web.yml"
    mtls_web.write_text(f"tls_server_config:\n  cert_file: {certs.server_cert}\n  key_file: {certs.server_key}\n"
                        f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {certs.ca}\n")
    mtls_port = free_port()
    mtls = start_prometheus(binary, root / "blocks", root / "mtls", mtls_port, mtls_web)
    client = (str(certs.client_cert), str(certs.client_key))
    mtls.wait_ready(lambda: requests.get(f"https://127.0.0.1:{mtls_port}/-/ready", verify=str(certs.ca),
                                         cert=client, timeout=2).status_code == 200)

    # A plain Prometheus 3 behind nginx demanding a bearer token and a tenant.
    plain_port, proxy_port = free_port(), free_port()
    plain = start_prometheus(binary, root / "blocks", root / "plain", plain_port)
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
  }}
}}
""")
    proxy = Process([NGINX, "-p", str(ngx), "-e", str(ngx / "error.log"), "-c", str(ngx / "nginx.conf")], ngx, "nginx")
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Scope-OrgID": TENANT}
    plain.wait_ready(lambda: requests.get(f"http://127.0.0.1:{plain_port}/-/ready", timeout=2).status_code == 200)
    proxy.wait_ready(lambda: requests.get(f"http://127.0.0.1:{proxy_port}/-/ready", headers=headers,
                                          timeout=2).status_code == 200)
    try:
        yield Servers(f"https://127.0.0.1:{tls_port}", f"http://127.0.0.1:{proxy_port}",
                      f"https://127.0.0.1:{mtls_port}", certs, secrets)
    finally:
        for p in (proxy, plain, mtls, tls):
            p.stop()


def secret(servers: Servers, name: str, value: str) -> Path:
    path = servers.secrets / name
    path.write_text(value + "\n")
    return path


def tls_flags(servers: Servers, password: str = PASSWORD, ca: Path | None = None) -> list[str]:
    return ["--prometheus", servers.tls_url, "--prometheus-ca-file", str(ca or servers.certs.ca),
            "--prometheus-username", USER, "--prometheus-password-file", str(secret(servers, "password", password))]


def proxy_flags(servers: Servers, token: str | None = TOKEN, tenant: str | None = TENANT) -> list[str]:
    flags = ["--prometheus", servers.proxy_url]
    if token is not None:
        flags += ["--prometheus-bearer-token-file", str(secret(servers, "token", token))]
    if tenant is not None:
        flags += ["--prometheus-header", f"X-Scope-OrgID: {tenant}"]
    return flags


def sloguard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("sloguard")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "sloguard.cli"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLOGUARD_PROMETHEUS_")}
    return subprocess.run([*cmd, *args], capture_output=True, text=True,
                          env={**clean, "NO_COLOR": "1", **(env or {})}, timeout=120)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "slo.yaml").write_text(SLO_FILE)
    (tmp_path / "contract.yaml").write_text(CONTRACT_FILE)
    return {"slo": str(tmp_path / "slo.yaml"), "contract": str(tmp_path / "contract.yaml")}


# --- figures through both ----------------------------------------------------------------------


def expected_budget() -> tuple[float, float]:
    bad, total = counts(AT - dt.timedelta(days=1), AT)
    bad_1h, total_1h = counts(AT - dt.timedelta(hours=1), AT)
    return bad / total / 0.001, bad_1h / total_1h / 0.001


@pytest.mark.parametrize("route", ["tls-basic-auth", "nginx-bearer-tenant"])
def test_budget_reads_the_right_figures_through_tls_and_auth(
    servers: Servers, files: dict[str, str], route: str
) -> None:
    flags = tls_flags(servers) if route == "tls-basic-auth" else proxy_flags(servers)
    proc = sloguard("budget", *flags, "--at", AT.isoformat(), "-o", "json", files["slo"])
    assert proc.returncode == 0, proc.stderr
    [status] = json.loads(proc.stdout)
    consumed, burn_1h = expected_budget()
    assert consumed == pytest.approx(6000 / 1_440_000 / 0.001)  # the table, read back
    assert status["errorBudget"]["consumed"] == pytest.approx(consumed, rel=0.005)
    assert status["burnRates"]["1h"] == pytest.approx(burn_1h, rel=0.005)
    assert status["state"] == "exhausted"


@pytest.mark.parametrize("route", ["tls-basic-auth", "nginx-bearer-tenant"])
def test_sla_evaluate_reads_the_right_figures_through_tls_and_auth(
    servers: Servers, files: dict[str, str], route: str
) -> None:
    flags = tls_flags(servers) if route == "tls-basic-auth" else proxy_flags(servers)
    proc = sloguard("sla", "evaluate", *flags, "--period", "2026-10", "--at", "2026-10-03T00:00:00Z",
                    "-o", "json", files["contract"])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    terms = {t["name"]: t for t in out["terms"]}
    month_start, until = dt.datetime(2026, 10, 1, tzinfo=UTC), dt.datetime(2026, 10, 3, tzinfo=UTC)
    minutes = int((until - month_start).total_seconds() // 60)
    down = int((PROBE_DOWN[1] - PROBE_DOWN[0]).total_seconds() // 60)
    bad, total = counts(month_start, until)
    assert out["minutes"] == minutes == 2880
    assert terms["platform-uptime"]["downtimeMinutes"] == pytest.approx(down, abs=1)
    assert terms["api-success"]["actual"] == pytest.approx(100 * (1 - bad / total), abs=0.001)
    assert terms["api-success"]["creditPercent"] == 10  # 99.79% < 99.95%


# --- refusals: one line naming the URL and what was refused --------------------------------------


def _one_clear_line(proc: subprocess.CompletedProcess[str], code: int, *wanted: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for w in wanted:
        assert w in lines[0], lines[0]
    return lines[0]


def test_a_wrong_ca_is_one_line_naming_the_url_and_the_ca_file(servers: Servers, files: dict[str, str]) -> None:
    flags = tls_flags(servers, ca=servers.certs.wrong_ca)
    for command, code in ((["budget", "--at", AT.isoformat()], 2),
                          (["sla", "evaluate", "--period", "2026-10"], 1)):
        proc = sloguard(*command, *flags, files["slo" if command[0] == "budget" else "contract"])
        _one_clear_line(proc, code, servers.tls_url, "TLS certificate not trusted",
                        f"CA file {servers.certs.wrong_ca}")


def test_no_ca_means_system_cas_and_verification_stays_on(servers: Servers, files: dict[str, str]) -> None:
    flags = ["--prometheus", servers.tls_url, "--prometheus-username", USER,
             "--prometheus-password-file", str(secret(servers, "password", PASSWORD))]
    proc = sloguard("budget", *flags, "--at", AT.isoformat(), files["slo"])
    _one_clear_line(proc, 2, servers.tls_url, "TLS certificate not trusted (system CAs")


def test_insecure_skip_verify_is_an_explicit_opt_in_that_warns(servers: Servers, files: dict[str, str]) -> None:
    flags = ["--prometheus", servers.tls_url, "--prometheus-username", USER,
             "--prometheus-password-file", str(secret(servers, "password", PASSWORD))]
    proc = sloguard("budget", *flags, "--at", AT.isoformat(), "-o", "json", files["slo"],
                    env={"SLOGUARD_PROMETHEUS_INSECURE_SKIP_VERIFY": "true"})
    assert proc.returncode == 0, proc.stderr
    assert "TLS verification is OFF for Prometheus at " + servers.tls_url in proc.stderr
    consumed, _ = expected_budget()
    assert json.loads(proc.stdout)[0]["errorBudget"]["consumed"] == pytest.approx(consumed, rel=0.005)


def test_a_bad_password_is_401_naming_the_user(servers: Servers, files: dict[str, str]) -> None:
    flags = tls_flags(servers, password="wrong password")
    proc = sloguard("budget", *flags, "--at", AT.isoformat(), files["slo"])
    line = _one_clear_line(proc, 2, servers.tls_url, "401 Unauthorized", f"basic auth user '{USER}'")
    assert "wrong password" not in line  # never the secret
    proc = sloguard("sla", "evaluate", *flags, "--period", "2026-10", files["contract"])
    _one_clear_line(proc, 1, servers.tls_url, "401 Unauthorized", f"basic auth user '{USER}'")


def test_a_missing_tenant_header_is_401_with_the_servers_reason(servers: Servers, files: dict[str, str]) -> None:
    proc = sloguard("budget", *proxy_flags(servers, tenant=None), "--at", AT.isoformat(), files["slo"])
    _one_clear_line(proc, 2, servers.proxy_url, "401 Unauthorized", "no org id", "no extra headers")
    proc = sloguard("sla", "evaluate", *proxy_flags(servers, tenant=None), "--period", "2026-10", files["contract"])
    _one_clear_line(proc, 1, servers.proxy_url, "401 Unauthorized", "no org id")


def test_a_missing_token_is_401_saying_no_credentials_were_given(servers: Servers, files: dict[str, str]) -> None:
    proc = sloguard("budget", *proxy_flags(servers, token=None), "--at", AT.isoformat(), files["slo"])
    _one_clear_line(proc, 2, servers.proxy_url, "401 Unauthorized", "missing or invalid bearer token",
                    "no credentials")
    proc = sloguard("sla", "evaluate", *proxy_flags(servers, token=None), "--period", "2026-10", files["contract"])
    _one_clear_line(proc, 1, servers.proxy_url, "401 Unauthorized", "no credentials")


def test_a_client_certificate_is_sent_and_its_absence_is_one_line(servers: Servers, files: dict[str, str]) -> None:
    base = ["--prometheus", servers.mtls_url, "--prometheus-ca-file", str(servers.certs.ca)]
    proc = sloguard("budget", *base, "--prometheus-cert-file", str(servers.certs.client_cert),
                    "--prometheus-key-file", str(servers.certs.client_key), "--at", AT.isoformat(), "-o", "json",
                    files["slo"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["errorBudget"]["consumed"] == pytest.approx(expected_budget()[0], rel=0.005)
    proc = sloguard("budget", *base, "--at", AT.isoformat(), files["slo"])
    # Depending on timing the server's "certificate required" alert or just its closing the connection
    # arrives first: both lines name the missing client certificate.
    _one_clear_line(proc, 2, f"cannot reach Prometheus at {servers.mtls_url}: the server ", "client certificate",
                    "(none given; --prometheus-cert-file)")


def test_an_unreachable_server_is_one_line(files: dict[str, str], tmp_path: Path) -> None:
    url = f"https://127.0.0.1:{free_port()}"
    proc = sloguard("budget", "--prometheus", url, "--at", AT.isoformat(), files["slo"])
    _one_clear_line(proc, 2, f"cannot reach Prometheus at {url}: connection refused")


def test_settings_from_env_alone_reach_the_server(servers: Servers, files: dict[str, str]) -> None:
    env = {"SLOGUARD_PROMETHEUS_URL": servers.proxy_url,
           "SLOGUARD_PROMETHEUS_BEARER_TOKEN_FILE": str(secret(servers, "token", TOKEN)),
           "SLOGUARD_PROMETHEUS_HEADERS": f"X-Scope-OrgID: {TENANT}"}
    proc = sloguard("budget", "--at", AT.isoformat(), "-o", "json", files["slo"], env=env)
    assert proc.returncode == 0, proc.stderr
    consumed, _ = expected_budget()
    assert json.loads(proc.stdout)[0]["errorBudget"]["consumed"] == pytest.approx(consumed, rel=0.005)


# --- a long-running client: rotated credentials, the operator's condition message -----------------


def test_a_rotated_token_file_is_picked_up_without_a_restart(servers: Servers, files: dict[str, str]) -> None:
    token_file = secret(servers, "rotating-token", REVOKED)
    settings = load_settings({"url": servers.proxy_url, "bearer_token_file": str(token_file),
                              "headers": [f"X-Scope-OrgID: {TENANT}"]}, use_env=False)
    objectives, _ = load_objectives([files["slo"]])
    reader = BudgetReader.connect(settings)
    try:
        refused = reader.refresh(objectives, AT)
        # What the operator's PrometheusReachable=False condition says: the CLI's one line.
        assert not refused.reachable and refused.message is not None
        assert "401 Unauthorized" in refused.message and servers.proxy_url in refused.message
        assert "missing or invalid bearer token" in refused.message and "\n" not in refused.message

        # Rotated within one mtime tick (same size, same mtime): caught on the 401, re-read, retried.
        stamp = token_file.stat()
        token_file.write_text(TOKEN + "\n")
        os.utime(token_file, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
        consumed, _ = expected_budget()
        assert reader.evaluate(objectives, AT)[0].consumed == pytest.approx(consumed, rel=0.005)

        # Revoked and rotated again, each with a new mtime: seen before the next request.
        token_file.write_text(REVOKED + "\n")
        os.utime(token_file, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 10**9))
        with pytest.raises(PrometheusUnavailable, match="401 Unauthorized"):
            reader.evaluate(objectives, AT)
        token_file.write_text(TOKEN + "\n")
        os.utime(token_file, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 2 * 10**9))
        ok = reader.refresh(objectives, AT)
        assert ok.reachable, ok.message
        assert ok.statuses[objectives[0].key].consumed == pytest.approx(consumed, rel=0.005)
    finally:
        reader.close()


def test_a_rotated_password_file_is_picked_up_without_a_restart(servers: Servers, files: dict[str, str]) -> None:
    password_file = secret(servers, "rotating-password", "not the password")
    settings = load_settings({"url": servers.tls_url, "ca_file": str(servers.certs.ca), "username": USER,
                              "password_file": str(password_file)}, use_env=False)
    objectives, _ = load_objectives([files["slo"]])
    reader = BudgetReader.connect(settings)
    try:
        with pytest.raises(PrometheusUnavailable, match=f"401 Unauthorized.*basic auth user '{USER}'"):
            reader.evaluate(objectives, AT)
        password_file.write_text(PASSWORD + "\n")
        assert reader.evaluate(objectives, AT)[0].consumed == pytest.approx(expected_budget()[0], rel=0.005)
    finally:
        reader.close()


def test_a_replaced_ca_file_is_used_without_a_restart(servers: Servers, files: dict[str, str]) -> None:
    ca_file = servers.secrets / "rotating-ca.pem"
    shutil.copyfile(servers.certs.wrong_ca, ca_file)
    settings = load_settings({"url": servers.tls_url, "ca_file": str(ca_file), "username": USER,
                              "password_file": str(secret(servers, "password", PASSWORD))}, use_env=False)
    objectives, _ = load_objectives([files["slo"]])
    reader = BudgetReader.connect(settings)
    try:
        with pytest.raises(PrometheusUnavailable, match=f"TLS certificate not trusted \\(CA file {ca_file}\\)"):
            reader.evaluate(objectives, AT)
        shutil.copyfile(servers.certs.ca, ca_file)  # the ConfigMap got the right bundle
        assert reader.evaluate(objectives, AT)[0].consumed == pytest.approx(expected_budget()[0], rel=0.005)
    finally:
        reader.close()

"""Reaching a Prometheus that demands TLS, credentials and a tenant header, as production ones do.

The servers and the history are described in :mod:`tests.integration.authservers`: Prometheus 3
over TLS with basic auth, Prometheus 3 over mutual TLS, and Debian's nginx demanding a bearer
token and ``X-Scope-OrgID`` in front of a plain Prometheus 3. Expected figures come from the
history's tables.

Exit codes are the documented ones: ``sloguard budget`` 2, ``sloguard sla evaluate`` 1.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.authservers import (
    AT,
    CONTRACT_FILE,
    PASSWORD,
    PROBE_DOWN,
    REVOKED,
    SLO_FILE,
    TENANT,
    TOKEN,
    USER,
    UTC,
    Servers,
    counts,
    secret,
    start_servers,
)
from tests.support.cluster import free_port

from sloguard.adapters.prometheus import BudgetReader, PrometheusUnavailable, load_settings
from sloguard.api.loader import load_objectives

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with start_servers(tmp_path_factory.mktemp("auth")) as running:
        yield running


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
    for command, code in ((["budget", "--at", AT.isoformat()], 3),
                          (["sla", "evaluate", "--period", "2026-10"], 3)):
        proc = sloguard(*command, *flags, files["slo" if command[0] == "budget" else "contract"])
        _one_clear_line(proc, code, servers.tls_url, "TLS certificate not trusted",
                        f"CA file {servers.certs.wrong_ca}")


def test_no_ca_means_system_cas_and_verification_stays_on(servers: Servers, files: dict[str, str]) -> None:
    flags = ["--prometheus", servers.tls_url, "--prometheus-username", USER,
             "--prometheus-password-file", str(secret(servers, "password", PASSWORD))]
    proc = sloguard("budget", *flags, "--at", AT.isoformat(), files["slo"])
    _one_clear_line(proc, 3, servers.tls_url, "TLS certificate not trusted (system CAs")


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
    line = _one_clear_line(proc, 3, servers.tls_url, "401 Unauthorized", f"basic auth user '{USER}'")
    assert "wrong password" not in line  # never the secret
    proc = sloguard("sla", "evaluate", *flags, "--period", "2026-10", files["contract"])
    _one_clear_line(proc, 3, servers.tls_url, "401 Unauthorized", f"basic auth user '{USER}'")


def test_a_missing_tenant_header_is_401_with_the_servers_reason(servers: Servers, files: dict[str, str]) -> None:
    proc = sloguard("budget", *proxy_flags(servers, tenant=None), "--at", AT.isoformat(), files["slo"])
    _one_clear_line(proc, 3, servers.proxy_url, "401 Unauthorized", "no org id", "no extra headers")
    proc = sloguard("sla", "evaluate", *proxy_flags(servers, tenant=None), "--period", "2026-10", files["contract"])
    _one_clear_line(proc, 3, servers.proxy_url, "401 Unauthorized", "no org id")


def test_a_missing_token_is_401_saying_no_credentials_were_given(servers: Servers, files: dict[str, str]) -> None:
    proc = sloguard("budget", *proxy_flags(servers, token=None), "--at", AT.isoformat(), files["slo"])
    _one_clear_line(proc, 3, servers.proxy_url, "401 Unauthorized", "missing or invalid bearer token",
                    "no credentials")
    proc = sloguard("sla", "evaluate", *proxy_flags(servers, token=None), "--period", "2026-10", files["contract"])
    _one_clear_line(proc, 3, servers.proxy_url, "401 Unauthorized", "no credentials")


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
    _one_clear_line(proc, 3, f"cannot reach Prometheus at {servers.mtls_url}: the server ", "client certificate",
                    "(none given; --prometheus-cert-file)")


def test_a_failing_gateway_is_one_line_after_the_retries(servers: Servers, files: dict[str, str]) -> None:
    url = f"{servers.proxy_url}/gateway-down"
    proc = sloguard("budget", *proxy_flags(servers)[2:], "--prometheus", url, "--at", AT.isoformat(), files["slo"])
    _one_clear_line(proc, 3, f"Prometheus at {url} answered HTTP 502 to every try")


def test_an_unreachable_server_is_one_line(files: dict[str, str], tmp_path: Path) -> None:
    url = f"https://127.0.0.1:{free_port()}"
    proc = sloguard("budget", "--prometheus", url, "--at", AT.isoformat(), files["slo"])
    _one_clear_line(proc, 3, f"cannot reach Prometheus at {url}: connection refused")


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


def test_impact_reads_through_the_proxy_with_the_same_flags(servers: Servers, files: dict[str, str]) -> None:
    start, end = dt.datetime(2026, 10, 2, 7, 30, tzinfo=UTC), AT
    proc = sloguard("impact", *proxy_flags(servers), "--from", start.isoformat(), "--to", end.isoformat(),
                    "-o", "json", files["slo"])
    assert proc.returncode == 0, proc.stderr
    [slo] = json.loads(proc.stdout)["slos"]
    bad, total = counts(start, end)
    assert (bad, total) == (6000, 90_000)
    assert slo["badEvents"] == pytest.approx(bad, rel=0.005) and slo["totalEvents"] == pytest.approx(total, rel=0.005)
    proc = sloguard("impact", *proxy_flags(servers, tenant=None), "--from", start.isoformat(), "--to",
                    end.isoformat(), files["slo"])
    _one_clear_line(proc, 3, servers.proxy_url, "401 Unauthorized", "no org id")

"""The Prometheus connection settings: flags over SLOGUARD_PROMETHEUS_*, one truthiness rule,
clear errors naming the flag and the variable. No server: the transport is tested in
tests/integration/test_prometheus_auth.py against real ones."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from sloguard.adapters.prometheus import (
    PrometheusSession,
    PrometheusSettings,
    PrometheusSettingsError,
    PrometheusUnavailable,
    add_arguments,
    load_settings,
    parse_headers,
    settings_from_args,
    to_env,
)
from sloguard.cli import build_parser


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SLOGUARD_PROMETHEUS_"):
            monkeypatch.delenv(name)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def token(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text("s3cret\n")
    return path


def test_defaults_verify_tls_and_send_nothing_extra() -> None:
    s = load_settings({"url": "https://prom:9090/"})
    assert s.url == "https://prom:9090"  # trailing slash dropped
    assert (s.insecure_skip_verify, s.timeout, s.headers, s.bearer_token_file) == (False, 60.0, {}, None)


def test_every_flag_has_its_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, token: Path) -> None:
    for name in ("ca", "cert", "key", "password"):
        (tmp_path / name).write_text(name)
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_URL", "https://mimir/prometheus")
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_USERNAME", "alice")
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_PASSWORD_FILE", str(tmp_path / "password"))
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_CA_FILE", str(tmp_path / "ca"))
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_CERT_FILE", str(tmp_path / "cert"))
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_HEADERS", "X-Scope-OrgID: team-a\nX-Extra: a:b")
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_TIMEOUT", "15")
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_INSECURE_SKIP_VERIFY", "yes")
    s = settings_from_args(parse())
    assert s == PrometheusSettings(
        url="https://mimir/prometheus", username="alice", password_file=tmp_path / "password",
        ca_file=tmp_path / "ca", cert_file=tmp_path / "cert", key_file=tmp_path / "key",
        headers={"X-Scope-OrgID": "team-a", "X-Extra": "a:b"}, timeout=15.0, insecure_skip_verify=True,
    )
    # ... and the variables sloguard run exports for kopf run read back the same settings.
    assert load_settings(env=to_env(s)) == s


def test_a_flag_wins_over_its_variable(monkeypatch: pytest.MonkeyPatch, token: Path) -> None:
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_URL", "http://from-env:9090")
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_TIMEOUT", "5")
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_HEADERS", "X-Scope-OrgID: env-tenant")
    s = settings_from_args(parse("--prometheus", "http://from-flag:9090", "--prometheus-header", "X-Scope-OrgID: a",
                                 "--prometheus-header", "X-B: b", "--prometheus-bearer-token-file", str(token)))
    assert (s.url, s.timeout, s.headers) == ("http://from-flag:9090", 5.0, {"X-Scope-OrgID": "a", "X-B": "b"})
    assert s.bearer_token_file == token


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("1", True), ("yes", True), ("on", True), ("TRUE", True),
    ("false", False), ("0", False), ("no", False), ("off", False),
])
def test_one_truthiness_rule_for_booleans(monkeypatch: pytest.MonkeyPatch, text: str, expected: bool) -> None:
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_INSECURE_SKIP_VERIFY", text)
    assert load_settings({"url": "https://p"}).insecure_skip_verify is expected
    # the same rule when the variables come from a mapping (Settings.from_env(env))
    assert load_settings({"url": "https://p"}, env={"SLOGUARD_PROMETHEUS_INSECURE_SKIP_VERIFY": text}
                         ).insecure_skip_verify is expected


def test_an_empty_variable_is_unset_and_a_nonsense_boolean_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_INSECURE_SKIP_VERIFY", "")
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_URL", "")
    assert load_settings().insecure_skip_verify is False and load_settings().url is None
    monkeypatch.setenv("SLOGUARD_PROMETHEUS_INSECURE_SKIP_VERIFY", "maybe")
    with pytest.raises(PrometheusSettingsError, match=r"^--prometheus-insecure-skip-verify "
                       r"\(SLOGUARD_PROMETHEUS_INSECURE_SKIP_VERIFY\): "):
        load_settings()


def test_the_insecure_flag_alone_turns_verification_off() -> None:
    assert settings_from_args(parse("--prometheus", "https://p", "--prometheus-insecure-skip-verify"),
                              use_env=False).insecure_skip_verify is True
    assert settings_from_args(parse("--prometheus", "https://p"), use_env=False).insecure_skip_verify is False


@pytest.mark.parametrize(("flags", "message"), [
    ({"url": "prometheus:9090"}, r"--prometheus \(SLOGUARD_PROMETHEUS_URL\): 'prometheus:9090' is not an http"),
    ({"url": "ftp://p"}, "is not an http:// or https:// URL"),
    ({"url": "http://p", "ca_file": "/nonexistent/ca.pem"},
     r"--prometheus-ca-file \(SLOGUARD_PROMETHEUS_CA_FILE\): /nonexistent/ca.pem: no such file"),
    ({"url": "http://p", "username": "alice"}, "--prometheus-username and --prometheus-password-file go together"),
    ({"url": "http://p", "headers": ["X-Scope-OrgID team-a"]},
     r"--prometheus-header \(SLOGUARD_PROMETHEUS_HEADERS\): expected 'Name: value', got 'X-Scope-OrgID team-a'"),
    ({"url": "http://p", "headers": ["Bad Name: x"]}, "'Bad Name' is not a valid HTTP header name"),
    ({"url": "http://p", "timeout": 0}, r"--prometheus-timeout \(SLOGUARD_PROMETHEUS_TIMEOUT\): "),
])
def test_bad_settings_name_the_flag_and_variable(flags: dict[str, object], message: str) -> None:
    with pytest.raises(PrometheusSettingsError, match=message) as info:
        load_settings(flags)
    assert "\n" not in str(info.value)


def test_credentials_are_exclusive_and_a_key_needs_its_certificate(token: Path) -> None:
    with pytest.raises(PrometheusSettingsError, match="either a bearer token file or basic auth"):
        load_settings({"url": "http://p", "bearer_token_file": str(token), "username": "a",
                       "password_file": str(token)})
    with pytest.raises(PrometheusSettingsError, match="--prometheus-key-file needs --prometheus-cert-file"):
        load_settings({"url": "http://p", "key_file": str(token)})
    with pytest.raises(PrometheusSettingsError, match="Authorization header conflicts"):
        load_settings({"url": "http://p", "bearer_token_file": str(token), "headers": ["Authorization: x"]})


def test_headers_parse_from_lines_lists_json_and_mappings() -> None:
    want = {"X-Scope-OrgID": "t", "X-A": "1: 2"}
    assert parse_headers("X-Scope-OrgID: t\n\nX-A: 1: 2\n") == want
    assert parse_headers(["X-Scope-OrgID: t", "X-A:1: 2"]) == want
    assert parse_headers('{"X-Scope-OrgID": "t", "X-A": "1: 2"}') == want
    assert parse_headers(want) == want


def test_messages_describe_credentials_but_never_the_secret(token: Path) -> None:
    s = load_settings({"url": "http://p", "bearer_token_file": str(token), "headers": ["X-Scope-OrgID: t"]})
    assert s.credentials() == f"bearer token file {token}; headers X-Scope-OrgID"
    assert "s3cret" not in s.credentials()


def test_a_session_needs_a_url_and_a_readable_non_empty_secret(tmp_path: Path) -> None:
    with pytest.raises(PrometheusSettingsError, match="no Prometheus URL"):
        PrometheusSession(PrometheusSettings())
    empty = tmp_path / "token"
    empty.write_text("\n")
    session = PrometheusSession(load_settings({"url": "http://127.0.0.1:1", "bearer_token_file": str(empty)}))
    with pytest.raises(PrometheusUnavailable, match=f"bearer token file {empty} is empty"):
        session.get("http://127.0.0.1:1/api/v1/query")


@pytest.mark.parametrize("command", [["budget"], ["sla", "evaluate"], ["impact"], ["run"]])
def test_every_command_that_reads_prometheus_takes_the_same_flags(command: list[str], token: Path) -> None:
    extra = {"impact": ["--from", "2026-10-01T00:00:00Z", "--to", "2026-10-01T01:00:00Z"]}.get(command[0], [])
    paths = [] if command == ["run"] else ["x.yaml"]
    args = build_parser().parse_args([*command, *extra, "--prometheus", "https://p", "--prometheus-bearer-token-file",
                                      str(token), "--prometheus-header", "X-Scope-OrgID: t", "--prometheus-timeout",
                                      "7", *paths])
    s = settings_from_args(args)
    assert (s.url, s.bearer_token_file, s.headers, s.timeout) == ("https://p", token, {"X-Scope-OrgID": "t"}, 7.0)


def test_the_operator_settings_carry_the_connection_through_its_env(token: Path) -> None:
    from sloguard.adapters.settings import Settings

    prometheus = load_settings({"url": "https://p", "bearer_token_file": str(token), "headers": ["X-Scope-OrgID: t"],
                                "insecure_skip_verify": True}, use_env=False)
    settings = Settings(prometheus=prometheus)
    assert settings.prometheus_url == "https://p"
    assert Settings.from_env(settings.to_env()).prometheus == prometheus


@pytest.mark.parametrize("command", [["budget", "x.yaml"], ["sla", "evaluate", "x.yaml"], ["run"]])
def test_bad_connection_settings_stop_a_command_with_one_line(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sloguard.cli import main

    (tmp_path / "x.yaml").write_text(
        "apiVersion: sloguard.io/v1alpha1\nkind: ServiceLevelObjective\nmetadata: {name: a, namespace: b}\n"
        "spec: {service: a, objective: 99.9, window: 30d, sli: {ratio: {errors: 'e', total: 't'}}}\n"
        if command[0] != "sla" else
        "apiVersion: sloguard.io/v1alpha1\nkind: SLAContract\nmetadata: {name: a, namespace: b}\nspec:\n"
        "  customer: {id: a}\n  contractId: C-1\n  fee: {monthly: 1, currency: USD}\n"
        "  terms:\n  - name: up\n    type: uptime\n    objective: 99.9\n"
        "    sli: {boolGauge: {selector: 'up'}}\n    credits: [{below: 99.9, percent: 10}]\n")
    argv = [str(tmp_path / a) if a == "x.yaml" else a for a in command]
    code = main([*argv, "--prometheus", "https://p", "--prometheus-ca-file", str(tmp_path / "missing.pem")])
    err = capsys.readouterr().err
    assert code == 2  # a wrong setting is a usage error, whichever command (docs/cli.md)
    name = " ".join(command[:2]) if command[0] == "sla" else command[0]
    missing = tmp_path / "missing.pem"
    flag = "--prometheus-ca-file (SLOGUARD_PROMETHEUS_CA_FILE)"
    assert err.strip() == f"sloguard {name}: {flag}: {missing}: no such file"

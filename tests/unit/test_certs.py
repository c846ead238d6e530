"""Webhook and test certificates made with ``cryptography``: a real TLS handshake proves them."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest

from sloguard.adapters.certs import CertError, ensure_webhook_certs, issue, make_ca


def handshake(server_cert: Path, server_key: Path, ca: Path, host: str, client: tuple[Path, Path] | None = None,
              client_ca: Path | None = None) -> str:
    """Serve one TLS connection on 127.0.0.1 and connect to it verifying with ``ca``; returns the peer CN."""
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(server_cert, server_key)
    if client_ca is not None:
        server_ctx.verify_mode = ssl.CERT_REQUIRED
        server_ctx.load_verify_locations(client_ca)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_ctx = ssl.create_default_context(cafile=str(ca))
    if client is not None:
        client_ctx.load_cert_chain(*client)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                client_ctx.wrap_socket(raw, server_hostname=host) as tls:
            tls.recv(2)
            subject = dict(x[0] for x in tls.getpeercert()["subject"])
            return subject["commonName"]
    finally:
        thread.join(5)
        listener.close()


def test_webhook_certificates_are_trusted_for_their_hosts(tmp_path: Path) -> None:
    certs = ensure_webhook_certs(tmp_path, ["127.0.0.1", "sloguard-webhook.sloguard.svc"])
    assert handshake(certs.cert, certs.key, certs.ca, "127.0.0.1") == "127.0.0.1"
    assert handshake(certs.cert, certs.key, certs.ca, "sloguard-webhook.sloguard.svc") == "127.0.0.1"
    assert (certs.key.stat().st_mode & 0o077) == 0, "the private key is readable by others"


def test_a_host_not_in_the_certificate_is_refused(tmp_path: Path) -> None:
    certs = ensure_webhook_certs(tmp_path, ["127.0.0.1"])
    with pytest.raises(ssl.SSLCertVerificationError, match="match|mismatch"):
        handshake(certs.cert, certs.key, certs.ca, "other.example")


def test_another_ca_is_not_trusted(tmp_path: Path) -> None:
    certs = ensure_webhook_certs(tmp_path / "a", ["127.0.0.1"])
    other = ensure_webhook_certs(tmp_path / "b", ["127.0.0.1"])
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(certs.cert, certs.key, other.ca, "127.0.0.1")


def test_existing_certificates_are_kept_across_restarts(tmp_path: Path) -> None:
    first = ensure_webhook_certs(tmp_path, ["127.0.0.1"]).ca_bundle
    assert ensure_webhook_certs(tmp_path, ["127.0.0.1"]).ca_bundle == first


def test_client_certificates_authenticate_to_a_server_that_demands_them(tmp_path: Path) -> None:
    ca = make_ca("test-ca")
    ca.write(tmp_path / "ca.crt", tmp_path / "ca.key")
    issue(ca, "localhost", ["127.0.0.1"]).write(tmp_path / "srv.crt", tmp_path / "srv.key")
    issue(ca, "sloguard", client=True).write(tmp_path / "cli.crt", tmp_path / "cli.key")
    got = handshake(tmp_path / "srv.crt", tmp_path / "srv.key", tmp_path / "ca.crt", "127.0.0.1",
                    client=(tmp_path / "cli.crt", tmp_path / "cli.key"), client_ca=tmp_path / "ca.crt")
    assert got == "localhost"


def test_no_hosts_and_unwritable_directories_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CertError, match="at least one host"):
        ensure_webhook_certs(tmp_path, [])
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CertError, match="cannot write webhook certificates"):
        ensure_webhook_certs(blocker / "sub", ["127.0.0.1"])

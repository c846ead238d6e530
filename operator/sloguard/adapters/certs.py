"""Certificates made with the ``cryptography`` library: the webhook's CA and serving certificate.

kopf's own self-signed helpers depend on oscrypto, which fails on current OpenSSL builds; this
module needs no external command (cert-manager replaces it in a cluster that has it). The same
functions make the CA, server and client certificates that TLS tests use.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


class CertError(RuntimeError):
    pass


@dataclass(frozen=True)
class WebhookCerts:
    ca: Path
    cert: Path
    key: Path

    @property
    def ca_bundle(self) -> bytes:
        return self.ca.read_bytes()


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, in memory."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def write(self, cert_path: Path, key_path: Path) -> None:
        """Write both as PEM; the key readable by its owner only."""
        cert_path.write_bytes(self.cert_pem)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.key_pem)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, days: int) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))  # tolerate clocks a little behind
        .not_valid_after(now + timedelta(days=days))
    )


def make_ca(common_name: str, days: int = 365) -> KeyPair:
    """A self-signed certificate authority."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(common_name, _name(common_name), key, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(cert, key)


def issue(ca: KeyPair, common_name: str, hosts: Sequence[str] = (), client: bool = False,
          days: int = 365) -> KeyPair:
    """A leaf certificate signed by ``ca``: a server certificate for ``hosts`` (IPs or DNS names),
    or a client certificate when ``client``."""
    key = ec.generate_private_key(ec.SECP256R1())
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    builder = (
        _builder(common_name, ca.cert.subject, key, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if hosts:
        names: list[x509.GeneralName] = [
            x509.IPAddress(ipaddress.ip_address(h)) if _is_ip(h) else x509.DNSName(h) for h in hosts
        ]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return KeyPair(builder.sign(ca.key, hashes.SHA256()), key)


def ensure_webhook_certs(directory: Path, hosts: list[str], days: int = 365) -> WebhookCerts:
    """A CA and a serving certificate for ``hosts`` (IPs or DNS names) in ``directory``.

    Existing files are reused so restarts keep the caBundle the API server already trusts.
    """
    if not hosts:
        raise CertError("a webhook certificate needs at least one host name or IP")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        certs = WebhookCerts(directory / "ca.crt", directory / "tls.crt", directory / "tls.key")
        if all(p.exists() for p in (certs.ca, certs.cert, certs.key)):
            return certs
        ca = make_ca("sloguard-webhook-ca", days)
        ca.write(certs.ca, directory / "ca.key")
        issue(ca, hosts[0], hosts, days=days).write(certs.cert, certs.key)
    except OSError as e:
        raise CertError(f"cannot write webhook certificates in {directory}: {e.strerror or e}") from None
    except ValueError as e:
        raise CertError(f"cannot make a webhook certificate for {hosts}: {e}") from None
    return certs


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True

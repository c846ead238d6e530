"""Webhook serving certificates made with the ``openssl`` CLI.

kopf's own self-signed helpers depend on oscrypto, which fails on current OpenSSL builds; the
openssl command is everywhere the operator runs (and cert-manager replaces this in a cluster).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


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


def ensure_webhook_certs(directory: Path, hosts: list[str], days: int = 365) -> WebhookCerts:
    """A CA and a serving certificate for ``hosts`` (IPs or DNS names) in ``directory``.

    Existing files are reused so restarts keep the caBundle the API server already trusts.
    """
    directory.mkdir(parents=True, exist_ok=True)
    certs = WebhookCerts(directory / "ca.crt", directory / "tls.crt", directory / "tls.key")
    if all(p.exists() for p in (certs.ca, certs.cert, certs.key)):
        return certs
    sans = ",".join(f"IP:{h}" if _is_ip(h) else f"DNS:{h}" for h in hosts)
    ca_key = directory / "ca.key"
    ext = directory / "tls.ext"
    ext.write_text(f"subjectAltName={sans}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n")
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out",
          str(certs.ca), "-days", str(days), "-subj", "/CN=sloguard-webhook-ca"], directory)
    csr = directory / "tls.csr"
    _run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(certs.key), "-out", str(csr),
          "-subj", f"/CN={hosts[0]}"], directory)
    _run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(certs.ca), "-CAkey", str(ca_key),
          "-CAcreateserial", "-out", str(certs.cert), "-days", str(days), "-extfile", str(ext)], directory)
    return certs


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _run(argv: list[str], cwd: Path) -> None:
    try:
        subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise CertError("openssl is not installed; it is needed to make webhook certificates") from None
    except subprocess.CalledProcessError as e:
        raise CertError(f"openssl failed: {e.stderr.strip()}") from None

"""One Prometheus connection for every reader: settings, TLS, credentials, tenant headers, errors.

Budgets (:mod:`.prometheus`), SLA and incident impact (:mod:`.sla_reader`) and the operator all
reach Prometheus (or Thanos, Mimir, Cortex, VictoriaMetrics, anything speaking its HTTP API)
through :class:`PrometheusSession`, built from one typed :class:`PrometheusSettings`:

* ``--prometheus URL`` (``SLOGUARD_PROMETHEUS_URL``): the API base URL;
* ``--prometheus-bearer-token-file`` (``..._BEARER_TOKEN_FILE``): ``Authorization: Bearer``;
* ``--prometheus-username`` + ``--prometheus-password-file`` (``..._USERNAME``,
  ``..._PASSWORD_FILE``): basic auth;
* ``--prometheus-ca-file`` (``..._CA_FILE``): the CA bundle (PEM) that signed the server;
* ``--prometheus-cert-file`` + ``--prometheus-key-file`` (``..._CERT_FILE``, ``..._KEY_FILE``):
  a client certificate (mutual TLS);
* ``--prometheus-header 'Name: value'``, repeatable (``..._HEADERS``, one a line), e.g.
  ``X-Scope-OrgID`` for Mimir and Cortex;
* ``--prometheus-timeout SECONDS`` (``..._TIMEOUT``, default 60);
* ``--prometheus-insecure-skip-verify`` (``..._INSECURE_SKIP_VERIFY``).

A flag wins over its variable. Booleans follow pydantic's one rule (``1/true/yes/on`` and
``0/false/no/off``, anything else is an error); an empty variable counts as unset. TLS is
verified unless ``insecure_skip_verify`` is set, and that is logged as a warning.

Secrets are files (Kubernetes Secret mounts): the token and password are re-read when the
file's modification time changes (checked before every request) and once more on a 401, so a
rotated credential is used without a restart; a changed CA or client certificate drops pooled
connections so the next one is made with the new files.

Every failure becomes :class:`PrometheusUnavailable` with one line naming the URL and what
went wrong: ``cannot reach Prometheus at URL: TLS certificate not trusted (CA file /x/ca.pem)``,
``Prometheus at URL refused the request: 401 Unauthorized (basic auth user 'x' ...)``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import requests
import urllib3
from pydantic import BaseModel, ConfigDict, Field, FilePath, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger("sloguard.prometheus")

ENV_PREFIX = "SLOGUARD_PROMETHEUS_"

#: Queries are idempotent: retry briefly on connection errors and gateway failures, POST too.
#: Two quick retries: a refresh or a report can wait a second, not half a minute.
RETRY = Retry(total=2, backoff_factor=0.2, status_forcelist=(502, 503, 504), allowed_methods=None)

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class PrometheusError(Exception):
    """Prometheus could not give us what we asked for; the message says why."""


class PrometheusUnavailable(PrometheusError):
    """Cannot reach the server, it refused us (TLS, credentials, tenant), answered 5xx, or it
    does not speak the Prometheus API."""


class PrometheusSettingsError(PrometheusError):
    """The connection settings themselves are wrong (a flag or variable, named in the message)."""


# --- settings ------------------------------------------------------------------------------------

#: Field -> (flag, what it is), for messages and ``--help``.
FLAGS: dict[str, str] = {
    "url": "--prometheus",
    "bearer_token_file": "--prometheus-bearer-token-file",
    "username": "--prometheus-username",
    "password_file": "--prometheus-password-file",
    "ca_file": "--prometheus-ca-file",
    "cert_file": "--prometheus-cert-file",
    "key_file": "--prometheus-key-file",
    "headers": "--prometheus-header",
    "timeout": "--prometheus-timeout",
    "insecure_skip_verify": "--prometheus-insecure-skip-verify",
}


def parse_headers(value: Any) -> dict[str, str]:
    """``'Name: value'`` strings (a list, or one a line), a JSON object, or a mapping -> dict."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        items = [(str(k), str(v)) for k, v in value.items()]
    else:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                return parse_headers(json.loads(text))
            lines = [line for line in text.splitlines() if line.strip()]
        else:
            lines = [str(v) for v in value]
        items = []
        for line in lines:
            name, sep, val = line.partition(":")
            if not sep:
                raise ValueError(f"expected 'Name: value', got {line!r}")
            items.append((name.strip(), val.strip()))
    out: dict[str, str] = {}
    for name, val in items:
        if not _HEADER_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid HTTP header name")
        if "\n" in val or "\r" in val:
            raise ValueError(f"header {name!r}: value must be one line")
        out[name] = val
    return out


class PrometheusSettings(BaseModel):
    """How to reach one Prometheus-API server. Created once at startup; see the module doc."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = None
    bearer_token_file: FilePath | None = None
    username: str | None = None
    password_file: FilePath | None = None
    ca_file: FilePath | None = None
    cert_file: FilePath | None = None
    key_file: FilePath | None = None
    headers: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    timeout: float = Field(default=60.0, gt=0)
    insecure_skip_verify: bool = False

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip().rstrip("/")
        m = re.match(r"^(https?)://([^/?#]+)", v)
        if not m or "?" in v or "#" in v:
            raise ValueError(f"{v!r} is not an http:// or https:// URL like https://prometheus:9090")
        return v

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, v: Any) -> dict[str, str]:
        return parse_headers(v)

    @model_validator(mode="after")
    def _pairs(self) -> PrometheusSettings:
        if (self.username is None) != (self.password_file is None):
            raise ValueError("--prometheus-username and --prometheus-password-file go together (basic auth)")
        if self.bearer_token_file is not None and self.username is not None:
            raise ValueError("give either a bearer token file or basic auth, not both")
        if self.key_file is not None and self.cert_file is None:
            raise ValueError("--prometheus-key-file needs --prometheus-cert-file")
        if (self.bearer_token_file or self.username) and any(h.lower() == "authorization" for h in self.headers):
            raise ValueError("an Authorization header conflicts with the bearer token or basic auth settings")
        return self

    @property
    def scheme(self) -> str:
        return (self.url or "").partition(":")[0]

    def credentials(self) -> str:
        """What we authenticate with, for messages (never the secret itself)."""
        parts = []
        if self.username is not None:
            parts.append(f"basic auth user {self.username!r}, password file {self.password_file}")
        elif self.bearer_token_file is not None:
            parts.append(f"bearer token file {self.bearer_token_file}")
        else:
            parts.append("no credentials given")
        if self.cert_file is not None:
            parts.append(f"client certificate {self.cert_file}")
        parts.append(f"headers {', '.join(self.headers)}" if self.headers else "no extra headers given")
        return "; ".join(parts)


class _FromEnv(BaseSettings, PrometheusSettings):
    """:class:`PrometheusSettings` with unset fields taken from ``SLOGUARD_PROMETHEUS_*``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="ignore")


def _one_line(e: ValidationError) -> str:
    msgs = []
    for err in e.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        where = f"{FLAGS[field]} ({ENV_PREFIX}{field.upper()})" if field in FLAGS else "Prometheus settings"
        text = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "path_not_file":
            text = f"{err.get('input')}: no such file"
        msgs.append(f"{where}: {text}")
    return "; ".join(msgs)


def load_settings(
    flags: Mapping[str, Any] | None = None, *, use_env: bool = True, env: Mapping[str, str] | None = None
) -> PrometheusSettings:
    """Settings from flags (None or empty means not given) over ``SLOGUARD_PROMETHEUS_*``.

    The variables come from the process environment (pydantic-settings), or from ``env`` when
    given; ``use_env=False`` takes the flags alone. Raises :class:`PrometheusSettingsError`
    naming the flag and variable of a bad value.
    """
    given = {k: v for k, v in (flags or {}).items() if v is not None and v != [] and v != ()}
    try:
        if not use_env:
            return PrometheusSettings(**given)
        if env is not None and env is not os.environ:
            from_map = {n: env[f"{ENV_PREFIX}{n.upper()}"] for n in FLAGS if env.get(f"{ENV_PREFIX}{n.upper()}")}
            return PrometheusSettings(**(from_map | given))
        loaded = _FromEnv(**given)
        return PrometheusSettings.model_validate(loaded.model_dump())
    except ValidationError as e:
        raise PrometheusSettingsError(_one_line(e)) from None


def to_env(settings: PrometheusSettings) -> dict[str, str]:
    """The inverse of :func:`load_settings` from the environment (``kopf run`` and tests)."""
    out: dict[str, str] = {}
    for name in FLAGS:
        value = getattr(settings, name)
        if name == "headers":
            text = "\n".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = "" if value is None else str(value)
        out[f"{ENV_PREFIX}{name.upper()}"] = text
    return out


# --- argparse wiring ----------------------------------------------------------------------------


def add_arguments(parser: Any, *, url_help: str = "Prometheus (or Thanos/Mimir/VictoriaMetrics) API base URL") -> None:
    """The connection flags, identical on every command that reads Prometheus."""
    g = parser.add_argument_group("Prometheus connection (each flag also from SLOGUARD_PROMETHEUS_<NAME>)")
    g.add_argument("--prometheus", dest="prometheus_url", metavar="URL",
                   help=f"{url_help} (env SLOGUARD_PROMETHEUS_URL)")
    g.add_argument("--prometheus-bearer-token-file", metavar="FILE",
                   help="send 'Authorization: Bearer <contents>'; re-read when the file changes")
    g.add_argument("--prometheus-username", metavar="USER", help="basic auth user (with --prometheus-password-file)")
    g.add_argument("--prometheus-password-file", metavar="FILE", help="basic auth password; re-read when it changes")
    g.add_argument("--prometheus-ca-file", metavar="FILE", help="CA bundle (PEM) that signed the server certificate")
    g.add_argument("--prometheus-cert-file", metavar="FILE", help="client certificate (PEM) for mutual TLS")
    g.add_argument("--prometheus-key-file", metavar="FILE", help="private key of the client certificate")
    g.add_argument("--prometheus-header", dest="prometheus_headers", action="append", metavar="'NAME: VALUE'",
                   help="extra header on every request, e.g. 'X-Scope-OrgID: team-a' (repeatable; env "
                   "SLOGUARD_PROMETHEUS_HEADERS, one a line)")
    g.add_argument("--prometheus-timeout", type=float, metavar="SECONDS", help="per request (default 60)")
    g.add_argument("--prometheus-insecure-skip-verify", action="store_true", default=None,
                   help="do not verify the server's TLS certificate (logged as a warning; never in production)")


def settings_from_args(args: Any, *, use_env: bool = True) -> PrometheusSettings:
    """:class:`PrometheusSettings` from the flags :func:`add_arguments` added (and the env)."""
    flags = {name: getattr(args, "prometheus_" + ("url" if name == "url" else name), None) for name in FLAGS}
    return load_settings(flags, use_env=use_env)


# --- transport ----------------------------------------------------------------------------------


class _SecretFile:
    """A one-line secret in a file, re-read when its mtime (or size) changes."""

    def __init__(self, path: Path, what: str) -> None:
        self.path, self.what = path, what
        self._stamp: tuple[int, int] | None = None
        self._value = ""
        self._lock = threading.Lock()

    def get(self, force: bool = False) -> str:
        with self._lock:
            try:
                st = os.stat(self.path)
            except OSError as e:
                raise PrometheusUnavailable(f"cannot read {self.what} {self.path}: {e.strerror}") from None
            stamp = (st.st_mtime_ns, st.st_size)
            if force or stamp != self._stamp:
                try:
                    value = self.path.read_text().strip()
                except OSError as e:
                    raise PrometheusUnavailable(f"cannot read {self.what} {self.path}: {e.strerror}") from None
                if not value:
                    raise PrometheusUnavailable(f"{self.what} {self.path} is empty")
                self._value, self._stamp = value, stamp
            return self._value


class _Auth(requests.auth.AuthBase):
    def __init__(self, header: str) -> None:
        self.header = header

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self.header
        return r


class PrometheusSession(requests.Session):
    """A :class:`requests.Session` configured from :class:`PrometheusSettings`.

    Counts the requests it sends (``count``: benchmarks, the operator's own metrics), applies
    credentials read from files at each request, verifies TLS, retries gateway failures and
    turns every failure into a one-line :class:`PrometheusUnavailable`.
    """

    def __init__(self, settings: PrometheusSettings) -> None:
        super().__init__()
        if not settings.url:
            raise PrometheusSettingsError("no Prometheus URL: give --prometheus URL or SLOGUARD_PROMETHEUS_URL")
        self.settings = settings
        self.url: str = settings.url
        self.count = 0
        self._lock = threading.Lock()
        self.headers.update(settings.headers)
        if settings.insecure_skip_verify:
            log.warning("TLS verification is OFF for Prometheus at %s (--prometheus-insecure-skip-verify): "
                        "anyone on the path can read and alter the figures", self.url)
            # Said once above; urllib3's warning on every request would add nothing.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            self.verify: bool | str = False
        else:
            self.verify = str(settings.ca_file) if settings.ca_file else True
        if settings.cert_file is not None:
            self.cert: str | tuple[str, str] | None = (
                (str(settings.cert_file), str(settings.key_file)) if settings.key_file else str(settings.cert_file)
            )
        token, password = settings.bearer_token_file, settings.password_file
        self._token = _SecretFile(token, "bearer token file") if token else None
        self._password = _SecretFile(password, "password file") if password else None
        self._tls_stamp = self._tls_files_stamp()
        self.mount("http://", HTTPAdapter(max_retries=RETRY))
        self.mount("https://", HTTPAdapter(max_retries=RETRY))

    # -- files --

    def _tls_files_stamp(self) -> tuple[int, ...]:
        s = self.settings
        stamp = []
        for p in (s.ca_file, s.cert_file, s.key_file):
            try:
                stamp.append(os.stat(p).st_mtime_ns if p else 0)
            except OSError:
                stamp.append(-1)
        return tuple(stamp)

    def _auth(self, force: bool = False) -> _Auth | None:
        if self._token is not None:
            return _Auth(f"Bearer {self._token.get(force)}")
        if self._password is not None and self.settings.username is not None:
            basic = requests.auth._basic_auth_str(self.settings.username, self._password.get(force))
            return _Auth(basic)
        return None

    # -- requests --

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        with self._lock:
            self.count += 1
            stamp = self._tls_files_stamp()
            if stamp != self._tls_stamp:  # a rotated CA or client certificate: reconnect with it
                self._tls_stamp = stamp
                for adapter in self.adapters.values():
                    adapter.close()
        kwargs["verify"] = self.verify
        kwargs["cert"] = self.cert
        kwargs["auth"] = self._auth()
        kwargs.setdefault("timeout", self.settings.timeout + 5)
        if kwargs["timeout"] is None:
            kwargs["timeout"] = self.settings.timeout + 5
        response = self._send(method, url, *args, **kwargs)
        if response.status_code == 401 and (self._token or self._password):
            before = kwargs["auth"].header if kwargs["auth"] else None
            fresh = self._auth(force=True)  # a credential rotated within the mtime granularity
            if fresh is not None and fresh.header != before:
                kwargs["auth"] = fresh
                response = self._send(method, url, *args, **kwargs)
        if response.status_code in (401, 403, 407):
            raise PrometheusUnavailable(self._refused(response))
        return response

    def _send(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        try:
            return super().request(method, url, *args, **kwargs)
        except requests.exceptions.SSLError as e:
            raise PrometheusUnavailable(f"cannot reach Prometheus at {self.url}: {self._tls_reason(e)}") from None
        except requests.exceptions.Timeout:
            raise PrometheusUnavailable(
                f"Prometheus at {self.url} did not answer within {kwargs.get('timeout')}s (--prometheus-timeout)"
            ) from None
        except requests.exceptions.ConnectionError as e:
            tls = self.url.startswith("https:") and ("SSL" in str(e) or "EOF occurred" in str(e))
            reason = self._tls_reason(e) if tls else _reason(e)
            raise PrometheusUnavailable(f"cannot reach Prometheus at {self.url}: {reason}") from None
        except requests.exceptions.RetryError as e:
            code = re.search(r"too many (\d+) error responses", str(e))
            raise PrometheusUnavailable(
                f"Prometheus at {self.url} answered HTTP {code.group(1) if code else '5xx'} to every try "
                "(the server or a gateway in front of it is failing)"
            ) from None
        except requests.exceptions.RequestException as e:
            raise PrometheusUnavailable(f"request to Prometheus at {self.url} failed: {_reason(e)}") from None

    def _tls_reason(self, e: Exception) -> str:
        text = str(e)
        s = self.settings
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            if "Hostname mismatch" in text or "doesn't match" in text or "IP address mismatch" in text:
                return "TLS certificate does not match the host name"
            if "expired" in text:
                return "TLS certificate has expired"
            where = f"CA file {s.ca_file}" if s.ca_file else "system CAs; give --prometheus-ca-file"
            return f"TLS certificate not trusted ({where})"
        if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
            return "the server does not speak TLS (an http:// URL?)"
        client = f"client certificate {s.cert_file}" if s.cert_file else "none given; --prometheus-cert-file"
        if "certificate required" in text or "CERTIFICATE_REQUIRED" in text or "BAD_CERTIFICATE" in text.upper():
            return f"the server refused our TLS client certificate ({client})"
        if "EOF occurred" in text or "UNEXPECTED_EOF" in text or "reset by peer" in text:
            # A server demanding a client certificate may close the connection before its alert is read.
            return f"the server closed the TLS handshake: does it require a client certificate? ({client})"
        if "PEM" in text or "key values mismatch" in text or "No such file" in text:
            return f"cannot load the client certificate or key ({s.cert_file}, {s.key_file}): {_innermost(text)}"
        return f"TLS handshake failed: {_innermost(text)}"

    def _refused(self, response: requests.Response) -> str:
        reason = response.reason or {401: "Unauthorized", 403: "Forbidden"}.get(response.status_code, "")
        body = " ".join(response.text.split())[:160] if response.text else ""
        said = f": {body}" if body and "<html" not in body.lower() and body.lower() != reason.lower() else ""
        return (f"Prometheus at {self.url} refused the request: {response.status_code} {reason}{said} "
                f"({self.settings.credentials()})")


def _innermost(text: str) -> str:
    """``...(Caused by SSLError(SSLError(1, '[SSL: X] reason (_ssl.c:1)')))`` -> the reason."""
    m = re.search(r"\[SSL: \w+\] ([^(']+)", text) or re.search(r"Caused by \w+\((.*)\)\)?$", text)
    return (m.group(1) if m else text).strip()[:200]


def _reason(e: Exception) -> str:
    text = str(e)
    for known in ("Connection refused", "Name or service not known", "No route to host", "timed out",
                  "Temporary failure in name resolution", "Connection reset by peer"):
        if known in text:
            return known.lower()
    return text[:300]


def open_session(settings: PrometheusSettings) -> PrometheusSession:
    """The one way readers get a connection to Prometheus."""
    return PrometheusSession(settings)


def settings_for(source: str | PrometheusSettings, **overrides: Any) -> PrometheusSettings:
    """Settings from a bare URL (programmatic use, tests) or as given; never reads the env."""
    if isinstance(source, PrometheusSettings):
        return source.model_copy(update=overrides) if overrides else source
    try:
        return PrometheusSettings(url=source, **overrides)
    except ValidationError as e:
        raise PrometheusSettingsError(_one_line(e)) from None


__all__ = [
    "FLAGS",
    "PrometheusError",
    "PrometheusSession",
    "PrometheusSettings",
    "PrometheusSettingsError",
    "PrometheusUnavailable",
    "add_arguments",
    "settings_for",
    "load_settings",
    "open_session",
    "parse_headers",
    "settings_from_args",
    "to_env",
]

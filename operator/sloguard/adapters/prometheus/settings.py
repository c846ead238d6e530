"""How to reach one Prometheus-API server: one typed :class:`PrometheusSettings` from flags and env.

Budgets, SLA contracts, incident impact and the operator all reach Prometheus (or Thanos, Mimir,
Cortex, VictoriaMetrics, anything speaking its HTTP API) through
:class:`~sloguard.adapters.prometheus.client.PrometheusClient`, built from these settings:

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
``0/false/no/off``, anything else is an error); an empty variable counts as unset. A bad value
is :class:`~sloguard.adapters.prometheus.errors.PrometheusSettingsError` naming the flag and
the variable.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, FilePath, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import PrometheusSettingsError

ENV_PREFIX = "SLOGUARD_PROMETHEUS_"

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")



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


def settings_for(source: str | PrometheusSettings, **overrides: Any) -> PrometheusSettings:
    """Settings from a bare URL (programmatic use, tests) or as given; never reads the env."""
    if isinstance(source, PrometheusSettings):
        return source.model_copy(update=overrides) if overrides else source
    try:
        return PrometheusSettings(url=source, **overrides)
    except ValidationError as e:
        raise PrometheusSettingsError(_one_line(e)) from None


__all__ = [
    "ENV_PREFIX",
    "FLAGS",
    "PrometheusSettings",
    "add_arguments",
    "load_settings",
    "parse_headers",
    "settings_for",
    "settings_from_args",
    "to_env",
]

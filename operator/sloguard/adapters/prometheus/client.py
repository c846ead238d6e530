"""The one Prometheus client: budgets, SLA contracts and incident impact all read through it.

:class:`PrometheusClient` sends instant and range queries, POSTed as forms (no URL length limit),
and turns every answer that is not a result into our own exceptions
(:mod:`~sloguard.adapters.prometheus.errors`):

* transport (:class:`PrometheusSession`, a :class:`requests.Session` built from
  :class:`~sloguard.adapters.prometheus.settings.PrometheusSettings`): TLS verified unless
  ``insecure_skip_verify`` is set (logged as a warning), a client certificate, a bearer token or
  basic auth, extra headers (tenants), brief retries of connection errors and gateway failures;
* secrets are files (Kubernetes Secret mounts): the token and password are re-read when the
  file's modification time changes (checked before every request) and once more on a 401, so a
  rotated credential is used without a restart; a changed CA or client certificate drops pooled
  connections so the next one is made with the new files;
* every failure to get an answer is :class:`PrometheusUnavailable` with one line naming the URL
  and what went wrong: ``cannot reach Prometheus at URL: TLS certificate not trusted (CA file
  /x/ca.pem)``, ``Prometheus at URL refused the request: 401 Unauthorized (basic auth user 'x'
  ...)``, ``URL answered HTTP 200 without a Prometheus API response``;
* a query the server refuses is :class:`PrometheusQueryError` with its ``errorType``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .errors import PrometheusQueryError, PrometheusSettingsError, PrometheusUnavailable
from .settings import PrometheusSettings

log = logging.getLogger("sloguard.prometheus")

#: Queries are idempotent: retry briefly on connection errors and gateway failures, POST too.
#: Two quick retries: a refresh or a report can wait a second, not half a minute.
RETRY = Retry(total=2, backoff_factor=0.2, status_forcelist=(502, 503, 504), allowed_methods=None)

#: Points per series a range query may ask for: Prometheus refuses more than 11,000.
MAX_RANGE_STEPS = 10_000


# --- transport: TLS, credentials, retries, transport errors ---------------------------------------


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


# --- queries: the Prometheus HTTP API and its errors -------------------------------------------


@dataclass(frozen=True)
class Series:
    """One result series: its labels and its points ``(unix seconds, value)``."""

    labels: Mapping[str, str]
    points: list[tuple[float, float]]


def _time(t: float) -> str:
    """Unix seconds as the API takes them: whole seconds as they are, else to the millisecond."""
    return str(t) if isinstance(t, int) else f"{t:.3f}"


class PrometheusClient:
    """Queries one Prometheus-API server. Create once and reuse (keeps the connection pool).

    ``requests_sent`` counts every HTTP request made (benchmarks, the operator's own metrics).
    Thread-safe: the budget reader sends chunks from several threads at once.
    """

    def __init__(self, settings: PrometheusSettings) -> None:
        self.session = PrometheusSession(settings)  # raises PrometheusSettingsError without a URL
        self.settings = settings
        self.url: str = self.session.url

    @property
    def requests_sent(self) -> int:
        return self.session.count

    def close(self) -> None:
        self.session.close()

    def query(self, expr: str, at: float, *, what: str | None = None) -> list[Series]:
        """``expr`` evaluated at ``at`` (Unix seconds): an instant vector.

        ``what`` names the figure for messages (``refused the query for <what>: ...``).
        """
        data = {"query": expr, "time": _time(at), "timeout": self._server_timeout()}
        rows = self._post("query", data, "vector", what)
        return [Series(r.get("metric", {}), [(float(r["value"][0]), float(r["value"][1]))]) for r in rows]

    def query_range(
        self, expr: str, start: float, end: float, step: float, *, what: str | None = None
    ) -> list[Series]:
        """``expr`` evaluated at ``start, start + step, ...`` up to ``end``: a range vector."""
        data = {"query": expr, "start": _time(start), "end": _time(end), "step": _time(step),
                "timeout": self._server_timeout()}
        rows = self._post("query_range", data, "matrix", what)
        return [Series(r.get("metric", {}), [(float(t), float(v)) for t, v in r.get("values", [])]) for r in rows]

    def _server_timeout(self) -> str:
        return f"{self.settings.timeout:.0f}s"

    def _post(self, endpoint: str, data: dict[str, str], kind: str, what: str | None) -> list[dict[str, Any]]:
        # TLS, credentials, retries and transport errors: the session. The HTTP timeout leaves the
        # server its own ``timeout`` to answer with an error before we give up on it.
        response = self.session.request("POST", f"{self.url}/api/v1/{endpoint}", data=data,
                                        timeout=self.settings.timeout + 5)
        return _parse(self.url, response, kind, what)


def _parse(url: str, response: requests.Response, kind: str, what: str | None = None) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "status" not in body:
        raise PrometheusUnavailable(
            f"{url} answered HTTP {response.status_code} without a Prometheus API response: "
            "is this the Prometheus (or Thanos/Mimir/VictoriaMetrics) query URL?"
        )
    if body["status"] != "success":
        message = f"{body.get('errorType', 'error')}: {body.get('error', 'unknown error')}"
        if response.status_code >= 500 and body.get("errorType") not in ("execution", "timeout"):
            raise PrometheusUnavailable(f"Prometheus at {url} failed (HTTP {response.status_code}): {message}")
        error_type = str(body.get("errorType", "bad_data"))
        if error_type == "timeout":
            raise PrometheusQueryError(
                f"Prometheus at {url} timed out evaluating {what or 'a batch'} ({message}): raise its "
                "--query.timeout or lower the reader's max_chunk_bytes",
                error_type,
            )
        query = "the query" if what is None else f"the query for {what}"
        raise PrometheusQueryError(f"Prometheus at {url} refused {query}: {message}", error_type)
    data = body.get("data") or {}
    if data.get("resultType") != kind:
        raise PrometheusQueryError(
            f"expected a {'range' if kind == 'matrix' else 'instant'} vector"
            f"{'' if what is None else ' for ' + what}, got {data.get('resultType')!r}"
        )
    result: list[dict[str, Any]] = data.get("result", [])
    return result


__all__ = ["MAX_RANGE_STEPS", "RETRY", "PrometheusClient", "PrometheusSession", "Series"]

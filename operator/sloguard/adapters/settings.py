"""The operator's settings: one typed model, read from ``sloguard run`` flags over ``SLOGUARD_*``.

Every setting is a field of :class:`Settings` with its meaning beside it; its flag is
``--<name-with-dashes>`` and its variable ``SLOGUARD_<NAME>`` unless the field says otherwise
(:data:`FLAG`, :data:`ENV`). ``sloguard run --help`` and docs/settings.md are generated from the
fields, so neither can drift from the model. The chart (charts/sloguard/templates/deployment.yaml)
passes flags and variables; ``kopf run -m sloguard.handlers`` (and KopfRunner in tests) reads the
variables alone.

Rules, the same for every setting:

* a flag wins over its variable; a variable wins over the default;
* an empty variable counts as unset (the default applies), except where empty means "off"
  (``metrics_address``, ``liveness``);
* booleans follow pydantic's one rule: ``true/1/yes/on`` and ``false/0/no/off`` (any case);
  anything else is an error, never silently false;
* a bad value stops the operator with one line naming the flag and the variable:
  ``--refresh-interval (SLOGUARD_REFRESH_INTERVAL): Input should be greater than 0``.

The Prometheus connection is :class:`~.prometheus.PrometheusSettings`, composed here as
``prometheus`` and read by its own loader (``--prometheus-*`` / ``SLOGUARD_PROMETHEUS_*``, the same
rules), because the CLI's reading commands share it.
"""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..core import conventions as c
from ..core.sla import DEFAULT_FINALIZE_GRACE
from ..core.windows import parse_duration
from .metrics import parse_address
from .prometheus import FLAGS as PROMETHEUS_FLAGS
from .prometheus import PrometheusSettings, PrometheusSettingsError, load_settings
from .prometheus import to_env as prometheus_env

ENV_PREFIX = "SLOGUARD_"


class SettingsError(ValueError):
    """A setting has a bad value; the message names its flag and variable."""


@dataclass(frozen=True)
class WebhookSettings:
    """Where the admission webhook listens and how the API server reaches it (a view of :class:`Settings`)."""

    enabled: bool = False
    listen_addr: str = "0.0.0.0"
    port: int = 9443
    # How the API server reaches us: a URL host (local dev) or a Service (in a cluster).
    host: str | None = None
    service_name: str | None = None
    service_namespace: str | None = None
    cert_dir: Path = Path("/tmp/sloguard-webhook")
    failure_policy: Literal["Ignore", "Fail"] = "Ignore"
    timeout_seconds: int = 5


def _default_identity() -> str:
    return socket.gethostname() or "sloguard"


Port = Annotated[int, Field(ge=1, le=65535)]

#: Settings kept as text but parsed at load, each with its parser and the prefix of its error.
_PARSED_LATER: dict[str, tuple[Callable[[str], object], str]] = {
    "metrics_address": (parse_address, "metrics address (--metrics-address / SLOGUARD_METRICS_ADDRESS): "),
    "sla_finalize_grace": (parse_duration, ""),
}


class Settings(BaseModel):
    """Everything ``sloguard run`` can be told, created once at startup (docs/settings.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- what is watched and generated -------------------------------------------------------------
    namespaces: tuple[str, ...] = Field(
        default=(), description="Namespaces watched (flag repeatable, variable comma-separated); empty: all "
        "namespaces (`-A/--all-namespaces`).")
    rule_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels on every generated PrometheusRule, for the Prometheus "
        "ruleSelector: `KEY=VALUE` (flag repeatable, variable comma-separated).")
    dashboards: bool = Field(
        default=False, description='Keep a Grafana dashboard ConfigMap (label `grafana_dashboard: "1"`) beside '
        "each SLO.")
    promtool: str | None = Field(
        default=None, description="promtool that checks every generated rule before it is applied; default: "
        "`promtool` on PATH. The operator refuses to start without it.")
    # --- features: a disabled feature registers no handler (and needs no RBAC) ------------------------
    policies: bool = Field(default=True, description="Watch ErrorBudgetPolicies (the chart's `features.policies`).")
    sla: bool = Field(default=True, description="Watch SLAContracts (the chart's `features.sla`).")
    slo_reports: bool = Field(
        default=True, description="Store a finalized report per SLO and calendar month in an immutable "
        "ConfigMap (needs `prometheus`; `--no-slo-reports` turns it off).")
    # --- budgets ------------------------------------------------------------------------------------
    prometheus: PrometheusSettings = Field(
        default_factory=PrometheusSettings, description="How to reach Prometheus: `--prometheus*` / "
        "`SLOGUARD_PROMETHEUS_*`, see docs/install.md \"Connecting to Prometheus\".")
    refresh_interval: float = Field(default=30.0, gt=0, description="Seconds between budget refreshes from "
                                    "Prometheus.")
    evaluate_at: AwareDatetime | None = Field(
        default=None, description="Evaluate budgets at this fixed instant (RFC 3339, with a zone) instead of "
        "now: reproducing a past state, tests over synthetic history.")
    # --- SLA contracts ------------------------------------------------------------------------------
    sla_refresh_interval: float | None = Field(
        default=None, gt=0, description="Seconds between SLA contract evaluations (at least 1); default: "
        "`refresh_interval`.")
    sla_finalize_grace: str = Field(
        default=DEFAULT_FINALIZE_GRACE, description="How long after a month ends its SLA figures are final "
        "(a duration like `1h`, `30m`).")
    # --- admission ----------------------------------------------------------------------------------
    enforcement: Literal["admissionPolicy", "webhook", "none"] = Field(
        default="admissionPolicy", description="`none` keeps budget policies out of the admission path "
        "(report and label only); otherwise each policy's own `enforcement.mechanism` applies.")
    webhook_enabled: bool = Field(default=False, description="Serve the validating admission webhook.")
    webhook_listen: str = Field(default="0.0.0.0", description="Address the webhook listens on.")
    webhook_port: Port = Field(default=9443, description="Port the webhook listens on.")
    webhook_host: str | None = Field(
        default=None, description="Host the API server uses to reach the webhook (local development).")
    webhook_service: str | None = Field(
        default=None, description="Service in front of the webhook, `NAMESPACE/NAME` (in a cluster).")
    webhook_service_namespace: str | None = Field(
        default=None, description="Namespace of `webhook_service` when it is given as a bare `NAME`.")
    webhook_cert_dir: Path = Field(default=Path("/tmp/sloguard-webhook"),
                                   description="Directory of the webhook's certificate (made there when missing).")
    webhook_failure_policy: Literal["Ignore", "Fail"] = Field(
        default="Ignore", description="`Ignore`: an operator outage never blocks `kubectl apply`; `Fail`: "
        "nothing invalid gets in.")
    configuration_name: str = Field(
        default="sloguard", min_length=1, description="Name of the ValidatingWebhookConfiguration this operator "
        "owns (one per release).")
    # --- the process --------------------------------------------------------------------------------
    log_format: Literal["plain", "json"] = Field(default="plain", description="Log lines as `plain` text or "
                                                 "`json` (one object a line).")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Least severe log records written.")
    metrics_address: str = Field(
        default=c.DEFAULT_METRICS_ADDRESS, description="Serve the operator's own metrics at /metrics on "
        "`HOST:PORT`; empty: not served.")
    liveness: str = Field(default="http://0.0.0.0:8080/healthz",
                          description="Liveness endpoint (kopf); empty: none.")
    standalone: bool = Field(default=False, description="No peering: a single replica.")
    peering: str | None = Field(
        default=None, description="kopf peering name for several replicas; cluster-wide loops then run only in "
        "the Lease holder.")
    priority: int | None = Field(
        default=None, description="kopf peering priority; the highest live replica works, the others stand by. "
        "Default with `peering`: random, so identical replicas never tie.")
    identity: str = Field(default_factory=_default_identity,
                          description="This replica's name in budget Leases (the chart: the pod name).")
    lease_namespace: str = Field(default="default",
                                 description="Namespace of the budget Lease (the chart: the pod's namespace).")

    # --- parsing -------------------------------------------------------------------------------------

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: Any, info: ValidationInfo) -> Any:
        """An empty string (an empty variable or ``--flag=``) means "not given", except where it means off."""
        name = info.field_name
        if isinstance(v, str) and not v.strip() and name not in KEEP_EMPTY and name is not None:
            return cls.model_fields[name].get_default(call_default_factory=True)
        return v

    @field_validator("namespaces", mode="before")
    @classmethod
    def _namespaces(cls, v: Any) -> Any:
        if isinstance(v, str):
            return tuple(n.strip() for n in v.split(",") if n.strip())
        return v

    @field_validator("rule_labels", mode="before")
    @classmethod
    def _rule_labels(cls, v: Any) -> Any:
        if isinstance(v, Mapping):
            return dict(v)
        pairs = v.split(",") if isinstance(v, str) else list(v)
        out: dict[str, str] = {}
        for pair in filter(None, (str(p).strip() for p in pairs)):
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"expected KEY=VALUE, got {pair!r}")
            out[key.strip()] = value.strip()
        return out

    @field_validator(*_PARSED_LATER)
    @classmethod
    def _parses(cls, v: str, info: ValidationInfo) -> str:
        """Text kept as given but parsed now, so a bad value stops the start, not a loop later."""
        parse, prefix = _PARSED_LATER[str(info.field_name)]
        try:
            parse(v)
        except ValueError as e:  # DurationError included
            raise ValueError(f"{prefix}{e}") from None
        return v

    @field_validator("webhook_service")
    @classmethod
    def _service(cls, v: str | None) -> str | None:
        if v is not None and v.count("/") > 1:
            raise ValueError(f"expected NAMESPACE/NAME, got {v!r}")
        return v

    @model_validator(mode="after")
    def _standalone_or_peering(self) -> Settings:
        if self.standalone and self.peering:
            raise ValueError("--standalone and --peering exclude each other (one replica, or several peering)")
        return self

    # --- views ---------------------------------------------------------------------------------------

    @property
    def webhook(self) -> WebhookSettings:
        ns, _, name = (self.webhook_service or "").rpartition("/")
        return WebhookSettings(
            enabled=self.webhook_enabled, listen_addr=self.webhook_listen, port=self.webhook_port,
            host=self.webhook_host, service_name=name or None,
            service_namespace=self.webhook_service_namespace or ns or None,
            cert_dir=self.webhook_cert_dir, failure_policy=self.webhook_failure_policy)

    @property
    def prometheus_url(self) -> str | None:
        return self.prometheus.url

    @property
    def sla_refresh_seconds(self) -> float:
        """How often SLA contracts are evaluated: their own interval, else the budgets', at least 1 s."""
        return max(self.sla_refresh_interval or self.refresh_interval, 1.0)

    @property
    def sla_finalize_grace_seconds(self) -> int:
        return parse_duration(self.sla_finalize_grace)

    def now(self) -> datetime:
        """The instant budgets are evaluated at: the wall clock unless pinned (``evaluate_at``)."""
        return self.evaluate_at.astimezone(UTC) if self.evaluate_at is not None else datetime.now(UTC)

    # --- loading -------------------------------------------------------------------------------------

    @classmethod
    def load(cls, flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``flags`` (field name -> value; None means not given) over ``env``'s variables.

        ``env`` defaults to the process environment. Prometheus flags are the ``prometheus_*``
        attributes :func:`~.prometheus.add_arguments` adds. Raises :class:`SettingsError`.
        """
        env = os.environ if env is None else env
        flags = dict(flags or {})
        prometheus_flags = flags.pop("prometheus", None) or {}
        values: dict[str, Any] = {name: env[var] for name, var in ENV.items() if name in cls.model_fields
                                  and var in env}
        values.update({k: v for k, v in flags.items() if v is not None})
        try:
            values["prometheus"] = load_settings(prometheus_flags, env=None if env is os.environ else env)
        except PrometheusSettingsError as e:
            raise SettingsError(str(e)) from None
        try:
            return cls(**values)
        except ValidationError as e:
            raise SettingsError(one_line(e)) from None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``SLOGUARD_*`` alone (``kopf run``, KopfRunner)."""
        return cls.load(None, env)

    def to_env(self) -> dict[str, str]:
        """The variables that give these settings back through :meth:`from_env`."""
        out: dict[str, str] = {}
        for name, var in ENV.items():
            value = getattr(self, name)
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, tuple):
                text = ",".join(value)
            elif isinstance(value, dict):
                text = ",".join(f"{k}={v}" for k, v in value.items())
            elif isinstance(value, datetime):
                text = value.isoformat()
            else:
                text = "" if value is None else str(value)
            out[var] = text
        return out | prometheus_env(self.prometheus)


#: Fields where an empty value means "off" rather than "not given".
KEEP_EMPTY = frozenset({"metrics_address", "liveness"})

#: Field -> its variable. ``prometheus`` has its own (``SLOGUARD_PROMETHEUS_*``).
ENV: dict[str, str] = {name: f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields if name != "prometheus"}
ENV |= {"webhook_enabled": "SLOGUARD_WEBHOOK", "identity": "POD_NAME", "lease_namespace": "POD_NAMESPACE"}

#: Field -> its ``sloguard run`` flag; None: a variable only (features and the pod's identity come
#: from the chart's env).
FLAG: dict[str, str | None] = {name: "--" + name.replace("_", "-") for name in ENV}
FLAG |= {"namespaces": "--namespace", "rule_labels": "--rule-label", "webhook_enabled": "--webhook",
         "policies": None, "sla": None, "identity": None, "lease_namespace": None}


#: How a flag's value is shown in ``--help``.
METAVAR = {"namespaces": "NS", "rule_labels": "KEY=VALUE", "refresh_interval": "SECONDS", "evaluate_at": "RFC3339",
           "sla_refresh_interval": "SECONDS", "sla_finalize_grace": "DURATION", "metrics_address": "HOST:PORT",
           "liveness": "URL", "webhook_service": "NAMESPACE/NAME", "webhook_host": "HOST", "promtool": "PATH",
           "peering": "NAME", "priority": "N", "webhook_listen": "ADDR", "webhook_service_namespace": "NS",
           "configuration_name": "NAME", "webhook_cert_dir": "DIR", "webhook_port": "PORT"}


#: Field -> the chart value (charts/sloguard/values.yaml) it comes from; the chart renders it as
#: the flag or the variable (templates/deployment.yaml). Fields not here keep their defaults there.
CHART: dict[str, str] = {
    "namespaces": "watchNamespaces", "rule_labels": "ruleLabels", "refresh_interval": "refreshInterval",
    "log_format": "logFormat", "log_level": "logLevel", "metrics_address": "metrics.enabled, metrics.port",
    "dashboards": "features.dashboards", "policies": "features.policies", "sla": "features.sla",
    "slo_reports": "features.sloReports",
    "enforcement": "enforcement.mechanism", "webhook_enabled": "webhook.enabled", "webhook_port": "webhook.port",
    "webhook_failure_policy": "webhook.failurePolicy", "configuration_name": "webhook.configurationName",
    "standalone": "replicas", "peering": "replicas",
    "webhook_service": "(the chart's webhook Service)", "webhook_cert_dir": "(the chart's certificate volume)",
    "identity": "(the pod's name)", "lease_namespace": "(the release namespace)", "liveness": "(fixed: :8080)",
}


def where(name: str) -> str:
    """How a person sets the field ``name``: ``--flag (VARIABLE)``, or the variable alone."""
    flag, var = FLAG.get(name), ENV.get(name)
    if flag and var:
        return f"{flag} ({var})"
    return var or flag or name


def one_line(e: ValidationError) -> str:
    """A validation error as one line per setting, each naming its flag and variable."""
    msgs = []
    for err in e.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        text = str(err["msg"]).removeprefix("Value error, ")
        if "input" in err and name in ENV and not isinstance(err["input"], dict):
            text = f"{err['input']!r}: {text}"
        msgs.append(f"{where(name)}: {text}" if name else text)
    return "; ".join(msgs)


# --- argparse wiring ----------------------------------------------------------------------------------


def _show(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _flag_kwargs(name: str) -> dict[str, Any]:
    info = Settings.model_fields[name]
    ann = info.annotation
    args = [a for a in get_args(ann) if a is not type(None)]
    base = args[0] if get_origin(ann) is not Literal and len(args) == 1 else ann
    default = info.get_default(call_default_factory=True)
    shown = "" if default in (None, (), {}) else f"; default {_show(default)}"
    kw: dict[str, Any] = {"dest": name, "default": None,
                          "help": f"{(info.description or '').replace('%', '%%')} (env {ENV[name]}{shown})"}
    if name in METAVAR:
        kw["metavar"] = METAVAR[name]
    if base is bool:  # on by default: --no-NAME turns it off
        kw["action"] = argparse.BooleanOptionalAction if default is True else "store_true"
    elif get_origin(base) is Literal:
        kw["choices"] = get_args(base)
    elif get_origin(base) in (tuple, dict):
        kw["action"] = "append"
    elif base in (int, float):
        kw["type"] = base
    return kw


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting, generated from the fields (defaults None: "not given", so the variable applies)."""
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", **_flag_kwargs("namespaces"))
    scope.add_argument("-A", "--all-namespaces", dest="namespaces", action="store_const", const=[],
                       help="watch all namespaces (the default)")
    for name, flag in FLAG.items():
        if flag is None or name == "namespaces":
            continue
        parser.add_argument(flag, **_flag_kwargs(name))


def flags_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags (field -> value), and the Prometheus ones under ``prometheus``."""
    flags: dict[str, Any] = {name: getattr(args, name, None) for name, flag in FLAG.items() if flag}
    flags["prometheus"] = {n: getattr(args, "prometheus_" + n, None) for n in PROMETHEUS_FLAGS}
    return flags


#: The switches that decide which handlers are registered, when ``sloguard.handlers`` is imported.
FEATURES = ("policies", "slo_reports", "sla")


def features(env: Mapping[str, str] | None = None) -> tuple[bool, bool, bool]:
    """(policies, slo_reports, sla): what the operator does, by the same rules as every other setting."""
    env = os.environ if env is None else env
    values = {name: env[ENV[name]] for name in FEATURES if ENV[name] in env}
    try:
        s = Settings.model_validate(values)
    except ValidationError as e:
        raise SettingsError(one_line(e)) from None
    return s.policies, s.slo_reports, s.sla


def feature_env(settings: Settings) -> dict[str, str]:
    """The variables :func:`features` reads, from ``settings`` (``sloguard run`` exports them before
    importing the handlers, so its flags decide what is registered)."""
    return {ENV[name]: "true" if getattr(settings, name) else "false" for name in FEATURES}


# --- docs/settings.md ---------------------------------------------------------------------------------


def markdown_table() -> str:
    """The settings reference (docs/settings.md), generated from the fields."""
    rows = ["| Setting | `sloguard run` flag | Variable | Chart value | Default | Meaning |",
            "|---|---|---|---|---|---|"]
    for name, info in Settings.model_fields.items():
        if name == "prometheus":
            rows.append(f"| `prometheus` | `--prometheus*` | `SLOGUARD_PROMETHEUS_*` | `prometheus.*` | | "
                        f"{info.description} |")
            continue
        default = info.get_default(call_default_factory=True) if name != "identity" else "the host name"
        shown = "" if default in (None, (), {}) else f"`{_show(default)}`" if name != "identity" else default
        flag = FLAG[name]
        flag_text = "-" if flag is None else f"`{flag}`" + (" (`-n`), `-A`" if name == "namespaces" else "")
        chart = CHART.get(name, "")
        chart = chart if chart.startswith("(") or not chart else ", ".join(f"`{v}`" for v in chart.split(", "))
        rows.append(f"| `{name}` | {flag_text} | `{ENV[name]}` | {chart} | {shown} | {info.description} |")
    return "\n".join(rows) + "\n"

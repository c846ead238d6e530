"""Operator settings and the typed context handlers receive through kopf's ``memo``.

Settings come from ``sloguard run`` flags or, for ``kopf run``/KopfRunner, from ``SLOGUARD_*``
environment variables; clients are created once at startup.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ..adapters.kube import Kube
from ..adapters.metrics import OperatorMetrics, parse_address
from ..adapters.prometheus import PrometheusSettings, load_settings, to_env
from ..core import conventions as c


def _labels(text: str) -> dict[str, str]:
    out = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected KEY=VALUE, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class WebhookSettings:
    """Where the admission webhook listens and how the API server reaches it."""

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


@dataclass(frozen=True)
class Settings:
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    rule_labels: Mapping[str, str] = field(default_factory=dict)
    refresh_interval: float = 30.0
    #: How to reach Prometheus (URL, TLS, credentials, headers): the one connection setting.
    prometheus: PrometheusSettings = field(default_factory=PrometheusSettings)
    log_format: Literal["plain", "json"] = "plain"
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    configuration_name: str = "sloguard"  # name of the webhook configuration we own
    #: Evaluate budgets at this fixed instant instead of now: reproducing a past state, and tests
    #: over synthetic history (which must lie in the past). RFC3339; None means the wall clock.
    evaluate_at: str | None = None
    #: "none" keeps policies out of the admission path (report and label only); otherwise each
    #: policy's own enforcement.mechanism applies.
    enforcement: str = "admissionPolicy"
    #: Also keep a Grafana dashboard ConfigMap (sidecar label) next to each SLO's rules.
    dashboards: bool = False
    #: With several replicas (kopf peering), cluster-wide loops run only in the Lease holder.
    peering: str | None = None
    identity: str = field(default_factory=lambda: os.environ.get("POD_NAME") or os.uname().nodename)
    lease_namespace: str = field(default_factory=lambda: os.environ.get("POD_NAMESPACE") or "default")
    #: Where /metrics is served, HOST:PORT; empty: not served.
    metrics_address: str = c.DEFAULT_METRICS_ADDRESS

    def __post_init__(self) -> None:
        try:
            parse_address(self.metrics_address)
        except ValueError as e:
            raise ValueError(f"metrics address (--metrics-address / SLOGUARD_METRICS_ADDRESS): {e}") from None
    #: promtool checking every generated rule before it is applied; None: ``promtool`` on PATH.
    promtool: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        wh = WebhookSettings(
            enabled=env.get("SLOGUARD_WEBHOOK", "false").lower() in ("1", "true", "yes"),
            listen_addr=env.get("SLOGUARD_WEBHOOK_LISTEN", "0.0.0.0"),
            port=int(env.get("SLOGUARD_WEBHOOK_PORT", "9443")),
            host=env.get("SLOGUARD_WEBHOOK_HOST") or None,
            service_name=env.get("SLOGUARD_WEBHOOK_SERVICE", "").rpartition("/")[2] or None,
            service_namespace=env.get("SLOGUARD_WEBHOOK_SERVICE_NAMESPACE")
            or env.get("SLOGUARD_WEBHOOK_SERVICE", "").rpartition("/")[0] or None,
            cert_dir=Path(env.get("SLOGUARD_WEBHOOK_CERT_DIR", "/tmp/sloguard-webhook")),
            failure_policy="Fail" if env.get("SLOGUARD_WEBHOOK_FAILURE_POLICY") == "Fail" else "Ignore",
        )
        return cls(
            namespaces=tuple(n for n in env.get("SLOGUARD_NAMESPACES", "").split(",") if n),
            rule_labels=_labels(env.get("SLOGUARD_RULE_LABELS", "")),
            refresh_interval=float(env.get("SLOGUARD_REFRESH_INTERVAL", "30")),
            prometheus=load_settings(env=env),  # SLOGUARD_PROMETHEUS_*
            log_format="json" if env.get("SLOGUARD_LOG_FORMAT") == "json" else "plain",
            webhook=wh,
            configuration_name=env.get("SLOGUARD_CONFIGURATION_NAME", "sloguard"),
            evaluate_at=env.get("SLOGUARD_EVALUATE_AT") or None,
            enforcement=env.get("SLOGUARD_ENFORCEMENT") or "admissionPolicy",
            peering=env.get("SLOGUARD_PEERING") or None,
            dashboards=env.get("SLOGUARD_DASHBOARDS", "false").lower() in ("1", "true", "yes"),
            metrics_address=env.get("SLOGUARD_METRICS_ADDRESS", c.DEFAULT_METRICS_ADDRESS),
            promtool=env.get("SLOGUARD_PROMTOOL") or None,
        )

    def to_env(self) -> dict[str, str]:
        """The inverse of :meth:`from_env`, so ``sloguard run`` and ``kopf run`` agree."""
        wh = self.webhook
        env = {
            "SLOGUARD_NAMESPACES": ",".join(self.namespaces),
            "SLOGUARD_RULE_LABELS": ",".join(f"{k}={v}" for k, v in self.rule_labels.items()),
            "SLOGUARD_REFRESH_INTERVAL": str(self.refresh_interval),
            **to_env(self.prometheus),
            "SLOGUARD_LOG_FORMAT": self.log_format,
            "SLOGUARD_WEBHOOK": "true" if wh.enabled else "false",
            "SLOGUARD_WEBHOOK_LISTEN": wh.listen_addr,
            "SLOGUARD_WEBHOOK_PORT": str(wh.port),
            "SLOGUARD_WEBHOOK_HOST": wh.host or "",
            "SLOGUARD_WEBHOOK_SERVICE": wh.service_name or "",
            "SLOGUARD_WEBHOOK_SERVICE_NAMESPACE": wh.service_namespace or "",
            "SLOGUARD_WEBHOOK_CERT_DIR": str(wh.cert_dir),
            "SLOGUARD_WEBHOOK_FAILURE_POLICY": wh.failure_policy,
            "SLOGUARD_CONFIGURATION_NAME": self.configuration_name,
            "SLOGUARD_EVALUATE_AT": self.evaluate_at or "",
            "SLOGUARD_ENFORCEMENT": self.enforcement,
            "SLOGUARD_PEERING": self.peering or "",
            "SLOGUARD_DASHBOARDS": "true" if self.dashboards else "false",
            "SLOGUARD_METRICS_ADDRESS": self.metrics_address,
            "SLOGUARD_PROMTOOL": self.promtool or "",
        }
        return env


    @property
    def prometheus_url(self) -> str | None:
        return self.prometheus.url

    def now(self) -> datetime:
        """The instant budgets are evaluated at: the wall clock unless pinned."""
        if self.evaluate_at:
            return datetime.fromisoformat(self.evaluate_at.replace("Z", "+00:00"))
        return datetime.now(UTC)


@dataclass
class Context:
    """What every handler needs, created once at startup."""

    settings: Settings
    kube: Kube
    #: The operator's own metrics (its CollectorRegistry), created once with the context.
    metrics: OperatorMetrics = field(default_factory=OperatorMetrics)
    extras: dict[str, Any] = field(default_factory=dict)  # per-feature state (budget cache, ...)


def context(memo: Any) -> Context:
    """The context in ``memo``; created from SLOGUARD_* env on first use (``kopf run``, tests).

    ``sloguard run`` puts one built from its flags into the memo before kopf starts; startup
    handlers run in registration order, so whichever runs first creates it when missing.
    """
    ctx = memo.get("sloguard")
    if ctx is None:
        ctx = Context(Settings.from_env(), Kube.connect())
        memo["sloguard"] = ctx
    return ctx  # type: ignore[no-any-return]

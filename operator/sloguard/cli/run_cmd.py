"""``sloguard run``: the operator (kopf) with typed settings from flags or SLOGUARD_* env."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from ..adapters.prometheus_client import add_arguments

LOG_LEVELS = ("debug", "info", "warning", "error")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    env = os.environ
    p = sub.add_parser("run", help="run the operator", description="Run the sloguard operator against the "
                       "cluster in $KUBECONFIG (or in-cluster credentials).")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", action="append", default=[], metavar="NS",
                       help="watch this namespace (repeatable); default: all namespaces")
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch all namespaces (default)")
    p.add_argument("--rule-label", action="append", default=[], metavar="KEY=VALUE",
                   help="label on generated PrometheusRules, for the Prometheus ruleSelector (repeatable)")
    p.add_argument("--refresh-interval", type=float, default=float(env.get("SLOGUARD_REFRESH_INTERVAL", "30")),
                   metavar="SECONDS", help="how often budgets are refreshed from Prometheus (default 30)")
    add_arguments(p, url_help="Prometheus (or Thanos/Mimir/VictoriaMetrics) query URL for live budgets")
    p.add_argument("--log-format", choices=("plain", "json"), default=env.get("SLOGUARD_LOG_FORMAT", "plain"))
    p.add_argument("--log-level", choices=LOG_LEVELS, default=env.get("SLOGUARD_LOG_LEVEL", "info"),
                   help="least severe log records written (default info; env SLOGUARD_LOG_LEVEL)")
    p.add_argument("--evaluate-at", default=env.get("SLOGUARD_EVALUATE_AT"), metavar="RFC3339",
                   help="evaluate budgets at this fixed instant instead of now (reproducing a past state)")
    p.add_argument("--dashboards", action="store_true", default=env.get("SLOGUARD_DASHBOARDS", "") == "true",
                   help='keep a Grafana dashboard ConfigMap (label grafana_dashboard: "1") beside each SLO')
    p.add_argument("--slo-reports", action=argparse.BooleanOptionalAction,
                   default=env.get("SLOGUARD_SLO_REPORTS", "true").strip().lower() not in ("false", "0", "no"),
                   help="store a finalized report per SLO and calendar month in an immutable ConfigMap "
                   "(default on; needs --prometheus; env SLOGUARD_SLO_REPORTS)")
    p.add_argument("--standalone", action="store_true", help="no peering (a single replica)")
    p.add_argument("--peering", default=None, metavar="NAME", help="kopf peering name for several replicas")
    p.add_argument("--priority", type=int, default=None, metavar="N",
                   help="kopf peering priority; the highest live one works, the others stand by. Default with "
                   "--peering: random, so identical replicas never tie (kopf pauses every operator on a tie)")
    p.add_argument("--liveness", default="http://0.0.0.0:8080/healthz", metavar="URL",
                   help="liveness endpoint (kopf), empty to disable")
    p.add_argument("--metrics-address", default=env.get("SLOGUARD_METRICS_ADDRESS", "0.0.0.0:8081"),
                   metavar="HOST:PORT",
                   help="serve the operator's own metrics at /metrics here (default 0.0.0.0:8081; empty: off)")
    p.add_argument("--webhook", action="store_true", default=env.get("SLOGUARD_WEBHOOK", "") == "true",
                   help="serve the validating admission webhook")
    p.add_argument("--webhook-port", type=int, default=int(env.get("SLOGUARD_WEBHOOK_PORT", "9443")))
    p.add_argument("--webhook-host", default=env.get("SLOGUARD_WEBHOOK_HOST"), metavar="HOST",
                   help="host the API server uses to reach the webhook (local development)")
    p.add_argument("--webhook-service", default=env.get("SLOGUARD_WEBHOOK_SERVICE"), metavar="NAMESPACE/NAME",
                   help="Service in front of the webhook (in a cluster)")
    p.add_argument("--webhook-cert-dir", default=env.get("SLOGUARD_WEBHOOK_CERT_DIR", "/tmp/sloguard-webhook"))
    p.add_argument("--configuration-name", default=env.get("SLOGUARD_CONFIGURATION_NAME", "sloguard"),
                   help="name of the ValidatingWebhookConfiguration this operator owns (one per release)")
    p.add_argument("--enforcement", choices=("admissionPolicy", "webhook", "none"),
                   default=env.get("SLOGUARD_ENFORCEMENT", "admissionPolicy"),
                   help="'none' keeps budget policies out of the admission path (report and label only)")
    p.add_argument("--webhook-failure-policy", choices=("Ignore", "Fail"),
                   default=env.get("SLOGUARD_WEBHOOK_FAILURE_POLICY", "Ignore"))
    p.add_argument("--promtool", default=env.get("SLOGUARD_PROMTOOL"), metavar="PATH",
                   help="promtool that checks every generated rule before it is applied (default: promtool "
                   "on PATH); the operator refuses to start without it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import kopf

    from ..adapters.kube import Kube
    from ..adapters.metrics import parse_address
    from ..adapters.promtool import PromtoolUnavailable, find_promtool
    from ..handlers.context import Context, Settings, WebhookSettings, _labels

    try:  # before anything starts: no rule may ever be applied unchecked (kopf's startup checks too)
        find_promtool(args.promtool)
    except PromtoolUnavailable as e:
        raise SystemExit(f"sloguard run: {e}") from None
    svc_ns, _, svc_name = (args.webhook_service or "").rpartition("/")
    try:
        labels = _labels(",".join(args.rule_label))
    except ValueError as e:
        raise SystemExit(f"sloguard run: --rule-label: {e}") from None
    try:
        parse_address(args.metrics_address)
    except ValueError as e:
        raise SystemExit(f"sloguard run: --metrics-address: {e}") from None
    from .common import prometheus_settings

    prometheus = prometheus_settings("run", args, required=False)
    if prometheus is None:
        return 2
    settings = Settings(
        namespaces=tuple(args.namespace),
        rule_labels=labels,
        refresh_interval=args.refresh_interval,
        prometheus=prometheus,
        log_format=args.log_format,
        evaluate_at=args.evaluate_at,
        enforcement=args.enforcement,
        peering=None if args.standalone else args.peering,
        dashboards=args.dashboards,
        promtool=args.promtool,
        configuration_name=args.configuration_name,
        metrics_address=args.metrics_address,
        webhook=WebhookSettings(
            enabled=args.webhook, port=args.webhook_port, host=args.webhook_host,
            service_name=svc_name or None, service_namespace=svc_ns or None,
            cert_dir=Path(args.webhook_cert_dir), failure_policy=args.webhook_failure_policy),
    )
    if args.log_level not in LOG_LEVELS:  # from SLOGUARD_LOG_LEVEL, which argparse does not check
        raise SystemExit(f"sloguard run: --log-level/SLOGUARD_LOG_LEVEL: {args.log_level!r} is not one of "
                         f"{', '.join(LOG_LEVELS)}")
    kopf.configure(debug=args.log_level == "debug", verbose=False,
                   log_format=kopf.LogFormat.JSON if args.log_format == "json" else kopf.LogFormat.FULL)
    logging.getLogger().setLevel(args.log_level.upper())
    os.environ["SLOGUARD_SLO_REPORTS"] = "true" if args.slo_reports else "false"  # read when handlers register
    import sloguard.handlers  # noqa: F401  (registers the handlers)

    memo = kopf.Memo(sloguard=Context(settings, Kube.connect()))
    priority = args.priority
    if priority is None and args.peering and not args.standalone:
        import secrets

        priority = 1 + secrets.randbelow(2**31 - 1)
    kopf.run(
        standalone=args.standalone or None,
        peering_name=args.peering,
        priority=priority,
        clusterwide=not settings.namespaces,
        namespaces=settings.namespaces,
        liveness_endpoint=args.liveness or None,
        memo=memo,
    )
    return 0

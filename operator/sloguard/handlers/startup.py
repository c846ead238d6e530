"""Operator startup: settings, clients, kopf tuning, and the admission webhook."""

from __future__ import annotations

import logging
import time
from typing import Any

import kopf

from ..adapters.certs import ensure_webhook_certs
from ..adapters.kube import KubeError
from ..adapters.webhooks import validating_configuration
from ..core import conventions as c
from .context import context
from .governance import register_governance_webhook
from .slo import register_webhooks


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In-cluster service account, else $KUBECONFIG as it is *now* (tests set it late)."""
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


def _reset_webhook_handlers() -> None:
    """Forget admission handlers a previous operator run in this process registered.

    Our admission handlers are registered at startup and only when the webhook is served (kopf
    refuses admission handlers without a server). kopf has no public way to unregister, and
    several operator runs share one process in tests (KopfRunner), so a run without the webhook
    would inherit the previous run's handlers and fail. Handlers of other code are left alone.
    """
    webhooks = kopf.get_default_registry()._webhooks
    webhooks._handlers = [h for h in webhooks._handlers
                          if not getattr(h.fn, "__module__", "").startswith("sloguard.")]


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    ctx = context(memo)
    s = ctx.settings
    _reset_webhook_handlers()
    # Keep our bookkeeping off users' objects: progress and the last-handled spec in status.
    # Not in an annotation: `kubectl get -o yaml` exports annotations, and an object re-created
    # from that export would look already handled (no rules, no status until a restart). The API
    # server drops status on create, so a copy starts with no bookkeeping and is reconciled.
    settings.persistence.progress_storage = kopf.StatusProgressStorage(field="status.kopf.progress")
    settings.persistence.diffbase_storage = kopf.StatusDiffBaseStorage(field="status.kopf.last-handled-configuration")
    settings.persistence.finalizer = f"{c.GROUP}/finalizer"
    settings.posting.level = logging.WARNING  # Events for problems, not for every success
    settings.execution.max_workers = 16
    settings.queueing.error_delays = [1, 2, 5, 10, 30, 60]
    settings.watching.server_timeout = 300
    settings.peering.mandatory = False
    # One access-log line per AdmissionReview costs more than the decision at hundreds per second.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    if s.webhook.enabled:
        register_webhooks()
        wh = s.webhook
        hosts = [h for h in (wh.host, "localhost", "127.0.0.1") if h]
        if wh.service_name and wh.service_namespace:
            svc = f"{wh.service_name}.{wh.service_namespace}.svc"
            hosts = [svc, f"{svc}.cluster.local", *hosts]
        certs = ensure_webhook_certs(wh.cert_dir, list(dict.fromkeys(hosts)))
        settings.admission.server = kopf.WebhookServer(
            addr=wh.listen_addr, port=wh.port, host=wh.host or None,
            certfile=str(certs.cert), pkeyfile=str(certs.key), cafile=str(certs.ca))
        settings.admission.managed = None  # we apply our own, tightly scoped configuration
        url_base = f"https://{wh.host}:{wh.port}" if wh.host else None
        service = (wh.service_name, wh.service_namespace, 443) if wh.service_name and wh.service_namespace else None
        govern = s.enforcement == "webhook"  # governed policies (docs/security.md); the chart's VAP otherwise
        if govern:
            register_governance_webhook()
        config = validating_configuration(
            s.configuration_name, ca_bundle=certs.ca_bundle, url_base=url_base, service=service,
            failure_policy=wh.failure_policy, timeout_seconds=wh.timeout_seconds, govern_policies=govern)
        for attempt in range(1, 13):
            try:
                ctx.kube.apply(config)
                break
            except KubeError as e:
                # Installed by the chart, the operator may patch the chart's object but not create
                # it: `helm install` may create it a moment after this pod started.
                if e.status == 403 and attempt < 12:
                    time.sleep(5)
                    continue
                logger.error(f"admission webhook not registered: {e}")
                break
    logger.info(f"sloguard ready: namespaces={','.join(s.namespaces) or 'all'} webhook={s.webhook.enabled} "
                f"refresh={s.refresh_interval}s prometheus={s.prometheus_url or 'none'}")

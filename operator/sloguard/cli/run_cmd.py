"""``sloguard run``: the operator (kopf), with :class:`~sloguard.adapters.settings.Settings` from flags
over ``SLOGUARD_*`` env (docs/settings.md lists every setting)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ..adapters.prometheus import add_arguments as add_prometheus_arguments
from ..adapters.settings import add_arguments


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="run the operator", description="Run the sloguard operator against the "
                       "cluster in $KUBECONFIG (or in-cluster credentials). Each flag also comes from its "
                       "SLOGUARD_* variable; a flag wins. docs/settings.md lists them all.")
    add_arguments(p)
    add_prometheus_arguments(p, url_help="Prometheus (or Thanos/Mimir/VictoriaMetrics) query URL for live budgets")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import kopf

    from ..adapters.kube import Kube
    from ..adapters.promtool import PromtoolUnavailable, find_promtool
    from ..adapters.settings import Settings, SettingsError, feature_env, flags_from_args
    from ..handlers.context import Context

    try:
        settings = Settings.load(flags_from_args(args))
    except SettingsError as e:  # one line naming the flag and variable, as every command does
        print(f"sloguard run: {e}", file=sys.stderr)
        return 2
    try:  # before anything starts: no rule may ever be applied unchecked (kopf's startup checks too)
        find_promtool(settings.promtool)
    except PromtoolUnavailable as e:
        raise SystemExit(f"sloguard run: {e}") from None
    kopf.configure(debug=settings.log_level == "debug", verbose=False,
                   log_format=kopf.LogFormat.JSON if settings.log_format == "json" else kopf.LogFormat.FULL)
    logging.getLogger().setLevel(settings.log_level.upper())
    os.environ.update(feature_env(settings))  # which handlers register: read when the package is imported
    import sloguard.handlers  # noqa: F401  (registers the handlers)

    memo = kopf.Memo(sloguard=Context.create(settings, Kube.connect()))
    priority = settings.priority
    if priority is None and settings.peering:
        import secrets

        priority = 1 + secrets.randbelow(2**31 - 1)
    kopf.run(
        standalone=settings.standalone or None,
        peering_name=settings.peering,
        priority=priority,
        clusterwide=not settings.namespaces,
        namespaces=settings.namespaces,
        liveness_endpoint=settings.liveness or None,
        memo=memo,
    )
    return 0

"""``sloguard gate WORKLOAD [-n NS] [--kind KIND] [--wait DURATION] [-o text|json|yaml]``

Would a release of WORKLOAD be admitted now? For a CI step or an Argo CD PreSync hook Job. Exit
codes: 0 admitted; 1 held (the policy, its SLOs and their remaining budget, the action, who may
override and whether you can); 2 usage; 3 the API server cannot be reached. ``--wait`` polls until
the release would be admitted or the duration runs out (then 1). The judgement:
:mod:`sloguard.adapters.gate`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from ..adapters.gate import KINDS, ClusterUnreachable, GateResult, KubeGateFacts, connect, gate, to_json, to_text
from ..adapters.kube import KubeError
from ..core.windows import DurationError, parse_duration
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, add_kube_arguments, add_output_argument, dumps

EXIT_ADMITTED, EXIT_HELD = EXIT_OK, EXIT_FINDINGS


def _duration(text: str) -> int:
    try:
        return parse_duration(text)
    except DurationError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("gate", help="exit 0 when a release of a workload would be admitted now, 1 when held",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", metavar="WORKLOAD", help="the workload's name (or KIND/NAME, e.g. deployment/checkout)")
    p.add_argument("-n", "--namespace", default=None, help="its namespace (default: the kubeconfig context's, "
                   "in a Pod its own)")
    p.add_argument("--kind", choices=sorted(KINDS), default=None, help="its kind (default: Deployment)")
    p.add_argument("--exception", metavar="CLASS", default="",
                   help="judge a release annotated sloguard.io/exception: CLASS (e.g. rollback)")
    p.add_argument("--wait", type=_duration, metavar="DURATION", default=None,
                   help="poll until admitted, at most DURATION (e.g. 30m); still held then: exit 1")
    p.add_argument("--interval", type=_duration, metavar="DURATION", default=10, help="polling interval with "
                   "--wait (default 10s)")
    p.add_argument("--request-timeout", type=_duration, metavar="DURATION", default=30,
                   help="give up on an API server that does not answer one check within DURATION: exit 3 "
                   "(default 30s)")
    add_kube_arguments(p)
    add_output_argument(p, ("text", "json", "yaml"), "text")
    p.set_defaults(func=run)


def _kind_and_name(args: argparse.Namespace) -> tuple[str, str] | None:
    kind, name = args.kind, args.workload
    if "/" in name:
        prefix, name = name.split("/", 1)
        by_lower = {k.lower(): k for k in KINDS} | {f"{k.lower()}s": k for k in KINDS}
        from_prefix = by_lower.get(prefix.lower())
        if from_prefix is None or (kind and kind != from_prefix):
            print(f"sloguard gate: {args.workload!r}: expected NAME or KIND/NAME with KIND one of "
                  f"{', '.join(sorted(KINDS))}{f' (and --kind {kind})' if kind else ''}", file=sys.stderr)
            return None
        kind = from_prefix
    if not name:
        print("sloguard gate: WORKLOAD is empty", file=sys.stderr)
        return None
    return kind or "Deployment", name


def _namespace(args: argparse.Namespace) -> str:
    if args.namespace:
        return str(args.namespace)
    from kubernetes import config

    try:
        with open("/var/run/secrets/kubernetes.io/serviceaccount/namespace") as f:
            return f.read().strip()
    except OSError:
        pass
    try:
        _, active = config.list_kube_config_contexts(config_file=args.kubeconfig)
        if args.context:
            contexts, _ = config.list_kube_config_contexts(config_file=args.kubeconfig)
            active = next((x for x in contexts if x["name"] == args.context), active)
        return str((active or {}).get("context", {}).get("namespace") or "default")
    except (config.ConfigException, OSError):
        return "default"


class NoAnswer(Exception):
    """The API server did not answer within --request-timeout (raised from SIGALRM, so no library swallows it)."""


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Interrupt a check that hangs (a black-holed API server: the client library sets no timeout)."""
    def expire(signum: int, frame: object) -> None:
        raise NoAnswer(f"no answer from the API server within {seconds}s (--request-timeout)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(args: argparse.Namespace) -> int:
    target = _kind_and_name(args)
    if target is None:
        return EXIT_USAGE
    kind, name = target
    namespace = _namespace(args)
    try:
        facts = KubeGateFacts(connect(args.kubeconfig, args.context))
        deadline = time.monotonic() + (args.wait or 0)
        while True:
            with _deadline(args.request_timeout):
                result: GateResult = gate(facts, kind, namespace, name, datetime.now(UTC), args.exception)
            remaining = deadline - time.monotonic()
            if result.admitted or remaining <= 0:
                break
            if args.output == "text":
                print(f"held; checking again in {min(args.interval, remaining):.0f}s "
                      f"({remaining:.0f}s left of --wait)", file=sys.stderr)
            time.sleep(min(args.interval, remaining))
    except (ClusterUnreachable, NoAnswer) as e:
        print(f"sloguard gate: {e}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except KubeError as e:
        print(f"sloguard gate: {e}", file=sys.stderr)
        return EXIT_USAGE if e.status == 400 else EXIT_UNREACHABLE
    if args.output == "yaml":
        sys.stdout.write(dumps(json.loads(to_json(result)), "yaml"))
    else:
        print(to_json(result) if args.output == "json" else to_text(result))
    return EXIT_ADMITTED if result.admitted else EXIT_HELD

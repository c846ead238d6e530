"""``sloguard dev up|down|status``: a real local control plane (etcd, kube-apiserver, controller-manager).

A development command: the control plane lives in ``sloguard_dev`` (``operator/sloguard_dev/``), which a
checkout's editable install (``make install``) provides and the wheel and image do not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NOT_INSTALLED = ("sloguard dev: the development tools (sloguard_dev) are not installed; they ship only with a "
                 "source checkout: run `make install` (pip install -e '.[dev]') in the sloguard repository")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("dev", help="start or stop a local Kubernetes control plane (development checkouts only)",
                       description="A real etcd + kube-apiserver + kube-controller-manager on 127.0.0.1, "
                       "built from source once into ~/.cache/sloguard (no Docker needed). Needs a source "
                       "checkout installed with `make install`.")
    p.add_argument("action", choices=("up", "down", "status"))
    p.add_argument("--state-dir", type=Path, default=None,
                   help="where certificates, data, logs and the kubeconfig live "
                   "(default: $SLOGUARD_STATE_DIR or ~/.cache/sloguard/dev)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from sloguard_dev import cluster as devcluster
    except ModuleNotFoundError as e:
        if e.name is None or not e.name.startswith("sloguard_dev"):
            raise
        print(NOT_INSTALLED, file=sys.stderr)
        return 2
    state_dir: Path = args.state_dir or devcluster.default_state_dir()
    try:
        if args.action == "up":
            devcluster.up(state_dir, devcluster.default_crd_dirs())
        elif args.action == "down":
            devcluster.down(state_dir)
        else:
            cluster = devcluster.status(state_dir)
            if cluster is None:
                print(f"no control plane running in {state_dir}")
                return 1
            print(f"running: {cluster.server}\nexport KUBECONFIG={cluster.kubeconfig}")
    except devcluster.DevClusterError as e:
        print(f"sloguard dev {args.action}: {e}", file=sys.stderr)
        return 1
    return 0

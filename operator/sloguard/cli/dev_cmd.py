"""``sloguard dev up|down``: a real local control plane (etcd, kube-apiserver, controller-manager)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from .. import devcluster

    p = sub.add_parser("dev", help="start or stop a local Kubernetes control plane for development and tests",
                       description="A real etcd + kube-apiserver + kube-controller-manager on 127.0.0.1, "
                       "built from source once into ~/.cache/sloguard (no Docker needed).")
    p.add_argument("action", choices=("up", "down", "status"))
    p.add_argument("--state-dir", type=Path, default=devcluster.default_state_dir(),
                   help="where certificates, data, logs and the kubeconfig live")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import devcluster

    try:
        if args.action == "up":
            devcluster.up(args.state_dir, devcluster.default_crd_dirs())
        elif args.action == "down":
            devcluster.down(args.state_dir)
        else:
            cluster = devcluster.status(args.state_dir)
            if cluster is None:
                print(f"no control plane running in {args.state_dir}")
                return 1
            print(f"running: {cluster.server}\nexport KUBECONFIG={cluster.kubeconfig}")
    except devcluster.DevClusterError as e:
        print(f"sloguard dev {args.action}: {e}", file=sys.stderr)
        return 1
    return 0

#!/usr/bin/env python3
"""How fast the operator turns N SLOs into PrometheusRules with Ready status, and at what cost.

Starts its own local control plane (sloguard_dev.cluster) and the operator as a subprocess
(`sloguard run --standalone`), applies N SLOs in one `kubectl apply`, and measures:

* seconds until all N PrometheusRules exist and all N SLOs are Ready (wall clock; noisy);
* operator RSS at the end (VmRSS from /proc);
* API requests the operator made per SLO, from the API server's own `apiserver_request_total`
  (resources prometheusrules and servicelevelobjectives/status; kubectl's own creates excluded).

Usage: python bench/operator_scale.py [--sizes 100,1000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "operator"))
from sloguard_dev import cluster as devcluster  # noqa: E402


def kubectl(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["kubectl", *args], input=stdin, env=env, capture_output=True, text=True,
                          check=True).stdout


def slo(ns: str, i: int) -> dict:
    return {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
            "metadata": {"name": f"svc-{i:05d}", "namespace": ns},
            "spec": {"service": f"svc-{i:05d}", "objective": 99 + (i % 10) / 10,
                     "sli": {"ratio": {"errors": f'http_requests_total{{job="svc-{i}",code=~"5.."}}',
                                       "total": f'http_requests_total{{job="svc-{i}"}}'}}}}


def request_counts(env: dict[str, str]) -> dict[str, float]:
    """apiserver_request_total summed by resource/subresource/verb."""
    text = kubectl(env, "get", "--raw", "/metrics")
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
        key = f"{labels.get('resource')}/{labels.get('subresource', '')}/{labels.get('verb')}"
        out[key] = out.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(size: int, env: dict[str, str], workdir: Path) -> dict[str, float]:
    ns = f"bench-{size}"
    kubectl(env, "create", "namespace", ns)
    before = request_counts(env)
    docs = yaml.safe_dump_all([slo(ns, i) for i in range(size)])
    op_log = open(workdir / f"operator-{size}.log", "w")  # noqa: SIM115
    op = subprocess.Popen(["sloguard", "run", "--standalone", "--liveness", "", "-n", ns], env=env,
                          stdout=op_log, stderr=subprocess.STDOUT)
    try:
        t0 = time.monotonic()
        kubectl(env, "apply", "--server-side", "-f", "-", stdin=docs)
        while True:
            rules = len(kubectl(env, "get", "prometheusrules", "-n", ns, "-o", "name").split())
            items = json.loads(kubectl(env, "get", "slo", "-n", ns, "-o", "json"))["items"]
            ready = sum(1 for o in items for c in o.get("status", {}).get("conditions", [])
                        if c["type"] == "Ready" and c["status"] == "True")
            if rules >= size and ready >= size:
                break
            if time.monotonic() - t0 > 1800:
                raise SystemExit(f"{size}: not ready after 30 min ({rules} rules, {ready} ready)")
            time.sleep(1)
        seconds = time.monotonic() - t0
        rss = rss_mb(op.pid)
    finally:
        op.terminate()
        op.wait(30)
        op_log.close()
    after = request_counts(env)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    # The operator's writes: rules (server-side apply), SLO status, and kopf's own bookkeeping
    # patches on the SLO (merge PATCH; kubectl's server-side apply is verb APPLY, not counted).
    op_requests = sum(v for k, v in delta.items() if k.startswith("prometheusrules/")) + \
        sum(v for k, v in delta.items() if k.startswith("servicelevelobjectives/status/")) + \
        delta.get("servicelevelobjectives//PATCH", 0)
    return {"slos": size, "seconds": round(seconds, 1), "rss_mb": round(rss, 1),
            "requests_per_slo": round(op_requests / size, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100,1000")
    p.add_argument("--keep", action="store_true", help="leave the control plane running")
    args = p.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sloguard-bench-"))
    cluster = devcluster.up(workdir / "cluster", devcluster.default_crd_dirs(), log=lambda m: print(m, file=sys.stderr))
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
    rows = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            rows.append(run(size, env, workdir))
            print(json.dumps(rows[-1]), file=sys.stderr)
    finally:
        if not args.keep:
            devcluster.down(workdir / "cluster")
    print("| SLOs | seconds to all Ready | operator RSS (MB) | operator API requests per SLO |")
    print("|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['slos']:,} | {r['seconds']} | {r['rss_mb']} | {r['requests_per_slo']} |")


if __name__ == "__main__":
    main()

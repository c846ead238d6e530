#!/usr/bin/env python3
"""What error budget policies cost at admission, and how fast they react.

Starts everything it needs itself: a local control plane (sloguard_dev.cluster), the operator as
a subprocess (``python -m sloguard run``), and for the last part a Prometheus scraping a tiny
exporter in this process. Measures:

(a) Webhook decision latency on loopback: AdmissionReview POSTs straight at the operator's
    ``/validate-hold`` (kopf's webhook server, TLS, keep-alive connections as the API server
    uses) for a Deployment held by a webhook-mechanism policy. Open loop at a fixed rate (each
    request is sent at its scheduled time, whether or not earlier ones have answered), a bounded
    count per rate, alternating two paths: a new image by ``bob`` (a release: denied, after a
    SubjectAccessReview for ``override``) and a replica change (scaling: allowed, no API call).
    Latency is per request, from send to the parsed response; every decision is checked.
(b) API-server latency of a Deployment update (the Python client's PATCH round trip): a
    metadata-only change and an allowed release (a template change declaring the exception
    class ``security-fix``) on the same Deployment, with no policy holding it, held with the
    ValidatingAdmissionPolicy, and held with the webhook. Median of N updates each (after a
    warm-up); the ratio is against "no policy".
(c) Reaction time to the first denial (a server-side dry run of a new image by ``bob``, polled
    every 50 ms): from the SLO status patched to exhausted (both mechanisms; the operator is
    told nothing else), and from the budget exhausted in Prometheus — the exporter's error
    counter jumps, Prometheus scrapes every second, the operator's refresh loop (every
    ``--refresh-interval`` seconds) sees it and the chain runs. For the latter, "exhausted in
    Prometheus" is the first instant a query of the SLO's error ratio over its window (polled
    beside the denial probe) is above the budget.

Targets (issue 5): webhook p99 under 10 ms at 200/s; reaction within one refresh interval plus 10 s.

Usage: python bench/admission.py [--requests 2000] [--rates 50,200] [--updates 200]
                                 [--trials 5] [--live-trials 3] [--refresh-interval 10] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "operator"))
from tests.integration.promfixture import PROMETHEUS  # noqa: E402
from tests.support.cluster import free_port  # noqa: E402

from sloguard_dev import cluster as devcluster  # noqa: E402

NS = "bench-admission"
LIVE_NS = "bench-live"
POLICY = "checkout-freeze"
SLO_NAME = "checkout"
CONFIG_NAME = "sloguard-bench"
BOB = {"username": "bob", "groups": ["devs", "system:authenticated"]}
OBJECTIVE = 99.9
EXCEPTION = "sloguard.io/exception"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 120.0, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


# --- cluster access -----------------------------------------------------------------------------

class Cluster:
    def __init__(self, kubeconfig: Path) -> None:
        from kubernetes import client, config

        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
        self.api = config.new_client_from_config(str(kubeconfig))
        self.apps = client.AppsV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)
        self.admission = client.AdmissionregistrationV1Api(self.api)
        bob = config.new_client_from_config(str(kubeconfig))
        bob.set_default_header("Impersonate-User", "bob")
        bob.set_default_header("Impersonate-Group", "devs")
        self.bob_apps = client.AppsV1Api(bob)

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        proc = subprocess.run(["kubectl", *args], input=stdin, env=self.env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"kubectl {' '.join(args)}: {proc.stderr}")
        return proc.stdout

    def apply(self, *docs: dict[str, Any]) -> None:
        self.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))

    def set_budget(self, ns: str, slo: str, remaining_percent: float) -> None:
        state = "exhausted" if remaining_percent <= 0 else "healthy" if remaining_percent >= 25 else "warning"
        status = {"budget": {"remaining": remaining_percent / 100, "remainingPercent": remaining_percent},
                  "burnRates": {"1h": 1.0}, "state": state}
        self.custom.patch_namespaced_custom_object_status("sloguard.io", "v1alpha1", ns,
                                                          "servicelevelobjectives", slo, {"status": status})

    def policy_status(self, ns: str, name: str = POLICY) -> dict[str, Any]:
        obj = self.custom.get_namespaced_custom_object("sloguard.io", "v1alpha1", ns, "errorbudgetpolicies", name)
        return dict(obj.get("status") or {})

    def deployment(self, ns: str, name: str) -> dict[str, Any]:
        return dict(self.api.sanitize_for_serialization(self.apps.read_namespaced_deployment(name, ns)))

    def held(self, ns: str, name: str) -> str | None:
        return (self.deployment(ns, name)["metadata"].get("labels") or {}).get("sloguard.io/hold")

    def release_denied(self, ns: str, name: str) -> bool:
        """A server-side dry run of a new image by bob: refused by an ErrorBudgetPolicy?"""
        from kubernetes.client.exceptions import ApiException

        # (overriding the exception annotation (b) leaves on the Deployment with no class: removing
        # it would carry it, as `rollout undo` does)
        patch = {"metadata": {"annotations": {EXCEPTION: "none"}},
                 "spec": {"template": {"spec": {"containers": [{"name": "app", "image": f"nginx:{uuid.uuid4()}"}]}}}}
        try:
            self.bob_apps.patch_namespaced_deployment(name, ns, patch, dry_run="All")
        except ApiException as e:
            if "ErrorBudgetPolicy" in str(e.body):
                return True
            raise
        return False

    def exists(self, kind: str, name: str) -> bool:
        return bool(self.kubectl("get", kind, name, "--ignore-not-found", "-o", "name").strip())


def deployment(ns: str, name: str, app: str) -> dict[str, Any]:
    labels = {"app": app}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"replicas": 0, "revisionHistoryLimit": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}}}


def slo(ns: str, name: str, service: str) -> dict[str, Any]:
    return {"apiVersion": "sloguard.io/v1alpha1", "kind": "ServiceLevelObjective",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"service": service, "objective": OBJECTIVE, "window": "28d",
                     "sli": {"ratio": {"errors": f'http_requests_total{{service="{service}",code="500"}}',
                                       "total": f'http_requests_total{{service="{service}"}}'}}}}


def policy(ns: str, name: str, slo_name: str, app: str, **enforcement: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"slos": [slo_name],
                            "targets": [{"kind": "Deployment", "selector": {"matchLabels": {"app": app}}}]}
    if enforcement:
        spec["enforcement"] = enforcement
    return {"apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def rbac(ns: str) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "deployer", "namespace": ns},
         "rules": [{"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "devs-deploy", "namespace": ns},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}]},
    ]


def start_operator(cluster: Cluster, workdir: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    out = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed by the child's exit
    return subprocess.Popen([sys.executable, "-m", "sloguard", "run", "--standalone", "--liveness", "", *args],
                            env=cluster.env, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- (a) webhook decision latency ----------------------------------------------------------------

def review(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    meta = old["metadata"]
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": str(uuid.uuid4()),
                        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
                        "requestKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                        "requestResource": {"group": "apps", "version": "v1", "resource": "deployments"},
                        "name": meta["name"], "namespace": meta["namespace"], "operation": "UPDATE",
                        "userInfo": BOB, "object": new, "oldObject": old, "dryRun": False,
                        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "UpdateOptions"}}}


async def fire(url: str, ctx: ssl.SSLContext, bodies: list[tuple[str, bytes, bool]], rate: float,
               count: int, warmup: int) -> dict[str, Any]:
    import aiohttp

    lat: dict[str, list[float]] = {path: [] for path, _, _ in bodies}
    wrong = errors = 0
    connector = aiohttp.TCPConnector(ssl=ctx, limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(i: int, measure: bool) -> None:
            nonlocal wrong, errors
            path, body, expect = bodies[i % len(bodies)]
            t = time.perf_counter()
            try:
                async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                    data = await r.read()
                took = time.perf_counter() - t
                allowed = json.loads(data)["response"]["allowed"]
            except Exception:  # noqa: BLE001 - counted, the run goes on
                errors += 1
                return
            if measure:
                lat[path].append(took * 1000)
                wrong += allowed != expect

        for i in range(warmup):
            await one(i, False)
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.1
        tasks = []
        for i in range(count):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, True)))
        await asyncio.gather(*tasks)
        elapsed = loop.time() - start
    everything = [x for v in lat.values() for x in v]
    out: dict[str, Any] = {"rate": rate, "sent": count, "achieved": count / elapsed, "wrong": wrong,
                           "load": os.getloadavg()[0],
                           "errors": errors, "all_p50": pct(everything, 0.5), "all_p99": pct(everything, 0.99),
                           "all_max": max(everything)}
    for path, values in lat.items():
        out[f"{path}_p50"], out[f"{path}_p99"] = pct(values, 0.5), pct(values, 0.99)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def webhook_latency(cluster: Cluster, port: int, cert_dir: Path, rates: list[float], count: int,
                    operator_pid: int) -> list[dict[str, Any]]:
    old = {**cluster.deployment(NS, "checkout"), "apiVersion": "apps/v1", "kind": "Deployment"}
    release = copy.deepcopy(old)
    release["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:9.99"
    release["metadata"].get("annotations", {}).pop(EXCEPTION, None)  # no exception class: a plain release
    scale = copy.deepcopy(old)
    scale["spec"]["replicas"] = int(old["spec"].get("replicas") or 0) + 3
    bodies = [("deny", json.dumps(review(old, release)).encode(), False),
              ("allow", json.dumps(review(old, scale)).encode(), True)]
    ctx = ssl.create_default_context(cafile=str(cert_dir / "ca.crt"))
    url = f"https://127.0.0.1:{port}/validate-hold"
    rows = []
    for rate in rates:
        log(f"(a) {count} AdmissionReviews at {rate:g}/s")
        cpu = cpu_seconds(operator_pid)
        rows.append(asyncio.run(fire(url, ctx, bodies, rate, count, warmup=50)))
        rows[-1]["cpu_ms"] = (cpu_seconds(operator_pid) - cpu) * 1000 / (count + 50)
        log(f"    {json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in rows[-1].items()})}")
    return rows


# --- (b) API-server update latency ------------------------------------------------------------------

def update_latency(cluster: Cluster, n: int, tag: str) -> dict[str, float]:
    """Median and p90 (ms) of N metadata-only updates and N allowed releases (after 20 of each unmeasured)."""
    out: dict[str, float] = {}
    for kind in ("metadata", "release"):
        samples = []
        for i in range(n + 20):
            stamp = f"{tag}-{i}"
            if kind == "metadata":
                patch: dict[str, Any] = {"metadata": {"annotations": {"bench.sloguard.io/seq": stamp}}}
            else:
                # an exception covers only the release that carries it: a new reason each time
                patch = {"metadata": {"annotations": {EXCEPTION: "security-fix", f"{EXCEPTION}-reason": stamp}},
                         "spec": {"template": {"metadata": {"annotations": {"bench.sloguard.io/rev": stamp}}}}}
            t = time.perf_counter()
            cluster.apps.patch_namespaced_deployment("checkout", NS, patch)
            if i >= 20:
                samples.append((time.perf_counter() - t) * 1000)
        out[f"{kind}_p50"] = statistics.median(samples)
        out[f"{kind}_p90"] = pct(samples, 0.9)
    return out


# --- (c) reaction time ------------------------------------------------------------------------------

def reaction_from_status(cluster: Cluster, trials: int) -> list[float]:
    """Seconds from the SLO status patched to exhausted to the first denial (poll every 50 ms)."""
    out = []
    for _ in range(trials):
        cluster.set_budget(NS, SLO_NAME, 80.0)
        wait_for(lambda: cluster.policy_status(NS).get("action") == "none" and cluster.held(NS, "checkout") is None
                 and not cluster.release_denied(NS, "checkout"), "the hold lifted")
        cluster.set_budget(NS, SLO_NAME, -5.0)
        t0 = time.monotonic()
        while not cluster.release_denied(NS, "checkout"):
            if time.monotonic() - t0 > 120:
                raise SystemExit("no denial within 120 s of the budget exhausted")
            time.sleep(0.05)
        out.append(time.monotonic() - t0)
        log(f"    reaction {out[-1]:.2f} s")
    return out


class Exporter:
    """``http_requests_total`` for services svc-0..; 1,000 requests/s each, 50% errors once flipped."""

    def __init__(self, services: int) -> None:
        self.t0 = time.time() - 60  # a minute of clean history at the first scrape
        self.flipped: dict[int, float] = {}
        self.services = services
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = exporter.text().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def text(self) -> str:
        now = time.time()
        lines = ["# TYPE http_requests_total counter"]
        for s in range(self.services):
            total = 1000 * (now - self.t0)
            errors = 500 * (now - self.flipped[s]) if s in self.flipped else 0.0
            lines.append(f'http_requests_total{{service="svc-{s}",code="200"}} {total - errors:.0f}')
            lines.append(f'http_requests_total{{service="svc-{s}",code="500"}} {errors:.0f}')
        return "\n".join(lines) + "\n"


def start_prometheus(workdir: Path, target_port: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = workdir / "prometheus.yml"
    config.write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "bench", "scrape_interval": "1s",
                            "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]}]}))
    out = open(workdir / "prometheus.log", "wb")  # noqa: SIM115 - closed by the child's exit
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'prom'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                            stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def error_ratio(prom: str, service: str) -> float | None:
    q = (f'sum(increase(http_requests_total{{service="{service}",code="500"}}[28d])) / '
         f'sum(increase(http_requests_total{{service="{service}"}}[28d]))')
    with urllib.request.urlopen(f"{prom}/api/v1/query?{urllib.parse.urlencode({'query': q})}", timeout=5) as r:
        result = json.loads(r.read())["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def reaction_from_prometheus(cluster: Cluster, workdir: Path, trials: int, refresh: float) -> list[dict[str, float]]:
    exporter = Exporter(trials)
    prom, prom_url = start_prometheus(workdir, exporter.port)
    operator = None
    try:
        cluster.kubectl("create", "namespace", LIVE_NS)
        cluster.apply(*rbac(LIVE_NS))
        for i in range(trials):
            cluster.apply(slo(LIVE_NS, f"svc-{i}", f"svc-{i}"), deployment(LIVE_NS, f"svc-{i}", f"svc-{i}"),
                          policy(LIVE_NS, f"svc-{i}", f"svc-{i}", f"svc-{i}"))
        operator = start_operator(cluster, workdir, "operator-live", "-n", LIVE_NS, "--prometheus", prom_url,
                                  "--refresh-interval", str(refresh))

        def all_healthy() -> bool:
            return all(cluster.policy_status(LIVE_NS, f"svc-{i}").get("level") == "healthy" for i in range(trials))

        wait_for(all_healthy, "every live policy healthy from Prometheus", timeout=180)
        rows = []
        budget = 1 - OBJECTIVE / 100
        for i in range(trials):
            name = f"svc-{i}"
            time.sleep(refresh * (i + 1) / (trials + 1))  # start the trials at different refresh phases
            exporter.flipped[i] = time.time()
            t0 = time.monotonic()
            t_prom = None
            while not cluster.release_denied(LIVE_NS, name):
                if t_prom is None and (error_ratio(prom_url, name) or 0) > budget:
                    t_prom = time.monotonic()
                if time.monotonic() - t0 > refresh + 120:
                    raise SystemExit(f"{name}: no denial within {refresh + 120:.0f} s of the flip")
                time.sleep(0.05)
            t_deny = time.monotonic()
            if t_prom is None:
                t_prom = t_deny  # seen only on the last poll
            status = cluster.policy_status(LIVE_NS, name)
            rows.append({"prom": t_prom - t0, "deny": t_deny - t_prom, "total": t_deny - t0,
                         "action": status.get("action")})
            log(f"    {name}: exhausted in Prometheus {t_prom - t0:.2f} s after the flip, "
                f"denied {t_deny - t_prom:.2f} s later ({status.get('action')})")
        return rows
    finally:
        stop(operator)
        stop(prom)
        exporter.server.shutdown()


# --- main -----------------------------------------------------------------------------------------

def print_report(args: argparse.Namespace, load_start: float, webhook: list[dict[str, Any]],
                 updates: dict[str, dict[str, float]], react: dict[str, list[float]],
                 live: list[dict[str, Any]]) -> None:
    """The figures as docs/PERFORMANCE.md tables."""
    print(f"\n### (a) Webhook decision latency, loopback ({args.requests} AdmissionReviews per rate, "
          "alternating deny/allow; target p99 < 10 ms at 200/s)\n")
    print(f"Machine: {os.cpu_count()} CPUs, load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} "
          "at the end (the control plane, the operator and this client share them).\n")
    print("| rate (/s) | achieved (/s) | deny p50 (ms) | deny p99 (ms) | allow p50 (ms) | allow p99 (ms) "
          "| all p99 (ms) | max (ms) | wrong / errors | operator CPU per review (ms) | load (1 min) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in webhook:
        print(f"| {r['rate']:g} | {r['achieved']:.1f} | {r['deny_p50']:.2f} | {r['deny_p99']:.2f} "
              f"| {r['allow_p50']:.2f} | {r['allow_p99']:.2f} | {r['all_p99']:.2f} | {r['all_max']:.1f} "
              f"| {r['wrong']} / {r['errors']} | {r['cpu_ms']:.2f} | {r['load']:.1f} |")
    print(f"\n### (b) API-server latency of a Deployment update (median of {args.updates}, p90 in brackets)\n")
    print("| enforcement | metadata-only (ms) | ratio | allowed release (ms) | ratio |")
    print("|---|---:|---:|---:|---:|")
    base = updates["none"]
    for name, u in updates.items():
        print(f"| {name if name != 'none' else 'no policy holding'} | {u['metadata_p50']:.1f} "
              f"({u['metadata_p90']:.1f}) | {u['metadata_p50'] / base['metadata_p50']:.2f} "
              f"| {u['release_p50']:.1f} ({u['release_p90']:.1f}) | {u['release_p50'] / base['release_p50']:.2f} |")
    print("\n### (c) Reaction time to the first denial (target: refresh interval + 10 s)\n")
    print("| from | trials | median (s) | max (s) |")
    print("|---|---:|---:|---:|")
    for name, values in react.items():
        print(f"| SLO status patched to exhausted, {name} | {len(values)} | {statistics.median(values):.2f} "
              f"| {max(values):.2f} |")
    totals = [r["deny"] for r in live]
    print(f"| budget exhausted in Prometheus, admissionPolicy, refresh {args.refresh_interval:g} s | {len(live)} "
          f"| {statistics.median(totals):.2f} | {max(totals):.2f} |")
    flips = ", ".join(f"{r['prom']:.1f}" for r in live)
    actions = ", ".join(str(r["action"]) for r in live)
    print(f"\n(exporter flip -> exhausted in Prometheus: {flips} s; actions at the denial: {actions})")



def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=2000, help="AdmissionReviews per rate (a)")
    p.add_argument("--rates", default="50,200", help="AdmissionReviews per second (a)")
    p.add_argument("--updates", type=int, default=200, help="updates per kind and scenario (b)")
    p.add_argument("--trials", type=int, default=5, help="status-patch reaction trials per mechanism (c)")
    p.add_argument("--live-trials", type=int, default=3, help="Prometheus reaction trials (c)")
    p.add_argument("--refresh-interval", type=float, default=10.0, help="operator refresh interval for (c)")
    p.add_argument("--keep", action="store_true", help="leave the control plane running")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    rates = [float(r) for r in args.rates.split(",")]

    load_start = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="sloguard-bench-admission-"))
    log(f"work directory {workdir}")
    dev = devcluster.up(workdir / "cluster", devcluster.default_crd_dirs(), log=log)
    cluster = Cluster(dev.kubeconfig)
    port, cert_dir = free_port(), workdir / "webhook-certs"
    operator = None
    try:
        cluster.kubectl("create", "namespace", NS)
        # what the chart installs: the one hold policy, its bindings (the operator writes the params)
        from sloguard.adapters import admission_policy as vap

        cluster.apply(vap.holds_policy("sloguard-bench-holds"), *vap.holds_bindings("sloguard-bench-holds"))
        cluster.apply(*rbac(NS), slo(NS, SLO_NAME, "checkout"), deployment(NS, "checkout", "checkout"))
        cluster.set_budget(NS, SLO_NAME, 80.0)
        operator = start_operator(cluster, workdir, "operator", "-n", NS, "--webhook", "--webhook-port", str(port),
                                  "--webhook-host", "127.0.0.1", "--webhook-cert-dir", str(cert_dir),
                                  "--configuration-name", CONFIG_NAME)
        holds_config = f"{CONFIG_NAME}-holds"

        def enforced_by_policy() -> bool:
            out = cluster.kubectl("get", "errorbudgethold", "-n", NS, POLICY, "--ignore-not-found", "-o",
                                  "jsonpath={.metadata.labels.sloguard\\.io/enforcement}")
            return out.strip() == "Deny"

        # (b) without any policy holding the Deployment
        cluster.apply(policy(NS, POLICY, SLO_NAME, "checkout"))
        wait_for(lambda: cluster.policy_status(NS).get("level") == "healthy", "the policy evaluated")
        log("(b) updates, no policy holding")
        updates = {"none": update_latency(cluster, args.updates, "none")}

        # (c) reaction from the status patch, admissionPolicy; leaves the budget exhausted
        log("(c) reaction from status patch, admissionPolicy")
        react = {"admissionPolicy": reaction_from_status(cluster, args.trials)}
        wait_for(enforced_by_policy, "the hold read by the chart's admission policy")
        log("(b) updates, held with the ValidatingAdmissionPolicy")
        updates["admissionPolicy"] = update_latency(cluster, args.updates, "vap")

        # the webhook mechanism
        cluster.apply(policy(NS, POLICY, SLO_NAME, "checkout", mechanism="webhook", failurePolicy="Ignore"))
        wait_for(lambda: cluster.exists("validatingwebhookconfiguration", holds_config)
                 and not enforced_by_policy(), "the holds webhook")
        wait_for(lambda: cluster.release_denied(NS, "checkout"), "a denial by the webhook")
        log("(b) updates, held with the webhook")
        updates["webhook"] = update_latency(cluster, args.updates, "webhook")
        webhook = webhook_latency(cluster, port, cert_dir, rates, args.requests, operator.pid)
        log("(c) reaction from status patch, webhook")
        react["webhook"] = reaction_from_status(cluster, args.trials)
        stop(operator)
        operator = None
        cluster.kubectl("delete", "validatingwebhookconfiguration", holds_config, CONFIG_NAME, "--ignore-not-found")

        log(f"(c) reaction from Prometheus, refresh interval {args.refresh_interval:g} s")
        live = reaction_from_prometheus(cluster, workdir, args.live_trials, args.refresh_interval)
    finally:
        stop(operator)
        if not args.keep:
            devcluster.down(workdir / "cluster")

    print_report(args, load_start, webhook, updates, react, live)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A synthetic service for the demo: request counters, a latency histogram and a probe gauge.

It serves ``/metrics`` for Prometheus to scrape and simulates steady traffic for three services
(checkout, api, platform probe). ``POST /incident?service=checkout&errors=0.3`` injects an error
rate (``errors=0`` ends it); ``POST /incident?service=api&slow=0.5`` makes that share slow.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

REQUESTS = Counter("http_requests_total", "Requests served", ["job", "code"])
LATENCY = Histogram("http_request_duration_seconds", "Request latency", ["job"],
                    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
PROBE = Gauge("probe_success", "Synthetic probe result (1 up, 0 down)", ["instance"])

STATE = {"checkout": {"errors": 0.0002}, "api": {"slow": 0.002}, "platform": {"down": False}}
LOCK = threading.Lock()


def simulate(rate: float) -> None:
    """Every 100 ms, add about ``rate``/10 requests per service."""
    while True:
        with LOCK:
            checkout_err = STATE["checkout"]["errors"]
            api_slow = STATE["api"]["slow"]
            down = STATE["platform"]["down"]
        for _ in range(max(1, int(rate / 10))):
            REQUESTS.labels("checkout", "500" if random.random() < checkout_err else "200").inc()
            slow = random.random() < api_slow
            LATENCY.labels("api").observe(random.uniform(0.3, 3.0) if slow else random.uniform(0.01, 0.2))
            REQUESTS.labels("api", "200").inc()
        PROBE.labels("platform").set(0 if down else 1)
        time.sleep(0.1)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        if urlparse(self.path).path != "/metrics":
            self.send_error(404)
            return
        body = generate_latest()
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE_LATEST)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path != "/incident" or q.get("service") not in STATE:
            self.send_error(400, "POST /incident?service=checkout|api|platform&errors=|slow=|down=")
            return
        with LOCK:
            svc = STATE[q["service"]]
            for key in ("errors", "slow"):
                if key in q:
                    svc[key] = float(q[key])
            if "down" in q:
                svc["down"] = q["down"] in ("1", "true")
            text = f"{q['service']}: {svc}\n".encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=18080)
    p.add_argument("--rate", type=float, default=50.0, help="requests per second per service")
    args = p.parse_args()
    threading.Thread(target=simulate, args=(args.rate,), daemon=True).start()
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()

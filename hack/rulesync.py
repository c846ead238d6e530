#!/usr/bin/env python3
"""Demo stand-in for prometheus-operator: PrometheusRules in the cluster -> a Prometheus rule file.

Every few seconds it lists PrometheusRule objects, writes their groups to one file and asks
Prometheus to reload when the file changed. In a real cluster prometheus-operator does this.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
import urllib.request
from pathlib import Path

import yaml


def sync_once(out: Path, reload_url: str) -> bool:
    raw = subprocess.run(["kubectl", "get", "prometheusrules", "-A", "-o", "json"], capture_output=True,
                         text=True, check=True).stdout
    groups = []
    for item in json.loads(raw)["items"]:
        for group in item["spec"].get("groups", []):
            groups.append(group)
    text = yaml.safe_dump({"groups": groups}, sort_keys=False)
    if out.exists() and out.read_text() == text:
        return False
    tmp = out.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    urllib.request.urlopen(urllib.request.Request(reload_url, method="POST"), timeout=10).read()
    return True


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--reload-url", required=True)
    p.add_argument("--interval", type=float, default=5.0)
    args = p.parse_args()
    while True:
        try:
            if sync_once(args.out, args.reload_url):
                print(f"rules synced to {args.out}", flush=True)
        except (subprocess.CalledProcessError, OSError) as e:
            print(f"rule sync failed: {e}", flush=True)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()

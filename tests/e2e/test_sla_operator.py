"""The operator keeps SLA contracts: month to date in status, finalized months kept for good.

A real Prometheus holds synthetic history from the day before the previous calendar month
(UTC) up to a few minutes ago; the operator (KopfRunner) runs against the local control plane.
The previous month has known outages:

* 45 minutes with no maintenance                                       -> counted
* 20 minutes inside a window announced 4 days ahead                    -> excluded
* 30 minutes inside a window announced 2 hours ahead (48h are needed)  -> counted, flagged
* the last 10 minutes of the month (the outage goes on 15 minutes into this month)

so the month has 85 downtime minutes and 20 excluded ones, whatever its length; the figures
the operator finalizes must equal what ``sloguard sla evaluate -o json`` prints for the month.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.integration.promfixture import PrometheusServer

from ..support import factories
from ..support.cluster import apply, condition, get_json
from ..support.operator import Operator, running_operator
from .conftest import TestCluster

pytestmark = pytest.mark.e2e

NS = "e2e-sla"
CONTRACT = "acme-platform"

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
CUR_START = NOW.replace(day=1, hour=0, minute=0)
PREV_START = (CUR_START - timedelta(days=1)).replace(day=1)
PREV = PREV_START.strftime("%Y-%m")
CUR = CUR_START.strftime("%Y-%m")
HISTORY_START = PREV_START - timedelta(days=1)
HISTORY_END = NOW - timedelta(minutes=5)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the previous month (day 1 is its first day)."""
    return PREV_START + timedelta(days=day - 1, hours=hour, minutes=minute)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


OUTAGES = [
    (at(2, 10), at(2, 10, 45)),  # counted: 45
    (at(5, 2), at(5, 2, 20)),  # inside the announced window: excluded 20
    (at(9, 2), at(9, 2, 30)),  # inside the late window: counted 30
    (CUR_START - timedelta(minutes=10), CUR_START + timedelta(minutes=15)),  # 10 counted in the month
]
WINDOWS = [  # start, end, announced, description
    (at(5, 1, 30), at(5, 3), at(1, 1, 30), "storage upgrade"),  # 4 days notice
    (at(9, 2), at(9, 2, 30), at(9, 0), "emergency patch"),  # 2 hours notice: late
]
EXPECTED_DOWNTIME = 45 + 30 + 10
EXPECTED_EXCLUDED = 20
ERROR_SPELL = (at(12, 8), at(12, 9))  # 10% of requests fail
REQUESTS_PER_MINUTE = 1000


def history() -> Iterator[str]:
    start, end = int(HISTORY_START.timestamp()), int(HISTORY_END.timestamp())
    minutes = range(start, end, 60)
    down = {t for a, b in OUTAGES for t in range(int(a.timestamp()), int(b.timestamp()), 60)}
    yield "# TYPE probe_success gauge\n"
    for t in minutes:
        yield f'probe_success{{instance="e2e-platform"}} {0 if t in down else 1} {t}\n'
    yield "# TYPE http_requests counter\n"
    ok = err = 0
    ok_rows, err_rows = [], []
    spell = range(int(ERROR_SPELL[0].timestamp()), int(ERROR_SPELL[1].timestamp()), 60)
    for t in minutes:
        ok_rows.append(f'http_requests_total{{job="e2e-api",code="200"}} {ok} {t}\n')
        err_rows.append(f'http_requests_total{{job="e2e-api",code="500"}} {err} {t}\n')
        e = REQUESTS_PER_MINUTE // 10 if t in spell else 0
        ok += REQUESTS_PER_MINUTE - e
        err += e
    yield from ok_rows
    yield from err_rows
    yield "# EOF\n"


def contract(name: str = CONTRACT, annotations: dict[str, str] | None = None) -> dict:
    meta: dict = {"name": name, "namespace": NS}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": factories.API_VERSION,
        "kind": "SLAContract",
        "metadata": meta,
        "spec": {
            "customer": {"id": "acme", "name": "ACME Corp"},
            "contractId": "C-2026-001",
            "timezone": "UTC",
            "fee": {"monthly": 10000, "currency": "USD"},
            "maxCreditPercent": 100,
            "maintenance": {
                "minimumNotice": "48h",
                "windows": [{"start": iso(a), "end": iso(b), "announcedAt": iso(n), "description": d}
                            for a, b, n, d in WINDOWS],
            },
            "terms": [
                {"name": "platform-availability", "type": "uptime", "objective": 99.9,
                 "sli": {"boolGauge": {"selector": 'probe_success{instance="e2e-platform"}'}},
                 "credits": [{"below": 99.9, "percent": 10}, {"below": 99.5, "percent": 25},
                             {"below": 99.0, "percent": 50}]},
                {"name": "api-success", "type": "availability", "objective": 99.95,
                 "sli": {"ratio": {"errors": 'http_requests_total{job="e2e-api",code=~"5.."}',
                                   "total": 'http_requests_total{job="e2e-api"}'}},
                 "credits": [{"below": 99.95, "percent": 10}]},
            ],
        },
    }


# --- helpers ---------------------------------------------------------------------------------------


def status(cluster: TestCluster, name: str = CONTRACT) -> dict:
    return get_json(cluster, "sla", "-n", NS, name).get("status") or {}


def history_maps(cluster: TestCluster, name: str = CONTRACT) -> list[dict]:
    items = get_json(cluster, "configmap", "-n", NS, "-l", f"sloguard.io/contract={name}")["items"]
    return sorted(items, key=lambda i: i["metadata"]["name"])


CLI = "import sys; from sloguard.cli import main; sys.exit(main())"


def cli_json(prometheus: PrometheusServer, tmp: Path, period: str, at_: str | None = None) -> dict:
    path = tmp / "contract.yaml"
    path.write_text(yaml.safe_dump(contract()))
    args = [sys.executable, "-c", CLI, "sla", "evaluate", "--prometheus", prometheus.url,
            "--period", period, "-o", "json", str(path)]
    if at_:
        args[-1:-1] = ["--at", at_]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def passes(operator: Operator, name: str = CONTRACT) -> int:
    """Completed evaluation passes over ``name`` (from the operator's debug log)."""
    return operator.log.count(f"SLA pass for {NS}/{name} done")


def wait_passes(cluster: TestCluster, operator: Operator, n: int, name: str = CONTRACT) -> None:
    start = passes(operator, name)
    cluster.wait_until(lambda: passes(operator, name) >= start + n, timeout=90, what=f"{n} passes over {name}")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    server = PrometheusServer.from_lines(history(), tmp_path_factory.mktemp("sla-e2e-prom"))
    with server:
        yield server


@pytest.fixture(scope="module")
def operator(cluster: TestCluster, prometheus: PrometheusServer) -> Iterator[Operator]:
    cluster.kubectl("create", "namespace", NS)
    env = {"SLOGUARD_PROMETHEUS_URL": prometheus.url, "SLOGUARD_SLA_REFRESH_INTERVAL": "2",
           "SLOGUARD_SLA_FINALIZE_GRACE": "1s", "SLOGUARD_WEBHOOK": "false"}
    with running_operator(NS, env, verbose=True) as op:  # verbose: the passes are debug messages
        yield op


@pytest.fixture(scope="module")
def finalized(cluster: TestCluster, operator: Operator) -> dict:
    """The contract applied and its previous month finalized; the r1 ConfigMap."""
    apply(cluster, contract())
    cluster.wait_until(lambda: len(status(cluster).get("history") or []) == 1, timeout=120,
                       what=f"{PREV} finalized into status.history")
    maps = history_maps(cluster)
    assert len(maps) == 1
    return maps[0]


# --- tests ---------------------------------------------------------------------------------------------


def test_the_past_month_is_finalized_once_with_the_figures_the_cli_gives(cluster, prometheus, finalized, tmp_path):
    cm = finalized
    meta = cm["metadata"]
    assert meta["name"] == f"sla-{CONTRACT}-{PREV}-r1"
    assert cm["immutable"] is True
    assert meta["labels"] == {"sloguard.io/contract": CONTRACT, "sloguard.io/period": PREV,
                              "sloguard.io/revision": "1", "app.kubernetes.io/managed-by": "sloguard"}
    assert "ownerReferences" not in meta  # history outlives the contract
    stored = json.loads(cm["data"]["result.json"])
    assert stored == cli_json(prometheus, tmp_path, PREV)

    # And the figures are the scenario's, computed without sloguard.
    minutes = int((CUR_START - PREV_START).total_seconds()) // 60
    uptime = next(t for t in stored["terms"] if t["name"] == "platform-availability")
    assert stored["period"] == PREV and stored["minutes"] == minutes and stored["complete"] is True
    assert uptime["downtimeMinutes"] == EXPECTED_DOWNTIME
    assert uptime["excludedMinutes"] == EXPECTED_EXCLUDED
    assert uptime["actual"] == pytest.approx((minutes - EXPECTED_DOWNTIME) * 100 / minutes, abs=1e-6)
    assert uptime["compliant"] is False and uptime["creditPercent"] == 10  # 99.80-99.81%: first tier
    success = next(t for t in stored["terms"] if t["name"] == "api-success")
    bad, total = 60 * REQUESTS_PER_MINUTE // 10, minutes * REQUESTS_PER_MINUTE
    assert success["actual"] == pytest.approx((total - bad) * 100 / total, abs=0.0005)
    assert success["compliant"] is True
    assert stored["creditPercent"] == 10 and stored["creditAmount"] == 1000

    entry = status(cluster)["history"][0]
    assert {k: entry[k] for k in ("period", "revision", "configMap", "compliant", "creditPercent",
                                  "creditAmount", "compliance")} == {
        "period": PREV, "revision": 1, "configMap": meta["name"], "compliant": False, "creditPercent": 10,
        "creditAmount": 1000, "compliance": "Breached 1/2"}
    assert entry["finalizedAt"]

    events = get_json(cluster, "events", "-n", NS, "--field-selector", f"involvedObject.name={CONTRACT}")["items"]
    reasons = {e["reason"]: e for e in events}
    assert "PeriodFinalized" in reasons and "SLABreached" in reasons and "ServiceCreditDue" in reasons
    assert reasons["SLABreached"]["type"] == "Warning" and "platform-availability" in reasons["SLABreached"]["message"]
    assert "1,000.00 USD" in reasons["ServiceCreditDue"]["message"]


def test_the_month_to_date_is_in_status_as_the_cli_measures_it(cluster, prometheus, finalized, tmp_path):
    cluster.wait_until(lambda: (status(cluster).get("currentPeriod") or {}).get("period") == CUR,
                       timeout=60, what="currentPeriod")
    current = status(cluster)["currentPeriod"]
    evaluated = datetime.fromisoformat(current["evaluatedAt"].replace("Z", "+00:00"))
    assert current["minutes"] == int((evaluated - CUR_START).total_seconds()) // 60
    assert current["complete"] is False
    cli = cli_json(prometheus, tmp_path, CUR, current["evaluatedAt"])
    assert current["minutes"] == cli["minutes"]
    assert [{k: t.get(k) for k in ("name", "actual", "compliant", "downtimeMinutes", "excludedMinutes",
                                    "creditPercent")} for t in current["terms"]] == [
        {k: t.get(k) for k in ("name", "actual", "compliant", "downtimeMinutes", "excludedMinutes", "creditPercent")}
        for t in cli["terms"]]
    assert current["creditPercent"] == cli["creditPercent"]

    table = cluster.kubectl("get", "sla", "-n", NS, CONTRACT).stdout.splitlines()
    assert table[0].split()[:5] == ["NAME", "CUSTOMER", "PERIOD", "COMPLIANCE", "CREDIT"]
    row = table[1].split()
    assert row[:3] == [CONTRACT, "acme", CUR]
    ready = condition(status(cluster), "Ready")
    assert ready["status"] == "True", ready
    assert condition(status(cluster), "PrometheusReachable")["status"] == "True"


def test_a_window_announced_too_late_is_flagged_with_one_event(cluster, operator, finalized):
    notice = condition(status(cluster), "MaintenanceNotice")
    assert notice["status"] == "False" and notice["reason"] == "LateAnnouncement"
    assert "emergency patch" in notice["message"] and "storage upgrade" not in notice["message"]
    wait_passes(cluster, operator, 2)
    events = get_json(cluster, "events", "-n", NS, "--field-selector", f"involvedObject.name={CONTRACT}")["items"]
    late = [e for e in events if e["reason"] == "LateMaintenanceNotice"]
    assert len(late) == 1 and late[0].get("count", 1) == 1, late
    assert status(cluster)["maintenanceWarned"] == [f"{iso(WINDOWS[1][0])}/{iso(WINDOWS[1][1])}"]


def test_a_restart_keeps_history_and_writes_no_new_revision(cluster, operator, finalized):
    before = {m["metadata"]["name"]: m["metadata"]["resourceVersion"] for m in history_maps(cluster)}
    history = status(cluster)["history"]
    operator.stop()
    operator.start()
    wait_passes(cluster, operator, 2)
    assert {m["metadata"]["name"]: m["metadata"]["resourceVersion"] for m in history_maps(cluster)} == before
    assert status(cluster)["history"] == history


def test_deleting_and_recreating_the_contract_rebuilds_history_from_the_configmaps(cluster, operator, finalized):
    before = {m["metadata"]["name"]: m["metadata"]["resourceVersion"] for m in history_maps(cluster)}
    history = status(cluster)["history"]
    cluster.kubectl("delete", "sla", "-n", NS, CONTRACT, "--wait=true", timeout=120)
    assert not cluster.exists("sla", "-n", NS, CONTRACT)
    assert {m["metadata"]["name"]: m["metadata"]["resourceVersion"] for m in history_maps(cluster)} == before

    apply(cluster, contract())  # e.g. Argo CD re-creating a pruned object: no status at all
    cluster.wait_until(lambda: status(cluster).get("history") == history, timeout=90, what="history rebuilt")
    wait_passes(cluster, operator, 2)
    assert {m["metadata"]["name"]: m["metadata"]["resourceVersion"] for m in history_maps(cluster)} == before
    assert status(cluster)["history"] == history


def test_a_reevaluate_request_adds_revision_two_once_and_leaves_revision_one(cluster, prometheus, operator,
                                                                              finalized, tmp_path):
    r1 = history_maps(cluster)[0]
    cluster.kubectl("annotate", "sla", "-n", NS, CONTRACT, f"sloguard.io/reevaluate={PREV}")
    cluster.wait_until(lambda: (status(cluster).get("lastReevaluation") or {}).get("request") == PREV,
                       timeout=90, what="the re-evaluation handled")
    st = status(cluster)
    assert st["lastReevaluation"]["revision"] == 2
    assert st["lastReevaluation"]["configMap"] == f"sla-{CONTRACT}-{PREV}-r2"
    assert [(h["period"], h["revision"]) for h in st["history"]] == [(PREV, 2), (PREV, 1)]
    assert st["history"][0]["reevaluationRequest"] == PREV

    wait_passes(cluster, operator, 3)  # the request stays on the object; it is not handled again
    maps = history_maps(cluster)
    assert [m["metadata"]["name"] for m in maps] == [r1["metadata"]["name"], f"sla-{CONTRACT}-{PREV}-r2"]
    assert maps[0]["metadata"]["resourceVersion"] == r1["metadata"]["resourceVersion"]
    assert maps[0]["data"] == r1["data"]
    r2 = maps[1]
    assert r2["immutable"] is True and r2["metadata"]["labels"]["sloguard.io/revision"] == "2"
    assert r2["metadata"]["annotations"]["sloguard.io/reevaluation-request"] == PREV
    assert json.loads(r2["data"]["result.json"]) == cli_json(prometheus, tmp_path, PREV)

    # A re-created object still carrying the annotation (it lives in git) does not ask again.
    cluster.kubectl("delete", "sla", "-n", NS, CONTRACT, "--wait=true", timeout=120)
    apply(cluster, contract(annotations={"sloguard.io/reevaluate": PREV}))
    cluster.wait_until(lambda: len(status(cluster).get("history") or []) == 2, timeout=90, what="history rebuilt")
    wait_passes(cluster, operator, 2)
    assert len(history_maps(cluster)) == 2


def test_a_month_is_not_finalized_while_prometheus_is_unreachable(cluster, prometheus, operator, finalized):
    name = "acme-offline"
    prometheus.stop()
    try:
        apply(cluster, contract(name))
        cluster.wait_until(lambda: condition(status(cluster, name), "PrometheusReachable").get("status") == "False",
                           timeout=90, what="PrometheusReachable=False")
        st = status(cluster, name)
        ready = condition(st, "Ready")
        assert ready["status"] == "False" and ready["reason"] == "PrometheusUnreachable"
        assert f"cannot finalize {PREV} yet" in ready["message"]
        wait_passes(cluster, operator, 2, name)
        assert history_maps(cluster, name) == []
        assert not status(cluster, name).get("history")
    finally:
        prometheus.start()
    cluster.wait_until(lambda: len(status(cluster, name).get("history") or []) == 1, timeout=120,
                       what="finalized once Prometheus is back")
    stored = json.loads(history_maps(cluster, name)[0]["data"]["result.json"])
    assert stored == json.loads(history_maps(cluster)[0]["data"]["result.json"])  # same spec, same figures
    assert condition(status(cluster, name), "PrometheusReachable")["status"] == "True"

"""The shared SLO dashboards' queries, run on a real server holding the series they read.

The chart ships two dashboards for every SLO (overview and detail, ``$namespace`` / ``$slo``).
Their queries read sloguard's recording rules and the operator's own gauges. This module writes
those series by hand for two SLOs (the values below are the whole truth), substitutes the
variables as Grafana does, and checks every panel's figures: a query that joins the wrong labels,
picks up timeslices' ``rate5m:events`` as a window, or reads another SLO fails here.

Runs on the server the suite runs on (``SLOGUARD_PROMETHEUS``: Prometheus 3, 2.42 or VictoriaMetrics).
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from tests.integration.promfixture import OpenMetricsWriter, server_from_lines

from sloguard.adapters.dashboards import shared_detail_dashboard, shared_overview_dashboard

pytestmark = pytest.mark.integration

END = (int(time.time()) // 3600 - 3) * 3600  # history ends three hours ago (blocks lie in the past)
START = END - 2 * 3600

#: (namespace, slo) -> error ratio per recorded window, error budget, budget left, state.
SLOS: dict[tuple[str, str], dict[str, Any]] = {
    ("shop", "checkout"): {"ratios": {"5m": 0.004, "1h": 0.002, "6h": 0.001}, "budget": 0.001,
                           "remaining": 0.42, "state": "warning", "firing": True},
    ("web", "search"): {"ratios": {"5m": 0.0, "1h": 0.0005, "6h": 0.0002}, "budget": 0.01,
                        "remaining": 0.9, "state": "healthy", "firing": False},
}
STATES = ("healthy", "warning", "critical", "exhausted")


def history() -> Iterator[str]:
    w = OpenMetricsWriter()
    rule_labels = ("slo", "slo_namespace", "service")
    for (ns, slo), s in SLOS.items():
        rl = (slo, ns, slo)
        for t in range(START, END + 1, 60):
            for window, ratio in s["ratios"].items():
                w.family(f"sloguard:sli_error_ratio:rate{window}", "gauge", rule_labels).add(rl, t, ratio)
            # timeslices record their event ratio beside the windows: never a window of its own
            w.family("sloguard:sli_error_ratio:rate5m:events", "gauge", rule_labels).add(rl, t, 0.5)
            w.family("sloguard:error_budget:ratio", "gauge", rule_labels).add(rl, t, s["budget"])
            w.family("sloguard:objective:ratio", "gauge", (*rule_labels, "window")).add(
                (*rl, "30d"), t, 1 - s["budget"])
            w.family("sloguard_slo_error_budget_remaining_ratio", "gauge", ("namespace", "slo", "service")).add(
                (ns, slo, slo), t, s["remaining"])
            for state in STATES:
                w.family("sloguard_slo_state", "gauge", ("namespace", "slo", "state")).add(
                    (ns, slo, state), t, 1.0 if state == s["state"] else 0.0)
            if s["firing"]:
                w.family("ALERTS", "gauge", ("alertname", "alertstate", "severity", "slo", "slo_namespace")).add(
                    ("ErrorBudgetBurn", "firing", "page", slo, ns), t, 1)
    yield from w.lines()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with server_from_lines(history(), tmp_path_factory.mktemp("dashboards")) as srv:
        yield srv.url


def query(url: str, expr: str) -> list[dict[str, Any]]:
    params = urllib.parse.urlencode({"query": expr, "time": END})
    with urllib.request.urlopen(f"{url}/api/v1/query?{params}", timeout=30) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def substituted(expr: str, **variables: str) -> str:
    """What Grafana sends: ``$name`` replaced by the variable's value (a regex for multi-value)."""
    for name, value in sorted(variables.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(f"${name}", value)
    assert "$" not in expr.replace("$1", ""), expr
    return expr


def panel(dashboard: dict[str, Any], title: str) -> list[str]:
    [p] = [p for p in dashboard["panels"] if p["title"] == title]
    return [t["expr"] for t in p["targets"]]


def by(results: list[dict[str, Any]], *labels: str) -> dict[tuple[str, ...], float]:
    return {tuple(r["metric"].get(label, "") for label in labels): float(r["value"][1]) for r in results}


def detail(url: str, title: str, ns: str = "shop", slo: str = "checkout") -> list[list[dict[str, Any]]]:
    return [query(url, substituted(e, namespace=ns, slo=slo)) for e in panel(shared_detail_dashboard(), title)]


def overview(url: str, title: str, ns: str = ".+") -> list[list[dict[str, Any]]]:
    return [query(url, substituted(e, namespace=ns)) for e in panel(shared_overview_dashboard(), title)]


def test_the_detail_dashboard_shows_one_slos_burn_rate_per_recorded_window(server: str) -> None:
    for (ns, slo), s in SLOS.items():
        [result] = detail(server, "Burn rate per recorded window", ns, slo)
        expected = {(w,): ratio / s["budget"] for w, ratio in s["ratios"].items()}
        assert by(result, "window") == pytest.approx(expected), result
        assert {(r["metric"]["slo"], r["metric"]["slo_namespace"]) for r in result} == {(slo, ns)}


def test_the_detail_stats_read_the_objective_the_operators_budget_and_state(server: str) -> None:
    [objective] = detail(server, "Objective")
    assert by(objective, "slo") == pytest.approx({("checkout",): 0.999})
    [remaining] = detail(server, "Error budget remaining")
    assert by(remaining, "slo") == pytest.approx({("checkout",): 0.42})
    [burn] = detail(server, "Burn rate (1h)")
    assert by(burn, "slo") == pytest.approx({("checkout",): 2.0})
    [state] = detail(server, "State")
    assert [r["metric"]["state"] for r in state] == ["warning"]
    sli = detail(server, "SLI vs objective")
    assert [by(r, "slo") for r in sli] == [pytest.approx({("checkout",): 0.996}), pytest.approx({("checkout",): 0.998}),
                                           pytest.approx({("checkout",): 0.999})]
    [alerts] = detail(server, "Firing alerts")
    assert by(alerts, "severity") == {("page",): 1.0}
    [alerts] = detail(server, "Firing alerts", "web", "search")
    assert alerts == []


def test_the_overview_lists_every_slo_of_the_chosen_namespaces(server: str) -> None:
    [bars] = overview(server, "Error budget remaining")
    assert by(bars, "namespace", "slo") == pytest.approx({("shop", "checkout"): 0.42, ("web", "search"): 0.9})
    [bars] = overview(server, "Error budget remaining", ns="web")
    assert by(bars, "namespace", "slo") == pytest.approx({("web", "search"): 0.9})
    [burn] = overview(server, "Burn rate (1h)")
    assert by(burn, "slo_namespace", "slo") == pytest.approx({("shop", "checkout"): 2.0, ("web", "search"): 0.05})
    [count] = overview(server, "SLOs")
    assert float(count[0]["value"][1]) == 2
    [count] = overview(server, "SLOs", ns="(shop)")
    assert float(count[0]["value"][1]) == 1
    [exhausted] = overview(server, "SLOs exhausted")
    assert float(exhausted[0]["value"][1]) == 0
    [firing] = overview(server, "Budget alerts firing")
    assert float(firing[0]["value"][1]) == 1
    [firing] = overview(server, "Budget alerts firing", ns="web")
    assert float(firing[0]["value"][1]) == 0

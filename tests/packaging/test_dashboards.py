"""Grafana dashboards: valid dashboard models (Grafana's own SDK reads them), queries that parse and
read only sloguard's recording rules, and ConfigMaps for the Grafana sidecar."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import promql_parser
import pytest
import yaml
from grafana_foundation_sdk.models.dashboard import Dashboard

from sloguard.adapters.dashboards import all_dashboards, configmap, dashboard_uid, slo_dashboard
from sloguard.api.loader import load
from sloguard.core import conventions as c
from sloguard.core.rules import make_rule_groups

from .conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"


@pytest.fixture(scope="module")
def objectives():
    result = load([str(EXAMPLES)])
    assert not [d for d in result.diagnostics if d.severity == "error"], result.diagnostics
    assert len(result.objectives) >= 3  # ratio, latency and timeslice SLOs among the examples
    return result.objectives


@pytest.fixture(scope="module")
def dashboards(objectives):
    return all_dashboards(objectives)


def targets(dashboard):
    return [t for p in dashboard["panels"] for t in p["targets"]]


def test_grafanas_model_reads_every_dashboard_without_losing_anything(dashboards):
    for _, d in dashboards:
        model = Dashboard.from_json(json.loads(json.dumps(d)))
        back = model.to_json()
        assert back["uid"] == d["uid"] and back["title"] == d["title"]
        assert back["schemaVersion"] == d["schemaVersion"]
        got = back["panels"]
        assert [p.to_json()["type"] if hasattr(p, "to_json") else p["type"] for p in got] == \
            [p["type"] for p in d["panels"]]


def test_panels_have_unique_ids_refids_and_fit_the_grid(dashboards):
    for _, d in dashboards:
        ids = [p["id"] for p in d["panels"]]
        assert len(ids) == len(set(ids))
        for p in d["panels"]:
            refs = [t["refId"] for t in p["targets"]]
            assert len(refs) == len(set(refs)) and refs
            g = p["gridPos"]
            assert g["x"] >= 0 and g["x"] + g["w"] <= 24 and g["h"] > 0


def test_every_query_parses_as_promql(dashboards):
    exprs = [t["expr"] for _, d in dashboards for t in targets(d)]
    assert len(exprs) > 20
    for expr in exprs:
        promql_parser.parse(grafana_substituted(expr))


def test_queries_read_the_recording_rules_not_raw_metrics(dashboards, objectives):
    recorded = {r["record"] for o in objectives for g in make_rule_groups(o) for r in g.to_dict()["rules"]
                if "record" in r}
    for _, d in dashboards:
        for t in targets(d):
            names = set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", t["expr"]))
            assert names, t["expr"]
            assert names <= recorded | {"ALERTS"}, (names - recorded, t["expr"])


def test_an_slo_dashboard_shows_its_burn_rate_per_alert_window(objectives):
    obj = next(o for o in objectives if not o.alerting.disabled)
    d = slo_dashboard(obj)
    burn = next(p for p in d["panels"] if p["title"] == "Burn rate per alert window")
    legends = {t["legendFormat"] for t in burn["targets"]}
    windows = {w for tier in obj.alerting.tiers for w in (tier.long_window, tier.short_window)}
    assert len(legends) == len({w.replace("60m", "1h") for w in windows})
    assert all(f'{c.LABEL_SLO}="{obj.name}"' in t["expr"] for t in burn["targets"])
    alerts = next(p for p in d["panels"] if p["title"] == "Firing alerts")
    assert f'alertname="{obj.alerting.name}"' in alerts["targets"][0]["expr"]


def test_uids_are_stable_unique_and_short(dashboards):
    uids = [d["uid"] for _, d in dashboards]
    assert len(set(uids)) == len(uids) and all(len(u) <= 40 for u in uids)
    assert dashboard_uid("a-very-long-namespace-name", "and-a-long-slo-name") == \
        dashboard_uid("a-very-long-namespace-name", "and-a-long-slo-name")
    assert dashboard_uid("a", "b-c") != dashboard_uid("a-b", "c")


def test_configmaps_carry_the_sidecar_label_and_the_json(dashboards):
    stem, d = dashboards[1]
    cm = configmap(d, "x", "monitoring", folder="SLOs")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["annotations"] == {"grafana_folder": "SLOs"}
    assert json.loads(cm["data"][f"{d['uid']}.json"]) == d


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys, argparse; from sloguard.cli import dashboards_cmd as m\n" \
           "p = argparse.ArgumentParser(); m.add_parser(p.add_subparsers()); a = p.parse_args(sys.argv[1:])\n" \
           "sys.exit(a.func(a))"
    return subprocess.run([sys.executable, "-c", code, "dashboards", *args], capture_output=True, text=True,
                          check=False)


def test_the_command_writes_configmaps_for_the_sidecar(tmp_path):
    proc = _cli(str(EXAMPLES), "--configmap", "--namespace", "monitoring", "--out-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    docs = [yaml.safe_load(p.read_text()) for p in sorted(tmp_path.glob("*.yaml"))]
    assert {d["kind"] for d in docs} == {"ConfigMap"} and len(docs) >= 4
    assert any(d["metadata"]["name"] == "sloguard-dashboard-overview" for d in docs)


def test_the_command_prints_json_models_and_fails_on_no_slos(tmp_path):
    proc = _cli(str(EXAMPLES / "checkout-availability.yaml"))
    assert proc.returncode == 0, proc.stderr
    assert [d["uid"] for d in json.loads(proc.stdout)][0] == "sloguard-overview"
    (tmp_path / "empty.yaml").write_text("")
    assert _cli(str(tmp_path / "empty.yaml")).returncode == 1


# --- the operator's own dashboard ------------------------------------------------------------------

def test_the_operator_dashboard_is_a_valid_grafana_model_reading_only_the_operators_metrics():
    from sloguard.adapters.dashboards import operator_dashboard

    d = operator_dashboard()
    back = Dashboard.from_json(json.loads(json.dumps(d))).to_json()
    assert back["uid"] == "sloguard-operator" and len(back["panels"]) == len(d["panels"])
    ours = {v for k, v in vars(c).items() if k.startswith("METRIC_")}
    ours |= {f"{n}{suffix}" for n in ours for suffix in ("_total", "_bucket", "_count", "_sum")}
    used = set()
    for t in targets(d):
        promql_parser.parse(t["expr"])
        names = set(re.findall(r"\b(sloguard_[a-z_]+)", t["expr"]))
        assert names, t["expr"]
        used |= names
    assert used <= ours, used - ours
    # every state gauge and counter the operator exports has a panel
    assert {c.METRIC_REFRESH_LAST_SUCCESS, c.METRIC_SLO_STATE, c.METRIC_POLICY_HELD, c.METRIC_BUDGET_REMAINING,
            c.METRIC_SLA_CREDIT, f"{c.METRIC_RECONCILE}_total", f"{c.METRIC_PROMETHEUS_REQUESTS}_total",
            f"{c.METRIC_ADMISSION_REVIEWS}_total"} <= used


def test_the_chart_ships_the_generated_operator_dashboard():
    from sloguard.adapters.dashboards import operator_dashboard

    shipped = REPO_ROOT / "charts" / "sloguard" / "files" / "dashboards" / "sloguard-operator.json"
    assert json.loads(shipped.read_text()) == operator_dashboard()


# --- the shared SLO dashboards ($namespace / $slo) -------------------------------------------------

GRAFANA_VARIABLES = {"$__range": "30d", "$namespace": "shop", "$slo": "checkout"}


def grafana_substituted(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


@pytest.fixture(scope="module")
def shared():
    from sloguard.adapters.dashboards import shared_detail_dashboard, shared_overview_dashboard

    return {"overview": shared_overview_dashboard(), "detail": shared_detail_dashboard()}


def test_the_shared_dashboards_are_valid_grafana_models_with_their_variables(shared):
    for d in shared.values():
        back = Dashboard.from_json(json.loads(json.dumps(d))).to_json()
        assert back["uid"] == d["uid"] and len(back["panels"]) == len(d["panels"])
    variables = {k: [v["name"] for v in d["templating"]["list"]] for k, d in shared.items()}
    assert variables == {"overview": ["datasource", "namespace"], "detail": ["datasource", "namespace", "slo"]}
    slo_var = shared["detail"]["templating"]["list"][2]
    assert '$namespace' in slo_var["query"]["query"] and slo_var["multi"] is False


def test_every_shared_query_parses_and_is_scoped_by_the_variables(shared):
    for name, d in shared.items():
        for t in targets(d):
            promql_parser.parse(grafana_substituted(t["expr"]))
            assert "$namespace" in t["expr"], t["expr"]
            if name == "detail":
                assert "$slo" in t["expr"], t["expr"]


def test_shared_dashboards_read_only_recordings_and_the_operators_gauges(shared):
    recorded = {c.RECORD_OBJECTIVE, c.RECORD_ERROR_BUDGET, *(f"{c.RECORD_ERROR_RATIO_PREFIX}{w}" for w in ("5m", "1h"))}
    gauges = {c.METRIC_BUDGET_REMAINING, c.METRIC_SLO_STATE}
    for d in shared.values():
        for t in targets(d):
            names = set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", t["expr"])) - {"ALERTS", "label_replace"}
            names |= set(re.findall(r'__name__=~"([^"]+)"', t["expr"]))
            assert names or "ALERTS{" in t["expr"], t["expr"]
            assert all(n in recorded | gauges or n.startswith(c.RECORD_ERROR_RATIO_PREFIX) for n in names), (
                names, t["expr"])


def test_the_overview_links_each_slo_to_the_detail_dashboard(shared):
    bars = next(p for p in shared["overview"]["panels"] if p["title"] == "Error budget remaining")
    [link] = bars["fieldConfig"]["defaults"]["links"]
    assert link["url"].startswith(f"/d/{shared['detail']['uid']}?") and "var-slo=" in link["url"]


def test_the_chart_ships_the_generated_shared_dashboards(shared):
    files = REPO_ROOT / "charts" / "sloguard" / "files" / "dashboards"
    assert json.loads((files / "sloguard-slo-overview.json").read_text()) == shared["overview"]
    assert json.loads((files / "sloguard-slo-detail.json").read_text()) == shared["detail"]


# --- calendar windows drawn as calendar periods ----------------------------------------------------

@pytest.mark.parametrize(("window", "opens_on"), [("month", "now/M"), ("week", "now/w"), ("quarter", "now/fQ")])
def test_a_calendar_slo_dashboard_opens_on_its_calendar_period_and_computes_over_it(window, opens_on):
    [obj] = load_text(f"""
apiVersion: sloguard.io/v1alpha1
kind: ServiceLevelObjective
metadata: {{name: billing, namespace: pay}}
spec:
  service: billing
  objective: 99.9
  window: {window}
  timezone: Europe/Paris
  sli: {{ratio: {{errors: 'http_requests_total{{code=~"5.."}}', total: http_requests_total}}}}
""")
    d = slo_dashboard(obj)
    assert d["time"] == {"from": opens_on, "to": "now"}
    assert d["timezone"] == "Europe/Paris" and d["weekStart"] == "monday" and d["fiscalYearStartMonth"] == 0
    over_window = [t["expr"] for t in targets(d) if "[$__range]" in t["expr"]]
    assert over_window, "the SLI and budget over the window use the dashboard's range"
    for expr in over_window:
        promql_parser.parse(grafana_substituted(expr))


def test_a_rolling_slo_dashboard_shows_its_window(objectives):
    obj = next(o for o in objectives if not o.window.is_calendar and o.window.seconds == 30 * 86400)
    d = slo_dashboard(obj)
    assert d["time"]["from"] == "now-30d" and d["timezone"] == "browser"
    assert not any("$__range" in t["expr"] for t in targets(d))


def load_text(text):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "slo.yaml"
        path.write_text(text)
        result = load([str(path)])
    assert not [d for d in result.diagnostics if d.severity == "error"], result.diagnostics
    return result.objectives


def test_the_command_writes_the_shared_dashboards_as_the_chart_ships_them(tmp_path):
    proc = _cli("--shared", "--configmap", "--namespace", "monitoring", "--out-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    docs = {p.name: yaml.safe_load(p.read_text()) for p in sorted(tmp_path.glob("*.yaml"))}
    assert set(docs) == {"slo-overview.yaml", "slo-detail.yaml"}
    shipped = REPO_ROOT / "charts" / "sloguard" / "files" / "dashboards"
    for name, doc in docs.items():
        [(key, text)] = doc["data"].items()
        assert json.loads(text) == json.loads((shipped / f"sloguard-{name[:-5]}.json").read_text()), key
    # the shared dashboards take no SLO files, and per-SLO ones need some: usage errors (exit 2)
    for args in (("--shared", str(EXAMPLES)), ()):
        proc = subprocess.run([sys.executable, "-m", "sloguard", "dashboards", *args], capture_output=True,
                              text=True, check=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr

"""The chart's values: extras and log level, values.schema.json, the generated values table, the
cert-manager CA injection, and a ``helm uninstall`` that leaves nothing of the release behind."""

from __future__ import annotations

import ast
import contextlib
import copy
import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..e2e.conftest import REPO_ROOT
from ..support.cluster import get_json
from .chartkit import Operator, by_kind, container, one, render, render_error
from .chartkit import sa_kubeconfig as make_sa_kubeconfig
from .conftest import CHART

HERE = Path(__file__).parent


def test_extra_args_env_volumes_and_log_level_reach_the_operator_container(helm):
    env = [{"name": "HTTPS_PROXY", "value": "http://proxy.corp:3128"},
           {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "t", "key": "k"}}}]
    volumes = [{"name": "corp-ca", "configMap": {"name": "corp-ca"}}]
    mounts = [{"name": "corp-ca", "mountPath": "/etc/corp-ca", "readOnly": True}]
    docs = render(helm, {"logLevel": "debug", "extraArgs": ["--priority=100", "--refresh-interval=5"],
                         "extraEnv": env, "extraVolumes": volumes, "extraVolumeMounts": mounts})
    c = container(docs)
    assert "--log-level=debug" in c["args"]
    assert c["args"][-2:] == ["--priority=100", "--refresh-interval=5"]  # after the chart's: they win
    assert c["env"][-2:] == env
    assert c["volumeMounts"][-1] == mounts[0]
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["volumes"][-1] == volumes[0]
    from sloguard.cli import build_parser

    parsed = build_parser().parse_args(["run", *c["args"]])  # the image's ENTRYPOINT is `sloguard run`
    assert parsed.log_level == "debug" and parsed.refresh_interval == 5 and parsed.priority == 100
    assert "--log-level=info" in container(render(helm))["args"]


def test_a_bad_log_level_from_the_environment_is_refused_by_name(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sloguard.cli", "run", "--promtool", "/usr/bin/promtool"],
                          env={"PATH": "/usr/bin:/bin", "SLOGUARD_LOG_LEVEL": "loud", "HOME": str(tmp_path),
                               "PYTHONPATH": str(REPO_ROOT / "operator")},
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode != 0
    assert "SLOGUARD_LOG_LEVEL" in proc.stderr and "'loud'" in proc.stderr and "Traceback" not in proc.stderr


# --- values.schema.json ------------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "where"), [
    ({"replicas": "bogus"}, "/replicas"),
    ({"replikas": 2}, "replikas"),
    ({"webhook": {"certs": {"mdoe": "helm"}}}, "mdoe"),
    ({"logLevel": "loud"}, "/logLevel"),
    ({"extraArgs": "--priority=1"}, "/extraArgs"),
    ({"extraEnv": [{"value": "no name"}]}, "/extraEnv/0"),
    ({"webhook": {"port": 70000}}, "/webhook/port"),
])
def test_the_schema_refuses_wrong_types_and_unknown_keys(helm, values, where):
    err = render_error(helm, values)
    assert "don't meet the specifications of the schema" in err and where in err, err


def _paths(value: object, prefix: str = "") -> set[str]:
    if isinstance(value, dict) and value:
        return set().union(*(_paths(v, f"{prefix}.{k}" if prefix else k) for k, v in value.items()))
    return {prefix}


def _schema_has(schema: dict, path: str) -> bool:
    node = schema
    for part in path.split("."):
        props = node.get("properties")
        if props is None:  # a free-form map (labels, resources...): declared as an object
            return node.get("type") == "object"
        if part not in props:
            return False
        node = props[part]
    return "type" in node


def test_every_value_in_values_yaml_is_in_the_schema():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    missing = sorted(p for p in _paths(values) if not _schema_has(schema, p))
    assert not missing, f"values.yaml keys the schema lacks (run: make crds): {missing}"


def test_a_key_added_to_values_yaml_without_the_schema_breaks_the_chart(helm, tmp_path):
    chart = tmp_path / "sloguard"
    shutil.copytree(CHART, chart)
    (chart / "values.yaml").write_text((CHART / "values.yaml").read_text() + "\nbrandNew: 1\n")
    proc = subprocess.run([helm, "template", "x", str(chart), "--kube-version", "1.34.0"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode != 0 and "brandNew" in proc.stderr
    sys.path.insert(0, str(REPO_ROOT / "hack"))
    import gen_chart_values

    schema = gen_chart_values.schema_for(yaml.safe_load((chart / "values.yaml").read_text()), {})
    assert schema["properties"]["brandNew"] == {"type": "integer"}  # `make crds` puts it in


def shipped_value_sets() -> list[tuple[str, dict]]:
    """Every literal values dict the packaging tests render or install, and hack/sync_chart.py's."""
    import sync_chart

    sets = [("sync_chart:base", sync_chart.BASE_VALUES)]
    sets += [(f"sync_chart:{name}", sync_chart.merge(sync_chart.BASE_VALUES, v))
             for name, (v, _) in sync_chart.OVERLAYS.items()]
    for path in sorted(HERE.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("render", "install")):
                continue
            for arg in node.args[1:3]:
                if isinstance(arg, ast.Dict):
                    # not a literal (a fixture's URL...): rendered by its own test
                    with contextlib.suppress(ValueError):
                        sets.append((f"{path.name}:{node.lineno}", ast.literal_eval(arg)))
    return sets


def test_the_value_sets_are_found():
    names = [n for n, _ in shipped_value_sets()]
    assert len(names) >= 15 and any(n.startswith("test_chart.py") for n in names), names


@pytest.mark.parametrize(("name", "values"), shipped_value_sets(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_shipped_value_set_passes_the_schema(helm, name, values):
    proc = subprocess.run([helm, "lint", str(CHART), "--strict", "--kube-version", "1.34.0", "--values", "-"],
                          input=json.dumps(values), capture_output=True, text=True, check=False)
    assert "schema" not in proc.stdout + proc.stderr, f"{name}: {proc.stdout}{proc.stderr}"


# --- the values table ---------------------------------------------------------------------------------

def test_the_values_table_and_schema_are_generated_from_values_yaml():
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "hack" / "gen_chart_values.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    readme = (CHART / "README.md").read_text()
    assert "| `logLevel` | `debug` \\| `info` \\| `warning` \\| `error` | `\"info\"` | Least severe" in readme
    assert "| `webhook.port` | integer | `9443` |" in readme
    assert "X-Scope-OrgID" not in readme  # commented examples are not descriptions


# --- the webhook configurations the release owns -------------------------------------------------

def test_the_release_owns_its_webhook_configurations_and_cert_manager_injects_their_ca(helm):
    [vwc] = by_kind(render(helm), "ValidatingWebhookConfiguration")
    assert vwc["metadata"]["name"] == "sloguard" and "annotations" not in vwc["metadata"]
    assert "webhooks" not in vwc  # the operator fills them in (its Service, its CA)
    docs = render(helm, {"webhook": {"certs": {"mode": "cert-manager"}}, "enforcement": {"mechanism": "webhook"}})
    vwcs = {d["metadata"]["name"]: d for d in by_kind(docs, "ValidatingWebhookConfiguration")}
    assert set(vwcs) == {"sloguard", "sloguard-holds"}
    cert = one(docs, "Certificate", "sloguard-webhook")
    for v in vwcs.values():
        assert v["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == (
            f"{cert['metadata']['namespace']}/{cert['metadata']['name']}")
    rules = [r for r in one(docs, "ClusterRole", "sloguard-cluster")["rules"]
             if "validatingwebhookconfigurations" in r["resources"]]
    assert rules == [{"apiGroups": ["admissionregistration.k8s.io"], "resources": ["validatingwebhookconfigurations"],
                      "resourceNames": ["sloguard", "sloguard-holds"], "verbs": ["get", "patch"]}]
    assert not by_kind(render(helm, {"webhook": {"enabled": False}}), "ValidatingWebhookConfiguration")


# --- helm uninstall on the local control plane ---------------------------------------------------

RELEASE = "sloguard-gone"
RELEASE_NS = "sloguard-gone"
TEAM = "shop-gone"


def _in_team(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    if doc["kind"] == "Namespace":
        doc["metadata"]["name"] = TEAM
    elif "namespace" in doc["metadata"]:
        doc["metadata"]["namespace"] = TEAM
    return doc


def test_helm_uninstall_leaves_no_admission_object_or_cluster_rbac_of_the_release(
        fresh_cluster, helm, tmp_path_factory):
    from tests.integration.promfixture import PrometheusServer

    from .test_chart_jobs import AT, POLICY, POLICY_DOC, SLO, TEAM_DOCS, budget_history, slo_doc

    tmp = tmp_path_factory.mktemp("gone")
    cluster = fresh_cluster

    get = functools.partial(get_json, cluster)

    def of_release(resource: str) -> list[str]:
        items = get(resource)["items"]
        return sorted(i["metadata"]["name"] for i in items
                      if (i["metadata"].get("labels") or {}).get("app.kubernetes.io/instance") == RELEASE
                      or i["metadata"]["name"].startswith(RELEASE))

    server = PrometheusServer.from_lines(budget_history(), tmp / "prom")
    with server:
        values = {"prometheus": {"url": server.url}, "refreshInterval": 2, "logLevel": "debug",
                  "webhook": {"configurationName": RELEASE}, "enforcement": {"mechanism": "webhook"}}
        helm_env = ["--kubeconfig", str(cluster.kubeconfig), "--namespace", RELEASE_NS]
        subprocess.run([helm, "install", RELEASE, str(CHART), *helm_env, "--create-namespace", "--values", "-"],
                       input=json.dumps(values), capture_output=True, text=True, check=True, timeout=300)
        # One cluster-wide sloguard per cluster: other releases' hold-params guards would refuse ours.
        for b in get("validatingadmissionpolicybindings")["items"]:
            if b["metadata"]["name"].endswith("-holds-guard") and not b["metadata"]["name"].startswith(RELEASE):
                cluster.kubectl("delete", "validatingadmissionpolicybinding", b["metadata"]["name"])
        cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([_in_team(d) for d in TEAM_DOCS]))
        docs = render(helm, values, release=RELEASE, namespace=RELEASE_NS)
        kubeconfig = make_sa_kubeconfig(cluster, tmp / "kubeconfig", namespace=RELEASE_NS, sa=RELEASE)
        op = Operator(docs, kubeconfig, tmp, namespace=RELEASE_NS, env={"SLOGUARD_EVALUATE_AT": AT.isoformat()})
        try:
            cluster.wait_until(lambda: bool(get("validatingwebhookconfiguration", RELEASE).get("webhooks"))
                               or op.proc.poll() is not None, timeout=120, what="the operator's webhooks")
            assert op.proc.poll() is None, op.output()
            cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([_in_team(slo_doc()), _in_team(POLICY_DOC)]))
            cluster.wait_until(lambda: bool(get("validatingwebhookconfiguration", f"{RELEASE}-holds").get("webhooks")),
                               timeout=120, what="a hold enforced by the webhook mechanism")
            # the hold is enforced first, then the policy's status is written (one handler pass)
            cluster.wait_until(lambda: (get("errorbudgetpolicy", "-n", TEAM, POLICY).get("status") or {}).get(
                "action") in ("freeze", "emergency"), timeout=60, what="the policy's status to say it holds")
            held = get("errorbudgetpolicy", "-n", TEAM, POLICY)["status"]
            assert held["action"] in ("freeze", "emergency"), held
            assert '"severity": "debug"' in op.output()  # logLevel reached the operator
            # Lifted, the chart's "-holds" configuration is emptied (the operator may not delete it) ...
            cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(_in_team(slo_doc(objective=90))))
            cluster.wait_until(lambda: not get("validatingwebhookconfiguration", f"{RELEASE}-holds").get("webhooks"),
                               timeout=120, what="the lifted hold's webhooks gone")
            # ... and filled again by the next hold, which the uninstall below meets.
            cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(_in_team(slo_doc())))
            cluster.wait_until(lambda: bool(get("validatingwebhookconfiguration", f"{RELEASE}-holds").get("webhooks")),
                               timeout=120, what="the hold back")
            assert not op.forbidden_lines(), op.forbidden_lines()
            subprocess.run([helm, "uninstall", RELEASE, *helm_env, "--wait", "--timeout", "120s"],
                           capture_output=True, text=True, check=True, timeout=300)
        finally:
            op.stop()
            print(op.output()[-3000:], file=sys.stderr)

    assert not cluster.exists("validatingwebhookconfiguration", RELEASE)
    assert not cluster.exists("validatingwebhookconfiguration", f"{RELEASE}-holds")
    for resource in ("validatingwebhookconfigurations", "validatingadmissionpolicies",
                     "validatingadmissionpolicybindings", "clusterroles", "clusterrolebindings"):
        assert of_release(resource) == [], resource
    # What stays, as docs/install.md says: the CRDs and the team's own objects (and their data).
    assert cluster.exists("crd", "servicelevelobjectives.sloguard.io")
    assert cluster.exists("slo", "-n", TEAM, SLO) and cluster.exists("errorbudgetpolicy", "-n", TEAM, POLICY)

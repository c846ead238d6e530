"""The Helm chart: lint, render variants, and install it on the real local control plane.

The operator then runs with the chart's own arguments and environment, authenticated as the
chart's ServiceAccount (a token from the TokenRequest API), and must do every one of its jobs;
what it must not do is refused by the API server.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ..e2e.conftest import TestCluster
from ..support import factories
from ..support.cluster import get_json
from .chartkit import NS, SA, Operator, by_kind, container, dump, install, one, render, render_error
from .chartkit import sa_kubeconfig as make_sa_kubeconfig
from .conftest import CHART, CRDS_CHART, REPO_ROOT

SA_USER = f"system:serviceaccount:{NS}:{SA}"
TEAM = "team-a"
#: The installed release: two replicas, so peering (the larger set of permissions) is exercised.
INSTALL_VALUES = {"replicas": 2, "ruleLabels": {"prometheus": "main"},
                  "metrics": {"alerts": {"enabled": True}, "dashboard": {"enabled": True}}}


# --- lint and render ----------------------------------------------------------------------------

@pytest.mark.parametrize("chart", [CHART, CRDS_CHART], ids=["sloguard", "sloguard-crds"])
def test_helm_lint_is_clean_in_strict_mode(helm, chart):
    proc = subprocess.run([helm, "lint", "--strict", "--kube-version", "1.34.0", str(chart)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 chart(s) failed" in proc.stdout


def test_the_chart_crds_are_the_generated_ones_and_nothing_drifted():
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "hack" / "sync_chart.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    from sloguard.api.crdgen import all_crds

    shipped = {p.name for p in (CHART / "crds").iterdir()}
    assert {f"{d['metadata']['name']}.yaml" for d in all_crds()} <= shipped


def test_the_crds_chart_ships_the_same_crds_as_the_operator_chart(helm):
    from sloguard.api.crdgen import all_crds

    docs = render(helm, chart=str(CRDS_CHART))
    names = {d["metadata"]["name"] for d in docs}
    assert names == {d["metadata"]["name"] for d in all_crds()} | {"clusterkopfpeerings.kopf.dev",
                                                                  "kopfpeerings.kopf.dev"}
    assert all(d["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep" for d in docs)
    slo = next(d for d in docs if d["metadata"]["name"].startswith("servicelevelobjectives"))
    assert slo["spec"] == next(d for d in all_crds() if d["metadata"]["name"] == slo["metadata"]["name"])["spec"]


def test_one_replica_runs_standalone_with_recreate(helm):
    docs = render(helm)
    args = container(docs)["args"]
    assert "--standalone" in args and not any(a.startswith("--peering") for a in args)
    assert one(docs, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}
    assert not by_kind(docs, "PodDisruptionBudget") and not by_kind(docs, "ClusterKopfPeering")


def test_two_replicas_use_kopf_peering_a_pdb_and_a_surge_rollout(helm):
    docs = render(helm, {"replicas": 2})
    assert "--peering=sloguard" in container(docs)["args"]
    assert one(docs, "ClusterKopfPeering")["metadata"]["name"] == "sloguard"
    assert one(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert one(docs, "Deployment")["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}


def test_watched_namespaces_get_rolebindings_instead_of_cluster_wide_access(helm):
    docs = render(helm, {"watchNamespaces": ["shop", "pay"], "replicas": 2})
    args = container(docs)["args"]
    assert "--namespace=shop" in args and "--namespace=pay" in args and "--all-namespaces" not in args
    bindings = [b for b in by_kind(docs, "RoleBinding") if b["roleRef"]["kind"] == "ClusterRole"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["pay", "shop"]
    assert all(b["roleRef"]["name"] == "sloguard-namespaced" for b in bindings)
    # two replicas: the budget-refresh Lease, in the release namespace only
    [leader] = [b for b in by_kind(docs, "RoleBinding") if b["roleRef"]["kind"] == "Role"]
    assert leader["metadata"]["namespace"] == "sloguard-system" and leader["roleRef"]["name"] == "sloguard-leader"
    assert [b["roleRef"]["name"] for b in by_kind(docs, "ClusterRoleBinding")] == ["sloguard-cluster"]
    assert sorted(p["metadata"]["namespace"] for p in by_kind(docs, "KopfPeering")) == ["pay", "shop"]


def test_values_reach_the_operator_flags(helm):
    docs = render(helm, {"prometheus": {"url": "http://prometheus.monitoring:9090"},
                         "ruleLabels": {"prometheus": "main"}, "refreshInterval": 60,
                         "webhook": {"failurePolicy": "Fail"}, "enforcement": {"mechanism": "webhook"}})
    c = container(docs)
    assert {"--prometheus=http://prometheus.monitoring:9090", "--rule-label=prometheus=main",
            "--refresh-interval=60", "--webhook", "--webhook-failure-policy=Fail",
            "--webhook-service=sloguard-system/sloguard-webhook"} <= set(c["args"])
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["SLOGUARD_ENFORCEMENT"] == "webhook"
    from sloguard.cli import build_parser

    parsed = build_parser().parse_args(["run", *c["args"]])  # the image's ENTRYPOINT is `sloguard run`
    assert parsed.prometheus_url == "http://prometheus.monitoring:9090" and parsed.refresh_interval == 60


def test_cert_manager_mode_makes_a_certificate_with_the_keys_the_operator_reads(helm):
    docs = render(helm, {"webhook": {"certs": {"mode": "cert-manager"}}})
    cert = one(docs, "Certificate", "sloguard-webhook")
    assert cert["spec"]["secretName"] == "sloguard-webhook-tls"
    assert cert["spec"]["dnsNames"][0] == "sloguard-webhook.sloguard-system.svc"
    assert not by_kind(docs, "Secret")
    own = render(helm, {"webhook": {"certs": {"mode": "cert-manager", "certManager": {
        "issuerRef": {"kind": "ClusterIssuer", "name": "corp-ca"}}}}})
    assert not by_kind(own, "Issuer")
    assert one(own, "Certificate")["spec"]["issuerRef"] == {"kind": "ClusterIssuer", "name": "corp-ca"}


def test_nonsense_values_are_refused_with_a_reason(helm):
    assert "one certificate per replica" in render_error(helm, {"replicas": 3, "webhook": {"certs": {
        "mode": "operator"}}})
    # values.schema.json refuses it before the template's own check (kept for --skip-schema-validation)
    assert "at '/enforcement/mechanism': value must be one of" in render_error(helm, {"enforcement": {
        "mechanism": "pray"}})


def test_slo_reports_alone_bring_configmap_create_and_their_switch(helm):
    docs = render(helm, {"features": {"policies": False, "sla": False}, "enforcement": {"mechanism": "none"},
                         "webhook": {"enabled": False}})
    rules = [r for role in by_kind(docs, "ClusterRole") for r in role["rules"]]
    assert any("configmaps" in r["resources"] and {"get", "create"} <= set(r["verbs"]) for r in rules)
    assert _operator_env(docs)["SLOGUARD_SLO_REPORTS"] == "true"
    assert _operator_env(render(helm, {"features": {"sloReports": False}}))["SLOGUARD_SLO_REPORTS"] == "false"


def _operator_env(docs: list) -> dict:
    container = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value") for e in container["env"]}


def test_disabled_features_take_their_permissions_with_them(helm):
    docs = render(helm, {"features": {"policies": False, "sla": False, "sloReports": False},
                         "enforcement": {"mechanism": "none"}, "webhook": {"enabled": False}})
    rules = [r for role in by_kind(docs, "ClusterRole") for r in role["rules"]]
    resources = {res for r in rules for res in r["resources"]}
    assert not resources & {"deployments", "configmaps", "validatingadmissionpolicies", "subjectaccessreviews",
                            "validatingwebhookconfigurations", "slacontracts", "errorbudgetpolicies"}
    assert [s["metadata"]["name"] for s in by_kind(docs, "Service")] == ["sloguard-metrics"]  # no webhook Service
    assert not by_kind(docs, "ValidatingAdmissionPolicy")


# --- the operator's own metrics ---------------------------------------------------------------------

def test_metrics_are_served_on_a_named_port_behind_a_service_by_default(helm):
    docs = render(helm)
    c = container(docs)
    assert "--metrics-address=0.0.0.0:8081" in c["args"]
    assert {"name": "metrics", "containerPort": 8081} in c["ports"]
    svc = one(docs, "Service", "sloguard-metrics")
    assert svc["spec"]["ports"] == [{"name": "metrics", "port": 8081, "targetPort": "metrics", "protocol": "TCP"}]
    assert svc["spec"]["selector"].items() <= one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"].items()
    assert not by_kind(docs, "ServiceMonitor") and not by_kind(docs, "PrometheusRule")
    assert not [d for d in by_kind(docs, "ConfigMap") if "dashboard" in d["metadata"]["name"]]
    from sloguard.cli import build_parser

    assert build_parser().parse_args(["run", *c["args"]]).metrics_address == "0.0.0.0:8081"


def test_metrics_off_means_no_port_no_service_and_an_empty_address(helm):
    docs = render(helm, {"metrics": {"enabled": False}})
    c = container(docs)
    assert "--metrics-address=" in c["args"] and all(p["name"] != "metrics" for p in c["ports"])
    assert not [s for s in by_kind(docs, "Service") if s["metadata"]["name"] == "sloguard-metrics"]
    assert "need metrics.enabled=true" in render_error(helm, {"metrics": {"enabled": False, "alerts": {
        "enabled": True}}})
    assert "metrics.port must be" in render_error(helm, {"metrics": {"port": 8080}})


def test_the_service_monitor_scrapes_the_metrics_service_keeping_the_slo_labels(helm):
    docs = render(helm, {"metrics": {"port": 9100, "serviceMonitor": {"enabled": True, "interval": "15s",
                                                                       "labels": {"release": "kps"}}}})
    sm = one(docs, "ServiceMonitor")
    svc = one(docs, "Service", "sloguard-metrics")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1" and sm["metadata"]["labels"]["release"] == "kps"
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert not [s for s in by_kind(docs, "Service")
                if s is not svc and sm["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()]
    assert sm["spec"]["namespaceSelector"] == {"matchNames": [NS]}
    assert sm["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "15s", "honorLabels": True}]
    assert svc["spec"]["ports"][0]["port"] == 9100 and "--metrics-address=0.0.0.0:9100" in container(docs)["args"]


def test_the_alerts_and_dashboard_are_the_generated_ones(helm):
    from sloguard.adapters.dashboards import operator_dashboard
    from sloguard.core.operator_alerts import operator_alert_groups

    docs = render(helm, {"ruleLabels": {"prometheus": "main"}, "metrics": {
        "alerts": {"enabled": True, "labels": {"team": "platform"}},
        "dashboard": {"enabled": True, "namespace": "grafana", "annotations": {"grafana_folder": "sloguard"}}}})
    rule = one(docs, "PrometheusRule", "sloguard-operator")
    assert rule["spec"] == {"groups": operator_alert_groups()}
    assert {"prometheus": "main", "team": "platform"}.items() <= rule["metadata"]["labels"].items()
    alerts = {r["alert"] for r in rule["spec"]["groups"][0]["rules"]}
    assert alerts == {"SloguardBudgetRefreshStale", "SloguardReconcileErrors", "ErrorBudgetExhausted"}
    cm = one(docs, "ConfigMap", "sloguard-operator-dashboard")
    assert cm["metadata"]["namespace"] == "grafana" and cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["annotations"] == {"grafana_folder": "sloguard"}
    assert json.loads(cm["data"]["sloguard-operator.json"]) == operator_dashboard()


def test_the_network_policy_lets_prometheus_scrape_the_metrics_port(helm):
    docs = render(helm, {"networkPolicy": {"enabled": True, "prometheusNamespaceSelector": {
        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}})
    ingress = one(docs, "NetworkPolicy")["spec"]["ingress"]
    scrape = [r for r in ingress if {"port": 8081, "protocol": "TCP"} in r["ports"]]
    assert scrape and scrape[0]["from"] == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "monitoring"}}}]


def test_the_cluster_roles_hold_no_wildcards_secrets_or_escalation(helm):
    for values in ({}, {"replicas": 2}, {"enforcement": {"mechanism": "webhook"}}):
        docs = render(helm, values)
        # The operator's roles (the user roles for people are tested in test_chart_governance.py).
        bindings = by_kind(docs, "ClusterRoleBinding") + by_kind(docs, "RoleBinding")
        operator_roles = {b["roleRef"]["name"] for b in bindings if any(s.get("name") == SA for s in b["subjects"])}
        for role in [r for r in by_kind(docs, "ClusterRole") if r["metadata"]["name"] in operator_roles]:
            for rule in role["rules"]:
                assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule
                assert not {"secrets", "pods/exec", "serviceaccounts/token"} & set(rule["resources"]), rule
                assert not {"escalate", "bind", "impersonate", "deletecollection", "update"} & set(rule["verbs"]) \
                    or rule["resources"] == ["servicelevelobjectives/finalizers", "slacontracts/finalizers"], rule


# --- install on the real control plane ---------------------------------------------------------

@pytest.fixture(scope="module")
def installed(fresh_cluster: TestCluster, helm: str) -> list[dict]:
    docs = install(fresh_cluster, helm, INSTALL_VALUES, namespace=NS)
    fresh_cluster.kubectl("create", "namespace", TEAM)
    return docs


def test_everything_the_chart_renders_is_in_the_cluster(fresh_cluster, installed):
    for doc in installed:
        ns = ["-n", doc["metadata"]["namespace"]] if doc["metadata"].get("namespace") else []
        assert fresh_cluster.exists(f"{doc['kind']}.{doc['apiVersion'].split('/')[0]}"
                                    if "/" in doc["apiVersion"] else doc["kind"], doc["metadata"]["name"], *ns)


def test_the_pod_meets_the_restricted_pod_security_standard(fresh_cluster, installed):
    template = one(installed, "Deployment")["spec"]["template"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "psa-probe", "namespace": NS,
                                                           "labels": template["metadata"]["labels"]},
           "spec": template["spec"]}
    proc = fresh_cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump(pod), check=False)
    assert proc.returncode == 0, proc.stderr
    assert "violate" not in proc.stderr.lower(), proc.stderr
    loose = json.loads(json.dumps(pod))
    loose["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    refused = fresh_cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump(loose), check=False)
    assert refused.returncode != 0 and "restricted" in refused.stderr  # the check above means something


@pytest.fixture(scope="module")
def sa_kubeconfig(fresh_cluster, installed, tmp_path_factory) -> Path:
    return make_sa_kubeconfig(fresh_cluster, tmp_path_factory.mktemp("sa") / "kubeconfig")


@pytest.fixture(scope="module")
def operator(fresh_cluster, installed, sa_kubeconfig, tmp_path_factory) -> Iterator[Operator]:
    op = Operator(installed, sa_kubeconfig, tmp_path_factory.mktemp("operator"))
    try:
        # The chart creates the configuration; the operator fills in its webhooks at startup.
        fresh_cluster.wait_until(
            lambda: "webhooks" in get_json(fresh_cluster, "validatingwebhookconfiguration", "sloguard")
            or op.proc.poll() is not None, timeout=90, what="the operator's startup")
        assert op.proc.poll() is None, op.output()
        yield op
    finally:
        op.stop()
        print(op.output()[-5000:], file=sys.stderr)


def slo(name: str, **sli: object) -> dict:
    return factories.slo(name, TEAM, sli=sli or None)


def _ready(cluster: TestCluster, name: str) -> bool:
    obj = get_json(cluster, "slo", "-n", TEAM, name)
    conds = {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions", [])}
    return conds.get("Ready") == "True"


def test_the_operator_registers_its_webhook_behind_the_charts_service(fresh_cluster, installed, operator):
    vwc = get_json(fresh_cluster, "validatingwebhookconfiguration", "sloguard")
    client = vwc["webhooks"][0]["clientConfig"]
    assert client["service"] == {"namespace": NS, "name": "sloguard-webhook", "port": 443, "path": "/validate-slo"}
    ca = one(installed, "Secret", "sloguard-webhook-tls")["data"]["ca.crt"]
    assert client["caBundle"] == ca  # the Helm-made CA, so the API server trusts the serving certificate
    fresh_cluster.wait_until(operator.healthy, timeout=30, what="the liveness endpoint")


def test_the_replicas_peer_through_the_charts_peering_object(fresh_cluster, operator):
    def peered() -> bool:
        return bool(get_json(fresh_cluster, "clusterkopfpeering", "sloguard").get("status"))

    fresh_cluster.wait_until(peered, timeout=60, what="a keep-alive in the ClusterKopfPeering")


def test_an_slo_gets_its_prometheusrule_and_status_under_the_charts_rbac(fresh_cluster, operator):
    fresh_cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(slo("checkout")))
    fresh_cluster.wait_until(lambda: _ready(fresh_cluster, "checkout"), timeout=60, what="Ready")
    rule = get_json(fresh_cluster, "prometheusrule", "-n", TEAM, "checkout-slo")
    assert rule["metadata"]["labels"]["prometheus"] == "main"
    assert rule["metadata"]["ownerReferences"][0]["name"] == "checkout"


def test_the_operator_serves_its_metrics_with_the_charts_args(fresh_cluster, operator):
    def counted() -> bool:
        try:
            text = operator.metrics()
        except OSError:
            return False
        return 'sloguard_reconcile_total{kind="ServiceLevelObjective",result="success"}' in text

    fresh_cluster.wait_until(counted, timeout=60, what="the operator's /metrics")
    assert "sloguard_admission_reviews_total" in operator.metrics()


def test_an_invalid_slo_is_reported_with_an_event(fresh_cluster, operator):
    # The webhook's Service has no endpoints here (no kubelet), and it fails open: the operator
    # itself must report the typo in status and an Event.
    bad = slo("typo", ratio={"errors": 'http_requests_total{code=~"5.."}', "total": "http_requests_total{"})
    fresh_cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(bad))

    def event_posted() -> bool:
        events = get_json(fresh_cluster, "events", "-n", TEAM, "--field-selector", "involvedObject.name=typo")
        return any(e["reason"] == "InvalidSpec" for e in events["items"])

    fresh_cluster.wait_until(event_posted, timeout=60, what="an InvalidSpec Event")


def test_deleting_an_slo_releases_its_finalizer_and_its_rules_go(fresh_cluster, operator):
    fresh_cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(slo("short-lived")))
    fresh_cluster.wait_until(lambda: fresh_cluster.exists("prometheusrule", "-n", TEAM, "short-lived-slo"),
                             timeout=60, what="rule created")
    fresh_cluster.kubectl("delete", "slo", "-n", TEAM, "short-lived", "--timeout=60s")
    fresh_cluster.wait_until(lambda: not fresh_cluster.exists("prometheusrule", "-n", TEAM, "short-lived-slo"),
                             timeout=60, what="rule garbage-collected")


def test_reapplying_the_same_manifests_changes_nothing(fresh_cluster, installed, operator):
    """What Argo CD does on every sync: client-side and server-side re-applies are no-ops."""
    fresh_cluster.wait_until(lambda: _ready(fresh_cluster, "checkout"), timeout=60, what="Ready")
    manifest = yaml.safe_dump(slo("checkout"))
    before = get_json(fresh_cluster, "slo", "-n", TEAM, "checkout")["metadata"]["resourceVersion"]
    out = fresh_cluster.kubectl("apply", "-f", "-", input=manifest).stdout
    assert "unchanged" in out
    diff = fresh_cluster.kubectl("diff", "--server-side", "--field-manager=kubectl-client-side-apply",
                                 "--force-conflicts", "-f", "-", input=manifest, check=False)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    time.sleep(2)  # a spurious reconcile would bump the version within this time
    assert get_json(fresh_cluster, "slo", "-n", TEAM, "checkout")["metadata"]["resourceVersion"] == before
    rest = [d for d in installed if d["kind"] not in ("CustomResourceDefinition", "Secret")]
    chart_diff = fresh_cluster.kubectl("diff", "--server-side", "--field-manager=helm-test", "-f", "-",
                                       input=dump(rest), check=False)
    assert chart_diff.returncode == 0, chart_diff.stdout + chart_diff.stderr


def test_the_operator_met_no_forbidden_request(operator):
    time.sleep(12)  # past the policy timer (10 s) and a budget/SLA pass: periodic work needs RBAC too
    log = operator.output()
    # 403 as a status code, not inside a timestamp ("…41.974034") or a uid ("…a403b…")
    code = re.compile(r"(?<![0-9a-fA-F.:-])403(?![0-9a-fA-F])")
    denied = [line for line in log.splitlines() if code.search(line) or "orbidden" in line]
    assert not denied, "\n".join(denied[:10])


# --- what the ServiceAccount may and may not do -------------------------------------------------

def _can(cluster: TestCluster, *args: str) -> bool:
    proc = cluster.kubectl("auth", "can-i", *args, f"--as={SA_USER}", check=False)
    return proc.stdout.strip() == "yes"


@pytest.mark.parametrize("request_", [
    "get secrets -n sloguard-system", "list secrets -A", "watch secrets -n team-a",
    "create deployments -n team-a", "update deployments -n team-a", "delete deployments -n team-a",
    "patch deployments --subresource=scale -n team-a", "patch deployments --subresource=status -n team-a",
    "create pods -n team-a",
    "create pods --subresource=exec -n team-a",
    "delete prometheusrules.monitoring.coreos.com -n team-a", "update servicelevelobjectives.sloguard.io -n team-a",
    "create clusterroles", "create clusterrolebindings",
    "create serviceaccounts --subresource=token -n sloguard-system",
    "delete validatingwebhookconfigurations", "patch validatingwebhookconfigurations/someone-elses",
    "create validatingwebhookconfigurations",  # the chart creates the release's; the operator patches it
    "impersonate users", "delete namespaces", "create customresourcedefinitions.apiextensions.k8s.io",
    # no right on admission policies at all: the chart installs the one hold policy (issue #10)
    "create validatingadmissionpolicies", "patch validatingadmissionpolicies", "delete validatingadmissionpolicies",
    "create validatingadmissionpolicybindings", "patch validatingadmissionpolicybindings",
    "delete validatingadmissionpolicybindings", "get validatingadmissionpolicies",
    "patch validatingadmissionpolicies/sloguard-holds", "delete validatingadmissionpolicies/sloguard-workload-guard",
    # its params: written, never deleted (the garbage collector does that)
    "delete errorbudgetholds.sloguard.io -n team-a", "update errorbudgetholds.sloguard.io -n team-a",
    # rollouts are read from workload revisions: list only, never a write
    "patch replicasets -n team-a", "delete controllerrevisions -n team-a", "create controllerrevisions -n team-a",
])
def test_the_service_account_is_refused(fresh_cluster, installed, request_):
    assert not _can(fresh_cluster, *request_.split()), request_


@pytest.mark.parametrize("request_", [
    "patch deployments -n team-a", "patch statefulsets -n team-a", "list daemonsets -A",
    "watch deployments -A", "create errorbudgetholds.sloguard.io -n team-a",
    "patch errorbudgetholds.sloguard.io -n team-a", "get errorbudgetholds.sloguard.io -n team-a",
    "create subjectaccessreviews.authorization.k8s.io", "create configmaps -n team-a", "create events -n team-a",
    "patch servicelevelobjectives.sloguard.io --subresource=status -n team-a",
    "patch slacontracts.sloguard.io --subresource=status -n team-a",
    "patch errorbudgetpolicies.sloguard.io --subresource=status -n team-a",
    "update servicelevelobjectives.sloguard.io --subresource=finalizers -n team-a",
    "patch validatingwebhookconfigurations/sloguard",
    "list replicasets -n team-a", "list controllerrevisions -A",
])
def test_the_service_account_may_do_what_its_jobs_need(fresh_cluster, installed, request_):
    assert _can(fresh_cluster, *request_.split()), request_


def test_reading_a_secret_with_the_operators_token_is_forbidden(fresh_cluster, installed, sa_kubeconfig):
    proc = subprocess.run(["kubectl", "--kubeconfig", str(sa_kubeconfig), "get", "secrets", "-n", NS],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "forbidden" in proc.stderr.lower()


@pytest.fixture(scope="module")
def workload(fresh_cluster, installed) -> str:
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "web", "namespace": TEAM, "labels": {"app": "web"}},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}},
                                    "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    fresh_cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(deploy))
    return "web"


def _as_operator(sa_kubeconfig: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--kubeconfig", str(sa_kubeconfig), *args], input=input,
                          capture_output=True, text=True, check=False)


def test_the_operator_may_put_a_hold_label_on_a_workload(fresh_cluster, sa_kubeconfig, workload):
    from sloguard.adapters.kube import Kube

    kube = Kube.connect(str(sa_kubeconfig))
    kube.apply({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": workload, "namespace": TEAM,
                             "labels": {"sloguard.io/hold": "true"},
                             "annotations": {"sloguard.io/hold-reason": "budget exhausted"}}},
               field_manager="sloguard-holds")
    got = get_json(fresh_cluster, "deployment", "-n", TEAM, workload)
    assert got["metadata"]["labels"]["sloguard.io/hold"] == "true"
    assert got["spec"]["replicas"] == 1


@pytest.mark.parametrize("patch", [
    {"spec": {"replicas": 5}},
    {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "evil"}]}}}},
    {"metadata": {"labels": {"app": "hijacked"}}},
    {"metadata": {"annotations": {"deployment.kubernetes.io/revision": "9"}}},
], ids=["replicas", "image", "foreign-label", "foreign-annotation"])
def test_the_operator_may_not_change_anything_else_on_a_workload(fresh_cluster, sa_kubeconfig, workload, patch):
    proc = _as_operator(sa_kubeconfig, "patch", "deployment", workload, "-n", TEAM, "--type=strategic",
                        "-p", json.dumps(patch))
    assert proc.returncode != 0 and "sloguard may" in proc.stderr, proc.stdout + proc.stderr
    assert get_json(fresh_cluster, "deployment", "-n", TEAM, workload)["spec"]["replicas"] == 1


def test_the_workload_guard_binds_no_one_else(fresh_cluster, workload):
    fresh_cluster.kubectl("patch", "deployment", workload, "-n", TEAM, "-p", '{"metadata":{"labels":{"x":"y"}}}')


def test_the_operator_may_write_hold_params_and_sla_history_but_no_admission_policy(fresh_cluster, sa_kubeconfig):
    from sloguard.adapters.kube import Kube, KubeError

    kube = Kube.connect(str(sa_kubeconfig))
    vap = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
           "metadata": {"name": "sloguard-probe"},
           "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                                                            "resources": ["deployments"],
                                                            "operations": ["UPDATE"]}]},
                    "validations": [{"expression": "true"}]}}
    with pytest.raises(KubeError) as refused:
        kube.apply(vap)
    assert refused.value.status == 403
    # nor may it remove the chart's hold policy (a compromised operator cannot lift every freeze)
    proc = _as_operator(sa_kubeconfig, "delete", "validatingadmissionpolicy", "sloguard-holds")
    assert proc.returncode != 0 and "forbidden" in proc.stderr.lower(), proc.stderr
    assert fresh_cluster.exists("validatingadmissionpolicy", "sloguard-holds")
    kube.apply({"apiVersion": "sloguard.io/v1alpha1", "kind": "ErrorBudgetHold",
                "metadata": {"name": "probe", "namespace": TEAM, "labels": {"sloguard.io/enforcement": "none"}},
                "spec": {"policy": "probe", "action": "none", "messages": {"release": "-", "metadata": "-"}}})
    kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "sla-history", "namespace": TEAM},
                "data": {"2025-01": "{}"}})


def test_only_the_operator_writes_hold_params(fresh_cluster, sa_kubeconfig):
    """Even cluster-admin: the chart's guard refuses everyone but the operator's ServiceAccount."""
    proc = fresh_cluster.kubectl("patch", "errorbudgethold", "-n", TEAM, "probe", "--type=merge",
                                 "-p", '{"spec":{"action":"freeze"}}', check=False)
    assert proc.returncode != 0 and "written by the sloguard operator only" in proc.stderr, proc.stderr
    proc = _as_operator(sa_kubeconfig, "patch", "errorbudgethold", "-n", TEAM, "probe", "--type=merge",
                        "-p", '{"spec":{"policy":"probe2"}}')
    assert proc.returncode == 0, proc.stderr

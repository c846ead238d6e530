#!/usr/bin/env bash
# `make demo`: a real control plane, Prometheus scraping a synthetic service, the operator, examples/.
# `make demo-down` stops it all. State (logs, data, kubeconfig) lives in .state/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=${SLOGUARD_DEMO_DIR:-$ROOT/.state/demo}
TRAFFIC_PORT=${TRAFFIC_PORT:-18080}
PROM_PORT=${PROM_PORT:-19090}
WEBHOOK_PORT=${WEBHOOK_PORT:-19443}
PY=${PYTHON:-python3}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

start_bg() {  # name, command...: start in the background, remember the pid
  local name=$1; shift
  nohup "$@" >"$STATE/$name.log" 2>&1 &
  echo $! >"$STATE/$name.pid"
}

stop_bg() {
  local f
  for f in "$STATE"/*.pid; do
    [ -e "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

wait_http() {  # url, what
  for _ in $(seq 1 60); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 1
  done
  echo "timed out waiting for $2 at $1 (see $STATE/*.log)" >&2
  exit 1
}

up() {
  mkdir -p "$STATE/rules"
  if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    say "installing Prometheus (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  fi
  if ! command -v sloguard >/dev/null || ! $PY -c 'import prometheus_client' 2>/dev/null; then
    say "installing sloguard (pip install -e '.[dev]')"
    $PY -m pip install -q --disable-pip-version-check -e '.[dev]'
  fi
  stop_bg
  say "control plane (first run builds Kubernetes from source: ~6 min)"
  sloguard dev up --state-dir "$STATE/cluster"
  export KUBECONFIG=$STATE/cluster/kubeconfig

  say "synthetic traffic on :$TRAFFIC_PORT"
  start_bg traffic "$PY" hack/traffic.py --port "$TRAFFIC_PORT"
  cat >"$STATE/prometheus.yml" <<YAML
global: {scrape_interval: 5s, evaluation_interval: 15s}
rule_files: ["$STATE/rules/*.yaml"]
scrape_configs:
- job_name: demo
  honor_labels: true  # the demo's series carry their own job label (checkout, api)
  static_configs: [{targets: ["127.0.0.1:$TRAFFIC_PORT"]}]
YAML
  : >"$STATE/rules/sloguard.yaml"
  say "Prometheus on :$PROM_PORT"
  start_bg prometheus prometheus --config.file="$STATE/prometheus.yml" --storage.tsdb.path="$STATE/prom-data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --web.enable-lifecycle
  wait_http "http://127.0.0.1:$PROM_PORT/-/ready" Prometheus
  start_bg rulesync "$PY" hack/rulesync.py --out "$STATE/rules/sloguard.yaml" \
    --reload-url "http://127.0.0.1:$PROM_PORT/-/reload"

  say "operator (logs: $STATE/operator.log)"
  start_bg operator sloguard run --standalone --liveness "" --prometheus "http://127.0.0.1:$PROM_PORT" \
    --refresh-interval 15 --webhook --webhook-host 127.0.0.1 --webhook-port "$WEBHOOK_PORT" \
    --webhook-cert-dir "$STATE/webhook"
  for _ in $(seq 1 60); do
    kubectl get validatingwebhookconfiguration sloguard >/dev/null 2>&1 && break
    sleep 1
  done

  say "applying examples/"
  kubectl apply -f examples/00-namespaces.yaml >/dev/null
  kubectl apply -f examples/
  kubectl wait --for=condition=Ready slo --all -A --timeout=60s >/dev/null
  for _ in $(seq 1 60); do  # until the first budget refresh has filled the columns
    n=$(kubectl get slo -A -o jsonpath='{range .items[*]}{.status.lastEvaluated}{"\n"}{end}' | grep -c . || true)
    [ "$n" -ge "$(kubectl get slo -A --no-headers | wc -l)" ] && break
    sleep 1
  done
  say "kubectl get slo,ebp,sla -A"
  kubectl get slo -A
  echo
  kubectl get ebp,sla -A
  cat <<TXT

sloguard is running. Try:
  export KUBECONFIG=$STATE/cluster/kubeconfig
  kubectl get slo -A -w                                  # budgets refresh every 15 s
  kubectl get ebp -A; kubectl get deploy -n shop --show-labels   # holds appear when budgets run low
  kubectl get prometheusrule -A
  curl -X POST '127.0.0.1:$TRAFFIC_PORT/incident?service=checkout&errors=0.3'   # inject an incident
  curl -X POST '127.0.0.1:$TRAFFIC_PORT/incident?service=checkout&errors=0.0002' # end it
  sloguard budget --prometheus http://127.0.0.1:$PROM_PORT examples/
  open http://127.0.0.1:$PROM_PORT/alerts
Stop everything with: make demo-down
TXT
}

down() {
  stop_bg
  if [ -d "$STATE/cluster" ]; then sloguard dev down --state-dir "$STATE/cluster" || true; fi
  rm -rf "$STATE"
  say "demo stopped"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac

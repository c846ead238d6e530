#!/bin/sh
# A CI step before "deploy": stop the pipeline while an ErrorBudgetPolicy holds the workload.
#
#   examples/gate/ci-gate.sh WORKLOAD NAMESPACE [WAIT]      e.g. ci-gate.sh checkout shop 10m
#
# Needs `sloguard` (pip install sloguard, or the image) and a kubeconfig ($KUBECONFIG) whose user may
# read the policies, holds, SLOs and the workload (examples/gate/argocd-presync-gate.yaml lists the
# rights). WAIT (optional) keeps asking until the release would be admitted or WAIT runs out.
# Exit codes are sloguard gate's: 0 admitted, 1 held, 2 usage, 3 API server unreachable.
set -u
workload=${1:?usage: ci-gate.sh WORKLOAD NAMESPACE [WAIT]}
namespace=${2:?usage: ci-gate.sh WORKLOAD NAMESPACE [WAIT]}
wait=${3:-}
sloguard=${SLOGUARD:-sloguard}

if [ -n "$wait" ]; then
  $sloguard gate "$workload" --namespace "$namespace" --wait "$wait" --interval 30s
else
  $sloguard gate "$workload" --namespace "$namespace"
fi
rc=$?
case $rc in
  0) echo "ci-gate: a release of $namespace/$workload would be admitted; deploying" ;;
  1) echo "ci-gate: $namespace/$workload is held by an error budget policy (above); not deploying" >&2 ;;
  3) echo "ci-gate: cannot reach the Kubernetes API server; not deploying" >&2 ;;
  *) echo "ci-gate: sloguard gate failed (exit $rc)" >&2 ;;
esac
exit $rc

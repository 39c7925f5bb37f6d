#!/usr/bin/env bash
# `make demo`: starts the local cluster and Prometheus (hack/cluster.sh), creates
# a few workloads, runs bin/kube-state-push against them, and prints a query URL
# and a sample of the series it pushed. `make demo-stop` stops everything.
#
#   hack/demo.sh up   <state-dir>
#   hack/demo.sh down <state-dir>
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HACK_DIR/.." && pwd)
TELEMETRY=${KSP_DEMO_TELEMETRY:-127.0.0.1:18081}

log() { printf '[demo] %s\n' "$*" >&2; }
die() { printf '[demo] ERROR: %s\n' "$*" >&2; exit 1; }

agent_pidfile() { echo "$1/agent.pid"; }

stop_agent() {
  local pidfile pid
  pidfile=$(agent_pidfile "$1")
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping kube-state-push (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$pidfile"
}

up() {
  local state=$1
  mkdir -p "$state"
  "$HACK_DIR/cluster.sh" up "$state/cluster" >/dev/null
  # shellcheck disable=SC1091
  . "$state/cluster/env"
  log "creating demo workloads"
  kubectl --kubeconfig "$KUBECONFIG" apply -f "$HACK_DIR/demo-workloads.yaml" >&2

  stop_agent "$state"
  log "starting kube-state-push (log: $state/agent.log)"
  "$ROOT/bin/kube-state-push" \
    --kubeconfig "$KUBECONFIG" \
    --remote-write-url "$PROMETHEUS_URL/api/v1/write" \
    --telemetry-address "$TELEMETRY" >"$state/agent.log" 2>&1 &
  echo $! >"$(agent_pidfile "$state")"

  for _ in $(seq 1 600); do
    curl -fs "http://$TELEMETRY/readyz" >/dev/null 2>&1 && break
    kill -0 "$(cat "$(agent_pidfile "$state")")" 2>/dev/null || { cat "$state/agent.log" >&2; die "kube-state-push exited"; }
    sleep 0.1
  done
  curl -fs "http://$TELEMETRY/readyz" >/dev/null || die "kube-state-push not ready after 60s; see $state/agent.log"

  local q='kube_pod_status_phase{job="kube-state-metrics",namespace="demo"} == 1'
  local enc
  enc=$(printf '%s' "$q" | od -An -tx1 | tr -d ' \n' | sed 's/../%&/g')
  cat <<MSG

kube-state-push is running and pushing to Prometheus.

  Query:     $PROMETHEUS_URL/api/v1/query?query=$enc
             ($q)
  Self:      http://$TELEMETRY/metrics   http://$TELEMETRY/readyz
  kubectl:   kubectl --kubeconfig $KUBECONFIG get pods -n demo
  Agent log: $state/agent.log

A sample of the pushed series:
MSG
  sleep 1
  local result
  result=$(curl -fsG "$PROMETHEUS_URL/api/v1/query" --data-urlencode \
    'query=kube_pod_status_phase{namespace="demo"} == 1 or kube_deployment_status_replicas_available{namespace="demo"} or kube_pod_container_resource_requests{namespace="demo",resource="cpu"}')
  # One line per series, in Prometheus's text format.
  sed 's/},{/}\n{/g' <<<"$result" |
    sed -n 's/.*"metric":{"__name__":"\([^"]*\)",\([^}]*\)},"value":\[[^,]*,"\([^"]*\)"\].*/  \1{\2} \3/p' |
    sed 's/"\([a-zA-Z_][a-zA-Z0-9_]*\)":"/\1="/g'
  cat <<MSG

Try: kubectl --kubeconfig $KUBECONFIG -n demo scale deployment web --replicas=5
     and query kube_deployment_spec_replicas again within a second.
Stop everything with: make demo-stop
MSG
}

down() {
  local state=$1
  stop_agent "$state"
  "$HACK_DIR/cluster.sh" down "$state/cluster"
  rm -rf "$state"
}

[ $# -eq 2 ] || { echo "usage: $0 up|down <state-dir>" >&2; exit 2; }
case $1 in
  up) up "$2" ;;
  down) down "$2" ;;
  *) echo "usage: $0 up|down <state-dir>" >&2; exit 2 ;;
esac

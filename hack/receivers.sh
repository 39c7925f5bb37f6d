#!/usr/bin/env bash
# Starts and stops the remote-write receivers users push to, single-process on 127.0.0.1,
# for the e2e suite and by hand: Mimir, Cortex, Thanos receive (with a Thanos query to
# read it), VictoriaMetrics, an OpenTelemetry Collector (feeding a Prometheus 3 to read
# back what it received) and Prometheus 2.42 (a Remote-Write 1.0-only Prometheus).
#
#   hack/receivers.sh up   <name> <state-dir>   start one, print its env (KEY=VALUE) on stdout
#   hack/receivers.sh down <state-dir>          stop what was started there, remove the dir
#
# The env printed by `up` (also written to <state-dir>/env):
#   RECEIVER               the name
#   RECEIVER_PUSH_URL      where to POST remote-write requests
#   RECEIVER_QUERY_URL     base of its Prometheus-compatible query API (append /api/v1/query)
#   RECEIVER_METRICS_URL   the receiver's own /metrics (rejection and discard counters)
#   RECEIVER_PROTOCOL      the best Remote-Write version it takes: 2.0 or 1.0
#
# Environment:
#   KSP_RECEIVER_TENANTS=1        Mimir, Cortex: require X-Scope-OrgID (multitenancy on)
#   KSP_RECEIVER_HA_TRACKER=1     Mimir, Cortex: the HA tracker on for every tenant
#                                 (cluster / __replica__ labels)
#   KSP_RECEIVER_HA_FAILOVER=5s   the tracker's failover timeout (update timeout 1s)
#   KSP_RECEIVER_OTEL_DEBUG=1     the Collector also logs every data point it receives
#                                 (debug exporter; costs it more CPU than the rest)
#   KSP_KEEP_STATE=1              `down` keeps the state dir
#   KSP_CACHE                     where hack/build-components.sh caches the binaries
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${KSP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-state-push}
BIN=$CACHE/bin

# shellcheck source=hack/versions.sh
. "$HACK_DIR/versions.sh"

RECEIVERS="mimir cortex thanos victoria-metrics otelcol prometheus2"
# Stop order is the reverse: readers before what they read.
COMPONENTS=(mimir cortex thanos-receive thanos-query victoria-metrics otelcol-backend otelcol prometheus2)
MARKER=.kube-state-push-receiver

STATE=""
STARTED=()

# shellcheck source=hack/lib.sh
. "$HACK_DIR/lib.sh"

log() { printf '[receivers] %s\n' "$*" >&2; }
die() { printf '[receivers] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
  echo "usage: $0 up <$(tr ' ' '|' <<<"$RECEIVERS")> <state-dir> | down <state-dir>" >&2
  exit 2
}

# binary NAME VERSION: sets BINARY to the cached build, or fails naming what to build.
BINARY=""
binary() {
  BINARY=$BIN/$1-$2
  [ -x "$BINARY" ] || die "$1 $2 is not built; run hack/build-components.sh"
}

tenants() { [ "${KSP_RECEIVER_TENANTS:-0}" = 1 ] && echo true || echo false; }
ha_tracker() { [ "${KSP_RECEIVER_HA_TRACKER:-0}" = 1 ] && echo true || echo false; }

# Mimir, monolithic (-target=all): every ring in memory, blocks on the filesystem, one
# ingester. Its default limits stay (30 labels per series, no out-of-order window), as
# users meet them.
start_mimir() {
  local http grpc gossip
  pick_port http
  pick_port grpc
  pick_port gossip
  cat >"$STATE/mimir.yaml" <<EOF
multitenancy_enabled: $(tenants)
server:
  http_listen_address: 127.0.0.1
  http_listen_port: $http
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: $grpc
  log_level: warn
distributor:
  ring:
    instance_addr: 127.0.0.1
    kvstore: {store: inmemory}
  ha_tracker:
    enable_ha_tracker: $(ha_tracker)
    enable_elected_replica_metric: true
    kvstore: {store: inmemory}
ingester:
  ring:
    instance_addr: 127.0.0.1
    kvstore: {store: inmemory}
    replication_factor: 1
    min_ready_duration: 0s
    final_sleep: 0s
    num_tokens: 64
store_gateway:
  sharding_ring:
    instance_addr: 127.0.0.1
    kvstore: {store: inmemory}
    replication_factor: 1
compactor:
  data_dir: $STATE/mimir/compactor
  sharding_ring:
    instance_addr: 127.0.0.1
    kvstore: {store: inmemory}
ruler:
  ring:
    instance_addr: 127.0.0.1
    kvstore: {store: inmemory}
ruler_storage:
  backend: local
  local: {directory: $STATE/mimir/rules}
blocks_storage:
  backend: filesystem
  filesystem: {dir: $STATE/mimir/blocks}
  tsdb: {dir: $STATE/mimir/tsdb}
  bucket_store: {sync_dir: $STATE/mimir/sync}
limits:
  accept_ha_samples: $(ha_tracker)
  ha_cluster_label: cluster
  ha_replica_label: __replica__
  ha_tracker_update_timeout: 1s
  ha_tracker_update_timeout_jitter_max: 0s
  ha_tracker_failover_timeout: ${KSP_RECEIVER_HA_FAILOVER:-5s}
EOF
  mkdir -p "$STATE/mimir/rules"
  binary mimir "$MIMIR_VERSION"
  # Every component that advertises an address gets loopback, not the host's interface.
  start_component mimir "$BINARY" -target=all -config.file="$STATE/mimir.yaml" \
    -query-frontend.instance-addr=127.0.0.1 -query-scheduler.ring.instance-addr=127.0.0.1 \
    -querier.ring.instance-addr=127.0.0.1 -overrides-exporter.ring.instance-addr=127.0.0.1 \
    -memberlist.bind-addr=127.0.0.1 -memberlist.bind-port="$gossip" -memberlist.advertise-addr=127.0.0.1 \
    -memberlist.advertise-port="$gossip"
  wait_for mimir 120 http_ok "http://127.0.0.1:$http/ready"
  write_env mimir "http://127.0.0.1:$http/api/v1/push" "http://127.0.0.1:$http/prometheus" \
    "http://127.0.0.1:$http/metrics" 2.0
}

# Cortex, single process, the same shape; Remote-Write 2.0 is behind a flag.
start_cortex() {
  local http grpc gossip
  pick_port http
  pick_port grpc
  pick_port gossip
  cat >"$STATE/cortex.yaml" <<EOF
auth_enabled: $(tenants)
server:
  http_listen_address: 127.0.0.1
  http_listen_port: $http
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: $grpc
  log_level: warn
distributor:
  shard_by_all_labels: true
  remote_writev2_enabled: true
  ha_tracker:
    enable_ha_tracker: $(ha_tracker)
    ha_tracker_update_timeout: 1s
    ha_tracker_update_timeout_jitter_max: 0s
    ha_tracker_failover_timeout: ${KSP_RECEIVER_HA_FAILOVER:-5s}
    kvstore: {store: memberlist}
  ring:
    instance_addr: 127.0.0.1
    kvstore: {store: inmemory}
ingester:
  lifecycler:
    address: 127.0.0.1
    min_ready_duration: 0s
    final_sleep: 0s
    num_tokens: 64
    ring:
      kvstore: {store: inmemory}
      replication_factor: 1
store_gateway:
  sharding_ring:
    instance_addr: 127.0.0.1
    kvstore: {store: inmemory}
compactor:
  data_dir: $STATE/cortex/compactor
  sharding_ring:
    instance_addr: 127.0.0.1
    kvstore: {store: inmemory}
ruler:
  rule_path: $STATE/cortex/rules-tmp
  ring:
    instance_addr: 127.0.0.1
    kvstore: {store: inmemory}
memberlist:
  bind_addr: [127.0.0.1]
  bind_port: $gossip
  advertise_addr: 127.0.0.1
  advertise_port: $gossip
ruler_storage:
  backend: local
  local: {directory: $STATE/cortex/rules}
alertmanager:
  external_url: http://127.0.0.1:$http/alertmanager
  sharding_ring:
    instance_addr: 127.0.0.1
    kvstore: {store: inmemory}
alertmanager_storage:
  backend: local
  local: {path: $STATE/cortex/alerts}
frontend_worker:
  match_max_concurrent: true
blocks_storage:
  backend: filesystem
  filesystem: {dir: $STATE/cortex/blocks}
  tsdb: {dir: $STATE/cortex/tsdb}
  bucket_store: {sync_dir: $STATE/cortex/sync}
limits:
  accept_ha_samples: $(ha_tracker)
  ha_cluster_label: cluster
  ha_replica_label: __replica__
EOF
  mkdir -p "$STATE/cortex/rules" "$STATE/cortex/alerts"
  binary cortex "$CORTEX_VERSION"
  start_component cortex "$BINARY" -target=all -config.file="$STATE/cortex.yaml"
  wait_for cortex 120 http_ok "http://127.0.0.1:$http/ready"
  write_env cortex "http://127.0.0.1:$http/api/v1/push" "http://127.0.0.1:$http/prometheus" \
    "http://127.0.0.1:$http/metrics" 2.0
}

# Thanos receive as a single node (no hashring: it ingests what it receives), and a
# Thanos query reading it. The receiver labels its blocks replica="0" and
# tenant_id="default-tenant"; the query drops replica, tenant_id remains on every series.
start_thanos() {
  local http grpc push qhttp qgrpc bin
  pick_port http
  pick_port grpc
  pick_port push
  pick_port qhttp
  pick_port qgrpc
  binary thanos "$THANOS_VERSION"
  bin=$BINARY
  mkdir -p "$STATE/thanos/query"
  start_component thanos-receive "$bin" receive --tsdb.path="$STATE/thanos/tsdb" \
    --http-address="127.0.0.1:$http" --grpc-address="127.0.0.1:$grpc" \
    --remote-write.address="127.0.0.1:$push" --label='replica="0"' --log.level=warn
  wait_for thanos-receive 120 http_ok "http://127.0.0.1:$http/-/ready"
  start_component thanos-query "$bin" query --http-address="127.0.0.1:$qhttp" \
    --grpc-address="127.0.0.1:$qgrpc" --endpoint="127.0.0.1:$grpc" --query.replica-label=replica \
    --query.active-query-path="$STATE/thanos/query" --log.level=warn
  wait_for thanos-query 120 http_ok "http://127.0.0.1:$qhttp/-/ready"
  write_env thanos "http://127.0.0.1:$push/api/v1/receive" "http://127.0.0.1:$qhttp" \
    "http://127.0.0.1:$http/metrics" 1.0
}

start_victoria_metrics() {
  local http
  pick_port http
  binary victoria-metrics "$VM_VERSION"
  start_component victoria-metrics "$BINARY" \
    -httpListenAddr="127.0.0.1:$http" -storageDataPath="$STATE/victoria-metrics" \
    -retentionPeriod=1d -search.latencyOffset=0s -search.disableCache -inmemoryDataFlushInterval=1s \
    -loggerLevel=WARN
  wait_for victoria-metrics 60 http_ok "http://127.0.0.1:$http/health"
  write_env victoria-metrics "http://127.0.0.1:$http/api/v1/write" "http://127.0.0.1:$http" \
    "http://127.0.0.1:$http/metrics" 1.0
}

# The Collector's Remote-Write 2.0 receiver, exported by its remote-write exporter into a
# Prometheus 3 (which keeps the metadata), queried there, and optionally by the debug
# exporter into its log.
start_otelcol() {
  local push ptel prom exporters=prometheusremotewrite log_level=warn
  if [ "${KSP_RECEIVER_OTEL_DEBUG:-0}" = 1 ]; then
    exporters="prometheusremotewrite, debug" log_level=info
  fi
  pick_port push
  pick_port ptel
  pick_port prom
  mkdir -p "$STATE/otelcol"
  printf 'global: {}\n' >"$STATE/otelcol/prometheus.yml"
  binary prometheus "$PROMETHEUS_VERSION"
  start_component otelcol-backend "$BINARY" \
    --config.file="$STATE/otelcol/prometheus.yml" --storage.tsdb.path="$STATE/otelcol/data" \
    --web.listen-address="127.0.0.1:$prom" --web.enable-remote-write-receiver \
    --enable-feature=metadata-wal-records --log.level=warn
  wait_for otelcol-backend 60 http_ok "http://127.0.0.1:$prom/-/ready"
  cat >"$STATE/otelcol/config.yaml" <<EOF
receivers:
  prometheus_remote_write:
    endpoint: 127.0.0.1:$push
exporters:
  prometheusremotewrite:
    endpoint: http://127.0.0.1:$prom/api/v1/write
    add_metric_suffixes: false
  # With KSP_RECEIVER_OTEL_DEBUG=1 every data point goes to the log, start timestamps
  # included (the remote-write exporter into Prometheus does not carry them).
  debug: {verbosity: detailed}
service:
  telemetry:
    logs: {level: $log_level}
    metrics:
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: $ptel}
  pipelines:
    metrics:
      receivers: [prometheus_remote_write]
      exporters: [$exporters]
EOF
  binary otelcol "$OTELCOL_VERSION"
  start_component otelcol "$BINARY" --config="$STATE/otelcol/config.yaml"
  wait_for otelcol 60 port_in_use "$push"
  write_env otelcol "http://127.0.0.1:$push/api/v1/write" "http://127.0.0.1:$prom" \
    "http://127.0.0.1:$ptel/metrics" 2.0
}

start_prometheus2() {
  local http
  pick_port http
  mkdir -p "$STATE/prometheus2"
  printf 'global: {}\n' >"$STATE/prometheus2/prometheus.yml"
  binary prometheus2 "$PROMETHEUS2_VERSION"
  start_component prometheus2 "$BINARY" \
    --config.file="$STATE/prometheus2/prometheus.yml" --storage.tsdb.path="$STATE/prometheus2/data" \
    --web.listen-address="127.0.0.1:$http" --web.enable-remote-write-receiver --log.level=warn
  wait_for prometheus2 60 http_ok "http://127.0.0.1:$http/-/ready"
  write_env prometheus2 "http://127.0.0.1:$http/api/v1/write" "http://127.0.0.1:$http" \
    "http://127.0.0.1:$http/metrics" 1.0
}

# write_env NAME PUSH QUERY METRICS PROTOCOL
write_env() {
  {
    echo "RECEIVER=$1"
    echo "RECEIVER_PUSH_URL=$2"
    echo "RECEIVER_QUERY_URL=$3"
    echo "RECEIVER_METRICS_URL=$4"
    echo "RECEIVER_PROTOCOL=$5"
  } >"$STATE/env"
}

cmd_up() {
  local name=$1
  case " $RECEIVERS " in *" $name "*) ;; *) usage ;; esac
  case $2 in
    *[[:space:]\'\"\\\$\`]*) die "state dir must not contain spaces or quotes: $2" ;;
  esac
  mkdir -p "$2"
  STATE=$(cd "$2" && pwd -P)
  [ -z "$(ls -A "$STATE")" ] || die "$STATE is not empty"
  touch "$STATE/$MARKER"
  mkdir -p "$STATE/pids" "$STATE/logs"
  trap 'on_up_exit $?' EXIT
  # Interrupted, the EXIT trap would see status 0 and keep what was started.
  trap 'exit 130' INT TERM
  # Some write into their working directory (Mimir's activity log, Cortex's query tracker).
  cd "$STATE"
  "start_${name//-/_}"
  trap - EXIT
  log "$name ready"
  cat "$STATE/env"
}

# A failed start stops what it started and leaves the logs for reading.
on_up_exit() {
  [ "$1" -eq 0 ] && return
  stop_all
  log "start failed; logs kept in $STATE/logs"
}

cmd_down() {
  case $1 in
    *[[:space:]\'\"\\\$\`]*) die "state dir must not contain spaces or quotes: $1" ;;
  esac
  [ -d "$1" ] || return 0
  STATE=$(cd "$1" && pwd -P)
  [ -f "$STATE/$MARKER" ] || die "$STATE was not made by this script"
  stop_all
  if [ "${KSP_KEEP_STATE:-0}" = 1 ]; then
    log "stopped; state kept in $STATE"
  else
    rm -rf "$STATE"
    log "stopped; removed $STATE"
  fi
}

case ${1:-} in
  up) [ $# -eq 3 ] || usage; cmd_up "$2" "$3" ;;
  down) [ $# -eq 2 ] || usage; cmd_down "$2" ;;
  *) usage ;;
esac

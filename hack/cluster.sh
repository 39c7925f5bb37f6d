#!/usr/bin/env bash
# Starts and stops a real local Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok fake nodes) and a Prometheus 3
# remote-write receiver, all on 127.0.0.1, for `make demo`, the e2e suite and benchmarks.
#
#   hack/cluster.sh up     <state-dir>   start everything, print the env (KEY=VALUE) on stdout
#   hack/cluster.sh down   <state-dir>   stop everything started there, remove the dir
#   hack/cluster.sh status <state-dir>   show which components are running
#   hack/cluster.sh stop-receiver|start-receiver <state-dir>     stop or start Prometheus again
#   hack/cluster.sh stop-apiserver|start-apiserver <state-dir>   stop or start kube-apiserver again
#   hack/cluster.sh backup-etcd <state-dir>    copy etcd's data dir (etcd stops for a moment)
#   hack/cluster.sh restore-etcd <state-dir>   put that copy back (etcd and the control plane restart)
#
# Environment:
#   KSP_NODES=3          number of kwok nodes created by `up` (kwok-node-0..N-1)
#   KSP_NODE_PODS=110    pods each kwok node takes
#   KSP_APISERVER_FEATURE_GATES=ShardedListAndWatch=true
#                        kube-apiserver's --feature-gates (`up` and `start-apiserver`);
#                        empty for the defaults
#   KSP_CONTROLLER_QPS=200   client QPS of the controller-manager and the scheduler (burst: twice)
#   KSP_CONTROLLER_SYNCS     workers of the deployment, replicaset, statefulset, job, daemonset and
#                            endpoint(slice) controllers (default: theirs, 5 or so)
#   KSP_KWOK_PARALLELISM     pod stages kwok plays at once (default: kwok's, 4)
#   KSP_KEEP_STATE=1     `down` keeps the state dir (logs, data) instead of removing it
#   KSP_CACHE            where hack/build-components.sh caches the binaries
#
# The state dir holds certs/, logs/<component>.log, pids/<component>.pid, data dirs,
# kubeconfig and env (a sourceable KEY=VALUE file). Progress goes to stderr.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source=hack/versions.sh
. "$HACK_DIR/versions.sh"
CACHE=${KSP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-state-push}

# Start order; `down` stops them in reverse.
COMPONENTS=(etcd prometheus kube-apiserver kube-controller-manager kube-scheduler kwok)
MARKER=.kube-state-push-cluster

STATE=""
BIN=""
STARTED=()
KWOK_CONFIGS=()

# shellcheck source=hack/lib.sh
. "$HACK_DIR/lib.sh"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
  echo "usage: $0 up|down|status|stop-receiver|start-receiver|stop-apiserver|start-apiserver|backup-etcd|restore-etcd <state-dir>" >&2
  exit 2
}

# set_state_dir DIR [create]: resolve DIR to an absolute path in STATE.
set_state_dir() {
  local dir=$1
  case $dir in
    *[[:space:]\'\"\\\$\`]*) die "state dir must not contain spaces or quotes: $dir" ;;
  esac
  if [ "${2:-}" = create ]; then
    mkdir -p "$dir"
  fi
  if [ -d "$dir" ]; then
    STATE=$(cd "$dir" && pwd -P)
  else
    STATE=$dir
  fi
}

# ---------------------------------------------------------------------------------------
# Health checks (processes and ports: hack/lib.sh)

etcd_healthy() {
  local body
  body=$(curl -fsS --max-time 5 "$1/health") || return 1
  [[ $body == *'"health":"true"'* ]]
}

apiserver_ready() {
  curl -fsS --max-time 10 --cacert "$STATE/certs/ca.crt" \
    -H "Authorization: Bearer $ADMIN_TOKEN" -o /dev/null "$APISERVER_URL/readyz"
}

https_healthz() { curl -fsSk --max-time 5 -o /dev/null "https://127.0.0.1:$1/healthz"; }

kubectl_() { kubectl --kubeconfig "$STATE/kubeconfig" --request-timeout=20s "$@"; }

nodes_ready() {
  local states taints
  states=$(kubectl_ get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}') || return 1
  [ "$(grep -c '^True$' <<<"$states")" -ge "$KSP_NODES" ] || return 1
  # Until the node lifecycle controller lifts the not-ready taint nothing is scheduled there.
  taints=$(kubectl_ get nodes -l type=kwok -o jsonpath='{.items[*].spec.taints[*].key}') || return 1
  [[ $taints != *node.kubernetes.io/not-ready* ]]
}

default_sa_exists() { kubectl_ get serviceaccount default -n default; }

# ---------------------------------------------------------------------------------------
# Set-up

generate_certs() {
  local d=$STATE/certs
  mkdir -p "$d"
  cat >"$d/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost, IP:10.96.0.1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local
authorityKeyIdentifier = keyid
EOF
  (
    cd "$d"
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -subj /CN=kube-state-push-ca -days 3650 \
      -config openssl.cnf -extensions ca -out ca.crt 2>/dev/null
    openssl ecparam -name prime256v1 -genkey -noout -out apiserver.key 2>/dev/null
    openssl req -new -key apiserver.key -subj /CN=kube-apiserver -config openssl.cnf \
      -out apiserver.csr 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile openssl.cnf -extensions server -out apiserver.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    chmod 600 ./*.key
  ) || die "certificate generation with openssl failed"
}

write_auth_files() {
  ADMIN_TOKEN=$(openssl rand -hex 32)
  printf '%s,admin,admin,"system:masters"\n' "$ADMIN_TOKEN" >"$STATE/certs/tokens.csv"
  chmod 600 "$STATE/certs/tokens.csv"
  cat >"$STATE/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ksp
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(base64 -w0 <"$STATE/certs/ca.crt")
users:
- name: admin
  user:
    token: $ADMIN_TOKEN
contexts:
- name: ksp
  context:
    cluster: ksp
    user: admin
current-context: ksp
EOF
  chmod 600 "$STATE/kubeconfig"
}

write_component_configs() {
  mkdir -p "$STATE/config"
  cat >"$STATE/config/kube-scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $STATE/kubeconfig
  qps: $KSP_CONTROLLER_QPS
  burst: $((KSP_CONTROLLER_QPS * 2))
leaderElection:
  leaderElect: false
EOF
  if [ -n "${KSP_KWOK_PARALLELISM:-}" ]; then
    cat >"$STATE/config/kwok.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
# A configuration file gets none of kwok's defaults: they are all here.
options:
  cidr: 10.0.0.0/24
  manageAllNodes: false
  enableDebuggingHandlers: true
  enableContentionProfiling: false
  enableProfilingHandler: true
  podPlayStageParallelism: $KSP_KWOK_PARALLELISM
  nodePlayStageParallelism: 4
  nodeLeaseParallelism: 4
  podsOnNodeSyncParallelism: 1
  enablePodsOnNodeSyncListPager: true
  enablePodsOnNodeSyncStreamWatch: false
EOF
  fi
  cat >"$STATE/config/prometheus.yml" <<EOF
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:$PROMETHEUS_PORT']
EOF
}

# kwok_stage_configs: sets KWOK_CONFIGS to --config flags for the node-initialize,
# node-heartbeat-with-lease and (fast) pod stages that hack/build-components.sh caches.
kwok_stage_configs() {
  local dir=$CACHE/kwok-stages-$KWOK_VERSION-fast f
  local files=(node-initialize node-heartbeat-with-lease pod-ready pod-complete pod-delete)
  [ -d "$dir" ] || die "kwok stages missing: $dir (run hack/build-components.sh kwok)"
  KWOK_CONFIGS=()
  for f in "${files[@]}"; do
    [ -f "$dir/$f.yaml" ] || die "kwok stage missing: $dir/$f.yaml"
    KWOK_CONFIGS+=("--config=$dir/$f.yaml")
  done
}

start_etcd() {
  start_component etcd "$BIN/etcd-$ETCD_VERSION" \
    --name=ksp \
    --data-dir="$STATE/etcd" \
    --listen-client-urls="$ETCD_URL" \
    --advertise-client-urls="$ETCD_URL" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="ksp=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync=true \
    --log-level=warn
}

start_prometheus() {
  start_component prometheus "$BIN/prometheus-$PROMETHEUS_VERSION" \
    --config.file="$STATE/config/prometheus.yml" \
    --storage.tsdb.path="$STATE/prometheus" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    --web.enable-remote-write-receiver \
    --web.remote-write-receiver.accepted-protobuf-messages=prometheus.WriteRequest \
    --web.remote-write-receiver.accepted-protobuf-messages=io.prometheus.write.v2.Request
}

start_apiserver() {
  local c=$STATE/certs gates=()
  # Sharded list and watch (alpha) changes nothing for requests without a
  # shard selector.
  local g=${KSP_APISERVER_FEATURE_GATES-ShardedListAndWatch=true}
  [ -n "$g" ] && gates=(--feature-gates="$g")
  start_component kube-apiserver "$BIN/kube-apiserver-$K8S_VERSION" \
    --etcd-servers="$ETCD_URL" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="$APISERVER_PORT" \
    --endpoint-reconciler-type=none \
    --tls-cert-file="$c/apiserver.crt" \
    --tls-private-key-file="$c/apiserver.key" \
    --client-ca-file="$c/ca.crt" \
    --requestheader-client-ca-file="$c/ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --token-auth-file="$c/tokens.csv" \
    --authorization-mode=Node,RBAC \
    --service-account-key-file="$c/sa.pub" \
    --service-account-signing-key-file="$c/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range=10.96.0.0/16 \
    --allow-privileged=true \
    --cert-dir="$c" \
    --profiling=false \
    "${gates[@]}"
}

start_controller_manager() {
  local syncs=() c
  if [ -n "${KSP_CONTROLLER_SYNCS:-}" ]; then
    for c in deployment replicaset statefulset job daemonset endpoint service-endpoint; do
      syncs+=("--concurrent-$c-syncs=$KSP_CONTROLLER_SYNCS")
    done
  fi
  start_component kube-controller-manager "$BIN/kube-controller-manager-$K8S_VERSION" \
    --kubeconfig="$STATE/kubeconfig" \
    --authentication-kubeconfig="$STATE/kubeconfig" \
    --authorization-kubeconfig="$STATE/kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$KCM_PORT" \
    --cert-dir="$STATE/certs/kube-controller-manager" \
    --controllers='*' \
    --leader-elect=false \
    --kube-api-qps="$KSP_CONTROLLER_QPS" \
    --kube-api-burst=$((KSP_CONTROLLER_QPS * 2)) \
    --service-account-private-key-file="$STATE/certs/sa.key" \
    --root-ca-file="$STATE/certs/ca.crt" \
    --profiling=false \
    "${syncs[@]}"
}

start_scheduler() {
  start_component kube-scheduler "$BIN/kube-scheduler-$K8S_VERSION" \
    --config="$STATE/config/kube-scheduler.yaml" \
    --authentication-kubeconfig="$STATE/kubeconfig" \
    --authorization-kubeconfig="$STATE/kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$SCHEDULER_PORT" \
    --cert-dir="$STATE/certs/kube-scheduler" \
    --profiling=false
}

start_kwok() {
  kwok_stage_configs
  if [ -f "$STATE/config/kwok.yaml" ]; then
    KWOK_CONFIGS+=("--config=$STATE/config/kwok.yaml")
  fi
  start_component kwok "$BIN/kwok-$KWOK_VERSION" \
    --kubeconfig="$STATE/kubeconfig" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40 \
    "${KWOK_CONFIGS[@]}"
}

create_nodes() {
  local i
  log "creating $KSP_NODES kwok nodes"
  for ((i = 0; i < KSP_NODES; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
status:
  addresses:
  - type: InternalIP
    address: 10.244.$((i / 250)).$((i % 250 + 1))
  - type: Hostname
    address: kwok-node-$i
  capacity:
    cpu: "32"
    memory: 256Gi
    pods: "$KSP_NODE_PODS"
  allocatable:
    cpu: "32"
    memory: 256Gi
    pods: "$KSP_NODE_PODS"
EOF
  done | kubectl_ create -f - >/dev/null || die "creating kwok nodes failed"
}

print_env() {
  cat "$STATE/env"
}

write_env() {
  cat >"$STATE/env.tmp" <<EOF
KUBECONFIG=$STATE/kubeconfig
APISERVER_URL=$APISERVER_URL
PROMETHEUS_URL=$PROMETHEUS_URL
ADMIN_TOKEN=$ADMIN_TOKEN
CA_FILE=$STATE/certs/ca.crt
ETCD_URL=$ETCD_URL
EOF
  mv "$STATE/env.tmp" "$STATE/env"
}

# on_up_exit: if `up` did not finish, stop what it started (logs stay for inspection).
on_up_exit() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" -ne 0 ] && [ ${#STARTED[@]} -gt 0 ]; then
    log "start-up failed; stopping the components started so far (logs kept in $STATE/logs)"
    stop_all || true
    rm -f "$STATE/env"
  fi
  exit "$rc"
}

# ---------------------------------------------------------------------------------------
# Commands

# start_cluster: one start attempt with fresh ports, certs and data; on failure the EXIT
# trap stops whatever it started. Runs in a subshell of cmd_up.
start_cluster() {
  # Fresh state (a stopped cluster's data would hold the old certs and tokens).
  rm -rf "${STATE:?}/etcd" "$STATE/prometheus" "$STATE/certs" "$STATE/config" \
    "$STATE/pids" "$STATE/logs" "$STATE/env" "$STATE/kubeconfig"
  mkdir -p "$STATE/logs" "$STATE/pids"
  touch "$STATE/$MARKER"
  trap on_up_exit EXIT
  trap 'exit 130' INT TERM

  local v
  for v in ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHEDULER_PORT PROMETHEUS_PORT; do
    pick_port "$v"
  done
  ETCD_URL=http://127.0.0.1:$ETCD_PORT
  APISERVER_URL=https://127.0.0.1:$APISERVER_PORT
  PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT

  generate_certs
  write_auth_files
  write_component_configs

  start_etcd
  start_prometheus
  wait_for etcd 60 etcd_healthy "$ETCD_URL"

  start_apiserver
  wait_for kube-apiserver 120 apiserver_ready

  start_controller_manager
  start_scheduler
  start_kwok
  create_nodes

  wait_for kube-controller-manager 90 https_healthz "$KCM_PORT"
  wait_for kube-scheduler 90 https_healthz "$SCHEDULER_PORT"
  wait_for prometheus 90 http_ok "$PROMETHEUS_URL/-/ready"
  wait_for kwok 120 nodes_ready
  wait_for kube-controller-manager 90 default_sa_exists

  write_env
  trap - EXIT INT TERM
}

# cmd_receiver stop|start DIR: stops or starts again the Prometheus receiver of a running
# cluster, on the same port and storage, to test receiver outages.
cmd_receiver() {
  set_state_dir "$2"
  [ -f "$STATE/env" ] || die "no cluster in $STATE"
  case $1 in
    stop) stop_component prometheus ;;
    start)
      if is_running prometheus; then
        log "prometheus is already running"
        return 0
      fi
      PROMETHEUS_URL=$(sed -n 's/^PROMETHEUS_URL=//p' "$STATE/env")
      PROMETHEUS_PORT=${PROMETHEUS_URL##*:}
      BIN=$CACHE/bin
      start_prometheus
      wait_for prometheus 90 http_ok "$PROMETHEUS_URL/-/ready"
      log "prometheus is ready again"
      ;;
  esac
}

# cmd_apiserver stop|start DIR: stops or starts again the kube-apiserver of a running
# cluster, with the same flags, port, certs and etcd, to test apiserver restarts. The
# controller-manager, the scheduler and kwok stay up and reconnect by themselves.
cmd_apiserver() {
  set_state_dir "$2"
  [ -f "$STATE/env" ] || die "no cluster in $STATE"
  case $1 in
    stop) stop_component kube-apiserver ;;
    start)
      if is_running kube-apiserver; then
        log "kube-apiserver is already running"
        return 0
      fi
      APISERVER_URL=$(sed -n 's/^APISERVER_URL=//p' "$STATE/env")
      APISERVER_PORT=${APISERVER_URL##*:}
      ETCD_URL=$(sed -n 's/^ETCD_URL=//p' "$STATE/env")
      ADMIN_TOKEN=$(sed -n 's/^ADMIN_TOKEN=//p' "$STATE/env")
      BIN=$CACHE/bin
      [ -x "$BIN/kube-apiserver-$K8S_VERSION" ] || die "missing binary $BIN/kube-apiserver-$K8S_VERSION"
      # The log of the previous run is kept beside the new one.
      [ -f "$STATE/logs/kube-apiserver.log" ] &&
        cat "$STATE/logs/kube-apiserver.log" >>"$STATE/logs/kube-apiserver.previous.log"
      start_apiserver
      wait_for kube-apiserver 120 apiserver_ready
      log "kube-apiserver is ready again"
      ;;
  esac
}

# etcd_env: what starting etcd and the apiserver again needs, from the running cluster
# (the peer port is in etcd's own command line only).
etcd_env() {
  ETCD_URL=$(sed -n 's/^ETCD_URL=//p' "$STATE/env")
  local pid
  pid=$(pid_of etcd) || die "etcd is not running in $STATE"
  ETCD_PEER_PORT=$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n 's|^--listen-peer-urls=http://127.0.0.1:||p')
  [ -n "$ETCD_PEER_PORT" ] || die "cannot read etcd's peer port"
  BIN=$CACHE/bin
}

# restart_etcd: starts etcd again on its data directory, keeping the last log.
restart_etcd() {
  [ -f "$STATE/logs/etcd.log" ] && cat "$STATE/logs/etcd.log" >>"$STATE/logs/etcd.previous.log"
  start_etcd
  wait_for etcd 60 etcd_healthy "$ETCD_URL"
}

# restart_same NAME: stops NAME and starts it again with the same command line.
restart_same() {
  local name=$1 pid args=()
  pid=$(pid_of "$name") || die "$name is not running in $STATE"
  mapfile -d '' args <"/proc/$pid/cmdline"
  stop_component "$name"
  [ -f "$STATE/logs/$name.log" ] && cat "$STATE/logs/$name.log" >>"$STATE/logs/$name.previous.log"
  start_component "$name" "${args[@]}"
}

# port_of NAME: the --secure-port of NAME's command line.
port_of() {
  local pid
  pid=$(pid_of "$1") || die "$1 is not running in $STATE"
  tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n 's/^--secure-port=//p'
}

# cmd_etcd backup|restore DIR: backup stops etcd for a moment, copies its data
# directory (as a volume snapshot would) and starts it again; the apiserver
# reconnects by itself. restore stops the apiserver and etcd, puts the copy back and
# starts both: the cluster is as it was at the backup, and its resourceVersions go
# back to the backup's revision. As Kubernetes advises after a restore, the
# controller-manager, the scheduler and kwok are restarted too: their watches would
# resume from resourceVersions the restored apiserver has not reached, and miss events.
cmd_etcd() {
  set_state_dir "$2"
  [ -f "$STATE/env" ] || die "no cluster in $STATE"
  etcd_env
  case $1 in
    backup)
      stop_component etcd
      rm -rf "${STATE:?}/etcd.backup"
      cp -a "$STATE/etcd" "$STATE/etcd.backup"
      restart_etcd
      log "etcd backed up to $STATE/etcd.backup"
      ;;
    restore)
      [ -d "$STATE/etcd.backup" ] || die "no etcd backup in $STATE; run: $0 backup-etcd $STATE"
      stop_component kube-apiserver
      stop_component etcd
      rm -rf "${STATE:?}/etcd"
      cp -a "$STATE/etcd.backup" "$STATE/etcd"
      restart_etcd
      cmd_apiserver start "$STATE"
      local c
      for c in kube-controller-manager kube-scheduler kwok; do
        restart_same "$c"
      done
      wait_for kube-controller-manager 60 https_healthz "$(port_of kube-controller-manager)"
      wait_for kube-scheduler 60 https_healthz "$(port_of kube-scheduler)"
      log "etcd restored from $STATE/etcd.backup"
      ;;
  esac
}

cmd_up() {
  set_state_dir "$1" create
  KSP_NODES=${KSP_NODES:-3}
  [[ $KSP_NODES =~ ^[0-9]+$ ]] || die "KSP_NODES must be a number: $KSP_NODES"
  KSP_NODE_PODS=${KSP_NODE_PODS:-110}
  [[ $KSP_NODE_PODS =~ ^[0-9]+$ ]] || die "KSP_NODE_PODS must be a number: $KSP_NODE_PODS"
  KSP_CONTROLLER_QPS=${KSP_CONTROLLER_QPS:-200}
  [[ $KSP_CONTROLLER_QPS =~ ^[1-9][0-9]*$ ]] || die "KSP_CONTROLLER_QPS must be a number: $KSP_CONTROLLER_QPS"
  [[ ${KSP_CONTROLLER_SYNCS:-1} =~ ^[1-9][0-9]*$ ]] || die "KSP_CONTROLLER_SYNCS must be a number: $KSP_CONTROLLER_SYNCS"
  [[ ${KSP_KWOK_PARALLELISM:-1} =~ ^[1-9][0-9]*$ ]] || die "KSP_KWOK_PARALLELISM must be a number: $KSP_KWOK_PARALLELISM"

  local running=() name
  for name in "${COMPONENTS[@]}"; do
    is_running "$name" && running+=("$name")
  done
  if [ ${#running[@]} -eq ${#COMPONENTS[@]} ] && [ -f "$STATE/env" ]; then
    log "cluster in $STATE is already running"
    print_env
    return 0
  fi
  if [ ${#running[@]} -gt 0 ]; then
    die "cluster in $STATE is partly running (${running[*]}); run: $0 down $STATE"
  fi
  if [ ! -f "$STATE/$MARKER" ] && [ -n "$(ls -A "$STATE")" ]; then
    die "$STATE is not empty and was not created by $0; choose another state dir"
  fi

  local t0=$SECONDS
  BIN=$("$HACK_DIR/build-components.sh") || die "hack/build-components.sh failed"
  for name in "etcd-$ETCD_VERSION" "kube-apiserver-$K8S_VERSION" "kube-controller-manager-$K8S_VERSION" \
    "kube-scheduler-$K8S_VERSION" "kwok-$KWOK_VERSION" "prometheus-$PROMETHEUS_VERSION"; do
    [ -x "$BIN/$name" ] || die "missing binary $BIN/$name"
  done
  for name in kubectl openssl curl setsid; do
    command -v "$name" >/dev/null || die "$name not found in PATH"
  done

  # A port picked as free can be taken before the component binds it (another cluster
  # starting at the same time): then start again with new ports.
  local attempt rc child
  for attempt in 1 2 3; do
    # In the background so that INT/TERM reach it (and its clean-up) through the trap.
    set +e
    (set -e; start_cluster) &
    child=$!
    trap 'kill -TERM "$child" 2>/dev/null' INT TERM
    wait "$child"
    rc=$?
    while kill -0 "$child" 2>/dev/null; do
      wait "$child"
      rc=$?
    done
    trap - INT TERM
    set -e
    [ "$rc" -eq 0 ] && break
    if [ "$rc" -ne 1 ] || [ "$attempt" -eq 3 ] ||
      ! grep -qs 'address already in use' "$STATE"/logs/*.log; then
      exit "$rc"
    fi
    log "a port was taken meanwhile; starting again with new ports"
  done
  log "cluster up in $((SECONDS - t0))s (state: $STATE)"
  print_env
}

cmd_down() {
  set_state_dir "$1"
  if [ ! -d "$STATE" ]; then
    log "nothing to stop: $STATE does not exist"
    return 0
  fi
  stop_all
  if [ "${KSP_KEEP_STATE:-0}" = 1 ]; then
    log "stopped; state kept in $STATE"
  elif [ -f "$STATE/$MARKER" ]; then
    rm -rf "$STATE"
    log "stopped; removed $STATE"
  else
    log "stopped; $STATE was not created by this script, not removing it"
  fi
}

cmd_status() {
  set_state_dir "$1"
  local name pid up=0
  for name in "${COMPONENTS[@]}"; do
    if pid=$(pid_of "$name"); then
      printf '%-24s running (pid %s)\n' "$name" "$pid"
      up=$((up + 1))
    else
      printf '%-24s stopped\n' "$name"
    fi
  done
  if [ "$up" -eq ${#COMPONENTS[@]} ] && [ -f "$STATE/env" ]; then
    print_env
    return 0
  fi
  return 1
}

[ $# -eq 2 ] || usage
case $1 in
  up) cmd_up "$2" ;;
  stop-receiver) cmd_receiver stop "$2" ;;
  start-receiver) cmd_receiver start "$2" ;;
  stop-apiserver) cmd_apiserver stop "$2" ;;
  start-apiserver) cmd_apiserver start "$2" ;;
  backup-etcd) cmd_etcd backup "$2" ;;
  restore-etcd) cmd_etcd restore "$2" ;;
  down) cmd_down "$2" ;;
  status) cmd_status "$2" ;;
  *) usage ;;
esac

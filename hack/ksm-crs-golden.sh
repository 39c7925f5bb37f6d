#!/usr/bin/env bash
# Regenerates the kube-state-metrics custom-resource-state golden files in
# customresource/testdata/ksm/: it starts the test cluster (hack/cluster.sh), applies
# crds.yaml and objects.yaml there, runs the real KSM (the version in hack/versions.sh,
# from the component cache) with --custom-resource-state-only and config.yaml, and saves
# what KSM serves:
#
#   metrics.txt                 /metrics as text 0.0.4, every object applied
#   metrics.openmetrics.txt     the same scrape as OpenMetrics
#   metrics.after-update.txt    after the status of Application argocd/billing changed
#   metrics.after-delete.txt    after Certificate team-a/api-tls was deleted
#   metrics.after-crd-delete.txt  after the Bucket CRD was deleted
#   ksm.log                     KSM's log (-v=2): the config, CRD discovery, field errors
#   objects.served.yaml         the objects as the apiserver serves them to KSM
#
#   hack/ksm-crs-golden.sh [state-dir]
#
# KSM_FULL_LOG=FILE also keeps KSM's whole log there.
#
# The cluster runs in state-dir (default: a new temporary directory) only while the
# files are captured; KSM and the cluster are stopped by pid when the script exits.
# Needs kubectl, curl and openssl in PATH (as hack/cluster.sh does); the binaries come
# from hack/build-components.sh, which builds what the cache lacks.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HACK_DIR/.." && pwd)
OUT=$ROOT/customresource/testdata/ksm

# shellcheck source=hack/versions.sh
. "$HACK_DIR/versions.sh"

log() { printf '[ksm-crs-golden] %s\n' "$*" >&2; }
die() { printf '[ksm-crs-golden] ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=hack/lib.sh
. "$HACK_DIR/lib.sh" # pick_port

for f in crds.yaml objects.yaml config.yaml; do
  [ -f "$OUT/$f" ] || die "missing $OUT/$f"
done
for name in kubectl curl; do
  command -v "$name" >/dev/null || die "$name not found in PATH"
done

WORK=$(mktemp -d)
STATE=${1:-$WORK/cluster}
CLUSTER_UP=0
KSM_PID=""

stop_ksm() {
  [ -n "$KSM_PID" ] || return 0
  if kill -0 "$KSM_PID" 2>/dev/null; then
    log "stopping kube-state-metrics (pid $KSM_PID)"
    kill -TERM "$KSM_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "$KSM_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$KSM_PID" 2>/dev/null; then
      log "kube-state-metrics did not exit after TERM, sending KILL"
      kill -KILL "$KSM_PID" 2>/dev/null || true
    fi
  fi
  wait "$KSM_PID" 2>/dev/null || true
  KSM_PID=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_ksm
  # KSM_FULL_LOG=FILE keeps KSM's whole log (to see why a capture failed).
  if [ -n "${KSM_FULL_LOG:-}" ] && [ -f "$WORK/ksm.log" ]; then
    cp "$WORK/ksm.log" "$KSM_FULL_LOG" || true
  fi
  if [ "$CLUSTER_UP" = 1 ]; then
    "$HACK_DIR/cluster.sh" down "$STATE" || rc=1
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BIN=$("$HACK_DIR/build-components.sh" ksm)
KSM_BIN=$BIN/kube-state-metrics-$KSM_VERSION
[ -x "$KSM_BIN" ] || die "missing binary $KSM_BIN"

log "starting the cluster in $STATE"
CLUSTER_UP=1
KSP_NODES=1 "$HACK_DIR/cluster.sh" up "$STATE" >"$WORK/env"
KUBECONFIG=$(sed -n 's/^KUBECONFIG=//p' "$WORK/env")
[ -f "$KUBECONFIG" ] || die "hack/cluster.sh printed no KUBECONFIG"

k() { kubectl --kubeconfig "$KUBECONFIG" --request-timeout=30s "$@"; }

# create, not apply: no last-applied-configuration annotation in the objects KSM reads.
log "creating crds.yaml"
k create -f "$OUT/crds.yaml" >&2
k wait --for=condition=Established --timeout=60s -f "$OUT/crds.yaml" >&2
log "creating objects.yaml"
k create -f "$OUT/objects.yaml" >&2
# The objects as the apiserver serves them (nulls pruned, defaults set), without the
# fields that differ on every run.
k get certificates.cert-manager.io,applications.argoproj.io,buckets.s3.aws.upbound.io,resourcebudgets.quota.example.com \
  -A -o yaml | sed -E '/^ *(creationTimestamp|generation|resourceVersion|uid): /d' >"$OUT/objects.served.yaml"
log "saved objects.served.yaml"

pick_port KSM_PORT
pick_port KSM_TELEMETRY_PORT
METRICS_URL=http://127.0.0.1:$KSM_PORT/metrics
# -v=2: errors of metrics with errorLogV 1 are logged, those with errorLogV 4 or 10 are not.
log "starting kube-state-metrics $KSM_VERSION on 127.0.0.1:$KSM_PORT"
"$KSM_BIN" \
  --kubeconfig "$KUBECONFIG" \
  --host 127.0.0.1 --port "$KSM_PORT" \
  --telemetry-host 127.0.0.1 --telemetry-port "$KSM_TELEMETRY_PORT" \
  --custom-resource-state-only \
  --custom-resource-state-config-file "$OUT/config.yaml" \
  --v=2 \
  </dev/null >"$WORK/ksm.log" 2>&1 &
KSM_PID=$!

# scrape FILE [ACCEPT]: one GET of /metrics into FILE.
scrape() {
  curl -fsS --max-time 10 -H "Accept: ${2:-text/plain;version=0.0.4}" -o "$1" "$METRICS_URL"
}

# capture NAME CHECK...: scrapes until CHECK FILE passes and three scrapes a second apart
# hold the same series (KSM's order of series varies between scrapes), then saves the
# last scrape as $OUT/NAME.
capture() {
  local name=$1 deadline=$((SECONDS + 120)) prev="" sum same=0
  shift
  while :; do
    kill -0 "$KSM_PID" 2>/dev/null || { tail -n 20 "$WORK/ksm.log" >&2; die "kube-state-metrics exited"; }
    if scrape "$WORK/scrape" 2>/dev/null && "$@" "$WORK/scrape"; then
      sum=$(sort "$WORK/scrape" | cksum)
      if [ "$sum" = "$prev" ]; then
        same=$((same + 1))
      else
        same=0
      fi
      prev=$sum
      [ "$same" -ge 2 ] && break
    fi
    ((SECONDS < deadline)) || die "$name: no stable exposition passing $* after 120s"
    sleep 1
  done
  cp "$WORK/scrape" "$OUT/$name"
  log "saved $name ($(grep -vc '^#' "$OUT/$name") series)"
}

has() { grep -Eq "$1" "$2"; }
lacks() { ! grep -Eq "$1" "$2"; }
all_kinds() {
  local kind
  for kind in Certificate Application Bucket; do
    has "customresource_kind=\"$kind\"" "$1" || return 1
  done
  has 'customresource_kind="ResourceBudget",customresource_version="v1alpha1"' "$1" &&
    has 'customresource_kind="ResourceBudget",customresource_version="v1"' "$1"
}

capture metrics.txt all_kinds
scrape "$OUT/metrics.openmetrics.txt" 'application/openmetrics-text;version=1.0.0'
log "saved metrics.openmetrics.txt"

log "changing the status of Application argocd/billing"
k patch applications.argoproj.io billing -n argocd --type=merge -p \
  '{"status":{"sync":{"status":"Synced"},"health":{"status":"Healthy","message":null},"operationState":{"phase":"Succeeded","finishedAt":"2026-12-03T08:03:30Z"}}}' >&2
capture metrics.after-update.txt has '^argocd_app_sync_status\{[^}]*name="billing"[^}]*sync_status="Synced"\} 1$'

log "deleting Certificate team-a/api-tls"
k delete certificates.cert-manager.io api-tls -n team-a --wait=true >&2
capture metrics.after-delete.txt lacks 'name="api-tls"'

log "deleting CRD buckets.s3.aws.upbound.io"
k delete customresourcedefinitions.apiextensions.k8s.io buckets.s3.aws.upbound.io --wait=true >&2
# Until KSM's CRD discovery has dropped the store, the families stay announced without series.
capture metrics.after-crd-delete.txt lacks 'upbound_bucket_'

# Give KSM's CRD discovery (it polls every 3 s) time to log what it did with the deleted CRD.
sleep 5
stop_ksm
# KSM's log, without client-go's feature gate lines.
grep -v 'envvar.go.*"Feature gate default state"' "$WORK/ksm.log" >"$OUT/ksm.log" || true
log "saved ksm.log ($(wc -l <"$OUT/ksm.log") lines; $(wc -l <"$WORK/ksm.log") in KSM's whole log)"

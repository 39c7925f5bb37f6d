#!/usr/bin/env bash
# Builds the real components that `make demo`, the e2e suite and the benchmarks run:
# kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok, Prometheus and
# kube-state-metrics (the reference the parity test compares the agent with), and helm,
# kubeconform and the Kubernetes JSON schemas the chart tests use.
# Everything comes from the Go module proxy and is cached outside the repository, so a
# second run (or CI on the same machine) finishes at once. Prints the cache's bin directory.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-v0.316.0}
KSM_VERSION=${KSM_VERSION:-v2.20.0}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
KUBECONFORM_VERSION=${KUBECONFORM_VERSION:-v0.8.0}
# Remote-write receivers the e2e suite pushes to (hack/receivers.sh starts them).
MIMIR_VERSION=${MIMIR_VERSION:-v1.3.1-0.20260423142704-aced80d74930}
CORTEX_VERSION=${CORTEX_VERSION:-v1.21.1}
THANOS_VERSION=${THANOS_VERSION:-v0.42.5}
THANOS_GO=${THANOS_GO:-go1.26.10}
VM_VERSION=${VM_VERSION:-v1.151.0}
OTELCOL_VERSION=${OTELCOL_VERSION:-v0.148.0}
OTELCOL_CORE_VERSION=${OTELCOL_CORE_VERSION:-v1.54.0}
PROMETHEUS2_VERSION=${PROMETHEUS2_VERSION:-v0.42.0}

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${KSP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-state-push}
BIN=$CACHE/bin
SRC=$CACHE/src
mkdir -p "$BIN" "$SRC"
export GOFLAGS=-mod=mod

log() { printf '[build-components] %s\n' "$*" >&2; }

# have NAME: true when the versioned binary is already cached.
have() { [ -x "$BIN/$1" ]; }

# The kubernetes module replaces every k8s.io staging module with ./staging/..., which
# `go install` refuses; a wrapper module pins each of them to the matching v0.x tag instead.
build_kubernetes() {
  local names=() n
  for n in kube-apiserver kube-controller-manager kube-scheduler; do
    have "$n-$K8S_VERSION" || names+=("$n")
  done
  [ ${#names[@]} -eq 0 ] && return
  local dir=$SRC/kubernetes-$K8S_VERSION staging=v0.${K8S_VERSION#v1.}
  mkdir -p "$dir"
  (
    cd "$dir"
    if [ ! -f go.sum ]; then
      log "preparing wrapper module for k8s.io/kubernetes $K8S_VERSION"
      local gomod
      gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
      {
        printf 'module kube-state-push.build/kubernetes\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes %s\n\n' "$K8S_VERSION"
        awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "$gomod" | sort -u |
          while read -r m; do printf 'replace %s => %s %s\n' "$m" "$m" "$staging"; done
      } > go.mod
      cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
      go mod tidy
    fi
    for n in "${names[@]}"; do
      log "building $n $K8S_VERSION (a few minutes when cold)"
      go build -o "$BIN/$n-$K8S_VERSION.tmp" "k8s.io/kubernetes/cmd/$n"
      mv "$BIN/$n-$K8S_VERSION.tmp" "$BIN/$n-$K8S_VERSION"
    done
  )
}

# etcd's server module replaces its sibling modules with ../; the wrapper pins them.
build_etcd() {
  have "etcd-$ETCD_VERSION" && return
  local dir=$SRC/etcd-$ETCD_VERSION
  mkdir -p "$dir"
  (
    cd "$dir"
    log "building etcd $ETCD_VERSION"
    {
      printf 'module kube-state-push.build/etcd\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n\n' "$ETCD_VERSION"
      for m in api client/pkg client pkg; do
        printf 'replace go.etcd.io/etcd/%s/v3 => go.etcd.io/etcd/%s/v3 %s\n' "$m" "$m" "$ETCD_VERSION"
      done
    } > go.mod
    cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    go mod tidy
    go build -o "$BIN/etcd-$ETCD_VERSION.tmp" .
    mv "$BIN/etcd-$ETCD_VERSION.tmp" "$BIN/etcd-$ETCD_VERSION"
  )
}

# kube-state-metrics: `go install` fails because the proxy refuses the module's version
# list, so a wrapper module requires the exact version and builds its main package (the
# module root). Its go.mod has no replace lines; the version is stamped as KSM's Makefile does.
build_ksm() {
  have "kube-state-metrics-$KSM_VERSION" && return
  local dir=$SRC/kube-state-metrics-$KSM_VERSION
  mkdir -p "$dir"
  (
    cd "$dir"
    log "building kube-state-metrics $KSM_VERSION (about a minute when cold)"
    printf 'module kube-state-push.build/kube-state-metrics\n\ngo 1.26.0\n\nrequire k8s.io/kube-state-metrics/v2 %s\n' \
      "$KSM_VERSION" > go.mod
    cat > tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kube-state-metrics/v2"
GO
    go mod tidy
    local cgv
    cgv=$(go list -m -f '{{.Version}}' k8s.io/client-go)
    go build -ldflags "-s -w -X github.com/prometheus/common/version.Version=$KSM_VERSION \
-X k8s.io/kube-state-metrics/v2/pkg/app.ClientGoVersion=$cgv" \
      -o "$BIN/kube-state-metrics-$KSM_VERSION.tmp" k8s.io/kube-state-metrics/v2
    mv "$BIN/kube-state-metrics-$KSM_VERSION.tmp" "$BIN/kube-state-metrics-$KSM_VERSION"
  )
}

# go_install NAME PKG VERSION: go install into a scratch GOBIN, then move into the cache.
go_install() {
  have "$1-$3" && return
  log "building $1 $3"
  local gobin=$SRC/gobin-$1-$3
  mkdir -p "$gobin"
  GOBIN=$gobin go install "$2@$3"
  mv "$gobin/$1" "$BIN/$1-$3"
  rmdir "$gobin"
}

# kwok refuses to start without stage definitions; they ship in its module. The
# "fast" sets make nodes Ready and pods Running, complete and deleted at once.
kwok_stages() {
  local dst=$CACHE/kwok-stages-$KWOK_VERSION-fast
  [ -d "$dst" ] && return
  local mod
  mod=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  mkdir -p "$dst.tmp"
  cp "$mod"/kustomize/stage/node/fast/node-initialize.yaml \
    "$mod"/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    "$mod"/kustomize/stage/pod/fast/pod-{ready,complete,delete}.yaml "$dst.tmp/"
  chmod -R u+w "$dst.tmp"
  mv "$dst.tmp" "$dst"
}

# Kubernetes JSON schemas for kubeconform, converted offline from the OpenAPI v3
# documents that ship in the k8s.io/kubernetes module (hack/openapi2jsonschema).
k8s_schemas() {
  local dst=$CACHE/schemas-$K8S_VERSION
  [ -f "$dst/.done" ] && return
  log "generating Kubernetes $K8S_VERSION JSON schemas"
  local mod
  mod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  rm -rf "$dst.tmp"
  (cd "$(dirname "$0")/.." && go run ./hack/openapi2jsonschema -kubernetes-version "$K8S_VERSION" -out "$dst.tmp" "$mod"/api/openapi-spec/v3/*.json)
  touch "$dst.tmp/.done"
  rm -rf "$dst"
  mv "$dst.tmp" "$dst"
}

# wrapped NAME MODULE VERSION PKG TAGS: builds PKG of MODULE through a wrapper module
# that requires MODULE at VERSION and copies its replace and exclude directives (Go
# ignores a dependency's, and `go install` refuses a module that has any). GOTOOLCHAIN
# in the environment picks another Go where the module needs one.
wrapped() {
  local name=$1 module=$2 version=$3 pkg=$4 tags=$5
  have "$name-$version" && return
  local dir=$SRC/$name-$version
  mkdir -p "$dir"
  (
    cd "$dir"
    if [ ! -f go.sum ]; then
      log "preparing wrapper module for $module $version"
      local gomod
      gomod=$(go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
      printf 'module kube-state-push.build/%s\n\ngo 1.26.0\n\nrequire %s %s\n' "$name" "$module" "$version" > go.mod
      # One `go mod edit` line per directive of MODULE's go.mod (local-path replaces are skipped).
      go mod edit -json "$gomod" | (cd "$HACK_DIR/.." && go run ./hack/modreplaces) | while read -r flag; do
        go mod edit "$flag"
      done
      printf '//go:build tools\n\npackage tools\n\nimport _ "%s/%s"\n' "$module" "$pkg" > tools.go
      go mod tidy
    fi
    log "building $name $version (several minutes when cold)"
    go build -tags "$tags" -trimpath -ldflags '-s -w' -o "$BIN/$name-$version.tmp" "$module/$pkg"
    mv "$BIN/$name-$version.tmp" "$BIN/$name-$version"
  )
}

# The OpenTelemetry Collector with what the tests need: the Remote-Write 2.0 receiver
# and, to read back what it received, the remote-write exporter (into a Prometheus).
build_otelcol() {
  have "otelcol-$OTELCOL_VERSION" && return
  local dir=$SRC/otelcol-$OTELCOL_VERSION contrib=github.com/open-telemetry/opentelemetry-collector-contrib
  mkdir -p "$dir"
  (
    cd "$dir"
    if [ ! -f go.sum ]; then
      log "preparing the OpenTelemetry Collector $OTELCOL_VERSION"
      cp "$HACK_DIR/otelcol/main.go.txt" main.go
      {
        printf 'module kube-state-push.build/otelcol\n\ngo 1.26.0\n\nrequire (\n'
        printf '\t%s/receiver/prometheusremotewritereceiver %s\n' "$contrib" "$OTELCOL_VERSION"
        printf '\t%s/exporter/prometheusremotewriteexporter %s\n' "$contrib" "$OTELCOL_VERSION"
        printf '\tgo.opentelemetry.io/collector/otelcol %s\n' "$OTELCOL_VERSION"
        printf '\tgo.opentelemetry.io/collector/exporter/debugexporter %s\n' "$OTELCOL_VERSION"
        printf '\tgo.opentelemetry.io/collector/component %s\n' "$OTELCOL_CORE_VERSION"
        printf '\tgo.opentelemetry.io/collector/confmap %s\n' "$OTELCOL_CORE_VERSION"
        printf '\tgo.opentelemetry.io/collector/confmap/provider/fileprovider %s\n' "$OTELCOL_CORE_VERSION"
        printf '\tgo.opentelemetry.io/collector/confmap/provider/envprovider %s\n' "$OTELCOL_CORE_VERSION"
        printf ')\n'
      } > go.mod
      # The checksum database does not know some contrib modules the proxy serves.
      GONOSUMDB=github.com/open-telemetry/opentelemetry-collector-contrib go mod tidy
    fi
    log "building the OpenTelemetry Collector $OTELCOL_VERSION"
    go build -trimpath -ldflags '-s -w' -o "$BIN/otelcol-$OTELCOL_VERSION.tmp" .
    mv "$BIN/otelcol-$OTELCOL_VERSION.tmp" "$BIN/otelcol-$OTELCOL_VERSION"
  )
}

build_receivers() {
  go_install victoria-metrics github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics "$VM_VERSION"
  wrapped prometheus2 github.com/prometheus/prometheus "$PROMETHEUS2_VERSION" cmd/prometheus netgo
  build_otelcol
  wrapped mimir github.com/grafana/mimir "$MIMIR_VERSION" cmd/mimir netgo,stringlabels
  wrapped cortex github.com/cortexproject/cortex "$CORTEX_VERSION" cmd/cortex netgo,slicelabels
  GOTOOLCHAIN=$THANOS_GO wrapped thanos github.com/thanos-io/thanos "$THANOS_VERSION" cmd/thanos netgo,slicelabels
}

chart_tools() {
  go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
  go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
  k8s_schemas
}

what=${1:-all}
case $what in
  all)
    build_etcd
    go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
    kwok_stages
    go_install prometheus github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION"
    build_kubernetes
    build_ksm
    chart_tools
    build_receivers
    ;;
  receivers) build_receivers ;;
  mimir) wrapped mimir github.com/grafana/mimir "$MIMIR_VERSION" cmd/mimir netgo,stringlabels ;;
  cortex) wrapped cortex github.com/cortexproject/cortex "$CORTEX_VERSION" cmd/cortex netgo,slicelabels ;;
  thanos) GOTOOLCHAIN=$THANOS_GO wrapped thanos github.com/thanos-io/thanos "$THANOS_VERSION" cmd/thanos netgo,slicelabels ;;
  victoria-metrics) go_install victoria-metrics github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics "$VM_VERSION" ;;
  otelcol) build_otelcol ;;
  prometheus2) wrapped prometheus2 github.com/prometheus/prometheus "$PROMETHEUS2_VERSION" cmd/prometheus netgo ;;
  kubernetes) build_kubernetes ;;
  etcd) build_etcd ;;
  kwok) go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"; kwok_stages ;;
  prometheus) go_install prometheus github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION" ;;
  ksm) build_ksm ;;
  chart) chart_tools ;;
  *) echo "usage: $0 [all|kubernetes|etcd|kwok|prometheus|ksm|chart|receivers|mimir|cortex|thanos|victoria-metrics|otelcol|prometheus2]" >&2; exit 2 ;;
esac
echo "$BIN"

#!/usr/bin/env bash
# Builds the developer tools pinned in hack/versions.sh from the Go module proxy
# into the component cache (the one hack/build-components.sh uses) and prints
# the path of the binary, so a second run finishes at once:
#
#	"$(hack/tools.sh golangci-lint)" run ./...
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/versions.sh
. "$HACK_DIR/versions.sh"

CACHE=${KSP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-state-push}
BIN=$CACHE/bin
SRC=$CACHE/src
mkdir -p "$BIN" "$SRC"

log() { printf '[tools] %s\n' "$*" >&2; }

# go_install NAME PKG VERSION: go install into a scratch GOBIN, then move into
# the cache as NAME-VERSION; prints the cached binary's path. The tool's own
# go.mod decides its dependencies, not this repository's.
go_install() {
  local dst=$BIN/$1-$3
  if [ ! -x "$dst" ]; then
    log "building $1 $3 (a few minutes when cold)"
    local gobin=$SRC/gobin-$1-$3
    mkdir -p "$gobin"
    (cd "$SRC" && GOBIN=$gobin go install "$2@$3") >&2
    mv "$gobin/$1" "$dst"
    rmdir "$gobin"
  fi
  echo "$dst"
}

case ${1:-} in
  golangci-lint) go_install golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION" ;;
  *) echo "usage: $0 golangci-lint" >&2; exit 2 ;;
esac

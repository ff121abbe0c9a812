#!/usr/bin/env bash
# Builds grpc-health (main.go here: a grpc.health.v1 server on google.golang.org/grpc's
# health package) as a static binary for the gRPC probe test image, from the Go module
# proxy, into a cache folder keyed by the sources. Prints nothing on stdout but the
# binary's path:
#   bin=$(test/images/grpc-health/build.sh)
#   node test/images/build-images.ts --grpc-health "$bin"
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${TSKUBE_CACHE:-$HOME/.cache/tskube}
sum=$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-16)
root=$cache/grpc-health
bin=$root/$sum/grpc-health

log() { printf '[grpc-health build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ -x $bin ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$root"
exec 9>"$root/.lock"
flock 9
if [[ -x $bin ]]; then
  echo "$bin"
  exit 0
fi

go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -x $go ]] || die "no Go toolchain: put go on PATH or set GO=/path/to/go"
tmp=$(mktemp -d "$root/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "building grpc-health into $bin (go: $("$go" version | cut -d' ' -f3))"
(cd "$here" && GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
  nice -n "${TSKUBE_BUILD_NICE:-10}" "$go" build -trimpath -ldflags "-s -w" -o "$tmp/grpc-health" .) ||
  die "go build failed in $here (is the Go module proxy reachable? GOPROXY=$("$go" env GOPROXY))"
mkdir -p "$(dirname "$bin")"
mv -f "$tmp/grpc-health" "$bin"
echo "$bin"

#!/usr/bin/env bash
# Builds the CNI plugins v1.10 (github.com/containernetworking/plugins, the first
# release set to speak CNI 1.1: STATUS and GC) from the Go module in ./go, into a
# cache folder keyed by the version. The CNI tests run them beside Debian's older
# plugins in /usr/lib/cni, which this never touches.
#
# A warm run only checks the stamp and returns; a cold run takes a few minutes on
# two cores at low priority. Prints nothing on stdout but the bin directory:
#   bin=$(test/cni-plugins/build.sh)
set -euo pipefail

PLUGINS_VERSION=v1.10.0
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
moddir=$here/go
cache=${TSKUBE_CACHE:-$HOME/.cache/tskube}
root=$cache/cni-plugins/$PLUGINS_VERSION
bin=$root/bin
stamp=$bin/.stamp
module=github.com/containernetworking/plugins
# Every Linux plugin of the release, as its build_linux.sh builds them.
plugins=(
  main/bridge main/dummy main/host-device main/ipvlan main/loopback main/macvlan main/ptp main/tap main/vlan
  ipam/dhcp ipam/host-local ipam/static
  meta/bandwidth meta/firewall meta/portmap meta/sbr meta/tuning meta/vrf
)

log() { printf '[cni-plugins build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The stamp names the version and the exact module graph: a changed go.mod or
# go.sum (a new release) invalidates the cache.
want_stamp() {
  local sum
  sum=$(cat "$moddir/go.mod" "$moddir/go.sum" | sha256sum | cut -d' ' -f1)
  printf 'plugins=%s modules=%s\n' "$PLUGINS_VERSION" "$sum"
}

is_fresh() {
  [[ -f $stamp && "$(cat "$stamp")" == "$(want_stamp)" ]] || return 1
  local p
  for p in "${plugins[@]}"; do [[ -x $bin/${p#*/} ]] || return 1; done
}

if is_fresh; then
  echo "$bin"
  exit 0
fi

mkdir -p "$root"
# A second build at once (a test run and a developer) waits for the first and
# then finds its binaries.
exec 9>"$root/.lock"
if ! flock -n 9; then
  log "another build holds $root/.lock; waiting for it"
  flock 9
fi
if is_fresh; then
  echo "$bin"
  exit 0
fi

go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -x $go ]] || die "no Go toolchain: put go on PATH or set GO=/path/to/go"

tmp=$(mktemp -d "$root/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s)
log "building CNI plugins $PLUGINS_VERSION into $bin (go: $("$go" version | cut -d' ' -f3))"
(cd "$moddir" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly "$go" mod download) ||
  die "go mod download failed in $moddir (is the Go module proxy reachable? GOPROXY=$("$go" env GOPROXY))"

packages=()
for p in "${plugins[@]}"; do packages+=("$module/plugins/$p"); done
# Plugins report this in VERSION output and their --help, as release builds do.
ldflags="-s -w -X $module/pkg/utils/buildversion.BuildVersion=$PLUGINS_VERSION"
(cd "$moddir" && GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
  nice -n "${TSKUBE_BUILD_NICE:-10}" "$go" build -trimpath -ldflags "$ldflags" -o "$tmp/" "${packages[@]}") ||
  die "go build of the CNI plugins failed (module $moddir)"

# Each binary lands with a rename and the stamp goes last: a reader never sees a
# half-written plugin, and an interrupted build is simply not fresh.
mkdir -p "$bin"
for p in "${plugins[@]}"; do mv -f "$tmp/${p#*/}" "$bin/${p#*/}"; done
want_stamp > "$tmp/stamp"
mv -f "$tmp/stamp" "$stamp"

log "done in $(( $(date +%s) - start ))s"
echo "$bin"

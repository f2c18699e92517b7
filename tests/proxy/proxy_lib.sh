# Helpers for the `snare proxy` root tests (sourced instead of tests/lib.sh, which it sources;
# every one of them needs root).
#
# pair_new makes two namespaces joined by a veth: $CLI ("client pod", 10.251.0.1, fd51::1) and
# $SRV ("server pod", 10.251.0.2, fd51::2). Rules come from snare itself: `snare <flags>` when
# SNARE_PROXY_TEST_APPLY=1, else `snare --dry-run <flags>` piped into iptables-legacy-restore.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
NETPROBE="$SNARE_SOURCE_DIR/tests/proxy/netprobe.py"
IP4C=10.251.0.1
IP4S=10.251.0.2
IP6C=fd51::1
IP6S=fd51::2
PROXY_PIDS=()
OTHER_PIDS=()

proxy_cleanup() {
  local p
  for p in "${PROXY_PIDS[@]:-}" "${OTHER_PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${PROXY_PIDS[@]:-}" "${OTHER_PIDS[@]:-}"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
  # ns_new runs in $(...), a subshell, so lib.sh's list misses these names: delete them here.
  [ -n "${CLI:-}" ] && ip netns del "$CLI" 2>/dev/null
  [ -n "${SRV:-}" ] && ip netns del "$SRV" 2>/dev/null
  [ -n "${work:-}" ] && rm -rf "$work"
  ns_cleanup
}
trap proxy_cleanup EXIT

pair_new() {
  CLI=$(ns_new pcli)
  SRV=$(ns_new psrv)
  ip link add v0 netns "$CLI" type veth peer name v0 netns "$SRV"
  ip -n "$CLI" addr add $IP4C/24 dev v0
  ip -n "$SRV" addr add $IP4S/24 dev v0
  ip -n "$CLI" -6 addr add $IP6C/64 dev v0 nodad
  ip -n "$SRV" -6 addr add $IP6S/64 dev v0 nodad
  ip -n "$CLI" link set v0 up
  ip -n "$SRV" link set v0 up
  local ns
  for ns in "$CLI" "$SRV"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_reserved_ports=15000-15099
    ip netns exec "$ns" sysctl -qw net.core.somaxconn=8192
    # istio's apply puts ::6 on lo (the IPv6 inbound source); dry-run does not.
    ip -n "$ns" -6 addr add ::6/128 dev lo 2>/dev/null || true
  done
}

# rules_on NS FLAGS...: istio-style rules (v4 and v6) in NS.
rules_on() {
  local ns=$1
  shift
  if [ "${SNARE_PROXY_TEST_APPLY:-1}" = 1 ]; then
    ip netns exec "$ns" "$SNARE" "${SNARE_RULE_FLAGS[@]}" "$@" --enable-ipv6=true >/dev/null
    expect_backend "$ns"
    return
  fi
  local text
  text=$("$SNARE" --dry-run "$@" --enable-ipv6=true)
  printf '%s\n' "$text" | sed '/^# ipv6/,$d' | ip netns exec "$ns" iptables-legacy-restore --noflush
  printf '%s\n' "$text" | sed -n '/^# ipv6/,$p' | ip netns exec "$ns" ip6tables-legacy-restore --noflush
}

ISTIO_REDIRECT_FLAGS=(-p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x "" -b '*' -d 15090,15021,15020)
ISTIO_TPROXY_FLAGS=(-p 15001 -z 15006 -u 1337 -m TPROXY -i '*' -x "" -b '*' -d 15090,15021,15020)

# tproxy_routes NS: what istio's apply adds for TPROXY besides the rules (the dry-run path only).
tproxy_routes() {
  [ "${SNARE_PROXY_TEST_APPLY:-1}" = 1 ] && return 0
  ip -n "$1" rule add fwmark 1337 lookup 133
  ip -n "$1" route add local default dev lo table 133
  ip -n "$1" -6 rule add fwmark 1337 lookup 133
  ip -n "$1" -6 route add local default dev lo table 133
}

# pods_new [TPROXY]: pair_new, a scratch directory $work, istio's REDIRECT rules in $CLI, and in
# $SRV REDIRECT's or (with TPROXY) TPROXY's rules and routes.
pods_new() {
  pair_new
  work=$(mktemp -d)
  rules_on "$CLI" "${ISTIO_REDIRECT_FLAGS[@]}"
  if [ "${1:-}" = TPROXY ]; then
    rules_on "$SRV" "${ISTIO_TPROXY_FLAGS[@]}"
    tproxy_routes "$SRV"
  else
    rules_on "$SRV" "${ISTIO_REDIRECT_FLAGS[@]}"
  fi
}

# proxies_start: a proxy in each pod (logs $work/cli.log, $work/srv.log) and the echo server on
# port 7000 in $SRV.
proxies_start() {
  proxy_start "$CLI" "$work/cli.log"
  proxy_start "$SRV" "$work/srv.log"
  server_start "$SRV" 7000
}

# proxy_start NS LOG ARGS...: snare proxy in NS; sets PROXY_PID and waits for its listeners.
proxy_start() {
  local ns=$1 log=$2
  shift 2
  ip netns exec "$ns" "$SNARE" proxy "$@" 2>"$log" &
  PROXY_PID=$!
  PROXY_PIDS+=("$PROXY_PID")
  local i
  for i in $(seq 50); do
    grep -q "proxy listening" "$log" 2>/dev/null && return 0
    kill -0 "$PROXY_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$log" >&2
  fail "snare proxy did not start in $ns"
}

# server_start NS PORT: netprobe echo server on PORT and whoami on PORT+1.
server_start() {
  local out
  out=$(mktemp)
  ip netns exec "$1" python3 "$NETPROBE" serve "$2" >"$out" 2>&1 &
  OTHER_PIDS+=($!)
  local i
  for i in $(seq 50); do
    grep -q ready "$out" && return 0
    sleep 0.1
  done
  cat "$out" >&2
  fail "echo server did not start"
}

fd_count() { ls "/proc/$1/fd" | wc -l; }

probe() {
  local ns=$1
  shift
  ip netns exec "$ns" python3 "$NETPROBE" "$@"
}

# The server-side app must see inbound connections (v4 and v6, through the proxy in $SRV) come
# from the passthrough sources 127.0.0.6 and ::6, as Envoy's inbound passthrough does.
expect_passthrough_sources() {
  local who4 who6
  who4=$(probe "$CLI" whoami "$IP4S" 7000)
  who6=$(probe "$CLI" whoami "$IP6S" 7000)
  [ "$who4" = 127.0.0.6 ] || fail "inbound IPv4 reached the app from $who4, want 127.0.0.6"
  [ "$who6" = ::6 ] || fail "inbound IPv6 reached the app from $who6, want ::6"
}

#!/bin/bash
# One command: bench/proxy/run.sh [REPS] [PEERS]
#   Compares direct (no rules), HAProxy (haproxy-splice and haproxy-2t) and snare proxy on the
#   outbound capture path and prints medians and ratios. Needs root, iperf3, wrk, haproxy, cc,
#   iptables-legacy. SNARE=path/to/snare (default: build/snare). Env: DUR (seconds per test, 5),
#   IDLE_N (2000), SNARE_PROXY_ARGS (--access-log=false). Takes ~1 min per peer per repetition.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPS=${1:-3}
PEERS=${2:-direct,haproxy-splice,haproxy-2t,snare}
SNARE=${SNARE:-$HERE/../../build/snare}
[ -x "$SNARE" ] || { echo "set SNARE to the snare binary (not found: $SNARE)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (namespaces, rules)" >&2; exit 1; }
for t in iperf3 wrk haproxy cc iptables-legacy-restore; do
  command -v $t >/dev/null || { echo "missing: $t" >&2; exit 1; }
done
export SNARE=$(readlink -f "$SNARE")
export BENCH_RUN=$(mktemp -d /tmp/snare-proxy-bench.XXXXXX)
export BENCH_NSC=snare-bench-cli-$$ BENCH_NSS=snare-bench-srv-$$ BENCH_IPS=10.252.0.2
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  ip netns del "$BENCH_NSC" 2>/dev/null || true
  ip netns del "$BENCH_NSS" 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$BENCH_RUN/bin"
for t in echo_server tcpbench http_server sockmap_relay; do
  cc -O2 -o "$BENCH_RUN/bin/$t" "$HERE/tools/$t.c"
done
ip netns add "$BENCH_NSC"
ip netns add "$BENCH_NSS"
ip link add v0 netns "$BENCH_NSC" type veth peer name v0 netns "$BENCH_NSS"
ip -n "$BENCH_NSC" addr add 10.252.0.1/24 dev v0
ip -n "$BENCH_NSS" addr add $BENCH_IPS/24 dev v0
for ns in "$BENCH_NSC" "$BENCH_NSS"; do
  ip -n "$ns" link set lo up
  ip -n "$ns" link set v0 up
  ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_reserved_ports=15000-15099
  ip netns exec "$ns" sysctl -qw net.core.somaxconn=8192
  ip netns exec "$ns" sysctl -qw net.ipv4.tcp_max_syn_backlog=8192
done
ip netns exec "$BENCH_NSS" iperf3 -s -p 5201 >"$BENCH_RUN/iperf3.log" 2>&1 & PIDS+=($!)
export BENCH_IPERF_SERVER_PID=$!  # ip netns exec execs iperf3: this is the server itself
ip netns exec "$BENCH_NSS" "$BENCH_RUN/bin/http_server" 8080 >"$BENCH_RUN/http.log" 2>&1 & PIDS+=($!)
ip netns exec "$BENCH_NSS" "$BENCH_RUN/bin/echo_server" 7000 >"$BENCH_RUN/echo.log" 2>&1 & PIDS+=($!)
sleep 0.5
echo "kernel $(uname -r), $(nproc) CPUs; snare $SNARE; results in $BENCH_RUN"
python3 "$HERE/bench.py" "$PEERS" "$REPS" | tee "$BENCH_RUN/table.txt"

#!/bin/bash
# 2,000 connections open at once and 20,000 one after another through both proxies (outbound
# and inbound); afterwards both proxies hold exactly the fds they held before.
source "$SNARE_SOURCE_DIR/tests/proxy/proxy_lib.sh"
pods_new
proxy_start "$CLI" "$work/cli.log" --access-log=false --stats-port 15090
cli_pid=$PROXY_PID
proxy_start "$SRV" "$work/srv.log" --access-log=false
srv_pid=$PROXY_PID
server_start "$SRV" 7000
probe "$CLI" echo $IP4S 7000 10 >/dev/null  # warm up (pipes, ARP)
sleep 0.5
base_cli=$(fd_count $cli_pid)
base_srv=$(fd_count $srv_pid)

probe "$CLI" hold $IP4S 7000 2000 || fail "2,000 concurrent connections"
probe "$CLI" seq $IP4S 7000 20000 16 || fail "20,000 sequential connections"
probe "$CLI" hold $IP6S 7000 500 || fail "500 concurrent IPv6 connections"

for i in $(seq 50); do
  [ "$(fd_count $cli_pid)" = "$base_cli" ] && [ "$(fd_count $srv_pid)" = "$base_srv" ] && break
  sleep 0.2
done
now_cli=$(fd_count $cli_pid)
now_srv=$(fd_count $srv_pid)
[ "$now_cli" = "$base_cli" ] || fail "client proxy fds: $base_cli before, $now_cli after"
[ "$now_srv" = "$base_srv" ] || fail "server proxy fds: $base_srv before, $now_srv after"
# The counters agree: everything accepted has ended, none is active.
metrics=$(ip netns exec "$CLI" python3 -c '
import socket; s = socket.create_connection(("127.0.0.1", 15090)); s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
print(b"".join(iter(lambda: s.recv(65536), b"")).decode())')
grep -q '^snare_proxy_connections_active{direction="outbound"} 0$' <<<"$metrics" ||
  fail "active outbound connections not 0: $(echo "$metrics" | grep active)"
accepted=$(echo "$metrics" | sed -n 's/^snare_proxy_connections_accepted_total{direction="outbound"} //p')
[ "$accepted" -ge 22501 ] || fail "outbound accepted_total $accepted < 22501"
echo "PASS proxy_scale (fds: client $base_cli, server $base_srv; accepted $accepted)"

#!/bin/bash
# snare proxy between two pods, both with istio's REDIRECT rules: outbound through the client's
# proxy, inbound through the server's, IPv4 and IPv6, payload intact both ways, half-close,
# the app sees 127.0.0.6 / ::6, and every connection leaves one log line.
source "$SNARE_SOURCE_DIR/tests/proxy/proxy_lib.sh"
pods_new
proxies_start

for dst in $IP4S "$IP6S"; do
  probe "$CLI" echo "$dst" 7000 5 || fail "small echo to $dst"
  probe "$CLI" echo "$dst" 7000 3000000 || fail "3 MB echo (half-closed) to $dst"
done
expect_passthrough_sources

# Each connection went through both proxies: outbound on the client side, inbound on the server.
grep -q "dir=outbound client=$IP4C:[0-9]* dst=$IP4S:7000 dst_from=nat bytes_up=3000000 bytes_down=3000000" \
  "$work/cli.log" || { cat "$work/cli.log"; fail "no outbound log line for the 3 MB echo"; }
grep -q "dir=inbound client=$IP4C:[0-9]* dst=$IP4S:7000 dst_from=nat bytes_up=3000000" "$work/srv.log" ||
  { cat "$work/srv.log"; fail "no inbound log line for the 3 MB echo"; }
grep -q "dir=outbound client=\[$IP6C\]:[0-9]* dst=\[$IP6S\]:7000" "$work/cli.log" ||
  fail "no IPv6 outbound log line"
# The client proxy's own upstream sockets belong to uid 1337 (so they are not captured again):
# of the sockets to the server while connections are held open, one is the app's (uid 0, which
# ss leaves out) and one the proxy's.
# (netprobe straight from `ip netns exec`, which execs it: $! is its pid, to stop it early.)
ip netns exec "$CLI" python3 "$NETPROBE" hold "$IP4S" 7000 2 10 >"$work/hold.out" &
hold_pid=$!
for i in $(seq 100); do
  grep -q held "$work/hold.out" && break
  sleep 0.1
done
socks=$(ip netns exec "$CLI" ss -tnep state established dst "$IP4S:7000")
kill "$hold_pid"
wait "$hold_pid" || true
grep -q held "$work/hold.out" || fail "connections for the socket owner check did not open"
grep -q "uid:1337" <<<"$socks" || { echo "$socks"; fail "no upstream socket of uid 1337 to $IP4S:7000"; }
n=$(grep -c "msg=connection\| connection " "$work/cli.log" || true)
[ "$n" -ge 6 ] || fail "expected >= 6 outbound connection log lines, got $n"
echo "PASS proxy_relay"

#!/bin/bash
# Connections that must not be relayed: straight to the listener (not redirected), to one of the
# proxy's own listeners by way of the rules, and a capture loop (a proxy running as root under
# rules that exclude uid 1337 only), which is cut after one re-capture hop.
source "$SNARE_SOURCE_DIR/tests/proxy/proxy_lib.sh"
pods_new
proxy_start "$SRV" "$work/srv.log"
server_start "$SRV" 7000

# 1. Not redirected: 127.0.0.1 is excluded from capture, the "original" destination is 15001.
proxy_start "$CLI" "$work/cli.log"
probe "$CLI" refused 127.0.0.1 15001 || fail "a direct connection to 15001 was relayed"
grep -q "end=not_redirected" "$work/cli.log" || { cat "$work/cli.log"; fail "no not_redirected line"; }
# 2. Through the rules to the server pod's own inbound port: its original destination is a
#    listener of that proxy.
probe "$CLI" refused $IP4S 15006 || fail "a connection to the proxy's own port was relayed"
grep -q "dst=$IP4S:15006 end=loop" "$work/srv.log" || { cat "$work/srv.log"; fail "no loop line"; }
kill "$PROXY_PID"
wait "$PROXY_PID" || true

# 3. A proxy as root: its upstream connection is captured again. One hop is let through (the
#    stale-conntrack case), the second is refused, so the client sees a reset, not a loop.
proxy_start "$CLI" "$work/root.log" --uid 0
probe "$CLI" refused $IP4S 7000 || fail "a capture loop relayed data"
sleep 0.3
grep -q "end=loop" "$work/root.log" || { cat "$work/root.log"; fail "the loop was not refused"; }
n=$(grep -c "proxy's own upstream" "$work/root.log" || true)
[ "$n" -le 2 ] || fail "loop refused $n times for one connection"

echo "PASS proxy_loop"

#!/bin/bash
# The proxy process: bad flags give one line naming flag and value; as root it runs as 1337 with
# CAP_NET_ADMIN only; --stats-port serves Prometheus text over IPv4 and IPv6; SIGTERM stops accepting, lets an open
# connection finish, then exits 0; a connection still open at --drain-timeout is closed.
source "$SNARE_SOURCE_DIR/tests/proxy/proxy_lib.sh"

for bad in "--workers 0" "--idle-timeout 5" "--splice sometimes" "--outbound-port 70000" \
           "--inbound-source-ipv4 ::6"; do
  set +e
  # shellcheck disable=SC2086
  err=$("$SNARE" proxy $bad 2>&1 >/dev/null)
  rc=$?
  set -e
  flag=${bad%% *}
  value=${bad#* }
  [ "$rc" = 2 ] || fail "$bad: exit $rc, want 2"
  [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "$bad: more than one line: $err"
  [[ "$err" == *"$flag"* && "$err" == *"\"$value\""* ]] || fail "$bad: error does not name both: $err"
done
grep -q -- --drain-timeout <<<"$("$SNARE" proxy --help)" || fail "--help lacks --drain-timeout"

pair_new
work=$(mktemp -d)
rules_on "$CLI" "${ISTIO_REDIRECT_FLAGS[@]}"
server_start "$SRV" 7000
proxy_start "$CLI" "$work/cli.log" --stats-port 15090 --drain-timeout 3s
status=$(cat "/proc/$PROXY_PID/status")
echo "$status" | grep -Eq '^Uid:\s+1337\s+1337\s+1337\s+1337' || fail "not running as uid 1337"
echo "$status" | grep -Eq '^Gid:\s+1337\s+1337\s+1337\s+1337' || fail "not running as gid 1337"
echo "$status" | grep -Eq '^CapEff:\s+0000000000001000' || fail "CapEff is not CAP_NET_ADMIN only"
echo "$status" | grep -Eq '^CapPrm:\s+0000000000001000' || fail "CapPrm is not CAP_NET_ADMIN only"

# A connection open across SIGTERM keeps working; a new one is refused; then the proxy exits 0.
ip netns exec "$CLI" python3 - "$IP4S" "$PROXY_PID" "$work/drain.out" <<'PY'
import os, signal, socket, sys, time
host, pid, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, 7000), timeout=5)
s.sendall(b"before"); assert s.recv(100) == b"before"
stats = socket.create_connection(("127.0.0.1", 15090), timeout=5)
stats.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
text = b"".join(iter(lambda: stats.recv(65536), b"")).decode()
assert 'snare_proxy_connections_active{direction="outbound"} 1' in text, text
# The stats port answers over IPv6 too (IPv6-only clusters scrape the pod's IPv6 address).
stats6 = socket.create_connection(("::1", 15090), timeout=5)
stats6.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
text6 = b"".join(iter(lambda: stats6.recv(65536), b"")).decode()
assert "snare_proxy_workers 1" in text6, text6
# 50 clients that connect and say nothing, and one that trickles half a request, hold no one up:
# a scrape after them is answered at once (the stats endpoint used to serve one client at a time,
# waiting up to 1 s for each).
idle = [socket.create_connection(("127.0.0.1", 15090), timeout=5) for _ in range(50)]
slow = socket.create_connection(("::1", 15090), timeout=5)
slow.sendall(b"GET /met")
t0 = time.monotonic()
scrape = socket.create_connection(("127.0.0.1", 15090), timeout=5)
scrape.sendall(b"GET /metrics HTTP/1.1\r\nHost: pod\r\n\r\n")
text = b"".join(iter(lambda: scrape.recv(65536), b"")).decode()
took = time.monotonic() - t0
assert "snare_proxy_workers 1" in text and took < 1.0, f"scrape took {took:.2f} s"
for c in idle + [slow]: c.close()
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
s.sendall(b"after"); assert s.recv(100) == b"after"
try:
    n = socket.create_connection((host, 7000), timeout=2)
    n.sendall(b"x")
    assert n.recv(10) == b"", "a new connection was relayed while draining"
except OSError:
    pass
s.close()
open(out, "w").write("ok\n")
PY
[ "$(cat "$work/drain.out")" = ok ] || fail "drain client failed"
for i in $(seq 30); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PROXY_PID" 2>/dev/null && fail "proxy still running after its last connection closed"
wait "$PROXY_PID" || fail "proxy exited $? after SIGTERM, want 0"

# The deadline: a connection that stays open is closed after --drain-timeout.
proxy_start "$CLI" "$work/cli2.log" --drain-timeout 1s
ip netns exec "$CLI" python3 -c "
import socket, time, os, signal
s = socket.create_connection(('$IP4S', 7000)); s.sendall(b'x'); s.recv(1)
os.kill($PROXY_PID, signal.SIGTERM); time.sleep(3)" &
holder=$!
# The client holds its connection for 3 s: the proxy must be gone well before that (poll to 2.7 s
# rather than one fixed sleep, which races under load).
for i in $(seq 27); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PROXY_PID" 2>/dev/null && fail "proxy ignored --drain-timeout 1s"
wait "$holder" || true
grep -q "end=drain" "$work/cli2.log" || { cat "$work/cli2.log"; fail "no end=drain line"; }
echo "PASS proxy_lifecycle"

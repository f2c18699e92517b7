#!/bin/bash
# snare trace --live against the simulation: for sidecar (REDIRECT with port exclusions, DNS
# capture, TPROXY with CIDR exclusions) and ambient in-pod configurations of istio's conformance
# table, applied with --native-nftables in a fresh pod namespace joined to a peer by a veth, each
# packet below (the app's UID to included and excluded ports and CIDRs, the proxy's UID and GID,
# DNS over UDP and TCP, loopback, the inbound passthrough from 127.0.0.6, a packet with ztunnel's
# mark, inbound on lo made locally, inbound from the peer, which sends while --live waits) is
# traced with --live: the kernel's verdict (captured, action, to_port) must equal the
# simulation's, and so must the path of rules the kernel reports. Afterwards no snare-trace table
# is left, also after a SIGINT, a SIGTERM or a SIGKILL in the middle of a wait.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
source "$SNARE_SOURCE_DIR/tests/root/traffic_helpers.bash"

CONFIGS=(cni-include-exclude-ports cni-dns tproxy ambient-default)
ACTIONS=""   # every kernel verdict seen, for the variety check at the end
SPORT=41000  # each packet its own source port: no conntrack entry of an earlier one is reused

# leftover NS: the snare-trace tables in NS (none expected).
leftover() { ip netns exec "$1" nft list tables | grep snare-trace || true; }

# judge DESC JSON-FILE RC: the live answer exists and equals the simulation's.
judge() {
  local desc=$1 file=$2 rc=$3 why
  why=$(/usr/bin/python3 - "$file" "$rc" <<'EOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except ValueError:
    print("no JSON answer"); sys.exit()
live = j.get("live") or {}
if live.get("error"):
    print("no kernel answer: " + live["error"]); sys.exit()
for k in ("captured", "action", "to_port"):
    if live.get(k) != j[k]:
        print(f"{k}: simulation {j[k]!r}, kernel {live.get(k)!r}"); sys.exit()
if live.get("disagreements"):
    print("; ".join(live["disagreements"])); sys.exit()
if sys.argv[2] != "0":
    print(f"exit {sys.argv[2]}"); sys.exit()
print("ok " + live["action"])
EOF
)
  if [[ "$why" == "ok "* ]]; then
    ACTIONS+=" ${why#ok }"
    why=""
  fi
  if [ -z "$why" ]; then
    pass=$((pass + 1))
  else
    echo "FAIL: $desc: $why" >&2
    failed=$((failed + 1))
  fi
}

# live DESC TRACE-ARGS... : `snare trace ... --live` for a packet this namespace makes.
live() {
  local desc=$1 out rc=0
  shift
  out=$(mktemp)
  "$SNARE" trace "$@" --live --output json --network-namespace "/run/netns/$POD" \
    -- "${flags[@]}" >"$out" 2>"$out.err" || rc=$?
  judge "$desc" "$out" "$rc"
  rm -f "$out" "$out.err"
}

# live_disagrees DESC DISAGREEMENT TRACE-ARGS...: --live exits 3 and names DISAGREEMENT first.
live_disagrees() {
  local desc=$1 want=$2 out rc=0
  shift 2
  out=$("$SNARE" trace "$@" --live --output json --network-namespace "/run/netns/$POD" \
    -- "${flags[@]}" 2>/dev/null) || rc=$?
  if [ "$rc" = 3 ] && [ "$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["live"]["disagreements"][0])' "$out")" = "$want" ]; then
    pass=$((pass + 1))
  else
    echo "FAIL: $desc: want exit 3 and \"$want\", got exit $rc: $out" >&2
    failed=$((failed + 1))
  fi
}

# wait_table NS: until snare's temporary table is in NS (the trace is waiting), at most 5 s.
wait_table() {
  local n
  for n in $(seq 50); do
    [ -n "$(leftover "$1")" ] && return 0
    sleep 0.1
  done
  return 1
}

# from_peer DESC PROTO SRC-ADDR DST-ADDR DPORT: --live waits for an inbound packet the peer sends.
from_peer() {
  local desc=$1 proto=$2 src=$3 dst=$4 dport=$5 out rc=0 pid ep_s ep_d
  SPORT=$((SPORT + 1))
  ep_s="$src:$SPORT" ep_d="$dst:$dport"
  [[ $src == *:* ]] && ep_s="[$src]:$SPORT" ep_d="[$dst]:$dport"
  out=$(mktemp)
  "$SNARE" trace in "$proto" "$ep_s" "$ep_d" --iif "$DEV" --live --live-timeout 10 --output json \
    --network-namespace "/run/netns/$POD" -- "${flags[@]}" >"$out" 2>"$out.err" &
  pid=$!
  wait_table "$POD" || { echo "FAIL: $desc: no snare-trace table appeared" >&2; }
  ip netns exec "$PEER" /usr/bin/python3 -c '
import socket, sys
proto, src, sport, dst, dport = sys.argv[1:6]
fam = socket.AF_INET6 if ":" in src else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.bind((src, int(sport)))
if proto == "udp":
    s.sendto(b"x", (dst, int(dport)))
else:
    s.setblocking(False)
    try:
        s.connect((dst, int(dport)))
    except OSError:
        pass
' "$proto" "$src" "$SPORT" "$dst" "$dport"
  wait "$pid" || rc=$?
  grep -q "waiting up to 10 s for the packet" "$out.err" || echo "FAIL: $desc: no waiting line on stderr" >&2
  judge "$desc" "$out" "$rc"
  rm -f "$out" "$out.err"
}

# interrupt SIGNAL: --live waits for a packet nobody sends, gets SIGNAL, exits 128+N, and its
# table is gone (removed by snare, or by the kernel with its owning socket).
interrupt() {
  local sig=$1 want=$2 pid rc=0
  "$SNARE" trace in tcp 10.251.0.2:40999 10.251.0.1:8080 --iif "$DEV" --live --live-timeout 60 \
    --network-namespace "/run/netns/$POD" -- "${flags[@]}" >/dev/null 2>&1 &
  pid=$!
  wait_table "$POD" || fail "$name: no snare-trace table appeared before $sig"
  kill "-$sig" "$pid"
  wait "$pid" || rc=$?
  [ "$rc" = "$want" ] || fail "$name: after SIG$sig: exit $rc, want $want"
  [ -z "$(leftover "$POD")" ] || fail "$name: a snare-trace table is left after SIG$sig"
  pass=$((pass + 1))
}

# out_packets: the packets the pod sends, each traced (the app UID 1000 unless named).
out_packets() {
  local P=10.251.0.1 Q=10.251.0.2 u
  for u in "1000 1000" "1337 1337" "1000 1337"; do
    set -- $u
    for dst in "$Q:8080" "$Q:5555" "$Q:15020" "9.9.0.2:80" "1.1.0.2:80"; do
      SPORT=$((SPORT + 1))
      live "out uid=$1 gid=$2 -> $dst" out tcp "$P:$SPORT" "$dst" --oif "$DEV" --uid "$1" --gid "$2"
    done
    SPORT=$((SPORT + 1))
    live "out uid=$1 udp -> $Q:53" out udp "$P:$SPORT" "$Q:53" --oif "$DEV" --uid "$1" --gid "$2"
  done
  SPORT=$((SPORT + 1))
  live "out tcp -> $Q:53 (DNS over TCP)" out tcp "$P:$SPORT" "$Q:53" --oif "$DEV"
  SPORT=$((SPORT + 1))
  live "out udp -> 127.0.0.53:53" out udp "127.0.0.1:$SPORT" 127.0.0.53:53
  # Under TPROXY, istio's policy route sends its mark (1337: 0x539) to lo; --live says so when
  # the simulation is told otherwise.
  local moif=$DEV
  if [[ " ${flags[*]} " == *" -m TPROXY "* ]]; then
    moif=lo
    SPORT=$((SPORT + 1))
    live_disagrees "out mark 0x539 -> $Q:8080 on $DEV" "oif: simulation $DEV, kernel lo" \
      out tcp "$P:$SPORT" "$Q:8080" --oif "$DEV" --mark 0x539
  fi
  SPORT=$((SPORT + 1))
  live "out mark 0x539 -> $Q:8080" out tcp "$P:$SPORT" "$Q:8080" --oif "$moif" --mark 0x539
  for u in 1000 1337; do
    SPORT=$((SPORT + 1))
    live "out uid=$u -> 127.0.0.1:8080" out tcp "127.0.0.1:$SPORT" 127.0.0.1:8080 --uid "$u" --gid "$u"
    SPORT=$((SPORT + 1))
    live "out uid=$u -> $P:8080 (own address)" out tcp "$P:$SPORT" "$P:8080" --oif lo --uid "$u" --gid "$u"
  done
  SPORT=$((SPORT + 1))
  live "out 127.0.0.6 -> $P:8080 (passthrough)" out tcp "127.0.0.6:$SPORT" "$P:8080" --oif lo \
    --uid 1337 --gid 1337
  if [ "$v6" = 1 ]; then
    SPORT=$((SPORT + 1))
    live "out -> [2001:db8::2]:80" out tcp "[fd51::1]:$SPORT" "[2001:db8::2]:80" --oif "$DEV"
  fi
}

in_packets() {
  local port
  SPORT=$((SPORT + 1))
  live "in on lo 127.0.0.1 -> 127.0.0.1:8080" in tcp "127.0.0.1:$SPORT" 127.0.0.1:8080 --iif lo
  for port in 8080 1111 15020 15008; do
    from_peer "in from the peer -> :$port" tcp 10.251.0.2 10.251.0.1 "$port"
  done
  from_peer "in udp from the peer -> :53" udp 10.251.0.2 10.251.0.1 53
  [ "$v6" = 1 ] && from_peer "in from the peer -> [fd51::1]:8080" tcp fd51::2 fd51::1 8080
  return 0
}

i=0
for name in "${CONFIGS[@]}"; do
  i=$((i + 1))
  nft_conformance_flags "$name"
  POD=$(ns_new "tlp$i")
  PEER=$(ns_new "tlq$i")
  DEV="tla$i-$$"
  DEV=${DEV:0:15}
  join_pod_peer "$DEV" "tlb$i-$$" 10.251.0 fd51
  for a in 9.9.0.2/32 1.1.0.2/32; do ip -n "$PEER" addr add "$a" dev "tlb$i-$$"; done
  ip -n "$PEER" addr add 2001:db8::2/128 dev "tlb$i-$$" nodad
  ip -n "$POD" route add default via 10.251.0.2
  ip -n "$POD" -6 route add default via fd51::2
  ip netns exec "$POD" "$SNARE" "${flags[@]}" --log_output_level=warn || fail "$name: apply failed"
  # TPROXY delivers only to a transparent listener: without one the kernel's rule does not match.
  serve "$POD" pod --transparent 0.0.0.0:15001 [::]:15001 0.0.0.0:15006 [::]:15006 \
    0.0.0.0:15008 [::]:15008
  echo "[$name] ${flags[*]}"
  before=$pass
  out_packets
  in_packets
  interrupt INT 130
  interrupt TERM 143
  # SIGKILL cannot be caught: the table goes because its owner, snare's netlink socket, closed.
  interrupt KILL 137
  [ -z "$(leftover "$POD")" ] || fail "$name: a snare-trace table is left"
  echo "  $((pass - before)) passed"
  stop_servers
  ip netns del "$POD"
  ip netns del "$PEER"
done
echo "kernel verdicts seen: $(tr ' ' '\n' <<<"$ACTIONS" | grep . | sort | uniq -c | xargs)"
# The comparison means something only if the kernel's verdicts vary: redirect, tproxy and none
# (not captured) at least.
for a in redirect tproxy none; do
  [[ " $ACTIONS " == *" $a "* ]] || fail "no packet got the kernel's verdict $a (saw:$ACTIONS)"
done
report

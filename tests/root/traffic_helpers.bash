# Helpers for the root tests that make real connections through applied rules (sourced after
# tests/lib.sh; .bash so that CTest does not run it): probe servers, and checks that count
# passes and failures so that one run reports every broken path, not only the first.
PROBE="/usr/bin/python3 $SNARE_SOURCE_DIR/tests/root/probe.py"
pass=0
failed=0

check() {  # check DESCRIPTION EXPECTED-REGEX COMMAND...
  local what=$1 want=$2
  shift 2
  local got
  got=$("$@" 2>&1 || true)
  if [[ "$got" =~ $want ]]; then
    pass=$((pass + 1))
  else
    echo "FAIL: $what: want /$want/, got: $got" >&2
    failed=$((failed + 1))
  fi
}

# The probe servers run in the background; they are stopped on exit as well, so that a failing
# test leaves no listener behind (and the namespaces can be removed).
PIDS=()
stop_servers() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  PIDS=()
}
trap 'stop_servers; ns_cleanup' EXIT

serve() {  # serve NS NAME ARGS... : start a probe server, wait until it listens
  local ns=$1 name=$2
  shift 2
  local fifo
  fifo=$(mktemp -u)
  mkfifo "$fifo"
  ip netns exec "$ns" $PROBE serve "$name" "$@" >"$fifo" &
  PIDS+=($!)
  # The server prints one line once it listens: no connection is tried before that.
  read -r -t 5 line <"$fifo" || fail "probe server $name did not start"
  rm -f "$fifo"
}

# report: the counts, and the test's exit status (non-zero when any check failed).
report() {
  echo "$pass passed, $failed failed"
  [ "$failed" = 0 ]
}

# join_pod_peer VA VB NET4 NET6: a veth VA in $POD with NET4.1/24 and NET6::1/64, its peer VB in
# $PEER with .2 and .3 (::2 and ::3; the .3 addresses stand for a second, excluded or special,
# destination), both up. Interface names are cut to the kernel's 15 characters.
join_pod_peer() {
  local va=${1:0:15} vb=${2:0:15} n4=$3 n6=$4 a
  ip link add "$va" netns "$POD" type veth peer name "$vb" netns "$PEER"
  ip -n "$POD" addr add "$n4.1/24" dev "$va"
  ip -n "$POD" addr add "$n6::1/64" dev "$va" nodad
  for a in 2 3; do ip -n "$PEER" addr add "$n4.$a/24" dev "$vb"; done
  for a in 2 3; do ip -n "$PEER" addr add "$n6::$a/64" dev "$vb" nodad; done
  ip -n "$POD" link set "$va" up
  ip -n "$PEER" link set "$vb" up
}

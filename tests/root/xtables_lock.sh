# The xtables lock between processes: a second process waits and says who held the lock, a timeout
# names the holder, and iptables-legacy honours snare's lock through XTABLES_LOCKFILE.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
D="${SNARE_OS_DRIVER:?SNARE_OS_DRIVER must name os_seams_driver (ctest sets it)}"

dir=$(mktemp -d /tmp/snare-lock.XXXXXX)
lock="$dir/run/xtables.lock"  # the directory does not exist yet: the driver creates it
bg=()
trap 'kill "${bg[@]}" 2>/dev/null || true; ns_cleanup; rm -rf "$dir"' EXIT
# wait_held FILE: until another process holds an flock on FILE (a fixed sleep races under load).
wait_held() {
  local _
  for _ in $(seq 250); do
    flock -n "$1" true 2>/dev/null || return 0
    sleep 0.02
  done
  fail "nobody took the lock on $1"
}
# wait_in_ns PID NS: until PID has entered network namespace NS (`ip netns exec` setns, then exec).
wait_in_ns() {
  local _ want
  want=$(stat -L -c %i "/run/netns/$2")
  for _ in $(seq 250); do
    [ "$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null)" = "$want" ] && return 0
    sleep 0.02
  done
  fail "process $1 never entered $2"
}

# 1. A holder (flock(1)) for 1.5 s; the driver waits, then logs how long and who held it.
mkdir -p "$dir/run"
flock "$lock" sleep 1.5 &
holder=$!; bg+=("$holder")
wait_held "$lock"
out=$("$D" lock "$lock" 10000 0 2>"$dir/err")
wait "$holder"
waited=$(sed -n 's/^acquired waited_ms=\([0-9]*\).*/\1/p' <<<"$out")
[ -n "$waited" ] && [ "$waited" -ge 500 ] || fail "did not wait for the holder: $out"
grep -q "waited .* ms for the xtables lock $lock, held by $holder (flock)" "$dir/err" ||
  fail "wait not logged with the holder: $(cat "$dir/err")"

# 2. A timeout names the holder and the time waited.
flock "$lock" sleep 2 &
holder=$!; bg+=("$holder")
wait_held "$lock"
err=$("$D" lock "$lock" 300 0 2>&1) && fail "lock acquired while held"
wait "$holder"
grep -q "another process ($holder (flock)) is holding the xtables lock $lock; stopped waiting after 0.3 s" \
  <<<"$err" || fail "timeout message: $err"

# 3. The driver creates a missing directory.
rm -rf "$dir/run"
"$D" lock "$lock" 0 0 >/dev/null || fail "missing lock directory not created"

# 4. iptables-legacy contends on the same file (in its own namespace, with its own lock path).
ns=$(ns_new lock); SNARE_NETNS+=("$ns")
# (a timeout, not 0: wait_held's own `flock -n` probe may hold the file for an instant)
"$D" lock "$lock" 5000 2000 >/dev/null &
holder=$!; bg+=("$holder")
wait_held "$lock"
rc=0
XTABLES_LOCKFILE="$lock" ip netns exec "$ns" iptables-legacy -w 1 -t nat -A OUTPUT -j RETURN \
  2>"$dir/ipt" || rc=$?
wait "$holder"
[ "$rc" = 4 ] || fail "iptables-legacy did not wait on snare's lock (rc $rc): $(cat "$dir/ipt")"

# 5. The lock path rules.
[ "$(env -u XTABLES_LOCKFILE "$D" lock-path)" = /run/xtables.lock ] || fail "default lock path"
[ "$(env -u XTABLES_LOCKFILE "$D" lock-path "/run/netns/$ns")" = "/run/netns/$ns" ] ||
  fail "pod-scoped lock path"
[ "$(XTABLES_LOCKFILE=/tmp/x.lock "$D" lock-path "/run/netns/$ns")" = /tmp/x.lock ] ||
  fail "XTABLES_LOCKFILE not honoured"
# The pod-scoped lock is the namespace file: a holder of the bind mount excludes /proc/PID/ns/net.
ip netns exec "$ns" sleep 10 &
inner=$!; bg+=("$inner")
wait_in_ns "$inner" "$ns"
flock "/run/netns/$ns" sleep 10 &
holder=$!; bg+=("$holder")
wait_held "/run/netns/$ns"
"$D" lock "/proc/$inner/ns/net" 0 0 >/dev/null 2>&1 && fail "two names of one netns, two locks"
kill "$inner" "$holder"; wait "$inner" "$holder" 2>/dev/null || true
echo "ok"

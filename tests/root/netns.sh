# Entering a network namespace by path and by PID, and telling the host's initial namespace apart
# from a pod's (by the fixed inode or kthreadd, never by PID 1).
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
D="${SNARE_OS_DRIVER:?SNARE_OS_DRIVER must name os_seams_driver (ctest sets it)}"

ns=$(ns_new netns); SNARE_NETNS+=("$ns")  # $(...) runs ns_new in a subshell: record it here too
want=$(ip netns exec "$ns" stat -L -c '%d:%i' /proc/self/ns/net)
[ "$("$D" netns-id)" != "$want" ] || fail "the test itself runs in $ns"

# By path.
got=$("$D" --netns "/run/netns/$ns" netns-id)
[ "$got" = "$want" ] || fail "setns by path: got $got, want $want"

# By PID: a process living in the namespace.
ip netns exec "$ns" sleep 30 &
holder=$!
# `ip netns exec` enters the namespace before it execs sleep: wait for that, or we race it.
for _ in $(seq 100); do
  [ "$(stat -L -c '%d:%i' "/proc/$holder/ns/net" 2>/dev/null)" = "$want" ] && break
  sleep 0.02
done
got=$("$D" --pid "$holder" netns-id)
kill "$holder"; wait "$holder" 2>/dev/null || true
[ "$got" = "$want" ] || fail "setns by pid: got $got, want $want"

# Errors name the path or PID.
err=$("$D" --netns /run/netns/snare-missing-$$ netns-id 2>&1) && fail "missing path accepted"
grep -q "network namespace /run/netns/snare-missing-$$ does not exist: pass the pod's netns path" \
  <<<"$err" || fail "missing path message: $err"
err=$("$D" --netns /etc/hostname netns-id 2>&1) && fail "a regular file accepted"
grep -q "/etc/hostname is not a network namespace" <<<"$err" || fail "not-a-netns message: $err"
err=$("$D" --pid 999999999 netns-id 2>&1) && fail "missing pid accepted"
grep -q "process 999999999 does not exist" <<<"$err" || fail "missing pid message: $err"

# A fresh namespace is "other", entered or unshared, and passes the host check.
[ "$("$D" --netns "/run/netns/$ns" kind)" = other ] || fail "entered netns not 'other'"
[ "$(unshare -n "$D" kind)" = other ] || fail "unshared netns not 'other'"
"$D" --netns "/run/netns/$ns" check-host || fail "check-host refused a pod namespace"
# A container: new PID and net namespaces, where PID 1 is the driver itself and shares the pod's
# namespace. Comparing with PID 1 would call this the host; it must say "other".
[ "$(unshare -n -p -f --mount-proc "$D" kind)" = other ] || fail "PID-namespaced pod not 'other'"

# The host's initial namespace, when this test runs in it (CI may run inside a container's own
# namespace): decided independently here by the fixed inode or kthreadd's namespace.
self_ino=$(stat -L -c %i /proc/self/ns/net)
if [ "$self_ino" = 4026531833 ] ||
  { [ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ] &&
    [ "$(stat -L -c %d:%i /proc/2/ns/net 2>/dev/null)" = "$(stat -L -c %d:%i /proc/self/ns/net)" ]; }; then
  [ "$("$D" kind)" = initial ] || fail "host namespace not 'initial'"
  # Also from inside a new PID namespace (a hostNetwork container), where PID 2 is not kthreadd.
  [ "$(unshare -p -f --mount-proc "$D" kind)" = initial ] || fail "host netns under a PID ns"
  err=$("$D" check-host 2>&1) && fail "check-host accepted the host namespace"
  grep -q -- "--allow-host-netns" <<<"$err" || fail "host refusal does not name the flag: $err"
  "$D" check-host allow 2>/dev/null || fail "--allow-host-netns did not allow the host"
else
  echo "note: not in the initial namespace; host-namespace assertions limited to 'not initial'" >&2
  [ "$("$D" kind)" != initial ] || fail "a non-initial namespace called 'initial'"
fi
echo "ok"

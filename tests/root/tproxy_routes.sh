# TPROXY routes through libnl: the same `ip rule`/`ip route` state as iproute2 makes, unchanged by a
# second add, removed by delete (twice is fine), and ::6 on lo.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
D="${SNARE_OS_DRIVER:?SNARE_OS_DRIVER must name os_seams_driver (ctest sets it)}"

ns=$(ns_new routes); SNARE_NETNS+=("$ns")
ref=$(ns_new routesref); SNARE_NETNS+=("$ref")
state() {  # what `ip` shows for both families
  local n=$1
  echo "# rule -4"; ip -n "$n" -4 rule show
  echo "# rule -6"; ip -n "$n" -6 rule show
  # (a table that never existed is an error to `ip`; it shows as empty here)
  echo "# route -4"; ip -n "$n" -4 route show table 133 2>/dev/null || true
  echo "# route -6"; ip -n "$n" -6 route show table 133 2>/dev/null || true
}
empty=$(state "$ns")

for f in 4 6; do
  ip -n "$ref" -$f rule add fwmark 1337 lookup 133
  ip -n "$ref" -$f route add local default dev lo table 133
done
want=$(state "$ref")

# First add creates both, per family.
for f in v4 v6; do
  out=$("$D" --netns "/run/netns/$ns" routes-add $f 1337 133) || fail "routes-add $f: $out"
  [ "$out" = "rule=1 route=1" ] || fail "first routes-add $f reported $out"
done
got=$(state "$ns")
[ "$got" = "$want" ] || fail "state differs from iproute2's:
$(diff <(echo "$want") <(echo "$got"))"
grep -q "local default dev lo metric 1024 pref medium" <<<"$(ip -n "$ns" -6 route show table 133)" ||
  fail "no IPv6 local route"

# A second add creates nothing and leaves the same state.
for f in v4 v6; do
  out=$("$D" --netns "/run/netns/$ns" routes-add $f 1337 133) || fail "second routes-add $f: $out"
  [ "$out" = "rule=0 route=0" ] || fail "second routes-add $f reported $out"
done
[ "$(state "$ns")" = "$want" ] || fail "second add changed the state"

# Delete removes everything; a duplicate rule (from `ip rule add` re-runs) goes too.
ip -n "$ns" -4 rule add fwmark 1337 lookup 133
for f in v4 v6; do
  "$D" --netns "/run/netns/$ns" routes-del $f 1337 133 || fail "routes-del $f"
  "$D" --netns "/run/netns/$ns" routes-del $f 1337 133 || fail "second routes-del $f"
done
[ "$(state "$ns")" = "$empty" ] || fail "delete left state behind:
$(diff <(echo "$empty") <(echo "$(state "$ns")"))"

# A foreign rule with the same mark but another table survives a delete.
ip -n "$ns" -4 rule add fwmark 1337 lookup 200
"$D" --netns "/run/netns/$ns" routes-del v4 1337 133 || fail "routes-del with a foreign rule"
# (`cmd | grep -q` under pipefail fails when grep exits first and cmd gets SIGPIPE: read, then grep)
grep -q "fwmark 0x539 lookup 200" <<<"$(ip -n "$ns" -4 rule show)" || fail "foreign rule removed"

# ::6 on lo, once.
[ "$("$D" --netns "/run/netns/$ns" addr-add)" = created=1 ] || fail "addr-add"
grep -q "inet6 ::6/128" <<<"$(ip -n "$ns" -6 addr show dev lo)" || fail "::6 not on lo"
[ "$("$D" --netns "/run/netns/$ns" addr-add)" = created=0 ] || fail "second addr-add created"
[ "$(grep -c 'inet6 ::6/128' <<<"$(ip -n "$ns" -6 addr show dev lo)")" = 1 ] || fail "::6 twice"
"$D" --netns "/run/netns/$ns" addr-del || fail "addr-del"
"$D" --netns "/run/netns/$ns" addr-del || fail "second addr-del"
grep -q "::6/128" <<<"$(ip -n "$ns" -6 addr show dev lo)" && fail "::6 still on lo"

# With lo down the IPv6 route cannot be added; the error says why.
ip -n "$ns" link set lo down
err=$("$D" --netns "/run/netns/$ns" routes-add v6 1337 133 2>&1) && fail "v6 route with lo down"
grep -q "lo is down in this network namespace" <<<"$err" || fail "lo-down message: $err"
echo "ok"

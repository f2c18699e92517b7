#!/bin/bash
# istio state in the family the new flags leave out, and routes of an earlier TPROXY setup, are
# earlier istio state: `verify` reports them as drift, `--reconcile` removes them in the same
# all-or-nothing apply, and `clean` removes them too. Also: a refused or rolled-back apply leaves
# no table behind that was not there (reading or rolling back an absent legacy table would create
# it, and nothing could remove it again), and an xtables lock path naming a FIFO is refused
# instead of blocking.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root

TPROXY46=(-m TPROXY -i '*' -b '*' --enable-ipv6=true)
REDIRECT4=(-m REDIRECT -i '*' -b '*' --enable-ipv6=false)
REDIRECT46=(-m REDIRECT -i '*' -b '*' --enable-ipv6=true)
routes() { ip -n "$1" rule; ip -n "$1" -6 rule; ip -n "$1" route show table 133 2>/dev/null; ip -n "$1" -6 route show table 133 2>/dev/null; }

# 1. TPROXY dual-stack, then REDIRECT IPv4-only: verify sees the IPv6 rules and old routes.
new_ns fam
ns=$NS
run_in "$ns" "${TPROXY46[@]}" 2>/dev/null || fail "TPROXY apply"
rc=0
out=$(run_in "$ns" verify "${REDIRECT4[@]}" 2>/dev/null) || rc=$?
[ $rc = 1 ] || fail "verify of IPv4-only flags over a dual-stack TPROXY apply: exit $rc, want 1"
grep -q '^# ipv6 mangle' <<<"$out" || fail "verify did not show the IPv6 tables: $out"
grep -q '^-ip -6 rule fwmark 0x539 lookup 133' <<<"$out" || fail "verify did not show the old v6 rule: $out"
grep -q '^-ip route local default dev lo table 133' <<<"$out" || fail "verify did not show the old v4 route: $out"
# Without --reconcile the apply refuses and changes nothing.
before=$(snapshot "$ns")
run_in "$ns" "${REDIRECT4[@]}" 2>/dev/null && fail "REDIRECT over TPROXY accepted without --reconcile"
[ "$(snapshot "$ns")" = "$before" ] || fail "the refused apply changed the tables"
# With --reconcile: nothing of the IPv6 capture and no TPROXY route is left.
run_in "$ns" --reconcile "${REDIRECT4[@]}" 2>/dev/null || fail "reconcile to REDIRECT IPv4-only"
grep -q ISTIO <<<"$(tables "$ns" 6)" && fail "ISTIO rules left in ip6tables: $(tables "$ns" 6)"
grep -q 'fwmark 0x539' <<<"$(routes "$ns")" && fail "a TPROXY rule is left: $(routes "$ns")"
grep -q 'table 133\|local default' <<<"$(routes "$ns")" && fail "a table-133 route is left: $(routes "$ns")"
run_in "$ns" verify "${REDIRECT4[@]}" >/dev/null 2>&1 || fail "verify after the reconcile"
ref=$(ns_new famref)
run_in "$ref" "${REDIRECT4[@]}" 2>/dev/null || fail "reference apply"
[ "$(snapshot "$ns")" = "$(snapshot "$ref")" ] || fail "reconcile result differs from a fresh apply"

# 2. REDIRECT dual-stack, then verify of the same flags with IPv6 off: the IPv6 rules are drift.
new_ns fam2
run_in "$NS" "${REDIRECT46[@]}" 2>/dev/null || fail "dual-stack apply"
rc=0
out=$(run_in "$NS" verify "${REDIRECT4[@]}" 2>/dev/null) || rc=$?
[ $rc = 1 ] || fail "verify --enable-ipv6=false over a dual-stack apply: exit $rc, want 1"
grep -q '^-:ISTIO_OUTPUT' <<<"$out" || grep -q '^-.*ISTIO_OUTPUT' <<<"$out" || fail "no IPv6 drift shown: $out"
# clean with IPv6 off takes the IPv6 part too.
run_in "$NS" clean "${REDIRECT4[@]}" 2>/dev/null || fail "clean"
grep -q ISTIO <<<"$(tables "$NS" 4; tables "$NS" 6)" && fail "clean left istio rules"

# 3. A rollback: REDIRECT (nat only), then TPROXY dual-stack failing after its third commit
#    (mangle v4, mangle v6, nat v4). Reading created no table; the two mangle tables the failed
#    apply created stay, empty: x_tables cannot remove a table from a namespace (README).
new_ns fam3
run_in "$NS" "${REDIRECT46[@]}" 2>/dev/null || fail "REDIRECT apply"
before=$(snapshot "$NS")
run_in "$NS" verify "${TPROXY46[@]}" >/dev/null 2>&1 && fail "verify of other flags said equal"
grep -q mangle <<<"$(ip netns exec "$NS" cat /proc/net/ip_tables_names /proc/net/ip6_tables_names)" &&
  fail "reading (verify) created a mangle table"
SNARE_FAULT_AFTER_COMMITS=3 run_in "$NS" --reconcile "${TPROXY46[@]}" 2>/dev/null && fail "fault 3 applied"
[ "$(snapshot "$NS")" = "$before" ] || fail "the rollback changed the rules: $(diff <(echo "$before") <(snapshot "$NS"))"
for t in $(ip netns exec "$NS" cat /proc/net/ip6_tables_names); do
  grep -q '^-A\|^:ISTIO' <<<"$(ip netns exec "$NS" ip6tables-legacy-save -t "$t")" && [ "$t" != nat ] &&
    fail "table $t was left with rules"
done

# 4. XTABLES_LOCKFILE naming a FIFO: an error within the lock timeout, not a hang.
fifo=$(mktemp -u /tmp/snare-fifo.XXXXXX)
mkfifo "$fifo"
new_ns fifo
set +e
err=$(XTABLES_LOCKFILE=$fifo timeout 20 ip netns exec "$NS" "$SNARE" "${REDIRECT4[@]}" 2>&1)
rc=$?
set -e
rm -f "$fifo"
[ $rc = 1 ] || fail "apply with a FIFO lock file: exit $rc (124 is a hang), want 1: $err"
grep -q 'is a FIFO, not a regular file' <<<"$err" || fail "FIFO lock error: $err"
echo ok

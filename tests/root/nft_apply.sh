#!/bin/bash
# Native nftables mode against the real kernel: re-runs replace what earlier flags wrote (TPROXY
# + DNS, then REDIRECT, equals a fresh REDIRECT apply, routes included), clean leaves foreign
# nftables tables and legacy rules as they were, verify names a deleted rule, an injected
# failure after the commit or a failing route step puts the previous tables back, legacy istio
# rules are refused by name and migrated with --reconcile, an unknown group name is refused
# with its flag and nothing changes, the environment variable works as the flag, and the
# dry-run needs no privilege.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root

work_log=$(mktemp /tmp/snare-nftlog.XXXXXX)
trap 'rm -f "$work_log"; ns_cleanup' EXIT
TPROXY=(--native-nftables -m TPROXY -b '*' --redirect-dns -c not-istio-nic --enable-ipv6=true --dns-servers=127.0.0.53,::127.0.0.53)
REDIRECT=(--native-nftables -b '*' -d 15090,15021 --enable-ipv6=true)
state() {  # the namespace's nftables ruleset (no handles), routes and legacy tables
  ip netns exec "$1" nft list ruleset | sed 's/packets [0-9]* bytes [0-9]*/packets 0 bytes 0/'
  echo "== rules"; ip netns exec "$1" ip rule; ip netns exec "$1" ip -6 rule
  echo "== routes 133"
  ip netns exec "$1" ip route show table 133 2>/dev/null || true
  ip netns exec "$1" ip -6 route show table 133 2>/dev/null || true
  echo "== legacy"; snapshot "$1"
}

# 1. Replace: TPROXY+DNS, then REDIRECT = a fresh REDIRECT apply, routes included.
new_ns nr
ns=$NS
run_in "$ns" "${TPROXY[@]}" 2>/dev/null || fail "TPROXY apply"
grep -q 'fwmark 0x539' <<<"$(ip netns exec "$ns" ip rule)" || fail "no TPROXY route rule"
run_in "$ns" "${REDIRECT[@]}" 2>/dev/null || fail "REDIRECT over TPROXY"
new_ns nref
run_in "$NS" "${REDIRECT[@]}" 2>/dev/null || fail "fresh REDIRECT apply"
[ "$(state "$ns")" = "$(state "$NS")" ] || fail "replace differs from a fresh apply: $(diff <(state "$NS") <(state "$ns"))"
before=$(ip netns exec "$ns" nft -a list ruleset)
run_in "$ns" "${REDIRECT[@]}" 2>/dev/null || fail "same flags again"
[ "$(ip netns exec "$ns" nft -a list ruleset)" = "$before" ] || fail "same flags again changed the ruleset"

# 2. verify: 0, then 1 naming a deleted rule (by istio's own line); NATIVE_NFTABLES works as the flag.
NATIVE_NFTABLES=true run_in "$ns" verify "${REDIRECT[@]:1}" >/dev/null 2>&1 || fail "verify (env) after apply: exit $?"
h=$(ip netns exec "$ns" nft -a list chain inet istio-proxy-nat istio-inbound | awk '/dport 15021/ {print $NF}')
[ -n "$h" ] || fail "no 15021 rule to delete"
ip netns exec "$ns" nft delete rule inet istio-proxy-nat istio-inbound handle "$h"
out=$(run_in "$ns" verify "${REDIRECT[@]}" 2>/dev/null) && fail "verify after a deletion: exit 0"
grep -q '^+add rule inet istio-proxy-nat istio-inbound meta l4proto tcp tcp dport 15021 counter return$' <<<"$out" ||
  fail "verify does not name the deleted rule: $out"
run_in "$ns" "${REDIRECT[@]}" 2>/dev/null || fail "apply repairs the deletion"
run_in "$ns" verify "${REDIRECT[@]}" >/dev/null 2>&1 || fail "verify after the repair"

# 3. Rollback: a failure right after the commit, and a failing route step, leave the previous
#    tables and routes.
applied=$(state "$ns")
SNARE_FAULT_AFTER_COMMITS=1 run_in "$ns" "${TPROXY[@]}" 2>/dev/null && fail "fault 1: apply succeeded"
[ "$(state "$ns")" = "$applied" ] || fail "fault 1: state changed: $(diff <(echo "$applied") <(state "$ns"))"
ip -n "$ns" link set lo down  # the IPv6 TPROXY route cannot be added with lo down
applied=$(state "$ns")
err=$(run_in "$ns" "${TPROXY[@]}" 2>&1) && fail "route failure: apply succeeded"
grep -q 'nftables tables restored' <<<"$err" || fail "route failure: no restore said: $err"
[ "$(state "$ns")" = "$applied" ] || fail "route failure: state changed: $(diff <(echo "$applied") <(state "$ns"))"
ip -n "$ns" link set lo up

# 4. clean: foreign nftables table and legacy rules as they were.
new_ns nc
ns=$NS
add_foreign "$ns"
ip netns exec "$ns" nft add table inet filter
ip netns exec "$ns" nft add chain inet filter input '{ type filter hook input priority 0 ; }'
ip netns exec "$ns" nft add rule inet filter input tcp dport 22 counter accept
pre=$(state "$ns")
run_in "$ns" "${TPROXY[@]}" 2>/dev/null || fail "apply next to foreign state"
run_in "$ns" clean "${TPROXY[@]}" 2>/dev/null || fail "clean"
post=$(state "$ns")
[ "$post" = "$pre" ] || fail "clean did not restore the pre-state: $(diff <(echo "$pre") <(echo "$post"))"
grep -q '::6' <<<"$(ip netns exec "$ns" ip -6 addr show dev lo)" && fail "clean left ::6"

# 5. Legacy istio rules: refused by name, nothing changed; migrated with --reconcile, foreign
#    legacy rules kept.
new_ns nl
ns=$NS
add_foreign "$ns"
run_in "$ns" -m REDIRECT -b '*' --enable-ipv6=true 2>/dev/null || fail "legacy apply"
legacy=$(state "$ns")
err=$(run_in "$ns" "${REDIRECT[@]}" 2>&1) && fail "nftables over legacy istio rules accepted"
grep -q 'ISTIO_OUTPUT' <<<"$err" && grep -q -- '--reconcile' <<<"$err" || fail "refusal does not name the rules and --reconcile: $err"
[ "$(state "$ns")" = "$legacy" ] || fail "the refused apply changed something"
run_in "$ns" --reconcile "${REDIRECT[@]}" 2>/dev/null || fail "migration"
have=$(snapshot "$ns")
grep -q ISTIO <<<"$have" && fail "legacy istio rules survived the migration"
for r in 'FOREIGN_CHAIN' 'dport 9999' 'log-prefix foreign' 'NOTRACK' 'dport 7777'; do
  grep -q -- "$r" <<<"$have" || fail "foreign legacy rule '$r' lost in the migration"
done
run_in "$ns" verify "${REDIRECT[@]}" >/dev/null 2>&1 || fail "verify after the migration"

# 6. An unknown group: one line naming the flag and the name, nothing changed.
pre=$(state "$ns")
err=$(run_in "$ns" "${REDIRECT[@]}" --outbound-owner-groups nosuchgroup 2>&1) && fail "unknown group accepted"
[ "$(wc -l <<<"$err")" = 1 ] && grep -q -- '--outbound-owner-groups.*nosuchgroup' <<<"$err" ||
  fail "unknown group error: $err"
[ "$(state "$ns")" = "$pre" ] || fail "the refused apply changed something"

# 7. The dry-run needs no privilege (istio ignores --dry-run in this mode; snare honours it).
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$SNARE" --dry-run "${TPROXY[@]}" 2>/dev/null) ||
  fail "unprivileged dry-run failed"
grep -q '^add table inet istio-proxy-nat$' <<<"$out" || fail "unprivileged dry-run printed no transaction"
# 8. From outside the namespace: --network-namespace and --netns-pid, JSON logs naming the backend.
new_ns nx
"$SNARE" "${REDIRECT[@]}" --network-namespace "/run/netns/$NS" --log_as_json 2>"$work_log" ||
  fail "--network-namespace apply"
grep -q '"backend":"nftables"' "$work_log" && grep -q '"commit_ms"' "$work_log" || fail "JSON log: $(cat "$work_log")"
grep -q istio-proxy-nat <<<"$(ip netns exec "$NS" nft list tables)" || fail "--network-namespace: no table there"
[ -z "$(nft list tables | grep istio-proxy || true)" ] || fail "--network-namespace wrote into this namespace"
ip netns exec "$NS" sleep 30 &
holder=$!
sleep 0.2
"$SNARE" clean "${REDIRECT[@]}" --netns-pid "$holder" 2>/dev/null || fail "--netns-pid clean"
kill "$holder"
[ -z "$(ip netns exec "$NS" nft list tables)" ] || fail "--netns-pid clean left tables"
echo "PASS nft_apply"

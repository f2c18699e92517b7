#!/bin/bash
# istio's rules written through iptables-nft (istio-iptables without --native-nftables on a node
# whose iptables is iptables-nft): ISTIO_* chains in nftables' ip/ip6 nat/mangle/raw tables.
#   1. --native-nftables refuses them by name and changes nothing; verify shows them as drift;
#      --reconcile migrates in one transaction: none of istio's chains or jumps left, foreign
#      iptables-nft rules and chains kept; verify is then 0.
#   2. clean removes them, in nftables mode and in iptables mode; foreign rules stay.
#   3. iptables mode's apply next to them is refused, naming the tables and what to run.
#   4. legacy istio rules next to a foreign nftables table (an empty `inet filter`): the nftables
#      apply says to `snare clean` with the old flags, and that clean works (no dead end).
#   5. iptables mode's verify: istio's iptables-nft chains added after snare's legacy apply are
#      drift (exit 1), shown with what they are and `snare clean`; without libnftables (an image
#      that lacks it) verify says it did not check them and judges the legacy tables alone.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root
command -v iptables-nft-restore >/dev/null || { echo "SKIP: no iptables-nft" >&2; exit 77; }

K=$(conformance_dir)/kernel-form/capture
NFT=(--native-nftables -b '*' --enable-ipv6=true)
OLD=(-m TPROXY -b '*' --enable-ipv6=true)
# nft's stderr is dropped: where its libxtables cannot translate an xt extension it warns once per
# rule, and the checks below only read what it prints of the tables.
ruleset() { ip netns exec "$1" nft list ruleset 2>/dev/null | sed 's/packets [0-9]* bytes [0-9]*/packets 0 bytes 0/'; }
# istio's rules through iptables-nft, both families, and foreign ones beside them.
istio_nft() {
  ip netns exec "$1" iptables-nft-restore <"$K/inbound-ports-tproxy.v4.save"
  ip netns exec "$1" ip6tables-nft-restore <"$K/dns-uid-gid.v6.save"
  add_foreign "$1" nft
}
foreign_kept() {  # NS WHAT: the foreign iptables-nft rules are all there
  local have
  have=$(ruleset "$1")
  for r in 'FOREIGN_CHAIN' 'dport 9999' 'dport 7777' 'dport 5353' 'dport 8888'; do
    [ "$(grep -c -- "$r" <<<"$have")" -ge 2 ] || fail "$2: foreign rule '$r' lost: $have"
  done
}
no_istio_left() { ! grep -q ISTIO <<<"$(ruleset "$1")" || fail "$2: ISTIO chains left: $(ruleset "$1")"; }

# 1. Refused by name, drift in verify, migrated with --reconcile.
new_ns xr
ns=$NS
istio_nft "$ns"
pre=$(ruleset "$ns")
err=$(run_in "$ns" "${NFT[@]}" 2>&1) && fail "nftables apply next to iptables-nft istio rules accepted"
grep -q 'ip nat (ISTIO_INBOUND' <<<"$err" && grep -q 'ip6 raw (ISTIO_' <<<"$err" && grep -q -- '--reconcile' <<<"$err" ||
  fail "refusal does not name the tables and --reconcile: $err"
[ "$(ruleset "$ns")" = "$pre" ] || fail "the refused apply changed something"
rc=0
out=$(run_in "$ns" verify "${NFT[@]}" 2>/dev/null) || rc=$?
[ $rc = 1 ] || fail "verify next to iptables-nft istio rules: exit $rc, want 1"
grep -q '^-chain ip nat ISTIO_OUTPUT' <<<"$out" || fail "verify does not show the iptables-nft chains: $out"
run_in "$ns" --reconcile "${NFT[@]}" 2>/dev/null || fail "migration with --reconcile"
no_istio_left "$ns" "migration"
foreign_kept "$ns" "migration"
grep -q 'table inet istio-proxy-nat' <<<"$(ruleset "$ns")" || fail "migration wrote no nftables table"
run_in "$ns" verify "${NFT[@]}" >/dev/null 2>&1 || fail "verify after the migration"

# 2. clean, in nftables mode and in iptables mode.
for mode in nft ipt; do
  new_ns "xc$mode"
  istio_nft "$NS"
  if [ $mode = nft ]; then flags=("${NFT[@]}"); else flags=("${OLD[@]}"); fi
  run_in "$NS" clean "${flags[@]}" 2>/dev/null || fail "clean ($mode) next to iptables-nft istio rules"
  no_istio_left "$NS" "clean ($mode)"
  foreign_kept "$NS" "clean ($mode)"
done

# 3. iptables mode's apply next to them: refused, saying which tables and what to run.
new_ns xi
istio_nft "$NS"
err=$(run_in "$NS" "${OLD[@]}" 2>&1) && fail "iptables mode next to iptables-nft rules accepted"
grep -q 'table ip nat (iptables-nft' <<<"$err" && grep -q -- '--native-nftables' <<<"$err" &&
  grep -q 'snare clean' <<<"$err" && grep -q 'nft delete table ip6 raw' <<<"$err" ||
  fail "iptables mode's refusal does not name the tables and what to run: $err"

# 4. Legacy istio rules next to an empty `inet filter`: the clean the nftables apply asks for works.
new_ns xl
ns=$NS
add_foreign "$ns"
run_in "$ns" "${OLD[@]}" 2>/dev/null || fail "legacy apply"
ip netns exec "$ns" nft add table inet filter
err=$(run_in "$ns" "${NFT[@]}" 2>&1) && fail "nftables apply over legacy istio rules accepted"
grep -q 'snare clean' <<<"$err" || fail "the refusal does not point at snare clean: $err"
run_in "$ns" clean "${OLD[@]}" 2>/dev/null || fail "clean of legacy istio rules next to inet filter"
grep -q ISTIO <<<"$(snapshot "$ns")" && fail "clean left legacy istio rules: $(snapshot "$ns")"
grep -q FOREIGN_CHAIN <<<"$(snapshot "$ns")" || fail "clean took foreign legacy rules"
grep -q 'table inet filter' <<<"$(ip netns exec "$ns" nft list tables)" || fail "clean removed inet filter"
run_in "$ns" "${NFT[@]}" 2>/dev/null || fail "nftables apply after the clean"

# 5. iptables mode's verify: istio's chains that iptables-nft added next to snare's legacy rules.
new_ns xv
ns=$NS
run_in "$ns" "${OLD[@]}" 2>/dev/null || fail "legacy apply"
run_in "$ns" verify "${OLD[@]}" >/dev/null 2>&1 || fail "verify after the legacy apply"
istio_nft "$ns"
rc=0
out=$(run_in "$ns" verify "${OLD[@]}" 2>/dev/null) || rc=$?
[ $rc = 1 ] || fail "iptables mode's verify next to iptables-nft istio rules: exit $rc, want 1"
grep -q '^-chain ip nat ISTIO_OUTPUT' <<<"$out" && grep -q '^-chain ip6 raw ISTIO_' <<<"$out" ||
  fail "iptables mode's verify does not show the iptables-nft chains: $out"
grep -q '^# iptables-nft:.*snare clean' <<<"$out" || fail "verify does not say what to run: $out"
# An image without libnftables: a mount namespace where it is an empty file, which dlopen refuses.
# awk reads to the end: an early exit would kill ldconfig with SIGPIPE, which pipefail turns
# into a silent exit of this test.
lib=$(ldconfig -p | awk '/libnftables\.so\.1 / && !found { print $NF; found = 1 }')
[ -n "$lib" ] || fail "no libnftables.so.1 in ldconfig's cache"
no_lib() {
  ip netns exec "$ns" unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$lib" "$SNARE" "$@"
}
rc=0
err=$(no_lib verify "${OLD[@]}" 2>&1 >/dev/null) || rc=$?
[ $rc = 0 ] || fail "verify without libnftables: exit $rc, want 0 (legacy tables as the flags say): $err"
grep -q "iptables-nft's tables were not checked" <<<"$err" || fail "verify without libnftables is silent: $err"
# What verify said to run: afterwards it finds no iptables-nft chains (only the rules to apply).
run_in "$ns" clean "${OLD[@]}" 2>/dev/null || fail "clean in iptables mode"
out=$(run_in "$ns" verify "${OLD[@]}" 2>/dev/null) && fail "verify after clean: exit 0"
! grep -q 'iptables-nft' <<<"$out" || fail "verify after clean still shows iptables-nft chains: $out"
echo "PASS iptables_nft"

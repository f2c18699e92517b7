#!/bin/bash
# `snare ambient --native-nftables` applied for real, for every in-pod nftables row of
# ambient-cases.tsv, in a fresh network namespace: `nft -j list ruleset` must equal
# ambient-kernel-form/nft-<case>.json (what the kernel listed after istio's golden was loaded;
# handles, counters and metainfo aside), istio's ip rule and table 100 route must be there, a
# second apply must change nothing, verify must say equal (and drift once a chain is flushed by
# hand), no legacy x_tables rule may appear, and clean must leave no table, rule or route. istio's
# own tables (its goldens loaded with nft -f) verify as equal. Then sidecar and ambient nftables
# tables refuse each other.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root

dir=$(conformance_dir)
routing() {  # NS: the ambient rule and table 100 of both families, as `ip` shows them
  local f
  for f in 4 6; do
    ip -n "$1" -$f rule show | grep -F 'fwmark 0x111/0xfff' || true
    ip -n "$1" -$f route show table 100 2>/dev/null || true
  done
}
pass=0
failed=()
while IFS=$'\t' read -r name golden args; do
  case "$name" in ambient-nft-hostprobe*) continue ;; ambient-nft-*) ;; *) continue ;; esac
  eval "argv=($args)"
  base=$(basename "${golden%.golden}")
  case_apply "an$pass" "$name" "${argv[@]}"
  expect_nft_form "$ns" "$name" "$dir" "ambient-kernel-form/nft-$base.json" || ok=0
  rules=$(routing "$ns")
  want_rules=1
  case "$args" in *--enable-ipv6=true*) want_rules=2 ;; esac
  [ "$(grep -c '^32764:	from all fwmark 0x111/0xfff lookup 100' <<<"$rules")" = $want_rules ] ||
    { echo "[$name] ip rules: $rules" >&2; ok=0; }
  [ "$(grep -c '^local default dev lo' <<<"$rules")" = $want_rules ] ||
    { echo "[$name] table 100: $rules" >&2; ok=0; }
  before="$(ip netns exec "$ns" nft -a list ruleset)$rules"
  run_in "$ns" "${argv[@]}" 2>/dev/null || { echo "[$name] second apply failed" >&2; ok=0; }
  [ "$(ip netns exec "$ns" nft -a list ruleset)$(routing "$ns")" = "$before" ] ||
    { echo "[$name] second apply changed something" >&2; ok=0; }
  run_in "$ns" ambient verify "${argv[@]:1}" >/dev/null 2>&1 ||
    { echo "[$name] verify after apply: exit $?" >&2; ok=0; }
  [ -z "$(ip netns exec "$ns" iptables-legacy-save; ip netns exec "$ns" ip6tables-legacy-save)" ] ||
    { echo "[$name] legacy x_tables state appeared" >&2; ok=0; }
  ip netns exec "$ns" nft flush chain inet istio-ambient-nat istio-output
  rc=0
  run_in "$ns" ambient verify "${argv[@]:1}" >/dev/null 2>&1 || rc=$?
  [ $rc = 1 ] || { echo "[$name] verify after a flush: exit $rc, want 1" >&2; ok=0; }
  run_in "$ns" ambient clean "${argv[@]:1}" 2>/dev/null || { echo "[$name] clean failed" >&2; ok=0; }
  [ -z "$(ip netns exec "$ns" nft list ruleset)" ] || { echo "[$name] clean left tables" >&2; ok=0; }
  [ -z "$(routing "$ns")" ] || { echo "[$name] clean left routing: $(routing "$ns")" >&2; ok=0; }
  case_done "$ns" "$name"
done <"$dir/ambient-cases.tsv"
cases_summary "in-pod nftables ambient cases" 12

# istio's own tables, loaded with `nft -f` from each golden (and the routing with `ip`): snare
# ambient verify says equal and an apply commits nothing.
checked=0
while IFS=$'\t' read -r name golden args; do
  case "$name" in ambient-nft-hostprobe*) continue ;; ambient-nft-*) ;; *) continue ;; esac
  eval "argv=($args)"
  new_ns "ani$checked"
  ns=$NS
  ip netns exec "$ns" nft -f "$dir/$golden" || fail "[$name] nft -f of istio's golden"
  fams=(4)
  case "$args" in *--enable-ipv6=true*) fams=(4 6) ;; esac
  add_ambient_routing "$ns" "${fams[@]}"
  expect_adopted "$ns" "$name" tables "${argv[@]}"
  del_ns "$ns"
  checked=$((checked + 1))
done <"$dir/ambient-cases.tsv"
[ $checked = 12 ] || fail "expected 12 cases loaded from istio's goldens, ran $checked"

# Sidecar and ambient nftables tables refuse each other, naming what is there.
new_ns anboth
ns=$NS
run_in "$ns" --native-nftables -p 15001 -b '*' --enable-ipv6=false >/dev/null 2>&1 ||
  fail "sidecar nftables apply failed"
before=$(ip netns exec "$ns" nft list ruleset)
rc=0
out=$(run_in "$ns" ambient --native-nftables --enable-ipv6=false 2>&1) || rc=$?
[ $rc = 1 ] || fail "ambient over sidecar tables: exit $rc, want 1"
grep -q "sidecar nftables tables (istio-proxy-nat" <<<"$out" || fail "ambient's refusal: $out"
[ "$(ip netns exec "$ns" nft list ruleset)" = "$before" ] || fail "the refused apply changed tables"
run_in "$ns" clean --native-nftables -p 15001 -b '*' --enable-ipv6=false >/dev/null 2>&1 ||
  fail "sidecar clean failed"
run_in "$ns" ambient --native-nftables --enable-ipv6=false >/dev/null 2>&1 ||
  fail "ambient apply failed"
rc=0
out=$(run_in "$ns" --native-nftables -p 15001 -b '*' --enable-ipv6=false 2>&1) || rc=$?
[ $rc = 1 ] || fail "sidecar over ambient tables: exit $rc, want 1"
grep -q "ambient nftables tables (istio-ambient-nat" <<<"$out" || fail "the sidecar's refusal: $out"

# Legacy istio rules next to ambient's nftables ones: refused, pointing at the clean that helps.
new_ns anleg
ns=$NS
run_in "$ns" ambient --enable-ipv6=false >/dev/null 2>&1 || fail "legacy ambient apply failed"
rc=0
out=$(run_in "$ns" ambient --native-nftables --enable-ipv6=false 2>&1) || rc=$?
[ $rc = 1 ] || fail "nftables over legacy ambient rules: exit $rc, want 1"
grep -q "legacy iptables back-end holds istio rules.*snare ambient clean" <<<"$out" ||
  fail "the refusal over legacy rules: $out"
[ -z "$(ip netns exec "$ns" nft list ruleset)" ] || fail "the refused apply wrote nftables tables"
echo ok

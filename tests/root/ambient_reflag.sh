#!/bin/bash
# `snare ambient` applied again with other flags, in one namespace, without --reconcile (istio's
# agent reconciles in-pod rules by default): after each apply the kernel holds exactly the kernel
# form of the new flags' case (iptables-legacy-save per family, or `nft -j list ruleset`), with
# the ip rule and table-100 route of each family the flags enable and none of the other, and
# verify says equal. A raw table that the new flags do not use is gone (istio's nftables mode
# leaves it; snare does not). Both backends.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root

dir=$(conformance_dir)
# The order walks IPv6 on and off, the raw table (DNS capture) in and out, and the interfaces.
SEQUENCE=(default_ipv6 dns_pod_disabled_and_on_globally ingress_and_virtual_interfaces_ipv6
  virtual_interfaces default dns_pod_enabled_and_off_globally_ipv6 ingress)
args_of() {  # CASE-NAME: the row's flags (after `ambient`)
  awk -F'\t' -v n="$1" '$1 == n { print $3 }' "$dir/ambient-cases.tsv"
}
rules_of() {  # NS FAMILY: how many ambient ip rules and table-100 routes that family has
  local n
  n=$(ip -n "$1" -"$2" rule show | grep -c -F 'fwmark 0x111/0xfff lookup 100' || true)
  echo "$n/$(ip -n "$1" -"$2" route show table 100 2>/dev/null | grep -c '^local default dev lo' || true)"
}

for mode in ipt nft; do
  new_ns "arf$mode"
  ns=$NS
  prefix=ambient-
  [ $mode = nft ] && prefix=ambient-nft-
  for base in "${SEQUENCE[@]}"; do
    args=$(args_of "$prefix$base")
    [ -n "$args" ] || fail "no row $prefix$base in ambient-cases.tsv"
    eval "argv=($args)"
    out=$(run_in "$ns" "${argv[@]}" 2>&1) || fail "[$mode $base] apply over the previous flags: $out"
    if [ $mode = ipt ]; then
      expect_save_form "$ns" "$base" "$dir/ambient-kernel-form/$base" || fail "[$mode $base] tables"
    else
      expect_nft_form "$ns" "$base" "$dir" "ambient-kernel-form/nft-$base.json" || fail "[$mode $base] tables"
    fi
    want6=0/0
    case "$args" in *--enable-ipv6=true*) want6=1/1 ;; esac
    [ "$(rules_of "$ns" 4)" = 1/1 ] || fail "[$mode $base] IPv4 ip rule/route: $(rules_of "$ns" 4)"
    [ "$(rules_of "$ns" 6)" = $want6 ] || fail "[$mode $base] IPv6 ip rule/route: $(rules_of "$ns" 6), want $want6"
    run_in "$ns" ambient verify "${argv[@]:1}" >/dev/null 2>&1 || fail "[$mode $base] verify: exit $?"
  done
  del_ns "$ns"
  echo "$mode: ${#SEQUENCE[@]} flag changes applied in one namespace"
done
echo ok

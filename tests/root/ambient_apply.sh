# `snare ambient` applied for real (iptables mode), for every in-pod row of ambient-cases.tsv:
# inside a fresh network namespace, iptables-legacy-save / ip6tables-legacy-save must print the
# tables of ambient-kernel-form/<case>.v4.save / .v6.save (what the kernel held after loading
# istio's golden), `ip rule` must hold `fwmark 0x111/0xfff lookup 100` at 32764 and table 100
# `local default dev lo` (IPv6 too when on); a second apply changes nothing; verify says equal,
# and drift after a rule is deleted by hand. istio's own rules (its goldens loaded by
# iptables-legacy-restore) verify as equal. Then: clean keeps a foreign rule and leaves no istio
# rule, ip rule or route; sidecar and ambient rules refuse each other.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root

dir=$(conformance_dir)
routing() {  # NS FAMILY: the ambient rule and table 100, as `ip` shows them
  ip -n "$1" -"$2" rule show | grep -F 'fwmark 0x111/0xfff' || true
  ip -n "$1" -"$2" route show table 100 2>/dev/null || true
}
pass=0
failed=()
while IFS=$'\t' read -r name golden args; do
  case "$args" in 'ambient '*) ;; *) continue ;; esac
  case "$name" in ambient-nft-*) continue ;; esac
  eval "argv=($args)"
  base=$(basename "${golden%.golden}")
  case_apply "a$pass" "$name" "${argv[@]}"
  expect_save_form "$ns" "$name" "$dir/ambient-kernel-form/$base" || ok=0
  grep -q '^32764:	from all fwmark 0x111/0xfff lookup 100' <(routing "$ns" 4) ||
    { echo "[$name] no IPv4 ip rule: $(routing "$ns" 4)" >&2; ok=0; }
  grep -q '^local default dev lo' <(ip -n "$ns" -4 route show table 100) ||
    { echo "[$name] no IPv4 route in table 100" >&2; ok=0; }
  if [ -f "$dir/ambient-kernel-form/$base.v6.save" ]; then
    grep -q '^32764:	from all fwmark 0x111/0xfff lookup 100' <(routing "$ns" 6) ||
      { echo "[$name] no IPv6 ip rule" >&2; ok=0; }
    grep -q '^local default dev lo' <(ip -n "$ns" -6 route show table 100) ||
      { echo "[$name] no IPv6 route in table 100" >&2; ok=0; }
  else
    [ -z "$(routing "$ns" 6)" ] || { echo "[$name] IPv6 routing with IPv6 off" >&2; ok=0; }
  fi
  if [ $ok = 1 ]; then
    before="$(snapshot "$ns")$(routing "$ns" 4)$(routing "$ns" 6)"
    again=$(run_in "$ns" "${argv[@]}" 2>&1) || { echo "[$name] second apply failed" >&2; ok=0; }
    grep -q "nothing committed" <<<"$again" || { echo "[$name] second apply: $again" >&2; ok=0; }
    [ "$(snapshot "$ns")$(routing "$ns" 4)$(routing "$ns" 6)" = "$before" ] ||
      { echo "[$name] second apply changed something" >&2; ok=0; }
    run_in "$ns" ambient verify "${argv[@]:1}" >/dev/null 2>&1 ||
      { echo "[$name] verify after apply: exit $?" >&2; ok=0; }
    ip netns exec "$ns" iptables-legacy -t nat -D OUTPUT -j ISTIO_OUTPUT
    rc=0
    run_in "$ns" ambient verify "${argv[@]:1}" >/dev/null 2>&1 || rc=$?
    [ $rc = 1 ] || { echo "[$name] verify after a rule was deleted: exit $rc, want 1" >&2; ok=0; }
  fi
  case_done "$ns" "$name"
done <"$dir/ambient-cases.tsv"
cases_summary "in-pod iptables ambient cases" 12

# istio's own state, made by iptables-legacy-restore from each golden (and `ip` for the routing):
# snare ambient verify with the row's flags says equal, and an apply commits nothing. This holds
# snare's encoding to the bytes iptables writes, not only to its own read-back.
checked=0
while IFS=$'\t' read -r name golden args; do
  case "$args" in 'ambient '*) ;; *) continue ;; esac
  case "$name" in ambient-nft-*) continue ;; esac
  eval "argv=($args)"
  new_ns "ai$checked"
  ns=$NS
  # The golden: istio's test log (2 lines), the IPv4 restore blocks, then the IPv6 ones.
  tail -n +3 "$dir/$golden" | awk -v v4=/tmp/snare-amb-$$.v4 -v v6=/tmp/snare-amb-$$.v6 \
    'BEGIN { printf "" > v4; printf "" > v6 } /^\* mangle/ { n++ } { print > (n == 1 ? v4 : v6) }'
  ip netns exec "$ns" iptables-legacy-restore --noflush </tmp/snare-amb-$$.v4 || fail "[$name] v4 restore"
  fams=(4)
  if [ -s /tmp/snare-amb-$$.v6 ]; then
    ip netns exec "$ns" ip6tables-legacy-restore --noflush </tmp/snare-amb-$$.v6 || fail "[$name] v6 restore"
    fams=(4 6)
  fi
  add_ambient_routing "$ns" "${fams[@]}"
  expect_adopted "$ns" "$name" rules "${argv[@]}"
  del_ns "$ns"
  checked=$((checked + 1))
done <"$dir/ambient-cases.tsv"
rm -f /tmp/snare-amb-$$.v4 /tmp/snare-amb-$$.v6
[ $checked = 12 ] || fail "expected 12 cases loaded from istio's goldens, ran $checked"

# clean: a foreign rule added before stays; no ISTIO_ chain, jump, ip rule or route is left.
new_ns aclean
ns=$NS
ip netns exec "$ns" iptables-legacy -t nat -A OUTPUT -p udp --dport 9999 -j RETURN
ip netns exec "$ns" ip6tables-legacy -t mangle -A PREROUTING -p tcp --dport 8888 -j RETURN
run_in "$ns" ambient --enable-ipv6=true >/dev/null 2>&1 || fail "apply before clean failed"
run_in "$ns" ambient clean --enable-ipv6=true >/dev/null 2>&1 || fail "clean failed"
left=$(snapshot "$ns")
grep -q 'ISTIO' <<<"$left" && fail "clean left istio state:
$left"
grep -q -- '--dport 9999 -j RETURN' <<<"$left" || fail "clean removed the foreign IPv4 rule"
grep -q -- '--dport 8888 -j RETURN' <<<"$left" || fail "clean removed the foreign IPv6 rule"
[ -z "$(routing "$ns" 4)$(routing "$ns" 6)" ] || fail "clean left routing: $(routing "$ns" 4)"
run_in "$ns" ambient clean --enable-ipv6=true >/dev/null 2>&1 || fail "a second clean failed"

# A pod whose lo has IPv6 disabled gets the IPv6 rules and ip rule but no IPv6 route (the kernel
# refuses it), as istio-cni does; verify and clean agree.
new_ns anov6
ns6=$NS
ip netns exec "$ns6" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.lo.disable_ipv6=1
run_in "$ns6" ambient --enable-ipv6=true >/dev/null 2>&1 || fail "apply with lo's IPv6 disabled failed"
grep -q '^32764:	from all fwmark 0x111/0xfff lookup 100' <(ip -n "$ns6" -6 rule show) ||
  fail "no IPv6 ip rule with lo's IPv6 disabled"
[ -z "$(ip -n "$ns6" -6 route show table 100 2>/dev/null)" ] || fail "an IPv6 route with lo's IPv6 disabled"
run_in "$ns6" ambient verify --enable-ipv6=true >/dev/null 2>&1 || fail "verify with lo's IPv6 disabled"
run_in "$ns6" ambient clean --enable-ipv6=true >/dev/null 2>&1 || fail "clean with lo's IPv6 disabled"
[ -z "$(routing "$ns6" 6)" ] || fail "clean left IPv6 routing: $(routing "$ns6" 6)"
del_ns "$ns6"

# Sidecar and ambient refuse each other, naming what is there, and change nothing.
run_in "$ns" -p 15001 -b '*' --enable-ipv6=false >/dev/null 2>&1 || fail "sidecar apply failed"
before=$(snapshot "$ns")
rc=0
out=$(run_in "$ns" ambient --enable-ipv6=false 2>&1) || rc=$?
[ $rc = 1 ] || fail "ambient over sidecar rules: exit $rc, want 1"
grep -q "sidecar rules (ipv4/nat ISTIO_INBOUND" <<<"$out" || fail "ambient's refusal: $out"
[ "$(snapshot "$ns")" = "$before" ] || fail "the refused ambient apply changed the tables"
rc=0
out=$(run_in "$ns" ambient clean --enable-ipv6=false 2>&1) || rc=$?
[ $rc = 1 ] || fail "ambient clean over sidecar rules: exit $rc, want 1"
run_in "$ns" clean -p 15001 -b '*' --enable-ipv6=false >/dev/null 2>&1 || fail "sidecar clean failed"
run_in "$ns" ambient --enable-ipv6=false >/dev/null 2>&1 || fail "ambient apply failed"
before=$(snapshot "$ns")
rc=0
out=$(run_in "$ns" -p 15001 -b '*' --enable-ipv6=false 2>&1) || rc=$?
[ $rc = 1 ] || fail "sidecar over ambient rules: exit $rc, want 1"
grep -q "ambient rules (" <<<"$out" || fail "the sidecar's refusal: $out"
[ "$(snapshot "$ns")" = "$before" ] || fail "the refused sidecar apply changed the tables"
echo ok

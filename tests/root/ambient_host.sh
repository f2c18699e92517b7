#!/bin/bash
# `snare ambient-host` applied for real, both modes, for the hostprobe rows of ambient-cases.tsv,
# each in a fresh network namespace standing in for the node:
# - iptables mode: iptables-legacy-save / ip6tables-legacy-save print
#   ambient-kernel-form/hostprobe*.v4.save / .v6.save, and `ipset list` shows the probe sets
#   (hash:ip with comments; -v6 only with IPv6 on); istio's own state (the sets made with the
#   ipset CLI, its golden loaded by iptables-legacy-restore) verifies as equal;
# - nftables mode: `nft -j list ruleset` holds the chains and rules of
#   ambient-kernel-form/nft-hostprobe*.json and its probe sets (the v6 one only with IPv6 on: the
#   kernel form's maker declared both for the IPv4-only case, istio-cni declares -v6 only with
#   IPv6, and the SNAT address of the IPv6 case is whatever istio's golden had);
# - applied twice, the same; verify 0, 1 after a rule is deleted by hand, 1 when a set is
#   missing; a re-apply keeps the sets' members; clean leaves no istio rule, table or set and
#   keeps a foreign rule or table (and an ipset a foreign rule uses, with a warning);
# - an ipset of the name but another definition is refused, naming it; nothing is written;
# - `snare ambient-host probe add|del`, read back with `ipset list` / `nft list set`;
# - real traffic: a TCP connection from the node namespace to a pod address in the probe set
#   (a veth pair to a second namespace) arrives at the pod's listener from 169.254.7.127, one to
#   an address not in the set from the node's own address.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root
command -v ipset >/dev/null || fail "the ipset CLI is needed to read the sets back (scripts/deps.sh)"

dir=$(conformance_dir)
V4=istio-inpod-probes-v4
V6=istio-inpod-probes-v6
UID1=0a1b2c3d-0000-4000-8000-000000000001
UID2=0a1b2c3d-0000-4000-8000-000000000002

# sets NS: the namespace's ipsets as `ipset save` prints them, without the kernel's random initval.
sets() { ip netns exec "$1" ipset save 2>/dev/null | sed -e 's/ initval 0x[0-9a-f]*//' | sort; }

# expect_ipset NS NAME FAMILY: the set exists as istio-cni creates it.
expect_ipset() {
  local line
  line=$(ip netns exec "$1" ipset save "$2" 2>/dev/null | head -1)
  [[ "$line" == "create $2 hash:ip family $3 "*comment* ]] || { echo "ipset $2: '$line'" >&2; return 1; }
}

# nft_sets NS|FILE: the istio-ambient-nat sets of a listing (live NS, or a JSON file), one line
# each: name, type, comment.
nft_sets() {
  local json
  if [ -f "$1" ]; then json=$(cat "$1"); else json=$(ip netns exec "$1" nft -j list ruleset); fi
  python3 -c '
import json, sys
for i in json.loads(sys.stdin.read())["nftables"]:
    s = i.get("set")
    if s and s["table"] == "istio-ambient-nat":
        print(s["name"], s["type"], s.get("comment", ""))' <<<"$json" | sort
}

# ---------------------------------------------------------------- iptables mode, the goldens
pass=0
failed=()
while IFS=$'\t' read -r name golden args; do
  case "$args" in 'ambient-host '*) ;; *) continue ;; esac
  case "$name" in ambient-nft-*) continue ;; esac
  eval "argv=($args)"
  base=$(basename "${golden%.golden}")
  case_apply "h$pass" "$name" "${argv[@]}"
  expect_save_form "$ns" "$name" "$dir/ambient-kernel-form/$base" || ok=0
  expect_ipset "$ns" $V4 inet || ok=0
  if [ -f "$dir/ambient-kernel-form/$base.v6.save" ]; then
    expect_ipset "$ns" $V6 inet6 || ok=0
  else
    ! ip netns exec "$ns" ipset list -n | grep -qx $V6 || { echo "[$name] -v6 set with IPv6 off" >&2; ok=0; }
  fi
  before="$(snapshot "$ns")$(sets "$ns")"
  out=$(run_in "$ns" "${argv[@]}" 2>&1) || { echo "[$name] second apply failed: $out" >&2; ok=0; }
  grep -q "nothing committed" <<<"$out" || { echo "[$name] second apply: $out" >&2; ok=0; }
  [ "$(snapshot "$ns")$(sets "$ns")" = "$before" ] || { echo "[$name] second apply changed something" >&2; ok=0; }
  run_in "$ns" ambient-host verify "${argv[@]:1}" >/dev/null 2>&1 || { echo "[$name] verify after apply: exit $?" >&2; ok=0; }
  ip netns exec "$ns" iptables-legacy -t nat -D POSTROUTING -j ISTIO_POSTRT
  rc=0
  run_in "$ns" ambient-host verify "${argv[@]:1}" >/dev/null 2>&1 || rc=$?
  [ $rc = 1 ] || { echo "[$name] verify after a rule was deleted: exit $rc, want 1" >&2; ok=0; }
  # A missing set: the rule that uses it must go first (the kernel keeps a referenced set).
  run_in "$ns" ambient-host "${argv[@]:1}" >/dev/null 2>&1 || { echo "[$name] re-apply failed" >&2; ok=0; }
  ip netns exec "$ns" iptables-legacy -t nat -F ISTIO_POSTRT
  ip netns exec "$ns" ipset destroy $V4
  rc=0
  out=$(run_in "$ns" ambient-host verify "${argv[@]:1}" 2>/dev/null) || rc=$?
  [ $rc = 1 ] || { echo "[$name] verify with $V4 missing: exit $rc, want 1" >&2; ok=0; }
  grep -q "^+create $V4 hash:ip family inet comment" <<<"$out" || { echo "[$name] verify output: $out" >&2; ok=0; }
  run_in "$ns" ambient-host "${argv[@]:1}" >/dev/null 2>&1 || { echo "[$name] apply after the set went failed" >&2; ok=0; }
  [ "$(snapshot "$ns")$(sets "$ns")" = "$before" ] || { echo "[$name] apply did not restore the state" >&2; ok=0; }
  case_done "$ns" "$name"
done <"$dir/ambient-cases.tsv"
cases_summary "iptables ambient-host cases" 2

# istio's own state: the sets as its agent creates them (the ipset CLI's equivalent), its golden
# loaded by iptables-legacy-restore. snare's verify says equal and its apply commits nothing:
# the set match's bytes (the set's kernel index) are iptables' own.
checked=0
while IFS=$'\t' read -r name golden args; do
  case "$args" in 'ambient-host '*) ;; *) continue ;; esac
  case "$name" in ambient-nft-*) continue ;; esac
  eval "argv=($args)"
  new_ns "hi$checked"
  ns=$NS
  ip netns exec "$ns" ipset create $V4 hash:ip family inet comment -exist
  tail -n +3 "$dir/$golden" | awk -v v4=/tmp/snare-host-$$.v4 -v v6=/tmp/snare-host-$$.v6 \
    'BEGIN { printf "" > v4; printf "" > v6 } /^\* nat/ { n++ } { print > (n == 1 ? v4 : v6) }'
  ip netns exec "$ns" iptables-legacy-restore --noflush </tmp/snare-host-$$.v4 || fail "[$name] v4 restore"
  if [ -s /tmp/snare-host-$$.v6 ]; then
    ip netns exec "$ns" ipset create $V6 hash:ip family inet6 comment -exist
    ip netns exec "$ns" ip6tables-legacy-restore --noflush </tmp/snare-host-$$.v6 || fail "[$name] v6 restore"
  fi
  out=$(run_in "$ns" ambient-host verify "${argv[@]:1}" 2>&1) || fail "[$name] verify of istio's rules: $out"
  out=$(run_in "$ns" "${argv[@]}" 2>&1) || fail "[$name] apply over istio's rules: $out"
  grep -q "nothing committed" <<<"$out" || fail "[$name] apply over istio's rules committed: $out"
  del_ns "$ns"
  checked=$((checked + 1))
done <"$dir/ambient-cases.tsv"
rm -f /tmp/snare-host-$$.v4 /tmp/snare-host-$$.v6
[ $checked = 2 ] || fail "expected 2 iptables cases loaded from istio's goldens, ran $checked"

# ---------------------------------------------------------------- nftables mode, the goldens
pass=0
failed=()
while IFS=$'\t' read -r name golden args; do
  case "$name" in ambient-nft-hostprobe*) ;; *) continue ;; esac
  eval "argv=($args)"
  base=$(basename "${golden%.golden}")
  case_apply "hn$pass" "$name" "${argv[@]}"
  expect_nft_form "$ns" "$name" "$dir" "ambient-kernel-form/nft-$base.json" || ok=0
  want=$(nft_sets "$dir/ambient-kernel-form/nft-$base.json")
  case "$args" in *--enable-ipv6=true*) ;; *) want=$(grep -v "^$V6 " <<<"$want") ;; esac
  [ "$(nft_sets "$ns")" = "$want" ] || { echo "[$name] sets: $(nft_sets "$ns"), want $want" >&2; ok=0; }
  [ -z "$(ip netns exec "$ns" iptables-legacy-save)" ] || { echo "[$name] legacy state appeared" >&2; ok=0; }
  before=$(ip netns exec "$ns" nft -a list ruleset)
  run_in "$ns" "${argv[@]}" >/dev/null 2>&1 || { echo "[$name] second apply failed" >&2; ok=0; }
  [ "$(ip netns exec "$ns" nft -a list ruleset)" = "$before" ] || { echo "[$name] second apply changed something" >&2; ok=0; }
  run_in "$ns" ambient-host verify "${argv[@]:1}" >/dev/null 2>&1 || { echo "[$name] verify after apply: exit $?" >&2; ok=0; }
  ip netns exec "$ns" nft flush chain inet istio-ambient-nat postrouting
  rc=0
  run_in "$ns" ambient-host verify "${argv[@]:1}" >/dev/null 2>&1 || rc=$?
  [ $rc = 1 ] || { echo "[$name] verify after a flush: exit $rc, want 1" >&2; ok=0; }
  ip netns exec "$ns" nft delete set inet istio-ambient-nat $V4
  rc=0
  out=$(run_in "$ns" ambient-host verify "${argv[@]:1}" 2>/dev/null) || rc=$?
  [ $rc = 1 ] || { echo "[$name] verify with $V4 missing: exit $rc, want 1" >&2; ok=0; }
  grep -q "^+add set inet istio-ambient-nat $V4 " <<<"$out" || { echo "[$name] verify output: $out" >&2; ok=0; }
  run_in "$ns" "${argv[@]}" >/dev/null 2>&1 || { echo "[$name] re-apply failed" >&2; ok=0; }
  run_in "$ns" ambient-host verify "${argv[@]:1}" >/dev/null 2>&1 || { echo "[$name] verify after re-apply: exit $?" >&2; ok=0; }
  # Members survive a re-apply, also one that changes the rules.
  run_in "$ns" ambient-host probe add 10.244.1.7 --pod-uid $UID1 --native-nftables 2>/dev/null ||
    { echo "[$name] probe add failed" >&2; ok=0; }
  run_in "$ns" "${argv[@]}" --probe-snat-ipv4 169.254.7.128 >/dev/null 2>&1 || { echo "[$name] apply of other flags failed" >&2; ok=0; }
  run_in "$ns" "${argv[@]}" >/dev/null 2>&1 || { echo "[$name] apply back failed" >&2; ok=0; }
  grep -q "10.244.1.7 comment \"$UID1\"" <<<"$(ip netns exec "$ns" nft list set inet istio-ambient-nat $V4)" ||
    { echo "[$name] re-applies lost the set's member" >&2; ok=0; }
  ip netns exec "$ns" nft add table inet foreign
  run_in "$ns" ambient-host clean "${argv[@]:1}" 2>/dev/null || { echo "[$name] clean failed" >&2; ok=0; }
  [ "$(ip netns exec "$ns" nft list tables)" = "table inet foreign" ] ||
    { echo "[$name] clean left: $(ip netns exec "$ns" nft list tables)" >&2; ok=0; }
  case_done "$ns" "$name"
done <"$dir/ambient-cases.tsv"
cases_summary "nftables ambient-host cases" 2

# istio's own nftables state: its sets (as its set manager declares them), then its golden.
checked=0
while IFS=$'\t' read -r name golden args; do
  case "$name" in ambient-nft-hostprobe*) ;; *) continue ;; esac
  eval "argv=($args)"
  new_ns "hni$checked"
  ns=$NS
  {
    echo "add table inet istio-ambient-nat"
    echo "add set inet istio-ambient-nat $V4 { type ipv4_addr ; comment \"UUID of the pods that are part of ambient mesh\" ; }"
    case "$args" in *--enable-ipv6=true*)
      echo "add set inet istio-ambient-nat $V6 { type ipv6_addr ; comment \"UUID of the pods that are part of ambient mesh\" ; }" ;;
    esac
  } | ip netns exec "$ns" nft -f - || fail "[$name] istio's sets"
  ip netns exec "$ns" nft -f "$dir/$golden" || fail "[$name] nft -f of istio's golden"
  out=$(run_in "$ns" ambient-host verify "${argv[@]:1}" 2>&1) || fail "[$name] verify of istio's tables: $out"
  out=$(run_in "$ns" "${argv[@]}" 2>&1) || fail "[$name] apply over istio's tables: $out"
  grep -q "nothing committed" <<<"$out" || fail "[$name] apply over istio's tables committed: $out"
  del_ns "$ns"
  checked=$((checked + 1))
done <"$dir/ambient-cases.tsv"
[ $checked = 2 ] || fail "expected 2 nftables cases loaded from istio's goldens, ran $checked"

# ---------------------------------------------------------------- clean, iptables mode
new_ns hclean
ns=$NS
ip netns exec "$ns" iptables-legacy -t nat -A POSTROUTING -p udp --dport 9999 -j RETURN
run_in "$ns" ambient-host --enable-ipv6=true >/dev/null 2>&1 || fail "apply before clean failed"
run_in "$ns" ambient-host probe add 10.244.1.7 --pod-uid $UID1 >/dev/null 2>&1 || fail "probe add before clean"
run_in "$ns" ambient-host clean --enable-ipv6=true >/dev/null 2>&1 || fail "clean failed"
left=$(snapshot "$ns")
grep -q 'ISTIO' <<<"$left" && fail "clean left istio state:
$left"
grep -q -- '--dport 9999 -j RETURN' <<<"$left" || fail "clean removed the foreign rule"
[ -z "$(sets "$ns")" ] || fail "clean left ipsets: $(sets "$ns")"
run_in "$ns" ambient-host clean --enable-ipv6=true >/dev/null 2>&1 || fail "a second clean failed"
# A set a foreign rule uses stays (the kernel would refuse anyway), with a warning; exit 0.
run_in "$ns" ambient-host --enable-ipv6=false >/dev/null 2>&1 || fail "apply before the second clean failed"
ip netns exec "$ns" iptables-legacy -t filter -A OUTPUT -m set --match-set $V4 dst -j ACCEPT
out=$(run_in "$ns" ambient-host clean --enable-ipv6=false 2>&1) || fail "clean with a foreign user of the set: $out"
grep -q "ipset $V4 stays" <<<"$out" || fail "clean's warning for the used set: $out"
grep -q 'ISTIO' <<<"$(snapshot "$ns")" && fail "clean left istio rules next to a foreign set user"
del_ns "$ns"

# An existing set of another definition: refused, naming it and what to do; nothing changed.
new_ns hother
ns=$NS
ip netns exec "$ns" ipset create $V4 hash:net family inet
rc=0
out=$(run_in "$ns" ambient-host --enable-ipv6=false 2>&1) || rc=$?
[ $rc = 1 ] || fail "apply over a hash:net $V4: exit $rc, want 1"
grep -q "ipset $V4 exists as hash:net family inet, not as the hash:ip family inet comment.*ipset destroy $V4" <<<"$out" ||
  fail "the refusal over another set: $out"
[ -z "$(tables "$ns" 4)" ] || fail "the refused apply wrote rules"
del_ns "$ns"

# ---------------------------------------------------------------- probe add / del
# member NS MODE IP: the member's line as the mode's CLI lists it ("" when absent).
member() {
  if [ "$2" = nft ]; then
    local set=$V4
    [[ "$3" == *:* ]] && set=$V6
    ip netns exec "$1" nft list set inet istio-ambient-nat $set | grep -o "$3 comment \"[^\"]*\"" || true
  else
    ip netns exec "$1" ipset list 2>/dev/null | grep "^$3 comment" || true
  fi
}
for mode in ipt nft; do
  flags=()
  [ $mode = nft ] && flags=(--native-nftables --kubelet-uid 1000)
  new_ns "hp$mode"
  ns=$NS
  probe() { run_in "$ns" ambient-host probe "$@" "${flags[@]:0:1}"; }
  rc=0
  probe add 10.244.1.7 --pod-uid $UID1 >/dev/null 2>&1 || rc=$?
  [ $rc = 1 ] || fail "$mode: probe add without the sets: exit $rc, want 1"
  run_in "$ns" ambient-host "${flags[@]}" --enable-ipv6=true >/dev/null 2>&1 || fail "$mode: apply failed"
  probe add 10.244.1.7 --pod-uid $UID1 >/dev/null 2>&1 || fail "$mode: probe add"
  [ "$(member "$ns" $mode 10.244.1.7)" = "10.244.1.7 comment \"$UID1\"" ] || fail "$mode: after add: $(member "$ns" $mode 10.244.1.7)"
  probe add 10.244.1.7 --pod-uid $UID2 >/dev/null 2>&1 || fail "$mode: probe add of a reused IP"
  [ "$(member "$ns" $mode 10.244.1.7)" = "10.244.1.7 comment \"$UID2\"" ] || fail "$mode: add did not take the new UID: $(member "$ns" $mode 10.244.1.7)"
  out=$(probe del 10.244.1.7 --pod-uid $UID1 2>&1) || fail "$mode: probe del of the old pod: $out"
  grep -q "belongs to pod $UID2" <<<"$out" || fail "$mode: del's message: $out"
  [ -n "$(member "$ns" $mode 10.244.1.7)" ] || fail "$mode: del removed the newer pod's member"
  probe del 10.244.1.7 --pod-uid $UID2 >/dev/null 2>&1 || fail "$mode: probe del"
  [ -z "$(member "$ns" $mode 10.244.1.7)" ] || fail "$mode: del left the member"
  probe add fd00::7 --pod-uid $UID1 >/dev/null 2>&1 || fail "$mode: probe add of an IPv6 address"
  [ "$(member "$ns" $mode fd00::7)" = "fd00::7 comment \"$UID1\"" ] || fail "$mode: IPv6 member: $(member "$ns" $mode fd00::7)"
  if [ $mode = ipt ]; then state() { sets "$ns"; }; else state() { ip netns exec "$ns" nft list ruleset; }; fi
  before=$(state)
  for bad in "add 10.244.1.300 --pod-uid $UID1" "add 10.244.1.8 --pod-uid bad\"uid" "del fd00::7 --pod-uid" \
    "add 10.244.1.8" "move 10.244.1.8 --pod-uid $UID1"; do
    rc=0
    # shellcheck disable=SC2086
    out=$(probe $bad 2>&1) || rc=$?
    [ $rc = 2 ] || fail "$mode: probe $bad: exit $rc, want 2"
    [ "$(wc -l <<<"$out")" = 1 ] || fail "$mode: probe $bad: more than one line: $out"
  done
  [ "$(state)" = "$before" ] || fail "$mode: a refused probe command changed something"
  del_ns "$ns"
done

# ---------------------------------------------------------------- real traffic
source "$SNARE_SOURCE_DIR/tests/root/traffic_helpers.bash"  # its own pass/failed counts from here
# NODE (runs kubelet's stand-in) and POD joined by a veth; the pod answers through the node.
for mode in iptables nftables; do
  flags=()
  [ $mode = nftables ] && flags=(--native-nftables --kubelet-uid "$(id -u)")
  POD=$(ns_new "htpod${mode:0:3}")
  PEER=$(ns_new "htnode${mode:0:3}")  # join_pod_peer's second namespace: the node
  join_pod_peer "sh${mode:0:1}a$$" "sh${mode:0:1}b$$" 10.253.0 fd53
  ip -n "$POD" route add default via 10.253.0.2
  ip netns exec "$PEER" "$SNARE" ambient-host "${flags[@]}" --enable-ipv6=false --log_output_level=warn ||
    fail "$mode: snare ambient-host apply failed"
  ip netns exec "$PEER" "$SNARE" ambient-host probe add 10.253.0.1 --pod-uid $UID1 "${flags[@]:0:1}" 2>/dev/null ||
    fail "$mode: probe add failed"
  serve "$POD" pod --peer 0.0.0.0:8080
  check "$mode: kubelet's probe to a pod in the set arrives from 169.254.7.127" \
    "^pod listener=8080 orig=10.253.0.1:8080 from=169.254.7.127$" ip netns exec "$PEER" $PROBE connect --source=10.253.0.2 10.253.0.1 8080
  ip netns exec "$PEER" "$SNARE" ambient-host probe del 10.253.0.1 --pod-uid $UID1 "${flags[@]:0:1}" 2>/dev/null ||
    fail "$mode: probe del failed"
  check "$mode: a connection to a pod not in the set keeps the node's address" \
    "^pod listener=8080 orig=10.253.0.1:8080 from=10.253.0.2$" ip netns exec "$PEER" $PROBE connect --source=10.253.0.2 10.253.0.1 8080
  stop_servers
done
report
echo ok

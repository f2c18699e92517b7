#!/bin/bash
# Native nftables mode, hardening: a dormant istio table or a set added inside one is drift
# (verify 1) and a re-apply heals it; odd interface names (`x#`, `x;`, `x}`, `x$`) are applied
# and verified with the meaning they have in iptables mode (`eth+` a prefix, `x*` a literal
# star), and `x"`, which nft's language cannot express, is refused with exit 2 naming the flag;
# applies racing into one namespace are serialised (each end state is one flag set's).
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root

TPROXY=(--native-nftables -m TPROXY -b '*' --redirect-dns -c not-istio-nic --enable-ipv6=true --dns-servers=127.0.0.53,::127.0.0.53)
REDIRECT=(--native-nftables -b '*' -d 15090,15021 --enable-ipv6=true)

# 1. A dormant istio table switches capture off: drift, healed by a re-apply.
new_ns nd
ns=$NS
run_in "$ns" "${REDIRECT[@]}" 2>/dev/null || fail "apply"
ip netns exec "$ns" nft add table inet istio-proxy-nat '{ flags dormant; }'
out=$(run_in "$ns" verify "${REDIRECT[@]}" 2>/dev/null) && fail "verify of a dormant table: exit 0"
grep -q '^-add table inet istio-proxy-nat { flags dormant ; }$' <<<"$out" || fail "verify does not name the flag: $out"
err=$(run_in "$ns" "${REDIRECT[@]}" 2>&1) || fail "re-apply over a dormant table: $err"
grep -q 'nothing committed' <<<"$err" && fail "re-apply left the dormant table: $err"
grep -q dormant <<<"$(ip netns exec "$ns" nft list table inet istio-proxy-nat)" && fail "table still dormant"
run_in "$ns" verify "${REDIRECT[@]}" >/dev/null 2>&1 || fail "verify after the heal"

# 2. A set (or any object) added inside an istio table: drift, removed by a re-apply.
ip netns exec "$ns" nft add set inet istio-proxy-nat extra '{ type ipv4_addr; }'
out=$(run_in "$ns" verify "${REDIRECT[@]}" 2>/dev/null) && fail "verify with a foreign set: exit 0"
grep -q '^-add set inet istio-proxy-nat extra ' <<<"$out" || fail "verify does not name the set: $out"
run_in "$ns" "${REDIRECT[@]}" 2>/dev/null || fail "re-apply over the set"
grep -q 'set extra' <<<"$(ip netns exec "$ns" nft list table inet istio-proxy-nat)" && fail "the set survived"
run_in "$ns" verify "${REDIRECT[@]}" >/dev/null 2>&1 || fail "verify after removing the set"

# 3. Odd interface names: applied and verified, each rule with its verdict, or refused by name.
for name in 'x#' 'x;' 'x}' 'x$' "x'"; do
  new_ns "ni$(printf %s "$name" | od -An -tx1 | tr -d ' \n')"
  err=$(run_in "$NS" "${REDIRECT[@]}" -k "$name" -c "$name" 2>&1) || fail "-k '$name': $err"
  run_in "$NS" verify "${REDIRECT[@]}" -k "$name" -c "$name" >/dev/null 2>&1 || fail "verify -k '$name'"
  list=$(ip netns exec "$NS" nft list table inet istio-proxy-nat)
  lines=$(grep -F "ifname \"$name\" " <<<"$list" || true)
  [ "$(grep -c . <<<"$lines")" -ge 3 ] || fail "'$name': not in the rules: $list"
  grep -vE '(return|accept|jump [a-z-]+)$' <<<"$lines" && fail "'$name': a rule without its verdict: $list"
done
new_ns nq
pre=$(ip netns exec "$NS" nft list ruleset)
err=$(run_in "$NS" "${REDIRECT[@]}" -k 'x"' 2>&1) && fail "-k 'x\"' accepted"
rc=$(run_in "$NS" "${REDIRECT[@]}" -k 'x"' >/dev/null 2>&1; echo $?) || true
[ "$rc" = 2 ] || fail "-k 'x\"': exit $rc, not 2"
[ "$(wc -l <<<"$err")" = 1 ] && grep -q -- "--kube-virt-interfaces.*x\"" <<<"$err" || fail "refusal: $err"
[ "$(ip netns exec "$NS" nft list ruleset)" = "$pre" ] || fail "the refused apply changed something"
# iptables' wildcard `eth+` is nft's "eth*"; a literal star stays literal ("x\*").
new_ns nw
run_in "$NS" "${REDIRECT[@]}" -k 'eth+' -c 'x*' 2>/dev/null || fail "apply with eth+ and x*"
run_in "$NS" verify "${REDIRECT[@]}" -k 'eth+' -c 'x*' >/dev/null 2>&1 || fail "verify eth+ and x*"
list=$(ip netns exec "$NS" nft list table inet istio-proxy-nat)
grep -qF 'iifname "eth*" counter' <<<"$list" || fail "eth+ is not the prefix eth*: $list"
grep -qF 'iifname "x\*" counter' <<<"$list" || fail "x* is not the literal x\\*: $list"

# 4. Racing applies into one namespace: each end state is one flag set's, both exit 0. Both
#    start together: each waits inside the namespace for the file $go, then execs snare.
race_apply() {
  ip netns exec "$NS" sh -c 'while [ ! -e "$0" ]; do :; done; exec "$@" 2>/dev/null' "$1" "$SNARE" "${@:2}"
}
for i in $(seq 1 10); do
  new_ns "nr$i"
  go=$(mktemp -u /tmp/snare-nft-go.XXXXXX)
  race_apply "$go" "${TPROXY[@]}" &
  a=$!
  race_apply "$go" "${REDIRECT[@]}" &
  b=$!
  sleep 0.2
  touch "$go"
  wait "$a" || fail "race $i: TPROXY apply failed"
  wait "$b" || fail "race $i: REDIRECT apply failed"
  run_in "$NS" verify "${TPROXY[@]}" >/dev/null 2>&1 || run_in "$NS" verify "${REDIRECT[@]}" >/dev/null 2>&1 ||
    fail "race $i: the end state is neither flag set's: $(ip netns exec "$NS" nft list tables)"
  del_ns "$NS"
  rm -f "$go"
done
echo "PASS nft_hardening"

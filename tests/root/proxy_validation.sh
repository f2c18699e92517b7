#!/bin/bash
# --run-validation: passes with istio's default rules; exits 126 naming the stage when the rules
# are missing (refused) or send the probe to a listener that is not validation's own.
source "$SNARE_SOURCE_DIR/tests/proxy/proxy_lib.sh"
pair_new
work=$(mktemp -d)
VFLAGS=("${SNARE_RULE_FLAGS[@]}" -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x "" -b '*' --skip-rule-apply --run-validation)

# No rules yet: refused.
set +e
ip netns exec "$CLI" "$SNARE" "${VFLAGS[@]}" --probe-timeout 2s 2>"$work/none.err"
rc=$?
set -e
[ "$rc" = 126 ] || { cat "$work/none.err"; fail "validation without rules exited $rc, want 126"; }
grep -q "stage=refused" "$work/none.err" || { cat "$work/none.err"; fail "stage not named refused"; }
grep -q "live rules" "$work/none.err" || fail "no live rules printed for root"

# istio's default rules: pass (the probe runs as uid 1337, the only uid captured to 127.0.0.6).
rules_on "$CLI" "${ISTIO_REDIRECT_FLAGS[@]}"
ip netns exec "$CLI" "$SNARE" "${VFLAGS[@]}" 2>"$work/ok.err" ||
  { cat "$work/ok.err"; fail "validation failed with the default rules"; }
grep -q "Validation passed" "$work/ok.err" || fail "no pass message"
# IPv6: the probe goes from [::1] to [::6] when the pod's (first) address is IPv6, as istio's;
# a dual-stack pod whose first address is IPv4 is probed over IPv4.
ip netns exec "$CLI" "$SNARE" "${VFLAGS[@]}" --enable-ipv6=true 2>"$work/ok46.err" ||
  { cat "$work/ok46.err"; fail "dual-stack validation failed with the default rules"; }
grep -q "Validation passed.*probe=127.0.0.6:15002" "$work/ok46.err" || fail "dual-stack pod not probed over IPv4"
ip -n "$CLI" addr del $IP4C/24 dev v0
ip netns exec "$CLI" "$SNARE" "${VFLAGS[@]}" --enable-ipv6=true 2>"$work/ok6.err" ||
  { cat "$work/ok6.err"; fail "IPv6 validation failed with the default rules"; }
grep -q "Validation passed.*probe=\[::6\]:15002" "$work/ok6.err" || fail "no IPv6 pass message"
ip -n "$CLI" addr add $IP4C/24 dev v0

# Rules send the probe to 15006, where something else listens; validation listens elsewhere.
server_start "$CLI" 15006
set +e
ip netns exec "$CLI" "$SNARE" "${SNARE_RULE_FLAGS[@]}" -p 15011 -z 15016 -u 1337 -m REDIRECT -i '*' -b '*' \
  --skip-rule-apply --run-validation --probe-timeout 2s 2>"$work/wrong.err"
rc=$?
set -e
[ "$rc" = 126 ] || { cat "$work/wrong.err"; fail "wrong-listener case exited $rc, want 126"; }
grep -q "stage=reached the wrong listener" "$work/wrong.err" ||
  { cat "$work/wrong.err"; fail "stage not named 'reached the wrong listener'"; }
echo "PASS proxy_validation"

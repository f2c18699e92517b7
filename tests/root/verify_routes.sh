#!/bin/bash
# snare verify also checks the routing half of an apply: TPROXY's ip rule and route and ::6 on lo.
# A removed route or address is drift (exit 1, shown as `+` lines); a re-apply puts it back.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
ns=$(ns_new verify)
F=(-m TPROXY -b '*' -i '*' --enable-ipv6=true --log_output_level=warn)
ip netns exec "$ns" "$SNARE" "${F[@]}" || fail "apply"
ip netns exec "$ns" "$SNARE" verify "${F[@]}" > /dev/null || fail "verify after apply is not 0"
ip -n "$ns" -6 route del local default dev lo table 133
ip -n "$ns" -6 addr del ::6/128 dev lo
set +e
out=$(ip netns exec "$ns" "$SNARE" verify "${F[@]}" 2>/dev/null)
rc=$?
set -e
[ "$rc" = 1 ] || fail "verify exited $rc after the route was removed, want 1"
grep -q '^+ip -6 route local default dev lo table 133$' <<< "$out" || fail "route drift not shown: $out"
grep -q '^+ip -6 addr ::6/128 dev lo$' <<< "$out" || fail "::6 drift not shown: $out"
grep -q '^+ip rule' <<< "$out" && fail "the IPv4 rule was reported missing: $out"
ip netns exec "$ns" "$SNARE" "${F[@]}" || fail "re-apply"
ip netns exec "$ns" "$SNARE" verify "${F[@]}" > /dev/null || fail "verify after re-apply is not 0"
echo "1 passed, 0 failed"

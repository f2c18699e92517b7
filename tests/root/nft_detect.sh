# nftables detection: an empty namespace has none; iptables-nft rules and a native nft table are
# found and described.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
D="${SNARE_OS_DRIVER:?SNARE_OS_DRIVER must name os_seams_driver (ctest sets it)}"

ns=$(ns_new nft); SNARE_NETNS+=("$ns")
[ "$("$D" --netns "/run/netns/$ns" nft | head -1)" = has=0 ] || fail "empty netns has nft tables"

# Legacy tables are not nftables.
ip netns exec "$ns" iptables-legacy -t nat -A OUTPUT -j RETURN
[ "$("$D" --netns "/run/netns/$ns" nft | head -1)" = has=0 ] || fail "legacy rules counted as nft"

ip netns exec "$ns" iptables-nft -t nat -A OUTPUT -j RETURN
out=$("$D" --netns "/run/netns/$ns" nft)
[ "$(head -1 <<<"$out")" = has=1 ] || fail "iptables-nft rule not detected: $out"
grep -q "table ip nat (iptables-nft, [0-9]* chains\?, 1 rule)" <<<"$out" || fail "description: $out"

ns2=$(ns_new nft2); SNARE_NETNS+=("$ns2")
ip netns exec "$ns2" nft add table inet x
out=$("$D" --netns "/run/netns/$ns2" nft)
[ "$out" = "has=1
table inet x (0 chains, 0 rules)" ] || fail "native table: $out"

# iptables-nft's -A/-D probe (istio's back-end detection) leaves an empty table: still counted.
ns3=$(ns_new nft3); SNARE_NETNS+=("$ns3")
ip netns exec "$ns3" iptables-nft -t nat -A INPUT -p 255 -j RETURN
ip netns exec "$ns3" iptables-nft -t nat -D INPUT -p 255 -j RETURN
out=$("$D" --netns "/run/netns/$ns3" nft)
grep -q "table ip nat (iptables-nft, [0-9]* chains\?, 0 rules)" <<<"$out" || fail "probe leftover: $out"

# ip6tables-nft is found as ip6.
ip netns exec "$ns3" ip6tables-nft -t mangle -A OUTPUT -j RETURN
grep -q "table ip6 mangle (iptables-nft" <<<"$("$D" --netns "/run/netns/$ns3" nft)" ||
  fail "ip6tables-nft not detected"
echo "ok"

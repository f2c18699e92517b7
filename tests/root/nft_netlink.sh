# kernel/nft_netlink against the kernel: a table with every NlExpr kind written in one netlink
# batch reads back equal, and equals what nft itself makes of the same text (tests/root/
# nft_netlink.nft); a bad batch fails naming its rule and changes nothing; 5,000 rules go in one
# batch; table, chain and rule deletions, iptables-nft's ip tables included.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
D="${SNARE_NFT_NETLINK_DRIVER:?SNARE_NFT_NETLINK_DRIVER must name nft_netlink_driver (ctest sets it)}"
TEXT="$SNARE_SOURCE_DIR/tests/root/nft_netlink.nft"

a=$(ns_new nla); b=$(ns_new nlb); c=$(ns_new nlc)
SNARE_NETNS+=("$a" "$b" "$c")
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# (a) written over netlink, read back equal.
nsx "$a" "$D" write-all || fail "write-all"
nsx "$a" "$D" check-all || fail "the table written does not read back equal"
# (b) nft's own load of the same text: the same listing, and it reads back as the form.
nsx "$b" nft -f "$TEXT"
nsx "$b" "$D" check-all || fail "nft's load of the text does not read back as the form"
python3 "$SNARE_SOURCE_DIR/tests/root/nft_same.py" <(nsx "$b" nft -j list ruleset) \
  <(nsx "$a" nft -j list ruleset) || fail "nft -j list ruleset differs from nft's load of the text"
[ "$(nsx "$a" nft list set inet snare-nl probe4)" = "$(nsx "$b" nft list set inet snare-nl probe4)" ] ||
  fail "the named set differs from nft's"

# (c) A flush of snare-nl then a rule jumping to a missing chain: the batch fails naming the rule,
# and snare-nl is as it was, no snare-bad table.
before=$(nsx "$a" nft list ruleset)
out=$(nsx "$a" "$D" bad-batch) || fail "bad batch: $out"
grep -q "^nftables: .*: add rule inet snare-bad c counter jump missing$" <<<"$out" ||
  fail "bad batch error: $out"
[ "$(nsx "$a" nft list ruleset)" = "$before" ] || fail "the failed batch changed the ruleset"

# (d) 5,000 rules in one batch, read back equal.
out=$(nsx "$a" "$D" big 5000) || fail "5000 rules: $out"
[ "$(nsx "$a" nft list chain inet snare-big c | grep -c 'tcp dport')" = 5000 ] ||
  fail "5000 rules: not all in the kernel"

# (e) Deleting a missing table succeeds; deleting a present one removes it.
nsx "$a" "$D" delete-table inet snare-missing || fail "deleting a missing table failed"
nsx "$a" "$D" delete-table inet snare-big || fail "delete-table"
! nsx "$a" nft list table inet snare-big >/dev/null 2>&1 || fail "snare-big still there"
nsx "$a" "$D" flush-table inet snare-nl || fail "flush-table"
dump=$(nsx "$a" "$D" dump inet snare-nl)
grep -q "chain to-proxy" <<<"$dump" || fail "flush-table removed chains: $dump"
! grep -q "rule handle" <<<"$dump" || fail "flush-table left rules: $dump"

# iptables-nft's ip nat: a rule by handle, a chain flushed, a chain deleted; an xt target reads
# as unknown.
nsx "$c" iptables-nft -t nat -A OUTPUT -p tcp -j RETURN
nsx "$c" iptables-nft -t nat -A OUTPUT -p udp -j RETURN
nsx "$c" iptables-nft -t nat -A OUTPUT -p tcp -j REDIRECT --to-ports 15001
nsx "$c" iptables-nft -t nat -N SNARE_X
nsx "$c" iptables-nft -t nat -A SNARE_X -j RETURN
dump=$(nsx "$c" "$D" dump ip nat)
grep -q "unknown: target" <<<"$dump" || fail "xt target not marked unknown: $dump"
h=$(nsx "$c" nft -a list chain ip nat OUTPUT | sed -n 's/.*meta l4proto udp .*# handle \([0-9]*\)$/\1/p')
[ -n "$h" ] || fail "no handle for the udp rule"
nsx "$c" "$D" delete-rule ip nat OUTPUT "$h" || fail "delete-rule"
[ "$(nsx "$c" iptables-nft -t nat -S OUTPUT | grep -c '^-A')" = 2 ] || fail "delete-rule: $(nsx "$c" iptables-nft -t nat -S OUTPUT)"
nsx "$c" iptables-nft -t nat -S OUTPUT | grep -q -- "-p udp" && fail "the udp rule is still there"
nsx "$c" "$D" flush-chain ip nat SNARE_X || fail "flush-chain"
[ -z "$(nsx "$c" iptables-nft -t nat -S SNARE_X | grep '^-A')" ] || fail "flush-chain left rules"
nsx "$c" "$D" delete-chain ip nat SNARE_X || fail "delete-chain"
! nsx "$c" iptables-nft -t nat -S SNARE_X >/dev/null 2>&1 || fail "SNARE_X still there"
! nsx "$c" "$D" delete-rule ip nat OUTPUT 99999 2>/dev/null || fail "deleting a missing rule succeeded"
echo ok

#!/bin/bash
# Every native nftables row (nft-*) of the istio conformance table, applied for real with
# --native-nftables in a fresh network namespace: `nft -j list ruleset` must equal
# nftables-kernel-form/<case>.json (what the kernel listed after istio's golden was loaded;
# handles, counters and metainfo aside), a second apply must change nothing (the listing stays,
# handles included), verify must say "equal", no legacy x_tables rule may appear, and clean must
# leave an empty ruleset.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root

dir=$(conformance_dir)
pass=0
failed=()
while IFS=$'\t' read -r name golden args; do
  case "$name" in nft-*) ;; *) continue ;; esac
  eval "argv=($args)"
  base=$(basename "${golden%.golden}")
  case_apply "n$pass" "$name" "${argv[@]}"
  expect_nft_form "$ns" "$name" "$dir" "nftables-kernel-form/$base.json" || ok=0
  before=$(ip netns exec "$ns" nft -a list ruleset)
  run_in "$ns" "${argv[@]}" 2>/dev/null || { echo "[$name] second apply failed" >&2; ok=0; }
  [ "$(ip netns exec "$ns" nft -a list ruleset)" = "$before" ] || { echo "[$name] second apply changed the ruleset" >&2; ok=0; }
  run_in "$ns" verify "${argv[@]}" >/dev/null 2>&1 || { echo "[$name] verify after apply: exit $?" >&2; ok=0; }
  [ -z "$(ip netns exec "$ns" iptables-legacy-save; ip netns exec "$ns" ip6tables-legacy-save)" ] ||
    { echo "[$name] legacy x_tables state appeared" >&2; ok=0; }
  run_in "$ns" clean "${argv[@]}" 2>/dev/null || { echo "[$name] clean failed" >&2; ok=0; }
  [ -z "$(ip netns exec "$ns" nft list ruleset)" ] || { echo "[$name] clean left tables" >&2; ok=0; }
  case_done "$ns" "$name"
done <"$dir/cases.tsv"

cases_summary "nftables conformance cases" 28

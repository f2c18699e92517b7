# Every row of the istio conformance table, applied for real: snare runs inside a fresh network
# namespace, then iptables-legacy-save / ip6tables-legacy-save must print the tables of
# kernel-form/<golden>.v4.save / .v6.save (table order, counters, comments and empty tables
# aside). A second apply must change nothing, and verify must then say "equal".
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root

dir=$(conformance_dir)
pass=0
failed=()
while IFS=$'\t' read -r name golden args; do
  # nft-* rows are istio's native nftables mode: another backend, with its own kernel form.
  case "$name" in '#'* | '' | nft-*) continue ;; esac
  eval "argv=($args)"
  base=${golden%.golden}
  base=${base%.txt}
  case_apply "c$pass" "$name" "${argv[@]}"
  expect_save_form "$ns" "$name" "$dir/kernel-form/$base" || ok=0
  if [ $ok = 1 ]; then
    before=$(snapshot "$ns")
    run_in "$ns" "${argv[@]}" 2>/dev/null || { echo "[$name] second apply failed" >&2; ok=0; }
    [ "$(snapshot "$ns")" = "$before" ] || { echo "[$name] second apply changed the tables" >&2; ok=0; }
    run_in "$ns" verify "${argv[@]}" >/dev/null 2>&1 || { echo "[$name] verify after apply: exit $?" >&2; ok=0; }
  fi
  case_done "$ns" "$name"
done <"$dir/cases.tsv"

cases_summary "conformance cases"
echo ok

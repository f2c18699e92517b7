#!/bin/bash
# Regenerates the reference rule sets in rules/ with the snare binary given (default build/snare).
# tests/golden/rules_fresh.sh runs this into a temporary folder and fails when rules/ differs.
# usage: rules/regenerate.sh [SNARE] [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
snare=${1:-$here/../build/snare}
out=${2:-$here}
while IFS=$'\t' read -r name args; do
  case "$name" in ''|'#'*) continue ;; esac
  eval "set -- $args"
  # The ambient commands are subcommands: their name comes first, then the flags.
  cmd=()
  case "${1:-}" in ambient|ambient-host) cmd=("$1"); shift ;; esac
  case " $args " in
    *" --native-nftables "*)  # istio's nft transaction, and the kernel's listing (nft -j) of it
      "$snare" "${cmd[@]}" --dry-run "$@" > "$out/$name.nft"
      "$snare" "${cmd[@]}" --dry-run --output-format=save "$@" |
        python3 -m json.tool --indent 1 > "$out/$name.json" ;;
    *)
      "$snare" "${cmd[@]}" --dry-run "$@" > "$out/$name.restore"
      "$snare" "${cmd[@]}" --dry-run --output-format=save "$@" > "$out/$name.save" ;;
  esac
done < "$here/configs.tsv"

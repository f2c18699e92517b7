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
  case " $args " in
    *" --native-nftables "*)  # istio's nft transaction, and the kernel's listing (nft -j) of it
      "$snare" --dry-run "$@" > "$out/$name.nft"
      "$snare" --dry-run --output-format=save "$@" | python3 -m json.tool --indent 1 > "$out/$name.json" ;;
    *)
      "$snare" --dry-run "$@" > "$out/$name.restore"
      "$snare" --dry-run --output-format=save "$@" > "$out/$name.save" ;;
  esac
done < "$here/configs.tsv"

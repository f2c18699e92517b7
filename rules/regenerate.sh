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
  "$snare" --dry-run "$@" > "$out/$name.restore"
  "$snare" --dry-run --output-format=save "$@" > "$out/$name.save"
done < "$here/configs.tsv"

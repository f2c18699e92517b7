#!/bin/bash
# rules/ must be what the current snare prints: regenerate into a temp dir and compare.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$SNARE_SOURCE_DIR/rules/regenerate.sh" "$SNARE" "$tmp"
fail=0
for f in "$tmp"/*; do
  if ! diff -u "$SNARE_SOURCE_DIR/rules/$(basename "$f")" "$f"; then
    echo "FAIL: rules/$(basename "$f") is stale: run rules/regenerate.sh build/snare" >&2
    fail=1
  fi
done
n=$(ls "$tmp" | wc -l)
[ "$fail" = 0 ] && echo "$n passed, 0 failed" || { echo "0 passed, $n failed"; exit 1; }

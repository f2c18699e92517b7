#!/bin/bash
# The kernel is the oracle for both renderers: for many random flag combinations, load snare's
# restore-form dry-run with iptables-legacy-restore into a fresh namespace and check that
# iptables-legacy-save prints exactly snare's save-form dry-run, table by table.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
exec python3 "$SNARE_SOURCE_DIR/tests/root/kernel_parses_dry_run.py" "$SNARE" "${SNARE_RANDOM_CASES:-60}"

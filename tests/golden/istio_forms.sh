#!/bin/bash
# istio's goldens (restore form, byte for byte) and iptables-save's kernel form (save form, table
# by table) for every case of cases.tsv, from snare's dry-run. No root needed.
set -euo pipefail
exec python3 "$SNARE_SOURCE_DIR/tests/golden/compare_forms.py" "$SNARE" "$SNARE_SOURCE_DIR/tests/golden/istio"

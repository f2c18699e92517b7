#!/bin/bash
# istio-cni's ambient goldens (`snare ambient` / `snare ambient-host`, iptables and nftables):
# the dry-run against istio's text byte for byte, and the save form against what the kernel
# listed after loading each golden (ambient-kernel-form/). No root needed.
set -euo pipefail
exec python3 "$SNARE_SOURCE_DIR/tests/golden/compare_forms.py" "$SNARE" \
  "$SNARE_SOURCE_DIR/tests/golden/istio" ambient-cases.tsv

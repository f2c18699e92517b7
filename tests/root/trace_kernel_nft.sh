#!/bin/bash
# snare trace against the kernel for the 28 nft- configurations of istio's conformance table
# (cases.tsv: the sidecar rules as istio's native nftables tables, --native-nftables), traced from
# the flags: every packet's verdict must equal where a real connection with the same rules landed
# (tests/root/trace_kernel.py says which packets, and how).
source "$SNARE_SOURCE_DIR/tests/root/trace_kernel.bash"
run_trace_kernel nft

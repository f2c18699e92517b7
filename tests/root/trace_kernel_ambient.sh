#!/bin/bash
# snare trace against the kernel for the 28 ambient configurations of istio's conformance table
# (ambient-cases.tsv: the in-pod redirection and the node's probe SNAT, iptables and
# --native-nftables), the iptables ones also traced through --rules and --network-namespace: every
# packet's verdict must equal where a real connection with the same rules landed
# (tests/root/trace_kernel.py says which packets, and how).
source "$SNARE_SOURCE_DIR/tests/root/trace_kernel.bash"
run_trace_kernel ambient

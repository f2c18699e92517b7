#!/bin/bash
# snare trace against the kernel for the 35 iptables sidecar configurations of istio's conformance
# table (cases.tsv: REDIRECT and TPROXY; port, CIDR, owner and interface exclusions; DNS; IPv4 and
# IPv6), traced from the flags, from iptables-legacy-save through --rules and from the namespace
# through --network-namespace: every packet's verdict must equal where a real connection with the
# same rules landed (tests/root/trace_kernel.py says which packets, and how).
source "$SNARE_SOURCE_DIR/tests/root/trace_kernel.bash"
run_trace_kernel sidecar

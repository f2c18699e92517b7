#!/usr/bin/env bash
# Writes tests/golden/istio/nftables-netlink/: what nft itself sends for each of istio's nftables
# goldens (`nft --debug=netlink -f GOLDEN`), applied into a fresh, empty network namespace. The
# oracle of the extensions' nft_nl forms (tests/unit/ext/nft_nl_test.cpp): produced by nft, never
# by snare. Needs root and nft 1.0.6.
#
# Two adjustments, both outside the goldens: the owner-group goldens name groups (`skgid java`),
# so each run has its own mount namespace with an /etc/group where java = 2020 and ftp = 2021 (as
# the kernel forms were made); the host-probe goldens use the probe sets without declaring them,
# so those are declared first, as istio-cni's node agent does (their netlink is not kept).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
istio=$root/tests/golden/istio
out=$istio/nftables-netlink
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  cat /etc/group
  echo "java:x:2020:"
  echo "ftp:x:2021:"
} >"$work/group"
comment='UUID of the pods that are part of ambient mesh'
cat >"$work/sets.nft" <<SETS
add table inet istio-ambient-nat
add set inet istio-ambient-nat istio-inpod-probes-v4 { type ipv4_addr ; comment "$comment" ; }
add set inet istio-ambient-nat istio-inpod-probes-v6 { type ipv6_addr ; comment "$comment" ; }
SETS

run() {  # run GOLDEN [SETS]: nft's netlink debug output of GOLDEN, in a new namespace
  unshare -n -m bash -euc '
    mount --bind "$1" /etc/group
    if [ -n "$3" ]; then nft -f "$3"; fi
    nft --debug=netlink -f "$2"' _ "$work/group" "$1" "${2:-}"
}

for dir in nftables-capture ambient-nftables-capture; do
  for g in "$istio/$dir"/*.golden; do
    name=$(basename "$g" .golden)
    sets=""
    case "$name" in hostprobe*) sets=$work/sets.nft ;; esac
    run "$g" "$sets" >"$out/$dir-$name.netlink"
  done
done

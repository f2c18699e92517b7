#!/usr/bin/env bash
# CNI plugin benchmark: snare-cni's ADD for a sidecar pod (istio's "basic" case), chained after
# Debian's bridge plugin, against the stand-in HTTPS API server of the CNI tests on the node's
# loopback. Every sample is a fresh pod namespace (loopback and bridge ADD untimed), then one timed
# ADD, in iptables mode and with native_nftables; medians and 90th percentiles. For scale, the same
# run times the bridge plugin's own ADD (a Go CNI plugin, on the same path of every pod start).
#
# usage: sudo bench/cni.sh [RUNS]        (default 30; SNARE_CNI=/path/to/snare-cni, default
#                                          build/snare-cni)
set -euo pipefail
RUNS=${1:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bench/cni.sh: run as root (it creates network namespaces)" >&2; exit 1; }
export SNARE=${SNARE:-$here/build/snare} SNARE_CNI=${SNARE_CNI:-$here/build/snare-cni} SNARE_SOURCE_DIR=$here
[ -x "$SNARE_CNI" ] || { echo "bench/cni.sh: no snare-cni at $SNARE_CNI" >&2; exit 1; }
source "$here/tests/lib.sh"
source "$here/tests/cni/cni_lib.sh"
SNARE_CNI_LINK=$(dirname "$SNARE_CNI")/istio-cni
cni_setup

ms_now() { date +%s%N; }
declare -A samples
for ((i = 0; i < RUNS; i++)); do
  for mode in iptables nftables; do
    extra=""
    [ $mode = nftables ] && extra=',"native_nftables":true'
    POD=$(ns_new "b$mode$i")
    export CNI_CID="c-$mode-$i"
    conf="{\"cniVersion\":\"1.0.0\",\"name\":\"snaretest\",\"type\":\"bridge\",\"bridge\":\"snbr$$\",\"isGateway\":true,\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.199.0.0/16\",\"dataDir\":\"$CNI_WORK/ipam\"}}"
    cni_env basic ADD lo "$CNI_PLUGINS/loopback" <<<'{"cniVersion":"1.0.0","name":"lo","type":"loopback"}' >/dev/null
    t0=$(ms_now)
    cni_env basic ADD eth0 "$CNI_PLUGINS/bridge" <<<"$conf" >"$CNI_WORK/basic.prev"
    t1=$(ms_now)
    istio_add basic "$extra" || fail "ADD failed: $(cat "$CNI_WORK/basic.out")"
    t2=$(ms_now)
    samples[bridge]+="$(( t1 - t0 )) "
    samples[$mode]+="$(( t2 - t1 )) "
    ip netns del "$POD"
  done
done
python3 - "${samples[bridge]}" "${samples[iptables]}" "${samples[nftables]}" "$RUNS" <<'PY'
import statistics, sys
rows = {"bridge ADD (Go, reference)": sys.argv[1], "snare-cni ADD, iptables": sys.argv[2],
        "snare-cni ADD, nftables": sys.argv[3]}
print(f"runs: {sys.argv[4]} fresh pods per mode (ms, wall time of the plugin process)")
print(f"{'':30} {'median':>8} {'p90':>8}")
for name, text in rows.items():
    v = sorted(int(x) / 1e6 for x in text.split())
    print(f"{name:30} {statistics.median(v):8.2f} {v[int(len(v) * 0.9) - 1]:8.2f}")
PY

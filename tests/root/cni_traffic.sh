#!/bin/bash
# snare-cni's rules at work, in iptables and in nftables mode (`native_nftables` in the network
# configuration): a pod built by Debian's bridge plugin, the plugin chained after it, then an
# app's connection from the pod to the node lands on the pod's 15001 with its original
# destination, the proxy's UID reaches the node, and inbound lands on 15006. nftables mode
# writes nftables rules and no legacy one, and `snare verify` with print-flags' flags says equal.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root
source "$SNARE_SOURCE_DIR/tests/cni/cni_lib.sh"
SNARE_CNI_LINK=$(dirname "$SNARE_CNI")/istio-cni
PROBE="/usr/bin/python3 $SNARE_SOURCE_DIR/tests/root/probe.py"
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; cni_cleanup' EXIT
cni_setup

serve() {  # serve NS NAME ADDR...
  local ns=$1 name=$2 fifo=$CNI_WORK/serve.$RANDOM
  shift 2
  mkfifo "$fifo"
  ip netns exec "$ns" $PROBE serve "$name" "$@" >"$fifo" &
  PIDS+=($!)
  read -r -t 5 _ <"$fifo" || fail "probe server $name did not start"
}
expect() {  # expect WHAT REGEX COMMAND...
  local what=$1 want=$2 got
  shift 2
  got=$("$@" 2>&1 || true)
  [[ "$got" =~ $want ]] || fail "$what: want /$want/, got: $got"
}

serve "$NODE" node 0.0.0.0:8080
for mode in iptables nftables; do
  extra=""
  [ $mode = nftables ] && extra=',"native_nftables":true'
  pod_new basic
  istio_add basic "$extra" || fail "$mode: ADD exited $?: $(cat "$CNI_WORK/basic.out" "$CNI_WORK/basic.err")"
  if [ $mode = nftables ]; then
    grep -q 'inet istio-proxy-nat' <<<"$(ip netns exec "$POD" nft list tables)" || fail "nftables mode: no table"
    [ -z "$(ip netns exec "$POD" iptables-legacy-save | grep '^-A' || true)" ] || fail "nftables mode wrote legacy rules"
  fi
  flags=$(ip netns exec "$NODE" "$SNARE_CNI" print-flags --kubeconfig "$RUN_DIR/istio-cni-kubeconfig" \
    --namespace default --pod basic $([ $mode = nftables ] && echo --native-nftables))
  eval "\"\$SNARE\" verify $flags --network-namespace /run/netns/$POD" >/dev/null 2>&1 ||
    fail "$mode: snare verify with print-flags' flags: exit $?"
  gw=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ips"][0]["gateway"])' "$CNI_WORK/basic.prev")
  pod_ip=$(ip -n "$POD" -4 addr show dev eth0 | awk '/inet / {print $2}' | cut -d/ -f1)
  serve "$POD" outbound 0.0.0.0:15001
  serve "$POD" inbound 0.0.0.0:15006
  expect "$mode: app outbound lands on 15001 with its original destination" \
    "^outbound listener=15001 orig=$gw:8080$" \
    ip netns exec "$POD" setpriv --reuid=1000 --regid=1000 --clear-groups $PROBE connect "$gw" 8080
  expect "$mode: the proxy's UID reaches the node" "^node listener=8080" \
    ip netns exec "$POD" setpriv --reuid=1337 --regid=1337 --clear-groups $PROBE connect "$gw" 8080
  expect "$mode: inbound lands on 15006 with its original destination" \
    "^inbound listener=15006 orig=$pod_ip:9090$" ip netns exec "$NODE" $PROBE connect "$pod_ip" 9090
  kill "${PIDS[@]:1}" 2>/dev/null || true
  PIDS=("${PIDS[0]}")
  cni_env basic DEL eth0 "$CNI_PLUGINS/bridge" <<<"{\"cniVersion\":\"1.0.0\",\"name\":\"snaretest\",\"type\":\"bridge\",\"bridge\":\"snbr$$\",\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.199.0.0/24\",\"dataDir\":\"$CNI_WORK/ipam\"}}" >/dev/null
  ip netns del "$POD"
done
echo "PASS cni_traffic"

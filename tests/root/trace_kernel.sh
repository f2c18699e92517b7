#!/bin/bash
# snare trace against the kernel: for sidecar configurations of istio's conformance table
# (REDIRECT and TPROXY, with port, CIDR and owner exclusions, IPv4 and IPv6), the rules are
# applied in a fresh pod namespace joined to a peer by a veth, and for every packet of
# trace_kernel.py (app and proxy UIDs, the proxy's GID alone, included and excluded ports and
# CIDRs, the pod's own and loopback addresses, 127.0.0.6, DNS over TCP and UDP, inbound to
# captured and excluded ports; for ambient, ztunnel's mark and the probe SNAT source) the simulated verdict must equal where the real connection landed: which listener, and
# which original destination (SO_ORIGINAL_DST). The same trace from the kernel's tables
# (iptables-legacy-save through --rules, and the namespace through --network-namespace) must
# give the same answer by the same path. Then each configuration again with --native-nftables
# (istio's inet tables) in fresh namespaces: every NFT_SAMPLE-th packet (default 3rd) must land
# where the nftables trace says.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
source "$SNARE_SOURCE_DIR/tests/root/traffic_helpers.bash"

CONFIGS=(cni-basic cni-include-exclude-ip cni-include-exclude-ports cni-tproxy cni-custom-uid
  cni-custom-uid-tproxy tproxy ipnets ipv6-ipnets ipv6-uid-gid outbound-ports-include
  inbound-ports-include inbound-ports-wildcard-tproxy basic-exclude-nic cni-dns dns-uid-gid
  ambient-default ambient-default_ipv6 ambient-ingress ambient-dns_pod_enabled_and_off_globally)
POD_PORTS=(8080 9090 1111 3333 15008 15020 15021 15090 31000 32000 4000 6000 15001 15053)
PEER_PORTS=(8080 5555 15020 15008 53)
dir=$(conformance_dir)
configs=0
verdicts=""  # every configuration's verdict kinds, for the whole run's check below
i=0
# Each configuration twice: as iptables rules (every packet, and the read-back traces), then
# with --native-nftables in fresh namespaces (every NFT_SAMPLE-th packet, for the CI budget).
NFT_SAMPLE=${NFT_SAMPLE:-3}
# Every IPT_SAMPLE-th packet in iptables mode (default all): the sanitized run of the suite
# (scripts/test-all.sh) samples both modes, since it looks for memory errors on the same paths.
IPT_SAMPLE=${IPT_SAMPLE:-1}
for run in "${CONFIGS[@]/#/ipt:}" "${CONFIGS[@]/#/nft:}"; do
  mode=${run%%:*}
  name=${run#*:}
  i=$((i + 1))
  args=$(awk -F'\t' -v n="$name" '$1 == n { print $3 }' "$dir/cases.tsv" "$dir/ambient-cases.tsv")
  [ -n "$args" ] || fail "$name: not in cases.tsv"
  eval "flags=($args)"
  [ "$mode" = nft ] && flags+=(--native-nftables)
  # Ambient's probe SNAT address: the peer's .3 / ::3, so that a probe can come from it.
  [ "${flags[0]}" = ambient ] && flags+=(--probe-snat-ipv4 10.251.0.3 --probe-snat-ipv6 fd51::3)
  v6=0
  [[ " ${flags[*]} " == *" --enable-ipv6=true "* ]] && v6=1
  POD=$(ns_new "trp$i")
  PEER=$(ns_new "trq$i")
  dev="tra$i-$$"
  dev=${dev:0:15}
  join_pod_peer "$dev" "trb$i-$$" 10.251.0 fd51
  # More peer addresses: in and out of the configurations' included and excluded CIDRs.
  for a in 9.9.0.2/32 1.1.0.2/32; do ip -n "$PEER" addr add "$a" dev "trb$i-$$"; done
  for a in 2001:db8::2/128 2001:db8:1::2/128; do ip -n "$PEER" addr add "$a" dev "trb$i-$$" nodad; done
  ip -n "$POD" route add default via 10.251.0.2
  ip -n "$POD" -6 route add default via fd51::2
  ip netns exec "$POD" "$SNARE" "${flags[@]}" --log_output_level=warn || fail "$name: apply failed"
  # The kernel's own tables, for the same traces through --rules.
  saves=-
  sample=$NFT_SAMPLE
  if [ "$mode" = ipt ]; then
    saves=$(mktemp -d)
    sample=$IPT_SAMPLE
    ip netns exec "$POD" iptables-legacy-save >"$saves/v4.save"
    ip netns exec "$POD" ip6tables-legacy-save >"$saves/v6.save"
  fi

  pod_addrs=()
  for p in "${POD_PORTS[@]}"; do pod_addrs+=("0.0.0.0:$p" "[::]:$p"); done
  peer_addrs=()
  for p in "${PEER_PORTS[@]}"; do peer_addrs+=("0.0.0.0:$p" "[::]:$p"); done
  serve "$POD" pod "${pod_addrs[@]}"
  serve "$POD" pod --transparent 0.0.0.0:15006 [::]:15006
  serve "$PEER" peer "${peer_addrs[@]}"
  serve "$POD" pod --udp 0.0.0.0:15053 [::]:15053
  serve "$PEER" peer --udp 0.0.0.0:53 [::]:53

  echo "[$name $mode] ${flags[*]}"
  out=$(TRACE_SAMPLE=$sample /usr/bin/python3 "$SNARE_SOURCE_DIR/tests/root/trace_kernel.py" "$SNARE" "$POD" "$PEER" "$dev" "$v6" "$saves" -- "${flags[@]}") || true
  [ "$saves" = - ] || rm -rf "$saves"
  echo "$out"
  verdicts+=" $(sed -n 's/^verdicts: //p' <<<"$out" | tr -d '0-9,')"
  if [[ "$(tail -n1 <<<"$out")" =~ ^([0-9]+)\ agree,\ ([0-9]+)\ disagree$ ]]; then
    pass=$((pass + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
  else
    echo "FAIL: [$name] the driver gave no count" >&2
    failed=$((failed + 1))
  fi
  configs=$((configs + 1))
  stop_servers
  ip netns del "$POD"
  ip netns del "$PEER"
done
echo "$configs configurations"
# A sparse sample (the sanitized run) checks verdicts over the whole run, not per configuration.
kinds=$(tr ' ' '\n' <<<"$verdicts" | sed '/^$/d' | sort -u | wc -l)
[ "$kinds" -ge 3 ] || fail "the whole run drew $kinds kinds of verdict ($verdicts), want 3 or more"
report

#!/bin/bash
# Real connections through the rules `snare ambient` applied, iptables and nftables mode, IPv4
# and IPv6, in a pod/peer namespace pair joined by a veth, with stand-ins for ztunnel: the app's
# outbound TCP lands on 15001 with its original destination, ztunnel's own (mark 0x539) leaves
# uncaptured, DNS lands on 15053, inbound lands on 15006, HBONE (15008) and the node's health
# probes (from the probe SNAT address) reach their listeners uncaptured, and so does local
# traffic over lo. Applied again over those rules: ingress mode leaves inbound alone, and TCP
# arriving on a virtual interface (the pod's veth named in --reroute-virtual-interfaces) lands on
# 15001.
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
source "$SNARE_SOURCE_DIR/tests/root/traffic_helpers.bash"

run_mode() {  # run_mode iptables|nftables
  local mode=$1 flags=()
  set -- "$1" "" "sa${mode:0:1}a$$"  # $3: the pod's end of the veth
  [ "$mode" = nftables ] && flags=(--native-nftables)
  POD=$(ns_new "apod${mode:0:3}")
  PEER=$(ns_new "apeer${mode:0:3}")
  join_pod_peer "$3" "sa${mode:0:1}b$$" 10.252.0 fd52

  # The peer's .3 / ::3 stand in for the node's probe SNAT address (so connections that are
  # not probes name their source: IPv6 may pick ::3 for them).
  ip netns exec "$POD" "$SNARE" ambient "${flags[@]}" --enable-ipv6=true --dns-capture=true \
    --probe-snat-ipv4 10.252.0.3 --probe-snat-ipv6 fd52::3 --log_output_level=warn ||
    fail "$mode: snare ambient apply failed"

  serve "$POD" ztunnel-out 0.0.0.0:15001 [::]:15001
  serve "$POD" ztunnel-in 0.0.0.0:15006 [::]:15006
  serve "$POD" hbone 0.0.0.0:15008 [::]:15008
  serve "$POD" dns 0.0.0.0:15053 [::]:15053
  serve "$POD" dnsudp --udp 0.0.0.0:15053 [::]:15053
  serve "$POD" app 0.0.0.0:8080 [::]:8080
  serve "$PEER" peer 0.0.0.0:8080 [::]:8080 0.0.0.0:53 [::]:53

  local fam
  for fam in 4 6; do
    local peer=10.252.0.2 probe=10.252.0.3 pod=10.252.0.1 lo=127.0.0.1 b="" e=""
    [ $fam = 6 ] && peer=fd52::2 probe=fd52::3 pod=fd52::1 lo=::1 b="\[" e="\]"
    check "$mode v$fam: app outbound lands on 15001 with its original destination" \
      "^ztunnel-out listener=15001 orig=$b$peer$e:8080$" ip netns exec "$POD" $PROBE connect $peer 8080
    check "$mode v$fam: ztunnel's own outbound (mark 0x539) leaves uncaptured" \
      "^peer listener=8080" ip netns exec "$POD" $PROBE connect --mark=0x539 $peer 8080
    check "$mode v$fam: TCP DNS lands on 15053" \
      "^dns listener=15053 orig=$b$peer$e:53$" ip netns exec "$POD" $PROBE connect $peer 53
    check "$mode v$fam: UDP DNS lands on 15053" \
      "^dnsudp udp listener=15053$" ip netns exec "$POD" $PROBE connect --udp $peer 53
    check "$mode v$fam: inbound lands on 15006 with its original destination" \
      "^ztunnel-in listener=15006 orig=$b$pod$e:8080$" ip netns exec "$PEER" $PROBE connect --source=$peer $pod 8080
    check "$mode v$fam: HBONE (15008) is not captured" \
      "^hbone listener=15008" ip netns exec "$PEER" $PROBE connect --source=$peer $pod 15008
    check "$mode v$fam: a health probe from the probe SNAT address reaches the app" \
      "^app listener=8080" ip netns exec "$PEER" $PROBE connect --source=$probe $pod 8080
    check "$mode v$fam: ztunnel's delivery to the app (mark 0x539) is not captured" \
      "^app listener=8080" ip netns exec "$POD" $PROBE connect --mark=0x539 $pod 8080
    check "$mode v$fam: local traffic over lo is not captured" \
      "^app listener=8080" ip netns exec "$POD" $PROBE connect $lo 8080
  done

  # Ingress mode (`--bypass-inbound-capture`), applied over the default flags: inbound reaches
  # the app itself. Then the veth named as a virtual interface: TCP arriving on it goes to
  # 15001 (ztunnel's outbound), with its original destination.
  local va=${3:0:15} apply=(ip netns exec "$POD" "$SNARE" ambient "${flags[@]}" --enable-ipv6=true
    --dns-capture=true --probe-snat-ipv4 10.252.0.3 --probe-snat-ipv6 fd52::3 --log_output_level=warn)
  "${apply[@]}" --bypass-inbound-capture || fail "$mode: ingress-mode apply over the default failed"
  for fam in 4 6; do
    local peer=10.252.0.2 pod=10.252.0.1
    [ $fam = 6 ] && peer=fd52::2 pod=fd52::1
    check "$mode v$fam: ingress mode leaves inbound to the app alone" \
      "^app listener=8080" ip netns exec "$PEER" $PROBE connect --source=$peer $pod 8080
  done
  "${apply[@]}" --reroute-virtual-interfaces "$va" || fail "$mode: virtual-interface apply failed"
  for fam in 4 6; do
    local peer=10.252.0.2 pod=10.252.0.1 b="" e=""
    [ $fam = 6 ] && peer=fd52::2 pod=fd52::1 b="\[" e="\]"
    check "$mode v$fam: inbound on a virtual interface lands on 15001 with its original destination" \
      "^ztunnel-out listener=15001 orig=$b$pod$e:8080$" ip netns exec "$PEER" $PROBE connect --source=$peer $pod 8080
  done
  stop_servers
}

run_mode iptables
run_mode nftables
report

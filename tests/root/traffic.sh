#!/bin/bash
# Real connections through rules snare applied, in a pod/peer namespace pair joined by a veth:
# outbound from an app UID lands on 15001 with its original destination, from UID/GID 1337 it
# leaves uncaptured; inbound lands on 15006; excluded ports and CIDRs pass; DNS to the
# nameserver lands on 15053. REDIRECT and TPROXY, IPv4 and IPv6. (nft_traffic.sh: the same with
# --native-nftables.)
source "$SNARE_SOURCE_DIR/tests/lib.sh"
require_root
source "$SNARE_SOURCE_DIR/tests/root/traffic_helpers.bash"

as_app() { ip netns exec "$POD" setpriv --reuid=1000 --regid=1000 --clear-groups "$@"; }
as_proxy() { ip netns exec "$POD" setpriv --reuid=1337 --regid=1337 --clear-groups "$@"; }
as_proxy_gid_only() { ip netns exec "$POD" setpriv --reuid=1000 --regid=1337 --clear-groups "$@"; }

run_mode() {  # run_mode REDIRECT|TPROXY
  local mode=$1
  POD=$(ns_new "pod${mode,,}")
  PEER=$(ns_new "peer${mode,,}")
  join_pod_peer "sv${mode:0:1}a$$" "sv${mode:0:1}b$$" 10.251.0 fd51

  ip netns exec "$POD" "$SNARE" "${SNARE_RULE_FLAGS[@]}" -p 15001 -z 15006 -u 1337 -g 1337 -m "$mode" -i '*' \
    -x 10.251.0.3/32,fd51::3/128 -b '*' -d 15090,15021,15020 -o 5555 \
    --redirect-dns --dns-servers=10.251.0.2,fd51::2 --enable-ipv6=true --log_output_level=warn ||
    fail "$mode: snare apply failed"
  expect_backend "$POD"

  local t=()
  [ "$mode" = TPROXY ] && t=(--transparent)
  serve "$POD" outbound 0.0.0.0:15001 [::]:15001
  serve "$POD" inbound "${t[@]}" 0.0.0.0:15006 [::]:15006
  serve "$POD" dns 0.0.0.0:15053 [::]:15053
  serve "$POD" dnsudp --udp 0.0.0.0:15053 [::]:15053
  serve "$POD" app 0.0.0.0:15020 [::]:15020
  serve "$PEER" peer 0.0.0.0:8080 [::]:8080 0.0.0.0:5555 [::]:5555 0.0.0.0:53 [::]:53

  for fam in 4 6; do
    local peer=10.251.0.2 other=10.251.0.3 pod=10.251.0.1
    [ $fam = 6 ] && peer=fd51::2 other=fd51::3 pod=fd51::1
    local b="" e=""
    [ $fam = 6 ] && b="\[" e="\]"
    check "$mode v$fam: app outbound lands on 15001 with its original destination" \
      "^outbound listener=15001 orig=$b$peer$e:8080$" as_app $PROBE connect $peer 8080
    check "$mode v$fam: the proxy's UID leaves uncaptured" \
      "^peer listener=8080" as_proxy $PROBE connect $peer 8080
    check "$mode v$fam: the proxy's GID leaves uncaptured" \
      "^peer listener=8080" as_proxy_gid_only $PROBE connect $peer 8080
    check "$mode v$fam: excluded CIDR (-x) passes" \
      "^peer listener=8080" as_app $PROBE connect $other 8080
    check "$mode v$fam: excluded outbound port (-o) passes" \
      "^peer listener=5555" as_app $PROBE connect $peer 5555
    check "$mode v$fam: TCP DNS to the nameserver lands on 15053" \
      "^dns listener=15053 orig=$b$peer$e:53$" as_app $PROBE connect $peer 53
    check "$mode v$fam: UDP DNS to the nameserver lands on 15053" \
      "^dnsudp udp listener=15053$" as_app $PROBE connect --udp $peer 53
    check "$mode v$fam: inbound lands on 15006 with its original destination" \
      "^inbound listener=15006 orig=$b$pod$e:9090$" ip netns exec "$PEER" $PROBE connect $pod 9090
    check "$mode v$fam: excluded inbound port (-d) reaches the app" \
      "^app listener=15020" ip netns exec "$PEER" $PROBE connect $pod 15020
  done
  stop_servers
}

run_mode REDIRECT
run_mode TPROXY
report

#!/bin/bash
# Inbound under istio's TPROXY rules: the server pod's proxy (the same default `snare proxy`)
# takes the original destination from its transparent socket, IPv4 and IPv6, and the app sees
# 127.0.0.6 / ::6. The client pod keeps REDIRECT rules.
source "$SNARE_SOURCE_DIR/tests/proxy/proxy_lib.sh"
pods_new TPROXY
proxies_start

for dst in $IP4S "$IP6S"; do
  probe "$CLI" echo "$dst" 7000 2000000 || fail "2 MB echo (half-closed) to $dst"
done
expect_passthrough_sources
grep -q "dir=inbound client=$IP4C:[0-9]* dst=$IP4S:7000 dst_from=tproxy bytes_up=2000000" \
  "$work/srv.log" || { cat "$work/srv.log"; fail "no TPROXY inbound log line (IPv4)"; }
grep -q "dir=inbound client=\[$IP6C\]:[0-9]* dst=\[$IP6S\]:7000 dst_from=tproxy" "$work/srv.log" ||
  { cat "$work/srv.log"; fail "no TPROXY inbound log line (IPv6)"; }
echo "PASS proxy_tproxy"

#!/bin/bash
# traffic.sh with native nftables rules: the same real connections (app UID to 15001 with its
# original destination, the proxy's UID/GID uncaptured, inbound to 15006, DNS to 15053,
# exclusions), REDIRECT and TPROXY, IPv4 and IPv6, and no legacy rule written.
export SNARE_RULE_FLAGS=--native-nftables
exec bash "$SNARE_SOURCE_DIR/tests/root/traffic.sh"

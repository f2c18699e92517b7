#!/bin/bash
# snare proxy and --run-validation behind native nftables rules: proxy_relay.sh (REDIRECT both
# pods), proxy_tproxy.sh (TPROXY inbound) and proxy_validation.sh (exit 126 with the stage named,
# the live nftables rules printed) with --native-nftables.
export SNARE_RULE_FLAGS=--native-nftables
bash "$SNARE_SOURCE_DIR/tests/root/proxy_relay.sh" && bash "$SNARE_SOURCE_DIR/tests/root/proxy_tproxy.sh" &&
  bash "$SNARE_SOURCE_DIR/tests/root/proxy_validation.sh"

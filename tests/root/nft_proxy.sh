#!/bin/bash
# snare proxy behind native nftables rules: proxy_relay.sh (REDIRECT both pods) and
# proxy_tproxy.sh (TPROXY inbound) with --native-nftables.
export SNARE_RULE_FLAGS=--native-nftables
bash "$SNARE_SOURCE_DIR/tests/root/proxy_relay.sh" && bash "$SNARE_SOURCE_DIR/tests/root/proxy_tproxy.sh"

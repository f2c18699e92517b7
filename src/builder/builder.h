// The builder: Config -> Plan, pure, no I/O.
//
// It follows istio-iptables 1.30's IptablesConfigurator.Run (and, for --native-nftables, its
// NftablesConfigurator.Run, which takes the same decisions in the same order) step by step, so
// that the same flags give the same rules in the same order. The Config must be complete: proxy
// UIDs/GIDs filled in, IPv6 decided, DNS servers known. docs/DESIGN.md lists the steps.
#pragma once

#include "config/config.h"
#include "model/rule.h"

namespace snare {

Plan build_plan(const Config& cfg);

// Whether DNS capture stays on: istio turns it off (with a warning) when it is asked for without
// capture-all and no nameserver is known.
bool dns_capture_effective(const Config& cfg);

}  // namespace snare

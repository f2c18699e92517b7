// The builder: Config → Plan (the v4 and v6 rule operations), pure, no I/O.
//
// It follows istio-iptables 1.30's IptablesConfigurator.Run step by step (the steps S1..S19 of
// ../shared/research/istio-rules.md §3), so that the same flags give the same rules in the same
// order. The Config must be complete: proxy UIDs/GIDs filled in, IPv6 decided, DNS servers known.
#pragma once

#include "config.h"
#include "rule.h"

namespace snare {

Plan build_plan(const Config& cfg);

// Whether DNS capture stays on: istio turns it off (with a warning) when it is asked for without
// capture-all and no nameserver is known.
bool dns_capture_effective(const Config& cfg);

}  // namespace snare

// An nftables rule set read back for a walk: `nft -j list ruleset` JSON (a --rules file, or what
// libnftables lists for a namespace) as the walk's tables and entry points (trace.h).
//
// Every table of family ip, ip6 (the packet's) and inet, whatever its name: istio's and anyone
// else's. Its base chains are the walk's entries at their hook and priority (a chain at forward,
// ingress or egress is not on a local packet's way and is no entry); each rule is read by the
// extensions' from_nft forms (ext/forms.h's rule_from_nft), and a rule with a statement none
// of them reads is kept, unmodelled: the walk names it and says uncertain. The chain type gives
// the table model the walk evaluates in: `nat` is nat; `filter` and `route` before conntrack
// (priority below -200) are raw, after it mangle. The listing is untrusted: its size, nesting,
// items, chains, rules and names are bounded, and every error is one line naming the item, the
// table, chain and rule.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/status.h"
#include "trace/trace.h"

namespace snare {

struct NftJsonLimits {
  size_t max_bytes = 64u << 20;
  size_t max_depth = 32;  // nesting of arrays and objects
  size_t max_items = 400000;
  size_t max_chains = 20000;
  size_t max_rules = 200000;
  size_t max_statements = 256;  // per rule
  size_t max_name = 256;        // table and chain names (nft's NFT_NAME_MAXLEN)
};

// Whether a --rules file is a JSON listing rather than iptables-save text: an object, with
// "nftables" in it.
bool is_nft_json(std::string_view text);

// The listing's tables for a packet of `family`, in `out` (rule lines in nft's syntax).
Status nft_rules_from_json(std::string_view text, Family family, TraceRules& out,
                           const NftJsonLimits& limits = {});

// `from` added to `into`: both entries by priority at each hook, each entry with its own table
// (the x_tables and the nf_tables of one namespace, which the kernel both runs).
void merge_trace_rules(TraceRules& into, TraceRules from);

}  // namespace snare

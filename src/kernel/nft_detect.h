// nftables detection: does this network namespace already hold nf_tables state?
//
// libiptc programs the legacy x_tables back-end. On a host where iptables means iptables-nft, or
// where something wrote native nft rules, both back-ends are live at once and both see every
// packet, so a legacy apply would add a second, parallel rule set rather than replace anything
// (docs/DESIGN.md, "Between the backends"). The apply therefore refuses when nf_tables holds
// anything.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace snare {

struct NftTableInfo {
  std::string family;  // "ip", "ip6", "inet", "arp", "bridge", "netdev"
  std::string name;
  int chains = 0;
  int rules = 0;
  bool iptables_nft =
      false;           // made by iptables-nft (xt expressions, or its table and family names)
  uint32_t flags = 0;  // NFT_TABLE_F_* (dormant, owner, persist)
};

// Lists the nf_tables tables of the calling thread's network namespace, all families, over
// NETLINK_NETFILTER (libmnl + libnftnl), with chain and rule counts. Call after enter_netns. A
// kernel without nf_tables yields an empty list.
Status list_nft_tables(std::vector<NftTableInfo>& tables);

// What counts: *any* nf_tables table, in any family, even one without chains or rules. A table is
// the unit both iptables-nft and nft create; empty ones are also what an iptables-nft probe (such
// as istio's own `-A`/`-D` back-end probe) leaves behind, and a table that is empty now may be
// filled by its owner a moment later, so telling "harmless" apart would be guesswork. Removing a
// leftover empty table is one command, which the message names. Sets, maps and flowtables live
// inside tables, so they are covered too.
// `what` describes them, e.g. "table ip nat (iptables-nft, 4 chains, 1 rule), table inet x (0
// chains, 0 rules)"; empty when none.
Status detect_nftables(bool& has_rules, std::string& what);

// The description alone, for tests.
std::string describe_nft_tables(const std::vector<NftTableInfo>& tables);

}  // namespace snare

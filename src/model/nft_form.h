// The kernel form of istio's nftables tables: what `nft -j list table inet istio-proxy-nat` shows,
// reduced to what a rule set means. The same model holds what the flags create (from the plan,
// through the extensions' nft_expr forms) and what was read back (from libnftables' JSON
// listing); verify and the re-run check compare the two, and the dry-run's save form prints the
// first as JSON.
//
// Besides chains and rules, a table's flags (a dormant table captures nothing), a base chain's
// device and any other object in the table (a set, a map, a counter) are part of the form: each
// changes what the kernel does or is not istio's.
//
// This file holds the data only. The plan's form and the normal form both sides are brought to
// are in ext/nft_kernel_form.h (they need the extensions' nft_expr forms); libnftables' JSON
// listing is read into a form, and a form written as one, in render/nft_form_json.h. The chains
// of a table are in istio's order (model/nft_layout.h), the kernel's handle order aside.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace snare {

struct NftRuleForm {
  nlohmann::json expr;  // the statement array, normalised
};

struct NftChainForm {
  std::string name;
  std::string type, hook, policy;  // base chains only
  std::string device;              // an ingress/netdev base chain's device; "" for istio's
  int priority = 0;
  bool base = false;
  std::vector<NftRuleForm> rules;
};

struct NftTableForm {
  std::string name;                // "istio-proxy-nat"
  std::vector<std::string> flags;  // "dormant", "owner", "persist"; istio's tables have none
  std::vector<NftChainForm> chains;
  // Everything else the table holds (sets, maps, counters, quotas, flowtables, ...), each as
  // `KIND NAME` with its JSON body (no handle): istio's tables hold none, so any one is drift.
  std::vector<std::string> objects;
};

using NftForm = std::vector<NftTableForm>;  // tables in istio's order: nat, mangle, raw

// NFT_TABLE_F_* bits as nft names them (dormant, owner, persist, or the bit's number).
std::vector<std::string> nft_table_flag_names(uint32_t flags);

}  // namespace snare

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
// Normal form, on both sides: no handles, counters at zero, and no `meta l4proto P` match where a
// later match reads P's header (`meta l4proto tcp ... tcp dport 53`): nft lists such a rule
// without it, because the port match implies it (its own protocol dependency). The chains of a
// table are in istio's order (model/nft_layout.cpp), the kernel's handle order aside.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/rule.h"

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

// What the plan leaves in the kernel (its tables only).
NftForm nft_expected_form(const Plan& plan);

// The `inet` tables named in `tables` out of a JSON listing (`{"nftables": [...]}` of libnftables).
// Tables absent from the listing are absent from `out`.
Status nft_form_from_listing(const std::string& json_text, const std::vector<std::string>& tables,
                             NftForm& out);

// The normal form of one rule's statement array (see the top of this file).
void normalize_nft_exprs(nlohmann::json& expr);

// A form as a listing in libnftables' JSON schema (handles left out): the dry-run's save form.
std::string nft_form_json(const NftForm& form);

// NFT_TABLE_F_* bits as nft names them (dormant, owner, persist, or the bit's number).
std::vector<std::string> nft_table_flag_names(uint32_t flags);

// The table names istio's nftables mode owns: istio-proxy-nat, -mangle, -raw; for ambient's
// rule sets istio-cni's istio-ambient-nat, -mangle, -raw.
const std::vector<std::string>& istio_nft_tables(RuleSet rule_set = RuleSet::sidecar);

}  // namespace snare

// The nftables layout of a plan: what istio's nftables mode makes of the same rule operations.
//
// Every table of the plan becomes one `inet` table (istio-proxy-nat, -mangle, -raw) that holds
// both families' rules. Its chains are those that receive a rule, in istio's fixed order per
// table, the base chains with their hook and priority. The operations keep the plan's order;
// an `-I chain N` becomes knftables' `insert rule ... index N-1`, except that an insert into a
// chain holding fewer than N rules so far is an append (istio's fix for #58135). Each chain's
// final rule order is what the kernel holds after the operations: the renderer prints the
// operations, the expected kernel form (ext/nft_kernel_form.h) reads the chains.
#pragma once

#include <string>
#include <vector>

#include "model/rule.h"

namespace snare {

// A base chain's hook: `{ type nat hook prerouting priority -100 ; }`.
struct NftHook {
  const char* type;
  const char* hook;
  int priority;
};

struct NftChain {
  std::string name;                // nftables spelling: "prerouting", "istio-output"
  const NftHook* hook = nullptr;   // null: a regular chain
  std::vector<const Rule*> rules;  // in the kernel's order after the operations
};

struct NftOp {
  const Rule* rule = nullptr;
  int index = -1;  // >= 0: `insert rule ... index N` (before the Nth rule, 0-based); -1: `add`
};

struct NftTable {
  Table table = Table::nat;
  std::string name;              // "istio-proxy-nat"
  std::vector<NftChain> chains;  // istio's order; only chains with rules
  std::vector<NftOp> ops;        // in plan order
};

// "istio-proxy-nat", "istio-proxy-mangle", "istio-proxy-raw" (the sidecar's); ambient's
// "istio-ambient-nat", ... (in-pod and host rules share istio-cni's tables).
std::string nft_table_name(Table table);
std::string nft_table_name(RuleSet rule_set, Table table);

// The table names istio's nftables mode owns: istio-proxy-nat, -mangle, -raw; for ambient's
// in-pod rules istio-cni's istio-ambient-nat, -mangle, -raw; for its node rules (and probe
// sets) istio-ambient-nat.
const std::vector<std::string>& istio_nft_tables(RuleSet rule_set = RuleSet::sidecar);

// A chain name in nftables spelling: "ISTIO_OUTPUT" -> "istio-output", "PREROUTING" ->
// "prerouting".
std::string nft_chain_name(const std::string& iptables_name);

// Whether the nftables rule set holds `rule`: IPv6-only rules only with IPv6 on.
bool nft_writes(const Plan& plan, const Rule& rule);

// istio's chain order in a table ("istio-proxy-mangle": prerouting, output, istio-divert, ...);
// empty for a table that is not istio's.
const std::vector<std::string>& nft_chain_order(const std::string& table_name);

// The plan's tables that hold at least one rule, in istio's order (nat, mangle, raw).
std::vector<NftTable> nft_layout(const Plan& plan, EnteredChain entered);

}  // namespace snare

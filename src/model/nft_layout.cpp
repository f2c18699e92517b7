// The nftables layout of a plan (see nft_layout.h).
#include "model/nft_layout.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

namespace snare {
namespace {

// istio's chain lists (the sidecar's istio-nftables constants, and istio-cni's for ambient), per
// table, in the order it adds them.
const std::vector<std::string>& chain_order(RuleSet rs, Table t) {
  static const std::array<std::vector<std::string>, 3> kSidecar = {{
      {"prerouting", "output", "istio-inbound", "istio-redirect", "istio-in-redirect",
       "istio-output", "istio-output-dns"},
      {"prerouting", "output", "istio-divert", "istio-tproxy", "istio-inbound", "istio-drop"},
      {"prerouting", "output", "istio-inbound", "istio-output-dns"},
  }};
  static const std::vector<std::string> kAmbient = {"prerouting", "output", "istio-prerouting",
                                                    "istio-output"};
  static const std::vector<std::string> kAmbientHost = {"postrouting"};
  if (rs == RuleSet::ambient) return kAmbient;
  if (rs == RuleSet::ambient_host) return kAmbientHost;
  return kSidecar[static_cast<size_t>(t)];
}

// knftables prints named priorities as numbers (dstnat -100, mangle -150, raw -300).
const NftHook* hook_of(Table t, const std::string& chain) {
  static const NftHook kNatPre{"nat", "prerouting", -100}, kNatOut{"nat", "output", -100};
  static const NftHook kManglePre{"filter", "prerouting", -150},
      kMangleOut{"route", "output", -150};
  static const NftHook kRawPre{"filter", "prerouting", -300}, kRawOut{"filter", "output", -300};
  static const NftHook kNatPost{"nat", "postrouting", 100};
  if (t == Table::nat && chain == "postrouting") return &kNatPost;
  const bool pre = chain == "prerouting";
  if (!pre && chain != "output") return nullptr;
  switch (t) {
    case Table::nat:
      return pre ? &kNatPre : &kNatOut;
    case Table::mangle:
      return pre ? &kManglePre : &kMangleOut;
    case Table::raw:
      return pre ? &kRawPre : &kRawOut;
  }
  return nullptr;
}

// Orders the chains as istio adds them; a chain outside istio's list (none today) goes last.
void sort_chains(RuleSet rs, Table t, std::vector<NftChain>& chains) {
  const auto& order = chain_order(rs, t);
  auto rank = [&](const NftChain& c) {
    return std::find(order.begin(), order.end(), c.name) - order.begin();
  };
  std::stable_sort(chains.begin(), chains.end(),
                   [&](const NftChain& a, const NftChain& b) { return rank(a) < rank(b); });
}

}  // namespace

const std::vector<std::string>& nft_chain_order(const std::string& table_name) {
  static const std::vector<std::string> kNone;
  for (RuleSet rs : {RuleSet::sidecar, RuleSet::ambient})
    for (Table t : kTables)
      if (nft_table_name(rs, t) == table_name) return chain_order(rs, t);
  return kNone;
}

std::string nft_table_name(Table table) { return nft_table_name(RuleSet::sidecar, table); }

std::string nft_table_name(RuleSet rs, Table table) {
  return std::string(rs == RuleSet::sidecar ? "istio-proxy-" : "istio-ambient-") +
         table_name(table);
}

const std::vector<std::string>& istio_nft_tables(RuleSet rs) {
  static const std::vector<std::string> kSidecar = {
      nft_table_name(Table::nat), nft_table_name(Table::mangle), nft_table_name(Table::raw)};
  static const std::vector<std::string> kAmbient = {nft_table_name(RuleSet::ambient, Table::nat),
                                                    nft_table_name(RuleSet::ambient, Table::mangle),
                                                    nft_table_name(RuleSet::ambient, Table::raw)};
  // The node's rules and probe sets live in istio-ambient-nat alone.
  static const std::vector<std::string> kAmbientHost = {
      nft_table_name(RuleSet::ambient_host, Table::nat)};
  return rs == RuleSet::sidecar ? kSidecar : rs == RuleSet::ambient ? kAmbient : kAmbientHost;
}

std::string nft_chain_name(const std::string& iptables_name) {
  std::string out = iptables_name;
  for (char& c : out)
    c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {

// istio-cni declares a chain that a rule jumps to even when it holds no rule (ambient's nat
// istio-prerouting with inbound capture bypassed).
void add_jump_targets(const Plan& plan, EnteredChain entered, Table t,
                      std::vector<NftChain>& chains) {
  for (const Rule& r : plan.rules) {
    const std::string* chain = entered(r.target);
    if (r.table != t || !chain || !nft_writes(plan, r)) continue;
    const std::string name = nft_chain_name(*chain);
    if (std::none_of(chains.begin(), chains.end(),
                     [&](const NftChain& c) { return c.name == name; }))
      chains.push_back(NftChain{name, hook_of(t, name), {}});
  }
}

}  // namespace

bool nft_writes(const Plan& plan, const Rule& rule) { return rule.scope != Scope::v6 || plan.ipv6; }

std::vector<NftTable> nft_layout(const Plan& plan, EnteredChain entered) {
  std::vector<NftTable> out;
  for (Table t : kTables) {
    NftTable table{t, nft_table_name(plan.rule_set, t), {}, {}};
    std::map<std::string, size_t> chain_at;  // name -> index in table.chains
    for (const Rule& r : plan.rules) {
      if (r.table != t || !nft_writes(plan, r)) continue;
      const std::string name = nft_chain_name(r.chain);
      auto [it, fresh] = chain_at.emplace(name, table.chains.size());
      if (fresh) table.chains.push_back(NftChain{name, hook_of(t, name), {}});
      std::vector<const Rule*>& rules = table.chains[it->second].rules;
      NftOp op{&r, r.insert_at - 1};
      // knftables' rule: an insert past the chain's current end (or into an empty chain) appends.
      if (op.index < 0 || rules.empty() || op.index >= static_cast<int>(rules.size()))
        op.index = -1;
      rules.insert(op.index < 0 ? rules.end() : rules.begin() + op.index, &r);
      table.ops.push_back(op);
    }
    if (table.ops.empty()) continue;
    if (plan.rule_set != RuleSet::sidecar) add_jump_targets(plan, entered, t, table.chains);
    sort_chains(plan.rule_set, t, table.chains);
    out.push_back(std::move(table));
  }
  return out;
}

}  // namespace snare

// The netlink form of a plan (see nft_netlink_form.h).
#include "ext/nft_netlink_form.h"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <unordered_map>

#include "ext/forms.h"
#include "ext/nft_nl.h"

namespace snare {
namespace {

// NF_INET_* of a hook as istio's chains name it.
uint32_t hook_number(const char* hook) {
  static const std::map<std::string, uint32_t> kHooks = {
      {"prerouting", 0}, {"input", 1}, {"forward", 2}, {"output", 3}, {"postrouting", 4}};
  const auto it = kHooks.find(hook);
  return it == kHooks.end() ? 0 : it->second;
}

// Each rule's operation in the table: a rule's label is its line, and looking it up per rule
// among thousands of operations would cost the square of their number.
using OpOfRule = std::unordered_map<const Rule*, const NftOp*>;

NlChain chain_form(const NftTable& t, const NftChain& c, const OpOfRule& ops, bool numeric_ids) {
  NlChain chain;
  chain.name = c.name;
  if (c.hook) {
    chain.base = true;
    chain.type = c.hook->type;
    chain.hook = hook_number(c.hook->hook);
    chain.priority = c.hook->priority;
    // nft sends no policy for istio's chains; the kernel's is accept, and a dump shows it.
    chain.policy = 1;  // NF_ACCEPT
  }
  for (const Rule* r : c.rules) {
    NlRule rule;
    nft_nl_exprs(*r, NftContext{r->scope, numeric_ids}, rule.exprs);
    if (auto it = ops.find(r); it != ops.end())
      rule.label = nft_op_text(t, *it->second, numeric_ids);
    chain.rules.push_back(std::move(rule));
  }
  return chain;
}

}  // namespace

std::string nft_rule_statements(const Rule& rule, bool numeric_ids) {
  const NftContext ctx{rule.scope, numeric_ids};
  std::string out;
  for (const Match& m : rule.matches) {
    nft_text(m, ctx, out);
    out += ' ';
  }
  nft_text(rule.target, ctx, out);
  return out;
}

std::string nft_op_text(const NftTable& table, const NftOp& op, bool numeric_ids) {
  const std::string stmts = nft_rule_statements(*op.rule, numeric_ids);
  const std::string chain = nft_chain_name(op.rule->chain);
  if (op.index < 0) return fmt::format("add rule inet {} {} {}", table.name, chain, stmts);
  return fmt::format("insert rule inet {} {} index {} {}", table.name, chain, op.index, stmts);
}

NlSet nft_netlink_set(const IpSet& set) {
  NlSet out;
  out.name = set.name;
  const bool v6 = set.family == Family::v6;
  out.key_type = v6 ? nl::kTypeIpv6Addr : nl::kTypeIpv4Addr;
  out.key_len = v6 ? 16 : 4;
  out.userdata = nl::set_userdata(true, set.comment);
  return out;
}

NlForm nft_netlink_form(const Plan& plan, bool numeric_ids) {
  NlForm out;
  for (const NftTable& t : nft_layout(plan, entered_chain)) {
    NlTable table;
    table.name = t.name;
    table.family = nl::kNfprotoInet;
    OpOfRule ops;
    for (const NftOp& op : t.ops) ops.emplace(op.rule, &op);
    for (const NftChain& c : t.chains) table.chains.push_back(chain_form(t, c, ops, numeric_ids));
    if (t.table == Table::nat)
      for (const IpSet& set : plan.sets)
        if (set.used) table.sets.push_back(nft_netlink_set(set));
    out.push_back(std::move(table));
  }
  return out;
}

}  // namespace snare

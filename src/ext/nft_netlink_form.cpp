// The netlink form of a plan (see nft_netlink_form.h).
#include "ext/nft_netlink_form.h"

#include <fmt/format.h>

#include <cstring>
#include <map>

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

NlChain chain_form(const NftTable& t, const NftChain& c, bool numeric_ids) {
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
    for (const NftOp& op : t.ops)
      if (op.rule == r) rule.label = nft_op_text(t, op, numeric_ids);
    chain.rules.push_back(std::move(rule));
  }
  return chain;
}

}  // namespace

std::string nft_op_text(const NftTable& table, const NftOp& op, bool numeric_ids) {
  const NftContext ctx{op.rule->scope, numeric_ids};
  std::string stmts;
  for (const Match& m : op.rule->matches) {
    nft_text(m, ctx, stmts);
    stmts += ' ';
  }
  nft_text(op.rule->target, ctx, stmts);
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
    for (const NftChain& c : t.chains) table.chains.push_back(chain_form(t, c, numeric_ids));
    if (t.table == Table::nat)
      for (const IpSet& set : plan.sets)
        if (set.used) table.sets.push_back(nft_netlink_set(set));
    out.push_back(std::move(table));
  }
  return out;
}

}  // namespace snare

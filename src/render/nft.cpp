// nftables renderer (see nft.h).
#include "render/nft.h"

#include <fmt/format.h>

#include "ext/forms.h"
#include "ext/nft_json.h"
#include "ext/nft_netlink_form.h"

namespace snare {

std::string render_nft_statements(const Rule& rule, bool numeric_ids) {
  return nft_rule_statements(rule, numeric_ids);
}

std::string render_nft_op(const NftTable& table, const NftOp& op, bool numeric_ids) {
  return nft_op_text(table, op, numeric_ids);
}

std::string render_nft_chain(const NftTable& table, const NftChain& chain) {
  if (!chain.hook) return fmt::format("add chain inet {} {}", table.name, chain.name);
  return fmt::format("add chain inet {} {} {{ type {} hook {} priority {} ; }}", table.name,
                     chain.name, chain.hook->type, chain.hook->hook, chain.hook->priority);
}

std::string render_nft(const Plan& plan, bool numeric_ids) {
  std::string out;
  for (const NftTable& t : nft_layout(plan, entered_chain)) {
    fmt::format_to(std::back_inserter(out), "add table inet {}\nflush table inet {}\n", t.name,
                   t.name);
    for (const NftChain& c : t.chains) out += render_nft_chain(t, c) + '\n';
    for (const NftOp& op : t.ops) out += render_nft_op(t, op, numeric_ids) + '\n';
  }
  return out;
}

}  // namespace snare

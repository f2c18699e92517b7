// The nftables rule set a plan writes, as the walk's tables and entries (see trace.h).
#include <fmt/format.h>

#include <cstring>

#include "ext/forms.h"
#include "model/nft_layout.h"
#include "trace/trace.h"

namespace snare {
namespace {

Hook hook_of(const char* name) {
  if (std::strcmp(name, "prerouting") == 0) return Hook::prerouting;
  if (std::strcmp(name, "input") == 0) return Hook::input;
  if (std::strcmp(name, "postrouting") == 0) return Hook::postrouting;
  return Hook::output;
}

}  // namespace

TraceRules nft_trace_rules(const Plan& plan, Family family) {
  TraceRules out;
  out.nft = true;
  for (const NftTable& nt : nft_layout(plan, entered_chain)) {
    // Why the packet's family: an inet table holds both families' rules, and a rule written
    // for the other family still sees the packet unless a match of that family (`ip6 daddr`)
    // turns it away, as the address matches' evaluation does.
    TableModel t = empty_table(family, nt.table);
    t.chains.clear();
    for (const NftChain& c : nt.chains) {
      Chain chain{c.name, c.hook != nullptr, c.hook ? "ACCEPT" : "", {}};
      for (const Rule* r : c.rules) {
        Entry e;
        e.rule = std::shared_ptr<const Rule>(std::shared_ptr<const Rule>(), r);
        e.planned = true;
        chain.entries.push_back(std::move(e));
      }
      t.chains.push_back(std::move(chain));
      if (!c.hook) continue;
      out.entries.push_back(
          TraceEntry{hook_of(c.hook->hook), nt.table, c.hook->priority, nt.name, c.name,
                     fmt::format("inet {} {} (type {} hook {} priority {})", nt.name, c.name,
                                 c.hook->type, c.hook->hook, c.hook->priority)});
    }
    out.tables.push_back(std::move(t));
  }
  return out;
}

}  // namespace snare

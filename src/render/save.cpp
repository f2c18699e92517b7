// Save-form renderer (see save.h).
#include "render/save.h"

#include <fmt/format.h>

#include "ext/forms.h"

namespace snare {

std::string render_save_rule(const Rule& rule, Family family) {
  std::string out = "-A " + rule.chain;
  SaveContext ctx{family, {}};
  // Why this order: iptables prints the ipt_entry header fields (-s -d -i -o -p) first, then
  // each match in the order it sits in the entry, then the target.
  for (SaveSlot slot : {SaveSlot::source, SaveSlot::destination, SaveSlot::in_iface,
                        SaveSlot::out_iface, SaveSlot::proto, SaveSlot::xt_match}) {
    for (const Match& m : rule.matches) {
      if (save_slot(m) != slot) continue;
      out += ' ';
      save_text(m, ctx, out);
    }
  }
  out += ' ';
  save_text(rule.target, ctx, out);
  return out;
}

std::string render_save_table(const TableModel& table, bool counters) {
  std::string out = fmt::format("*{}\n", table_name(table.table));
  for (const Chain& c : table.chains)
    fmt::format_to(std::back_inserter(out), ":{} {} [0:0]\n", c.name,
                   c.builtin ? (c.policy.empty() ? "ACCEPT" : c.policy) : "-");
  for (const Chain& c : table.chains) {
    for (const Entry& e : c.entries) {
      if (counters) fmt::format_to(std::back_inserter(out), "[{}:{}] ", e.packets, e.octets);
      out += render_save_rule(*e.rule, table.family);  // e.rule->chain is c.name
      if (!e.unsupported.empty())
        fmt::format_to(std::back_inserter(out), " [unsupported by snare: {}]",
                       fmt::join(e.unsupported, ", "));
      out += '\n';
    }
  }
  out += "COMMIT\n";
  return out;
}

std::string render_save(const std::vector<TableModel>& tables) {
  std::string out;
  for (const TableModel& t : tables) out += render_save_table(t);
  return out;
}

}  // namespace snare

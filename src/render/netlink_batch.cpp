// A netlink batch as nft command lines (see netlink_batch.h).
#include "render/netlink_batch.h"

#include <fmt/format.h>
#include <linux/netfilter.h>

#include <variant>

namespace snare {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

void add_table_lines(const NlTable& t, std::vector<std::string>& out) {
  const std::string where = fmt::format("{} {}", nl_family_name(t.family), t.name);
  out.push_back("add table " + where);
  for (const NlSet& s : t.sets) out.push_back(fmt::format("add set {} {}", where, s.name));
  for (const NlChain& c : t.chains)
    out.push_back(c.base ? fmt::format("add chain {} {} {{ type {} hook {} priority {} ; }}", where,
                                       c.name, c.type, nl_hook_name(c.hook), c.priority)
                         : fmt::format("add chain {} {}", where, c.name));
  for (const NlChain& c : t.chains)
    for (const NlRule& r : c.rules)
      out.push_back(r.label.empty() ? fmt::format("add rule {} {} ({} expressions)", where, c.name,
                                                  r.exprs.size())
                                    : r.label);
}

}  // namespace

std::vector<std::string> netlink_batch_lines(const NlBatch& batch) {
  std::vector<std::string> out;
  for (const NlOp& op : batch)
    std::visit(
        Overloaded{
            [&](const NlAddTable& a) { add_table_lines(a.table, out); },
            [&](const NlDeleteTable& d) {
              out.push_back(fmt::format("delete table {} {}", nl_family_name(d.family), d.table));
            },
            [&](const NlFlushTable& f) {
              out.push_back(fmt::format("flush table {} {}", nl_family_name(f.family), f.table));
            },
            [&](const NlFlushChain& f) {
              out.push_back(
                  fmt::format("flush chain {} {} {}", nl_family_name(f.family), f.table, f.chain));
            },
            [&](const NlDeleteChain& d) {
              out.push_back(
                  fmt::format("delete chain {} {} {}", nl_family_name(d.family), d.table, d.chain));
            },
            [&](const NlDeleteRule& d) {
              out.push_back(fmt::format("delete rule {} {} {} handle {}", nl_family_name(d.family),
                                        d.table, d.chain, d.handle));
            },
            [&](const NlDeleteObject& d) {
              out.push_back(fmt::format("delete {} {} {} {}", d.kind, nl_family_name(d.family),
                                        d.table, d.name));
            },
        },
        op);
  return out;
}

}  // namespace snare

// The difference between two netlink forms (see netlink_diff.h).
#include "render/netlink_diff.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

#include "model/nft_form.h"
#include "render/diff.h"
#include "render/netlink_batch.h"
#include "render/netlink_text.h"

namespace snare {
namespace {

// A rule's expressions in nft's netlink notation, one line. An anonymous set goes by nft's
// template name on both sides: the kernel's (`__set0`) is not part of what the rule does.
std::string rule_text(const NlRule& rule) {
  std::string out;
  for (const NlExpr& e : rule.exprs) {
    if (!out.empty()) out += ' ';
    const auto* lookup = std::get_if<NlLookup>(&e);
    if (lookup && lookup->anonymous && lookup->anonymous->name != "__set%d") {
      NlLookup same = *lookup;
      same.anonymous->name = "__set%d";
      out += netlink_text(NlExpr{same});
    } else {
      out += netlink_text(e);
    }
  }
  if (!rule.unknown.empty()) out += " [ not modelled: " + rule.unknown + " ]";
  return out;
}

std::string chain_line(const std::string& where, const NlChain& c) {
  if (!c.base) return fmt::format("add chain {} {}", where, c.name);
  return fmt::format("add chain {} {} {{ type {} hook {} {}priority {} ; policy {} ; }}", where,
                     c.name, c.type, nl_hook_name(c.hook),
                     c.device.empty() ? "" : fmt::format("device \"{}\" ", c.device), c.priority,
                     c.policy.value_or(1) == 1 ? "accept" : "drop");
}

// Lines of one table; a rule whose expressions equal a labelled rule's (by their text) is
// shown by that label, so that equal rules read the same on both sides.
std::vector<std::string> table_lines(const NlTable& t,
                                     const std::map<std::string, std::string>& labels) {
  const std::string where = fmt::format("{} {}", nl_family_name(t.family), t.name);
  std::vector<std::string> out;
  const std::vector<std::string> flags = nft_table_flag_names(t.flags);
  out.push_back(flags.empty()
                    ? "add table " + where
                    : fmt::format("add table {} {{ flags {} ; }}", where, fmt::join(flags, ",")));
  for (const NlSet& s : t.sets)
    out.push_back(fmt::format("add set {} {} {{ {} }}", where, s.name, netlink_set_text(s)));
  for (const std::string& o : t.objects) {
    const size_t sp = o.find(' ');
    out.push_back(fmt::format("add {} {} {}", o.substr(0, sp), where, o.substr(sp + 1)));
  }
  for (const NlChain& c : t.chains) out.push_back(chain_line(where, c));
  for (const NlChain& c : t.chains)
    for (const NlRule& r : c.rules) {
      const std::string key = fmt::format("{} {} {}", where, c.name, rule_text(r));
      auto it = labels.find(key);
      out.push_back(it != labels.end()
                        ? it->second
                        : fmt::format("add rule {} {} {}", where, c.name, rule_text(r)));
    }
  return out;
}

bool is_context(const std::string& line) { return line.rfind("add rule ", 0) != 0; }

}  // namespace

std::string netlink_set_text(const NlSet& set) {
  std::string out =
      fmt::format("type {} len {} flags 0x{:x}", set.key_type, set.key_len, set.flags);
  if (!set.userdata.empty()) out += fmt::format(" userdata {} bytes", set.userdata.size());
  return out;
}

std::string diff_netlink_forms(const NlForm& have_form, const NlForm& want_form) {
  const NlForm have = netlink_normal_form(have_form), want = netlink_normal_form(want_form);
  std::map<std::string, std::string> labels;
  for (const NlTable& t : want)
    for (const NlChain& c : t.chains)
      for (const NlRule& r : c.rules)
        if (!r.label.empty())
          labels.emplace(
              fmt::format("{} {} {} {}", nl_family_name(t.family), t.name, c.name, rule_text(r)),
              r.label);
  std::vector<std::string> names;
  for (const NlForm* f : {&have, &want})
    for (const NlTable& t : *f)
      if (std::find(names.begin(), names.end(), t.name) == names.end()) names.push_back(t.name);
  std::string out;
  // Table by table, so that the context lines are those of tables that differ.
  for (const std::string& name : names) {
    std::vector<std::string> a, b;
    for (const NlTable& t : have)
      if (t.name == name) a = table_lines(t, labels);
    for (const NlTable& t : want)
      if (t.name == name) b = table_lines(t, labels);
    if (a != b)
      out += fmt::format("# inet {}: '-' in the kernel only, '+' missing from the kernel\n", name) +
             diff_lines(a, b, is_context);
  }
  return out;
}

}  // namespace snare

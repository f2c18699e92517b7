// Restore-form renderer (see restore.h). Matches are printed in the order the builder put them,
// with istio's spellings (`--set-mark`, `--to-port`), because istio pastes strings.
#include "render/restore.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

#include "ext/forms.h"

namespace snare {

std::string render_restore_rule(const Rule& rule) {
  std::string out = rule.insert_at > 0 ? fmt::format("-I {} {}", rule.chain, rule.insert_at)
                                       : fmt::format("-A {}", rule.chain);
  for (const Match& m : rule.matches) {
    out += ' ';
    restore_text(m, out);
  }
  out += ' ';
  restore_text(rule.target, out);
  return out;
}

std::string render_restore(const Plan& plan, Family family) {
  // Tables print alphabetically: mangle, nat, raw.
  static const Table kOrder[] = {Table::mangle, Table::nat, Table::raw};
  std::string out;
  for (Table t : kOrder) {
    // Why two passes: istio declares (-N) every chain a rule lives in, in first-use order, then
    // every chain a rule's target enters that is still undeclared (so raw gets `-N ISTIO_INBOUND`
    // from
    // `-A PREROUTING -j ISTIO_INBOUND`).
    std::vector<std::string> declared;
    auto declare = [&](const std::string& chain) {
      if (is_builtin_chain(chain) || is_verdict(chain)) return;
      if (std::find(declared.begin(), declared.end(), chain) == declared.end())
        declared.push_back(chain);
    };
    std::string rules;
    for (const Rule& r : plan.rules) {
      if (r.table != t || !writes(plan, r, family)) continue;
      declare(r.chain);
      rules += render_restore_rule(r);
      rules += '\n';
    }
    if (rules.empty()) continue;
    for (const Rule& r : plan.rules)
      if (r.table == t && writes(plan, r, family))
        if (const std::string* entered = entered_chain(r.target)) declare(*entered);
    fmt::format_to(std::back_inserter(out), "* {}\n", table_name(t));
    for (const std::string& c : declared) fmt::format_to(std::back_inserter(out), "-N {}\n", c);
    out += rules;
    out += "COMMIT\n";
  }
  return out;
}

}  // namespace snare

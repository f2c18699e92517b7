// Rule model helpers: names, builtin chains, and materialize() — running the -A/-I operations of a
// RuleSet the way the kernel would, to get the tables they leave behind.
#include "rule.h"

#include <algorithm>
#include <map>

namespace snare {

const char* family_name(Family f) { return f == Family::v4 ? "ipv4" : "ipv6"; }

const char* table_name(Table t) {
  switch (t) {
    case Table::filter:
      return "filter";
    case Table::nat:
      return "nat";
    case Table::mangle:
      return "mangle";
    case Table::raw:
      return "raw";
  }
  return "?";
}

bool is_verdict(const std::string& target) {
  return target == "ACCEPT" || target == "DROP" || target == "RETURN";
}

bool is_builtin_chain(const std::string& name) {
  return name == "PREROUTING" || name == "INPUT" || name == "FORWARD" || name == "OUTPUT" ||
         name == "POSTROUTING";
}

std::vector<std::string> builtin_chains(Table t) {
  switch (t) {
    case Table::filter:
      return {"INPUT", "FORWARD", "OUTPUT"};
    case Table::nat:
      return {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"};
    case Table::mangle:
      return {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
    case Table::raw:
      return {"PREROUTING", "OUTPUT"};
  }
  return {};
}

std::vector<TableImage> materialize(const RuleSet& set) {
  // Why this order: it is the order iptables-save printed the kernel-form references in, so a
  // save-form dry-run can be compared with them as whole files.
  static const Table kOrder[] = {Table::mangle, Table::raw, Table::nat, Table::filter};
  std::vector<TableImage> out;
  for (Table t : kOrder) {
    bool used = std::any_of(set.rules.begin(), set.rules.end(),
                            [t](const Rule& r) { return r.table == t; });
    if (!used) continue;
    TableImage img;
    img.table = t;
    for (const auto& name : builtin_chains(t)) img.chains.push_back(Chain{name, true, {}});
    // User chains: every non-builtin chain a rule lives in or jumps to.
    std::map<std::string, std::vector<Rule>> user;
    for (const Rule& r : set.rules) {
      if (r.table != t) continue;
      if (!is_builtin_chain(r.chain)) user[r.chain];
      if (auto* j = std::get_if<JumpTarget>(&r.target)) {
        if (!is_verdict(j->chain) && !is_builtin_chain(j->chain)) user[j->chain];
      }
    }
    for (auto& [name, rules] : user) img.chains.push_back(Chain{name, false, {}});
    for (const Rule& r : set.rules) {
      if (r.table != t) continue;
      auto it = std::find_if(img.chains.begin(), img.chains.end(),
                             [&](const Chain& c) { return c.name == r.chain; });
      Rule copy = r;
      copy.insert_at = 0;
      if (r.insert_at <= 0) {
        it->rules.push_back(std::move(copy));
      } else {
        // `-I chain N` inserts before the Nth rule (1-based); past the end it appends.
        size_t pos = std::min<size_t>(static_cast<size_t>(r.insert_at - 1), it->rules.size());
        it->rules.insert(it->rules.begin() + static_cast<std::ptrdiff_t>(pos), std::move(copy));
      }
    }
    out.push_back(std::move(img));
  }
  return out;
}

}  // namespace snare

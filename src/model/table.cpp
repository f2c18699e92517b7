// TableModel and the one replay of a plan's operations (see table.h).
#include "model/table.h"

#include <algorithm>
#include <deque>
#include <iterator>

namespace snare {

Chain* TableModel::find(const std::string& name) {
  for (Chain& c : chains)
    if (c.name == name) return &c;
  return nullptr;
}

const Chain* TableModel::find(const std::string& name) const {
  for (const Chain& c : chains)
    if (c.name == name) return &c;
  return nullptr;
}

bool TableModel::empty() const {
  return std::all_of(chains.begin(), chains.end(),
                     [](const Chain& c) { return c.builtin && c.entries.empty(); });
}

size_t TableModel::rule_count() const {
  size_t n = 0;
  for (const Chain& c : chains) n += c.entries.size();
  return n;
}

TableModel empty_table(Family family, Table table) {
  TableModel t;
  t.family = family;
  t.table = table;
  for (const std::string& name : builtin_chains(table))
    t.chains.push_back({name, true, "ACCEPT", {}});
  return t;
}

void sort_chains(TableModel& t) {
  const auto& hooks = builtin_chains(t.table);
  auto hook_index = [&](const std::string& name) {
    return std::find(hooks.begin(), hooks.end(), name) - hooks.begin();
  };
  std::stable_sort(t.chains.begin(), t.chains.end(), [&](const Chain& a, const Chain& b) {
    if (a.builtin != b.builtin) return a.builtin;
    if (a.builtin) return hook_index(a.name) < hook_index(b.name);
    return a.name < b.name;
  });
}

namespace {

// The order of one chain being replayed: each slot is an entry the chain already holds
// (kExisting | index) or a rule of the plan (its index), in a deque (see replay's comment), so
// that an insert moves a few integers and every entry is built once, in its final place.
constexpr uint32_t kExisting = 0x80000000u;

class ChainWork {
 public:
  explicit ChainWork(TableModel& t) : table_(t), order_(t.chains.size()) {
    for (size_t i = 0; i < t.chains.size(); ++i)
      for (uint32_t k = 0; k < t.chains[i].entries.size(); ++k) order_[i].push_back(kExisting | k);
  }
  std::deque<uint32_t>& chain(const std::string& name) {
    for (size_t i = 0; i < table_.chains.size(); ++i)
      if (table_.chains[i].name == name) return order_[i];
    const bool builtin = is_builtin_chain(name);
    table_.chains.push_back({name, builtin, builtin ? "ACCEPT" : "", {}});
    return order_.emplace_back();
  }
  // Builds every chain in its final order; planned entries are made here.
  void finish(const Plan& plan) {
    for (size_t i = 0; i < table_.chains.size(); ++i) {
      std::vector<Entry> old = std::move(table_.chains[i].entries);
      std::vector<Entry>& out = table_.chains[i].entries;
      out.clear();
      out.reserve(order_[i].size());
      for (uint32_t k : order_[i]) {
        if (k & kExisting) {
          out.push_back(std::move(old[k & ~kExisting]));
          continue;
        }
        // A non-owning pointer to the plan's rule (aliasing an empty shared_ptr): no copy, no
        // allocation, for each of what can be thousands of entries.
        out.push_back(
            Entry{std::shared_ptr<const Rule>(std::shared_ptr<const Rule>(), &plan.rules[k]),
                  {},
                  {},
                  true});
      }
    }
    sort_chains(table_);
  }

 private:
  TableModel& table_;
  std::vector<std::deque<uint32_t>> order_;
};

}  // namespace

void replay(const Plan& plan, EnteredChain entered, TableModel& onto) {
  ChainWork work(onto);
  // In an nftables plan, one inet table holds the rules of both families.
  const bool all_families = plan.dialect == Dialect::nftables;
  for (uint32_t k = 0; k < plan.rules.size(); ++k) {
    const Rule& r = plan.rules[k];
    if (r.table != onto.table || !(all_families || writes(plan, r, onto.family))) continue;
    if (const std::string* target = entered(r.target)) work.chain(*target);
    std::deque<uint32_t>& chain = work.chain(r.chain);
    if (r.insert_at > 0) {
      const size_t at = std::min(static_cast<size_t>(r.insert_at - 1), chain.size());
      chain.insert(chain.begin() + static_cast<std::ptrdiff_t>(at), k);
    } else {
      chain.push_back(k);
    }
  }
  work.finish(plan);
}

std::vector<TableModel> replay_fresh(const Plan& plan, EnteredChain entered, Family family) {
  // Why this order: iptables-save printed the kernel-form references in it, so a save-form
  // dry-run compares with them as whole files.
  static const Table kSaveOrder[] = {Table::mangle, Table::raw, Table::nat};
  std::vector<TableModel> out;
  for (Table t : kSaveOrder) {
    const bool used = std::any_of(plan.rules.begin(), plan.rules.end(), [&](const Rule& r) {
      return r.table == t && writes(plan, r, family);
    });
    if (!used) continue;
    TableModel model = empty_table(family, t);
    replay(plan, entered, model);
    out.push_back(std::move(model));
  }
  return out;
}

}  // namespace snare

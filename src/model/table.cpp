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

bool jumps_to_user_chain(const Rule& r, const std::string** chain) {
  auto* j = std::get_if<JumpTarget>(&r.target);
  if (!j || is_verdict(j->chain) || is_builtin_chain(j->chain)) return false;
  *chain = &j->chain;
  return true;
}

// The chains of a table being replayed, as deques (see replay's comment).
class ChainWork {
 public:
  explicit ChainWork(TableModel& t) : table_(t) {
    work_.reserve(t.chains.size());
    for (Chain& c : t.chains)
      work_.emplace_back(std::make_move_iterator(c.entries.begin()),
                         std::make_move_iterator(c.entries.end()));
  }
  std::deque<Entry>& chain(const std::string& name) {
    for (size_t i = 0; i < table_.chains.size(); ++i)
      if (table_.chains[i].name == name) return work_[i];
    const bool builtin = is_builtin_chain(name);
    table_.chains.push_back({name, builtin, builtin ? "ACCEPT" : "", {}});
    return work_.emplace_back();
  }
  void finish() {
    for (size_t i = 0; i < table_.chains.size(); ++i)
      table_.chains[i].entries.assign(std::make_move_iterator(work_[i].begin()),
                                      std::make_move_iterator(work_[i].end()));
    sort_chains(table_);
  }

 private:
  TableModel& table_;
  std::vector<std::deque<Entry>> work_;
};

}  // namespace

Status replay(const Plan& plan, TableModel& onto, const EntryEncoder& encode) {
  ChainWork work(onto);
  // In an nftables plan, one inet table holds the rules of both families.
  const bool all_families = plan.dialect == Dialect::nftables;
  for (const Rule& r : plan.rules) {
    if (r.table != onto.table || !(all_families || writes(plan, r, onto.family))) continue;
    const std::string* target = nullptr;
    if (jumps_to_user_chain(r, &target)) work.chain(*target);
    std::deque<Entry>& chain = work.chain(r.chain);
    Entry e{r, {}, {}, true};
    e.rule.insert_at = 0;
    if (encode) {
      if (Status s = encode(onto.family, e); !s.ok()) return s;
    }
    if (r.insert_at > 0) {
      const size_t at = std::min(static_cast<size_t>(r.insert_at - 1), chain.size());
      chain.insert(chain.begin() + static_cast<std::ptrdiff_t>(at), std::move(e));
    } else {
      chain.push_back(std::move(e));
    }
  }
  work.finish();
  return Status::Ok();
}

std::vector<TableModel> replay_fresh(const Plan& plan, Family family) {
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
    (void)replay(plan, model);  // cannot fail without an encoder
    out.push_back(std::move(model));
  }
  return out;
}

}  // namespace snare

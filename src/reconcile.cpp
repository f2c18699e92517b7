// Reconcile: desired tables from current tables and the plan. See reconcile.h for the ownership
// rules and what "the same" means.
#include "reconcile.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace snare {
namespace {

bool is_istio_chain(const std::string& name) { return name.rfind("ISTIO_", 0) == 0; }

const std::string* jump_chain(const EntryState& e) {
  auto* j = std::get_if<JumpTarget>(&e.rule.target);
  return j ? &j->chain : nullptr;
}

template <typename T>
int count_of(const EntryState& e) {
  int n = 0;
  for (const Match& m : e.rule.matches) n += std::holds_alternative<T>(m) ? 1 : 0;
  return n;
}

// The plan's part of one table: its user chains (encoded) and its builtin-chain operations.
struct PlannedTable {
  std::vector<ChainState> user_chains;
  struct Op {
    std::string chain;
    int insert_at = 0;
    EntryState entry;
  };
  std::vector<Op> builtin_ops;
  std::map<std::string, std::multiset<std::string>> builtin_keys;  // chain -> keys
};

Status encode_entry(Family f, const Rule& r, EntryState& out) {
  out.rule = r;
  out.rule.insert_at = 0;
  out.planned = true;
  return encode_rule(f, r, out.bytes);
}

// One pass over the set's operations for this table (materialize() would build every table).
// User chains exist from the first rule in them or jump to them, like istio's `-N` lines.
Status planned_table(const RuleSet& set, Table table, PlannedTable& pt) {
  std::map<std::string, size_t> index;
  auto user_chain = [&](const std::string& name) -> ChainState& {
    auto [it, fresh] = index.emplace(name, pt.user_chains.size());
    if (fresh) pt.user_chains.push_back({name, false, "", {}});
    return pt.user_chains[it->second];
  };
  for (const Rule& r : set.rules) {
    if (r.table != table) continue;
    EntryState e;
    if (Status s = encode_entry(set.family, r, e); !s.ok()) return s;
    if (auto* j = std::get_if<JumpTarget>(&r.target);
        j && !is_verdict(j->chain) && !is_builtin_chain(j->chain))
      user_chain(j->chain);
    if (is_builtin_chain(r.chain)) {
      pt.builtin_keys[r.chain].insert(entry_state_key(set.family, e));
      pt.builtin_ops.push_back({r.chain, r.insert_at, std::move(e)});
      continue;
    }
    ChainState& c = user_chain(r.chain);
    size_t at = r.insert_at > 0 ? std::min<size_t>(size_t(r.insert_at - 1), c.entries.size())
                                : c.entries.size();
    c.entries.insert(c.entries.begin() + static_cast<long>(at), std::move(e));
  }
  return Status::Ok();
}

void sort_chains(TableState& t) {
  std::stable_sort(t.chains.begin(), t.chains.end(), [](const ChainState& a, const ChainState& b) {
    if (a.builtin != b.builtin) return a.builtin;
    if (a.builtin) return false;  // keep the kernel's hook order
    return a.name < b.name;
  });
}

std::vector<std::string> keys_of(Family f, const std::vector<EntryState>& v) {
  std::vector<std::string> out;
  for (const EntryState& e : v) out.push_back(entry_state_key(f, e));
  return out;
}

}  // namespace

bool is_istio_shape(Table table, const std::string& chain, const EntryState& e) {
  if (!e.unsupported.empty() || (table != Table::nat && table != Table::mangle)) return false;
  if (chain != "PREROUTING" && chain != "OUTPUT") return false;
  const Rule& r = e.rule;
  const std::string* jump = jump_chain(e);
  const size_t n = r.matches.size();
  // `-i NIC -j RETURN` (PREROUTING) / `-o NIC -j RETURN` (OUTPUT): -c exclude, -k kube-virt.
  if (jump && *jump == "RETURN" && n == 1) {
    auto* i = std::get_if<IfaceMatch>(&r.matches[0]);
    return i && !i->invert && i->out == (chain == "OUTPUT");
  }
  if (table != Table::mangle) return false;
  auto* tcp = [&]() -> const ProtoMatch* {
    for (const Match& m : r.matches)
      if (auto* p = std::get_if<ProtoMatch>(&m)) return p->name == "tcp" ? p : nullptr;
    return nullptr;
  }();
  if (!tcp) return false;
  // TPROXY: `-p tcp -m mark --mark M -j CONNMARK --save-mark` (PREROUTING).
  if (auto* c = std::get_if<ConnmarkTarget>(&r.target)) {
    if (!c->restore && chain == "PREROUTING") return n == 2 && count_of<MarkMatch>(e) == 1;
    if (c->restore && chain == "OUTPUT") return n == 2 && count_of<ConnmarkMatch>(e) == 1;
    return false;
  }
  if (chain != "OUTPUT") return false;
  // `-o lo -p tcp -m mark --mark M -j RETURN`.
  if (jump && *jump == "RETURN")
    return n == 3 && count_of<IfaceMatch>(e) == 1 && count_of<MarkMatch>(e) == 1;
  // `! -d LO -o lo -p tcp -m owner --uid-owner|--gid-owner ID -j MARK --set-mark OM`.
  if (std::holds_alternative<MarkTarget>(r.target))
    return n == 4 && count_of<AddrMatch>(e) == 1 && count_of<IfaceMatch>(e) == 1 &&
           count_of<OwnerMatch>(e) == 1;
  return false;
}

Status plan_table(const RuleSet& set, Table table, bool reconcile, TablePlan& tp) {
  const Family f = set.family;
  PlannedTable pt;
  if (Status s = planned_table(set, table, pt); !s.ok()) return s;

  tp.residue = false;
  tp.desired = tp.current;
  tp.desired.chains.clear();
  // current's istio part, per builtin chain, in order (for the "same" test)
  std::map<std::string, std::vector<std::string>> ours_in_current;
  for (const ChainState& c : tp.current.chains) {
    if (!c.builtin) {
      if (is_istio_chain(c.name)) {
        tp.residue = true;
        continue;
      }
      tp.desired.chains.push_back(c);
      continue;
    }
    ChainState kept{c.name, true, c.policy, {}};
    std::multiset<std::string> plan_keys = pt.builtin_keys[c.name];
    for (const EntryState& e : c.entries) {
      std::string key = entry_state_key(f, e);
      const std::string* j = jump_chain(e);
      bool ours = false;
      if (j && is_istio_chain(*j)) {
        ours = true;
        tp.residue = true;
      } else if (auto it = plan_keys.find(key); it != plan_keys.end()) {
        ours = true;
        plan_keys.erase(it);
      } else if (reconcile && is_istio_shape(table, c.name, e)) {
        ours = true;
      }
      if (ours)
        ours_in_current[c.name].push_back(std::move(key));
      else
        kept.entries.push_back(e);
    }
    tp.desired.chains.push_back(std::move(kept));
  }
  for (ChainState& c : pt.user_chains) tp.desired.chains.push_back(std::move(c));
  for (PlannedTable::Op& op : pt.builtin_ops) {
    ChainState* c = tp.desired.find(op.chain);
    if (!c) {
      tp.desired.chains.push_back({op.chain, true, "ACCEPT", {}});
      c = &tp.desired.chains.back();
    }
    size_t at = op.insert_at > 0 ? std::min<size_t>(size_t(op.insert_at - 1), c->entries.size())
                                 : c->entries.size();
    c->entries.insert(c->entries.begin() + static_cast<long>(at), std::move(op.entry));
  }
  sort_chains(tp.desired);

  // The same? istio chains equal, and istio's builtin rules in the plan's order.
  bool same = true;
  std::map<std::string, const ChainState*> cur_istio, want_istio;
  for (const ChainState& c : tp.current.chains)
    if (!c.builtin && is_istio_chain(c.name)) cur_istio[c.name] = &c;
  for (const ChainState& c : tp.desired.chains)
    if (!c.builtin && is_istio_chain(c.name)) want_istio[c.name] = &c;
  if (cur_istio.size() != want_istio.size()) same = false;
  for (auto& [name, c] : want_istio) {
    auto it = cur_istio.find(name);
    if (it == cur_istio.end() || keys_of(f, it->second->entries) != keys_of(f, c->entries))
      same = false;
  }
  for (const ChainState& c : tp.desired.chains) {
    if (!c.builtin) continue;
    std::vector<std::string> planned;
    for (const EntryState& e : c.entries)
      if (e.planned) planned.push_back(entry_state_key(f, e));
    if (planned != ours_in_current[c.name]) same = false;
  }
  tp.same = same;
  return Status::Ok();
}

Status cleanup_table(const RuleSet& set, Table table, TablePlan& tp) {
  const Family f = set.family;
  PlannedTable pt;
  if (Status s = planned_table(set, table, pt); !s.ok()) return s;
  std::set<std::string> removed;
  for (const ChainState& c : pt.user_chains)
    if (tp.current.find(c.name)) removed.insert(c.name);
  tp.residue = !removed.empty();
  tp.desired = tp.current;
  tp.desired.chains.clear();
  bool changed = false;
  for (const ChainState& c : tp.current.chains) {
    if (removed.count(c.name)) {
      changed = true;
      continue;
    }
    ChainState kept{c.name, c.builtin, c.policy, {}};
    std::multiset<std::string> plan_keys = pt.builtin_keys[c.name];
    for (const EntryState& e : c.entries) {
      const std::string* j = jump_chain(e);
      bool drop = j && removed.count(*j);  // a jump to a chain that goes away would dangle
      if (!drop && c.builtin) {
        if (auto it = plan_keys.find(entry_state_key(f, e)); it != plan_keys.end()) {
          drop = true;
          plan_keys.erase(it);
        }
      }
      if (drop)
        changed = true;
      else
        kept.entries.push_back(e);
    }
    tp.desired.chains.push_back(std::move(kept));
  }
  tp.same = !changed;
  return Status::Ok();
}

std::string render_table_state(const TableState& in) {
  TableState t = in;
  sort_chains(t);
  std::string out = fmt::format("*{}\n", table_name(t.table));
  for (const ChainState& c : t.chains)
    out += fmt::format(":{} {} [0:0]\n", c.name,
                       c.builtin ? (c.policy.empty() ? "ACCEPT" : c.policy) : "-");
  for (const ChainState& c : t.chains)
    for (const EntryState& e : c.entries) out += render_entry(t.family, c.name, e) + "\n";
  out += "COMMIT\n";
  return out;
}

std::string diff_tables(const TableState& have, const TableState& want) {
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    size_t p = 0;
    while (p < s.size()) {
      size_t n = s.find('\n', p);
      v.push_back(s.substr(p, n - p));
      p = n + 1;
    }
    return v;
  };
  std::vector<std::string> a = split(render_table_state(have)), b = split(render_table_state(want));
  if (a == b) return "";
  // LCS table, then walk it: a small table (hundreds of lines) makes O(n*m) fine.
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<uint32_t>> l(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      l[i][j] = a[i] == b[j] ? l[i + 1][j + 1] + 1 : std::max(l[i + 1][j], l[i][j + 1]);
  std::string out = fmt::format("# {} {}: '-' in the kernel only, '+' missing from the kernel\n",
                                family_name(have.family), table_name(have.table));
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      // Context: table and chain headers, so the +/- lines have a place.
      if (a[i][0] == '*' || a[i][0] == ':' || a[i] == "COMMIT") out += " " + a[i] + "\n";
      i++, j++;
    } else if (j < m && (i == n || l[i][j + 1] >= l[i + 1][j])) {
      out += "+" + b[j++] + "\n";
    } else {
      out += "-" + a[i++] + "\n";
    }
  }
  return out;
}

}  // namespace snare

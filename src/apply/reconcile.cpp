// Reconcile: desired tables from current tables and the plan. See reconcile.h for the ownership
// rules and what "the same" means.
#include "apply/reconcile.h"

#include <algorithm>
#include <map>
#include <set>

#include "ext/forms.h"

namespace snare {
namespace {

using ChainKeys = std::map<std::string, std::multiset<std::string>>;  // chain -> entry bytes
using ChainSeqs = std::map<std::string, std::vector<std::string>>;    // chain -> bytes in order

// The verdict or chain of a `-j`, for istio's jump-less shapes (`-j RETURN`).
const std::string* jump_of(const Entry& e) {
  auto* j = std::get_if<JumpTarget>(&e.rule->target);
  return j ? &j->chain : nullptr;
}

template <typename T>
int count_of(const Entry& e) {
  int n = 0;
  for (const Match& m : e.rule->matches) n += std::holds_alternative<T>(m) ? 1 : 0;
  return n;
}

// An entry's bytes: read back, as stored; planned, encoded now into `scratch` (planned entries
// keep none: an apply has thousands, and most are never compared).
Status bytes_of(Family f, const Entry& e, std::string& scratch, const std::string*& out) {
  out = &e.bytes;
  if (!e.bytes.empty()) return Status::Ok();
  out = &scratch;
  return encode_rule(f, *e.rule, scratch);
}

// The plan's rules of this family and table in builtin chains, encoded, by chain.
Status planned_builtin_keys(const Plan& plan, const TableModel& t, ChainKeys& out) {
  for (const Rule& r : plan.rules) {
    if (r.table != t.table || !writes(plan, r, t.family) || !is_builtin_chain(r.chain)) continue;
    std::string bytes;
    if (Status s = encode_rule(t.family, r, bytes); !s.ok()) return s;
    out[r.chain].insert(std::move(bytes));
  }
  return Status::Ok();
}

// Whether `e`, in `chain`, is istio's: it enters a chain that goes (`enters_gone` then says so),
// or it is a rule the plan puts there (each planned key claims one entry, so a foreign copy of
// a planned rule beyond the plan's count stays), or, with `shapes` (--reconcile), one of istio's
// jump-less shapes. The one classification of an apply's and a cleanup's.
template <typename Gone>
bool istio_entry(Table table, const std::string& chain, const Entry& e, const Gone& gone,
                 std::multiset<std::string>& planned, bool shapes, bool& enters_gone) {
  const std::string* entered = entered_chain(e.rule->target);
  enters_gone = entered && gone(*entered);
  if (enters_gone) return true;
  if (auto it = planned.find(e.bytes); it != planned.end()) {
    planned.erase(it);
    return true;
  }
  return shapes && is_istio_shape(table, chain, e);
}

// Copies `current` without its istio part into `desired`; istio's builtin-chain rules, in order,
// go to `ours`.
void strip_istio(const TableModel& current, ChainKeys planned, bool replace, TableModel& desired,
                 ChainSeqs& ours, bool& residue) {
  desired = TableModel{current.family, current.table, current.present, {}};
  auto gone = [](const std::string& chain) { return is_istio_chain(chain); };
  for (const Chain& c : current.chains) {
    if (!c.builtin) {
      if (is_istio_chain(c.name))
        residue = true;
      else
        desired.chains.push_back(c);
      continue;
    }
    Chain& kept = desired.chains.emplace_back(Chain{c.name, true, c.policy, {}});
    for (const Entry& e : c.entries) {
      bool jump = false;
      if (istio_entry(current.table, c.name, e, gone, planned[c.name], replace, jump))
        ours[c.name].push_back(e.bytes);
      else
        kept.entries.push_back(e);
      residue |= jump;
    }
  }
}

// Entries read back (`have`) against the planned ones (`want`), in order, by their bytes.
Status same_entries(Family f, const std::vector<Entry>& have, const std::vector<Entry>& want,
                    bool& same) {
  same = have.size() == want.size();
  std::string scratch;
  for (size_t i = 0; same && i < have.size(); ++i) {
    const std::string* bytes = nullptr;
    if (Status s = bytes_of(f, want[i], scratch, bytes); !s.ok()) return s;
    same = have[i].bytes == *bytes;
  }
  return Status::Ok();
}

// The planned entries of a chain, in order, against istio's rules found there.
Status same_planned(Family f, const std::vector<Entry>& entries,
                    const std::vector<std::string>& ours, bool& same) {
  size_t i = 0;
  std::string scratch;
  same = true;
  for (const Entry& e : entries) {
    if (!e.planned) continue;
    const std::string* bytes = nullptr;
    if (Status s = bytes_of(f, e, scratch, bytes); !s.ok()) return s;
    if (i == ours.size() || ours[i] != *bytes) return same = false, Status::Ok();
    ++i;
  }
  same = i == ours.size();
  return Status::Ok();
}

// The ISTIO_* chains of `current` and `desired` hold the same rules.
Status same_istio_chains(const TableModel& current, const TableModel& desired, bool& same) {
  std::map<std::string, const Chain*> have, want;
  for (const Chain& c : current.chains)
    if (!c.builtin && is_istio_chain(c.name)) have[c.name] = &c;
  for (const Chain& c : desired.chains)
    if (!c.builtin && is_istio_chain(c.name)) want[c.name] = &c;
  same = have.size() == want.size();
  for (auto it = want.begin(); same && it != want.end(); ++it) {
    auto found = have.find(it->first);
    same = found != have.end();
    if (same)
      if (Status s =
              same_entries(desired.family, found->second->entries, it->second->entries, same);
          !s.ok())
        return s;
  }
  return Status::Ok();
}

// Builtin chains whose istio rules already are the plan's, in its order, are kept as read: the
// replay appends istio's rules after every foreign one, which would move a rule someone appended
// after istio's jump in front of it. `all_same` says whether every builtin chain was settled.
Status keep_settled_chains(const TableModel& current, TableModel& desired, ChainSeqs& ours,
                           bool& all_same) {
  all_same = true;
  for (Chain& c : desired.chains) {
    if (!c.builtin) continue;
    bool same = false;
    if (Status s = same_planned(desired.family, c.entries, ours[c.name], same); !s.ok()) return s;
    if (same)
      c.entries = current.find(c.name)->entries;
    else
      all_same = false;
  }
  return Status::Ok();
}

// Whether `current`'s istio part is a beginning of what `desired` plans: every ISTIO_ chain is
// a planned one whose rules begin the plan's, and istio's rules in each builtin chain (`ours`)
// are the first of the plan's there. Then the apply only adds, as after an earlier run with the
// same flags that stopped between its commits (a table missing, a chain missing its last rules).
Status only_adds(const TableModel& current, const TableModel& desired, const ChainSeqs& ours,
                 bool& out) {
  out = false;
  std::string scratch;
  const std::string* bytes = nullptr;
  for (const Chain& c : current.chains) {
    if (c.builtin || !is_istio_chain(c.name)) continue;
    const Chain* want = desired.find(c.name);
    if (!want || want->entries.size() < c.entries.size()) return Status::Ok();
    for (size_t i = 0; i < c.entries.size(); ++i) {
      if (Status s = bytes_of(desired.family, want->entries[i], scratch, bytes); !s.ok()) return s;
      if (c.entries[i].bytes != *bytes) return Status::Ok();
    }
  }
  for (const auto& [name, have] : ours) {
    const Chain* want = desired.find(name);
    size_t i = 0;
    for (auto e = want->entries.begin(); e != want->entries.end() && i < have.size(); ++e) {
      if (!e->planned) continue;
      if (Status s = bytes_of(desired.family, *e, scratch, bytes); !s.ok()) return s;
      if (have[i++] != *bytes) return Status::Ok();
    }
    if (i < have.size()) return Status::Ok();
  }
  out = true;
  return Status::Ok();
}

}  // namespace

bool is_istio_shape(Table table, const std::string& chain, const Entry& e) {
  if (!e.unsupported.empty() || (table != Table::nat && table != Table::mangle)) return false;
  if (chain != "PREROUTING" && chain != "OUTPUT") return false;
  const Rule& r = *e.rule;
  const std::string* jump = jump_of(e);
  const size_t n = r.matches.size();
  // `-i NIC -j RETURN` (PREROUTING) / `-o NIC -j RETURN` (OUTPUT): -c exclude, -k kube-virt.
  if (jump && *jump == "RETURN" && n == 1) {
    auto* i = std::get_if<IfaceMatch>(&r.matches[0]);
    return i && !i->invert && i->out == (chain == "OUTPUT");
  }
  if (table != Table::mangle) return false;
  const bool tcp = std::any_of(r.matches.begin(), r.matches.end(), [](const Match& m) {
    auto* p = std::get_if<ProtoMatch>(&m);
    return p && p->name == "tcp";
  });
  if (!tcp) return false;
  // TPROXY: `-p tcp -m mark --mark M -j CONNMARK --save-mark` (PREROUTING) and the restore.
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

Status plan_table(const Plan& plan, bool replace, TablePlan& tp) {
  ChainKeys planned;
  if (Status s = planned_builtin_keys(plan, tp.current, planned); !s.ok()) return s;
  ChainSeqs ours;
  tp.residue = false;
  strip_istio(tp.current, std::move(planned), replace, tp.desired, ours, tp.residue);
  replay(plan, entered_chain, tp.desired);
  bool chains_same = false, builtins_same = false;
  if (Status s = same_istio_chains(tp.current, tp.desired, chains_same); !s.ok()) return s;
  if (Status s = only_adds(tp.current, tp.desired, ours, tp.only_adds); !s.ok()) return s;
  if (Status s = keep_settled_chains(tp.current, tp.desired, ours, builtins_same); !s.ok())
    return s;
  tp.same = chains_same && builtins_same;
  return Status::Ok();
}

Status cleanup_table(const Plan& plan, TablePlan& tp) {
  // What the plan creates here: its user chains (and its builtin-chain rules, `planned`).
  TableModel created = empty_table(tp.current.family, tp.current.table);
  replay(plan, entered_chain, created);
  const bool plan_uses_family =
      std::any_of(plan.rules.begin(), plan.rules.end(),
                  [&](const Rule& r) { return writes(plan, r, tp.current.family); });
  ChainKeys planned;
  if (Status s = planned_builtin_keys(plan, tp.current, planned); !s.ok()) return s;
  std::set<std::string> removed;
  for (const Chain& c : created.chains)
    if (!c.builtin && tp.current.find(c.name)) removed.insert(c.name);
  // A family the plan does not write holds only earlier istio state: all of it goes.
  if (!plan_uses_family)
    for (const Chain& c : tp.current.chains)
      if (!c.builtin && is_istio_chain(c.name)) removed.insert(c.name);
  tp.residue = !removed.empty();
  tp.desired = TableModel{tp.current.family, tp.current.table, tp.current.present, {}};
  bool changed = false;
  for (const Chain& c : tp.current.chains) {
    if (removed.count(c.name)) {
      changed = true;
      continue;
    }
    Chain& kept = tp.desired.chains.emplace_back(Chain{c.name, c.builtin, c.policy, {}});
    auto gone = [&](const std::string& chain) { return removed.count(chain) > 0; };
    for (const Entry& e : c.entries) {
      // A jump to a chain that goes away would dangle; the plan's rules go.
      bool jump = false;
      const bool drop =
          istio_entry(tp.current.table, c.name, e, gone, planned[c.name], false, jump);
      changed |= drop;
      if (!drop) kept.entries.push_back(e);
    }
  }
  tp.same = !changed;
  return Status::Ok();
}

}  // namespace snare

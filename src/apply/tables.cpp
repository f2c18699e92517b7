// The table half of an apply or cleanup (see tables.h).
#include "apply/tables.h"

#include <fmt/format.h>

#include "base/clock.h"

namespace snare {
namespace {

// Apply order (see apply.h): the tables that only help capture first, nat (the capture) last.
constexpr Table kCommitOrder[] = {Table::raw, Table::mangle, Table::nat};

}  // namespace

std::string TableWork::label() const {
  return fmt::format("{}/{}", family_name(tp.current.family), table_name(tp.current.table));
}

Status read_tables(TablesBackend& tables, std::vector<TableWork>& work) {
  work.reserve(6);
  for (Table t : kCommitOrder)
    for (Family f : {Family::v4, Family::v6}) {
      TableWork& w = work.emplace_back();
      if (Status s = tables.read(f, t, w.tp.current); !s.ok()) return s;
    }
  return Status::Ok();
}

std::string roll_back(std::vector<TableWork*>& done, TablesBackend& tables, ApplyReport& rep) {
  std::string errors;
  bool committed = false;
  for (auto it = done.rbegin(); it != done.rend(); ++it)
    if (Status s = tables.write((*it)->tp.current, committed); !s.ok())
      errors += fmt::format("; rollback of {} failed too: {}", (*it)->label(), s.error);
  if (!done.empty()) rep.rolled_back = true;
  return errors;
}

Status commit_or_roll_back(const std::vector<TableWork*>& order, TablesBackend& tables,
                           ApplyReport& rep, std::vector<TableWork*>& done) {
  const auto start = Clock::now();
  Status failed;
  bool wrote = false;
  for (TableWork* w : order) {
    if (!w->commit) continue;
    bool committed = false;
    Status s = tables.write(w->tp.desired, committed);
    if (committed) done.push_back(w);
    if (!s.ok()) {
      failed = Status::Fail(fmt::format("commit {}: {}", w->label(), s.error));
      break;
    }
    rep.committed.push_back(w->label());
    rep.rules += w->tp.desired.rule_count();
    wrote = true;
  }
  rep.commit_ms = ms_since(start);
  rep.changed |= wrote;
  if (failed.ok()) return failed;
  return Status::Fail(failed.error + roll_back(done, tables, rep) + "; tables restored");
}

}  // namespace snare

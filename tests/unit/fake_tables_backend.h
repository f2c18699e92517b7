// FakeTablesBackend: tables in memory behind the TablesBackend seam, for tests of the apply.
//
// read() hands back what the last write() stored (entries marked as not planned, as from the
// kernel), or empty builtin chains; write() replaces a table whole, like one libiptc commit.
// `fail_write_at` (1-based) makes that write fail without changing anything, to drive rollbacks.
#pragma once

#include <fmt/format.h>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "iptc_backend.h"
#include "reconcile.h"

namespace snare::testing {

class FakeTablesBackend : public TablesBackend {
 public:
  std::map<std::pair<Family, Table>, TableState> tables;
  std::vector<std::string> writes;  // "ipv4/nat" per write() call, failed ones included
  int fail_write_at = 0;

  std::string name() const override { return "fake"; }

  Status read(Family f, Table t, TableState& out) override {
    auto it = tables.find({f, t});
    if (it == tables.end()) {
      out = empty_table_state(f, t);
      return Status::Ok();
    }
    out = it->second;
    out.present = true;
    for (auto& c : out.chains)
      for (auto& e : c.entries) e.planned = false;
    return Status::Ok();
  }

  Status write(const TableState& want) override {
    writes.push_back(fmt::format("{}/{}", family_name(want.family), table_name(want.table)));
    if (fail_write_at == static_cast<int>(writes.size()))
      return Status::Fail("commit: Invalid argument (injected)");
    tables[{want.family, want.table}] = want;
    return Status::Ok();
  }

  // A rule someone else put there.
  void add_foreign(Family f, Table t, const std::string& chain, const Rule& r) {
    auto it = tables.find({f, t});
    if (it == tables.end())
      it = tables.emplace(std::make_pair(f, t), empty_table_state(f, t)).first;
    ChainState* c = it->second.find(chain);
    if (!c) {
      it->second.chains.push_back({chain, false, "", {}});
      c = &it->second.chains.back();
    }
    EntryState e;
    e.rule = r;
    e.rule.chain = chain;
    if (!encode_rule(f, r, e.bytes).ok()) throw std::runtime_error("bad foreign rule");
    c->entries.push_back(std::move(e));
  }

  // The whole state as text (empty tables left out), for before/after comparisons.
  std::string dump() const {
    std::string out;
    for (const auto& [k, t] : tables) {
      if (t.empty()) continue;
      out += fmt::format("## {}\n", family_name(k.first));
      out += render_table_state(t);
    }
    return out;
  }
};

}  // namespace snare::testing

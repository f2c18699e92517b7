// FakeTables: tables in memory behind the TablesBackend seam, for tests of the apply.
//
// read() hands back what the last write() stored (entries marked as not planned, as from the
// kernel), or empty builtin chains; write() replaces a table whole, like one libiptc commit.
// Entries are stored with the real x_tables encoding (ext/forms.h), so that they compare as
// the kernel's would. `fail_write_at` (1-based) makes that write fail without changing anything.
#pragma once

#include <fmt/format.h>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ext/forms.h"
#include "kernel/tables.h"
#include "render/save.h"

namespace snare::testing {

class FakeTables : public TablesBackend {
 public:
  std::map<std::pair<Family, Table>, TableModel> tables;
  std::vector<std::string> writes;  // "ipv4/nat" per write() call, failed ones included
  int fail_write_at = 0;

  std::string name() const override { return "fake"; }

  Status read(Family f, Table t, TableModel& out) override {
    auto it = tables.find({f, t});
    if (it == tables.end()) {
      out = empty_table(f, t);
      return Status::Ok();
    }
    out = it->second;
    out.present = true;
    for (auto& c : out.chains)
      for (auto& e : c.entries) e.planned = false;
    return Status::Ok();
  }

  Status write(const TableModel& want, bool& committed) override {
    committed = false;
    writes.push_back(fmt::format("{}/{}", family_name(want.family), table_name(want.table)));
    if (fail_write_at == static_cast<int>(writes.size()))
      return Status::Fail("commit: Invalid argument (injected)");
    // What the kernel keeps outlives the plan: planned entries point into it, so copy them.
    TableModel& kept = tables[{want.family, want.table}] = want;
    for (Chain& c : kept.chains)
      for (Entry& e : c.entries) {
        e.rule = std::make_shared<const Rule>(*e.rule);
        if (e.bytes.empty()) encode_rule(want.family, *e.rule, e.bytes);  // as the kernel keeps it
      }
    committed = true;
    return Status::Ok();
  }

  // A rule someone else put there.
  void add_foreign(Family f, Table t, const std::string& chain, Rule r) {
    auto it = tables.find({f, t});
    if (it == tables.end()) it = tables.emplace(std::make_pair(f, t), empty_table(f, t)).first;
    Chain* c = it->second.find(chain);
    if (!c) {
      it->second.chains.push_back({chain, false, "", {}});
      sort_chains(it->second);
      c = it->second.find(chain);
    }
    r.table = t;
    r.chain = chain;
    Entry e{std::make_shared<const Rule>(std::move(r)), {}, {}, false};
    if (!encode_rule(f, *e.rule, e.bytes).ok()) throw std::runtime_error("bad foreign rule");
    c->entries.push_back(std::move(e));
  }

  // The whole state as text (empty tables left out), for before/after comparisons.
  std::string dump() const {
    std::string out;
    for (const auto& [k, t] : tables) {
      if (t.empty()) continue;
      out += fmt::format("## {}\n", family_name(k.first));
      out += render_save_table(t);
    }
    return out;
  }
};

}  // namespace snare::testing

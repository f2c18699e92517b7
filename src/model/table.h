// TableModel: one table of one family as chains of entries. The same model holds what a plan
// leaves (replayed from its operations), what was read back from the kernel, and what an apply
// or a cleanup must leave; the save renderer prints it and the diff compares two of them.
//
// An entry carries its rule and, once a backend has encoded or read it, `bytes`: the kernel's
// encoding in a normalised form (counters aside) that decides whether two entries are the same
// rule and that writes a rule read back from the kernel again byte for byte, matches and targets
// snare does not model included. What the decoder could not model is listed in `unsupported`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/rule.h"

namespace snare {

struct Entry {
  // The rule: for a planned entry the plan's own (not copied: the plan outlives every model made
  // from it; its insert_at means nothing here), for one read back the decoded rule. Table and
  // chain are set.
  std::shared_ptr<const Rule> rule;
  std::string bytes;  // read back: the backend's encoding, counters zeroed (equal bytes, same
                      // rule); planned: empty, encoded when compared or written
  std::vector<std::string> unsupported;  // decoder's notes; non-empty: foreign beyond doubt
  bool planned = false;                  // placed by the plan (not read back)
  std::string text{};  // read back from a listing: the rule as it prints it; empty: rendered
  uint64_t packets = 0, octets = 0;  // the kernel's counters, written back with the rule
};

struct Chain {
  std::string name;
  bool builtin = false;
  std::string policy;  // builtin chains: "ACCEPT" or "DROP"; user chains: empty
  std::vector<Entry> entries;
};

struct TableModel {
  Family family = Family::v4;
  Table table = Table::nat;
  bool present = false;       // the kernel had instantiated the table before it was read
  std::vector<Chain> chains;  // builtins in hook order, then user chains by name

  Chain* find(const std::string& name);
  const Chain* find(const std::string& name) const;
  // No rule in any chain and no user chain: a fresh or never-used table.
  bool empty() const;
  size_t rule_count() const;
};

// A fresh table: its builtin chains, ACCEPT policies, nothing else.
TableModel empty_table(Family family, Table table);

// Builtins in hook order first, then user chains by name: iptables-save's order.
void sort_chains(TableModel& table);

// Runs the plan's operations of `onto`'s family and table on `onto`, the way the kernel would:
// `-A` appends after what the chain holds (foreign rules included), `-I N` inserts before the
// Nth rule (past the end it appends). A user chain is created by the first rule in it or
// target entering it (`entered`), like istio's `-N` lines. Linear in the number of rules:
// istio's inserts are all near the front of a chain (positions 1-3), which a deque takes in
// constant time.
void replay(const Plan& plan, EnteredChain entered, TableModel& onto);

// The tables the plan's operations of `family` leave in a fresh namespace, for the tables they
// touch, in the order iptables-save prints them (mangle, raw, nat).
std::vector<TableModel> replay_fresh(const Plan& plan, EnteredChain entered, Family family);

}  // namespace snare
